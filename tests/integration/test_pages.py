"""The gateway's own pages (gateway/http/pages.c, pageserr.c): one design
for every error page, one JSON shape for every error status, the logo
allowed by the pages' CSP, the sign-in form's messages.

Real gateways in front of the demo upstream, a real redis-server; users
and API keys made with the real command-line tools.
"""
import html
import re
import textwrap
import uuid

import pytest
import requests
import urllib3

from conftest import free_port, run_postern
from gwproc import config_text, listener
from test_auth import PASSWORD, add_user, auth_extra, login, make_key
from test_grants import bearer, new_key
from test_recover import recgw  # noqa: F401 (a fixture)
from test_routes import new_org

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

ROUTES = """\
  routes:
    - path: /public/**
      public: true
    - path: /burst/**
      public: true
      rate_limit: burst
    - path: /api/ping
      auth: [apikey]
      scopes: [ping]
    - path: /api/both
      auth: [apikey]
      scopes: [ping, invoices:read]
    - path: /boss/{org}/**
      role: executive
    - path: /**
      authenticated: true
"""

LIMITS = """\
    burst: {limit: 1, period: 90s}
"""

LOGO = "https://cdn.example.com:8443/brand/logo.png?v=2"
BRANDING = """\
roles: [owner, executive, admin, member, viewer]
branding:
  product_name: Acme <Portal>
  color: "#aa3311"
  logo_url: %s
""" % LOGO

VIEWPORT = ('<meta name="viewport" content="width=device-width, '
            'initial-scale=1">')
JSON_KEYS = {"error", "message", "request_id"}


@pytest.fixture
def pagegw(gateway, redis_server, tmp_path):
    make_key(tmp_path)
    gw = gateway(extra=auth_extra(tmp_path) + LIMITS + BRANDING,
                 app_extra=ROUTES, redis=redis_server, protect=None)
    gw.email = "p-%s@example.com" % uuid.uuid4().hex[:8]
    add_user(gw, gw.email)
    return gw


def get(gw, path, accept="text/html", headers=None, s=None, host=None,
        method="GET", **kw):
    h = {"Accept": accept}
    if host:
        h["Host"] = host
    h.update(headers or {})
    return (s or requests).request(method, gw.url + path, headers=h,
                                   verify=False, timeout=10,
                                   allow_redirects=False, **kw)


def assert_branded_page(r, status, title):
    """<r> is the one-design error page: the frame of the sign-in pages
    (viewport, brand colour, product, logo), a heading, the request id."""
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    t = r.text
    assert t.startswith("<!doctype html>")
    assert VIEWPORT in t
    assert ":root{--brand:#aa3311}" in t
    assert "<title>%s - Acme &lt;Portal&gt;</title>" % html.escape(title) \
        in t
    assert "<h1>%s</h1>" % html.escape(title) in t
    assert '<img class="logo" src="%s"' % html.escape(LOGO) in t
    assert r.headers["X-Request-Id"] in t
    assert "Misdirected" not in t and "<script" not in t
    csp = r.headers["Content-Security-Policy"]
    assert "img-src https://cdn.example.com:8443;" in csp + ";"
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert '<style nonce="%s">' % nonce in t


def assert_json_error(r, status, code):
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert set(body) == JSON_KEYS, body
    assert body["error"] == code
    assert re.fullmatch(r"[a-z_]+", body["error"])
    assert body["message"].endswith(".") and len(body["message"]) > 5
    assert body["request_id"] == r.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", body["request_id"])


def test_unknown_host_is_no_app_here(pagegw):
    r = get(pagegw, "/", host="nothing.example")
    assert_branded_page(r, 421, "No app here")
    assert "There is no app at this address." in r.text
    assert 'href="/"' not in r.text     # nowhere to go back to
    assert_json_error(get(pagegw, "/", "application/json",
                          host="nothing.example"), 421, "no_app")


