"""Header hygiene between client, gateway and upstream (gateway/upstream/proxyhead.c,
cookie.c, token.c, form.c): what an upstream may not send to the browser,
what a client may not send to the upstream, and how the gateway reads
its own cookies, tokens and forms.

Real postern, real redis-server, the real demo upstream: /headers?set=
makes it answer with chosen headers, and its echo shows exactly what
it received.  Each hole is tried with its siblings (case, spacing, quoting,
folding, duplicates), as an attacker would.
"""
import json
import re
import ssl

import pytest
import requests
import urllib3

from conftest import run_postern
from gwproc import config_text, listener, metric, tls_socket
from test_auth import PASSWORD, add_user, auth_extra, authgw, login  # noqa
from test_grants import bearer, grantgw, key_id, new_key  # noqa
from test_routes import new_org

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)


@pytest.fixture
def gw(gateway):
    return gateway()


def events(gw, name):
    return [e for e in (json.loads(x) for x in gw.log().splitlines()
                        if x.startswith("{")) if e.get("event") == name]


def raw(gw, payload):
    """<payload> over TLS; (status, {lower name: [values]}, body bytes)."""
    with tls_socket(gw) as s:
        s.sendall(payload)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                break
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        hdrs.setdefault(k.lower(), []).append(v.strip())
    return int(lines[0].split()[1]), hdrs, body


def request(path, *headers, method=b"GET", body=b""):
    extra = b"".join(h.encode("latin-1") + b"\r\n" for h in headers)
    if body or method == b"POST":
        extra += b"Content-Length: %d\r\n" % len(body)
    return (method + b" " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\n"
            b"Accept: application/json\r\n" + extra +
            b"Connection: close\r\n\r\n" + body)


def echoed(body):
    """The upstream echo's headers: [(lower name, value)], in order."""
    return [(k.lower(), v) for k, v in json.loads(body)["headers"]]


def upstream_says(gw, *pairs):
    """A response whose upstream sent <pairs> (name, value) headers."""
    return requests.get(gw.url + "/headers", verify=False, timeout=10,
                        params=[("set", "%s:%s" % p) for p in pairs])


# ---- 1. upstreams cannot touch the gateway's cookies ----

OURS = [
    "__Host-postern=evil; Path=/; Secure; HttpOnly",
    "__Secure-postern=evil; Domain=example.com; Secure",
    "__Host-postern-csrf=evil; Path=/; Secure",
    "__Secure-postern-share=evil; Path=/; Secure",
    "__Host-postern=; Max-Age=0; Path=/; Secure",       # delete
    "__HOST-POSTERN=evil; Path=/",                      # case
    "__host-postern=evil; Path=/",
    "__Secure-Postern-Share=evil",
    "  __Host-postern  =evil",                          # whitespace
    "\t__Host-postern=evil",
    '"__Host-postern"=evil',                            # quoted name
    "=__Host-postern=evil; Path=/",                     # nameless
    "app=1, __Host-postern=evil",                       # folded lines
    "app=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT, __Secure-postern=e",
    "postern=evil",                                     # no prefix
]


@pytest.mark.parametrize("value", OURS)
@pytest.mark.parametrize("name", ["Set-Cookie", "set-cookie", "Set-Cookie2"])
def test_upstream_cannot_set_gateway_cookies(gw, name, value):
    before = metric(gw, "postern_upstream_headers_dropped_total")
    r = upstream_says(gw, (name, value), ("Set-Cookie", "app=kept; Path=/"))
    assert r.status_code == 200
    got = r.raw.headers.getlist("Set-Cookie") + \
        r.raw.headers.getlist("Set-Cookie2")
    assert got == ["app=kept; Path=/"], got
    rid = dict(echoed(r.content))["x-request-id"]
    ev = [e for e in events(gw, "upstream_header")
          if e["request_id"] == rid]
    assert len(ev) == 1, ev
    assert ev[0]["reason"] == "upstream_set_cookie"
    assert ev[0]["header"].lower() == name.lower()
    assert "evil" not in json.dumps(ev)          # no cookie values logged
    assert metric(gw, "postern_upstream_headers_dropped_total") == before + 1


