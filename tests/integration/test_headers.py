"""Security headers on every kind of response (gateway/http/headers.c), per-app
security_headers in policy files, and their file:line:col errors."""
import re
import socket
import ssl
import sys

import pytest
import requests
import urllib3

from conftest import run_postern
from gwproc import write_config

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

APP_CSP = "frame-ancestors 'self'; object-src 'none'; base-uri 'self'"
PAGE_CSP = ("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
            "form-action 'self'")
PERMISSIONS = ("camera=(), microphone=(), geolocation=(), payment=(), "
               "usb=()")
OURS = ("Content-Security-Policy", "X-Frame-Options", "Referrer-Policy",
        "Permissions-Policy", "X-Content-Type-Options")


def get(gw, path="/", **kw):
    kw.setdefault("verify", False)
    kw.setdefault("timeout", 10)
    kw.setdefault("allow_redirects", False)
    return requests.get(gw.url + path, **kw)


def raw_head(port, payload, tls=True):
    """Send <payload>; return (status, {lower-case name: [values]})."""
    raw = socket.create_connection(("127.0.0.1", port), 10)
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        raw = ctx.wrap_socket(raw, server_hostname="localhost")
    with raw as s:
        s.sendall(payload)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    lines = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    hdrs = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        hdrs.setdefault(k.lower(), []).append(v.strip())
    return int(lines[0].split()[1]), hdrs


