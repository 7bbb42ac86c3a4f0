"""Black-box attacks found by the red team: on sign-in and sessions, and
on the HTTP layer (as an outside client or a compromised upstream would
send them, with their siblings).

A real postern, a real redis-server, the real demo upstream (whose echo
shows what actually reached the app) and a real SMTP sink; each test is
an attack that worked before its fix.
"""
import json
import uuid

import pytest
import requests

from conftest import run_postern
from test_auth import (PASSWORD, add_user, authgw, echo, login,  # noqa: F401
                       ws_handshake)
from test_hygiene import (echoed, events, gw, raw, request,  # noqa: F401
                          trusted_gateway, upstream_says)
from test_mfa import api
from test_recover import (ask, change_password, link_in, recgw,  # noqa: F401
                          use_magic, use_reset)

COOKIE = "__Host-postern"


def alive(gw, value):
    """Whether the session cookie <value> still opens a protected path."""
    r = requests.get(gw.url + "/x", verify=False, timeout=10,
                     allow_redirects=False, cookies={COOKIE: value},
                     headers={"Accept": "application/json"})
    assert r.status_code in (200, 401), r.status_code
    return r.status_code == 200


def test_password_sign_in_ends_the_browsers_previous_session(recgw):
    """ASVS 7.2.4: a sign-in terminates the session token it replaces.
    Before: the old session (of the same user, or of the previous user of
    a shared computer) stayed valid in Redis after a new sign-in in the
    same browser, so a copy of it (or one fixed before) kept working."""
    gw = recgw()
    other = "o-%s@example.com" % uuid.uuid4().hex[:10]
    add_user(gw, other)
    s, r = login(gw)
    assert r.status_code == 303, r.text
    first = s.cookies.get(COOKIE)
    assert alive(gw, first)
    s, r = login(gw, email=other, s=s)       # someone else, same browser
    assert r.status_code == 303, r.text
    second = s.cookies.get(COOKIE)
    assert second != first and alive(gw, second)
    assert not alive(gw, first)
    s, r = login(gw, email=other, s=s)       # the same user again
    assert r.status_code == 303
    assert alive(gw, s.cookies.get(COOKIE)) and not alive(gw, second)
    # a failed sign-in ends nothing
    third = s.cookies.get(COOKIE)
    s, r = login(gw, email=other, password="wrong " + PASSWORD, s=s)
    assert r.status_code == 401 and alive(gw, third)


def test_magic_link_sign_in_ends_the_browsers_previous_session(recgw):
    gw = recgw()
    other = "o-%s@example.com" % uuid.uuid4().hex[:10]
    add_user(gw, other)
    r = ask(gw, "/.postern/magic", gw.email)
    b = r.browser
    _, r = login(gw, email=other, s=b)
    assert r.status_code == 303, r.text
    before = b.cookies.get(COOKIE)
    assert alive(gw, before)
    _, token = link_in(gw.sink.wait_for(gw.email), "/.postern/magic")
    r = use_magic(b, gw, token)
    assert r.status_code == 303, r.text
    assert echo(b, gw).status_code == 200
    assert b.cookies.get(COOKIE) != before
    assert not alive(gw, before)
    assert api(b, gw, "/x").status_code == 200


NEW = "a different long passphrase 58"