@pytest.mark.parametrize("value", [
    "app=1; Path=/", "posterns=1", "my-postern=1", "__Host-app=1; Path=/",
    "sid=postern-like"])
def test_upstream_sets_its_own_cookies(gw, value):
    r = upstream_says(gw, ("Set-Cookie", value))
    assert r.raw.headers.getlist("Set-Cookie") == [value]
    assert events(gw, "upstream_header") == []


def test_several_forbidden_headers_one_event(gw):
    before = metric(gw, "postern_upstream_headers_dropped_total")
    r = upstream_says(gw, ("Set-Cookie", "__Host-postern=a"),
                      ("Set-Cookie", "__Host-postern-csrf=b"),
                      ("Clear-Site-Data", '"*"'))
    assert "Set-Cookie" not in r.headers
    assert "Clear-Site-Data" not in r.headers
    assert len(events(gw, "upstream_header")) == 1
    assert events(gw, "upstream_header")[0]["dropped"] == 3
    assert metric(gw, "postern_upstream_headers_dropped_total") == before + 3


@pytest.mark.parametrize("value", [
    '"cookies"', '"*"', '"cache", "cookies"', '"cache","Cookies"',
    "cookies", '"storage", "*"', ' "COOKIES"'])
def test_upstream_clear_site_data_cannot_wipe_cookies(gateway, value):
    gw = gateway()
    r = upstream_says(gw, ("Clear-Site-Data", value))
    assert "Clear-Site-Data" not in r.headers
    ev = events(gw, "upstream_header")
    assert [e["reason"] for e in ev] == ["upstream_clear_site_data"]
    assert ev[0]["request_id"] == dict(echoed(r.content))["x-request-id"]
    # an app allowed to wipe them says so in its policy
    gw2 = gateway(app_extra="  allow_clear_site_data: true\n")
    r = upstream_says(gw2, ("Clear-Site-Data", value))
    assert r.headers["Clear-Site-Data"] == value.strip()


@pytest.mark.parametrize("value", ['"cache"', '"storage"', '"cache", '
                                   '"executionContexts"'])
def test_upstream_clear_site_data_without_cookies_passes(gw, value):
    assert upstream_says(gw, ("Clear-Site-Data", value)).headers[
        "Clear-Site-Data"] == value


def test_allow_clear_site_data_is_checked(tmp_path, tls_cert):
    (tmp_path / "p.yaml").write_text(
        "app:\n  name: a\n  hosts: [a.test]\n  upstream: http://127.0.0.1:1\n"
        "  allow_clear_site_data: sometimes\n  allow_clear_site_date: true\n")
    cfg = tmp_path / "postern.yaml"
    cfg.write_text(config_text([listener(8443, tls=None)], certs=[tls_cert],
                               policies=["p.yaml"]))
    r = run_postern("check", "-c", str(cfg))
    assert r.returncode == 1
    p = tmp_path / "p.yaml"
    got = r.stderr.splitlines()
    assert "%s:5:26: app.allow_clear_site_data: expected true or false, " \
        "got another value" % p in got, r.stderr
    assert any(x.startswith("%s:6:3: unknown key 'allow_clear_site_date' "
                            "in 'app'" % p) for x in got), r.stderr


# ---- 2. spoofed identity headers are logged ----

@pytest.mark.parametrize("name", ["X-Postern-User", "x-postern-email",
                                  "X-POSTERN-ROLE", "X-Postern-Anything"])
def test_client_identity_headers_are_logged(gw, name):
    status, _, body = raw(gw, request("/hello", "%s: admin" % name,
                                      "X-Postern-Org: evil"))
    assert status == 200
    up = dict(echoed(body))
    assert not [k for k in up if k.startswith("x-postern")]
    ev = events(gw, "client_header")
    assert len(ev) == 1, ev          # one event per request
    assert ev[0]["reason"] == "identity_header_spoof"
    assert ev[0]["request_id"] == up["x-request-id"]
    assert ev[0]["header"] == name
    assert "admin" not in json.dumps(ev)
    assert events(gw, "client_header")[0]["client"] == "127.0.0.1"


