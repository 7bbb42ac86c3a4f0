#!/usr/bin/python3
"""Generate data/common-passwords.txt (see that file's header).

No breached-password corpus is available offline on the build machine, so
the list is built from the patterns that dominate every published one:
well-known base words (the perennial "top 100" entries, sports, pets,
names) combined with the suffixes people append to pass length rules
(digit runs, years, "!", "@123"), leetspeak forms of "password", keyboard
walks, digit and letter sequences and repetitions.  Entries are lower-case:
password.c compares case-insensitively.  Deterministic: re-running gives the
same file.

usage: scripts/gen-common-passwords.py > data/common-passwords.txt
"""
import sys

WORDS = """password passw0rd p@ssword p@ssw0rd pa55word pa55w0rd passwort
motdepasse contrasena senha wachtwoord salasana haslo letmein welcome
qwerty iloveyou admin administrator root monkey dragon sunshine princess
football baseball soccer hockey basketball master shadow superman batman
spiderman trustno1 starwars whatever freedom secret login abc123 access
mustang michael jennifer jordan hunter ranger buster thomas robert daniel
charlie jessica ashley amanda andrew joshua matthew summer winter autumn
spring flower hello computer internet samsung google apple microsoft
facebook linkedin twitter youtube pokemon minecraft fortnite naruto
cookie chocolate banana orange cheese pepper ginger tigger snoopy maggie
bailey buddy lucky killer hannah loveme lovely babygirl angel angels
sweetheart friends family jesus christ blessed heaven purple yellow
silver golden diamond london paris berlin chicago dallas newyork
california america canada england germany france liverpool arsenal
chelsea barcelona realmadrid juventus yankees cowboys lakers steelers
eagles packers raiders corvette ferrari porsche mercedes harley yamaha
changeme default guest test tester testing temp temporary user
username manager support service office company business qwertyuiop
asdfghjkl zxcvbnm letmein welcome1 password1 master1 monkey1 dragon1
iloveyou1 princess1 sunshine1 shadow1 superman1 batman1 football1
baseball1 starwars1 whatever1 matrix hacker ninja pirate wizard
phoenix thunder lightning storm tiger lion eagle falcon wolf bear
""".split()

NAMES = """james john robert michael william david richard joseph thomas
charles christopher daniel matthew anthony mark donald steven paul andrew
joshua kenneth kevin brian george timothy ronald edward jason jeffrey ryan
jacob gary nicholas eric jonathan stephen larry justin scott brandon
benjamin samuel frank gregory raymond alexander patrick jack dennis jerry
mary patricia jennifer linda elizabeth barbara susan jessica sarah karen
lisa nancy betty margaret sandra ashley kimberly emily donna michelle
carol amanda dorothy melissa deborah stephanie rebecca sharon laura
cynthia kathleen amy angela shirley anna brenda pamela emma nicole helen
samantha katherine christine debra rachel carolyn janet catherine maria
heather diane ruth julie olivia joyce virginia victoria kelly lauren
christina joan evelyn judith megan andrea cheryl hannah jacqueline martha
gloria teresa ann sara madison frances kathryn janice jean abigail alice
sophia isabella mia charlotte amelia harper ava liam noah oliver elijah
lucas mason logan ethan aiden""".split()

SUFFIXES = ["", "1", "12", "123", "1234", "12345", "123456", "1234567",
            "12345678", "123456789", "!", "1!", "12!", "123!", "!!", "@123",
            "#1", "01", "007", "69", "99", "11", "22", "2", "3", "321",
            "00", "000", "111", "666", "777", "888", "999", "@1", "$",
            "123$", "1234!", "12345!", "?"]
YEARS = [str(y) for y in range(1970, 2031)]
YEAR_SUFFIXES = ["", "!"]