@pytest.mark.parametrize("change", ["account", "cli", "reset", "disable"])
def test_password_change_kills_links_mailed_before(recgw, change):
    """A magic or reset link mailed before a password change (or before
    the account was disabled and enabled again) no longer works: whoever
    read the mailbox, or the link in a log, before the owner took the
    account back could otherwise sign in for up to account.token_ttl after
    the new password.  Before: both links still worked."""
    gw = recgw()
    links = {}
    for path in ("/.postern/magic", "/.postern/reset"):
        b = ask(gw, path, gw.email).browser
        links[path] = (b, link_in(gw.sink.wait_for(gw.email), path)[1])
    if change == "account":
        s, r = login(gw)
        change_password(gw, s, NEW)
    elif change == "cli":
        r = run_postern("user", "passwd", "-c", str(gw.config), gw.email,
                        stdin="%s\n%s\n" % (NEW, NEW))
        assert r.returncode == 0, r.stderr
    elif change == "reset":
        b, token = links.pop("/.postern/reset")
        r = use_reset(b, gw, token, NEW)
        assert r.status_code == 200 and "was changed" in r.text
    else:
        for verb in ("disable", "enable"):
            r = run_postern("user", verb, "-c", str(gw.config), gw.email)
            assert r.returncode == 0, r.stderr
    b, token = links["/.postern/magic"]
    r = use_magic(b, gw, token)
    assert r.status_code == 400, r.status_code
    assert api(b, gw, "/x").status_code == 401
    if "/.postern/reset" in links:
        b, token = links["/.postern/reset"]
        r = use_reset(b, gw, token, "yet another passphrase 314")
        assert r.status_code == 400, r.status_code
        # the password is the one of the change, not the link's
        _, r = login(gw, password=PASSWORD if change == "disable" else NEW)
        assert r.status_code == 303


# ---- upstream response header names must be tokens ----

@pytest.mark.parametrize("name", [
    "Set-Cookie ", "Set-Cookie  ", "set-cookie ", "Set-Cookie2 ",
    "Clear-Site-Data ", "X-App "])
def test_upstream_header_name_with_space_before_colon_is_502(gw, name):
    """RFC 9112 5.1: no whitespace between a field name and the colon.
    Browsers trim it ("Set-Cookie :" is Set-Cookie), so passed on it
    would plant the gateway's session cookie past the filter that drops
    Set-Cookie naming postern (it compares the name exactly)."""
    value = ("clear=\"cookies\"" if name.startswith("Clear") else
             "__Host-postern=evil; Path=/; Secure; HttpOnly")
    r = upstream_says(gw, (name, value))
    assert r.status_code == 502, r.headers
    assert "evil" not in str(r.headers) and "evil" not in r.text
    ev = [e for e in events(gw, "upstream_error")
          if e.get("reason") == "upstream_bad_header"]
    assert ev, gw.log()[-2000:]


def test_upstream_token_names_still_pass(gw):
    r = upstream_says(gw, ("X-App", "1"), ("Set-Cookie", "app=1; Path=/"))
    assert r.status_code == 200
    assert r.headers["X-App"] == "1"
    assert r.raw.headers.getlist("Set-Cookie") == ["app=1; Path=/"]


# ---- identity, host and address headers of other proxies ----

MORE_SPOOFABLE = [
    # Authelia / Authentik style
    "Remote-Email", "Remote-Name", "Remote-Groups",
    # Grafana auth proxy, Kubernetes front proxy, others
    "X-WebAuth-User", "X-WebAuth-Email", "X-WebAuth-Name",
    "X-Remote-Group", "X-Remote-Extra-Scopes", "X-Authenticated-User",
    # host overrides (IIS ARR, frameworks)
    "X-Original-Host", "X-Host", "X-HTTP-Host-Override",
    # CDN client-address headers
    "CF-Connecting-IP", "Fastly-Client-IP", "X-Cluster-Client-IP",
]
SCHEME_OVERRIDES = ["X-Scheme", "X-Url-Scheme", "Front-End-Https"]


def spoof_lines(names):
    sent = []
    for n in names:
        sent += [n + ": spoof", n.upper() + ": spoof", n.lower() + ": spoof"]
    return sent


@pytest.mark.parametrize("trusted", [False, True])
def test_other_proxies_identity_and_host_headers_are_stripped(
        gateway, trusted_gateway, trusted):  # noqa: F811
    g = trusted_gateway() if trusted else gateway()
    status, _, body = raw(g, request("/hello", *spoof_lines(MORE_SPOOFABLE),
                                     "X-Kept: 1"))
    assert status == 200
    up = echoed(body)
    assert [k for k, v in up if v == "spoof"] == [], up
    assert ("x-kept", "1") in up


