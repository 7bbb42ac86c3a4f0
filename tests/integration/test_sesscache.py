"""The per-worker session cache, seen from outside (issue #15).

Two real gateways, A and B, on one real redis-server, with the same
secret and signing key, in front of the demo upstream (which echoes the
headers it got).  B is made to serve a credential several times (so that
it holds it in its cache once the cache exists: the hits counter rises),
then the credential is revoked on A, by the real CLI or in Redis itself,
and the very next request on B -- with no sleep -- must be refused, on
the connections that B served it on and on a new one.  A thread keeps
asking B on its own connection meanwhile: no request of it that started
after the revoking command returned may be answered 200.

Then what an operator does to Redis (kill the cache's invalidation
connection, restart Redis, FLUSHDB), the idle timeout and lifetime served
from the cache, the reused identity assertions (verified with python3-jwt
against /.postern/jwks.json), the cache turned off, and an attacker's
cookies and keys against a warm cache.  Cache-specific names (config keys
and metrics) are the ones of docs/redis.md's "Session cache" section.
"""
import hashlib
import json
import random
import re
import threading
import time
import uuid

import jwt
import pytest
import redis as redislib
import requests
import urllib3

from conftest import run_postern, start_redis, stop
from gwproc import LAUNCHED, Gateway, section, write_config
from test_auth import (PASSWORD, RELAXED, add_user, assertion_claims,
                       login, login_page, make_key)
from test_grants import bearer, key_id, new_key, new_share
from test_mfa import enrol
from test_routes import member, new_org

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

COOKIE = "__Host-postern"
SHARE_COOKIE = "__Secure-postern-share"

# the cache's configuration keys and metrics (one place, so that a rename
# is one edit)
CACHE_SIZE = "cache_size"               # under sessions:
HITS = "postern_session_cache_hits_total"
MISSES = "postern_session_cache_misses_total"
INVALIDATIONS = "postern_session_cache_invalidations_total"
FLUSHES = "postern_session_cache_flushes_total"
ENTRIES = "postern_session_cache_entries"
ACTIVE = "postern_session_cache_active"
SIGNED = "postern_assertion_signed_total"
REUSED = "postern_assertion_reused_total"

ROUTES = """\
  routes:
    - path: /public/**
      public: true
    - path: /orgs/{org}/admin/**
      role: admin
    - path: /orgs/{org}/**
      role: viewer
    - path: /secure/mfa
      mfa: true
    - path: /api/ping
      auth: [apikey]
      scopes: [ping]
    - path: /invoices/{id}/pay
      auth: [share]
    - path: /app/**
      authenticated: true
"""

OTHER_APP = """\
app:
  name: other
  hosts: [other.test]
  upstream: http://%s:%d
  routes:
    - path: /app/**
      authenticated: true
"""


# the hammering threads would trip the per-address limits of grants, and
# the suite signs in hundreds of times: cheap hashes (a warning, no more)
GRANT_LIMITS = """\
    apikey: {limit: 100000, period: 1m}
    share: {limit: 100000, period: 1m}
"""
FAST_HASHES = section("passwords", {"argon2_memory": "7MiB",
                                    "argon2_iterations": 1})


# ---- two gateways on one Redis -----------------------------------------

def gw_extra(base, sessions=None, assertion=None, key="assertion.pem"):
    """The YAML both gateways of <base> share: secret, signing key (made
    once by the real `postern keys generate`), roles, relaxed sign-in
    limits, and the <sessions> and <assertion> keys given (dicts)."""
    make_key(base)
    secret = base / "secret"
    if not secret.exists():
        secret.write_bytes(uuid.uuid4().bytes + uuid.uuid4().bytes)
        secret.chmod(0o600)
    keys = {"key_file": base / key, "issuer": "https://gw.test"}
    keys.update(assertion or {})
    text = "secret_file: %s\n" % secret + section("assertion", keys)
    if sessions:
        text += section("sessions", sessions)
    return (text + RELAXED + GRANT_LIMITS + FAST_HASHES +
            "roles: [owner, admin, member, viewer]\n")


