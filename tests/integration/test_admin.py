"""The help-desk commands of `postern user` (gateway/cli/usermod.c,
gateway/identity/useradmin.c) against a real running gateway and a real
redis-server: delete, reset-2fa.

The attacker's view: a deleted user's cookie, second factor, linked
identity or id must never work or come back; a reset second factor must
not leave a session that passed it; a half-typed confirmation deletes
nothing; every action is in the audit chain.
"""
import hashlib
import json
import uuid

import pytest
import redis

from conftest import run_postern
from test_auth import PASSWORD, add_user, auth_extra, make_key
from test_mfa import api, enrol, page, sign_in, wait_fresh_step
from test_routes import member, new_org

ROUTES = """\
  routes:
    - path: /api/orgs/{org}/invoices/**
      auth: [apikey]
      scopes: [read, invoices:write]
    - path: /orgs/{org}/**
      role: viewer
    - path: /**
      authenticated: true
"""


@pytest.fixture
def admgw(gateway, redis_server, tmp_path):
    make_key(tmp_path)
    gw = gateway(extra=auth_extra(tmp_path), app_extra=ROUTES,
                 redis=redis_server, protect=None)
    gw.redis = redis.Redis(host=redis_server[0], port=redis_server[1],
                           decode_responses=True)
    gw.email = "adm-%s@example.com" % uuid.uuid4().hex[:10]
    add_user(gw, gw.email)
    return gw


def cli(gw, *args, stdin=None):
    return run_postern(*args, "-c", str(gw.config), stdin=stdin)


def uid(gw, email=None):
    return gw.redis.get("postern:email:" + (email or gw.email))


def audit_actions(gw, target):
    out = []
    for line in gw.redis.lrange("postern:audit:events", 0, -1):
        e = json.loads(line)
        if e["target"] == target:
            out.append((e["action"], e["actor"], e["outcome"]))
    return out


def keys_naming(gw, ident):
    """Every key whose name or value names <ident>, but the tombstones
    and the audit trail."""
    found = []
    for k in gw.redis.scan_iter("postern:*"):
        if k in ("postern:users:deleted", "postern:audit:events",
                 "postern:audit:outbox"):
            continue
        if ident in k:
            found.append(k)
            continue
        t = gw.redis.type(k)
        vals = ([gw.redis.get(k)] if t == "string" else
                gw.redis.smembers(k) if t == "set" else
                list(gw.redis.hkeys(k)) + list(gw.redis.hvals(k))
                if t == "hash" else [])
        if any(v and ident in v for v in vals):
            found.append(k)
    return found


def test_delete_needs_confirmation_off_a_terminal(admgw):
    gw = admgw
    i = uid(gw)
    for stdin in (None, "y\n", gw.email + "\n"):
        r = cli(gw, "user", "delete", gw.email, stdin=stdin)
        assert r.returncode == 2, r.stderr
        assert "--yes" in r.stderr
    assert uid(gw) == i and gw.redis.exists("postern:user:" + i)
    r = cli(gw, "user", "delete", "nobody@example.com", "--yes")
    assert r.returncode == 1 and "no user nobody@example.com" in r.stderr


def test_delete_removes_everything_and_tombstones_the_id(admgw):
    gw = admgw
    wait_fresh_step()
    org = new_org(gw)
    member(gw, org, gw.email, "admin")
    s, r = sign_in(gw)
    assert r.status_code == 303
    key, codes = enrol(gw, s)
    assert api(s, gw, "/orgs/%s/x" % org).status_code == 200
    s2, r = sign_in(gw)        # a second session, stopped at its 2FA step
    i = uid(gw)
    # a linked identity, as the SSO sign-in stores it
    sub = "sub-" + uuid.uuid4().hex
    subkey = "postern:ssoid:op1:" + hashlib.sha256(sub.encode()).hexdigest()
    gw.redis.hset("postern:user:%s:sso" % i, "op1", sub)
    gw.redis.set(subkey, i)
    # another user of the same org stays as it is
    other = "adm-other-%s@example.com" % uuid.uuid4().hex[:8]
    add_user(gw, other)
    member(gw, org, other, "viewer")
    so, r = sign_in(gw, email=other)
    assert api(so, gw, "/orgs/%s/x" % org).status_code == 200

    r = cli(gw, "user", "delete", gw.email, "--yes")
    assert r.returncode == 0, r.stderr
    assert "user %s deleted; 2 sessions revoked" % gw.email in r.stdout
    # the running gateway refuses the cookie at once (its cache too)
    for path in ("/x", "/orgs/%s/x" % org):
        assert api(s, gw, path).status_code == 401
    assert api(s2, gw, "/x").status_code == 401
    assert page(s, gw, "/.postern/account").status_code in (302, 303, 401)
    # nothing names the id any more but the tombstone
    assert keys_naming(gw, i) == []
    assert gw.redis.sismember("postern:users:deleted", i)
    assert i not in gw.redis.smembers("postern:users")
    assert gw.redis.hget("postern:org:%s:members" % org, i) is None
    assert not gw.redis.exists(subkey)
    # the other member keeps its access
    assert api(so, gw, "/orgs/%s/x" % org).status_code == 200
    assert gw.redis.hget("postern:org:%s:members" % org, uid(gw, other)) \
        == "viewer"
    # the password no longer signs in
    _, r = sign_in(gw)
    assert r.status_code != 303
    # the same email later is a new user with a new id and no 2FA, org
    add_user(gw, gw.email)
    j = uid(gw)
    assert j and j != i
    assert gw.redis.hget("postern:user:" + j, "totp") is None
    assert not gw.redis.exists("postern:user:%s:orgs" % j)
    s3, r = sign_in(gw)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    assert api(s3, gw, "/x").status_code == 200
    assert api(s3, gw, "/orgs/%s/x" % org).status_code == 403
    assert ("user_delete", "operator", "success") in audit_actions(
        gw, gw.email)


