"""Outbound mail: `postern mail test` against a real SMTP server (the
smtp_sink fixture), the message it delivers, the refusals (header
injection, STARTTLS required, a 5xx recipient, a server that is down),
the mail: section's errors as file:line:col, and a serving gateway with
mail configured (metrics on the admin listener, reload).
"""
import os
import re
import socket
import textwrap
import time
import uuid
from email.utils import parsedate_to_datetime

import pytest
import requests
import urllib3

from conftest import ROOT, free_port, run_postern
from gwproc import config_text, listener, section

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)


def conf(tmp_path, mail, extra=""):
    """A minimal configuration (one plain listener) with <mail>; its path."""
    path = tmp_path / "postern.yaml"
    path.write_text(config_text([listener(free_port(), tls=False)],
                                extra=extra + mail))
    return str(path)


def mail_test(path, to):
    return run_postern("mail", "test", "-c", path, "--to", to)


def test_mail_test_delivers_multipart(tmp_path, smtp_sink):
    path = conf(tmp_path, smtp_sink.mail_config(from_name="Acme Ops"),
                "branding:\n  product_name: Acme\n")
    r = mail_test(path, "deliver@example.com")
    assert r.returncode == 0, r.stderr
    msg = smtp_sink.wait_for("deliver@example.com")
    assert msg.envelope_from == "postern@example.com"
    assert msg["From"] == "Acme Ops <postern@example.com>"
    assert msg["To"] == "deliver@example.com"
    assert msg["Subject"] == "Acme: test message"
    assert msg["MIME-Version"] == "1.0"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert re.fullmatch(r"<[0-9a-f]{32}@example\.com>", msg["Message-ID"])
    assert msg["Message-ID"] in r.stdout        # printed for the operator
    age = time.time() - parsedate_to_datetime(msg["Date"]).timestamp()
    assert -60 < age < 60
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain",
                                                     "text/html"]
    for p in parts:
        assert p.get_content_charset() == "utf-8"
        assert p["Content-Transfer-Encoding"] == "quoted-printable"
    assert "sent to deliver@example.com" in parts[0].get_content()
    assert "<strong>Acme</strong>" in parts[1].get_content()
    raw = msg.raw
    assert b"\n" not in raw.replace(b"\r\n", b"")   # CRLF only
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78


def test_values_html_escaped_and_subject_encoded(tmp_path, smtp_sink):
    product = "Zoë & <b>Co</b>"
    path = conf(tmp_path, smtp_sink.mail_config(from_name='"Gatewäy"'),
                "branding:\n  product_name: \"%s\"\n" % product)
    to = "o'neil&co@example.com"
    r = mail_test(path, to)
    assert r.returncode == 0, r.stderr
    msg = smtp_sink.wait_for(to)
    assert msg["Subject"] == product + ": test message"
    assert re.search(rb"^Subject: =\?UTF-8\?B\?", msg.raw, re.M)
    assert msg["From"].addresses[0].display_name == "Gatewäy"
    text, html = [p.get_content() for p in msg.iter_parts()]
    assert product in text and to in text          # text: as given
    assert "Zoë &amp; &lt;b&gt;Co&lt;/b&gt;" in html
    assert "o&#39;neil&amp;co@example.com" in html
    assert "<b>Co</b>" not in html


def test_header_injection_refused(tmp_path, smtp_sink):
    path = conf(tmp_path, smtp_sink.mail_config())
    for to in ("inject@example.com\r\nBcc: eve@example.net",
               "inject@example.com\nSubject: hi",
               "Inject <inject@example.com>",
               "inject@example.com, eve@example.net"):
        r = mail_test(path, to)
        assert r.returncode == 1
        assert '"reason":"invalid"' in r.stderr
        assert "refused" in r.stderr
    time.sleep(0.3)
    assert smtp_sink.count_to("eve@example.net") == 0
    assert smtp_sink.count_to("inject@example.com") == 0


