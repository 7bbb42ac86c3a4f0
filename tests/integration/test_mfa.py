"""Second factor, step-up and the account page (gateway/account*.c).

A real postern, a real redis-server, users made with the real CLI, TOTP
codes computed by Debian's `oathtool` from the key the enrolment page
shows.  The attacker's tries: replayed codes, codes outside the window,
guessing (rate limit), reused backup codes, skipping the second step,
stale sessions after a password change.
"""
import html
import re
import subprocess
import time
import uuid

import pytest
import redis
import requests

from conftest import run_postern
from test_auth import (PASSWORD, add_user, assertion_claims, auth_extra,
                       headers_of, make_key)
from test_routes import member, new_org

ROUTES = """\
  routes:
    - path: /public/**
      public: true
    - path: /secure/mfa
      mfa: true
    - path: /secure/fresh
      fresh_auth: 1s
    - path: /orgs/{org}/**
      role: viewer
    - path: /**
      authenticated: true
"""


@pytest.fixture
def mfagw(gateway, redis_server, tmp_path):
    def start(extra=""):
        make_key(tmp_path)
        gw = gateway(extra=auth_extra(tmp_path) + extra, app_extra=ROUTES,
                     redis=redis_server, protect=None)
        gw.redis = redis.Redis(host=redis_server[0], port=redis_server[1])
        gw.email = "m-%s@example.com" % uuid.uuid4().hex[:10]
        add_user(gw, gw.email)
        return gw
    return start


def page(s, gw, path):
    r = s.get(gw.url + path, verify=False, timeout=10,
              allow_redirects=False, headers={"Accept": "text/html"})
    return r


def csrf_of(text):
    return re.search(r'name="csrf" value="([^"]+)"', text).group(1)


def post(s, gw, path, data, csrf=None):
    if csrf is None:
        csrf = csrf_of(page(s, gw, "/.postern/login").text)
    data = dict(data, csrf=csrf)
    return s.post(gw.url + path, data=data, verify=False, timeout=30,
                  allow_redirects=False,
                  headers={"Origin": gw.url, "Accept": "text/html"})


def sign_in(gw, email=None, password=PASSWORD, rd="/"):
    s = requests.Session()
    r = post(s, gw, "/.postern/login", {"email": email or gw.email,
                                        "password": password, "rd": rd})
    return s, r


def totp(key, offset=0):
    now = int(time.time()) + offset
    return subprocess.run(["oathtool", "--totp", "-b", key, "--now",
                           "@%d" % now], check=True, capture_output=True,
                          text=True).stdout.strip()


def wait_fresh_step():
    """Sleep into the next 30 s step if this one is about to end."""
    if time.time() % 30 > 25:
        time.sleep(30 - time.time() % 30 + 0.5)


def enrol(gw, s, offset=0):
    """Enrol a TOTP seed for the session's user: (key, backup codes)."""
    r = page(s, gw, "/.postern/2fa/setup")
    assert r.status_code == 200, (r.status_code, r.headers, r.text[:300])
    assert "<svg" in r.text and "otpauth" not in r.text.split("<svg")[0]
    key = re.search(r'by hand:</p>\n<p><code class="key">([A-Z2-7 ]+)</code>',
                    r.text).group(1).replace(" ", "")
    r = post(s, gw, "/.postern/2fa/setup", {"code": totp(key, offset)},
             csrf=csrf_of(r.text))
    assert r.status_code == 200, r.text
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", r.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    return key, codes


def api(s, gw, path):
    return s.get(gw.url + path, verify=False, timeout=10,
                 allow_redirects=False,
                 headers={"Accept": "application/json"})


