"""`postern user invite` (gateway/cli/usermod.c): a real gateway, a real
redis-server, a real SMTP server (the smtp_sink fixture, aiosmtpd).

The attacker's view: the token is never printed or logged, the invited
account cannot be signed in before the link is used, the link sets the
password once, a second use fails, and a new invitation kills the old
link.
"""
import hashlib
import json
import uuid

import pytest
import redis
import requests

from conftest import run_postern
from test_auth import auth_extra, make_key
from test_mfa import api, sign_in
from test_admin import ROUTES
from test_recover import link_in, use_reset
from test_routes import new_org

NEW = "a fresh invited passphrase 42"


@pytest.fixture
def invgw(gateway, redis_server, tmp_path, smtp_sink):
    def start(more=""):
        make_key(tmp_path)
        gw = gateway(extra=auth_extra(tmp_path) + smtp_sink.mail_config(
            retries=1) + more, app_extra=ROUTES, redis=redis_server,
            protect=None)
        gw.redis = redis.Redis(host=redis_server[0], port=redis_server[1],
                               decode_responses=True)
        gw.sink = smtp_sink
        gw.email = "inv-%s@example.com" % uuid.uuid4().hex[:10]
        return gw
    return start


def cli(gw, *args):
    return run_postern(*args, "-c", str(gw.config))


def accept(gw, token, password=NEW):
    return use_reset(requests.Session(), gw, token, password)


def test_invite_link_sets_the_password_once(invgw):
    gw = invgw("account:\n  invite_ttl: 3d\n")
    org = new_org(gw)
    r = cli(gw, "user", "invite", gw.email, "--org", org, "--role",
            "member", "--host", "127.0.0.1")
    assert r.returncode == 0, r.stderr
    assert "invitation sent to %s (new user, member of %s)" % (
        gw.email, org) in r.stdout
    msg = gw.sink.wait_for(gw.email)
    assert msg["Subject"] == "You have been invited to Postern"
    body = " ".join(msg.get_body(("plain",)).get_content().split())
    assert "You have been invited to Postern (organisation %s)" % org \
        in body
    assert "within 3 days" in body
    url, token = link_in(msg, "/.postern/reset")
    assert url.startswith("https://127.0.0.1:%d/" % gw.https_port)
    assert token not in r.stdout + r.stderr and token not in gw.log()
    # only the hash is stored, with the invitation's TTL
    h = hashlib.sha256(token.encode()).hexdigest()
    ttl = gw.redis.ttl("postern:otk:reset:" + h)
    assert 3 * 86400 - 60 < ttl <= 3 * 86400
    # the account exists, in the org, with no password to sign in with
    u = json.loads(cli(gw, "user", "show", gw.email, "--json").stdout)
    assert u["password"] is False and u["orgs"] == [{"org": org,
                                                     "role": "member"}]
    for pw in ("", NEW):
        assert sign_in(gw, password=pw)[1].status_code != 303
    # the link sets the password, once
    r = accept(gw, token)
    assert r.status_code == 200 and "was changed" in r.text
    s, r = sign_in(gw, password=NEW)
    assert r.status_code == 303
    assert api(s, gw, "/orgs/%s/x" % org).status_code == 200
    r = accept(gw, token, "another passphrase of mine")
    assert r.status_code == 400
    assert sign_in(gw, password="another passphrase of mine")[1] \
        .status_code != 303
    ev = [json.loads(x) for x in gw.redis.lrange("postern:audit:events",
                                                 0, -1)]
    inv = [e for e in ev if e["action"] == "user_invite"]
    assert len(inv) == 1 and inv[0]["target"] == gw.email
    assert inv[0]["org"] == org and inv[0]["reason"] == "member"
    assert inv[0]["actor"] == "operator"


def test_a_new_invitation_replaces_the_old_link(invgw):
    gw = invgw()
    assert cli(gw, "user", "invite", gw.email).returncode == 0
    url1, t1 = link_in(gw.sink.wait_for(gw.email), "/.postern/reset")
    # the default host: the first plain host name of an app
    assert url1.startswith("https://localhost:%d/" % gw.https_port)
    r = cli(gw, "user", "invite", gw.email)
    assert r.returncode == 0 and "existing user" in r.stdout
    _, t2 = link_in(gw.sink.wait_for(gw.email), "/.postern/reset")
    assert t1 != t2
    assert accept(gw, t1).status_code == 400
    assert accept(gw, t2).status_code == 200
    assert sign_in(gw, password=NEW)[1].status_code == 303


def test_invite_refusals(invgw, gateway, tmp_path, redis_server):
    gw = invgw()
    org = new_org(gw)
    for args in (("--org", org), ("--role", "member"),
                 ("--org", org, "--role", "emperor"),
                 ("--host", "elsewhere.example")):
        r = cli(gw, "user", "invite", gw.email, *args)
        assert r.returncode == 2, (args, r.stderr)
    r = cli(gw, "user", "invite", gw.email, "--org", "no-such-org",
            "--role", "member")
    assert r.returncode == 1 and "no organisation" in r.stderr
    assert gw.sink.count_to(gw.email) == 0
    # refused by the SMTP server: told, and nothing says it was sent
    gw.sink.refuse(gw.email)
    r = cli(gw, "user", "invite", gw.email)
    assert r.returncode == 1 and "not sent" in r.stderr
    assert "no link was sent" in r.stderr
    # without a mail: section there is no invitation
    gw2 = gateway(extra=auth_extra(tmp_path), app_extra=ROUTES,
                  redis=redis_server, protect=None)
    r = cli(gw2, "user", "invite", "x-%s@example.com" % uuid.uuid4().hex)
    assert r.returncode == 1 and "no mail: section" in r.stderr
