"""The new-device sign-in notice (account.notify_new_device,
gateway/identity/signin/newdevice.c): a mail when an account signs in
from a browser it has not used before, with a single-use "This wasn't me"
link that ends that browser's sessions at once (on every instance) and
leads to a password reset.

Real postern (two instances on one Redis), real redis-server, the real
SMTP sink.  The attacker's tries: a mail client fetching the link, the
link used twice, after it expired, a made-up token, another user's
sessions.
"""
import hashlib
import json
import re
import time
import uuid

import pytest
import redis
import requests

from test_auth import PASSWORD, add_user, auth_extra, make_key
from test_mfa import api, csrf_of, page, post

ROUTES = """\
  routes:
    - path: /**
      authenticated: true
"""
FIREFOX = ("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 "
           "Firefox/121.0")
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
          "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36")
QUIET = 1.5         # seconds a mail that is not sent would have taken


@pytest.fixture
def ndgw(gateway, redis_server, tmp_path, smtp_sink):
    def start(more="", user=True):
        make_key(tmp_path)
        extra = (auth_extra(tmp_path) + smtp_sink.mail_config(retries=1) +
                 "account:\n  magic_links: true\n" + more)
        gw = gateway(extra=extra, app_extra=ROUTES, redis=redis_server,
                     protect=None)
        gw.extra = extra
        gw.redis = redis.Redis(host=redis_server[0], port=redis_server[1])
        gw.email = "n-%s@example.com" % uuid.uuid4().hex[:10]
        gw.sink = smtp_sink
        if user:
            add_user(gw, gw.email)
        return gw
    return start


def browser(gw, ua, email=None, s=None):
    """Sign in with the password from requests session <s> (a new one by
    default) sending User-Agent <ua>."""
    s = s or requests.Session()
    s.headers["User-Agent"] = ua
    r = post(s, gw, "/.postern/login", {"email": email or gw.email,
                                        "password": PASSWORD, "rd": "/"})
    assert r.status_code == 303, r.text[:300]
    return s


def no_mail(gw, email=None):
    time.sleep(QUIET)
    assert gw.sink.count_to(email or gw.email) == 0


def notice(gw, email=None):
    """The notice's text part and its link's token."""
    msg = gw.sink.wait_for(email or gw.email)
    assert "New sign-in" in msg["Subject"]
    text = msg.get_body(("plain",)).get_content()
    m = re.search(r"https://127\.0\.0\.1:%d/\.postern/not-me\?token="
                  r"([A-Za-z0-9_-]{43})\s" % gw.https_port, text)
    assert m, text
    assert m.group(1) in msg.get_body(("html",)).get_content()
    return text, m.group(1)


def audit(gw, action, email=None):
    """The audit events <action> of the user <email> (gw.email)."""
    uid = gw.redis.get("postern:email:" + (email or gw.email)).decode()
    return [e for e in (json.loads(x) for x in gw.redis.lrange(
        "postern:audit:events", 0, -1))
        if e["action"] == action and e["actor"] == uid]


def deny(gw, token, s=None):
    """Follow the link like a person: GET the page, press the button."""
    s = s or requests.Session()
    r = page(s, gw, "/.postern/not-me?token=" + token)
    if r.status_code != 200:
        return r
    return post(s, gw, "/.postern/not-me", {"token": token},
                csrf=csrf_of(r.text))


def test_first_browser_no_mail_second_mails_same_again_not(ndgw):
    gw = ndgw()
    ff = browser(gw, FIREFOX)
    no_mail(gw)             # the account's first browser: nothing to tell
    uid = gw.redis.get("postern:email:" + gw.email).decode()
    devices = gw.redis.zrange("postern:user:%s:devices" % uid, 0, -1)
    assert len(devices) == 1
    assert 0 < gw.redis.ttl("postern:user:%s:devices" % uid) <= 400 * 86400
    # the cookie's nonce is never stored, only its hash
    nonce = ff.cookies["__Host-postern-device"].split(".")[0]
    assert devices[0].decode() == hashlib.sha256(nonce.encode()).hexdigest()
    # the same browser again, and again: nothing
    browser(gw, FIREFOX, s=ff)
    browser(gw, FIREFOX, s=ff)
    no_mail(gw)
    # another browser: a mail saying when, where from, which browser
    browser(gw, CHROME)
    text, token = notice(gw)
    assert "127.0.0.1" in text and "Chrome on Windows" in text
    assert re.search(r"When: +\d{4}-\d\d-\d\d \d\d:\d\d UTC", text)
    assert gw.email in text
    assert len(gw.redis.zrange("postern:user:%s:devices" % uid, 0, -1)) == 2
    # only the token's hash is kept, for 7 days
    key = "postern:notme:" + hashlib.sha256(token.encode()).hexdigest()
    assert 6 * 86400 < gw.redis.ttl(key) <= 7 * 86400
    assert not any(token in k.decode() for k in gw.redis.scan_iter(
        "postern:notme:*"))
    assert token not in gw.log()
    assert [e["reason"] for e in audit(gw, "new_device")] == \
        ["Chrome on Windows"]
    # that browser again: known now
    assert gw.sink.count_to(gw.email) == 1


