"""Session ids across changes of privilege, account changes, host binding
and sign-out (gateway/identity/session/session.c, account*.c, authlogin.c).

A real postern, a real redis-server, users and organisations made with the
real CLI, TOTP codes from Debian's `oathtool`.  The attacker holds a copy
of a session cookie (planted in the victim's browser, or read off it) in a
cookie jar of their own; the victim's browser is another jar.  Whatever
the victim then does to raise the session (second factor, backup code,
enrolment, step-up, password change, a new role), the attacker's copy must
not come with it.
"""
import copy
import hashlib
import json
import re
import time
import uuid

import pytest
import redis
import requests

from conftest import run_postern
from test_auth import PASSWORD, add_user, auth_extra, headers_of, make_key
from test_mfa import (ROUTES, api, csrf_of, enrol, page, post, sign_in,
                      totp, wait_fresh_step)
from test_routes import member, new_org

COOKIE = "__Host-postern"

OTHER_APP = """\
app:
  name: other
  hosts: [app2.test]
  upstream: http://%s:%d
  protect: true
"""


@pytest.fixture
def fixgw(gateway, redis_server, tmp_path, upstream):
    def start(extra="", hosts=("localhost", "127.0.0.1"), more_apps=()):
        make_key(tmp_path)
        gw = gateway(extra=auth_extra(tmp_path) + extra, app_extra=ROUTES,
                     redis=redis_server, protect=None, hosts=hosts,
                     more_apps=[(n, t % upstream) for n, t in more_apps])
        gw.redis = redis.Redis(host=redis_server[0], port=redis_server[1])
        gw.email = "f-%s@example.com" % uuid.uuid4().hex[:10]
        add_user(gw, gw.email)
        return gw
    return start


def sid(s):
    return s.cookies.get(COOKIE)


def key_of(value):
    return "postern:session:" + hashlib.sha256(value.encode()).hexdigest()


def planted(src):
    """A second browser holding a copy of <src>'s session cookie."""
    other = requests.Session()
    for c in src.cookies:
        if c.name == COOKIE:
            other.cookies.set_cookie(copy.copy(c))
    return other


def user_index(gw):
    uid = gw.redis.get("postern:email:" + gw.email)
    assert uid is not None
    return {h.decode() for h in
            gw.redis.smembers(b"postern:user:" + uid + b":sessions")}


def assert_rotated(gw, r, old, victim):
    """<r> moved the session from cookie id <old> to a new one that
    <victim> now holds; the old id is gone from Redis and the index."""
    assert COOKIE + "=" in r.headers.get("Set-Cookie", ""), r.headers
    new = sid(victim)
    assert new and new != old and len(new) == 43
    assert not gw.redis.exists(key_of(old))
    assert gw.redis.exists(key_of(new))
    index = user_index(gw)
    assert hashlib.sha256(old.encode()).hexdigest() not in index
    assert hashlib.sha256(new.encode()).hexdigest() in index


def signed_out(s, gw, path="/x"):
    r = api(s, gw, path)
    return r.status_code == 401 and \
        "insufficient" not in r.headers.get("WWW-Authenticate", "")


def enrolled(gw):
    """A user with TOTP; returns (key, backup codes).  The code of this
    step is used up by the enrolment."""
    wait_fresh_step()
    s, _ = sign_in(gw)
    return enrol(gw, s)


# ---- item: fixation across the second factor ----

def test_enrolment_rotates_the_session(fixgw):
    gw = fixgw()
    wait_fresh_step()
    victim, _ = sign_in(gw)
    before = sid(victim)
    attacker = planted(victim)
    assert api(attacker, gw, "/x").status_code == 200
    enrol(gw, victim)
    # the second factor is on: only the enrolling browser is signed in
    assert signed_out(attacker, gw)
    assert api(victim, gw, "/x").status_code == 200
    assert sid(victim) != before and not gw.redis.exists(key_of(before))


