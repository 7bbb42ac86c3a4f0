"""Chunked request bodies, over plain and TLS listeners, against a recording
upstream that keeps every byte the gateway sent it.

A body is either framed the way RFC 9112 7.1 allows, and then reaches the
upstream framed again by the gateway (canonical sizes, no extensions, no
trailers), or it is refused: 400 (413, 431), the connection closed, one
reject event with a stable reason, and no complete request - above all no
request hidden behind the body - ever reaches the upstream.
"""
import hashlib
import json
import re
import socket
import socketserver
import ssl
import threading
import time

import pytest

from gwproc import plain, tls_socket

HIDDEN = b"GET /hidden HTTP/1.1\r\nHost: localhost\r\n\r\n"
CANONICAL = re.compile(rb"\A(?:([1-9a-f][0-9a-f]*)\r\n)")


class RecordingUpstream(socketserver.ThreadingTCPServer):
    """An HTTP/1.1 upstream on a free loopback port that records, per
    connection, every byte received, and per request its line, headers,
    raw body bytes, the body decoded (strictly) and whether it was whole.
    Answers each whole request 200 with a JSON digest, keep-alive."""

    daemon_threads = True
    allow_reuse_address = True

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            self.server.conn(self.request)

    def __init__(self):
        super().__init__(("127.0.0.1", 0), self.Handler)
        self.addr = self.server_address
        self.lock = threading.Lock()
        self.raw = []           # bytearray per connection
        self.requests = []      # dicts, in arrival order
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def conn(self, c):
        raw = bytearray()
        with self.lock:
            self.raw.append(raw)
        buf = Reader(c, raw)
        try:
            while self.one(c, buf):
                pass
        except (OSError, EOFError, ValueError):
            pass

    def one(self, c, buf):
        head = buf.until(b"\r\n\r\n")
        line, *fields = head[:-4].split(b"\r\n")
        headers = [f.split(b":", 1) for f in fields]
        names = {k.strip().lower(): v.strip() for k, v in headers}
        req = {"line": line, "headers": headers, "raw_body": bytearray(),
               "body": bytearray(), "complete": False}
        with self.lock:
            self.requests.append(req)
        early = line.startswith(b"POST /early ")
        if early:   # answer before the body: the gateway relays this
            c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                      b"\r\n5\r\nearly\r\n")
        if names.get(b"transfer-encoding") == b"chunked":
            read_strict_chunked(buf, req)
        elif b"content-length" in names:
            n = int(names[b"content-length"])
            req["raw_body"] += buf.take(n)
            req["body"] += req["raw_body"]
        req["complete"] = True
        if early:
            c.sendall(b"0\r\n\r\n")
            return True
        out = json.dumps({"n": len(self.requests),
                          "body_bytes": len(req["body"]),
                          "body_sha256": hashlib.sha256(
                              req["body"]).hexdigest()}).encode()
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n%s" % (len(out), out))
        return True

    def all_bytes(self):
        with self.lock:
            return b"".join(bytes(r) for r in self.raw)

    def close(self):
        self.shutdown()
        self.server_close()


