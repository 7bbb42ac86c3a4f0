"""Magic links and password reset by email (gateway/identity/signin/recover.c).

A real postern sending through a real SMTP server on loopback (the
smtp_sink fixture, Debian's python3-aiosmtpd), a real redis-server.  The
attacker's tries: enumerating accounts through the forms, a forged Host
putting the link elsewhere, a mail scanner fetching the link, reusing a
link (also on a second gateway instance), expired links, stale sessions.
"""
import re
import time
import uuid

import pytest
import redis
import requests

from conftest import run_postern
from test_auth import (PASSWORD, add_user, assertion_claims, auth_extra,
                       headers_of, make_key)
from test_mfa import (api, csrf_of, enrol, page, post, sign_in, totp,
                      wait_fresh_step)

ROUTES = """\
  routes:
    - path: /public/**
      public: true
    - path: /**
      authenticated: true
"""


def mail_extra(sink, more=""):
    return (sink.mail_config(retries=1) + "account:\n  token_ttl: 1m\n" +
            more)


@pytest.fixture
def recgw(gateway, redis_server, tmp_path, smtp_sink):
    def start(more="  magic_links: true\n"):
        make_key(tmp_path)
        gw = gateway(extra=auth_extra(tmp_path) + mail_extra(smtp_sink,
                                                             more),
                     app_extra=ROUTES, redis=redis_server, protect=None)
        gw.redis = redis.Redis(host=redis_server[0], port=redis_server[1])
        gw.email = "r-%s@example.com" % uuid.uuid4().hex[:10]
        add_user(gw, gw.email)
        gw.sink = smtp_sink
        return gw
    return start


def ask(gw, path, email, host=None):
    s = requests.Session()
    r = page(s, gw, path)
    assert r.status_code == 200, r.text
    h = {"Origin": gw.url, "Accept": "text/html"}
    if host:        # an attacker controls both
        h["Host"] = host
        h["Origin"] = "https://" + host
        # requests picks cookies by the Host header: send them by hand
        h["Cookie"] = "; ".join("%s=%s" % (c.name, c.value)
                                for c in s.cookies)
    r = s.post(gw.url + path, data={"email": email,
                                    "csrf": csrf_of(r.text)},
               verify=False, timeout=30, allow_redirects=False, headers=h)
    r.browser = s           # where the link was asked for
    return r


def link_in(msg, path):
    body = msg.get_body(("plain",)).get_content()
    m = re.search(r"(https://[^\s]+%s\?token=([A-Za-z0-9_-]{43}))" % path,
                  body)
    assert m, body
    html = msg.get_body(("html",)).get_content()
    assert m.group(2) in html
    return m.group(1), m.group(2)


def test_magic_link_signs_in_once(recgw):
    gw = recgw()
    r = ask(gw, "/.postern/magic", gw.email.upper())
    assert r.status_code == 200 and "If an account exists" in r.text
    s = r.browser
    msg = gw.sink.wait_for(gw.email)
    url, token = link_in(msg, "/.postern/magic")
    assert url.startswith("https://127.0.0.1:%d/" % gw.https_port)
    # only the hash is stored
    keys = [k.decode() for k in gw.redis.scan_iter("postern:otk:magic:*")
            if gw.redis.get(k) and gw.redis.ttl(k) > 0]
    assert keys and not any(token in k for k in keys)
    keys = [k for k in keys if k.endswith(__import__("hashlib").sha256(
        token.encode()).hexdigest())]
    assert len(keys) == 1
    assert 0 < gw.redis.ttl(keys[0]) <= 60
    # a scanner's GET consumes nothing (nor the browser's)
    for b in (requests, s, s):
        r = page(b, gw, "/.postern/magic?token=" + token)
        assert r.status_code == (200 if b is s else 403)
        assert "Continue to sign in" in r.text or b is not s
    assert gw.redis.exists(keys[0])
    r = page(s, gw, "/.postern/magic?token=" + token)
    r = post(s, gw, "/.postern/magic", {"token": token},
             csrf=csrf_of(r.text))
    assert r.status_code == 303 and r.headers["Location"] == "/"
    assert "token" not in r.headers["Location"]
    r = api(s, gw, "/x")
    assert r.status_code == 200
    # signed in by mailbox, no password: never "pwd" (RFC 8176 has no
    # value for a mailed link; the README documents "email")
    assert assertion_claims(gw, headers_of(r)["x-postern-assertion"])[
        "amr"] == ["email"]
    # once only
    s2 = requests.Session()
    r = page(s2, gw, "/.postern/magic?token=" + token)
    assert r.status_code == 400 and "expired" in r.text
    r = post(s2, gw, "/.postern/magic", {"token": token})
    assert r.status_code == 400
    assert token not in gw.log()


