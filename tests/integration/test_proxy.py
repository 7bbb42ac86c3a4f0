"""The request path: postern serve in front of the demo upstream, over real
TLS.  Malformed requests go through raw ssl-wrapped sockets, since no HTTP
library will send them."""
import hashlib
import json
import os
import signal
import socket
import ssl
import time

import pytest
import requests
import urllib3

from gwproc import metric, tls_socket

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

SMALL = """\
limits:
  request_line: 1KiB
  header_size: 4KiB
  body_size: 200MiB
"""


def recv_all(s, limit=1 << 20):
    data = b""
    try:
        while len(data) < limit:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError, ssl.SSLError):
        pass
    return data


def raw(gw, payload):
    """Send raw bytes over TLS; return (status, whole response)."""
    with tls_socket(gw) as s:
        s.sendall(payload)
        data = recv_all(s)
    line = data.split(b"\r\n", 1)[0]
    assert line.startswith(b"HTTP/1.1 "), data[:200]
    return int(line.split()[1]), data


def head(path=b"/", extra=b""):
    return (b"GET " + path + b" HTTP/1.1\r\nHost: localhost\r\n" + extra +
            b"Connection: close\r\n\r\n")


@pytest.fixture
def gw(gateway):
    return gateway(extra=SMALL)


def get(gw, path="/", **kw):
    kw.setdefault("verify", False)
    kw.setdefault("timeout", 20)
    return requests.get(gw.url + path, **kw)


def echo_headers(r):
    return {k.lower(): v for k, v in r.json()["headers"]}


def test_get_forwarded_with_forwarding_headers(gw):
    r = get(gw, "/hello?x=1")
    assert r.status_code == 200
    info = r.json()
    assert info["path"] == "/hello" and info["query"] == "x=1"
    h = echo_headers(r)
    assert h["x-forwarded-for"] == "127.0.0.1"
    assert h["x-forwarded-proto"] == "https"
    assert len(h["x-request-id"]) == 32
    int(h["x-request-id"], 16)


