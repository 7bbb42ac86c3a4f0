"""The command line: subcommand table, usage text, exit statuses."""
import re

from conftest import run_postern


def test_version():
    r = run_postern("--version")
    assert r.returncode == 0
    assert re.fullmatch(r"postern \d+\.\d+\.\d+\n", r.stdout)
    assert run_postern("version").stdout == r.stdout


def test_help_lists_design_subcommands():
    r = run_postern("--help")
    assert r.returncode == 0
    for name in ("serve", "check", "policy", "user", "org", "sessions",
                 "apikey",
                 "share", "audit", "help", "version"):
        assert re.search(r"^  %s\s" % name, r.stdout, re.M), name


def test_help_subcommand_usage():
    r = run_postern("help", "check")
    assert r.returncode == 0
    assert r.stdout.startswith("usage: postern check [-c FILE]\n")
    r = run_postern("help", "policy")
    assert "policy test -c FILE --user EMAIL --method METHOD --url URL" \
        in r.stdout
    r = run_postern("serve", "--help")
    assert r.returncode == 0 and "usage: postern serve" in r.stdout


def test_unknown_subcommand_is_usage_error():
    r = run_postern("frobnicate")
    assert r.returncode == 2
    assert "unknown subcommand 'frobnicate'" in r.stderr
    r = run_postern("help", "frobnicate")
    assert r.returncode == 2


def test_no_arguments_is_usage_error():
    r = run_postern()
    assert r.returncode == 2
    assert r.stderr.startswith("usage: postern")


def test_bad_option_and_stray_argument():
    r = run_postern("check", "-x")
    assert r.returncode == 2
    r = run_postern("check", "-c", "a.yaml", "extra")
    assert r.returncode == 2
    assert "unexpected argument 'extra'" in r.stderr


def test_audit_usage_errors(tmp_path):
    r = run_postern("audit", "frobnicate")
    assert r.returncode == 2 and "usage: postern audit" in r.stderr
    r = run_postern("audit", "trim", "-c", str(tmp_path / "x.yaml"))
    assert r.returncode == 2 and "--keep" in r.stderr
    r = run_postern("audit", "verify", "-c", str(tmp_path / "x.yaml"))
    assert r.returncode == 1


def test_missing_config_file(tmp_path):
    path = tmp_path / "nope.yaml"
    r = run_postern("check", "-c", str(path))
    assert r.returncode == 1
    assert "%s: cannot open" % path in r.stderr
    r = run_postern("serve", "-c", str(path))
    assert r.returncode == 1
