"""API keys and share links (gateway/identity/grants/grant.c, authgrant.c, grantcmd.c).

A real postern, a real redis-server, the real demo upstream (which echoes
what it received, so the tests see exactly what went upstream), keys and
links made with the real `postern apikey` / `postern share` commands and
with POST /.postern/shares.  Written as an attacker would try them: wrong
secrets, other tenants, other paths, methods and apps, revoked and expired
grants, tokens leaking upstream.
"""
import hashlib
import re
import signal
import time
import uuid

import jwt
import pytest
import redis
import requests

from conftest import run_postern
from test_auth import (PASSWORD, add_user, auth_extra, headers_of, login,
                       make_key)
from test_mfa import csrf_of
from test_routes import new_org

ROUTES = """\
  routes:
    - path: /public/**
      public: true
    - path: /api/orgs/{org}/**
      auth: [apikey]
      scopes: [invoices:read]
    - path: /api/ping
      auth: [apikey]
      scopes: [ping]
    - path: /invoices/{id}/pay
      auth: [share, session]
    - path: /docs/**
      auth: [share]
    - path: /orgs/{org}/contracts/**
      auth: [share]
    - path: /orgs/{org}/**
      role: executive
    - path: /app/**
      authenticated: true
"""

OTHER_APP = """\
app:
  name: other
  hosts: [other.test]
  upstream: http://%s:%d
  routes:
    - path: /invoices/{id}/pay
      auth: [share]
"""

TENANT_APP = """\
app:
  name: tenanted
  hosts: ["{org}.tenant.test", tenant.test]
  upstream: http://%s:%d
  routes:
    - path: /status
      auth: [apikey]
      scopes: [ping]
      any_org: true
    - path: /api/**
      auth: [apikey]
      scopes: [ping]
    - path: /pay/{id}
      auth: [share]
    - path: /**
      role: viewer
"""

LADDER = "roles: [owner, executive, admin, member, viewer]\n"


@pytest.fixture
def grantgw(gateway, redis_server, upstream, tmp_path):
    extra = auth_extra(tmp_path) + LADDER
    make_key(tmp_path)
    gw = gateway(extra=extra, app_extra=ROUTES, redis=redis_server,
                 protect=None,
                 more_apps=[("other.yaml", OTHER_APP % upstream),
                            ("tenant.yaml", TENANT_APP % upstream)])
    gw.redis = redis.Redis(host=redis_server[0], port=redis_server[1])
    return gw


def new_key(gw, org, *scopes, extra=()):
    args = ["apikey", "create", "-c", str(gw.config), "--org", org]
    for s in scopes:
        args += ["--scope", s]
    r = run_postern(*args, *extra)
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip()
    assert re.fullmatch(r"pk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}", key), key
    return key


def key_id(key):
    return key[3:19]


def bearer(key):
    return {"Authorization": "Bearer " + key}


def get(gw, path, headers=None, s=None, method="GET", host=None, **kw):
    h = {"Accept": "application/json"}
    if host:
        h["Host"] = host
    h.update(headers or {})
    return (s or requests).request(method, gw.url + path, verify=False,
                                   timeout=10, headers=h,
                                   allow_redirects=False, **kw)


def new_share(gw, path, *extra, app="demo"):
    r = run_postern("share", "create", "-c", str(gw.config), "--app", app,
                    "--path", path, "--host", "127.0.0.1", *extra)
    assert r.returncode == 0, r.stderr
    url = r.stdout.strip()
    m = re.fullmatch(r"https://127\.0\.0\.1(/[^?]*)\?postern_share="
                     r"(ps_([0-9a-f]{16})_[A-Za-z0-9_-]{43})", url)
    assert m and m.group(1) == path, url
    return m.group(2), m.group(3)


def open_share(gw, path, token, s=None, query=""):
    s = s or requests.Session()
    r = get(gw, "%s?%spostern_share=%s" % (path, query, token), s=s,
            headers={"Accept": "text/html"})
    return s, r


# ---- API keys ----

