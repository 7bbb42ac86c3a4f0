"""Reason codes (gateway/util/reasons.def): requests the gateway refuses for
many different reasons are logged with codes the table lists, and never
with an "unknown_reason" error (log_event() writes one for a code the table
lacks; tests/unit/reasons.py finds such codes in the sources).
"""
import json
import os
import re

import pytest

from test_hygiene import raw

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def table():
    with open(os.path.join(ROOT, "gateway", "util", "reasons.def")) as f:
        return set(re.findall(r"^REASON\(([a-z0-9_]+),", f.read(), re.M))


def send(gw, payload):
    """<payload> over TLS; the status, or None if the gateway just closed."""
    try:
        return raw(gw, payload.replace(b"\r\n", b"\r\nConnection: close\r\n",
                                       1))[0]
    except (IndexError, ValueError):
        return None


REFUSED = [
    b"GET / HTTP/1.1\r\nHost: nowhere.example\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"POST / HTTP/1.0\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
    b"\r\n0\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: localhost\r\nX_Forwarded: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\n"
    b"Content-Length: 2\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: localhost\r\n folded: x\r\n\r\n",
    b"GET /#frag HTTP/1.1\r\nHost: localhost\r\n\r\n",
    b"GET / HTTP/2.5\r\nHost: localhost\r\n\r\n",
]


@pytest.mark.parametrize("payload", REFUSED)
def test_refusals_log_known_reasons(gateway, payload):
    gw = gateway()
    status = send(gw, payload)
    assert status is None or status >= 400, status
    send(gw, b"GET / HTTP/1.1\r\nHost: nowhere.example\r\n"
         b"Connection: close\r\n\r\n")
    known = table()
    seen = []
    for line in gw.log().splitlines():
        if not line.startswith("{"):
            continue
        ev = json.loads(line)
        assert ev.get("event") != "unknown_reason", line
        r = ev.get("reason")
        if r is not None and re.fullmatch(r"[a-z][a-z0-9_]*", r):
            assert r in known, line
            seen.append(r)
    assert "unknown_host" in seen
