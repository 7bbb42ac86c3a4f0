"""The OpenID Provider fixture itself (oidcop.py, tests/oidc/op.mjs),
against the provider alone, without Postern: discovery, the code flow with
PKCE done here in Python down to the token exchange at the real token
endpoint, client authentication, key rotation, forged id_token delivery,
provider down and up, RP-initiated and back-channel logout.  The SSO tests
(test_sso*.py) stand on these helpers; this file proves they do what they
say, so a failure there is Postern's."""
import http.server
import json
import secrets
import ssl
import threading
import time
import urllib.parse

import pytest
import requests

from oidcop import (b64u, client, jws, jws_claims, jws_verify, new_key,
                    pkce_pair, sso_section, unb64u)

CB = "https://localhost:8443/.postern/sso/corp/callback"


def authorize(op, client_id, challenge="", nonce="n", state="s",
              redirect_uri=CB, scope="openid email profile", **extra):
    q = {"response_type": "code", "client_id": client_id,
         "redirect_uri": redirect_uri, "scope": scope, "state": state,
         "nonce": nonce, "code_challenge": challenge,
         "code_challenge_method": "S256"}
    q.update(extra)
    return op.issuer + "/auth?" + urllib.parse.urlencode(
        {k: v for k, v in q.items() if v is not None})


