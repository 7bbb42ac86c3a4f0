"""Running it: readiness, reload with its outcome, and `postern status`.

Real gateway, real Redis (stopped and started by the test), the admin
listener read over HTTP as an operator's script would.

- /.postern/ready is 503 while Redis is down (protected routes would
  answer 503) and 200 again once every worker is back; /.postern/health
  stays 200 (degraded) meanwhile.
- `postern reload -c FILE` with a broken file prints the file:line:col
  errors, exits 1 and signals nothing: the gateway keeps serving the old
  configuration; with a good file it waits for the gateway's own outcome
  ("reloaded: N apps") and exits 0.
- A SIGHUP that the gateway refuses (the file was broken behind the
  command's back) shows on /status, in `postern status`, on
  /.postern/ready (still 200: the old configuration serves) and makes
  the next `postern reload` of a still broken file fail.
"""
import json
import os
import subprocess
import time

import requests
import urllib3

from conftest import free_port, run_postern, start_redis, stop
from gwproc import BIN
from test_auth import auth_extra, make_key

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)


def status(gw):
    r = requests.get("http://127.0.0.1:%d/status" % gw.admin_port,
                     timeout=5)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    return r.json()


def ready(gw):
    return requests.get(gw.url + "/.postern/ready", verify=False,
                        timeout=5)


def all_ready(gw, want, tries=8):
    """Every worker answers <want> (poll: one connection each time)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        codes = [ready(gw).status_code for _ in range(tries)]
        if all(c == want for c in codes):
            return True
        time.sleep(0.2)
    return False


def test_ready_follows_redis(gateway, tmp_path):
    port = free_port()
    d = tmp_path / "redis"
    d.mkdir()
    rp, _ = start_redis(d, port=port)
    try:
        make_key(tmp_path)
        gw = gateway(extra=auth_extra(tmp_path), redis=("127.0.0.1", port),
                     protect=True)
        r = ready(gw)
        assert r.status_code == 200 and r.json() == {"status": "ready"}
        assert r.headers["cache-control"] == "no-store"
        stop(rp)
        assert all_ready(gw, 503)
        r = ready(gw)
        assert r.json() == {"status": "not_ready", "redis": "down"}
        h = requests.get(gw.url + "/.postern/health", verify=False)
        assert h.status_code == 200 and h.json()["status"] == "degraded"
        assert status(gw)["redis"] in ("down", "partial")
        rp, _ = start_redis(d, port=port)
        assert all_ready(gw, 200)
        assert status(gw)["redis"] == "up"
    finally:
        stop(rp)


def test_ready_in_clear_and_on_every_host(gateway, redis_server):
    gw = gateway(redis=redis_server)
    r = requests.get("http://127.0.0.1:%d/.postern/ready" % gw.http_port,
                     timeout=5)
    assert r.status_code == 200 and r.json()["status"] == "ready"
    r = requests.get(gw.url + "/.postern/ready", verify=False,
                     headers={"Host": "unknown.example"})
    assert r.status_code == 200


def broken(cfg):
    """Break <cfg> at a known place: an unknown key on line 1."""
    text = cfg.read_text()
    cfg.write_text("bogus_key: 1\n" + text)
    return text


def test_reload_command_refuses_a_broken_file(gateway, redis_server):
    gw = gateway(redis=redis_server)
    cfg = gw.config
    before = status(gw)
    good = broken(cfg)
    r = run_postern("reload", "-c", str(cfg), "--pid", str(gw.proc.pid))
    assert r.returncode == 1
    assert "%s:1:1:" % cfg in r.stderr, r.stderr
    assert "nothing was reloaded" in r.stderr
    time.sleep(0.3)
    assert status(gw)["reload"]["generation"] == \
        before["reload"]["generation"]        # not even signalled
    assert "reloading" not in gw.log()
    cfg.write_text(good)
    r = run_postern("reload", "-c", str(cfg))  # pid from /status
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("reloaded: 1 app"), r.stdout
    st = status(gw)
    assert st["reload"]["ok"] is True
    assert st["reload"]["generation"] == before["reload"]["generation"] + 1
    assert st["pid"] == gw.proc.pid


def test_refused_sighup_is_reported(gateway, redis_server):
    gw = gateway(redis=redis_server)
    cfg = gw.config
    good = broken(cfg)
    gw.reload(expect="reload failed")
    st = status(gw)
    assert st["reload"]["ok"] is False
    assert ("%s:1:1:" % cfg) in st["reload"]["message"]
    r = ready(gw)
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "config": "reload_failed"}
    # the old configuration still serves
    r = requests.get(gw.url + "/", verify=False, timeout=5)
    assert r.status_code == 200
    out = run_postern("status", "-c", str(cfg) + ".good")
    assert out.returncode != 0       # no such file: a clear error
    (gw.dir / "good.yaml").write_text(good)
    out = run_postern("status", "-c", str(gw.dir / "good.yaml"))
    assert out.returncode == 0, out.stderr
    assert "REFUSED" in out.stdout and "bogus_key" in out.stdout
    js = run_postern("status", "-c", str(gw.dir / "good.yaml"), "--json")
    doc = json.loads(js.stdout)
    assert doc["reload"]["ok"] is False
    assert len(doc["workers"]) == 2
    assert {w["redis"] for w in doc["workers"]} == {"up"}
    cfg.write_text(good)
    gw.reload()
    assert status(gw)["reload"]["ok"] is True
    assert ready(gw).json() == {"status": "ready"}


def test_reload_uses_mainpid_and_reports_a_missing_gateway(gateway,
                                                           redis_server,
                                                           tmp_path):
    gw = gateway(redis=redis_server)
    env = dict(os.environ, MAINPID=str(gw.proc.pid))
    r = subprocess.run([BIN, "reload", "-c", str(gw.config)], env=env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "reloaded: " in r.stdout, r.stderr
    gw.stop()
    r = run_postern("reload", "-c", str(gw.config))
    assert r.returncode == 1
    assert "cannot tell which process" in r.stderr
    r = run_postern("status", "-c", str(gw.config))
    assert r.returncode == 1 and "no answer" in r.stderr


def test_status_counts_requests(gateway, redis_server):
    gw = gateway(redis=redis_server)
    n0 = status(gw)["requests"]["total"]
    for _ in range(5):
        requests.get(gw.url + "/", verify=False, timeout=5)
    st = status(gw)
    assert st["requests"]["total"] >= n0 + 5
    assert st["requests"]["2xx"] >= 5
    assert st["connections"] >= 0 and st["uptime"] >= 0
    assert st["draining"] is False