class Reader:
    """Buffered reads from socket <c>, each byte also appended to <raw>."""

    def __init__(self, c, raw):
        self.c, self.raw, self.buf = c, raw, b""

    def fill(self):
        data = self.c.recv(65536)
        if not data:
            raise EOFError
        self.raw += data
        self.buf += data

    def until(self, sep):
        while sep not in self.buf:
            self.fill()
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def take(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def read_strict_chunked(buf, req):
    """The gateway's framing, read as strictly as it should be written:
    lower-case hex without leading zeros, no extension, no trailer."""
    while True:
        line = buf.until(b"\r\n")
        req["raw_body"] += line
        if line == b"0\r\n":
            end = buf.take(2)
            req["raw_body"] += end
            if end != b"\r\n":
                raise ValueError("trailer or bad end: %r" % end)
            return
        if not CANONICAL.match(line) or len(line) > 18:
            raise ValueError("not canonical: %r" % line)
        data = buf.take(int(line[:-2], 16) + 2)
        req["raw_body"] += data
        if data[-2:] != b"\r\n":
            raise ValueError("no CRLF after data")
        req["body"] += data[:-2]


@pytest.fixture
def rec():
    u = RecordingUpstream()
    yield u
    u.close()


@pytest.fixture
def gw(rec, gateway):
    """A gateway in front of the recording upstream; its plain listener
    serves (no redirect), so both listeners carry bodies."""
    return gateway(extra="limits:\n  body_size: 1KiB\n", upstream=rec.addr,
                   plain_redirect=False)


def connect(gw, tls):
    if not tls:
        s = plain(gw)
    else:
        s = tls_socket(gw)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def exchange(gw, tls, pieces, pause=0.0):
    """Send <pieces> in turn on one connection; everything answered until
    the gateway closes (or 3 s of silence)."""
    data = b""
    with connect(gw, tls) as s:
        for p in pieces:
            s.sendall(p)
            if pause:
                time.sleep(pause)
        s.settimeout(3)
        try:
            while True:
                got = s.recv(65536)
                if not got:
                    break
                data += got
        except (socket.timeout, ConnectionResetError, ssl.SSLError):
            pass
    return data


def post(te=b"chunked", path=b"/upload", extra=b""):
    return (b"POST " + path + b" HTTP/1.1\r\nHost: localhost\r\n"
            b"Transfer-Encoding: " + te + b"\r\n" + extra + b"\r\n")


def reason_count(gw, reason, want=1, timeout=3.0):
    """How often <reason> was logged, waiting a moment for <want>."""
    deadline = time.monotonic() + timeout
    while True:
        n = gw.log().count('"reason":"%s"' % reason)
        if n >= want or time.monotonic() > deadline:
            return n
        time.sleep(0.05)


def statuses(data):
    return [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)]


VALID = [
    # (body as sent, data it carries)
    (b"5\r\nhello\r\n0\r\n\r\n", b"hello"),
    (b"3;ext=\"a b\"\r\nabc\r\n0002 ; x = y\r\nde\r\n0;last\r\n\r\n",
     b"abcde"),
    (b"A\r\n0123456789\r\n0\r\nX-Trailer: secret-trailer\r\n\r\n",
     b"0123456789"),
    (b"1a\r\n" + HIDDEN[:26] + b"\r\n0\r\n\r\n", HIDDEN[:26]),
]


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
@pytest.mark.parametrize("body,data", VALID)
def test_valid_chunked_reaches_upstream_reframed(gw, rec, tls, body, data):
    got = exchange(gw, tls, [post(extra=b"Connection: close\r\n"), body])
    assert statuses(got) == [200], got[:300]
    reply = json.loads(got.split(b"\r\n\r\n", 1)[1])
    assert reply["body_sha256"] == hashlib.sha256(data).hexdigest()
    assert len(rec.requests) == 1
    req = rec.requests[0]
    assert req["complete"] and req["line"] == b"POST /upload HTTP/1.1"
    assert bytes(req["body"]) == data
    # one canonical chunk, whatever the client's sizes, extensions, trailers
    assert bytes(req["raw_body"]) == b"%x\r\n%s\r\n0\r\n\r\n" % (
        len(data), data)
    up = rec.all_bytes()
    assert b"secret-trailer" not in up and b"ext=" not in up
    te = [v for k, v in req["headers"] if k.lower() == b"transfer-encoding"]
    assert te == [b" chunked"]


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
def test_body_split_in_small_pieces(gw, rec, tls):
    """Bytes arrive in pieces: cut through every part of the framing."""
    body = b"".join(b"%x;n=%d\r\n%s\r\n" % (n, n, bytes([65 + n]) * n)
                    for n in range(1, 12)) + b"0\r\nT: 1\r\n\r\n"
    data = b"".join(bytes([65 + n]) * n for n in range(1, 12))
    pieces = [post(extra=b"Connection: close\r\n")]
    pieces += [body[i:i + 3] for i in range(0, len(body), 3)]
    got = exchange(gw, tls, pieces, pause=0.002)
    assert statuses(got) == [200], got[:300]
    req = rec.requests[0]
    assert req["complete"] and bytes(req["body"]) == data
    assert b";" not in bytes(req["raw_body"])


