"""Debian's pebble, a real ACME server, for tests/integration/test_acme.py.

Pebble(directory, http_port, tls_port, env) starts pebble-challtestsrv as
the DNS server (every name resolves to 127.0.0.1 unless set_a() says
otherwise) and pebble on free loopback ports, with its own TLS
certificate from a test CA made here with openssl (ca_file: what the
gateway's acme.ca_file trusts).  Pebble validates HTTP-01 on <http_port>
and TLS-ALPN-01 on <tls_port>: the gateway's plain and TLS listeners.
PEBBLE_VA_NOSLEEP=1 and PEBBLE_VA_ALWAYS_VALID=0 always; <env> adds
(PEBBLE_WFE_NONCEREJECT for badNonce answers); <validity> makes its
certificates live that many seconds.  stop() ends both.
"""
import json
import os
import subprocess
import urllib.request
import ssl

from gwproc import free_port, stop, wait_port


def _openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_ca(d):
    """A test CA and a localhost/127.0.0.1 certificate it signed, in <d>:
    (ca.pem, cert.pem, key.pem)."""
    ca, cakey = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")
    crt, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    csr, ext = os.path.join(d, "csr.pem"), os.path.join(d, "ext.cnf")
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
             "-subj", "/CN=pebble test CA", "-keyout", cakey, "-out", ca)
    _openssl("req", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
             "/CN=localhost", "-keyout", key, "-out", csr)
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", cakey,
             "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", crt)
    os.chmod(key, 0o600)
    return ca, crt, key


class Pebble:
    def __init__(self, directory, http_port, tls_port, env=None,
                 eab=None, validity=None):
        d = str(directory)
        self.ca_file, crt, key = make_ca(d)
        self.port, self.mgmt = free_port(), free_port()
        self.dns, self.dns_mgmt = free_port(), free_port()
        conf = {"listenAddress": "127.0.0.1:%d" % self.port,
                "managementListenAddress": "127.0.0.1:%d" % self.mgmt,
                "certificate": crt, "privateKey": key,
                "httpPort": http_port, "tlsPort": tls_port,
                "ocspResponderURL": "",
                "externalAccountBindingRequired": eab is not None}
        if eab is not None:
            conf["externalAccountMACKeys"] = eab
        if validity is not None:		# seconds of its certificates
            conf["certificateValidityPeriod"] = validity
        path = os.path.join(d, "pebble.json")
        with open(path, "w") as f:
            json.dump({"pebble": conf}, f)
        self.log_path = os.path.join(d, "pebble.log")
        self.cts = subprocess.Popen(
            ["pebble-challtestsrv", "-dns01", "127.0.0.1:%d" % self.dns,
             "-http01", "", "-https01", "", "-tlsalpn01", "",
             "-management", "127.0.0.1:%d" % self.dns_mgmt,
             "-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.proc = None
        try:
            self._start(d, path, env)
        except Exception:
            self.stop()		# nothing left running
            raise
        self.directory = "https://127.0.0.1:%d/dir" % self.port

    def _start(self, d, path, env):
        wait_port(self.dns_mgmt, self.cts, timeout=30)
        e = dict(os.environ, PEBBLE_VA_NOSLEEP="1",
                 PEBBLE_VA_ALWAYS_VALID="0", PEBBLE_WFE_NONCEREJECT="0",
                 PEBBLE_AUTHZREUSE="0")
        e.update(env or {})
        with open(self.log_path, "w") as logf:
            self.proc = subprocess.Popen(
                ["pebble", "-config", path, "-dnsserver",
                 "127.0.0.1:%d" % self.dns], stdout=logf, stderr=logf,
                env=e)
        # a Go program starting on a loaded machine: give it time
        wait_port(self.port, self.proc, timeout=30)
        wait_port(self.mgmt, self.proc, timeout=30)

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def orders(self):
        """How many newOrder requests pebble has seen."""
        return self.log().count("POST /order-plz")

    def set_a(self, host, address):
        """DNS: <host> resolves to <address> (IPv4) only."""
        name = host.rstrip(".") + "."
        for path, body in (("/clear-a", {"host": name}),
                           ("/add-a", {"host": name,
                                       "addresses": [address]})):
            urllib.request.urlopen(urllib.request.Request(
                "http://127.0.0.1:%d%s" % (self.dns_mgmt, path),
                data=json.dumps(body).encode()), timeout=5).read()

    def management(self, path):
        """GET <path> of pebble's management API (its own test CA)."""
        ctx = ssl.create_default_context(cafile=self.ca_file)
        return urllib.request.urlopen(
            "https://127.0.0.1:%d%s" % (self.mgmt, path), context=ctx,
            timeout=5).read().decode()

    def stop(self):
        if self.proc is not None:
            stop(self.proc)
        stop(self.cts)
