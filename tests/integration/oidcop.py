"""A real OpenID Provider for the SSO tests: tests/oidc/op.mjs (the npm
package oidc-provider, run by node) on a free loopback port, and the
Python side of it.

    op = OpenIdProvider(directory)          # (the oidc_op fixture does this)
    op.start()                              # config written, READY waited for
    op.issuer                               # "http://127.0.0.1:PORT"
    op.register(gw, "corp")                 # a client for that gateway
    r = op.login(start_url, "alice", session)   # -> the 303 to the callback
    r.callback, r.authorization["nonce"]    # its Location; what the RP sent
    op.sign(claims, kid="rsa1")             # a JWS signed as the OP would
    op.id_token_claims(aud, nonce, exp=0)   # a claim set to sign or tamper
    op.next_id_token(token)                 # the token endpoint says that
    op.rotate([new_key("ec", "ec2")])       # new signing keys
    op.down() / op.up() / op.hits(path) / op.issued()
    op.cache_control("max-age=0")           # on discovery and JWKS
    op.reset()                              # as just started (shared one)
    op.backchannel_logout("alice")          # a logout token to the RP now
    op.confirm_logout(end_session, session) # "sign me out?" -> yes
    op.stop()

Keys are generated here (python3-cryptography: RSA 2048 "rsa1" and P-256
"ec1" by default), handed to the provider with their private parts, and
kept: a test can sign what the provider would sign, and forge what it would
not (wrong aud, expired, alg none, HS256 keyed with the public key, ...).
Accounts are {login name: claims}; the login name is what the provider's
sign-in page asks for and the account's sub unless it has its own.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import subprocess
import threading
import time
import urllib.parse

import requests
import urllib3
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import \
    decode_dss_signature

from gwproc import ROOT, free_port, stop

# login() talks to the gateway's self-signed certificate, like the tests.
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

OP_DIR = os.path.join(ROOT, "tests", "oidc")
OP_SCRIPT = os.path.join(OP_DIR, "op.mjs")
NODE = os.environ.get("NODE", "node")

ACCOUNTS = {
    "alice": {"email": "alice@corp.example", "email_verified": True,
              "name": "Alice Example", "hd": "corp.example",
              "groups": ["staff", "admins"], "amr": ["pwd", "mfa"],
              "acr": "urn:test:mfa"},
    "bob": {"email": "bob@corp.example", "email_verified": True,
            "name": "Bob Example", "hd": "corp.example",
            "groups": ["staff"], "amr": ["pwd"]},
    "mallory": {"email": "mallory@corp.example", "email_verified": False,
                "name": "Mallory Unverified", "hd": "corp.example",
                "groups": [], "amr": ["pwd"]},
    "eve": {"email": "eve@elsewhere.example", "email_verified": True,
            "name": "Eve Elsewhere", "hd": "elsewhere.example",
            "groups": ["staff"], "amr": ["pwd"]},
}


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_int(n, length=None):
    length = length or (n.bit_length() + 7) // 8
    return b64u(n.to_bytes(length, "big"))


def unb64u(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pkce_pair():
    """(verifier, S256 challenge)."""
    verifier = b64u(secrets.token_bytes(32))
    return verifier, b64u(hashlib.sha256(verifier.encode()).digest())


class Key:
    """One signing key: <key> (a cryptography private key), <kid>, its
    default <alg>, and its JWK with (jwk_private) and without (jwk) the
    private parts."""

    def __init__(self, key, kid, alg=None):
        self.key, self.kid = key, kid
        pub = key.public_key()
        if isinstance(key, rsa.RSAPrivateKey):
            n = key.private_numbers()
            pn = n.public_numbers
            self.alg = alg or "RS256"
            self.jwk = {"kty": "RSA", "n": b64u_int(pn.n),
                        "e": b64u_int(pn.e)}
            private = {"d": b64u_int(n.d), "p": b64u_int(n.p),
                       "q": b64u_int(n.q), "dp": b64u_int(n.dmp1),
                       "dq": b64u_int(n.dmq1), "qi": b64u_int(n.iqmp)}
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            n = key.private_numbers()
            self.alg = alg or "ES256"
            self.jwk = {"kty": "EC", "crv": "P-256",
                        "x": b64u_int(n.public_numbers.x, 32),
                        "y": b64u_int(n.public_numbers.y, 32)}
            private = {"d": b64u_int(n.private_value, 32)}
        else:
            raw = serialization.Encoding.Raw
            self.alg = alg or "EdDSA"
            self.jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64u(
                pub.public_bytes(raw, serialization.PublicFormat.Raw))}
            private = {"d": b64u(key.private_bytes(
                raw, serialization.PrivateFormat.Raw,
                serialization.NoEncryption()))}
        self.jwk.update({"kid": kid, "use": "sig"})
        self.jwk_private = dict(self.jwk, **private)

    def public_pem(self):
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo)

    def private_pem(self):
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())

    def sign(self, data, alg):
        k = self.key
        if alg == "RS256":
            return k.sign(data, padding.PKCS1v15(), hashes.SHA256())
        if alg == "PS256":
            return k.sign(data, padding.PSS(padding.MGF1(hashes.SHA256()),
                                            32), hashes.SHA256())
        if alg == "ES256":
            r, s = decode_dss_signature(k.sign(data,
                                               ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        if alg == "EdDSA":
            return k.sign(data)
        raise ValueError("cannot sign %s with %s" % (alg, self.kid))


def new_key(kty, kid, alg=None):
    """A fresh Key: kty "rsa" (2048 bits), "ec" (P-256) or "ed25519"."""
    if kty == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif kty == "ec":
        key = ec.generate_private_key(ec.SECP256R1())
    elif kty == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        raise ValueError(kty)
    return Key(key, kid, alg)


def jws(claims, key=None, alg=None, header=None, secret=None):
    """A compact JWS of <claims> (a dict, or bytes taken verbatim).

    <key> (a Key) signs with <alg> (default: the key's), kid = key.kid;
    <secret> (bytes) signs HS256 instead; neither: alg "none", empty
    signature.  <header> adds or overrides header members (a value None
    removes one)."""
    alg = alg or (key.alg if key else ("HS256" if secret is not None
                                       else "none"))
    h = {"alg": alg, "typ": "JWT"}
    if key is not None:
        h["kid"] = key.kid
    for name, value in (header or {}).items():
        if value is None:
            h.pop(name, None)
        else:
            h[name] = value
    body = claims if isinstance(claims, bytes) else json.dumps(claims).encode()
    signing_input = (b64u(json.dumps(h).encode()) + "." + b64u(body)).encode()
    if secret is not None:
        sig = hmac.new(secret, signing_input, hashlib.sha256).digest()
    elif key is not None:
        sig = key.sign(signing_input, alg)
    else:
        sig = b""
    return signing_input.decode() + "." + b64u(sig)


def jws_claims(token):
    """The payload of compact JWS <token> as a dict (not verified)."""
    return json.loads(unb64u(token.split(".")[1]))


def overridden(claims, over):
    """<claims> with the items of <over> put in, those None taken out."""
    for k, v in over.items():
        if v is None:
            claims.pop(k, None)
        else:
            claims[k] = v
    return claims


def jws_verify(token, keys):
    """The claims of compact JWS <token> if one of <keys> (Key objects;
    by the header's kid when it has one) signed it with its alg;
    AssertionError otherwise.  For checking what the provider sent."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.utils import \
        encode_dss_signature
    h64, c64, s64 = token.split(".")
    header = json.loads(unb64u(h64))
    data, sig = (h64 + "." + c64).encode(), unb64u(s64)
    for k in keys:
        if header.get("kid") not in (None, k.kid):
            continue
        pub, alg = k.key.public_key(), header["alg"]
        try:
            if alg == "RS256":
                pub.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
            elif alg == "PS256":
                pub.verify(sig, data, padding.PSS(
                    padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
            elif alg == "ES256":
                pub.verify(encode_dss_signature(
                    int.from_bytes(sig[:32], "big"),
                    int.from_bytes(sig[32:], "big")), data,
                    ec.ECDSA(hashes.SHA256()))
            elif alg == "EdDSA":
                pub.verify(sig, data)
            else:
                continue
        except (InvalidSignature, TypeError, ValueError, AttributeError):
            continue
        return json.loads(unb64u(c64))
    raise AssertionError("no key of %s verifies %s" % (
        [k.kid for k in keys], header))


def client(client_id, redirect_uris, secret=None, auth="client_secret_basic",
           jwk=None, alg="RS256", post_logout=(), backchannel=None,
           **extra):
    """oidc-provider client metadata: a confidential web client for the
    code flow; <auth> private_key_jwt takes the client's public <jwk>."""
    c = {"client_id": client_id, "redirect_uris": list(redirect_uris),
         "response_types": ["code"], "grant_types": ["authorization_code"],
         "token_endpoint_auth_method": auth,
         "id_token_signed_response_alg": alg,
         "post_logout_redirect_uris": list(post_logout)}
    if auth == "private_key_jwt":
        c["jwks"] = {"keys": [jwk]}
        c["token_endpoint_auth_signing_alg"] = "ES256"
    else:
        c["client_secret"] = secret
    if backchannel:
        c["backchannel_logout_uri"] = backchannel
        c["backchannel_logout_session_required"] = True
    c.update(extra)
    return c


def sso_section(providers, orgs=(), flow_ttl=None):
    """An sso: section for write_config(extra=...): <providers> and <orgs>
    are lists of dicts of docs/sso.md's keys (values in JSON, which YAML
    reads as it is)."""
    text = "sso:\n  providers:\n" + "".join(
        "    - %s\n" % json.dumps(p) for p in providers)
    if orgs:
        text += "  orgs:\n" + "".join("    - %s\n" % json.dumps(o)
                                      for o in orgs)
    if flow_ttl is not None:
        text += "  flow_ttl: %s\n" % flow_ttl
    return text


class OpenIdProvider:
    """tests/oidc/op.mjs on a free loopback port (see the module doc)."""

    def __init__(self, directory, name="op", accounts=None, clients=(),
                 keys=None, ca_file=None, ttl=None):
        self._visited = []
        self.dir = directory
        self.name = name
        self.port = free_port()
        self.issuer = "http://127.0.0.1:%d" % self.port
        self.accounts = ACCOUNTS if accounts is None else accounts
        self.clients = list(clients)
        self.keys = keys or [new_key("rsa", "rsa1"), new_key("ec", "ec1")]
        self._initial = (list(self.keys), list(self.clients))
        self.ca_file = ca_file
        self.ttl = ttl
        self.proc = None
        self.log_path = os.path.join(str(directory), "%s.log" % name)
        self.http = requests.Session()     # for the test controls

    # --- process -------------------------------------------------------

    def config(self):
        c = {"port": self.port, "issuer": self.issuer,
             "jwks": {"keys": [k.jwk_private for k in self.keys]},
             "clients": self.clients, "accounts": self.accounts}
        if self.ca_file:
            c["ca_file"] = self.ca_file
        if self.ttl:
            c["ttl"] = self.ttl
        return c

    def start(self, timeout=20):
        assert os.path.isdir(os.path.join(OP_DIR, "node_modules",
                                          "oidc-provider")), \
            "npm ci in tests/oidc first (scripts/test does it)"
        path = os.path.join(str(self.dir), "%s.json" % self.name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(self.config(), f)
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen([NODE, OP_SCRIPT, path], cwd=OP_DIR,
                                     stdout=subprocess.PIPE,
                                     stderr=self._log, text=True)
        ready = threading.Event()

        def pump():     # the READY line, then the rest into the log
            for line in self.proc.stdout:
                if line.startswith("READY "):
                    ready.set()
                self._log.write(line)
                self._log.flush()
        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()
        deadline = time.monotonic() + timeout
        while not ready.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the OpenID Provider did not start:\n"
                                   + self.log())
        return self

    def stop(self):
        if self.proc is not None:
            stop(self.proc)
            self._pump.join(5)
            self.proc.stdout.close()
            self.proc = None
            self._log.close()
            self.http.close()

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    # --- test controls -------------------------------------------------

    def _control(self, method, what, body=None):
        r = self.http.request(method, self.issuer + "/__test/" + what,
                              json=body, timeout=10)
        r.raise_for_status()
        return r.json()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def reset(self):
        """Back to the state just after start(): its first keys and
        clients, up, nothing queued, counted or issued (sessions and grants
        made at the provider stay, but belong to browsers no later test
        has).  The oidc_op fixture shares one provider between tests."""
        self.keys, self.clients = list(self._initial[0]), list(
            self._initial[1])
        self._control("POST", "reset", {
            "clients": self.clients,
            "jwks": {"keys": [k.jwk_private for k in self.keys]}})

    def set_clients(self, clients):
        """Replace the registered clients (sessions survive)."""
        self.clients = list(clients)
        self._control("POST", "clients", {"clients": self.clients})

    def register(self, gw, provider="corp", client_id=None, secret=None,
                 auth="client_secret_basic", jwk=None, alg="RS256",
                 hosts=("localhost", "127.0.0.1"),
                 post_logout="/.postern/login", **extra):
        """Add a client for gateway <gw> (a gwproc.Gateway, or its HTTPS
        port) and its SSO
        provider entry <provider>: the callback on each of <hosts>, the
        path <post_logout> as post-logout redirect, back-channel logout to
        127.0.0.1.  Returns (client_id, secret); a secret is made up
        unless given (None with private_key_jwt)."""
        client_id = client_id or "postern-%s" % provider
        if auth != "private_key_jwt" and secret is None:
            secret = secrets.token_urlsafe(32)
        port = gw if isinstance(gw, int) else gw.https_port
        base = ["https://%s:%d" % (h, port) for h in hosts]
        sso = "/.postern/sso/%s/" % provider
        c = client(client_id, [b + sso + "callback" for b in base],
                   secret=secret, auth=auth, jwk=jwk, alg=alg,
                   post_logout=[b + post_logout for b in base],
                   backchannel=base[-1] + sso + "backchannel-logout",
                   **extra)
        self.set_clients([x for x in self.clients
                          if x["client_id"] != client_id] + [c])
        return client_id, secret

    def rotate(self, keys):
        """The provider signs with <keys> (Key objects) from now on, and
        its JWKS lists exactly them."""
        self.keys = list(keys)
        self._control("POST", "rotate",
                      {"jwks": {"keys": [k.jwk_private for k in keys]}})

    def next_id_token(self, token):
        """The token endpoint's next successful answer carries <token> in
        place of the id_token it made (None: forget queued ones)."""
        self._control("POST", "next-id-token", {"id_token": token})

    def down(self, status=503, hang=False):
        """Every request but the controls gets <status> (or, <hang>, no
        answer at all) until up()."""
        self._control("POST", "down", {"status": status, "hang": hang})

    def up(self):
        self._control("POST", "up")

    def cache_control(self, value):
        """Discovery and JWKS answer with this Cache-Control header (e.g.
        "max-age=0", "no-store"); None: none (the start's default)."""
        self._control("POST", "cache", {"cache_control": value})

    def hits(self, path=None):
        """Requests to <path> (e.g. "/.well-known/openid-configuration",
        "/jwks") since start or reset_hits(); all paths: a dict."""
        h = self._control("GET", "hits")
        return h if path is None else h.get(path, 0)

    def reset_hits(self):
        self._control("POST", "hits/reset")

    def issued(self):
        """The claims of every id_token the token endpoint issued."""
        return self._control("GET", "issued")

    def backchannel_logout(self, sub, sid=None, client_id=None):
        """Have the provider send a logout token for <sub> (and <sid>:
        default the sid of its last id_token to <sub>) to <client_id>'s
        backchannel_logout_uri now: {"status": the RP's status, "sid"}
        (and "error" when it was not 200/204)."""
        client_id = client_id or self.clients[-1]["client_id"]
        body = {"client_id": client_id, "sub": sub}
        if sid is not None:
            body["sid"] = sid
        return self._control("POST", "backchannel-logout", body)

    # --- tokens --------------------------------------------------------

    def key(self, kid):
        for k in self.keys:
            if k.kid == kid:
                return k
        raise KeyError(kid)

    def sign(self, claims, kid="rsa1", alg=None, header=None, key=None):
        """<claims> signed with the provider's key <kid> (or any <key>)."""
        return jws(claims, key or self.key(kid), alg, header)

    def id_token_claims(self, aud, nonce, sub="alice", **over):
        """A claim set the provider would sign for <aud> (client_id):
        iss, aud, sub, nonce, iat/auth_time now, exp in 10 min, and the
        account's claims; <over> replaces (a value None removes)."""
        now = int(time.time())
        acct = self.accounts.get(sub, {})
        c = dict(acct)
        c.update({"iss": self.issuer, "aud": aud, "sub": acct.get("sub", sub),
                  "nonce": nonce, "iat": now, "auth_time": now,
                  "exp": now + 600})
        return overridden(c, over)

    def logout_token_claims(self, aud, sub="alice", sid=None, **over):
        """A Back-Channel Logout 1.0 claim set for <aud> (<over> as
        above)."""
        now = int(time.time())
        c = {"iss": self.issuer, "aud": aud, "iat": now, "exp": now + 120,
             "jti": secrets.token_urlsafe(16), "sub": sub,
             "events": {"http://schemas.openid.net/event/backchannel-logout":
                        {}}}
        if sid is not None:
            c["sid"] = sid
        return overridden(c, over)

    # --- the browser's part --------------------------------------------

    def login(self, start, account, session=None, consent=True,
              verify=False, max_hops=10):
        """Sign in as <account> (a login name) at this provider, the way a
        browser would, with the requests.Session <session> (its cookies
        are the browser's: pass the one that talked to the gateway; None:
        a new one).  <start> is a URL to GET (Postern's
        /.postern/sso/<p>/start, or an authorization URL) or a response
        that redirects (e.g. the gateway's answer to a sign-in button's
        POST).  Follows redirects to the provider's sign-in page, submits
        the login form and the consent form (Deny when not <consent>), and
        follows the provider's redirects up to the first one that leaves
        it.  Returns that response (the redirect to the RP's callback with
        code, state and iss, or with error=...), not followed, so the test
        can replay or tamper with it: .callback is its Location, .session
        the session, .authorization the query of the authorization request
        (a dict: client_id, redirect_uri, state, nonce, code_challenge...:
        what a forged id_token must carry to pass the nonce check).  A session already signed in at the provider (and a
        grant given before) passes without any form."""
        session = session or requests.Session()
        self._visited = []
        if not isinstance(start, str):
            assert start.is_redirect, "not a redirect: %d %s" % (
                start.status_code, start.url)
            start = urllib.parse.urljoin(start.url,
                                         start.headers["Location"])
        r = self._follow(session, "GET", start, verify, max_hops)
        for _ in range(3):
            if r.is_redirect:
                break
            m = re.search(r'<form method="post" action="([^"]+/(login|'
                          r'consent))">', r.text)
            assert m, "no sign-in form at %s:\n%s" % (r.url, r.text[:2000])
            action = self.issuer + m.group(1)
            if m.group(2) == "login":
                data = {"login": account}
            else:
                data = {}
                if not consent:
                    action = action.rsplit("/", 1)[0] + "/abort"
            r = self._follow(session, "POST", action, verify, max_hops,
                             data=data)
        assert r.is_redirect, "still at the provider: %s\n%s" % (
            r.url, r.text[:2000])
        r.callback = r.headers["Location"]
        r.session = session
        r.authorization = next((dict(urllib.parse.parse_qsl(u.query))
                                for u in map(urllib.parse.urlsplit,
                                             self._visited)
                                if u.path == "/auth" and u.query), None)
        return r

    def confirm_logout(self, start, session, confirm=True, verify=False):
        """RP-initiated logout as a browser does it: GET <start> (the
        end-session URL, or a response redirecting to it, e.g. the
        gateway's answer to its sign-out POST) with <session> (signed in at
        the provider), submit the provider's "sign me out?" form (yes, or
        no when not <confirm>), and return the provider's redirect (to the
        post_logout_redirect_uri), not followed."""
        if not isinstance(start, str):
            assert start.is_redirect, "not a redirect: %d %s" % (
                start.status_code, start.url)
            start = urllib.parse.urljoin(start.url,
                                         start.headers["Location"])
        r = self._follow(session, "GET", start, verify, 10)
        assert r.status_code == 200 and "op.logoutForm" in r.text, \
            "no sign-out form at %s: %d\n%s" % (r.url, r.status_code,
                                                 r.text[:2000])
        form = dict(re.findall(r'<input type="hidden" name="([^"]+)" '
                               r'value="([^"]*)"', r.text))
        if confirm:
            form["logout"] = "yes"
        r = self._follow(session, "POST", self.issuer + "/session/end/confirm",
                         verify, 10, data=form)
        assert r.is_redirect, "no redirect after sign-out: %d\n%s" % (
            r.status_code, r.text[:2000])
        return r

    def _follow(self, session, method, url, verify, max_hops, data=None):
        """<method> <url>, then GET each Location while it points into the
        provider; the first response that is not such a redirect."""
        for _ in range(max_hops):
            if url.startswith(self.issuer + "/"):
                self._visited.append(url)
            r = session.request(method, url, data=data, verify=verify,
                                allow_redirects=False, timeout=10)
            if not r.is_redirect:
                return r
            nxt = urllib.parse.urljoin(url, r.headers["Location"])
            if not nxt.startswith(self.issuer + "/"):
                return r
            method, url, data = "GET", nxt, None
        raise AssertionError("more than %d redirects from %s" % (max_hops,
                                                                 url))