@pytest.mark.parametrize("how", ["totp", "backup", "backup_upper"])
def test_second_factor_in_the_victims_browser_leaves_the_copy_out(fixgw,
                                                                  how):
    gw = fixgw()
    key, codes = enrolled(gw)
    attacker, r = sign_in(gw)           # password only: half signed in
    assert r.headers["Location"].startswith("/.postern/2fa")
    half = sid(attacker)
    r = api(attacker, gw, "/x")
    assert r.status_code == 401 and "insufficient" in \
        r.headers["WWW-Authenticate"]
    victim = planted(attacker)          # the victim's browser has it
    r = page(victim, gw, "/.postern/2fa")
    assert r.status_code == 200
    form = {"totp": {"code": totp(key, 30)}, "backup": {"backup": codes[1]},
            "backup_upper": {"backup": codes[2].upper()}}[how]
    r = post(victim, gw, "/.postern/2fa", dict(form, rd="/x"),
             csrf=csrf_of(r.text))
    assert r.status_code == 303, r.text
    # the attacker's copy is not signed in, now or after another try
    assert signed_out(attacker, gw)
    assert api(victim, gw, "/x").status_code == 200
    assert_rotated(gw, r, half, victim)
    assert signed_out(attacker, gw, "/secure/mfa")
    assert page(attacker, gw, "/.postern/account").status_code == 302
    # nor does the old id come back with a cookie of the attacker's
    for path in ("/x", "/.postern/account"):
        r = requests.get(gw.url + path, verify=False, allow_redirects=False,
                         cookies={COOKIE: half},
                         headers={"Accept": "application/json"})
        assert r.status_code in (302, 401)


def test_reauth_in_the_victims_browser_leaves_the_copy_out(fixgw):
    gw = fixgw()
    victim, _ = sign_in(gw)
    old = sid(victim)
    attacker = planted(victim)
    assert api(attacker, gw, "/x").status_code == 200
    for k in gw.redis.scan_iter("postern:session:*"):
        gw.redis.hset(k, "auth_time", int(time.time()) - 600)
    assert api(victim, gw, "/secure/fresh").status_code == 401
    r = page(victim, gw, "/.postern/reauth")
    r = post(victim, gw, "/.postern/reauth",
             {"password": PASSWORD, "rd": "/secure/fresh"},
             csrf=csrf_of(r.text))
    assert r.status_code == 303 and r.headers["Location"] == "/secure/fresh"
    assert signed_out(attacker, gw)
    assert signed_out(attacker, gw, "/secure/fresh")
    assert api(victim, gw, "/secure/fresh").status_code == 200
    assert_rotated(gw, r, old, victim)
    # a wrong password rotates nothing
    before = sid(victim)
    r = page(victim, gw, "/.postern/reauth")
    r = post(victim, gw, "/.postern/reauth", {"password": "not it at all 1"},
             csrf=csrf_of(r.text))
    assert r.status_code == 401 and sid(victim) == before
    assert api(victim, gw, "/x").status_code == 200


def test_reauth_with_a_code_rotates_too(fixgw):
    gw = fixgw()
    key, _ = enrolled(gw)
    victim, _ = sign_in(gw)
    tok = csrf_of(page(victim, gw, "/.postern/2fa").text)
    assert post(victim, gw, "/.postern/2fa", {"code": totp(key, 30)},
                csrf=tok).status_code == 303
    full = sid(victim)
    attacker = planted(victim)
    assert api(attacker, gw, "/secure/mfa").status_code == 200
    r = page(victim, gw, "/.postern/reauth")
    time.sleep(31 - time.time() % 30)   # a code not used yet
    r = post(victim, gw, "/.postern/reauth",
             {"password": PASSWORD, "code": totp(key, 30), "rd": "/x"},
             csrf=csrf_of(r.text))
    assert r.status_code == 303, r.text
    assert signed_out(attacker, gw, "/secure/mfa")
    assert api(victim, gw, "/secure/mfa").status_code == 200
    assert_rotated(gw, r, full, victim)


def test_password_change_rotates_the_current_session(fixgw):
    gw = fixgw()
    victim, _ = sign_in(gw)
    old = sid(victim)
    attacker = planted(victim)
    r = page(victim, gw, "/.postern/account")
    new = "a whole new passphrase 77"
    r = post(victim, gw, "/.postern/account/password",
             {"password": PASSWORD, "new_password": new, "confirm": new},
             csrf=csrf_of(r.text))
    assert r.status_code == 200 and "was changed" in r.text
    assert signed_out(attacker, gw)
    assert api(victim, gw, "/x").status_code == 200
    assert_rotated(gw, r, old, victim)


