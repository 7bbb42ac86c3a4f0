"""OpenID provider metadata over the network: outbound/httpc.c and
outbound/oidc.c against a real HTTP server on loopback (Python's
http.server in a thread, serving the discovery and JWKS documents each
test writes, with the cache headers it chooses, counting requests), driven
by tests/unit/oidc_probe (oidc.c with a clock the test moves, and the
report of `postern sso test`); and the `postern sso` command itself.

Refusals: an issuer that differs, http:// to a host that is not loopback
(for the discovery URL and for the endpoints a document names), a body
over 64 KiB (with and without Content-Length), a 500, a redirect (never
followed), a server slower than the timeout, a certificate not trusted.
The cache: one fetch for concurrent callers, freshness from Cache-Control
and Expires bounded to [60 s, 24 h], stale answers served for 24 h when a
refetch fails, an unknown kid refetching the JWKS at most every 30 s. The
token request: client_secret_basic and client_secret_post as the server
decodes them, the answer's checks, the provider's error code.
"""
import base64
import http.server
import json
import os
import ssl
import subprocess
import threading
import time
import urllib.parse

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from conftest import run_postern, sanitizer_report
from gwproc import BIN, config_text, free_port, listener

PROBE = os.path.join(os.path.dirname(BIN), "..", "tests", "unit",
                     "oidc_probe")



def public_jwk(key, kid, alg=None):
    """The public JWK of <key> (a cryptography private key)."""
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm
    cls = RSAAlgorithm if isinstance(key, rsa.RSAPrivateKey) else ECAlgorithm
    jwk = json.loads(cls.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "use": "sig"})
    if alg:
        jwk["alg"] = alg
    return jwk


RSA_KEY = public_jwk(rsa.generate_private_key(public_exponent=65537,
                                              key_size=2048), "k1", "RS256")
EC_KEY = public_jwk(ec.generate_private_key(ec.SECP256R1()), "e1")


class Provider:
    """The documents a test serves: path -> (status, headers, body bytes,
    delay s); hits counts requests by path; requests keeps (method, path,
    headers, body) of each."""

    def __init__(self, scheme="http", host="127.0.0.1"):
        self.port = free_port()
        self.base = "%s://%s:%d" % (scheme, host, self.port)
        self.routes = {}
        self.hits = {}
        self.requests = []
        self.later = {}
        self.lock = threading.Lock()

    def url(self, path):
        return self.base + path

    def serve(self, path, body, status=200, headers=(), delay=0):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        self.routes[path] = (status, list(headers), body, delay)

    def discovery(self, issuer=None, headers=(), **extra):
        doc = {"issuer": self.base if issuer is None else issuer,
               "authorization_endpoint": self.url("/auth"),
               "token_endpoint": self.url("/token"),
               "jwks_uri": self.url("/jwks"),
               "id_token_signing_alg_values_supported": ["RS256", "ES256",
                                                         "HS256"]}
        doc.update(extra)
        self.serve("/.well-known/openid-configuration",
                   {k: v for k, v in doc.items() if v is not None},
                   headers=headers)

    def jwks(self, keys=(RSA_KEY,), headers=()):
        self.serve("/jwks", {"keys": list(keys)}, headers=headers)

    def after(self, path, n, status, body):
        """Once <path> was asked <n> times, answer <status> and <body>."""
        self.later[path] = (n, (status, [], body, 0))

    def count(self, path):
        with self.lock:
            return self.hits.get(path, 0)


def handler_for(prov):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, method):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            path = self.path.split("?")[0]
            with prov.lock:
                prov.hits[path] = prov.hits.get(path, 0) + 1
                prov.requests.append((method, path, dict(self.headers),
                                      body))
                n = prov.hits[path]
            route = prov.routes.get(path, (404, [], b'{"error": "x"}', 0))
            if path in prov.later and n > prov.later[path][0]:
                route = prov.later[path][1]
            status, headers, data, delay = route
            if delay:
                time.sleep(delay)
            self.send_response(status)
            names = [h.lower() for h, _ in headers]
            for h, v in headers:
                if v is not None:
                    self.send_header(h, v)
            if "content-type" not in names:
                self.send_header("Content-Type", "application/json")
            if "content-length" not in names:
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except OSError:
                pass

        def do_GET(self):
            self.answer("GET")

        def do_POST(self):
            self.answer("POST")
    return Handler


