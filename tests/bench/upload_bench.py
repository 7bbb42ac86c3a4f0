#!/usr/bin/python3
"""Upload throughput through the gateway: chunked and Content-Length bodies.

usage: upload_bench.py [--mib N] [--reps R] POSTERN_BIN [POSTERN_BIN ...]

For each binary: a `postern serve` (1 worker, plain listener) in front of a
sink upstream (a separate process that reads each body, chunked or not,
and answers 200 with its length), and one client that sends an N MiB body
(default 128) in 16 KiB chunks, or with Content-Length, over one
keep-alive connection.  The binaries take turns for R repetitions
(default 5); prints the median MB/s of each.  Not a test: it fails only if
something does not start, a body arrives with the wrong length, or a
gateway's log holds a sanitizer report (the tests' launcher, gwproc.py).
"""
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "integration"))
from gwproc import (Gateway, app_text, check_launched,  # noqa: E402
                    config_text, free_port, listener, make_cert, section,
                    stop, wait_port)


class Buf:
    """Reads from socket <c> with a position into the last 1 MiB read,
    so that skipping data copies nothing."""

    def __init__(self, c):
        self.c, self.b, self.pos = c, b"", 0

    def fill(self):
        d = self.c.recv(1 << 20)
        if not d:
            raise EOFError
        self.b, self.pos = self.b[self.pos:] + d, 0

    def line(self):
        while True:
            i = self.b.find(b"\r\n", self.pos)
            if i != -1:
                out, self.pos = self.b[self.pos:i + 2], i + 2
                return out
            self.fill()

    def skip(self, n):
        while n:
            if self.pos == len(self.b):
                self.fill()
            k = min(n, len(self.b) - self.pos)
            self.pos += k
            n -= k


def sink_body(buf, head):
    low = head.lower()
    if b"transfer-encoding: chunked" in low:
        n = 0
        while True:
            size = int(buf.line().split(b";")[0], 16)
            if size == 0:
                while buf.line() != b"\r\n":
                    pass
                return n
            buf.skip(size + 2)
            n += size
    cl = [h for h in low.split(b"\r\n") if h.startswith(b"content-length:")]
    n = int(cl[0].split(b":")[1]) if cl else 0
    buf.skip(n)
    return n


def sink_conn(c):
    buf = Buf(c)
    try:
        while True:
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                head += buf.line()
            body = b"%d" % sink_body(buf, head)
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s"
                      % (len(body), body))
    except (EOFError, OSError):
        c.close()


def sink(port):
    """The upstream: a thread per connection (the gateway pools them)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    while True:
        c, _ = s.accept()
        threading.Thread(target=sink_conn, args=(c,), daemon=True).start()


def start_gateway(binary, directory, upstream_port):
    crt, key = make_cert(directory, "localhost")
    ports = {"https": free_port(), "http": free_port(),
             "admin": free_port()}
    with open(os.path.join(directory, "app.yaml"), "w") as f:
        f.write(app_text(("127.0.0.1", upstream_port), name="bench",
                         hosts=("localhost",)))
    cfg = os.path.join(directory, "postern.yaml")
    with open(cfg, "w") as f:
        f.write(config_text(
            [listener(ports["https"]),
             listener(ports["http"], tls=False, redirect=False)],
            workers=1, admin=ports["admin"], certs=[(crt, key)],
            log={"level": "warn", "access_log": "false"},
            policies=["app.yaml"],
            extra=section("limits", {"body_size": 0})))
    gw = Gateway(cfg, os.path.join(directory, "postern.log"), ports,
                 wait=("http",), binary=binary)
    return gw, ports["http"]


def upload(port, body, head):
    """Seconds to send <head> and <body> and read the answer; the answer."""
    with socket.create_connection(("127.0.0.1", port), 30) as s:
        t = time.monotonic()
        s.sendall(head)
        view = memoryview(body)
        for i in range(0, len(body), 1 << 20):
            s.sendall(view[i:i + (1 << 20)])
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += s.recv(4096) or b"\r\n\r\n"
        h, rest = reply.split(b"\r\n\r\n", 1)
        m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", h)
        while m is not None and len(rest) < int(m.group(1)):
            rest += s.recv(4096) or b"!"
        return time.monotonic() - t, h, rest


def bodies(mib):
    data = os.urandom(16 * 1024)
    n = mib * 64
    chunked = (b"4000\r\n" + data + b"\r\n") * n + b"0\r\n\r\n"
    return [("chunked", b"Transfer-Encoding: chunked\r\n", chunked),
            ("content-length", b"Content-Length: %d\r\n" % (len(data) * n),
             data * n)], len(data) * n


def main():
    args = sys.argv[1:]
    mib, reps = 128, 5
    while args and args[0].startswith("--"):
        opt, val = args[0], int(args[1])
        mib, reps = (val, reps) if opt == "--mib" else (mib, val)
        args = args[2:]
    if not args:
        raise SystemExit(__doc__)
    uport = free_port()
    up = subprocess.Popen([sys.executable, __file__, "--sink", str(uport)])
    wait_port(uport, up)
    kinds, total = bodies(mib)
    results = {(b, k): [] for b in args for k, _, _ in kinds}
    with tempfile.TemporaryDirectory() as d:
        gws = {}
        try:
            for i, b in enumerate(args):
                os.mkdir(os.path.join(d, str(i)))
                gws[b] = start_gateway(b, os.path.join(d, str(i)), uport)
            for _ in range(reps):
                for b in args:
                    for kind, hdr, body in kinds:
                        head = (b"POST /u HTTP/1.1\r\nHost: localhost\r\n" +
                                hdr + b"\r\n")
                        secs, h, got = upload(gws[b][1], body, head)
                        if not h.startswith(b"HTTP/1.1 200") or \
                                got != b"%d" % total:
                            raise SystemExit("bad reply: %r %r" % (h, got))
                        results[(b, kind)].append(total / secs / 1e6)
        finally:
            stop(up)
            check_launched()    # stops each gateway; a sanitizer report?
    for (b, kind), v in results.items():
        print("%-60s %-15s %8.0f MB/s (median of %d, range %.0f-%.0f)"
              % (b, kind, statistics.median(v), len(v), min(v), max(v)))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--sink":
        sink(int(sys.argv[2]))
    else:
        main()