def start_gw(base, name, tls_cert, upstream, redis_addr, workers=2, **kw):
    """One gateway in <base>/<name> with gw_extra(base, **kw)."""
    d = base / name
    d.mkdir(exist_ok=True)
    cfg, ports = write_config(
        d, tls_cert, upstream, redis_addr, gw_extra(base, **kw),
        app_extra=ROUTES, protect=None, workers=workers,
        more_apps=[("other.yaml", OTHER_APP % upstream)])
    gw = Gateway(cfg, d / "postern.log", ports, wait=("https", "http"))
    gw.name = name.upper()
    return gw


class Pair:
    """Gateways A and B on the redis-server at <redis_addr>; <kw> go to
    gw_extra().  pair.redis is a client of that Redis."""

    def __init__(self, base, tls_cert, upstream, redis_addr, **kw):
        self.base = base
        self.redis_addr = redis_addr
        self.a = start_gw(base, "a", tls_cert, upstream, redis_addr, **kw)
        self.b = start_gw(base, "b", tls_cert, upstream, redis_addr, **kw)
        self.redis = redislib.Redis(host=redis_addr[0], port=redis_addr[1])

    def user(self):
        """A new user (the real `postern user add`): its email."""
        email = "c-%s@example.com" % uuid.uuid4().hex[:12]
        add_user(self.a, email)
        return email


@pytest.fixture(scope="module")
def pair(tmp_path_factory, tls_cert, upstream, postern_bin):
    """A and B (2 workers each) on a Redis of this module's own.  They
    live for the module: the per-test check of check_gateways does not
    see them, so they are checked for sanitizer reports here."""
    base = tmp_path_factory.mktemp("sesscache")
    proc, addr = start_redis(base)
    since = len(LAUNCHED)
    p = Pair(base, tls_cert, upstream, addr)
    mine = LAUNCHED[since:]
    del LAUNCHED[since:]
    yield p
    for gw in mine:
        gw.stop()
    stop(proc)
    for gw in mine:
        gw.check()


@pytest.fixture
def private_pair(tmp_path, tls_cert, upstream, postern_bin):
    """Factory: private_pair(**kw) -> a Pair on a redis-server of the
    test's own (stopped at its end), for the tests that restart, flush or
    cut Redis; <kw> go to gw_extra()."""
    procs = []

    def start(**kw):
        proc, addr = start_redis(tmp_path)
        procs.append(proc)
        p = Pair(tmp_path, tls_cert, upstream, addr, **kw)
        p.proc = proc
        return p
    yield start
    for proc in procs:
        stop(proc)


# ---- requests ------------------------------------------------------------

def get(gw, path, headers=None, s=None, host=None, method="GET"):
    h = {"Accept": "application/json"}
    if host:
        h["Host"] = host
    h.update(headers or {})
    return (s or requests).request(method, gw.url + path, verify=False,
                                   timeout=10, headers=h,
                                   allow_redirects=False)


def upstream_headers(r):
    return {k.lower(): v for k, v in r.json()["headers"]}


def sign_in(gw, email):
    """A real sign-in on <gw>: (requests.Session holding the cookie, the
    cookie's value)."""
    s, r = login(gw, email=email)
    assert r.status_code == 303, (r.status_code, r.text[:300])
    return s, r.cookies.get(COOKIE)


def cookie_header(value):
    return {"Cookie": "%s=%s" % (COOKIE, value)}


def session_key(cookie):
    """The Redis key of the session behind <cookie> (docs/redis.md)."""
    return "postern:session:" + hashlib.sha256(cookie.encode()).hexdigest()


# ---- metrics -------------------------------------------------------------

