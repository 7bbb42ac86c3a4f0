"""Run-time certificates (docs/acme.md): a certificate stored in Redis
(`acme:cert:<host>`, its key sealed) is served by every gateway instance
within a moment of the `cert <host>` message on `<prefix>acme:events`,
while an open connection made with the old certificate keeps working;
configured certificate files win for their names; names that are neither
configured nor stored get the default certificate and cost nothing (no
Redis command, no memory); bad data in Redis is logged and ignored, the
previous certificate staying; TLS-ALPN-01 (RFC 8737): a ClientHello
offering only acme-tls/1 gets the stored challenge certificate and nothing
after the handshake, and fails without one.

The sealing is written here a second time, in Python, from the documented
format (HKDF-SHA256 of the secret file, salt "postern", info "postern acme
key"; AES-256-GCM, additional data "acme:" + host; "v1." + base64url of
nonce, ciphertext and tag), so that a change of the format fails here."""
import base64
import hashlib
import os
import random
import re
import socket
import ssl
import string
import subprocess
import time

import pytest
import redis as redislib
from cryptography import x509
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from conftest import run_postern
from gwproc import forge_cert, read_response

ACME_OID = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.31")


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "secret"
    path.write_bytes(os.urandom(32))
    os.chmod(path, 0o600)
    return path


@pytest.fixture
def gw(gateway, redis_server, secret):
    rc = redislib.Redis(*redis_server)
    rc.flushall()
    g = gateway(redis=redis_server, extra="secret_file: %s\n" % secret,
                hosts=("localhost", "127.0.0.1", "shop.example.com",
                       "other.example.com"))
    g.wait_log('"redis 127.0.0.1')
    g.redis = rc
    return g


def seal(secret_path, host, plaintext):
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"postern",
               info=b"postern acme key").derive(secret_path.read_bytes())
    nonce = os.urandom(12)
    ct = AESGCM(key).encrypt(nonce, plaintext, b"acme:" + host.encode())
    return "v1." + base64.urlsafe_b64encode(nonce + ct).decode().rstrip("=")


def store_cert(gw, secret_path, host, cert, key, aad_host=None):
    """Write acme:cert:<host> as the ACME client does and announce it."""
    gw.redis.hset("postern:acme:cert:" + host, mapping={
        "chain": open(cert).read(),
        "key": seal(secret_path, aad_host or host, open(key, "rb").read()),
        "not_after": "0", "renew_at": "0", "issued": str(int(time.time())),
        "serial": "1", "last_error": "", "last_attempt": "0"})
    gw.redis.publish("postern:acme:events", "cert " + host)


