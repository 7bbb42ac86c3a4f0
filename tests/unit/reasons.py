#!/usr/bin/env python3
"""
Reason codes: gateway/util/reasons.def is the one table of the codes the
gateway logs as "reason" (access log rejects, upstream errors, mail and
webhook outcomes, policy decisions) and counts in metrics.

  reasons.py check SRCROOT     fail when the code passes a reason literal
                               the table lacks, when the table lists a code
                               no source file names any more, when
                               docs/reasons.md differs from the table, or
                               when a docs table headed "| reason |" names a
                               code the table lacks
  reasons.py selftest SRCROOT  prove that check fails on a new literal
  reasons.py docs SRCROOT      rewrite docs/reasons.md from the table

A reason literal is a string of [a-z0-9_] passed where a reason goes: the
value after a "reason" key of log_event(), an argument in a parameter named
reason or why of any gateway function, a string assigned to a variable or
field named reason or why, or one returned by a function whose result is
assigned to one.
"""
import glob
import os
import re
import shutil
import sys
import tempfile

# Functions whose reason/why parameter is not a log reason: messages for
# operators or users, and audit reasons (free text such as a role name).
NOT_REASONS = {
    "auth_audit", "mailcmd_on_done", "mailcmd_hint", "yconf_invalid",
    "password_has_word", "password_has_context", "password_check",
    "secret_judge", "secret_strength", "user_email_normalize",
    "audit_check_line", "store_report_down", "store_drop",
}
# The command-line tools and the config loader log no reason codes.
NOT_DIRS = ("gateway/cli/", "gateway/loader/")

CODE = re.compile(r'"([a-z][a-z0-9_]*)"')
DEF = re.compile(r'^REASON\(\s*([a-z][a-z0-9_]*)\s*,\s*"((?:[^"\\]|\\.)*)"\s*\)',
                 re.M)


def table(root):
    text = open(os.path.join(root, "gateway/util/reasons.def")).read()
    return [(m.group(1), m.group(2)) for m in DEF.finditer(text)]


def sources(root):
    out = {}
    for f in sorted(glob.glob(os.path.join(root, "gateway/**/*.c"),
                              recursive=True)):
        rel = os.path.relpath(f, root)
        text = open(f, encoding="utf-8", errors="replace").read()
        # comments out, line numbers kept
        text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"),
                      text, flags=re.S)
        out[rel] = text
    return out


def arguments(t, pos):
    """The top-level arguments of the call whose '(' ends just before pos."""
    depth, args, cur, i = 0, [], "", pos
    while i < len(t):
        c = t[i]
        if c in "\"'":
            j = i + 1
            while j < len(t) and t[j] != c:
                j += 2 if t[j] == "\\" else 1
            cur += t[i:j + 1]
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                args.append(cur)
                return args
            depth -= 1
        if c == "," and depth == 0:
            args.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    return args


def scan(root):
    """{code: [file:line, ...]} of every reason literal in the gateway."""
    texts = sources(root)
    funcs = {}
    defn = re.compile(r"^([a-z_][a-z0-9_]*)\(([^;{]*?)\)\s*\{", re.M | re.S)
    for t in texts.values():
        for m in defn.finditer(t):
            if m.group(1) in NOT_REASONS:
                continue
            for i, p in enumerate(m.group(2).split(",")):
                if re.search(r"\*\s*(reason|why)\s*$", p.strip()):
                    funcs[m.group(1)] = i
    found = {}

    def add(f, t, pos, text):
        line = t.count("\n", 0, pos) + 1
        for c in CODE.finditer(text):
            found.setdefault(c.group(1), []).append("%s:%d" % (f, line))

    for f, t in texts.items():
        if f.startswith(NOT_DIRS):
            continue
        for name, idx in funcs.items():
            for m in re.finditer(r"(?<![a-z0-9_])" + name + r"\(", t):
                if t[m.start() - 1:m.start()] == "\n":
                    continue            # the definition
                a = arguments(t, m.end())
                if idx < len(a):
                    add(f, t, m.start(), a[idx])
        for m in re.finditer(r'"reason",\s*((?:[^,;()]|\([^()]*\))*)', t):
            add(f, t, m.start(), m.group(1))
        for m in re.finditer(r"\b(why|reason)\s*=\s*([^;]*);", t):
            add(f, t, m.start(), m.group(2))
    # arrays of reasons indexed by an error enum (path.c's path_reasons[])
    for f, t in texts.items():
        if f.startswith(NOT_DIRS):
            continue
        for m in re.finditer(r"char\s*\*\s*(?:const\s+)?\w*reasons\s*\[\w*\]"
                             r"\s*=\s*\{(.*?)\n\s*\};", t, re.S):
            add(f, t, m.start(1), m.group(1))
    # tables of a struct whose only string is a reason or why
    for f, t in texts.items():
        if f.startswith(NOT_DIRS):
            continue
        for m in re.finditer(r"struct\s*\{([^{}]*)\}\s*\w+\[\]\s*=\s*\{"
                             r"(.*?)\n\s*\};", t, re.S):
            strings = re.findall(r"char\s*\*\s*(\w+);", m.group(1))
            if strings in (["why"], ["reason"]):
                add(f, t, m.start(2), m.group(2))
    # functions whose result is a reason: what they return
    givers = set()
    for f, t in texts.items():
        if not f.startswith(NOT_DIRS):
            givers.update(re.findall(r"\b(?:why|reason)\s*=\s*"
                                     r"([a-z_][a-z0-9_]*)\(", t))
    bodies = {}
    for f, t in texts.items():
        for m in defn.finditer(t):
            bodies[m.group(1)] = (f, t, m.end(),
                                  t[m.end():t.find("\n}\n", m.end())])
    todo = list(givers)
    while todo:                 # and what the functions they return return
        name = todo.pop()
        if name not in bodies:
            continue
        for g in re.findall(r"\breturn\b[^;]*?\b([a-z_][a-z0-9_]*)\(",
                            bodies[name][3]):
            if g not in givers:
                givers.add(g)
                todo.append(g)
    for name in givers:
        if name not in bodies:
            continue
        f, t, start, body = bodies[name]
        for r in re.finditer(r"\breturn\b([^;]*);", body):
            add(f, t, start + r.start(), r.group(1))
    return found, texts


