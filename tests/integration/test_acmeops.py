"""Operations of ACME and custom domains (docs/acme.md, docs/domains.md):
acme.max_domains_per_org, enforced alike by `postern domain add` and
POST /.postern/domains (429) against real Redis and a real gateway; SCAN
patterns that treat the glob characters of redis.prefix literally.
"""
import json
import os

import pytest
import redis as redislib
import requests

from conftest import run_postern
from gwproc import app_text, config_text, free_port, listener
from test_auth import auth_extra, make_key
from test_grants import TENANT_APP, bearer, new_key
from test_routes import new_org


def secret_file(path):
    """<path> made a gateway secret (32 random bytes, mode 0600)."""
    path.write_bytes(os.urandom(32))
    path.chmod(0o600)
    return path


def cli_config(tmp_path, tls_cert, redis_server, prefix, extra=""):
    """A configuration for the command-line tools (nothing is started)."""
    secret = secret_file(tmp_path / "secret")
    (tmp_path / "app.yaml").write_text(app_text(
        ("127.0.0.1", 9), hosts=("localhost", "shop.example.com")))
    cfg = tmp_path / "postern.yaml"
    cfg.write_text(config_text(
        [listener(free_port())], certs=[tls_cert],
        redis={"address": '"%s:%d"' % tuple(redis_server),
               "prefix": '"%s"' % prefix},
        policies=["app.yaml"], extra="secret_file: %s\n%s" % (secret, extra)))
    return cfg


@pytest.mark.parametrize("prefix", ["p*:", "p?:", "p[x]:", "p\\\\:"])
def test_cert_list_prefix_is_literal(tmp_path, tls_cert, redis_server,
                                     prefix):
    """`postern cert list` lists the certificates under its own prefix
    only, although the prefix holds a glob character: the keys of another
    prefix that the unescaped pattern would match are not listed."""
    rc = redislib.Redis(*redis_server)
    real = prefix.replace("\\\\", "\\")
    decoys = ["pz:", "px:", "p\\:x:", "p:"]
    mine = real + "acme:cert:shop.example.com"
    rc.hset(mine, mapping={"not_after": "1", "renew_at": "1",
                           "last_error": ""})
    for d in decoys:
        rc.hset(d + "acme:cert:evil.example.com", mapping={
            "not_after": "1", "renew_at": "1", "last_error": ""})
    try:
        cfg = cli_config(tmp_path, tls_cert, redis_server, prefix)
        r = run_postern("cert", "list", "--json", "-c", str(cfg))
        assert r.returncode == 0, r.stderr
        hosts = [row["host"] for row in json.loads(r.stdout)
                 if row.get("source") == "acme"]
        assert hosts == ["shop.example.com"], r.stdout
    finally:
        rc.delete(mine, *[d + "acme:cert:evil.example.com" for d in decoys])


@pytest.fixture
def limited(gateway, redis_server, upstream, tmp_path):
    """A gateway whose orgs may register 2 custom domains each."""
    redislib.Redis(*redis_server).flushall()
    make_key(tmp_path)
    gw = gateway(extra=auth_extra(tmp_path) +
                 "acme:\n  max_domains_per_org: 2\n",
                 redis=redis_server, protect=None,
                 more_apps=[("tenant.yaml", TENANT_APP % upstream)])
    gw.redis = redislib.Redis(*redis_server)
    gw.wait_log("domains: 0 custom domains")
    return gw


def domain_cli(gw, *args):
    return run_postern("domain", *args, "-c", str(gw.config))


def domain_post(gw, key, form):
    return requests.post(gw.url + "/.postern/domains", data=form, headers=dict(
        bearer(key), Host="tenant.test", Accept="application/json"),
        verify=False, timeout=10)


def cli_add(gw, host, org):
    return domain_cli(gw, "add", host, "--app", "tenanted", "--org", org)


def test_max_domains_per_org_cli_and_api(limited):
    """The configured limit (2, not the default 20) holds whichever way a
    domain comes in, counts both ways together, leaves no trace of a
    refused domain, does not refuse what is already registered, and is
    per org; a removal frees its place."""
    gw = limited
    org, other = new_org(gw), new_org(gw)
    key = new_key(gw, org, "domains:manage")
    assert cli_add(gw, "a.customer.test", org).returncode == 0
    r = domain_post(gw, key, {"host": "b.customer.test"})
    assert r.status_code == 201, r.text
    # full: the third is refused by both, and written nowhere
    r = cli_add(gw, "c.customer.test", org)
    assert r.returncode == 1 and "maximum" in r.stderr, r.stderr
    r = domain_post(gw, key, {"host": "c.customer.test"})
    assert r.status_code == 429, r.text
    assert r.json()["error"] == "domain_limit"
    assert gw.redis.scard("postern:org:%s:domains" % org) == 2
    assert not gw.redis.exists("postern:domain:c.customer.test")
    assert not gw.redis.sismember("postern:domains", "c.customer.test")
    # registered ones are still "already registered", not over the limit
    assert domain_post(gw, key, {"host": "a.customer.test"}
                       ).status_code == 200
    r = cli_add(gw, "b.customer.test", org)
    assert r.returncode == 0 and "already registered" in r.stdout
    # another org has its own 2
    assert cli_add(gw, "c.customer.test", other).returncode == 0
    assert cli_add(gw, "d.customer.test", other).returncode == 0
    assert cli_add(gw, "e.customer.test", other).returncode == 1
    # a removal frees a place
    r = domain_post(gw, key, {"host": "a.customer.test", "action": "remove"})
    assert r.status_code == 200, r.text
    assert domain_post(gw, key, {"host": "f.customer.test"}
                       ).status_code == 201
    assert cli_add(gw, "g.customer.test", org).returncode == 1
    assert '"reason":"domain_limit"' in gw.log()


def test_max_domains_per_org_default(redis_server, tmp_path):
    """Without an acme: section the limit is 20: the 21st is refused."""
    rc = redislib.Redis(*redis_server)
    rc.flushall()
    make_key(tmp_path)
    (tmp_path / "tenant.yaml").write_text(TENANT_APP % ("127.0.0.1", 9))
    cfg = tmp_path / "postern.yaml"
    cfg.write_text(config_text(
        [listener(free_port(), tls=False)],
        redis="%s:%d" % tuple(redis_server), policies=["tenant.yaml"],
        extra=auth_extra(tmp_path)))
    org = "org-default"
    assert run_postern("org", "add", "-c", str(cfg), org).returncode == 0
    for i in range(20):
        r = run_postern("domain", "add", "d%d.customer.test" % i, "--app",
                        "tenanted", "--org", org, "-c", str(cfg))
        assert r.returncode == 0, r.stderr
    r = run_postern("domain", "add", "d20.customer.test", "--app",
                    "tenanted", "--org", org, "-c", str(cfg))
    assert r.returncode == 1 and "maximum" in r.stderr
