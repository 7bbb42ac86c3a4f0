"""Sign-in and credentials never travel in clear to the gateway.

On a plain-HTTP listener only /.well-known/acme-challenge/ (reserved for
ACME) and /.postern/health are answered; everything else is redirected
(browser GET/HEAD, to a configured host only) or refused with 403
https_required -- unless the request came through a trusted proxy that
terminated TLS (peer in trusted_proxies and X-Forwarded-Proto: https).
A plain listener with `redirect: false` still proxies public routes (the
operator's choice) but serves no gateway page and reads no session
cookie, API key or share token.  Real postern, Redis, upstream, sign-in.
"""
import json
import socket

import pytest
import requests

from gwproc import read_response
from test_auth import PASSWORD, login_page
from test_grants import new_key
from test_reload import sighup
from test_routes import member, new_org, signed_in, start_routes_gw

GATEWAY_PAGES = ["/.postern/login", "/.postern/logout", "/.postern/reset",
                 "/.postern/magic", "/.postern/2fa", "/.postern/2fa/setup",
                 "/.postern/reauth", "/.postern/account",
                 "/.postern/jwks.json", "/.postern/shares", "/.postern/x"]
HTML = "Accept: text/html\r\n"


def plain_req(gw, target, host="localhost", method="GET", extra="",
              body=b""):
    """One raw request to the plain listener: (status, headers, body)."""
    head = "%s %s HTTP/1.1\r\nHost: %s\r\n%s" % (method, target, host, extra)
    if body:
        head += "Content-Length: %d\r\n" % len(body)
    with socket.create_connection(("127.0.0.1", gw.http_port), 10) as s:
        s.sendall(head.encode("latin-1") + b"Connection: close\r\n\r\n" +
                  body)
        status, headers, data, _ = read_response(s.makefile("rb"), method)
    return status, headers, data


def https_url(gw, path):
    return "https://localhost:%d%s" % (gw.https_port, path)


@pytest.fixture
def cleargw(gateway, redis_server, tmp_path):
    """cleargw(plain_redirect=..., trusted_proxies=...) -> a gateway with
    routes (public /public/**) and a fresh user."""
    return lambda **kw: start_routes_gw(gateway, redis_server, tmp_path,
                                        **kw)


# ---- a redirecting plain listener -----------------------------------------

@pytest.mark.parametrize("path", GATEWAY_PAGES)
def test_gateway_pages_redirect_browsers_refuse_others(cleargw, path):
    gw = cleargw()
    status, h, _ = plain_req(gw, path, extra=HTML)
    assert status == 301 and h["location"] == https_url(gw, path)
    assert "set-cookie" not in h
    for method, extra in (("GET", ""), ("POST", HTML), ("PUT", ""),
                          ("DELETE", HTML), ("OPTIONS", "")):
        status, h, body = plain_req(gw, path, method=method, extra=extra,
                                    body=b"x=1" if method == "POST" else b"")
        assert status == 403, (method, status)
        assert "location" not in h and "set-cookie" not in h
    assert "https_required" in gw.log()


def test_password_posted_in_clear_is_not_checked(cleargw):
    """A complete, valid sign-in (CSRF cookie and token from the HTTPS
    page, right Origin) sent over plain HTTP signs nobody in."""
    gw = cleargw()
    s = requests.Session()
    token = login_page(s, gw)
    csrf = "; ".join("%s=%s" % (c.name, c.value) for c in s.cookies)
    form = ("email=%s&password=%s&csrf=%s&rd=/" % (
        gw.email, PASSWORD.replace(" ", "+"), token)).encode()
    for origin in ("http://localhost", "https://localhost"):
        status, h, _ = plain_req(gw, "/.postern/login", method="POST",
                                 extra="Cookie: %s\r\nOrigin: %s\r\nContent-"
                                 "Type: application/x-www-form-urlencoded\r\n"
                                 % (csrf, origin), body=form)
        assert status == 403
        assert "set-cookie" not in h
    assert "login_ok" not in gw.log() and "signed_in" not in gw.log()


@pytest.mark.parametrize("host,location", [
    ("localhost", "localhost"),
    ("LocalHost", "localhost"),
    ("localhost:8080", "localhost"),
    ("LOCALHOST:80", "localhost"),
    ("localhost.", "localhost"),
    ("127.0.0.1", "127.0.0.1"),
    ("evil.test", None),
    ("EVIL.test:80", None),
    ("evil.test.", None),
    ("localhost.evil.test", None),
    ("localhost..", None),
    ("[::1]", None),
    ("[::1]:80", None),
    ("127.0.0.1.evil.test", None),
])
def test_redirect_only_to_configured_host(cleargw, host, location):
    gw = cleargw()
    status, h, _ = plain_req(gw, "/p/q?x=1", host=host, extra=HTML)
    if location is None:
        assert status == 421, status
        assert "location" not in h
    else:
        assert status == 301
        assert h["location"] == "https://%s:%d/p/q?x=1" % (location,
                                                           gw.https_port)


def test_absolute_form_target_cannot_pick_the_redirect_host(cleargw):
    gw = cleargw()
    status, h, _ = plain_req(gw, "http://evil.test/x", extra=HTML)
    assert status == 400 and "location" not in h
    status, h, _ = plain_req(gw, "http://evil.test/x", host="evil.test",
                             extra=HTML)
    assert status == 421 and "location" not in h
    status, h, _ = plain_req(gw, "http://LOCALHOST/x?y", extra=HTML)
    assert status == 301 and h["location"] == https_url(gw, "/x?y")


