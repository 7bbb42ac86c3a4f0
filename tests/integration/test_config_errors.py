"""`postern check` and `postern serve` on broken configurations and policies.

Each case writes one mistake into an otherwise good configuration and
asserts the exact "file:line:col: message" lines an operator reads, and
exit status 1.  The cases of that one shape are golden files in
config_errors/ (see its README.md), run by test_golden_config_error; the
functions below are the cases that check more than one configuration, a
warning, or `postern serve`.
"""
import base64
import glob
import os
import shutil
import subprocess

import pytest

from conftest import run_postern
from gwproc import forge_cert

# Lines 1-7; each test appends from line 8 on or edits a line.
BASE = """\
server:
  listen:
    - address: "127.0.0.1:8443"
tls:
  certificates:
    - cert: %(crt)s
      key: %(key)s
"""


@pytest.fixture
def conf(tmp_path, tls_cert, postern_bin):
    """conf(extra, **replace) -> (path, CompletedProcess of postern check)."""
    def write(extra="", name="postern.yaml", base=None, **kw):
        crt, key = tls_cert
        text = (base if base is not None else BASE) % dict(
            {"crt": crt, "key": key}, **kw) + extra
        path = tmp_path / name
        path.write_text(text)
        return str(path), run_postern("check", "-c", str(path))
    return write


def assert_fails(result, path, *lines):
    assert result.returncode == 1, result.stderr
    got = result.stderr.splitlines()
    for line in lines:
        assert "%s:%s" % (path, line) in got, result.stderr
    n = len(lines)
    assert got[-1] == "%s: %d error%s, configuration not valid" % (
        path, n, "" if n == 1 else "s"), result.stderr
    assert result.stdout == ""


GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "config_errors")
CASES = sorted(os.path.basename(p)[:-len(".yaml")]
               for p in glob.glob(os.path.join(GOLDEN, "*.yaml")))


def copy_key(name, mode):
    def setup(directory, tls_cert):
        shutil.copy(tls_cert[1], directory / name)
        os.chmod(directory / name, mode)
    return setup


def other_key(directory, tls_cert):
    """A P-256 key that is not the certificate's."""
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-out",
                    str(directory / "other-key.pem")],
                   check=True, capture_output=True)
    os.chmod(directory / "other-key.pem", 0o600)


# Files a case needs that are made, not kept: keys.
SETUP = {
    "world_readable_key": copy_key("open-key.pem", 0o644),
    "group_readable_relative_key": copy_key("k.pem", 0o640),
    "cert_key_mismatch": other_key,
}


def golden(name, directory, tls_cert, ext):
    """config_errors/<name><ext> with its placeholders filled in."""
    with open(os.path.join(GOLDEN, name + ext)) as f:
        text = f.read()
    for mark, value in (("@DIR@", str(directory)), ("@CERT@", tls_cert[0]),
                        ("@KEY@", tls_cert[1])):
        text = text.replace(mark, value)
    return text


@pytest.mark.parametrize("name", CASES)
def test_golden_config_error(name, tmp_path, tls_cert, postern_bin):
    files = os.path.join(GOLDEN, name + ".files")
    for f in sorted(os.listdir(files)) if os.path.isdir(files) else ():
        shutil.copy(os.path.join(files, f), tmp_path / f)
        os.chmod(tmp_path / f, 0o600)
    if name in SETUP:
        SETUP[name](tmp_path, tls_cert)
    path = tmp_path / "postern.yaml"
    path.write_text(golden(name, tmp_path, tls_cert, ".yaml"))
    r = run_postern("check", "-c", str(path))
    assert r.returncode == 1, r.stderr
    assert r.stdout == ""
    assert r.stderr.splitlines() == golden(
        name, tmp_path, tls_cert, ".expected").splitlines()


def test_every_golden_case_has_its_expected_lines():
    """A case without its .expected file would not be run as a case."""
    assert len(CASES) >= 24
    for name in CASES:
        with open(os.path.join(GOLDEN, name + ".expected")) as f:
            lines = f.read().splitlines()
        assert lines and lines[-1].startswith("@DIR@/postern.yaml: "), name
    assert set(SETUP) <= set(CASES)


def test_good_config_is_ok(conf):
    path, r = conf()
    assert r.returncode == 0, r.stderr
    assert r.stdout == "%s: configuration ok (0 apps, 1 listener, " \
        "0 warnings)\n" % path
    assert r.stderr == ""


