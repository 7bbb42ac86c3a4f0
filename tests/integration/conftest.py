"""Fixtures for integration tests: real processes on loopback.

POSTERN_BIN names the binary under test (scripts/test sets it; the default
is build/gateway/postern).  Every process a fixture starts is stopped by it.
Gateways are started only through gwproc.Gateway (the gateway and postern
fixtures here, or a test's own Gateway(...)): the autouse fixture
check_gateways then stops each with SIGTERM at the end of its test and fails
the test on a sanitizer report in the gateway's output.  The basics
(free_port, wait_port, stop, write_config, ...) live in gwproc and are
importable from here as before.
"""
import os
import shutil
import subprocess
import time

import pytest

from gwproc import (BIN, LAUNCHED, ROOT, UPSTREAM, Gateway,  # noqa: F401
                    Postern, check_launched, free_port, sanitizer_report,
                    section, stop, wait_port, write_config)


def run_postern(*args, stdin=None, timeout=30):
    """`postern ARGS...` to its end; AssertionError if its stderr holds a
    sanitizer report."""
    r = subprocess.run([BIN, *args], input=stdin, capture_output=True,
                       text=True, timeout=timeout)
    report = sanitizer_report(r.stderr)
    assert not report, "postern %s:\n%s" % (" ".join(args), report)
    return r


@pytest.fixture(autouse=True)
def check_gateways():
    """Every gateway a test starts (gwproc.Gateway) is stopped with SIGTERM
    and waited for at its end, and the test fails if the gateway's output
    holds a sanitizer report, also when the test itself passed."""
    since = len(LAUNCHED)
    yield
    check_launched(since)


@pytest.fixture(scope="session")
def postern_bin():
    assert os.access(BIN, os.X_OK), "build postern first: %s" % BIN
    return BIN


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory):
    """A self-signed certificate for localhost/127.0.0.1, mode 0600 key."""
    d = tmp_path_factory.mktemp("tls")
    crt, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
         "-subj", "/CN=localhost", "-addext",
         "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(crt)],
        check=True, capture_output=True)
    os.chmod(key, 0o600)
    return str(crt), str(key)


def start_redis(directory, *args, port=None):
    """A private redis-server on loopback <port> (default: a free one),
    more options in <args>: (proc, (host, port))."""
    exe = shutil.which("redis-server")
    assert exe, "redis-server not installed"
    port = port or free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--dir",
         str(directory), "--save", "", "--appendonly", "no",
         "--protected-mode", "yes", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, proc)
    return proc, ("127.0.0.1", port)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A private redis-server on a free loopback port."""
    proc, addr = start_redis(tmp_path_factory.mktemp("redis"))
    yield addr
    stop(proc)


def start_upstream(port=None, tls=None, quiet=False):
    """The demo upstream (a real HTTP/1.1 server) on loopback <port>
    (default: a free one), over TLS with <tls> (cert, key); <quiet>: its
    stderr too goes nowhere.  (proc, (host, port))."""
    port = port or free_port()
    args = ["/usr/bin/python3", UPSTREAM, "--port", str(port)]
    if tls:
        args += ["--tls-cert", tls[0], "--tls-key", tls[1]]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL if quiet else None)
    wait_port(port, proc)
    return proc, ("127.0.0.1", port)


@pytest.fixture(scope="session")
def upstream():
    """The demo upstream on a free port."""
    proc, addr = start_upstream()
    yield addr
    stop(proc)


class SmtpSink:
    """A real SMTP server (Debian's python3-aiosmtpd) on a free loopback
    port that keeps every message it accepts.

    sink.port, sink.url ("smtp://127.0.0.1:PORT"), sink.mail_config(...)
    (a mail: section for the gateway); sink.wait_for(to) returns the next
    message to <to> not returned before, as an email.message.EmailMessage
    (envelope sender and recipients in msg.envelope_from/envelope_to);
    sink.refuse(to, "550 5.1.1 no such user") answers RCPT TO with that.
    Use addresses unique to a test: the sink is shared by the session.
    """

    def __init__(self):
        import email
        import email.policy
        import threading
        from aiosmtpd.controller import Controller

        self._email = email
        self._policy = email.policy.default
        self._cond = threading.Condition()
        self.messages = []      # [EmailMessage], in arrival order
        self._taken = set()     # ids of messages wait_for returned
        self._refuse = {}
        self.port = free_port()
        self.url = "smtp://127.0.0.1:%d" % self.port
        self._controller = Controller(self, hostname="127.0.0.1",
                                      port=self.port)
        self._controller.start()

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        with self._cond:
            answer = self._refuse.get(address.lower())
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = self._email.message_from_bytes(envelope.content,
                                             policy=self._policy)
        msg.envelope_from = envelope.mail_from
        msg.envelope_to = list(envelope.rcpt_tos)
        msg.raw = envelope.content
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()
        return "250 OK: queued"

    def refuse(self, to, answer="550 5.1.1 no such user"):
        with self._cond:
            self._refuse[to.lower()] = answer

    def wait_for(self, to, timeout=10):
        """The next message for <to> (envelope recipient); AssertionError
        after <timeout> seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for msg in self.messages:
                    if id(msg) not in self._taken and to.lower() in (
                            r.lower() for r in msg.envelope_to):
                        self._taken.add(id(msg))
                        return msg
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no mail to %s within %ss"
                                         % (to, timeout))
                self._cond.wait(left)

    def count_to(self, to):
        with self._cond:
            return sum(1 for m in self.messages
                       if to.lower() in (r.lower() for r in m.envelope_to))

    def mail_config(self, **kw):
        """A mail: section for write_config(extra=...) aimed at the sink
        (no STARTTLS: the sink has none); keyword arguments add keys."""
        keys = {"url": self.url, "starttls": "none",
                "from": "postern@example.com"}
        keys.update(kw)
        return section("mail", keys)

    def stop(self):
        self._controller.stop()


