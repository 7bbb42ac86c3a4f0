#!/usr/bin/python3
"""What each kind of traffic costs Redis: the capacity model's numbers.

usage: capacity.py [--n N] [--signins N] POSTERN_BIN

One Redis of its own, the demo upstream, and gateways of one worker each
on that Redis (the same secret and assertion key; reached over plain HTTP
as the trusted proxy that ended TLS).  For each kind of operation, Redis'
statistics are reset (CONFIG RESETSTAT), the operation is repeated, and
the differences are divided by the count:

- sign-in: the sign-in page and the form POST (password, argon2id);
- signed-in request, session cache on (the default) and off
  (sessions.cache_size: 0, what a cache miss costs);
- request on a route with a per-IP rate-limit class (public route);
- API key request (Bearer pk_...; grant cache on);
- failed sign-in (wrong password: rate limits, audit event).

Printed per operation: Redis commands (by name), bytes received and sent
by Redis, and Redis CPU time (user+sys, microseconds) -- and from the CPU
time, how many such operations one fully busy Redis core would serve.
The gateway's own CPU per operation (from /proc) gives how many gateway
cores one Redis core keeps busy.  Not a test: numbers for docs/scaling.md.
"""
import argparse
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import redis as redislib
import requests
import urllib3

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "integration"))
sys.path.insert(0, os.path.dirname(__file__))
from benchproc import cpu_us  # noqa: E402
from gwproc import app_text  # noqa: E402
from revocation import Bench  # noqa: E402

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

ROUTES = """\
  routes:
    - path: /rl/**
      public: true
      rate_limit: api
    - path: /api/**
      auth: [apikey]
      scopes: [bench:read]
    - path: /**
      authenticated: true
"""

RATES = """\
rate_limits:
  classes:
    login: {limit: 1000000, period: 1m, account_limit: 1000000}
    api: {limit: 1000000, period: 1s}
    apikey: {limit: 1000000, period: 1s}
"""


class CapBench(Bench):
    """revocation.py's processes, with routes for every kind measured and
    a second gateway (B) without the session cache."""

    def gateway(self, name, upstream, rport):
        cfg = super().gateway(name, upstream, rport)
        d = os.path.dirname(cfg)
        with open(os.path.join(d, "app.yaml"), "w") as f:
            f.write(app_text(upstream, name="bench", extra=ROUTES,
                             protect=None))
        text = open(cfg).read()
        text = re.sub(r"rate_limits:\n  classes:\n    login: [^\n]*\n",
                      RATES, text)
        if name == "b":
            text += "sessions:\n  cache_size: 0\n"
        with open(cfg, "w") as f:
            f.write(text)
        return cfg


class Meter:
    def __init__(self, rc, gw_pid):
        self.rc, self.pid = rc, gw_pid

    def start(self):
        self.rc.config_resetstat()
        info = self.rc.info("all")
        self.cpu0 = info["used_cpu_user"] + info["used_cpu_sys"]
        self.in0 = info["total_net_input_bytes"]
        self.out0 = info["total_net_output_bytes"]
        self.g0 = cpu_us(self.pid)

    def stop(self, n):
        info = self.rc.info("all")
        cmds = {}
        for k, v in info.items():
            if k.startswith("cmdstat_") and k[8:] not in (
                    "config|resetstat", "info"):
                cmds[k[8:]] = v["calls"] / n
        return {
            "cmds": cmds,
            "total": sum(cmds.values()),
            "in": (info["total_net_input_bytes"] - self.in0) / n,
            "out": (info["total_net_output_bytes"] - self.out0) / n,
            "cpu": (info["used_cpu_user"] + info["used_cpu_sys"] -
                    self.cpu0) * 1e6 / n,
            "gw": (cpu_us(self.pid) - self.g0) / n,
        }


class Trips:
    """Commands the gateways send (MONITOR lines not from a script: the
    calls a script makes show as "[db lua]"), counted in a second pass so
    that MONITOR's own cost stays out of the other figures."""

    def __init__(self, port):
        self.port = port

    def count(self, fn):
        """Run <fn> under MONITOR; the client commands it caused."""
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            s.sendall(b"MONITOR\r\n")
            f = s.makefile("rb")
            assert f.readline().startswith(b"+OK")
            fn()
            redislib.Redis(host="127.0.0.1", port=self.port).echo(
                "capacity-marker")
            n = 0
            for line in f:
                if b"capacity-marker" in line:
                    break
                if b" lua]" not in line:
                    n += 1
            return n


