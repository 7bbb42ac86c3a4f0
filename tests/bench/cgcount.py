#!/usr/bin/python3
"""User-space instructions per request from callgrind files of gateways.

    cgcount.py LABEL FILE [LABEL FILE ...]

Each FILE is a callgrind.out of a gateway run under scripts/bench with
BENCH_CALLGRIND=1 (valgrind --tool=callgrind --toggle-collect=worker_main:
only the worker threads count).  The requests are the calls of
client_app_request(); for each file it prints the worker's instructions
per request in total (the event loop, libevent and the kernel-call
wrappers included) and by stage, inclusive of what each calls:

  parse       request_parse_head(): pre-scan, http-parser, the checks
  decide      auth_decide() less what it hands to forwarding
  upstream    proxyhead_write_request(): the head for the upstream
  response    proxy_on_headers_complete(): the response head back

then, for a pair of files, the difference by function (exclusive counts)
where it is at least 50 instructions per request.
"""
import re
import subprocess
import sys

STAGES = [("parse", "request_parse_head"), ("decide", "auth_decide"),
          ("upstream", "proxyhead_write_request"),
          ("response", "proxy_on_headers_complete")]


def annotate(path, *args):
    return subprocess.run(["callgrind_annotate", "--threshold=100", *args,
                           path], capture_output=True, text=True,
                          check=True).stdout


def inclusive(path):
    """{function: (inclusive Ir, calls, {caller: Ir})} from the caller
    tree."""
    out = annotate(path, "--inclusive=yes", "--tree=caller")
    res = {}
    for block in out.split("\n\n"):
        m = re.search(r"^\s*([\d,]+) \([^)]*\)\s+\*\s+\S*?:(\S+)", block,
                      re.M)
        if not m:
            continue
        callers = {}
        calls = 0
        for ir, fn, n in re.findall(
                r"^\s*([\d,]+) \([^)]*\)\s+<\s+\S*?:(\S+) \((\d[\d,]*)x\)",
                block, re.M):
            callers[fn] = callers.get(fn, 0) + int(ir.replace(",", ""))
            calls += int(n.replace(",", ""))
        res[m.group(2)] = (int(m.group(1).replace(",", "")), calls, callers)
    return res


def exclusive(path):
    out = annotate(path)
    res = {}
    for line in out.split("\n"):
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+\S*?:(\S+)", line)
        if m:
            res[m.group(2)] = res.get(m.group(2), 0) + \
                int(m.group(1).replace(",", ""))
    return res


def main(argv):
    if len(argv) < 2 or len(argv) % 2:
        sys.exit(__doc__)
    runs = []
    for label, path in zip(argv[0::2], argv[1::2]):
        inc = inclusive(path)
        none = (0, 0, {})
        n = inc.get("client_app_request", none)[1]
        if n == 0:
            sys.exit(f"cgcount: {path}: no request counted")
        total = inc.get("worker_main", none)[0]
        stages = {k: inc.get(f, none)[0] / n for k, f in STAGES}
        # A request the decision lets through is forwarded from inside
        # it (client_resume(), but for public routes, which
        # serve_request() forwards): that is forwarding, not deciding.
        stages["decide"] -= sum(
            ir for fn, ir in inc.get("client_resume", none)[2].items()
            if fn != "serve_request") / n
        print(f"{label:10s} {total / n:8.0f} per request over {n} requests;"
              + "".join(f" {k} {v:.0f}," for k, v in stages.items())
              .rstrip(","))
        runs.append((label, n, exclusive(path)))
    if len(runs) == 2:
        (la, na, a), (lb, nb, b) = runs
        rows = sorted(((b.get(f, 0) / nb - a.get(f, 0) / na, f)
                       for f in set(a) | set(b)), reverse=True)
        print(f"by function, {lb} less {la} (instructions per request):")
        for d, f in rows:
            if abs(d) >= 50:
                print(f"  {d:+7.0f}  {f}")


if __name__ == "__main__":
    main(sys.argv[1:])
