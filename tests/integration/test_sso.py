"""Single sign-on against a real OpenID Provider (tests/oidc/op.mjs, npm
oidc-provider) through a real gateway, Redis and upstream: the code flow
with PKCE end to end, then what an attacker tries at each step (the state,
forged id_tokens through the real token endpoint, key rotation, cookies,
the return URL, a provider that is down, the rate limit).  Accounts, orgs
and logout: test_sso_accounts.py."""
import json
import re
import secrets
import time
import urllib.parse

import pytest
import redis as redislib
import requests
import urllib3

from conftest import run_postern, start_redis, stop
from oidcop import jws, new_key, sso_section
from test_auth import RELAXED, add_user, auth_extra, echo, headers_of, \
    login, make_key

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

RELAXED_SSO = "    sso: {limit: 100000, period: 1m}\n"
CLIENT = "postern-corp"


def provider(op, secret_file, **over):
    p = {"name": "corp", "type": "oidc", "issuer": op.issuer,
         "client_id": CLIENT, "client_secret_file": str(secret_file),
         "display_name": "Corp SSO", "provision": True}
    p.update(over)
    return p


@pytest.fixture
def sso_redis(tmp_path):
    """A private redis-server for one test: the provider's accounts
    (alice@corp.example...) are the same in every test."""
    d = tmp_path / "redis"
    d.mkdir()
    proc, addr = start_redis(d)
    yield addr
    stop(proc)


@pytest.fixture
def ssogw(gateway, sso_redis, tmp_path, oidc_op):
    """ssogw(orgs=..., more=[provider dicts], sso_limit=..., extra=...,
    gw={gateway kwargs}, **provider keys) -> a protected gateway whose SSO
    provider "corp" is oidc_op (registered with the gateway's callback);
    .op, .redis (a client), .secret, .extra (its config's extra text)."""
    def start(orgs=(), more=(), sso_limit=None, extra="", gw=None,
              **over):
        secret = secrets.token_urlsafe(32)
        sf = tmp_path / "corp.secret"
        sf.write_text(secret)
        sf.chmod(0o600)
        make_key(tmp_path)
        limit = RELAXED_SSO if sso_limit is None else \
            "    sso: {limit: %d, period: 1m}\n" % sso_limit
        text = auth_extra(tmp_path, limits=RELAXED + limit) + \
            sso_section([provider(oidc_op, sf, **over)] + list(more),
                        orgs) + extra
        kw = {"protect": True}
        kw.update(gw or {})
        g = gateway(extra=text, redis=sso_redis, **kw)
        oidc_op.register(g, "corp", secret=secret)
        g.op, g.secret, g.extra = oidc_op, secret, text
        g.redis = redislib.Redis(host=sso_redis[0], port=sso_redis[1],
                                 decode_responses=True)
        return g
    return start


class Browser(requests.Session):
    """A browser that takes the test certificate (verify=False on each
    request: a session-wide verify=False loses to REQUESTS_CA_BUNDLE)."""

    def request(self, method, url, **kw):
        kw.setdefault("verify", False)
        kw.setdefault("timeout", 30)
        return super().request(method, url, **kw)


def browser():
    return Browser()


def start_flow(gw, path="/private/x?a=1"):
    """A browser sent to sign in at <path>: (session, the start URL of the
    sign-in page's SSO button)."""
    s = browser()
    r = s.get(gw.url + path, allow_redirects=False,
              headers={"Accept": "text/html"})
    assert r.status_code == 302, r.text
    login_url = urllib.parse.urljoin(gw.url, r.headers["Location"])
    page = s.get(login_url)
    assert "Sign in with Corp SSO" in page.text
    rd = dict(urllib.parse.parse_qsl(
        urllib.parse.urlsplit(login_url).query))["rd"]
    start = gw.url + "/.postern/sso/corp/start?rd=" + urllib.parse.quote(
        rd, safe="")
    return s, start


