"""ACME (docs/acme.md) against Debian's pebble, a real ACME server
(tests/integration/pebble.py), with real Redis and real HTTP-01
validation of the gateway's plain listener.

Issuance: the chain stored in acme:cert:<host> verifies up to pebble's
root (management API /roots/0, /intermediates/0) and names the host; the
key beside it is sealed (not a PEM; opens only with the gateway secret and
only under its own host's name) and matches the leaf; "cert <host>" is
published.  Only configured exact hosts are ordered (not a wildcard, not
a host a file certificate covers).  pebble's badNonce answers are
retried.  A host whose challenge cannot succeed is reported with the CA's
problem and retried with a growing wait, not in a loop.  Two instances
sharing Redis and the listeners (SO_REUSEPORT) order once.  The HTTP-01
responder answers before redirects, 404 for unknown or malformed tokens,
405 for other methods; the answer is deleted once the authorization is
valid.  Renewal: short-lived certificates (pebble's
certificateValidityPeriod) and `postern cert renew` are renewed by the
running gateway and swapped in without dropping an open connection.  ARI
(RFC 9773) through a directory that adds renewalInfo in front of pebble.
"""
import base64
import http.client
import json
import os
import socket
import ssl
import time
import urllib.request

import pytest
import redis as redislib
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from conftest import run_postern
from gwproc import Gateway, app_text, free_port
from pebble import Pebble

HOST = "a.acme.test"


@pytest.fixture
def ports():
    return {"https": free_port(), "http": free_port(), "admin": free_port()}


@pytest.fixture
def pebble_factory(tmp_path, ports):
    started = []

    def start(env=None, eab=None, validity=None):
        d = tmp_path / ("pebble%d" % len(started))
        d.mkdir()
        p = Pebble(d, ports["http"], ports["https"], env=env, eab=eab,
                   validity=validity)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


@pytest.fixture
def rdb(redis_server):
    r = redislib.Redis(host=redis_server[0], port=redis_server[1])
    for k in r.scan_iter("acmetest*"):
        r.delete(k)
    yield r
    for k in r.scan_iter("acmetest*"):
        r.delete(k)


def write_gateway(tmp_path, name, ports, pebble, tls_cert, redis_server,
                  hosts=(HOST,), acme_extra="", prefix="acmetest:",
                  app=None, extra=""):
    """A gateway directory <name>: TLS listener with acme: true, a plain
    listener (redirect on), a file certificate for localhost, secret;
    app.yaml is <app> (default: <hosts> in front of a closed port);
    <extra>: more top-level keys."""
    d = tmp_path / name
    d.mkdir(exist_ok=True)
    secret = tmp_path / "secret"
    if not secret.exists():
        secret.write_bytes(os.urandom(32))
        os.chmod(secret, 0o600)
    (d / "app.yaml").write_text(
        app or app_text(("127.0.0.1", 9), hosts=hosts))
    cfg = d / "postern.yaml"
    cfg.write_text(
        "server:\n  workers: 2\n  listen:\n"
        '    - address: "127.0.0.1:%d"\n      tls: { acme: true }\n'
        '    - address: "127.0.0.1:%d"\n      tls: false\n'
        '  admin: "127.0.0.1:%d"\n'
        "tls:\n  certificates:\n    - cert: %s\n      key: %s\n"
        'redis:\n  address: "%s:%d"\n  prefix: "%s"\n'
        "secret_file: %s\nlog:\n  level: debug\npolicies: [app.yaml]\n"
        "%sacme:\n  directory: %s\n  ca_file: %s\n"
        "  email: ops@example.com\n%s"
        % (ports["https"], ports["http"], ports["admin"], tls_cert[0],
           tls_cert[1], redis_server[0], redis_server[1], prefix, secret,
           extra, pebble.directory, pebble.ca_file, acme_extra))
    return cfg


def start_gateway(cfg, ports, name="gw"):
    return Gateway(cfg, cfg.parent / (name + ".log"), ports,
                   wait=("https", "http"))


