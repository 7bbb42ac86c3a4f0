"""Tenants' custom domains (docs/domains.md): `postern domain add|list|
remove` and POST /.postern/domains register a host for one app and one
org in Redis; every gateway instance maps it at once (the `domain <host>`
message) and serves it as that app with that org as the tenant, so a key
or member of another org gets nowhere through it.  A real postern, a real
redis-server, the demo upstream echoing what reached it."""
import json

import pytest
import redis
import requests

from conftest import run_postern
from test_auth import auth_extra, headers_of, make_key
from test_grants import TENANT_APP, bearer, get, key_id, new_key
from test_routes import new_org

FIXED_APP = """\
app:
  name: fixed
  org: fixedorg
  hosts: [fixed.test]
  upstream: http://%s:%d
  routes:
    - path: /**
      auth: [apikey]
      scopes: [ping]
"""
PATH_APP = """\
app:
  name: pathy
  hosts: [pathy.test]
  upstream: http://%s:%d
  routes:
    - path: /orgs/{org}/**
      auth: [apikey]
      scopes: [ping]
"""


@pytest.fixture
def dgw(gateway, redis_server, upstream, tmp_path):
    redis.Redis(*redis_server).flushall()
    make_key(tmp_path)
    gw = gateway(extra=auth_extra(tmp_path), redis=redis_server,
                 protect=None,
                 more_apps=[("tenant.yaml", TENANT_APP % upstream),
                            ("fixed.yaml", FIXED_APP % upstream),
                            ("path.yaml", PATH_APP % upstream)])
    gw.redis = redis.Redis(*redis_server)
    gw.wait_log("domains: 0 custom domains")
    return gw


def domain(gw, *args):
    return run_postern("domain", *args, "-c", str(gw.config))


def add(gw, host, org, app="tenanted"):
    r = domain(gw, "add", host, "--app", app, "--org", org)
    assert r.returncode == 0, r.stderr
    gw.wait_log("domains: %s serves app %s for org %s" % (host, app, org))


