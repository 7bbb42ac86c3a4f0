"""TLS termination seen from outside: protocol versions, cipher suites,
groups, ALPN, session tickets, SNI, and certificates reloaded on SIGHUP.
Probes use `openssl s_client` where the issue names it and Python's ssl
module elsewhere (it reports the negotiated version, suite and ALPN)."""
import os
import shutil
import socket
import ssl
import subprocess
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from conftest import free_port, run_postern, wait_port
from gwproc import closed_by_peer, forge_cert, make_cert

HEALTH = (b"GET /.postern/health HTTP/1.1\r\nHost: localhost\r\n"
          b"Connection: close\r\n\r\n")

# Debian's openssl.cnf sets MinProtocol = TLSv1.2 and SECLEVEL=2, so a
# plain `s_client -tls1` cannot even offer TLS 1.0/1.1 (it fails on its
# own side and would prove nothing).  SECLEVEL=0 lets it offer them; the
# control test below shows such a client does complete a TLS 1.0 and 1.1
# handshake with a server that allows them.
OLD = ["-cipher", "DEFAULT@SECLEVEL=0"]


def s_client(port, *args, stdin=b"", servername="localhost"):
    """Run s_client; return (exit status, stdout + stderr)."""
    cmd = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
           "-servername", servername, *args]
    r = subprocess.run(cmd, input=stdin, capture_output=True, timeout=15)
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace")


def handshake_ok(rc, out):
    return rc == 0 and "Cipher is (NONE)" not in out and \
        "New, (NONE), Cipher is (NONE)" not in out


