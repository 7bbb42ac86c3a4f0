#!/usr/bin/python3
"""Revocation latency between two gateways on one Redis.

usage: revocation.py [--tries N] [--upstream URL] [--config-extra FILE]
                     [--keep DIR] POSTERN_BIN

Two gateways, A and B (one worker each, the same Redis, secret_file and
assertion key, one protected app), and for each try: sign in on A (the real
form POST), have B serve the session three times, revoke the session on A's
side, then ask B again at once, over one keep-alive plain HTTP connection
(as the trusted proxy 127.0.0.1 that ended TLS: X-Forwarded-Proto: https),
until B refuses.  Measured: the time from the revoking command's return (the
logout's answer, the CLI process's exit) to B's first refusal, and every 200
B gives to a request sent after that return: a stale answer, which must
never happen.

The revoking commands take turns: logout (POST /.postern/logout with the
CSRF token, on A), `postern user revoke-sessions EMAIL`, `postern user
disable EMAIL` (enabled again after the try), `postern user passwd EMAIL`
(the new password on stdin) and `postern sessions revoke --all` (each try
signs in afresh, so it takes nothing from the next).  Prints p50, p99 and
max per command and overall, and the stale count.  Not a test, but it exits
1 when B served a stale answer or never refused within 2 s, and 2 when
something does not start.

A Redis of its own; the upstream is --upstream, or scripts/demo-upstream.py
on a free port.  --config-extra: YAML appended to both gateways' configs
(top-level keys this script does not write: sessions:, for one).  Python's
standard library and requests (Debian's python3-requests).
"""
import argparse
import http.client
import math
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

import requests
import urllib3

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "integration"))
from gwproc import (UPSTREAM, Gateway, app_text,  # noqa: E402
                    check_launched, config_text, free_port, listener,
                    make_cert, section, stop, wait_port)

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

EMAIL = "revoke@example.com"
COOKIE = "__Host-postern"

GIVE_UP = 2.0                   # seconds of 200s before a try is lost
KINDS = ("logout", "revoke-sessions", "disable", "passwd", "revoke-all")


def refused(status):
    """B's answer to a dead session: 401 today; any 3xx or 4xx counts (a
    redirect to the sign-in page, a 403), not a 5xx or a broken
    connection."""
    return status is not None and 300 <= status < 500