def test_cli_domain_maps_host_to_app_and_tenant(dgw):
    gw = dgw
    org, other = new_org(gw), new_org(gw)
    key, theirs = new_key(gw, org, "ping"), new_key(gw, other, "ping")
    host = "shop.customer.test"
    # before: the gateway serves no such host
    assert get(gw, "/api/x", headers=bearer(key), host=host).status_code \
        == 421
    add(gw, host, org)
    r = get(gw, "/api/x", headers=bearer(key), host=host)
    assert r.status_code == 200, r.text
    up = headers_of(r)
    assert up["x-postern-org"] == org
    assert up["x-postern-user"] == "pk_" + key_id(key)
    # another org's key: the tenant comes from the domain, not the key
    r = get(gw, "/api/x", headers=bearer(theirs), host=host)
    assert r.status_code == 403
    assert '"reason":"key_org"' in gw.log()
    # the same key on the other org's own host works, on ours it does not
    assert get(gw, "/api/x", headers=bearer(theirs),
               host="%s.tenant.test" % other).status_code == 200
    # case and a trailing port do not change the mapping
    assert get(gw, "/api/x", headers=bearer(key),
               host="SHOP.Customer.test:443").status_code == 200
    # no credentials on a member route: sign-in, as on the app's hosts
    assert get(gw, "/home", host=host).status_code in (302, 401)
    listed = domain(gw, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert rows == [{"host": host, "app": "tenanted", "org": org,
                     "state": "pending", "last_error": "",
                     "not_after": 0}]
    text = domain(gw, "list")
    assert host in text.stdout and "pending" in text.stdout
    assert gw.redis.sismember("postern:org:%s:domains" % org, host)
    # removed: gone at once
    r = domain(gw, "remove", host)
    assert r.returncode == 0, r.stderr
    gw.wait_log("domains: %s removed" % host)
    assert get(gw, "/api/x", headers=bearer(key), host=host).status_code \
        == 421
    assert not gw.redis.exists("postern:domain:" + host)
    assert not gw.redis.sismember("postern:org:%s:domains" % org, host)
    assert domain(gw, "remove", host).returncode == 1
    audit = [json.loads(x) for x in gw.redis.lrange("postern:audit:events",
                                                    0, -1)]
    actions = [e["action"] for e in audit if e.get("target") == host]
    assert actions == ["domain_add", "domain_remove"]


def test_path_tenant_cannot_leave_the_domains_org(dgw):
    """On an app whose routes take the tenant from the path, a custom
    domain still binds its org: a path naming another org is not found,
    whoever asks (a key of that other org included)."""
    gw = dgw
    org, other = new_org(gw), new_org(gw)
    key, theirs = new_key(gw, org, "ping"), new_key(gw, other, "ping")
    add(gw, "p.customer.test", org, app="pathy")
    r = get(gw, "/orgs/%s/x" % org, headers=bearer(key),
            host="p.customer.test")
    assert r.status_code == 200, r.text
    assert headers_of(r)["x-postern-org"] == org
    for k in (key, theirs):
        r = get(gw, "/orgs/%s/x" % other, headers=bearer(k),
                host="p.customer.test")
        assert r.status_code == 404, r.text
    assert get(gw, "/orgs/%s/x" % org, headers=bearer(theirs),
               host="p.customer.test").status_code == 403
    # on the app's own host the path names the tenant, as before
    assert get(gw, "/orgs/%s/x" % other, headers=bearer(theirs),
               host="pathy.test").status_code == 200


def test_cli_refusals(dgw):
    gw = dgw
    org, other = new_org(gw), new_org(gw)
    for bad in ("localhost", "nodot", "a..b.test", "x-.test", "a_b.test",
                "*.x.test", "x.test.", "a b.test", "ex\u00e4mple.test"):
        r = domain(gw, "add", bad, "--app", "tenanted", "--org", org)
        assert r.returncode != 0 and "not a DNS name" in r.stderr, bad
    for configured in ("tenant.test", "acme.tenant.test", "127.0.0.1",
                       "fixed.test"):
        r = domain(gw, "add", configured, "--app", "tenanted", "--org",
                   org)
        assert r.returncode != 0, configured
    r = domain(gw, "add", "x.customer.test", "--app", "nope", "--org", org)
    assert r.returncode == 1 and "no app 'nope'" in r.stderr
    r = domain(gw, "add", "x.customer.test", "--app", "tenanted", "--org",
               "no-such-org")
    assert r.returncode == 1 and "no such org" in r.stderr
    r = domain(gw, "add", "x.customer.test", "--app", "fixed", "--org", org)
    assert r.returncode == 1 and "belongs to org" in r.stderr
    r = domain(gw, "add", "x.customer.test", "--app", "tenanted")
    assert r.returncode != 0
    add(gw, "x.customer.test", org)
    # the same again changes nothing; another org cannot take it over
    r = domain(gw, "add", "x.customer.test", "--app", "tenanted", "--org",
               org)
    assert r.returncode == 0 and "already registered" in r.stdout
    r = domain(gw, "add", "x.customer.test", "--app", "tenanted", "--org",
               other)
    assert r.returncode == 1 and "another org" in r.stderr
    assert gw.redis.hget("postern:domain:x.customer.test", "org") == \
        org.encode()
    # the per-org limit (20)
    for i in range(19):
        r = domain(gw, "add", "d%d.customer.test" % i, "--app", "tenanted",
                   "--org", org)
        assert r.returncode == 0, r.stderr
    r = domain(gw, "add", "d99.customer.test", "--app", "tenanted",
               "--org", org)
    assert r.returncode == 1 and "maximum" in r.stderr
    assert gw.redis.scard("postern:org:%s:domains" % org) == 20
    assert not gw.redis.exists("postern:domain:d99.customer.test")
    # another org is not limited by it
    add(gw, "d99.customer.test", other)


def post(gw, key, form, via="tenant.test"):
    """POST /.postern/domains on host <via> with <key> (or none)."""
    h = bearer(key) if key else {}
    h["Accept"] = "application/json"
    return requests.post(gw.url + "/.postern/domains", data=form,
                         headers=dict(h, Host=via), verify=False,
                         timeout=10)


def test_api_registers_for_the_callers_app_and_org(dgw):
    gw = dgw
    org, other = new_org(gw), new_org(gw)
    key = new_key(gw, org, "domains:manage")
    theirs = new_key(gw, other, "domains:manage")
    weak = new_key(gw, org, "ping")
    host = "app.customer.test"
    assert post(gw, None, {"host": host}, via=host).status_code == 404
    r = post(gw, None, {"host": host, "hostname": host})
    assert r.status_code == 400          # unknown field
    assert post(gw, None, {"host": host}).status_code == 401
    assert post(gw, "pk_0000000000000000_" + "A" * 43,
                {"host": host}).status_code == 401
    r = post(gw, weak, {"host": host})
    assert r.status_code == 403 and "insufficient_scope" in r.text
    for bad in ("nodot", "a..b.test", "x" * 300 + ".test"):
        assert post(gw, key, {"host": bad}).status_code == 400, bad
    assert post(gw, key, {"host": "z.tenant.test"}).status_code == 409
    assert post(gw, key, {"host": host, "action": "steal"}).status_code \
        == 400
    r = post(gw, key, {"host": host})
    assert r.status_code == 201, r.text
    assert r.json() == {"host": host, "app": "tenanted", "org": org,
                        "state": "pending"}
    gw.wait_log("domains: %s serves app tenanted for org %s" % (host, org))
    assert post(gw, key, {"host": host}).status_code == 200
    # another org can neither take it nor remove it
    assert post(gw, theirs, {"host": host}).status_code == 409
    assert post(gw, theirs, {"host": host, "action": "remove"}
                ).status_code == 409
    assert gw.redis.hget("postern:domain:" + host, "org") == org.encode()
    # a key of an org cannot register for an app bound to another org
    assert post(gw, key, {"host": "f.customer.test"},
                via="fixed.test").status_code == 403
    # over plain HTTP: refused before any key is looked at
    r = requests.post("http://127.0.0.1:%d/.postern/domains" % gw.http_port,
                      data={"host": host}, headers=bearer(key),
                      allow_redirects=False, timeout=10)
    assert r.status_code in (301, 308, 403, 421)
    assert requests.get(gw.url + "/.postern/domains", headers=dict(
        bearer(key), Host="tenant.test"), verify=False,
        timeout=10).status_code == 405
    r = post(gw, key, {"host": host, "action": "remove"})
    assert r.status_code == 200, r.text
    gw.wait_log("domains: %s removed" % host)
    assert post(gw, key, {"host": host, "action": "remove"}
                ).status_code == 404
    audit = [json.loads(x) for x in gw.redis.lrange("postern:audit:events",
                                                    0, -1)]
    mine = [(e["action"], e["actor"]) for e in audit
            if e.get("target") == host]
    assert mine == [("domain_add", "pk_" + key_id(key)),
                    ("domain_remove", "pk_" + key_id(key))]


def test_registry_loaded_at_start(gateway, redis_server, upstream, tmp_path,
                                  dgw):
    """A gateway started after the registration serves the domain (the
    registry is read at start, not only from messages)."""
    org = new_org(dgw)
    add(dgw, "late.customer.test", org)
    key = new_key(dgw, org, "ping")
    d = tmp_path / "second"
    d.mkdir()
    make_key(d)
    gw2 = gateway(extra=auth_extra(d), redis=redis_server, protect=None,
                  more_apps=[("tenant.yaml", TENANT_APP % upstream),
                             ("fixed.yaml", FIXED_APP % upstream)])
    gw2.wait_log("domains: 1 custom domains")
    r = get(gw2, "/api/x", headers=bearer(key), host="late.customer.test")
    assert r.status_code == 200, r.text
    assert headers_of(r)["x-postern-org"] == org
