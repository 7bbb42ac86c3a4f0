#!/usr/bin/env python3
"""
Redis key layouts: every module lists the keys it makes with
STORE_LAYOUT("name:<placeholder>") next to its code (gateway/store/store.h)
and makes key names only from them: store_layout_key() in C, key() in the
Lua of a STORE_LAYOUT_SCRIPT.

  layouts.py check SRCROOT     fail when docs/redis.md's table of keys lacks
                               a layout of the code or lists one that is
                               gone; when a module outside gateway/store/
                               calls store_key() itself; when a Lua script
                               makes a key name by joining strings (a
                               literal with ':' joined with '..', a key or
                               key() joined with '..', a key argument
                               joined with '..'; in a STORE_LAYOUT_SCRIPT
                               any '..' or any use of the prefix ARGV[1]
                               but through key()); when a key() call does
                               not name a layout by its STORE_LAYOUT macro,
                               or passes another number of arguments than
                               the layout has placeholders
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


LAYOUT_MACRO = re.compile(r'^\s*STORE_LAYOUT\(\s*"([^"]+)"\s*\)\s*$')
MARK_OPEN, MARK_CLOSE = "\x01", "\x02"   # around a layout from a macro


def lua(texts):
    """{script name: (file:line, Lua source, keyed)} of every STORE_SCRIPT
    and STORE_LAYOUT_SCRIPT; a layout spliced in from its STORE_LAYOUT
    macro is marked MARK_OPEN layout MARK_CLOSE."""
    macros = {}
    for t in texts.values():
        for m in re.finditer(r"^#define\s+(\w+)[ \t]*((?:.*\\\n)*.*)$",
                             t, re.M):
            macros[m.group(1)] = m.group(2).replace("\\\n", "\n")

    def expand(body, depth=0):
        out = ""
        for tok in re.finditer(r'"((?:[^"\\]|\\.)*)"|\b([A-Z][A-Z0-9_]+)\b',
                               body):
            if tok.group(1) is not None:
                out += tok.group(1).replace("\\n", "\n").replace('\\"', '"')
            elif tok.group(2) in macros and depth < 5:
                lm = LAYOUT_MACRO.match(macros[tok.group(2)])
                if lm:
                    out += MARK_OPEN + lm.group(1) + MARK_CLOSE
                else:
                    out += expand(macros[tok.group(2)], depth + 1)
        return out

    scripts = {}
    for f, t in texts.items():
        for m in re.finditer(r'STORE_(LAYOUT_)?SCRIPT\(\s*"([^"]+)",(.*?)\);',
                             t, re.S):
            scripts[m.group(2)] = ("%s:%d" % (f, t.count("\n", 0,
                                   m.start()) + 1), expand(m.group(3)),
                                   m.group(1) is not None)
    return scripts


KEYJOIN = [
    re.compile(r"\.\.\s*'[^']*:[^']*'"),        # .. 'user:'   .. ':orgs'
    re.compile(r"'[^']*:[^']*'\s*\.\."),         # 'otk:' ..
    re.compile(r"redis\.call\('\w+',\s*[^,)]*\.\."),  # DEL, a .. b
    re.compile(r"KEYS\[\d+\]\s*\.\.|\.\.\s*KEYS\["),  # KEYS[2] .. x
    re.compile(r"\.\.\s*key\(|\bkey\([^()]*\)\s*\.\."),  # key(...) .. x
    re.compile(r"\bformat\(\s*'[^']*:|\bconcat\("),  # format('%s:%s'
]


def plain(src):
    return src.replace(MARK_OPEN, "'").replace(MARK_CLOSE, "'")


def makes_keys(src, keyed):
    src = plain(src)
    if keyed and ("ARGV[1]" in src or ".." in src):
        # the prefix only through key(), and nothing joined at all
        return True
    return any(r.search(src) for r in KEYJOIN)


def key_calls(src):
    """The argument lists of the key() calls in <src>, each split at its
    top-level commas."""
    calls = []
    for m in re.finditer(r"(?<![\w.:])key\(", src):
        depth, quote, args, cur = 1, None, [], ""
        for ch in src[m.end():]:
            if quote:
                quote = None if ch == quote else quote
            elif ch in "'\"":
                quote = ch
            elif ch in "({[":
                depth += 1
            elif ch in ")}]":
                depth -= 1
                if depth == 0:
                    break
            elif ch == "," and depth == 1:
                args.append(cur.strip())
                cur = ""
                continue
            cur += ch
        args.append(cur.strip())
        calls.append(args)
    return calls


def key_errors(where, name, src, keyed, declared):
    errors = []
    calls = key_calls(src)
    if calls and not keyed:
        errors.append("%s: Lua script \"%s\" calls key(): declare it with "
                      "STORE_LAYOUT_SCRIPT" % (where, name))
    for args in calls:
        lm = re.match("^'" + MARK_OPEN + "([^" + MARK_CLOSE + "]*)" +
                      MARK_CLOSE + "'$", args[0])
        if lm is None:
            errors.append("%s: Lua script \"%s\": key(%s, ...) does not "
                          "splice a STORE_LAYOUT macro into the script"
                          % (where, name, plain(args[0])))
            continue
        layout = lm.group(1)
        if layout not in declared:
            errors.append("%s: Lua script \"%s\": key('%s') is no declared "
                          "layout" % (where, name, layout))
        holes = len(re.findall(r"<[^>]*>", layout))
        if len(args) - 1 != holes:
            errors.append("%s: Lua script \"%s\": key('%s') with %d "
                          "arguments for %d placeholders"
                          % (where, name, layout, len(args) - 1, holes))
    return errors


def problems(root):
    """Every problem of the tree at <root>, one message each."""
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
    scripts = lua(texts)
    for name, (where, src, keyed) in sorted(scripts.items()):
        if makes_keys(src, keyed):
            errors.append("%s: Lua script \"%s\" makes key names by joining "
                          "strings: pass them in KEYS, or form them with "
                          "key() from a STORE_LAYOUT macro in a "
                          "STORE_LAYOUT_SCRIPT (gateway/store/store.h)"
                          % (where, name))
        errors.extend(key_errors(where, name, src, keyed, code))
    return errors


def check(root):
    errors = problems(root)
    for e in errors:
        print(e)
    return 1 if errors else 0


def selftest(root):
    if check(root) != 0:
        print("selftest: the tree itself fails the check")
        return 1
    cases = [
        ("gateway/identity/zz.c", 'static const char *k = '
         'STORE_LAYOUT("brand_new:<id>");\n',
         "is not in docs/redis.md"),
        ("gateway/identity/zz.c", 'int\nzz(char *b)\n{\n\treturn store_key('
         'b, 9, "p", "x:%s", "y");\n}\n',
         "store_key() outside"),
        ("gateway/identity/zz.c", 'static struct store_script zz = '
         'STORE_SCRIPT("zz",\n\t"redis.call(\'DEL\', ARGV[1] .. '
         '\'user:\' .. ARGV[2])\\n");\n',
         "by joining strings"),
        ("gateway/identity/zz.c", 'static struct store_script zz = '
         'STORE_SCRIPT("zz",\n\t"redis.call(\'DEL\', ARGV[1] .. h)\\n");\n',
         "by joining strings"),
        ("gateway/identity/zz.c", 'static struct store_script zz = '
         'STORE_SCRIPT("zz",\n\t"local u = KEYS[1] .. h\\n");\n',
         "by joining strings"),
        # in a script that derives keys: a hand-made key, the prefix used
        # directly, a layout written by hand, by a plain string macro or
        # taken from a variable, a wrong count of arguments, key() in a
        # script that does not declare it
        ("gateway/identity/zz.c", 'static struct store_script zz = '
         'STORE_LAYOUT_SCRIPT("zz",\n\t"local u = '
         'key(\'" USER_LAYOUT_USER "\', id) .. \'x\'\\n");\n',
         "by joining strings"),
        ("gateway/identity/zz.c", 'static struct store_script zz = '
         'STORE_LAYOUT_SCRIPT("zz",\n\t"redis.call(\'DEL\', '
         'key(\'" USER_LAYOUT_USER "\', id))\\n"\n\t"local p = '
         'ARGV[1]\\n");\n',
         "by joining strings"),
        ("gateway/identity/zz.c", 'static struct store_script zz = '
         'STORE_LAYOUT_SCRIPT("zz",\n\t"redis.call(\'DEL\', '
         'key(\'user:<id>\', id))\\n");\n',
         "does not splice a STORE_LAYOUT macro"),
        ("gateway/identity/zz.c", '#define ZZ_NAME "user:<id>"\n'
         'static struct store_script zz = '
         'STORE_LAYOUT_SCRIPT("zz",\n\t"redis.call(\'DEL\', '
         'key(\'" ZZ_NAME "\', id))\\n");\n',
         "does not splice a STORE_LAYOUT macro"),
        ("gateway/identity/zz.c", 'static struct store_script zz = '
         'STORE_LAYOUT_SCRIPT("zz",\n\t"redis.call(\'DEL\', '
         'key(ARGV[2], id))\\n");\n',
         "does not splice a STORE_LAYOUT macro"),
        ("gateway/identity/zz.c", 'static struct store_script zz = '
         'STORE_SCRIPT("zz",\n\t"redis.call(\'DEL\', '
         'string.format(\'%s:%s\', ARGV[2], h))\\n");\n',
         "by joining strings"),
        ("gateway/identity/zz.c", 'static struct store_script zz = '
         'STORE_LAYOUT_SCRIPT("zz",\n\t"redis.call(\'DEL\', '
         'key(\'" USER_LAYOUT_USER_ORGS "\'))\\n");\n',
         "with 0 arguments for 1 placeholders"),
        ("gateway/identity/zz.c", 'static struct store_script zz = '
         'STORE_SCRIPT("zz",\n\t"redis.call(\'DEL\', '
         'key(\'" USER_LAYOUT_USER "\', id))\\n");\n',
         "declare it with STORE_LAYOUT_SCRIPT"),
        # a script of the tree going back to a key made by hand
        ("gateway/identity/session/session.c",
         ("key('\" USER_LAYOUT_USER \"', s[1])",
          "ARGV[1] .. 'user:' .. s[1]"),
         "by joining strings"),
        ("docs/redis.md", None,
         "no layout of the code"),
    ]
    for path, text, expect in cases:
        tmp = tempfile.mkdtemp()
        try:
            for d in ("gateway", "docs"):
                shutil.copytree(os.path.join(root, d), os.path.join(tmp, d))
            p = os.path.join(tmp, path)
            if isinstance(text, tuple):
                src = open(p).read()
                if text[0] not in src:
                    print("selftest: %s has no %s" % (path, text[0]))
                    return 1
                open(p, "w").write(src.replace(text[0], text[1], 1))
                print("selftest: expecting a failure for %s with %s"
                      % (path, text[1]))
            elif text is None:
                doc = open(p).read()
                doc = doc.replace("| `users` |", "| `gone_users` |")
                open(p, "w").write(doc)
                print("selftest: expecting a failure for a stale docs row")
            else:
                with open(p, "a") as out:
                    out.write(text)
                print("selftest: expecting a failure for: " +
                      text.strip().replace("\n", " "))
            errors = problems(tmp)
            if not any(expect in e for e in errors):
                print("selftest: the check missed it (no \"%s\" in %r)"
                      % (expect, errors))
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
        for name, (where, src, keyed) in sorted(lua(texts).items()):
            print("script", repr(name), where,
                  "key(): " + ", ".join(sorted(set(
                      c[0].strip("'" + MARK_OPEN + MARK_CLOSE)
                      for c in key_calls(src)))) if keyed
                  else "", "MAKES KEYS" if makes_keys(src, keyed) else "")
        return 0
    return check(root) if sys.argv[1] == "check" else selftest(root)


if __name__ == "__main__":
    sys.exit(main())