def test_a_new_role_needs_a_new_id(fixgw):
    """A role given to a signed-in user reaches the session only with a
    new id (re-authentication); a copy of the old id never gains it, and
    a role taken away is gone at once."""
    gw = fixgw()
    slug = new_org(gw)
    victim, _ = sign_in(gw)
    old = sid(victim)
    attacker = planted(victim)
    path = "/orgs/%s/report" % slug
    assert api(victim, gw, path).status_code == 403
    member(gw, slug, gw.email, "viewer")
    # the old id does not gain the new membership, in either browser: a
    # browser is sent to re-authenticate, an API client told to
    for s in (attacker, victim):
        r = api(s, gw, path)
        assert r.status_code == 401
        assert "insufficient_user_authentication" in \
            r.headers["WWW-Authenticate"]
    r = page(victim, gw, path)
    assert r.status_code == 302
    assert r.headers["Location"] == "/.postern/reauth?rd=" + path
    # routes that need no membership are unaffected
    assert api(attacker, gw, "/x").status_code == 200
    r = page(victim, gw, "/.postern/reauth")
    r = post(victim, gw, "/.postern/reauth",
             {"password": PASSWORD, "rd": path}, csrf=csrf_of(r.text))
    assert r.status_code == 303
    assert_rotated(gw, r, old, victim)
    r = api(victim, gw, path)
    assert r.status_code == 200
    assert headers_of(r)["x-postern-org"] == slug
    assert headers_of(r)["x-postern-role"] == "viewer"
    assert signed_out(attacker, gw, path)
    # a changed role: the session does not keep the old one, nor get the
    # new one, until the next rotation
    member(gw, slug, gw.email, "admin")
    assert api(victim, gw, path).status_code == 401
    r = page(victim, gw, "/.postern/reauth")
    assert post(victim, gw, "/.postern/reauth", {"password": PASSWORD},
                csrf=csrf_of(r.text)).status_code == 303
    r = api(victim, gw, path)
    assert r.status_code == 200
    assert headers_of(r)["x-postern-role"] == "admin"


# ---- item: account changes need a fresh password; sign-out buttons ----

def test_ending_other_sessions_needs_a_fresh_password(fixgw):
    gw = fixgw("account:\n  fresh_auth: 60s\n")
    s, _ = sign_in(gw)
    other, _ = sign_in(gw)
    r = page(s, gw, "/.postern/account")
    hashes = re.findall(r'name="session" value="([0-9a-f]{64})"', r.text)
    assert len(hashes) == 1
    tok = csrf_of(r.text)
    for k in gw.redis.scan_iter("postern:session:*"):
        gw.redis.hset(k, "auth_time", int(time.time()) - 120)
    r = post(s, gw, "/.postern/account/sessions/revoke",
             {"session": hashes[0]}, csrf=tok)
    assert r.status_code == 303
    assert r.headers["Location"] == "/.postern/reauth?rd=/.postern/account"
    assert api(other, gw, "/x").status_code == 200     # still there
    # every other account change asks for the password or a fresh one
    for path, form in (("/.postern/account/backup-codes", {}),
                       ("/.postern/account/password",
                        {"new_password": "x" * 20, "confirm": "x" * 20}),
                       ("/.postern/account/2fa/disable", {"code": "1"})):
        r = post(s, gw, path, form, csrf=tok)
        assert r.status_code in (303, 400), (path, r.status_code)
        if r.status_code == 303:
            assert r.headers["Location"].startswith("/.postern/")
            assert r.headers["Location"] != "/.postern/account", path
    r = page(s, gw, "/.postern/2fa/setup")
    assert r.status_code == 303 and \
        r.headers["Location"].startswith("/.postern/reauth?rd=")
    # after the password, back to the account page, and it works
    r = page(s, gw, "/.postern/reauth?rd=/.postern/account")
    r = post(s, gw, "/.postern/reauth", {"password": PASSWORD,
                                         "rd": "/.postern/account"},
             csrf=csrf_of(r.text))
    assert r.status_code == 303
    assert r.headers["Location"] == "/.postern/account"
    r = page(s, gw, "/.postern/account")
    r = post(s, gw, "/.postern/account/sessions/revoke",
             {"session": hashes[0]}, csrf=csrf_of(r.text))
    assert r.status_code == 303
    assert r.headers["Location"] == "/.postern/account"
    assert signed_out(other, gw)


def logout_form(text):
    m = re.search(r'<form method="post" action="/.postern/logout"[^>]*>'
                  r'(.*?)</form>', text, re.S)
    assert m, "no sign-out form"
    assert 'name="csrf"' in m.group(1) and "Sign out" in m.group(1)
    return m.group(1)


