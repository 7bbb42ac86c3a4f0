"""Webhooks (gateway/outbound/webhook.c): audit events POSTed, signed, retried.

A real gateway and a real HTTP receiver on loopback (Python's
http.server); events come from real sign-ins.  Loopback is a refused
address class, so the receiver is reached only through allow_private; the
same receiver without it must get nothing.  (The other private ranges are
unit tests of the classification: no connection is made to them.)
"""
import hashlib
import hmac
import http.server
import json
import re
import threading
import time
import uuid

import pytest

from conftest import free_port
from test_auth import add_user, auth_extra, login, make_key

SECRET = b"webhook-secret-0123456789"


class Receiver:
    """Records every request; answers from a script of statuses."""

    def __init__(self):
        self.requests = []
        self.script = []        # statuses to answer, then 200
        self.port = free_port()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                outer.requests.append((self.path, dict(self.headers),
                                       body))
                status = outer.script.pop(0) if outer.script else 200
                self.send_response(status)
                if status in (301, 302, 307):
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1",
                                                       self.port), H)
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()

    def wait(self, n, timeout=10):
        deadline = time.time() + timeout
        while len(self.requests) < n:
            assert time.time() < deadline, self.requests
            time.sleep(0.05)
        return self.requests

    def stop(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def whgw(gateway, redis_server, tmp_path, receiver):
    def start(allow=True, retries=3, events="[login]"):
        secret = tmp_path / "wh.secret"
        secret.write_bytes(SECRET)
        secret.chmod(0o600)
        make_key(tmp_path)
        hook = ("webhooks:\n"
                "  - url: http://127.0.0.1:%d/hook\n"
                "    allow_http: true\n"
                "    events: %s\n"
                "    secret_file: %s\n"
                "    retries: %d\n"
                "    backoff: 50ms\n"
                "    timeout: 2s\n" % (receiver.port, events, secret,
                                        retries))
        if allow:
            hook += "    allow_private: [127.0.0.1/32]\n"
        gw = gateway(extra=auth_extra(tmp_path) + hook, redis=redis_server,
                     protect=True)
        gw.email = "w-%s@example.com" % uuid.uuid4().hex[:8]
        add_user(gw, gw.email)
        return gw
    return start


def metric(gw, name):
    import urllib.request
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics"
                                  % gw.admin_port, timeout=5).read().decode()
    m = re.search(r"^%s (\d+)" % name, text, re.M)
    return int(m.group(1)) if m else None


def test_event_is_delivered_and_signed(whgw, receiver):
    gw = whgw()
    _, r = login(gw)
    assert r.status_code == 303
    path, headers, body = receiver.wait(1)[0]
    assert path == "/hook"
    assert headers["Content-Type"] == "application/json"
    ev = json.loads(body)
    assert ev["action"] == "login" and ev["outcome"] == "success"
    assert re.fullmatch(r"[0-9a-f]{64}", ev["hash"])
    m = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})",
                     headers["X-Postern-Signature"])
    assert m, headers
    t = int(m.group(1))
    assert abs(time.time() - t) < 30          # the tolerance to check
    want = hmac.new(SECRET, m.group(1).encode() + b"." + body,
                    hashlib.sha256).hexdigest()
    assert hmac.compare_digest(want, m.group(2))
    assert SECRET.decode() not in gw.log()
    assert metric(gw, "postern_webhook_delivered_total") >= 1


def test_retries_on_500_then_delivers(whgw, receiver):
    gw = whgw(retries=3)
    receiver.script = [500, 503]
    login(gw)
    reqs = receiver.wait(3)
    assert [json.loads(b)["action"] for _, _, b in reqs] == ["login"] * 3
    time.sleep(0.3)
    assert metric(gw, "postern_webhook_retries_total") == 2
    assert metric(gw, "postern_webhook_delivered_total") == 1


def test_gives_up_after_the_retry_limit(whgw, receiver):
    gw = whgw(retries=1)
    receiver.script = [500] * 10
    login(gw)
    receiver.wait(2)
    time.sleep(0.5)
    assert len(receiver.requests) == 2
    assert metric(gw, "postern_webhook_failed_total") == 1
    assert '"outcome":"failed"' in gw.log()


def test_a_redirect_is_not_followed(whgw, receiver):
    gw = whgw()
    receiver.script = [302]
    login(gw)
    receiver.wait(1)
    time.sleep(0.5)
    assert [p for p, _, _ in receiver.requests] == ["/hook"]
    assert '"reason":"redirect"' in gw.log()


