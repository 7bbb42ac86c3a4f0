"""Tenants' custom domains get certificates from the ACME client
(docs/acme.md, docs/domains.md), against Debian's pebble
(tests/integration/pebble.py), a real redis-server, the demo upstream and
real TLS handshakes verified against pebble's root.

A domain registered at run time (`postern domain add`, POST
/.postern/domains) is ordered at once and served without a reload, its
traffic reaching its app and org; `domain:<host>` says valid, failed
(with the CA's problem) or pending; a failing domain is retried with a
growing wait; a removed domain's certificate is deleted and no longer
served.  Handshakes for unregistered names cost no Redis command and no
order; a handshake for a registered name without a certificate has it
ordered at once.
"""
import http.client
import json
import os
import socket
import ssl
import time

import pytest
from cryptography import x509

from conftest import run_postern
from gwproc import Gateway
from test_acme import (  # noqa: F401 (fixtures)
    pebble_factory, ports, rdb, verify_chain, wait_cert, wait_failures,
    write_gateway)
from test_auth import auth_extra, headers_of, make_key
from test_grants import TENANT_APP, bearer, new_key
from test_routes import new_org

PREFIX = "acmetest:"


def write_cfg(tmp_path, ports, pebble, tls_cert, redis_server, upstream,
              acme_extra=""):
    """The tenanted app (its hosts "{org}.tenant.test" and tenant.test)
    in front of the demo upstream, API keys on."""
    make_key(tmp_path)
    auth = auth_extra(tmp_path).replace(
        "secret_file: %s\n" % (tmp_path / "secret"), "")
    return write_gateway(tmp_path, "gw", ports, pebble, tls_cert,
                         redis_server, acme_extra=acme_extra, prefix=PREFIX,
                         app=TENANT_APP % upstream, extra=auth)


@pytest.fixture
def setup(tmp_path, ports, pebble_factory, tls_cert, redis_server,
          upstream, rdb):
    """setup(acme_extra) -> (gateway, pebble) with tenant.test's
    certificate issued."""
    def start(acme_extra="", before=None):
        pebble = pebble_factory()
        if before:
            before(pebble)
        cfg = write_cfg(tmp_path, ports, pebble, tls_cert, redis_server,
                        upstream, acme_extra)
        gw = Gateway(cfg, cfg.parent / "gw.log", ports,
                     wait=("https", "http"))
        wait_cert(rdb, "tenant.test")
        gw.root = pebble.management("/roots/0")
        return gw, pebble
    return start


def domain(gw, *args):
    r = run_postern("domain", *args, "-c", str(gw.config))
    assert r.returncode == 0, r.stderr
    return r.stdout


def listed(gw, host):
    rows = json.loads(domain(gw, "list", "--json"))
    return next((d for d in rows if d["host"] == host), None)


