"""The hash-chained audit trail (gateway/observe/audit.c).

Each test has its own redis-server (tampering breaks the chain on
purpose).  Events come from real operator commands and a real gateway;
`postern audit verify` checks the chain; the tests then change, delete and
reorder stored events, as an intruder covering their tracks would, and
verify must name the first broken sequence number.
"""
import concurrent.futures
import json
import re
import signal
import time
import uuid

import pytest
import redis

from conftest import run_postern, start_redis, stop
from test_auth import add_user, auth_extra, login, make_key


@pytest.fixture
def agw(gateway, tmp_path):
    proc, addr = start_redis(tmp_path)
    make_key(tmp_path)
    gw = gateway(extra=auth_extra(tmp_path) + "audit:\n  file: audit.log\n",
                 redis=addr, protect=True)
    gw.redis = redis.Redis(host=addr[0], port=addr[1])
    gw.email = "a-%s@example.com" % uuid.uuid4().hex[:8]
    yield gw
    gw.stop()
    stop(proc)


def verify(gw, *args):
    return run_postern("audit", "verify", "-c", str(gw.config), *args)


def events(gw):
    return [json.loads(x) for x in gw.redis.lrange("postern:audit:events",
                                                   0, -1)]


def wait_events(gw, n, timeout=10):
    deadline = time.time() + timeout
    while gw.redis.llen("postern:audit:events") < n:
        assert time.time() < deadline, events(gw)
        time.sleep(0.05)


def test_actions_are_chained_and_verify(agw):
    gw = agw
    add_user(gw, gw.email)
    run_postern("org", "add", "-c", str(gw.config), "acme")
    run_postern("org", "member", "-c", str(gw.config), "acme", gw.email,
                "--role", "admin")
    login(gw, password="wrong password 1234")
    _, r = login(gw)
    assert r.status_code == 303
    wait_events(gw, 5)
    ev = events(gw)
    actions = [e["action"] for e in ev]
    assert actions[:3] == ["user_add", "org_add", "org_member"], actions
    assert ev[2]["reason"] == "admin" and ev[2]["org"] == "acme"
    logins = [e for e in ev if e["action"] == "login"]
    assert [e["outcome"] for e in logins] == ["failure", "success"]
    assert logins[0]["reason"] == "bad_password"
    assert logins[1]["actor"] == ev[0]["target"] or logins[1]["actor"]
    assert all(e["ip"] == "127.0.0.1" for e in logins)
    assert [e["ip"] for e in ev[:3]] == ["cli"] * 3     # the command line
    assert all(re.fullmatch(r"[0-9a-f]{32}", e["request_id"])
               for e in logins)
    assert [e["seq"] for e in ev] == [str(i + 1) for i in range(len(ev))]
    assert ev[0]["prev"] == "0" * 64
    for a, b in zip(ev, ev[1:]):
        assert b["prev"] == a["hash"]
    assert ev[0]["time"].endswith("Z")
    r = verify(gw)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "%d events verified" % len(ev) in r.stdout
    # the local copy, one JSON line per event
    lines = (gw.dir / "audit.log").read_text().splitlines()
    assert [json.loads(x)["hash"] for x in lines] == [
        e["hash"] for e in ev if e["action"] == "login"]
    # the password never appears
    assert "correct horse" not in json.dumps(ev)