def sign_in(gw, account="alice", path="/private/x?a=1", s=None):
    """The whole flow for <account>: (session, callback response)."""
    if s is None:
        s, start = start_flow(gw, path)
    else:
        start = gw.url + "/.postern/sso/corp/start?rd=" + \
            urllib.parse.quote(path, safe="")
    r = gw.op.login(start, account, s)
    cb = s.get(r.callback, allow_redirects=False)
    cb.login = r
    return s, cb


def at_provider(gw, account="alice", path="/private/x?a=1"):
    """Up to the provider's redirect back (not followed)."""
    s, start = start_flow(gw, path)
    return s, gw.op.login(start, account, s)


def query(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def with_query(url, **params):
    """<url> with its query's <params> replaced (None: removed)."""
    u = urllib.parse.urlsplit(url)
    q = [(k, v) for k, v in urllib.parse.parse_qsl(u.query)
         if k not in params]
    q += [(k, v) for k, v in params.items() if v is not None]
    return urllib.parse.urlunsplit(u._replace(
        query=urllib.parse.urlencode(q)))


def rejected(gw, reason, count=1):
    """<reason> logged as a reject <count> times (waited for); a tuple:
    any of them."""
    if isinstance(reason, tuple):
        deadline = time.monotonic() + 5
        while sum(gw.log().count('"reason":"%s"' % r) for r in reason) \
                < count:
            assert time.monotonic() < deadline, (reason, gw.log()[-3000:])
            time.sleep(0.02)
        return
    gw.wait_log('"reason":"%s"' % reason, count)


def session_cookie(r):
    m = re.search(r"__Host-postern=([A-Za-z0-9_-]+)",
                  r.headers.get("Set-Cookie", ""))
    return m.group(1) if m else None


def assert_signed_in(s, gw, email="alice@corp.example"):
    r = echo(s, gw, "/private/ok")
    assert r.status_code == 200, r.text
    assert headers_of(r)["x-postern-email"] == email
    return headers_of(r)


def assert_failure_page(r, status, words):
    assert r.status_code == status, r.text
    assert r.headers["Cache-Control"] == "no-store"
    assert words in r.text, r.text
    assert "Back to sign-in" in r.text
    assert session_cookie(r) is None
    # a page in plain words: never the parameters the provider sent
    for leak in ("code=", "state=", "error_description", "access_denied"):
        assert leak not in r.text, leak


# ---- the code flow -------------------------------------------------------

def test_code_flow_signs_in_and_lands_on_the_original_url(ssogw):
    gw = ssogw()
    s, cb = sign_in(gw)
    assert cb.status_code == 303, cb.text
    assert cb.headers["Location"].endswith("/private/x?a=1")
    up = s.get(urllib.parse.urljoin(gw.url, cb.headers["Location"]),
               allow_redirects=False)
    assert up.status_code == 200, up.text
    hdrs = {k.lower(): v for k, v in up.json()["headers"]}
    assert hdrs["x-postern-email"] == "alice@corp.example"
    assert hdrs["x-postern-auth"] == "session"
    assert '"action":"sso_provision"' in gw.log()
    assert '"action":"sso_login"' in gw.log()


def test_authorization_request_has_pkce_state_and_nonce(ssogw):
    gw = ssogw()
    s, cb = sign_in(gw)
    assert cb.status_code == 303, cb.text
    a = cb.login.authorization
    assert a["response_type"] == "code"
    assert a["client_id"] == CLIENT
    assert a["redirect_uri"] == "https://127.0.0.1:%d/.postern/sso/corp/" \
        "callback" % gw.https_port
    assert "openid" in a["scope"].split()
    assert a["code_challenge_method"] == "S256"
    b64 = r"[A-Za-z0-9_-]{43}"
    for k in ("code_challenge", "state", "nonce"):
        assert re.fullmatch(b64, a[k]), (k, a[k])
    assert len({a["code_challenge"], a["state"], a["nonce"]}) == 3
    # the id_token the provider issued carries the nonce sent
    assert gw.op.issued()[-1]["nonce"] == a["nonce"]
    # the state of the callback is the one sent
    assert query(cb.login.callback)["state"] == a["state"]
    # a second flow: fresh state, nonce and challenge
    _, cb2 = sign_in(gw, "bob")
    b = cb2.login.authorization
    for k in ("code_challenge", "state", "nonce"):
        assert a[k] != b[k]
    # the state is kept hashed: neither it nor the nonce is in Redis
    dump = " ".join(gw.redis.keys("*"))
    for k in gw.redis.keys("*"):
        if gw.redis.type(k) == "string":
            dump += gw.redis.get(k)
    assert a["state"] not in dump and b["state"] not in dump
    assert b["nonce"] not in dump


# ---- the state -----------------------------------------------------------

def test_callback_replay_fails_with_a_clear_page(ssogw):
    gw = ssogw()
    s, cb = sign_in(gw)
    assert cb.status_code == 303
    again = s.get(cb.login.callback, allow_redirects=False)
    assert_failure_page(again, 400, "already used")
    rejected(gw, "sso_state_unknown")
    # nothing was taken: the binding cookie is left alone
    assert "__Host-postern-sso" not in again.headers.get("Set-Cookie", "")
    # another browser replaying it fares no better
    other = browser().get(cb.login.callback, allow_redirects=False)
    assert_failure_page(other, 400, "Start again")
    assert '"outcome":"failure"' in gw.log()


def test_concurrent_callbacks_sign_in_once(ssogw):
    """The same callback fired in parallel (two workers, several
    connections): the state is taken once, one session is made."""
    import concurrent.futures
    gw = ssogw()
    s, r = at_provider(gw)
    cookie = s.cookies.get("__Host-postern-sso")

    def fire(_):
        b = browser()
        b.cookies.set("__Host-postern-sso", cookie)
        return b.get(r.callback, allow_redirects=False).status_code
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(fire, range(8)))
    assert sorted(codes) == [303] + [400] * 7, codes
    assert len(gw.redis.keys("postern:session:*")) == 1
    assert gw.op.hits("/token") == 1


