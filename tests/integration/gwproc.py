"""The one way the integration tests (and tests/bench) start a gateway,
and the one way they write its configuration.

Gateway(config, log_path, ports) runs `postern serve -c CONFIG` with its
stdout and stderr in <log_path>, and remembers it in LAUNCHED.  The
conftest's autouse fixture check_gateways stops (SIGTERM, then waits)
every gateway a test started and fails the test, also one that passed,
when a log holds a sanitizer report (SANITIZER_MARKS): an ASan/UBSan build
reports on stderr, LeakSanitizer only at exit.

config_text() builds a postern.yaml, app_text() a policy file;
write_config() writes both for the usual test gateway (TLS and plain
listeners, an admin listener, one app).  Postern is a gateway whose whole
configuration the test rewrites (several certificates, SIGHUP), for
test_tls.py and test_lifecycle.py.  Raw HTTP/1.1 helpers at the end, for
the cases no client library will produce (pipelining, 100-continue,
dribbled heads).
"""
import os
import pathlib
import random
import signal
import socket
import subprocess
import sys
import textwrap
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("POSTERN_BIN",
                     os.path.join(ROOT, "build", "gateway", "postern"))
UPSTREAM = os.path.join(ROOT, "scripts", "demo-upstream.py")


_GIVEN = set()


def port_slice(first, end):
    """[first, end) or, when POSTERN_TEST_PORTS is K/N (scripts/test runs
    N pytest processes at once), the K-th of N equal slices of it, so that
    two processes never hand out the same port."""
    try:
        k, n = (int(x) for x in os.environ["POSTERN_TEST_PORTS"].split("/"))
    except (KeyError, ValueError):
        return first, end
    if n < 1 or not 0 <= k < n:
        return first, end
    size = (end - first) // n
    return first + k * size, first + (k + 1) * size


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
    first, end = port_slice(10000, max(10001, low - 1))
    for _ in range(200):
        port = random.randrange(first, end)
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
    """SIGTERM <proc> and wait for it (SIGKILL after <timeout> seconds)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---- sanitizer reports -----------------------------------------------------

# What AddressSanitizer, LeakSanitizer, UndefinedBehaviorSanitizer (and
# ThreadSanitizer, MemorySanitizer) write when they find something.
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "SUMMARY: AddressSanitizer",
                   "SUMMARY: LeakSanitizer",
                   "SUMMARY: UndefinedBehaviorSanitizer",
                   "WARNING: ThreadSanitizer", "SUMMARY: ThreadSanitizer",
                   "WARNING: MemorySanitizer",
                   # the gateway logs a reason code its table lacks
                   # (gateway/util/reasons.def) as this event
                   '"unknown_reason"')


def sanitizer_report(text):
    """The part of <text> from its first sanitizer mark on (at most 6000
    characters), or "" when it has none."""
    at = [text.find(m) for m in SANITIZER_MARKS if m in text]
    if not at:
        return ""
    start = text.rfind("\n", 0, min(at)) + 1
    return text[start:start + 6000]


def check_sanitizers(*paths):
    """AssertionError naming each of <paths> (log files) that holds a
    sanitizer report, with the report."""
    found = []
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                report = sanitizer_report(f.read())
        except FileNotFoundError:
            continue
        if report:
            found.append("%s:\n%s" % (path, report))
    if found:
        raise AssertionError("sanitizer report in the gateway's output\n" +
                             "\n".join(found))


# ---- the launcher ----------------------------------------------------------

LAUNCHED = []       # every Gateway started and not yet checked


class Gateway:
    """A running `postern serve -c <config>`, stdout and stderr in
    <log_path>.  <ports>: {"https", "http", "admin"} (any may be missing);
    those named in <wait> must accept connections before this returns.
    <binary> replaces BIN (tests/bench); <command> replaces the whole
    [BIN, "serve", "-c", config] (test_launcher.py)."""

    def __init__(self, config, log_path, ports=None, wait=("https",),
                 env=None, binary=None, command=None):
        self.config = config
        self.dir = pathlib.Path(config).parent
        self.log_path = log_path
        ports = ports or {}
        self.https_port = ports.get("https")
        self.http_port = ports.get("http")
        self.admin_port = ports.get("admin")
        e = dict(os.environ)
        e.update(env or {})
        with open(log_path, "w") as logf:
            self.proc = subprocess.Popen(
                command or [binary or BIN, "serve", "-c", str(config)],
                stdout=logf, stderr=logf, env=e)
        LAUNCHED.append(self)
        try:
            for name in wait:
                wait_port(ports[name], self.proc)
        except RuntimeError:
            sys.stderr.write(self.log())
            raise

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.https_port

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_log(self, text, count=1, timeout=5.0):
        """Wait until <text> occurs <count> times in the log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log().count(text) >= count:
                return
            time.sleep(0.02)
        raise AssertionError("%r not logged %d times:\n%s"
                             % (text, count, self.log()[-3000:]))

    def reload(self, expect="reloaded: "):
        """SIGHUP and wait for the outcome line (<expect>) to appear."""
        n = self.log().count(expect)
        self.proc.send_signal(signal.SIGHUP)
        self.wait_log(expect, n + 1)

    def term(self):
        self.proc.send_signal(signal.SIGTERM)

    def stop(self):
        """SIGTERM and wait: LeakSanitizer reports at exit."""
        stop(self.proc, timeout=30)

    def check(self):
        """Stop, then AssertionError if the log holds a sanitizer report."""
        self.stop()
        check_sanitizers(self.log_path)