def test_login_page_offers_the_links(recgw):
    gw = recgw()
    r = page(requests, gw, "/.postern/login")
    assert 'href="/.postern/reset"' in r.text
    assert 'href="/.postern/magic"' in r.text


def test_requests_answer_the_same_for_unknown_addresses(recgw):
    gw = recgw()
    known = ask(gw, "/.postern/reset", gw.email)
    unknown = ask(gw, "/.postern/reset", "nobody-%s@example.com"
                  % uuid.uuid4().hex[:8])
    assert known.status_code == unknown.status_code == 200
    strip = lambda t: re.sub(r'value="[^"]*"|nonce-[^\']+\'|nonce="[^"]*"',
                             "", t)
    assert strip(known.text) == strip(unknown.text)
    gw.sink.wait_for(gw.email)
    time.sleep(0.5)
    assert not any("nobody-" in to for m in gw.sink.messages
                   for to in m.envelope_to)


def test_forged_host_gets_no_link(recgw):
    gw = recgw()
    r = ask(gw, "/.postern/reset", gw.email, host="evil.example")
    assert r.status_code == 400
    time.sleep(0.5)
    assert gw.sink.count_to(gw.email) == 0


@pytest.mark.parametrize("host", ["127.0.0.1:6666", "localhost:1",
                                  "LOCALHOST:8443", "127.0.0.1:443"])
def test_link_port_is_the_configured_one(recgw, host):
    """A Host header's port never reaches the link: it gets the port of the
    gateway's TLS listener (an attacker's port on the same name is not
    the gateway)."""
    gw = recgw()
    r = ask(gw, "/.postern/magic", gw.email, host=host)
    assert r.status_code == 200, r.text
    url, _ = link_in(gw.sink.wait_for(gw.email), "/.postern/magic")
    name = host.split(":")[0].lower()
    assert url.startswith("https://%s:%d/.postern/magic?token="
                          % (name, gw.https_port)), url


@pytest.fixture
def orggw(recgw, gateway, redis_server, tmp_path, smtp_sink):
    """recgw with apps on "{org}.tenants.test" and "*.wild.test"."""
    def start():
        gw = recgw()
        gw.stop()
        gw2 = gateway(extra=auth_extra(tmp_path) +
                      mail_extra(smtp_sink, "  magic_links: true\n"),
                      app_extra=ROUTES, redis=redis_server, protect=None,
                      hosts=("localhost", "127.0.0.1",
                             '"{org}.tenants.test"', '"*.wild.test"'))
        gw2.redis, gw2.email, gw2.sink = gw.redis, gw.email, gw.sink
        return gw2
    return start


def test_link_host_label_must_be_an_org(orggw):
    gw = orggw()
    org = "o%s" % uuid.uuid4().hex[:8]
    run_postern("org", "add", "-c", str(gw.config), org)
    for host in ("nosuchorg.tenants.test", "evil.tenants.test:8443",
                 "%s-x.tenants.test" % org):
        r = ask(gw, "/.postern/reset", gw.email, host=host)
        assert r.status_code == 200 and "If an account exists" in r.text
    for host in ("x.wild.test", "%s.wild.test" % org):
        r = ask(gw, "/.postern/reset", gw.email, host=host)
        assert r.status_code == 400
    time.sleep(0.7)
    assert gw.sink.count_to(gw.email) == 0
    assert "link_host_org" in gw.log()
    # an existing org's host: the link is on it, with the gateway's port
    r = ask(gw, "/.postern/reset", gw.email, host="%s.tenants.test:1" % org)
    url, _ = link_in(gw.sink.wait_for(gw.email), "/.postern/reset")
    assert url.startswith("https://%s.tenants.test:%d/.postern/reset?"
                          % (org, gw.https_port)), url
    assert gw.redis.keys("postern:otk:reset:*")


