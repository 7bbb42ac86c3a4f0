"""Single sign-on, the account's side, against a real OpenID Provider, a
real gateway (two of them on one Redis for back-channel logout) and a real
Redis: linking and provisioning (a verified email only), email domains,
claim-mapped org roles, orgs that must sign in with their provider (the
password form, magic links and resets), RP-initiated and back-channel
logout.  The flow itself: test_sso.py."""
import time
import urllib.parse

import pytest
import requests

from conftest import run_postern
from gwproc import write_config
from test_auth import PASSWORD, add_user, echo, headers_of, login
from test_mfa import csrf_of, page
from test_recover import ask
from test_sso import (CLIENT, assert_failure_page, assert_signed_in,
                      browser, query, rejected, session_cookie,
                      sign_in, ssogw, sso_redis)  # noqa: F401 (fixtures)

CORP_MAPS = [{"claim": "groups", "value": "admins", "org": "corp",
              "role": "admin"},
             {"claim": "groups", "value": "staff", "org": "corp",
              "role": "member"}]


def cli(gw, *args):
    """`postern ARGS[0] ARGS[1] -c CONFIG ARGS[2:]`, which must succeed."""
    r = run_postern(args[0], args[1], "-c", str(gw.config), *args[2:])
    assert r.returncode == 0, (args, r.stderr)
    return r


def user_id(gw, email):
    return gw.redis.get("postern:email:" + email)


def orgs_of(gw, email):
    uid = user_id(gw, email)
    assert uid, email
    return gw.redis.hgetall("postern:user:%s:orgs" % uid)


def n_users(gw):
    return gw.redis.scard("postern:users")


def without(claims, name):
    claims.pop(name)
    return claims


def signed_out(s, gw):
    return echo(s, gw, "/private/ok").status_code in (302, 401)


# ---- linking and provisioning ----------------------------------------------

def test_unverified_email_never_provisions_or_links(ssogw):
    gw = ssogw(link_by_email=True)
    s, cb = sign_in(gw, "mallory")
    assert_failure_page(cb, 403, "did not confirm this email")
    rejected(gw, "sso_email_unverified")
    assert n_users(gw) == 0
    assert gw.redis.keys("postern:ssoid:*") == []
    # an existing password user with that address is not taken over
    add_user(gw, "mallory@corp.example")
    before = n_users(gw)
    s, cb = sign_in(gw, "mallory")
    assert_failure_page(cb, 403, "did not confirm this email")
    assert n_users(gw) == before
    assert gw.redis.keys("postern:ssoid:*") == []
    uid = user_id(gw, "mallory@corp.example")
    assert not gw.redis.exists("postern:user:%s:sso" % uid)
    # the string "false", a missing claim: the same
    for over in ({"email_verified": "false"}, {"email_verified": None}):
        s, start = _start(gw)
        r = gw.op.login(start, "alice", s)
        gw.op.next_id_token(gw.op.sign(gw.op.id_token_claims(
            CLIENT, r.authorization["nonce"], sub="bob", **over)))
        cb = s.get(r.callback, allow_redirects=False)
        assert_failure_page(cb, 403, "did not confirm")
    assert n_users(gw) == before


def _start(gw):
    s = browser()
    return s, gw.url + "/.postern/sso/corp/start?rd=/"


def test_hosted_domain_is_google_only(ssogw, tmp_path, tls_cert, upstream,
                                      oidc_op):
    d = tmp_path / "hd"
    d.mkdir()
    sf = d / "s.secret"
    sf.write_text("x" * 32)
    sf.chmod(0o600)
    from oidcop import sso_section
    from test_sso import provider
    cfg, _ = write_config(d, tls_cert, upstream, extra=sso_section(
        [provider(oidc_op, sf, hosted_domain="corp.example")]))
    r = run_postern("check", "-c", str(cfg))
    assert r.returncode != 0
    assert "hosted_domain is Google's; use email_domains" in r.stderr
    assert "postern.yaml:" in r.stderr


