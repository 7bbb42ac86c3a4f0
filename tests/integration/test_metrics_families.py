"""The /metrics families an SRE alerts on (docs/operations.md, "Metrics"),
scraped from the admin listener after real traffic: requests by app,
route, method and status; the upstream, Redis and password-hash
histograms; sign-in, second-factor, magic-link, reset and lockout counters;
rate-limit refusals by class; build info.  Also the access and audit log
fields, and that 1000 random paths add no series.

A real postern, a real redis-server, a real upstream, users made with the
real CLI, mail through a real SMTP server, TOTP codes from `oathtool`.
"""
import json
import pathlib
import re
import uuid

import pytest
import redis
import requests

from gwproc import app_text
from test_auth import RELAXED, PASSWORD, add_user, auth_extra, make_key
from test_mfa import api, csrf_of, enrol, page, post, sign_in, totp, \
    wait_fresh_step
from test_observability import parse_metrics, scrape, wait_for
from test_recover import ask, link_in, mail_extra

ROUTES = """\
  routes:
    - path: /public/**
      public: true
    - path: /api/**
      public: true
      rate_limit: api
    - path: /orders/{id}
      authenticated: true
    - path: /**
      authenticated: true
"""

WIKI = """\
  routes:
    - path: /pages/**
      authenticated: true
    - path: /**
      authenticated: true
"""

LIMITS = RELAXED.replace(      # one account locks after 3 tries
    "login: {limit: 100000, period: 1m, account_limit: 100000}",
    "login: {limit: 100000, period: 1m, account_limit: 3}") + \
    "    api: {limit: 2, period: 1m}\n"

UA = 'probe/1.0 "quoted" \\ back ' + "x" * 400


@pytest.fixture
def mgw(gateway, redis_server, tmp_path, smtp_sink, upstream):
    make_key(tmp_path)
    gw = gateway(extra=auth_extra(tmp_path, limits=LIMITS) +
                 mail_extra(smtp_sink, "  magic_links: true\n"
                            "  notify_new_device: false\n"),   # links only
                 app_extra=ROUTES, redis=redis_server, protect=None,
                 hosts=("127.0.0.1",),
                 more_apps=[("wiki.yaml", app_text(
                     upstream, name="wiki", hosts=("localhost",),
                     protect=None, extra=WIKI))])
    gw.redis = redis.Redis(host=redis_server[0], port=redis_server[1])
    for k in gw.redis.scan_iter("postern:rl:api:*"):    # earlier tests'
        gw.redis.delete(k)
    gw.email = "m-%s@example.com" % uuid.uuid4().hex[:10]
    add_user(gw, gw.email)
    gw.sink = smtp_sink
    return gw


def samples(gw):
    return scrape(gw)[1]


def series(s, name):
    """{labels dict as a sorted tuple: value} of family sample <name>."""
    return {k[1]: v for k, v in s.items() if k[0] == name}


def value(s, name, **labels):
    return s.get((name, tuple(sorted(labels.items()))), 0)


def histogram_ok(s, name):
    """Cumulative buckets ending in +Inf == _count; returns _count."""
    buckets = sorted((float(dict(k[1])["le"]), v) for k, v in s.items()
                     if k[0] == name + "_bucket")
    counts = [c for _, c in buckets]
    assert buckets and buckets[-1][0] == float("inf"), name
    assert counts == sorted(counts), (name, counts)
    assert counts[-1] == value(s, name + "_count"), name
    assert (name + "_sum", ()) in s
    return counts[-1]


def wiki_get(s, gw, path):
    return s.get("https://localhost:%d%s" % (gw.https_port, path),
                 verify=False, timeout=10, allow_redirects=False,
                 headers={"Accept": "application/json", "User-Agent": UA})