def test_reset_sets_password_and_revokes_sessions(recgw):
    gw = recgw()
    s, r = sign_in(gw)
    assert api(s, gw, "/x").status_code == 200
    ask(gw, "/.postern/reset", gw.email)
    _, token = link_in(gw.sink.wait_for(gw.email), "/.postern/reset")
    b = requests.Session()
    r = page(b, gw, "/.postern/reset?token=" + token)
    assert r.status_code == 200 and 'autocomplete="new-password"' in r.text
    tok = csrf_of(r.text)
    r = post(b, gw, "/.postern/reset", {"token": token,
                                        "new_password": "password1234",
                                        "confirm": "password1234"}, csrf=tok)
    assert r.status_code == 400          # the rules; the link still works
    new = "a brand new passphrase 77"
    r = post(b, gw, "/.postern/reset", {"token": token, "new_password": new,
                                        "confirm": new}, csrf=tok)
    assert r.status_code == 200 and "was changed" in r.text
    assert api(s, gw, "/x").status_code == 401       # every session gone
    assert sign_in(gw, password=PASSWORD)[1].status_code == 401
    assert sign_in(gw, password=new)[1].status_code == 303
    r = post(b, gw, "/.postern/reset", {"token": token, "new_password": new,
                                        "confirm": new}, csrf=tok)
    assert r.status_code == 400                      # single use
    assert '"action":"password_reset"' in gw.log()
    assert new not in gw.log() and token not in gw.log()
    notice = gw.sink.wait_for(gw.email)          # the user hears of it
    assert notice["Subject"] == "Your Postern account was changed"
    assert "Your password was reset with an emailed link" in \
        notice.get_body(("plain",)).get_content()


def test_expired_link(recgw):
    gw = recgw()
    ask(gw, "/.postern/reset", gw.email)
    _, token = link_in(gw.sink.wait_for(gw.email), "/.postern/reset")
    for k in gw.redis.scan_iter("postern:otk:reset:*"):
        gw.redis.pexpire(k, 1)
    time.sleep(0.1)
    r = page(requests, gw, "/.postern/reset?token=" + token)
    assert r.status_code == 400 and "expired" in r.text


def test_magic_links_off_and_per_org(recgw, redis_server):
    gw = recgw(more="  magic_link_orgs: [mlorg]\n")
    r = ask(gw, "/.postern/magic", gw.email)
    assert r.status_code == 200
    time.sleep(0.7)
    assert gw.sink.count_to(gw.email) == 0   # not in the org
    run_postern("org", "add", "-c", str(gw.config), "mlorg")
    run_postern("org", "member", "-c", str(gw.config), "mlorg", gw.email,
                "--role", "member")
    ask(gw, "/.postern/magic", gw.email)
    link_in(gw.sink.wait_for(gw.email), "/.postern/magic")


def test_magic_link_used_on_a_second_instance_is_gone(recgw, gateway,
                                                     redis_server,
                                                     tmp_path):
    gw = recgw()
    s = ask(gw, "/.postern/magic", gw.email).browser
    _, token = link_in(gw.sink.wait_for(gw.email), "/.postern/magic")
    r = page(s, gw, "/.postern/magic?token=" + token)
    assert post(s, gw, "/.postern/magic", {"token": token},
                csrf=csrf_of(r.text)).status_code == 303
    # a second gateway on the same Redis refuses it too
    gw2 = gateway(extra=auth_extra(tmp_path) + mail_extra(gw.sink,
                                                          "  magic_links: "
                                                          "true\n"),
                  app_extra=ROUTES, redis=redis_server, protect=None)
    r = page(s, gw2, "/.postern/magic?token=" + token)
    assert r.status_code == 400