def query(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def token(op, code, verifier, auth=("corp", None), form=None,
          redirect_uri=CB):
    data = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": redirect_uri, "code_verifier": verifier}
    data.update(form or {})
    return requests.post(op.issuer + "/token", data=data,
                         auth=auth if auth and auth[1] else None, timeout=10)


@pytest.fixture
def corp(oidc_op):
    """oidc_op with a client "corp" (client_secret_basic, RS256)."""
    secret = secrets.token_urlsafe(32)
    oidc_op.set_clients([client("corp", [CB], secret=secret)])
    oidc_op.secret = secret
    return oidc_op


def flow(op, account="alice", client_id="corp", nonce=None, **kw):
    """A code flow up to the callback: (callback query, verifier, nonce)."""
    verifier, challenge = pkce_pair()
    nonce = nonce or secrets.token_urlsafe(12)
    state = secrets.token_urlsafe(12)
    r = op.login(authorize(op, client_id, challenge, nonce=nonce,
                           state=state, **kw), account)
    assert r.status_code in (302, 303)
    assert r.callback.startswith(kw.get("redirect_uri", CB) + "?")
    q = query(r.callback)
    assert q.get("state") == state, q
    assert r.authorization["nonce"] == nonce
    assert r.authorization["code_challenge"] == challenge
    return q, verifier, nonce


def test_discovery(corp):
    d = requests.get(corp.issuer + "/.well-known/openid-configuration",
                     timeout=10).json()
    assert d["issuer"] == corp.issuer
    for ep in ("authorization_endpoint", "token_endpoint", "jwks_uri",
               "end_session_endpoint"):
        assert d[ep].startswith(corp.issuer + "/"), (ep, d[ep])
    assert d["code_challenge_methods_supported"] == ["S256"]
    assert d["backchannel_logout_supported"] is True
    assert {"RS256", "ES256"} <= set(d["id_token_signing_alg_values_supported"])
    assert "none" not in d["id_token_signing_alg_values_supported"]
    jwks = requests.get(d["jwks_uri"], timeout=10).json()
    assert sorted(k["kid"] for k in jwks["keys"]) == ["ec1", "rsa1"]
    assert not any("d" in k or "p" in k for k in jwks["keys"]), \
        "private parts published"
    assert corp.hits("/.well-known/openid-configuration") == 1
    assert corp.hits("/jwks") == 1


def test_code_flow_with_pkce(corp):
    q, verifier, nonce = flow(corp, "alice")
    assert q["iss"] == corp.issuer and q["code"]
    r = token(corp, q["code"], verifier, ("corp", corp.secret))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"].lower() == "bearer"
    assert jws_claims(body["id_token"])  # decodes
    header = json.loads(unb64u(body["id_token"].split(".")[0]))
    assert header["alg"] == "RS256" and header["kid"] == "rsa1"
    c = jws_verify(body["id_token"], corp.keys)
    assert c["iss"] == corp.issuer and c["aud"] == "corp"
    assert c["nonce"] == nonce and c["sub"] == "alice"
    assert c["email"] == "alice@corp.example" and c["email_verified"] is True
    assert c["hd"] == "corp.example" and c["groups"] == ["staff", "admins"]
    assert c["amr"] == ["pwd", "mfa"] and c["acr"] == "urn:test:mfa"
    assert abs(c["iat"] - time.time()) < 60 and c["auth_time"] <= c["iat"]
    assert "sid" not in c   # only for clients with back-channel logout
    assert c["exp"] > time.time()
    assert corp.issued()[-1] == c
    # The code is single use, and bound to its verifier.
    again = token(corp, q["code"], verifier, ("corp", corp.secret))
    assert again.status_code == 400 and again.json()["error"] == \
        "invalid_grant"
    q2, verifier2, _ = flow(corp, "bob")
    wrong = token(corp, q2["code"], verifier, ("corp", corp.secret))
    assert wrong.status_code == 400 and wrong.json()["error"] == \
        "invalid_grant"
    bad_secret = token(corp, q2["code"], verifier2, ("corp", "x" * 43))
    assert bad_secret.status_code == 401
    assert bad_secret.json()["error"] == "invalid_client"


def test_login_keeps_the_browser_session(corp):
    """login() takes a redirecting response as its start and the caller's
    session: signed in at the provider, the next flow needs no form."""
    s = requests.Session()
    verifier, challenge = pkce_pair()
    first = s.get(authorize(corp, "corp", challenge), allow_redirects=False,
                  timeout=10)
    assert first.is_redirect
    r = corp.login(first, "alice", s)
    assert r.session is s and query(r.callback)["code"]
    verifier2, challenge2 = pkce_pair()
    r2 = corp.login(authorize(corp, "corp", challenge2), "bob", s)
    code = query(r2.callback)["code"]
    c = jws_claims(token(corp, code, verifier2,
                         ("corp", corp.secret)).json()["id_token"])
    assert c["sub"] == "alice"      # the provider's session, not "bob"
    # A fresh browser is asked again.
    verifier3, challenge3 = pkce_pair()
    r3 = corp.login(authorize(corp, "corp", challenge3), "bob")
    assert r3.session is not s
    c = jws_claims(token(corp, query(r3.callback)["code"], verifier3,
                         ("corp", corp.secret)).json()["id_token"])
    assert c["sub"] == "bob"


def test_unverified_account_and_errors(corp):
    q, verifier, _ = flow(corp, "mallory")
    c = jws_verify(token(corp, q["code"], verifier,
                         ("corp", corp.secret)).json()["id_token"], corp.keys)
    assert c["email_verified"] is False and "mfa" not in c["amr"]
    # PKCE is required: no challenge, an error to the callback.
    s = requests.Session()
    r = s.get(authorize(corp, "corp", challenge=None), allow_redirects=False,
              timeout=10)
    assert r.status_code in (302, 303)
    assert r.headers["Location"].startswith(CB + "?")
    assert query(r.headers["Location"])["error"] == "invalid_request"
    # Deny at the consent page: access_denied to the callback.
    _, challenge = pkce_pair()
    r = corp.login(authorize(corp, "corp", challenge), "bob",
                   consent=False)
    assert query(r.callback)["error"] == "access_denied"
    # An unknown account cannot sign in.
    with pytest.raises(AssertionError, match="still at the provider"):
        corp.login(authorize(corp, "corp", challenge), "nobody")
    # A redirect_uri not registered: the provider's own error page.
    r = requests.get(authorize(corp, "corp", challenge,
                               redirect_uri=CB + "x"), timeout=10)
    assert r.status_code == 400 and "redirect_uri" in r.text


def test_es256_and_private_key_jwt(oidc_op):
    ck = new_key("ec", "client-key")
    oidc_op.set_clients([client("pkj", [CB], auth="private_key_jwt",
                                jwk=ck.jwk, alg="ES256")])
    q, verifier, nonce = flow(oidc_op, "bob", client_id="pkj")
    now = int(time.time())
    assertion = {"iss": "pkj", "sub": "pkj", "aud": oidc_op.issuer +
                 "/token", "jti": secrets.token_urlsafe(16),
                 "iat": now, "exp": now + 60}
    ct = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    # Signed by another key: refused.
    other = new_key("ec", "client-key")
    r = token(oidc_op, q["code"], verifier, None, {
        "client_assertion_type": ct,
        "client_assertion": jws(assertion, other)})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = token(oidc_op, q["code"], verifier, None, {
        "client_assertion_type": ct,
        "client_assertion": jws(dict(assertion, jti="j2"), ck)})
    assert r.status_code == 200, r.text
    idt = r.json()["id_token"]
    assert json.loads(unb64u(idt.split(".")[0]))["kid"] == "ec1"
    c = jws_verify(idt, oidc_op.keys)
    assert c["aud"] == "pkj" and c["nonce"] == nonce


def test_rotation(corp):
    rsa2 = new_key("rsa", "rsa2")
    corp.rotate([rsa2, corp.key("rsa1")])
    kids = [k["kid"] for k in requests.get(corp.issuer + "/jwks",
                                           timeout=10).json()["keys"]]
    assert kids == ["rsa2", "rsa1"]
    q, verifier, _ = flow(corp)
    idt = token(corp, q["code"], verifier,
                ("corp", corp.secret)).json()["id_token"]
    assert json.loads(unb64u(idt.split(".")[0]))["kid"] == "rsa2"
    jws_verify(idt, [rsa2])
    with pytest.raises(AssertionError):
        jws_verify(idt, [corp.key("rsa1")])
    # The old key gone: only the new one published.
    corp.rotate([rsa2])
    keys = requests.get(corp.issuer + "/jwks", timeout=10).json()["keys"]
    assert [k["kid"] for k in keys] == ["rsa2"]


def test_forged_id_token_delivery(corp):
    q, verifier, nonce = flow(corp)
    forged = corp.sign(corp.id_token_claims("corp", nonce,
                                            exp=int(time.time()) - 3600))
    corp.next_id_token(forged)
    r = token(corp, q["code"], verifier, ("corp", corp.secret))
    assert r.status_code == 200 and r.json()["id_token"] == forged
    c = jws_verify(forged, corp.keys)
    assert c["exp"] < time.time() and c["nonce"] == nonce
    # Only the next one: then genuine tokens again.
    q, verifier, nonce = flow(corp)
    idt = token(corp, q["code"], verifier,
                ("corp", corp.secret)).json()["id_token"]
    assert idt != forged and jws_verify(idt, corp.keys)["nonce"] == nonce
    # alg none and HS256 keyed with the public key, as crafted.
    none = jws({"sub": "alice"})
    assert none.endswith(".") and json.loads(
        unb64u(none.split(".")[0]))["alg"] == "none"
    hs = jws({"sub": "alice"}, secret=corp.key("rsa1").public_pem())
    assert json.loads(unb64u(hs.split(".")[0]))["alg"] == "HS256"
    with pytest.raises(AssertionError):
        jws_verify(hs, corp.keys)


def test_down_and_up(corp):
    disc = corp.issuer + "/.well-known/openid-configuration"
    corp.reset_hits()
    corp.down()
    r = requests.get(disc, timeout=10)
    assert r.status_code == 503
    assert requests.get(corp.issuer + "/jwks", timeout=10).status_code == 503
    corp.down(hang=True)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(disc, timeout=0.5)
    corp.up()
    assert requests.get(disc, timeout=10).json()["issuer"] == corp.issuer
    assert corp.hits(
        "/.well-known/openid-configuration") == 3
    assert corp.hits("/jwks") == 1


class LogoutReceiver:
    """An HTTPS back-channel logout endpoint (the test certificate) that
    records each POST body and answers <status>."""

    def __init__(self, tls_cert, status=200):
        self.bodies, self.status = [], status
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers["Content-Length"])
                outer.bodies.append(urllib.parse.parse_qs(
                    self.rfile.read(n).decode()))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = http.server.HTTPServer(("127.0.0.1", 0), H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*tls_cert)
        self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True)
        self.url = "https://localhost:%d/bcl" % self.srv.server_port
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def receiver(tls_cert):
    r = LogoutReceiver(tls_cert)
    yield r
    r.stop()