def test_enrol_then_sign_in_needs_the_code(mfagw):
    gw = mfagw()
    wait_fresh_step()
    s, r = sign_in(gw)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    key, codes = enrol(gw, s)
    # the seed is stored sealed, never in plaintext
    uid = api(s, gw, "/x").json()["headers"]
    for k in gw.redis.scan_iter("postern:user:*"):
        if gw.redis.type(k) == b"hash":
            for v in gw.redis.hvals(k):
                assert key.encode() not in v
                assert key.lower().encode() not in v
    assert uid
    # a new sign-in stops at the second step
    s2, r = sign_in(gw, rd="/app?x=1")
    assert r.status_code == 303
    assert r.headers["Location"] == "/.postern/2fa?rd=/app%3Fx%3D1"
    r = page(s2, gw, "/app")
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/.postern/2fa?rd=")
    r = api(s2, gw, "/app")
    assert r.status_code == 401
    assert "insufficient_user_authentication" in r.headers["WWW-Authenticate"]
    r = page(s2, gw, "/.postern/2fa")
    assert r.status_code == 200 and 'autocomplete="one-time-code"' in r.text
    r = post(s2, gw, "/.postern/2fa", {"code": totp(key, 30), "rd":
                                       "/app?x=1"}, csrf=csrf_of(r.text))
    assert r.status_code == 303 and r.headers["Location"] == "/app?x=1"
    r = api(s2, gw, "/app")
    assert r.status_code == 200
    h = headers_of(r)
    assert h["x-postern-email"] == gw.email
    # the upstream can tell that both factors were passed (RFC 8176)
    claims = assertion_claims(gw, h["x-postern-assertion"])
    assert claims["amr"] == ["pwd", "otp", "mfa"]


def test_replay_window_and_guessing(mfagw):
    gw = mfagw()
    wait_fresh_step()
    s, _ = sign_in(gw)
    key, _ = enrol(gw, s, offset=-30)      # a code of the previous step
    s2, _ = sign_in(gw)
    tok = csrf_of(page(s2, gw, "/.postern/2fa").text)
    # two steps ahead is outside the window
    assert post(s2, gw, "/.postern/2fa", {"code": totp(key, 60)},
                csrf=tok).status_code == 401
    assert post(s2, gw, "/.postern/2fa", {"code": totp(key)},
                csrf=tok).status_code == 303
    # the same code again, from another sign-in: replay
    s3, _ = sign_in(gw)
    tok3 = csrf_of(page(s3, gw, "/.postern/2fa").text)
    r = post(s3, gw, "/.postern/2fa", {"code": totp(key)}, csrf=tok3)
    assert r.status_code == 401 and "already used" in html.unescape(r.text)
    # the next step is still good
    assert post(s3, gw, "/.postern/2fa", {"code": totp(key, 30)},
                csrf=tok3).status_code == 303
    # guessing: a few wrong codes, then locked even for the right one
    s4, _ = sign_in(gw)
    tok4 = csrf_of(page(s4, gw, "/.postern/2fa").text)
    codes = [post(s4, gw, "/.postern/2fa", {"code": "%06d" % n},
                  csrf=tok4).status_code for n in range(6)]
    assert codes[:4] == [401] * 4 and 429 in codes[4:], codes
    r = post(s4, gw, "/.postern/2fa", {"code": totp(key)}, csrf=tok4)
    assert r.status_code == 429
    for bad in ("12345", "1234567", "abcdef", "12 34 5x", ""):
        gw.redis.delete(*gw.redis.keys("postern:user:*:mfa_fail") or ["x"])
        assert post(s4, gw, "/.postern/2fa", {"code": bad},
                    csrf=tok4).status_code in (400, 401)