def test_magic_link_of_an_enrolled_user_goes_to_2fa(recgw):
    gw = recgw()
    wait_fresh_step()
    s, _ = sign_in(gw)
    key, _ = enrol(gw, s)
    assert "turned on" in notice_of(gw)[0]      # the mail about it first
    b = ask(gw, "/.postern/magic", gw.email).browser
    _, token = link_in(gw.sink.wait_for(gw.email), "/.postern/magic")
    r = page(b, gw, "/.postern/magic?token=" + token + "&rd=/app")
    r = post(b, gw, "/.postern/magic", {"token": token, "rd": "/app"},
             csrf=csrf_of(r.text))
    assert r.status_code == 303
    assert r.headers["Location"] == "/.postern/2fa?rd=/app"
    assert api(b, gw, "/app").status_code == 401
    r = page(b, gw, "/.postern/2fa")
    r = post(b, gw, "/.postern/2fa", {"code": totp(key, 30), "rd": "/app"},
             csrf=csrf_of(r.text))
    assert r.status_code == 303
    r = api(b, gw, "/app")
    assert r.status_code == 200
    assert assertion_claims(gw, headers_of(r)["x-postern-assertion"])[
        "amr"] == ["email", "otp", "mfa"]


def notice_of(gw):
    """The next account_changed mail to gw.email: (plain text, raw)."""
    msg = gw.sink.wait_for(gw.email)
    assert msg["Subject"] == "Your Postern account was changed"
    assert msg["To"] == gw.email
    return msg.get_body(("plain",)).get_content(), msg.raw.decode()


def change_password(gw, s, new):
    """On the account page of session <s>; its CSRF token."""
    tok = csrf_of(page(s, gw, "/.postern/account").text)
    r = post(s, gw, "/.postern/account/password",
             {"password": PASSWORD, "new_password": new, "confirm": new},
             csrf=tok)
    assert r.status_code == 200, r.text
    return tok


def test_changes_to_sign_in_are_mailed_to_the_user(recgw):
    """Every change to how the user signs in is mailed to them: what, when,
    from which address, and where to reset the password if it was not
    them (ASVS 6.3.7).  Never a secret in it."""
    gw = recgw()
    wait_fresh_step()
    s, _ = sign_in(gw)
    new = "another long passphrase 42"
    tok = change_password(gw, s, new)
    text, raw = notice_of(gw)
    assert "Your password was changed." in text
    assert "From:    127.0.0.1" in text
    assert re.search(r"When:    \d{4}-\d\d-\d\d \d\d:\d\d UTC", text)
    assert "%s/.postern/reset" % gw.url in text     # the request's host
    assert new not in raw and PASSWORD not in raw
    key, codes = enrol(gw, s)
    text, raw = notice_of(gw)
    assert "Two-step verification was turned on" in text
    assert key not in raw.replace(" ", "") and codes[0] not in raw
    r = post(s, gw, "/.postern/account/backup-codes", {}, csrf=tok)
    assert r.status_code == 200
    assert "New backup codes were made" in notice_of(gw)[0]
    time.sleep(0 if time.time() % 30 < 27 else 4)
    r = post(s, gw, "/.postern/account/2fa/disable",
             {"password": new, "code": totp(key, 30)}, csrf=tok)
    assert r.status_code == 303
    assert "Two-step verification was turned off" in notice_of(gw)[0]
    assert gw.sink.count_to(gw.email) == 4


def test_change_notices_can_be_turned_off(recgw):
    gw = recgw(more="  notify_changes: false\n")
    s, _ = sign_in(gw)
    change_password(gw, s, "another long passphrase 43")
    time.sleep(1.5)
    assert gw.sink.count_to(gw.email) == 0


