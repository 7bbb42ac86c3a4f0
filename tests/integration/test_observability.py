"""Access log lines, Prometheus /metrics (format and counters), and
server.max_connections_per_ip."""
import json
import re
import signal
import socket
import time

import pytest
import requests
import urllib3

from gwproc import Gateway, tls_socket, write_config

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

SECRET = "tok3n-5ecret-value"


def get(gw, path="/", **kw):
    kw.setdefault("verify", False)
    kw.setdefault("timeout", 10)
    return requests.get(gw.url + path, **kw)


def events(gw, name=None):
    out = []
    for line in gw.log().splitlines():
        if line.startswith("{"):
            e = json.loads(line)     # every line is one JSON object
            if name is None or e.get("event") == name:
                out.append(e)
    return out


def wait_for(fn, timeout=3.0):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(0.05)


@pytest.fixture
def gw(gateway):
    return gateway()


def test_access_log_line_fields(gw):
    r = requests.post(gw.url + "/logged/./x", params={"token": SECRET},
                      data=b"z" * 1000, verify=False, timeout=10,
                      headers={"Authorization": "Bearer " + SECRET,
                               "Cookie": "sid=" + SECRET})
    assert r.status_code == 200
    lines = wait_for(lambda: [e for e in events(gw, "request")
                              if e.get("path") == "/logged/x"])
    assert len(lines) == 1
    e = lines[0]
    assert e["method"] == "POST" and e["status"] == 200
    assert e["client"] == "127.0.0.1" and e["host"] == "127.0.0.1"
    assert len(e["request_id"]) == 32
    assert ["X-Request-Id", e["request_id"]] in r.json()["headers"]
    assert e["bytes_in"] == 1000
    assert int(e["bytes_out"]) == len(r.content)
    assert float(e["duration_ms"]) >= float(e["upstream_ms"]) >= 0
    assert e["decision"] == "allow" and e["app"] == "demo"
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", e["time"])
    assert SECRET not in gw.log()       # no query, cookie or credentials


def test_log_decisions_for_gateway_answers(gw):
    get(gw, "/.postern/health")
    get(gw, "/headers", params={"set": "X-Bad:a\x01b"})     # 502
    with tls_socket(gw) as s:
        s.sendall(b"GET /u?token=" + SECRET.encode() + b" HTTP/1.1\r\n"
                  b"Host: other.example\r\nConnection: close\r\n\r\n")
        while s.recv(4096):
            pass

    def by_path():
        return {e.get("path"): e for e in events(gw)
                if e.get("event") in ("request", "reject")}
    got = wait_for(lambda: len(by_path()) >= 3 and by_path())
    health, bad, unknown = got["/.postern/health"], got["/headers"], got["/u"]
    assert health["decision"] == "allow" and health["upstream_ms"] is None
    assert health["app"] is None
    assert bad["event"] == "reject" and bad["status"] == 502
    assert bad["decision"] == "error" and bad["app"] == "demo"
    assert bad["reason"].startswith("upstream_bad_")
    assert unknown["status"] == 421 and unknown["decision"] == "deny"
    assert unknown["reason"] == "unknown_host"
    assert SECRET not in gw.log()


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)'
                    r'(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*",?)*)\})?'
                    r' (-?[0-9.e+]+|\+Inf|NaN)$')