def check_launched(since=0):
    """Stop and check every gateway launched since LAUNCHED[since]; forget
    them.  AssertionError with every report found."""
    gws = LAUNCHED[since:]
    del LAUNCHED[since:]
    for gw in gws:
        gw.stop()
    errors = []
    for gw in gws:
        try:
            gw.check()
        except AssertionError as e:
            errors.append(str(e))
    if errors:
        raise AssertionError("\n".join(errors))


# ---- configuration ---------------------------------------------------------

def listener(port, tls=True, redirect=None):
    """One item of server.listen on 127.0.0.1:<port>; tls=None leaves tls
    out (it defaults to true)."""
    text = '    - address: "127.0.0.1:%d"\n' % port
    if tls is not None:
        text += "      tls: %s\n" % yaml_bool(tls)
    if redirect is not None:
        text += "      redirect: %s\n" % yaml_bool(redirect)
    return text


def yaml_bool(value):
    return "true" if value else "false"


def section(name, keys):
    """A top-level mapping <name> of <keys> ((key, value) pairs or a dict),
    each value written as it is given."""
    items = keys.items() if isinstance(keys, dict) else keys
    return name + ":\n" + "".join("  %s: %s\n" % kv for kv in items)


def config_text(listen, workers=None, trusted_proxies=(), admin=None,
                server_extra="", certs=(), session_tickets=None, redis=None,
                log=None, policies=(), extra=""):
    """A postern.yaml: server (<listen>: listener() items, <admin>: a
    port, <server_extra>: YAML text indented under server:), tls (<certs>: (cert, key) pairs), redis (an address "host:port"
    or a dict of keys), log (a level or a dict of keys), policies (file
    names), then <extra> (YAML text) as it is."""
    text = "server:\n"
    if workers is not None:
        text += "  workers: %d\n" % workers
    text += "  listen:\n" + "".join(listen)
    if trusted_proxies:
        text += "  trusted_proxies: [%s]\n" % ", ".join(
            '"%s"' % t for t in trusted_proxies)
    if admin is not None:
        text += '  admin: "127.0.0.1:%d"\n' % admin
    text += server_extra
    if certs or session_tickets is not None:
        text += "tls:\n"
        if session_tickets is not None:
            text += "  session_tickets: %s\n" % yaml_bool(session_tickets)
        text += "  certificates:\n" + "".join(
            "    - cert: %s\n      key: %s\n" % c for c in certs)
    if redis is not None:
        text += section("redis", redis if isinstance(redis, dict)
                        else {"address": '"%s"' % redis})
    if log is not None:
        text += section("log", log if isinstance(log, dict)
                        else {"level": log})
    if policies:
        text += "policies:\n" + "".join("  - %s\n" % p for p in policies)
    return text + extra