def test_backchannel_logout(oidc_op, receiver):
    secret = secrets.token_urlsafe(32)
    oidc_op.set_clients([client("corp", [CB], secret=secret,
                                backchannel=receiver.url,
                                post_logout=["https://localhost:8443/bye"])])
    q, verifier, _ = flow(oidc_op, "alice")
    idt = token(oidc_op, q["code"], verifier,
                ("corp", secret)).json()["id_token"]
    sid = jws_claims(idt)["sid"]
    r = oidc_op.backchannel_logout("alice")
    assert r == {"status": 200, "sid": sid}, r
    lt = receiver.bodies[-1]["logout_token"][0]
    c = jws_verify(lt, oidc_op.keys)
    assert c["iss"] == oidc_op.issuer and c["aud"] == "corp"
    assert c["sub"] == "alice" and c["sid"] == sid and c["jti"]
    assert "nonce" not in c
    assert c["events"] == {
        "http://schemas.openid.net/event/backchannel-logout": {}}
    # An RP that refuses: its status comes back.
    receiver.status = 400
    r = oidc_op.backchannel_logout("alice", sid="other-sid")
    assert r["status"] == 400 and r["sid"] == "other-sid"
    assert receiver.bodies[-1]["logout_token"][0] != lt
    # RP-initiated logout: the confirmation form, then back to the
    # registered post_logout_redirect_uri, and a logout token on the way.
    receiver.status = 200
    s = requests.Session()          # the browser: signed in at the provider
    verifier, challenge = pkce_pair()
    r = oidc_op.login(authorize(oidc_op, "corp", challenge), "bob", s)
    idt = token(oidc_op, query(r.callback)["code"], verifier,
                ("corp", secret)).json()["id_token"]
    n = len(receiver.bodies)
    r = oidc_op.confirm_logout(oidc_op.issuer + "/session/end?" +
                               urllib.parse.urlencode({
                                   "id_token_hint": idt, "state": "st",
                                   "post_logout_redirect_uri":
                                   "https://localhost:8443/bye"}), s)
    assert r.headers["Location"] == "https://localhost:8443/bye?state=st"
    assert len(receiver.bodies) == n + 1
    c = jws_verify(receiver.bodies[-1]["logout_token"][0], oidc_op.keys)
    assert c["sub"] == "bob"


