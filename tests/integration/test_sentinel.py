"""Redis Sentinel: the gateway follows the primary (gateway/store/
storesentinel.c), issue #19.

A real deployment (sentinels.py: a primary, a replica, three Debian
redis-sentinel processes on loopback) and two real gateways, A and B,
that know only the sentinels.  Signed-in users keep asking both gateways
from threads while the primary changes, by SENTINEL FAILOVER or by a
SIGKILL of the primary; then: no answer carried another user's identity,
protected requests failed (503, never anything else) only inside the
switch window (its length is printed), both gateways are back on the new
primary within a bound and none is left on the old one, sessions made
before still work, a revocation after it reaches both gateways' caches, a
rate limit still holds across them, and `postern audit verify` passes.
The command-line tools find the primary through the sentinels too.
"""
import os
import signal
import threading
import time
import uuid

import pytest
import requests
import urllib3

from conftest import run_postern
from gwproc import Gateway, metric, section, write_config
from sentinels import NAME, Sentinel, rewrite_redis, wait_until
from test_auth import PASSWORD, RELAXED, add_user, login, make_key

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

ROUTES = """\
  routes:
    - path: /public/**
      public: true
    - path: /limited/**
      authenticated: true
      rate_limit: api
    - path: /app/**
      authenticated: true
"""
LIMITS = "    api: {limit: 5, period: 1m}\n"
RECOVERY = 20.0         # seconds: a gateway is back on the new primary
STORES = 3              # Redis stores of a gateway of two workers


@pytest.fixture
def cluster(tmp_path):
    c = Sentinel(tmp_path / "redis")
    yield c
    c.stop()


def extra(base):
    make_key(base)
    secret = base / "secret"
    if not secret.exists():
        secret.write_bytes(os.urandom(32))
        secret.chmod(0o600)
    return ("secret_file: %s\n" % secret +
            section("assertion", {"key_file": base / "assertion.pem",
                                  "issuer": "https://gw.test"}) +
            RELAXED + LIMITS +
            section("passwords", {"argon2_memory": "7MiB",
                                  "argon2_iterations": 1}) +
            "audit:\n  file: audit.log\n")


def start_gw(base, name, cluster, tls_cert, upstream, redis=None):
    d = base / name
    d.mkdir(exist_ok=True)
    cfg, ports = write_config(d, tls_cert, upstream, ("127.0.0.1", 1),
                              extra(base), app_extra=ROUTES, protect=None)
    rewrite_redis(cfg, cluster.redis_section(
        redis or {"connect_timeout": "500ms", "command_timeout": "500ms"}))
    gw = Gateway(cfg, d / "postern.log", ports, wait=("https", "http"))
    gw.name = name
    return gw


def get(gw, cookie, path="/app/x", timeout=10):
    return requests.get(gw.url + path, verify=False, timeout=timeout,
                        allow_redirects=False,
                        headers={"Accept": "application/json",
                                 "Cookie": "__Host-postern=" + cookie})


def email_of(r):
    return {k.lower(): v for k, v in r.json()["headers"]}["x-postern-email"]


def sign_in(gw, email):
    s, r = login(gw, email)
    assert r.status_code == 303, r.text
    return s.cookies["__Host-postern"]


class Load:
    """One thread per user asking A and B in turn with the user's cookie;
    every answer is kept as (start, end, gateway, status, identity)."""

    def __init__(self, gws, users):
        self.gws, self.users = gws, users
        self.stopping = threading.Event()
        self.seen = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(u,))
                        for u in users]

    def run(self, user):
        email, cookie = user
        i = 0
        while not self.stopping.is_set():
            gw = self.gws[i % len(self.gws)]
            i += 1
            t = time.monotonic()
            try:
                r = get(gw, cookie, timeout=5)
                who = email_of(r) if r.status_code == 200 else None
                status = r.status_code
            except requests.RequestException as e:
                who, status = None, repr(e)
            with self.lock:
                self.seen.append((t, time.monotonic(), gw.name, status,
                                  who, email))
            time.sleep(0.01)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for t in self.threads:
            t.join(30)


def names_on(cluster, port):
    """The names of the gateway's connections to server <port>."""
    return [c.get("name", "") for c in cluster.client(port).client_list()
            if c.get("name", "").startswith("postern")]


def all_back(gws, users):
    return all(get(gw, c, timeout=3).status_code == 200
               for gw in gws for _, c in users)


def failover(cluster, how):
    old = cluster.primary()
    if how == "sentinel":
        return old, cluster.failover()
    # SIGKILL: the sentinels see it down, agree, and promote the replica
    new = cluster.replica_of(old)
    cluster.client(old).execute_command("WAIT", 1, 2000)
    cluster.by_port[old].send_signal(signal.SIGKILL)
    cluster.by_port[old].wait()
    wait_until(lambda: cluster.settled(new), 60, "the promotion")
    return old, new