def assert_app_defaults(r, tls=True):
    h = r.headers
    assert h["Content-Security-Policy"] == APP_CSP
    assert h["X-Frame-Options"] == "SAMEORIGIN"
    assert h["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert h["Permissions-Policy"] == PERMISSIONS
    assert h["X-Content-Type-Options"] == "nosniff"
    assert "Cross-Origin-Opener-Policy" not in h
    assert ("Strict-Transport-Security" in h) == tls


def assert_page(h, tls=True):
    """Gateway page headers, from requests' headers or raw_head's dict."""
    get1 = (lambda k: h[k.lower()][0]) if isinstance(h, dict) else \
        (lambda k: h[k])
    has = (lambda k: k.lower() in h) if isinstance(h, dict) else \
        (lambda k: k in h)
    assert get1("Content-Security-Policy").startswith(PAGE_CSP)
    assert get1("X-Frame-Options") == "DENY"
    assert get1("Referrer-Policy") == "no-referrer"
    assert get1("Permissions-Policy") == PERMISSIONS
    assert get1("X-Content-Type-Options") == "nosniff"
    assert get1("Cross-Origin-Opener-Policy") == "same-origin"
    assert get1("Cross-Origin-Resource-Policy") == "same-origin"
    assert get1("Cache-Control") == "no-store"
    assert has("Strict-Transport-Security") == tls
    assert not has("Server")


@pytest.fixture
def gw(gateway):
    return gateway(extra="timeouts:\n  upstream_response: 300ms\n"
                   "security_headers:\n  hsts_max_age: 600s\n"
                   "  hsts_preload: true\n")


def test_proxied_200_gets_defaults_and_hides_server(gw):
    r = get(gw, "/headers", params={"set": "X-Powered-By:PHP/5"})
    assert r.status_code == 200
    assert_app_defaults(r)
    assert r.headers["Strict-Transport-Security"] == \
        "max-age=600; includeSubDomains; preload"
    assert "Server" not in r.headers and "X-Powered-By" not in r.headers


def test_gateway_errors_and_health_carry_page_headers(gw):
    r = get(gw, "/.postern/health")
    assert r.status_code == 200
    assert_page(r.headers)
    r = get(gw, "/.postern/nothing")
    assert r.status_code == 404
    assert_page(r.headers)
    status, h = raw_head(gw.https_port, b"GET / HTTP/1.1\r\nHost: other."
                         b"example\r\nConnection: close\r\n\r\n")
    assert status == 421
    assert_page(h)
    # the upstream sends a header with a control character: 502
    r = get(gw, "/headers", params={"set": "X-Bad:a\x01b"})
    assert r.status_code == 502
    assert_page(r.headers)
    # a bad value that only the gateway refuses: no half head before it
    r = get(gw, "/headers", params={"set": "X-Bad:\x01"})
    assert r.status_code == 502
    assert_page(r.headers)
    r = get(gw, "/slow", params={"ms": "2000"})
    assert r.status_code == 504
    assert_page(r.headers)
    status, h = raw_head(gw.https_port, b"GET / HTTP/1.1\r\n\r\n")
    assert status == 400
    assert_page(h)


def test_html_page_style_uses_a_fresh_nonce(gw):
    nonces = []
    for _ in range(2):
        r = get(gw, "/.postern/nothing", headers={"Accept": "text/html"})
        csp = r.headers["Content-Security-Policy"]
        m = re.search(r"style-src 'nonce-([A-Za-z0-9+/=]{24})'$", csp)
        assert m, csp
        assert '<style nonce="%s">' % m.group(1) in r.text
        assert "unsafe-inline" not in csp
        nonces.append(m.group(1))
    assert nonces[0] != nonces[1]
    # JSON pages have no inline style, so no nonce
    r = get(gw, "/.postern/nothing")
    assert r.headers["Content-Security-Policy"] == PAGE_CSP


def test_redirect_on_plain_listener_has_headers_but_no_hsts(gw):
    status, h = raw_head(gw.http_port, b"GET /x HTTP/1.1\r\nHost: localhost"
                         b"\r\nAccept: text/html\r\nConnection: close\r\n\r\n",
                         tls=False)
    assert status == 301
    assert_page(h, tls=False)
    status, h = raw_head(gw.http_port, b"GET /x HTTP/1.1\r\nHost: localhost"
                         b"\r\nConnection: close\r\n\r\n", tls=False)
    assert status == 403
    assert_page(h, tls=False)


def test_plain_listener_serving_sends_no_hsts(gateway):
    gw = gateway(plain_redirect=False)
    try:
        url = "http://127.0.0.1:%d" % gw.http_port
        r = requests.get(url + "/headers", timeout=10)
        assert r.status_code == 200
        assert_app_defaults(r, tls=False)
        r = requests.get(url + "/x", timeout=10)
        assert_app_defaults(r, tls=False)
        r = requests.get(url + "/.postern/health", timeout=10)
        assert_page(r.headers, tls=False)
    except BaseException:
        sys.stderr.write(gw.log())
        raise
    finally:
        gw.stop()


UPSTREAM_SETS = {"set": ["Content-Security-Policy:default-src 'self'",
                         "Referrer-Policy:unsafe-url",
                         "X-Content-Type-Options:nosniff",
                         "Server:secret/1.0"]}


def test_fill_keeps_what_the_upstream_sent(gateway):
    gw = gateway()      # mode: fill is the default
    r = get(gw, "/headers", params=UPSTREAM_SETS)
    assert r.headers["Content-Security-Policy"] == "default-src 'self'"
    assert r.headers["Referrer-Policy"] == "unsafe-url"
    assert r.headers["X-Content-Type-Options"] == "nosniff"  # not twice
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"      # filled in
    assert "Server" not in r.headers


def test_fill_frame_ancestors_replaces_frame_options(gateway):
    gw = gateway()
    r = get(gw, "/headers", params={
        "set": "Content-Security-Policy:frame-ancestors https://a.example"})
    assert r.headers["Content-Security-Policy"] == \
        "frame-ancestors https://a.example"
    assert "X-Frame-Options" not in r.headers


def test_override_replaces_the_upstreams(gateway):
    gw = gateway(app_extra="""\
  security_headers:
    mode: override
    csp: "default-src 'self'; img-src 'self' data:"
    frame_options: deny
    referrer_policy: no-referrer
    permissions_policy: "geolocation=(self), camera=()"
  hide_server_header: false
""")
    r = get(gw, "/headers", params=UPSTREAM_SETS)
    assert r.headers["Content-Security-Policy"] == \
        "default-src 'self'; img-src 'self' data:"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["Permissions-Policy"] == "geolocation=(self), camera=()"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    # hide_server_header: false (the demo upstream sends its own too)
    assert r.headers["Server"].endswith(", secret/1.0")
    # the gateway's own pages keep their strict policy
    r = get(gw, "/.postern/health")
    assert_page(r.headers)


def test_none_leaves_a_header_to_the_upstream(gateway):
    gw = gateway(app_extra="""\
  security_headers:
    mode: override
    csp: none
    frame_options: none
    permissions_policy: ~
""")
    status, h = raw_head(gw.https_port, b"GET /headers?set=X-Frame-Options:"
                         b"ALLOWALL HTTP/1.1\r\nHost: localhost\r\n"
                         b"Connection: close\r\n\r\n")
    assert status == 200
    assert "content-security-policy" not in h
    assert "permissions-policy" not in h
    assert h["x-frame-options"] == ["ALLOWALL"]
    assert h["referrer-policy"] == ["strict-origin-when-cross-origin"]
    assert "server" not in h


BAD = [
    ("    mode: replace\n", "11: app.security_headers.mode: expected "
     "fill or override, got 'replace'"),
    ("    frame_options: ALLOW-FROM x\n", "20: app.security_headers."
     "frame_options: expected DENY, SAMEORIGIN or none, got 'ALLOW-FROM x'"),
    ("    csp: \"default-src 'self', script-src x\"\n", "10: "
     "app.security_headers.csp: ',' is not allowed (it would start a "
     "second policy)"),
    ("    csp: \"default-src 'self'; 'x'\"\n", "10: app.security_headers."
     "csp: invalid directive ''x'' (expected a name such as default-src, "
     "then its sources)"),
    ("    csp: \"a\\nb\"\n", "10: app.security_headers.csp: character 2 "
     "is not printable ASCII"),
    ("    referrer_policy: nobody\n", "22: app.security_headers."
     "referrer_policy: invalid policy 'nobody' (expected e.g. no-referrer, "
     "same-origin, strict-origin-when-cross-origin)"),
    ("    permissions_policy: camera\n", "25: app.security_headers."
     "permissions_policy: invalid item 'camera' (expected e.g. camera=(), "
     "geolocation=(self))"),
    ("    hsts: 1\n", "5: unknown key 'hsts' in 'app.security_headers' "
     "(expected one of: mode, csp, frame_options, referrer_policy, "
     "permissions_policy)"),
    ("    csp: [a]\n", "10: app.security_headers.csp: expected a scalar "
     "value, got a list"),
]


@pytest.mark.parametrize("line,message", BAD)
def test_bad_values_give_file_line_col(tmp_path, tls_cert, postern_bin,
                                       line, message):
    cfg, _ = write_config(tmp_path, tls_cert, ("127.0.0.1", 9),
                          app_extra="  security_headers:\n" + line)
    r = run_postern("check", "-c", str(cfg))
    assert r.returncode == 1, r.stderr
    policy = tmp_path / "app.yaml"
    lineno = policy.read_text().splitlines().index(line.rstrip("\n")) + 1
    assert "%s:%d:%s" % (policy, lineno, message) in \
        r.stderr.splitlines(), r.stderr


def test_bad_hide_server_header(tmp_path, tls_cert, postern_bin):
    cfg, _ = write_config(tmp_path, tls_cert, ("127.0.0.1", 9),
                          app_extra="  hide_server_header: maybe\n")
    r = run_postern("check", "-c", str(cfg))
    assert r.returncode == 1
    policy = tmp_path / "app.yaml"
    line = policy.read_text().splitlines().index(
        "  hide_server_header: maybe") + 1
    assert "%s:%d:23: app.hide_server_header: " % (policy, line) \
        in r.stderr, r.stderr