def test_request_hidden_in_body_is_only_data(gw, rec):
    """A request inside chunk data is body bytes, never a request."""
    inner = HIDDEN * 2
    got = exchange(gw, True, [post(extra=b"Connection: close\r\n"),
                              b"%x\r\n%s\r\n0\r\n\r\n" % (len(inner), inner)])
    assert statuses(got) == [200]
    assert [r["line"] for r in rec.requests] == [b"POST /upload HTTP/1.1"]
    assert bytes(rec.requests[0]["body"]) == inner


def test_pipelined_after_chunked_body_still_served(gw, rec):
    """A strict body's end is where the next request starts."""
    got = exchange(gw, True, [post() + b"3\r\nabc\r\n0\r\n\r\n" +
                              b"GET /next HTTP/1.1\r\nHost: localhost\r\n"
                              b"Connection: close\r\n\r\n"])
    assert statuses(got) == [200, 200]
    assert [r["line"] for r in rec.requests] == [
        b"POST /upload HTTP/1.1", b"GET /next HTTP/1.1"]


BAD = [
    # (body, status, reason): framings a lenient parser reads its own way
    (b"5;x\nhello\r\n0\r\n\r\n", 400, "smuggling_chunk_bare_lf"),
    (b"5\nhello\r\n0\r\n\r\n", 400, "smuggling_chunk_bare_lf"),
    (b"5\r\nhello\n0\r\n\r\n", 400, "smuggling_chunk_bare_lf"),
    (b"5\r\nhello\r\n0\n\n", 400, "smuggling_chunk_bare_lf"),
    (b"5\rXhello\r\n0\r\n\r\n", 400, "smuggling_chunk_bare_cr"),
    (b"5\r\nhello\rX0\r\n\r\n", 400, "smuggling_chunk_bare_cr"),
    (b"5\r\nhelloXY0\r\n\r\n", 400, "smuggling_chunk_crlf"),
    (b"5\r\nhel\r\n0\r\n\r\n", 400, "smuggling_chunk_crlf"),
    (b"5 \r\nhello\r\n0\r\n\r\n", 400, "smuggling_chunk_size"),
    (b" 5\r\nhello\r\n0\r\n\r\n", 400, "smuggling_chunk_size"),
    (b"+5\r\nhello\r\n0\r\n\r\n", 400, "smuggling_chunk_size"),
    (b"0x5\r\nhello\r\n0\r\n\r\n", 400, "smuggling_chunk_size"),
    (b"\r\nhello\r\n0\r\n\r\n", 400, "smuggling_chunk_size"),
    (b"10000000000000005\r\nhello\r\n0\r\n\r\n", 400,
     "smuggling_chunk_size"),
    (b"5;a b\r\nhello\r\n0\r\n\r\n", 400, "smuggling_chunk_ext"),
    (b"5;a=\"b\r\nhello\r\n0\r\n\r\n", 400, "smuggling_chunk_ext"),
    (b"5;" + b"a" * 300 + b"\r\nhello\r\n0\r\n\r\n", 400,
     "chunk_ext_too_large"),
    (b"0\r\nContent-Length: 42\r\n\r\n", 400, "smuggling_trailer_field"),
    (b"0\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
     "smuggling_trailer_field"),
    (b"0\r\nHost: evil\r\n\r\n", 400, "smuggling_trailer_field"),
    (b"0\r\nX: 1\r\n folded\r\n\r\n", 400, "smuggling_trailer"),
    (b"0\r\nX: " + b"a" * 9000 + b"\r\n\r\n", 431, "trailers_too_large"),
    (b"401\r\n", 413, "body_too_large"),
    (b"200\r\n" + b"a" * 512 + b"\r\n201\r\n", 413, "body_too_large"),
]


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
@pytest.mark.parametrize("body,status,reason", BAD,
                         ids=[r + "-%d" % i for i, (_, _, r) in
                              enumerate(BAD)])
