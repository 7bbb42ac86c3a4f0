"""Forward-auth mode (docs/forward-auth.md): Postern as the decision
service of a front proxy (gateway/edge/clientreq.c, gateway/http/fwdreq.c).

One real postern with a proxy-mode TLS listener and a plain `mode:
forward_auth` listener, a real redis-server, the demo upstream (it echoes
what it was sent), and in front of it the real nginx and Caddy of Debian
(frontproxy.py).  The same table of requests is decided in proxy mode and
in forward-auth mode, and must be decided alike; the attacker's tries are
forged forwarded headers from an untrusted address, conflicting copies,
path confusion through the front proxies, and forged X-Postern-* headers.
"""
import http.client
import json
import random
import re
import socket
import ssl
import urllib.parse
import uuid

import jwt
import pytest
import requests

from conftest import run_postern
from frontproxy import IDENTITY, start_caddy, start_nginx
from gwproc import Gateway, config_text, free_port, listener
from test_auth import PASSWORD, add_user, assertion_claims, auth_extra, \
    make_key

ROUTES = """\
  routes:
    - path: /public/**
      public: true
    - path: /limited/**
      public: true
      rate_limit: api
    - path: /orgs/{org}/admin/**
      role: admin
    - path: /orgs/{org}/**
      role: viewer
    - path: /invoices/{id}/pay
      auth: [share, session]
    - path: /api/ping
      auth: [apikey]
      scopes: [ping]
    - path: /secure/mfa
      mfa: true
    - path: /app/**
      authenticated: true
"""

LIMITS = """\
rate_limits:
  classes:
    login: {limit: 100000, period: 1m, account_limit: 100000}
    totp: {limit: 100000, period: 1m, account_limit: 100000}
    magic: {limit: 100000, period: 1m, account_limit: 100000}
    reset: {limit: 100000, period: 1m, account_limit: 100000}
    api: {limit: 3, period: 1m}
"""


def fwd_listener(port):
    return listener(port, tls=False) + "      mode: forward_auth\n"


class Setup:
    """The gateway (.gw: .url is its proxy-mode listener, .fwd_port the
    forward-auth one), an org with an admin and a viewer."""


@pytest.fixture
def fa(tmp_path, tls_cert, upstream, redis_server, postern_bin):
    make_key(tmp_path)
    (tmp_path / "app.yaml").write_text(
        "app:\n  name: demo\n  hosts: [localhost, 127.0.0.1]\n"
        "  upstream: http://%s:%d\n" % upstream + ROUTES)
    https, fwd = free_port(), free_port()
    cfg = tmp_path / "postern.yaml"
    cfg.write_text(config_text(
        [listener(https), fwd_listener(fwd)], workers=1,
        trusted_proxies=["127.0.0.1/32"], certs=[tls_cert],
        redis="%s:%d" % redis_server, log="debug", policies=["app.yaml"],
        extra=auth_extra(tmp_path, limits="") + LIMITS +
        "roles: [owner, admin, member, viewer]\n"))
    gw = Gateway(cfg, tmp_path / "postern.log",
                 {"https": https, "http": fwd}, wait=("https", "http"))
    st = Setup()
    st.gw, st.fwd_port, st.tmp, st.cert = gw, fwd, tmp_path, tls_cert
    st.upstream = upstream
    st.org = "org-%s" % uuid.uuid4().hex[:8]
    assert run_postern("org", "add", "-c", str(cfg), st.org).returncode == 0
    st.admin = "a-%s@example.com" % uuid.uuid4().hex[:8]
    st.viewer = "v-%s@example.com" % uuid.uuid4().hex[:8]
    for email, role in ((st.admin, "admin"), (st.viewer, "viewer")):
        add_user(gw, email)
        r = run_postern("org", "member", "-c", str(cfg), st.org, email,
                        "--role", role)
        assert r.returncode == 0, r.stderr
    r = run_postern("apikey", "create", "-c", str(cfg), "--org", st.org,
                    "--scope", "ping")
    assert r.returncode == 0, r.stderr
    st.key = r.stdout.strip()
    st.proxies = []
    yield st
    for p in st.proxies:
        p.stop()