def test_email_domains_refuse_other_domains(ssogw):
    gw = ssogw(email_domains=["corp.example"])
    s, cb = sign_in(gw, "eve")
    assert_failure_page(cb, 403, "not one this service accepts")
    rejected(gw, "sso_email_domain")
    assert n_users(gw) == 0
    # look-alike domains, verified or not
    for email in ("zed@notcorp.example", "zed@corp.example.evil",
                  "zed@sub.corp.example", "zed", "corp.example@evil.test"):
        s, start = _start(gw)
        r = gw.op.login(start, "alice", s)
        gw.op.next_id_token(gw.op.sign(gw.op.id_token_claims(
            CLIENT, r.authorization["nonce"], sub="zed", email=email)))
        cb = s.get(r.callback, allow_redirects=False)
        assert_failure_page(cb, 403, "not one this service accepts")
    assert n_users(gw) == 0
    s, cb = sign_in(gw, "alice")
    assert cb.status_code == 303
    assert n_users(gw) == 1


def test_provisioning_maps_claims_to_org_and_role(ssogw):
    gw = ssogw(claims=CORP_MAPS)
    cli(gw, "org", "add", "corp")
    s, cb = sign_in(gw, "alice")               # groups staff, admins
    assert cb.status_code == 303, cb.text
    h = assert_signed_in(s, gw)
    assert h["x-postern-org"] == "corp"
    assert h["x-postern-role"] == "admin"      # the higher role wins
    assert orgs_of(gw, "alice@corp.example") == {"corp": "admin"}
    s, cb = sign_in(gw, "bob")                 # groups staff
    assert cb.status_code == 303
    assert orgs_of(gw, "bob@corp.example") == {"corp": "member"}
    assert gw.redis.hgetall("postern:org:corp:members") == {
        user_id(gw, "alice@corp.example"): "admin",
        user_id(gw, "bob@corp.example"): "member"}
    assert '"action":"sso_role"' in gw.log()


def test_role_follows_the_claims_at_each_sign_in(ssogw):
    gw = ssogw(claims=CORP_MAPS)
    cli(gw, "org", "add", "corp")
    cli(gw, "org", "add", "side")
    _, cb = sign_in(gw, "alice")
    assert cb.status_code == 303
    cli(gw, "org", "member", "side", "alice@corp.example", "--role",
        "viewer")                                # not managed by the maps

    def again(groups):
        s, start = _start(gw)
        r = gw.op.login(start, "alice", s)
        gw.op.next_id_token(gw.op.sign(gw.op.id_token_claims(
            CLIENT, r.authorization["nonce"], groups=groups)))
        cb = s.get(r.callback, allow_redirects=False)
        assert cb.status_code == 303, cb.text
        return s

    n = gw.log().count('"action":"sso_role"')
    again(["staff"])
    assert orgs_of(gw, "alice@corp.example") == {"corp": "member",
                                                 "side": "viewer"}
    gw.wait_log('"action":"sso_role"', n + 1)
    again(["staff"])                             # no change, no event
    assert gw.log().count('"action":"sso_role"') == n + 1
    s = again([])
    assert orgs_of(gw, "alice@corp.example") == {"side": "viewer"}
    uid = user_id(gw, "alice@corp.example")
    assert not gw.redis.hexists("postern:org:corp:members", uid)
    assert gw.log().count('"action":"sso_role"') == n + 2
    assert headers_of(echo(s, gw, "/private/ok"))["x-postern-org"] == "side"
    # a groups claim of the wrong type grants nothing, breaks nothing
    again("admins-but-a-string")
    assert orgs_of(gw, "alice@corp.example") == {"side": "viewer"}


def test_link_by_email_links_the_password_user(ssogw):
    gw = ssogw(link_by_email=True, provision=False)
    add_user(gw, "alice@corp.example")
    uid = user_id(gw, "alice@corp.example")
    s, cb = sign_in(gw, "alice")
    assert cb.status_code == 303, cb.text
    h = assert_signed_in(s, gw)
    assert h["x-postern-user"] == uid
    assert n_users(gw) == 1
    assert gw.redis.hgetall("postern:user:%s:sso" % uid) == {"corp": "alice"}
    assert '"action":"sso_link"' in gw.log()
    # the password still works; a second SSO sign-in is "known"
    _, r = login(gw, "alice@corp.example", s=browser())
    assert r.status_code == 303
    s, cb = sign_in(gw, "alice")
    assert cb.status_code == 303
    assert gw.log().count('"action":"sso_link"') == 1
    # provisioning off: an unknown person gets no account
    s, cb = sign_in(gw, "bob")
    assert_failure_page(cb, 403, "no account for you")
    rejected(gw, "sso_no_account")
    assert n_users(gw) == 1


