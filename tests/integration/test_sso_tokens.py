"""Single sign-on: forged id_tokens delivered through the real OpenID
Provider's token endpoint (tests/oidc/op.mjs, op.next_id_token), key
rotation at the provider within the JWKS refetch limit, and the provider's
second factor (trust_mfa).  The flow: test_sso.py."""
import pytest

from oidcop import new_key
from test_auth import echo, headers_of
from test_sso import (CLIENT, assert_failure_page, assert_signed_in,
                      deliver, rejected, sign_in, ssogw, sso_redis,
                      start_flow)  # noqa: F401 (fixtures)


REFUSED = [
    ("nonce", "sso_token_nonce"), ("nonce_prefix", "sso_token_nonce"),
    ("no_nonce", "sso_token_nonce"),
    ("expired", "sso_token_expired"), ("iat_old", "sso_token_iat"),
    ("iat_future", "sso_token_iat"), ("nbf_future", "sso_token_not_yet"),
    ("aud", "sso_token_audience"), ("aud_array_no_azp", "sso_token_azp"),
    ("azp_other", "sso_token_azp"), ("iss", "sso_token_issuer"),
    ("iss_other", "sso_token_issuer"),
    ("alg_none", ("jws_alg_refused", "jws_malformed")),
    ("alg_none_sig", "jws_alg_refused"),
    ("hs256_rsa_pub", "jws_alg_refused"),
    ("unknown_key", "jws_bad_signature"), ("unknown_kid", "jws_unknown_kid"),
    ("embedded_jwk", "jws_alg_refused"),
]


@pytest.mark.parametrize("kind", ["ok", "ok_aud_array_azp"])
def test_a_well_forged_token_passes(ssogw, kind):
    """The harness can pass: the refusals below are the checks' doing."""
    gw = ssogw()
    s, cb = deliver(gw, kind)
    assert cb.status_code == 303, cb.text
    assert_signed_in(s, gw)


@pytest.mark.parametrize("kind,reason", REFUSED)
def test_forged_id_token_is_refused(ssogw, kind, reason):
    gw = ssogw()
    s, cb = deliver(gw, kind)
    assert_failure_page(cb, 401, "could not be verified")
    rejected(gw, reason)
    assert echo(s, gw, "/private/ok").status_code in (302, 401)
    assert gw.redis.keys("postern:session:*") == []
    assert gw.redis.keys("postern:ssoid:*") == []


# ---- key rotation ---------------------------------------------------------

def test_key_rotation_is_followed_without_restart(ssogw):
    gw = ssogw(gw={"workers": 1})
    _, cb = sign_in(gw)
    assert cb.status_code == 303
    assert gw.op.hits("/jwks") == 1
    old = gw.op.key("rsa1")
    gw.op.rotate([new_key("rsa", "rsa2"), new_key("ec", "ec2")])
    # the provider signs with rsa2: an unknown kid, one refetch, accepted
    s, cb = sign_in(gw, "bob")
    assert cb.status_code == 303, cb.text
    assert_signed_in(s, gw, "bob@corp.example")
    assert gw.op.hits("/jwks") == 2
    # the removed key: refused, and within 30 s no further refetch however
    # many unknown kids come
    s, start = start_flow(gw)
    r = gw.op.login(start, "alice", s)
    gw.op.next_id_token(gw.op.sign(gw.op.id_token_claims(
        CLIENT, r.authorization["nonce"]), key=old))
    cb = s.get(r.callback, allow_redirects=False)
    assert_failure_page(cb, 401, "could not be verified")
    rejected(gw, "jws_unknown_kid")
    for i in range(3):
        _, cb = deliver(gw, "unknown_kid")
        assert cb.status_code == 401
    assert gw.op.hits("/jwks") == 2
    assert gw.op.hits("/.well-known/openid-configuration") == 1


MFA_ROUTES = """\
  routes:
    - path: /secure/mfa
      mfa: true
    - path: /**
      authenticated: true
"""


@pytest.mark.parametrize("trust", [True, False])
def test_provider_second_factor_counts_only_with_trust_mfa(ssogw, trust):
    gw = ssogw(trust_mfa=trust, gw={"app_extra": MFA_ROUTES,
                                    "protect": None})
    s, cb = sign_in(gw, "alice", path="/secure/mfa")      # amr pwd, mfa
    assert cb.status_code == 303
    r = s.get(gw.url + "/secure/mfa", allow_redirects=False,
              headers={"Accept": "application/json"})
    if trust:
        assert r.status_code == 200, r.text
        assert headers_of(r)["x-postern-email"] == "alice@corp.example"
    else:
        r = s.get(gw.url + "/secure/mfa", allow_redirects=False,
                  headers={"Accept": "text/html"})
        assert r.status_code == 302
        assert r.headers["Location"].startswith("/.postern/2fa")
    # a password-only sign-in at the provider never counts
    s, cb = sign_in(gw, "bob", path="/secure/mfa")
    r = s.get(gw.url + "/secure/mfa", allow_redirects=False,
              headers={"Accept": "text/html"})
    assert r.status_code == 302, r.text
    assert r.headers["Location"].startswith("/.postern/2fa")
    # an amr the provider did not sign does not count either: a token
    # with amr mfa but a bad signature is refused outright
    s, start = start_flow(gw)
    lr = gw.op.login(start, "bob", s)
    gw.op.next_id_token(gw.op.sign(gw.op.id_token_claims(
        CLIENT, lr.authorization["nonce"], sub="bob", amr=["mfa"]),
        key=new_key("rsa", "rsa1")))
    assert s.get(lr.callback, allow_redirects=False).status_code == 401
