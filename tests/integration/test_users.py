"""`postern user` and `postern org` against a real redis-server.

Passwords go in on stdin (never argv); Redis must hold only argon2id PHC
strings; every multi-key change is atomic; an unreachable Redis or a wrong
Redis password gives a clear error and exit status 1, not a hang.
"""
import os
import subprocess
import time

import pytest
import redis

from conftest import free_port, run_postern, start_redis, stop
from gwproc import app_text, config_text, listener, section

GOOD = "correct horse battery staple"


def config(tmp_path, addr, extra="", password_file=None):
    """A configuration for the CLI: Redis at <addr> ("host:port"), fast
    argon2id, then <extra>; its path."""
    redis = {"address": '"%s"' % addr, "connect_timeout": "1s",
             "command_timeout": "2s"}
    if password_file:
        redis["password_file"] = password_file
    path = tmp_path / "postern.yaml"
    path.write_text(config_text(
        [listener(free_port(), tls=False)], redis=redis,
        extra=section("passwords", {"argon2_memory": "8MiB",
                                    "argon2_iterations": 1}) + extra))
    return str(path)


@pytest.fixture
def r(redis_server):
    client = redis.Redis(host=redis_server[0], port=redis_server[1],
                         decode_responses=True)
    client.flushall()
    return client


@pytest.fixture
def cfg(tmp_path, redis_server):
    return config(tmp_path, "%s:%d" % redis_server)


def user(cfg, *args, stdin=None):
    return run_postern("user", *args, "-c", cfg, stdin=stdin)


def add(cfg, email, pw=GOOD, *extra):
    return user(cfg, "add", email, *extra, stdin=pw + "\n")


def uid(r, email):
    return r.get("postern:email:" + email)


def test_add_list_and_fields(cfg, r):
    res = add(cfg, "Alice@Example.COM", GOOD, "--name", "Alice Liddell")
    assert res.returncode == 0, res.stderr
    assert "user alice@example.com added (id " in res.stdout
    i = uid(r, "alice@example.com")
    assert len(i) == 32 and all(c in "0123456789abcdef" for c in i)
    h = r.hgetall("postern:user:" + i)
    assert h["email"] == "alice@example.com"
    assert h["name"] == "Alice Liddell"
    assert h["disabled"] == "0"
    assert h["password"].startswith("$argon2id$v=19$m=8192,t=1,p=1$")
    assert abs(int(h["created"]) - time.time()) < 60
    assert h["created"] == h["password_changed"]
    assert r.smembers("postern:users") == {i}
    assert add(cfg, "bob@example.com").returncode == 0
    res = user(cfg, "list")
    assert res.returncode == 0
    lines = res.stdout.splitlines()
    assert lines[0] == "EMAIL\tID\tSTATUS\tCREATED\tNAME\tORGS"
    lines = lines[1:]
    assert [ln.split("\t")[0] for ln in lines] == ["alice@example.com",
                                                   "bob@example.com"]
    assert lines[0].split("\t")[2] == "enabled"
    assert lines[0].split("\t")[4] == "Alice Liddell"


def test_duplicate_email_refused(cfg, r):
    assert add(cfg, "dup@example.com").returncode == 0
    res = add(cfg, "DUP@example.com", "another fine passphrase")
    assert res.returncode == 1
    assert "a user with email dup@example.com already exists" in res.stderr
    assert r.scard("postern:users") == 1


@pytest.mark.parametrize("pw,msg", [
    ("short", "must be 12 to 128 characters long (it has 5)"),
    ("elevenchars", "(it has 11)"),
    ("x" * 129, "(it has 129)"),
    ("p" * 600, "at most 128 characters"),
    ("Password2024!", "too common"),
    ("qwertyuiop123", "too common"),
    ("1q2w3e4r5t6y", "too common"),
    ("my postern passphrase", "product name"),
    ("carol-is-my-name-ok", "email address's name"),
    ("we love examplecorp a lot", "domain"),
])
def test_weak_passwords_refused(cfg, r, pw, msg):
    res = add(cfg, "carol@examplecorp.com", pw)
    assert res.returncode == 1
    assert "password refused" in res.stderr or "at most" in res.stderr
    assert msg in res.stderr
    assert pw not in res.stderr and pw not in res.stdout
    assert r.keys("*") == []


def test_unicode_length_counts_code_points(cfg, r):
    # 12 code points, 24 bytes: accepted; 11 code points: refused
    assert add(cfg, "u@example.com", "\u00e9" * 12).returncode == 0
    res = add(cfg, "v@example.com", "\u00e9" * 11)
    assert res.returncode == 1 and "(it has 11)" in res.stderr


def test_invalid_utf8_refused(cfg, r, postern_bin):
    res = subprocess.run([postern_bin, "user", "add", "w@example.com", "-c",
                          cfg], input=b"abc\xff\xfedefghijklmnop\n",
                         capture_output=True, timeout=30)
    assert res.returncode == 1
    assert b"not valid UTF-8" in res.stderr