def test_loopback_is_refused_unless_allowlisted(whgw, receiver):
    gw = whgw(allow=False)
    login(gw)
    deadline = time.time() + 5
    while '"outcome":"refused"' not in gw.log():
        assert time.time() < deadline, gw.log()
        time.sleep(0.05)
    assert '"reason":"loopback"' in gw.log()
    time.sleep(0.3)
    assert receiver.requests == []             # nothing reached it
    assert metric(gw, "postern_webhook_failed_total") == 1


def test_only_subscribed_events(whgw, receiver):
    gw = whgw(events="[logout]")
    login(gw)
    time.sleep(0.7)
    assert receiver.requests == []


def test_secret_sealed_in_the_config(whgw, receiver, tmp_path):
    import signal
    from conftest import run_postern
    gw = whgw()
    r = run_postern("secrets", "seal", "--purpose", "webhook", "-c",
                    str(gw.config), stdin=SECRET.decode() + "\n")
    assert r.returncode == 0, r.stderr
    sealed = r.stdout.strip()
    assert sealed.startswith("sealed:v1.") and SECRET.decode() not in sealed
    text = gw.config.read_text()
    text = text.replace("secret_file: %s" % (tmp_path / "wh.secret"),
                        "secret: \"%s\"" % sealed)
    assert "secret: \"sealed:" in text
    (tmp_path / "wh.secret").unlink()
    gw.config.write_text(text)
    r = run_postern("check", "-c", str(gw.config))
    assert r.returncode == 0, r.stderr
    gw.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while "reloaded" not in gw.log():
        assert time.time() < deadline, gw.log()
        time.sleep(0.05)
    login(gw)
    _, headers, body = receiver.wait(1)[0]
    t, sig = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})",
                          headers["X-Postern-Signature"]).groups()
    assert hmac.compare_digest(sig, hmac.new(
        SECRET, t.encode() + b"." + body, hashlib.sha256).hexdigest())
    # a plain secret, or one sealed for another gateway secret, is refused
    gw.config.write_text(text.replace(sealed, "not-sealed-at-all-123456"))
    assert run_postern("check", "-c", str(gw.config)).returncode != 0
    gw.config.write_text(text.replace(sealed, sealed[:-4] + "AAAA"))
    r = run_postern("check", "-c", str(gw.config))
    assert r.returncode != 0 and "does not open" in r.stderr


def events_for(receiver, action, target):
    """The delivered events <action> about <target> (the shared Redis may
    hold other tests' operator events: those are not this test's)."""
    out = []
    for _, headers, body in receiver.requests:
        ev = json.loads(body)
        if ev["action"] == action and ev["target"] == target:
            out.append((headers, body, ev))
    return out


def wait_events(receiver, action, target, timeout=10):
    deadline = time.time() + timeout
    while not events_for(receiver, action, target):
        assert time.time() < deadline, receiver.requests
        time.sleep(0.05)
    return events_for(receiver, action, target)


def test_operator_events_are_delivered_once_across_instances(whgw,
                                                             receiver):
    """`postern user disable` runs no event loop: its event waits in the
    outbox, and exactly one of two instances sharing Redis delivers it."""
    from conftest import run_postern
    gw1 = whgw(events="[user_disable]")
    gw2 = whgw(events="[user_disable]")
    r = run_postern("user", "disable", "-c", str(gw2.config), gw1.email)
    assert r.returncode == 0, r.stderr
    headers, body, ev = wait_events(receiver, "user_disable", gw1.email)[0]
    assert ev["actor"] == "operator" and ev["outcome"] == "success"
    t, sig = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})",
                          headers["X-Postern-Signature"]).groups()
    assert hmac.compare_digest(sig, hmac.new(
        SECRET, t.encode() + b"." + body, hashlib.sha256).hexdigest())
    time.sleep(2.5)     # each instance has polled twice more since
    assert len(events_for(receiver, "user_disable", gw1.email)) == 1


def test_operator_events_wait_for_an_instance_with_webhooks(
        gateway, whgw, redis_server, tmp_path, receiver):
    from conftest import run_postern
    from test_auth import auth_extra
    make_key(tmp_path)
    plain = gateway(extra=auth_extra(tmp_path), redis=redis_server,
                    protect=True)          # no webhooks: leaves the outbox
    email = "o-%s@example.com" % uuid.uuid4().hex[:8]
    add_user(plain, email)
    r = run_postern("user", "disable", "-c", str(plain.config), email)
    assert r.returncode == 0, r.stderr
    time.sleep(2.5)
    assert events_for(receiver, "user_disable", email) == []
    whgw(events="[user_disable]")
    assert len(wait_events(receiver, "user_disable", email)) == 1
