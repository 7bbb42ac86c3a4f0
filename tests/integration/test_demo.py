"""scripts/demo: starts Postern, Redis and the demo upstream, and stops them.

Each test gives the demo its own DEMO_RUN_DIR (so a developer's own demo in
run/demo is never touched), the binary under test (POSTERN_BIN) and
DEMO_SKIP_PACKAGES=1 (scripts/test has installed the packages already).
"""
import os
import queue
import re
import signal
import stat
import subprocess
import threading
import time

import pytest
import requests

from conftest import ROOT
from gwproc import check_sanitizers, free_port

DEMO = os.path.join(ROOT, "scripts", "demo")
URL_RE = re.compile(r"Open:\s+(https://localhost:\d+/)")


def demo_env(run_dir, postern_bin):
    """The demo in <run_dir> on ports of this test's own (another pytest
    process may run a demo at the same time)."""
    return dict(os.environ, DEMO_RUN_DIR=str(run_dir),
                POSTERN_BIN=postern_bin, DEMO_SKIP_PACKAGES="1",
                DEMO_HTTPS_PORT=str(free_port()),
                DEMO_HTTP_PORT=str(free_port()),
                DEMO_ADMIN_PORT=str(free_port()))


def recorded(run_dir):
    """[(name, pid, starttime)] from the demo's PID file."""
    with open(os.path.join(run_dir, "pids"), encoding="ascii") as f:
        return [(n, int(p), s) for n, p, s in
                (line.split() for line in f if line.strip())]


def running(pid, starttime):
    """The process we recorded is still there (zombies count as gone)."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii",
                  errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return fields[0] != "Z" and fields[19] == starttime


def assert_gone(procs, timeout=5.0):
    deadline = time.monotonic() + timeout
    left = procs
    while time.monotonic() < deadline:
        left = [p for p in procs if running(p[1], p[2])]
        if not left:
            return
        time.sleep(0.1)
    raise AssertionError("demo left processes running: %r" % left)


def default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def check_gateway(url, cert, password):
    r = requests.get(url + ".postern/health", verify=cert, timeout=10)
    assert r.status_code == 200, r.text
    # The demo app is protected: nobody gets through without signing in.
    r = requests.get(url, verify=cert, timeout=10,
                     headers={"Accept": "application/json"})
    assert r.status_code == 401, r.text
    # Sign in as the demo user through the gateway's form.
    s = requests.Session()   # verify= per call: env may override s.verify
    page = s.get(url + ".postern/login", timeout=10, verify=cert,
                 headers={"Accept": "text/html"})
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = s.post(url + ".postern/login", timeout=30, allow_redirects=False,
               verify=cert,
               headers={"Origin": url.rstrip("/")},
               data={"email": "demo@example.com", "password": password,
                     "csrf": csrf, "rd": "/"})
    assert r.status_code == 303, r.text
    # Through the gateway to the demo upstream, which echoes what it got.
    r = s.get(url, timeout=10, verify=cert,
              headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text
    echo = r.json()
    assert echo["path"] == "/"
    headers = {k.lower(): v for k, v in echo["headers"]}
    assert headers.get("x-forwarded-for") == "127.0.0.1", headers
    assert headers.get("x-forwarded-proto") == "https", headers
    assert headers.get("x-postern-email") == "demo@example.com", headers
    assert headers.get("x-postern-assertion", "").count(".") == 2


def stop_demo(run_dir, postern_bin):
    r = subprocess.run([DEMO, "--stop"], env=demo_env(run_dir, postern_bin),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


@pytest.fixture
def run_dir(tmp_path, postern_bin):
    d = tmp_path / "demo"
    yield d
    # Whatever happened, leave nothing behind.
    if (d / "pids").exists():
        stop_demo(d, postern_bin)
    # The demo's gateway, stopped by now, is held to what the tests' own
    # gateways are: no sanitizer report in its output.
    check_sanitizers(d / "logs" / "postern.log")


def test_demo_no_wait_serves_and_stops(run_dir, postern_bin):
    env = demo_env(run_dir, postern_bin)
    r = subprocess.run([DEMO, "--no-wait"], env=env, capture_output=True,
                       text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    m = URL_RE.search(r.stdout)
    assert m, r.stdout
    url = m.group(1)
    assert "demo@example.com" in r.stdout
    assert str(run_dir / "logs") in r.stdout

    cert = str(run_dir / "tls" / "cert.pem")
    for name in ("secret", "tls/key.pem"):
        assert stat.S_IMODE(os.stat(run_dir / name).st_mode) == 0o600, name
    assert os.path.getsize(run_dir / "secret") >= 32
    procs = recorded(run_dir)
    assert sorted(p[0] for p in procs) == ["demo-upstream", "postern",
                                           "redis-server"]
    assert all(running(p[1], p[2]) for p in procs)
    check_gateway(url, cert, (run_dir / "demo-password").read_text().strip())

    # Idempotent: a second run replaces the first (stopping exactly its
    # processes) and keeps the certificate, secret and password.
    secret = (run_dir / "secret").read_bytes()
    pem = (run_dir / "tls" / "cert.pem").read_bytes()
    password = (run_dir / "demo-password").read_text()
    r = subprocess.run([DEMO, "--no-wait"], env=env, capture_output=True,
                       text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    assert_gone(procs)
    assert (run_dir / "secret").read_bytes() == secret
    assert (run_dir / "tls" / "cert.pem").read_bytes() == pem
    assert password in r.stdout
    url = URL_RE.search(r.stdout).group(1)
    check_gateway(url, cert, password.strip())

    procs = recorded(run_dir)
    stop_demo(run_dir, postern_bin)
    assert_gone(procs)
    assert not (run_dir / "pids").exists()


def test_demo_foreground_stops_on_interrupt(run_dir, postern_bin):
    """The default mode runs until Ctrl-C and then stops what it started.

    The demo gets SIGINT at its default disposition, as from a terminal:
    a shell cannot trap a signal that was ignored when it started, and a
    test run that is itself a background job (as under CI) has SIGINT
    ignored, which every child would inherit."""
    proc = subprocess.Popen([DEMO], env=demo_env(run_dir, postern_bin),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, preexec_fn=default_sigint)
    lines = queue.Queue()

    def reader():
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=reader, daemon=True).start()
    out, url = [], None
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            out.append(line)
            m = URL_RE.search(line)
            url = url or (m and m.group(1))
            if "Stop:" in line:
                break
        assert url and proc.poll() is None, "".join(out)
        procs = recorded(run_dir)
        assert len(procs) == 3
        check_gateway(url, str(run_dir / "tls" / "cert.pem"),
                      (run_dir / "demo-password").read_text().strip())
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 130
        assert_gone(procs)
        assert not (run_dir / "pids").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
