"""Sign-in, sessions in a real Redis, and the signed identity upstream.

Every test runs a real postern in front of the demo upstream, with a real
redis-server; users are created with the real `postern user add`.  The
upstream's echo shows what the gateway forwarded, and the assertion is
verified with an independent JWT library (python3-jwt) against the JWKS.
"""
import json
import os
import re
import time
import uuid

import jwt
import pytest
import redis as redislib
import requests
import urllib3

from conftest import free_port, run_postern, start_redis, stop
from gwproc import Gateway, section, tls_socket, write_config

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

PASSWORD = "correct horse battery staple 9"


# The suite signs in hundreds of times from 127.0.0.1 within minutes: its
# gateways get generous limits (test_ratelimit.py tests the real ones).
RELAXED = """\
rate_limits:
  classes:
    login: {limit: 100000, period: 1m, account_limit: 100000}
    totp: {limit: 100000, period: 1m, account_limit: 100000}
    magic: {limit: 100000, period: 1m, account_limit: 100000}
    reset: {limit: 100000, period: 1m, account_limit: 100000}
"""


def auth_extra(tmp_path, sessions="", limits=RELAXED):
    secret = tmp_path / "secret"
    if not secret.exists():
        secret.write_bytes(os.urandom(32))
        secret.chmod(0o600)
    key = tmp_path / "assertion.pem"
    return ("secret_file: %s\nassertion:\n  key_file: %s\n"
            "  issuer: https://gw.test\n%s%s" % (secret, key, sessions,
                                                  limits))


def make_key(tmp_path):
    """<tmp_path>/assertion.pem, the signing key that auth_extra() names,
    made once by the real `postern keys generate`."""
    key = tmp_path / "assertion.pem"
    if not key.exists():
        cfg = tmp_path / "keys.yaml"
        cfg.write_text(section("assertion", {"key_file": key}))
        r = run_postern("keys", "generate", "-c", str(cfg))
        assert r.returncode == 0, r.stderr


@pytest.fixture
def authgw(gateway, redis_server, tmp_path, postern_bin):
    """authgw(sessions=...) -> a protected gateway, with a fresh user."""
    def start(sessions="", redis=None):
        extra = auth_extra(tmp_path, sessions)
        # a config naming the key file, for `postern keys generate`
        make_key(tmp_path)
        gw = gateway(extra=extra, redis=redis or redis_server, protect=True)
        gw.email = "u-%s@example.com" % uuid.uuid4().hex[:10]
        add_user(gw, gw.email)
        return gw
    return start


def add_user(gw, email, password=PASSWORD):
    r = run_postern("user", "add", "-c", str(gw.config), email,
                    stdin="%s\n%s\n" % (password, password))
    assert r.returncode == 0, r.stderr


def login_page(s, gw, path="/.postern/login"):
    r = s.get(gw.url + path, verify=False, timeout=10,
              headers={"Accept": "text/html"})
    assert r.status_code == 200, r.text
    return re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)


def login(gw, email=None, password=PASSWORD, rd="/", s=None, origin=None,
          csrf=None):
    s = s or requests.Session()
    token = login_page(s, gw) if csrf is None else csrf
    r = s.post(gw.url + "/.postern/login", verify=False, timeout=30,
               allow_redirects=False,
               headers={"Origin": origin or gw.url},
               data={"email": email or gw.email, "password": password,
                     "csrf": token, "rd": rd})
    return s, r


def echo(s, gw, path="/hello", headers=None):
    h = {"Accept": "application/json"}
    h.update(headers or {})
    return s.get(gw.url + path, verify=False, timeout=10, headers=h)


def headers_of(r):
    return {k.lower(): v for k, v in r.json()["headers"]}


ASSERTION_TYP = "postern-assertion+jwt"