def test_404_and_403_for_a_signed_in_browser(pagegw):
    gw = pagegw
    r = get(gw, "/.postern/nothing-here")
    assert_branded_page(r, 404, "Page not found")
    assert '<a href="/">Back to the app</a>' in r.text
    assert_json_error(get(gw, "/.postern/nothing-here", "*/*"), 404,
                      "not_found")
    s, r = login(gw)
    assert r.status_code == 303
    r = get(gw, "/boss/acme/report", s=s)
    assert_branded_page(r, 403, "Access denied")
    assert "You are signed in as <strong>%s</strong>" % gw.email in r.text
    assert '<a class="button" href="/.postern/logout">Sign out / use ' \
        'another account</a>' in r.text
    assert '<a href="/">Back to the app</a>' in r.text
    assert_json_error(get(gw, "/boss/acme/report", "application/json", s=s),
                      403, "forbidden")
    # the account is the session's only: nothing else is shown
    assert gw.email not in get(gw, "/boss/acme/report", "application/json",
                               s=s).text


def test_api_key_lacking_a_scope_is_insufficient_scope(pagegw):
    gw = pagegw
    org = new_org(gw)
    key = new_key(gw, org, "ping")
    assert get(gw, "/api/ping", "application/json",
               headers=bearer(key)).status_code == 200
    r = get(gw, "/api/both", "application/json", headers=bearer(key))
    assert_json_error(r, 403, "insufficient_scope")
    assert r.headers["WWW-Authenticate"] == (
        'Bearer realm="postern", error="insufficient_scope", '
        'scope="ping invoices:read"')
    # a browser-like Accept does not turn a program's answer into a page
    r = get(gw, "/api/both", headers=bearer(key))
    assert_json_error(r, 403, "insufficient_scope")
    # a signed-in session on a route it may not use: plain forbidden
    s, _ = login(gw)
    r = get(gw, "/boss/acme/x", "application/json", s=s)
    assert_json_error(r, 403, "forbidden")
    assert "WWW-Authenticate" not in r.headers


def test_json_errors_have_one_shape(pagegw):
    gw = pagegw
    assert_json_error(get(gw, "/app", "application/json"), 401,
                      "unauthenticated")
    assert_json_error(get(gw, "/api/ping", "application/json",
                          headers=bearer("pk_" + "0" * 16 + "_" + "a" * 43)),
                      401, "invalid_token")
    get(gw, "/burst/a", "application/json")
    r = get(gw, "/burst/a", "application/json")
    assert_json_error(r, 429, "rate_limited")
    assert 1 <= int(r.headers["Retry-After"]) <= 90
    r = get(gw, "/.postern/login", "application/json", method="TRACE")
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"
    assert set(r.json()) == JSON_KEYS


def test_429_page_says_how_long(pagegw):
    gw = pagegw
    get(gw, "/burst/b")
    r = get(gw, "/burst/b")
    assert_branded_page(r, 429, "Please wait")
    secs = int(r.headers["Retry-After"])
    assert 1 <= secs <= 90
    m = re.search(r"Please try again in (\d+) (second|minute)s?\.", r.text)
    assert m, r.text
    if m.group(2) == "second":
        assert int(m.group(1)) == secs
    else:
        assert int(m.group(1)) == (secs + 59) // 60


def test_upstream_errors_are_branded(gateway, tmp_path):
    dead = free_port()
    make_key(tmp_path)
    gw = gateway(extra=BRANDING + "timeouts:\n  upstream_response: 300ms\n")
    r = get(gw, "/slow?ms=3000")
    assert_branded_page(r, 504, "App did not answer")
    assert_json_error(get(gw, "/slow?ms=3000", "application/json"), 504,
                      "upstream_timeout")
    r = get(gw, "/headers", params={"set": "X-Bad:a\x01b"})
    assert_branded_page(r, 502, "App unreachable")
    assert "127.0.0.1" not in r.text
    gw2 = gateway(extra=BRANDING, upstream=("127.0.0.1", dead))
    assert_branded_page(get(gw2, "/x"), 502, "App unreachable")
    assert_json_error(get(gw2, "/x", "application/json"), 502,
                      "upstream_unavailable")


def test_store_down_is_a_branded_503(gateway, tmp_path):
    make_key(tmp_path)
    gw = gateway(extra=auth_extra(tmp_path) + BRANDING,
                 redis=("127.0.0.1", free_port()), protect=True)
    r = sign_in_form(gw, requests.Session(), {"email": "a@example.com",
                                              "password": PASSWORD})
    assert_branded_page(r, 503, "Temporarily unavailable")
    r = sign_in_form(gw, requests.Session(), {"email": "a@example.com",
                                              "password": PASSWORD},
                     accept="application/json")
    assert_json_error(r, 503, "unavailable")