def front(st, name, **kw):
    start = start_nginx if name == "nginx" else start_caddy
    p = start(str(st.tmp / ("%s-%d" % (name, len(st.proxies)))), st.cert,
              st.fwd_port, st.upstream, **kw)
    st.proxies.append(p)
    return p


def sign_in(base, email, s=None):
    """A whole sign-in through <base> (the gateway or a front proxy):
    the form, then the POST.  The session."""
    s = s or requests.Session()
    r = s.get(base + "/.postern/login", verify=False, timeout=10,
              headers={"Accept": "text/html"})
    assert r.status_code == 200, r.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    r = s.post(base + "/.postern/login", verify=False, timeout=30,
               allow_redirects=False, headers={"Origin": base},
               data={"email": email, "password": PASSWORD, "csrf": csrf,
                     "rd": "/"})
    assert r.status_code == 303, r.text
    return s


def cookie_header(s):
    return "; ".join("%s=%s" % (c.name, c.value) for c in s.cookies)


def decide(st, method, uri, headers=None, source="127.0.0.1", style="fwd"):
    """Ask the forward-auth listener directly, as a front proxy would:
    style "fwd" (Traefik, Caddy: X-Forwarded-*) or "nginx"."""
    h = {"Host": "127.0.0.1:%d" % st.fwd_port,
         "X-Forwarded-Proto": "https",
         "X-Forwarded-Host": "127.0.0.1:%d" % st.gw.https_port}
    if style == "nginx":
        h.update({"X-Original-URI": uri, "X-Original-Method": method})
    else:
        h.update({"X-Forwarded-Uri": uri, "X-Forwarded-Method": method})
    h.update(headers or {})
    c = http.client.HTTPConnection("127.0.0.1", st.fwd_port, timeout=10,
                                   source_address=(source, 0))
    c.putrequest("GET", "/.postern/auth", skip_host=True,
                 skip_accept_encoding=True)
    for k, v in h.items():
        for one in (v if isinstance(v, list) else [v]):
            c.putheader(k, one)
    c.endheaders()
    r = c.getresponse()
    r.body = r.read()
    c.close()
    return r


def proxied(st, method, uri, headers=None):
    """The same request in proxy mode, raw (no client-side normalising)."""
    ctx = ssl._create_unverified_context()
    c = http.client.HTTPSConnection("127.0.0.1", st.gw.https_port,
                                    context=ctx, timeout=10)
    c.putrequest(method, uri, skip_accept_encoding=True)
    for k, v in (headers or {}).items():
        c.putheader(k, v)
    if method == "POST":
        c.putheader("Content-Length", "0")
    c.endheaders()
    r = c.getresponse()
    r.body = r.read()
    c.close()
    return r


def through(p, path, s=None, headers=None, method="GET", source=None):
    """A raw request through front proxy <p> (the path is sent as it is)."""
    ctx = ssl._create_unverified_context()
    c = http.client.HTTPSConnection(
        "127.0.0.1", p.port, context=ctx, timeout=10,
        source_address=(source, 0) if source else None)
    c.putrequest(method, path, skip_accept_encoding=True)
    h = {"Accept": "application/json"}
    if s is not None:
        h["Cookie"] = cookie_header(s)
    h.update(headers or {})
    for k, v in h.items():
        c.putheader(k, v)
    c.endheaders()
    r = c.getresponse()
    r.body = r.read()
    c.close()
    return r


def upstream_headers(r):
    return {k.lower(): v for k, v in json.loads(r.body)["headers"]}


def identity_of(headers):
    """X-Postern-* of a header mapping (lower-case names) that say
    something: an allowing answer names all six, empty when unknown."""
    return {k: v for k, v in headers.items() if k.startswith("x-postern-")
            and k != "x-postern-location" and v != ""}


# ---- one table, both modes ------------------------------------------------