def assertion_claims(gw, token, audience="demo"):
    """The claims of X-Postern-Assertion <token>, verified as an upstream
    should: the key by kid from the JWKS, ES256 only, the explicit typ
    (RFC 8725 3.11), audience and issuer."""
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256" and header["typ"] == ASSERTION_TYP
    jwks = requests.get(gw.url + "/.postern/jwks.json", verify=False).json()
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    pub = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(key))
    return jwt.decode(token, pub, algorithms=["ES256"], audience=audience,
                      issuer="https://gw.test")


def test_login_success_sets_a_strict_cookie_and_identity(authgw):
    gw = authgw()
    s, r = login(gw)
    assert r.status_code == 303, r.text
    assert r.headers["Location"] == "/"
    sc = r.headers["Set-Cookie"]
    assert sc.startswith("__Host-postern=")
    for attr in ("Path=/", "Secure", "HttpOnly", "SameSite=Lax"):
        assert attr in sc, sc
    assert "Domain" not in sc
    value = sc.split(";")[0].split("=", 1)[1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value)
    r = echo(s, gw)
    assert r.status_code == 200
    h = headers_of(r)
    assert h["x-postern-email"] == gw.email
    assert h["x-postern-auth"] == "session"
    assert re.fullmatch(r"[0-9a-f]{32}", h["x-postern-user"])


def test_wrong_password_and_unknown_user_look_the_same(authgw):
    gw = authgw()
    _, bad = login(gw, password="wrong password 123")
    _, unknown = login(gw, email="nobody-%s@example.com" % uuid.uuid4().hex)
    assert bad.status_code == unknown.status_code == 401
    assert "Set-Cookie" not in bad.headers or \
        "__Host-postern=" not in bad.headers["Set-Cookie"]
    msg = "The email or password is incorrect."
    assert msg in bad.text and msg in unknown.text
    # Similar time: the unknown user is checked against a dummy hash.
    # The two kinds take turns, so that a busy moment of a shared machine
    # (the suite runs several shards at once) slows both alike, and the
    # fastest of each is compared.
    def timed(**kw):
        t = time.monotonic()
        login(gw, **kw)
        return time.monotonic() - t
    known, nobody = [], []
    for _ in range(5):
        known.append(timed(password="wrong password 123"))
        nobody.append(timed(email="x-%s@example.com" % uuid.uuid4().hex))
    known, nobody = min(known), min(nobody)
    assert nobody > known * 0.5 and known > nobody * 0.5, (known, nobody)


def test_unauthenticated_browser_is_redirected_api_gets_401(authgw):
    gw = authgw()
    r = requests.get(gw.url + "/app/page?x=1", verify=False,
                     allow_redirects=False, headers={"Accept": "text/html"})
    assert r.status_code == 302
    assert r.headers["Location"] == "/.postern/login?rd=/app/page%3Fx%3D1"
    r = requests.get(gw.url + "/api/x", verify=False,
                     headers={"Accept": "application/json"})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert r.json()["error"] == "unauthenticated"
    r = requests.post(gw.url + "/api/x", verify=False, data="x",
                      headers={"Accept": "text/html"}, allow_redirects=False)
    assert r.status_code == 401      # never a redirect for a POST


def test_login_returns_to_rd(authgw):
    gw = authgw()
    s, r = login(gw, rd="/app/page?x=1")
    assert r.status_code == 303
    assert r.headers["Location"] == "/app/page?x=1"
    assert echo(s, gw, "/app/page?x=1").json()["query"] == "x=1"


@pytest.mark.parametrize("rd", [
    "https://evil.example/", "//evil.example", "///evil.example",
    "/\\evil.example", "https:evil.example", "javascript:alert(1)",
    "/\n/evil", "/\t/evil.example", "\t//evil.example", "https://localhost@evil.example/",
    "http://localhost/", "data:text/html,x",
])
def test_open_redirects_fall_back_to_root(authgw, rd):
    gw = authgw()
    _, r = login(gw, rd=rd)
    if "\n" in rd:         # a control character: the form is refused
        assert r.status_code == 400 and "Location" not in r.headers
        return
    assert r.status_code == 303
    assert r.headers["Location"] == "/", rd


