"""The per-worker session cache, seen from outside (issue #15).

Two real gateways, A and B, on one real redis-server, with the same
secret and signing key, in front of the demo upstream (which echoes the
headers it got).  B is made to serve a credential several times (so that
it holds it in its cache once the cache exists: the hits counter rises),
then the credential is revoked on A, by the real CLI or in Redis itself,
and the very next request on B -- with no sleep -- must be refused, on
the connections that B served it on and on a new one.  Two threads keep
asking B on their own connections meanwhile: no request of theirs that
started after the revoking command returned may be answered 200.

Then what an operator does to Redis (kill the cache's invalidation
connection, restart Redis, FLUSHDB), the idle timeout and lifetime served
from the cache, the reused identity assertions (verified with python3-jwt
against /.postern/jwks.json), the cache turned off, and an attacker's
cookies and keys against a warm cache.  The tests that need the cache's
own configuration keys and metrics (named below) fail without it; the
others hold with or without a cache.
"""
import hashlib
import os
import random
import re
import ssl
import threading
import time
import uuid

import jwt
import pytest
import redis as redislib
import requests
import urllib3

from conftest import run_postern, start_redis, stop
from gwproc import (LAUNCHED, Gateway, read_head, section, tls_socket,
                    write_config)
from test_auth import (PASSWORD, RELAXED, add_user, assertion_claims,
                       login, login_page, make_key)