def test_no_link_by_email_refuses_a_taken_address(ssogw):
    gw = ssogw(link_by_email=False)
    add_user(gw, "alice@corp.example")
    s, cb = sign_in(gw, "alice")
    assert_failure_page(cb, 403, "already exists")
    rejected(gw, "sso_email_taken")
    assert gw.redis.keys("postern:ssoid:*") == []
    assert n_users(gw) == 1
    uid = user_id(gw, "alice@corp.example")
    assert not gw.redis.exists("postern:user:%s:sso" % uid)
    _, r = login(gw, "alice@corp.example", s=browser())
    assert r.status_code == 303


def test_disabled_user_stays_disabled(ssogw):
    gw = ssogw()
    _, cb = sign_in(gw, "alice")
    assert cb.status_code == 303
    cli(gw, "user", "disable", "alice@corp.example")
    s, cb = sign_in(gw, "alice")
    assert_failure_page(cb, 403, "disabled")
    rejected(gw, "sso_user_disabled")
    assert signed_out(s, gw)


# ---- orgs that must sign in with their provider ----------------------------

@pytest.fixture
def reqgw(ssogw, smtp_sink):
    """corp (domain corp.example) must sign in with provider corp; other
    orgs not; magic links and resets are mailed to smtp_sink."""
    def start():
        gw = ssogw(orgs=[{"org": "corp", "provider": "corp",
                          "required": True, "domains": ["corp.example"]}],
                   link_by_email=True,
                   extra=smtp_sink.mail_config(retries=1) +
                   "account:\n  token_ttl: 1m\n  magic_links: true\n")
        cli(gw, "org", "add", "corp")
        cli(gw, "org", "add", "other")
        add_user(gw, "alice@corp.example")
        add_user(gw, "carol@outside.example")      # a member by membership
        cli(gw, "org", "member", "corp", "carol@outside.example", "--role",
            "member")
        add_user(gw, "dave@other.example")
        cli(gw, "org", "member", "other", "dave@other.example", "--role",
            "admin")
        gw.sink = smtp_sink
        return gw
    return start


def sent_to_provider(r, email, rd="/private/y"):
    assert r.status_code == 303, r.text
    loc = r.headers["Location"]
    assert loc.startswith("/.postern/sso/corp/start?"), loc
    q = query(loc)
    assert q["rd"] == rd and q["login_hint"] == email
    assert session_cookie(r) is None


def test_required_org_password_form_goes_to_the_provider(reqgw):
    gw = reqgw()
    # by domain: right or wrong password, or none (the domain is public)
    for pw in (PASSWORD, "wrong password 123", ""):
        _, r = login(gw, "alice@corp.example", password=pw,
                     rd="/private/y", s=browser())
        sent_to_provider(r, "alice@corp.example")
    # by membership: the right password goes to the provider...
    s, r = login(gw, "carol@outside.example", rd="/private/y", s=browser())
    sent_to_provider(r, "carol@outside.example")
    assert signed_out(s, gw)
    assert '"reason":"sso_required"' in gw.log()
    # ...a wrong one is refused as for anyone (nothing about membership)
    _, r = login(gw, "carol@outside.example", password="wrong password 1",
                 s=browser())
    assert r.status_code == 401
    # and the flow it is sent to works, back at rd with the hint passed on
    s = browser()
    _, r = login(gw, "alice@corp.example", rd="/private/y", s=s)
    lr = gw.op.login(urllib.parse.urljoin(gw.url, r.headers["Location"]),
                     "alice", s)
    assert lr.authorization["login_hint"] == "alice@corp.example"
    cb = s.get(lr.callback, allow_redirects=False)
    assert cb.status_code == 303, cb.text


