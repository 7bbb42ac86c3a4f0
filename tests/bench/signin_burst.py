#!/usr/bin/python3
"""Sign in repeatedly for a bounded time; print sign-ins per second.

usage: signin_burst.py BASE_URL EMAIL PASSWORD SECONDS THREADS

Each sign-in is the real browser flow: GET the form (CSRF cookie and
token), POST the credentials, expect 303.  Password (stdin-free here: the
bench creates a throwaway user) never leaves this process but for the POST.
"""
import collections
import re
import sys
import threading
import time

import requests
import urllib3

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)


def worker(base, email, password, deadline, out, why):
    ok = bad = 0
    while time.monotonic() < deadline:
        s = requests.Session()
        try:
            page = s.get(base + "/.postern/login", verify=False, timeout=10)
            csrf = re.search(r'name="csrf" value="([^"]+)"',
                             page.text).group(1)
            r = s.post(base + "/.postern/login", verify=False, timeout=10,
                       allow_redirects=False, headers={"Origin": base},
                       data={"email": email, "password": password,
                             "csrf": csrf, "rd": "/"})
            if r.status_code == 303:
                ok += 1
            else:
                bad += 1
                why.append(str(r.status_code))
        except (requests.RequestException, AttributeError) as e:
            bad += 1
            why.append(type(e).__name__)
    out.append((ok, bad))


def main():
    base, email, password = sys.argv[1], sys.argv[2], sys.argv[3]
    seconds, threads = float(sys.argv[4]), int(sys.argv[5])
    deadline = time.monotonic() + seconds
    out, ts, why = [], [], []
    t0 = time.monotonic()
    for _ in range(threads):
        t = threading.Thread(target=worker, args=(base, email, password,
                                                  deadline, out, why))
        t.start()
        ts.append(t)
    for t in ts:
        t.join()
    took = time.monotonic() - t0
    ok = sum(o for o, _ in out)
    bad = sum(b for _, b in out)
    print("sign-ins: %d ok, %d failed in %.1fs: %.1f/s" % (
        ok, bad, took, ok / took))
    if why:
        print("failures: " + ", ".join(
            "%s x%d" % (k, n) for k, n in collections.Counter(why).items()))


if __name__ == "__main__":
    main()
