"""Signing out from the app: the confirmation page and X-Postern-Logout.

- GET /.postern/logout?rd=URL is a page with one button (a POST carrying
  the CSRF token): a link, an <img> or a prefetch cannot sign anyone out.
  The POST ends the session and goes to rd when rd passes the usual
  checks, else to the sign-in page, which says "You have been signed out".
- An upstream response with X-Postern-Logout: 1 ends the session its
  request was made with, at once for every instance; the browser's cookie
  is cleared in that same response and the header never reaches it.
Real gateway(s), real Redis, the demo upstream (/headers?set=... makes it
answer with any header).
"""
import json
import re
import time
import urllib.parse

import redis as redislib
import requests
import urllib3

from gwproc import Gateway, write_config
from test_auth import (PASSWORD, add_user, authgw, auth_extra,  # noqa: F401
                       echo, login, login_page)

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
COOKIE = "__Host-postern"


def page(s, gw, path):
    return s.get(gw.url + path, verify=False, timeout=10,
                 headers={"Accept": "text/html"}, allow_redirects=False)


def confirm_form(text):
    m = re.search(r'<form method="post" action="/.postern/logout">(.*?)'
                  r'</form>', text, re.S)
    assert m, text
    form = m.group(1)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    rd = re.search(r'name="rd" value="([^"]*)"', form).group(1)
    return csrf, rd


def post_logout(s, gw, csrf, rd=None):
    data = {"csrf": csrf}
    if rd is not None:
        data["rd"] = rd
    return s.post(gw.url + "/.postern/logout", data=data, verify=False,
                  allow_redirects=False, headers={"Origin": gw.url})


def test_get_asks_and_does_not_sign_out(authgw):
    gw = authgw()
    s, _ = login(gw)
    r = page(s, gw, "/.postern/logout?rd=/after")
    assert r.status_code == 200
    assert "Sign out of" in r.text
    assert r.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    csrf, rd = confirm_form(r.text)
    assert rd == "/after"
    assert 'href="/after"' in r.text          # cancel goes back
    # the page alone ended nothing, and neither does a second GET
    assert page(s, gw, "/.postern/logout").status_code == 200
    assert echo(s, gw).status_code == 200
    r = post_logout(s, gw, csrf, rd)
    assert r.status_code == 303
    assert r.headers["Location"] == "/after"
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    assert echo(s, gw).status_code == 401


def test_rd_is_checked_on_the_page_and_on_the_post(authgw):
    gw = authgw()
    for bad in ("https://evil.example/", "//evil.example/x",
                "/\\evil.example", "javascript:alert(1)",
                "https://localhost.evil.example/"):
        s, _ = login(gw)
        r = page(s, gw, "/.postern/logout?rd=" + urllib.parse.quote(bad))
        csrf, rd = confirm_form(r.text)
        assert rd == "", bad                      # dropped on the page
        assert "evil" not in r.text
        r = post_logout(s, gw, csrf, bad)         # and on a forged post
        assert r.status_code == 303
        assert r.headers["Location"] == "/.postern/login?signed_out=1", bad
        assert echo(s, gw).status_code == 401


