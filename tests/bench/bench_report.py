#!/usr/bin/python3
"""Summarise scripts/bench's wrk runs.

usage: bench_report.py RESULTS
       bench_report.py --syscalls LABEL PERF_CSV REQUESTS
       bench_report.py --redis-clients INFO CLIENT_LIST

RESULTS has one line per wrk run, the repetitions interleaved:
  label rps p50ms p99ms non2xx requests seconds proxy-cpu-s redis-cpu-s
  redis-commands redis-scripts
(proxy-cpu-s: utime+stime of the proxy under test over the run, from
/proc/PID/stat; redis-*: deltas of Redis' INFO used_cpu_sys+used_cpu_user
and commandstats over the run, the INFO calls themselves left out).

Prints the median of each target's repetitions, the ratios Postern/nginx
(median and range of the per-repetition ratios), nginx auth_request to
Postern over nginx auth_request to the Lua+Redis decision, CPU per request
signed-in against public, and what Redis spent per signed-in request.

With --syscalls: one line for LABEL, the system calls per request counted
in PERF_CSV (`perf stat -x,` of raw_syscalls:sys_enter and some
syscalls:sys_enter_NAME tracepoints) over REQUESTS requests.

With --redis-clients: what Redis holds for its clients (CLIENT LIST, the
one listing left out) and INFO's client-side caching (tracking) figures.
"""
import statistics
import sys


def load(path):
    rows = {}
    for line in open(path):
        f = line.split()
        rows.setdefault(f[0], []).append({
            "rps": float(f[1]), "p50": float(f[2]), "p99": float(f[3]),
            "bad": int(f[4]), "n": int(f[5]), "secs": float(f[6]),
            "cpu": float(f[7]), "rcpu": float(f[8]), "rcmds": int(f[9]),
            "rscripts": int(f[10])})
    return rows


def med(runs, key):
    return statistics.median(r[key] for r in runs)


def us_per_req(r):
    return r["cpu"] * 1e6 / r["n"] if r["n"] else 0.0


def table(rows):
    print("%-19s %10s %8s %8s %8s %8s" % (
        "target", "req/s", "p50 ms", "p99 ms", "non-2xx", "CPU us"))
    for k, v in rows.items():
        print("%-19s %10.0f %8.3f %8.3f %8d %8.1f" % (
            k, med(v, "rps"), med(v, "p50"), med(v, "p99"),
            sum(r["bad"] for r in v),
            statistics.median(us_per_req(r) for r in v)))
    print("(CPU us: the proxy's utime+stime per request; for direct, the "
          "upstream's)")


def ratio(rows, name, label, proto, base=None, base_name="nginx"):
    """Postern/nginx (or <label>/<base>) per repetition (same position in
    the interleaving): the median, and the range over the repetitions."""
    n, p = rows.get(base or "nginx-" + proto), rows.get(label)
    if not n or not p:
        return
    bad = sum(r["bad"] for r in n) + sum(r["bad"] for r in p)
    if bad:
        print("ratio %s/%s %s: NOT VALID, %d non-2xx answers"
              % (name, base_name, proto, bad))
        return
    t = [b["rps"] / a["rps"] for a, b in zip(n, p)]
    q = [b["p99"] / a["p99"] for a, b in zip(n, p)]
    print("ratio %s/%s %s: throughput %.2fx (%.2f-%.2f), p99 %.2fx "
          "(%.2f-%.2f)" % (name, base_name, proto, statistics.median(t),
                           min(t), max(t), statistics.median(q), min(q),
                           max(q)))


def cpu_ratio(rows, workers, proto):
    """CPU per signed-in request over CPU per public request, same
    gateway shape, per repetition."""
    pub = rows.get("postern%s-%s" % (workers, proto))
    auth = rows.get("postern%s-auth-%s" % (workers, proto))
    nginx = rows.get("nginx-" + proto)
    if not pub or not auth:
        return
    r = [us_per_req(b) / us_per_req(a) for a, b in zip(pub, auth)
         if us_per_req(a) > 0]
    line = "CPU per request, postern%s %s: public %.1f us, signed-in %.1f us" \
        % (workers, proto, statistics.median(us_per_req(x) for x in pub),
           statistics.median(us_per_req(x) for x in auth))
    if nginx:
        line += ", nginx %.1f us" % statistics.median(
            us_per_req(x) for x in nginx)
    if r:
        line += "; signed-in/public %.2fx (%.2f-%.2f)" % (
            statistics.median(r), min(r), max(r))
    print(line)


