#!/usr/bin/python3
"""The soak: two gateways behind a real HAProxy on one Redis, for minutes.

usage: soak.py [--minutes N] [--conns C] [--rate R] [--users U]
               [--keep DIR] POSTERN_BIN

Started here, on free loopback ports, in a temporary folder: a
redis-server, an nginx upstream (200 with the identity it received), two
gateways (two workers each, the same secret and assertion key, an admin
listener each), and HAProxy with the configuration of docs/scaling.md
("The load balancer": TCP mode, leastconn, a TLS health check of
/.postern/ready; only its addresses and a `global` section with a stats
socket differ here).  Everything goes through HAProxy:

- signed-in traffic: wrk (tests/bench/mix.lua) over C connections (256),
  each request with the session of one of U users (64) signed in through
  the form, paced at about R requests per second (2000) in all;
- beside it, in two threads: sign-in (the form), a request that must
  carry that user's identity, logout, the same cookie refused (401); and
  `postern apikey create` (the CLI), a request with the key (200),
  `postern apikey revoke`, the key refused (401);
- every minute, half-way, `postern reload` of each gateway.

Each minute wrk runs for 55 s; then the threads pause, the connections
settle (the gateways' upstream_idle is 1s here, so that pooled upstream
connections are gone), and the minute's figures are taken: requests,
errors (any status other than the one expected, connection errors, a
failed reload, a health check seen DOWN; and at the end any line a gateway
logged at level error), wrk's p99, each gateway's RSS
and open file descriptors (/proc), and Redis' used_memory.  At the end:
the RSS slope over minutes 2..N (least squares, KiB/min) and the fds
before and after.  Exit 1 if there was any error or a gateway ends with
more open fds than it had before the load; 2 if something did not start.
At most 10 minutes.  Not a test (not in CI): run by `scripts/bench soak`.
"""
import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import redis as redislib
import requests
import urllib3

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "integration"))
sys.path.insert(0, os.path.dirname(__file__))
from benchproc import (cpu_us, fd_count, nginx_upstream,  # noqa: E402
                       parse_wrk, rss_kib, slope, wrk, write_mix)
from gwproc import (ROOT, Gateway, app_text,  # noqa: E402
                    check_sanitizers, config_text, free_port, listener,
                    make_cert, section, stop, wait_port)

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

COOKIE = "__Host-postern"
MINUTE_LOAD = 55        # seconds of wrk in each minute
MAX_MINUTES = 10

ROUTES = """\
  routes:
    - path: /api/**
      auth: [apikey]
      scopes: [soak:read]
    - path: /**
      authenticated: true
"""


