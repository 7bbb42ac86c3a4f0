"""Rate limits shared through Redis (gateway/identity/ratelimit.c).

Real gateways, a real redis-server, requests from several loopback source
addresses (127.0.0.x) so that per-address and per-account limits can be
told apart.  The attacker's tries: many passwords against one account from
many addresses, many accounts from one address, spreading requests over
two gateway instances.
"""
import http.client
import json
import re
import ssl
import textwrap
import time
import urllib.parse
import uuid

import pytest

from conftest import free_port, run_postern
from gwproc import config_text, listener
from test_auth import add_user, auth_extra, make_key

ROUTES = """\
  routes:
    - path: /public/**
      public: true
    - path: /api/**
      public: true
      rate_limit: api
    - path: /burst/**
      public: true
      rate_limit: burst
    - path: /**
      authenticated: true
"""

LIMITS = """\
rate_limits:
  classes:
    login: {limit: 4, period: 1m, account_limit: 2}
    api: {limit: 3, period: 1m}
    burst: {limit: 2, period: 2s}
"""


def request(gw, method, path, source="127.0.0.1", body=None, headers=None):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c = http.client.HTTPSConnection("127.0.0.1", gw.https_port,
                                    source_address=(source, 0), context=ctx,
                                    timeout=10)
    h = {"Accept": "application/json"}
    h.update(headers or {})
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    r.text = r.read().decode("utf-8", "replace")
    c.close()
    return r


def login_from(gw, source, email, password="wrong password 12345",
               cookie_more=None):
    """A whole sign-in from <source>: the form, then the POST (with
    <cookie_more>, "name=value", beside the CSRF cookie)."""
    r = request(gw, "GET", "/.postern/login", source,
                headers={"Accept": "text/html"})
    token = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    cookie = r.getheader("Set-Cookie").split(";")[0]
    if cookie_more:
        cookie += "; " + cookie_more
    body = urllib.parse.urlencode({"email": email, "password": password,
                                   "csrf": token, "rd": "/"})
    return request(gw, "POST", "/.postern/login", source, body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Origin": "https://127.0.0.1:%d" % gw.https_port, "Cookie": cookie,
        "Accept": "text/html"})


@pytest.fixture
def rlgw(gateway, redis_server, tmp_path):
    make_key(tmp_path)
    return gateway(extra=auth_extra(tmp_path, limits="") + LIMITS, app_extra=ROUTES,
                   redis=redis_server, protect=None)


def test_per_account_limit_holds_across_addresses(rlgw):
    gw = rlgw
    victim = "v-%s@example.com" % uuid.uuid4().hex[:8]
    other = "o-%s@example.com" % uuid.uuid4().hex[:8]
    add_user(gw, victim)
    assert login_from(gw, "127.0.0.2", victim).status == 401
    assert login_from(gw, "127.0.0.3", victim).status == 401
    r = login_from(gw, "127.0.0.4", victim)      # a third address
    assert r.status == 429
    assert 1 <= int(r.getheader("Retry-After")) <= 30
    assert "Sign-in attempts are paused" in r.text  # a page for browsers
    assert 'name="password"' in r.text              # the form is kept
    # the right password does not get past the lock either
    assert login_from(gw, "127.0.0.5", victim,
                      "correct horse battery staple 9").status == 429
    # another account from those addresses is not locked
    assert login_from(gw, "127.0.0.4", other).status == 401
    assert '"event":"rate_limit"' in gw.log()
    assert '"class":"login"' in gw.log()


def test_per_address_limit_over_many_accounts(rlgw):
    gw = rlgw
    codes = [login_from(gw, "127.0.0.9", "x%d-%s@example.com"
                        % (i, uuid.uuid4().hex[:6])).status
             for i in range(6)]
    assert codes[:4] == [401] * 4 and codes[4:] == [429, 429], codes
    assert login_from(gw, "127.0.0.10", "y-%s@example.com"
                      % uuid.uuid4().hex[:6]).status == 401
    r = request(gw, "GET", "/metrics", headers={})
    m = http.client.HTTPConnection("127.0.0.1", gw.admin_port, timeout=5)
    m.request("GET", "/metrics")
    text = m.getresponse().read().decode()
    assert re.search(r"^postern_rate_limited_total [1-9]", text, re.M)