def app_text(upstream, name="demo", hosts=("localhost", "127.0.0.1"),
             protect=False, extra=""):
    """A policy file for one app in front of <upstream> (host, port) or a
    URL; <extra> (YAML text indented under app:) follows upstream:, then
    protect: unless <protect> is None (<extra> has routes)."""
    if not isinstance(upstream, str):
        upstream = "http://%s:%d" % tuple(upstream)
    return ("app:\n  name: %s\n  hosts: [%s]\n  upstream: %s\n"
            % (name, ", ".join(hosts), upstream) + extra +
            ("" if protect is None else "  protect: %s\n" % yaml_bool(protect)))


def write_config(directory, tls_cert, upstream, redis=None, extra="",
                 app_extra="", hosts=("localhost", "127.0.0.1"),
                 protect=False, more_apps=(), plain_redirect=True,
                 trusted_proxies=(), workers=2, upstream_url=None,
                 server_extra=""):
    """Write postern.yaml + one policy file, app.yaml (and <more_apps>:
    (file name, policy text) pairs); return (path, ports).  A TLS, a plain
    and an admin listener; <plain_redirect>: the plain listener's redirect;
    <trusted_proxies>: server.trusted_proxies; <server_extra>: more keys
    under server:; <upstream_url> replaces http://<upstream>."""
    ports = {"https": free_port(), "http": free_port(),
             "admin": free_port()}
    (directory / "app.yaml").write_text(app_text(
        upstream_url or upstream, hosts=hosts, protect=protect,
        extra=app_extra))
    cfg = directory / "postern.yaml"
    cfg.write_text(config_text(
        [listener(ports["https"]),
         listener(ports["http"], tls=False, redirect=plain_redirect)],
        workers=workers, trusted_proxies=trusted_proxies,
        admin=ports["admin"], server_extra=server_extra, certs=[tls_cert],
        redis="%s:%d" % (redis or ("127.0.0.1", 6379)), log="debug",
        policies=["app.yaml"] + [name for name, _ in more_apps],
        extra=extra))
    for name, text in more_apps:
        (directory / name).write_text(text)
    return cfg, ports


def make_cert(directory, name, org="postern-test", days=30):
    """A self-signed P-256 certificate for DNS name <name>; key mode 0600."""
    crt = os.path.join(str(directory), "%s-%s.crt" % (name, org))
    key = os.path.join(str(directory), "%s-%s.key" % (name, org))
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-days", str(days),
         "-subj", "/CN=%s/O=%s" % (name, org), "-addext",
         "subjectAltName=DNS:%s" % name, "-keyout", key, "-out", crt],
        check=True, capture_output=True)
    os.chmod(key, 0o600)
    return crt, key


