"""identity_headers: apps written for oauth2-proxy or Authelia, unchanged.

An app maps header names of its choice to the identity's values
(identity_headers: {Remote-User: email, ...}); the upstream (the demo
upstream, which echoes what it got) receives them beside X-Postern-*, and
a client's own copy of any mapped name never arrives -- whether the
request is signed in, anonymous on a public route, or made with an API
key; in any case; duplicated; or as the first of two.
"""
import socket
import ssl
import uuid

import requests

from test_auth import add_user, echo, headers_of, login
from test_grants import new_key
from test_routes import member, new_org, start_gw

ROUTES = """\
  identity_headers:
    Remote-User: user
    Remote-Email: email
    Remote-Groups: org_role
    X-Forwarded-User: email
    X-App-Org: org
    X-App-Role: role
    X-App-Auth: auth
  routes:
    - path: /public/**
      public: true
    - path: /orgs/{org}/**
      role: viewer
    - path: /api/**
      auth: [apikey]
      scopes: [things:read]
    - path: /app/**
      authenticated: true
"""

MAPPED = ("remote-user", "remote-email", "remote-groups", "x-forwarded-user",
          "x-app-org", "x-app-role", "x-app-auth")
FORGED = {"Remote-User": "admin", "remote-email": "ceo@example.com",
          "REMOTE-GROUPS": "root:owner", "X-Forwarded-User": "ceo",
          "X-App-Org": "other", "x-app-role": "owner", "X-App-Auth": "x"}


def gw_with_user(gateway, redis_server, tmp_path):
    gw = start_gw(gateway, redis_server, tmp_path, ROUTES)
    gw.email = "id-%s@example.com" % uuid.uuid4().hex[:8]
    add_user(gw, gw.email)
    return gw


def got(r):
    """The upstream's view: {lower-case name: [values]}."""
    assert r.status_code == 200, r.text
    out = {}
    for k, v in r.json()["headers"]:
        out.setdefault(k.lower(), []).append(v)
    return out


def test_mapped_headers_reach_the_upstream(gateway, redis_server, tmp_path):
    gw = gw_with_user(gateway, redis_server, tmp_path)
    slug = new_org(gw)
    member(gw, slug, gw.email, "admin")
    s, _ = login(gw)
    h = got(echo(s, gw, "/orgs/%s/x" % slug, headers=FORGED))
    user = h["x-postern-user"][0]
    assert h["remote-user"] == [user]
    assert h["remote-email"] == [gw.email]
    assert h["remote-groups"] == ["%s:admin" % slug]
    assert h["x-forwarded-user"] == [gw.email]
    assert h["x-app-org"] == [slug] and h["x-app-role"] == ["admin"]
    assert h["x-app-auth"] == ["session"]
    # a route without a tenant: no org, no role, no org_role
    h = got(echo(s, gw, "/app/x", headers=FORGED))
    assert h["remote-user"] == [user]
    for name in ("remote-groups", "x-app-org", "x-app-role"):
        assert name not in h, name


def test_client_copies_never_arrive(gateway, redis_server, tmp_path):
    gw = gw_with_user(gateway, redis_server, tmp_path)
    anon = echo(requests.Session(), gw, "/public/x",
                headers=FORGED)
    h = got(anon)
    for name in MAPPED:
        assert name not in h, name
    assert "x-postern-user" not in h
    # raw: a duplicated and an oddly cased copy on one request
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", gw.https_port)) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as t:
            t.sendall(b"GET /public/y HTTP/1.1\r\nHost: localhost\r\n"
                      b"Accept: application/json\r\n"
                      b"Remote-User: a\r\nremote-USER: b\r\n"
                      b"x-app-role: owner\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = t.recv(65536)
                if not chunk:
                    break
                data += chunk
    body = data.split(b"\r\n\r\n", 1)[1].lower()
    assert b"remote-user" not in body and b"x-app-role" not in body


def test_api_keys_get_their_mapping_too(gateway, redis_server, tmp_path):
    gw = gw_with_user(gateway, redis_server, tmp_path)
    slug = new_org(gw)
    key = new_key(gw, slug, "things:read")
    r = requests.get(
        gw.url + "/api/list", verify=False, timeout=10,
        headers=dict(FORGED, Authorization="Bearer " + key,
                     Accept="application/json"))
    h = got(r)
    assert h["remote-user"] == h["x-postern-user"]
    assert h["x-app-auth"] == ["apikey"]
    assert h["x-app-org"] == [slug]
    assert "remote-email" not in h and "x-forwarded-user" not in h
    assert h.get("remote-groups", [None])[0] != "root:owner"