def test_route_class_is_shared_by_two_instances(rlgw, gateway, redis_server,
                                                tmp_path):
    gw1 = rlgw
    gw2 = gateway(extra=auth_extra(tmp_path, limits="") + LIMITS, app_extra=ROUTES,
                  redis=redis_server, protect=None)
    src = "127.0.0.%d" % (20 + int(time.time()) % 200)
    codes = [request(g, "GET", "/api/x", src).status
             for g in (gw1, gw2, gw1, gw2)]
    assert codes == [200, 200, 200, 429], codes
    r = request(gw2, "GET", "/api/x", src)
    assert r.status == 429 and json.loads(r.text)["error"] == "rate_limited"
    # other routes and other addresses are not limited by that class
    assert request(gw1, "GET", "/public/x", src).status == 200
    assert request(gw1, "GET", "/api/x", "127.0.0.250").status == 200


def test_redis_down_sensitive_closed_default_open(gateway, tmp_path):
    make_key(tmp_path)
    dead = ("127.0.0.1", free_port())      # nothing listens there
    gw = gateway(extra=auth_extra(tmp_path, limits="") + LIMITS +
                 "    default: {limit: 100, period: 1m}\n",
                 app_extra=ROUTES, redis=dead, protect=None)
    assert request(gw, "GET", "/public/x").status == 200    # fails open
    assert request(gw, "GET", "/api/x").status == 503       # api: closed
    assert login_from(gw, "127.0.0.1", "a@example.com").status == 503


def test_unknown_class_in_a_policy_is_a_config_error(tmp_path):
    (tmp_path / "app.yaml").write_text(textwrap.dedent("""\
        app:
          name: demo
          hosts: [localhost]
          upstream: http://127.0.0.1:1
          routes:
            - path: /x/**
              public: true
              rate_limit: nosuch
        """))
    cfg = tmp_path / "postern.yaml"
    # the line numbers asserted below: policies on one line, line 5
    cfg.write_text(config_text([listener(1, tls=False)],
                               extra=textwrap.dedent("""\
        policies: [app.yaml]
        rate_limits:
          classes:
            login: null
            api: {limit: 0, period: 1m}
            "Bad Name": {limit: 1, period: 1m}
            other: {limit: 5}
        """)))
    r = run_postern("check", "-c", str(cfg))
    assert r.returncode != 0
    out = r.stderr + r.stdout
    assert re.search(r"app\.yaml:6:7: route /x/\*\*: rate_limit: no class "
                     r"'nosuch'", out), out
    assert re.search(r"postern\.yaml:9:18: rate_limits\.classes\.api\.limit",
                     out), out
    assert re.search(r"postern\.yaml:10:5: rate_limits\.classes: invalid "
                     r"class 'Bad Name'", out), out
    assert re.search(r"postern\.yaml:11:12: missing required key 'period'",
                     out), out


def metrics_value(gw, name):
    m = http.client.HTTPConnection("127.0.0.1", gw.admin_port, timeout=5)
    m.request("GET", "/metrics")
    text = m.getresponse().read().decode()
    found = re.search(r"^%s (\d+)$" % name, text, re.M)
    return int(found.group(1)) if found else 0


def test_refused_client_is_shed_without_redis(rlgw):
    """Once Redis refuses a client, each worker refuses that client's
    requests until Redis could admit one again, without asking it; other
    clients, and the same client after that moment, are not affected."""
    gw = rlgw
    src = "127.0.1.%d" % (1 + int(time.time() * 1000) % 250)
    assert [request(gw, "GET", "/api/x", src).status
            for _ in range(3)] == [200, 200, 200]
    before = metrics_value(gw, "postern_rate_limited_local_total")
    codes, waits = [], []
    for _ in range(12):
        r = request(gw, "GET", "/api/x", src)
        codes.append(r.status)
        waits.append(int(r.getheader("Retry-After") or 0))
    assert codes == [429] * 12, codes
    assert all(1 <= w <= 20 for w in waits), waits     # 60 s / 3
    shed = metrics_value(gw, "postern_rate_limited_local_total") - before
    # two workers: each asks Redis once, then sheds
    assert shed >= 10, shed
    # and a flood logs one line per request, not two: the class's event
    # only for the refusals Redis made
    events = [line for line in gw.log().splitlines()
              if '"event":"rate_limit"' in line and '"%s"' % src in line]
    assert 1 <= len(events) <= 2, events
    assert request(gw, "GET", "/api/x", "127.0.0.251").status == 200


def test_shed_client_is_admitted_when_redis_would_admit(rlgw):
    gw = rlgw
    src = "127.0.2.%d" % (1 + int(time.time() * 1000) % 250)
    assert [request(gw, "GET", "/burst/x", src).status
            for _ in range(2)] == [200, 200]
    codes = [request(gw, "GET", "/burst/x", src).status for _ in range(6)]
    assert codes == [429] * 6, codes
    time.sleep(1.2)        # one emission interval (2 s / 2) and a margin
    assert request(gw, "GET", "/burst/x", src).status == 200


