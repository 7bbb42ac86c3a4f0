"""Real front proxies for the forward-auth tests: Debian's nginx (with its
auth_request module) and Caddy, each started with its own configuration
in a temporary directory on a free loopback port, TLS with the test
certificate, in front of the demo upstream, asking a Postern listener in
`mode: forward_auth` for every decision.  The configurations are the
blocks of docs/forward-auth.md, read from it, with the addresses, ports
and certificate paths filled in: the documented ones are the tested ones.
"""
import os
import re
import shutil
import subprocess

from gwproc import ROOT, free_port, stop, wait_port

IDENTITY = ("User", "Email", "Auth", "Org", "Role", "Assertion")

DOC = os.path.join(ROOT, "docs", "forward-auth.md")


def doc_block(lang):
    """The one ```<lang> block of docs/forward-auth.md."""
    text = open(DOC, encoding="utf-8").read()
    blocks = re.findall(r"^```%s\n(.*?)^```$" % lang, text, re.M | re.S)
    assert len(blocks) == 1, (lang, len(blocks))
    return blocks[0]


def fill(text, repl):
    for old, new in repl:
        assert old in text, old
        text = text.replace(old, new)
    return text


def nginx_conf(d, port, cert, postern, upstream):
    server = fill(doc_block("nginx"), [
        ("listen 443 ssl;", "listen 127.0.0.1:%d ssl;" % port),
        ("/etc/ssl/app.example.com.pem", cert[0]),
        ("/etc/ssl/app.example.com.key", cert[1]),
        ("127.0.0.1:9180", "127.0.0.1:%d" % postern),
        ("127.0.0.1:8080", "%s:%d" % upstream)])
    return """\
worker_processes 1;
error_log %(d)s/error.log info;
pid %(d)s/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %(d)s/body;
    proxy_temp_path %(d)s/proxy;
    fastcgi_temp_path %(d)s/fastcgi;
    uwsgi_temp_path %(d)s/uwsgi;
    scgi_temp_path %(d)s/scgi;
%(server)s}
""" % {"d": d, "server": server}


def caddyfile(port, cert, postern, upstream, strip=True):
    site = fill(doc_block("caddy"), [
        ("app.example.com {", "https://127.0.0.1:%d, https://localhost:%d {"
         "\n    tls %s %s" % (port, port, cert[0], cert[1])),
        ("127.0.0.1:9180", "127.0.0.1:%d" % postern),
        ("127.0.0.1:8080", "%s:%d" % upstream)])
    if not strip:
        site = fill(site, [("            request_header -X-Postern-*\n",
                            "")])
    return "{\n    admin off\n    auto_https off\n}\n\n" + site


class FrontProxy:
    """A running front proxy: .name ("nginx" or "caddy"), .port, .url."""

    def __init__(self, name, argv, port, d, env=None):
        self.name, self.port, self.dir = name, port, d
        self.log_path = os.path.join(d, "proxy.log")
        with open(self.log_path, "w") as logf:
            self.proc = subprocess.Popen(argv, stdout=logf, stderr=logf,
                                         env=env, cwd=d)
        try:
            wait_port(port, self.proc)
        except RuntimeError:
            raise RuntimeError(self.log())

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def log(self):
        text = open(self.log_path, errors="replace").read()
        err = os.path.join(self.dir, "error.log")
        if os.path.exists(err):
            text += open(err, errors="replace").read()
        return text

    def stop(self):
        stop(self.proc)


def start_nginx(d, cert, postern, upstream):
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    os.makedirs(d, exist_ok=True)
    port = free_port()
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(nginx_conf(d, port, cert, postern, upstream))
    return FrontProxy("nginx", [exe, "-p", d, "-c", conf, "-e",
                                os.path.join(d, "error.log"),
                                "-g", "daemon off;"], port, d)


def start_caddy(d, cert, postern, upstream, strip=True):
    exe = shutil.which("caddy") or "/usr/bin/caddy"
    os.makedirs(d, exist_ok=True)
    port = free_port()
    conf = os.path.join(d, "Caddyfile")
    with open(conf, "w") as f:
        f.write(caddyfile(port, cert, postern, upstream, strip))
    env = dict(os.environ, HOME=d, XDG_DATA_HOME=os.path.join(d, "data"),
               XDG_CONFIG_HOME=os.path.join(d, "config"))
    return FrontProxy("caddy", [exe, "run", "--config", conf, "--adapter",
                                "caddyfile"], port, d, env=env)


def main(argv):
    """frontproxy.py nginx|caddy DIR CERT KEY PORT POSTERN-PORT
    UPSTREAM-PORT: write the configuration into DIR and become the front
    proxy on PORT (the browser tests start it this way)."""
    name, d, cert, key = argv[1], argv[2], argv[3], argv[4]
    port, postern, up = (int(a) for a in argv[5:8])
    os.makedirs(d, exist_ok=True)
    if name == "nginx":
        conf = os.path.join(d, "nginx.conf")
        text = nginx_conf(d, port, (cert, key), postern, ("127.0.0.1", up))
        argv = [shutil.which("nginx") or "/usr/sbin/nginx", "-p", d, "-c",
                conf, "-e", os.path.join(d, "error.log"), "-g",
                "daemon off;"]
    else:
        conf = os.path.join(d, "Caddyfile")
        text = caddyfile(port, (cert, key), postern, ("127.0.0.1", up))
        os.environ.update(HOME=d, XDG_DATA_HOME=os.path.join(d, "data"),
                          XDG_CONFIG_HOME=os.path.join(d, "config"))
        argv = [shutil.which("caddy") or "/usr/bin/caddy", "run",
                "--config", conf, "--adapter", "caddyfile"]
    with open(conf, "w") as f:
        f.write(text)
    os.execv(argv[0], argv)


if __name__ == "__main__":
    import sys
    main(sys.argv)