def test_tampering_is_found(agw):
    gw = agw
    for i in range(6):
        run_postern("org", "add", "-c", str(gw.config), "org%d" % i)
    assert verify(gw).returncode == 0
    key = "postern:audit:events"
    good = gw.redis.lrange(key, 0, -1)
    # a changed field
    gw.redis.lset(key, 2, good[2].replace(b"org2", b"orgX"))
    r = verify(gw)
    assert r.returncode == 1 and "BROKEN at seq 3" in r.stdout, r.stdout
    # re-hashed by the intruder: the next link breaks instead
    ev = json.loads(good[2].replace(b"org2", b"orgX"))
    import hashlib
    canon = good[2].replace(b"org2", b"orgX").decode()
    canon = canon[:canon.index(',"hash":')] + "}"
    ev["hash"] = hashlib.sha256(canon.encode()).hexdigest()
    gw.redis.lset(key, 2, canon[:-1] + ',"hash":"%s"}' % ev["hash"])
    r = verify(gw)
    assert r.returncode == 1 and "BROKEN at seq 4" in r.stdout, r.stdout
    gw.redis.lset(key, 2, good[2])
    assert verify(gw).returncode == 0
    # a deleted event
    gw.redis.lrem(key, 1, good[3])
    r = verify(gw)
    assert r.returncode == 1 and "BROKEN at seq 4" in r.stdout, r.stdout
    gw.redis.linsert(key, "BEFORE", good[4], good[3])
    assert verify(gw).returncode == 0
    # two events swapped
    gw.redis.lset(key, 1, good[2])
    gw.redis.lset(key, 2, good[1])
    r = verify(gw)
    assert r.returncode == 1 and "BROKEN at seq 2" in r.stdout, r.stdout
    gw.redis.lset(key, 1, good[1])
    gw.redis.lset(key, 2, good[2])
    # the last event removed: the head gives it away
    gw.redis.rpop(key)
    r = verify(gw)
    assert r.returncode == 1 and "head" in r.stdout


def test_concurrent_appends_keep_one_chain(agw, gateway, tmp_path):
    gw = agw
    add_user(gw, gw.email)

    def cli(i):
        return run_postern("org", "add", "-c", str(gw.config),
                           "c%d-%s" % (i, uuid.uuid4().hex[:4])).returncode

    def web(i):
        return login(gw, password="wrong %d password x" % i)[1].status_code

    with concurrent.futures.ThreadPoolExecutor(12) as ex:
        futs = [ex.submit(cli, i) for i in range(12)] + \
               [ex.submit(web, i) for i in range(12)]
        assert all(f.result() in (0, 401) for f in futs)
    wait_events(gw, 1 + 12 + 12)
    r = verify(gw)
    assert r.returncode == 0, r.stdout
    assert "25 events verified" in r.stdout
    assert "lost" not in gw.log()


def test_trim_keeps_a_signed_checkpoint(agw):
    gw = agw
    for i in range(8):
        run_postern("org", "add", "-c", str(gw.config), "t%d" % i)
    r = run_postern("audit", "trim", "-c", str(gw.config), "--keep", "3")
    assert r.returncode == 0, r.stderr
    assert gw.redis.llen("postern:audit:events") == 3
    r = verify(gw)
    assert r.returncode == 0, r.stdout
    assert "checkpoint of seq 5" in r.stdout and "3 events verified" in \
        r.stdout
    run_postern("org", "add", "-c", str(gw.config), "after-trim")
    assert verify(gw).returncode == 0
    # a forged checkpoint is refused
    cp = gw.redis.get("postern:audit:checkpoint").decode().split()
    gw.redis.set("postern:audit:checkpoint",
                 "%s %s %s" % (cp[0], "f" * 64, cp[2]))
    r = verify(gw)
    assert r.returncode == 1 and "NOT VALID" in r.stdout
    r = run_postern("audit", "tail", "-c", str(gw.config), "-n", "2")
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 2


def test_reload_is_audited_with_file_hashes(agw):
    gw = agw
    gw.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while not any(e["action"] == "config_reload" for e in events(gw)):
        assert time.time() < deadline, gw.log()
        time.sleep(0.1)
    ev = [e for e in events(gw) if e["action"] == "config_reload"][0]
    assert ev["outcome"] == "success"
    assert re.search(r"postern\.yaml=[0-9a-f]{64}", ev["reason"])
    assert re.search(r"app\.yaml=[0-9a-f]{64}", ev["reason"])


@pytest.fixture
def proxied(gateway, tmp_path):
    """A gateway behind a trusted proxy (127.0.0.1) with its own Redis:
    X-Forwarded-For names the client."""
    proc, addr = start_redis(tmp_path)
    make_key(tmp_path)
    limits = ("rate_limits:\n  classes:\n"
              "    login: {limit: 3, period: 1h, account_limit: 100}\n")
    gw = gateway(extra=auth_extra(tmp_path, limits=limits), redis=addr,
                 protect=True, trusted_proxies=("127.0.0.1",))
    gw.redis = redis.Redis(host=addr[0], port=addr[1])
    gw.email = "p-%s@example.com" % uuid.uuid4().hex[:8]
    yield gw
    gw.stop()
    stop(proc)