def peer_cert(gw, name, alpn=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(alpn)
    with socket.create_connection(("127.0.0.1", gw.https_port), 10) as raw:
        with ctx.wrap_socket(raw, server_hostname=name) as s:
            return x509.load_der_x509_certificate(s.getpeercert(True))


def fingerprint(path):
    return x509.load_pem_x509_certificate(open(path, "rb").read())


def wait_served(gw, name, want, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        got = peer_cert(gw, name)
        if got == want:
            return
        assert time.monotonic() < deadline, \
            "%s still serves %s:\n%s" % (name, got.subject, gw.log()[-3000:])
        time.sleep(0.05)


def keepalive(gw, name):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", gw.https_port), 10)
    return ctx.wrap_socket(raw, server_hostname=name)


def get(s, host):
    s.sendall(b"GET /.postern/health HTTP/1.1\r\nHost: %s\r\n\r\n"
              % host.encode())
    return read_response(s.makefile("rb"))


def test_imported_and_swapped(gw, tmp_path, secret):
    """`postern cert import` stores and announces; the gateway serves it
    at once; a second certificate replaces it for new handshakes while a
    connection made with the first keeps working."""
    default = peer_cert(gw, "localhost")
    assert peer_cert(gw, "shop.example.com") == default
    a = forge_cert(tmp_path, "shop.example.com")
    r = run_postern("cert", "import", "shop.example.com", "--cert", a[0],
                    "--key", a[1], "-c", str(gw.config))
    assert r.returncode == 0, r.stderr
    wait_served(gw, "shop.example.com", fingerprint(a[0]))
    assert peer_cert(gw, "SHOP.example.com") == fingerprint(a[0])
    old = keepalive(gw, "shop.example.com")
    assert x509.load_der_x509_certificate(old.getpeercert(True)) == \
        fingerprint(a[0])
    assert get(old, "shop.example.com")[0] == 200
    b_dir = tmp_path / "b"
    b_dir.mkdir()
    b = forge_cert(b_dir, "shop.example.com")
    store_cert(gw, secret, "shop.example.com", *b)
    wait_served(gw, "shop.example.com", fingerprint(b[0]))
    # the old connection: still open, still the first certificate
    assert get(old, "shop.example.com")[0] == 200
    assert x509.load_der_x509_certificate(old.getpeercert(True)) == \
        fingerprint(a[0])
    old.close()
    # other names untouched
    assert peer_cert(gw, "other.example.com") == default
    assert peer_cert(gw, "localhost") == default
    listed = run_postern("cert", "list", "--json", "-c", str(gw.config))
    assert listed.returncode == 0, listed.stderr
    assert '"host":"shop.example.com","source":"acme"' in \
        listed.stdout.replace(" ", "")
    assert '"host":"localhost","source":"file"' in \
        listed.stdout.replace(" ", "")
    # the key in Redis is no PEM, and does not open without the secret
    sealed = gw.redis.hget("postern:acme:cert:shop.example.com", "key")
    assert sealed.startswith(b"v1.") and b"PRIVATE" not in sealed


def test_file_certificate_wins(gw, tmp_path, secret):
    """A stored certificate for a name a configured file covers is not
    served for that name."""
    default = peer_cert(gw, "localhost")
    c = forge_cert(tmp_path, "localhost")
    store_cert(gw, secret, "localhost", *c)
    gw.wait_log("certificate of localhost loaded")
    assert peer_cert(gw, "localhost") == default


@pytest.mark.parametrize("bad", ["garbled", "wrong_key", "other_host",
                                 "expired", "moved_key"])
def test_bad_data_keeps_previous(gw, tmp_path, secret, bad):
    """Bad data in Redis is logged once (acme_bad_cert) and ignored: the
    certificate served before stays."""
    good = forge_cert(tmp_path, "shop.example.com")
    store_cert(gw, secret, "shop.example.com", *good)
    wait_served(gw, "shop.example.com", fingerprint(good[0]))
    d = tmp_path / "bad"
    d.mkdir()
    other = forge_cert(d, "shop.example.com")
    if bad == "garbled":
        pem = open(other[0]).read()
        cut = pem.index("\n", 40) + 10
        garbled = d / "garbled.pem"
        garbled.write_text(pem[:cut] + "@@@@" + pem[cut + 4:])
        store_cert(gw, secret, "shop.example.com", str(garbled), other[1])
    elif bad == "wrong_key":
        store_cert(gw, secret, "shop.example.com", other[0], good[1])
    elif bad == "other_host":
        evil = forge_cert(d, "evil.example.com")
        store_cert(gw, secret, "shop.example.com", *evil)
    elif bad == "expired":
        old = forge_cert(d, "shop.example.com", days_from=-30, days_to=-1)
        store_cert(gw, secret, "shop.example.com", *old)
    else:   # a key sealed for another host, moved under this one
        store_cert(gw, secret, "shop.example.com", *other,
                   aad_host="other.example.com")
    gw.wait_log('"reason":"acme_bad_cert"')
    time.sleep(0.2)
    assert gw.log().count('"reason":"acme_bad_cert"') == 1
    assert peer_cert(gw, "shop.example.com") == fingerprint(good[0])


def commands(rc):
    """Commands Redis served, but INFO and SUBSCRIBE: each worker's
    tracking connection SUBSCRIBEs again every second (its heartbeat), so
    those follow the clock, which a loaded machine stretches."""
    return sum(v["calls"] for k, v in rc.info("commandstats").items()
               if k not in ("cmdstat_info", "cmdstat_subscribe"))


def rss(gw):
    with open("/proc/%d/status" % gw.proc.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_random_names_cost_nothing(gw, tmp_path, secret):
    """1000 handshakes with random SNI names: the default certificate,
    no Redis command, and no memory that grows with them."""
    default = peer_cert(gw, "localhost")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE

    def handshakes(names):
        for n in names:
            with socket.create_connection(("127.0.0.1", gw.https_port),
                                          10) as raw:
                with ctx.wrap_socket(raw, server_hostname=n) as s:
                    assert x509.load_der_x509_certificate(
                        s.getpeercert(True)) == default

    handshakes(["localhost"] * 300)          # warm the allocator up
    time.sleep(0.3)
    # the control: as many handshakes for a configured name (a sanitizer
    # build's quarantine grows with any churn; a plain build's does not)
    mem0, cmd0 = rss(gw), commands(gw.redis)
    handshakes(["localhost"] * 1000)
    time.sleep(0.3)
    mem1, cmd1 = rss(gw), commands(gw.redis)
    rnd = random.Random(7)
    handshakes(["".join(rnd.choice(string.ascii_lowercase)
                        for _ in range(20)) + ".example.net"
                for _ in range(1000)])
    time.sleep(0.3)
    mem2, cmd2 = rss(gw), commands(gw.redis)
    # the gateway's own periodic commands (and INFO) as in the control;
    # anything the flood caused would be 1000s
    assert cmd2 - cmd1 <= cmd1 - cmd0 + 3, (cmd0, cmd1, cmd2)
    assert mem2 - mem1 < max(mem1 - mem0, 0) + 2048, (mem0, mem1, mem2)
    # no event about them: nothing looked up, ordered or refused
    assert re.search(r'"(event|reason)":"acme',
                     gw.log().split('"event":"ready"')[-1]) is None


def acme_tls_handshake(gw, host):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["acme-tls/1"])
    raw = socket.create_connection(("127.0.0.1", gw.https_port), 10)
    s = ctx.wrap_socket(raw, server_hostname=host)
    return s


def store_challenge(gw, secret, host, keyauth):
    """A challenge certificate as RFC 8737 makes it, stored and announced
    as the ACME client does (made with openssl here)."""
    d = gw.dir / ("alpn-" + host)
    d.mkdir(exist_ok=True)
    digest = hashlib.sha256(keyauth).hexdigest()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "7",
         "-subj", "/CN=" + host, "-addext", "subjectAltName=DNS:" + host,
         "-addext", "1.3.6.1.5.5.7.1.31=critical,DER:0420" + digest,
         "-keyout", str(d / "k.pem"), "-out", str(d / "c.pem")],
        check=True, capture_output=True)
    gw.redis.hset("postern:acme:alpn01:" + host, mapping={
        "cert": (d / "c.pem").read_text(),
        "key": seal(secret, host, (d / "k.pem").read_bytes())})
    gw.redis.pexpire("postern:acme:alpn01:" + host, 600000)
    gw.redis.publish("postern:acme:events", "alpn " + host)
    return x509.load_pem_x509_certificate((d / "c.pem").read_bytes())