def test_starttls_required_without_it_fails_cleanly(tmp_path, smtp_sink):
    path = conf(tmp_path, smtp_sink.mail_config(starttls="required"))
    t0 = time.monotonic()
    r = mail_test(path, "tls@example.com")
    assert time.monotonic() - t0 < 10
    assert r.returncode == 1
    assert "not sent: tls:" in r.stderr
    assert '"outcome":"failed","reason":"tls"' in r.stderr
    time.sleep(0.2)
    assert smtp_sink.count_to("tls@example.com") == 0


def test_server_down(tmp_path):
    path = conf(tmp_path, "mail:\n  url: smtp://127.0.0.1:%d\n  starttls: "
                "none\n  from: postern@example.com\n" % free_port())
    r = mail_test(path, "down@example.com")
    assert r.returncode == 1
    assert "not sent: connect:" in r.stderr


def test_recipient_rejected(tmp_path, smtp_sink):
    smtp_sink.refuse("nobody@example.com")
    path = conf(tmp_path, smtp_sink.mail_config())
    r = mail_test(path, "nobody@example.com")
    assert r.returncode == 1
    assert "not sent: rejected:" in r.stderr
    assert '"smtp_code":550' in r.stderr


def test_not_configured(tmp_path):
    r = mail_test(conf(tmp_path, ""), "a@example.com")
    assert r.returncode == 1
    assert "mail is not configured" in r.stderr


def test_secrets_never_logged(tmp_path, smtp_sink):
    """A failing delivery logs its reason, never the rendered body."""
    d = tmp_path / "tpl"
    d.mkdir()
    (d / "test.subject").write_text("Hello {{product}}\n")
    (d / "test.txt").write_text("token SECRET-{{email}}\n")
    (d / "test.html").write_text("<p>token SECRET-{{email}}</p>\n")
    path = conf(tmp_path, smtp_sink.mail_config(starttls="required",
                                                templates_dir=str(d)))
    r = mail_test(path, "secret@example.com")
    assert r.returncode == 1
    assert "SECRET" not in r.stderr + r.stdout


def check(path):
    return run_postern("check", "-c", path)


def test_config_errors(tmp_path):
    pw = tmp_path / "smtp-password"
    pw.write_text("hunter2\n")
    os.chmod(pw, 0o644)
    path = conf(tmp_path, textwrap.dedent("""\
        mail:
          url: http://mail.example.com
          starttls: maybe
          from: "Postern <postern@example.com>"
          from_name: "a\\nb"
          username: bob
          password_file: smtp-password
          queue_max: 0
          timeout: 30
          retries: 21
          sender: x
        """))
    r = check(path)
    assert r.returncode == 1
    err = r.stderr
    for line in (
            "%s:6:8: mail.url: expected smtp://host[:port] or "
            "smtps://host[:port], got \"http://mail.example.com\"",
            "%s:7:13: mail.starttls: expected required, optional or none, "
            "got \"maybe\"",
            "%s:8:9: mail.from: expected an address such as",
            "%s:9:14: mail.from_name: expected 1 to 200 bytes of UTF-8 "
            "without control characters",
            "%s:11:18: mail.password_file: %s is mode 0644; expected 0600",
            "%s:12:14: mail.queue_max: invalid number '0'",
            "%s:13:12: mail.timeout: invalid duration '30'",
            "%s:14:12: mail.retries: invalid number '21'",
            "%s:15:3: unknown key 'sender' in 'mail'"):
        args = (path, str(pw)) if line.count("%s") == 2 else (path,)
        assert line % args in err, err


def test_config_required_keys(tmp_path):
    path = conf(tmp_path, "mail:\n  starttls: none\n")
    r = check(path)
    assert r.returncode == 1
    assert "%s:6:3: missing required key 'url' in 'mail'" % path in r.stderr
    assert "missing required key 'from' in 'mail'" in r.stderr