def test_shipped_example_config(tmp_path, tls_cert, postern_bin):
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    (tmp_path / "conf" / "tls").mkdir(parents=True)
    (tmp_path / "policies").mkdir()
    shutil.copy(os.path.join(root, "conf", "postern.yaml"),
                tmp_path / "conf")
    shutil.copy(os.path.join(root, "policies", "demo.yaml"),
                tmp_path / "policies")
    shutil.copy(tls_cert[0], tmp_path / "conf" / "tls" / "cert.pem")
    shutil.copy(tls_cert[1], tmp_path / "conf" / "tls" / "key.pem")
    path = str(tmp_path / "conf" / "postern.yaml")
    # The demo app is protected: the example needs its secret and key.
    secret = tmp_path / "conf" / "secret"
    secret.write_bytes(os.urandom(32))
    secret.chmod(0o600)
    (tmp_path / "conf" / "keys").mkdir()
    r = run_postern("check", "-c", path)
    assert r.returncode == 1
    assert "postern keys generate -c %s" % path in r.stderr
    r = run_postern("keys", "generate", "-c", path)
    assert r.returncode == 0, r.stderr
    assert oct(os.stat(tmp_path / "conf" / "keys" / "assertion.pem")
               .st_mode & 0o777) == "0o600"
    r = run_postern("keys", "generate", "-c", path)
    assert r.returncode == 0 and "left as it is" in r.stdout
    r = run_postern("check", "-c", path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "%s: configuration ok (1 app, 2 listeners, " \
        "0 warnings)\n" % path


def check_cert(conf, cert):
    """postern check with <cert> (cert, key) as the certificate."""
    return conf(crt=cert[0], key=cert[1])


def test_expired_and_future_certificates_refused(conf, tmp_path):
    """A certificate outside its validity is an error at its cert line
    (serve would fail every handshake with it); so are its siblings: a day
    past, long past, starting tomorrow, valid only in the future."""
    for days_from, days_to, why in (
            (-30, -1, "expired on %s; renew it"),
            (-400, -365, "expired on %s; renew it"),
            (1, 30, "is not valid before %s (check the clock, or wait)"),
            (30, 400, "is not valid before %s (check the clock, or wait)")):
        cert = forge_cert(tmp_path, "localhost", days_from, days_to)
        path, r = check_cert(conf, cert)
        when = cert_time(cert[0], "notAfter" if days_to < 0 else
                         "notBefore")
        assert_fails(r, path, "6:13: tls.certificates.cert: certificate "
                     "%s %s" % (cert[0], why % when))


def cert_time(crt, which):
    """notBefore/notAfter of <crt> as RFC 3339 UTC (whole seconds)."""
    from cryptography import x509
    with open(crt, "rb") as f:
        c = x509.load_pem_x509_certificate(f.read())
    t = c.not_valid_after if which == "notAfter" else c.not_valid_before
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_certificate_warnings(conf, tmp_path):
    """Expiring within 14 days, RSA under 3072 bits, EC under P-256: a
    warning at the cert line, and the configuration is still valid."""
    for cert, why in (
            (forge_cert(tmp_path, "localhost", -1, 13),
             "expires on %s, within 14 days; renew it"),
            (forge_cert(tmp_path, "localhost", -1, 30, "rsa2048"),
             "its RSA key has 2048 bits; use 3072 or more (or EC P-256)"),
            (forge_cert(tmp_path, "localhost", -1, 30, "ec224"),
             "its EC key is on secp224r1, weaker than P-256")):
        path, r = check_cert(conf, cert)
        assert r.returncode == 0, r.stderr
        if "%s" in why:
            why = why % cert_time(cert[0], "notAfter")
        assert r.stderr.splitlines() == [
            "%s:6:13: warning: tls.certificates.cert: certificate %s %s"
            % (path, cert[0], why)], r.stderr
        assert r.stdout.endswith("(0 apps, 1 listener, 1 warning)\n")
    # no warning for what is strong enough and not about to expire
    for cert in (forge_cert(tmp_path, "localhost", -1, 15),
                 forge_cert(tmp_path, "localhost", -1, 30, "rsa3072")):
        path, r = check_cert(conf, cert)
        assert r.returncode == 0 and r.stderr == "", r.stderr


def test_cert_key_mismatch_rsa(conf, tmp_path):
    """The mismatch check holds across key types (an RSA key for an EC
    certificate, and the reverse)."""
    ec_cert = forge_cert(tmp_path, "localhost")
    rsa_cert = forge_cert(tmp_path, "localhost", key="rsa3072")
    for crt, key in ((ec_cert[0], rsa_cert[1]), (rsa_cert[0], ec_cert[1])):
        path, r = conf(crt=crt, key=key)
        assert_fails(r, path, "6:7: tls.certificates: key %s does not "
                     "match certificate %s" % (key, crt))


def test_argon2_below_owasp_warns(conf):
    """Each of OWASP's argon2id pairs passes; one step under warns, at the
    passwords section."""
    pairs = ((47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5))
    for m, t in pairs:
        path, r = conf("passwords:\n  argon2_memory: %dKiB\n"
                       "  argon2_iterations: %d\n" % (m, t))
        assert r.returncode == 0 and r.stderr == "", r.stderr
        if t == 5:      # under 7 MiB is out of argon2_memory's range
            continue
        path, r = conf("passwords:\n  argon2_memory: %dKiB\n"
                       "  argon2_iterations: %d\n" % (m - 1024, t))
        assert r.returncode == 0, r.stderr
        assert r.stderr.splitlines() == [
            "%s:9:3: warning: passwords: argon2id m=%d KiB, t=%d is below "
            "OWASP's minimum (m=%d KiB for t=%d; the pairs are m=47104 "
            "t=1, m=19456 t=2, m=12288 t=3, m=9216 t=4, m=7168 t=5)"
            % (path, m - 1024, t, m, t)], r.stderr
    # t above 5 needs no more than t=5; the default (19 MiB, t=2) is fine
    path, r = conf("passwords:\n  argon2_memory: 7MiB\n"
                   "  argon2_iterations: 9\n")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    path, r = conf("passwords:\n  min_length: 12\n")
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_serve_refuses_an_expired_certificate(conf, tmp_path):
    cert = forge_cert(tmp_path, "localhost", -30, -1)
    path, r = check_cert(conf, cert)
    assert r.returncode == 1
    r = run_postern("serve", "-c", path, timeout=20)
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert "6:13: tls.certificates.cert: certificate %s expired on" \
        % cert[0] in out, out


WEAK_SECRETS = {
    # a passphrase, long enough and with spaces
    b"correct horse battery staple correct horse battery staple\n":
        "holds printable text that is neither hex nor base64 (a passphrase "
        "or typed password?)",
    b"Tr0ub4dor&3-Tr0ub4dor&3-Tr0ub4dor&3-Tr0ub4dor&3":
        "holds printable text that is neither hex nor base64 (a passphrase "
        "or typed password?)",
    # 32 letters of a password manager: 32 bytes, but not 256 bits
    b"thisismysupersecretgatewaysecret":
        "holds 32 base64 characters (192 bits); expected at least 256 bits",
    b"thisismysupersecretgatewaysecretkeythatnobodywillguess2024\n":
        "does not look random (its base64 characters are too unevenly "
        "spread)",
    # openssl rand -hex 16: 128 bits of hex text
    b"9f86d081884c7d659a2feaa0c55ad015\n":
        "holds 32 hex digits (128 bits); expected at least 256 bits",
    b"0" * 64: "does not look random (its hex digits are too unevenly "
        "spread)",
    b"0123456789abcdef" * 4: "does not look random (its hex digits are too "
        "unevenly spread)",
    # 64 bits repeated: each hex digit once a run, so only the repeat shows
    # (a random run of 16 digits is often uneven enough to be refused for
    # that first, which made this case flaky)
    b"9b3c27e1f04a6d58" * 4: "does not look random (it repeats a run of 64 "
        "bits)",
    b"\x00" * 32: "does not look random (its bytes are too unevenly "
        "spread)",
    b"\xaa" * 64: "does not look random (its bytes are too unevenly "
        "spread)",
    bytes(range(32)): "does not look random (its bytes are too unevenly "
        "spread)",
    os.urandom(8) * 4: "does not look random (its bytes are too unevenly "
        "spread)",
}


def test_secret_file_weak(conf, tmp_path):
    """secret_file must hold 256 random bits: raw, hex or base64; words,
    short hex, patterns and repeats are refused at secret_file's value."""
    secret = tmp_path / "secret"
    for content, why in WEAK_SECRETS.items():
        secret.write_bytes(content)
        os.chmod(secret, 0o600)
        path, r = conf("secret_file: secret\n")
        assert_fails(r, path, "8:14: secret_file: %s %s; expected 32 or "
                     "more random bytes, e.g. from: head -c 32 /dev/urandom "
                     "> %s" % (secret, why, secret))


def test_secret_file_good_forms(conf, tmp_path):
    """What the README, demo and `openssl rand` make is accepted."""
    secret = tmp_path / "secret"
    raw = os.urandom(32)
    for content in (raw, raw.hex().encode() + b"\n",
                    base64.b64encode(raw) + b"\n",
                    base64.urlsafe_b64encode(raw).rstrip(b"="),
                    base64.encodebytes(os.urandom(96)),   # wrapped lines
                    raw.hex().encode() + b"\r\n",
                    os.urandom(4096)):
        secret.write_bytes(content)
        os.chmod(secret, 0o600)
        path, r = conf("secret_file: secret\n")
        assert r.returncode == 0, (content, r.stderr)


def test_weak_previous_secret_can_be_rotated_out(conf, tmp_path):
    """A weak secret stays readable under previous_secret_files, so that
    an operator can move away from it; only secret_file must be strong."""
    (tmp_path / "old").write_bytes(b"correct horse battery staple " * 2)
    (tmp_path / "new").write_bytes(os.urandom(32))
    for name in ("old", "new"):
        os.chmod(tmp_path / name, 0o600)
    path, r = conf("secret_file: new\nprevious_secret_files: [old]\n")
    assert r.returncode == 0, r.stderr
    path, r = conf("secret_file: old\nprevious_secret_files: [new]\n")
    assert r.returncode == 1 and "8:14: secret_file: " in r.stderr


def test_serve_refuses_a_weak_secret(conf, tmp_path):
    secret = tmp_path / "secret"
    secret.write_bytes(b"a" * 64)
    os.chmod(secret, 0o600)
    path, r = conf("secret_file: secret\n")
    assert r.returncode == 1
    r = run_postern("serve", "-c", path, timeout=20)
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert "8:14: secret_file: %s does not look random" % secret in out, out


def test_secret_file_as_systemd_credential(conf, tmp_path, monkeypatch):
    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / "secret").write_bytes(os.urandom(32))
    os.chmod(creds / "secret", 0o400)	# as systemd leaves it
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    path, r = conf('secret_file: "$CREDENTIALS_DIRECTORY/secret"\n')
    assert_fails(r, path, "8:14: secret_file: $CREDENTIALS_DIRECTORY is not "
                 "set (systemd sets it for a service with LoadCredential="
                 "secret:...; for a command run by hand, set it to the "
                 "service's /run/credentials/UNIT directory)")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    for form in ("$CREDENTIALS_DIRECTORY", "${CREDENTIALS_DIRECTORY}"):
        path, r = conf('secret_file: "%s/secret"\n' % form)
        assert r.returncode == 0, r.stderr
    # a credential's name, never a path out of the directory
    path, r = conf('secret_file: "$CREDENTIALS_DIRECTORY/../secret"\n')
    assert_fails(r, path, "8:14: secret_file: expected "
                 "$CREDENTIALS_DIRECTORY/NAME, NAME being a credential's name")
    # and held to the same rules as any secret file
    os.chmod(creds / "secret", 0o640)
    path, r = conf('secret_file: "$CREDENTIALS_DIRECTORY/secret"\n')
    assert r.returncode == 1 and "secret_file" in r.stderr, r.stderr
    # the variable is read only in that form: elsewhere "$" is a file name
    path, r = conf('secret_file: "$CREDENTIALS_DIRECTORYx/secret"\n')
    assert r.returncode == 1 and "CREDENTIALS_DIRECTORY is not set" not in \
        r.stderr, r.stderr