def parse_metrics(text):
    """Strict parse of the text format: {(name, labels): value}."""
    assert text.endswith("\n")
    types, helps, samples = {}, set(), {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helps.add(line.split()[2])
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram"), line
            assert name not in types, "TYPE twice: " + line
            types[name] = kind
            continue
        m = SAMPLE.match(line)
        assert m, "bad sample line: %r" % line
        name, labels, value = m.groups()
        family = re.sub(r"_(bucket|sum|count)$", "", name) \
            if name not in types else name
        assert family in types and family in helps, "no TYPE/HELP: " + line
        if types[family] == "counter":
            assert name.endswith("_total"), name
        key = (name, tuple(sorted(re.findall(r'(\w+)="([^"]*)"',
                                             labels or ""))))
        assert key not in samples, "duplicate: " + line
        samples[key] = float(value)
    return types, samples


def scrape(gw):
    r = requests.get("http://127.0.0.1:%d/metrics" % gw.admin_port,
                     timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse_metrics(r.text)


def test_metrics_format_and_counters(gw, tmp_path):
    assert get(gw, "/").status_code == 200
    assert get(gw, "/.postern/nothing").status_code == 404
    assert get(gw, "/headers", params={"set": "X-Bad:a\x01b"}).status_code \
        == 502
    # plain HTTP on the TLS port: a failed handshake
    with socket.create_connection(("127.0.0.1", gw.https_port), 10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        try:
            s.recv(4096)
        except ConnectionResetError:
            pass
    gw.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "reloaded" in gw.log())
    with open(gw.config, "a") as f:
        f.write("bogus_key: 1\n")
    gw.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "reload failed" in gw.log())

    types, s = wait_for(lambda: (lambda t: t[1].get(
        ("postern_tls_handshake_failures_total", ())) and t)(scrape(gw)))
    assert types["postern_request_duration_seconds"] == "histogram"
    assert types["postern_connections_open"] == "gauge"

    def v(name, **labels):
        return s[(name, tuple(sorted(labels.items())))]
    req = "postern_requests_total"
    assert v(req, status_class="2xx", decision="allow") >= 1
    assert v(req, status_class="4xx", decision="allow") >= 1   # 404 page
    assert v(req, status_class="5xx", decision="error") == 1
    assert v(req, status_class="3xx", decision="deny") == 0
    assert v("postern_upstream_errors_total", kind="protocol") == 1
    assert v("postern_upstream_errors_total", kind="connect") == 0
    assert v("postern_tls_handshake_failures_total") == 1
    assert v("postern_config_reloads_total", result="success") == 1
    assert v("postern_config_reloads_total", result="failure") == 1
    assert v("postern_connections_open") >= 0
    # histogram: cumulative buckets, +Inf == _count == requests counted
    h = "postern_request_duration_seconds"
    buckets = sorted(((float(dict(k[1])["le"]), val) for k, val in s.items()
                      if k[0] == h + "_bucket"))
    counts = [c for _, c in buckets]
    assert counts == sorted(counts) and buckets[-1][0] == float("inf")
    assert counts[-1] == v(h + "_count") == sum(
        val for k, val in s.items() if k[0] == req)
    assert v(h + "_sum") > 0


def start_with(tmp_path, tls_cert, upstream, postern_bin, server_extra):
    cfg, ports = write_config(tmp_path, tls_cert, upstream,
                              server_extra=server_extra)
    return Gateway(cfg, tmp_path / "postern.log", ports, wait=("http",))


HEALTH = b"GET /.postern/health HTTP/1.1\r\nHost: localhost\r\n\r\n"


def health_on(s):
    """A keep-alive health request on <s>; its response, b'' if closed."""
    try:
        s.sendall(HEALTH)
        data = b""
        while b"\r\n\r\n" not in data or not data.endswith(b"}\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data
    except (ConnectionResetError, BrokenPipeError):
        return b""


def test_max_connections_per_ip(tmp_path, tls_cert, upstream, postern_bin):
    gw = start_with(tmp_path, tls_cert, upstream, postern_bin,
                    "  max_connections_per_ip: 3\n")
    socks = []
    try:
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", gw.http_port), 5)
            assert health_on(s).startswith(b"HTTP/1.1 200 ")
            socks.append(s)
        extra = socket.create_connection(("127.0.0.1", gw.http_port), 5)
        assert health_on(extra) == b""          # closed at accept
        extra.close()
        line = wait_for(lambda: [e for e in events(gw, "reject")
                                 if e.get("reason") == "conn_limit_ip"])
        assert line and line[0]["client"] == "127.0.0.1"
        socks.pop().close()                     # frees one slot
        time.sleep(0.3)
        s = socket.create_connection(("127.0.0.1", gw.http_port), 5)
        socks.append(s)
        assert health_on(s).startswith(b"HTTP/1.1 200 ")
    finally:
        for s in socks:
            s.close()
        gw.stop()


def test_per_ip_limit_spares_trusted_proxies(tmp_path, tls_cert, upstream,
                                             postern_bin):
    gw = start_with(tmp_path, tls_cert, upstream, postern_bin,
                    "  max_connections_per_ip: 1\n"
                    "  trusted_proxies: [127.0.0.0/8]\n")
    socks = []
    try:
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", gw.http_port), 5)
            socks.append(s)
            assert health_on(s).startswith(b"HTTP/1.1 200 ")
    finally:
        for s in socks:
            s.close()
        gw.stop()