@pytest.mark.parametrize("state,reason", [
    (None, "sso_callback_bad"),
    ("", "sso_callback_bad"),
    ("short", "sso_callback_bad"),
    ("A" * 44, "sso_callback_bad"),
    ("A" * 43, "sso_state_unknown"),        # well-formed, never issued
])
def test_wrong_missing_unknown_state(ssogw, state, reason):
    gw = ssogw()
    s, r = at_provider(gw)
    bad = s.get(with_query(r.callback, state=state), allow_redirects=False)
    assert_failure_page(bad, 400, "Start")
    rejected(gw, reason)
    # the attacker's junk did not burn the real state
    good = s.get(r.callback, allow_redirects=False)
    assert good.status_code == 303, good.text
    assert_signed_in(s, gw)


def test_state_from_another_browser_fails(ssogw):
    gw = ssogw()
    victim, r = at_provider(gw)
    # an attacker's browser with no binding cookie
    thief = browser().get(r.callback, allow_redirects=False)
    assert_failure_page(thief, 400, "started elsewhere")
    rejected(gw, "sso_state_browser")
    # the state is spent: the code cannot be tried again
    assert victim.get(r.callback, allow_redirects=False).status_code == 400

    # an attacker who started a flow of their own (their own binding
    # cookie) cannot use the victim's callback (login CSRF)
    victim2, r2 = at_provider(gw, "bob")
    attacker, start = start_flow(gw)
    attacker.get(start, allow_redirects=False)
    assert attacker.cookies.get("__Host-postern-sso")
    x = attacker.get(r2.callback, allow_redirects=False)
    assert_failure_page(x, 400, "started elsewhere")
    rejected(gw, "sso_state_browser", 2)
    # a forged cookie value
    victim3, r3 = at_provider(gw, "bob")
    forged = browser()
    forged.cookies.set("__Host-postern-sso", secrets.token_urlsafe(32))
    x = forged.get(r3.callback, allow_redirects=False)
    assert_failure_page(x, 400, "started elsewhere")