def plain_get(port, path, n, headers):
    """<n> GETs of <path> over one keep-alive connection; all must be 200."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = {"Host": "localhost", "X-Forwarded-Proto": "https",
         "Accept": "application/json"}
    h.update(headers)
    for _ in range(n):
        c.request("GET", path, headers=h)
        r = c.getresponse()
        r.read()
        if r.status != 200:
            raise SystemExit("capacity: GET %s: %d" % (path, r.status))
    c.close()


def failed_signin(base):
    """A sign-in with a wrong password: 401."""
    r = requests.Session()
    page = r.get(base + "/.postern/login", verify=False,
                 headers={"Accept": "text/html"})
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    x = r.post(base + "/.postern/login", verify=False, allow_redirects=False,
               headers={"Origin": base},
               data={"email": "revoke@example.com",
                     "password": "wrong password 123456", "csrf": csrf,
                     "rd": "/"})
    if x.status_code != 401:
        raise SystemExit("capacity: failed sign-in: %d" % x.status_code)


def report(rows):
    print("%-32s %6s %6s %9s %9s %9s %12s %9s" % (
        "operation", "trips", "calls", "bytes in", "bytes out", "redis us",
        "per redis s", "gw us"))
    for name, m in rows:
        print("%-32s %6.2f %6.2f %9.0f %9.0f %9.1f %12.0f %9.1f" % (
            name, m["trips"], m["total"], m["in"], m["out"], m["cpu"],
            1e6 / m["cpu"] if m["cpu"] > 0 else float("inf"), m["gw"]))
        print("    " + ", ".join("%s %.2f" % kv for kv in
                                 sorted(m["cmds"].items()) if kv[1] >= 0.005))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--signins", type=int, default=30)
    ap.add_argument("binary")
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="postern-capacity-")
    bench = CapBench(os.path.abspath(args.binary), d)
    rows = []
    try:
        bench.start(None)
        rport = int(re.search(r"127\.0\.0\.1:(\d+)", open(os.path.join(
            d, "a", "postern.yaml")).read().split("redis:")[1]).group(1))
        rc = redislib.Redis(host="127.0.0.1", port=rport)
        a = Meter(rc, bench.a.proc.pid)
        b = Meter(rc, bench.b.proc.pid)
        pa, pb = bench.ports["a"]["http"], bench.ports["b"]["http"]
        bench.cli("org", "add", "bench")
        key = subprocess.run(
            [bench.bin, "apikey", "create", "-c", os.path.join(
                d, "a", "postern.yaml"), "--org", "bench", "--scope",
             "bench:read", "--rate", "100000"], capture_output=True,
            text=True,
            check=True).stdout.strip()

        state = {}

        def signin(k):
            for _ in range(k):
                state["cookie"] = bench.sign_in()[1]

        def failed(k):
            for _ in range(k):
                failed_signin(bench.a.url)

        def get(port, path, hdr):
            return lambda k: plain_get(port, path, k, hdr())

        sess = lambda: {"Cookie": "__Host-postern=" + state["cookie"]}
        bearer = lambda: {"Authorization": "Bearer " + key}
        ops = [
            ("sign-in (page + POST)", a, signin, args.signins),
            ("signed-in request, cache hit", a, get(pa, "/x", sess),
             args.n),
            ("signed-in request, cache off", b, get(pb, "/x", sess),
             args.n),
            ("rate-limited route (public)", b, get(pb, "/rl/x", dict),
             args.n),
            ("API key request", a, get(pa, "/api/x", bearer), args.n),
            ("failed sign-in (audited)", a, failed, args.signins),
        ]
        trips = Trips(rport)
        for name, meter, fn, n in ops:
            fn(max(2, n // 100))                # warm: caches, scripts
            meter.start()
            fn(n)
            m = meter.stop(n)
            k = max(2, n // 50)
            m["trips"] = trips.count(lambda: fn(k)) / k
            rows.append((name, m))
        time.sleep(0.2)
    finally:
        bench.close()
        shutil.rmtree(d, ignore_errors=True)
    report(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
