"""Real front proxies for the forward-auth tests: Debian's nginx (with its
auth_request module) and Caddy, each started with its own configuration
in a temporary directory on a free loopback port, TLS with the test
certificate, in front of the demo upstream, asking a Postern listener in
`mode: forward_auth` for every decision.  The configurations are the ones
docs/forward-auth.md shows, with the ports and paths filled in.
"""
import os
import shutil
import subprocess

from gwproc import free_port, stop, wait_port

IDENTITY = ("User", "Email", "Auth", "Org", "Role", "Assertion")

NGINX_AUTH = """\
    # the decision: a sub-request without the body
    location = /.postern/auth {
        internal;
        proxy_pass http://%(postern)s;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_set_header Host $http_host;
        proxy_set_header X-Original-URI $request_uri;
        proxy_set_header X-Original-Method $request_method;
        proxy_set_header X-Forwarded-Uri "";
        proxy_set_header X-Forwarded-Method "";
        proxy_set_header X-Forwarded-Host $http_host;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-For $remote_addr;
    }

    # the gateway's pages: sign-in, 2FA, sign-out, account, share links
    location /.postern/ {
        proxy_pass http://%(postern)s;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-Host $http_host;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-For $remote_addr;
    }

    # not signed in, a share link, step-up: follow the gateway's answer
    location @postern_401 {
        if ($postern_location) {
            add_header Set-Cookie $postern_cookie always;
            return 302 $postern_location;
        }
        default_type application/json;
        add_header WWW-Authenticate $postern_www always;
        return 401 '{"error":"unauthenticated"}\\n';
    }

    # nginx turns any other answer of the sub-request into 500
    location @postern_500 {
        if ($postern_status = 429) {
            add_header Retry-After $postern_retry always;
            return 429;
        }
        if ($postern_status = 503) {
            add_header Retry-After $postern_retry always;
            return 503;
        }
        return 500;
    }
"""

NGINX_APP = """\
    location / {
        auth_request /.postern/auth;
        auth_request_set $postern_status $upstream_status;
        auth_request_set $postern_location $upstream_http_x_postern_location;
        auth_request_set $postern_cookie $upstream_http_set_cookie;
        auth_request_set $postern_www $upstream_http_www_authenticate;
        auth_request_set $postern_retry $upstream_http_retry_after;
%(set)s        error_page 401 = @postern_401;
        error_page 500 = @postern_500;
%(copy)s        proxy_set_header X-Postern-Location "";
        proxy_pass http://%(upstream)s;
    }
"""


def nginx_conf(d, port, cert, postern, upstream):
    sets = "".join(
        "        auth_request_set $postern_%s "
        "$upstream_http_x_postern_%s;\n" % (h.lower(), h.lower())
        for h in IDENTITY)
    copy = "".join(
        "        proxy_set_header X-Postern-%s $postern_%s;\n"
        % (h, h.lower()) for h in IDENTITY)
    fill = {"postern": "127.0.0.1:%d" % postern,
            "upstream": "%s:%d" % upstream, "set": sets, "copy": copy}
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
    server {
        listen 127.0.0.1:%(port)d ssl;
        ssl_certificate %(cert)s;
        ssl_certificate_key %(key)s;
%(auth)s%(app)s    }
}
""" % {"d": d, "port": port, "cert": cert[0], "key": cert[1],
       "auth": NGINX_AUTH % fill, "app": NGINX_APP % fill}


def caddyfile(port, cert, postern, upstream, strip=True):
    heads = " ".join("X-Postern-%s" % h for h in IDENTITY)
    return """\
{
    admin off
    auto_https off
}

https://127.0.0.1:%(port)d, https://localhost:%(port)d {
    tls %(cert)s %(key)s
    handle /.postern/* {
        reverse_proxy 127.0.0.1:%(postern)d
    }
    handle {
        route {
%(strip)s            forward_auth 127.0.0.1:%(postern)d {
                uri /.postern/auth
                copy_headers %(heads)s
            }
            reverse_proxy %(up)s
        }
    }
}
""" % {"port": port, "cert": cert[0], "key": cert[1], "postern": postern,
       "up": "%s:%d" % upstream, "heads": heads,
       "strip": "            request_header -X-Postern-*\n" if strip else ""}


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