def test_callback_of_one_provider_with_anothers_state(ssogw, oidc_op,
                                                      tmp_path):
    sf = tmp_path / "other.secret"
    sf.write_text("other-secret-0123456789abcdef")
    sf.chmod(0o600)
    gw = ssogw(more=[{"name": "other", "type": "oidc",
                      "issuer": oidc_op.issuer, "client_id": "postern-other",
                      "client_secret_file": str(sf),
                      "display_name": "Other", "provision": True}])
    oidc_op.register(gw, "other", secret="other-secret-0123456789abcdef")
    s, r = at_provider(gw)
    cross = r.callback.replace("/sso/corp/callback", "/sso/other/callback")
    assert cross != r.callback
    x = s.get(cross, allow_redirects=False)
    assert_failure_page(x, 400, "Start again")
    rejected(gw, "sso_state_other")
    # and the other way round: other's flow at corp's callback
    s2 = browser()
    r2 = oidc_op.login(gw.url + "/.postern/sso/other/start?rd=/", "bob", s2)
    assert "/sso/other/callback" in r2.callback
    x = s2.get(r2.callback.replace("/sso/other/", "/sso/corp/"),
               allow_redirects=False)
    assert_failure_page(x, 400, "Start again")
    rejected(gw, "sso_state_other", 2)
    # an unknown provider's callback is not found
    x = s.get(r.callback.replace("/sso/corp/", "/sso/nosuch/"),
              allow_redirects=False)
    assert x.status_code == 404


def test_consent_denied_at_the_provider(ssogw):
    gw = ssogw()
    s, start = start_flow(gw)
    r = gw.op.login(start, "alice", s, consent=False)
    assert query(r.callback)["error"] == "access_denied"
    cb = s.get(r.callback, allow_redirects=False)
    assert_failure_page(cb, 401, "cancelled or refused")
    rejected(gw, "sso_provider_error")
    # the flow is over: its binding cookie is cleared
    assert "__Host-postern-sso=; Path=/; Max-Age=0" in \
        cb.headers["Set-Cookie"]
    assert "__Host-postern-sso" not in s.cookies.keys()
    assert re.search(r'"event":"audit","action":"sso_login".*'
                     r'"outcome":"failure"', gw.log())
    # an error with a code next to it is still an error
    s2, r2 = at_provider(gw, "bob")
    x = s2.get(with_query(r2.callback, error="access_denied"),
               allow_redirects=False)
    assert x.status_code == 401
    assert echo(s2, gw, "/private/ok").status_code in (302, 401)


def test_code_injection_is_stopped_by_pkce(ssogw):
    """An attacker's own authorization code, pasted into the victim's
    callback with the victim's state and cookie: the gateway redeems it
    with the victim's PKCE verifier, which the provider refuses."""
    gw = ssogw()
    attacker, ra = at_provider(gw, "eve")
    victim, rv = at_provider(gw, "alice")
    n = gw.op.hits("/token")
    x = victim.get(with_query(rv.callback, code=query(ra.callback)["code"]),
                   allow_redirects=False)
    assert_failure_page(x, 502, "could not be completed")
    rejected(gw, "sso_token_failed")
    assert gw.op.hits("/token") == n + 1       # tried, refused there
    assert "invalid_grant" not in x.text       # the provider's words stay
    assert signed_out_of(victim, gw)
    # a made-up code: the same
    victim, rv = at_provider(gw, "bob")
    x = victim.get(with_query(rv.callback, code="x" * 43),
                   allow_redirects=False)
    assert_failure_page(x, 502, "could not be completed")
    # an oversized or empty code never reaches the provider
    for code in ("y" * 2049, ""):
        victim, rv = at_provider(gw, "bob")
        n = gw.op.hits("/token")
        x = victim.get(with_query(rv.callback, code=code),
                       allow_redirects=False)
        assert_failure_page(x, 400, "not valid")
        assert gw.op.hits("/token") == n
    assert gw.redis.keys("postern:session:*") == []