def test_not_me_ends_that_browser_everywhere_once(ndgw, gateway,
                                                  redis_server):
    gw = ndgw()
    ff = browser(gw, FIREFOX)
    other = "o-" + gw.email
    add_user(gw, other)
    theirs = browser(gw, CHROME, email=other)
    intruder = browser(gw, CHROME)
    _, token = notice(gw)
    # a second instance on the same Redis, its cache warm with the session
    gw2 = gateway(extra=gw.extra, app_extra=ROUTES, redis=redis_server,
                  protect=None)
    for _ in range(3):
        assert api(intruder, gw2, "/x").status_code == 200
    # a mail client or scanner fetching the link changes nothing
    for _ in range(2):
        r = page(requests, gw, "/.postern/not-me?token=" + token)
        assert r.status_code == 200 and "End that session" in r.text
    assert api(intruder, gw2, "/x").status_code == 200
    # the button: that browser's session ends at once, everywhere
    r = deny(gw, token)
    assert r.status_code == 303
    assert r.headers["Location"] == "/.postern/reset?email=" + gw.email
    assert api(intruder, gw2, "/x").status_code == 401
    assert api(intruder, gw, "/x").status_code == 401
    # the owner's browser and another user's stay
    assert api(ff, gw2, "/x").status_code == 200
    assert api(theirs, gw2, "/x").status_code == 200
    ev = audit(gw, "new_device_denied")
    assert len(ev) == 1 and ev[0]["outcome"] == "success"
    assert ev[0]["reason"] == "session_ended"
    # the reset page it leads to has the email filled in
    r = page(requests.Session(), gw, r.headers["Location"])
    assert r.status_code == 200
    assert 'value="%s"' % gw.email in r.text
    # once only, on either instance
    for g in (gw, gw2):
        r = deny(g, token)
        assert r.status_code == 400 and "already used" in r.text
    # that browser is new again: signing in from it mails again
    browser(gw, CHROME, s=intruder)
    notice(gw)


def test_refused_tokens(ndgw):
    gw = ndgw()
    browser(gw, FIREFOX)
    intruder = browser(gw, CHROME)
    _, token = notice(gw)
    # made up, malformed, or sent without the page's form token
    for bad in ("A" * 43, token[:-1], token + "A", "<x>"):
        r = deny(gw, bad)
        assert r.status_code == 400, bad
        assert bad not in r.text or bad == "A" * 43
    r = requests.post(gw.url + "/.postern/not-me", data={"token": token},
                      verify=False, allow_redirects=False,
                      headers={"Origin": gw.url})
    assert r.status_code == 403
    assert api(intruder, gw, "/x").status_code == 200
    # expired
    key = "postern:notme:" + hashlib.sha256(token.encode()).hexdigest()
    gw.redis.pexpire(key, 1)
    time.sleep(0.05)
    r = deny(gw, token)
    assert r.status_code == 400
    assert api(intruder, gw, "/x").status_code == 200
    assert audit(gw, "new_device_denied") == []


def test_other_users_token_ends_only_their_sessions(ndgw):
    gw = ndgw()
    other = "o-" + gw.email
    add_user(gw, other)
    browser(gw, FIREFOX)
    browser(gw, FIREFOX, email=other)
    mine = browser(gw, CHROME)
    _, my_token = notice(gw)
    theirs = browser(gw, CHROME, email=other)
    _, their_token = notice(gw, other)
    # the other user's link, followed from my session: theirs ends, not
    # mine (the link names its user; the follower's session is not asked)
    r = deny(gw, their_token, s=mine)
    assert r.status_code == 303 and "o-" in r.headers["Location"]
    assert api(theirs, gw, "/x").status_code == 401
    assert api(mine, gw, "/x").status_code == 200
    assert deny(gw, my_token).status_code == 303
    assert api(mine, gw, "/x").status_code == 401


def test_magic_link_from_a_new_browser_mails_too(ndgw):
    gw = ndgw()
    browser(gw, FIREFOX)
    s = requests.Session()
    s.headers["User-Agent"] = CHROME
    r = page(s, gw, "/.postern/magic")
    r = post(s, gw, "/.postern/magic", {"email": gw.email},
             csrf=csrf_of(r.text))
    assert r.status_code == 200
    body = gw.sink.wait_for(gw.email).get_body(("plain",)).get_content()
    token = re.search(r"magic\?token=([A-Za-z0-9_-]{43})", body).group(1)
    r = page(s, gw, "/.postern/magic?token=" + token)
    r = post(s, gw, "/.postern/magic", {"token": token},
             csrf=csrf_of(r.text))
    assert r.status_code == 303
    text, _ = notice(gw)
    assert "Chrome on Windows" in text


def test_notice_can_be_turned_off(ndgw):
    gw = ndgw("  notify_new_device: false\n")
    browser(gw, FIREFOX)
    browser(gw, CHROME)
    browser(gw, "curl/8.5.0")
    no_mail(gw)
    assert audit(gw, "new_device") == []