def test_identity_headers_logged_on_refused_requests_too(authgw):
    gw = authgw()
    status, _, _ = raw(gw, request("/hello", "X-Postern-User: admin"))
    assert status == 401
    ev = events(gw, "client_header")
    assert [e["header"] for e in ev] == ["X-Postern-User"]
    rej = events(gw, "reject")
    assert [e["request_id"] for e in rej] == [ev[0]["request_id"]]


def test_client_without_identity_headers_is_not_logged(gw):
    assert raw(gw, request("/hello", "X-Posterns: 1"))[0] == 200
    assert events(gw, "client_header") == []


def rule_line(gw, path):
    lines = (gw.dir / "app.yaml").read_text().splitlines()
    return "%s:%d" % (gw.dir / "app.yaml",
                      lines.index("    - path: %s" % path) + 1)


def test_403_logs_the_key_and_the_rule(grantgw):
    gw = grantgw
    mine, theirs = new_org(gw), new_org(gw)
    key = new_key(gw, mine, "invoices:read")
    r = requests.get(gw.url + "/api/orgs/%s/x" % theirs, headers=bearer(key),
                     verify=False, timeout=10)
    assert r.status_code == 403
    ev = [e for e in events(gw, "reject") if e["status"] == 403]
    assert len(ev) == 1, ev
    assert ev[0]["user"] == "pk_" + key_id(key)
    assert ev[0]["rule"] == rule_line(gw, "/api/orgs/{org}/**")
    assert ev[0]["reason"] == "key_org"


def test_403_logs_the_session_user_and_the_rule(grantgw):
    gw = grantgw
    email = "deny-%s@example.com" % new_org(gw)
    add_user(gw, email)
    s, r = login(gw, email=email)
    assert r.status_code == 303
    r = s.get(gw.url + "/orgs/%s/x" % new_org(gw), verify=False, timeout=10,
              allow_redirects=False)
    assert r.status_code == 403
    ev = [e for e in events(gw, "reject") if e["status"] == 403]
    assert len(ev) == 1, ev
    assert re.fullmatch(r"[0-9a-f]{32}", ev[0]["user"]), ev
    assert ev[0]["rule"] == rule_line(gw, "/orgs/{org}/**")
    # other rejects carry no rule, and no user (null: nobody was known)
    assert all("rule" not in e and e["user"] is None
               for e in events(gw, "reject") if e["status"] != 403)


# ---- 3. headers apps trust, and one forwarding chain ----

SPOOFABLE = ["X-Client-IP", "True-Client-IP", "X-Original-URI",
             "X-Original-URL", "X-Rewrite-URL", "Remote-User",
             "X-Forwarded-User", "X-Forwarded-Email", "X-Remote-User",
             "X-Forwarded-Groups", "X-Forwarded-Preferred-Username",
             "X-Auth-Request-User", "X-Auth-Request-Email"]


@pytest.fixture
def trusted_gateway(gateway):
    """trusted_gateway(underscore=False): its peer is a trusted proxy."""
    def start(underscore=False):
        return gateway(extra=(
            "limits:\n  allow_underscore_headers: true\n" if underscore
            else ""), trusted_proxies=("127.0.0.0/8",))
    return start


@pytest.mark.parametrize("trusted", [False, True])
def test_spoofable_identity_and_url_headers_are_stripped(
        gateway, trusted_gateway, trusted):
    gw = trusted_gateway() if trusted else gateway()
    sent = []
    for n in SPOOFABLE:
        sent += [n + ": spoof", n.upper() + ": spoof", n.lower() + ": spoof"]
    status, _, body = raw(gw, request("/hello", *sent, "X-Kept: 1"))
    assert status == 200
    up = echoed(body)
    assert [v for _, v in up if v == "spoof"] == [], up
    assert ("x-kept", "1") in up


def test_underscore_variants_are_stripped_when_allowed(trusted_gateway):
    gw = trusted_gateway(underscore=True)
    sent = [n.replace("-", "_") + ": spoof" for n in SPOOFABLE]
    status, _, body = raw(gw, request("/hello", *sent))
    assert status == 200
    assert [v for _, v in echoed(body) if v == "spoof"] == []