def signed_out_of(s, gw):
    return echo(s, gw, "/private/ok").status_code in (302, 401)


@pytest.mark.parametrize("host", ["evil.test", "127.0.0.1.evil.test",
                                  "localhost:6666"])
def test_redirect_uri_comes_from_the_app_hosts(ssogw, host):
    """The callback URL is built from the request's host: only a host of
    an app, with the gateway's own TLS port, ever goes to the provider."""
    gw = ssogw()
    r = browser().get(gw.url + "/.postern/sso/corp/start?rd=/",
                      allow_redirects=False, headers={"Host": host})
    if host.startswith("localhost"):
        assert r.status_code == 302, r.text
        assert query(r.headers["Location"])["redirect_uri"] == \
            "https://localhost:%d/.postern/sso/corp/callback" % \
            gw.https_port
    else:
        assert r.status_code in (400, 421), r.text
        assert "Location" not in r.headers


def test_login_hint_is_passed_encoded(ssogw):
    gw = ssogw()
    s = browser()
    hint = "a+b&prompt=none@corp.example"
    r = s.get(gw.url + "/.postern/sso/corp/start?rd=/&login_hint=" +
              urllib.parse.quote(hint, safe=""), allow_redirects=False)
    assert r.status_code == 302
    q = query(r.headers["Location"])
    assert q["login_hint"] == hint
    assert "prompt" not in q
    # a hint with a line break is dropped, not sent
    r = s.get(gw.url + "/.postern/sso/corp/start?rd=/&login_hint=a%0d%0a"
              "b@corp.example", allow_redirects=False)
    assert r.status_code == 302
    assert "login_hint" not in query(r.headers["Location"])


def test_expired_flow_fails_clearly(ssogw):
    """A callback after the flow's record is gone (flow_ttl passed: here
    its expiry is brought forward in Redis) is refused like a replay."""
    gw = ssogw()
    s, r = at_provider(gw)
    keys = gw.redis.keys("postern:ssostate:*")
    assert len(keys) == 1
    ttl = gw.redis.pttl(keys[0])
    assert 0 < ttl <= 600000                  # flow_ttl's default, 10m
    gw.redis.pexpire(keys[0], 1)
    time.sleep(0.05)
    cb = s.get(r.callback, allow_redirects=False)
    assert_failure_page(cb, 400, "took too long")
    rejected(gw, "sso_state_unknown")


def test_provider_down_at_the_callback(ssogw):
    gw = ssogw()
    s, r = at_provider(gw)
    gw.op.down()
    cb = s.get(r.callback, allow_redirects=False)
    assert_failure_page(cb, 502, "could not be completed")
    rejected(gw, "sso_token_failed")
    gw.op.up()
    # the flow was used up: a retry of the same callback is refused
    assert s.get(r.callback, allow_redirects=False).status_code == 400
    s, cb = sign_in(gw)
    assert cb.status_code == 303


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_start_and_callback_are_get_only(ssogw, method):
    gw = ssogw()
    for act in ("start", "callback"):
        r = browser().request(method, gw.url + "/.postern/sso/corp/" + act,
                              allow_redirects=False)
        assert r.status_code == 405, (act, r.status_code)
        assert r.headers["Allow"] == "GET"
    # a HEAD (link checker, prefetch) does not use up a real callback
    s, r = at_provider(gw)
    h = s.head(r.callback, allow_redirects=False)
    assert h.status_code == 405
    assert s.get(r.callback, allow_redirects=False).status_code == 303
    for path in ("/.postern/sso/corp/", "/.postern/sso/corp/startx",
                 "/.postern/sso/CORP/start", "/.postern/sso/corp/start/x"):
        r = browser().get(gw.url + path, allow_redirects=False)
        assert r.status_code == 404, (path, r.status_code)


