"""Single sign-on against a real OpenID Provider (tests/oidc/op.mjs, npm
oidc-provider) through a real gateway, Redis and upstream: the code flow
with PKCE end to end, then what an attacker tries at each step."""
import os
import secrets
import urllib.parse

import pytest
import requests
import urllib3

import json

from conftest import run_postern
from oidcop import sso_section
from test_auth import auth_extra, make_key

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

RELAXED_SSO = "    sso: {limit: 100000, period: 1m}\n"


def provider(op, secret_file, **over):
    p = {"name": "corp", "type": "oidc", "issuer": op.issuer,
         "client_id": "postern-corp", "client_secret_file": str(secret_file),
         "display_name": "Corp SSO", "provision": True}
    p.update(over)
    return p


@pytest.fixture
def ssogw(gateway, redis_server, tmp_path, oidc_op):
    """ssogw(providers=..., orgs=...) -> a protected gateway whose SSO
    provider "corp" is oidc_op (registered with the gateway's callback)."""
    def start(orgs=(), **over):
        secret = secrets.token_urlsafe(32)
        sf = tmp_path / "corp.secret"
        sf.write_text(secret)
        sf.chmod(0o600)
        make_key(tmp_path)
        extra = auth_extra(tmp_path) + RELAXED_SSO + sso_section(
            [provider(oidc_op, sf, **over)], orgs)
        gw = gateway(extra=extra, redis=redis_server, protect=True)
        oidc_op.register(gw, "corp", secret=secret)
        gw.op = oidc_op
        return gw
    return start


def start_flow(gw, path="/private/x?a=1"):
    s = requests.Session()
    s.verify = False
    r = s.get(gw.url + path, allow_redirects=False, verify=False,
              headers={"Accept": "text/html"})
    assert r.status_code == 302, r.text
    login = urllib.parse.urljoin(gw.url, r.headers["Location"])
    page = s.get(login, verify=False)
    assert "Sign in with Corp SSO" in page.text
    rd = dict(urllib.parse.parse_qsl(
        urllib.parse.urlsplit(login).query))["rd"]
    start = gw.url + "/.postern/sso/corp/start?rd=" + urllib.parse.quote(
        rd, safe="")
    return s, start


def test_code_flow_signs_in_and_lands_on_the_original_url(ssogw):
    gw = ssogw()
    s, start = start_flow(gw)
    r = gw.op.login(start, "alice", s)
    cb = s.get(r.callback, allow_redirects=False, verify=False)
    assert cb.status_code == 303, cb.text
    assert cb.headers["Location"].endswith("/private/x?a=1")
    up = s.get(urllib.parse.urljoin(gw.url, cb.headers["Location"]),
               allow_redirects=False, verify=False)
    assert up.status_code == 200, up.text
    echo = up.json()
    hdrs = {k.lower(): v for k, v in echo["headers"]}
    assert hdrs["x-postern-email"] == "alice@corp.example"
    assert hdrs["x-postern-auth"] == "session"


def test_user_show_lists_the_linked_identity(ssogw):
    gw = ssogw()
    s, start = start_flow(gw)
    r = gw.op.login(start, "alice", s)
    assert s.get(r.callback, allow_redirects=False,
                 verify=False).status_code == 303
    r = run_postern("user", "show", "-c", str(gw.config),
                    "Alice@Corp.example", "--json")
    assert r.returncode == 0, r.stderr
    u = json.loads(r.stdout)
    assert u["email"] == "alice@corp.example"
    assert u["identities"] == [{"provider": "corp", "sub": "alice"}]
    assert u["password"] is False and u["sessions"] >= 1
    text = run_postern("user", "show", "-c", str(gw.config),
                       "alice@corp.example").stdout
    assert "linked identities:" in text and "corp" in text
    r = run_postern("user", "show", "-c", str(gw.config), "no@x.example")
    assert r.returncode != 0 and "no user" in r.stderr


def test_backchannel_logout_ends_the_session(ssogw):
    gw = ssogw()
    s, start = start_flow(gw)
    r = gw.op.login(start, "alice", s)
    cb = s.get(r.callback, allow_redirects=False, verify=False)
    assert cb.status_code == 303
    page = urllib.parse.urljoin(gw.url, cb.headers["Location"])
    assert s.get(page, allow_redirects=False, verify=False).status_code == 200
    out = gw.op.backchannel_logout("alice")
    assert out["status"] in (200, 204), out
    assert s.get(page, allow_redirects=False, verify=False,
                 headers={"Accept": "text/html"}).status_code == 302