def test_template_errors_name_the_template(tmp_path):
    d = tmp_path / "tpl"
    d.mkdir()
    (d / "test.subject").write_text("Hi {{product}}\nsecond line\n")
    (d / "test.txt").write_text("line one\n  {{ email }} and {{link\n")
    (d / "test.html").write_text("<p>{{ Bad }}</p>\n")
    (d / "other.subject").write_text("x\n")     # no .txt, no .html
    path = conf(tmp_path, "mail:\n  url: smtp://127.0.0.1:25\n  from: "
                "a@example.com\n  templates_dir: tpl\n")
    r = check(path)
    assert r.returncode == 1
    err = r.stderr
    assert "%s/test.subject:1:15: a subject template is one line" % d in err
    assert "%s/test.txt:2:19: unclosed {{" % d in err
    assert "%s/test.html:1:4: expected a variable name" % d in err
    assert "%s/other.txt: cannot open mail template" % d in err


def test_templates_dir_missing(tmp_path):
    path = conf(tmp_path, "mail:\n  url: smtp://127.0.0.1:25\n  from: "
                "a@example.com\n  templates_dir: nope\n")
    r = check(path)
    assert r.returncode == 1
    assert "%s:8:18: mail.templates_dir: cannot read %s/nope" % (
        path, tmp_path) in r.stderr


def test_documented_section_is_valid(tmp_path):
    """conf/postern.yaml's commented mail: block, uncommented, loads."""
    with open(os.path.join(ROOT, "conf", "postern.yaml")) as f:
        text = f.read()
    block = re.search(r"^#mail:\n(?:#  .*\n)+", text, re.M).group(0)
    mail = "".join(line[1:] + "\n" for line in block.splitlines())
    r = check(conf(tmp_path, mail))
    assert r.returncode == 0, r.stderr
    assert "0 warnings" in r.stdout


def metric(text, name):
    m = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    assert m, name
    return int(m.group(1))


def test_serve_with_mail_metrics_and_reload(gateway, smtp_sink):
    gw = gateway(extra=smtp_sink.mail_config(queue_max=10))
    text = requests.get("http://127.0.0.1:%d/metrics" % gw.admin_port,
                        timeout=5).text
    assert metric(text, "postern_mail_sent_total") == 0
    assert metric(text, "postern_mail_queue") == 0
    assert metric(text, "postern_mail_retries_total") == 0
    assert metric(text, 'postern_mail_failed_total{reason="connect"}') == 0
    assert metric(text, 'postern_mail_failed_total{reason="queue_full"}') == 0
    # A reload with a broken mail: section keeps the old configuration.
    with open(gw.config, "a") as f:
        f.write("  bogus: 1\n")
    gw.proc.send_signal(1)
    deadline = time.monotonic() + 5
    while "reload failed" not in gw.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "unknown key 'bogus' in 'mail'" in gw.log()
    r = requests.get("http://127.0.0.1:%d/metrics" % gw.admin_port,
                     timeout=5)
    assert r.status_code == 200
    assert gw.proc.poll() is None


def test_sink_is_reusable(smtp_sink):
    """Other test files send through the sink with any SMTP client."""
    with socket.create_connection(("127.0.0.1", smtp_sink.port), 5) as s:
        f = s.makefile("rwb")

        def cmd(line):
            f.write(line.encode() + b"\r\n")
            f.flush()
            reply = f.readline()
            while reply[3:4] == b"-":
                reply = f.readline()
            return reply

        assert f.readline().startswith(b"220")
        assert cmd("HELO test").startswith(b"250")
        assert cmd("MAIL FROM:<x@example.com>").startswith(b"250")
        assert cmd("RCPT TO:<reuse@example.com>").startswith(b"250")
        assert cmd("DATA").startswith(b"354")
        assert cmd("Subject: hi\r\n\r\nbody\r\n.").startswith(b"250")
        cmd("QUIT")
    msg = smtp_sink.wait_for("reuse@example.com", timeout=5)
    assert msg["Subject"] == "hi"


# ---- a serving gateway whose SMTP server misbehaves ----
#
# Mail is queued by the reset form (gateway/identity/signin/recover.c).  A build without
# it answers 404 there and these tests skip.

