#!/usr/bin/env python3
"""
Redis key layouts: every module lists the keys it makes with
STORE_LAYOUT("name:<placeholder>") next to its code (gateway/store/store.h)
and makes key names only from them with store_layout_key().

  layouts.py check SRCROOT     fail when docs/redis.md's table of keys lacks
                               a layout of the code or lists one that is
                               gone; when a module outside gateway/store/
                               calls store_key() itself; when a Lua script
                               makes a key name (a literal with ':' joined
                               with '..', or a key argument joined with
                               '..') and is not listed in
                               gateway/store/lua-keys.todo, or is listed
                               there but no longer does
  layouts.py selftest SRCROOT  prove that check fails on each of those
  layouts.py list SRCROOT      print the layouts and the scripts
"""
import glob
import os
import re
import shutil
import sys
import tempfile

LAYOUT = re.compile(r'STORE_LAYOUT\(\s*"([^"]+)"\s*\)')
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def sources(root):
    out = {}
    for f in sorted(glob.glob(os.path.join(root, "gateway/**/*.[ch]"),
                              recursive=True)):
        text = open(f, encoding="utf-8", errors="replace").read()
        text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"),
                      text, flags=re.S)
        out[os.path.relpath(f, root)] = text
    return out


def layouts(texts):
    found = {}
    for f, t in texts.items():
        for m in LAYOUT.finditer(t):
            found.setdefault(m.group(1), "%s:%d" % (
                f, t.count("\n", 0, m.start()) + 1))
    return found


def documented(root):
    """The backquoted names in the first column of docs/redis.md's Keys."""
    text = open(os.path.join(root, "docs/redis.md")).read()
    m = re.search(r"^## Keys\n(.*?)^## ", text, re.M | re.S)
    keys = set()
    for line in (m.group(1) if m else "").splitlines():
        if not line.startswith("| `"):
            continue
        cell = line.split("|")[1]
        keys.update(re.findall(r"`([^`]+)`", cell))
    return keys


def lua(texts):
    """{script name: (file:line, Lua source)} of every STORE_SCRIPT."""
    macros = {}
    for t in texts.values():
        for m in re.finditer(r"^#define\s+(\w+)\s*\\\n((?:.*\\\n)*.*)$",
                             t, re.M):
            macros[m.group(1)] = m.group(2)

    def expand(body, depth=0):
        out = ""
        for tok in re.finditer(r'"((?:[^"\\]|\\.)*)"|\b([A-Z][A-Z0-9_]+)\b',
                               body):
            if tok.group(1) is not None:
                out += tok.group(1).replace("\\n", "\n").replace('\\"', '"')
            elif tok.group(2) in macros and depth < 5:
                out += expand(macros[tok.group(2)], depth + 1)
        return out

    scripts = {}
    for f, t in texts.items():
        for m in re.finditer(r'STORE_SCRIPT\(\s*(?:\n\s*)?"([^"]+)",(.*?)\);',
                             t, re.S):
            scripts[m.group(1)] = ("%s:%d" % (f, t.count("\n", 0,
                                   m.start()) + 1), expand(m.group(2)))
    return scripts


KEYJOIN = [
    re.compile(r"\.\.\s*'[^']*:[^']*'"),        # .. 'user:'   .. ':orgs'
    re.compile(r"'[^']*:[^']*'\s*\.\."),         # 'otk:' ..
    re.compile(r"redis\.call\('\w+',\s*[^,)]*\.\."),  # DEL, a .. b
]


def makes_keys(src):
    return any(r.search(src) for r in KEYJOIN)


def todo(root):
    path = os.path.join(root, "gateway/store/lua-keys.todo")
    names = []
    for line in open(path):
        line = line.split("#")[0].strip()
        if line:
            names.append(line)
    return names


def check(root):
    texts = sources(root)
    errors = []
    code = layouts(texts)
    docs = documented(root)
    for k in sorted(set(code) - docs):
        errors.append("%s: key layout \"%s\" is not in docs/redis.md"
                      % (code[k], k))
    for k in sorted(docs - set(code)):
        errors.append("docs/redis.md: key \"%s\" is no layout of the code "
                      "(STORE_LAYOUT)" % k)
    for f, t in texts.items():
        if f.startswith("gateway/store/"):
            continue
        for m in re.finditer(r"\bstore_key\(", t):
            errors.append("%s:%d: store_key() outside gateway/store/: make "
                          "the name from a STORE_LAYOUT with "
                          "store_layout_key()" % (f, t.count("\n", 0,
                                                           m.start()) + 1))
    listed = todo(root)
    scripts = lua(texts)
    for name, (where, src) in sorted(scripts.items()):
        if makes_keys(src) and name not in listed:
            errors.append("%s: Lua script \"%s\" makes key names: pass them "
                          "in KEYS" % (where, name))
    for name in listed:
        if name not in scripts:
            errors.append("gateway/store/lua-keys.todo: no script \"%s\""
                          % name)
        elif not makes_keys(scripts[name][1]):
            errors.append("gateway/store/lua-keys.todo: \"%s\" makes no key "
                          "names any more: remove the line" % name)
    for e in errors:
        print(e)
    return 1 if errors else 0


def selftest(root):
    if check(root) != 0:
        print("selftest: the tree itself fails the check")
        return 1
    cases = [
        ("gateway/identity/zz.c", 'static const char *k = '
         'STORE_LAYOUT("brand_new:<id>");\n'),
        ("gateway/identity/zz.c", 'int\nzz(char *b)\n{\n\treturn store_key('
         'b, 9, "p", "x:%s", "y");\n}\n'),
        ("gateway/identity/zz.c", 'static struct store_script zz = '
         'STORE_SCRIPT("zz",\n\t"redis.call(\'DEL\', ARGV[1] .. '
         '\'user:\' .. ARGV[2])\\n");\n'),
        ("gateway/identity/zz.c", 'static struct store_script zz = '
         'STORE_SCRIPT("zz",\n\t"redis.call(\'DEL\', ARGV[1] .. h)\\n");\n'),
        ("gateway/store/lua-keys.todo", "no such script\n"),
        ("docs/redis.md", None),
    ]
    for path, text in cases:
        tmp = tempfile.mkdtemp()
        try:
            for d in ("gateway", "docs"):
                shutil.copytree(os.path.join(root, d), os.path.join(tmp, d))
            p = os.path.join(tmp, path)
            if text is None:
                doc = open(p).read()
                doc = doc.replace("| `users` |", "| `gone_users` |")
                open(p, "w").write(doc)
                print("selftest: expecting a failure for a stale docs row")
            else:
                with open(p, "a") as out:
                    out.write(text)
                print("selftest: expecting a failure for: " +
                      text.strip().replace("\n", " "))
            if check(tmp) == 0:
                print("selftest: the check missed it")
                return 1
        finally:
            shutil.rmtree(tmp)
    print("selftest: ok")
    return 0


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("check", "selftest",
                                                   "list"):
        sys.exit("usage: layouts.py check|selftest|list SRCROOT")
    root = sys.argv[2]
    if sys.argv[1] == "list":
        texts = sources(root)
        for k, where in sorted(layouts(texts).items()):
            print("layout", k, where)
        for name, (where, src) in sorted(lua(texts).items()):
            print("script", repr(name), where,
                  "MAKES KEYS" if makes_keys(src) else "")
        return 0
    return check(root) if sys.argv[1] == "check" else selftest(root)


if __name__ == "__main__":
    sys.exit(main())
