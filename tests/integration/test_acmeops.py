"""Operations of ACME and custom domains (docs/acme.md, docs/domains.md):
`postern secrets rotate` re-sealing the ACME account, certificate and
challenge keys (the gateway serving throughout, then restarted with the
new secret alone: same certificate, same account); the certificate metrics of the admin listener and the audit events of the
ACME driver against Debian's pebble (a real ACME server) and real TLS;
acme.max_domains_per_org, enforced alike by `postern domain add` and
POST /.postern/domains (429) against real Redis and a real gateway; SCAN
patterns that treat the glob characters of redis.prefix literally.
"""
import json
import os
import re
import socket
import ssl
import time

import pytest
import redis as redislib
import requests

from conftest import run_postern
from gwproc import app_text, config_text, free_port, listener
from test_auth import auth_extra, make_key
from test_grants import TENANT_APP, bearer, new_key
from test_routes import new_org
from test_acme import (HOST, pebble_factory, ports, rdb,  # noqa: F401
                       start_gateway, unseal, verify_chain, wait_cert,
                       write_gateway)
from test_certstore import seal


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


def scrape(gw_ports):
    """{(name, labels): value} of the admin listener's /metrics (which
    may open a moment after the other listeners)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            text = requests.get("http://127.0.0.1:%d/metrics"
                                % gw_ports["admin"], timeout=10).text
            break
        except requests.ConnectionError:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    out = {}
    for line in text.splitlines():
        m = re.fullmatch(r"([a-z_]+)(\{[^}]*\})? (-?[0-9]+)", line)
        if m:
            out[(m.group(1), m.group(2) or "")] = int(m.group(3))
    return out


def wait_metric(gw_ports, name, labels, want, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        got = scrape(gw_ports).get((name, labels))
        if got == want:
            return
        assert time.monotonic() < deadline, (name, labels, got)
        time.sleep(0.2)


def states(m):
    return {k[1]: v for k, v in m.items() if k[0] == "postern_certificates"}


def audit_events(rdb, prefix="acmetest:"):
    return [json.loads(x) for x in rdb.lrange(prefix + "audit:events", 0,
                                              -1)]


def sni(port, name):
    """A TLS handshake naming <name>; whatever certificate comes back."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection(("127.0.0.1", port), 5) as raw:
            with ctx.wrap_socket(raw, server_hostname=name):
                pass
    except (OSError, ssl.SSLError):
        pass


def test_issued_certificate_metrics_and_audit(
        tmp_path, ports, pebble_factory, tls_cert, redis_server, rdb):
    """A certificate pebble issued: counted as issued, its host valid with
    the seconds left of the stored chain, audited as cert_issue by actor
    acme (in the hash chain); the file-certificate host and SNI names
    that clients invent add no series and no order."""
    pebble = pebble_factory()
    cfg = write_gateway(tmp_path, "gw", ports, pebble, tls_cert,
                        redis_server, hosts=(HOST, "localhost"))
    gw = start_gateway(cfg, ports)
    h = wait_cert(rdb, HOST)
    verify_chain(pebble, h[b"chain"], HOST)
    wait_metric(ports, "postern_certificates", '{state="valid"}', 1)
    for i in range(30):
        sni(ports["https"], "r%d-%s.acme.test" % (i, os.urandom(4).hex()))
    m = scrape(ports)
    assert states(m) == {'{state="valid"}': 1, '{state="expiring"}': 0,
                         '{state="expired"}': 0, '{state="pending"}': 0,
                         '{state="failed"}': 0}
    left = m[("postern_certificate_expiry_seconds", '{host="%s"}' % HOST)]
    assert abs(int(h[b"not_after"]) - time.time() - left) < 30
    assert m[("postern_certificate_soonest_expiry_seconds", "")] == left
    assert [k for k in m if k[0] == "postern_certificate_expiry_seconds"] \
        == [("postern_certificate_expiry_seconds", '{host="%s"}' % HOST)]
    assert m[("postern_acme_orders_total", '{outcome="issued"}')] == 1
    assert m[("postern_acme_orders_total", '{outcome="failed"}')] == 0
    assert sum(v for k, v in m.items()
               if k[0] == "postern_acme_failures_total") == 0
    assert pebble.orders() == 1
    deadline = time.monotonic() + 5
    while not [e for e in audit_events(rdb) if e["action"] == "cert_issue"]:
        assert time.monotonic() < deadline, audit_events(rdb)
        time.sleep(0.1)
    ev = [e for e in audit_events(rdb) if e["action"].startswith("cert_")]
    assert [(e["action"], e["actor"], e["target"], e["outcome"])
            for e in ev] == [("cert_issue", "acme", HOST, "success")]
    text = json.dumps(ev)
    assert "PRIVATE" not in text and "v1." not in text
    r = run_postern("audit", "verify", "-c", str(cfg))
    assert r.returncode == 0, r.stdout + r.stderr
    assert '"reason":"unknown_reason"' not in gw.log()