def start(prov, tls_cert=None):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", prov.port),
                                          handler_for(prov))
    srv.daemon_threads = True
    if tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*tls_cert)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    return srv


@pytest.fixture
def provider():
    prov = Provider()
    srv = start(prov)
    yield prov
    srv.shutdown()
    srv.server_close()


def probe(*args, timeout=30):
    """oidc_probe ARGS: (exit status, stdout lines, stderr)."""
    assert os.access(PROBE, os.X_OK), "build the unit tests: %s" % PROBE
    r = subprocess.run([PROBE, *args], capture_output=True, text=True,
                       timeout=timeout)
    report = sanitizer_report(r.stderr)
    assert not report, report
    return r.returncode, r.stdout.splitlines(), r.stderr


def meta(prov, *cmds, issuer=None, extra=()):
    return probe("-i", issuer or prov.base, *extra, *cmds)


def fields(line):
    assert line.startswith("ok "), line
    return dict(kv.split("=", 1) for kv in line.split()[1:])


DISC = "/.well-known/openid-configuration"


# ---- discovery and JWKS: what is accepted and what is refused ----

def test_sso_test_report(provider):
    provider.discovery(end_session_endpoint=provider.url("/logout"),
                       backchannel_logout_supported=True,
                       code_challenge_methods_supported=["plain", "S256"],
                       headers=[("Cache-Control", "public, max-age=600")])
    provider.jwks(keys=[RSA_KEY, EC_KEY, {"kty": "oct", "kid": "h1",
                                          "k": "c2VjcmV0"}],
                  headers=[("Cache-Control", "no-store")])
    rc, out, err = meta(provider, "test")
    text = "\n".join(out)
    assert out[-1] == "test exit 0", text + err
    assert "issuer:              %s (matches" % provider.base in text
    assert "token:               %s/token" % provider.base in text
    assert "end_session:         %s/logout" % provider.base in text
    assert "algs declared:       RS256 ES256 HS256" in text
    assert "algs accepted:       RS256 ES256\n" in text + "\n"
    assert "PKCE S256:           yes" in text
    assert "back-channel logout: yes" in text
    assert "cached for:          discovery 600 s, JWKS 60 s" in text
    assert "keys:                3" in text
    assert "kid=k1 kty=RSA alg=RS256: usable" in text
    assert "kid=h1 kty=oct alg=(any): skipped" in text
    # the user agent, and nothing but GETs
    ua = {r[2].get("User-Agent") for r in provider.requests}
    assert len(ua) == 1 and ua.pop().startswith("postern/")
    assert {r[0] for r in provider.requests} == {"GET"}


def test_sso_test_defaults_and_no_logout(provider):
    provider.discovery(id_token_signing_alg_values_supported=None,
                       code_challenge_methods_supported=["plain"])
    provider.jwks()
    rc, out, err = meta(provider, "test")
    text = "\n".join(out)
    assert out[-1] == "test exit 0", text + err
    assert "algs declared:       none (RS256 assumed)" in text
    assert "algs accepted:       RS256" in text
    assert "PKCE S256:           no" in text
    assert "end_session:         none" in text
    assert "back-channel logout: no" in text
    # no cache headers: an hour
    assert "discovery 3600 s, JWKS 3600 s" in text