CASES = [
    # (who, method, uri, browser)
    ("anon", "GET", "/public/a.css", False),
    ("anon", "GET", "/app/page?x=1", False),
    ("anon", "GET", "/app/page?x=1", True),
    ("anon", "GET", "/orgs/{org}/admin/x", False),
    ("viewer", "GET", "/orgs/{org}/x", False),
    ("viewer", "GET", "/orgs/{org}/admin/x", False),
    ("viewer", "POST", "/orgs/{org}/admin/x", False),
    ("viewer", "GET", "/public/../orgs/{org}/admin/x", False),
    ("viewer", "GET", "/public/%2e%2e/orgs/{org}/admin/x", False),
    ("viewer", "GET", "/public/%2E%2E/orgs/{org}/admin/x", False),
    ("viewer", "GET", "//orgs/{org}//admin/x", False),
    ("viewer", "GET", "/public%2f..%2forgs/{org}/admin/x", False),
    ("viewer", "GET", "/public/..;/orgs/{org}/admin/x", False),
    ("viewer", "GET", "/orgs/{org}/admin;x/y", False),
    ("viewer", "GET", "/ORGS/{org}/ADMIN/x", False),
    ("viewer", "GET", "/orgs/{org}/admin/%00", False),
    ("viewer", "GET", "/../orgs/{org}/admin/x", False),
    ("viewer", "GET", "/app/x", False),
    ("viewer", "GET", "/secure/mfa", False),
    ("viewer", "GET", "/secure/mfa?next=1", True),
    ("admin", "GET", "/orgs/{org}/admin/x", False),
    ("admin", "DELETE", "/orgs/other-org/admin/x", False),
    ("key", "GET", "/api/ping", False),
    ("key", "GET", "/app/x", False),
    ("anon", "GET", "/api/ping", False),
    ("anon", "TRACE", "/public/x", False),
]


def who_headers(st, sessions, who, browser):
    h = {"Accept": "text/html" if browser else "application/json"}
    if who in sessions:
        h["Cookie"] = cookie_header(sessions[who])
    if who == "key":
        h["Authorization"] = "Bearer " + st.key
    return h


def test_one_table_decided_alike_in_proxy_and_forward_auth_mode(fa):
    st = fa
    sessions = {"viewer": sign_in(st.gw.url, st.viewer),
                "admin": sign_in(st.gw.url, st.admin)}
    seen = set()
    for who, method, uri, browser in CASES:
        uri = uri.replace("{org}", st.org)
        h = who_headers(st, sessions, who, browser)
        p = proxied(st, method, uri, h)
        f = decide(st, method, uri, h)
        n = decide(st, method, uri, h, style="nginx")
        case = (who, method, uri, browser, p.status, f.status, n.status)
        assert f.status == p.status, case
        if 300 <= p.status < 400:
            # the same page (sign-in, 2FA...); rd differs: the whole URL
            assert f.getheader("Location").split("?")[0] == \
                p.getheader("Location").split("?")[0], case
            seen.add(p.getheader("Location").split("?")[0])
            assert n.status == 401, case
            assert f.getheader("X-Postern-Location") == \
                f.getheader("Location"), case
            assert n.getheader("X-Postern-Location") == \
                f.getheader("Location"), case
        else:
            assert n.status == p.status, case
        if p.status != 200:
            assert identity_of({k.lower(): v for k, v in
                                f.getheaders()}) == {}, case
            continue
        up = identity_of(upstream_headers(p))
        got = identity_of({k.lower(): v for k, v in f.getheaders()})
        # the same identity; the assertions are signed apart (iat, jti)
        assert up.keys() == got.keys(), case
        for k in up:
            if k != "x-postern-assertion":
                assert up[k] == got[k], case
        if "x-postern-assertion" in got:
            a = assertion_claims(st.gw, got["x-postern-assertion"])
            b = assertion_claims(st.gw, up["x-postern-assertion"])
            assert a["sub"] == b["sub"] and a.get("org") == b.get("org")
    assert seen == {"/.postern/login", "/.postern/2fa"}, seen


def test_browser_redirect_carries_the_whole_original_url(fa):
    st = fa
    r = decide(st, "GET", "/app/page?x=1", {"Accept": "text/html"})
    assert r.status == 302
    back = "https://127.0.0.1:%d/app/page?x=1" % st.gw.https_port
    assert r.getheader("Location") == "/.postern/login?rd=" + \
        urllib.parse.quote(back, safe="/")
    # over plain HTTP no credential is read, and no absolute rd is made
    r = decide(st, "GET", "/app/page", {"Accept": "text/html",
                                        "X-Forwarded-Proto": "http"})
    assert r.status == 403