@pytest.mark.parametrize("where", ["/.postern/account", "/.postern/2fa",
                                   "/.postern/2fa/setup", "/.postern/reauth"])
def test_account_and_2fa_pages_have_a_sign_out_button(fixgw, where):
    gw = fixgw()
    if where == "/.postern/2fa":
        enrolled(gw)
    s, _ = sign_in(gw)
    r = page(s, gw, where)
    assert r.status_code == 200
    form = logout_form(r.text)
    old = sid(s)
    r = post(s, gw, "/.postern/logout", {}, csrf=csrf_of(form))
    assert r.status_code == 303
    assert r.headers["Location"] == "/.postern/login?signed_out=1"
    assert not gw.redis.exists(key_of(old))
    assert signed_out(s, gw)
    r = requests.get(gw.url + "/x", verify=False, cookies={COOKIE: old},
                     headers={"Accept": "application/json"})
    assert r.status_code == 401


# ---- item: a cookie only on the hosts it was issued for ----

def on_host(s, gw, host, path, accept="application/json", method="GET"):
    return s.request(method, gw.url + path, verify=False, timeout=10,
                     allow_redirects=False,
                     headers={"Host": host, "Accept": accept})


def sign_in_on(gw, host):
    s = requests.Session()
    r = on_host(s, gw, host, "/.postern/login", "text/html")
    r = s.post(gw.url + "/.postern/login", verify=False,
               allow_redirects=False,
               headers={"Host": host, "Origin": "https://" + host},
               data={"email": gw.email, "password": PASSWORD,
                     "csrf": csrf_of(r.text)})
    assert r.status_code == 303, r.text
    value = r.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    return s, value


def test_cookie_of_one_app_is_no_session_on_another(fixgw):
    gw = fixgw(hosts=("app.test", "alias.test", "127.0.0.1"),
               more_apps=[("other.yaml", OTHER_APP)])
    port = gw.https_port
    _, value = sign_in_on(gw, "app.test:%d" % port)
    jar = requests.Session()
    jar.cookies.set(COOKIE, value)
    assert on_host(jar, gw, "app.test:%d" % port, "/x").status_code == 200
    # another host of the same app: the app's cookie scope
    assert on_host(jar, gw, "alias.test", "/x").status_code == 200
    for host in ("app2.test", "app2.test:%d" % port, "APP2.test",
                 "App2.Test:%d" % port):
        r = on_host(jar, gw, host, "/x")
        assert r.status_code == 401, (host, r.status_code)
        assert r.json()["error"] == "unauthenticated"
        r = on_host(jar, gw, host, "/x", "text/html")
        assert r.status_code == 302 and \
            r.headers["Location"].startswith("/.postern/login")
        r = on_host(jar, gw, host, "/.postern/account", "text/html")
        assert r.status_code == 302, host
    for host in ("app2.test.", "nowhere.test", "app.test.app2.test"):
        r = on_host(jar, gw, host, "/.postern/account", "text/html")
        assert r.status_code != 200, host
        assert gw.email not in r.text
    r = on_host(jar, gw, "nowhere.test", "/.postern/login", "text/html")
    assert gw.email not in r.text
    # nor does a sign-out there end it
    r = on_host(jar, gw, "app2.test", "/.postern/login", "text/html")
    r = jar.post(gw.url + "/.postern/logout", verify=False,
                 allow_redirects=False, data={"csrf": csrf_of(r.text)},
                 headers={"Host": "app2.test",
                          "Origin": "https://app2.test"})
    assert r.status_code == 303
    assert gw.redis.exists(key_of(value))
    jar.cookies.set(COOKIE, value)      # the answer cleared it
    # the refusal leaves the session alone on its own host
    assert on_host(jar, gw, "app.test", "/x").status_code == 200


def test_session_without_a_scope_is_no_session(fixgw):
    """A session stored without its scope (made before scopes existed)
    is refused everywhere rather than guessed."""
    gw = fixgw()
    s, _ = sign_in(gw)
    assert api(s, gw, "/x").status_code == 200
    gw.redis.hdel(key_of(sid(s)), "scope")
    assert signed_out(s, gw)
    assert page(s, gw, "/.postern/account").status_code == 302


