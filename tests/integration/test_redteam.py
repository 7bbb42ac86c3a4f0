"""Black-box attacks on sign-in and sessions found by the red team.

A real postern, a real redis-server, the real demo upstream and a real
SMTP sink; each test is an attack that worked before its fix.
"""
import uuid

import pytest
import requests

from conftest import run_postern
from test_auth import PASSWORD, add_user, echo, login
from test_mfa import api
from test_recover import (ask, change_password, link_in, recgw,  # noqa: F401
                          use_magic, use_reset)

COOKIE = "__Host-postern"


def alive(gw, value):
    """Whether the session cookie <value> still opens a protected path."""
    r = requests.get(gw.url + "/x", verify=False, timeout=10,
                     allow_redirects=False, cookies={COOKIE: value},
                     headers={"Accept": "application/json"})
    assert r.status_code in (200, 401), r.status_code
    return r.status_code == 200


def test_password_sign_in_ends_the_browsers_previous_session(recgw):
    """ASVS 7.2.4: a sign-in terminates the session token it replaces.
    Before: the old session (of the same user, or of the previous user of
    a shared computer) stayed valid in Redis after a new sign-in in the
    same browser, so a copy of it (or one fixed before) kept working."""
    gw = recgw()
    other = "o-%s@example.com" % uuid.uuid4().hex[:10]
    add_user(gw, other)
    s, r = login(gw)
    assert r.status_code == 303, r.text
    first = s.cookies.get(COOKIE)
    assert alive(gw, first)
    s, r = login(gw, email=other, s=s)       # someone else, same browser
    assert r.status_code == 303, r.text
    second = s.cookies.get(COOKIE)
    assert second != first and alive(gw, second)
    assert not alive(gw, first)
    s, r = login(gw, email=other, s=s)       # the same user again
    assert r.status_code == 303
    assert alive(gw, s.cookies.get(COOKIE)) and not alive(gw, second)
    # a failed sign-in ends nothing
    third = s.cookies.get(COOKIE)
    s, r = login(gw, email=other, password="wrong " + PASSWORD, s=s)
    assert r.status_code == 401 and alive(gw, third)


def test_magic_link_sign_in_ends_the_browsers_previous_session(recgw):
    gw = recgw()
    other = "o-%s@example.com" % uuid.uuid4().hex[:10]
    add_user(gw, other)
    r = ask(gw, "/.postern/magic", gw.email)
    b = r.browser
    _, r = login(gw, email=other, s=b)
    assert r.status_code == 303, r.text
    before = b.cookies.get(COOKIE)
    assert alive(gw, before)
    _, token = link_in(gw.sink.wait_for(gw.email), "/.postern/magic")
    r = use_magic(b, gw, token)
    assert r.status_code == 303, r.text
    assert echo(b, gw).status_code == 200
    assert b.cookies.get(COOKIE) != before
    assert not alive(gw, before)
    assert api(b, gw, "/x").status_code == 200


NEW = "a different long passphrase 58"


@pytest.mark.parametrize("change", ["account", "cli", "reset", "disable"])
def test_password_change_kills_links_mailed_before(recgw, change):
    """A magic or reset link mailed before a password change (or before
    the account was disabled and enabled again) no longer works: whoever
    read the mailbox, or the link in a log, before the owner took the
    account back could otherwise sign in for up to account.token_ttl after
    the new password.  Before: both links still worked."""
    gw = recgw()
    links = {}
    for path in ("/.postern/magic", "/.postern/reset"):
        b = ask(gw, path, gw.email).browser
        links[path] = (b, link_in(gw.sink.wait_for(gw.email), path)[1])
    if change == "account":
        s, r = login(gw)
        change_password(gw, s, NEW)
    elif change == "cli":
        r = run_postern("user", "passwd", "-c", str(gw.config), gw.email,
                        stdin="%s\n%s\n" % (NEW, NEW))
        assert r.returncode == 0, r.stderr
    elif change == "reset":
        b, token = links.pop("/.postern/reset")
        r = use_reset(b, gw, token, NEW)
        assert r.status_code == 200 and "was changed" in r.text
    else:
        for verb in ("disable", "enable"):
            r = run_postern("user", verb, "-c", str(gw.config), gw.email)
            assert r.returncode == 0, r.stderr
    b, token = links["/.postern/magic"]
    r = use_magic(b, gw, token)
    assert r.status_code == 400, r.status_code
    assert api(b, gw, "/x").status_code == 401
    if "/.postern/reset" in links:
        b, token = links["/.postern/reset"]
        r = use_reset(b, gw, token, "yet another passphrase 314")
        assert r.status_code == 400, r.status_code
        # the password is the one of the change, not the link's
        _, r = login(gw, password=PASSWORD if change == "disable" else NEW)
        assert r.status_code == 303