def forge_cert(directory, name, days_from=-1, days_to=30, key="ec"):
    """A self-signed certificate for DNS name <name> valid from <days_from>
    to <days_to> days from now (either may be in the past), with an EC
    P-256 key, or "rsa2048", "rsa3072", "ec224" (python3-cryptography);
    (cert, key) paths, key mode 0600."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID
    if key.startswith("rsa"):
        pk = rsa.generate_private_key(65537, int(key[3:]))
    else:
        pk = ec.generate_private_key(ec.SECP224R1() if key == "ec224"
                                     else ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject)
            .issuer_name(subject).public_key(pk.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + datetime.timedelta(days=days_from))
            .not_valid_after(now + datetime.timedelta(days=days_to))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(name)]), critical=False)
            .sign(pk, hashes.SHA256()))
    tag = "%s-%s-%s-%s" % (name, key, days_from, days_to)
    crt = os.path.join(str(directory), tag + ".crt")
    keyf = os.path.join(str(directory), tag + ".key")
    with open(crt, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(keyf, "wb") as f:
        f.write(pk.private_bytes(serialization.Encoding.PEM,
                                 serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()))
    os.chmod(keyf, 0o600)
    return crt, keyf


class Postern(Gateway):
    """A gateway whose whole configuration the test writes, and rewrites
    (write(), then reload()): several certificates, a plain listener that
    serves (redirect: false), extra environment (NOTIFY_SOCKET); ports stay
    fixed across rewrites."""

    def __init__(self, directory, upstream, certs, extra="", workers=2,
                 tickets=False, level="info", env=None, ports=None):
        self.dir = pathlib.Path(directory)
        self.upstream = upstream
        self.https_port, self.http_port, self.admin_port = (
            ports or (free_port(), free_port(), free_port()))
        config = str(self.dir / "postern.yaml")
        self.config = config
        self.write(certs, extra, workers, tickets, level)
        super().__init__(config, str(self.dir / "postern.log"),
                         {"https": self.https_port, "http": self.http_port,
                          "admin": self.admin_port},
                         wait=("https", "http"), env=env)

    def write(self, certs=None, extra="", workers=2, tickets=False,
              level="info", upstream=None):
        """(Re)write the config; certificates default to the last ones."""
        self.certs = certs = certs or self.certs
        with open(self.dir / "app.yaml", "w") as f:
            f.write(app_text(upstream or self.upstream, hosts=(
                "localhost", "127.0.0.1", "alpha.test", "beta.test")))
        text = config_text(
            [listener(self.https_port),
             listener(self.http_port, tls=False, redirect=False)],
            workers=workers, admin=self.admin_port, certs=certs,
            session_tickets=tickets, redis="127.0.0.1:6379", log=level,
            policies=["app.yaml"], extra=textwrap.dedent(extra))
        tmp = self.config + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.config)


def metric(gw, name):
    """The value of counter or gauge <name> on <gw>'s admin listener."""
    import requests
    text = requests.get("http://127.0.0.1:%d/metrics" % gw.admin_port,
                        timeout=10).text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return int(line.split()[1])
    raise KeyError(name)


# ---- raw HTTP/1.1 ----------------------------------------------------------

def plain(gw, timeout=10):
    """A connection to <gw>'s plain listener."""
    return socket.create_connection(("127.0.0.1", gw.http_port), timeout)


def tls_socket(gw, timeout=10):
    """A TLS connection to <gw>'s TLS listener, SNI localhost, its
    certificate not verified."""
    import ssl
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", gw.https_port), timeout)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def read_head(f):
    """Status line and headers from file <f>: (status, {name: value})."""
    line = f.readline()
    if not line:
        raise EOFError("connection closed before a response")
    assert line.startswith(b"HTTP/1.1 "), line
    status = int(line.split()[1])
    headers = {}
    while True:
        h = f.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers


def read_chunks(f):
    """A chunked body: the list of chunk payloads (no trailers expected)."""
    chunks = []
    while True:
        size = int(f.readline().split(b";")[0].strip(), 16)
        if size == 0:
            assert f.readline() == b"\r\n"
            return chunks
        chunks.append(f.read(size))
        assert f.read(2) == b"\r\n"


def read_response(f, method="GET"):
    """(status, headers, body, chunks) of one response; chunks is None
    unless the body was chunked.  1xx, 204, 304 and HEAD have no body."""
    status, headers = read_head(f)
    if method == "HEAD" or status in (204, 304) or status // 100 == 1:
        return status, headers, b"", None
    if "chunked" in headers.get("transfer-encoding", ""):
        chunks = read_chunks(f)
        return status, headers, b"".join(chunks), chunks
    if "content-length" in headers:
        n = int(headers["content-length"])
        body = f.read(n)
        assert len(body) == n
        return status, headers, body, None
    return status, headers, f.read(), None


def closed_by_peer(s, timeout):
    """True if <s> reads EOF (or a reset) within <timeout> seconds."""
    s.settimeout(timeout)
    try:
        while True:
            data = s.recv(65536)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