def decision_cpu(rows):
    """The decision endpoint's CPU per request (asked directly, as a front
    proxy would) over a proxied signed-in request's, same gateway shape
    (1 worker), per repetition."""
    d, a = rows.get("decision-postern-http"), rows.get("postern1-auth-http")
    if not d or not a:
        return
    r = [us_per_req(x) / us_per_req(y) for x, y in zip(d, a)
         if us_per_req(y) > 0]
    print("CPU per request, 1 worker http: decision %.1f us, proxied "
          "signed-in %.1f us; decision/proxied %.2fx (%.2f-%.2f)" % (
              statistics.median(us_per_req(x) for x in d),
              statistics.median(us_per_req(x) for x in a),
              statistics.median(r), min(r), max(r)))


def redis(rows, label):
    """Redis' CPU and commands over the signed-in runs of <label>."""
    v = rows.get(label)
    if not v:
        return
    per10k = [r["rcpu"] * 1e3 / r["n"] * 1e4 for r in v if r["n"]]
    core = [r["rcpu"] / r["secs"] * 100 for r in v if r["secs"]]
    cmds = [r["rcmds"] / r["n"] for r in v if r["n"]]
    scripts = [r["rscripts"] / r["n"] for r in v if r["n"]]
    print("redis during %s: %.1f ms CPU per 10k signed-in requests "
          "(%.1f-%.1f), %.1f%% of a core at %.0f req/s; %.2f commands per "
          "request (%.2f of them scripts, each counted once and with every "
          "command it runs)" % (
              label, statistics.median(per10k), min(per10k), max(per10k),
              statistics.median(core), med(v, "rps"),
              statistics.median(cmds), statistics.median(scripts)))


def syscalls(label, path, requests):
    """System calls per request: the total, then each named one that
    occurs at least once per 100 requests."""
    total, each = 0, {}
    for line in open(path):
        f = line.strip().split(",")
        if len(f) < 3 or not f[0].isdigit():
            continue
        if f[2] == "raw_syscalls:sys_enter":
            total = int(f[0])
        elif f[2].startswith("syscalls:sys_enter_"):
            each[f[2][len("syscalls:sys_enter_"):]] = int(f[0])
    n = max(1, requests)
    parts = ["%s %.2f" % (k, v / n) for k, v in
             sorted(each.items(), key=lambda kv: -kv[1]) if v * 100 >= n]
    other = total - sum(each.values())
    if other * 100 >= n:
        parts.append("other %.2f" % (other / n))
    print("%-19s %6.2f  (%s)" % (label, total / n, ", ".join(parts)))


def redis_clients(info_path, list_path):
    """One line: the connections by kind and their memory, then tracking."""
    kinds = {}
    for line in open(list_path):
        c = dict(f.split("=", 1) for f in line.split() if "=" in f)
        if not c or c.get("cmd") == "client|list":
            continue
        flags = c.get("flags", "N")
        kind = ("subscriber" if "P" in flags else
                "tracking" if "t" in flags else "plain")
        if c.get("name"):
            kind += " " + c["name"]
        kinds.setdefault(kind, []).append(int(c.get("tot-mem", 0)))
    info = {}
    for line in open(info_path):
        k, _, v = line.strip().partition(":")
        info[k] = v
    parts = ["%d %s (%.1f KiB each)" % (len(v), k, sum(v) / len(v) / 1024)
             for k, v in sorted(kinds.items())]
    print("redis connections after the runs: %s; tracking: %s clients, "
          "%s keys, %s prefixes" % (
              ", ".join(parts) or "none", info.get("tracking_clients", "?"),
              info.get("tracking_total_keys", "?"),
              info.get("tracking_total_prefixes", "?")))


def main():
    if sys.argv[1] == "--syscalls":
        syscalls(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    if sys.argv[1] == "--redis-clients":
        redis_clients(sys.argv[2], sys.argv[3])
        return
    rows = load(sys.argv[1])
    table(rows)
    for proto in ("http", "tls"):
        ratio(rows, "postern(1 worker)", "postern1-" + proto, proto)
        ratio(rows, "postern(auto)", "posternN-" + proto, proto)
        ratio(rows, "postern(1 worker, signed-in session)",
              "postern1-auth-" + proto, proto)
        ratio(rows, "postern(auto, signed-in session)",
              "posternN-auth-" + proto, proto)
    ratio(rows, "nginx auth_request->Postern", "authreq-postern-http",
          "http", "authreq-lua-http", "nginx auth_request->Lua+Redis")
    ratio(rows, "Postern's decision alone", "decision-postern-http",
          "http", "postern1-auth-http", "a proxied signed-in request")
    decision_cpu(rows)
    for proto in ("http", "tls"):
        cpu_ratio(rows, "1", proto)
        cpu_ratio(rows, "N", proto)
    for label in ("postern1-auth-http", "postern1-auth-tls",
                  "posternN-auth-http", "posternN-auth-tls",
                  "authreq-lua-http", "authreq-postern-http"):
        redis(rows, label)


if __name__ == "__main__":
    main()