def test_underscore_spellings_of_them_are_stripped(trusted_gateway):  # noqa
    g = trusted_gateway(underscore=True)
    sent = [n.replace("-", "_") + ": spoof" for n in MORE_SPOOFABLE]
    status, _, body = raw(g, request("/hello", *sent))
    assert status == 200
    assert [k for k, v in echoed(body) if v == "spoof"] == []


def test_scheme_overrides_only_from_a_trusted_proxy(gateway,
                                                    trusted_gateway):  # noqa
    """An app reading X-Scheme: http or Front-End-Https: off would think
    the browser came in clear (and, e.g., drop Secure from its cookies)."""
    status, _, body = raw(gateway(), request(
        "/hello", *spoof_lines(SCHEME_OVERRIDES)))
    assert status == 200
    assert [k for k, v in echoed(body) if v == "spoof"] == []
    status, _, body = raw(trusted_gateway(), request(
        "/hello", "X-Scheme: https"))
    assert status == 200
    assert ("x-scheme", "https") in echoed(body)


# ---- WebSocket Origin: the port is part of the origin ----

def test_websocket_origin_on_another_port_is_refused(authgw):  # noqa: F811
    """Another port of the same host is another origin (RFC 6454) but the
    same site: the session cookie rides along with its handshake."""
    g = authgw()
    _, r = login(g)
    cookie = r.cookies.get("__Host-postern")
    port = g.https_port
    own = "localhost:%d" % port
    assert ws_handshake(g, cookie, "https://" + own, own) == 101
    assert ws_handshake(g, cookie, "https://127.0.0.1:%d" % port, own) == 101
    assert ws_handshake(g, cookie, "https://localhost", "localhost") == 101
    assert ws_handshake(g, cookie, "https://localhost:443", "localhost") == 101
    assert ws_handshake(g, cookie, "https://localhost", "localhost:443") == 101
    for host, origin in [
            (own, "https://localhost:%d" % (port + 1)),
            (own, "https://localhost"),
            (own, "https://localhost:1"),
            ("localhost", "https://localhost:%d" % port),
            ("localhost", "https://localhost:8443"),
            (own, "https://localhost:0%d" % port),
            (own, "https://localhost:%d9" % port)]:
        assert ws_handshake(g, cookie, origin, host) == 403, (host, origin)
    rejects = [e for e in events(g, "reject")
               if e.get("reason") == "ws_origin"]
    assert len(rejects) == 7, rejects


# ---- absolute-form targets: http(s) only, no userinfo ----

@pytest.mark.parametrize("target", [
    "http://user@localhost/hello", "https://user:pw@localhost/hello",
    "http://evil.example@localhost/hello", "https://@localhost/hello",
    "ftp://localhost/hello", "ws://localhost/hello",
    "file://localhost/hello", "httpx://localhost/hello"])
def test_absolute_form_with_userinfo_or_other_scheme_is_400(gw, target):
    """RFC 9110 4.2.4: userinfo in an http(s) URI is to be treated as an
    error; the authority a log or an upstream reads must be the one the
    gateway decided on."""
    status, hdrs, body = raw(gw, request(target))
    assert status == 400, body
    assert b'"method"' not in body        # no upstream echo
    rejects = [e for e in events(gw, "reject")
               if e.get("reason") == "target_form"]
    assert len(rejects) == 1, rejects


@pytest.mark.parametrize("target", ["http://localhost/hello",
                                    "HTTPS://LOCALHOST/hello?a=1"])
def test_absolute_form_http_and_https_still_served(gw, target):
    status, _, body = raw(gw, request(target))
    assert status == 200
    assert json.loads(body)["path"] == "/hello"