def test_other_orgs_sign_in_with_a_password(reqgw):
    gw = reqgw()
    s, r = login(gw, "dave@other.example", rd="/private/y", s=browser())
    assert r.status_code == 303 and r.headers["Location"] == "/private/y"
    h = headers_of(echo(s, gw, "/private/ok"))
    assert h["x-postern-email"] == "dave@other.example"
    # also while the provider is down
    gw.op.down()
    s, r = login(gw, "dave@other.example", s=browser())
    assert r.status_code == 303 and session_cookie(r)
    gw.op.up()


def test_required_org_gets_no_magic_link_or_reset(reqgw):
    gw = reqgw()
    # the sink is the session's: count from here (dave's sign-ins in
    # earlier tests may have been mailed as new-device notices)
    before = gw.sink.count_to("dave@other.example")
    for path in ("/.postern/magic", "/.postern/reset"):
        for email in ("alice@corp.example", "carol@outside.example"):
            r = ask(gw, path, email)
            assert r.status_code == 200, r.text
        # the control: another org's member gets the mail
        r = ask(gw, path, "dave@other.example")
        assert r.status_code == 200
        gw.sink.wait_for("dave@other.example")
    time.sleep(0.7)
    assert gw.sink.count_to("alice@corp.example") == 0
    assert gw.sink.count_to("carol@outside.example") == 0
    assert gw.sink.count_to("dave@other.example") == before + 2


# ---- logout ----------------------------------------------------------------

def logout(s, gw):
    token = csrf_of(page(s, gw, "/.postern/login").text)
    return s.post(gw.url + "/.postern/logout", data={"csrf": token},
                  allow_redirects=False, headers={"Origin": gw.url})


def test_rp_initiated_logout_goes_to_the_provider(ssogw):
    gw = ssogw(post_logout_redirect="/.postern/login")
    s, cb = sign_in(gw)
    cookie = session_cookie(cb)
    r = logout(s, gw)
    assert r.status_code == 303, r.text
    loc = r.headers["Location"]
    assert loc.startswith(gw.op.issuer + "/session/end?"), loc
    q = query(loc)
    assert q == {"client_id": CLIENT, "post_logout_redirect_uri":
                 "https://127.0.0.1:%d/.postern/login" % gw.https_port}
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    # the session is gone, even replayed by hand
    r2 = echo(browser(), gw, "/private/ok",
              headers={"Cookie": "__Host-postern=" + cookie})
    assert r2.status_code in (302, 401)
    # the provider asks, signs out and comes back to post_logout_redirect
    back = gw.op.confirm_logout(r, s)
    assert back.headers["Location"] == q["post_logout_redirect_uri"]
    # a password session's logout stays at home
    add_user(gw, "pat@elsewhere.example")
    p, _ = login(gw, "pat@elsewhere.example", s=browser())
    r = logout(p, gw)
    assert r.status_code == 303 and r.headers["Location"] == \
        "/.postern/login?signed_out=1"


def test_logout_without_post_logout_redirect_stays_home(ssogw):
    gw = ssogw()
    s, cb = sign_in(gw)
    r = logout(s, gw)
    assert r.status_code == 303
    assert r.headers["Location"] == "/.postern/login?signed_out=1"
    assert signed_out(s, gw)


def second_gateway(gw, gateway, sso_redis, register=True, workers=2):
    """Another instance on the same Redis, same config; <register>: the
    provider's client points at it (back-channel logout goes there, and
    sign-ins at the first one end)."""
    gw2 = gateway(extra=gw.extra, redis=sso_redis, protect=True,
                  workers=workers)
    if register:
        gw.op.register(gw2, "corp", secret=gw.secret)
    return gw2


def post_logout_token(gw, token):
    return requests.post(gw.url + "/.postern/sso/corp/backchannel-logout",
                         data={"logout_token": token}, verify=False,
                         timeout=10, allow_redirects=False)


