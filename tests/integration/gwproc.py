"""A `postern serve` whose whole configuration the test writes, for
test_tls.py and test_lifecycle.py: several certificates, a plain listener
that serves (redirect: false), extra environment (NOTIFY_SOCKET), config
rewrites followed by SIGHUP.  Raw HTTP/1.1 helpers for the cases no client
library will produce (pipelining, 100-continue, dribbled heads).
"""
import os
import signal
import socket
import subprocess
import textwrap
import time

import pytest

from conftest import BIN, free_port, stop, wait_port


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "WARNING: ThreadSanitizer")


def make_cert(directory, name, org="postern-test", days=30):
    """A self-signed P-256 certificate for DNS name <name>; key mode 0600."""
    crt = os.path.join(str(directory), "%s-%s.crt" % (name, org))
    key = os.path.join(str(directory), "%s-%s.key" % (name, org))
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-days", str(days),
         "-subj", "/CN=%s/O=%s" % (name, org), "-addext",
         "subjectAltName=DNS:%s" % name, "-keyout", key, "-out", crt],
        check=True, capture_output=True)
    os.chmod(key, 0o600)
    return crt, key


def forge_cert(directory, name, days_from=-1, days_to=30, key="ec"):
    """A self-signed certificate for DNS name <name> valid from <days_from>
    to <days_to> days from now (either may be in the past), with an EC
    P-256 key, or "rsa2048", "rsa3072", "ec224" (python3-cryptography);
    (cert, key) paths, key mode 0600."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID
    if key.startswith("rsa"):
        pk = rsa.generate_private_key(65537, int(key[3:]))
    else:
        pk = ec.generate_private_key(ec.SECP224R1() if key == "ec224"
                                     else ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject)
            .issuer_name(subject).public_key(pk.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + datetime.timedelta(days=days_from))
            .not_valid_after(now + datetime.timedelta(days=days_to))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(name)]), critical=False)
            .sign(pk, hashes.SHA256()))
    tag = "%s-%s-%s-%s" % (name, key, days_from, days_to)
    crt = os.path.join(str(directory), tag + ".crt")
    keyf = os.path.join(str(directory), tag + ".key")
    with open(crt, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(keyf, "wb") as f:
        f.write(pk.private_bytes(serialization.Encoding.PEM,
                                 serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()))
    os.chmod(keyf, 0o600)
    return crt, keyf


class Postern:
    """One postern serve process; ports stay fixed across rewrites."""

    def __init__(self, directory, upstream, certs, extra="", workers=2,
                 tickets=False, level="info", env=None, ports=None):
        self.dir = str(directory)
        self.upstream = upstream
        self.https_port, self.http_port, self.admin_port = (
            ports or (free_port(), free_port(), free_port()))
        self.config = os.path.join(self.dir, "postern.yaml")
        self.log_path = os.path.join(self.dir, "postern.log")
        self.write(certs, extra, workers, tickets, level)
        e = dict(os.environ)
        e.update(env or {})
        with open(self.log_path, "w") as logf:
            self.proc = subprocess.Popen([BIN, "serve", "-c", self.config],
                                         stdout=logf, stderr=logf, env=e)
        try:
            wait_port(self.https_port, self.proc)
            wait_port(self.http_port, self.proc)
        except RuntimeError:
            print(self.log())
            raise

    def write(self, certs=None, extra="", workers=2, tickets=False,
              level="info", upstream=None):
        """(Re)write the config; certificates default to the last ones."""
        self.certs = certs = certs or self.certs
        up = upstream or self.upstream
        with open(os.path.join(self.dir, "app.yaml"), "w") as f:
            f.write("app:\n  name: demo\n  hosts: [localhost, 127.0.0.1, "
                    "alpha.test, beta.test]\n  upstream: http://%s:%d\n"
                    "  protect: false\n"
                    % up)
        certs_yaml = "".join("    - cert: %s\n      key: %s\n" % c
                             for c in certs)
        text = textwrap.dedent("""\
            server:
              workers: %d
              listen:
                - address: "127.0.0.1:%d"
                  tls: true
                - address: "127.0.0.1:%d"
                  tls: false
                  redirect: false
              admin: "127.0.0.1:%d"
            tls:
              session_tickets: %s
              certificates:
            """) % (workers, self.https_port, self.http_port,
                    self.admin_port, "true" if tickets else "false")
        text += certs_yaml + textwrap.dedent("""\
            redis:
              address: "127.0.0.1:6379"
            log:
              level: %s
            policies:
              - app.yaml
            """) % level + textwrap.dedent(extra)
        tmp = self.config + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.config)

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_log(self, text, count=1, timeout=5.0):
        """Wait until <text> occurs <count> times in the log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log().count(text) >= count:
                return
            time.sleep(0.02)
        raise AssertionError("%r not logged %d times:\n%s"
                             % (text, count, self.log()[-3000:]))

    def reload(self, expect="reloaded: "):
        """SIGHUP and wait for the outcome line (<expect>) to appear."""
        n = self.log().count(expect)
        self.proc.send_signal(signal.SIGHUP)
        self.wait_log(expect, n + 1)

    def term(self):
        self.proc.send_signal(signal.SIGTERM)

    def stop(self):
        stop(self.proc)


@pytest.fixture
def postern(tmp_path, upstream, tls_cert, postern_bin):
    """Factory: postern(certs=[...], extra=..., ...) -> Postern."""
    started = []

    def start(certs=None, **kw):
        d = tmp_path / ("gw%d" % len(started))
        d.mkdir()
        gw = Postern(d, upstream, certs or [tls_cert], **kw)
        started.append(gw)
        return gw

    yield start
    for gw in started:
        gw.stop()
    for gw in started:      # an ASan/UBSan build reports on stderr
        for mark in SANITIZER_MARKS:
            assert mark not in gw.log(), gw.log()[-6000:]


# ---- raw HTTP/1.1 ----------------------------------------------------------

def plain(gw, timeout=10):
    return socket.create_connection(("127.0.0.1", gw.http_port), timeout)


def read_head(f):
    """Status line and headers from file <f>: (status, {name: value})."""
    line = f.readline()
    if not line:
        raise EOFError("connection closed before a response")
    assert line.startswith(b"HTTP/1.1 "), line
    status = int(line.split()[1])
    headers = {}
    while True:
        h = f.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers


def read_chunks(f):
    """A chunked body: the list of chunk payloads (no trailers expected)."""
    chunks = []
    while True:
        size = int(f.readline().split(b";")[0].strip(), 16)
        if size == 0:
            assert f.readline() == b"\r\n"
            return chunks
        chunks.append(f.read(size))
        assert f.read(2) == b"\r\n"


def read_response(f, method="GET"):
    """(status, headers, body, chunks) of one response; chunks is None
    unless the body was chunked.  1xx, 204, 304 and HEAD have no body."""
    status, headers = read_head(f)
    if method == "HEAD" or status in (204, 304) or status // 100 == 1:
        return status, headers, b"", None
    if "chunked" in headers.get("transfer-encoding", ""):
        chunks = read_chunks(f)
        return status, headers, b"".join(chunks), chunks
    if "content-length" in headers:
        n = int(headers["content-length"])
        body = f.read(n)
        assert len(body) == n
        return status, headers, body, None
    return status, headers, f.read(), None


def closed_by_peer(s, timeout):
    """True if <s> reads EOF (or a reset) within <timeout> seconds."""
    s.settimeout(timeout)
    try:
        while True:
            data = s.recv(65536)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