def test_new_passwords_refuse_site_and_org_names(recgw):
    """A reset and a change on the account page refuse the product name,
    the apps' host names and the user's orgs, in any case or spelling."""
    gw = recgw()
    run_postern("org", "add", "-c", str(gw.config), "bluefin")
    run_postern("org", "member", "-c", str(gw.config), "bluefin", gw.email,
                "--role", "member")
    ask(gw, "/.postern/reset", gw.email)
    _, token = link_in(gw.sink.wait_for(gw.email), "/.postern/reset")
    b = requests.Session()
    tok = csrf_of(page(b, gw, "/.postern/reset?token=" + token).text)
    for pw, why in (("my LocalHost passphrase", "name of this site"),
                    ("Blue-F1n swims far away", "name of your organisation"),
                    ("p0stern is my gateway", "product name")):
        r = post(b, gw, "/.postern/reset", {"token": token,
                                            "new_password": pw,
                                            "confirm": pw}, csrf=tok)
        assert r.status_code == 400 and why in r.text, (pw, r.text)
    s, _ = sign_in(gw)
    tok = csrf_of(page(s, gw, "/.postern/account").text)
    for pw in ("bluefin bluefin blue", "LOCALHOST-rules-all"):
        r = post(s, gw, "/.postern/account/password",
                 {"password": PASSWORD, "new_password": pw, "confirm": pw},
                 csrf=tok)
        assert r.status_code == 400, (pw, r.text)
    new = "a brand new passphrase 78"     # the link still works
    r = post(b, gw, "/.postern/reset", {"token": token, "new_password": new,
                                        "confirm": new},
             csrf=csrf_of(page(b, gw, "/.postern/reset?token=" +
                               token).text))
    assert r.status_code == 200 and "was changed" in r.text


def use_magic(b, gw, token):
    """Open the link in browser <b> and press the button: the answer."""
    r = page(b, gw, "/.postern/magic?token=" + token)
    if r.status_code != 200:
        return r
    return post(b, gw, "/.postern/magic", {"token": token},
                csrf=csrf_of(r.text))


def use_reset(b, gw, token, new="a brand new passphrase 91"):
    r = page(b, gw, "/.postern/reset?token=" + token)
    if r.status_code != 200:
        return r
    return post(b, gw, "/.postern/reset", {"token": token,
                                           "new_password": new,
                                           "confirm": new},
                csrf=csrf_of(r.text))


@pytest.mark.parametrize("path", ["/.postern/magic", "/.postern/reset"])
def test_a_newer_link_invalidates_the_older(recgw, path):
    gw = recgw()
    other = "o-%s@example.com" % uuid.uuid4().hex[:8]
    add_user(gw, other)
    b1 = ask(gw, path, gw.email).browser
    _, t1 = link_in(gw.sink.wait_for(gw.email), path)
    ask(gw, path, other)                        # another user's link
    _, t_other = link_in(gw.sink.wait_for(other), path)
    kind = path.rsplit("/", 1)[1]
    ask(gw, "/.postern/reset" if kind == "magic" else "/.postern/magic",
        gw.email)                               # the other kind's link
    _, t_kind = link_in(gw.sink.wait_for(gw.email),
                        "/.postern/reset" if kind == "magic" else
                        "/.postern/magic")
    b2 = ask(gw, path, gw.email).browser        # the newest
    _, t2 = link_in(gw.sink.wait_for(gw.email), path)
    assert t1 != t2
    use = use_magic if kind == "magic" else use_reset
    # the older link is dead, on GET and on POST, in either browser
    for b in (b1, b2):
        r = page(b, gw, path + "?token=" + t1)
        assert r.status_code == 400 and "expired" in r.text
        r = post(b, gw, path, {"token": t1, "new_password": "x" * 20,
                               "confirm": "x" * 20})
        assert r.status_code == 400
    h1 = __import__("hashlib").sha256(t1.encode()).hexdigest()
    assert not gw.redis.exists("postern:otk:%s:%s" % (kind, h1))
    # another user's link and the other kind's are untouched
    other_kind = "postern:otk:%s:%s" % (
        "reset" if kind == "magic" else "magic",
        __import__("hashlib").sha256(t_kind.encode()).hexdigest())
    assert gw.redis.exists(other_kind)
    assert use(b2, gw, t2).status_code in (200, 303)   # the newest works
    assert gw.redis.exists("postern:otk:%s:%s" % (kind, __import__(
        "hashlib").sha256(t_other.encode()).hexdigest()))
    # signing in leaves the reset link; a new password ends the magic link
    # (test_redteam.py)
    assert gw.redis.exists(other_kind) == (kind == "magic")


