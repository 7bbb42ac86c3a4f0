"""Fixtures for integration tests: real processes on loopback.

POSTERN_BIN names the binary under test (scripts/test sets it; the default
is build/gateway/postern).  Every process a fixture starts is stopped by it.
"""
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("POSTERN_BIN",
                     os.path.join(ROOT, "build", "gateway", "postern"))
UPSTREAM = os.path.join(ROOT, "scripts", "demo-upstream.py")


_GIVEN = set()


def free_port():
    """A bindable loopback port below the kernel's ephemeral range.

    bind(0) hands out ports from the ephemeral range, where the outgoing
    connections of every test (gateway to upstream, to Redis, wrk) also
    take their source ports: a port found free could be taken before the
    server binds it.  Below the range only listeners compete.
    """
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError):
        low = 32768
    for _ in range(200):
        port = random.randrange(10000, max(10001, low - 1))
        if port in _GIVEN:      # handed out, maybe not bound yet
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            _GIVEN.add(port)
            return port
    raise RuntimeError("no free port")


def wait_port(port, proc=None, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited with %d before listening"
                               % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d not listening after %.0fs" % (port, timeout))


def stop(proc, timeout=10):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_postern(*args, stdin=None, timeout=30):
    return subprocess.run([BIN, *args], input=stdin, capture_output=True,
                          text=True, timeout=timeout)


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


def start_redis(directory):
    """A private redis-server on a free loopback port: (proc, (host, port))."""
    exe = shutil.which("redis-server")
    assert exe, "redis-server not installed"
    port = free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--dir",
         str(directory), "--save", "", "--appendonly", "no",
         "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, proc)
    return proc, ("127.0.0.1", port)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A private redis-server on a free loopback port."""
    proc, addr = start_redis(tmp_path_factory.mktemp("redis"))
    yield addr
    stop(proc)


@pytest.fixture(scope="session")
def upstream():
    """The demo upstream (a real HTTP/1.1 server) on a free port."""
    port = free_port()
    proc = subprocess.Popen(["/usr/bin/python3", UPSTREAM, "--port",
                             str(port)], stdout=subprocess.DEVNULL)
    wait_port(port, proc)
    yield ("127.0.0.1", port)
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
        return "mail:\n" + "".join("  %s: %s\n" % kv for kv in keys.items())

    def stop(self):
        self._controller.stop()


@pytest.fixture(scope="session")
def smtp_sink():
    """A real SMTP server for the session: see SmtpSink."""
    sink = SmtpSink()
    yield sink
    sink.stop()


class Gateway:
    """A running `postern serve` with its config files and log."""

    def __init__(self, directory, config_path, proc, log_path, ports):
        self.dir = directory
        self.config = config_path
        self.proc = proc
        self.log_path = log_path
        self.https_port = ports.get("https")
        self.http_port = ports.get("http")
        self.admin_port = ports.get("admin")

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.https_port

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self):
        stop(self.proc)


def write_config(directory, tls_cert, upstream, redis=None, extra="",
                 app_extra="", hosts=("localhost", "127.0.0.1"),
                 protect=False, more_apps=(), plain_redirect=True,
                 trusted_proxies=()):
    """Write postern.yaml + one policy file (and <more_apps>: (file name,
    policy text) pairs); return (path, ports).  <plain_redirect>: the plain
    listener's redirect; <trusted_proxies>: server.trusted_proxies."""
    ports = {"https": free_port(), "http": free_port(),
             "admin": free_port()}
    crt, key = tls_cert
    redis_addr = "%s:%d" % redis if redis else "127.0.0.1:6379"
    policy = directory / "app.yaml"
    policy.write_text(textwrap.dedent("""\
        app:
          name: demo
          hosts: [%s]
          upstream: http://%s:%d
        """) % (", ".join(hosts), upstream[0], upstream[1]) + app_extra +
        ("" if protect is None else  # None: app_extra has routes
         "  protect: %s\n" % ("true" if protect else "false")))
    cfg = directory / "postern.yaml"
    cfg.write_text(textwrap.dedent("""\
        server:
          workers: 2
          listen:
            - address: "127.0.0.1:%(https)d"
              tls: true
            - address: "127.0.0.1:%(http)d"
              tls: false
              redirect: %(redirect)s%(trusted)s
          admin: "127.0.0.1:%(admin)d"
        tls:
          certificates:
            - cert: %(crt)s
              key: %(key)s
        redis:
          address: "%(redis)s"
        log:
          level: debug
        policies:
          - app.yaml
        """) % dict(ports, crt=crt, key=key, redis=redis_addr,
                    redirect="true" if plain_redirect else "false",
                    trusted="\n  trusted_proxies: [%s]" % ", ".join(
                        '"%s"' % t for t in trusted_proxies)
                    if trusted_proxies else "") +
        "".join("  - %s\n" % name for name, _ in more_apps) + extra)
    for name, text in more_apps:
        (directory / name).write_text(text)
    return cfg, ports


@pytest.fixture
def gateway(tmp_path, tls_cert, upstream, postern_bin):
    """Factory: gateway(extra=..., app_extra=...) starts postern serve."""
    started = []

    def start(extra="", app_extra="", redis=None, **kw):
        cfg, ports = write_config(tmp_path, tls_cert, upstream, redis,
                                  extra, app_extra, **kw)
        log_path = tmp_path / ("postern-%d.log" % len(started))
        logf = open(log_path, "w")
        proc = subprocess.Popen([postern_bin, "serve", "-c", str(cfg)],
                                stdout=logf, stderr=logf)
        logf.close()
        gw = Gateway(tmp_path, cfg, proc, log_path, ports)
        started.append(gw)
        try:
            wait_port(ports["https"], proc)
        except RuntimeError:
            sys.stderr.write(gw.log())
            raise
        return gw

    yield start
    for gw in started:
        gw.stop()