def test_apikey_is_printed_once_and_only_its_hash_is_stored(grantgw):
    gw = grantgw
    org = new_org(gw)
    key = new_key(gw, org, "invoices:read", extra=["--name", "billing job"])
    secret = key[20:]
    rec = gw.redis.hgetall("postern:apikey:" + key_id(key))
    assert rec[b"hash"].decode() == hashlib.sha256(
        secret.encode()).hexdigest()
    assert rec[b"org"].decode() == org
    assert rec[b"scopes"] == b"invoices:read"
    for k in gw.redis.scan_iter("postern:*"):
        if gw.redis.type(k) == b"hash":
            for v in gw.redis.hvals(k):
                assert secret.encode() not in v
    r = run_postern("apikey", "list", "-c", str(gw.config), "--org", org)
    assert r.returncode == 0
    assert key_id(key) in r.stdout and "billing job" in r.stdout
    assert secret not in r.stdout


def test_apikey_reaches_its_org_route_with_identity_upstream(grantgw):
    gw = grantgw
    org = new_org(gw)
    key = new_key(gw, org, "invoices:read")
    h = dict(bearer(key), **{"X-Postern-User": "admin",
                             "X-Postern-Org": "evil",
                             "X-Postern-Auth": "session"})
    r = get(gw, "/api/orgs/%s/invoices" % org, headers=h)
    assert r.status_code == 200, r.text
    up = headers_of(r)
    assert up["x-postern-auth"] == "apikey"
    assert up["x-postern-user"] == "pk_" + key_id(key)
    assert up["x-postern-org"] == org
    assert "authorization" not in up     # the key never goes upstream
    assert "x-postern-email" not in up and "x-postern-role" not in up
    claims = jwt.decode(up["x-postern-assertion"],
                        options={"verify_signature": False})
    assert claims["auth"] == "apikey" and claims["org"] == org
    assert claims["sub"] == "pk_" + key_id(key)
    assert claims["scope"] == "invoices:read"
    # a bearer key signs no person in: no amr, so an upstream requiring a
    # second factor (amr containing "mfa") refuses it
    assert "amr" not in claims
    assert jwt.get_unverified_header(up["x-postern-assertion"])["typ"] == \
        "postern-assertion+jwt"
    # last_used is stamped
    assert gw.redis.hget("postern:apikey:" + key_id(key), "last_used")


def test_apikey_of_another_org_is_denied_cross_tenant(grantgw):
    gw = grantgw
    mine, theirs = new_org(gw), new_org(gw)
    key = new_key(gw, mine, "invoices:read")
    r = get(gw, "/api/orgs/%s/invoices" % theirs, headers=bearer(key))
    assert r.status_code == 403
    assert '"reason":"key_org"' in gw.log()
    # path confusion does not move the tenant either
    for path in ("/api/orgs/%s/../%s/invoices" % (mine, theirs),
                 "/api/orgs/%s/%%2e%%2e/%s/invoices" % (mine, theirs),
                 "/api/orgs/%s;x/invoices" % theirs):
        assert get(gw, path, headers=bearer(key)).status_code in (400, 403)