# ---- what only a trusted proxy may say ------------------------------------

def test_forwarded_request_from_an_untrusted_address_is_refused(fa):
    st = fa
    s = sign_in(st.gw.url, st.admin)
    h = {"Cookie": cookie_header(s)}
    assert decide(st, "GET", "/orgs/%s/admin/x" % st.org, h).status == 200
    for style in ("fwd", "nginx"):
        r = decide(st, "GET", "/orgs/%s/admin/x" % st.org, h,
                   source="127.0.0.2", style=style)
        assert r.status == 403
        assert identity_of({k.lower(): v for k, v in r.getheaders()}) == {}
    assert st.gw.log().count('"reason":"forward_untrusted"') == 2
    # the gateway pages there do not take X-Forwarded-Host either
    r = decide(st, "GET", "/public/x", {"X-Forwarded-Host": "evil.test"},
               source="127.0.0.2")
    assert r.status == 403


def test_conflicting_or_missing_forwarded_headers_are_400(fa):
    st = fa
    org = st.org
    bad = [
        {"X-Forwarded-Uri": ["/public/x", "/orgs/%s/admin/x" % org]},
        {"X-Original-URI": "/orgs/%s/admin/x" % org},  # vs X-Forwarded-Uri
        {"X-Forwarded-Method": ["GET", "DELETE"]},
        {"X-Original-Method": "DELETE"},
        {"X-Forwarded-Host": ["127.0.0.1", "localhost"]},
        {"X-Forwarded-Proto": "ftp"},
    ]
    for h in bad:
        r = decide(st, "GET", "/public/x", h)
        assert r.status == 400, h
    assert st.gw.log().count('"reason":"forward_conflict"') == 5
    assert '"reason":"forward_invalid"' in st.gw.log()
    # the same value twice is one value
    r = decide(st, "GET", "/public/x", {"X-Forwarded-Uri": ["/public/x"]})
    assert r.status == 200
    # no URI at all
    c = http.client.HTTPConnection("127.0.0.1", st.fwd_port, timeout=10)
    c.request("GET", "/.postern/auth")
    assert c.getresponse().status == 400
    assert '"reason":"forward_missing"' in st.gw.log()
    # a URI with a space or outside ASCII, an odd host
    assert decide(st, "GET", "/public/a b").status == 400
    assert decide(st, "GET", "/public/x", {
        "X-Forwarded-Host": "a.test/evil"}).status == 400
    # the front proxy routes /.postern/ itself
    r = decide(st, "GET", "/.postern/login")
    assert r.status == 404
    assert '"reason":"forward_reserved"' in st.gw.log()