def test_bad_framing_refused_and_hidden_request_never_forwarded(
        gw, rec, tls, body, status, reason):
    got = exchange(gw, tls, [post(), body + HIDDEN])
    assert statuses(got) == [status], got[:300]
    assert b"Connection: close" in got.split(b"\r\n\r\n", 1)[0]
    assert reason_count(gw, reason) == 1
    assert '"path":"/hidden"' not in gw.log()
    # the upstream saw at most a cut-off POST: nothing whole, no /hidden
    time.sleep(0.1)
    assert b"/hidden" not in rec.all_bytes()
    assert all(not r["complete"] for r in rec.requests), rec.requests
    assert all(r["line"] == b"POST /upload HTTP/1.1" for r in rec.requests)


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
def test_bad_framing_after_good_chunks_cuts_the_upstream_off(gw, rec, tls):
    """Chunks forwarded before the error stay an unfinished body: the
    upstream connection is closed, never completed or reused."""
    got = exchange(gw, tls, [post(), b"5\r\nhello\r\n", b"3\r\nabcXY",
                             b"0\r\n\r\n" + HIDDEN], pause=0.2)
    assert statuses(got) == [400]
    assert reason_count(gw, "smuggling_chunk_crlf") == 1
    time.sleep(0.2)
    assert len(rec.requests) == 1 and not rec.requests[0]["complete"]
    assert bytes(rec.requests[0]["body"]) == b"hello"
    assert b"/hidden" not in rec.all_bytes()


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
def test_bad_framing_after_response_started_is_logged(gw, rec, tls):
    """The upstream answered before the body ended: too late for a 400,
    the connection is cut, and the reject event is still written."""
    with connect(gw, tls) as s:
        s.sendall(post(path=b"/early") + b"5\r\nhello\r\n")
        s.settimeout(5)
        got = b""
        while b"early" not in got:
            got += s.recv(4096)
        s.sendall(b"3;a b\r\nabc\r\n0\r\n\r\n" + HIDDEN)
        try:
            while True:
                more = s.recv(4096)
                if not more:
                    break
                got += more
        except (ConnectionResetError, ssl.SSLError):
            pass
    assert statuses(got) == [200] and b"0\r\n\r\n" not in got
    assert reason_count(gw, "smuggling_chunk_ext") == 1
    time.sleep(0.1)
    assert b"/hidden" not in rec.all_bytes()
    assert not rec.requests[0]["complete"]


HEADS = [
    # Transfer-Encoding and Content-Length siblings, refused in the head
    (b"Transfer-Encoding: chunked, chunked\r\n", "smuggling_te_invalid"),
    (b"Transfer-Encoding: gzip, chunked\r\n", "smuggling_te_invalid"),
    (b"Transfer-Encoding: chunked;q=1\r\n", "smuggling_te_invalid"),
    (b"Transfer-Encoding: xchunked\r\n", "smuggling_te_invalid"),
    (b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
     "smuggling_te_multiple"),
    (b"Transfer-Encoding:\r\n chunked\r\n", "obs_fold"),
    (b"Transfer-Encoding: \x0bchunked\r\n", "control_char"),
    (b"Transfer-Encoding : chunked\r\n", None),
    (b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
     "smuggling_cl_te"),
    (b"Content-Length: +5\r\n", "bad_content_length"),
    (b"Content-Length: 5, 5\r\n", "bad_content_length"),
    (b"Content-Length: 5\r\nContent-Length: 5\r\n", "smuggling_double_cl"),
]


@pytest.mark.parametrize("extra,reason", HEADS)
def test_framing_header_siblings_refused(gw, rec, extra, reason):
    got = exchange(gw, True, [b"POST /upload HTTP/1.1\r\nHost: localhost\r\n"
                              + extra + b"\r\n5\r\nhello\r\n0\r\n\r\n" +
                              HIDDEN])
    assert statuses(got) == [400], got[:300]
    if reason is not None:
        assert reason_count(gw, reason) == 1
    time.sleep(0.1)
    assert rec.requests == [] and rec.all_bytes() == b""


@pytest.mark.parametrize("te", [b"Chunked", b"CHUNKED", b"chunked  ",
                                b"\tchunked"])
def test_transfer_coding_case_and_ows_accepted_canonical_upstream(
        gw, rec, te):
    """RFC 9112 7: coding names are case-insensitive, and OWS is not part
    of a field value; the upstream gets the gateway's own header."""
    got = exchange(gw, True, [post(te=te, extra=b"Connection: close\r\n"),
                              b"5\r\nhello\r\n0\r\n\r\n"])
    assert statuses(got) == [200]
    req = rec.requests[0]
    assert [v for k, v in req["headers"]
            if k.lower() == b"transfer-encoding"] == [b" chunked"]
    assert bytes(req["raw_body"]) == b"5\r\nhello\r\n0\r\n\r\n"