# ---- forged id_tokens through the real token endpoint --------------------

def forge(op, nonce, kind):
    """An id_token for alice with <nonce>, spoiled as <kind> says."""
    now = int(time.time())
    good = op.id_token_claims(CLIENT, nonce)
    cases = {
        "ok": lambda: op.sign(good),
        "ok_aud_array_azp": lambda: op.sign(dict(
            good, aud=[CLIENT, "other"], azp=CLIENT)),
        "nonce": lambda: op.sign(dict(good, nonce=(
            "A" if nonce[0] != "A" else "B") + nonce[1:])),
        "nonce_prefix": lambda: op.sign(dict(good, nonce=nonce[:-1])),
        "no_nonce": lambda: op.sign({k: v for k, v in good.items()
                                     if k != "nonce"}),
        "expired": lambda: op.sign(dict(good, exp=now - 600,
                                        iat=now - 900)),
        "iat_old": lambda: op.sign(dict(good, iat=now - 3600)),
        "iat_future": lambda: op.sign(dict(good, iat=now + 3600)),
        "nbf_future": lambda: op.sign(dict(good, nbf=now + 3600)),
        "aud": lambda: op.sign(dict(good, aud="someone-else")),
        "aud_array_no_azp": lambda: op.sign(dict(good,
                                                 aud=[CLIENT, "other"])),
        "azp_other": lambda: op.sign(dict(good, aud=[CLIENT, "other"],
                                          azp="other")),
        "iss": lambda: op.sign(dict(good, iss=op.issuer + "/")),
        "iss_other": lambda: op.sign(dict(good, iss="https://evil.test")),
        "alg_none": lambda: jws(good, header={"kid": "rsa1"}),
        "alg_none_sig": lambda: jws(good, header={"kid": "rsa1"}) +
        "c2lnbmF0dXJl",
        "hs256_rsa_pub": lambda: jws(good, secret=op.key("rsa1")
                                     .public_pem(),
                                     header={"kid": "rsa1"}),
        "unknown_key": lambda: op.sign(good, key=new_key("rsa", "rsa1")),
        "unknown_kid": lambda: op.sign(good, key=new_key("rsa", "zz9")),
        "embedded_jwk": lambda: op.sign(good, key=new_key("rsa", "rsa1"),
                                        header={"jwk": {"kty": "RSA"}}),
        "rs_as_ps": lambda: op.sign(good, alg="PS256"),
    }
    return cases[kind]()


def deliver(gw, kind, account="alice"):
    """A flow whose token endpoint answers with forge(<kind>)."""
    s, start = start_flow(gw)
    # the nonce is only known once the provider has the request: sign in
    # there, then queue the forged token before the callback redeems it
    r = gw.op.login(start, account, s)
    gw.op.next_id_token(forge(gw.op, r.authorization["nonce"], kind))
    return s, s.get(r.callback, allow_redirects=False)


# ---- cookies, tokens, the return URL --------------------------------------

def test_binding_cookie_attributes_and_clearing(ssogw):
    gw = ssogw()
    s, start = start_flow(gw)
    r = s.get(start, allow_redirects=False)
    assert r.status_code == 302
    sc = r.headers["Set-Cookie"]
    assert sc.startswith("__Host-postern-sso=")
    attrs = [a.strip() for a in sc.split(";")]
    for a in ("Path=/", "Secure", "HttpOnly", "SameSite=Lax"):
        assert a in attrs, sc
    assert not any(a.lower().startswith("domain") for a in attrs)
    assert re.fullmatch(r"__Host-postern-sso=[A-Za-z0-9_-]{43}", attrs[0])
    assert r.headers["Cache-Control"] == "no-store"
    # the binding is not the state
    assert attrs[0].split("=", 1)[1] != query(r.headers["Location"])["state"]
    lr = gw.op.login(r, "alice", s)
    cb = s.get(lr.callback, allow_redirects=False)
    assert cb.status_code == 303
    cleared = [c for c in cb.raw.headers.getlist("Set-Cookie")
               if c.startswith("__Host-postern-sso=")]
    assert cleared and "Max-Age=0" in cleared[0], cb.raw.headers
    assert "__Host-postern-sso" not in s.cookies.keys()