def test_decision_never_reads_a_body_and_app_paths_are_404(fa):
    st = fa
    s = socket.create_connection(("127.0.0.1", st.fwd_port), timeout=10)
    s.sendall(b"POST /.postern/auth HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              b"X-Forwarded-Uri: /public/x\r\nX-Forwarded-Proto: https\r\n"
              b"Content-Length: 100000\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    assert data.startswith(b"HTTP/1.1 200 "), data[:200]
    # not a proxy: an app path on the forward-auth listener is 404
    c = http.client.HTTPConnection("127.0.0.1", st.fwd_port, timeout=10)
    c.request("GET", "/public/x")
    assert c.getresponse().status == 404


def test_answers_to_nginx_have_no_body(fa):
    """nginx reads no body of a sub-request's answer and closes a kept
    connection that has one: every answer to an nginx-style request is
    body-less.  Caddy and Traefik show a refusal's body to the client:
    theirs keep it; a 200 is body-less for every front proxy."""
    st = fa
    s = sign_in(st.gw.url, st.viewer)
    cases = [
        ("/app/x", {"Cookie": cookie_header(s)}, 200),
        ("/app/x", {"Accept": "text/html"}, None),   # to the sign-in page
        ("/app/x", {"Accept": "application/json"}, 401),
        ("/orgs/%s/admin/x" % st.org, {"Cookie": cookie_header(s)}, 403),
    ]
    for style in ("nginx", "fwd"):
        for uri, h, want in cases:
            r = decide(st, "GET", uri, h, style=style)
            if want is not None:
                assert r.status == want, (style, uri, r.status, r.body)
            cl = r.getheader("Content-Length")
            if style == "nginx" or r.status == 200:
                assert cl == "0" and r.body == b"", (style, uri, r.status)
                assert r.getheader("Content-Type") is None
            else:
                assert int(cl) > 0 and len(r.body) == int(cl), (style, uri)
    # several answers on one connection, each whole: the framing holds
    c = http.client.HTTPConnection("127.0.0.1", st.fwd_port, timeout=10)
    for uri, h, want in cases * 2:
        hh = {"X-Original-URI": uri, "X-Original-Method": "GET",
              "X-Forwarded-Proto": "https",
              "X-Forwarded-Host": "127.0.0.1:%d" % st.gw.https_port}
        hh.update(h)
        c.request("GET", "/.postern/auth", headers=hh)
        r = c.getresponse()
        assert r.read() == b"" and not r.will_close, (uri, r.status)
    c.close()


def accepted(st):
    """Connections the gateway has accepted so far (its debug log)."""
    return open(st.tmp / "postern.log").read().count(": accepted from ")


def test_nginx_reuses_its_connections_to_the_decision_service(fa):
    """With the documented upstream block, nginx asks every decision of
    a keep-alive client over the connection it already has: 40 signed-in
    requests cost at most a couple of new connections, not 40."""
    st = fa
    p = front(st, "nginx")
    s = sign_in(st.gw.url, st.viewer)
    cookie = cookie_header(s)
    c = requests.Session()
    r = c.get(p.url + "/app/warm", verify=False, timeout=10,
              headers={"Cookie": cookie, "Accept": "application/json"})
    assert r.status_code == 200, (r.status_code, r.text, p.log())
    before = accepted(st)
    for i in range(40):
        r = c.get(p.url + "/app/%d" % i, verify=False, timeout=10,
                  headers={"Cookie": cookie, "Accept": "application/json"})
        assert r.status_code == 200, (i, r.status_code, r.text)
        r = c.get(p.url + "/app/%d" % i, verify=False, timeout=10,
                  headers={"Accept": "application/json"})
        assert r.status_code == 401, (i, r.status_code, r.text)
    new = accepted(st) - before
    assert new <= 2, "%d connections for 80 decisions" % new


# ---- through real front proxies -------------------------------------------

@pytest.mark.parametrize("name", ["nginx", "caddy"])
def test_browser_signs_in_through_the_front_proxy(fa, name):
    st = fa
    p = front(st, name)
    s = requests.Session()
    r = s.get(p.url + "/app/page?x=1", verify=False, timeout=10,
              allow_redirects=False, headers={"Accept": "text/html"})
    assert r.status_code == 302, (r.status_code, r.text, p.log())
    loc = r.headers["Location"]
    rd = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)["rd"][0]
    assert rd == p.url + "/app/page?x=1"
    r = s.get(urllib.parse.urljoin(p.url, loc), verify=False, timeout=10,
              headers={"Accept": "text/html"})
    assert r.status_code == 200 and "csrf" in r.text, r.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    r = s.post(p.url + "/.postern/login", verify=False, timeout=30,
               allow_redirects=False, headers={"Origin": p.url},
               data={"email": st.viewer, "password": PASSWORD,
                     "csrf": csrf, "rd": rd})
    assert r.status_code == 303, r.text
    assert r.headers["Location"] == p.url + "/app/page?x=1"
    r = s.get(r.headers["Location"], verify=False, timeout=10,
              headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text
    info = r.json()
    assert info["path"] == "/app/page" and info["query"] == "x=1"
    up = {k.lower(): v for k, v in info["headers"]}
    assert up["x-postern-email"] == st.viewer
    assert up["x-postern-auth"] == "session"
    claims = assertion_claims(st.gw, up["x-postern-assertion"])
    assert claims["email"] == st.viewer


@pytest.mark.parametrize("name", ["nginx", "caddy"])
def test_api_401_and_viewer_403_through_the_front_proxy(fa, name):
    st = fa
    p = front(st, name)
    r = through(p, "/app/x")
    assert r.status == 401, (r.status, r.body, p.log())
    assert json.loads(r.body)["error"] == "unauthenticated"
    assert r.getheader("WWW-Authenticate").startswith("Bearer")
    s = sign_in(p.url, st.viewer)
    assert through(p, "/orgs/%s/x" % st.org, s).status == 200
    assert through(p, "/orgs/%s/admin/x" % st.org, s).status == 403
    assert '"reason":"role"' in st.gw.log()
    r = through(p, "/api/ping", headers={"Authorization":
                                         "Bearer " + st.key})
    assert r.status == 200
    assert upstream_headers(r)["x-postern-auth"] == "apikey"
    # the key itself stays with the gateway, in any case of the scheme
    assert "authorization" not in upstream_headers(r)
    r = through(p, "/api/ping", headers={"Authorization":
                                         "bEaReR  " + st.key})
    assert r.status == 200 and "authorization" not in upstream_headers(r)
    assert st.key not in r.body.decode()
    # another scheme is the app's: it passes
    r = through(p, "/public/x", headers={"Authorization": "Basic eDp5"})
    assert upstream_headers(r)["authorization"] == "Basic eDp5"


@pytest.mark.parametrize("name", ["nginx", "caddy"])
def test_path_confusion_is_decided_on_the_normalised_path(fa, name):
    st = fa
    p = front(st, name)
    s = sign_in(p.url, st.viewer)
    org = st.org
    for path in ["/public/../orgs/%s/admin/x", "/public/%%2e%%2e/orgs/%s/admin/x",
                 "/public/%%2E%%2e/orgs/%s/admin/x",
                 "//orgs/%s//admin/x", "/public%%2f..%%2forgs/%s/admin/x",
                 "/public/..;/orgs/%s/admin/x", "/orgs/%s/./admin/x",
                 "/orgs/%s/admin/%%2e/x", "/ORGS/%s/ADMIN/x"]:
        path = path % org
        r = through(p, path, s)
        assert r.status != 200 or json.loads(r.body)["path"].lower() != \
            "/orgs/%s/admin/x" % org, (path, r.status, r.body)
        assert r.status in (400, 403, 404, 500), (path, r.status)
        # the proxy-mode decision for the path the front proxy forwarded
        direct = proxied(st, "GET", path, {"Cookie": cookie_header(s),
                                           "Accept": "application/json"})
        assert direct.status != 200, path
    # the sibling that is allowed stays allowed
    assert through(p, "/public/../orgs/%s/x" % org, s).status == 200


@pytest.mark.parametrize("name", ["nginx", "caddy"])
def test_client_sent_identity_headers_never_reach_the_app(fa, name):
    st = fa
    p = front(st, name)
    forged = {"X-Postern-%s" % h: "forged-%s" % h for h in IDENTITY}
    forged["X-Postern-Location"] = "https://evil.test/"
    if name == "caddy":     # nginx cannot drop names by pattern
        forged["X-Postern-Tenant"] = "forged"
    # public: nothing from the answer, nothing of the client's
    r = through(p, "/public/x", headers=forged)
    assert r.status == 200, (r.status, r.body, p.log())
    assert identity_of(upstream_headers(r)) == {}
    # signed in with no org on the route: org and role are absent
    s = sign_in(p.url, st.viewer)
    r = through(p, "/app/x", s, headers=forged)
    up = identity_of(upstream_headers(r))
    assert up["x-postern-email"] == st.viewer
    assert "forged" not in json.dumps(up)
    assert set(up) == {"x-postern-user", "x-postern-email",
                       "x-postern-auth", "x-postern-assertion"}
    r = through(p, "/orgs/%s/x" % st.org, s, headers=forged)
    up = identity_of(upstream_headers(r))
    assert up["x-postern-org"] == st.org and up["x-postern-role"] == "viewer"
    assert "forged" not in json.dumps(up)


def test_caddy_copy_headers_alone_lets_other_client_copies_through(fa):
    """Caddy 2.6's copy_headers only sets the names it lists, from the
    answer (which names all six, empty when unknown: for a name the answer
    lacks Caddy 2.6 would send its unresolved placeholder text); any other
    X-Postern-* of the client passes.  docs/forward-auth.md therefore adds
    `request_header -X-Postern-*` before forward_auth (in a route, so that
    it runs first); the other tests run with that line."""
    st = fa
    p = front(st, "caddy", strip=False)
    forged = {"X-Postern-Org": "forged", "X-Postern-Tenant": "forged"}
    r = through(p, "/public/x", headers=forged)
    assert r.status == 200, (r.status, r.body, p.log())
    up = upstream_headers(r)
    assert up.get("x-postern-org") == ""        # overwritten, empty
    assert up.get("x-postern-tenant") == "forged"   # not listed: passes
    s = sign_in(p.url, st.viewer)
    r = through(p, "/app/x", s, headers={"X-Postern-Email": "forged"})
    assert upstream_headers(r)["x-postern-email"] == st.viewer
    # with the line, nothing of the client's remains
    q = front(st, "caddy")
    r = through(q, "/public/x", headers=forged)
    assert r.status == 200
    assert identity_of(upstream_headers(r)) == {}
    assert "x-postern-tenant" not in upstream_headers(r)


def test_share_link_through_nginx(fa):
    st = fa
    p = front(st, "nginx")
    r = run_postern("share", "create", "-c", str(st.gw.config), "--app",
                    "demo", "--path", "/invoices/7/pay", "--host",
                    "127.0.0.1")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip().split("postern_share=")[1]
    s = requests.Session()
    r = s.get(p.url + "/invoices/7/pay?lang=en&postern_share=" + token,
              verify=False, timeout=10, allow_redirects=False,
              headers={"Accept": "text/html"})
    assert r.status_code == 302, (r.status_code, r.text, p.log())
    assert r.headers["Location"].endswith("/invoices/7/pay?lang=en")
    sc = r.headers["Set-Cookie"]
    assert sc.startswith("__Secure-postern-share=%s;" % token), sc
    assert "Path=/invoices/7/pay" in sc and "HttpOnly" in sc
    r = s.get(p.url + "/invoices/7/pay?lang=en", verify=False, timeout=10,
              headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text
    up = {k.lower(): v for k, v in r.json()["headers"]}
    assert up["x-postern-auth"] == "share"
    assert r.json()["query"] == "lang=en"
    # the link opens its resource only
    r = s.get(p.url + "/invoices/8/pay", verify=False, timeout=10,
              allow_redirects=False, headers={"Accept": "application/json"})
    assert r.status_code in (401, 403)
    assert token not in st.gw.log()


def test_assertion_from_the_front_proxy_verifies(fa):
    st = fa
    p = front(st, "nginx")
    s = sign_in(p.url, st.admin)
    r = through(p, "/orgs/%s/admin/x" % st.org, s)
    assert r.status == 200
    tok = upstream_headers(r)["x-postern-assertion"]
    jwks = requests.get(p.url + "/.postern/jwks.json", verify=False).json()
    head = jwt.get_unverified_header(tok)
    key = next(k for k in jwks["keys"] if k["kid"] == head["kid"])
    pub = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(key))
    c = jwt.decode(tok, pub, algorithms=["ES256"], audience="demo",
                   issuer="https://gw.test")
    assert c["email"] == st.admin and c["org"] == st.org
    assert c["role"] == "admin"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tok[:-4] + ("AAAA" if tok[-4:] != "AAAA" else "BBBB"),
                   pub, algorithms=["ES256"], audience="demo",
                   issuer="https://gw.test")


@pytest.mark.parametrize("name", ["nginx", "caddy"])
def test_rate_limit_counts_the_real_client_address(fa, name):
    st = fa
    p = front(st, name)
    a, b = ("127.%d.%d.%d" % tuple(random.randrange(1, 255)
                                   for _ in range(3)) for _ in range(2))
    codes = [through(p, "/limited/x", source=a).status for _ in range(4)]
    assert codes == [200, 200, 200, 429], (codes, p.log())
    # a forged X-Forwarded-For does not buy a fresh count
    r = through(p, "/limited/x", source=a,
                headers={"X-Forwarded-For": "192.0.2.%d" % random.randrange(
                    1, 255)})
    assert r.status == 429 and int(r.getheader("Retry-After")) >= 1
    # another client behind the same front proxy has its own count
    assert through(p, "/limited/x", source=b).status == 200