def forwarding(up):
    return {n: [v for k, v in up if k == n] for n in (
        "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto")}


def test_trusted_proxy_gives_one_forwarding_chain(trusted_gateway):
    gw = trusted_gateway()
    status, _, body = raw(gw, request(
        "/hello", "X-Forwarded-For: 203.0.113.7",
        "X-Forwarded-For: 198.51.100.2", "X-Forwarded-Host: app.example.com",
        "X-Forwarded-Proto: https", "x-forwarded-port: 443"))
    assert status == 200
    up = echoed(body)
    f = forwarding(up)
    assert f["x-forwarded-for"] == ["203.0.113.7, 198.51.100.2, 127.0.0.1"]
    assert f["x-forwarded-host"] == ["app.example.com"]
    assert f["x-forwarded-proto"] == ["https"]
    assert ("x-forwarded-port", "443") in up
    # the proxy's X-Forwarded-Proto never goes up beside ours: TLS ended
    # here, so https, on one line
    status, _, body = raw(gw, request("/hello", "X-Forwarded-Proto: http",
                                      "x-forwarded-proto: gopher"))
    assert forwarding(echoed(body))["x-forwarded-proto"] == ["https"]
    # without the proxy's: ours, once
    status, _, body = raw(gw, request("/hello"))
    f = forwarding(echoed(body))
    assert f == {"x-forwarded-for": ["127.0.0.1"],
                 "x-forwarded-host": ["localhost"],
                 "x-forwarded-proto": ["https"]}


def test_untrusted_client_forwarding_headers_are_replaced(gw):
    status, _, body = raw(gw, request(
        "/hello", "X-Forwarded-For: 203.0.113.7",
        "X-Forwarded-Host: evil.example", "X-FORWARDED-PROTO: http"))
    assert status == 200
    assert forwarding(echoed(body)) == {
        "x-forwarded-for": ["127.0.0.1"], "x-forwarded-host": ["localhost"],
        "x-forwarded-proto": ["https"]}


# ---- 4. Postern tokens in any spacing ----

SPACINGS = ["Bearer\t%s", "bearer %s", "BEARER %s", "Bearer   %s",
            "Bearer \t %s", "Bearer %s  ", "Bearer %s\t", "  Bearer %s"]


@pytest.mark.parametrize("fmt", SPACINGS)
def test_odd_bearer_spacing_is_our_token(grantgw, fmt):
    gw = grantgw
    key = new_key(gw, new_org(gw), "ping")
    status, _, body = raw(gw, request("/api/ping",
                                      "Authorization: " + fmt % key))
    assert status == 200, body
    up = dict(echoed(body))
    assert "authorization" not in up
    assert up["x-postern-user"] == "pk_" + key_id(key)
    # a bad key in that spacing is refused, and does not go upstream
    bad = key[:-4] + "AAAA"
    status, _, body = raw(gw, request("/api/ping",
                                      "Authorization: " + fmt % bad))
    assert status == 401


@pytest.mark.parametrize("fmt", SPACINGS + [
    "Bearerpk_%s", "Token %s", "%s", "Bearer PK_%s", "Basic x, Bearer %s"])
def test_postern_tokens_never_reach_the_upstream(grantgw, fmt):
    gw = grantgw
    key = new_key(gw, new_org(gw), "ping")
    tok = key[3:] if fmt.startswith("Bearerpk_") or "PK_" in fmt else key
    status, _, body = raw(gw, request("/public/x",
                                      "Authorization: " + fmt % tok))
    assert status == 200, body
    up = dict(echoed(body))
    assert "authorization" not in up, up
    assert key[20:] not in body.decode()


def test_other_authorization_still_reaches_the_upstream(grantgw):
    status, _, body = raw(grantgw, request("/public/x",
                                           "Authorization: Bearer abc.def"))
    assert dict(echoed(body))["authorization"] == "Bearer abc.def"


# ---- 5. Cookie header lines are one list ----

def session_cookie(gw):
    s, r = login(gw)
    assert r.status_code == 303
    return s.cookies["__Host-postern"]