def test_binding_cookie_never_goes_upstream(ssogw):
    gw = ssogw()
    s, cb = sign_in(gw)
    assert cb.status_code == 303
    s.cookies.set("__Host-postern-sso", "A" * 43)
    h = assert_signed_in(s, gw)
    assert "__Host-postern" not in h.get("cookie", "")


def test_session_cookie_is_new_no_fixation(ssogw):
    gw = ssogw()
    add_user(gw, "pat@elsewhere.example")
    s, r = login(gw, "pat@elsewhere.example", s=browser())
    old = s.cookies.get("__Host-postern")
    assert old
    # the same browser signs in through the provider as alice
    s, cb = sign_in(gw, s=s)
    assert cb.status_code == 303, cb.text
    new = session_cookie(cb)
    assert new and new != old
    assert_signed_in(s, gw)
    # the old session is gone, not merely replaced in this browser
    r = echo(browser(), gw, "/private/ok",
             headers={"Cookie": "__Host-postern=" + old})
    assert r.status_code in (302, 401)
    # a planted cookie (never issued) is replaced too
    planted = browser()
    planted.cookies.set("__Host-postern", "P" * 43)
    planted, cb = sign_in(gw, "bob", s=planted)
    assert session_cookie(cb) not in (None, "P" * 43)


def test_no_token_in_log_or_upstream(ssogw):
    gw = ssogw()
    s, start = start_flow(gw)
    r = gw.op.login(start, "alice", s)
    token = forge(gw.op, r.authorization["nonce"], "ok")
    gw.op.next_id_token(token)
    code = query(r.callback)["code"]
    cb = s.get(r.callback, allow_redirects=False)
    assert cb.status_code == 303
    h = assert_signed_in(s, gw)
    log = gw.log()
    sig = token.rsplit(".", 1)[1]
    for secret in (token, sig, token.split(".")[1], code,
                   r.authorization["state"], r.authorization["nonce"],
                   gw.secret):
        assert secret not in log
        for v in h.values():
            assert secret not in v
    # no JWT of the provider's in the log at all (the only eyJ upstream is
    # Postern's own assertion)
    assert "eyJ" not in log
    assert [k for k, v in h.items() if "eyJ" in v] == \
        ["x-postern-assertion"]
    # a refused token is not logged either
    s, cb = deliver(gw, "aud")
    assert cb.status_code == 401
    assert "eyJ" not in gw.log()


@pytest.mark.parametrize("rd", ["/private/x?a=1&b=%2F", "/"])
def test_return_url_survives_the_flow(ssogw, rd):
    gw = ssogw()
    s, cb = sign_in(gw, path=rd)
    assert cb.status_code == 303
    assert cb.headers["Location"] == rd


@pytest.mark.parametrize("rd", ["https://evil.test/", "//evil.test/",
                                "/\\evil.test", "https:evil.test",
                                "javascript:alert(1)",
                                "https://127.0.0.1@evil.test/"])
def test_open_redirect_rd_is_neutralised(ssogw, rd):
    gw = ssogw()
    s = browser()
    start = gw.url + "/.postern/sso/corp/start?rd=" + urllib.parse.quote(
        rd, safe="")
    r = gw.op.login(start, "alice", s)
    cb = s.get(r.callback, allow_redirects=False)
    assert cb.status_code == 303, cb.text
    assert cb.headers["Location"] == "/"
    # the failure page's link keeps no foreign URL either
    again = s.get(r.callback, allow_redirects=False)
    assert "evil" not in again.text