def test_password_only_from_stdin(cfg, r):
    res = user(cfg, "add", "x@example.com", "--password", GOOD)
    assert res.returncode == 2
    res = user(cfg, "add", "x@example.com", stdin="")
    assert res.returncode == 1
    assert "no password on standard input" in res.stderr
    assert r.keys("*") == []


def test_plaintext_never_in_redis(cfg, r):
    assert add(cfg, "p@example.com").returncode == 0
    assert user(cfg, "passwd", "p@example.com",
                stdin="a different long passphrase\n").returncode == 0
    dump = []
    for k in r.keys("*"):
        dump.append(k)
        t = r.type(k)
        if t == "hash":
            dump += list(r.hgetall(k).values())
        elif t == "string":
            dump.append(r.get(k))
        elif t == "set":
            dump += list(r.smembers(k))
    text = "\n".join(dump)
    assert GOOD not in text and "a different long passphrase" not in text
    hashes = [v for v in dump if v.startswith("$")]
    assert len(hashes) == 1 and hashes[0].startswith("$argon2id$")


def test_passwd_changes_hash_and_revokes(cfg, r):
    assert add(cfg, "q@example.com").returncode == 0
    i = uid(r, "q@example.com")
    before = r.hgetall("postern:user:" + i)
    r.sadd("postern:user:%s:sessions" % i, "aa", "bb")
    r.hset("postern:session:aa", "user", i)
    res = user(cfg, "passwd", "q@example.com",
               stdin="brand new passphrase here\n")
    assert res.returncode == 0, res.stderr
    assert "2 sessions revoked" in res.stdout
    after = r.hgetall("postern:user:" + i)
    assert after["password"] != before["password"]
    assert not r.exists("postern:session:aa")
    assert not r.exists("postern:user:%s:sessions" % i)
    res = user(cfg, "passwd", "nobody@example.com", stdin=GOOD + "\n")
    assert res.returncode == 1 and "no user nobody@example.com" in res.stderr


def test_disable_removes_sessions_enable(cfg, r):
    assert add(cfg, "d@example.com").returncode == 0
    assert add(cfg, "e@example.com").returncode == 0
    i, j = uid(r, "d@example.com"), uid(r, "e@example.com")
    r.sadd("postern:user:%s:sessions" % i, "s1", "s2", "s3")
    for s in ("s1", "s2", "s3"):
        r.hset("postern:session:" + s, "user", i)
    r.sadd("postern:user:%s:sessions" % j, "t1")
    r.hset("postern:session:t1", "user", j)
    res = user(cfg, "disable", "d@example.com")
    assert res.returncode == 0
    assert "3 sessions revoked" in res.stdout
    assert r.hget("postern:user:" + i, "disabled") == "1"
    assert r.keys("postern:session:s*") == []
    assert not r.exists("postern:user:%s:sessions" % i)
    assert r.exists("postern:session:t1")       # other users untouched
    assert "\tdisabled\t" in user(cfg, "list").stdout
    res = user(cfg, "enable", "d@example.com")
    assert res.returncode == 0
    assert r.hget("postern:user:" + i, "disabled") == "0"
    res = user(cfg, "revoke-sessions", "e@example.com")
    assert res.returncode == 0 and "1 session revoked" in res.stdout
    assert not r.exists("postern:session:t1")
    assert user(cfg, "disable", "zz@example.com").returncode == 1


def test_orgs_and_members(cfg, r):
    assert add(cfg, "m@example.com").returncode == 0
    i = uid(r, "m@example.com")
    res = run_postern("org", "add", "acme", "--name", "Acme Inc", "-c", cfg)
    assert res.returncode == 0, res.stderr
    assert r.hget("postern:org:acme", "name") == "Acme Inc"
    assert r.smembers("postern:orgs") == {"acme"}
    res = run_postern("org", "add", "acme", "-c", cfg)
    assert res.returncode == 1 and "already exists" in res.stderr
    res = run_postern("org", "member", "acme", "m@example.com", "--role",
                      "admin", "-c", cfg)
    assert res.returncode == 0, res.stderr
    assert r.hget("postern:org:acme:members", i) == "admin"
    assert r.hget("postern:user:%s:orgs" % i, "acme") == "admin"
    assert "acme:admin" in user(cfg, "list").stdout
    res = run_postern("org", "member", "acme", "m@example.com", "--role",
                      "god", "-c", cfg)
    assert res.returncode == 2 and "unknown role 'god'" in res.stderr
    res = run_postern("org", "member", "nope", "m@example.com", "--role",
                      "viewer", "-c", cfg)
    assert res.returncode == 1 and "no organisation nope" in res.stderr
    res = run_postern("org", "member", "acme", "m@example.com", "--remove",
                      "-c", cfg)
    assert res.returncode == 0
    assert not r.hexists("postern:org:acme:members", i)
    assert not r.hexists("postern:user:%s:orgs" % i, "acme")
    res = run_postern("org", "add", "Bad_Slug", "-c", cfg)
    assert res.returncode == 2