def test_backup_codes_are_single_use(mfagw):
    gw = mfagw()
    wait_fresh_step()
    s, _ = sign_in(gw)
    key, codes = enrol(gw, s)
    # this user's codes (other tests' users share the redis-server)
    uid = gw.redis.get("postern:email:" + gw.email).decode()
    stored = gw.redis.smembers("postern:user:%s:backup" % uid)
    assert len(stored) == 10
    assert not any(c.replace("-", "").encode() in v for c in codes
                   for v in stored)
    s2, _ = sign_in(gw)
    tok = csrf_of(page(s2, gw, "/.postern/2fa").text)
    r = post(s2, gw, "/.postern/2fa", {"backup": codes[3].upper()},
             csrf=tok)
    assert r.status_code == 303
    r = api(s2, gw, "/x")
    assert r.status_code == 200
    # a backup code is a one-time password too
    assert assertion_claims(gw, headers_of(r)["x-postern-assertion"])[
        "amr"] == ["pwd", "otp", "mfa"]
    assert '"action":"backup_code_used"' in gw.log()
    s3, _ = sign_in(gw)
    tok = csrf_of(page(s3, gw, "/.postern/2fa").text)
    r = post(s3, gw, "/.postern/2fa", {"backup": codes[3]}, csrf=tok)
    assert r.status_code == 401
    r = post(s3, gw, "/.postern/2fa", {"backup": codes[4]}, csrf=tok)
    assert r.status_code == 303


def test_mfa_route_sends_unenrolled_users_to_setup(mfagw):
    gw = mfagw()
    s, _ = sign_in(gw)
    assert api(s, gw, "/app").status_code == 200
    r = page(s, gw, "/secure/mfa")
    assert r.headers["Location"] == "/.postern/2fa?rd=/secure/mfa"
    r = page(s, gw, r.headers["Location"])
    assert r.status_code == 303
    assert r.headers["Location"].startswith("/.postern/2fa/setup?rd=")
    wait_fresh_step()
    enrol(gw, s)
    assert api(s, gw, "/secure/mfa").status_code == 200


def test_config_requires_enrolment_for_a_role(mfagw):
    gw = mfagw("mfa:\n  required_roles: [owner]\n")
    org = new_org(gw)
    member(gw, org, gw.email, "owner")
    s, _ = sign_in(gw)
    r = page(s, gw, "/app")
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/.postern/2fa/setup?rd=")
    assert api(s, gw, "/orgs/%s/x" % org).status_code == 401
    wait_fresh_step()
    enrol(gw, s)
    assert api(s, gw, "/orgs/%s/x" % org).status_code == 200
    # a plain member of no org is not forced
    other = "o-%s@example.com" % uuid.uuid4().hex[:8]
    add_user(gw, other)
    s2, _ = sign_in(gw, email=other)
    assert api(s2, gw, "/app").status_code == 200


def test_step_up_reauth_returns_to_the_page(mfagw):
    gw = mfagw()
    s, _ = sign_in(gw)
    assert api(s, gw, "/secure/fresh").status_code == 200
    time.sleep(2.2)
    r = page(s, gw, "/secure/fresh?a=1")
    assert r.status_code == 302
    assert r.headers["Location"] == "/.postern/reauth?rd=/secure/fresh%3Fa%3D1"
    r = page(s, gw, r.headers["Location"])
    assert r.status_code == 200 and 'autocomplete="current-password"' in \
        r.text
    tok = csrf_of(r.text)
    r = post(s, gw, "/.postern/reauth", {"password": "wrong one 12345",
                                         "rd": "/secure/fresh?a=1"}, csrf=tok)
    assert r.status_code == 401
    r = post(s, gw, "/.postern/reauth", {"password": PASSWORD,
                                         "rd": "/secure/fresh?a=1"}, csrf=tok)
    assert r.status_code == 303 and r.headers["Location"] == \
        "/secure/fresh?a=1"
    assert api(s, gw, "/secure/fresh").status_code == 200


def test_setup_needs_a_fresh_password(mfagw):
    gw = mfagw("account:\n  fresh_auth: 30s\n")
    s, _ = sign_in(gw)
    gw.redis  # sessions older than 30 s are sent to reauth first
    for k in gw.redis.scan_iter("postern:session:*"):
        gw.redis.hset(k, "auth_time", int(time.time()) - 120)
    r = page(s, gw, "/.postern/2fa/setup")
    assert r.status_code == 303
    assert r.headers["Location"].startswith("/.postern/reauth?rd=")
    assert r.headers["Location"] == \
        "/.postern/reauth?rd=/.postern/2fa/setup"


