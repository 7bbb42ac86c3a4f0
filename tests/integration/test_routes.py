"""Routes decide on the live request path (gateway/decide.c via auth.c).

A real postern with an app that has `routes:`, a real redis-server and
users and organisations made with the real `postern user add` and
`postern org add/member`.  The demo upstream echoes what it was sent, so
the tests see the tenant and role the gateway claimed upstream.
"""
import time
import uuid

import jwt
import pytest
import requests

from conftest import run_postern
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


def start_routes_gw(gateway, redis_server, tmp_path, **kw):
    """A gateway whose one app has ROUTES, with a fresh signed-up user;
    <kw> go to write_config() (plain_redirect, trusted_proxies, ...)."""
    extra = auth_extra(tmp_path) + "roles: [owner, admin, member, viewer]\n"
    cfgpath = tmp_path / "postern.yaml"
    cfgpath.write_text("assertion:\n  key_file: %s\n"
                       % (tmp_path / "assertion.pem"))
    make_key(tmp_path, cfgpath)
    gw = gateway(extra=extra, app_extra=ROUTES, redis=redis_server,
                 protect=None, **kw)
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
    assert r.json() == {"error": "unauthenticated"}
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
    assert '"status":"403"' in gw.log() and '"reason":"role"' in gw.log()


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
    cfg.write_text("server:\n  listen:\n    - address: \"127.0.0.1:1\"\n"
                   "      tls: false\nroles: [owner, admin, member, viewer]\n"
                   "policies: [p.yaml]\n")
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