def test_pages_csp_without_logo_has_no_img_src(gateway):
    gw = gateway()
    r = get(gw, "/", host="nothing.example")
    assert r.status_code == 421
    assert "img-src" not in r.headers["Content-Security-Policy"]
    assert "<img" not in r.text
    assert VIEWPORT in r.text


def test_logo_path_is_self(gateway):
    gw = gateway(extra="branding:\n  logo_url: /static/logo.svg\n")
    r = get(gw, "/.postern/nope")
    assert "img-src 'self'" in r.headers["Content-Security-Policy"]
    assert '<img class="logo" src="/static/logo.svg"' in r.text


@pytest.mark.parametrize("url", [
    "http://cdn.example.com/l.png",
    "https://user@cdn.example.com/l.png",
    "https://cdn.example.com:0/l.png",
    "https://cdn.example.com:99999/l.png",
    "https://cdn.example.com:/l.png",
    "https:///l.png",
    "https://cdn.exa_mple.com/l.png",
    "https://cdn.example.com;script-src/l.png",
    "https://-cdn.example.com/l.png",
    "https://[2001:db8::1/l.png",
    "https://[2001:db8::1]x/l.png",
    "https://cdn.example.com:44x/l.png",
    "//cdn.example.com/l.png",
    "javascript:alert(1)",
    "https://cdn.example.com/l\u00e9.png",
])
def test_odd_logo_urls_are_config_errors(tmp_path, url):
    cfg = tmp_path / "postern.yaml"
    cfg.write_text(config_text([listener(1, tls=False)], extra=textwrap.dedent(
        """\
        branding:
          logo_url: "%s"
        """ % url)))
    r = run_postern("check", "-c", str(cfg))
    assert r.returncode != 0
    line = cfg.read_text().splitlines().index('  logo_url: "%s"' % url) + 1
    assert re.search(r"postern\.yaml:%d:13: branding\.logo_url: expected "
                     r"an https:// URL" % line, r.stderr + r.stdout), \
        r.stderr + r.stdout


def test_good_logo_urls_load(tmp_path):
    for url in ("https://cdn.example.com/l.png",
                "https://[2001:db8::1]:444/l.png",
                "https://CDN.example.com"):
        cfg = tmp_path / "postern.yaml"
        cfg.write_text(config_text([listener(1, tls=False)],
                                   extra="branding:\n  logo_url: %s\n" % url))
        r = run_postern("check", "-c", str(cfg))
        assert r.returncode == 0, (url, r.stderr)
        assert "branding.logo_url" not in r.stderr + r.stdout


def sign_in_form(gw, s, data, accept="text/html"):
    r = get(gw, "/.postern/login", s=s)
    token = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    data = dict(data, csrf=token, rd="/")
    return s.post(gw.url + "/.postern/login", data=data, verify=False,
                  timeout=10, allow_redirects=False,
                  headers={"Origin": gw.url, "Accept": accept})


@pytest.mark.parametrize("data,message,reason", [
    ({"email": "", "password": ""},
     "Enter your email address and password.", "login_no_email"),
    ({"password": "x" * 14}, "Enter your email address.", "login_no_email"),
    ({"email": "a@example.com", "password": ""}, "Enter your password.",
     "login_no_password"),
    ({"email": "a@example.com"}, "Enter your password.",
     "login_no_password"),
])
def test_empty_sign_in_fields_are_named(pagegw, data, message, reason):
    gw = pagegw
    r = sign_in_form(gw, requests.Session(), data)
    assert r.status_code == 400
    assert message in r.text
    assert "incorrect" not in r.text
    assert 'name="password"' in r.text      # the form is kept
    assert '"reason":"%s"' % reason in gw.log()


def test_filled_forms_still_look_the_same(pagegw):
    """Known and unknown addresses with a wrong password: one message."""
    gw = pagegw
    known = sign_in_form(gw, requests.Session(), {
        "email": gw.email, "password": "wrong password 123"})
    unknown = sign_in_form(gw, requests.Session(), {
        "email": "nobody-%s@example.com" % uuid.uuid4().hex[:6],
        "password": "wrong password 123"})
    assert known.status_code == unknown.status_code == 401
    for r in (known, unknown):
        assert "The email or password is incorrect." in r.text
        assert "Enter your" not in r.text