def login_via(gw, xff, password="wrong password 1234"):
    import requests
    from test_auth import login_page
    s = requests.Session()
    token = login_page(s, gw)
    return s.post(gw.url + "/.postern/login", verify=False, timeout=30,
                  allow_redirects=False,
                  headers={"Origin": gw.url, "X-Forwarded-For": xff},
                  data={"email": gw.email, "password": password,
                        "csrf": token, "rd": "/"})


def test_audit_records_the_whole_client_address(proxied):
    """The trail names the client's own address, IPv6 too (in its
    canonical text, however the proxy spelled it), while rate limits
    still count an IPv6 client by its /64."""
    gw = proxied
    add_user(gw, gw.email)
    sent = ["2001:DB8:0:0:1:2:3:4", "2001:db8::1:2:3:5", "::ffff:10.1.2.3",
            "198.51.100.7", "10.0.0.1, 2001:db8:0:0:0:0:0:9"]
    for xff in sent:
        assert login_via(gw, xff).status_code == 401
    wait_events(gw, 1 + len(sent))
    ips = [e["ip"] for e in events(gw) if e["action"] == "login"]
    assert ips == ["2001:db8::1:2:3:4", "2001:db8::1:2:3:5",
                   "10.1.2.3", "198.51.100.7", "2001:db8::9"], ips
    # the limits: one counter for the whole /64
    keys = {k.decode() for k in gw.redis.scan_iter("postern:rl:login:ip:*")}
    assert "postern:rl:login:ip:2001:db8::/64" in keys, keys
    assert not any("1:2:3" in k for k in keys), keys
    assert "postern:rl:login:ip:198.51.100.7" in keys
    assert "postern:rl:login:ip:10.1.2.3" in keys   # not "::/64"
    assert login_via(gw, "2001:db8::abcd").status_code == 429
    assert login_via(gw, "2001:db8:0:1::abcd").status_code == 401
    r = verify(gw)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "%d events verified" % len(events(gw)) in r.stdout


def login_via_lines(gw, lines, password="wrong password 1234"):
    """A sign-in whose X-Forwarded-For comes as several header lines, as
    a proxy that adds its own line (HAProxy's option forwardfor) sends it
    when the client already sent one."""
    import http.client
    import ssl
    import urllib.parse
    import requests
    from test_auth import login_page
    s = requests.Session()
    token = login_page(s, gw)
    body = urllib.parse.urlencode({"email": gw.email, "password": password,
                                   "csrf": token, "rd": "/"})
    conn = http.client.HTTPSConnection(
        "127.0.0.1", gw.https_port, timeout=30,
        context=ssl._create_unverified_context())
    conn.putrequest("POST", "/.postern/login", skip_host=True,
                    skip_accept_encoding=True)
    conn.putheader("Host", "127.0.0.1:%d" % gw.https_port)
    conn.putheader("Origin", gw.url)
    conn.putheader("Cookie", "; ".join("%s=%s" % (c.name, c.value)
                                       for c in s.cookies))
    conn.putheader("Content-Type", "application/x-www-form-urlencoded")
    conn.putheader("Content-Length", str(len(body)))
    for line in lines:
        conn.putheader("X-Forwarded-For", line)
    conn.endheaders(body.encode())
    status = conn.getresponse().status
    conn.close()
    return status


def test_client_lines_before_the_proxys_do_not_name_the_client(proxied):
    """The trusted proxy's entry is the last of the last line: lines the
    client sent before it are the client's to invent, so they neither
    spread its sign-ins over fresh rate-limit counters nor name another
    address in the audit trail."""
    gw = proxied
    add_user(gw, gw.email)
    for n in range(3):
        assert login_via_lines(gw, ["203.0.113.%d" % n,
                                    "198.51.100.20"]) == 401
    assert login_via_lines(gw, ["203.0.113.99", "198.51.100.20"]) == 429
    assert login_via_lines(gw, ["203.0.113.98", "x, 198.51.100.21"]) == 401
    wait_events(gw, 5)
    ips = {e["ip"] for e in events(gw) if e["action"] == "login"}
    assert "198.51.100.20" in ips and not any(
        ip.startswith("203.0.113.") for ip in ips), ips
