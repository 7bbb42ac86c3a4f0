"""The upstream side: keep-alive pooling (connections counted through the
demo upstream's per-connection "conn" id), stale-connection retry, https://
upstreams verified against a CA, and WebSocket tunnels over TLS."""
import base64
import hashlib
import json
import os
import socket
import ssl
import struct
import subprocess
import threading
import time

import pytest
import requests
import urllib3

import conftest
from conftest import run_postern, stop
from gwproc import tls_socket, write_config

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)


def start_upstream(port=None, tls=None):
    return conftest.start_upstream(port, tls, quiet=True)


@pytest.fixture
def gwf(gateway):
    """Factory: gwf(upstream, url=None, app_extra, extra) -> Gateway with one
    worker (one pool), so that reuse is observable."""
    def start(upstream, url=None, app_extra="", extra=""):
        return gateway(extra=extra, app_extra=app_extra, upstream=upstream,
                       workers=1, upstream_url=url)
    return start


@pytest.fixture
def up():
    proc, addr = start_upstream()
    yield addr
    stop(proc)


def get(gw, path="/", s=requests, **kw):
    kw.setdefault("verify", False)
    kw.setdefault("timeout", 10)
    return s.get(gw.url + path, **kw)


# ---- keep-alive pool ----

def test_sequential_requests_share_one_upstream_connection(gwf, up):
    gw = gwf(up)
    conns = {get(gw, "/a?i=%d" % i).json()["conn"] for i in range(8)}
    assert len(conns) == 1      # separate client connections, one upstream


def test_no_connection_close_sent_upstream(gwf, up):
    gw = gwf(up)
    hdrs = {k.lower(): v for k, v in get(gw).json()["headers"]}
    assert "connection" not in hdrs


def test_head_204_304_leave_connection_reusable(gwf, up):
    gw = gwf(up)
    with requests.Session() as s:
        first = get(gw, "/x", s).json()["conn"]
        assert s.head(gw.url + "/x", verify=False).status_code == 200
        assert get(gw, "/status/204", s).status_code == 204
        assert get(gw, "/status/304", s).status_code == 304
        assert get(gw, "/x", s).json()["conn"] == first


def test_connection_close_from_upstream_not_reused(gwf, up):
    gw = gwf(up)
    a = get(gw, "/headers?set=Connection:close").json()["conn"]
    b = get(gw, "/y").json()["conn"]
    c = get(gw, "/y").json()["conn"]
    assert a != b and b == c


def test_no_cross_request_leakage_under_concurrency(gwf, up):
    gw = gwf(up)
    bad = []

    def worker(n):
        with requests.Session() as s:
            for i in range(15):
                tag = "%d-%d" % (n, i)
                if i % 5 == 4:
                    assert get(gw, "/status/204", s).status_code == 204
                    continue
                r = get(gw, "/q?tag=" + tag, s)
                if r.json()["query"] != "tag=" + tag:
                    bad.append((tag, r.text))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bad == []


def test_pool_survives_upstream_restart(gwf):
    proc, addr = start_upstream()
    try:
        gw = gwf(addr)
        before = get(gw, "/a").json()["conn"]
        stop(proc)
        proc, _ = start_upstream(addr[1])
        r = get(gw, "/a")
        assert r.status_code == 200 and r.json()["conn"] != before
    finally:
        stop(proc)


class OneShotUpstream:
    """Answers the first request on each connection with keep-alive, then
    closes it silently when the next request comes (or, with junk=True,
    sends stray bytes after the first response), so that the gateway
    holds a stale pooled connection on purpose."""

    def __init__(self, junk=False):
        self.junk = junk
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.addr = self.sock.getsockname()
        self.requests = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.conn, args=(c,), daemon=True).start()

    def read_head(self, c):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = c.recv(65536)
            if not chunk:
                return None
            data += chunk
        return data

    def conn(self, c):
        head = self.read_head(c)
        if head is None:
            return c.close()
        self.requests.append(head.split(b"\r\n", 1)[0])
        body = b'{"n": %d}' % len(self.requests)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                  b"Content-Type: application/json\r\n\r\n%s"
                  % (len(body), body))
        if self.junk:
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL!")
        head = self.read_head(c)    # the reuse: drop it unanswered
        if head is not None:
            self.requests.append(head.split(b"\r\n", 1)[0] + b" (dropped)")
        c.close()

    def close(self):
        self.sock.close()


