"""The launcher's sanitizer check (gwproc.Gateway, check_launched, the
autouse fixture check_gateways): a stand-in gateway (fake_gateway.py)
writes what an ASan/LSan/UBSan build writes, through the same launcher and
the same check that every integration test's gateway goes through."""
import os
import subprocess
import sys
import textwrap

import pytest

import conftest
import gwproc
from gwproc import LAUNCHED, SANITIZER_MARKS, Gateway, check_launched

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = os.path.join(HERE, "fake_gateway.py")


def fake(tmp_path, kind, ready=True):
    """The stand-in started by the launcher as a gateway would be."""
    gw = Gateway(tmp_path / "postern.yaml", tmp_path / ("%s.log" % kind),
                 wait=(), command=["/usr/bin/python3", FAKE, kind])
    if ready:
        gw.wait_log("ready")
    return gw


@pytest.mark.parametrize("kind,mark", [
    ("leak", "ERROR: LeakSanitizer"),       # written only at exit
    ("asan", "ERROR: AddressSanitizer"),
    ("ubsan", "runtime error:"),            # and the gateway runs on
    ("stdout-asan", "ERROR: AddressSanitizer"),
])
def test_a_report_fails_the_check(tmp_path, kind, mark):
    since = len(LAUNCHED)
    gw = fake(tmp_path, kind, ready=kind in ("leak", "ubsan"))
    if kind.endswith("asan"):
        assert gw.proc.wait(10) == 1        # aborted, as ASan does
    with pytest.raises(AssertionError) as e:
        check_launched(since)
    assert mark in str(e.value)
    assert str(gw.log_path) in str(e.value)
    assert gw.proc.returncode is not None   # stopped, and waited for
    assert LAUNCHED[since:] == []


def test_the_gateway_is_stopped_with_sigterm_before_the_check(tmp_path):
    since = len(LAUNCHED)
    gw = fake(tmp_path, "clean")
    check_launched(since)                   # no report: no error
    assert gw.proc.returncode == 0
    assert gw.log().splitlines() == ["ready", "terminated"]


def test_a_clean_log_passes_and_every_mark_is_caught(tmp_path):
    clean = tmp_path / "clean.log"
    clean.write_text("postern: info: listening on 127.0.0.1:8443\n"
                     "postern: warn: upstream error: connection refused\n")
    gwproc.check_sanitizers(clean, tmp_path / "absent.log")
    for i, mark in enumerate(SANITIZER_MARKS):
        log = tmp_path / ("m%d.log" % i)
        log.write_text("postern: info: started\n==1==%s: x\n" % mark)
        with pytest.raises(AssertionError, match=mark):
            gwproc.check_sanitizers(clean, log)


def test_a_report_fails_a_test_that_passed(tmp_path):
    """At teardown, through the autouse fixture: a test whose gateway
    leaks passes its body and still fails (one error), and a test whose
    gateway is clean passes."""
    (tmp_path / "test_inner.py").write_text(textwrap.dedent("""\
        import sys
        sys.path.insert(0, %r)
        from conftest import check_gateways  # noqa: F401 (autouse)
        from gwproc import Gateway

        def start(tmp_path, kind):
            gw = Gateway(tmp_path / "postern.yaml", tmp_path / "log",
                         wait=(), command=["/usr/bin/python3", %r, kind])
            gw.wait_log("ready")

        def test_leaks(tmp_path):
            start(tmp_path, "leak")

        def test_clean(tmp_path):
            start(tmp_path, "clean")
        """) % (HERE, FAKE))
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
         "-rA", "test_inner.py"], cwd=tmp_path, capture_output=True,
        text=True, timeout=120)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "2 passed, 1 error" in r.stdout, r.stdout
    assert "ERROR test_inner.py::test_leaks" in r.stdout, r.stdout
    assert "PASSED test_inner.py::test_leaks" in r.stdout, r.stdout
    assert "ERROR: LeakSanitizer" in r.stdout, r.stdout


def test_run_postern_fails_on_a_report(monkeypatch, tmp_path):
    """A CLI command run to its end is checked as well."""
    script = tmp_path / "postern"
    script.write_text("#!/bin/sh\n/usr/bin/python3 %s asan\n" % FAKE)
    script.chmod(0o755)
    monkeypatch.setattr(conftest, "BIN", str(script))
    with pytest.raises(AssertionError, match="ERROR: AddressSanitizer"):
        conftest.run_postern("check", "-c", "x.yaml")