def test_account_page_password_change_revokes_other_sessions(mfagw):
    gw = mfagw()
    s, _ = sign_in(gw)
    other, _ = sign_in(gw)
    assert api(other, gw, "/x").status_code == 200
    r = page(s, gw, "/.postern/account")
    assert r.status_code == 200 and gw.email in r.text
    assert r.text.count("Sign out") >= 1          # the other session
    tok = csrf_of(r.text)
    new = "another long passphrase 42"
    r = post(s, gw, "/.postern/account/password",
             {"password": "wrong current 99", "new_password": new,
              "confirm": new}, csrf=tok)
    assert r.status_code == 401
    r = post(s, gw, "/.postern/account/password",
             {"password": PASSWORD, "new_password": "password1234",
              "confirm": "password1234"}, csrf=tok)
    assert r.status_code == 400            # the rules: a common password
    r = post(s, gw, "/.postern/account/password",
             {"password": PASSWORD, "new_password": new,
              "confirm": new + "x"}, csrf=tok)
    assert r.status_code == 400
    r = post(s, gw, "/.postern/account/password",
             {"password": PASSWORD, "new_password": new, "confirm": new},
             csrf=tok)
    assert r.status_code == 200 and "was changed" in r.text
    assert api(other, gw, "/x").status_code == 401     # revoked
    assert api(s, gw, "/x").status_code == 200          # this one kept
    assert sign_in(gw, password=PASSWORD)[1].status_code == 401
    assert sign_in(gw, password=new)[1].status_code == 303
    assert new not in gw.log() and PASSWORD not in gw.log()


def test_account_sessions_disable_and_new_codes(mfagw):
    gw = mfagw()
    wait_fresh_step()
    s, _ = sign_in(gw)
    key, codes = enrol(gw, s)
    other = requests.Session()
    post(other, gw, "/.postern/login", {"email": gw.email,
                                        "password": PASSWORD, "rd": "/"})
    tok = csrf_of(page(other, gw, "/.postern/2fa").text)
    assert post(other, gw, "/.postern/2fa", {"backup": codes[0]},
                csrf=tok).status_code == 303
    r = page(s, gw, "/.postern/account")
    assert r.status_code == 200
    ids = re.findall(r' id="([^"]+)"', r.text)     # labels point at one
    assert len(ids) == len(set(ids)), ids
    for target in re.findall(r'<label for="([^"]+)"', r.text):
        assert target in ids
    hashes = re.findall(r'name="session" value="([0-9a-f]{64})"', r.text)
    assert len(hashes) == 1
    tok = csrf_of(r.text)
    r = post(s, gw, "/.postern/account/sessions/revoke",
             {"session": hashes[0]}, csrf=tok)
    assert r.status_code == 303
    assert api(other, gw, "/x").status_code == 401
    # another user's session hash cannot be revoked from here
    r = post(s, gw, "/.postern/account/sessions/revoke",
             {"session": "0" * 64}, csrf=tok)
    assert r.status_code == 303
    # new backup codes replace the old ones
    r = post(s, gw, "/.postern/account/backup-codes", {}, csrf=tok)
    assert r.status_code == 200
    fresh = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", r.text)
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    # disabling needs the password and a code
    time.sleep(0 if time.time() % 30 < 27 else 4)
    r = post(s, gw, "/.postern/account/2fa/disable",
             {"password": PASSWORD, "code": "000000"}, csrf=tok)
    assert r.status_code == 401
    r = post(s, gw, "/.postern/account/2fa/disable",
             {"password": PASSWORD, "code": totp(key, 30)}, csrf=tok)
    assert r.status_code == 303
    s2, r = sign_in(gw)
    assert r.headers["Location"] == "/"
    assert api(s2, gw, "/x").status_code == 200