def test_issuer_mismatch_refused(provider):
    provider.jwks()
    for issuer in (provider.base + "/", "http://127.0.0.2:%d" %
                   provider.port, provider.base.upper(), ""):
        provider.discovery(issuer=issuer)
        rc, out, err = meta(provider, "test", "get")
        assert out == ["test exit 1", "err oidc_issuer"], (issuer, out)
        assert "oidc_issuer" in err and "differs from the configured" in err
        # the log names what the document said, for the operator
        assert "the document's issuer is '%s'" % issuer in err, err
    provider.serve(DISC, {"authorization_endpoint": provider.url("/a")})
    rc, out, err = meta(provider, "get")
    assert out == ["err oidc_issuer"] and "has no issuer" in err, err
    assert provider.count("/jwks") == 0      # no key of a wrong issuer


def test_http_to_non_loopback_refused(provider):
    # the discovery URL itself: nothing is connected
    rc, out, err = probe("-i", "http://idp.example.com",
                         "-d", "http://idp.example.com/.well-known/x",
                         "test", "get")
    assert out == ["test exit 1", "err oidc_url"], out
    assert "must be https://" in err
    rc, out, err = probe("-i", "http://10.1.2.3", "get")
    assert out == ["err oidc_url"]
    # an endpoint the document names
    provider.jwks()
    for key in ("jwks_uri", "token_endpoint", "authorization_endpoint"):
        provider.discovery(**{key: "http://idp.example.com/x"})
        rc, out, err = meta(provider, "get")
        assert out == ["err oidc_endpoint"], (key, out)
    assert provider.count("/jwks") == 0
    # and the sibling that is fine: loopback by name
    provider.discovery(jwks_uri="http://localhost:%d/jwks" % provider.port)
    rc, out, err = meta(provider, "get")
    assert out[0].startswith("ok "), out
    assert provider.count("/jwks") == 1


def test_oversize_refused(provider):
    pad = "x" * (64 * 1024)
    provider.discovery(padding=pad)
    provider.jwks()
    rc, out, err = meta(provider, "test", "get")
    assert out == ["test exit 1", "err httpc_too_large"], out
    assert "over 64 KiB" in err
    # without Content-Length (read until close): cut as it comes
    provider.discovery(padding=pad, headers=[("Content-Length", None),
                                              ("Connection", "close")])
    rc, out, err = meta(provider, "get")
    assert out == ["err httpc_too_large"], out
    # the sibling just under the bound passes
    doc = {"issuer": provider.base,
           "authorization_endpoint": provider.url("/a"),
           "token_endpoint": provider.url("/t"),
           "jwks_uri": provider.url("/jwks"), "p": ""}
    doc["p"] = "x" * (64 * 1024 - len(json.dumps(doc)))
    body = json.dumps(doc).encode()
    assert len(body) == 64 * 1024
    provider.serve(DISC, body)
    rc, out, err = meta(provider, "get")
    assert out[0].startswith("ok "), out
    # an oversize JWKS too
    provider.discovery()
    provider.serve("/jwks", {"keys": [RSA_KEY], "p": pad})
    rc, out, err = meta(provider, "get")
    assert out == ["err httpc_too_large"], out


def test_server_error_refused(provider):
    provider.serve(DISC, b"<html>oops</html>", status=500,
                   headers=[("Content-Type", "text/html")])
    rc, out, err = meta(provider, "test", "get")
    assert out == ["test exit 1", "err oidc_status"], out
    assert "status other than 200" in err
    assert "oops" not in err                 # bodies are never shown
    provider.discovery()
    provider.serve("/jwks", b"{}", status=503)
    rc, out, err = meta(provider, "get")
    assert out == ["err oidc_status"], out


def test_garbage_documents_refused(provider):
    provider.serve(DISC, b"{\"issuer\": ")
    rc, out, err = meta(provider, "get")
    assert out == ["err oidc_json"], out
    provider.discovery(id_token_signing_alg_values_supported=["HS256",
                                                              "none"])
    provider.jwks()
    rc, out, err = meta(provider, "test", "get")
    assert out == ["test exit 1", "err oidc_alg"], out
    provider.discovery()
    provider.serve("/jwks", {"keys": []})
    rc, out, err = meta(provider, "get")
    assert out == ["err oidc_jwks"], out
    # one log line, with jwks_parse's reason as its detail
    lines = [x for x in err.splitlines() if '"sso_fetch"' in x]
    assert len(lines) == 1 and '"detail":"' in lines[0], err
    provider.serve("/jwks", b"not json")
    rc, out, err = meta(provider, "get")
    assert out == ["err oidc_jwks"], out