@pytest.fixture(scope="session")
def smtp_sink():
    """A real SMTP server for the session: see SmtpSink."""
    sink = SmtpSink()
    yield sink
    sink.stop()


@pytest.fixture
def gateway(tmp_path, tls_cert, upstream, postern_bin):
    """Factory: gateway(extra=..., app_extra=..., redis=..., **kw) writes
    a config (gwproc.write_config; <upstream> defaults to the demo
    upstream) and starts postern serve on it."""
    started = []
    demo = upstream

    def start(extra="", app_extra="", redis=None, upstream=None, **kw):
        cfg, ports = write_config(tmp_path, tls_cert, upstream or demo,
                                  redis, extra, app_extra, **kw)
        gw = Gateway(cfg, tmp_path / ("postern-%d.log" % len(started)),
                     ports, wait=("https", "http"))
        started.append(gw)
        return gw

    yield start
    for gw in started:
        gw.stop()


@pytest.fixture
def postern(tmp_path, upstream, tls_cert, postern_bin):
    """Factory: postern(certs=[...], extra=..., ...) -> gwproc.Postern."""
    started = []

    def start(certs=None, **kw):
        d = tmp_path / ("gw%d" % len(started))
        d.mkdir()
        gw = Postern(d, upstream, certs or [tls_cert], **kw)
        started.append(gw)
        return gw

    yield start
    for gw in started:
        gw.stop()


@pytest.fixture
def oidc_op_factory(tmp_path, tls_cert):
    """Factory: oidc_op_factory(name="op1", accounts=..., clients=...,
    keys=...) starts another real OpenID Provider (oidcop.OpenIdProvider:
    tests/oidc/op.mjs, npm oidc-provider) on a free loopback port; it
    trusts the test certificate for back-channel logout POSTs.  Each is
    stopped at the end of the test."""
    from oidcop import OpenIdProvider
    started = []

    def start(name=None, **kw):
        kw.setdefault("ca_file", tls_cert[0])
        op = OpenIdProvider(tmp_path, name=name or "op%d" % len(started),
                            **kw)
        started.append(op)
        return op.start()

    yield start
    for op in started:
        op.stop()


@pytest.fixture(scope="session")
def _oidc_op_shared(tmp_path_factory, tls_cert):
    from oidcop import OpenIdProvider
    op = OpenIdProvider(tmp_path_factory.mktemp("oidc"), name="op",
                        ca_file=tls_cert[0])
    yield op
    op.stop()


@pytest.fixture
def oidc_op(_oidc_op_shared):
    """A real OpenID Provider with the default accounts (oidcop.ACCOUNTS)
    and keys (RSA "rsa1", P-256 "ec1"); clients come with op.register().
    One process serves the whole session (node takes seconds to start):
    each test gets it reset (op.reset()), restarted if it died."""
    op = _oidc_op_shared
    if not op.alive():
        op.stop()
        op.start()
    op.reset()
    return op