def test_login_page_rd_is_checked_and_escaped(authgw):
    gw = authgw()
    r = requests.get(gw.url + '/.postern/login?rd=/x%22%3E%3Cscript%3E',
                     verify=False, headers={"Accept": "text/html"})
    assert "<script>" not in r.text
    assert 'value="/x&quot;&gt;&lt;script&gt;"' in r.text


def test_fixation_new_id_at_every_login(authgw):
    gw = authgw()
    s = requests.Session()
    planted = "A" * 43
    s.cookies.set("__Host-postern", planted, domain="127.0.0.1")
    s, r = login(gw, s=s)
    first = r.cookies.get("__Host-postern")
    assert first and first != planted
    s, r = login(gw, s=s)
    second = r.cookies.get("__Host-postern")
    assert second and second != first


@pytest.mark.parametrize("case", ["no_token", "bad_token", "bad_origin",
                                  "no_origin"])
def test_csrf_is_refused(authgw, case):
    gw = authgw()
    s = requests.Session()
    token = login_page(s, gw)
    data = {"email": gw.email, "password": PASSWORD, "csrf": token}
    headers = {"Origin": gw.url}
    if case == "no_token":
        del data["csrf"]
    elif case == "bad_token":
        data["csrf"] = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    elif case == "bad_origin":
        headers["Origin"] = "https://evil.example"
    r = s.post(gw.url + "/.postern/login", data=data, verify=False,
               headers=headers if case != "no_origin" else {},
               allow_redirects=False)
    assert r.status_code == 403
    assert "__Host-postern=" not in r.headers.get("Set-Cookie", "")


def test_token_from_another_browser_is_refused(authgw):
    gw = authgw()
    token = login_page(requests.Session(), gw)      # attacker's token
    _, r = login(gw, csrf=token)                    # victim's cookie
    assert r.status_code == 403


def test_logout_revokes_at_once(authgw):
    gw = authgw()
    s, r = login(gw)
    cookie = r.cookies.get("__Host-postern")
    assert echo(s, gw).status_code == 200
    token = login_page(s, gw)
    r = s.post(gw.url + "/.postern/logout", data={"csrf": token},
               verify=False, allow_redirects=False,
               headers={"Origin": gw.url})
    assert r.status_code == 303
    assert r.headers["Location"] == "/.postern/login?signed_out=1"
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    assert r.headers["Clear-Site-Data"] == \
        '"cache", "cookies", "storage"'
    # The old cookie is dead, even replayed by hand.
    r = requests.get(gw.url + "/hello", verify=False,
                     headers={"Accept": "application/json"},
                     cookies={"__Host-postern": cookie})
    assert r.status_code == 401


def test_logout_ends_sessions_by_post_only(authgw):
    # GET shows the confirmation page (test_logout.py); nothing else
    gw = authgw()
    for method in ("PUT", "DELETE", "PATCH"):
        r = requests.request(method, gw.url + "/.postern/logout",
                             verify=False)
        assert r.status_code == 405, method


def test_disable_and_second_instance(authgw, redis_server, tmp_path,
                                     tls_cert, upstream, postern_bin):
    gw = authgw()
    s, r = login(gw)
    cookie = r.cookies.get("__Host-postern")
    # A second gateway on the same Redis accepts the session...
    d2 = tmp_path / "second"
    d2.mkdir()
    extra = "secret_file: %s\nassertion:\n  key_file: %s\n" % (
        tmp_path / "secret", tmp_path / "assertion.pem")
    cfg2, ports = write_config(d2, tls_cert, upstream, redis_server, extra,
                               protect=True)
    gw2 = Gateway(cfg2, d2 / "log", ports)
    url2 = gw2.url
    r = requests.get(url2 + "/x", verify=False,
                     cookies={"__Host-postern": cookie},
                     headers={"Accept": "application/json"})
    assert r.status_code == 200
    # ...and `user disable` revokes it on both at once.
    r = run_postern("user", "disable", "-c", str(gw.config), gw.email)
    assert r.returncode == 0, r.stderr
    for url in (gw.url, url2):
        r = requests.get(url + "/x", verify=False,
                         cookies={"__Host-postern": cookie},
                         headers={"Accept": "application/json"})
        assert r.status_code == 401, url
    # and a disabled user cannot sign in again
    _, r = login(gw)
    assert r.status_code == 401


