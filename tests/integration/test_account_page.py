"""The account page (/.postern/account, gateway/identity/account/): the
sign-out button, the link back to the app (rd checked like every rd), the
sessions with their device (parsed User-Agent, never echoed) and address,
revoking another session, and the second factor's page: the manual key in
groups, backup codes in one column with Copy and a text download that
gives only the user's unused codes.

Real postern, real redis-server, users made with the real CLI.
"""
import html
import re

import requests

from test_auth import PASSWORD, add_user
from test_mfa import (api, csrf_of, enrol, mfagw, page, post,  # noqa: F401
                      wait_fresh_step)

FIREFOX = ("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 "
           "Firefox/121.0")
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
          "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36")


def browser(gw, ua, email=None):
    """A signed-in requests session sending User-Agent <ua>."""
    s = requests.Session()
    s.headers["User-Agent"] = ua
    r = post(s, gw, "/.postern/login", {"email": email or gw.email,
                                        "password": PASSWORD, "rd": "/"})
    assert r.status_code == 303, r.text[:300]
    return s


def items(text):
    """The sessions list's entries, as text."""
    ul = re.search(r'<ul class="sessions">(.*?)</ul>', text, re.S).group(1)
    return re.findall(r"<li>(.*?)</li>", ul, re.S)


def test_sign_out_button_ends_the_session(mfagw):
    gw = mfagw()
    s = browser(gw, FIREFOX)
    r = page(s, gw, "/.postern/account")
    assert r.status_code == 200
    form = re.search(r'<form method="post" action="/.postern/logout"'
                     r'.*?</form>', r.text, re.S)
    assert form and 'name="csrf"' in form.group(0)
    assert ">Sign out</button>" in form.group(0)
    assert api(s, gw, "/x").status_code == 200
    r = post(s, gw, "/.postern/logout", {}, csrf=csrf_of(form.group(0)))
    assert r.status_code in (200, 303), r.status_code
    assert api(s, gw, "/x").status_code == 401
    # without the form's token the button does nothing
    s = browser(gw, FIREFOX)
    r = s.post(gw.url + "/.postern/logout", data={"csrf": "x"},
               verify=False, allow_redirects=False,
               headers={"Origin": gw.url, "Accept": "text/html"})
    assert r.status_code == 403
    assert api(s, gw, "/x").status_code == 200


def test_back_link_follows_a_checked_rd(mfagw):
    gw = mfagw()
    s = browser(gw, FIREFOX)
    r = page(s, gw, "/.postern/account?rd=%2Freports%3Fq%3D1")
    assert "<p><a href=\"/reports?q=1\">Back to demo</a></p>" in r.text, re.findall(r".{80}Back to.{40}", r.text)
    # no rd: the app's root
    r = page(s, gw, "/.postern/account")
    assert '<p><a href="/">Back to demo</a></p>' in r.text
    # a foreign or tricky rd is dropped: the app's root again
    for bad in ("https://evil.example/", "//evil.example/x",
                "/\\evil.example", "javascript:alert(1)",
                "https://localhost.evil.example/"):
        r = s.get(gw.url + "/.postern/account", params={"rd": bad},
                  verify=False, allow_redirects=False,
                  headers={"Accept": "text/html"})
        assert r.status_code == 200
        assert '<p><a href="/">Back to demo</a></p>' in r.text, bad
        assert "evil" not in r.text and "javascript:" not in r.text, bad
    # the sign-out form carries the same checked rd
    r = page(s, gw, "/.postern/account?rd=%2Freports")
    form = re.search(r'action="/.postern/logout".*?</form>', r.text, re.S)
    assert 'name="rd" value="/reports"' in form.group(0)


def test_sessions_show_device_and_address(mfagw):
    gw = mfagw()
    ff = browser(gw, FIREFOX)
    browser(gw, CHROME)
    r = page(ff, gw, "/.postern/account")
    rows = items(r.text)
    assert len(rows) == 2, rows
    # this device first, marked, without a revoke button of its own
    assert "<strong>Firefox on Linux</strong> (this device)" in rows[0]
    assert 'name="session"' not in rows[0]
    assert "<strong>Chrome on Windows</strong>" in rows[1]
    assert "(this device)" not in rows[1]
    for row in rows:
        assert "IP address 127.0.0.1" in row
        assert re.search(r"Signed in \d{4}-\d\d-\d\d \d\d:\d\d UTC", row)
        assert re.search(r"Last active \d{4}-\d\d-\d\d \d\d:\d\d UTC", row)
    # what Redis keeps with each session
    rd = gw.redis
    uid = rd.get("postern:email:" + gw.email).decode()
    for h in rd.smembers("postern:user:%s:sessions" % uid):
        s = rd.hgetall(b"postern:session:" + h)
        assert s[b"ip"] == b"127.0.0.1"
        assert s[b"ua"].decode() in (FIREFOX, CHROME)


def test_revoke_another_session_and_not_another_users(mfagw):
    gw = mfagw()
    ff = browser(gw, FIREFOX)
    cr = browser(gw, CHROME)
    other = "o-" + gw.email
    add_user(gw, other)
    stranger = browser(gw, CHROME, email=other)
    r = page(ff, gw, "/.postern/account")
    hashes = re.findall(r'name="session" value="([0-9a-f]{64})"', r.text)
    assert len(hashes) == 1
    tok = csrf_of(r.text)
    # the stranger's session, named by its real hash, stays
    uid = gw.redis.get("postern:email:" + other).decode()
    theirs = [h.decode() for h in
              gw.redis.smembers("postern:user:%s:sessions" % uid)]
    assert len(theirs) == 1
    r = post(ff, gw, "/.postern/account/sessions/revoke",
             {"session": theirs[0]}, csrf=tok)
    assert r.status_code == 303
    assert api(stranger, gw, "/x").status_code == 200
    # the user's own other session goes at once
    r = post(ff, gw, "/.postern/account/sessions/revoke",
             {"session": hashes[0]}, csrf=tok)
    assert r.status_code == 303
    assert api(cr, gw, "/x").status_code == 401
    assert api(ff, gw, "/x").status_code == 200
    assert len(items(page(ff, gw, "/.postern/account").text)) == 1