def test_redirect_not_followed(provider):
    provider.discovery()
    provider.jwks()
    good = provider.routes[DISC]
    provider.serve("/moved", good[2])
    for status in (301, 302, 307, 308):
        provider.serve(DISC, b"", status=status,
                       headers=[("Location", provider.url("/moved"))])
        rc, out, err = meta(provider, "get")
        assert out == ["err oidc_status"], (status, out)
    assert provider.count("/moved") == 0


def test_slow_server_times_out(provider):
    provider.discovery()
    provider.jwks()
    s, h, b, _ = provider.routes[DISC]
    provider.routes[DISC] = (s, h, b, 3)
    t0 = time.monotonic()
    rc, out, err = meta(provider, "test", "get", extra=("-t", "500"))
    took = time.monotonic() - t0
    assert out == ["test exit 1", "err httpc_timeout"], out
    assert took < 2.5, took                  # two runs of 0.5 s, not 3 s
    # a slow JWKS, too
    provider.routes[DISC] = (s, h, b, 0)
    provider.routes["/jwks"] = provider.routes["/jwks"][:3] + (3,)
    rc, out, err = meta(provider, "get", extra=("-t", "500"))
    assert out == ["err httpc_timeout"], out


def test_connection_refused():
    port = free_port()
    rc, out, err = probe("-i", "http://127.0.0.1:%d" % port, "test")
    assert out == ["test exit 1"], out
    assert "httpc_connect" in err and "cannot reach" in err


def test_tls_verified(tls_cert):
    prov = Provider(scheme="https")
    srv = start(prov, tls_cert)
    try:
        prov.discovery()
        prov.jwks()
        rc, out, err = probe("-i", prov.base, "-a", tls_cert[0], "test")
        assert out[-1] == "test exit 0", "\n".join(out) + err
        # not trusted: the system store does not know this certificate
        rc, out, err = probe("-i", prov.base, "get")
        assert out == ["err httpc_tls"], out
        # trusted, but not the name the certificate is for
        other = "https://127.0.0.2:%d" % prov.port
        rc, out, err = probe("-i", other, "-a", tls_cert[0],
                             "-d", other + DISC, "get")
        assert out in (["err httpc_tls"], ["err httpc_connect"]), out
    finally:
        srv.shutdown()
        srv.server_close()


# ---- the cache ----

def test_concurrent_callers_share_one_fetch(provider):
    provider.discovery()
    provider.jwks()
    rc, out, err = meta(provider, "par:5", "par:3")
    assert out[5] == "calls=5" and out[9] == "calls=3", out
    assert all(line.startswith("ok ") for line in out[:5] + out[6:9]), out
    assert provider.count(DISC) == 1 and provider.count("/jwks") == 1


def test_cache_headers_bounded(provider):
    # no-store and a tiny max-age: kept 60 s
    provider.discovery(headers=[("Cache-Control", "no-store")])
    provider.jwks(headers=[("Cache-Control", "max-age=5")])
    rc, out, err = meta(provider, "get", "adv:59", "get", "adv:2", "get")
    assert [fields(x)["meta_ttl"] for x in out] == ["60"] * 3, out
    assert [fields(x)["jwks_ttl"] for x in out] == ["60"] * 3, out
    assert provider.count(DISC) == 2 and provider.count("/jwks") == 2
    # a year: kept a day
    provider.hits.clear()
    provider.discovery(headers=[("Cache-Control", "max-age=31536000")])
    provider.jwks(headers=[("Expires", "Thu, 01 Jan 2099 00:00:00 GMT")])
    rc, out, err = meta(provider, "get", "adv:86399", "get", "adv:2", "get")
    assert [fields(x)["meta_ttl"] for x in out] == ["86400"] * 3, out
    assert [fields(x)["jwks_ttl"] for x in out] == ["86400"] * 3, out
    assert provider.count(DISC) == 2 and provider.count("/jwks") == 2