def test_password_change_revokes_sessions(authgw):
    gw = authgw()
    s, _ = login(gw)
    assert echo(s, gw).status_code == 200
    new = "another long passphrase 42"
    r = run_postern("user", "passwd", "-c", str(gw.config), gw.email,
                    stdin="%s\n%s\n" % (new, new))
    assert r.returncode == 0, r.stderr
    assert echo(s, gw).status_code == 401
    _, r = login(gw, password=new)
    assert r.status_code == 303


def test_idle_and_absolute_expiry(authgw):
    gw = authgw(sessions="sessions:\n  idle_timeout: 3s\n  lifetime: 6s\n")
    s, _ = login(gw)
    made = time.monotonic()             # the session is at most this old
    # kept alive by use, past the idle timeout, within the lifetime (the
    # uses are timed from the sign-in, so a slow request does not push
    # the later ones towards the end of the lifetime)
    for n in range(1, 5):
        time.sleep(max(0, made + n - time.monotonic()))
        assert echo(s, gw).status_code == 200
    time.sleep(max(0, made + 6.5 - time.monotonic()))  # past the lifetime
    assert echo(s, gw).status_code == 401
    s, _ = login(gw)
    time.sleep(3.5)                     # idle past 3 s
    assert echo(s, gw).status_code == 401


def test_session_limit_drops_the_oldest(authgw):
    gw = authgw(sessions="sessions:\n  max_per_user: 2\n")
    s1, _ = login(gw)
    s2, _ = login(gw)
    s3, _ = login(gw)
    assert echo(s1, gw).status_code == 401
    assert echo(s2, gw).status_code == 200
    assert echo(s3, gw).status_code == 200


def test_no_raw_cookie_in_redis_and_no_password_in_logs(authgw,
                                                        redis_server):
    gw = authgw()
    s, r = login(gw)
    cookie = r.cookies.get("__Host-postern")
    rc = redislib.Redis(host=redis_server[0], port=redis_server[1])
    for key in rc.scan_iter("postern:*"):
        assert cookie.encode() not in key
        t = rc.type(key)
        vals = []
        if t == b"hash":
            vals = list(rc.hgetall(key).values())
        elif t == b"string":
            vals = [rc.get(key)]
        elif t == b"set":
            vals = list(rc.smembers(key))
        for v in vals:
            assert cookie.encode() not in v, key
            assert PASSWORD.encode() not in v, key
    log = gw.log()
    assert PASSWORD not in log
    assert cookie not in log


def test_gateway_cookies_never_reach_upstream(authgw):
    gw = authgw()
    s, _ = login(gw)
    s.cookies.set("app", "1", domain="127.0.0.1")
    h = headers_of(echo(s, gw))
    assert "__Host-postern" not in h.get("cookie", "")
    assert "__Host-postern-csrf" not in h.get("cookie", "")
    assert "app=1" in h["cookie"]


def test_spoofed_identity_replaced(authgw):
    gw = authgw()
    s, _ = login(gw)
    r = echo(s, gw, headers={"X-Postern-Email": "ceo@example.com",
                             "X-Postern-User": "admin"})
    h = headers_of(r)
    assert h["x-postern-email"] == gw.email
    assert h["x-postern-user"] != "admin"