def test_second_provider(oidc_op, oidc_op_factory):
    other = oidc_op_factory("other", accounts={"carol": {
        "email": "carol@other.example", "email_verified": True}})
    assert other.issuer != oidc_op.issuer
    assert {k.kid for k in other.keys} == {"rsa1", "ec1"}
    assert other.key("rsa1").jwk["n"] != oidc_op.key("rsa1").jwk["n"]
    other.set_clients([client("corp", [CB], secret="s" * 32)])
    q, verifier, _ = flow(other, "carol")
    idt = token(other, q["code"], verifier, ("corp", "s" * 32)).json()
    c = jws_verify(idt["id_token"], other.keys)
    assert c["iss"] == other.issuer and c["email"] == "carol@other.example"
    with pytest.raises(AssertionError):
        jws_verify(idt["id_token"], oidc_op.keys)


def test_register_and_sso_section(oidc_op):
    """op.register() makes the client a gateway on port 8443 needs, and
    sso_section() is YAML for the gateway's config."""
    import yaml
    cid, secret = oidc_op.register(8443, "corp")
    assert cid == "postern-corp" and len(secret) >= 32
    for host in ("localhost", "127.0.0.1"):
        cb = "https://%s:8443/.postern/sso/corp/callback" % host
        q, verifier, _ = flow(oidc_op, client_id=cid, redirect_uri=cb)
        r = token(oidc_op, q["code"], verifier, (cid, secret),
                  redirect_uri=cb)
        c = jws_verify(r.json()["id_token"], oidc_op.keys)
        assert c["aud"] == cid and c["sid"]
    # Registered again: replaced, not added; the old secret is refused.
    cid2, secret2 = oidc_op.register(8443, "corp")
    assert cid2 == cid and secret2 != secret and len(oidc_op.clients) == 1
    q, verifier, _ = flow(oidc_op, client_id=cid)
    assert token(oidc_op, q["code"], verifier,
                 (cid, secret)).status_code == 401
    text = sso_section([{"name": "corp", "type": "oidc",
                         "issuer": oidc_op.issuer, "client_id": cid,
                         "claims": [{"claim": "groups", "value": "admins",
                                     "org": "corp", "role": "admin"}]}],
                       orgs=[{"org": "corp", "provider": "corp",
                              "required": True}], flow_ttl="5m")
    doc = yaml.safe_load(text)["sso"]
    assert doc["providers"][0]["issuer"] == oidc_op.issuer
    assert doc["providers"][0]["claims"][0]["role"] == "admin"
    assert doc["orgs"] == [{"org": "corp", "provider": "corp",
                            "required": True}]
    assert doc["flow_ttl"] == "5m"


@pytest.mark.parametrize("alg,kid", [("PS256", "rsa1"), ("EdDSA", "ed1"),
                                     ("ES256", "ec1")])