def documented_codes(path):
    """The codes in the first column of a docs table headed "| reason |"."""
    codes, inside = [], False
    for line in open(path, encoding="utf-8"):
        if line.startswith("| reason |"):
            inside = True
        elif not line.startswith("|"):
            inside = False
        elif inside:
            codes += re.findall(r"`([a-z][a-z0-9_]*)`", line.split("|")[1])
    return codes


def docs_text(rows):
    out = ["# Reason codes", "",
           "The stable codes the gateway writes as `reason` in its log lines",
           "(access-log rejects, upstream errors, mail and webhook outcomes)",
           "and uses for policy decisions and metrics. The table is",
           "`gateway/util/reasons.def`; this page is generated from it",
           "(`tests/unit/reasons.py docs .`) and a unit test fails when the",
           "two differ, when the code logs a reason the table lacks, or when",
           "the table lists a code no longer in the code. A `reason` value",
           "that is not a code (a library's error message, such as curl's)",
           "is a detail, not listed here.", "",
           "| code | meaning |", "|---|---|"]
    for code, meaning in rows:
        out.append("| `%s` | %s |" % (code, meaning.replace("\\\"", "\"")))
    return "\n".join(out) + "\n"


def check(root):
    rows = table(root)
    codes = [c for c, _ in rows]
    errors = []
    if codes != sorted(codes) or len(set(codes)) != len(codes):
        errors.append("gateway/util/reasons.def: codes not sorted or "
                      "not unique")
    known = set(codes)
    found, texts = scan(root)
    for code in sorted(set(found) - known):
        errors.append("%s: reason \"%s\" is not in gateway/util/reasons.def"
                      % (found[code][0], code))
    every = "\n".join(texts.values())
    for code in codes:
        if code not in found and '"%s"' % code not in every:
            errors.append("gateway/util/reasons.def: \"%s\" is not used "
                          "any more" % code)
    for doc in sorted(glob.glob(os.path.join(root, "docs/*.md"))):
        if doc.endswith("reasons.md"):
            continue
        for code in documented_codes(doc):
            if code not in known:
                errors.append("%s: reason \"%s\" is not in "
                              "gateway/util/reasons.def"
                              % (os.path.relpath(doc, root), code))
    path = os.path.join(root, "docs/reasons.md")
    have = open(path).read() if os.path.exists(path) else ""
    if have != docs_text(rows):
        errors.append("docs/reasons.md differs from gateway/util/reasons.def"
                      " (tests/unit/reasons.py docs . rewrites it)")
    for e in errors:
        print(e)
    return 1 if errors else 0


def selftest(root):
    """check passes on the tree, and fails once a call adds a new code."""
    if check(root) != 0:
        print("selftest: the tree itself fails the check")
        return 1
    tmp = tempfile.mkdtemp()
    try:
        for d in ("gateway", "docs"):
            shutil.copytree(os.path.join(root, d), os.path.join(tmp, d))
        cases = [
            'log_event(LOG_LEVEL_WARN, "reject", "reason",\n'
            '    "brand_new_reason", NULL);\n',
            'client_upstream_failed(clt, 502, "brand_new_reason");\n',
            'why = "brand_new_reason";\n',
            'reason = zz_give();\n}\nstatic const char *\nzz_give(void)\n'
            '{\n\treturn "brand_new_reason";\n',
        ]
        for case in cases:
            f = os.path.join(tmp, "gateway/edge/zz_selftest.c")
            with open(f, "w") as out:
                out.write("void\nzz_selftest(void)\n{\n\t" + case + "}\n")
            print("selftest: expecting a failure for: " + case.strip())
            if check(tmp) == 0:
                print("selftest: the check missed it")
                return 1
        os.remove(f)
        doc = os.path.join(tmp, "docs/request-framing.md")
        text = open(doc).read()
        open(doc, "w").write(text.replace("| `smuggling_cl_te` |",
                                          "| `smuggling_brand_new` |"))
        print("selftest: expecting a failure for a code only in the docs")
        if check(tmp) == 0:
            print("selftest: the check missed it")
            return 1
        open(doc, "w").write(text)
        with open(os.path.join(tmp, "gateway/util/reasons.def"), "a") as out:
            out.write('REASON(zzz_gone_reason, "stale")\n')
        print("selftest: expecting a failure for a stale table entry")
        if check(tmp) == 0:
            print("selftest: the check missed it")
            return 1
    finally:
        shutil.rmtree(tmp)
    print("selftest: ok")
    return 0


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("check", "selftest",
                                                   "docs", "list"):
        sys.exit("usage: reasons.py check|selftest|docs|list SRCROOT")
    root = sys.argv[2]
    if sys.argv[1] == "docs":
        with open(os.path.join(root, "docs/reasons.md"), "w") as out:
            out.write(docs_text(table(root)))
        return 0
    if sys.argv[1] == "list":
        found, _ = scan(root)
        for code in sorted(found):
            print(code, " ".join(found[code][:3]))
        return 0
    return check(root) if sys.argv[1] == "check" else selftest(root)


if __name__ == "__main__":
    sys.exit(main())