def test_assertion_verifies_with_jwks_and_tamper_fails(authgw):
    gw = authgw()
    s, _ = login(gw)
    h = headers_of(echo(s, gw))
    token = h["x-postern-assertion"]
    jwks = requests.get(gw.url + "/.postern/jwks.json", verify=False).json()
    header = jwt.get_unverified_header(token)
    # an explicit type, so that no other JWT of this key passes for one
    assert header["alg"] == "ES256" and header["typ"] == ASSERTION_TYP
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    pub = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(key))
    claims = jwt.decode(token, pub, algorithms=["ES256"], audience="demo",
                        issuer="https://gw.test")
    assert claims["email"] == gw.email
    assert claims["sub"] == h["x-postern-user"]
    assert claims["auth"] == "session"
    # RFC 8176: a password, and no second factor (none is enrolled)
    assert claims["amr"] == ["pwd"]
    assert claims == assertion_claims(gw, token)
    assert 0 < claims["exp"] - claims["iat"] <= 60
    assert len(claims["jti"]) == 32
    head, payload, sig = token.split(".")
    forged = jwt.utils.base64url_encode(json.dumps(dict(
        claims, email="ceo@example.com")).encode()).decode()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode("%s.%s.%s" % (head, forged, sig), pub,
                   algorithms=["ES256"], audience="demo")
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, pub, algorithms=["ES256"], audience="other-app")


def test_redis_down_fails_closed_and_recovers(gateway, tmp_path,
                                              upstream):
    port = free_port()
    d = tmp_path / "redis"
    d.mkdir()
    rp, _ = start_redis(d, port=port)
    try:
        # A second, public app: "  - public.yaml" continues the policies
        # list that the fixture's config ends with.
        (tmp_path / "public.yaml").write_text(
            "app:\n  name: public\n  hosts: [public.test]\n"
            "  upstream: http://%s:%d\n  protect: false\n" % upstream)
        extra = "  - public.yaml\n" + auth_extra(tmp_path)
        make_key(tmp_path)
        gw = gateway(extra=extra, redis=("127.0.0.1", port), protect=True)
        gw.email = "r-%s@example.com" % uuid.uuid4().hex[:8]
        add_user(gw, gw.email)
        s, r = login(gw)
        assert r.status_code == 303
        assert echo(s, gw).status_code == 200
        stop(rp)
        r = echo(s, gw)
        assert r.status_code == 503, r.text
        assert "request_id" in r.text
        r = requests.get(gw.url + "/.postern/health", verify=False)
        assert r.json() == {"status": "degraded", "redis": "down"}
        r = requests.get(gw.url + "/pub", verify=False,
                         headers={"Host": "public.test",
                                  "Accept": "application/json"})
        assert r.status_code == 200 and r.json()["path"] == "/pub"
        rp, _ = start_redis(d, port=port)  # empty: the session is gone...
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if echo(s, gw).status_code != 503:
                break
            time.sleep(0.3)
        assert echo(s, gw).status_code == 401   # ...but Redis answers
        # every worker reconnects on its own: poll until all have
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            oks = [requests.get(gw.url + "/.postern/health", verify=False)
                   .json() == {"status": "ok"} for _ in range(6)]
            if all(oks):
                break
            time.sleep(0.3)
        assert all(oks)
    finally:
        stop(rp)


def test_imported_bcrypt_hash_signs_in_and_is_upgraded(authgw,
                                                       redis_server):
    import crypt  # deprecated but in Debian's python3.11; libxcrypt's bcrypt
    gw = authgw()
    rc = redislib.Redis(host=redis_server[0], port=redis_server[1])
    uid = rc.get("postern:email:" + gw.email).decode()
    legacy = "legacy password from the old app"
    bhash = crypt.crypt(legacy, crypt.mksalt(crypt.METHOD_BLOWFISH))
    assert bhash.startswith("$2b$")
    rc.hset("postern:user:" + uid, "password", bhash)
    s, r = login(gw, password=legacy)
    assert r.status_code == 303
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        stored = rc.hget("postern:user:" + uid, "password").decode()
        if stored.startswith("$argon2id$"):
            break
        time.sleep(0.1)
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$"), stored
    _, r = login(gw, password=legacy)
    assert r.status_code == 303
    # bcrypt reads 72 bytes: a longer password is refused, never truncated
    long_pw = "b" * 80
    rc.hset("postern:user:" + uid, "password",
            crypt.crypt(long_pw, crypt.mksalt(crypt.METHOD_BLOWFISH)))
    _, r = login(gw, password="b" * 72 + "DIFFERENT")
    assert r.status_code == 401