def test_expires_against_date(provider):
    now = time.time()
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now))
    later = time.strftime("%a, %d %b %Y %H:%M:%S GMT",
                          time.gmtime(now + 900))
    provider.discovery(headers=[("Expires", later)])
    provider.jwks(headers=[("Cache-Control", "max-age=300"),
                           ("Expires", later)])
    rc, out, err = meta(provider, "get")
    f = fields(out[0])
    assert 890 <= int(f["meta_ttl"]) <= 900, f   # Date is the server's
    assert f["jwks_ttl"] == "300"                # max-age wins
    del date


def test_jwks_refetched_alone(provider):
    provider.discovery(headers=[("Cache-Control", "max-age=3600")])
    provider.jwks(headers=[("Cache-Control", "max-age=120")])
    rc, out, err = meta(provider, "get", "adv:121", "get", "adv:3600", "get")
    assert all(x.startswith("ok ") for x in out), out
    assert provider.count(DISC) == 2 and provider.count("/jwks") == 3


def test_stale_served_when_refetch_fails(provider):
    provider.discovery(headers=[("Cache-Control", "max-age=100")])
    provider.jwks(headers=[("Cache-Control", "max-age=100")])
    provider.after(DISC, 1, 500, b"down")    # fails once it was read
    rc, out, err = meta(provider, "get", "adv:101", "get", "adv:86000",
                        "get", "adv:398", "get", "adv:1", "get")
    assert len(out) == 5, out
    assert fields(out[0])["stale"] == "0"
    assert fields(out[1])["stale"] == "1"     # 1 s past expiry
    assert fields(out[2])["stale"] == "1"     # 86001 s past expiry
    assert fields(out[3])["stale"] == "1"     # 86399 s past expiry
    assert out[4] == "err oidc_status"        # 86400 s: too old
    assert provider.count(DISC) == 5          # each tried again
    assert '"outcome":"stale"' in err and '"outcome":"failed"' in err
    assert "down" not in err
    # a JWKS that fails to refetch: the old keys are served
    provider.hits.clear()
    provider.later.clear()
    provider.discovery(headers=[("Cache-Control", "max-age=1000")])
    provider.after("/jwks", 1, 200, b"{\"keys\": []}")
    rc, out, err = meta(provider, "get:k1", "adv:101", "get:k1")
    assert [fields(x)["has_kid"] for x in out] == ["1", "1"], out
    assert fields(out[1])["stale"] == "1"
    assert provider.count("/jwks") == 2


def test_unknown_kid_refetch_rate_limited(provider):
    provider.discovery()
    provider.jwks()
    rc, out, err = meta(provider, "get:k1", "get:nope", "get:nope",
                        "get:other", "adv:29", "get:nope", "adv:1",
                        "get:nope", "get:k1")
    assert [fields(x)["has_kid"] for x in out] == \
        ["1", "0", "0", "0", "0", "0", "1"], out
    # the first get fetched; "nope" refetched once; then nothing for 30 s
    # whatever the kid; at 30 s one more
    assert provider.count("/jwks") == 3, provider.hits
    assert provider.count(DISC) == 1


def test_key_rotation_picked_up(provider):
    provider.discovery()
    provider.jwks(keys=[RSA_KEY])
    provider.after("/jwks", 1, 200, json.dumps({"keys": [EC_KEY]}).encode())
    rc, out, err = meta(provider, "get:k1", "adv:31", "get:e1", "get:k1")
    # the new key is found by one refetch; the removed one is gone
    assert [fields(x)["has_kid"] for x in out] == ["1", "1", "0"], out
    assert provider.count("/jwks") == 2