class Bench:
    """The processes and files of one run, under <d>."""

    def __init__(self, binary, d, extra=""):
        self.bin, self.d, self.procs, self.ports = binary, d, [], {}
        self.extra = extra
        self.password = "revocation bench %s" % secrets.token_hex(8)
        self.a = self.b = None

    def start(self, upstream):
        """Redis, the upstream unless given, gateways A and B, the user."""
        d = self.d
        rport = free_port()
        os.mkdir(os.path.join(d, "redis"))
        self.procs.append(subprocess.Popen(
            ["redis-server", "--port", str(rport), "--bind", "127.0.0.1",
             "--dir", os.path.join(d, "redis"), "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL))
        wait_port(rport, self.procs[-1])
        if upstream is None:
            port = free_port()
            self.procs.append(subprocess.Popen(
                ["/usr/bin/python3", UPSTREAM, "--port", str(port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_port(port, self.procs[-1])
            upstream = "http://127.0.0.1:%d" % port
        with open(os.path.join(d, "secret"), "wb") as f:
            f.write(os.urandom(32))
        os.chmod(os.path.join(d, "secret"), 0o600)
        self.cert = make_cert(d, "localhost")
        cfg = self.gateway("a", upstream, rport)
        self.cli("keys", "generate")
        self.a = Gateway(cfg, os.path.join(d, "a", "log"), self.ports["a"],
                         wait=("https", "http"), binary=self.bin)
        self.b = Gateway(self.gateway("b", upstream, rport),
                         os.path.join(d, "b", "log"), self.ports["b"],
                         wait=("https", "http"), binary=self.bin)
        pw = "%s\n%s\n" % (self.password, self.password)
        self.cli("user", "add", EMAIL, stdin=pw)

    def gateway(self, name, upstream, rport):
        """Write gateway <name>'s configuration; its path."""
        d = os.path.join(self.d, name)
        os.mkdir(d)
        ports = {"https": free_port(), "http": free_port()}
        self.ports[name] = ports
        with open(os.path.join(d, "app.yaml"), "w") as f:
            f.write(app_text(upstream, name="bench", protect=True))
        cfg = os.path.join(d, "postern.yaml")
        with open(cfg, "w") as f:
            f.write(config_text(
                [listener(ports["https"]),
                 listener(ports["http"], tls=False, redirect=False)],
                workers=1, trusted_proxies=["127.0.0.1"],
                certs=[self.cert], redis="127.0.0.1:%d" % rport,
                log={"level": "warn", "access_log": "false"},
                policies=["app.yaml"],
                extra="secret_file: %s\n" % os.path.join(self.d, "secret") +
                section("assertion", {"key_file": os.path.join(
                    self.d, "assertion.pem")}) +
                # one account signs in again and again
                "rate_limits:\n  classes:\n    login: {limit: 1000000, "
                "period: 1m, account_limit: 1000000}\n" + self.extra))
        return cfg

    def cli(self, *args, stdin=None):
        """Run `postern ARGS -c <A's config>`; the time it exited."""
        p = subprocess.Popen([self.bin] + list(args) + [
            "-c", os.path.join(self.d, "a", "postern.yaml")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        out, err = p.communicate(stdin)
        done = time.monotonic()
        if p.returncode != 0:
            raise SystemExit("revocation: postern %s: exit %d: %s" % (
                " ".join(args), p.returncode, err.strip()))
        return done

    def sign_in(self):
        """A requests session signed in on A, and its cookie value."""
        s = requests.Session()
        base = self.a.url
        csrf = login_csrf(s, base)
        r = s.post(base + "/.postern/login", verify=False, timeout=30,
                   allow_redirects=False, headers={"Origin": base},
                   data={"email": EMAIL, "password": self.password,
                         "csrf": csrf, "rd": "/"})
        if r.status_code != 303:
            raise SystemExit("revocation: sign-in on A: %d" % r.status_code)
        return s, r.cookies[COOKIE]

    def revoke(self, kind, s):
        """Revoke <s>'s session with <kind>; the time the command returned."""
        if kind == "logout":
            base = self.a.url
            csrf = login_csrf(s, base)
            r = s.post(base + "/.postern/logout", data={"csrf": csrf},
                       verify=False, allow_redirects=False, timeout=10,
                       headers={"Origin": base})
            done = time.monotonic()
            if r.status_code != 303:
                raise SystemExit("revocation: logout: %d" % r.status_code)
            return done
        if kind == "revoke-sessions":
            return self.cli("user", "revoke-sessions", EMAIL)
        if kind == "disable":
            return self.cli("user", "disable", EMAIL)
        if kind == "passwd":
            self.password = "revocation bench %s" % secrets.token_hex(8)
            return self.cli("user", "passwd", EMAIL, stdin="%s\n%s\n" % (
                self.password, self.password))
        return self.cli("sessions", "revoke", "--all")

    def close(self):
        check_launched()
        for p in self.procs:
            stop(p)


def login_csrf(s, base):
    page = s.get(base + "/.postern/login", verify=False, timeout=10,
                 headers={"Accept": "text/html"})
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


class Client:
    """One keep-alive connection to B's plain listener, as the trusted
    proxy that ended TLS."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)

    def get(self, cookie):
        """GET / with <cookie>; (status, time the answer was read)."""
        try:
            self.conn.request("GET", "/", headers={
                "Cookie": "%s=%s" % (COOKIE, cookie),
                "X-Forwarded-Proto": "https",
                "Accept": "application/json"})
            r = self.conn.getresponse()
            r.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()   # the next request opens a new one
            return None, time.monotonic()
        return r.status, time.monotonic()


def one_try(bench, client, kind, out):
    """Sign in, warm B, revoke with <kind>, then ask B until it refuses."""
    s, cookie = bench.sign_in()
    for _ in range(3):
        t0 = time.monotonic()
        status, t1 = client.get(cookie)
        if status != 200:
            raise SystemExit("revocation: B did not serve the session "
                             "signed in on A: %s" % status)
        out["rtt"].append(t1 - t0)
    returned = bench.revoke(kind, s)
    stale = other = 0
    while True:
        sent = time.monotonic()
        status, answered = client.get(cookie)
        if refused(status):
            out[kind].append(answered - returned)
            break
        if status == 200:
            stale += 1      # sent after the revocation returned
        else:
            other += 1
        if sent - returned > GIVE_UP:
            out[kind].append(float("inf"))
            break
    out["stale"][kind] = out["stale"].get(kind, 0) + stale
    out["other"] += other
    if kind == "disable":
        bench.cli("user", "enable", EMAIL)


def pct(v, q):
    """The <q> percentile of <v> (nearest rank)."""
    v = sorted(v)
    return v[max(0, math.ceil(q / 100 * len(v)) - 1)]


def ms(x):
    return "%8s" % "never" if x == float("inf") else "%8.3f" % (x * 1e3)


def report(out, tries):
    print("revocation latency: %d tries, gateways A and B (1 worker each) on "
          "one Redis; ms from the revoking command's return to B's first "
          "refusal" % tries)
    print("%-16s %6s %8s %8s %8s %6s" % ("command", "tries", "p50", "p99",
                                         "max", "stale"))
    every = []
    for kind in KINDS:
        v = out[kind]
        if not v:
            continue
        every += v
        print("%-16s %6d %s %s %s %6d" % (kind, len(v), ms(pct(v, 50)),
                                          ms(pct(v, 99)), ms(max(v)),
                                          out["stale"].get(kind, 0)))
    stale = sum(out["stale"].values())
    print("%-16s %6d %s %s %s %6d" % ("all", len(every), ms(pct(every, 50)),
                                      ms(pct(every, 99)), ms(max(every)),
                                      stale))
    print("B's round trip for a served request (the floor of the above): "
          "p50 %s ms" % ms(pct(out["rtt"], 50)).strip())
    if out["other"]:
        print("answers neither 200 nor a refusal after a revocation: %d"
              % out["other"])
    lost = sum(1 for x in every if x == float("inf"))
    if stale or lost:
        print("!!! REVOCATION NOT IMMEDIATE: %d stale 200 answers from B to "
              "requests sent after the revocation returned; %d tries where "
              "B kept serving for %.1f s !!!" % (stale, lost, GIVE_UP))
        return 1
    print("stale answers: 0")
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tries", type=int, default=200)
    ap.add_argument("--upstream", help="the app's upstream URL")
    ap.add_argument("--config-extra", metavar="FILE",
                    help="YAML appended to both gateways' configs")
    ap.add_argument("--keep", help="work in DIR and keep it (logs)")
    ap.add_argument("binary")
    args = ap.parse_args()
    d = args.keep or tempfile.mkdtemp(prefix="revocation.")
    if args.keep:
        os.makedirs(d, exist_ok=True)
    out = {k: [] for k in KINDS}
    out.update(rtt=[], stale={}, other=0)
    extra = ""
    if args.config_extra:
        with open(args.config_extra) as f:
            extra = f.read()
    bench = Bench(os.path.abspath(args.binary), d, extra)
    try:
        try:
            bench.start(args.upstream)
        except RuntimeError as e:
            print("revocation: %s" % e, file=sys.stderr)
            return 2
        client = Client(bench.ports["b"]["http"])
        for i in range(args.tries):
            one_try(bench, client, KINDS[i % len(KINDS)], out)
    finally:
        bench.close()
        if not args.keep:
            shutil.rmtree(d, ignore_errors=True)
    return report(out, args.tries)


if __name__ == "__main__":
    sys.exit(main())