def test_failed_order_metrics_audit_and_log(
        tmp_path, ports, pebble_factory, tls_cert, redis_server, rdb):
    """A host whose challenge cannot succeed: the order counts as failed
    with the CA's problem type (connection), the host is failed (not
    pending), the log line names the problem and the CA's detail, and
    cert_fail is audited with that type."""
    pebble = pebble_factory()
    pebble.set_a("bad.acme.test", "127.0.0.9")	# nothing listens there
    cfg = write_gateway(tmp_path, "gw", ports, pebble, tls_cert,
                        redis_server, hosts=("bad.acme.test",),
                        acme_extra="  retry_min: 1h\n")
    gw = start_gateway(cfg, ports)
    m0 = scrape(ports)		# before the first failure: pending
    if m0[("postern_acme_orders_total", '{outcome="failed"}')] == 0:
        assert states(m0)['{state="pending"}'] == 1
    gw.wait_log('"reason":"acme_order_failed"', timeout=30)
    wait_metric(ports, "postern_acme_failures_total",
                '{reason="connection"}', 1)
    m = scrape(ports)
    assert states(m)['{state="failed"}'] == 1
    assert states(m)['{state="pending"}'] == 0
    assert m[("postern_acme_orders_total", '{outcome="failed"}')] == 1
    assert m[("postern_acme_orders_total", '{outcome="issued"}')] == 0
    assert not [k for k in m if k[0] == "postern_certificate_expiry_seconds"]
    line = [json.loads(x) for x in gw.log().splitlines()
            if '"acme_order_failed"' in x][0]
    assert line["host"] == "bad.acme.test"
    assert line["problem"] == "connection"
    assert "connection" in line["detail"]
    deadline = time.monotonic() + 5
    while not [e for e in audit_events(rdb) if e["action"] == "cert_fail"]:
        assert time.monotonic() < deadline, audit_events(rdb)
        time.sleep(0.1)
    ev = [e for e in audit_events(rdb) if e["action"] == "cert_fail"]
    assert [(e["actor"], e["target"], e["outcome"], e["reason"])
            for e in ev] == [("acme", "bad.acme.test", "failure",
                              "connection")]


def test_renewal_is_audited_as_cert_renew(
        tmp_path, ports, pebble_factory, tls_cert, redis_server, rdb):
    """A host whose hash already holds a chain that is due is renewed:
    audited as cert_renew (actor acme), not cert_issue."""
    pebble = pebble_factory()
    rdb.hset("acmetest:acme:cert:" + HOST, mapping={
        "chain": "old", "key": "v1.x", "not_before": "1",
        "not_after": "2", "renew_at": "1", "issued": "1"})
    cfg = write_gateway(tmp_path, "gw", ports, pebble, tls_cert,
                        redis_server)
    start_gateway(cfg, ports)
    deadline = time.monotonic() + 30
    while rdb.hget("acmetest:acme:cert:" + HOST, "chain") == b"old":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    wait_metric(ports, "postern_acme_orders_total", '{outcome="issued"}', 1)
    deadline = time.monotonic() + 5
    while not [e for e in audit_events(rdb) if e["action"] == "cert_renew"]:
        assert time.monotonic() < deadline, audit_events(rdb)
        time.sleep(0.1)
    assert [(e["action"], e["actor"], e["target"])
            for e in audit_events(rdb) if e["action"].startswith("cert_")] \
        == [("cert_renew", "acme", HOST)]