def test_session_cookie_on_a_later_cookie_line(authgw):
    gw = authgw()
    sid = session_cookie(gw)
    status, _, body = raw(gw, request("/hello", "Cookie: app=1",
                                      "Cookie: __Host-postern=" + sid,
                                      "Cookie: other=2"))
    assert status == 200, body
    up = echoed(body)
    assert dict(up)["x-postern-email"] == gw.email
    cookies = [v for k, v in up if k == "cookie"]
    assert cookies == ["app=1", "other=2"], cookies
    assert sid not in body.decode()


@pytest.mark.parametrize("lines", [
    ["__Host-postern=%(sid)s; __Host-postern=%(other)s"],      # one line
    ["__Host-postern=%(sid)s", "__Host-postern=%(other)s"],    # two lines
    ["__Host-postern=%(other)s", "__Host-postern=%(sid)s"],
    ["a=1; __Host-postern=%(sid)s", "b=2; __Host-postern=%(sid)s"],
])
def test_gateway_cookie_twice_across_lines_is_ambiguous(authgw, lines):
    gw = authgw()
    sid = session_cookie(gw)
    other = session_cookie(gw)
    hdrs = ["Cookie: " + x % {"sid": sid, "other": other} for x in lines]
    status, _, body = raw(gw, request("/hello", *hdrs))
    assert status == 401, body          # as for one line: trust neither


def test_gateway_cookies_removed_from_every_line(authgw):
    gw = authgw()
    sid = session_cookie(gw)
    status, _, body = raw(gw, request(
        "/hello", "Cookie: __Host-postern=" + sid + "; a=1",
        "Cookie: __Host-postern-csrf=x", "Cookie: b=2; __Secure-postern-share=y"))
    assert status == 200, body
    cookies = [v for k, v in echoed(body) if k == "cookie"]
    assert cookies == ["a=1", "b=2"], cookies


# ---- 6. forms only as application/x-www-form-urlencoded ----

FORMS = ["/.postern/login", "/.postern/logout", "/.postern/2fa",
         "/.postern/2fa/setup", "/.postern/reauth", "/.postern/reset",
         "/.postern/account/password", "/.postern/account/2fa/disable"]


@pytest.mark.parametrize("ctype", [
    None, "text/plain", "application/json", "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded; charset=iso-8859-1",
    "application/x-www-form-urlencoded-x", "application/x-www-form-urlencodedx",
    "application/x-www-form-urlencoded; boundary=x",
    "application/x-www-form-urlencoded, text/plain",
    "text/x-www-form-urlencoded"])
def test_form_endpoints_refuse_other_content_types(authgw, ctype):
    gw = authgw()
    for path in FORMS:
        hdrs = ["Origin: " + gw.url]
        if ctype is not None:
            hdrs.append("Content-Type: " + ctype)
        status, _, _ = raw(gw, request(path, *hdrs, method=b"POST",
                                       body=b"email=a&password=b&csrf=c"))
        assert status == 415, (path, status)
    assert {e["reason"] for e in events(gw, "reject")} == \
        {"form_content_type"}


@pytest.mark.parametrize("ctype", [
    "application/x-www-form-urlencoded",
    "Application/X-WWW-Form-URLEncoded",
    "application/x-www-form-urlencoded;charset=utf-8",
    "application/x-www-form-urlencoded; charset=UTF-8",
    'application/x-www-form-urlencoded; charset="utf-8"'])
def test_form_endpoints_read_form_content_types(authgw, ctype):
    gw = authgw()
    for path in FORMS:
        status, _, _ = raw(gw, request(
            path, "Origin: " + gw.url, "Content-Type: " + ctype,
            method=b"POST", body=b"email=a&password=b&csrf=c"))
        assert status != 415, (path, ctype)


def test_shares_endpoint_refuses_other_content_types(grantgw):
    gw = grantgw
    key = new_key(gw, new_org(gw), "shares:create")
    r = requests.post(gw.url + "/.postern/shares", headers=dict(
        bearer(key), **{"Content-Type": "application/json"}),
        data='{"path": "/docs/a"}', verify=False, timeout=10)
    assert r.status_code == 415