def test_backchannel_logout_on_another_instance(ssogw, gateway, sso_redis):
    gw = ssogw(link_by_email=True)
    add_user(gw, "alice@corp.example")
    add_user(gw, "pat@elsewhere.example")
    a, cb = sign_in(gw, "alice")
    assert cb.status_code == 303
    sid = gw.op.issued()[-1].get("sid")
    assert sid, gw.op.issued()[-1]
    b, cb = sign_in(gw, "bob")
    assert cb.status_code == 303
    pw_alice, r = login(gw, "alice@corp.example", s=browser())
    assert r.status_code == 303
    pat, _ = login(gw, "pat@elsewhere.example", s=browser())
    gw2 = second_gateway(gw, gateway, sso_redis)
    assert assert_signed_in(a, gw2)          # a shared session
    res = gw.op.backchannel_logout("alice")
    assert res["status"] in (200, 204), res
    assert signed_out(a, gw) and signed_out(a, gw2)
    gw2.wait_log('"reason":"sso_backchannel_logout"')
    assert '"action":"sso_backchannel_logout"' in gw2.log()
    # others untouched: bob's SSO session, password sessions (alice's too)
    assert_signed_in(b, gw, "bob@corp.example")
    assert_signed_in(pw_alice, gw, "alice@corp.example")
    assert_signed_in(pat, gw, "pat@elsewhere.example")


def test_backchannel_logout_tokens_an_attacker_sends(ssogw, gateway,
                                                    sso_redis):
    from oidcop import jws, new_key
    gw = ssogw()
    a, cb = sign_in(gw, "alice")
    assert cb.status_code == 303
    b, _ = sign_in(gw, "bob")
    gw2 = second_gateway(gw, gateway, sso_redis, register=False, workers=1)
    op = gw.op
    EV = "http://schemas.openid.net/event/backchannel-logout"
    bad = {
        "nonce": (op.sign(op.logout_token_claims(CLIENT, nonce="n")),
                  "sso_token_nonce"),
        "no_events": (op.sign(op.logout_token_claims(CLIENT, events=None)),
                      ("sso_token_events", "sso_token_claims")),
        "other_event": (op.sign(op.logout_token_claims(
            CLIENT, events={"http://example.com/other": {}})),
            "sso_token_events"),
        "event_not_object": (op.sign(op.logout_token_claims(
            CLIENT, events={EV: "x"})), "sso_token_events"),
        "aud": (op.sign(op.logout_token_claims("someone-else")),
                "sso_token_audience"),
        "iss": (op.sign(op.logout_token_claims(CLIENT,
                                               iss="https://evil.test")),
                "sso_token_issuer"),
        "no_jti": (op.sign(op.logout_token_claims(CLIENT, jti=None)),
                   "sso_token_claims"),
        "no_sub_sid": (op.sign(without(op.logout_token_claims(CLIENT),
                                       "sub")), "sso_token_claims"),
        "sub_null": (op.sign(op.logout_token_claims(CLIENT, sub=None)),
                     "sso_token_claims"),
        "expired": (op.sign(op.logout_token_claims(
            CLIENT, exp=int(time.time()) - 600,
            iat=int(time.time()) - 700)), "sso_token_expired"),
        "bad_sig": (op.sign(op.logout_token_claims(CLIENT),
                            key=new_key("rsa", "rsa1")),
                    "jws_bad_signature"),
        "alg_none": (jws(op.logout_token_claims(CLIENT),
                         header={"kid": "rsa1"}) + "eA",
                     "jws_alg_refused"),
        "hs256": (jws(op.logout_token_claims(CLIENT),
                      secret=op.key("rsa1").public_pem(),
                      header={"kid": "rsa1"}), "jws_alg_refused"),
        "garbage": ("not.a.token", "jws_malformed"),
    }
    jwks = op.hits("/jwks")
    for i in range(3):      # made-up kids: one refetch at most (30 s rule)
        bad["kid%d" % i] = (op.sign(op.logout_token_claims(CLIENT),
                                    key=new_key("rsa", "made-up-%d" % i)),
                            "jws_unknown_kid")
    for name, (token, reason) in bad.items():
        r = post_logout_token(gw2, token)
        assert r.status_code == 400, (name, r.text)
        assert r.json()["error"] == "invalid_request", name
        rejected(gw2, reason)
    for body in ("", "logout_token=", "logout_token=a&logout_token=b",
                 "x=1"):
        r = requests.post(gw2.url + "/.postern/sso/corp/backchannel-logout",
                          data=body, verify=False, timeout=10, headers={
                              "Content-Type":
                              "application/x-www-form-urlencoded"})
        assert r.status_code == 400, (body, r.text)
    r = requests.get(gw2.url + "/.postern/sso/corp/backchannel-logout",
                     verify=False, timeout=10)
    assert r.status_code == 405
    assert op.hits("/jwks") == jwks + 2     # gw2's first fetch, a refetch
    assert_signed_in(a, gw)
    assert_signed_in(b, gw, "bob@corp.example")
    # a good one (sub only: every SSO session of alice), then its replay
    good = op.sign(op.logout_token_claims(CLIENT, sub="alice"))
    r = post_logout_token(gw2, good)
    assert r.status_code == 200, r.text
    assert signed_out(a, gw)
    a2, cb = sign_in(gw, "alice")
    assert cb.status_code == 303
    r = post_logout_token(gw2, good)
    assert r.status_code == 400
    rejected(gw2, "sso_logout_token_replay")
    r = post_logout_token(gw, good)             # on the other instance too
    assert r.status_code == 400
    assert_signed_in(a2, gw)
    assert_signed_in(b, gw, "bob@corp.example")
    # sid only: just that session
    sid = op.issued()[-1]["sid"]
    a3, _ = sign_in(gw, "alice")
    r = post_logout_token(gw2, op.sign(without(op.logout_token_claims(
        CLIENT, sid=sid), "sub")))
    assert r.status_code == 200, r.text
    assert signed_out(a2, gw)
    assert_signed_in(a3, gw)