def test_reset_2fa_then_password_alone_and_re_enrol(admgw):
    gw = admgw
    wait_fresh_step()
    s, r = sign_in(gw)
    key, codes = enrol(gw, s)
    i = uid(gw)
    assert gw.redis.hget("postern:user:" + i, "totp")
    assert gw.redis.scard("postern:user:%s:backup" % i) == 10
    # while enrolled, a new sign-in stops at the second step
    s2, r = sign_in(gw)
    assert r.headers["Location"].startswith("/.postern/2fa")
    r = cli(gw, "user", "reset-2fa", gw.email)
    assert r.returncode == 0, r.stderr
    assert "2 sessions revoked" in r.stdout
    # the session that had passed the second factor ends at once
    assert api(s, gw, "/x").status_code == 401
    assert api(s2, gw, "/x").status_code == 401
    h = gw.redis.hgetall("postern:user:" + i)
    assert "totp" not in h and "totp_pending" not in h \
        and "totp_step" not in h
    assert not gw.redis.exists("postern:user:%s:backup" % i)
    assert h["password"].startswith("$argon2id$")   # the password stays
    # the password alone signs in now, and the user can enrol again
    s3, r = sign_in(gw)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    assert api(s3, gw, "/x").status_code == 200
    wait_fresh_step()
    key2, codes2 = enrol(gw, s3)
    assert key2 != key and not set(codes2) & set(codes)
    assert ("user_reset_2fa", "operator", "success") in audit_actions(
        gw, gw.email)
    r = cli(gw, "user", "reset-2fa", "nobody@example.com")
    assert r.returncode == 1 and "no user" in r.stderr


ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def show(gw, email=None, *more):
    r = cli(gw, "user", "show", email or gw.email, *more)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout) if "--json" in more else r.stdout


def test_show_has_sessions_second_factor_and_sign_in(admgw):
    import re
    gw = admgw
    org = new_org(gw)
    member(gw, org, gw.email, "member")
    u = show(gw, None, "--json")
    assert u["last_sign_in"] == "" and u["sessions"] == 0
    assert u["active_sessions"] == [] and u["two_factor"] is False
    assert u["backup_codes_left"] == 0 and u["password"] is True
    wait_fresh_step()
    s, r = sign_in(gw)
    key, codes = enrol(gw, s)
    s2, r = sign_in(gw)
    u = show(gw, None, "--json")
    assert set(u) == {"email", "id", "name", "disabled", "created",
                      "last_sign_in", "password_changed", "password",
                      "two_factor", "backup_codes_left", "sessions",
                      "active_sessions", "orgs", "identities"}
    assert u["id"] == uid(gw) and u["email"] == gw.email
    assert re.fullmatch(ISO, u["last_sign_in"]), u
    assert re.fullmatch(ISO, u["created"])
    assert u["two_factor"] is True and u["backup_codes_left"] == 10
    assert u["sessions"] == 2 and len(u["active_sessions"]) == 2
    for one in u["active_sessions"]:
        assert re.fullmatch("[0-9a-f]{16}", one["id"])
        assert re.fullmatch(ISO, one["created"])
        assert re.fullmatch(ISO, one["last_seen"])
        assert one["method"] == "password"
    # the enrolled session passed the second factor, the new one did not
    assert sorted(x["mfa"] for x in u["active_sessions"]) == [False, True]
    assert u["orgs"] == [{"org": org, "role": "member"}]
    assert u["identities"] == []
    # the session ids are the first digits of the stored hashes: nothing
    # a cookie can be made from
    for c in list(s.cookies) + list(s2.cookies):
        assert c.value[:16] not in json.dumps(u)
    text = show(gw)
    assert "last sign-in:" in text and u["last_sign_in"] in text
    assert "enrolled, 10 backup codes left" in text
    assert re.search(r"^  ID +CREATED +LAST SEEN +METHOD +2FA$", text, re.M)
    assert re.search(r"^  ORG +ROLE$", text, re.M)
    assert "linked identities: none" in text
    # a session that ends leaves the listing
    assert cli(gw, "user", "revoke-sessions", gw.email).returncode == 0
    u = show(gw, None, "--json")
    assert u["sessions"] == 0 and u["active_sessions"] == []