# ---- the provider down, the discovery cache, the rate limit ---------------

def test_provider_down_then_back(ssogw):
    gw = ssogw(gw={"workers": 1})
    add_user(gw, "pat@elsewhere.example")
    gw.op.down()
    s, start = start_flow(gw)
    r = s.get(start, allow_redirects=False)
    assert r.status_code == 502, r.text
    assert "Corp SSO is not answering" in r.text
    assert "Back to sign-in" in r.text
    rejected(gw, "sso_provider_down")
    assert "__Host-postern-sso" not in r.headers.get("Set-Cookie", "")
    # password sign-in for others is unaffected
    p, lr = login(gw, "pat@elsewhere.example", s=browser())
    assert lr.status_code == 303
    assert echo(p, gw, "/private/ok").status_code == 200
    gw.op.up()
    s, cb = sign_in(gw)
    assert cb.status_code == 303, cb.text
    assert_signed_in(s, gw)


def test_provider_hanging_gives_a_page_in_time(ssogw):
    gw = ssogw(timeout="1s")
    gw.op.down(hang=True)
    s, start = start_flow(gw)
    t = time.monotonic()
    r = s.get(start, allow_redirects=False, timeout=20)
    assert r.status_code == 502, r.text
    assert time.monotonic() - t < 5
    gw.op.up()


def test_discovery_and_keys_are_cached(ssogw):
    gw = ssogw(gw={"workers": 1})
    for who in ("alice", "bob", "alice"):
        _, cb = sign_in(gw, who)
        assert cb.status_code == 303, cb.text
    assert gw.op.hits("/.well-known/openid-configuration") == 1
    assert gw.op.hits("/jwks") == 1
    assert gw.op.hits("/token") == 3


def test_rate_limit_class_sso(ssogw):
    gw = ssogw(sso_limit=3)
    s, start = start_flow(gw)
    codes = [s.get(start, allow_redirects=False).status_code
             for _ in range(5)]
    assert codes[:3] == [302, 302, 302], codes
    assert codes[3:] == [429, 429], codes
    # the callback counts too: junk callbacks are refused at the limit
    r = s.get(gw.url + "/.postern/sso/corp/callback?code=x&state=" +
              "A" * 43, allow_redirects=False)
    assert r.status_code == 429


def test_user_show_lists_the_linked_identity(ssogw):
    gw = ssogw()
    s, start = start_flow(gw)
    r = gw.op.login(start, "alice", s)
    assert s.get(r.callback, allow_redirects=False,
                 verify=False).status_code == 303
    r = run_postern("user", "show", "-c", str(gw.config),
                    "Alice@Corp.example", "--json")
    assert r.returncode == 0, r.stderr
    u = json.loads(r.stdout)
    assert u["email"] == "alice@corp.example"
    assert u["identities"] == [{"provider": "corp", "sub": "alice"}]
    assert u["password"] is False and u["sessions"] >= 1
    text = run_postern("user", "show", "-c", str(gw.config),
                       "alice@corp.example").stdout
    assert "linked identities:" in text and "corp" in text
    r = run_postern("user", "show", "-c", str(gw.config), "no@x.example")
    assert r.returncode != 0 and "no user" in r.stderr


def test_backchannel_logout_ends_the_session(ssogw):
    gw = ssogw()
    s, start = start_flow(gw)
    r = gw.op.login(start, "alice", s)
    cb = s.get(r.callback, allow_redirects=False, verify=False)
    assert cb.status_code == 303
    page = urllib.parse.urljoin(gw.url, cb.headers["Location"])
    assert s.get(page, allow_redirects=False, verify=False).status_code == 200
    out = gw.op.backchannel_logout("alice")
    assert out["status"] in (200, 204), out
    assert s.get(page, allow_redirects=False, verify=False,
                 headers={"Accept": "text/html"}).status_code == 302
