#!/usr/bin/python3
"""A small real HTTP/1.1 upstream for the demo and the integration tests.

It shows what the gateway forwards: every request is answered with the
method, path, query, headers and a digest of the body it received, as HTML
for browsers (Accept: text/html) and as JSON otherwise.  A few paths help the
tests:  /stream?bytes=N sends N bytes, /chunked?n=N&size=S sends N chunks
of S bytes with Transfer-Encoding: chunked, /status/NNN answers that status
(204 and 304 without a body), /slow?ms=N waits before answering,
/headers?set=Name:Value (repeatable) adds those response headers, /ws is a
WebSocket echo (RFC 6455; each frame comes back unmasked).  The JSON echo's
"conn" is the peer port of the connection, so that tests can count
connections.  --tls-cert/--tls-key serve HTTPS instead.  Standard library
only.
"""
import argparse
import base64
import hashlib
import html
import json
import ssl
import struct
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

IDENTITY = ("X-Postern-User", "X-Postern-Email", "X-Postern-Org",
            "X-Postern-Role", "X-Postern-Auth", "X-Request-Id",
            "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host",
            "X-Postern-Assertion")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY,
    # Nagle holds the body until the gateway's delayed ACK (40 ms).
    disable_nagle_algorithm = True
    server_version = "demo-upstream"

    def log_message(self, fmt, *args):  # quiet unless asked
        if self.server.verbose:
            sys.stderr.write("upstream: " + (fmt % args) + "\n")

    def _body(self):
        h = hashlib.sha256()
        n = 0
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                left = size
                while left:
                    chunk = self.rfile.read(min(left, 1 << 16))
                    if not chunk:
                        break
                    h.update(chunk)
                    n += len(chunk)
                    left -= len(chunk)
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left:
                chunk = self.rfile.read(min(left, 1 << 16))
                if not chunk:
                    break
                h.update(chunk)
                n += len(chunk)
                left -= len(chunk)
        return n, h.hexdigest()

    def _send(self, status, ctype, payload, extra=()):
        self.send_response(status)
        if status in (204, 304):    # RFC 9110 15.3.5, 15.4.5: no content
            self.end_headers()
            return
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _stream(self, total):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(total))
        self.end_headers()
        if self.command == "HEAD":
            return
        block = b"x" * (1 << 16)
        while total > 0:
            n = min(total, len(block))
            self.wfile.write(block[:n])
            total -= n

    def _chunked(self, n, size):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if self.command == "HEAD":
            return
        for i in range(n):
            self.wfile.write(b"%x\r\n" % size + bytes([97 + i % 26]) * size
                             + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def _read_frame(self):
        hdr = self.rfile.read(2)
        if len(hdr) < 2:
            return None, None
        op, n = hdr[0] & 0x0F, hdr[1] & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.rfile.read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.rfile.read(8))[0]
        mask = self.rfile.read(4) if hdr[1] & 0x80 else b"\0\0\0\0"
        data = self.rfile.read(n)
        return op, bytes(b ^ mask[i % 4] for i, b in enumerate(data))

    def _write_frame(self, op, data):
        n = len(data)
        if n < 126:
            hdr = struct.pack("!BB", 0x80 | op, n)
        elif n < 1 << 16:
            hdr = struct.pack("!BBH", 0x80 | op, 126, n)
        else:
            hdr = struct.pack("!BBQ", 0x80 | op, 127, n)
        self.wfile.write(hdr + data)
        self.wfile.flush()

    def _websocket(self):
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept.decode())
        self.send_header("X-Conn", str(self.client_address[1]))
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        while True:
            op, data = self._read_frame()
            if op is None:
                return
            if op == 8:             # close: answer it and end
                self._write_frame(8, data[:2])
                return
            self._write_frame(10 if op == 9 else op, data)

    def handle_one(self):
        url = urlsplit(self.path)
        q = parse_qs(url.query)
        if (url.path == "/ws" and
                self.headers.get("Upgrade", "").lower() == "websocket"):
            return self._websocket()
        n, digest = self._body()
        if url.path == "/stream":
            return self._stream(int(q.get("bytes", ["0"])[0]))
        if url.path == "/chunked":
            return self._chunked(int(q.get("n", ["3"])[0]),
                                 int(q.get("size", ["10"])[0]))
        if url.path == "/logout":
            # the app's own sign-out: Postern ends the session when it
            # sees this header, and drops the header
            return self._send(303, "text/plain", b"signed out\n", [
                ("X-Postern-Logout", "1"),
                ("Location", "/.postern/login?signed_out=1")])
        if url.path == "/slow":
            time.sleep(int(q.get("ms", ["1000"])[0]) / 1000)
        status = 200
        if url.path.startswith("/status/"):
            status = int(url.path.split("/")[2])
        info = {
            "method": self.command,
            "path": url.path,
            "query": url.query,
            "target": self.path,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_bytes": n,
            "body_sha256": digest,
            "conn": self.client_address[1],
        }
        if url.path == "/headers":
            extra = [tuple(x.split(":", 1)) for x in q.get("set", [])
                     if ":" in x]
            return self._send(status, "application/json",
                              json.dumps(info).encode() + b"\n", extra)
        if "text/html" in self.headers.get("Accept", ""):
            rows = "".join(
                "<tr><th>%s</th><td>%s</td></tr>" % (html.escape(k),
                                                     html.escape(v))
                for k, v in self.headers.items() if k in IDENTITY
                or k.lower().startswith("x-postern"))
            page = ("<!doctype html><html><head><meta charset=utf-8>"
                    "<title>Demo app behind Postern</title></head><body>"
                    "<h1>Demo app</h1><p>This upstream knows nothing about "
                    "sign-in. Postern sent it these identity headers:</p>"
                    "<table>%s</table><p>%s %s</p>"
                    "<p><a href=\"/logout\">Sign out</a> (the app's own "
                    "sign-out: X-Postern-Logout) or <a href=\""
                    "/.postern/logout?rd=/\">sign out through Postern</a>"
                    "</p></body></html>" % (
                        rows or "<tr><td>(none)</td></tr>",
                        html.escape(self.command), html.escape(self.path)))
            return self._send(status, "text/html; charset=utf-8",
                              page.encode())
        self._send(status, "application/json",
                   json.dumps(info).encode() + b"\n")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = \
        do_OPTIONS = handle_one


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8081)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--tls-cert", help="PEM chain: serve HTTPS")
    ap.add_argument("--tls-key", help="PEM key for --tls-cert")
    args = ap.parse_args()
    # A load test opens dozens of connections at once: the default
    # backlog of 5 would drop SYNs and add seconds of retransmits.
    ThreadingHTTPServer.request_queue_size = 128
    srv = ThreadingHTTPServer((args.listen, args.port), Handler)
    srv.daemon_threads = True
    srv.verbose = args.verbose
    if args.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        # The handshake happens in the handler's thread, on first read.
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                     do_handshake_on_connect=False)
    print("demo upstream listening on %s:%d%s" % (
        args.listen, args.port, " (tls)" if args.tls_cert else ""),
        flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