def test_stale_pooled_connection_is_retried_for_get(gwf):
    u = OneShotUpstream()
    try:
        gw = gwf(u.addr)
        assert get(gw, "/one").status_code == 200
        # The parked connection looks alive but drops the next request.
        time.sleep(0.2)
        r = get(gw, "/two")
        assert r.status_code == 200 and r.json() == {"n": 3}
        assert u.requests == [b"GET /one HTTP/1.1",
                              b"GET /two HTTP/1.1 (dropped)",
                              b"GET /two HTTP/1.1"]
        assert "stale upstream connection, retrying" in gw.log()
    finally:
        u.close()


def test_stale_pooled_connection_not_retried_for_post(gwf):
    u = OneShotUpstream()
    try:
        gw = gwf(u.addr)
        assert get(gw, "/one").status_code == 200
        time.sleep(0.2)
        r = requests.post(gw.url + "/two", data=b"x" * 10, verify=False,
                          timeout=10)
        # Sent once on the stale connection, never resent: a 502.
        posts = [x for x in u.requests if x.startswith(b"POST")]
        assert posts == [b"POST /two HTTP/1.1 (dropped)"]
        assert r.status_code == 502
    finally:
        u.close()


def test_stray_bytes_discard_pooled_connection(gwf):
    u = OneShotUpstream(junk=True)
    try:
        gw = gwf(u.addr)
        assert get(gw, "/one").json() == {"n": 1}
        time.sleep(0.2)
        r = get(gw, "/two")
        assert r.status_code == 200 and b"EVIL" not in r.content
    finally:
        u.close()


# ---- https:// upstreams ----