def test_unknown_kid_while_discovery_is_refetched(provider):
    provider.discovery(headers=[("Cache-Control", "max-age=60")])
    provider.jwks(keys=[RSA_KEY], headers=[("Cache-Control", "max-age=86400")])
    provider.after("/jwks", 1, 200, json.dumps({"keys": [EC_KEY]}).encode())
    # a known kid: the discovery document alone is refetched
    rc, out, err = meta(provider, "get:k1", "adv:61", "get:k1")
    assert [fields(x)["has_kid"] for x in out] == ["1", "1"], out
    assert provider.count(DISC) == 2 and provider.count("/jwks") == 1
    # an unknown kid: the JWKS follows the discovery document
    provider.hits.clear()
    rc, out, err = meta(provider, "get:k1", "adv:61", "get:e1")
    assert [fields(x)["has_kid"] for x in out] == ["1", "1"], out
    assert provider.count(DISC) == 2 and provider.count("/jwks") == 2
    # also from a caller that joins a discovery fetch under way
    provider.hits.clear()
    rc, out, err = meta(provider, "get:k1", "adv:61", "par:2:e1", "get:e1")
    assert out[3] == "calls=2", out
    assert fields(out[2])["has_kid"] == "1", out     # the one with e1
    assert fields(out[4])["has_kid"] == "1", out
    assert provider.count(DISC) == 2 and provider.count("/jwks") == 2


def test_changed_provider_starts_afresh(provider):
    provider.discovery()
    provider.jwks()
    rc, out, err = meta(provider, "get", "name:other", "get", "name:test",
                        "get")
    assert all(x.startswith("ok ") for x in out), out
    assert provider.count(DISC) == 2


def test_free_with_fetch_pending(provider):
    provider.discovery()
    provider.jwks()
    s, h, b, _ = provider.routes[DISC]
    provider.routes[DISC] = (s, h, b, 1)
    rc, out, err = meta(provider, "free")
    assert rc == 0 and out == ["err oidc_freed", "calls=1"], (out, err)
    # the HTTP client goes first: its transfer fails "httpc_freed", and
    # the waiter hears of it once, from the loop
    rc, out, err = meta(provider, "hfree")
    assert rc == 0 and out == ["err httpc_freed", "calls=1"], (out, err)


# ---- the token request ----

TOKEN_OK = {"token_type": "bEaReR", "id_token": "eyJ.id.token",
            "access_token": "at-secret", "refresh_token": "rt-secret",
            "expires_in": 3600}


def token(prov, *extra):
    return probe("-i", prov.base, "-c", "cli ent:1", *extra,
                 "token:" + prov.url("/token"))


def form(body):
    return urllib.parse.parse_qs(body.decode(), keep_blank_values=True,
                                 strict_parsing=True)


def test_token_client_secret_basic(provider):
    secret = "s3cr+t/%&:=\u00e9"
    provider.serve("/token", TOKEN_OK)
    rc, out, err = token(provider, "-s", secret)
    assert out == ["token ok eyJ.id.token"], (out, err)
    method, path, headers, body = provider.requests[-1]
    assert method == "POST"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert headers["Accept"] == "application/json"
    scheme, cred = headers["Authorization"].split(" ")
    assert scheme == "Basic"
    raw = base64.b64decode(cred).decode()
    uid, pw = raw.split(":")                 # exactly one raw ':'
    assert urllib.parse.unquote_plus(uid) == "cli ent:1"
    assert urllib.parse.unquote_plus(pw) == secret
    f = form(body)
    assert f == {"grant_type": ["authorization_code"],
                 "code": ["c0de &+/="], "code_verifier": ["v3rifier"],
                 "redirect_uri": ["https://app/cb?x=1"]}
    assert secret not in err and "at-secret" not in err


def test_token_longest_secret(provider):
    # a 1 KiB secret (the loader's bound) of characters that all need
    # encoding, and a 255-byte client id likewise
    secret, cid = "%:" * 512, "&" * 255
    provider.serve("/token", TOKEN_OK)
    for method in ("basic", "post"):
        rc, out, err = probe("-i", provider.base, "-c", cid, "-s", secret,
                             "-m", method, "token:" + provider.url("/token"))
        assert out == ["token ok eyJ.id.token"], (method, out, err)
        headers, body = provider.requests[-1][2:]
        if method == "basic":
            raw = base64.b64decode(headers["Authorization"].split()[1])
            uid, pw = raw.decode().split(":")
            assert urllib.parse.unquote_plus(pw) == secret
            assert urllib.parse.unquote_plus(uid) == cid
        else:
            assert form(body)["client_secret"] == [secret]