def test_missing_config_file_exact(tmp_path, postern_bin):
    path = tmp_path / "absent.yaml"
    r = run_postern("check", "-c", str(path))
    assert r.returncode == 1
    assert r.stderr.splitlines()[0] == \
        "%s: cannot open: No such file or directory" % path


def test_serve_refuses_bad_config(conf):
    path, r = conf("timeouts:\n  header: 30x\n")
    assert r.returncode == 1
    r = run_postern("serve", "-c", path, timeout=20)
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert "9:11: timeouts.header: invalid duration" in out, out


def test_relative_files_resolve_against_config_dir(conf, tmp_path):
    """A relative ca_file or common_passwords names a file beside the config,
    whatever the working directory, and one that is missing is an error at
    its own line."""
    secret = tmp_path / "hook.key"
    secret.write_text("k" * 40)
    secret.chmod(0o600)
    extra = ("passwords:\n"
             "  common_passwords: no-such-list.txt\n"
             "webhooks:\n"
             "  - url: https://hooks.example.net/in\n"
             "    events: [login]\n"
             "    secret_file: %s\n"
             "    ca_file: missing-ca.pem\n" % secret)
    path, r = conf(extra)
    assert_fails(r, path,
                 "9:21: passwords.common_passwords: cannot read "
                 "%s/no-such-list.txt: No such file or directory" % tmp_path,
                 "14:14: webhooks.ca_file: cannot read "
                 "%s/missing-ca.pem: No such file or directory" % tmp_path)
    (tmp_path / "no-such-list.txt").write_text("password\n")
    (tmp_path / "missing-ca.pem").write_text("")
    path, r = conf(extra)
    assert r.returncode == 0, r.stderr