def traffic(gw):
    """Every kind of request the families count; returns what the test
    needs to find again (the session cookie, the TOTP user)."""
    s, r = sign_in(gw)                                  # good sign-in
    assert r.status_code == 303
    for path in ("/orders/1", "/orders/2", "/account-x"):
        assert api(s, gw, path).status_code == 200      # two routes
    r = s.get(gw.url + "/orders/3", verify=False, timeout=10,
              headers={"User-Agent": UA})
    assert r.status_code == 200
    # the same user on the second app (its own host, its own sign-in)
    w = requests.Session()
    r = w.get("https://localhost:%d/.postern/login" % gw.https_port,
              verify=False, timeout=10, headers={"Accept": "text/html"})
    r = w.post("https://localhost:%d/.postern/login" % gw.https_port,
               data={"email": gw.email, "password": PASSWORD, "rd": "/",
                     "csrf": csrf_of(r.text)}, verify=False, timeout=30,
               allow_redirects=False, headers={
                   "Origin": "https://localhost:%d" % gw.https_port,
                   "Accept": "text/html"})
    assert r.status_code == 303, r.text[:300]
    assert wiki_get(w, gw, "/pages/home").status_code == 200
    assert wiki_get(w, gw, "/pages/home").status_code == 200
    r = requests.delete(gw.url + "/public/x", verify=False, timeout=10)
    assert r.status_code == 200
    r = requests.request("BREW", gw.url + "/public/pot", verify=False,
                         timeout=10)
    assert r.status_code in (200, 400, 405, 501)
    assert api(requests, gw, "/.postern/nothing").status_code == 404
    codes = [api(requests, gw, "/api/x").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert sign_in(gw, password="not the password 1")[1].status_code == 401
    assert sign_in(gw, email="nobody-%s@example.com" % uuid.uuid4().hex[:6]
                   )[1].status_code == 401
    return s


def second_factor(gw):
    """A user with TOTP: one wrong code, then the right one."""
    email = "t-%s@example.com" % uuid.uuid4().hex[:10]
    add_user(gw, email)
    wait_fresh_step()
    s, _ = sign_in(gw, email=email)
    key, _ = enrol(gw, s)
    s2, r = sign_in(gw, email=email)
    assert r.status_code == 303 and "/.postern/2fa" in r.headers["Location"]
    tok = csrf_of(page(s2, gw, "/.postern/2fa").text)
    assert post(s2, gw, "/.postern/2fa", {"code": "000000" if totp(key) !=
                                          "000000" else "111111"},
                csrf=tok).status_code == 401
    assert post(s2, gw, "/.postern/2fa", {"code": totp(key, 30)},
                csrf=tok).status_code == 303


def links(gw):
    """A magic link used, a reset done, a used link refused."""
    r = ask(gw, "/.postern/magic", gw.email)
    s = r.browser
    _, token = link_in(gw.sink.wait_for(gw.email), "/.postern/magic")
    r = page(s, gw, "/.postern/magic?token=" + token)
    assert post(s, gw, "/.postern/magic", {"token": token},
                csrf=csrf_of(r.text)).status_code == 303
    ask(gw, "/.postern/reset", gw.email)
    _, token = link_in(gw.sink.wait_for(gw.email), "/.postern/reset")
    b = requests.Session()
    tok = csrf_of(page(b, gw, "/.postern/reset?token=" + token).text)
    new = PASSWORD + " renewed"
    data = {"token": token, "new_password": new, "confirm": new}
    assert post(b, gw, "/.postern/reset", data, csrf=tok).status_code == 200
    assert post(b, gw, "/.postern/reset", data, csrf=tok).status_code == 400
    return new


def lockout(gw):
    """Wrong passwords for one account until its lockout refuses."""
    victim = "v-%s@example.com" % uuid.uuid4().hex[:10]
    add_user(gw, victim)
    codes = [sign_in(gw, email=victim, password="wrong %d" % i)[1]
             .status_code for i in range(5)]
    assert codes[:3] == [401] * 3 and codes[-1] == 429, codes


def test_families_after_real_traffic(mgw):
    gw = mgw
    text_before = requests.get("http://127.0.0.1:%d/metrics" %
                               gw.admin_port, timeout=10).text
    parse_metrics(text_before)                  # strict, before any traffic
    s = traffic(gw)
    second_factor(gw)
    new = links(gw)
    lockout(gw)
    m = wait_for(lambda: (lambda x: value(
        x, "postern_lockouts_total", flow="signin") >= 1 and x)(samples(gw)))
    assert m, samples(gw)
    types, _ = scrape(gw)
    for name in ("postern_upstream_duration_seconds",
                 "postern_redis_command_duration_seconds",
                 "postern_password_hash_wait_seconds",
                 "postern_request_duration_seconds"):
        assert types[name] == "histogram"
    assert types["postern_password_hash_queue"] == "gauge"
    # the reference documents every family the gateway exposes
    docs = pathlib.Path(__file__).resolve().parents[2] / "docs"
    ref = (docs / "operations.md").read_text() + (docs / "acme.md").read_text()
    missing = [t for t in types if "`%s" % t not in ref]
    assert not missing, missing
    assert types["postern_build_info"] == "gauge"

    req = "postern_http_requests_total"

    def reqs(**labels):
        return value(m, req, **labels)
    assert reqs(app="demo", route="/orders/{id}", method="GET",
                status="200") == 3
    assert reqs(app="demo", route="/**", method="GET", status="200") >= 1
    assert reqs(app="wiki", route="/pages/**", method="GET",
                status="200") == 2
    assert reqs(app="demo", route="/public/**", method="DELETE",
                status="200") == 1
    assert sum(v for k, v in series(m, req).items()
               if dict(k)["method"] == "OTHER") == 1
    assert reqs(app="demo", route="/api/**", method="GET", status="429") == 1
    assert reqs(app="demo", route="/api/**", method="GET", status="200") == 2
    # /.postern/ pages match no route: route "", never the raw path
    assert sum(v for k, v in series(m, req).items() if dict(k)["route"]
               == "" and dict(k)["status"] == "404") >= 1
    assert all("nothing" not in v for k in series(m, req)
               for _, v in k)
    # every request is in exactly one series and the total histogram
    total = sum(series(m, req).values())
    assert total == histogram_ok(m, "postern_request_duration_seconds")
    assert total == sum(series(m, "postern_requests_total").values())
    # upstream histogram: the forwarded requests only, fewer than all
    up = histogram_ok(m, "postern_upstream_duration_seconds")
    assert 8 <= up < total
    assert histogram_ok(m, "postern_redis_command_duration_seconds") > 20
    assert histogram_ok(m, "postern_password_hash_wait_seconds") >= 8
    assert value(m, "postern_password_hash_queue") == 0
    assert value(m, "postern_redis_reconnects_total") == 0
    assert series(m, "postern_rate_limit_refusals_total") == {
        (("class", "api"),): 1, (("class", "login"),): 2}

    def signin(method, outcome):
        return value(m, "postern_signin_total", method=method,
                     outcome=outcome)
    # demo twice, wiki once, 2FA user twice (once enrolling)
    assert signin("password", "ok") == 3
    assert signin("password", "mfa_required") == 1
    assert signin("password", "bad_credentials") == 3 + 1
    assert signin("password", "unknown_user") == 1
    assert signin("password", "locked") >= 1
    assert signin("magic_link", "ok") == 1
    assert signin("sso", "ok") == 0
    assert value(m, "postern_mfa_total", outcome="wrong") == 1
    assert value(m, "postern_mfa_total", outcome="ok") == 2   # + enrolment
    assert value(m, "postern_mfa_total", outcome="locked") == 0
    assert value(m, "postern_magic_link_total", outcome="sent") == 1
    assert value(m, "postern_magic_link_total", outcome="used") == 1
    assert value(m, "postern_password_reset_total", outcome="sent") == 1
    assert value(m, "postern_password_reset_total", outcome="done") == 1
    assert value(m, "postern_password_reset_total", outcome="refused") == 1
    assert value(m, "postern_lockouts_total", flow="signin") == \
        signin("password", "locked")
    build = series(m, "postern_build_info")
    assert len(build) == 1
    (labels, one), = build.items()
    labels = dict(labels)
    assert one == 1 and labels["version"] and \
        re.fullmatch(r"[0-9a-f]{7,40}|unknown", labels["commit"])
    # what the logs must never hold
    log = gw.log()
    cookie = [c.value for c in s.cookies if "session" in c.name.lower() or
              c.name.startswith("__Host-")]
    assert cookie and all(c not in log for c in cookie)
    assert PASSWORD not in log and new not in log


def test_access_and_audit_log_fields(mgw):
    gw = mgw
    s = traffic(gw)
    uid = api(s, gw, "/orders/9").json()["headers"]
    uid = {k.lower(): v for k, v in uid}["x-postern-user"]

    def lines():
        return [json.loads(ln) for ln in gw.log().splitlines()
                if ln.startswith("{")]
    got = wait_for(lambda: [e for e in lines() if e.get("event") ==
                            "request" and e.get("path") == "/orders/3"])
    e = got[0]
    assert e["user"] == uid and e["auth"] == "session"
    assert e["route"] == "/orders/{id}" and e["app"] == "demo"
    assert e["org"] is None
    assert e["user_agent"] == UA[:200]       # cut, escaped by the JSON
    pub = [e for e in lines() if e.get("path") == "/public/x"][0]
    assert pub["auth"] == "public" and pub["user"] is None
    assert pub["route"] == "/public/**"
    wiki = [e for e in lines() if e.get("path") == "/pages/home"][0]
    assert wiki["app"] == "wiki" and wiki["user"] == uid
    lim = [e for e in lines() if e.get("path") == "/api/x" and
           e.get("status") == 429][0]
    assert lim["route"] == "/api/**" and lim["event"] == "reject"
    nf = [e for e in lines() if e.get("path") == "/.postern/nothing"][0]
    assert nf["route"] is None
    # every audit line names the client's address
    audits = [e for e in lines() if e.get("event") == "audit"]
    assert len(audits) >= 3
    assert all(a.get("client_ip") == "127.0.0.1" for a in audits), audits


def test_random_paths_add_no_series(mgw):
    gw = mgw
    s, _ = sign_in(gw)
    c = requests.Session()
    for i in range(1000):
        path = "/%s/%d" % (uuid.uuid4().hex, i)
        assert c.get(gw.url + path, verify=False, timeout=10,
                     allow_redirects=False).status_code in (302, 401)
    before = series(samples(gw), "postern_http_requests_total")
    for i in range(1000):
        path = "/orders/%s" % uuid.uuid4().hex
        if i % 2:
            path = "/public/%s/%d" % (uuid.uuid4().hex, i)
        assert c.get(gw.url + path, verify=False, timeout=10,
                     allow_redirects=False,
                     headers={"Cookie": "; ".join(
                         "%s=%s" % (k.name, k.value) for k in s.cookies)}
                     ).status_code == 200
    after = series(samples(gw), "postern_http_requests_total")
    new = set(after) - set(before)
    # two new series at the most (the two routes), whatever the paths
    assert len(new) <= 2, new
    assert len(after) < 10
    assert sum(after.values()) - sum(before.values()) >= 1000
    assert value(samples(gw), "postern_metrics_series_dropped_total") == 0


def test_sd_notify_status_carries_the_last_reload(postern):
    """A real NOTIFY_SOCKET: READY=1 and STATUS= at start; RELOADING=1,
    then READY=1 with the outcome, after a good and a refused reload."""
    from test_lifecycle import Notify
    n = Notify()
    try:
        gw = postern(env={"NOTIFY_SOCKET": n.path})
        n.wait(lambda: "READY=1" in n.states())
        assert "STATUS=serving" in n.lines()
        gw.reload()
        n.wait(lambda: n.states() == ["READY=1", "RELOADING=1", "READY=1"])
        status = [ln for ln in n.lines() if ln.startswith("STATUS=")]
        assert status[-1] == "STATUS=serving; reloaded: 1 app", status
        with open(gw.config, "a") as f:
            f.write("bogus_key: 1\n")
        gw.reload(expect="reload failed")
        n.wait(lambda: n.states()[-2:] == ["RELOADING=1", "READY=1"] and
               len(n.states()) == 5)
        status = [ln for ln in n.lines() if ln.startswith("STATUS=")][-1]
        assert status.startswith(
            "STATUS=serving the previous configuration; "), status
        assert re.search(r"postern\.yaml:\d+:\d+: .*bogus_key", status), \
            status
        # each outcome is one datagram: STATUS= never arrives alone
        last = n.msgs[-1][1].split("\n")
        assert last[0] == "READY=1" and last[1] == status
        gw.write()                              # fixed again
        gw.reload()
        n.wait(lambda: len(n.states()) == 7)
        status = [ln for ln in n.lines() if ln.startswith("STATUS=")][-1]
        assert status == "STATUS=serving; reloaded: 1 app"
    finally:
        n.close()


def test_redis_outage_in_metrics(gateway, tmp_path):
    """postern_redis_up drops with a private Redis and comes back with
    its restart; each worker's restored connection is one reconnect; the
    command histogram counts the commands that failed meanwhile."""
    from conftest import start_redis, stop
    proc, addr = start_redis(tmp_path)
    try:
        gw = gateway(redis=addr, workers=2)
        m = wait_for(lambda: (lambda x: value(x, "postern_redis_up") == 1
                              and x)(samples(gw)))
        assert m and value(m, "postern_redis_reconnects_total") == 0
        stop(proc)
        m = wait_for(lambda: (lambda x: value(x, "postern_redis_up") == 0
                              and x)(samples(gw)), timeout=10)
        assert m, "postern_redis_up stayed 1"
        proc, _ = start_redis(tmp_path, port=addr[1])
        m = wait_for(lambda: (lambda x: value(x, "postern_redis_up") == 1
                              and x)(samples(gw)), timeout=15)
        assert m, "postern_redis_up stayed 0"
        assert value(m, "postern_redis_reconnects_total") == 2    # workers
        histogram_ok(m, "postern_redis_command_duration_seconds")
    finally:
        stop(proc)