def test_only_acme_and_health_answered_in_clear(cleargw):
    gw = cleargw()
    for extra in (HTML, ""):
        status, h, body = plain_req(gw, "/.postern/health", extra=extra)
        assert status == 200 and b'"status"' in body
        status, h, _ = plain_req(gw, "/.well-known/acme-challenge/abc",
                                 extra=extra)
        assert status == 404 and "location" not in h
    # the app's own paths: redirected or refused, never proxied
    status, h, _ = plain_req(gw, "/public/x", extra=HTML)
    assert status == 301
    for method in ("POST", "PUT", "DELETE"):
        status, h, _ = plain_req(gw, "/public/x", method=method,
                                 extra=HTML, body=b"a=1")
        assert status == 403 and "location" not in h
    status, h, _ = plain_req(gw, "/public/x")    # not a browser
    assert status == 403 and "location" not in h


# ---- behind a TLS-terminating proxy ---------------------------------------

def test_trusted_tls_proxy_is_served(cleargw):
    gw = cleargw(trusted_proxies=["127.0.0.1"])
    status, _, body = plain_req(gw, "/.postern/login",
                                extra=HTML + "X-Forwarded-Proto: https\r\n")
    assert status == 200 and b'name="password"' in body
    status, _, _ = plain_req(gw, "/public/x",
                             extra="X-Forwarded-Proto: HTTPS\r\n")
    assert status == 200
    for xfp in ("", "X-Forwarded-Proto: http\r\n",
                "X-Forwarded-Proto: https\r\nX-Forwarded-Proto: http\r\n",
                "X-Forwarded-Proto: http\r\nX-Forwarded-Proto: https\r\n",
                "X-Forwarded-Proto: https, http\r\n",
                "X-Forwarded-Proto: httpsx\r\n"):
        status, h, _ = plain_req(gw, "/.postern/login", extra=HTML + xfp)
        assert status == 301, xfp


def test_forwarded_proto_from_untrusted_peer_is_ignored(cleargw):
    gw = cleargw(trusted_proxies=["10.0.0.0/8"])
    status, h, _ = plain_req(gw, "/.postern/login",
                             extra=HTML + "X-Forwarded-Proto: https\r\n")
    assert status == 301
    status, h, _ = plain_req(gw, "/.postern/login",
                             extra="X-Forwarded-Proto: https\r\n")
    assert status == 403


# ---- a plain listener that serves (redirect: false) -----------------------

def test_serving_plain_listener_reads_no_credentials(cleargw):
    gw = cleargw(plain_redirect=False)
    slug = new_org(gw)
    member(gw, slug, gw.email, "viewer")
    s = signed_in(gw)
    cookie = "; ".join("%s=%s" % (c.name, c.value) for c in s.cookies)
    key = new_key(gw, slug, "shares:create")  # any grantable scope
    path = "/orgs/%s/x" % slug
    assert s.get(gw.url + path, verify=False, timeout=10).status_code == 200
    for extra in ("Cookie: %s\r\n" % cookie,
                  "Authorization: Bearer %s\r\n" % key, ""):
        status, h, body = plain_req(gw, path, extra=extra)
        assert status == 403 and b"https_required" in body, (extra, status)
        assert "location" not in h
    status, _, _ = plain_req(gw, "/public/x?postern_share=ps_abc")
    assert status == 403
    # public routes: proxied, and no identity goes upstream
    status, _, body = plain_req(gw, "/public/x", extra="Cookie: %s\r\n"
                                % cookie)
    assert status == 200 and b"x-postern-user" not in body.lower()
    # gateway pages: refused, not redirected, whatever the client
    for path in GATEWAY_PAGES:
        for extra in (HTML, ""):
            status, h, _ = plain_req(gw, path, extra=extra)
            assert status == 403 and "location" not in h, path
    assert plain_req(gw, "/.postern/health")[0] == 200


def test_serving_plain_listener_behind_trusted_tls_proxy(cleargw):
    gw = cleargw(plain_redirect=False, trusted_proxies=["127.0.0.0/8"])
    slug = new_org(gw)
    member(gw, slug, gw.email, "viewer")
    s = signed_in(gw)
    cookie = "; ".join("%s=%s" % (c.name, c.value) for c in s.cookies)
    status, _, body = plain_req(gw, "/orgs/%s/x" % slug,
                                extra="Cookie: %s\r\nX-Forwarded-Proto: "
                                "https\r\n" % cookie)
    assert status == 200
    seen = {k.lower(): v for k, v in json.loads(body)["headers"]}
    assert seen["x-forwarded-proto"] == "https"     # what the client used
    assert seen["x-postern-org"] == slug
    status, _, _ = plain_req(gw, "/orgs/%s/x" % slug,
                             extra="Cookie: %s\r\n" % cookie)
    assert status == 403


def test_reload_does_not_change_a_listener_and_says_so(cleargw):
    """redirect: is a listener's setting: a reload that flips it keeps the
    running listener (no silent switch to serving in clear) and logs it."""
    gw = cleargw()
    text = gw.config.read_text()
    assert "redirect: true" in text
    gw.config.write_text(text.replace("redirect: true", "redirect: false"))
    sighup(gw)
    assert "listeners changed (address, tls or redirect)" in gw.log()
    status, h, _ = plain_req(gw, "/public/x", extra=HTML)
    assert status == 301