def samples(gw):
    """{metric name: [values of its samples]} from <gw>'s /metrics."""
    text = requests.get("http://127.0.0.1:%d/metrics" % gw.admin_port,
                        timeout=10).text
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, value = line.rsplit(" ", 1)
        out.setdefault(name.split("{")[0], []).append(float(value))
    return out


def metric(gw, name):
    """The sum of <name>'s samples on <gw>; AssertionError if absent."""
    got = samples(gw)
    assert name in got, "%s does not export %s" % (gw.name, name)
    return sum(got[name])


def metric_or_none(gw, name):
    return sum(samples(gw).get(name, [])) if name in samples(gw) else None


def cache_active(gw):
    """Whether tracking is in force on <gw> (every sample of the gauge
    above 0: all workers, however the gauge is broken down)."""
    got = samples(gw)
    assert ACTIVE in got, "%s does not export %s" % (gw.name, ACTIVE)
    return all(v > 0 for v in got[ACTIVE])


def wait_until(fn, timeout=5.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        assert time.monotonic() < deadline, "no %s within %ss" % (what,
                                                                  timeout)
        time.sleep(0.05)


# ---- a credential served by B, revoked, refused at once ------------------

class Hammer(threading.Thread):
    """Asks <gw> for <path> with <headers> over one keep-alive
    connection, back to back, recording (start, status) of each request,
    until stop()."""

    def __init__(self, gw, path, headers):
        super().__init__(daemon=True)
        self.gw, self.path, self.headers = gw, path, headers
        self.s = requests.Session()
        self.results = []
        self.halt = threading.Event()
        self.error = None

    def run(self):
        try:
            while not self.halt.is_set():
                t = time.monotonic()
                r = get(self.gw, self.path, self.headers, s=self.s)
                self.results.append((t, r.status_code))
        except Exception as e:          # reported by stop()
            self.error = e

    def stop(self, after):
        """Stop once two requests started after <after>; the results."""
        deadline = time.monotonic() + 5
        while sum(1 for t, _ in self.results if t > after) < 2:
            assert self.is_alive() and time.monotonic() < deadline, \
                self.error
            time.sleep(0.002)
        self.halt.set()
        self.join(10)
        self.s.close()
        assert self.error is None, self.error
        return self.results


class Credential:
    """What a revocation test needs: a route <path>, the <headers> that
    carry the credential, the status it gets once revoked (<refused>), and
    <check>(response) for each 200 (the identity the upstream got)."""

    def __init__(self, path, headers, refused, check=None):
        self.path, self.headers, self.refused = path, headers, refused
        self.check = check or (lambda r: None)


def warm(gw, cred, conns=3, uses=3):
    """Serve <cred> on <gw> <uses> times on each of <conns> keep-alive
    connections (both workers, most likely); the sessions."""
    out = []
    for _ in range(conns):
        s = requests.Session()
        for _ in range(uses):
            r = get(gw, cred.path, cred.headers, s=s)
            assert r.status_code == 200, (gw.name, r.status_code, r.text)
            cred.check(r)
        out.append(s)
    return out


def revoke_and_check(p, cred, revoke):
    """B serves <cred> (and counts cache hits once it has a cache), then
    <revoke>() returns, then B and A refuse it on every connection."""
    hits = metric_or_none(p.b, HITS)
    conns = warm(p.b, cred)
    if hits is not None:
        assert metric(p.b, HITS) > hits, "B served it without a cache hit"
    hammer = Hammer(p.b, cred.path, cred.headers)
    hammer.start()
    revoke()
    done = time.monotonic()
    # no sleep: the next request on B must see the revocation
    statuses = [get(p.b, cred.path, cred.headers, s=s).status_code
                for s in conns]
    statuses.append(get(p.b, cred.path, cred.headers).status_code)
    statuses.append(get(p.a, cred.path, cred.headers).status_code)
    late = [st for t, st in hammer.stop(done) if t > done]
    for s in conns:
        s.close()
    assert statuses == [cred.refused] * len(statuses), statuses
    assert late == [cred.refused] * len(late), late


def cli(p, *args, stdin=None):
    r = run_postern(*[args[0], args[1], "-c", str(p.a.config), *args[2:]],
                    stdin=stdin)
    assert r.returncode == 0, (args, r.stderr)
    return r


def session_cred(p, email, path="/app/x"):
    """A session of <email> signed in on A: (Credential, its
    requests.Session on A)."""
    s, cookie = sign_in(p.a, email)

    def check(r):
        assert upstream_headers(r)["x-postern-email"] == email
    return Credential(path, cookie_header(cookie), 401, check), s


def logout_on_a(p, s):
    token = login_page(s, p.a)
    r = s.post(p.a.url + "/.postern/logout", data={"csrf": token},
               verify=False, allow_redirects=False,
               headers={"Origin": p.a.url})
    assert r.status_code == 303, r.text


def membership_case(p, action, email):
    """A session with a role in an org, then that role lowered, raised
    (a copy of the old cookie never gains a role: it must sign in again,
    401) or the membership removed (403)."""
    org = new_org(p.a)
    before, after, path = {
        "role-down": ("admin", "viewer", "admin/x"),
        "role-up": ("viewer", "admin", "x"),
        "member-remove": ("viewer", None, "x")}[action]
    member(p.a, org, email, before)
    cred, _ = session_cred(p, email, "/orgs/%s/%s" % (org, path))
    check = cred.check

    def tenant(r):
        check(r)
        h = upstream_headers(r)
        assert (h["x-postern-org"], h["x-postern-role"]) == (org, before)
    cred.check = tenant
    if after is None:
        cred.refused = 403
        return cred, lambda: cli(p, "org", "member", org, email, "--remove")
    return cred, lambda: member(p.a, org, email, after)


def revoke_case(p, action):
    """Set up one credential for <action>: (Credential, revoke())."""
    email = p.user()
    if action == "logout":
        cred, s = session_cred(p, email)
        return cred, lambda: logout_on_a(p, s)
    if action in ("disable", "revoke-sessions"):
        cred, _ = session_cred(p, email)
        return cred, lambda: cli(p, "user", action, email)
    if action == "passwd":
        cred, _ = session_cred(p, email)
        new = "fresh passphrase %s" % uuid.uuid4().hex[:8]
        return cred, lambda: cli(p, "user", "passwd", email,
                                 stdin="%s\n%s\n" % (new, new))
    if action == "revoke-all":
        cred, _ = session_cred(p, email)
        return cred, lambda: cli(p, "sessions", "revoke", "--all")
    if action == "2fa-enrol":
        cred, s = session_cred(p, email)
        return cred, lambda: enrol(p.a, s)
    if action.startswith(("role-", "member-")):
        return membership_case(p, action, email)
    if action == "apikey-revoke":
        key = new_key(p.a, new_org(p.a), "ping")
        return (Credential("/api/ping", bearer(key), 401),
                lambda: cli(p, "apikey", "revoke", key_id(key)))
    if action == "share-revoke":
        path = "/invoices/%d/pay" % random.randrange(10 ** 9)
        token, sid = new_share(p.a, path)
        return (Credential(path, {"Cookie": "%s=%s" % (SHARE_COOKIE, token)},
                           403),
                lambda: cli(p, "share", "revoke", sid))
    raise ValueError(action)


ACTIONS = ["logout", "disable", "passwd", "revoke-sessions", "revoke-all",
           "2fa-enrol", "role-down", "role-up", "member-remove",
           "apikey-revoke", "share-revoke"]
REPEATS = 5


@pytest.mark.parametrize("action", ACTIONS)
def test_revocation_on_a_is_seen_by_b_at_once(pair, action):
    for _ in range(REPEATS):
        cred, revoke = revoke_case(pair, action)
        revoke_and_check(pair, cred, revoke)