def test_post_needs_the_csrf_token(authgw):
    gw = authgw()
    s, _ = login(gw)
    r = s.post(gw.url + "/.postern/logout", data={"rd": "/x"},
               verify=False, allow_redirects=False,
               headers={"Origin": gw.url})
    assert r.status_code == 403
    r = s.post(gw.url + "/.postern/logout",
               data={"csrf": login_page(s, gw)}, verify=False,
               allow_redirects=False,
               headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert echo(s, gw).status_code == 200


def test_sign_in_page_says_signed_out(authgw):
    gw = authgw()
    s, _ = login(gw)
    csrf, _ = confirm_form(page(s, gw, "/.postern/logout").text)
    r = post_logout(s, gw, csrf)
    r = page(s, gw, r.headers["Location"])
    assert r.status_code == 200
    assert re.search(r'role="status">You have been signed out\.<', r.text)
    assert 'name="password"' in r.text
    # without the parameter, or with another value: no such line
    for q in ("", "?signed_out=0", "?signed_out=<b>1</b>"):
        assert "signed out" not in page(s, gw, "/.postern/login" + q).text


def logout_header(s, gw, value="1", path="/headers"):
    q = urllib.parse.urlencode({"set": "X-Postern-Logout:" + value})
    return s.get(gw.url + path + "?" + q, verify=False, timeout=10,
                 headers={"Accept": "application/json"})


def test_upstream_header_ends_the_session(authgw, redis_server, tmp_path,
                                          tls_cert, upstream):
    gw = authgw()
    s, _ = login(gw)
    old = s.cookies.get(COOKIE)
    # a second instance on the same Redis, with its cache warm
    d2 = tmp_path / "second"
    d2.mkdir()
    cfg, ports = write_config(d2, tls_cert, upstream, redis_server,
                              auth_extra(tmp_path), protect=True)
    gw2 = Gateway(cfg, d2 / "postern.log", ports, wait=("https",))
    try:
        other = "https://127.0.0.1:%d/hello" % ports["https"]
        r = requests.get(other, verify=False, cookies={COOKIE: old},
                         headers={"Accept": "application/json"})
        assert r.status_code == 200
        r = logout_header(s, gw, "0")             # not a logout
        assert r.status_code == 200
        assert "x-postern-logout" not in {k.lower() for k in r.headers}
        assert "Set-Cookie" not in r.headers
        assert echo(s, gw).status_code == 200
        r = logout_header(s, gw)
        assert r.status_code == 200               # the app's answer
        assert "x-postern-logout" not in {k.lower() for k in r.headers}
        sc = r.headers["Set-Cookie"]
        assert sc.startswith(COOKIE + "=;") and "Max-Age=0" in sc
        # the same cookie replayed: dead here and on the other instance
        deadline = time.monotonic() + 2
        for url in (gw.url + "/hello", other):
            while True:
                r = requests.get(url, verify=False, cookies={COOKIE: old},
                                 headers={"Accept": "application/json"})
                if r.status_code == 401 or time.monotonic() > deadline:
                    break
                time.sleep(0.01)
            assert r.status_code == 401, url
        rc = redislib.Redis(host=redis_server[0], port=redis_server[1])
        deadline = time.monotonic() + 5
        while True:
            evs = [json.loads(x) for x in rc.lrange("postern:audit:events",
                                                    0, -1)]
            ups = [e for e in evs if e.get("action") == "logout" and
                   e.get("reason") == "upstream_logout"]
            if ups or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert ups and ups[-1]["outcome"] == "success", evs[-5:]
    finally:
        gw2.stop()


def test_upstream_header_without_a_session_is_only_dropped(authgw,
                                                           redis_server):
    gw = authgw()
    s, _ = login(gw)
    anon = requests.Session()
    r = logout_header(anon, gw)                   # protected: 401 first
    assert r.status_code == 401
    # a request with a forged cookie value: no session, nothing to end
    r = requests.get(gw.url + "/headers?set=X-Postern-Logout:1",
                     verify=False, cookies={COOKIE: "A" * 43},
                     headers={"Accept": "application/json"})
    assert r.status_code == 401
    assert echo(s, gw).status_code == 200         # others unaffected


def test_demo_app_logout_button_flow(authgw):
    """The README's example: the app's own /logout answers with the header
    and sends the browser to the sign-in page."""
    gw = authgw()
    s, _ = login(gw)
    r = s.get(gw.url + "/logout", verify=False, allow_redirects=False,
              headers={"Accept": "text/html"})
    assert r.status_code == 303
    assert r.headers["Location"] == "/.postern/login?signed_out=1"
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    assert echo(s, gw).status_code == 401
