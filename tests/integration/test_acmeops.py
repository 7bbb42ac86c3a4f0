"""Operations of ACME and custom domains (docs/acme.md, docs/domains.md):
SCAN patterns that treat the glob characters of redis.prefix literally.
"""
import json
import os

import pytest
import redis as redislib

from conftest import run_postern
from gwproc import app_text, config_text, free_port, listener


def secret_file(path):
    """<path> made a gateway secret (32 random bytes, mode 0600)."""
    path.write_bytes(os.urandom(32))
    path.chmod(0o600)
    return path


def cli_config(tmp_path, tls_cert, redis_server, prefix, extra=""):
    """A configuration for the command-line tools (nothing is started)."""
    secret = secret_file(tmp_path / "secret")
    (tmp_path / "app.yaml").write_text(app_text(
        ("127.0.0.1", 9), hosts=("localhost", "shop.example.com")))
    cfg = tmp_path / "postern.yaml"
    cfg.write_text(config_text(
        [listener(free_port())], certs=[tls_cert],
        redis={"address": '"%s:%d"' % tuple(redis_server),
               "prefix": '"%s"' % prefix},
        policies=["app.yaml"], extra="secret_file: %s\n%s" % (secret, extra)))
    return cfg


@pytest.mark.parametrize("prefix", ["p*:", "p?:", "p[x]:", "p\\\\:"])
def test_cert_list_prefix_is_literal(tmp_path, tls_cert, redis_server,
                                     prefix):
    """`postern cert list` lists the certificates under its own prefix
    only, although the prefix holds a glob character: the keys of another
    prefix that the unescaped pattern would match are not listed."""
    rc = redislib.Redis(*redis_server)
    real = prefix.replace("\\\\", "\\")
    decoys = ["pz:", "px:", "p\\:x:", "p:"]
    mine = real + "acme:cert:shop.example.com"
    rc.hset(mine, mapping={"not_after": "1", "renew_at": "1",
                           "last_error": ""})
    for d in decoys:
        rc.hset(d + "acme:cert:evil.example.com", mapping={
            "not_after": "1", "renew_at": "1", "last_error": ""})
    try:
        cfg = cli_config(tmp_path, tls_cert, redis_server, prefix)
        r = run_postern("cert", "list", "--json", "-c", str(cfg))
        assert r.returncode == 0, r.stderr
        hosts = [row["host"] for row in json.loads(r.stdout)
                 if row.get("source") == "acme"]
        assert hosts == ["shop.example.com"], r.stdout
    finally:
        rc.delete(mine, *[d + "acme:cert:evil.example.com" for d in decoys])
