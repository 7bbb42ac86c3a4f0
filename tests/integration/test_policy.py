"""`postern policy test`: one request from the command line, and suites
(policies/tests.yaml against the example policies; a failing suite)."""
import os
import re
import textwrap

import pytest

from conftest import ROOT, run_postern
from gwproc import config_text, listener

POLICIES = os.path.join(ROOT, "policies")


@pytest.fixture
def conf(tmp_path):
    """A configuration serving the three example policies."""
    secret = tmp_path / "secret"
    secret.write_bytes(os.urandom(32))
    secret.chmod(0o600)
    cfg = tmp_path / "postern.yaml"
    cfg.write_text(config_text(
        [listener(1, tls=False)],
        policies=[os.path.join(POLICIES, p)
                  for p in ("billing.yaml", "admin.yaml", "docs.yaml")],
        extra=textwrap.dedent("""\
            secret_file: secret
            assertion:
              key_file: signing.pem
            roles: [owner, executive, admin, member, viewer]
            rate_limits:
              classes:
                api: {limit: 600, period: 1m}
                search: {limit: 60, period: 1m}
            """)))
    r = run_postern("keys", "generate", "-c", str(cfg))
    assert r.returncode == 0, r.stderr
    r = run_postern("check", "-c", str(cfg))
    assert r.returncode == 0, r.stderr
    assert "0 warnings" in r.stdout
    return cfg


def fields(out):
    return dict(re.findall(r"^(\w+): (.*)$", out, re.M))


def test_allow_prints_rule_tenant_role(conf):
    r = run_postern("policy", "test", "-c", str(conf), "--user",
                    "mia@acme.example", "--org-role", "acme=member",
                    "--method", "GET", "--url",
                    "https://acme.billing.example.com/invoices/7")
    assert r.returncode == 0, r.stderr
    f = fields(r.stdout)
    assert f["decision"] == "allow (200)"
    assert f["rule"] == "%s/billing.yaml:31 (/invoices/**)" % POLICIES
    assert f["tenant"] == "acme" and f["role"] == "member"
    assert f["app"] == "billing"


def test_cross_tenant_is_denied(conf):
    r = run_postern("policy", "test", "-c", str(conf), "--user",
                    "mia@acme.example", "--org-role", "acme=owner",
                    "--method", "GET", "--url",
                    "https://globex.billing.example.com/invoices/7")
    f = fields(r.stdout)
    assert f["decision"] == "deny (403)" and f["reason"] == "not_member"
    assert f["tenant"] == "globex" and f["role"] == "-"


def test_anonymous_login_mfa_step_up(conf):
    base = ["policy", "test", "-c", str(conf), "--method", "POST", "--url",
            "https://admin.internal.example.com/users/3/impersonate"]
    r = run_postern(*base, "--anonymous")
    assert fields(r.stdout)["decision"] == "login (401)"
    r = run_postern(*base, "--user", "o@example.com", "--org-role",
                    "staff=owner")
    assert fields(r.stdout)["decision"] == "mfa (302)"
    r = run_postern(*base, "--user", "o@example.com", "--org-role",
                    "staff=owner", "--mfa", "--auth-age", "10m")
    assert fields(r.stdout)["decision"] == "step_up (302)"
    r = run_postern(*base, "--user", "o@example.com", "--org-role",
                    "staff=owner", "--mfa", "--auth-age", "1m")
    assert fields(r.stdout)["decision"] == "allow (200)"


def test_apikey_and_refused_and_unknown_host(conf):
    r = run_postern("policy", "test", "-c", str(conf), "--apikey-org", "acme",
                    "--scope", "invoices:read", "--method", "GET", "--url",
                    "https://acme.billing.example.com/api/x")
    f = fields(r.stdout)
    assert f["decision"] == "allow (200)" and f["rate_limit"] == "api"
    r = run_postern("policy", "test", "-c", str(conf), "--anonymous",
                    "--method", "GET", "--url",
                    "https://docs.example.com/a%2fb")
    assert r.returncode == 1
    assert fields(r.stdout)["reason"] == "path_encoded_slash"
    r = run_postern("policy", "test", "-c", str(conf), "--anonymous",
                    "--method", "GET", "--url", "https://nope.example/")
    assert r.returncode == 1 and "no app serves" in r.stdout


def test_usage_errors(conf):
    r = run_postern("policy", "test", "-c", str(conf), "--method", "GET",
                    "--url", "https://docs.example.com/")
    assert r.returncode == 2
    r = run_postern("policy", "test", "-c", str(conf), "--anonymous",
                    "--user", "a@b.c", "--method", "GET", "--url",
                    "https://docs.example.com/")
    assert r.returncode == 2
    r = run_postern("policy", "frob")
    assert r.returncode == 2


def test_example_suite_passes(conf):
    r = run_postern("policy", "test", "-c", str(conf), "--suite",
                    os.path.join(POLICIES, "tests.yaml"))
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.search(r"(\d+) cases, 0 failed", r.stdout)
    assert m and int(m.group(1)) >= 20


def test_failing_suite(conf, tmp_path):
    suite = tmp_path / "tests.yaml"
    suite.write_text(textwrap.dedent("""\
        tests:
          - name: fine
            anonymous: true
            method: GET
            url: https://docs.example.com/
            expect: allow
          - name: wrong on purpose
            anonymous: true
            method: POST
            url: https://docs.example.com/
            expect: allow
          - name: wrong role
            user: a@acme.example
            org_roles: {acme: owner}
            method: GET
            url: https://acme.billing.example.com/x
            expect: allow
            role: admin
        """))
    r = run_postern("policy", "test", "-c", str(conf), "--suite", str(suite))
    assert r.returncode == 1
    fails = [l for l in r.stdout.splitlines() if l.startswith("FAIL")]
    assert len(fails) == 2
    assert fails[0].startswith("FAIL %s:7: wrong on purpose: POST "
                               "https://docs.example.com/: expected allow, "
                               "got deny (no_route" % suite)
    assert fails[1].startswith("FAIL %s:12: wrong role:" % suite)
    assert "3 cases, 2 failed" in r.stdout


def test_bad_suite_file(conf, tmp_path):
    suite = tmp_path / "tests.yaml"
    suite.write_text("tests:\n  - method: GET\n    url: https://x/\n"
                     "    expect: maybe\n    anonymous: true\n    colour: red\n")
    r = run_postern("policy", "test", "-c", str(conf), "--suite", str(suite))
    assert r.returncode == 1
    assert "%s:4:13: tests.expect: expected allow" % suite in r.stderr
    assert "%s:6:5: unknown key 'colour'" % suite in r.stderr


def test_check_reports_policy_errors(tmp_path):
    pol = tmp_path / "p.yaml"
    pol.write_text(textwrap.dedent("""\
        app:
          name: p
          hosts: ["{org}.p.example"]
          upstream: http://127.0.0.1:9
          routes:
            - path: /a/**
              role: boss
            - path: /a/b
              role: admin
        """))
    cfg = tmp_path / "postern.yaml"
    cfg.write_text(config_text([listener(1, tls=False)],
                               policies=["p.yaml"]))
    r = run_postern("check", "-c", str(cfg))
    assert r.returncode == 1
    assert "%s:7:13: route /a/**: unknown role 'boss'" % pol in r.stderr
    assert ("%s:8:13: route /a/b is unreachable: /a/** at line 6" % pol
            in r.stderr)
