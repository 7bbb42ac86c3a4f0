"""A reload reaches connections that are already open.

Each request is decided with the configuration current when its head
arrives: one keep-alive connection (TLS, a real session cookie from a real
sign-in, real Redis, the echo upstream) is held across a SIGHUP that
removes a public route or tightens a role, and the next request on that
same connection gets the new decision.  Pipelined requests sent before
the reload, and idle connections, follow the same rule; run under the
sanitizer build too (an old snapshot freed under a live connection would
show there).
"""
import signal
import time

from gwproc import read_head, read_response, tls_socket
from test_upstream import ws_recv, ws_send
from test_routes import member, new_org, routesgw, signed_in  # noqa: F401

ROUTES = """\
  routes:
    - path: /slow
      public: true
    - path: /ws
      public: true
    - path: /public/**
      public: true
    - path: /orgs/{org}/**
      role: %s
    - path: /app/**
      authenticated: true
"""

NO_PUBLIC = """\
  routes:
    - path: /slow
      public: true
    - path: /orgs/{org}/**
      role: %s
    - path: /app/**
      authenticated: true
"""


def set_routes(gw, routes):
    """Rewrite the app's routes (nothing else) and SIGHUP; wait for it."""
    policy = gw.dir / "app.yaml"
    text = policy.read_text()
    text = text[:text.index("  routes:\n")] + routes
    policy.write_text(text)
    sighup(gw)


def sighup(gw):
    """SIGHUP <gw> and wait for its "reloaded: " line."""
    n = gw.log().count("reloaded: ")
    gw.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while gw.log().count("reloaded: ") <= n:
        assert time.monotonic() < deadline, gw.log()[-3000:]
        time.sleep(0.02)


def get(path, cookie=None):
    head = ("GET %s HTTP/1.1\r\nHost: localhost\r\n"
            "Accept: application/json\r\n" % path)
    if cookie:
        head += "Cookie: %s\r\n" % cookie
    return (head + "\r\n").encode()


def status_of(f):
    status, headers, _, _ = read_response(f)
    assert headers.get("connection", "").lower() != "close" or status >= 400
    return status


def fresh(gw, path):
    """The status a new connection gets for <path>."""
    with tls_socket(gw) as s:
        s.sendall(get(path))
        return status_of(s.makefile("rb"))


def session_cookie(s):
    return "; ".join("%s=%s" % (c.name, c.value) for c in s.cookies)


def test_removed_public_route_applies_to_open_connection(routesgw):
    gw = routesgw
    with tls_socket(gw) as s:
        f = s.makefile("rb")
        s.sendall(get("/public/a"))
        assert status_of(f) == 200
        set_routes(gw, NO_PUBLIC % "viewer")
        # the same connection, the next request: no public route any more
        s.sendall(get("/public/a"))
        assert status_of(f) == fresh(gw, "/public/a") == 403


def test_tightened_role_applies_to_open_connection(routesgw):
    gw = routesgw
    slug = new_org(gw)
    member(gw, slug, gw.email, "viewer")
    cookie = session_cookie(signed_in(gw))
    with tls_socket(gw) as s:
        f = s.makefile("rb")
        s.sendall(get("/orgs/%s/x" % slug, cookie))
        assert status_of(f) == 200
        set_routes(gw, ROUTES % "admin")
        s.sendall(get("/orgs/%s/x" % slug, cookie))
        assert status_of(f) == 403
        # loosened again: the connection follows both ways
        set_routes(gw, ROUTES % "viewer")
        s.sendall(get("/orgs/%s/x" % slug, cookie))
        assert status_of(f) == 200


def test_idle_connection_across_several_reloads(routesgw):
    """Idle connections let the old snapshots go (no leak, no stale
    pointer under ASan) and answer with the newest rules."""
    gw = routesgw
    conns = [tls_socket(gw) for _ in range(4)]
    try:
        files = [c.makefile("rb") for c in conns]
        for c, f in zip(conns, files):
            c.sendall(get("/public/a"))
            assert status_of(f) == 200
        for i in range(3):
            set_routes(gw, (NO_PUBLIC if i % 2 == 0 else ROUTES) % "viewer")
        for c, f in zip(conns, files):
            c.sendall(get("/public/a"))
            assert status_of(f) == 403
    finally:
        for c in conns:
            c.close()


def test_pipelined_request_after_reload_gets_new_decision(routesgw):
    """A request whose head is read after the reload is decided by the new
    rules even when it was sent in one batch with an earlier one."""
    gw = routesgw
    set_routes(gw, ROUTES % "viewer")
    with tls_socket(gw) as s:
        f = s.makefile("rb")
        s.sendall(get("/public/a"))
        assert status_of(f) == 200
        # the first takes 1.5 s upstream; the reload lands meanwhile
        s.sendall(get("/slow?ms=1500") + get("/public/b"))
        time.sleep(0.3)
        set_routes(gw, NO_PUBLIC % "viewer")
        assert status_of(f) == 200      # decided before the reload
        assert status_of(f) == 403      # head read after it


def test_security_headers_follow_reload_on_open_connection(routesgw):
    """Siblings of the policy: the app's header set comes from the
    snapshot of each request too."""
    gw = routesgw
    with tls_socket(gw) as s:
        f = s.makefile("rb")
        s.sendall(get("/public/a"))
        _, h, _, _ = read_response(f)
        assert h["x-frame-options"] == "SAMEORIGIN"
        set_routes(gw, ROUTES % "viewer" +
                   "  security_headers:\n    frame_options: DENY\n")
        s.sendall(get("/public/a"))
        status, h, _, _ = read_response(f)
        assert status == 200 and h["x-frame-options"] == "DENY"


def ws_open(gw):
    s = tls_socket(gw)
    s.sendall(b"GET /ws HTTP/1.1\r\nHost: localhost\r\n"
              b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              b"Sec-WebSocket-Version: 13\r\n\r\n")
    # nothing follows the 101 until we send: the reader takes the head only
    status, _ = read_head(s.makefile("rb"))
    return s, status


def test_open_websocket_keeps_its_handshake_policy(routesgw):
    """Documented: an open tunnel is not cut by a reload; it holds the old
    snapshot until it closes (freed then: checked under ASan), while a
    new handshake gets the new decision."""
    gw = routesgw
    set_routes(gw, ROUTES % "viewer")
    s, status = ws_open(gw)
    with s:
        assert status == 101
        set_routes(gw, "  routes:\n    - path: /app/**\n"
                   "      authenticated: true\n")
        ws_send(s, 1, b"still here")
        assert ws_recv(s) == (1, b"still here")
        s2, status = ws_open(gw)
        s2.close()
        assert status == 403
    set_routes(gw, ROUTES % "viewer")       # the old snapshots go
    assert fresh(gw, "/public/a") == 200