def test_tls_alpn01(gw, secret):
    """Only acme-tls/1 offered: the stored challenge certificate, and the
    connection ends after the handshake; without a challenge the handshake
    fails; clients offering http/1.1 never see it."""
    default = peer_cert(gw, "localhost")
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        acme_tls_handshake(gw, "shop.example.com")
    chal = store_challenge(gw, secret, "shop.example.com", b"tok.thumb")
    gw.wait_log("challenge certificate of shop.example.com loaded")
    s = acme_tls_handshake(gw, "shop.example.com")
    assert s.selected_alpn_protocol() == "acme-tls/1"
    got = x509.load_der_x509_certificate(s.getpeercert(True))
    assert got == chal
    ext = got.extensions.get_extension_for_oid(ACME_OID)
    assert ext.critical
    assert ext.value.value == b"\x04\x20" + hashlib.sha256(
        b"tok.thumb").digest()
    s.settimeout(5)
    try:
        s.sendall(b"GET /.postern/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(100) == b""
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
        pass
    s.close()
    # normal clients: the usual certificate
    assert peer_cert(gw, "shop.example.com") == default
    assert peer_cert(gw, "shop.example.com",
                     alpn=["http/1.1", "acme-tls/1"]) == default
    assert peer_cert(gw, "shop.example.com",
                     alpn=["acme-tls/1", "http/1.1"]) == default
    # another host has no challenge
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        acme_tls_handshake(gw, "other.example.com")
    # openssl s_client sees the same
    r = subprocess.run(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % gw.https_port,
         "-servername", "shop.example.com", "-alpn", "acme-tls/1"],
        input=b"", capture_output=True, timeout=15)
    out = (r.stdout + r.stderr).decode(errors="replace")
    assert "ALPN protocol: acme-tls/1" in out
    assert "CN = shop.example.com" in out
    # the challenge removed: handshakes fail again
    gw.redis.delete("postern:acme:alpn01:shop.example.com")
    gw.redis.publish("postern:acme:events", "alpn shop.example.com")
    deadline = time.monotonic() + 5
    while True:
        try:
            acme_tls_handshake(gw, "shop.example.com").close()
        except (ssl.SSLError, ConnectionResetError):
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