def org_json(gw, *args):
    r = cli(gw, "org", *args, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_org_list_and_show(admgw):
    gw = admgw
    org = new_org(gw)
    member(gw, org, gw.email, "admin")
    other = "adm-o-%s@example.com" % uuid.uuid4().hex[:8]
    add_user(gw, other)
    member(gw, org, other, "viewer")
    r = cli(gw, "apikey", "create", "--org", org, "--scope", "read")
    assert r.returncode == 0, r.stderr
    rows = org_json(gw, "list")
    mine = [x for x in rows if x["slug"] == org]
    assert len(mine) == 1 and set(mine[0]) == {"slug", "name", "members",
                                               "created"}
    assert mine[0]["members"] == 2 and mine[0]["name"] == org
    assert [x["slug"] for x in rows] == sorted(x["slug"] for x in rows)
    text = cli(gw, "org", "list").stdout.splitlines()
    assert text[0] == "SLUG\tNAME\tMEMBERS\tCREATED"
    assert any(ln.startswith(org + "\t") for ln in text[1:])
    o = org_json(gw, "show", org)
    assert set(o) == {"slug", "name", "created", "members", "apps",
                      "domains", "api_keys", "share_links"}
    assert o["members"] == sorted([
        {"email": gw.email, "id": uid(gw), "role": "admin"},
        {"email": other, "id": uid(gw, other), "role": "viewer"}],
        key=lambda m: m["email"])
    assert o["api_keys"] == 1 and o["share_links"] == 0
    assert o["apps"] == [] and o["domains"] == []
    text = cli(gw, "org", "show", org).stdout
    assert "EMAIL" in text and "ROLE" in text and other in text
    r = cli(gw, "org", "show", "no-such-org")
    assert r.returncode == 1 and "no organisation no-such-org" in r.stderr


def test_remove_member_reaches_the_running_gateway(admgw):
    gw = admgw
    org = new_org(gw)
    member(gw, org, gw.email, "member")
    s, r = sign_in(gw)
    assert api(s, gw, "/orgs/%s/x" % org).status_code == 200
    r = cli(gw, "org", "remove-member", org, gw.email)
    assert r.returncode == 0, r.stderr
    assert api(s, gw, "/orgs/%s/x" % org).status_code == 403
    assert api(s, gw, "/x").status_code == 200      # still signed in
    assert gw.redis.hget("postern:org:%s:members" % org, uid(gw)) is None
    assert gw.redis.hget("postern:user:%s:orgs" % uid(gw), org) is None
    r = cli(gw, "org", "remove-member", org, gw.email)
    assert r.returncode == 1 and "not a member" in r.stderr
    assert ("org_remove_member", "operator", "success") in audit_actions(
        gw, gw.email)


def test_rename_moves_everything_and_members_keep_access(admgw):
    gw = admgw
    org = new_org(gw)
    new = org + "-new"
    member(gw, org, gw.email, "member")
    r = cli(gw, "apikey", "create", "--org", org, "--scope", "read")
    assert r.returncode == 0, r.stderr
    s, r = sign_in(gw)
    assert api(s, gw, "/orgs/%s/x" % org).status_code == 200
    taken = new_org(gw)
    r = cli(gw, "org", "rename", org, taken)
    assert r.returncode == 1 and "already exists" in r.stderr
    r = cli(gw, "org", "rename", "no-such-org", new)
    assert r.returncode == 1 and "no organisation" in r.stderr
    r = cli(gw, "org", "rename", org, "Bad_Slug")
    assert r.returncode == 2
    r = cli(gw, "org", "rename", org, new)
    assert r.returncode == 0, r.stderr
    assert "renamed to %s (1 member)" % new in r.stdout
    # the signed-in member keeps its role under the new slug at once,
    # and the old slug grants nothing
    assert api(s, gw, "/orgs/%s/x" % new).status_code == 200
    assert api(s, gw, "/orgs/%s/x" % org).status_code == 403
    assert not gw.redis.exists("postern:org:" + org)
    assert not gw.redis.exists("postern:org:%s:members" % org)
    assert not gw.redis.sismember("postern:orgs", org)
    assert gw.redis.hgetall("postern:user:%s:orgs" % uid(gw)) == {
        new: "member"}
    o = org_json(gw, "show", new)
    assert o["api_keys"] == 1 and o["members"][0]["email"] == gw.email
    assert keys_naming(gw, org + '"') == []
    # a new org may take the old name; it inherits nobody
    assert cli(gw, "org", "add", org).returncode == 0
    assert api(s, gw, "/orgs/%s/x" % org).status_code == 403
    ev = [json.loads(x) for x in gw.redis.lrange("postern:audit:events",
                                                 0, -1)]
    assert any(e["action"] == "org_rename" and e["target"] == org and
               e["reason"] == new for e in ev)


def test_rename_refused_when_the_configuration_names_the_org(
        gateway, redis_server, tmp_path):
    make_key(tmp_path)
    slug = "cfg-%s" % uuid.uuid4().hex[:8]
    gw = gateway(extra=auth_extra(tmp_path) + "mfa:\n  required_orgs: [%s]\n"
                 % slug, app_extra=ROUTES, redis=redis_server, protect=None)
    gw.redis = redis.Redis(host=redis_server[0], port=redis_server[1],
                           decode_responses=True)
    assert cli(gw, "org", "add", slug).returncode == 0
    r = cli(gw, "org", "rename", slug, slug + "-x")
    assert r.returncode == 1
    assert "mfa.required_orgs" in r.stderr and "nothing renamed" in r.stderr
    assert gw.redis.exists("postern:org:" + slug)
    assert not gw.redis.exists("postern:org:%s-x" % slug)


def test_listings_have_a_header_row_and_json(admgw):
    gw = admgw
    org = new_org(gw)
    member(gw, org, gw.email, "viewer")
    r = cli(gw, "apikey", "create", "--org", org, "--scope", "read",
            "--name", "nightly job")
    assert r.returncode == 0, r.stderr
    secret = r.stdout.strip()
    r = cli(gw, "user", "list")
    assert r.stdout.splitlines()[0] == "EMAIL\tID\tSTATUS\tCREATED\tNAME\tORGS"
    rows = json.loads(cli(gw, "user", "list", "--json").stdout)
    me = [x for x in rows if x["email"] == gw.email]
    assert me == [{"email": gw.email, "id": uid(gw), "disabled": False,
                   "created": me[0]["created"], "name": "",
                   "orgs": [{"org": org, "role": "viewer"}]}]
    r = cli(gw, "apikey", "list", "--org", org)
    lines = r.stdout.splitlines()
    assert lines[0] == "ID\tORG\tSCOPES\tCREATED\tEXPIRES\tLAST_USED\tNAME"
    assert len(lines) == 2 and lines[1].split("\t")[1] == org
    assert lines[1].split("\t")[-1] == "nightly job"
    keys = json.loads(cli(gw, "apikey", "list", "--org", org,
                          "--json").stdout)
    assert len(keys) == 1 and set(keys[0]) == {
        "id", "org", "scopes", "name", "rate", "created", "expires",
        "last_used", "expired"}
    k = keys[0]
    assert k["org"] == org and k["scopes"] == ["read"]
    assert k["last_used"] == "" and k["expired"] is False
    assert k["id"] in secret and secret not in json.dumps(keys)
    r = cli(gw, "share", "list")
    assert r.stdout.splitlines()[0] == \
        "ID\tORG\tAPP\tMETHODS\tPATH\tCREATED\tEXPIRES\tLAST_USED\tNAME"
    assert isinstance(json.loads(cli(gw, "share", "list", "--json").stdout),
                      list)


def test_apikey_scope_must_be_granted_by_a_route(admgw):
    gw = admgw
    org = new_org(gw)
    base = ("apikey", "create", "--org", org)
    for scope, near in (("raed", "read"), ("invoices:writ", "invoices:write"),
                        ("shares:creat", "shares:create")):
        r = cli(gw, *base, "--scope", scope)
        assert r.returncode == 2, r.stderr
        assert "no route of an app serving org %s grants it" % org \
            in r.stderr
        assert "did you mean '%s'?" % near in r.stderr
    r = cli(gw, *base, "--scope", "read", "--scope", "nothing-like-it")
    assert r.returncode == 2 and "did you mean" not in r.stderr
    assert "nothing-like-it" in r.stderr
    assert json.loads(cli(gw, "apikey", "list", "--org", org,
                          "--json").stdout) == []
    # what a route grants, and the gateway's own scopes, are accepted
    for scope in ("read", "invoices:write", "shares:create",
                  "domains:manage"):
        r = cli(gw, *base, "--scope", scope)
        assert r.returncode == 0, (scope, r.stderr)
    r = cli(gw, "apikey", "create", "--org", "no-such-org-y", "--scope",
            "read")
    assert r.returncode == 1 and "no organisation" in r.stderr