def served(port, name):
    """The leaf certificate (DER) a handshake naming <name> gets."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), 5) as raw:
        with ctx.wrap_socket(raw, server_hostname=name) as t:
            return t.getpeercert(True)


def sealed_values(rdb):
    """{redis key: (aad, sealed key)} of the account and every host."""
    out = {}
    acct = rdb.hget("acmetest:acme:account", "key")
    if acct:
        out["acmetest:acme:account"] = ("acme:account", acct.decode())
    for kind in ("cert", "alpn01"):
        head = "acmetest:acme:%s:" % kind
        for k in rdb.scan_iter(head + "*"):
            k = k.decode()
            out[k] = ("acme:" + k[len(head):], rdb.hget(k, "key").decode())
    return out


def rotate(cfg):
    return run_postern("secrets", "rotate", "-c", str(cfg))


def test_secrets_rotate_reseals_acme_keys(
        tmp_path, ports, pebble_factory, tls_cert, redis_server, rdb):
    pebble = pebble_factory()
    cfg = write_gateway(tmp_path, "gw", ports, pebble, tls_cert,
                        redis_server)
    old_secret = tmp_path / "secret"
    gw = start_gateway(cfg, ports)
    wait_cert(rdb, HOST)
    wait_metric(ports, "postern_certificates", '{state="valid"}', 1)
    leaf = served(ports["https"], HOST)
    account = rdb.hget("acmetest:acme:account", "url")
    # a challenge certificate being validated: its expiry must stay
    alpn = "acmetest:acme:alpn01:" + HOST
    rdb.hset(alpn, mapping={"cert": "c", "key": seal(
        old_secret, HOST, b"-----BEGIN PRIVATE KEY-----x")})
    rdb.pexpire(alpn, 600000)
    before = sealed_values(rdb)
    assert len(before) == 3

    # the new secret, the old one as previous: reload, rotate, serving
    new_secret = secret_file(tmp_path / "secret-new")
    text = cfg.read_text().replace(
        "secret_file: %s\n" % old_secret,
        "secret_file: %s\nprevious_secret_files: [%s]\n"
        % (new_secret, old_secret))
    cfg.write_text(text)
    gw.reload()
    r = rotate(cfg)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "3 sealed values re-sealed" in r.stdout, r.stdout
    after = sealed_values(rdb)
    assert after.keys() == before.keys()
    for k, (aad, value) in after.items():
        assert value != before[k][1]
        assert unseal(new_secret.read_bytes(), aad, value) == \
            unseal(old_secret.read_bytes(), aad, before[k][1])
        with pytest.raises(Exception):
            unseal(old_secret.read_bytes(), aad, value)
    assert 0 < rdb.pttl(alpn) <= 600000
    assert served(ports["https"], HOST) == leaf
    # again: nothing left to do
    r = rotate(cfg)
    assert r.returncode == 0 and r.stdout.startswith(
        "0 sealed values re-sealed with the current secret, 3 already "
        "were"), r.stdout
    events = [e for e in audit_events(rdb) if e["action"] ==
              "secrets_rotate"]
    assert [e["outcome"] for e in events] == ["success", "success"]
    gw.stop()

    # the new secret alone, and one more host: the same certificate is
    # served, the account is opened and reused for the new order
    rdb.delete(alpn)
    cfg.write_text(text.replace("previous_secret_files: [%s]\n"
                                % old_secret, ""))
    (cfg.parent / "app.yaml").write_text(app_text(
        ("127.0.0.1", 9), hosts=(HOST, "b.acme.test")))
    gw2 = start_gateway(cfg, ports, "gw2")
    wait_cert(rdb, "b.acme.test")
    wait_metric(ports, "postern_certificates", '{state="valid"}', 2)
    assert served(ports["https"], HOST) == leaf
    assert rdb.hget("acmetest:acme:account", "url") == account
    assert pebble.log().count("POST /sign-me-up") == 1
    assert pebble.orders() == 2
    assert "does not open" not in gw2.log()


def test_secrets_rotate_reports_what_it_cannot_open(
        tmp_path, tls_cert, redis_server, rdb):
    """A value sealed under no configured secret is reported, left as it
    is, and the command exits 1; values of another prefix are not
    touched (the prefix is matched literally)."""
    cfg = cli_config(tmp_path, tls_cert, redis_server, "acmetest:")
    stranger = secret_file(tmp_path / "stranger")
    bad = seal(stranger, "x.acme.test", b"k")
    rdb.hset("acmetest:acme:cert:x.acme.test", mapping={"key": bad})
    other = seal(stranger, "y.acme.test", b"k")
    rdb.hset("acmetestX:acme:cert:y.acme.test", mapping={"key": other})
    try:
        r = rotate(cfg)
        assert r.returncode == 1, r.stdout + r.stderr
        assert "1 could not be opened" in r.stdout, r.stdout
        assert "acmetest:acme:cert:x.acme.test: key opens with no " \
            "configured secret" in r.stderr
        assert "y.acme.test" not in r.stderr
        assert rdb.hget("acmetest:acme:cert:x.acme.test", "key").decode() \
            == bad
    finally:
        rdb.delete("acmetestX:acme:cert:y.acme.test")