GOOD = "correct horse battery staple 9"


def device_of(r):
    """The device cookie ("name=value") a successful sign-in set."""
    found = [c.split(";")[0] for c in r.msg.get_all("Set-Cookie") or []
             if c.startswith("__Host-postern-device=")]
    assert len(found) == 1, r.msg.get_all("Set-Cookie")
    c = [c for c in r.msg.get_all("Set-Cookie")
         if c.startswith("__Host-postern-device=")][0]
    for attr in ("Path=/", "Secure", "HttpOnly", "SameSite=Lax"):
        assert attr in c, c
    return found[0]


@pytest.fixture
def rlmail(gateway, redis_server, tmp_path, smtp_sink):
    """rlgw with mail and magic links: the lockout page's ways in."""
    make_key(tmp_path)
    # an hour: slow machines must not see a slot come back mid-test
    limits = LIMITS.replace("login: {limit: 4, period: 1m",
                            "login: {limit: 4, period: 1h")
    assert limits != LIMITS
    return gateway(extra=auth_extra(tmp_path, limits="") + limits +
                   smtp_sink.mail_config() + "account:\n  magic_links: true\n",
                   app_extra=ROUTES, redis=redis_server, protect=None)


def test_spraying_an_account_does_not_lock_its_owner_out(rlmail):
    """ASVS 6.1.1/6.3.1: failures sprayed at one account from many
    addresses lock that account for browsers that never signed in to it,
    but its owner's browser (a device cookie, bound to the account) is
    counted on its own, from any address; a browser that has none gets a
    lockout page offering the emailed link and the reset."""
    gw = rlmail
    victim = "v-%s@example.com" % uuid.uuid4().hex[:8]
    mallory = "m-%s@example.com" % uuid.uuid4().hex[:8]
    add_user(gw, victim)
    add_user(gw, mallory)
    r = login_from(gw, "127.0.0.2", victim, GOOD)   # the owner, once
    assert r.status == 303
    dev = device_of(r)
    # the spray: many addresses, one account
    codes = [login_from(gw, "127.0.0.%d" % i, victim).status
             for i in range(3, 9)]
    assert codes[-3:] == [429] * 3, codes
    # the owner from a fresh address with their browser: in, at once
    r = login_from(gw, "127.0.0.30", victim, GOOD, cookie_more=dev)
    assert r.status == 303, r.text
    # the same from a browser that never signed in: refused, but told
    # how to get in without the password
    r = login_from(gw, "127.0.0.31", victim, GOOD)
    assert r.status == 429
    assert 1 <= int(r.getheader("Retry-After")) <= 1800   # 1h / 2
    assert "Sign-in attempts are paused" in r.text
    assert 'href="/.postern/magic"' in r.text
    assert 'href="/.postern/reset"' in r.text
    assert "__Host-postern=" not in (r.getheader("Set-Cookie") or "")
    # the attacker's own device cookie, a forged one, a victim cookie
    # spelled twice: the account's lock holds
    r = login_from(gw, "127.0.0.39", mallory, GOOD)
    assert r.status == 303
    mine = device_of(r)
    nonce = dev.split("=", 1)[1].split(".")[0]
    for i, c in enumerate((
            mine, "__Host-postern-device=%s.%s" % (nonce, "A" * 43),
            "__Host-postern-device=%s" % ("A" * 22 + "." + "B" * 43),
            "%s; %s" % (dev, dev),
            "__Host-postern-device=" + dev.split("=", 1)[1].swapcase(),
            "__host-postern-device=" + dev.split("=", 1)[1])):
        # each from an address of its own: the account's lock refuses it
        r = login_from(gw, "127.0.0.%d" % (41 + i), victim, GOOD,
                       cookie_more=c)
        assert r.status == 429, c
    # a stolen device cookie is no way around the limits either: it has a
    # budget of its own (account_limit), spent by wrong passwords
    codes = [login_from(gw, "127.0.0.%d" % i, victim,
                        cookie_more=dev).status for i in range(50, 54)]
    assert codes[0] == 401 and codes[-1] == 429, codes
    # the cookie never reaches the upstream
    sess = login_from(gw, "127.0.0.60", mallory, GOOD, cookie_more=mine)
    sid = [c.split(";")[0] for c in sess.msg.get_all("Set-Cookie")
           if c.startswith("__Host-postern=")][0]
    r = request(gw, "GET", "/x", "127.0.0.60",
                headers={"Cookie": "%s; %s" % (sid, mine)})
    assert r.status == 200 and "postern-device" not in r.text