def test_recovery_pages_link_back_to_sign_in(recgw):
    gw = recgw()
    for path in ("/.postern/reset", "/.postern/magic"):
        r = get(gw, path)
        assert r.status_code == 200, (path, r.text[:200])
        assert '<a href="/.postern/login">Back to sign-in</a>' in r.text
        assert VIEWPORT in r.text
    # a dead link's page too: never a dead end
    r = get(gw, "/.postern/reset?token=" + "A" * 43)
    assert "Back to sign-in" in r.text, r.text[:300]


def tiny_png():
    """A real 2x2 PNG."""
    import struct
    import zlib

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    raw = b"".join(b"\x00" + b"\xaa\x33\x11" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


SVG = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
       b'width="40" height="20"><script>alert(1)</script>'
       b'<rect width="40" height="20" fill="#a31"/></svg>\n')


@pytest.mark.parametrize("name,data,ctype", [
    ("logo.png", tiny_png(), "image/png"),
    ("logo.txt", SVG, "image/svg+xml"),         # by its bytes, not name
    ("logo.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8,
     "image/webp"),
], ids=["png", "svg", "webp"])
def test_logo_file_is_served_by_the_gateway(gateway, tmp_path, name, data,
                                            ctype):
    (tmp_path / name).write_bytes(data)
    gw = gateway(extra="branding:\n  logo_file: %s\n" % name)
    page = get(gw, "/.postern/nope")
    assert page.status_code == 404
    csp = page.headers["Content-Security-Policy"]
    assert "img-src 'self'" in csp
    src = re.search(r'<img class="logo" src="([^"]+)"', page.text).group(1)
    src = html.unescape(src)
    assert re.fullmatch(r"/\.postern/static/logo\?v=[0-9a-f]{16}", src)
    r = get(gw, src, accept="image/*")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == ctype
    assert r.content == data
    assert r.headers["ETag"] == '"%s"' % src.split("=")[1]
    assert "max-age" in r.headers["Cache-Control"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    csps = r.raw.headers.getlist("Content-Security-Policy")
    assert "sandbox" in csps and any("default-src 'none'" in c for c in csps)
    assert get(gw, src, method="POST", accept="*/*").status_code == 405
    h = get(gw, src, method="HEAD", accept="*/*")
    assert h.status_code == 200 and h.content == b""


def test_no_logo_file_no_static_logo(gateway):
    gw = gateway()
    assert get(gw, "/.postern/static/logo", "*/*").status_code == 404


@pytest.mark.parametrize("content,message", [
    (b"GIF89a" + b"\x00" * 20, "expected a PNG, WebP or SVG image"),
    (b"<html><svg></svg></html>", "expected a PNG, WebP or SVG image"),
    (b"", "expected 1 to 262144 bytes"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * (256 * 1024), "expected 1 to 262144"),
], ids=["gif", "html", "empty", "too_big"])
def test_bad_logo_files_are_config_errors(tmp_path, content, message):
    (tmp_path / "logo.bin").write_bytes(content)
    cfg = tmp_path / "postern.yaml"
    cfg.write_text(config_text([listener(1, tls=False)],
                               extra="branding:\n  logo_file: logo.bin\n"))
    r = run_postern("check", "-c", str(cfg))
    assert r.returncode != 0
    line = cfg.read_text().splitlines().index("  logo_file: logo.bin") + 1
    assert re.search(r"postern\.yaml:%d:14: branding\.logo_file: .*%s"
                     % (line, re.escape(message)), r.stderr), r.stderr


def test_logo_url_and_file_are_exclusive(tmp_path):
    (tmp_path / "logo.png").write_bytes(tiny_png())
    cfg = tmp_path / "postern.yaml"
    cfg.write_text(config_text([listener(1, tls=False)], extra=(
        "branding:\n  logo_file: logo.png\n"
        "  logo_url: https://cdn.example.com/l.png\n")))
    r = run_postern("check", "-c", str(cfg))
    assert r.returncode != 0 and "not both" in r.stderr, r.stderr
    missing = tmp_path / "other.yaml"
    missing.write_text(config_text([listener(1, tls=False)], extra=(
        "branding:\n  logo_file: nope.png\n")))
    r = run_postern("check", "-c", str(missing))
    assert r.returncode != 0 and "logo_file" in r.stderr, r.stderr