def test_sso_cookie_only_within_its_domain(fixgw):
    gw = fixgw("sessions:\n  cookie_domain: example.test\n",
               hosts=("a.example.test", "b.example.test", "exampletest.io",
                      "example.test.evil.io", "badexample.test"))
    s, value = sign_in_on(gw, "a.example.test:%d" % gw.https_port)
    jar = requests.Session()
    jar.cookies.set("__Secure-postern", value)
    for host in ("a.example.test", "b.example.test"):
        assert on_host(jar, gw, host, "/x").status_code == 200, host
    for host in ("exampletest.io", "example.test.evil.io",
                 "badexample.test", "BADEXAMPLE.TEST"):
        assert on_host(jar, gw, host, "/x").status_code == 401, host


# ---- item: who signed out ----

def test_logout_audit_names_the_user(fixgw):
    gw = fixgw()
    s, _ = sign_in(gw)
    uid = headers_of(api(s, gw, "/x"))["x-postern-user"]
    r = page(s, gw, "/.postern/account")
    assert post(s, gw, "/.postern/logout", {},
                csrf=csrf_of(r.text)).status_code == 303
    # and a sign-out with no session names nobody
    anon = requests.Session()
    r = page(anon, gw, "/.postern/login")
    assert post(anon, gw, "/.postern/logout", {},
                csrf=csrf_of(r.text)).status_code == 303
    time.sleep(0.3)
    ev = [json.loads(x) for x in gw.log().splitlines()
          if x.startswith("{") and '"action":"logout"' in x]
    assert len(ev) == 2, ev
    assert ev[0]["actor"] == uid and ev[0]["target"] == uid
    assert ev[1]["actor"] == "" and ev[1]["target"] == ""


# ---- the chained attack: a cookie planted through an app response ----

CHAIN_ROUTES = """\
  routes:
    - path: /headers
      public: true
""" + ROUTES.split("routes:\n", 1)[1]


def test_planted_half_session_never_becomes_a_full_one(gateway, redis_server,
                                                       tmp_path):
    """The attacker knows the victim's password but not the second factor.
    He signs in (password only), makes an app response plant his
    half-signed-in cookie in the victim's browser, and waits for the victim
    to enter the code.  Each link of the chain is broken: the upstream's
    Set-Cookie of the gateway's cookie never reaches the browser, and a
    code entered in a browser holding a copy upgrades only a new id."""
    make_key(tmp_path)
    gw = gateway(extra=auth_extra(tmp_path), app_extra=CHAIN_ROUTES,
                 redis=redis_server, protect=None)
    gw.redis = redis.Redis(host=redis_server[0], port=redis_server[1])
    gw.email = "c-%s@example.com" % uuid.uuid4().hex[:10]
    add_user(gw, gw.email)
    key, _ = enrolled(gw)
    attacker, r = sign_in(gw)                   # password only
    assert r.headers["Location"].startswith("/.postern/2fa")
    half = sid(attacker)
    # 1. the victim opens an app page whose response carries the cookie
    victim = requests.Session()
    for value in ("%s=%s; Path=/; Secure; HttpOnly" % (COOKIE, half),
                  "%s=%s; Path=/" % (COOKIE.lower(), half),
                  "app=1, %s=%s" % (COOKIE, half)):
        r = victim.get(gw.url + "/headers", verify=False, timeout=10,
                       params=[("set", "Set-Cookie:" + value)])
        assert r.status_code == 200
        assert half not in " ".join(r.raw.headers.getlist("Set-Cookie"))
        assert all(half != c.value for c in victim.cookies)
    assert "upstream_set_cookie" in gw.log()
    # so the victim's 2FA page is no page of the attacker's session
    r = page(victim, gw, "/.postern/2fa")
    assert r.status_code in (302, 303)
    assert "/.postern/login" in r.headers["Location"]
    # 2. had it been planted, the code would raise only a new id
    planted_jar = planted(attacker)
    r = page(planted_jar, gw, "/.postern/2fa")
    assert r.status_code == 200
    r = post(planted_jar, gw, "/.postern/2fa",
             {"code": totp(key, 30), "rd": "/x"}, csrf=csrf_of(r.text))
    assert r.status_code == 303, r.text
    assert_rotated(gw, r, half, planted_jar)
    assert api(planted_jar, gw, "/x").status_code == 200
    assert signed_out(attacker, gw)
    assert signed_out(attacker, gw, "/secure/mfa")