def wait_cert(rdb, host, timeout=30, prefix="acmetest:"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        h = rdb.hgetall(prefix + "acme:cert:" + host)
        if h.get(b"chain"):
            return h
        time.sleep(0.1)
    raise AssertionError("no certificate for %s: %r" % (host, h))


def wait_failures(rdb, host, n, timeout=5, prefix="acmetest:"):
    """The certificate hash of <host> once it records <n> failures."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        h = rdb.hgetall(prefix + "acme:cert:" + host)
        if int(h.get(b"failures", 0)) >= n:
            assert int(h[b"failures"]) == n, h
            return h
        time.sleep(0.05)
    raise AssertionError("%s: not %d failures: %r" % (host, n, h))


def unseal(secret, aad, sealed):
    key = HKDF(hashes.SHA256(), 32, b"postern", b"postern acme key").derive(
        secret)
    assert sealed.startswith("v1.")
    raw = base64.urlsafe_b64decode(sealed[3:] + "=" * (-len(sealed) % 4))
    return AESGCM(key).decrypt(raw[:12], raw[12:], aad.encode())


def check_signed(issuer, cert):
    """<cert>'s signature verifies with <issuer>'s public key."""
    key = issuer.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(cert.signature, cert.tbs_certificate_bytes,
                   ec.ECDSA(cert.signature_hash_algorithm))
    else:
        key.verify(cert.signature, cert.tbs_certificate_bytes,
                   padding.PKCS1v15(), cert.signature_hash_algorithm)
    assert cert.issuer == issuer.subject


def verify_chain(pebble, chain_pem, host):
    """The stored chain: leaf for <host> <- pebble's intermediate <-
    pebble's root, as its management API publishes them."""
    end = b"-----END CERTIFICATE-----"
    chain = [x509.load_pem_x509_certificate(part + end)
             for part in chain_pem.split(end) if part.strip()]
    root = x509.load_pem_x509_certificate(
        pebble.management("/roots/0").encode())
    inter = x509.load_pem_x509_certificate(
        pebble.management("/intermediates/0").encode())
    leaf = chain[0]
    assert chain[1] == inter
    check_signed(inter, leaf)
    check_signed(root, inter)
    san = leaf.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [host]
    return leaf


def test_http01_issues_a_chain_pebble_signed(
        tmp_path, ports, pebble_factory, tls_cert, redis_server, rdb):
    pebble = pebble_factory()
    # localhost: the file certificate covers it; a wildcard: not ordered
    cfg = write_gateway(tmp_path, "gw", ports, pebble, tls_cert,
                        redis_server,
                        hosts=(HOST, "localhost", '"*.w.acme.test"'))
    sub = rdb.pubsub()
    sub.subscribe("acmetest:acme:events")
    gw = start_gateway(cfg, ports)
    h = wait_cert(rdb, HOST)
    leaf = verify_chain(pebble, h[b"chain"], HOST)

    # the key: sealed, bound to the host, the leaf's
    sealed = h[b"key"].decode()
    assert "BEGIN" not in sealed and sealed.startswith("v1.")
    secret = (tmp_path / "secret").read_bytes()
    pem = unseal(secret, "acme:" + HOST, sealed)
    key = serialization.load_pem_private_key(pem, None)
    assert key.public_key().public_numbers() == \
        leaf.public_key().public_numbers()
    with pytest.raises(Exception):
        unseal(os.urandom(32), "acme:" + HOST, sealed)
    with pytest.raises(Exception):
        unseal(secret, "acme:b.acme.test", sealed)
    acct = rdb.hgetall("acmetest:acme:account")
    assert acct[b"directory"].decode() == pebble.directory
    assert acct[b"url"].startswith(b"https://127.0.0.1:")
    assert b"BEGIN" not in acct[b"key"]
    unseal(secret, "acme:account", acct[b"key"].decode())
    with pytest.raises(Exception):
        unseal(secret, "acme:" + HOST, acct[b"key"].decode())

    # times as the leaf says; renewal at about 2/3 of its lifetime
    nb, na = int(h[b"not_before"]), int(h[b"not_after"])
    assert nb == int(leaf.not_valid_before.timestamp())
    assert na == int(leaf.not_valid_after.timestamp())
    life = na - nb
    assert nb + life * 2 // 3 - life // 30 - 1 <= int(h[b"renew_at"]) \
        <= nb + life * 2 // 3
    assert h[b"serial"].decode().lower().lstrip("0") == \
        "%x" % leaf.serial_number
    assert h[b"last_error"] == b""

    # told to every instance; only the configured exact host ordered
    msgs = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not msgs:
        m = sub.get_message(timeout=0.2)
        if m and m["type"] == "message":
            msgs.append(m["data"])
    assert msgs == [b"cert " + HOST.encode()]
    assert sorted(k.decode() for k in rdb.scan_iter("acmetest:acme:cert:*")) \
        == ["acmetest:acme:cert:" + HOST]
    assert pebble.orders() == 1
    assert gw.log().count('"event":"acme_order"') == 1
    assert '"reason":"unknown_reason"' not in gw.log()
    # the HTTP-01 answer was deleted once the authorization was valid
    assert not list(rdb.scan_iter("acmetest:acme:http01:*"))


def get(port, path, method="GET", host=HOST, accept="text/html"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request(method, path, headers={"Host": host, "Accept": accept})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r, body


def test_http01_responder(tmp_path, ports, pebble_factory, tls_cert,
                          redis_server, rdb):
    pebble = pebble_factory()
    cfg = write_gateway(tmp_path, "gw", ports, pebble, tls_cert,
                        redis_server, hosts=("localhost",))
    gw = start_gateway(cfg, ports)
    rdb.set("acmetest:acme:http01:tok-EN_1", "tok-EN_1.thumb", px=60000)
    p = "/.well-known/acme-challenge/"
    # answered by Redis' value, before the plain listener's redirect
    r, body = get(ports["http"], p + "tok-EN_1")
    assert r.status == 200 and body == b"tok-EN_1.thumb"
    assert r.getheader("Content-Type").startswith("text/plain")
    r, body = get(ports["http"], p + "tok-EN_1", method="HEAD")
    assert r.status == 200 and body == b""
    # siblings: unknown, malformed, too long, empty, another method
    for path in ("tok-EN_2", "tok.EN_1", "a" * 129, "", "tok-EN_1/x",
                 "tok-EN_1%00"):
        r, _ = get(ports["http"], p + path)
        assert r.status in (400, 404), path
        assert r.status == 404 or "%" in path, path
    r, _ = get(ports["http"], p + "tok%2FEN_1")	# encoded '/': refused
    assert r.status == 400
    r, _ = get(ports["http"], p + "tok-EN_1", method="POST")
    assert r.status == 405
    # an app path on the same listener is still redirected
    r, _ = get(ports["http"], "/x", host="localhost")
    assert r.status == 301
    assert gw.proc.poll() is None
    assert gw.log().count('"reason":"acme_unknown_token"') >= 5


def test_bad_nonce_answers_are_retried(tmp_path, ports, pebble_factory,
                                       tls_cert, redis_server, rdb):
    pebble = pebble_factory(env={"PEBBLE_WFE_NONCEREJECT": "40"})
    cfg = write_gateway(tmp_path, "gw", ports, pebble, tls_cert,
                        redis_server)
    gw = start_gateway(cfg, ports)
    verify_chain(pebble, wait_cert(rdb, HOST, timeout=60)[b"chain"], HOST)
    assert "reject 40% of good nonces" in pebble.log()
    # some of a dozen POSTs were refused, each sent again; a dozen all
    # accepted happens (0.6^12, about 1 run in 500): order again then
    for _ in range(3):
        if gw.log().count('"reason":"acme_bad_nonce"') >= 1:
            break
        serial = rdb.hget("acmetest:acme:cert:" + HOST, "serial")
        r = run_postern("cert", "renew", HOST, "-c", str(cfg))
        assert r.returncode == 0, r.stderr
        deadline = time.monotonic() + 60
        while rdb.hget("acmetest:acme:cert:" + HOST, "serial") == serial:
            assert time.monotonic() < deadline, "not renewed"
            time.sleep(0.1)
    assert gw.log().count('"reason":"acme_bad_nonce"') >= 1


def test_failing_challenge_is_reported_and_backs_off(
        tmp_path, ports, pebble_factory, tls_cert, redis_server, rdb):
    pebble = pebble_factory()
    pebble.set_a("bad.acme.test", "127.0.0.9")	# nothing listens there
    cfg = write_gateway(tmp_path, "gw", ports, pebble, tls_cert,
                        redis_server, hosts=("bad.acme.test",),
                        acme_extra="  retry_min: 2s\n  retry_max: 1h\n")
    gw = start_gateway(cfg, ports)
    gw.wait_log('"reason":"acme_order_failed"', timeout=30)
    # logged before it is recorded
    h = wait_failures(rdb, "bad.acme.test", 1)
    assert b"chain" not in h
    err = h[b"last_error"].decode()
    assert err.startswith("challenge failed: ") and "connection" in err, err
    assert int(h[b"failures"]) == 1
    wait1 = int(h[b"retry_at"]) - int(h[b"last_attempt"])
    assert 2 <= wait1 <= 3
    assert rdb.get("acmetest:acme:lock:bad.acme.test") is None
    # the second try waits for retry_at, and the wait doubles
    gw.wait_log('"reason":"acme_order_failed"', count=2, timeout=15)
    h = wait_failures(rdb, "bad.acme.test", 2)
    assert 4 <= int(h[b"retry_at"]) - int(h[b"last_attempt"]) <= 5
    time.sleep(2)
    assert pebble.orders() <= 3			# no tight loop
    assert gw.log().count('"event":"acme_order"') == pebble.orders()
    # the directory and account were read once, not at every run
    assert pebble.log().count("GET /dir") == 1
    assert pebble.log().count("POST /sign-me-up") == 1


def test_two_instances_order_once(tmp_path, ports, pebble_factory,
                                  tls_cert, redis_server, rdb):
    pebble = pebble_factory()
    cfg1 = write_gateway(tmp_path, "gw1", ports, pebble, tls_cert,
                         redis_server)
    cfg2 = write_gateway(tmp_path, "gw2", dict(ports, admin=free_port()),
                         pebble, tls_cert, redis_server)
    # the same listeners (SO_REUSEPORT): pebble reaches either instance
    gw1 = start_gateway(cfg1, ports, "gw1")
    gw2 = start_gateway(cfg2, ports, "gw2")
    verify_chain(pebble, wait_cert(rdb, HOST)[b"chain"], HOST)
    time.sleep(1.5)
    assert pebble.orders() == 1
    logs = gw1.log() + gw2.log()
    assert logs.count('"event":"acme_order"') == 1
    assert logs.count('"event":"acme_issued"') == 1
    # one account for both
    assert logs.count('"event":"acme_account"') == 1


EAB_KEY = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"


def test_external_account_binding(tmp_path, ports, pebble_factory, tls_cert,
                                  redis_server, rdb):
    pebble = pebble_factory(eab={"kid-1": EAB_KEY})
    good, bad = tmp_path / "eab.key", tmp_path / "eab-bad.key"
    good.write_text(EAB_KEY + "\n")
    bad.write_text(EAB_KEY[:-4] + "AAAA\n")	# another MAC key
    os.chmod(good, 0o600)
    os.chmod(bad, 0o600)
    # a wrong MAC key: the CA refuses the account, nothing is stored
    cfg = write_gateway(tmp_path, "bad", ports, pebble, tls_cert,
                        redis_server, acme_extra="  eab: { kid: kid-1, "
                        "hmac_key_file: %s }\n" % bad)
    gw = start_gateway(cfg, ports, "bad")
    gw.wait_log('"reason":"acme_account_refused","step":"newAccount",'
                '"detail":"unauthorized: external account binding',
                timeout=10)
    assert not rdb.exists("acmetest:acme:account")
    gw.stop()
    # without eab: the directory says it is required
    cfg = write_gateway(tmp_path, "none", ports, pebble, tls_cert,
                        redis_server)
    gw = start_gateway(cfg, ports, "none")
    gw.wait_log("requires an external account binding", timeout=10)
    gw.stop()
    cfg = write_gateway(tmp_path, "good", ports, pebble, tls_cert,
                        redis_server, acme_extra="  eab: { kid: kid-1, "
                        "hmac_key_file: %s }\n" % good)
    gw = start_gateway(cfg, ports, "good")
    verify_chain(pebble, wait_cert(rdb, HOST)[b"chain"], HOST)


def test_tls_alpn01_challenge_is_stored_and_announced(
        tmp_path, ports, pebble_factory, tls_cert, redis_server, rdb):
    """TLS-ALPN-01 first: the challenge certificate (RFC 8737) and its
    sealed key are in acme:alpn01:<host> for 10 minutes and 'alpn <host>'
    is published before pebble is told to connect.  Serving it to
    acme-tls/1 is the certificate store's (crypto/certstore, engineer 2 of
    issue #16): with it the order completes and the chain is checked;
    without it pebble's handshake fails and the failure is recorded."""
    pebble = pebble_factory()
    cfg = write_gateway(tmp_path, "gw", ports, pebble, tls_cert,
                        redis_server, acme_extra="  challenges: "
                        "[tls-alpn-01, http-01]\n  retry_min: 1h\n")
    sub = rdb.pubsub()
    sub.subscribe("acmetest:acme:events")
    gw = start_gateway(cfg, ports)
    msg = None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and msg is None:
        m = sub.get_message(timeout=0.2)
        if m and m["type"] == "message":
            msg = m["data"]
    assert msg == b"alpn " + HOST.encode()
    key = "acmetest:acme:alpn01:" + HOST
    h = rdb.hgetall(key)
    assert 0 < rdb.pttl(key) <= 600000
    cert = x509.load_pem_x509_certificate(h[b"cert"])
    san = cert.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [HOST]
    ext = cert.extensions.get_extension_for_oid(
        x509.ObjectIdentifier("1.3.6.1.5.5.7.1.31"))
    assert ext.critical
    assert ext.value.value[:2] == b"\x04\x20" and len(ext.value.value) == 34
    sealed = h[b"key"].decode()
    assert "BEGIN" not in sealed
    secret = (tmp_path / "secret").read_bytes()
    pk = serialization.load_pem_private_key(
        unseal(secret, "acme:" + HOST, sealed), None)
    assert pk.public_key().public_numbers() == \
        cert.public_key().public_numbers()
    # no HTTP-01 answer was stored: the first listed type is used
    assert not list(rdb.scan_iter("acmetest:acme:http01:*"))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        c = rdb.hgetall("acmetest:acme:cert:" + HOST)
        if c.get(b"chain") or c.get(b"last_error"):
            break
        time.sleep(0.1)
    if c.get(b"chain"):
        verify_chain(pebble, c[b"chain"], HOST)
    else:
        assert c[b"last_error"].startswith(b"challenge failed: "), c
        assert int(c[b"failures"]) == 1
    assert pebble.orders() == 1


def tls_client(port, root_pem, host=HOST):
    """A keep-alive HTTPS connection with SNI <host>, verified against
    pebble's root <root_pem> and <host>."""
    ctx = ssl.create_default_context(cadata=root_pem)
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx,
                                    timeout=10)
    c.sock = ctx.wrap_socket(socket.create_connection(
        ("127.0.0.1", port), timeout=10), server_hostname=host)
    return c


def served_serial(c):
    return x509.load_der_x509_certificate(
        c.sock.getpeercert(True)).serial_number


def ping(c, host=HOST):
    c.request("GET", "/x", headers={"Host": host})
    r = c.getresponse()
    r.read()
    assert r.status == 200
    return r


def stored_serial(rdb, host=HOST):
    return int(rdb.hget("acmetest:acme:cert:" + host, "serial"), 16)


def test_short_lived_certificate_renews_and_swaps_under_an_open_connection(
        tmp_path, ports, pebble_factory, tls_cert, redis_server, rdb,
        upstream):
    """pebble's certificates live 45 s: renewal (at about 2/3) comes
    within the test; a connection made with the first certificate keeps
    working across the swap, new handshakes get the new one."""
    pebble = pebble_factory(validity=45)
    cfg = write_gateway(tmp_path, "gw", ports, pebble, tls_cert,
                        redis_server, app=app_text(upstream, hosts=(HOST,)))
    gw = start_gateway(cfg, ports)
    h = wait_cert(rdb, HOST)
    first = verify_chain(pebble, h[b"chain"], HOST)
    life = int(h[b"not_after"]) - int(h[b"not_before"])
    assert 40 <= life <= 50, life
    gw.wait_log("acme: certificate of %s loaded" % HOST)
    root = pebble.management("/roots/0")
    old = tls_client(ports["https"], root)
    assert served_serial(old) == first.serial_number
    ping(old)
    # requests go on over the open connection until the renewal
    deadline = time.monotonic() + 60
    while stored_serial(rdb) == first.serial_number:
        assert time.monotonic() < deadline, "not renewed"
        ping(old)
        time.sleep(0.5)
    h = rdb.hgetall("acmetest:acme:cert:" + HOST)
    second = verify_chain(pebble, h[b"chain"], HOST)
    assert int(h[b"issued"]) < int(h[b"not_before"]) + life * 2 // 3 + 5
    gw.wait_log("acme: certificate of %s loaded" % HOST, count=2)
    ping(old)				# the same connection, still served
    assert served_serial(old) == first.serial_number
    new = tls_client(ports["https"], root)
    assert served_serial(new) == second.serial_number
    ping(new)
    old.close()
    new.close()
    assert gw.log().count('"event":"acme_issued"') >= 2
    assert "reloaded" not in gw.log()


def test_cert_renew_command_is_performed_by_the_running_gateway(
        tmp_path, ports, pebble_factory, tls_cert, redis_server, rdb,
        upstream):
    pebble = pebble_factory()
    cfg = write_gateway(tmp_path, "gw", ports, pebble, tls_cert,
                        redis_server, app=app_text(upstream, hosts=(HOST,)))
    gw = start_gateway(cfg, ports)
    first = verify_chain(pebble, wait_cert(rdb, HOST)[b"chain"], HOST)
    gw.wait_log("acme: certificate of %s loaded" % HOST)
    time.sleep(1)				# the run after its message
    root = pebble.management("/roots/0")
    old = tls_client(ports["https"], root)
    ping(old)
    orders = pebble.orders()
    r = run_postern("cert", "renew", HOST, "-c", str(cfg))
    assert r.returncode == 0, r.stderr
    deadline = time.monotonic() + 20
    while stored_serial(rdb) == first.serial_number:
        assert time.monotonic() < deadline, "not renewed"
        time.sleep(0.1)
    second = verify_chain(pebble, rdb.hget("acmetest:acme:cert:" + HOST,
                                           "chain"), HOST)
    gw.wait_log("acme: certificate of %s loaded" % HOST, count=2)
    ping(old)
    new = tls_client(ports["https"], root)
    assert served_serial(new) == second.serial_number
    old.close()
    new.close()
    assert pebble.orders() == orders + 1
    # a host without a stored certificate: refused, nothing ordered
    r = run_postern("cert", "renew", "nope.acme.test", "-c", str(cfg))
    assert r.returncode != 0 and "no certificate" in r.stderr
    time.sleep(1.5)
    assert pebble.orders() == orders + 1


class AriDirectory:
    """pebble 2.4 (Debian's) has no ARI: this HTTPS server, with pebble's
    own TLS certificate, serves pebble's directory plus a renewalInfo URL
    of its own, and answers it with <windows>(certID) (start, end,
    Retry-After), keeping every certID asked about."""

    def __init__(self, pebble, windows):
        import http.server
        import threading
        upstream = json.loads(urllib.request.urlopen(
            pebble.directory, context=ssl.create_default_context(
                cafile=pebble.ca_file), timeout=5).read())
        asked = self.asked = []
        port = free_port()
        upstream["renewalInfo"] = "https://127.0.0.1:%d/ari/" % port

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/dir":
                    body, extra = json.dumps(upstream).encode(), {}
                elif self.path.startswith("/ari/"):
                    asked.append(self.path[5:])
                    start, end, retry = windows(self.path[5:])
                    body = json.dumps({"suggestedWindow": {
                        "start": rfc3339(start), "end": rfc3339(end)}}
                    ).encode()
                    extra = {"Retry-After": str(retry)}
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        d = os.path.dirname(pebble.ca_file)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(d, "cert.pem"),
                            os.path.join(d, "key.pem"))
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", port),
                                                   Handler)
        self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True)
        self.thread = threading.Thread(target=self.srv.serve_forever,
                                       daemon=True)
        self.thread.start()
        self.directory = "https://127.0.0.1:%d/dir" % port
        self.ca_file = pebble.ca_file

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def cert_id(chain_pem):
    """RFC 9773 4.1, computed independently of the gateway."""
    leaf = x509.load_pem_x509_certificate(chain_pem)
    aki = leaf.extensions.get_extension_for_class(
        x509.AuthorityKeyIdentifier).value.key_identifier
    n = leaf.serial_number
    serial = n.to_bytes(n.bit_length() // 8 + 1, "big")  # DER: sign octet
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    return b64(aki) + "." + b64(serial)


def test_ari_window_drives_renewal(tmp_path, ports, pebble_factory,
                                   tls_cert, redis_server, rdb):
    """The first certificate's window lies in the past: renewed at once,
    long before two thirds of its lifetime; the new one's window is next
    week: its renew_at is in it, and ARI is asked again after the
    answer's Retry-After."""
    pebble = pebble_factory()
    first_id = []
    now = time.time()

    def windows(cid):
        if not first_id or cid == first_id[0]:
            first_id.append(cid)
            return now - 120, now - 60, 30
        return now + 7 * 86400, now + 8 * 86400, 7200

    ari = AriDirectory(pebble, windows)
    try:
        cfg = write_gateway(tmp_path, "gw", ports, ari, tls_cert,
                            redis_server)
        gw = start_gateway(cfg, ports)
        first = wait_cert(rdb, HOST)
        deadline = time.monotonic() + 30
        while rdb.hget("acmetest:acme:cert:" + HOST, "serial") == \
                first[b"serial"]:
            assert time.monotonic() < deadline, "ARI did not renew"
            time.sleep(0.2)
        second = rdb.hgetall("acmetest:acme:cert:" + HOST)
        verify_chain(pebble, second[b"chain"], HOST)
        # the certID the gateway sent is the one RFC 9773 defines
        assert ari.asked[0] == cert_id(first[b"chain"])
        gw.wait_log('"event":"acme_ari","host":"%s"' % HOST, count=2,
                    timeout=10)
        second = rdb.hgetall("acmetest:acme:cert:" + HOST)
        assert cert_id(second[b"chain"]) in ari.asked
        renew = int(second[b"renew_at"])
        assert now + 7 * 86400 <= renew < now + 8 * 86400 + 1
        assert 7100 <= int(second[b"ari_at"]) - time.time() <= 7201
        assert pebble.orders() == 2
        assert '"reason":"acme_ari_failed"' not in gw.log()
    finally:
        ari.stop()