def haproxy_config(front, servers, sock):
    """docs/scaling.md's HAProxy configuration with loopback addresses:
    its frontend binds 127.0.0.1:<front>, its servers are <servers>
    (ports); a global section before it (stats socket <sock>)."""
    with open(os.path.join(ROOT, "docs", "scaling.md")) as f:
        doc = f.read()
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```$", doc, re.S | re.M)
    conf = next(b for b in blocks if "backend postern" in b)
    conf = conf.replace("bind :443", "bind 127.0.0.1:%d" % front)
    conf = re.sub(r"    server gw\d+ .*\n", "", conf)
    conf += "".join("    server gw%d 127.0.0.1:%d\n" % (i + 1, p)
                    for i, p in enumerate(servers))
    return ("global\n    maxconn 4096\n    stats socket %s mode 600\n\n"
            % sock) + conf


def haproxy_servers(sock):
    """{server name: status} of backend postern, from the stats socket."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(sock)
        s.sendall(b"show stat\n")
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    out = {}
    for line in data.decode().splitlines():
        f = line.split(",")
        if len(f) > 17 and f[0] == "postern" and f[1].startswith("gw"):
            out[f[1]] = f[17]
    return out


class Soak:
    """The processes and files of one run, under <d>."""

    def __init__(self, binary, d, args):
        self.bin, self.d, self.args = binary, d, args
        self.procs, self.gws, self.wrk, self.ports = [], [], None, {}
        self.password = "staple battery %s" % secrets.token_hex(8)
        self.lock = threading.Lock()
        self.ops = []           # (time, kind, ok, detail)
        self.errors = []        # (time, text)
        self.pause = threading.Event()
        self.idle = [threading.Event(), threading.Event()]
        self.stopping = threading.Event()

    # ---- start --------------------------------------------------------

    def start(self):
        d = self.d
        self.rport = free_port()
        os.mkdir(os.path.join(d, "redis"))
        self.redis_proc = subprocess.Popen(
            ["redis-server", "--port", str(self.rport), "--bind",
             "127.0.0.1", "--dir", os.path.join(d, "redis"), "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL)
        self.procs.append(self.redis_proc)
        wait_port(self.rport, self.redis_proc)
        self.rc = redislib.Redis(host="127.0.0.1", port=self.rport)
        up, uport = nginx_upstream(d)
        self.procs.append(up)
        with open(os.path.join(d, "secret"), "wb") as f:
            f.write(os.urandom(32))
        os.chmod(os.path.join(d, "secret"), 0o600)
        self.cert = make_cert(d, "localhost")
        cfgs = [self.gateway(n, "http://127.0.0.1:%d" % uport)
                for n in ("a", "b")]
        self.cli(cfgs[0], "keys", "generate")
        for n, cfg in zip(("a", "b"), cfgs):
            gw = Gateway(cfg, os.path.join(d, n, "log"), self.ports[n],
                         wait=("https", "admin"), binary=self.bin)
            self.gws.append(gw)
        self.front = free_port()
        self.hsock = os.path.join(d, "haproxy.sock")
        hcfg = os.path.join(d, "haproxy.cfg")
        with open(hcfg, "w") as f:
            f.write(haproxy_config(self.front, [self.ports[n]["https"]
                                                for n in ("a", "b")],
                                   self.hsock))
        self.haproxy = subprocess.Popen(
            ["haproxy", "-db", "-f", hcfg], stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(d, "haproxy.log"), "w"))
        self.procs.append(self.haproxy)
        wait_port(self.front, self.haproxy)
        self.base = "https://127.0.0.1:%d" % self.front
        deadline = time.monotonic() + 20
        while set(self.servers().values()) != {"UP"}:
            if time.monotonic() > deadline:
                raise RuntimeError("HAProxy's checks: %s" % self.servers())
            time.sleep(0.2)
        self.users()

    def gateway(self, name, upstream):
        d = os.path.join(self.d, name)
        os.mkdir(d)
        ports = {"https": free_port(), "admin": free_port()}
        self.ports[name] = ports
        with open(os.path.join(d, "app.yaml"), "w") as f:
            f.write(app_text(upstream, name="soak", extra=ROUTES,
                             protect=None))
        cfg = os.path.join(d, "postern.yaml")
        with open(cfg, "w") as f:
            f.write(config_text(
                [listener(ports["https"])], workers=2,
                admin=ports["admin"], certs=[self.cert],
                redis="127.0.0.1:%d" % self.rport,
                log={"level": "warn", "access_log": "false"},
                policies=["app.yaml"],
                extra="secret_file: %s\n" % os.path.join(self.d, "secret") +
                section("assertion", {"key_file": os.path.join(
                    self.d, "assertion.pem")}) +
                section("timeouts", {"upstream_idle": "1s"}) +
                # the churn signs a few accounts in again and again
                "rate_limits:\n  classes:\n    login: {limit: 1000000, "
                "period: 1m, account_limit: 1000000}\n"))
        return cfg

    def cli(self, cfg, *args, stdin=None):
        """`postern ARGS -c <cfg>`: its stdout; RuntimeError on failure."""
        p = subprocess.run([self.bin] + list(args) + ["-c", cfg],
                           input=stdin, capture_output=True, text=True,
                           timeout=60)
        if p.returncode != 0:
            raise RuntimeError("postern %s: exit %d: %s" % (
                " ".join(args), p.returncode, (p.stderr or p.stdout).strip()))
        return p.stdout

    def users(self):
        """U users for wrk, each signed in once; 3 for the churn."""
        cfg = self.gws[0].config
        pw = "%s\n%s\n" % (self.password, self.password)
        self.cli(cfg, "org", "add", "soak")
        cookies = []
        for i in range(self.args.users):
            email = "load%d@example.com" % i
            self.cli(cfg, "user", "add", email, stdin=pw)
            s, c = self.sign_in(email)
            s.close()
            cookies.append(c)
        for i in range(3):
            self.cli(cfg, "user", "add", "churn%d@example.com" % i, stdin=pw)
        self.mix = os.path.join(self.d, "mix.txt")
        write_mix(self.mix, [("/s/%d" % i, {"Cookie": "%s=%s" % (COOKIE, c)})
                             for i, c in enumerate(cookies)])

    def servers(self):
        return haproxy_servers(self.hsock)

    # ---- the churn ----------------------------------------------------

    def sign_in(self, email):
        """A requests session signed in as <email> through HAProxy, and its
        cookie; RuntimeError unless the form answers 303 with a cookie."""
        s = requests.Session()
        csrf = self.csrf(s)
        r = s.post(self.base + "/.postern/login", verify=False, timeout=30,
                   allow_redirects=False, headers={"Origin": self.base},
                   data={"email": email, "password": self.password,
                         "csrf": csrf, "rd": "/"})
        if r.status_code != 303 or COOKIE not in r.cookies:
            raise RuntimeError("sign-in of %s: %d" % (email, r.status_code))
        return s, r.cookies[COOKIE]

    def csrf(self, s):
        page = s.get(self.base + "/.postern/login", verify=False, timeout=10,
                     headers={"Accept": "text/html"})
        m = re.search(r'name="csrf" value="([^"]+)"', page.text)
        if page.status_code != 200 or not m:
            raise RuntimeError("sign-in page: %d" % page.status_code)
        return m.group(1)

    def get(self, path, headers):
        """GET <path> through HAProxy on a new connection: (status, body)."""
        h = {"Accept": "application/json"}
        h.update(headers)
        r = requests.get(self.base + path, headers=h, verify=False,
                         timeout=10, allow_redirects=False)
        return r.status_code, r.text

    def record(self, kind, ok, detail=""):
        with self.lock:
            self.ops.append((time.monotonic(), kind, ok))
            if not ok:
                self.errors.append((time.monotonic(), "%s: %s" % (
                    kind, detail)))

    def expect(self, kind, got, want, detail=""):
        self.record(kind, got == want, "%s, expected %s %s" % (
            got, want, detail))

    def session_cycle(self, k):
        email = "churn%d@example.com" % (k % 3)
        try:
            s, cookie = self.sign_in(email)
        except (RuntimeError, OSError, requests.RequestException) as e:
            self.record("sign-in", False, str(e))
            return
        self.record("sign-in", True)
        with s:
            status, body = self.get("/who", {"Cookie": "%s=%s" % (
                COOKIE, cookie)})
            # the identity the upstream received must be this user's
            self.expect("signed-in", (status, body.strip()), (200, email))
            csrf = self.csrf(s)
            r = s.post(self.base + "/.postern/logout", data={"csrf": csrf},
                       verify=False, allow_redirects=False, timeout=10,
                       headers={"Origin": self.base})
            self.expect("logout", r.status_code, 303)
        status, _ = self.get("/who", {"Cookie": "%s=%s" % (COOKIE, cookie)})
        self.expect("after logout", status, 401)

    def key_cycle(self, k):
        cfg = self.gws[k % 2].config
        try:
            key = self.cli(cfg, "apikey", "create", "--org", "soak",
                           "--scope", "soak:read").strip()
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            self.record("apikey create", False, str(e))
            return
        self.record("apikey create", True)
        bearer = {"Authorization": "Bearer " + key}
        status, _ = self.get("/api/x", bearer)
        self.expect("apikey use", status, 200)
        try:
            self.cli(self.gws[(k + 1) % 2].config, "apikey", "revoke",
                     key.split("_")[1])
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            self.record("apikey revoke", False, str(e))
            return
        self.record("apikey revoke", True)
        status, _ = self.get("/api/x", bearer)
        self.expect("revoked key", status, 401)

    def churn(self, which, fn, period):
        """Run <fn>(k) every <period> seconds until stopping; park while
        paused (idle[which] set)."""
        k = 0
        while not self.stopping.is_set():
            if self.pause.is_set():
                self.idle[which].set()
                time.sleep(0.05)
                continue
            self.idle[which].clear()
            t0 = time.monotonic()
            try:
                fn(k)
            except (OSError, requests.RequestException) as e:
                self.record(fn.__name__, False, repr(e))
            k += 1
            time.sleep(max(0.0, period - (time.monotonic() - t0)))
        self.idle[which].set()

    # ---- measuring ----------------------------------------------------

    def quiet(self):
        """Pause the churn and let connections close."""
        self.pause.set()
        for e in self.idle:
            e.wait(60)
        time.sleep(2.5)

    def sample(self):
        """Each gateway's (RSS KiB, fds: the least of three looks, HAProxy's
        health checks come and go), Redis' used_memory."""
        out = []
        for gw, name in zip(self.gws, "AB"):
            if gw.proc.poll() is not None:
                raise RuntimeError("gateway %s exited with %d:\n%s" % (
                    name, gw.proc.returncode, gw.log()[-2000:]))
            fds = []
            for _ in range(3):
                fds.append(fd_count(gw.proc.pid))
                time.sleep(0.3)
            out.append((rss_kib(gw.proc.pid), min(fds)))
        return out, int(self.rc.info("memory")["used_memory"])

    def reload_all(self):
        for gw in self.gws:
            p = subprocess.run([self.bin, "reload", "-c", gw.config],
                               capture_output=True, text=True, timeout=60)
            self.record("reload", p.returncode == 0 and "reloaded:" in
                        p.stdout, (p.stdout + p.stderr).strip())

    def minute(self, m, conns, delay):
        """One minute of load; its row."""
        n0 = len(self.ops)
        cpu0 = [cpu_us(gw.proc.pid) for gw in self.gws]
        self.pause.clear()
        w = self.wrk = wrk(self.base + "/", self.mix, MINUTE_LOAD, conns,
                           delay)
        t0 = time.monotonic()
        reloaded = False
        down = set()
        while w.poll() is None:
            time.sleep(0.5)
            if not reloaded and time.monotonic() - t0 >= MINUTE_LOAD / 2:
                self.reload_all()
                reloaded = True
            down |= {k for k, v in self.servers().items() if v != "UP"}
        load = parse_wrk(w.stdout.read())
        for name in sorted(down):
            self.record("health check", False, "%s seen %s" % (
                name, self.servers().get(name)))
        self.quiet()
        gws, used = self.sample()
        ops = self.ops[n0:]
        bad = sum(1 for o in ops if not o[2])
        row = {
            "minute": m, "wrk": load,
            "requests": load["requests"],
            "errors": load["non2xx"] + load["socket"] + bad,
            "gws": gws, "redis": used,
            "cpu": [(cpu_us(gw.proc.pid) - c) / 1e6
                    for gw, c in zip(self.gws, cpu0)],
            "churn": len(ops),
        }
        print_row(row)
        return row

    def close(self):
        self.stopping.set()
        if self.wrk is not None and self.wrk.poll() is None:
            self.wrk.kill()
            self.wrk.wait()
        for gw in self.gws:
            gw.stop()
        for p in reversed(self.procs):
            stop(p)


HEAD = ("%3s %8s %5s %6s %7s %7s %8s %8s %5s %5s %9s %6s %6s" % (
    "min", "requests", "churn", "errors", "req/s", "p99 ms", "rss A",
    "rss B", "fd A", "fd B", "redis KiB", "cpu A", "cpu B"))


def print_row(r):
    (ra, fa), (rb, fb) = r["gws"]
    print("%3d %8d %5d %6d %7.0f %7.2f %8d %8d %5d %5d %9d %6.1f %6.1f" % (
        r["minute"], r["requests"], r["churn"], r["errors"], r["wrk"]["rps"],
        r["wrk"]["p99"], ra, rb, fa, fb, r["redis"] // 1024,
        r["cpu"][0], r["cpu"][1]), flush=True)


def report(soak, rows, before):
    """The summary; the exit status."""
    status = 0
    errors = sum(r["errors"] for r in rows)
    print("\nerrors: %d (wrk non-2xx/3xx %d, wrk connection errors %d, "
          "churn and reloads %d)" % (
              errors, sum(r["wrk"]["non2xx"] for r in rows),
              sum(r["wrk"]["socket"] for r in rows),
              len(soak.errors)))
    for t, text in soak.errors[:10]:
        print("  " + text)
    if errors:
        status = 1
    for gw, name in zip(soak.gws, "AB"):
        bad = [line for line in gw.log().splitlines()
               if '"level":"error"' in line]
        if bad:
            print("gateway %s logged %d errors, the first: %s" % (
                name, len(bad), bad[0]))
            status = 1
    later = [r for r in rows if r["minute"] >= 2]
    for i, name in enumerate("AB"):
        s = slope([r["minute"] for r in later],
                  [r["gws"][i][0] for r in later])
        print("gateway %s: RSS %d KiB before the load, %d KiB at the end; "
              "slope over minutes 2..%d: %+.1f KiB/min; fds %d before, %d "
              "at the end" % (name, before[0][i][0], rows[-1]["gws"][i][0],
                              rows[-1]["minute"], s, before[0][i][1],
                              rows[-1]["gws"][i][1]))
        if rows[-1]["gws"][i][1] > before[0][i][1]:
            print("!!! gateway %s holds more fds than before the load !!!"
                  % name)
            status = 1
    print("redis used_memory: %d KiB before, %d KiB at the end" % (
        before[1] // 1024, rows[-1]["redis"] // 1024))
    audit = "postern:audit:events"
    print("redis at the end: %d keys; the audit trail %d events, %d KiB "
          "(MEMORY USAGE)" % (soak.rc.dbsize(), soak.rc.llen(audit),
                              (soak.rc.memory_usage(audit, samples=0) or 0)
                              // 1024))
    kinds = {}
    for _, kind, ok in soak.ops:
        kinds[kind] = kinds.get(kind, 0) + 1
    print("churn: " + ", ".join("%s %d" % kv for kv in sorted(
        kinds.items())))
    return status


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=int, default=MAX_MINUTES)
    ap.add_argument("--conns", type=int, default=256)
    ap.add_argument("--rate", type=int, default=2000,
                    help="signed-in requests per second offered, in all")
    ap.add_argument("--users", type=int, default=64)
    ap.add_argument("--keep", help="work in DIR and keep it (logs)")
    ap.add_argument("binary")
    args = ap.parse_args()
    if not 1 <= args.minutes <= MAX_MINUTES:
        ap.error("--minutes: 1 to %d" % MAX_MINUTES)
    d = args.keep or tempfile.mkdtemp(prefix="postern-soak-")
    os.makedirs(d, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))
    soak = Soak(os.path.abspath(args.binary), d, args)
    rows, status = [], 2
    try:
        try:
            soak.start()
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            print("soak: %s" % e, file=sys.stderr)
            return 2
        before = soak.sample()
        delay = max(0, args.conns * 1000 // args.rate)
        print("soak: %d min, HAProxy (leastconn, TCP) -> 2 gateways x 2 "
              "workers -> 1 Redis; wrk %d connections, ~%d req/s offered "
              "(each connection pauses %d ms), %d signed-in users; a sign-in"
              "/logout cycle every 2 s and an API key cycle every 3 s; "
              "reload of each gateway every minute; %d cores" % (
                  args.minutes, args.conns, args.rate, delay, args.users,
                  os.cpu_count()))
        print("load before: %s" % open("/proc/loadavg").read().strip())
        print(HEAD, flush=True)
        threads = [threading.Thread(target=soak.churn, args=a, daemon=True)
                   for a in ((0, soak.session_cycle, 2.0),
                             (1, soak.key_cycle, 3.0))]
        for t in threads:
            t.start()
        for m in range(1, args.minutes + 1):
            try:
                rows.append(soak.minute(m, args.conns, delay))
            except RuntimeError as e:
                print("soak: %s" % e, file=sys.stderr)
                return 1
        soak.stopping.set()
        for t in threads:
            t.join(60)
        print("load after: %s" % open("/proc/loadavg").read().strip())
        status = report(soak, rows, before)
    finally:
        soak.close()
        try:    # an ASan build reports leaks at exit
            check_sanitizers(*[gw.log_path for gw in soak.gws])
        except AssertionError as e:
            print(e)
            status = 1
        if not args.keep:
            shutil.rmtree(d, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