def test_single_org_membership_goes_upstream(authgw):
    gw = authgw()
    slug = "acme-%s" % uuid.uuid4().hex[:6]
    r = run_postern("org", "add", "-c", str(gw.config), slug)
    assert r.returncode == 0, r.stderr
    r = run_postern("org", "member", "-c", str(gw.config), slug, gw.email,
                    "--role", "admin")
    assert r.returncode == 0, r.stderr
    s, _ = login(gw)
    h = headers_of(echo(s, gw, headers={"X-Postern-Org": "evil",
                                         "X-Postern-Role": "owner"}))
    assert h["x-postern-org"] == slug
    assert h["x-postern-role"] == "admin"
    claims = jwt.decode(h["x-postern-assertion"],
                        options={"verify_signature": False})
    assert claims["org"] == slug and claims["role"] == "admin"


def ws_handshake(gw, cookie, origin, host=None):
    """The status of a WebSocket handshake to /ws with session <cookie>,
    <origin> (None: no Origin) and Host <host> (localhost:<https port>)."""
    with tls_socket(gw) as s:
        head = ("GET /ws HTTP/1.1\r\nHost: %s\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Version: 13\r\nCookie: __Host-postern=%s\r\n"
                % (host or "localhost:%d" % gw.https_port, cookie))
        if origin is not None:
            head += "Origin: %s\r\n" % origin
        s.sendall((head + "\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1])


def test_websocket_on_session_route_checks_origin(authgw):
    gw = authgw()
    _, r = login(gw)
    cookie = r.cookies.get("__Host-postern")
    own = "https://localhost:%d" % gw.https_port
    assert ws_handshake(gw, cookie, own) == 101
    for bad in ("https://evil.example", None, "null",
                "http://localhost:%d" % gw.https_port,
                "https://localhost.evil.example",
                "https://localhost:%d/x" % gw.https_port):
        assert ws_handshake(gw, cookie, bad) == 403, bad
    # and without a session, no tunnel whatever the origin
    assert ws_handshake(gw, "A" * 43, own) == 401


def test_revoking_the_session_closes_its_open_websocket(authgw):
    from test_upstream import ws_recv, ws_send
    gw = authgw(sessions="sessions:\n  websocket_recheck: 1s\n")
    _, r = login(gw)
    cookie = r.cookies.get("__Host-postern")
    with tls_socket(gw) as s:
        s.sendall(("GET /ws HTTP/1.1\r\nHost: localhost:%d\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n"
                   "Cookie: __Host-postern=%s\r\nOrigin: https://localhost:%d"
                   "\r\n\r\n" % (gw.https_port, cookie, gw.https_port))
                  .encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(4096)
        assert data.startswith(b"HTTP/1.1 101"), data
        rest = data.split(b"\r\n\r\n", 1)[1]
        assert rest == b""
        time.sleep(1.5)                 # a recheck passes: still open
        ws_send(s, 1, b"ping")
        assert ws_recv(s) == (1, b"ping")
        r = run_postern("user", "revoke-sessions", "-c", str(gw.config),
                        gw.email)
        assert r.returncode == 0, r.stderr
        s.settimeout(5)
        t = time.monotonic()
        assert s.recv(4096) == b""       # closed by the gateway
        assert time.monotonic() - t < 3
    assert '"reason":"session_revoked"' in gw.log()


def test_sso_cookie_domain(gateway, redis_server, tmp_path):
    """With sessions.cookie_domain the cookie is __Secure-postern with that
    Domain, and a session made on one subdomain works on another."""
    extra = auth_extra(tmp_path, "sessions:\n  cookie_domain: Example.TEST\n")
    make_key(tmp_path)
    gw = gateway(extra=extra, redis=redis_server, protect=True,
                 hosts=("a.example.test", "b.example.test"))
    gw.email = "sso-%s@example.com" % uuid.uuid4().hex[:8]
    add_user(gw, gw.email)
    host_a = "a.example.test:%d" % gw.https_port
    s = requests.Session()
    page = s.get(gw.url + "/.postern/login", verify=False,
                 headers={"Host": host_a, "Accept": "text/html"})
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = s.post(gw.url + "/.postern/login", verify=False,
               allow_redirects=False,
               headers={"Host": host_a, "Origin": "https://" + host_a},
               data={"email": gw.email, "password": PASSWORD, "csrf": csrf})
    assert r.status_code == 303, r.text
    sc = r.headers["Set-Cookie"]
    assert sc.startswith("__Secure-postern=")
    assert "Domain=example.test" in sc and "Secure" in sc and \
        "HttpOnly" in sc
    value = sc.split(";")[0].split("=", 1)[1]
    r = requests.get(gw.url + "/x", verify=False,
                     cookies={"__Secure-postern": value},
                     headers={"Host": "b.example.test:%d" % gw.https_port,
                              "Accept": "application/json"})
    assert r.status_code == 200
    assert headers_of(r)["x-postern-email"] == gw.email
    # the host-only name is not accepted in this mode
    r = requests.get(gw.url + "/x", verify=False,
                     cookies={"__Host-postern": value},
                     headers={"Host": "b.example.test:%d" % gw.https_port,
                              "Accept": "application/json"})
    assert r.status_code == 401


def test_full_hash_queue_answers_503(authgw):
    """The hash pool is bounded: a burst beyond it is refused at once with
    503, never queued without limit, and the gateway keeps serving."""
    import threading
    gw = authgw(sessions="passwords:\n  hash_threads: 1\n  hash_queue: 1\n")
    tokens = []
    sessions = []
    for _ in range(12):
        s = requests.Session()
        tokens.append(login_page(s, gw))
        sessions.append(s)
    codes = []

    def one(s, tok):
        r = s.post(gw.url + "/.postern/login", verify=False, timeout=30,
                   allow_redirects=False, headers={"Origin": gw.url},
                   data={"email": gw.email, "password": PASSWORD,
                         "csrf": tok})
        codes.append(r.status_code)
    ts = [threading.Thread(target=one, args=(s, t))
          for s, t in zip(sessions, tokens)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(codes) == 12
    assert set(codes) <= {303, 503}, codes
    assert 503 in codes and 303 in codes, codes
    assert "hash_queue_full" in gw.log()
    _, r = login(gw)            # and afterwards sign-in works again
    assert r.status_code == 303


def test_sessions_revoke_all(authgw):
    gw = authgw()
    other = "o-%s@example.com" % uuid.uuid4().hex[:8]
    add_user(gw, other)
    s1, _ = login(gw)
    s2, _ = login(gw, email=other)
    assert echo(s1, gw).status_code == 200
    assert echo(s2, gw).status_code == 200
    r = run_postern("sessions", "revoke", "-c", str(gw.config))
    assert r.returncode == 2 and "--all is required" in r.stderr
    r = run_postern("sessions", "revoke", "--all", "-c", str(gw.config))
    assert r.returncode == 0, r.stderr
    assert re.match(r"\d+ sessions? revoked", r.stdout)
    assert int(r.stdout.split()[0]) >= 2
    assert echo(s1, gw).status_code == 401
    assert echo(s2, gw).status_code == 401
    _, r = login(gw)                    # signing in again works
    assert r.status_code == 303