def wait_state(rdb, host, state, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        h = rdb.hgetall(PREFIX + "domain:" + host)
        if h.get(b"state") == state.encode():
            return h
        time.sleep(0.1)
    raise AssertionError("%s never %s: %r" % (host, state, h))


def tls_conn(gw, sni, verify=True):
    """An HTTPS connection to the gateway with SNI <sni>, verified against
    pebble's root (and <sni>) unless <verify> is false."""
    if verify:
        ctx = ssl.create_default_context(cadata=gw.root)
    else:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    c = http.client.HTTPSConnection("127.0.0.1", gw.https_port,
                                    context=ctx, timeout=10)
    raw = socket.create_connection(("127.0.0.1", gw.https_port), timeout=10)
    try:
        c.sock = ctx.wrap_socket(raw, server_hostname=sni)
    except Exception:
        raw.close()
        raise
    return c


def peer(c):
    return x509.load_der_x509_certificate(c.sock.getpeercert(True))


def request(c, host, path, headers=None, method="GET", body=None):
    h = {"Host": host, "Accept": "application/json"}
    h.update(headers or {})
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    return r, r.read()


def test_domain_added_at_runtime_gets_certificate_and_serves_its_tenant(
        setup, rdb):
    gw, pebble = setup()
    orders = pebble.orders()
    org, other = new_org(gw), new_org(gw)
    key, theirs = new_key(gw, org, "ping"), new_key(gw, other, "ping")
    host = "shop.cust.test"
    # before: no certificate for it, pebble's root does not verify
    with pytest.raises(ssl.SSLCertVerificationError):
        tls_conn(gw, host)
    domain(gw, "add", host, "--app", "tenanted", "--org", org)
    h = wait_cert(rdb, host)
    leaf = verify_chain(pebble, h[b"chain"], host)
    d = wait_state(rdb, host, "valid")
    assert int(d[b"not_after"]) == int(h[b"not_after"]) == \
        int(leaf.not_valid_after.timestamp())
    assert d[b"last_error"] == b""
    row = listed(gw, host)
    assert row["state"] == "valid" and row["last_error"] == ""
    assert row["not_after"] == int(h[b"not_after"])
    gw.wait_log("acme: certificate of %s loaded" % host)
    # its traffic: TLS verified against pebble's root, the domain's app
    # and org whatever the key's org
    c = tls_conn(gw, host)
    assert peer(c).serial_number == leaf.serial_number
    r, body = request(c, host, "/api/x", bearer(key))
    assert r.status == 200, body
    up = {k.lower(): v for k, v in json.loads(body)["headers"]}
    assert up["x-postern-org"] == org
    r, _ = request(c, host, "/api/x", bearer(theirs))
    assert r.status == 403
    c.close()

    # through the API, on a host with a certificate from ACME too
    mgr = new_key(gw, org, "domains:manage")
    host2 = "api.cust.test"
    c = tls_conn(gw, "tenant.test")
    r, body = request(c, "tenant.test", "/.postern/domains",
                      dict(bearer(mgr), **{
                          "Content-Type":
                          "application/x-www-form-urlencoded"}),
                      method="POST", body="host=" + host2)
    assert r.status == 201, body
    c.close()
    verify_chain(pebble, wait_cert(rdb, host2)[b"chain"], host2)
    wait_state(rdb, host2, "valid")
    gw.wait_log("acme: certificate of %s loaded" % host2)
    c = tls_conn(gw, host2)
    r, body = request(c, host2, "/api/x", bearer(key))
    assert r.status == 200, body
    c.close()
    assert pebble.orders() == orders + 2
    assert gw.proc.poll() is None and "reloaded" not in gw.log()

    # removed: its certificate is deleted and no longer served, not
    # ordered again
    domain(gw, "remove", host)
    gw.wait_log("domains: %s removed" % host)
    assert not rdb.exists(PREFIX + "acme:cert:" + host)
    assert not rdb.exists(PREFIX + "domain:" + host)
    with pytest.raises(ssl.SSLCertVerificationError):
        tls_conn(gw, host)
    c = tls_conn(gw, host2)			# the other one stays
    c.close()
    time.sleep(2)
    assert pebble.orders() == orders + 2
    assert '"reason":"unknown_reason"' not in gw.log()


def test_failing_domain_is_reported_and_retried_with_backoff(setup, rdb):
    gw, pebble = setup(acme_extra="  retry_min: 2s\n  retry_max: 1h\n")
    orders = pebble.orders()
    org = new_org(gw)
    host = "bad.cust.test"
    pebble.set_a(host, "127.0.0.9")		# nothing answers HTTP-01 there
    domain(gw, "add", host, "--app", "tenanted", "--org", org)
    d = wait_state(rdb, host, "failed")
    err = d[b"last_error"].decode()
    assert err.startswith("challenge failed: ") and "connection" in err, err
    assert len(err) < 700 and err.isprintable()
    row = listed(gw, host)
    assert row["state"] == "failed" and row["last_error"] == err
    assert row["not_after"] == 0
    c = rdb.hgetall(PREFIX + "acme:cert:" + host)
    assert b"chain" not in c and int(c[b"failures"]) == 1
    assert 2 <= int(c[b"retry_at"]) - int(c[b"last_attempt"]) <= 3
    # a handshake does not bypass the wait
    s = tls_conn(gw, host, verify=False)
    s.close()
    time.sleep(0.5)
    assert pebble.orders() == orders + 1
    # retried later, the wait doubling
    gw.wait_log('"reason":"acme_order_failed","host":"%s"' % host, count=2,
                timeout=15)
    c = wait_failures(rdb, host, 2)
    assert 4 <= int(c[b"retry_at"]) - int(c[b"last_attempt"]) <= 5
    assert pebble.orders() == orders + 2
    # once the name points at us, the next try succeeds
    pebble.set_a(host, "127.0.0.1")
    d = wait_state(rdb, host, "valid", timeout=20)
    assert d[b"last_error"] == b""
    verify_chain(pebble, wait_cert(rdb, host)[b"chain"], host)
    assert pebble.orders() == orders + 3


def commands(rdb):
    """Redis commands served so far by name, but INFO."""
    return {k: v["calls"] for k, v in rdb.info("commandstats").items()
            if k != "cmdstat_info"}


def test_random_names_cost_nothing_registered_one_is_ordered_on_demand(
        setup, rdb):
    gw, pebble = setup()
    time.sleep(1.5)		# the run after tenant.test's message is over
    orders = pebble.orders()
    before, t0 = commands(rdb), time.monotonic()
    for _ in range(200):
        s = tls_conn(gw, os.urandom(6).hex() + ".cust.test", verify=False)
        s.close()
    time.sleep(1.5)		# the driver looks each second
    after, elapsed = commands(rdb), time.monotonic() - t0
    delta = {k: after[k] - before.get(k, 0) for k in after
             if after[k] != before.get(k)}
    # what runs by the clock, not by handshakes: each worker's tracking
    # heartbeat (SUBSCRIBE, every second), the driver's look every minute
    # (SMEMBERS domains, HGETALL of tenant.test's certificate)
    assert delta.pop("cmdstat_subscribe", 0) <= 2 * (elapsed + 2)
    looks = delta.pop("cmdstat_smembers", 0)
    assert looks <= elapsed // 60 + 1
    assert delta == ({"cmdstat_hgetall": looks} if looks else {}), delta
    assert pebble.orders() == orders
    assert "a handshake wants" not in gw.log()
    assert not list(rdb.scan_iter(PREFIX + "acme:lock:*"))

    # registered while another instance holds its lock: not ordered now
    host = "dem.cust.test"
    lock = PREFIX + "acme:lock:" + host
    rdb.set(lock, "another-instance", px=3000)
    org = new_org(gw)
    domain(gw, "add", host, "--app", "tenanted", "--org", org)
    gw.wait_log('"host":"%s","detail":"another instance is ordering"'
                % host)
    while rdb.exists(lock):
        time.sleep(0.1)
    assert pebble.orders() == orders
    # the next look would be in 30 s; a handshake has it ordered now
    t0 = time.monotonic()
    s = tls_conn(gw, host, verify=False)
    s.close()
    verify_chain(pebble, wait_cert(rdb, host, timeout=20)[b"chain"], host)
    assert time.monotonic() - t0 < 20
    assert "a handshake wants a custom domain's certificate" in gw.log()
    wait_state(rdb, host, "valid")
    gw.wait_log("acme: certificate of %s loaded" % host)
    c = tls_conn(gw, host)
    assert pebble.orders() == orders + 1
    c.close()