def keyboard_walks():
    rows = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm",
            "0987654321", "poiuytrewq", "lkjhgfdsa", "mnbvcxz",
            "qwertzuiop", "azertyuiop", "qsdfghjklm", "wxcvbn"]
    out = set()
    for r in rows:
        for i in range(len(r)):
            for j in range(i + 4, len(r) + 1):
                out.add(r[i:j])
    cols = ["1qaz", "2wsx", "3edc", "4rfv", "5tgb", "6yhn", "7ujm",
            "8ik,", "9ol.", "0p;/"]
    for i in range(len(cols)):
        for j in range(i + 2, len(cols) + 1):
            s = "".join(cols[i:j])
            out.add(s)
            out.add(s.upper().lower())
    shifted = {"1": "!", "2": "@", "3": "#", "4": "$", "5": "%",
               "6": "^", "7": "&", "8": "*", "9": "(", "0": ")"}
    for s in list(out):
        if s[0].isdigit():
            out.add("".join(shifted.get(c, c) for c in s))
    pairs = ["1q2w3e4r5t6y7u8i9o0p", "q1w2e3r4t5y6u7i8o9p0",
             "1a2s3d4f5g6h7j8k9l", "a1s2d3f4g5h6j7k8l9", "z1x2c3v4b5n6m7"]
    for p in pairs:
        for j in range(6, len(p) + 1, 2):
            out.add(p[:j])
    return out


def sequences():
    out = set()
    digits = "12345678901234567890"
    for n in range(6, 21):
        out.add(digits[:n])
        out.add("".join(reversed(digits[:n])))
    for c in "abcdefghijklmnopqrstuvwxyz0123456789!":
        for n in range(6, 21):
            out.add(c * n)
    for a in ["ab", "abc", "123", "12", "aa", "xo", "ha", "la", "qwe",
              "asd", "007", "1qaz", "abcd", "1234", "4321"]:
        for k in range(2, 9):
            s = a * k
            if 6 <= len(s) <= 24:
                out.add(s)
    alpha = "abcdefghijklmnopqrstuvwxyz"
    for n in range(6, 27):
        out.add(alpha[:n])
    return out


def leet(word):
    table = {"a": "@", "o": "0", "e": "3", "i": "1", "s": "$"}
    yield "".join(table.get(c, c) for c in word)
    yield word.replace("a", "4").replace("e", "3").replace("o", "0")


def main():
    words = sorted(set(WORDS))
    out = set()
    for base in words + NAMES:
        for s in SUFFIXES:
            out.add(base + s)
        for y in YEARS:
            for s in (YEAR_SUFFIXES if base in WORDS else [""]):
                out.add(base + y + s)
    for base in words:
        for w in leet(base):
            for s in SUFFIXES[:12]:
                out.add(w + s)
        out.add(base + base)
        out.add("my" + base)
        out.add("my" + base + "1")
        out.add("the" + base)
    for n in NAMES:
        out.add("iloveyou" + n)
        out.add("ilove" + n)
        out.add(n + "loves")
        out.add(n + n)
    for pw in ["password", "letmein", "welcome", "qwerty", "admin",
               "changeme", "iloveyou", "secret"]:
        for a in ["", "my", "new", "the", "super", "strong", "secure"]:
            for b in ["", "123", "1234", "12345", "123456", "!", "1!",
                      "2023", "2024", "2025", "2026", "!!", "@123"]:
                out.add(a + pw + b)
                out.add(a + pw + pw + b)
    out |= keyboard_walks()
    out |= sequences()
    for w in list(keyboard_walks()):
        for s in ["1", "!", "123", "1!"]:
            out.add(w + s)
    out = sorted(x for x in out if len(x) >= 6)
    sys.stdout.write(__doc__.split("\n\n")[0].replace(
        "Generate data/common-passwords.txt (see that file's header).",
        "# Common passwords refused by Postern (password.c), one per line,\n"
        "# lower-case (compared case-insensitively).  Made by\n"
        "# scripts/gen-common-passwords.py, whose docstring says how:\n#"))
    sys.stdout.write("\n")
    for line in __doc__.split("\n\n")[1].splitlines():
        sys.stdout.write("# " + line + "\n")
    sys.stdout.write("# %d entries.\n" % len(out))
    for x in out:
        sys.stdout.write(x + "\n")


if __name__ == "__main__":
    main()