@pytest.fixture
def blackhole():
    """A loopback port that accepts connections (into the backlog) and never
    says a word: every SMTP attempt runs into mail.timeout."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        yield s.getsockname()[1]


def reset_gateway(gateway, redis_server, tmp_path, mail):
    from test_auth import add_user, auth_extra, make_key
    make_key(tmp_path)
    gw = gateway(extra=auth_extra(tmp_path) + mail, redis=redis_server,
                 protect=False)
    r = requests.get(gw.url + "/.postern/reset", verify=False, timeout=10,
                     headers={"Accept": "text/html"})
    if r.status_code == 404:
        pytest.skip("this build has no /.postern/reset")
    gw.email = "m-%s@example.com" % uuid.uuid4().hex[:10]
    add_user(gw, gw.email)
    return gw


def ask_reset(gw):
    s = requests.Session()
    r = s.get(gw.url + "/.postern/reset", verify=False, timeout=10,
              headers={"Accept": "text/html"})
    csrf = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    return s.post(gw.url + "/.postern/reset", verify=False, timeout=10,
                  data={"email": gw.email, "csrf": csrf},
                  headers={"Origin": gw.url, "Accept": "text/html"},
                  allow_redirects=False)


def metrics_of(gw):
    return requests.get("http://127.0.0.1:%d/metrics" % gw.admin_port,
                        timeout=5).text


def wait_metric(gw, name, value, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if metric(metrics_of(gw), name) >= value:
            return
        time.sleep(0.1)
    raise AssertionError("%s < %d:\n%s" % (name, value, metrics_of(gw)))


def test_serve_smtp_down_retries_then_fails(gateway, redis_server, tmp_path):
    gw = reset_gateway(gateway, redis_server, tmp_path,
                       "mail:\n  url: smtp://127.0.0.1:%d\n  starttls: none\n"
                       "  from: postern@example.com\n  retries: 2\n"
                       "  retry_backoff: 100ms\n" % free_port())
    assert ask_reset(gw).status_code == 200
    wait_metric(gw, 'postern_mail_failed_total{reason="connect"}', 1)
    text = metrics_of(gw)
    assert metric(text, "postern_mail_retries_total") == 2
    assert metric(text, "postern_mail_sent_total") == 0
    assert metric(text, "postern_mail_queue") == 0
    log = gw.log()
    assert '"outcome":"retry","reason":"connect"' in log
    assert '"outcome":"failed","reason":"connect"' in log
    assert "token=" not in log                  # the link never logged


def test_serve_keeps_serving_while_smtp_hangs(gateway, redis_server,
                                              tmp_path, blackhole):
    gw = reset_gateway(gateway, redis_server, tmp_path,
                       "mail:\n  url: smtp://127.0.0.1:%d\n  starttls: none\n"
                       "  from: postern@example.com\n  retries: 1\n"
                       "  timeout: 2s\n  retry_backoff: 100ms\n"
                       "  queue_max: 1\n" % blackhole)
    # Three requests over two workers: one worker gets two, and its
    # queue of one is full for the second.
    for _ in range(3):
        assert ask_reset(gw).status_code == 200
    slowest = 0
    t_end = time.monotonic() + 2.5          # while attempts hang
    while time.monotonic() < t_end:
        t0 = time.monotonic()
        r = requests.get(gw.url + "/.postern/health", verify=False,
                         timeout=5)
        assert r.status_code == 200
        slowest = max(slowest, time.monotonic() - t0)
    print("slowest health request while SMTP hangs: %.1f ms" % (slowest * 1000))
    assert slowest < 0.5, slowest
    text = metrics_of(gw)
    assert metric(text, 'postern_mail_failed_total{reason="queue_full"}') >= 1
    assert metric(text, "postern_mail_queue") >= 1
    wait_metric(gw, 'postern_mail_failed_total{reason="timeout"}', 1)


def test_sealed_password_authenticates(tmp_path, redis_server):
    """mail.password sealed with `postern secrets seal --purpose smtp` is
    what the gateway sends in SMTP AUTH, to a real server requiring it;
    the password itself is never accepted in the config."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    password = "smtp-pässword-%s" % uuid.uuid4().hex[:6]
    tries, delivered = [], []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            delivered.append(envelope.rcpt_tos)
            return "250 OK"

    def authenticate(server, session, envelope, mechanism, data):
        ok = isinstance(data, LoginPassword) and data.login == b"bob" \
            and data.password == password.encode()
        tries.append(ok)
        return AuthResult(success=ok, handled=False)   # False: send 535

    port = free_port()
    smtp = Controller(Handler(), hostname="127.0.0.1", port=port,
                      authenticator=authenticate, auth_required=True,
                      auth_require_tls=False)
    smtp.start()
    try:
        secret = tmp_path / "secret"
        secret.write_bytes(os.urandom(32))
        secret.chmod(0o600)
        # its own key prefix: `secrets rotate` below walks every user
        # under it, and other tests' users are sealed with their secrets
        extra = "secret_file: secret\n" + section("redis", {
            "address": '"%s:%d"' % redis_server,
            "prefix": '"mt-%s:"' % uuid.uuid4().hex[:8]})
        mail = textwrap.dedent("""\
            mail:
              url: smtp://127.0.0.1:%d
              starttls: none
              from: postern@example.com
              username: bob
            """) % port
        path = conf(tmp_path, mail, extra)

        def seal(value, purpose="smtp"):
            r = run_postern("secrets", "seal", "--purpose", purpose, "-c",
                            path, stdin=value + "\n")
            assert r.returncode == 0, r.stderr
            assert r.stdout.startswith("sealed:v1.")
            assert value not in r.stdout
            return r.stdout.strip()

        good = seal(password)
        with open(path, "a") as f:
            f.write('  password: "%s"\n' % good)
        r = mail_test(path, "auth@example.com")
        assert r.returncode == 0, r.stderr
        assert tries == [True] and delivered == [["auth@example.com"]]
        assert password not in r.stdout + r.stderr

        text = open(path).read()
        # another password: the server refuses it, nothing is sent
        wrong = seal("wrong-password")
        open(path, "w").write(text.replace(good, wrong))
        r = mail_test(path, "auth2@example.com")
        assert r.returncode != 0 and tries[-1] is False
        assert len(delivered) == 1
        # 535: not tried again (that only helps lock the account)
        assert tries.count(False) == 1, tries
        # sealed for another purpose: does not open
        other = seal("x" * 16, "webhook")
        open(path, "w").write(text.replace(good, other))
        r = check(path)
        assert r.returncode == 1 and "mail.password: the sealed password " \
            "does not open" in r.stderr, r.stderr
        # never the password itself; never both forms
        open(path, "w").write(text.replace('"%s"' % good, password))
        r = check(path)
        assert r.returncode == 1 and "mail.password: expected a sealed " \
            "value (sealed:v1...)" in r.stderr, r.stderr
        pw = tmp_path / "smtp-password"
        pw.write_text(password + "\n")
        pw.chmod(0o600)
        open(path, "w").write(text + "  password_file: smtp-password\n")
        r = check(path)
        assert r.returncode == 1 and "mail.password: give one of " \
            "password_file and password" in r.stderr, r.stderr
        # rotation: a new secret_file, the old one kept as previous; the
        # value `secrets rotate` prints works with the new one alone
        new = tmp_path / "secret2"
        new.write_bytes(os.urandom(32))
        new.chmod(0o600)
        rotating = text.replace("secret_file: secret\n", "secret_file: "
                                "secret2\nprevious_secret_files: [secret]\n")
        open(path, "w").write(rotating)
        r = run_postern("secrets", "rotate", "-c", path)
        assert r.returncode == 0, r.stderr
        m = re.search(r"^mail: replace its password with (sealed:v1\.\S+)$",
                      r.stdout, re.M)
        assert m, r.stdout
        open(path, "w").write(rotating.replace(
            "previous_secret_files: [secret]\n", "").replace(good, m.group(1)))
        r = mail_test(path, "auth3@example.com")
        assert r.returncode == 0, r.stderr
        assert tries[-1] is True and len(delivered) == 2
    finally:
        smtp.stop()