def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, a leaf for localhost/127.0.0.1 signed by it, and another CA."""
    d = tmp_path_factory.mktemp("pki")
    p = {k: str(d / k) for k in ("ca.pem", "ca.key", "leaf.pem", "leaf.key",
                                 "leaf.csr", "other.pem", "other.key",
                                 "ext")}
    for ca, key in (("ca.pem", "ca.key"), ("other.pem", "other.key")):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                "-subj", "/CN=postern test CA " + ca, "-keyout", p[key],
                "-out", p[ca])
    openssl("req", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
            "/CN=localhost", "-keyout", p["leaf.key"], "-out", p["leaf.csr"])
    with open(p["ext"], "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", p["leaf.csr"], "-CA", p["ca.pem"],
            "-CAkey", p["ca.key"], "-CAcreateserial", "-days", "2",
            "-extfile", p["ext"], "-out", p["leaf.pem"])
    return p


@pytest.fixture
def tls_up(pki):
    proc, addr = start_upstream(tls=(pki["leaf.pem"], pki["leaf.key"]))
    yield addr
    stop(proc)


def test_https_upstream_verified_and_pooled(gwf, tls_up, pki):
    gw = gwf(tls_up, url="https://localhost:%d" % tls_up[1],
             app_extra="  upstream_ca: %s\n" % pki["ca.pem"])
    rs = [get(gw, "/t?i=%d" % i) for i in range(4)]
    assert all(r.status_code == 200 for r in rs), [r.text for r in rs]
    conns = {r.json()["conn"] for r in rs}
    assert len(conns) == 1


def test_https_upstream_by_ip_with_server_name(gwf, tls_up, pki):
    gw = gwf(tls_up, url="https://127.0.0.1:%d" % tls_up[1],
             app_extra="  upstream_ca: %s\n  upstream_server_name: "
             "localhost\n" % pki["ca.pem"])
    assert get(gw, "/ip").status_code == 200


@pytest.mark.parametrize("extra", [
    "  upstream_ca: {other}\n",                  # wrong CA
    "  upstream_ca: {ca}\n  upstream_server_name: wrong.test\n",
    "",                                          # system store: unknown CA
])
def test_https_upstream_verify_failure_is_502(gwf, tls_up, pki, extra):
    gw = gwf(tls_up, url="https://localhost:%d" % tls_up[1],
             app_extra=extra.format(other=pki["other.pem"],
                                    ca=pki["ca.pem"]))
    r = get(gw, "/v")
    assert r.status_code == 502
    time.sleep(0.1)
    assert "upstream_tls_verify" in gw.log()


def test_upstream_ca_unreadable_is_config_error(tmp_path, tls_cert, up):
    cfg, _ = write_config(tmp_path, tls_cert, up,
                          app_extra="  upstream_ca: missing.pem\n",
                          upstream_url="https://%s:%d" % up)
    r = run_postern("check", "-c", str(cfg), timeout=10)
    assert r.returncode != 0
    assert "app.yaml:" in r.stderr + r.stdout
    assert "upstream_ca" in r.stderr + r.stdout


# ---- WebSocket ----

def ws_connect(gw, path="/ws", key=None, extra=b""):
    s = tls_socket(gw)
    key = key or base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n" % (path, key)).encode() +
              extra + b"\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        assert chunk, head
        head += chunk
    return s, key, head.decode()


def ws_send(s, op, data):
    mask = os.urandom(4)
    n = len(data)
    if n < 126:
        hdr = struct.pack("!BB", 0x80 | op, 0x80 | n)
    elif n < 1 << 16:
        hdr = struct.pack("!BBH", 0x80 | op, 0x80 | 126, n)
    else:
        hdr = struct.pack("!BBQ", 0x80 | op, 0x80 | 127, n)
    s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in
                                 enumerate(data)))


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        assert chunk, "closed after %d of %d bytes" % (len(data), n)
        data += chunk
    return data


def ws_recv(s):
    b0, b1 = recv_exact(s, 2)
    assert not b1 & 0x80        # server frames are not masked
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", recv_exact(s, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", recv_exact(s, 8))[0]
    return b0 & 0x0F, recv_exact(s, n)


def test_websocket_echo_over_tls(gwf, up):
    gw = gwf(up)
    s, key, head = ws_connect(gw)
    with s:
        assert head.startswith("HTTP/1.1 101 ")
        want = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()
        ).digest()).decode()
        assert "Sec-WebSocket-Accept: %s\r\n" % want in head
        assert "upgrade: websocket" in head.lower()
        ws_send(s, 1, b"hello")
        assert ws_recv(s) == (1, b"hello")
        big = os.urandom(300000)        # beyond both high-water marks
        ws_send(s, 2, big)
        assert ws_recv(s) == (2, big)
        ws_send(s, 9, b"p")
        assert ws_recv(s) == (10, b"p")
        ws_send(s, 8, b"\x03\xe8")
        assert ws_recv(s)[0] == 8
        s.settimeout(5)
        assert s.recv(1) == b""     # both sides closed together
    time.sleep(0.2)
    assert '"status":101' in gw.log().replace(" ", "")


def test_websocket_tunnel_idle_timeout(gwf, up):
    gw = gwf(up, extra="timeouts:\n  tunnel_idle: 1s\n")
    s, _, head = ws_connect(gw)
    with s:
        assert head.startswith("HTTP/1.1 101 ")
        ws_send(s, 1, b"a")
        assert ws_recv(s) == (1, b"a")
        t = time.monotonic()
        s.settimeout(5)
        try:
            assert s.recv(1) == b""
        except (ConnectionResetError, ssl.SSLError):
            pass
        assert 0.8 < time.monotonic() - t < 3


def test_upgrade_answered_without_101_is_a_normal_response(gwf, up):
    gw = gwf(up)
    s, _, head = ws_connect(gw, path="/not-ws")
    with s:
        assert head.startswith("HTTP/1.1 200 ")
        n = int(head.lower().split("content-length: ")[1].split("\r\n")[0])
        info = json.loads(recv_exact(s, n))
        names = {k.lower() for k, _ in info["headers"]}
        assert "upgrade" in names and "sec-websocket-key" in names


def test_non_websocket_upgrade_is_stripped(gwf, up):
    gw = gwf(up)
    r = get(gw, "/h2c", headers={
        "Upgrade": "h2c", "Connection": "Upgrade, HTTP2-Settings",
        "HTTP2-Settings": "AAMAAABkAARAAAAAAAIAAAAA"})
    assert r.status_code == 200
    names = {k.lower() for k, _ in r.json()["headers"]}
    assert "upgrade" not in names and "http2-settings" not in names