from test_grants import bearer, key_id, new_key, new_share
from test_grants import get as grants_get
from test_mfa import csrf_of, enrol, page, post
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
    - path: /api/orgs/{org}/**
      auth: [apikey]
      scopes: [ping]
    - path: /invoices/{id}/pay
      auth: [share]
    - path: /app/**
      authenticated: true
    - path: /ws
      authenticated: true
"""

OTHER_APP = """\
app:
  name: other
  hosts: [%s]
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

def gw_extra(base, sessions=None, assertion=None):
    """The YAML both gateways of <base> share: secret, signing key (made
    once by the real `postern keys generate`), roles, relaxed sign-in
    limits, and the <sessions> and <assertion> keys given (dicts)."""
    make_key(base)
    secret = base / "secret"
    if not secret.exists():
        secret.write_bytes(os.urandom(32))
        secret.chmod(0o600)
    keys = {"key_file": base / "assertion.pem", "issuer": "https://gw.test"}
    keys.update(assertion or {})
    text = "secret_file: %s\n" % secret + section("assertion", keys)
    if sessions:
        text += section("sessions", sessions)
    return (text + RELAXED + GRANT_LIMITS + FAST_HASHES +
            "roles: [owner, admin, member, viewer]\n")


def start_gw(base, name, tls_cert, upstream, redis_addr, workers=2,
             hosts=("localhost", "127.0.0.1"), other="other.test", **kw):
    """One gateway in <base>/<name> with gw_extra(base, **kw): app demo
    on <hosts>, app other on host <other>."""
    d = base / name
    d.mkdir(exist_ok=True)
    cfg, ports = write_config(
        d, tls_cert, upstream, redis_addr, gw_extra(base, **kw),
        app_extra=ROUTES, protect=None, workers=workers, hosts=hosts,
        more_apps=[("other.yaml", OTHER_APP % ((other,) + upstream))])
    gw = Gateway(cfg, d / "postern.log", ports, wait=("https", "http"))
    gw.name = name.upper()
    return gw


class Pair:
    """Gateways A and B on the redis-server at <redis_addr>; <kw> go to
    gw_extra().  pair.redis is a client of that Redis."""

    def __init__(self, base, tls_cert, upstream, redis_addr, **kw):
        self.base, self.tls_cert, self.upstream = base, tls_cert, upstream
        self.redis_addr = redis_addr
        self.a = self.spawn("a", **kw)
        self.b = self.spawn("b", **kw)
        self.redis = redislib.Redis(host=redis_addr[0], port=redis_addr[1])
        self._org = None

    def spawn(self, name, **kw):
        """Another gateway on the same Redis with the same secret and
        signing key; <kw> go to gw_extra()."""
        return start_gw(self.base, name, self.tls_cert, self.upstream,
                        self.redis_addr, **kw)

    def user(self):
        """A new user (the real `postern user add`): its email."""
        email = "c-%s@example.com" % uuid.uuid4().hex[:12]
        add_user(self.a, email)
        return email

    def org(self):
        """An organisation of the pair's, made once (`postern org add`)."""
        if self._org is None:
            self._org = new_org(self.a)
        return self._org


@pytest.fixture(scope="module")
def pair(tmp_path_factory, tls_cert, upstream, postern_bin):
    """A and B (2 workers each) on a Redis of this module's own.  They
    live for the module: the per-test check of check_gateways does not
    see them, so they are checked for sanitizer reports here."""
    base = tmp_path_factory.mktemp("sesscache")
    proc, addr = start_redis(base)
    since = len(LAUNCHED)
    p = Pair(base, tls_cert, upstream, addr,
             sessions={"max_per_user": 2, "websocket_recheck": "1s"})
    mine = LAUNCHED[since:]
    del LAUNCHED[since:]
    for gw in (p.a, p.b):       # a cache that is there is in force first
        if ACTIVE in samples(gw):
            wait_until(lambda: cache_active(gw), what="tracking")
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
    pairs = []

    def start(**kw):
        proc, addr = start_redis(tmp_path)
        try:
            p = Pair(tmp_path, tls_cert, upstream, addr, **kw)
        except Exception:
            stop(proc)
            raise
        p.proc = proc
        pairs.append(p)
        return p
    yield start
    for p in pairs:
        stop(p.proc)


# ---- requests ------------------------------------------------------------

# One TLS context for every connection: requests would load the system's
# CA store for each new one (60 ms under load), for nothing (verify=False).
TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE


class TlsAdapter(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args, **kw):
        kw["ssl_context"] = TLS
        super().init_poolmanager(*args, **kw)


def client():
    """A requests.Session: one keep-alive connection per gateway."""
    s = requests.Session()
    s.mount("https://", TlsAdapter())
    return s


def get(gw, path, headers=None, s=None, **kw):
    """test_grants.get() on <s>, or on a new connection."""
    if s is not None:
        return grants_get(gw, path, headers, s=s, **kw)
    with client() as c:
        return grants_get(gw, path, headers, s=c, **kw)


def upstream_headers(r):
    return {k.lower(): v for k, v in r.json()["headers"]}


def sign_in(gw, email):
    """A real sign-in on <gw>: (requests.Session holding the cookie, the
    cookie's value)."""
    s, r = login(gw, email=email, s=client())
    assert r.status_code == 303, (r.status_code, r.text[:300])
    return s, r.cookies.get(COOKIE)


def cookie_header(value):
    return {"Cookie": "%s=%s" % (COOKIE, value)}


def cookie_value(cred):
    """The session cookie's value in <cred>'s headers."""
    return cred.headers["Cookie"].split("=", 1)[1]


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


def hits_again(gw, cred):
    """<cred> served by <gw> from its cache again: the hits counter rises
    within a few seconds of use (a worker may get its tracking back a
    little after another)."""
    hits = metric(gw, HITS)

    def used():
        warm(gw, cred, conns=1)
        return metric(gw, HITS) > hits
    wait_until(used, what="cache hits on %s" % gw.name)


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
        self.s = client()
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
    carry the credential, the status it gets once revoked (<refused>),
    <check>(response) for each 200 (the identity the upstream got), and
    whether the session cache's hits counter counts it (<session>: API
    keys and share links have no counter of their own)."""

    def __init__(self, path, headers, refused, check=None, session=True):
        self.path, self.headers, self.refused = path, headers, refused
        self.check = check or (lambda r: None)
        self.session = session


def warm(gw, cred, conns=3, uses=2):
    """Serve <cred> on <gw> <uses> times on each of <conns> keep-alive
    connections (both workers, most likely); the sessions."""
    out = []
    for _ in range(conns):
        s = client()
        for _ in range(uses):
            r = get(gw, cred.path, cred.headers, s=s)
            assert r.status_code == 200, (gw.name, r.status_code, r.text)
            cred.check(r)
        out.append(s)
    return out


def revoke_and_check(p, cred, revoke):
    """B serves <cred> (and counts cache hits once it has a cache), then
    <revoke>() returns, then B and A refuse it on every connection."""
    hits = metric_or_none(p.b, HITS) if cred.session else None
    conns = warm(p.b, cred)
    if hits is not None:
        assert metric(p.b, HITS) > hits, "B served it without a cache hit"
    hammers = [Hammer(p.b, cred.path, cred.headers) for _ in range(2)]
    for h in hammers:
        h.start()
    revoke()
    done = time.monotonic()
    # no sleep: the next request on B must see the revocation
    statuses = [get(p.b, cred.path, cred.headers, s=s).status_code
                for s in conns]
    statuses.append(get(p.b, cred.path, cred.headers).status_code)
    statuses.append(get(p.a, cred.path, cred.headers).status_code)
    late = [st for h in hammers for t, st in h.stop(done) if t > done]
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


def account_case(p, action, email):
    """The user's other session, signed out from the account page on A:
    by a password change there, or from the list of sessions."""
    cred, _ = session_cred(p, email)
    _, s = session_cred(p, email)
    r = page(s, p.a, "/.postern/account")
    assert r.status_code == 200, r.status_code
    token = csrf_of(r.text)
    if action == "account-passwd":
        new = "fresh passphrase %s" % uuid.uuid4().hex[:8]
        form = {"password": PASSWORD, "new_password": new, "confirm": new}
        path, code = "/.postern/account/password", 200
    else:
        hashes = re.findall(r'name="session" value="([0-9a-f]{64})"',
                            r.text)
        assert hashes == [session_key(cookie_value(cred)).rsplit(":", 1)[1]]
        form = {"session": hashes[0]}
        path, code = "/.postern/account/sessions/revoke", 303

    def revoke():
        assert post(s, p.a, path, form, csrf=token).status_code == code
    return cred, revoke


def membership_case(p, action, email):
    """A session with a role in an org, then that role lowered, raised
    (a copy of the old cookie never gains a role: it must sign in again,
    401) or the membership removed (403)."""
    org = p.org()
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


def revoke_case(p, action, email):
    """Set up one credential for <action> (a session of <email>, or a
    grant): (Credential, revoke())."""
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
    if action == "2fa-enrol":         # the enrolling session's old id
        cred, s = session_cred(p, email)
        return cred, lambda: enrol(p.a, s)
    if action == "2fa-other":         # another session: needs its 2FA now
        cred, _ = session_cred(p, email)
        _, s = session_cred(p, email)
        return cred, lambda: enrol(p.a, s)
    if action == "session-limit":     # max_per_user 2: a third sign-in
        cred, _ = session_cred(p, email)
        session_cred(p, email)
        return cred, lambda: session_cred(p, email)
    if action.startswith("account-"):
        return account_case(p, action, email)
    if action.startswith(("role-", "member-")):
        return membership_case(p, action, email)
    if action == "apikey-revoke":
        key = new_key(p.a, p.org(), "ping")
        return (Credential("/api/ping", bearer(key), 401, session=False),
                lambda: cli(p, "apikey", "revoke", key_id(key)))
    if action == "share-revoke":
        path = "/invoices/%d/pay" % random.randrange(10 ** 9)
        token, sid = new_share(p.a, path)
        return (Credential(path, {"Cookie": "%s=%s" % (SHARE_COOKIE, token)},
                           403, session=False),
                lambda: cli(p, "share", "revoke", sid))
    raise ValueError(action)


REPEATS = int(os.environ.get("SESSCACHE_REPEATS", "2"))  # 20: a long hunt
ACTIONS = ["logout", "disable", "passwd", "revoke-sessions", "revoke-all",
           "session-limit", "account-passwd", "account-revoke",
           "2fa-enrol", "2fa-other", "role-down", "role-up", "member-remove",
           "apikey-revoke", "share-revoke"]


# actions after which the user cannot sign in as before, and those that
# need no user
SPOILS = ("disable", "passwd", "account-passwd", "2fa-enrol", "2fa-other")
GRANTS = ("apikey-revoke", "share-revoke")


@pytest.mark.parametrize("action", ACTIONS)
def test_revocation_on_a_is_seen_by_b_at_once(pair, action):
    email = None if action in GRANTS else pair.user()
    for n in range(REPEATS):
        if n and action in SPOILS:
            email = pair.user()
        cred, revoke = revoke_case(pair, action, email)
        revoke_and_check(pair, cred, revoke)


def test_revocation_racing_lookups_in_flight(pair):
    """One worker with room for one session, and two sessions taking
    turns on it: most requests of the victim's are a lookup in Redis,
    so some may be in flight when its deletion lands.  A reply Redis read
    before the deletion but delivered after its report must not be
    cached: no request that started after the DEL returned is served.
    (A race: each round has a small chance to hit the window.)"""
    gw = pair.spawn("race", workers=1, sessions={CACHE_SIZE: 1})
    filler, _ = session_cred(pair, pair.user())
    email = pair.user()
    for _ in range(10 * REPEATS):
        cred, _ = session_cred(pair, email)
        hammers = [Hammer(gw, c.path, c.headers)
                   for c in (cred, filler, cred, filler)]
        for h in hammers:
            h.start()
        time.sleep(0.03)
        pair.redis.delete(session_key(cookie_value(cred)))
        done = time.monotonic()
        late = [[st for t, st in h.stop(done) if t > done]
                for h in hammers]
        assert late[0] + late[2] == [401] * len(late[0] + late[2]), late
        assert set(late[1] + late[3]) == {200}


# ---- written straight into Redis -----------------------------------------

def user_id(p, email):
    return p.redis.get("postern:email:" + email).decode()


def redis_write(p, what, cookie, email):
    """Change, straight in Redis, what the session behind <cookie> (of
    <email>) rests on; the status B must answer next."""
    key = session_key(cookie)
    uid = user_id(p, email)
    r = p.redis
    if what == "del":
        r.delete(key)
    elif what == "unlink":
        r.unlink(key)
    elif what == "expire-past":
        # (PEXPIRE 1 would race the hammer's uses: each slides the
        # expiry again; a time in the past deletes the key at once)
        r.pexpireat(key, int(time.time() * 1000) - 1000)
    elif what == "rename":
        r.rename(key, key + "x")
    elif what == "scope":       # now a session of the other app only
        r.hset(key, "scope", "app:other")
    elif what == "created":     # older than the lifetime
        r.hset(key, "created", int(time.time()) - 30 * 86400)
    elif what == "user-disabled":
        r.hset("postern:user:" + uid, "disabled", "1")
    elif what == "user-deleted":
        r.delete("postern:user:" + uid)
    elif what == "totp-set":    # 2FA on: this session must pass it now
        r.hset("postern:user:" + uid, "totp", "v1.sealed-seed")
    elif what == "org-removed":
        r.hdel("postern:user:%s:orgs" % uid, p.org())
        return 403
    else:
        raise ValueError(what)
    return 401


REDIS_WRITES = ["del", "unlink", "expire-past", "rename", "scope",
                "created", "user-disabled", "user-deleted", "totp-set",
                "org-removed"]


@pytest.mark.parametrize("what", REDIS_WRITES)
def test_change_written_in_redis_is_seen_by_b_at_once(pair, what):
    p = pair
    email = p.user()
    path = "/app/x"
    if what == "org-removed":
        member(p.a, p.org(), email, "viewer")
        path = "/orgs/%s/x" % p.org()
    cred, _ = session_cred(p, email, path)
    cookie = cookie_value(cred)

    def revoke():
        cred.refused = redis_write(p, what, cookie, email)
    revoke_and_check(p, cred, revoke)


def test_user_swapped_in_redis_is_never_served_as_the_old_one(pair):
    """The session hash now names another user, then that user's email
    changes: B must answer with what Redis says now (or refuse), never
    with the identity it cached."""
    p = pair
    victim, other = p.user(), p.user()
    cred, _ = session_cred(p, victim)
    cookie = cookie_value(cred)
    conns = warm(p.b, cred)
    uid = user_id(p, other)
    renamed = "renamed-" + other
    for key, field, value, now in (
            (session_key(cookie), "user", uid, other),
            ("postern:user:" + uid, "email", renamed, renamed)):
        p.redis.hset(key, field, value)
        for s in conns + [None]:
            r = get(p.b, cred.path, cred.headers, s=s)
            assert r.status_code in (200, 401)
            if r.status_code == 200:
                assert upstream_headers(r)["x-postern-email"] == now


# ---- the invalidation connection lost ------------------------------------

def local_ports(gw):
    """The local TCP ports of <gw>'s process's sockets (from /proc)."""
    fds = "/proc/%d/fd" % gw.proc.pid
    inodes = set()
    for fd in os.listdir(fds):
        try:
            link = os.readlink(os.path.join(fds, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = set()
    with open("/proc/%d/net/tcp" % gw.proc.pid) as f:
        for line in f.readlines()[1:]:
            cols = line.split()
            if cols[9] in inodes:
                ports.add(int(cols[1].split(":")[1], 16))
    return ports


def client_ids(p, name, gw=None):
    """The ids of the Redis connections named <name> (of <gw> only)."""
    ports = local_ports(gw) if gw else None
    return [c["id"] for c in p.redis.client_list() if c.get("name") == name
            and (ports is None or int(c["addr"].rsplit(":", 1)[1]) in ports)]


def kill_named(p, name, gw):
    """CLIENT KILL <gw>'s connections named <name>: how many."""
    ids = client_ids(p, name, gw)
    for i in ids:
        p.redis.client_kill_filter(_id=i)
    return len(ids)


def test_redis_connections_are_named_per_worker(private_pair):
    p = private_pair()
    wait_until(lambda: cache_active(p.a) and cache_active(p.b),
               what="tracking")
    # two gateways of two workers each: one of each per worker
    assert len(client_ids(p, "postern-track")) == 4
    for gw in (p.a, p.b):
        assert len(client_ids(p, "postern-track", gw)) == 2
        assert len(client_ids(p, "postern", gw)) >= 2


@pytest.mark.parametrize("name", ["postern-track", "postern"])
def test_killed_connection_flushes_the_cache(private_pair, name):
    """Kill B's invalidation connections (or its command connections,
    whose CLIENT TRACKING the invalidations depend on) while B holds a
    session, delete the session in Redis before B can have reconnected:
    the next request on B is refused (A, untouched, too).  Then tracking
    comes back and the cache serves hits again."""
    p = private_pair()
    for _ in range(3):
        email = p.user()
        cred, _ = session_cred(p, email)
        cookie = cookie_value(cred)
        wait_until(lambda: cache_active(p.b), what="tracking on B")
        conns = warm(p.b, cred)
        flushes = metric(p.b, FLUSHES)
        # B's two workers (and, for "postern", its certificate
        # subscriber, which also names itself so)
        assert kill_named(p, name, p.b) >= 2
        p.redis.delete(session_key(cookie))
        # without tracking, B asks Redis: 401; without its command
        # connection it cannot until it is back: 503, then 401
        ok = {401} if name == "postern-track" else {401, 503}
        statuses = [get(p.b, cred.path, cred.headers, s=s).status_code
                    for s in conns + [None]]
        assert set(statuses) <= ok, statuses
        assert get(p.a, cred.path, cred.headers).status_code == 401
        wait_until(lambda: set(get(p.b, cred.path, cred.headers, s=s)
                               .status_code for s in conns) == {401},
                   what="401 on every connection once B is back")
        wait_until(lambda: metric(p.b, FLUSHES) > flushes,
                   what="flush counted")
    # back: active again, and a session is served from the cache again
    live, _ = session_cred(p, p.user())
    assert get(p.b, live.path, live.headers).status_code == 200
    wait_until(lambda: cache_active(p.b), what="tracking back on B")
    hits_again(p.b, live)


# ---- Redis restarted, flushed ---------------------------------------------

def test_redis_restart_flushes_and_never_serves_a_lost_session(
        private_pair):
    """S1 is in the snapshot Redis restarts from, S2 was made after it:
    both cached on B.  Redis down: B answers 503, not its cache.  Back:
    S2 is gone, and B never serves it; S1 works; the cache comes back."""
    p = private_pair()
    e1, e2 = p.user(), p.user()
    c1, _ = session_cred(p, e1)
    p.redis.save()
    c2, _ = session_cred(p, e2)
    wait_until(lambda: cache_active(p.b), what="tracking on B")
    warm(p.b, c1)
    conns = warm(p.b, c2)
    flushes = metric(p.b, FLUSHES)
    stop(p.proc)
    for s in conns + [None]:
        assert get(p.b, c2.path, c2.headers, s=s).status_code == 503
    p.proc, _ = start_redis(p.base, port=p.redis_addr[1])
    # every worker reconnects on its own: S2 is 503 until then, never 200
    deadline = time.monotonic() + 15
    while True:
        got = [get(gw, c2.path, c2.headers, s=s).status_code
               for gw, s in [(p.b, conns[0]), (p.b, None), (p.b, None),
                             (p.a, None), (p.a, None)]]
        assert set(got) <= {401, 503}, got
        if set(got) == {401}:
            break
        assert time.monotonic() < deadline, "no reconnection: %s" % got
        time.sleep(0.05)
    wait_until(lambda: get(p.b, c1.path, c1.headers).status_code == 200,
               what="S1 on B")
    wait_until(lambda: cache_active(p.b), what="tracking back on B")
    assert metric(p.b, FLUSHES) > flushes
    hits_again(p.b, c1)


@pytest.mark.parametrize("command", ["flushdb", "flushall", "revoke-all"])
def test_flush_drops_every_cached_session_on_both(private_pair, command):
    """Sessions of three users cached on both; FLUSHDB, FLUSHALL, or
    `postern sessions revoke --all` (one script deleting them all): every
    one refused at once on both, on every connection."""
    p = private_pair()
    wait_until(lambda: cache_active(p.a) and cache_active(p.b),
               what="tracking")
    creds = [session_cred(p, p.user())[0] for _ in range(3)]
    conns = [(gw, c, warm(gw, c, conns=2, uses=2))
             for c in creds for gw in (p.a, p.b)]
    if command == "revoke-all":
        cli(p, "sessions", "revoke", "--all")
    else:
        getattr(p.redis, command)()
        # Redis queues the flush's invalidation while it runs the
        # command, and it was seen to leave after the command's own
        # answer (docs/redis.md): one message's propagation.  The
        # revoking commands (key changes) get no such allowance.
        time.sleep(0.005)
    for gw, c, ss in conns:
        for s in ss + [None]:
            assert get(gw, c.path, c.headers, s=s).status_code == 401


# ---- idle timeout, lifetime and assertion expiry, from the cache ----------

IDLE, LIFETIME, TTL = 1.5, 6.0, 2


def test_idle_timeout_lifetime_and_assertion_expiry(private_pair):
    """idle_timeout 1.5s, lifetime 6s, assertion.ttl 2s.  P is used every
    150 ms alternately on A and B, Q on B only, for 1.5x the idle
    timeout: the slide works from either, and A, which never saw Q
    meanwhile, still accepts it.  Then both are left: P is still valid
    0.7x the idle timeout later (the documented bound is 0.9x), Q is
    refused on both 0.3 s after 1x (all well within their lifetime).  L
    is used on B every 100 ms until its lifetime ends: never served past
    it.  Every assertion the upstream got was unexpired and, by its own
    iat and exp, in the first half of its lifetime (reuse_percent 50;
    the next test holds an entry long enough to reuse them)."""
    p = private_pair(sessions={"idle_timeout": "%dms" % (IDLE * 1000),
                               "lifetime": "%ds" % LIFETIME},
                     assertion={"ttl": "%ds" % TTL})
    ep, eq, el = p.user(), p.user(), p.user()
    cp, _ = session_cred(p, ep)
    cq, _ = session_cred(p, eq)
    before = time.time()
    cl, _ = session_cred(p, el)
    after = time.time()
    conn = {gw.name: client() for gw in (p.a, p.b)}
    seen = []                   # (sent, received, status, assertion)
    last = {}                   # credential -> when last sent

    def use(gw, c):
        sent = last[id(c)] = time.time()
        r = get(gw, c.path, c.headers, s=conn[gw.name])
        got = time.time()
        token = (upstream_headers(r).get("x-postern-assertion")
                 if r.status_code == 200 else None)
        seen.append((sent, got, r.status_code, token))
        return r.status_code

    ticks = 0
    while time.time() < before + 1.5 * IDLE:
        assert use((p.a, p.b)[ticks % 2], cp) == 200
        assert use(p.b, cq) == 200 and use(p.b, cl) == 200
        ticks += 1
        time.sleep(0.15)
    # Q was used on B only: B's slides reached Redis
    assert use(p.a, cq) == 200, "B served Q without sliding it in Redis"
    left_p, left_q = last[id(cp)], last[id(cq)]
    probed = refused = False
    while time.time() < after + LIFETIME + 0.6:
        now = time.time()
        if not probed and now > left_p + 0.7 * IDLE:
            assert use(p.b, cp) == 200, "idle timeout below 0.9x"
            probed = True
        if not refused and now > left_q + IDLE + 0.3:
            assert [use(gw, cq) for gw in (p.b, p.a)] == [401, 401], \
                "idle timeout past 1x"
            refused = True
        st = use(p.b, cl)
        if time.time() < before + LIFETIME - 1.0:
            assert st == 200, "refused %.2fs into the lifetime" % (
                time.time() - before)
        time.sleep(0.1)
    assert probed and refused
    assert use(p.b, cl) == 401 and use(p.a, cl) == 401, "past the lifetime"
    tokens = 0
    for sent, got, status, token in seen:
        if token is None:
            continue
        claims = jwt.decode(token, options={"verify_signature": False})
        life = claims["exp"] - claims["iat"]
        assert life == TTL
        assert claims["exp"] > got, "expired on arrival"
        # never past half its lifetime on arrival (reuse_percent 50)
        assert claims["exp"] - got >= life / 2 - 0.25, (
            "%.2fs of %ds left" % (claims["exp"] - got, life))
        tokens += 1
    assert tokens > 40


# ---- assertions ----------------------------------------------------------

def assertion_of(r):
    assert r.status_code == 200, r.text
    return upstream_headers(r)["x-postern-assertion"]


def test_reused_assertions_verify_and_are_keyed_by_session_org_role(pair):
    """One user, admin of X and viewer of Y, two sessions; requests
    interleaved on one connection to B.  Every assertion verifies
    (python3-jwt, the JWKS, typ, aud, iss) and names the org and role of
    its request; none is ever sent for another org or session; with the
    default reuse each (session, org) keeps one while it is young: at
    most two signatures each (one more if the first lookup's own slide
    of the idle timeout dropped the entry it made)."""
    p = pair
    x, y = p.org(), new_org(p.a)
    email = p.user()
    member(p.a, x, email, "admin")
    member(p.a, y, email, "viewer")
    sessions = [session_cred(p, email)[0].headers for _ in range(2)]
    reused = metric_or_none(p.b, REUSED)
    conn = client()
    by_jti, verified = {}, {}
    rounds = 36
    for n in range(rounds):
        n_session = n % 2
        org, role = [(x, "admin"), (y, "viewer"), (None, None)][n // 2 % 3]
        path = "/orgs/%s/x" % org if org else "/app/x"
        token = assertion_of(get(p.b, path, sessions[n_session], s=conn))
        if token not in verified:       # each distinct one, once
            verified[token] = assertion_claims(p.b, token)
        claims = verified[token]
        assert claims["email"] == email
        assert (claims.get("org"), claims.get("role")) == (org, role), path
        by_jti.setdefault(claims["jti"], set()).add((n_session, org))
    assert all(len(v) == 1 for v in by_jti.values()), by_jti
    # six contexts (2 sessions x 3 orgs)
    assert len(by_jti) <= 2 * 6, len(by_jti)
    assert reused is not None
    assert metric(p.b, REUSED) >= reused + rounds - 2 * 6


def test_reused_assertion_never_arrives_expired_or_past_half_life(pair):
    """assertion.ttl 2s with the default reuse (50%) and the default idle
    timeout (the session's entry lives long): for 4.5 s, each assertion
    B sends is unexpired on arrival with, by its own iat and exp, at least
    half its lifetime left, and most of them are reused."""
    gw = pair.spawn("ttl2", assertion={"ttl": "%ds" % TTL})
    cred, _ = session_cred(pair, pair.user())
    conn = client()
    jtis = set()
    n = 0
    end = time.time() + 4.5
    while time.time() < end:
        token = assertion_of(get(gw, cred.path, cred.headers, s=conn))
        got = time.time()
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == TTL
        assert claims["exp"] - got >= TTL / 2 - 0.25, (
            "%.2fs of %ds left on arrival" % (claims["exp"] - got, TTL))
        jtis.add(claims["jti"])
        n += 1
        time.sleep(0.03)
    assert n >= 30
    # about one a second (+1 per worker the connection did not use)
    assert len(jtis) <= 4.5 / (TTL / 2) + 3, (len(jtis), n)


def test_per_request_assertions_each_have_their_own_jti(pair):
    gw = pair.spawn("per-request", assertion={"per_request": "true"})
    cred, _ = session_cred(pair, pair.user())
    signed = metric(gw, SIGNED)
    reused = metric(gw, REUSED)
    conn = client()
    jtis = [assertion_claims(gw, assertion_of(
        get(gw, cred.path, cred.headers, s=conn)))["jti"]
        for _ in range(20)]
    assert len(set(jtis)) == 20
    assert metric(gw, SIGNED) >= signed + 20
    assert metric(gw, REUSED) == reused


def test_new_signing_key_is_used_at_once_after_reload(pair):
    """A reload with a new key_file (the old one in previous_key_files):
    the next request, on a connection that had a cached assertion and on
    a new one, carries the new kid, and it verifies."""
    gw = pair.spawn("rotate")
    cred, _ = session_cred(pair, pair.user())
    conn = client()
    old = [jwt.get_unverified_header(assertion_of(
        get(gw, cred.path, cred.headers, s=conn)))["kid"] for _ in range(3)]
    assert len(set(old)) == 1
    newkey = pair.base / ("rotated-%s.pem" % uuid.uuid4().hex[:6])
    keycfg = pair.base / "rotate-keys.yaml"
    keycfg.write_text(section("assertion", {"key_file": newkey}))
    assert run_postern("keys", "generate", "-c", str(keycfg)).returncode == 0
    text = gw.config.read_text()
    oldline = "  key_file: %s\n" % (pair.base / "assertion.pem")
    assert oldline in text
    gw.config.write_text(text.replace(oldline, "  key_file: %s\n"
                                      "  previous_key_files: [%s]\n" % (
                                          newkey, pair.base /
                                          "assertion.pem")))
    gw.reload()
    new = set()
    for s in (conn, None, conn):
        token = assertion_of(get(gw, cred.path, cred.headers, s=s))
        new.add(jwt.get_unverified_header(token)["kid"])
        assert assertion_claims(gw, token)["sub"]
    assert len(new) == 1 and old[0] not in new, (old, new)
    # the old key is still published (assertions in flight verify), and
    # signs nothing any more
    jwks = get(gw, "/.postern/jwks.json").json()
    assert {k["kid"] for k in jwks["keys"]} == new | {old[0]}


def test_assertion_is_keyed_by_app_with_a_shared_cookie_domain(pair):
    """sessions.cookie_domain: one session on a.example.test (app demo)
    and b.example.test (app other), requests alternating on one
    connection: each assertion's aud is the app it went to, and none is
    sent to both."""
    gw = pair.spawn("domain", hosts=("a.example.test",),
                    other="b.example.test",
                    sessions={"cookie_domain": "example.test"})
    email = pair.user()
    host_a = "a.example.test:%d" % gw.https_port
    s = client()
    s.headers["Host"] = host_a          # the sign-in's requests
    _, r = login(gw, email, s=s, origin="https://" + host_a)
    assert r.status_code == 303, r.text
    jar = {"Cookie": "__Secure-postern=" + r.cookies["__Secure-postern"]}
    apps = {}
    for n in range(12):
        app, host = [("demo", "a"), ("other", "b")][n % 2]
        r = get(gw, "/app/x", jar, s=s,
                host="%s.example.test:%d" % (host, gw.https_port))
        claims = jwt.decode(assertion_of(r),
                            options={"verify_signature": False})
        assert claims["aud"] == app and claims["email"] == email
        apps.setdefault(claims["jti"], set()).add(app)
    assert all(len(v) == 1 for v in apps.values()), apps


# ---- the cache turned off -----------------------------------------------

def test_cache_size_zero_turns_the_cache_off(pair):
    gw = pair.spawn("nocache", sessions={CACHE_SIZE: 0})
    email = pair.user()
    cred, _ = session_cred(pair, email)
    hits = metric(gw, HITS)
    conns = warm(gw, cred)
    assert metric(gw, HITS) == hits == 0
    assert metric(gw, ENTRIES) == 0
    cli(pair, "user", "revoke-sessions", email)
    for s in conns + [None]:
        assert get(gw, cred.path, cred.headers, s=s).status_code == 401


def test_small_cache_evicts_and_stays_right(pair):
    """cache_size 2 (per worker) and four sessions of two users taking
    turns: never more entries than that, every answer the right user,
    and a revoked one refused whether it was evicted or not."""
    gw = pair.spawn("small", sessions={CACHE_SIZE: 2})
    users = [pair.user() for _ in range(2)]
    creds = [(e, session_cred(pair, e)[0]) for e in users for _ in (0, 1)]
    conn = client()
    hits = metric(gw, HITS)
    for _ in range(2):
        for email, cred in creds:
            for _ in range(3):
                r = get(gw, cred.path, cred.headers, s=conn)
                assert r.status_code == 200
                assert upstream_headers(r)["x-postern-email"] == email
            assert 1 <= metric(gw, ENTRIES) <= 2 * 2      # 2 workers
    assert metric(gw, HITS) >= hits + 2 * 4        # 1 of 3, at least
    cli(pair, "user", "revoke-sessions", users[0])
    for email, cred in creds:
        st = get(gw, cred.path, cred.headers, s=conn).status_code
        assert st == (401 if email == users[0] else 200), email


def test_cache_counts_hits_misses_and_entries(pair):
    p = pair
    email = p.user()
    cred, _ = session_cred(p, email)
    before = {m: metric(p.b, m) for m in (HITS, MISSES, INVALIDATIONS)}
    conn = client()
    for _ in range(10):
        assert get(p.b, cred.path, cred.headers, s=conn).status_code == 200
    assert metric(p.b, MISSES) >= before[MISSES] + 1
    assert metric(p.b, HITS) >= before[HITS] + 7
    assert metric(p.b, ENTRIES) >= 1
    assert cache_active(p.b)
    cli(p, "user", "revoke-sessions", email)
    assert get(p.b, cred.path, cred.headers, s=conn).status_code == 401
    assert metric(p.b, INVALIDATIONS) > before[INVALIDATIONS]


# ---- an attacker against a warm cache -------------------------------------

def test_unknown_and_forged_cookies_are_refused_from_a_warm_cache(pair):
    p = pair
    cred, _ = session_cred(p, p.user())
    cookie = cookie_value(cred)
    conns = warm(p.b, cred)
    flip = cookie[:-1] + ("A" if cookie[-1] != "A" else "B")
    forged = [
        "A" * 43,                                   # no such session
        "".join(random.choice("abcdefXYZ0189-_") for _ in range(43)),
        session_key(cookie).rsplit(":", 1)[1],      # its Redis key's hash
        cookie.swapcase(), flip, cookie[:-1], cookie + "A",
        cookie + "%00", cookie + ".",
    ]
    for value in forged * 2:            # twice: nothing cached as valid
        for s in conns[:1] + [None]:
            r = get(p.b, cred.path, cookie_header(value), s=s)
            assert r.status_code in (400, 401), (value, r.status_code)
    for both in ((cookie, forged[0]), (forged[0], cookie)):
        r = get(p.b, cred.path, {"Cookie": "%s=%s; %s=%s" % (
            COOKIE, both[0], COOKIE, both[1])}, s=conns[0])
        assert r.status_code in (400, 401), r.status_code
    # the cached session's secret in another credential's place, and a
    # cached grant's in the session cookie
    key = new_key(p.a, p.org(), "ping")
    assert get(p.b, "/api/ping", bearer(key)).status_code == 200
    for headers in (bearer(cookie), bearer("pk_%s_%s" % (key[3:19], cookie)),
                    cookie_header(key), cookie_header(key[20:]),
                    {"Cookie": "%s=%s" % (SHARE_COOKIE, cookie)}):
        for path in (cred.path, "/api/ping"):
            r = get(p.b, path, headers, s=conns[0])
            assert r.status_code in (400, 401, 403), (headers, path)
    assert get(p.b, cred.path, cred.headers, s=conns[0]).status_code == 200


def test_session_of_one_app_is_refused_on_another_from_cache(pair):
    p = pair
    cred, _ = session_cred(p, p.user())
    conn = client()
    for _ in range(3):
        r = get(p.b, "/app/x", cred.headers, s=conn, host="other.test")
        assert r.status_code == 401
        assert get(p.b, "/app/x", cred.headers, s=conn).status_code == 200


def test_many_users_interleaved_never_mixed_up(pair):
    p = pair
    creds = []
    for _ in range(3):
        email = p.user()
        for _ in range(2):
            cred, _ = session_cred(p, email)
            creds.append((email, cred))
    conns = [client() for _ in range(3)] + [None]
    rng = random.Random(15)
    subs = {}
    for _ in range(80):
        email, cred = rng.choice(creds)
        r = get(p.b, cred.path, cred.headers, s=rng.choice(conns))
        assert r.status_code == 200
        h = upstream_headers(r)
        assert h["x-postern-email"] == email
        assert subs.setdefault(email, h["x-postern-user"]) == \
            h["x-postern-user"]
        claims = jwt.decode(h["x-postern-assertion"],
                            options={"verify_signature": False})
        assert (claims["email"], claims["sub"]) == (email,
                                                    h["x-postern-user"])
    assert len(set(subs.values())) == 3


def test_grant_checks_still_apply_to_a_cached_grant(pair):
    """A cached API key: the same id with another secret, another org's
    path, its rate, its expiry; a cached share link: another secret,
    another path."""
    p = pair
    org, other = p.org(), new_org(p.a)
    key = new_key(p.a, org, "ping", extra=["--rate", "8"])
    path = "/api/orgs/%s/x" % org
    for _ in range(3):
        assert get(p.b, path, bearer(key)).status_code == 200
    forged = key[:20] + ("y" if key[20] != "y" else "z") + key[21:]
    assert get(p.b, path, bearer(forged)).status_code == 401
    assert get(p.b, "/api/orgs/%s/x" % other, bearer(key)).status_code \
        == 403
    # its rate (8 a minute), spent on both: the cache admits no more
    codes = []
    while not codes or codes[-1] == 200:
        codes.append(get((p.a, p.b)[len(codes) % 2], path,
                         bearer(key)).status_code)
        assert len(codes) <= 8, codes
    assert codes[-1] == 429 and 3 + len(codes) - 1 <= 8, codes
    assert get((p.a, p.b)[len(codes) % 2], path,
               bearer(key)).status_code == 429
    # its expiry, with no write in between: 2 s from now
    key = new_key(p.a, org, "ping")
    p.redis.hset("postern:apikey:" + key_id(key), "expires",
                 int(time.time()) + 2)
    end = int(time.time()) + 2
    while time.time() < end + 0.5:
        st = get(p.b, path, bearer(key)).status_code
        assert st == (200 if time.time() < end - 0.1 else st)
        time.sleep(0.1)
    assert get(p.b, path, bearer(key)).status_code == 401
    # shares
    share_path = "/invoices/%d/pay" % random.randrange(10 ** 9)
    token, _ = new_share(p.a, share_path)
    jar = {"Cookie": "%s=%s" % (SHARE_COOKIE, token)}
    for _ in range(3):
        assert get(p.b, share_path, jar).status_code == 200
    bad = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert get(p.b, share_path, {"Cookie": "%s=%s" % (SHARE_COOKIE, bad)}
               ).status_code == 403
    assert get(p.b, share_path + "x", jar).status_code == 403
    assert get(p.b, "/invoices/1/pay", jar).status_code == 403


def test_open_websocket_on_b_closes_after_revocation_on_a(pair):
    """websocket_recheck 1s: a tunnel B opened for a session it holds
    in its cache is closed within the recheck once A revokes it."""
    p = pair
    email = p.user()
    cred, _ = session_cred(p, email)
    warm(p.b, cred)
    origin = "https://localhost:%d" % p.b.https_port
    with tls_socket(p.b) as s:
        s.sendall(("GET /ws HTTP/1.1\r\nHost: localhost:%d\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\nCookie: %s=%s\r\n"
                   "Origin: %s\r\n\r\n" % (p.b.https_port, COOKIE,
                                             cookie_value(cred),
                                             origin)).encode())
        assert read_head(s.makefile("rb"))[0] == 101
        cli(p, "user", "revoke-sessions", email)
        t = time.monotonic()
        s.settimeout(5)
        assert s.recv(4096) == b""
        assert time.monotonic() - t < 2.5
