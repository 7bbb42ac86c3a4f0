"""A SIGHUP reload that runs out of memory keeps the gateway serving.

The gateway's address space is capped (RLIMIT_AS, set from outside with
prlimit) at what it already uses plus a little more each round.  glibc is
told to map every allocation by itself (GLIBC_TUNABLES mmap_threshold=0),
so each one needs new address space and the cap makes the reload fail at a
later allocation each round: reading the file, parsing, the policy file,
the header sets, the TLS context.  Every round the process must stay up
and log either a failed reload (the old configuration kept) or a
successful one; with the cap lifted it serves and reloads as before.
"""
import http.client
import resource
import ssl
import signal
import time

import pytest

STEP = 16384            # a few more mapped allocations each round
ROUNDS = 150


def vm_size(pid):
    """The process's address space in bytes (VmSize)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize")


def get(gw):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", gw.https_port,
                                       context=ctx, timeout=10)
    try:
        conn.request("GET", "/", headers={"Host": "localhost"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def reload_counts(gw):
    log = gw.log()
    return log.count("reloaded: "), log.count("reload failed")


def test_reload_under_memory_cap_keeps_serving(gateway, monkeypatch):
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=0")
    gw = gateway()
    pid = gw.proc.pid
    assert get(gw) == 200
    used = vm_size(pid)
    if used > 1 << 40:
        pytest.skip("sanitizer build: its shadow memory defeats RLIMIT_AS")
    _, hard = resource.prlimit(pid, resource.RLIMIT_AS)
    failed = succeeded = 0
    try:
        for i in range(ROUNDS):
            ok0, failed0 = reload_counts(gw)
            resource.prlimit(pid, resource.RLIMIT_AS,
                             (vm_size(pid) + i * STEP, hard))
            gw.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while reload_counts(gw) == (ok0, failed0):
                assert gw.proc.poll() is None, \
                    "gateway exited (%d) reloading under a memory cap:\n%s" \
                    % (gw.proc.returncode, gw.log()[-3000:])
                assert time.monotonic() < deadline, gw.log()[-3000:]
                time.sleep(0.01)
            ok1, failed1 = reload_counts(gw)
            succeeded += ok1 - ok0
            failed += failed1 - failed0
    finally:
        resource.prlimit(pid, resource.RLIMIT_AS, (hard, hard))
    assert gw.proc.poll() is None
    assert failed > 0, "the cap never made a reload fail"
    assert "out of memory" in gw.log() or \
        "Cannot allocate memory" in gw.log()
    # the cap lifted: it serves with the configuration it kept, and reloads
    assert get(gw) == 200
    ok0, _ = reload_counts(gw)
    gw.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while reload_counts(gw)[0] == ok0:
        assert time.monotonic() < deadline, gw.log()[-3000:]
        time.sleep(0.02)
    assert get(gw) == 200