def test_magic_link_works_only_in_the_browser_that_asked(recgw):
    gw = recgw()
    r = ask(gw, "/.postern/magic", gw.email)
    mine = r.browser
    sc = [v for k, v in r.raw.headers.items() if k.lower() == "set-cookie"
          and v.startswith("__Host-postern-magic=")]
    assert len(sc) == 1, r.headers
    for attr in ("Path=/", "Secure", "HttpOnly", "SameSite=Lax",
                 "Max-Age=60"):
        assert attr in sc[0], sc[0]
    value = sc[0].split(";")[0].split("=", 1)[1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value)
    # an unknown address gets one too: the answers stay alike
    r2 = ask(gw, "/.postern/magic", "nobody-%s@example.com"
             % uuid.uuid4().hex[:6])
    assert "__Host-postern-magic=" in r2.headers.get("Set-Cookie", "")
    url, token = link_in(gw.sink.wait_for(gw.email), "/.postern/magic")
    key = "postern:otk:magic:" + __import__("hashlib").sha256(
        token.encode()).hexdigest()
    assert value not in gw.redis.get(key).decode()   # only its hash
    assert token not in gw.log() and value not in gw.log()
    # elsewhere: no cookie, someone else's, a forged one, two of them
    other = requests.Session()
    ask(gw, "/.postern/magic", "x-%s@example.com" % uuid.uuid4().hex[:6],
        ).browser.cookies       # a cookie of its own, for another address
    theirs = ask(gw, "/.postern/magic", "y-%s@example.com"
                 % uuid.uuid4().hex[:6]).browser
    forged = requests.Session()
    forged.cookies.set("__Host-postern-magic", "A" * 43)
    dup = requests.Session()
    for b in (other, theirs, forged):
        r = page(b, gw, "/.postern/magic?token=" + token)
        assert r.status_code == 403, r.text
        assert "Open the link in the browser where you asked for it" in \
            r.text
        assert 'href="/.postern/magic"' in r.text
        r = post(b, gw, "/.postern/magic", {"token": token})
        assert r.status_code == 403 and "browser where you asked" in r.text
        assert "Set-Cookie" not in r.headers or "__Host-postern=" not in \
            r.headers["Set-Cookie"]
    r = dup.get(gw.url + "/.postern/magic?token=" + token, verify=False,
                allow_redirects=False, headers={
                    "Accept": "text/html", "Cookie":
                    "__Host-postern-magic=%s; __Host-postern-magic=%s"
                    % (value, value)})
    assert r.status_code == 403          # ambiguous: trusted neither
    assert gw.redis.exists(key)          # none of that consumed it
    assert '"reason":"magic_other_browser"' in gw.log()
    r = use_magic(mine, gw, token)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    assert not gw.redis.exists(key)
    # the gateway's cookie never reaches the upstream
    r = mine.get(gw.url + "/x", verify=False, timeout=10,
                 headers={"Accept": "application/json"})
    assert r.status_code == 200
    assert "postern-magic" not in r.text


def test_magic_link_binding_can_be_turned_off(recgw):
    gw = recgw(more="  magic_links: true\n  magic_link_same_browser: false\n")
    r = ask(gw, "/.postern/magic", gw.email)
    assert "postern-magic" not in r.headers.get("Set-Cookie", "")
    _, token = link_in(gw.sink.wait_for(gw.email), "/.postern/magic")
    r = use_magic(requests.Session(), gw, token)
    assert r.status_code == 303