def test_signing_algs(oidc_op_factory, alg, kid):
    """id_tokens in each alg Postern accepts, and sign() makes the same."""
    op = oidc_op_factory("algs", keys=[new_key("rsa", "rsa1"),
                                       new_key("ec", "ec1"),
                                       new_key("ed25519", "ed1")])
    op.set_clients([client("corp", [CB], secret="s" * 32, alg=alg)])
    d = requests.get(op.issuer + "/.well-known/openid-configuration",
                     timeout=10).json()
    assert alg in d["id_token_signing_alg_values_supported"]
    q, verifier, nonce = flow(op)
    idt = token(op, q["code"], verifier, ("corp", "s" * 32)).json()
    header = json.loads(unb64u(idt["id_token"].split(".")[0]))
    assert (header["alg"], header["kid"]) == (alg, kid)
    assert jws_verify(idt["id_token"], op.keys)["nonce"] == nonce
    mine = op.sign(op.id_token_claims("corp", nonce), kid=kid, alg=alg)
    assert jws_verify(mine, op.keys)["aud"] == "corp"
    # A flipped signature bit is caught.
    h, c, sig = mine.split(".")
    raw = bytearray(unb64u(sig))
    raw[5] ^= 1
    with pytest.raises(AssertionError):
        jws_verify(".".join([h, c, b64u(bytes(raw))]), op.keys)


def test_rp_logout_as_postern_sends_it(oidc_op):
    """End-session with client_id and post_logout_redirect_uri (no
    id_token_hint), as the gateway sends it: "no" keeps the provider
    session, "yes" ends it."""
    cid, secret = oidc_op.register(8443, "corp")
    s = requests.Session()
    cb = "https://localhost:8443/.postern/sso/corp/callback"
    oidc_op.login(authorize(oidc_op, cid, pkce_pair()[1], redirect_uri=cb),
                  "alice", s)
    end = oidc_op.issuer + "/session/end?" + urllib.parse.urlencode({
        "client_id": cid,
        "post_logout_redirect_uri": "https://localhost:8443/.postern/login"})
    r = oidc_op.confirm_logout(end, s, confirm=False)
    assert r.headers["Location"] == "https://localhost:8443/.postern/login"
    r = oidc_op.login(authorize(oidc_op, cid, pkce_pair()[1],
                                redirect_uri=cb), "ignored", s)
    assert query(r.callback)["code"], "still signed in at the provider"
    r = oidc_op.confirm_logout(end, s)
    assert r.headers["Location"] == "https://localhost:8443/.postern/login"
    with pytest.raises(AssertionError, match="still at the provider"):
        oidc_op.login(authorize(oidc_op, cid, pkce_pair()[1],
                                redirect_uri=cb), "ignored", s)
    # A post-logout URI not registered: the provider refuses it.
    r = s.get(oidc_op.issuer + "/session/end?" + urllib.parse.urlencode({
        "client_id": cid,
        "post_logout_redirect_uri": "https://evil.example/"}), timeout=10)
    assert r.status_code == 400


def test_reset(oidc_op):
    """What a test changes at the shared provider, reset() undoes."""
    d = oidc_op.issuer + "/.well-known/openid-configuration"
    first = [k["kid"] for k in requests.get(oidc_op.issuer + "/jwks",
                                            timeout=10).json()["keys"]]
    oidc_op.register(8443, "corp")
    oidc_op.rotate([new_key("ec", "other")])
    oidc_op.next_id_token("forged")
    oidc_op.cache_control("max-age=0")
    for path in ("/jwks", "/.well-known/openid-configuration"):
        assert requests.get(oidc_op.issuer + path, timeout=10).headers[
            "Cache-Control"] == "max-age=0"
    oidc_op.down()
    assert requests.get(d, timeout=10).status_code == 503
    assert oidc_op.hits(
        "/.well-known/openid-configuration") >= 1 and oidc_op.clients
    oidc_op.reset()
    assert oidc_op.hits() == {} and oidc_op.issued() == []
    r = requests.get(d, timeout=10)
    assert r.status_code == 200 and "Cache-Control" not in r.headers
    assert [k["kid"] for k in requests.get(oidc_op.issuer + "/jwks",
                                           timeout=10).json()["keys"]] == \
        first == [k.kid for k in oidc_op.keys]
    assert oidc_op.clients == []
    # The client is gone, and no forgery waits for the next one.
    verifier, challenge = pkce_pair()
    r = requests.get(authorize(oidc_op, "postern-corp", challenge),
                     timeout=10)
    assert r.status_code == 400 and "client" in r.text
    oidc_op.set_clients([client("corp", [CB], secret="s" * 32)])
    q, verifier, nonce = flow(oidc_op)
    idt = token(oidc_op, q["code"], verifier, ("corp", "s" * 32)).json()
    assert jws_verify(idt["id_token"], oidc_op.keys)["nonce"] == nonce