def test_host_tenant_binds_keys_shares_and_members(grantgw):
    gw = grantgw
    mine, theirs = new_org(gw), new_org(gw)
    key = new_key(gw, mine, "ping")
    r = get(gw, "/api/x", headers=bearer(key), host=mine + ".tenant.test")
    assert r.status_code == 200
    assert headers_of(r)["x-postern-org"] == mine
    r = get(gw, "/api/x", headers=bearer(key), host=theirs + ".tenant.test")
    assert r.status_code == 403
    r = get(gw, "/api/x", headers=bearer(key),
            host=mine.upper() + ".tenant.test")
    assert r.status_code in (200, 403, 404, 421)
    # a member of one org is not a member of the other
    email = "t-%s@example.com" % uuid.uuid4().hex[:10]
    add_user(gw, email)
    run_postern("org", "member", "-c", str(gw.config), mine, email,
                "--role", "viewer")
    # signed in on the tenant's own host: a session is only valid on the
    # hosts of the app it was made on
    host = "%s.tenant.test:%d" % (mine, gw.https_port)
    s = requests.Session()
    page = get(gw, "/.postern/login", s=s, host=host)
    r = s.post(gw.url + "/.postern/login", verify=False,
               allow_redirects=False,
               headers={"Host": host, "Origin": "https://" + host},
               data={"email": email, "password": PASSWORD,
                     "csrf": csrf_of(page.text)})
    assert r.status_code == 303, r.text
    cookie = {"Cookie": "__Host-postern=" + s.cookies.get("__Host-postern")}
    assert get(gw, "/home", headers=cookie,
               host=mine + ".tenant.test").status_code == 200
    assert get(gw, "/home", headers=cookie,
               host=theirs + ".tenant.test").status_code == 403
    # a share made for one org's host opens nothing on the other's
    r = run_postern("share", "create", "-c", str(gw.config), "--app",
                    "tenanted", "--org", mine, "--path", "/pay/1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("https://%s.tenant.test/pay/1?" % mine)
    token = r.stdout.strip().split("postern_share=")[1]
    jar = {"Cookie": "__Secure-postern-share=" + token}
    assert get(gw, "/pay/1", headers=jar,
               host=mine + ".tenant.test").status_code == 200
    assert get(gw, "/pay/1", headers=jar,
               host=theirs + ".tenant.test").status_code == 403
    assert '"reason":"share_org"' in gw.log()


def test_tenantless_host_honours_no_key_or_share_of_an_org(grantgw):
    """The bare host of an app with {org} hosts has no tenant: a key or
    link of any org would fit it, so only an any_org route takes one."""
    gw = grantgw
    mine = new_org(gw)
    key = new_key(gw, mine, "ping")
    assert get(gw, "/api/x", headers=bearer(key),
               host=mine + ".tenant.test").status_code == 200
    for host in ("tenant.test", "TENANT.test", "tenant.test:443",
                 "tenant.test."):
        r = get(gw, "/api/x", headers=bearer(key), host=host)
        assert r.status_code in (400, 403, 404, 421), (host, r.status_code)
    assert '"reason":"tenantless"' in gw.log()
    for path in ("/api/x/../y", "/API/x", "/api;x", "/api%3Bx/y"):
        r = get(gw, path, headers=bearer(key), host="tenant.test")
        assert r.status_code in (400, 403, 404), (path, r.status_code)
    # the route that says any_org takes it, and sends the key's org
    r = get(gw, "/status", headers=bearer(key), host="tenant.test")
    assert r.status_code == 200, r.text
    assert headers_of(r)["x-postern-org"] == mine
    # a share link of the org's host opens nothing on the bare host
    r = run_postern("share", "create", "-c", str(gw.config), "--app",
                    "tenanted", "--org", mine, "--path", "/pay/1")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip().split("postern_share=")[1]
    jar = {"Cookie": "__Secure-postern-share=" + token}
    assert get(gw, "/pay/1", headers=jar,
               host=mine + ".tenant.test").status_code == 200
    for method in ("GET", "HEAD"):
        assert get(gw, "/pay/1", headers=jar, host="tenant.test",
                   method=method).status_code == 403, method
    # nor can one be made for the bare host
    r = run_postern("share", "create", "-c", str(gw.config), "--app",
                    "tenanted", "--host", "tenant.test", "--path", "/pay/1")
    assert r.returncode != 0


def test_apikey_needs_every_scope_of_the_route(grantgw):
    gw = grantgw
    org = new_org(gw)
    key = new_key(gw, org, "ping")
    assert get(gw, "/api/ping", headers=bearer(key)).status_code == 200
    r = get(gw, "/api/orgs/%s/invoices" % org, headers=bearer(key))
    assert r.status_code == 403
    assert '"reason":"scope"' in gw.log()


def test_wrong_or_malformed_keys_are_401(grantgw):
    gw = grantgw
    org = new_org(gw)
    key = new_key(gw, org, "ping")
    flipped = key[:-1] + ("A" if key[-1] != "A" else "B")
    other_secret = key[:20] + "x" * 43
    for bad in (flipped, other_secret, "pk_" + "0" * 16 + "_" + "a" * 43,
                key[:-1], key + "A", "pk_" + key_id(key), "pk_",
                key.upper(), key.replace("pk_", "ps_"), key + " extra",
                key + ",x"):
        r = get(gw, "/api/ping", headers=bearer(bad))
        assert r.status_code == 401, bad
        assert 'error="invalid_token"' in r.headers.get(
            "WWW-Authenticate", "") or r.status_code == 401
    # no key at all on a route that takes no sessions: 401, not a login page
    r = get(gw, "/api/ping", headers={"Accept": "text/html"})
    assert r.status_code == 401 and "Location" not in r.headers
    assert get(gw, "/api/ping", headers=bearer(key)).status_code == 200
    assert key[20:] not in gw.log()


def test_revoked_key_fails_at_once(grantgw):
    gw = grantgw
    org = new_org(gw)
    key = new_key(gw, org, "ping")
    assert get(gw, "/api/ping", headers=bearer(key)).status_code == 200
    r = run_postern("apikey", "revoke", "-c", str(gw.config), key_id(key))
    assert r.returncode == 0, r.stderr
    assert get(gw, "/api/ping", headers=bearer(key)).status_code == 401
    r = run_postern("apikey", "revoke", "-c", str(gw.config), key_id(key))
    assert r.returncode == 1 and "no API key" in r.stderr
    assert not gw.redis.exists("postern:apikey:" + key_id(key))


def test_expired_key_is_refused(grantgw):
    gw = grantgw
    org = new_org(gw)
    key = new_key(gw, org, "ping", extra=["--expires", "1h"])
    assert get(gw, "/api/ping", headers=bearer(key)).status_code == 200
    rec = "postern:apikey:" + key_id(key)
    assert abs(int(gw.redis.hget(rec, "expires")) - time.time() - 3600) < 60
    gw.redis.hset(rec, "expires", int(time.time()) - 1)
    assert get(gw, "/api/ping", headers=bearer(key)).status_code == 401


def test_per_key_rate_limit_is_shared_and_per_key(grantgw):
    gw = grantgw
    org = new_org(gw)
    key = new_key(gw, org, "ping", extra=["--rate", "5"])
    other = new_key(gw, org, "ping", extra=["--rate", "5"])
    codes = [get(gw, "/api/ping", headers=bearer(key)).status_code
             for _ in range(5)]
    assert codes == [200] * 5
    r = get(gw, "/api/ping", headers=bearer(key))
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 13
    assert get(gw, "/api/ping", headers=bearer(other)).status_code == 200
    # someone without the secret cannot spend the key's budget
    fake = key[:20] + "y" * 43
    for _ in range(20):
        get(gw, "/api/ping", headers=bearer(fake))
    assert get(gw, "/api/ping", headers=bearer(other)).status_code == 200


def test_key_on_a_route_that_takes_sessions_only(grantgw):
    gw = grantgw
    org = new_org(gw)
    key = new_key(gw, org, "invoices:read")
    # not accepted there: as if there were no credentials
    assert get(gw, "/app/x", headers=bearer(key)).status_code == 401
    # and never forwarded, even on a public route
    r = get(gw, "/public/x", headers=bearer(key))
    assert r.status_code == 200
    assert "authorization" not in headers_of(r)
    # the app's own Authorization schemes still pass
    r = get(gw, "/public/x", headers={"Authorization": "Basic dTpw"})
    assert headers_of(r)["authorization"] == "Basic dTpw"


def test_apikey_create_checks_its_input(grantgw):
    gw = grantgw
    base = ["apikey", "create", "-c", str(gw.config)]
    r = run_postern(*base, "--org", "no-such-org-x", "--scope", "a")
    assert r.returncode == 1 and "no organisation" in r.stderr
    r = run_postern(*base, "--org", new_org(gw))
    assert r.returncode == 2
    r = run_postern(*base, "--org", "acme", "--scope", "Bad Scope")
    assert r.returncode == 2
    r = run_postern(*base, "--org", "acme", "--scope", "a", "--expires",
                    "soon")
    assert r.returncode == 2
    r = run_postern(*base, "--org", "acme", "--scope", "a", "--rate", "0")
    assert r.returncode == 2


# ---- share links ----

def test_share_link_sets_a_path_cookie_and_drops_the_token(grantgw):
    gw = grantgw
    token, sid = new_share(gw, "/invoices/123/pay")
    s, r = open_share(gw, "/invoices/123/pay", token, query="lang=en&")
    assert r.status_code == 303, r.text
    assert r.headers["Location"] == "/invoices/123/pay?lang=en"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    sc = r.headers["Set-Cookie"]
    assert sc.startswith("__Secure-postern-share=%s;" % token)
    for attr in ("Path=/invoices/123/pay", "Secure", "HttpOnly",
                 "SameSite=Lax"):
        assert attr in sc, sc
    r = get(gw, "/invoices/123/pay?lang=en", s=s)
    assert r.status_code == 200, r.text
    info = r.json()
    up = headers_of(r)
    assert up["x-postern-auth"] == "share"
    assert up["x-postern-user"] == "ps_" + sid
    assert "amr" not in jwt.decode(up["x-postern-assertion"],
                                   options={"verify_signature": False})
    assert token not in r.text          # not in the query, cookie, headers
    assert info["query"] == "lang=en"
    assert "postern" not in up.get("cookie", "")
    assert token not in gw.log()


def test_share_opens_its_resource_only(grantgw):
    gw = grantgw
    token, _ = new_share(gw, "/invoices/123/pay")
    s, r = open_share(gw, "/invoices/123/pay", token)
    assert r.status_code == 303
    cookie = s.cookies.get("__Secure-postern-share")
    jar = {"Cookie": "__Secure-postern-share=" + cookie}
    # another resource, with the token or the cookie
    assert open_share(gw, "/invoices/124/pay", token)[1].status_code == 403
    assert get(gw, "/invoices/124/pay", headers=jar).status_code == 403
    assert get(gw, "/invoices/123/pay/x", headers=jar).status_code == 403
    assert get(gw, "/invoices/123/pay;x", headers=jar).status_code == 403
    assert get(gw, "/docs/a", headers=jar).status_code == 403
    # another method
    assert get(gw, "/invoices/123/pay", headers=jar,
               method="POST").status_code == 403
    assert '"reason":"share_method"' in gw.log()
    # another app, same path
    r = get(gw, "/invoices/123/pay", headers=jar, host="other.test")
    assert r.status_code == 403
    r = get(gw, "/invoices/123/pay?postern_share=" + token,
            host="other.test", headers={"Accept": "text/html"})
    assert r.status_code == 403
    assert '"reason":"share_app"' in gw.log()
    # the right one still works
    assert get(gw, "/invoices/123/pay", headers=jar).status_code == 200


def test_share_methods_and_prefix(grantgw):
    gw = grantgw
    token, _ = new_share(gw, "/docs/guide", "--prefix", "--method", "GET",
                         "--method", "POST")
    s, r = open_share(gw, "/docs/guide/intro", token)
    assert r.status_code == 303
    assert "Path=/docs/guide;" in r.headers["Set-Cookie"]
    for path in ("/docs/guide", "/docs/guide/intro", "/docs/guide/a/b"):
        assert get(gw, path, s=s).status_code == 200, path
    assert get(gw, "/docs/guide", s=s, method="POST").status_code == 200
    assert get(gw, "/docs/guide", s=s, method="DELETE").status_code == 403
    # a link for GET admits HEAD, as a route's GET does
    token, _ = new_share(gw, "/docs/head", "--method", "GET")
    s, r = open_share(gw, "/docs/head", token)
    assert r.status_code == 303
    r = get(gw, "/docs/head", s=s, method="HEAD")
    assert r.status_code == 200 and r.content == b""
    assert get(gw, "/docs/head", s=s).status_code == 200
    for method in ("POST", "PUT", "DELETE"):
        assert get(gw, "/docs/head", s=s, method=method).status_code == 403
    jar = {"Cookie": "__Secure-postern-share=" +
           s.cookies.get("__Secure-postern-share")}
    assert get(gw, "/docs/guidex", headers=jar).status_code == 403
    assert get(gw, "/docs/other", headers=jar).status_code == 403


def test_share_of_a_tenant_resource_is_bound_to_its_org(grantgw):
    gw = grantgw
    mine, theirs = new_org(gw), new_org(gw)
    path = "/orgs/%s/contracts/7" % mine
    token, _ = new_share(gw, path, "--org", mine)
    s, r = open_share(gw, path, token)
    assert r.status_code == 303
    r = get(gw, path, s=s)
    assert r.status_code == 200 and headers_of(r)["x-postern-org"] == mine
    # not shareable without the org, nor under another org's path
    r = run_postern("share", "create", "-c", str(gw.config), "--app",
                    "demo", "--path", path, "--host", "127.0.0.1")
    assert r.returncode == 1 and "share_org" in r.stderr
    r = run_postern("share", "create", "-c", str(gw.config), "--app",
                    "demo", "--path", "/orgs/%s/contracts/7" % theirs,
                    "--org", mine, "--host", "127.0.0.1")
    assert r.returncode == 1


def test_share_create_refuses_routes_that_take_no_shares(grantgw):
    gw = grantgw
    for path in ("/app/x", "/api/ping", "/nowhere", "/invoices/1/pay/../x",
                 "/invoices//1/pay", "/invoices/%31/pay", "invoices"):
        r = run_postern("share", "create", "-c", str(gw.config), "--app",
                        "demo", "--path", path, "--host", "127.0.0.1")
        assert r.returncode in (1, 2), path
    r = run_postern("share", "create", "-c", str(gw.config), "--app",
                    "nope", "--path", "/docs/a")
    assert r.returncode == 1 and "no app" in r.stderr


def test_revoked_or_expired_share_stops_working(grantgw):
    gw = grantgw
    token, sid = new_share(gw, "/invoices/9/pay")
    s, r = open_share(gw, "/invoices/9/pay", token)
    assert get(gw, "/invoices/9/pay", s=s).status_code == 200
    r = run_postern("share", "revoke", "-c", str(gw.config), sid)
    assert r.returncode == 0, r.stderr
    r = get(gw, "/invoices/9/pay", s=s, headers={"Accept": "text/html"})
    assert r.status_code == 403
    assert "__Secure-postern-share=;" in r.headers.get("Set-Cookie", "")
    assert open_share(gw, "/invoices/9/pay", token)[1].status_code == 403
    token, sid = new_share(gw, "/invoices/10/pay", "--expires", "3s")
    key = "postern:share:" + sid
    assert 0 < gw.redis.ttl(key) <= 3         # Redis drops it with the grant
    s, r = open_share(gw, "/invoices/10/pay", token)
    assert r.status_code == 303
    assert "Max-Age=" in r.headers["Set-Cookie"]
    max_age = int(re.search(r"Max-Age=(\d+)", r.headers["Set-Cookie"])
                  .group(1))
    assert 1 <= max_age <= 3                  # the browser drops it too
    jar = {"Cookie": "__Secure-postern-share=" + token}
    assert get(gw, "/invoices/10/pay", headers=jar).status_code == 200
    # past its expiry (the gateway checks it, whatever Redis still holds)
    gw.redis.hset(key, "expires", int(time.time()) - 1)
    assert get(gw, "/invoices/10/pay", headers=jar).status_code == 403
    gw.redis.delete(key)
    assert get(gw, "/invoices/10/pay", headers=jar).status_code == 403


def test_share_token_never_reaches_the_upstream(grantgw):
    gw = grantgw
    token, _ = new_share(gw, "/invoices/5/pay")
    # on a public route the gateway still takes the parameter
    r = get(gw, "/public/x?postern_share=" + token)
    assert r.status_code == 403
    assert get(gw, "/public/x?postern_share=junk").status_code == 403
    # twice is ambiguous
    r = get(gw, "/invoices/5/pay?postern_share=%s&postern_share=%s"
            % (token, token))
    assert r.status_code == 400
    # only GET/HEAD open a link
    r = get(gw, "/invoices/5/pay?postern_share=" + token, method="POST")
    assert r.status_code == 405
    # other parameters of that name's prefix are the app's own
    r = get(gw, "/public/x?postern_shared=abc&xpostern_share=1")
    assert r.status_code == 200
    assert r.json()["query"] == "postern_shared=abc&xpostern_share=1"
    # a share cookie sent twice is trusted for neither
    s, _ = open_share(gw, "/invoices/5/pay", token)
    c = s.cookies.get("__Secure-postern-share")
    r = get(gw, "/invoices/5/pay", headers={
        "Cookie": "__Secure-postern-share=%s; __Secure-postern-share=%s"
        % (c, c)})
    assert r.status_code == 403


def test_session_and_share_on_one_route(grantgw):
    gw = grantgw
    email = "u-%s@example.com" % uuid.uuid4().hex[:10]
    add_user(gw, email)
    s, r = login(gw, email=email)
    assert r.status_code == 303
    r = get(gw, "/invoices/77/pay", s=s)
    assert r.status_code == 200
    assert headers_of(r)["x-postern-auth"] == "session"


# ---- POST /.postern/shares ----

def test_upstream_creates_share_links_with_a_scoped_key(grantgw):
    gw = grantgw
    org = new_org(gw)
    key = new_key(gw, org, AUTH_CREATE)
    r = get(gw, "/.postern/shares", method="POST", headers=bearer(key),
            data={"path": "/invoices/321/pay", "methods": "GET,POST",
                  "expires": "1h", "name": "invoice 321"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["path"] == "/invoices/321/pay"
    assert body["methods"] == "GET,POST"
    assert abs(body["expires"] - time.time() - 3600) < 30
    m = re.fullmatch(r"https://127\.0\.0\.1:\d+/invoices/321/pay\?"
                     r"postern_share=(ps_[0-9a-f]{16}_[A-Za-z0-9_-]{43})",
                     body["url"])
    assert m, body["url"]
    s, r = open_share(gw, "/invoices/321/pay", m.group(1))
    assert r.status_code == 303
    r = get(gw, "/invoices/321/pay", s=s, method="POST")
    assert r.status_code == 200
    assert headers_of(r)["x-postern-org"] == org
    assert r.headers.get("Cache-Control") is None or True


AUTH_CREATE = "shares:create"


def test_share_endpoint_refuses_without_the_scope_or_key(grantgw):
    gw = grantgw
    org = new_org(gw)
    plain = new_key(gw, org, "invoices:read")
    form = {"path": "/invoices/1/pay"}
    r = get(gw, "/.postern/shares", method="POST", data=form)
    assert r.status_code == 401
    r = get(gw, "/.postern/shares", method="POST", headers=bearer(plain),
            data=form)
    assert r.status_code == 403
    assert "insufficient_scope" in r.headers["WWW-Authenticate"]
    r = get(gw, "/.postern/shares", headers=bearer(plain))
    assert r.status_code == 405


def test_share_endpoint_keeps_to_the_policy_and_the_keys_org(grantgw):
    gw = grantgw
    mine, theirs = new_org(gw), new_org(gw)
    key = new_key(gw, mine, AUTH_CREATE)

    def post(form):
        return get(gw, "/.postern/shares", method="POST",
                   headers=bearer(key), data=form)
    assert post({"path": "/orgs/%s/contracts/1" % mine}).status_code == 201
    assert post({"path": "/orgs/%s/contracts/1" % theirs}).status_code \
        == 403
    assert post({"path": "/app/secret"}).status_code == 403
    assert post({"path": "/api/ping"}).status_code == 403
    assert post({"path": "/invoices/1/pay/x"}).status_code == 403
    assert post({"path": "/docs/a", "methods": "GET"}).status_code == 201
    for bad in ({"path": "/invoices/../admin"}, {"path": "x"},
                {"path": "/invoices/1/pay", "expires": "400d"},
                {"path": "/invoices/1/pay", "methods": "FETCH"},
                {"path": "/invoices/1/pay", "admin": "1"},
                {"path": "/invoices/1/pay", "prefix": "maybe"}):
        assert post(bad).status_code == 400, bad


# ---- policy test reads Redis; custom rungs ----

def test_custom_rung_assigned_with_org_member(grantgw):
    gw = grantgw
    org = new_org(gw)
    email = "x-%s@example.com" % uuid.uuid4().hex[:10]
    add_user(gw, email)
    r = run_postern("org", "member", "-c", str(gw.config), org, email,
                    "--role", "ceo")
    assert r.returncode == 2 and "executive" in r.stderr
    r = run_postern("org", "member", "-c", str(gw.config), org, email,
                    "--role", "admin")
    assert r.returncode == 0
    s, _ = login(gw, email=email)
    assert get(gw, "/orgs/%s/board" % org, s=s).status_code == 403
    r = run_postern("org", "member", "-c", str(gw.config), org, email,
                    "--role", "executive")
    assert r.returncode == 0, r.stderr
    # the promotion reaches the session with a new id, after the password
    r = get(gw, "/orgs/%s/board" % org, s=s)
    assert r.status_code == 401
    assert "insufficient_user_authentication" in \
        r.headers["WWW-Authenticate"]
    assert '"reason":"membership_changed"' in gw.log()
    page = get(gw, "/.postern/reauth", s=s)
    r = s.post(gw.url + "/.postern/reauth", verify=False,
               allow_redirects=False, headers={"Origin": gw.url},
               data={"password": PASSWORD, "csrf": csrf_of(page.text)})
    assert r.status_code == 303, r.text
    r = get(gw, "/orgs/%s/board" % org, s=s)
    assert r.status_code == 200
    assert headers_of(r)["x-postern-role"] == "executive"


def test_policy_test_reads_memberships_and_grants_from_redis(grantgw):
    gw = grantgw
    org = new_org(gw)
    email = "p-%s@example.com" % uuid.uuid4().hex[:10]
    add_user(gw, email)
    base = ["policy", "test", "-c", str(gw.config), "--method", "GET"]
    url = "https://localhost/orgs/%s/board" % org
    r = run_postern(*base, "--user", email, "--url", url)
    assert r.returncode == 0, r.stderr
    assert "decision: deny" in r.stdout and "not_member" in r.stdout
    run_postern("org", "member", "-c", str(gw.config), org, email,
                "--role", "owner")
    r = run_postern(*base, "--user", email.upper(), "--url", url)
    assert "decision: allow" in r.stdout, r.stdout
    assert "tenant: %s" % org in r.stdout and "role: owner" in r.stdout
    r = run_postern(*base, "--user", "nobody@example.com", "--url", url)
    assert r.returncode == 1 and "no user" in r.stderr
    key = new_key(gw, org, "invoices:read")
    r = run_postern(*base, "--apikey", key_id(key), "--url",
                    "https://localhost/api/orgs/%s/x" % org)
    assert "decision: allow" in r.stdout, r.stdout + r.stderr
    r = run_postern(*base, "--apikey", key_id(key), "--url",
                    "https://localhost/api/ping")
    assert "decision: deny" in r.stdout and "scope" in r.stdout
    token, sid = new_share(gw, "/invoices/4/pay")
    r = run_postern(*base, "--share", sid, "--url",
                    "https://localhost/invoices/4/pay")
    assert "decision: allow" in r.stdout, r.stdout + r.stderr
    r = run_postern(*base, "--share", sid, "--url",
                    "https://localhost/invoices/5/pay")
    assert "share_resource" in r.stdout


# ---- reload ----

def test_reload_with_a_broken_policy_keeps_the_old_one(grantgw):
    gw = grantgw
    policy = gw.dir / "app.yaml"
    good = policy.read_text()
    assert get(gw, "/public/x").status_code == 200
    policy.write_text(good.replace("public: true", "public: maybe"))
    gw.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while "app.yaml" not in gw.log() or "reload" not in gw.log():
        assert time.time() < deadline, gw.log()
        time.sleep(0.1)
    time.sleep(0.3)
    assert get(gw, "/public/x").status_code == 200
    assert re.search(r"app\.yaml:\d+:\d+:", gw.log())
    # a good edit is taken: /public becomes protected
    policy.write_text(good.replace("public: true", "authenticated: true"))
    gw.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while get(gw, "/public/x").status_code != 401:
        assert time.time() < deadline, gw.log()
        time.sleep(0.1)