def client_ctx(maxv=None, minv=None, ciphers=None, alpn=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if minv is not None:
        ctx.minimum_version = minv
    if maxv is not None:
        ctx.maximum_version = maxv
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    if alpn is not None:
        ctx.set_alpn_protocols(alpn)
    return ctx


def connect(gw, ctx, name="localhost"):
    raw = socket.create_connection(("127.0.0.1", gw.https_port), 10)
    try:
        return ctx.wrap_socket(raw, server_hostname=name)
    except Exception:
        raw.close()
        raise


def subject(sock):
    cert = x509.load_der_x509_certificate(sock.getpeercert(binary_form=True))
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    org = cert.subject.get_attributes_for_oid(
        NameOID.ORGANIZATION_NAME)[0].value
    return cn, org


def get_on(sock, path="/.postern/health", close=False):
    """One request on an open TLS socket; returns the status."""
    sock.sendall(b"GET %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n" % (
        path.encode(), b"Connection: close\r\n" if close else b""))
    f = sock.makefile("rb")
    line = f.readline()
    length = 0
    while True:
        h = f.readline()
        if h in (b"\r\n", b""):
            break
        if h.lower().startswith(b"content-length:"):
            length = int(h.split(b":")[1])
    f.read(length)
    return int(line.split()[1])


@pytest.fixture
def gw(postern):
    return postern()


# ---- protocol versions -------------------------------------------------

def test_old_client_works_against_an_old_server(tls_cert):
    """Control: the s_client options used below really offer TLS 1.0/1.1."""
    port = free_port()
    srv = subprocess.Popen(
        ["openssl", "s_server", "-accept", "127.0.0.1:%d" % port,
         "-cert", tls_cert[0], "-key", tls_cert[1], "-min_protocol",
         "TLSv1", "-max_protocol", "TLSv1.1", "-cipher",
         "DEFAULT@SECLEVEL=0", "-www"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL)
    try:
        wait_port(port, srv)
        for flag, name in (("-tls1", "TLSv1"), ("-tls1_1", "TLSv1.1")):
            rc, out = s_client(port, flag, *OLD)
            assert handshake_ok(rc, out), out
            assert "Protocol  : %s\n" % name in out, out
    finally:
        srv.kill()
        srv.wait()


@pytest.mark.parametrize("flag", ["-tls1", "-tls1_1"])
def test_tls10_and_tls11_refused(gw, flag):
    rc, out = s_client(gw.https_port, flag, *OLD)
    assert not handshake_ok(rc, out), out
    assert "alert protocol version" in out, out
    assert gw.proc.poll() is None


@pytest.mark.parametrize("flag,name", [("-tls1_2", "TLSv1.2"),
                                       ("-tls1_3", "TLSv1.3")])
def test_tls12_and_tls13_accepted(gw, flag, name):
    rc, out = s_client(gw.https_port, flag)
    assert handshake_ok(rc, out), out
    assert "New, %s, Cipher is " % name in out, out
    rc, out = s_client(gw.https_port, flag, "-ign_eof", stdin=HEALTH)
    assert "HTTP/1.1 200 OK" in out, out


def test_python_client_versions(gw):
    for v in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        with connect(gw, client_ctx(minv=v, maxv=v)) as s:
            assert s.version() == v.name.replace("_", ".")
            assert get_on(s, close=True) == 200


# ---- cipher suites and groups -------------------------------------------

@pytest.mark.parametrize("cipher", [
    "ECDHE-ECDSA-AES128-SHA",          # CBC, SHA-1
    "ECDHE-ECDSA-AES256-SHA384",       # CBC, SHA-384
    "ECDHE-ECDSA-AES128-SHA256",       # CBC, SHA-256
    "AES128-GCM-SHA256",               # AEAD but static RSA key exchange
    "ECDHE-ECDSA-AES128-CCM",          # AEAD, not in our list
])
def test_tls12_non_aead_or_non_ecdhe_refused(gw, cipher):
    rc, out = s_client(gw.https_port, "-tls1_2", "-cipher",
                       cipher + ":@SECLEVEL=0")
    assert not handshake_ok(rc, out), out


@pytest.mark.parametrize("cipher", [
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
])
def test_tls12_aead_ecdhe_accepted(gw, cipher):
    with connect(gw, client_ctx(maxv=ssl.TLSVersion.TLSv1_2,
                                ciphers=cipher)) as s:
        assert s.cipher()[0] == cipher
        assert s.version() == "TLSv1.2"


def test_server_cipher_preference(gw):
    # The client prefers ChaCha20 / AES-256; the server's order wins.
    ctx = client_ctx(maxv=ssl.TLSVersion.TLSv1_2, ciphers=(
        "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384:"
        "ECDHE-ECDSA-AES128-GCM-SHA256"))
    with connect(gw, ctx) as s:
        assert s.cipher()[0] == "ECDHE-ECDSA-AES128-GCM-SHA256"
    rc, out = s_client(gw.https_port, "-tls1_3", "-ciphersuites",
                       "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:"
                       "TLS_AES_128_GCM_SHA256")
    assert handshake_ok(rc, out), out
    assert "Cipher is TLS_AES_128_GCM_SHA256" in out, out


def temp_key(gw, flag, groups):
    rc, out = s_client(gw.https_port, flag, "-groups", groups)
    if not handshake_ok(rc, out):
        return None
    line = [ln for ln in out.splitlines() if "Server Temp Key:" in ln]
    assert line, out
    return line[0].split(":", 1)[1].split(",")[-2 if "ECDH" in line[0]
                                                   else 0].strip()


def test_groups_tls13_x25519_and_p256_only(gw):
    assert temp_key(gw, "-tls1_3", "X25519") == "X25519"
    assert temp_key(gw, "-tls1_3", "P-256") == "prime256v1"
    for group in ("P-384", "P-521", "X448", "ffdhe2048"):
        assert temp_key(gw, "-tls1_3", group) is None, group


def test_groups_tls12_x25519_and_p256_only(gw):
    # TLS 1.2 ties the ECDSA certificate's curve (P-256) to the client's
    # supported_groups (RFC 8422 5.1), so every offer includes P-256; the
    # server's own order (X25519 first) picks the key exchange group.
    assert temp_key(gw, "-tls1_2", "P-256:X25519") == "X25519"
    assert temp_key(gw, "-tls1_2", "P-256") == "prime256v1"
    assert temp_key(gw, "-tls1_2", "P-384:P-521:X448:P-256") == "prime256v1"
    assert temp_key(gw, "-tls1_2", "P-384:P-521") is None


# ---- ALPN ---------------------------------------------------------------

def test_alpn_http11_negotiated(gw):
    with connect(gw, client_ctx(alpn=["h2", "http/1.1"])) as s:
        assert s.selected_alpn_protocol() == "http/1.1"
        assert get_on(s, close=True) == 200
    with connect(gw, client_ctx()) as s:      # no ALPN at all: fine
        assert s.selected_alpn_protocol() is None
        assert get_on(s, close=True) == 200


def test_alpn_h2_alone_not_selected(gw):
    # RFC 7301 3.2: no overlap is a fatal no_application_protocol alert.
    try:
        s = connect(gw, client_ctx(alpn=["h2"]))
    except ssl.SSLError as e:
        assert "NO_APPLICATION_PROTOCOL" in str(e).upper() or \
            "ALERT" in str(e).upper(), e
    else:
        with s:
            assert s.selected_alpn_protocol() != "h2"
    rc, out = s_client(gw.https_port, "-alpn", "h2")
    assert "ALPN protocol: h2" not in out


# ---- session tickets ----------------------------------------------------

def tickets_seen(port, flag):
    rc, out = s_client(port, flag, "-ign_eof", stdin=HEALTH)
    assert handshake_ok(rc, out), out
    if flag == "-tls1_3":
        return "Post-Handshake New Session Ticket arrived" in out
    return "TLS session ticket:" in out


def test_session_tickets_off_by_default(gw):
    assert not tickets_seen(gw.https_port, "-tls1_2")
    assert not tickets_seen(gw.https_port, "-tls1_3")


def test_session_tickets_on_when_configured(postern, tmp_path):
    gw = postern(tickets=True)
    assert tickets_seen(gw.https_port, "-tls1_2")
    assert tickets_seen(gw.https_port, "-tls1_3")
    # and a ticket resumes a session
    sess = str(tmp_path / "sess.pem")
    rc, out = s_client(gw.https_port, "-tls1_2", "-sess_out", sess)
    assert handshake_ok(rc, out), out
    rc, out = s_client(gw.https_port, "-tls1_2", "-sess_in", sess)
    assert "Reused, TLSv1.2" in out, out


# ---- SNI and certificates -------------------------------------------------

@pytest.fixture
def two_certs(tmp_path):
    return (make_cert(tmp_path, "alpha.test", "one"),
            make_cert(tmp_path, "beta.test", "one"))


def test_sni_chooses_certificate(postern, two_certs):
    gw = postern(certs=list(two_certs))
    for name in ("alpha.test", "beta.test"):
        with connect(gw, client_ctx(), name) as s:
            assert subject(s) == (name, "one")
        rc, out = s_client(gw.https_port, servername=name)
        assert "subject=CN = %s, O = one" % name in out, out
    # unknown names and no SNI get the first (default) certificate
    with connect(gw, client_ctx(), "other.test") as s:
        assert subject(s)[0] == "alpha.test"
    raw = socket.create_connection(("127.0.0.1", gw.https_port), 10)
    with client_ctx().wrap_socket(raw) as s:
        assert subject(s)[0] == "alpha.test"


def replace_cert(dst, src):
    """Overwrite the cert/key files <dst> with the contents of <src>."""
    for d, s in zip(dst, src):
        tmp = d + ".new"
        shutil.copyfile(s, tmp)
        os.chmod(tmp, 0o600)
        os.replace(tmp, d)


def test_certificate_reload_on_sighup(postern, two_certs, tmp_path):
    alpha, beta = two_certs
    gw = postern(certs=[alpha, beta])
    old = connect(gw, client_ctx(), "beta.test")
    assert subject(old) == ("beta.test", "one")
    assert get_on(old) == 200                       # keep-alive
    replace_cert(beta, make_cert(tmp_path, "beta.test", "two"))
    gw.reload()
    with connect(gw, client_ctx(), "beta.test") as s:
        assert subject(s) == ("beta.test", "two")
        assert get_on(s, close=True) == 200
    with connect(gw, client_ctx(), "alpha.test") as s:
        assert subject(s) == ("alpha.test", "one")
    # the connection made before the reload still works, twice
    assert get_on(old) == 200
    assert get_on(old, "/x", close=True) == 200
    old.close()


def test_broken_certificate_reload_keeps_the_old_one(postern, two_certs):
    alpha, beta = two_certs
    gw = postern(certs=[alpha, beta])
    with open(beta[0], "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnot base64 at all\n"
                "-----END CERTIFICATE-----\n")
    mark = len(gw.log())
    gw.reload("reload failed")
    why = gw.log()[mark:]                      # says which file and why
    assert "%s holds no PEM certificate" % beta[0] in why, why
    with connect(gw, client_ctx(), "beta.test") as s:
        assert subject(s) == ("beta.test", "one")
        assert get_on(s, close=True) == 200
    # a key that others may read is refused the same way
    replace_cert(beta, make_cert(os.path.dirname(beta[0]), "beta.test",
                                 "three"))
    os.chmod(beta[1], 0o644)
    mark = len(gw.log())
    gw.reload("reload failed")
    why = gw.log()[mark:]
    assert beta[1] in why and "group" in why, why
    with connect(gw, client_ctx(), "beta.test") as s:
        assert subject(s) == ("beta.test", "one")
    # fixed: the next reload takes it
    os.chmod(beta[1], 0o600)
    gw.reload()
    with connect(gw, client_ctx(), "beta.test") as s:
        assert subject(s) == ("beta.test", "three")
    assert gw.proc.poll() is None


def test_invalid_certificate_reload_keeps_the_old_one(postern, two_certs,
                                                      tmp_path):
    """serve holds certificates to postern check's rules on reload: an
    expired, a not yet valid, or a mismatched pair is refused (the old one
    keeps serving, the log says which file and why); an RSA-2048 one is
    taken with a warning."""
    alpha, beta = two_certs
    gw = postern(certs=[alpha, beta])
    mismatched = (forge_cert(tmp_path, "beta.test")[0],
                  forge_cert(tmp_path, "other.test")[1])
    for bad, why in ((forge_cert(tmp_path, "beta.test", -30, -1),
                      "expired on"),
                     (forge_cert(tmp_path, "beta.test", 1, 30),
                      "is not valid before"),
                     (mismatched, "does not match certificate")):
        replace_cert(beta, bad)
        mark = len(gw.log())
        gw.reload("reload failed")
        log = gw.log()[mark:]
        assert why in log and beta[0] in log, log
        with connect(gw, client_ctx(), "beta.test") as s:
            assert subject(s) == ("beta.test", "one")
            assert get_on(s, close=True) == 200
    replace_cert(beta, forge_cert(tmp_path, "beta.test", key="rsa2048"))
    mark = len(gw.log())
    gw.reload()
    log = gw.log()[mark:]
    assert "warning: tls.certificates.cert: certificate %s its RSA key " \
        "has 2048 bits" % beta[0] in log, log
    with connect(gw, client_ctx(), "beta.test") as s:
        assert s.getpeercert(binary_form=True) == cert_der(beta[0])
    assert gw.proc.poll() is None


def cert_der(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read()).public_bytes(
            serialization.Encoding.DER)


def test_serve_start_refuses_an_expired_certificate(postern, tmp_path):
    """At start as on reload: serve does not come up on an expired
    certificate, and says why."""
    good = make_cert(tmp_path, "localhost")
    gw = postern(certs=[good])
    gw.stop()                                   # its ports, its config
    expired = forge_cert(tmp_path, "localhost", -30, -1)
    gw.write(certs=[expired])
    r = run_postern("serve", "-c", gw.config, timeout=20)
    assert r.returncode != 0
    assert "certificate %s expired on" % expired[0] in r.stdout + r.stderr


def test_weak_secret_reload_keeps_the_old_config(postern, tmp_path):
    """A reload whose secret_file became weak is refused like a bad file:
    the running configuration stays, the log says why."""
    secret = tmp_path / "gw.secret"
    secret.write_bytes(os.urandom(32))
    secret.chmod(0o600)
    extra = "secret_file: %s\n" % secret
    gw = postern(extra=extra)
    secret.write_bytes(b"correct horse battery staple " * 2)
    mark = len(gw.log())
    gw.reload("reload failed")
    log = gw.log()[mark:]
    assert "secret_file: %s holds printable text" % secret in log, log
    with connect(gw, client_ctx(), "localhost") as s:
        assert get_on(s, close=True) == 200
    secret.write_bytes(os.urandom(32).hex().encode() + b"\n")
    gw.reload()
    assert gw.proc.poll() is None


# ---- handshake timeouts -------------------------------------------------

@pytest.mark.parametrize("sent", [b"", b"\x16\x03\x01\x02\x00\x01\x00"],
                         ids=["silent", "partial-client-hello"])
def test_stalled_handshake_closed_after_header_timeout(postern, sent):
    gw = postern(extra="timeouts:\n  header: 500ms\n")
    s = socket.create_connection(("127.0.0.1", gw.https_port), 5)
    s.sendall(sent)
    t0 = time.monotonic()
    assert closed_by_peer(s, 3)
    assert 0.4 < time.monotonic() - t0 < 1.5
    s.close()