def test_post_body_intact(gw):
    body = os.urandom(300000)
    r = requests.post(gw.url + "/upload", data=body, verify=False, timeout=20)
    assert r.status_code == 200
    assert r.json()["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert r.json()["body_bytes"] == len(body)


def test_chunked_upload_intact(gw):
    parts = [os.urandom(5000) for _ in range(7)]
    r = requests.post(gw.url + "/c", data=iter(parts), verify=False,
                      timeout=20)
    assert r.status_code == 200
    assert r.json()["body_sha256"] == \
        hashlib.sha256(b"".join(parts)).hexdigest()


def test_keep_alive_reuses_connection(gw):
    with requests.Session() as s:
        assert s.get(gw.url + "/k", timeout=10, verify=False).ok
        before = metric(gw, "postern_connections_total")
        for _ in range(4):
            r = s.get(gw.url + "/k", timeout=10, verify=False)
            assert r.status_code == 200
            assert "close" not in r.headers.get("Connection", "")
        # the first connection served the other four
        assert metric(gw, "postern_connections_total") == before


def test_pipelined_requests_answered_in_order(gw):
    req = b"GET /one HTTP/1.1\r\nHost: localhost\r\n\r\n" \
          b"GET /two HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    status, data = raw(gw, req)
    assert status == 200
    assert data.index(b'"/one"') < data.index(b'"/two"')


@pytest.mark.parametrize("name", ["X-Postern-User", "X-POSTERN-USER",
                                  "x-postern-email", "X-Request-Id",
                                  "X-Forwarded-Host", "Forwarded",
                                  "X-Real-IP", "X-Original-URL",
                                  "X-Rewrite-URL"])
def test_spoofed_gateway_headers_never_reach_upstream(gw, name):
    r = get(gw, headers={name: "evil"})
    assert r.status_code == 200
    for k, v in r.json()["headers"]:
        assert v != "evil", (k, v)


def test_underscore_spoof_is_refused(gw):
    status, data = raw(gw, head(extra=b"x_postern_user: evil\r\n"))
    assert status == 400
    assert b"evil" not in data


def test_underscore_allowed_still_strips_folded_gateway_names(gateway):
    gw = gateway(extra=SMALL.replace("limits:\n", "limits:\n"
                                     "  allow_underscore_headers: true\n"))
    status, data = raw(gw, head(extra=b"x_postern_user: evil\r\n"
                                b"X_Forwarded_For: 6.6.6.6\r\n"
                                b"X_Custom: kept\r\n"))
    assert status == 200
    body = json.loads(data.split(b"\r\n\r\n", 1)[1])
    names = {k.lower(): v for k, v in body["headers"]}
    assert "x_postern_user" not in names and "x_forwarded_for" not in names
    assert b"evil" not in data and b"6.6.6.6" not in data
    assert names.get("x_custom") == "kept"


def test_method_override_headers_are_dropped(gw, gateway):
    """The policy decides on the request's method: an upstream honouring
    X-HTTP-Method-Override would otherwise run a DELETE sent as a GET."""
    override = {"X-HTTP-Method-Override": "DELETE", "X-HTTP-Method": "PUT",
                "X-Method-Override": "PATCH", "X-Other": "kept"}
    h = echo_headers(get(gw, headers=override))
    assert not {"x-http-method-override", "x-http-method",
                "x-method-override"} & set(h), h
    assert h["x-other"] == "kept"
    # an app that needs them says so, and gets them
    gw2 = gateway(extra=SMALL, app_extra="  method_override: true\n")
    h = echo_headers(get(gw2, headers=override))
    assert h["x-http-method-override"] == "DELETE"
    assert h["x-method-override"] == "PATCH"


def test_connection_header_cannot_strip_ours(gw):
    r = get(gw, headers={"Connection": "X-Forwarded-For, X-Request-Id, "
                                       "X-Forwarded-Proto"})
    h = echo_headers(r)
    assert h["x-forwarded-for"] == "127.0.0.1"
    assert "x-request-id" in h and "x-forwarded-proto" in h


def test_connection_named_client_header_removed(gw):
    r = get(gw, headers={"Connection": "X-Secret", "X-Secret": "1",
                         "X-Other": "2"})
    h = echo_headers(r)
    assert "x-secret" not in h and h["x-other"] == "2"


@pytest.mark.parametrize("extra,status", [
    (b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", 400),
    (b"Content-Length: 3\r\nContent-Length: 3\r\n", 400),
    (b"Transfer-Encoding: gzip\r\n", 400),
    (b"Transfer-Encoding: chunked, gzip\r\n", 400),
    (b"X-Folded: a\r\n b\r\n", 400),
    (b"X_Under: 1\r\n", 400),
    (b"X Space: 1\r\n", 400),
    (b"Host: other\r\n", 400),
])
def test_smuggling_and_malformed_heads(gw, extra, status):
    got, data = raw(gw, head(extra=extra) + b"0\r\n\r\n")
    assert got == status
    assert b"request_id" in data
    assert b"Connection: close" in data


def test_transfer_encoding_in_http10_is_refused(gw):
    """RFC 9112 6.1: faulty framing (an HTTP/1.0 hop would read that body
    by Content-Length or to the close, and see a second request in it)."""
    got, data = raw(gw, b"POST / HTTP/1.0\r\nHost: localhost\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n"
                    b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: localhost"
                    b"\r\n\r\n")
    assert got == 400 and b"Connection: close" in data
    assert b"/smuggled" not in data
    time.sleep(0.2)
    assert '"reason":"smuggling_te_http10"' in gw.log()
    assert "/smuggled" not in gw.log()


def test_reject_is_logged_with_reason(gw):
    raw(gw, head(extra=b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n"))
    time.sleep(0.2)
    events = [json.loads(line) for line in gw.log().splitlines()
              if line.startswith("{")]
    assert any(e.get("event") == "reject" and
               e.get("reason") == "smuggling_cl_te" for e in events)


def test_missing_host_is_400(gw):
    status, _ = raw(gw, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert status == 400


@pytest.mark.parametrize("path", [b"/a/../../etc", b"/a/%2Fb", b"/a%2fb",
                                  b"/%2e%2e/x", b"/a%5cb", b"/a%00"])
def test_bad_paths_are_400(gw, path):
    status, _ = raw(gw, head(path))
    assert status == 400


def test_path_normalised_for_upstream(gw):
    status, data = raw(gw, head(b"/a/./b//c"))
    assert status == 200
    body = json.loads(data.split(b"\r\n\r\n", 1)[1])
    assert body["path"] == "/a/b/c"


@pytest.mark.parametrize("method", [b"TRACE", b"CONNECT"])
def test_trace_and_connect_refused(gw, method):
    target = b"localhost:443" if method == b"CONNECT" else b"/"
    status, data = raw(gw, method + b" " + target +
                       b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert status == 405
    # RFC 9110 15.5.6: a 405 lists what the resource does support
    allow = [l for l in data.split(b"\r\n\r\n")[0].split(b"\r\n")
             if l.lower().startswith(b"allow:")]
    assert len(allow) == 1, data
    methods = {m.strip() for m in allow[0].split(b":", 1)[1].split(b",")}
    assert b"GET" in methods and b"POST" in methods
    assert method not in methods


def test_oversized_header_is_431(gw):
    status, _ = raw(gw, head(extra=b"X-Big: " + b"a" * 8000 + b"\r\n"))
    assert status == 431


def test_long_url_is_414(gw):
    status, _ = raw(gw, head(b"/" + b"a" * 2000))
    assert status == 414


def test_declared_body_over_limit_is_413(gateway):
    gw = gateway(extra=SMALL.replace("200MiB", "1KiB"))
    status, _ = raw(gw, b"POST / HTTP/1.1\r\nHost: localhost\r\n"
                    b"Content-Length: 5000\r\n\r\n")
    assert status == 413
    r = requests.post(gw.url + "/", data=iter([b"x" * 4096] * 3),
                      verify=False, timeout=20)
    assert r.status_code == 413


def test_large_download_streams(gw):
    n = 100 * 1024 * 1024
    h = hashlib.sha256()
    got = 0
    t0 = time.monotonic()
    with requests.get(gw.url + "/stream?bytes=%d" % n, stream=True,
                      verify=False, timeout=30) as r:
        assert r.status_code == 200
        for chunk in r.iter_content(1 << 20):
            got += len(chunk)
            h.update(chunk)
    assert got == n
    assert time.monotonic() - t0 < 30


class Body:
    """A file-like body of <n> blocks: requests sends Content-Length."""

    def __init__(self, block, n):
        self.block, self.left = block, n

    def __len__(self):
        return self.left * len(self.block)

    def read(self, size=-1):
        if self.left == 0:
            return b""
        self.left -= 1
        return self.block


def test_large_upload_streams(gw):
    block = os.urandom(1 << 20)
    n = 100
    want = hashlib.sha256(block * n).hexdigest()
    t0 = time.monotonic()
    r = requests.post(gw.url + "/up", data=Body(block, n), verify=False,
                      timeout=60)
    assert r.status_code == 200
    assert r.json()["body_bytes"] == n * len(block)
    assert r.json()["body_sha256"] == want
    # chunked, too
    r = requests.post(gw.url + "/up", data=iter([block] * 20), verify=False,
                      timeout=60)
    assert r.json()["body_sha256"] == hashlib.sha256(block * 20).hexdigest()
    assert time.monotonic() - t0 < 40


def test_upstream_down_is_502_with_request_id(gateway, tmp_path):
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    dead = ("127.0.0.1", port.getsockname()[1])
    port.close()
    gw = gateway(extra=SMALL)
    policy = tmp_path / "app.yaml"
    policy.write_text(policy.read_text().replace(
        "upstream: http://", "upstream: http://%s:%d #" % dead))
    gw.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    r = get(gw, "/x", headers={"Accept": "application/json"})
    assert r.status_code == 502
    body = r.json()
    assert len(body["request_id"]) == 32
    assert r.headers["Cache-Control"] == "no-store"
    r = get(gw, "/x", headers={"Accept": "text/html"})
    assert r.status_code == 502 and "<html" in r.text
    assert r.headers["X-Request-Id"] in r.text
    assert "127.0.0.1" not in r.text


def test_slow_upstream_is_504(gateway):
    gw = gateway(extra=SMALL + "timeouts:\n  upstream_response: 300ms\n")
    t0 = time.monotonic()
    r = get(gw, "/slow?ms=3000")
    assert r.status_code == 504
    assert time.monotonic() - t0 < 2.5
    assert get(gw, "/slow?ms=10").status_code == 200


def test_http_listener_redirects_browsers_only(gw):
    url = "http://127.0.0.1:%d/p/q?x=1" % gw.http_port
    r = requests.get(url, headers={"Accept": "text/html"},
                     allow_redirects=False, timeout=10)
    assert r.status_code == 301
    assert r.headers["Location"] == \
        "https://127.0.0.1:%d/p/q?x=1" % gw.https_port
    r = requests.get(url, allow_redirects=False, timeout=10)
    assert r.status_code in (400, 403)
    assert "Location" not in r.headers


def test_health(gw):
    r = get(gw, "/.postern/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert r.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert get(gw, "/.postern/nothing").status_code == 404


def test_unknown_host(gw):
    status, _ = raw(gw, b"GET / HTTP/1.1\r\nHost: unknown.example\r\n"
                    b"Connection: close\r\n\r\n")
    assert status in (404, 421)


def test_security_headers_on_proxied_responses(gw):
    r = get(gw, "/")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "Referrer-Policy" in r.headers
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_metrics(gw):
    get(gw, "/")
    r = requests.get("http://127.0.0.1:%d/metrics" % gw.admin_port,
                     timeout=10)
    assert r.status_code == 200
    assert 'postern_requests_total{status_class="2xx",decision="allow"}' \
        in r.text
    assert "postern_connections_open" in r.text
    r = requests.get("http://127.0.0.1:%d/other" % gw.admin_port,
                     timeout=10)
    assert r.status_code == 404


def test_access_log_line(gw):
    get(gw, "/logged/./x")
    time.sleep(0.2)
    events = [json.loads(line) for line in gw.log().splitlines()
              if line.startswith("{")]
    req = [e for e in events if e.get("event") == "request" and
           e.get("path") == "/logged/x"]
    assert req and req[0]["status"] == 200 and req[0]["method"] == "GET"
    assert len(req[0]["request_id"]) == 32


def test_sighup_reload_keeps_serving(gw):
    with requests.Session() as s:
        s.verify = False
        assert s.get(gw.url + "/a", timeout=10, verify=False).status_code == 200
        gw.proc.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        assert s.get(gw.url + "/b", timeout=10, verify=False).status_code == 200
    # a broken config keeps the old one
    with open(gw.config, "a") as f:
        f.write("bogus_key: 1\n")
    gw.proc.send_signal(signal.SIGHUP)
    time.sleep(0.3)
    assert gw.proc.poll() is None
    assert get(gw, "/c").status_code == 200
    assert "reload failed" in gw.log()


def test_sigterm_exits_zero(gw):
    assert get(gw, "/").status_code == 200
    gw.proc.send_signal(signal.SIGTERM)
    assert gw.proc.wait(10) == 0


def test_sigterm_drains_in_flight_request(gw):
    import threading
    result = {}

    def slow():
        result["r"] = get(gw, "/slow?ms=800")
    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.3)
    gw.proc.send_signal(signal.SIGTERM)
    t.join(10)
    assert result["r"].status_code == 200
    assert result["r"].headers.get("Connection") == "close"
    assert gw.proc.wait(10) == 0
    with pytest.raises(requests.exceptions.ConnectionError):
        get(gw, "/", timeout=2)
