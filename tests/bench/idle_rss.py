#!/usr/bin/python3
"""Open N idle keep-alive connections to a gateway and report its RSS growth.

usage: idle_rss.py PID PORT [N]

Each connection sends one request (so it is a real keep-alive connection,
not a half-open one), reads the answer, then stays open and idle.  Prints
the RSS of PID before and after, and the growth per connection in KiB.
Bounded: gives up after 60 s.
"""
import resource
import socket
import sys
import time


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit("no VmRSS for %d" % pid)


def main():
    pid, port = int(sys.argv[1]), int(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, n + 100)), hard))
    req = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
    before = rss_kib(pid)
    socks, deadline = [], time.monotonic() + 60
    for _ in range(n):
        if time.monotonic() > deadline:
            break
        s = socket.create_connection(("127.0.0.1", port), 5)
        s.sendall(req)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                raise SystemExit("connection closed after %d" % len(socks))
            data += chunk
        socks.append(s)
    time.sleep(1)
    after = rss_kib(pid)
    print("idle keep-alive connections: %d; RSS before %d KiB, after %d KiB;"
          " %.2f KiB per connection" % (len(socks), before, after,
                                        (after - before) / max(1, len(socks))))
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