def test_token_client_secret_post(provider):
    provider.serve("/token", TOKEN_OK)
    rc, out, err = token(provider, "-s", "p&ss=word", "-m", "post")
    assert out == ["token ok eyJ.id.token"], (out, err)
    method, path, headers, body = provider.requests[-1]
    assert "Authorization" not in headers
    f = form(body)
    assert f["client_id"] == ["cli ent:1"]
    assert f["client_secret"] == ["p&ss=word"]
    assert f["code"] == ["c0de &+/="]


def test_token_answers_refused(provider):
    cases = [
        (200, {"token_type": "mac", "id_token": "x"}, "oidc_token_answer"),
        (200, {"token_type": "Bearer"}, "oidc_token_answer"),
        (200, {"token_type": "Bearer", "id_token": 5}, "oidc_token_answer"),
        (200, {"id_token": "x"}, "oidc_token_answer"),
        (200, b"[\"Bearer\"]", "oidc_token_answer"),
        (200, b"{\"token_type\": \"Bearer\", \"id_token\": \"a\", "
              b"\"id_token\": \"b\"}", "oidc_token_answer"),
        (400, {"error": "invalid_grant",
               "error_description": "secret-ish details"}, "invalid_grant"),
        (401, {"error": "invalid_client"}, "invalid_client"),
        (400, {"error": "bad code\nx"}, "oidc_token_error"),
        (400, {"error": ""}, "oidc_token_error"),
        (400, {"error": "x" * 100}, "oidc_token_error"),
        (500, b"<html>down</html>", "oidc_token_status"),
        (302, b"", "oidc_token_status"),
        (201, TOKEN_OK, "oidc_token_status"),
    ]
    for status, body, want in cases:
        provider.serve("/token", body, status=status)
        rc, out, err = token(provider, "-s", "x")
        assert out == ["token err " + want], (status, body, out)
        assert "secret-ish" not in err
    provider.serve("/token", {"token_type": "Bearer", "id_token": "x",
                              "p": "y" * 70000})
    rc, out, err = token(provider, "-s", "x")
    assert out == ["token err httpc_too_large"], out


def test_token_refused_before_sending(provider):
    for endpoint in ("http://idp.example.com/token", "ftp://x/token"):
        rc, out, err = probe("-i", provider.base, "-s", "x",
                             "token:" + endpoint)
        assert out == ["token refused"], out
    # no secret for a secret method, no key for private_key_jwt
    rc, out, err = token(provider)
    assert out == ["token refused"], out
    rc, out, err = token(provider, "-m", "jwt")
    assert out == ["token refused"], out
    assert provider.count("/token") == 0