@pytest.mark.parametrize("how", ["sentinel", "sigkill"])
def test_failover_under_load(cluster, tmp_path, tls_cert, upstream, how):
    a = start_gw(tmp_path, "A", cluster, tls_cert, upstream)
    b = start_gw(tmp_path, "B", cluster, tls_cert, upstream)
    emails = ["f%d-%s@example.com" % (i, uuid.uuid4().hex[:8])
              for i in range(4)]
    for e in emails + ["victim@example.com"]:
        add_user(a, e)          # the CLI asks the sentinels too
    users = [(e, sign_in(a if i % 2 else b, e)) for i, e in
             enumerate(emails)]
    victim = sign_in(a, "victim@example.com")
    for gw in (a, b):
        for e, c in users:
            r = get(gw, c)
            assert r.status_code == 200 and email_of(r) == e
    with Load((a, b), users) as load:
        time.sleep(1)
        t0 = time.monotonic()
        old, new = failover(cluster, how)
        # each store (two workers and the certificate subscriber) of
        # each gateway logs its switch
        for gw in (a, b):
            gw.wait_log("the primary of %s changed" % NAME, STORES,
                        timeout=RECOVERY)
        back = time.monotonic()
        assert all_back((a, b), users)
        time.sleep(1)
    seen = load.seen
    wrong = [s for s in seen if s[3] == 200 and s[4] != s[5]]
    assert not wrong, wrong[:5]
    failed = [s for s in seen if s[3] != 200]
    assert all(s[3] == 503 for s in failed), failed[:5]
    # a failed request overlaps the window (it may have been sent just
    # before the switch, or answered just after the last store was back)
    outside = [s for s in failed if s[1] < t0 or s[0] > back]
    assert not outside, outside[:5]
    window = (max(s[1] for s in failed) - min(s[0] for s in failed)
              if failed else 0.0)
    print("\n%s: %d requests, %d answered 503, switch window %.2f s, "
          "back after %.2f s" % (how, len(seen), len(failed), window,
                                 back - t0))
    assert len([s for s in seen if s[0] > back and s[3] == 200]) > 0
    # every gateway connection is on the new primary, none on the old
    for gw in (a, b):
        assert gw.log().count("changed: 127.0.0.1:%d -> 127.0.0.1:%d"
                              % (old, new)) == STORES
        assert metric(gw, "postern_redis_failovers_total") == STORES
        assert metric(gw, "postern_redis_up") == 1
    wait_until(lambda: names_on(cluster, new).count("postern-track") >= 4,
               RECOVERY, "the tracking connections on the new primary")
    if how == "sentinel":
        assert names_on(cluster, old) == [], names_on(cluster, old)
    # sessions made before the switch still work on both
    for gw in (a, b):
        for e, c in users:
            r = get(gw, c)
            assert r.status_code == 200 and email_of(r) == e
    # revocation after it: both gateways served the victim (cached),
    # then the CLI revokes through the new primary
    for gw in (a, b, a, b):
        assert get(gw, victim).status_code == 200
    r = run_postern("user", "revoke-sessions", "-c", str(a.config),
                    "victim@example.com")
    assert r.returncode == 0, r.stderr
    assert [get(gw, victim).status_code for gw in (a, b, a, b)] == \
        [401] * 4
    # a rate limit shared by both gateways (limit 5 a minute)
    _, c = users[0]
    codes = [get(gw, c, "/limited/x").status_code
             for gw in (a, b, a, b, a, b)]
    assert codes == [200] * 5 + [429], codes
    r = run_postern("audit", "verify", "-c", str(a.config))
    assert r.returncode == 0, r.stdout + r.stderr


def test_cli_and_gateway_find_the_primary(cluster, tmp_path, tls_cert,
                                          upstream):
    """The CLI and a gateway connect to the primary the sentinels name,
    even with the first sentinel down; the public route never needs
    Redis."""
    first = cluster.sentinel_ports[0]
    cluster.procs[first].send_signal(signal.SIGKILL)
    cluster.procs[first].wait()
    gw = start_gw(tmp_path, "A", cluster, tls_cert, upstream)
    add_user(gw, "cli@example.com")
    c = sign_in(gw, "cli@example.com")
    assert email_of(get(gw, c)) == "cli@example.com"
    assert sorted(set(names_on(cluster, cluster.port1))) == \
        ["postern", "postern-track"]
    assert names_on(cluster, cluster.port2) == []