def test_user_agent_is_never_markup(mfagw):
    gw = mfagw()
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    s = browser(gw, evil)
    browser(gw, "Firefox/1 \xe9\xff" + "A" * 5000)
    r = page(s, gw, "/.postern/account")
    assert r.status_code == 200
    assert "alert(" not in r.text and "onerror" not in r.text
    assert "<strong>Unknown device</strong> (this device)" in r.text
    # a script on the page is only the gateway's own, under the nonce
    csp = r.headers["Content-Security-Policy"]
    nonce = re.search(r"script-src 'nonce-([^']+)'", csp).group(1)
    for tag in re.findall(r"<script[^>]*>", r.text):
        assert tag == '<script nonce="%s">' % nonce
    # kept bounded and printable
    uid = gw.redis.get("postern:email:" + gw.email).decode()
    for h in gw.redis.smembers("postern:user:%s:sessions" % uid):
        ua = gw.redis.hget(b"postern:session:" + h, "ua")
        assert len(ua) <= 255
        assert all(0x20 <= b < 0x7f for b in ua), ua


def test_overview_separates_new_codes_from_turning_off(mfagw):
    gw = mfagw()
    wait_fresh_step()
    s = browser(gw, FIREFOX)
    enrol(gw, s)
    r = page(s, gw, "/.postern/account")
    codes = r.text.index("<h3>Backup codes</h3>")
    danger = r.text.index('<section class="danger">')
    assert codes < danger
    off = r.text[danger:r.text.index("</section>", danger)]
    assert "<h3>Turn off two-step verification</h3>" in off
    assert 'action="/.postern/account/2fa/disable"' in off
    assert '<button type="submit" class="danger">' in off
    assert "/.postern/account/backup-codes" not in off


def test_setup_key_grouped_and_codes_download(mfagw):
    gw = mfagw()
    wait_fresh_step()
    s = browser(gw, FIREFOX)
    r = page(s, gw, "/.postern/2fa/setup")
    key = re.search(r'<code class="key">([A-Z2-7 ]+)</code>', r.text)
    groups = key.group(1).split(" ")
    assert all(len(g) == 4 for g in groups[:-1]) and len(groups) > 4
    key, codes = enrol(gw, s)
    # the codes page: one list, Copy, and a download form with the codes
    r = post(s, gw, "/.postern/account/backup-codes", {},
             csrf=csrf_of(page(s, gw, "/.postern/account").text))
    assert r.status_code == 200
    fresh = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", r.text)
    assert len(fresh) == 10
    assert '<button type="button" id="copy" class="secondary">Copy' \
        in r.text
    form = re.search(r'<form method="post" action="/.postern/account/'
                     r'backup-codes/download">(.*?)</form>', r.text, re.S)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"',
                             form.group(1)))
    assert [fields["code%d" % i] for i in range(10)] == fresh
    r = post(s, gw, "/.postern/account/backup-codes/download",
             {k: v for k, v in fields.items() if k != "csrf"},
             csrf=fields["csrf"])
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"].startswith("text/plain")
    assert r.headers["Content-Disposition"] == \
        'attachment; filename="backup-codes.txt"'
    assert r.headers["Cache-Control"] == "no-store"
    assert [ln for ln in r.text.splitlines() if re.fullmatch(
        r"[a-z2-7]{6}(-[a-z2-7]{6}){3}", ln)] == fresh
    data = {k: v for k, v in fields.items() if k != "csrf"}
    # the old codes (replaced) are not given back
    old = {"code%d" % i: c for i, c in enumerate(codes)}
    r = post(s, gw, "/.postern/account/backup-codes/download", old,
             csrf=fields["csrf"])
    assert r.status_code == 410 and "backup-codes.txt" not in \
        r.headers.get("Content-Disposition", "")
    # nor a made-up one among real ones, nor garbage
    forged = dict(data, code3="aaaaaa-aaaaaa-aaaaaa-aaaaaa")
    r = post(s, gw, "/.postern/account/backup-codes/download", forged,
             csrf=fields["csrf"])
    assert r.status_code == 410
    r = post(s, gw, "/.postern/account/backup-codes/download",
             {"code0": "<b>x</b>"}, csrf=fields["csrf"])
    assert r.status_code == 400
    # without a session, or with a foreign Origin, nothing
    r = requests.post(gw.url + "/.postern/account/backup-codes/download",
                      data=dict(data, csrf=fields["csrf"]), verify=False,
                      allow_redirects=False,
                      headers={"Origin": gw.url})
    assert r.status_code in (302, 401, 403)
    assert "backup-codes.txt" not in r.headers.get("Content-Disposition",
                                                   "")
    # once a code is used, the list is no longer whole: refused
    other = browser(gw, CHROME)
    assert post(other, gw, "/.postern/2fa", {"backup": fresh[0]},
                csrf=csrf_of(page(other, gw, "/.postern/2fa").text)
                ).status_code == 303
    r = post(s, gw, "/.postern/account/backup-codes/download", data,
             csrf=fields["csrf"])
    assert r.status_code == 410
    assert html.unescape(r.text).count(fresh[1]) == 0