def test_token_private_key_jwt(provider, tmp_path):
    import jwt
    key = ec.generate_private_key(ec.SECP256R1())
    pem = tmp_path / "client.pem"
    pem.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    provider.serve("/token", TOKEN_OK)
    t0 = int(time.time())
    rc, out, err = token(provider, "-m", "jwt", "-k", str(pem), "-K", "kid-1")
    assert out == ["token ok eyJ.id.token"], (out, err)
    method, path, headers, body = provider.requests[-1]
    assert "Authorization" not in headers
    f = form(body)
    assert f["client_assertion_type"] == [
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
    assert "client_secret" not in f
    assertion = f["client_assertion"][0]
    assert jwt.get_unverified_header(assertion)["kid"] == "kid-1"
    claims = jwt.decode(assertion, key.public_key(), algorithms=["ES256"],
                        audience=provider.url("/token"))
    assert claims["iss"] == claims["sub"] == "cli ent:1"
    assert t0 - 5 <= claims["iat"] <= t0 + 5
    assert claims["exp"] - claims["iat"] == 60
    assert len(claims["jti"]) >= 20
    # each assertion is new
    rc, out, err = token(provider, "-m", "jwt", "-k", str(pem))
    again = form(provider.requests[-1][3])["client_assertion"][0]
    assert jwt.decode(again, key.public_key(), algorithms=["ES256"],
                      audience=provider.url("/token"))["jti"] != claims["jti"]


# ---- the command ----

def test_sso_command_usage_and_unknown_provider(tmp_path):
    r = run_postern("sso")
    assert r.returncode == 2 and "usage: postern sso test" in r.stderr
    r = run_postern("sso", "test", "-c", "/nonexistent")
    assert r.returncode == 2                 # no PROVIDER
    r = run_postern("help", "sso")
    assert r.returncode == 0 and "PROVIDER" in r.stdout
    r = run_postern("help")
    assert "  sso " in r.stdout
    path = tmp_path / "postern.yaml"
    path.write_text(config_text([listener(free_port(), tls=False)]))
    r = run_postern("sso", "test", "-c", str(path), "corp")
    assert r.returncode == 1
    assert "no provider 'corp' in sso.providers" in r.stderr


def sso_config(tmp_path, issuer, extra=""):
    """A postern.yaml with one provider, corp, of <issuer>; its path."""
    secret = tmp_path / "secret"
    secret.write_text(os.urandom(32).hex() + "\n")
    client = tmp_path / "client-secret"
    client.write_text("s3cret\n")
    for f in (secret, client):
        os.chmod(f, 0o600)
    path = tmp_path / "postern.yaml"
    path.write_text(config_text([listener(free_port(), tls=False)]) +
                    "secret_file: %s\n" % secret +
                    "sso:\n  providers:\n    - name: corp\n"
                    "      type: oidc\n      issuer: %s\n"
                    "      client_id: postern\n"
                    "      client_secret_file: %s\n" % (issuer, client) +
                    extra)
    r = run_postern("check", "-c", str(path))
    assert r.returncode == 0, r.stderr
    return str(path)


def test_sso_command_against_provider(tmp_path, provider):
    """`postern sso test` end to end, with the provider as configured."""
    provider.discovery()
    provider.jwks(keys=[RSA_KEY, EC_KEY])
    path = sso_config(tmp_path, provider.base)
    r = run_postern("sso", "test", "-c", path, "corp")
    assert r.returncode == 0, r.stderr
    assert "issuer:              %s (matches" % provider.base in r.stdout
    assert "usable keys:         2" in r.stdout
    assert "s3cret" not in r.stdout + r.stderr
    provider.discovery(issuer="https://evil.example")
    r = run_postern("sso", "test", "-c", path, "corp")
    assert r.returncode == 1 and "oidc_issuer" in r.stderr
    assert "issuer:" not in r.stdout
    # the configured timeout applies
    provider.discovery()
    s, h, b, _ = provider.routes[DISC]
    provider.routes[DISC] = (s, h, b, 3)
    path = sso_config(tmp_path, provider.base, "      timeout: 500ms\n")
    t0 = time.monotonic()
    r = run_postern("sso", "test", "-c", path, "corp")
    assert r.returncode == 1 and "httpc_timeout" in r.stderr, r.stderr
    assert time.monotonic() - t0 < 2.5


def test_sso_command_tls_ca_file(tmp_path, tls_cert):
    prov = Provider(scheme="https")
    srv = start(prov, tls_cert)
    try:
        prov.discovery()
        prov.jwks()
        path = sso_config(tmp_path, prov.base)
        r = run_postern("sso", "test", "-c", path, "corp")
        assert r.returncode == 1 and "httpc_tls" in r.stderr, r.stderr
        path = sso_config(tmp_path, prov.base,
                          "      ca_file: %s\n" % tls_cert[0])
        r = run_postern("sso", "test", "-c", path, "corp")
        assert r.returncode == 0, r.stderr
    finally:
        srv.shutdown()
        srv.server_close()