def test_account_pages_need_a_session_and_csrf(mfagw):
    gw = mfagw()
    r = page(requests, gw, "/.postern/account")
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/.postern/login?rd=")
    s, _ = sign_in(gw)
    r = s.post(gw.url + "/.postern/account/password", verify=False,
               allow_redirects=False,
               data={"password": PASSWORD, "new_password": "x" * 20,
                     "confirm": "x" * 20},
               headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    r = s.get(gw.url + "/.postern/account/password", verify=False,
              allow_redirects=False)
    assert r.status_code == 405
    r = page(s, gw, "/.postern/account")
    assert r.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]


def test_secret_rotation_keeps_second_factors(gateway, tmp_path):
    """A new secret_file with the old one under previous_secret_files:
    seeds sealed before still open; `postern secrets rotate` re-seals
    them, after which the old secret can go.  (A private Redis: the
    suite's holds seeds of other secrets.)"""
    import os
    import signal
    from conftest import start_redis, stop
    proc, addr = start_redis(tmp_path)
    make_key(tmp_path)
    gw = gateway(extra=auth_extra(tmp_path), app_extra=ROUTES, redis=addr,
                 protect=None)
    gw.redis = redis.Redis(host=addr[0], port=addr[1])
    gw.email = "m-%s@example.com" % uuid.uuid4().hex[:10]
    add_user(gw, gw.email)
    wait_fresh_step()
    s, _ = sign_in(gw)
    key, _ = enrol(gw, s)
    sealed = [v for k in gw.redis.scan_iter("postern:user:*")
              if gw.redis.type(k) == b"hash"
              for v in [gw.redis.hget(k, "totp")] if v]
    cfg = gw.config.read_text()
    old = tmp_path / "secret.old"
    os.rename(tmp_path / "secret", old)
    (tmp_path / "secret").write_bytes(os.urandom(32))
    (tmp_path / "secret").chmod(0o600)
    gw.config.write_text(cfg + "previous_secret_files: [%s]\n" % old)
    gw.proc.send_signal(signal.SIGHUP)
    time.sleep(1)
    # the old seal opens with the previous secret
    s2, _ = sign_in(gw)
    tok = csrf_of(page(s2, gw, "/.postern/2fa").text)
    assert post(s2, gw, "/.postern/2fa", {"code": totp(key, 30)},
                csrf=tok).status_code == 303
    r = run_postern("secrets", "rotate", "-c", str(gw.config))
    assert r.returncode == 0, r.stderr
    assert re.search(r"^[1-9]\d* sealed values re-sealed", r.stdout), \
        r.stdout
    after = [v for k in gw.redis.scan_iter("postern:user:*")
             if gw.redis.type(k) == b"hash"
             for v in [gw.redis.hget(k, "totp")] if v]
    assert not set(sealed) & set(after)
    r = run_postern("secrets", "rotate", "-c", str(gw.config))
    assert "0 sealed values re-sealed" in r.stdout
    # without the old secret, every seal opens with the current one
    gw.config.write_text(cfg)
    r = run_postern("secrets", "rotate", "-c", str(gw.config))
    assert r.returncode == 0, r.stdout + r.stderr
    assert ", 0 could not be opened" in r.stdout
    # and a seal of an unknown secret is reported, not lost silently
    k = next(k for k in gw.redis.scan_iter("postern:user:*")
             if gw.redis.type(k) == b"hash" and gw.redis.hget(k, "totp"))
    gw.redis.hset(k, "totp", sealed[0])
    r = run_postern("secrets", "rotate", "-c", str(gw.config))
    assert r.returncode == 1 and "opens with no configured secret" in \
        r.stderr
    gw.stop()
    stop(proc)