def test_usage_errors(cfg):
    assert user(cfg, "frobnicate").returncode == 2
    assert user(cfg, "add").returncode == 2
    assert user(cfg, "add", "not-an-email", stdin=GOOD).returncode == 2
    assert user(cfg, "list", "extra").returncode == 2
    assert run_postern("user").returncode == 2


def test_redis_down_is_clear_error(tmp_path):
    cfg = config(tmp_path, "127.0.0.1:%d" % free_port())
    t = time.monotonic()
    res = run_postern("user", "list", "-c", cfg, timeout=20)
    assert res.returncode == 1
    assert "cannot connect to redis at 127.0.0.1:" in res.stderr
    assert time.monotonic() - t < 10


def test_redis_unresponsive_times_out(tmp_path):
    # A listener that never answers: the command timeout ends the wait.
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    try:
        cfg = config(tmp_path, "127.0.0.1:%d" % s.getsockname()[1])
        t = time.monotonic()
        res = run_postern("user", "list", "-c", cfg, timeout=20)
        assert res.returncode == 1
        assert "no answer within redis.command_timeout" in res.stderr
        assert time.monotonic() - t < 10
    finally:
        s.close()


@pytest.fixture
def redis_auth(tmp_path_factory):
    proc, (_, port) = start_redis(tmp_path_factory.mktemp("redis-auth"),
                                  "--requirepass", "s3cret-pw")
    yield port
    stop(proc)


def test_redis_password(tmp_path, redis_auth):
    pwfile = tmp_path / "redis.pw"
    pwfile.write_text("wrong\n")
    os.chmod(pwfile, 0o600)
    cfg = config(tmp_path, "127.0.0.1:%d" % redis_auth,
                 password_file=pwfile)
    res = run_postern("user", "list", "-c", cfg)
    assert res.returncode == 1
    assert "refused the credentials" in res.stderr
    assert "wrong" not in res.stderr
    pwfile.write_text("s3cret-pw\n")
    res = run_postern("user", "list", "-c", cfg)
    assert res.returncode == 0, res.stderr
    assert "unauthenticated" not in res.stderr
    # no password configured against a Redis that needs one
    cfg2 = config(tmp_path, "127.0.0.1:%d" % redis_auth)
    res = run_postern("user", "list", "-c", cfg2)
    assert res.returncode == 1
    assert "requires authentication" in res.stderr


def test_open_redis_warning_is_the_gateways_once_per_start(
        cfg, gateway, redis_server):
    """The gateway warns once per start (however many workers and
    connections); the CLI, run by scripts, stays quiet."""
    for _ in range(2):
        res = user(cfg, "list")
        assert res.returncode == 0
        assert "unauthenticated" not in res.stderr
    gw = gateway(redis=redis_server, workers=2)
    deadline = time.time() + 10
    while "accepts unauthenticated connections" not in gw.log():
        assert time.time() < deadline, gw.log()
        time.sleep(0.1)
    time.sleep(1)       # every worker's connections are up by now
    assert gw.log().count("accepts unauthenticated connections") == 1


@pytest.fixture
def ctxcfg(tmp_path, redis_server):
    (tmp_path / "app.yaml").write_text(app_text(
        "http://127.0.0.1:9", name="wiki", hosts=(
            "wiki.widgetworks.example", '"{org}.tenants.example"')))
    return config(tmp_path, "%s:%d" % redis_server,
                  "branding:\n  product_name: Fabrikam Gate\n"
                  "policies:\n  - app.yaml\n")


@pytest.mark.parametrize("pw,msg", [
    ("fabrikam gate forever", "product name"),
    ("FABRIKAMGATE-forever-1", "product name"),
    ("f4brikam_g4te forever", "product name"),
    ("P0STERN rules them all", "product name"),
    ("widgetworks for life!", "name of this site"),
    ("W1dget-W0rks for life", "name of this site"),
    ("tenants tenants tenants", "name of this site"),
    ("northwind sailing co", "name of an organisation"),
    ("Contoso-Traders 4ever", "name of an organisation"),   # the org's name
    ("n0rth-w1nd sailing co", "name of an organisation"),
])
def test_context_words_of_the_deployment_refused(ctxcfg, r, pw, msg):
    """Not only the literal "postern": the configured product name, the
    apps' host names and every org's slug and name, up to case,
    look-alike characters and punctuation."""
    assert run_postern("org", "add", "-c", ctxcfg, "northwind", "--name",
                       "Contoso Traders").returncode == 0
    res = add(ctxcfg, "dana@mail.test", pw)
    assert res.returncode == 1, res.stderr
    assert "password refused" in res.stderr and msg in res.stderr
    assert pw not in res.stderr and pw not in res.stdout
    assert r.keys("postern:user:*") == []


def test_context_words_leave_other_passwords_alone(ctxcfg, r):
    assert run_postern("org", "add", "-c", ctxcfg, "northwind").returncode \
        == 0
    # the top-level label, "{org}" and a slug shorter than 4 are not words
    assert run_postern("org", "add", "-c", ctxcfg, "abc").returncode == 0
    res = add(ctxcfg, "dana@mail.test", "an example of abc org")
    assert res.returncode == 0, res.stderr