def test_backchannel_logout_can_be_turned_off(ssogw):
    gw = ssogw(backchannel_logout=False)
    a, _ = sign_in(gw)
    r = post_logout_token(gw, gw.op.sign(gw.op.logout_token_claims(
        CLIENT, sub="alice")))
    assert r.status_code == 404
    assert_signed_in(a, gw)


def test_required_org_cannot_be_entered_through_another_provider(
        ssogw, oidc_op, tmp_path):
    """corp's members must use provider corp: a second provider (here the
    same OP under another client) that links by email is no way around
    it, by membership or by domain."""
    sf = tmp_path / "other.secret"
    sf.write_text("other-secret-0123456789abcdef")
    sf.chmod(0o600)
    gw = ssogw(orgs=[{"org": "corp", "provider": "corp", "required": True,
                      "domains": ["corp.example"]}],
               link_by_email=True,
               more=[{"name": "other", "type": "oidc",
                      "issuer": oidc_op.issuer, "client_id": "postern-other",
                      "client_secret_file": str(sf), "display_name": "Other",
                      "link_by_email": True, "provision": True}])
    oidc_op.register(gw, "other", secret="other-secret-0123456789abcdef")
    cli(gw, "org", "add", "corp")
    add_user(gw, "carol@outside.example")
    cli(gw, "org", "member", "corp", "carol@outside.example", "--role",
        "member")
    accounts = dict(oidc_op.accounts)
    for who, email in (("alice", "alice@corp.example"),
                       ("carol", "carol@outside.example")):
        s = browser()
        r = oidc_op.login(gw.url + "/.postern/sso/other/start?rd=/", "alice",
                          s)
        gw.op.next_id_token(gw.op.sign(gw.op.id_token_claims(
            "postern-other", r.authorization["nonce"], sub=who,
            email=email, email_verified=True)))
        cb = s.get(r.callback, allow_redirects=False)
        assert_failure_page(cb, 403, "Your organisation signs in with "
                            "Corp SSO")
        assert signed_out(s, gw)
    rejected(gw, "sso_required", 2)
    assert accounts == oidc_op.accounts
    # by domain it is refused before any account or link is made
    assert user_id(gw, "alice@corp.example") is None
    # through corp itself: fine
    s, cb = sign_in(gw, "alice")
    assert cb.status_code == 303, cb.text


def test_logout_with_the_provider_down_still_ends_the_session(ssogw):
    """Sign-out never waits on the provider beyond its timeout and always
    ends the Postern session."""
    gw = ssogw(post_logout_redirect="/.postern/login", timeout="1s")
    s, cb = sign_in(gw)
    assert cb.status_code == 303
    gw.op.down(hang=True)
    t = time.monotonic()
    r = logout(s, gw)
    assert r.status_code == 303, r.text
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    assert time.monotonic() - t < 5
    assert signed_out(s, gw)
    gw.op.up()
