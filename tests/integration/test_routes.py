"""Routes decide on the live request path (gateway/policy/decide.c via auth.c).

A real postern with an app that has `routes:`, a real redis-server and
users and organisations made with the real `postern user add` and
`postern org add/member`.  The demo upstream echoes what it was sent, so
the tests see the tenant and role the gateway claimed upstream.
"""
import json
import time
import uuid

import jwt
import pytest
import redis
import requests

from conftest import run_postern
from gwproc import config_text, listener, read_response, tls_socket
from test_auth import (add_user, auth_extra, echo, headers_of, login,
                       make_key)

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
    - path: /secure/fresh
      fresh_auth: 1s
    - path: /app/**
      authenticated: true
"""


def start_gw(gateway, redis_server, tmp_path, app_extra, **kw):
    """A gateway with sessions and signing keys whose app has <app_extra>
    (its routes); <kw> go to write_config()."""
    extra = auth_extra(tmp_path) + "roles: [owner, admin, member, viewer]\n"
    make_key(tmp_path)
    return gateway(extra=extra, app_extra=app_extra, redis=redis_server,
                   protect=None, **kw)


def start_routes_gw(gateway, redis_server, tmp_path, **kw):
    """A gateway whose one app has ROUTES, with a fresh signed-up user;
    <kw> go to write_config() (plain_redirect, trusted_proxies, ...)."""
    gw = start_gw(gateway, redis_server, tmp_path, ROUTES, **kw)
    gw.email = "u-%s@example.com" % uuid.uuid4().hex[:10]
    add_user(gw, gw.email)
    return gw


@pytest.fixture
def routesgw(gateway, redis_server, tmp_path):
    return start_routes_gw(gateway, redis_server, tmp_path)


def new_org(gw):
    slug = "org-%s" % uuid.uuid4().hex[:8]
    r = run_postern("org", "add", "-c", str(gw.config), slug)
    assert r.returncode == 0, r.stderr
    return slug


def member(gw, slug, email, role):
    r = run_postern("org", "member", "-c", str(gw.config), slug, email,
                    "--role", role)
    assert r.returncode == 0, r.stderr


def signed_in(gw, email=None):
    s, r = login(gw, email=email)
    assert r.status_code == 303, r.text
    return s


def new_user(gw):
    email = "v-%s@example.com" % uuid.uuid4().hex[:10]
    add_user(gw, email)
    return email


def browser_get(s, gw, path):
    return s.get(gw.url + path, verify=False, timeout=10,
                 allow_redirects=False, headers={"Accept": "text/html"})


def test_public_route_needs_no_session_and_sends_no_identity(routesgw):
    gw = routesgw
    r = echo(requests, gw, "/public/a.css",
             headers={"X-Postern-Org": "evil", "X-Postern-User": "x"})
    assert r.status_code == 200, r.text
    h = headers_of(r)
    for name in ("x-postern-org", "x-postern-role", "x-postern-user",
                 "x-postern-assertion"):
        assert name not in h, h


def test_protected_route_redirects_browsers_and_401s_apis(routesgw):
    gw = routesgw
    r = browser_get(requests, gw, "/app/page?x=1")
    assert r.status_code == 302
    assert r.headers["Location"] == "/.postern/login?rd=/app/page%3Fx%3D1"
    r = echo(requests, gw, "/app/page")
    assert r.status_code == 401
    assert r.json()["error"] == "unauthenticated"
    assert set(r.json()) == {"error", "message", "request_id"}
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    # signed in, the plain authenticated route forwards
    r = echo(signed_in(gw), gw, "/app/page")
    assert r.status_code == 200
    assert headers_of(r)["x-postern-email"] == gw.email


def test_admin_of_the_org_reaches_admin_route_with_tenant_upstream(routesgw):
    gw = routesgw
    slug = new_org(gw)
    member(gw, slug, gw.email, "admin")
    s = signed_in(gw)
    r = echo(s, gw, "/orgs/%s/admin/users" % slug,
             headers={"X-Postern-Org": "evil", "X-Postern-Role": "owner"})
    assert r.status_code == 200, r.text
    h = headers_of(r)
    assert h["x-postern-org"] == slug
    assert h["x-postern-role"] == "admin"
    claims = jwt.decode(h["x-postern-assertion"],
                        options={"verify_signature": False})
    assert claims["org"] == slug and claims["role"] == "admin"


def test_tenant_comes_from_the_path_not_the_only_membership(routesgw):
    gw = routesgw
    mine, other = new_org(gw), new_org(gw)
    member(gw, mine, gw.email, "viewer")
    member(gw, other, gw.email, "admin")
    s = signed_in(gw)
    h = headers_of(echo(s, gw, "/orgs/%s/admin/x" % other))
    assert (h["x-postern-org"], h["x-postern-role"]) == (other, "admin")
    h = headers_of(echo(s, gw, "/orgs/%s/reports" % mine))
    assert (h["x-postern-org"], h["x-postern-role"]) == (mine, "viewer")
    # a route without a tenant claims none, even for several orgs
    h = headers_of(echo(s, gw, "/app/x"))
    assert "x-postern-org" not in h and "x-postern-role" not in h


def test_viewer_is_denied_the_admin_route(routesgw):
    gw = routesgw
    slug = new_org(gw)
    member(gw, slug, gw.email, "viewer")
    s = signed_in(gw)
    assert echo(s, gw, "/orgs/%s/admin/users" % slug).status_code == 403
    assert echo(s, gw, "/orgs/%s/reports" % slug).status_code == 200
    assert '"status":403' in gw.log() and '"reason":"role"' in gw.log()


def test_admin_of_another_org_is_denied_cross_tenant(routesgw):
    gw = routesgw
    mine, theirs = new_org(gw), new_org(gw)
    member(gw, mine, gw.email, "admin")
    s = signed_in(gw)
    for path in ("/orgs/%s/admin/users" % theirs, "/orgs/%s/x" % theirs):
        r = echo(s, gw, path, headers={"X-Postern-Org": theirs,
                                       "X-Postern-Role": "admin"})
        assert r.status_code == 403, path
    assert '"reason":"not_member"' in gw.log()
    assert echo(s, gw, "/orgs/%s/admin/users" % mine).status_code == 200


def test_unknown_path_is_denied_by_default(routesgw):
    gw = routesgw
    assert echo(requests, gw, "/nothing/here").status_code == 403
    s = signed_in(gw)
    assert echo(s, gw, "/nothing/here").status_code == 403
    assert browser_get(s, gw, "/").status_code == 403


def test_bad_tenant_in_the_path_is_not_found(routesgw):
    gw = routesgw
    assert echo(requests, gw, "/orgs/Bad_Org/x").status_code == 404


def test_mfa_route_sends_a_password_session_to_2fa(routesgw):
    gw = routesgw
    s = signed_in(gw)
    r = browser_get(s, gw, "/secure/mfa")
    assert r.status_code == 302
    assert r.headers["Location"] == "/.postern/2fa?rd=/secure/mfa"
    r = echo(s, gw, "/secure/mfa")
    assert r.status_code == 401
    assert "insufficient_user_authentication" in \
        r.headers["WWW-Authenticate"]
    # without a session it is a sign-in first
    r = browser_get(requests, gw, "/secure/mfa")
    assert r.headers["Location"].startswith("/.postern/login?")


def test_fresh_auth_route_steps_up_an_old_session(routesgw):
    gw = routesgw
    s = signed_in(gw)
    assert echo(s, gw, "/secure/fresh").status_code == 200
    time.sleep(2.2)
    r = browser_get(s, gw, "/secure/fresh")
    assert r.status_code == 302
    assert r.headers["Location"] == "/.postern/reauth?rd=/secure/fresh"
    assert echo(s, gw, "/secure/fresh").status_code == 401


def test_check_requires_secret_and_key_for_protected_routes(tmp_path):
    pol = tmp_path / "p.yaml"
    pol.write_text("app:\n  name: p\n  hosts: [p.example]\n"
                   "  upstream: http://127.0.0.1:9\n" + ROUTES)
    cfg = tmp_path / "postern.yaml"
    cfg.write_text(config_text([listener(1, tls=False)],
                               policies=["p.yaml"],
                               extra="roles: [owner, admin, member, viewer]\n"))
    r = run_postern("check", "-c", str(cfg))
    assert r.returncode == 1
    assert "app 'p' has routes that are not public, which needs " \
        "secret_file" in r.stderr
    assert "which needs assertion.key_file" in r.stderr
    # only public routes: no keys needed
    pol.write_text("app:\n  name: p\n  hosts: [p.example]\n"
                   "  upstream: http://127.0.0.1:9\n  routes:\n"
                   "    - path: /**\n      public: true\n")
    r = run_postern("check", "-c", str(cfg))
    assert r.returncode == 0, r.stderr


# ---- what the matcher sees is what the upstream gets ----

SPELLING = """\
  org: %s
%s  routes:
    - path: /admin/**
      role: admin
    - path: /**
      role: member
"""


def spelling_gw(gateway, redis_server, tmp_path, paths):
    """A gateway whose app protects /admin for admins only, the rest for
    members, with <paths> ("" or "  paths: ...\\n"); a member signed in."""
    slug = "org-%s" % uuid.uuid4().hex[:8]
    gw = start_gw(gateway, redis_server, tmp_path, SPELLING % (slug, paths))
    r = run_postern("org", "add", "-c", str(gw.config), slug)
    assert r.returncode == 0, r.stderr
    gw.slug = slug
    gw.email = new_user(gw)
    member(gw, slug, gw.email, "member")
    gw.session = signed_in(gw, gw.email)
    return gw


def raw_get(gw, target, session=None):
    """GET <target> (bytes, sent as is) over TLS; (status, JSON or None)."""
    cookie = b""
    if session is not None:
        cookie = b"Cookie: __Host-postern=%s\r\n" % \
            session.cookies.get("__Host-postern").encode()
    req = (b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\n" + cookie +
           b"Accept: application/json\r\nConnection: close\r\n\r\n")
    with tls_socket(gw) as s:
        s.sendall(req)
        status, _, body, _ = read_response(s.makefile("rb"))
    try:
        return status, json.loads(body)
    except ValueError:
        return status, None


def upstream_path(gw, target):
    status, body = raw_get(gw, target, gw.session)
    assert status == 200, (target, status)
    return body["path"]


# Each of these reaches the upstream as a path under /admin (or one a
# framework reads so): a member must be refused, whatever the spelling.
ADMIN_SPELLINGS = [
    b"/admin", b"/admin/x", b"/admin;x", b"/admin%3bx", b"/admin%3B",
    b"/ADMIN%3b/../admin/x", b"/;x/admin", b"/%3Bx/admin/y", b"/;/;/admin",
    b"/x/%2e%2e/admin", b"/%61dmin", b"//admin",
]
# Refused before any policy (400), whoever asks.
REFUSED_SPELLINGS = [
    (b"/admin%253Bx", "path_double_encoded"),
    (b"/%2561dmin", "path_double_encoded"),
    (b"/admin%252F", "path_double_encoded"),
    (b"/%C0%AEadmin", "path_overlong_utf8"),
    (b"/x/%C0%AE%C0%AE/admin", "path_overlong_utf8"),
    (b"/x%C0%AFadmin", "path_overlong_utf8"),
    (b"/x/\xe0\x80\xae\xe0\x80\xae/admin", "path_overlong_utf8"),
    (b"/admin/..%3B/x", "path_dot_param"),
    (b"/admin%2Fx", "path_encoded_slash"),
    (b"/admin%5Cx", "path_backslash"),
    (b"/admin%00", "path_nul"),
]


def test_semicolon_and_encodings_never_dodge_the_admin_route(
        gateway, redis_server, tmp_path):
    gw = spelling_gw(gateway, redis_server, tmp_path, "")
    for target in ADMIN_SPELLINGS:
        status, _ = raw_get(gw, target, gw.session)
        assert status == 403, (target, status)
    for target, reason in REFUSED_SPELLINGS:
        status, _ = raw_get(gw, target, gw.session)
        assert status == 400, (target, status)
        assert reason in gw.log(), (target, reason)
    # the upstream gets the spelling the routes matched: ";" decoded,
    # escapes of unreserved characters decoded, dot-segments gone
    assert upstream_path(gw, b"/x%3bjsessionid=1") == "/x;jsessionid=1"
    assert upstream_path(gw, b"/a/%2e%2e/b%3Bv") == "/b;v"
    assert upstream_path(gw, b"/a;x/../b") == "/b"
    assert upstream_path(gw, b"/%41b/c") == "/Ab/c"
    assert upstream_path(gw, b"/100%25") == "/100%25"
    # the default is case-sensitive: /ADMIN is another path, as it is
    # to a case-sensitive upstream
    assert upstream_path(gw, b"/ADMIN") == "/ADMIN"


def test_case_insensitive_app_folds_before_matching(
        gateway, redis_server, tmp_path):
    gw = spelling_gw(gateway, redis_server, tmp_path,
                     "  paths: case_insensitive\n")
    for target in ADMIN_SPELLINGS + [
            b"/ADMIN", b"/%41DMIN", b"/%41dMiN/x", b"/Admin;x",
            b"/ADMIN%3Bx", b"/;x/AdMiN",
            # what a folding upstream (Java, .NET) or Windows reads as
            # /admin: dotless i, long s, Kelvin sign, trailing dot/space
            b"/adm%C4%B1n", b"/adm\xc4\xb1n/x", b"/%E2%84%AAx",
            b"/%EF%BC%A1DMIN", b"/\xef\xbc\xa1dmin/x",
            b"/admin.", b"/ADMIN./x", b"/admin%20/x"]:
        status, _ = raw_get(gw, target, gw.session)
        assert status == 403, (target, status)
    for target, _ in REFUSED_SPELLINGS:
        assert raw_get(gw, target, gw.session)[0] == 400, target
    # the upstream gets the request's own spelling: it folds case itself
    assert upstream_path(gw, b"/Hello/%41") == "/Hello/A"
    assert upstream_path(gw, b"/a.b/c") == "/a.b/c"
    # an admin of the org reaches /ADMIN, forwarded as /ADMIN
    member(gw, gw.slug, gw.email, "admin")
    gw.session = signed_in(gw, gw.email)
    assert upstream_path(gw, b"/ADMIN/x") == "/ADMIN/x"
    assert upstream_path(gw, b"/%41DMIN") == "/ADMIN"


def test_policy_test_shows_the_matched_path(gateway, redis_server, tmp_path):
    gw = spelling_gw(gateway, redis_server, tmp_path,
                     "  paths: case_insensitive\n")
    base = ["policy", "test", "-c", str(gw.config), "--user", gw.email,
            "--org-role", "%s=member" % gw.slug, "--method", "GET"]
    r = run_postern(*base, "--url", "https://localhost/%41DMIN%3bx")
    assert r.returncode == 0, r.stderr
    assert "decision: deny (403)" in r.stdout
    assert "path: /ADMIN;x (routes compare it in any case)" in r.stdout
    r = run_postern(*base, "--url", "https://localhost/adm%C4%B1n")
    assert "reason: path_case_ambiguous" in r.stdout
    r = run_postern(*base, "--url", "https://localhost/admin%253Bx")
    assert r.returncode == 1
    assert "reason: path_double_encoded" in r.stdout


# ---- return-to URLs on {org} hosts ----

TENANT_HOSTS = """\
app:
  name: tenanted
  hosts: ["{org}.tenant.test", tenant.test]
  upstream: http://127.0.0.1:9
  routes:
    - path: /**
      role: viewer
"""


@pytest.fixture
def rdgw(gateway, redis_server, tmp_path):
    """A gateway with a second app on {org}.tenant.test; a user."""
    gw = start_gw(gateway, redis_server, tmp_path, ROUTES,
                  more_apps=[("t.yaml", TENANT_HOSTS)])
    gw.email = new_user(gw)
    gw.redis = redis.Redis(host=redis_server[0], port=redis_server[1])
    return gw


def test_rd_to_an_org_host_needs_the_org_to_exist(rdgw):
    gw = rdgw
    slug = new_org(gw)
    for rd in ("https://%s.tenant.test/dash?x=1" % slug,
               "https://%s.tenant.test" % slug.upper(),
               "https://%s.tenant.test:8443/" % slug,
               "https://tenant.test/", "/app/x"):
        _, r = login(gw, email=gw.email, rd=rd)
        assert r.status_code == 303, (rd, r.status_code)
        assert r.headers["Location"] == rd
    # a name under the pattern that no org holds is nobody's app: an
    # attacker who takes that DNS name must not get a redirect to it
    ghost = "ghost-%s" % uuid.uuid4().hex[:8]
    for rd in ("https://%s.tenant.test/" % ghost,
               "https://%s.tenant.test/dash" % ghost.upper(),
               "https://%s%s.tenant.test/" % (slug, "x"),
               "https://%s.tenant.test/" % ("a" * 70),
               "https://org-.tenant.test/", "https://-x.tenant.test/"):
        _, r = login(gw, email=gw.email, rd=rd)
        assert r.status_code == 303, rd
        assert r.headers["Location"] == "/", rd
    assert '"detail":"rd_unknown_org"' in gw.log()
    # the step-up page keeps the same rule for where it sends back
    s = signed_in(gw, gw.email)
    r = browser_get(s, gw, "/.postern/reauth?rd=https://%s.tenant.test/x"
                    % ghost)
    assert r.status_code == 200
    assert 'name="rd" value="/"' in r.text
    r = browser_get(s, gw, "/.postern/reauth?rd=https://%s.tenant.test/x"
                    % slug)
    assert 'name="rd" value="https://%s.tenant.test/x"' % slug in r.text


def test_rd_falls_back_when_redis_cannot_say(rdgw):
    """Redis refusing the org lookup (an ACL denies EXISTS to the gateway's
    user, for this test only) sends the user to "/", never onwards."""
    gw = rdgw
    slug = new_org(gw)
    rd = "https://%s.tenant.test/dash" % slug
    gw.redis.execute_command("ACL", "SETUSER", "default", "-exists")
    try:
        _, r = login(gw, email=gw.email, rd=rd)
    finally:
        gw.redis.execute_command("ACL", "SETUSER", "default", "+exists")
    assert r.status_code == 303
    assert r.headers["Location"] == "/"
    assert '"detail":"rd_org_unavailable"' in gw.log()
    _, r = login(gw, email=gw.email, rd=rd)
    assert r.headers["Location"] == rd
