"""Durability: what each Redis persistence level loses, measured with
real redis-server processes and real gateways (issue #19; the table is in
docs/redis.md, "Persistence").

- No persistence: a restart of the only Redis loses every session, rate
  limit counter and the audit trail; a gateway that only served requests
  (it appended nothing) records the loss as soon as it reconnects.
- RDB: what was written after the last snapshot (BGSAVE at a known moment)
  is lost, what was written before is kept.
- AOF everysec: SIGKILL of Redis under sign-in load, restart from the AOF:
  every session answered more than 1.5 s before the kill survives.
- AOF everysec, a replica and three sentinels: SENTINEL FAILOVER and a
  SIGKILL of the primary under sign-in load through two gateways: every
  session made before what WAIT confirmed as replicated (and more than
  1 s before the switch) works on both gateways after it; a write the
  replica never received is lost, and the trail records the loss
  (audit verify reports it) instead of forking.
- Events appended by others on top of a lost head, past the gateway's
  mark, do not hide the loss; an audit trim is not taken for one.

Each test prints what it measured (sessions made, lost, loss window).
"""
import json
import signal
import time
import uuid

import pytest
import redis as redislib
import requests
import urllib3

from conftest import run_postern, start_redis, stop
from sentinels import NAME, Sentinel, wait_until
from test_auth import add_user, login
from test_sentinel import STORES, Load, email_of, get, start_gw
from test_sentinel_faults import gw_on

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

AOF = ("--appendonly", "yes", "--appendfsync", "everysec")
HEAD, EVENTS = "postern:audit:head", "postern:audit:events"


class Solo:
    """One redis-server in <d> with options <args>, killed (SIGKILL) and
    started again on the same port and directory."""

    def __init__(self, d, *args):
        d.mkdir(parents=True, exist_ok=True)
        self.d, self.args = d, args
        self.proc, (_, self.port) = start_redis(d, *args)

    def client(self):
        return redislib.Redis("127.0.0.1", self.port, socket_timeout=5)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def start(self):
        self.proc, _ = start_redis(self.d, *self.args, port=self.port)

    def stop(self):
        stop(self.proc)


@pytest.fixture
def solo_factory(tmp_path):
    made = []

    def make(*args):
        s = Solo(tmp_path / ("redis%d" % len(made)), *args)
        made.append(s)
        return s
    yield make
    for s in made:
        s.stop()


def head(r):
    v = r.get(HEAD)
    return v.decode() if v else ""


def head_seq(r):
    h = head(r)
    return int(h.split()[0]) if h else 0


def events(r):
    return [json.loads(x) for x in r.lrange(EVENTS, 0, -1)]


def rollbacks(r):
    return [e for e in events(r) if e["action"] == "audit_rollback"]


def logins(r):
    return len([e for e in events(r) if e["action"] == "login"])


def restored_so_far(gw):
    """How many "connection restored" lines the gateway logged so far: a
    connection reset by a slow command before a restart counts here, so
    that wait_restored() waits for the restart's own."""
    return gw.log().count(': connection restored"')


def wait_restored(gw, before, timeout=20):
    """Wait until every Redis connection the gateway made at start (each
    worker's and the main thread's: one "connected" line each) logs its
    "connection restored" beyond the <before> of restored_so_far(), taken
    while Redis was down: until then a worker may still answer 503."""
    n = gw.log().count(': connected"')
    assert n >= 2, gw.log()[-2000:]
    gw.wait_log(': connection restored"', before + n, timeout=timeout)


def verify(gw):
    return run_postern("audit", "verify", "-c", str(gw.config))


def assert_loss_recorded(gw, lost):
    """The trail holds (no BROKEN), records the loss of head <lost>, and
    verify says so (exit 1)."""
    v = verify(gw)
    assert v.returncode == 1, v.stdout + v.stderr
    assert "events verified" in v.stdout and "BROKEN" not in v.stdout
    assert "LOST EVENTS" in v.stdout, v.stdout
    assert lost in [e["target"] for e in rollbacks(gw.redis)]


def new_users(gw, n):
    out = ["d%d-%s@example.com" % (i, uuid.uuid4().hex[:8])
           for i in range(n)]
    for e in out:
        add_user(gw, e)
    return out


def signed_in(gw, email):
    s, r = login(gw, email)
    assert r.status_code == 303, r.text
    return s.cookies["__Host-postern"]


class SignIns(Load):
    """Threads signing users in through <gws> in turn until stopped (a
    context manager, as test_sentinel's Load); each session made is kept
    as (time its 303 arrived, email, cookie).  Each user signs in at most
    <per_user> times (sessions.max_per_user is 10: no session is evicted
    by a newer one)."""

    def __init__(self, gws, emails, threads=2, per_user=9):
        super().__init__(gws, range(threads))
        self.sessions, self.failed = [], 0
        self.todo = [e for e in emails for _ in range(per_user)]

    def take(self):
        with self.lock:
            return self.todo.pop(0) if self.todo else None

    def run(self, i):
        n = 0
        while not self.stopping.is_set():
            email = self.take()
            if email is None:
                return
            gw = self.gws[(i + n) % len(self.gws)]
            n += 1
            try:
                s, r = login(gw, email)
                ok = r.status_code == 303
            except (requests.RequestException, AssertionError):
                ok = False          # the sign-in page refused: Redis down
            with self.lock:
                if ok:
                    self.sessions.append((time.monotonic(), email,
                                          s.cookies["__Host-postern"]))
                else:
                    self.failed += 1


def survivors(gws, sessions):
    """The sessions of <sessions> that every gateway of <gws> still
    accepts (each with its own user), and those none accepts; a session
    some accept and others refuse fails the test."""
    kept, lost = [], []
    for s in sessions:
        answers = [get(gw, s[2]) for gw in gws]
        codes = [r.status_code for r in answers]
        if codes == [200] * len(gws):
            assert all(email_of(r) == s[1] for r in answers)
            kept.append(s)
        else:
            assert codes == [401] * len(gws), codes
            lost.append(s)
    return kept, lost


def report(what, sessions, lost, t):
    """Print the figures; the age at <t> of the oldest session lost (0
    if none; negative if all were made after <t>)."""
    ages = [t - s[0] for s in lost] or [0.0]
    print("\n%s: %d sessions made, %d lost, made from %.2f s to %.2f s "
          "after the switch began" % (what, len(sessions), len(lost),
                                      -max(ages), -min(ages)))
    return max(ages)


def test_no_persistence_loses_everything(solo_factory, tmp_path, tls_cert,
                                         upstream):
    """Without RDB or AOF, a restart empties Redis.  Sessions are refused
    (401 for an API client, the sign-in page for a browser: the session
    caches do not bring them back), the rate limit counts again from 0,
    and gateway B, which appended no event (it only served signed-in
    requests), records the lost head as the new trail's first event as soon
    as it reconnects: audit verify reports it."""
    redis = solo_factory()
    a = gw_on(tmp_path, "A", tls_cert, upstream, redis.port, cache=True)
    a.redis = redis.client()
    emails = new_users(a, 3)
    users = [(e, signed_in(a, e)) for e in emails]
    assert [get(a, users[0][1], "/limited/x").status_code
            for _ in range(3)] == [200] * 3
    wait_until(lambda: logins(a.redis) == 3, 5, "the sign-ins' events")
    a.stop()
    b = gw_on(tmp_path, "B", tls_cert, upstream, redis.port, cache=True)
    b.redis = a.redis
    for e, c in users:
        assert email_of(get(b, c)) == e             # cached by B now
    lost = head(b.redis)
    assert head_seq(b.redis) >= 6 and rollbacks(b.redis) == []
    redis.kill()
    down = restored_so_far(b)
    redis.start()
    wait_restored(b, down)
    wait_until(lambda: head(b.redis) != "", 5, "the record of the loss")
    marks = rollbacks(b.redis)
    assert marks[0]["seq"] == "1" and marks[0]["target"] == lost, marks
    assert '"outcome":"rollback"' in b.log()
    assert_loss_recorded(b, lost)
    for _, c in users:
        assert get(b, c).status_code == 401
        r = requests.get(b.url + "/app/x", verify=False, timeout=10,
                         allow_redirects=False,
                         headers={"Accept": "text/html",
                                  "Cookie": "__Host-postern=" + c})
        assert r.status_code == 302
        assert "/.postern/login" in r.headers["Location"]
    # the users are gone too; once added again, the limit starts afresh
    s, r = login(b, emails[0])
    assert r.status_code != 303
    add_user(b, emails[0])
    c = signed_in(b, emails[0])
    assert [get(b, c, "/limited/x").status_code for _ in range(6)] == \
        [200] * 5 + [429]
    print("\nno persistence: %d sessions made, %d lost; audit head %s "
          "lost" % (len(users), len(users), lost.split()[0]))


def test_rdb_keeps_what_the_snapshot_holds(solo_factory, tmp_path,
                                          tls_cert, upstream):
    """RDB only: BGSAVE between two sign-ins.  After SIGKILL and a restart
    from the snapshot, the sessions made before it work, those made after
    are refused, the rate limit keeps the count it had at the snapshot, and
    the gateway records the events lost since."""
    redis = solo_factory()
    gw = gw_on(tmp_path, "A", tls_cert, upstream, redis.port)
    gw.redis = r = redis.client()
    emails = new_users(gw, 4)
    before = [(e, signed_in(gw, e)) for e in emails[:2]]
    assert [get(gw, before[0][1], "/limited/x").status_code
            for _ in range(2)] == [200] * 2
    wait_until(lambda: logins(r) == 2, 5, "the sign-ins' events")
    # LASTSAVE counts in seconds and may not move when the snapshot ends in
    # the second Redis started; the count of saves always does
    saved_seq, saves = head_seq(r), r.info("persistence")["rdb_saves"]
    r.bgsave()

    def snapshot_done():
        p = r.info("persistence")
        return (p["rdb_saves"] > saves and p["rdb_bgsave_in_progress"] == 0
                and p["rdb_last_bgsave_status"] == "ok")
    wait_until(snapshot_done, 10, "the snapshot")
    after = [(e, signed_in(gw, e)) for e in emails[2:]]
    assert [get(gw, before[0][1], "/limited/x").status_code
            for _ in range(2)] == [200] * 2
    wait_until(lambda: logins(r) == 4, 5, "the sign-ins' events")
    lost = head(r)
    redis.kill()
    down = restored_so_far(gw)
    redis.start()
    wait_until(lambda: rollbacks(r) != [], 20, "the record of the loss")
    wait_restored(gw, down)
    assert rollbacks(r)[0]["seq"] == str(saved_seq + 1)
    assert_loss_recorded(gw, lost)
    for e, c in before:
        assert email_of(get(gw, c)) == e
    for e, c in after:
        assert get(gw, c).status_code == 401
    # 2 counted before the snapshot, 2 after (lost): 3 left of 5
    assert [get(gw, before[0][1], "/limited/x").status_code
            for _ in range(4)] == [200] * 3 + [429]
    print("\nRDB: 4 sessions made, the 2 made after the snapshot lost")


def test_aof_everysec_kill_loses_at_most_a_second(solo_factory, tmp_path,
                                                 tls_cert, upstream):
    """AOF everysec: SIGKILL of Redis while users sign in, restart from
    the AOF.  Every session answered more than 1.5 s before the kill works
    (Redis wrote each acknowledged change to the file before answering;
    everysec bounds what an OS crash could lose, not a process crash).
    The trail verifies, or reports exactly the loss it recorded."""
    redis = solo_factory(*AOF)
    gw = gw_on(tmp_path, "A", tls_cert, upstream, redis.port)
    gw.redis = redis.client()
    emails = new_users(gw, 8)
    with SignIns([gw], emails) as load:
        time.sleep(3)
        t_kill = time.monotonic()
        redis.kill()
        time.sleep(0.3)
    down = restored_so_far(gw)
    redis.start()
    wait_restored(gw, down)
    sessions = list(load.sessions)
    kept, lost = survivors([gw], sessions)
    window = report("AOF everysec, SIGKILL", sessions, lost, t_kill)
    assert len(sessions) >= 5, "too few sign-ins to measure"
    assert window <= 1.5, lost
    v = verify(gw)
    if rollbacks(gw.redis):
        assert v.returncode == 1 and "LOST EVENTS" in v.stdout
    else:
        assert v.returncode == 0, v.stdout + v.stderr
    assert "BROKEN" not in v.stdout


@pytest.fixture
def aof_cluster(tmp_path):
    c = Sentinel(tmp_path / "redis", persistence=AOF)
    yield c
    c.stop()


def replicated(cluster, port):
    """WAIT on the primary at <port>: every write it acknowledged so far
    is on the replica (returns the time), else None."""
    n = cluster.client(port).execute_command("WAIT", 1, 2000)
    return time.monotonic() if n == 1 else None


@pytest.mark.parametrize("how", ["sentinel", "sigkill",
                                 "sentinel+min-replicas"])
def test_failover_keeps_replicated_sessions(aof_cluster, tmp_path, tls_cert,
                                            upstream, how):
    """AOF everysec and a replica: SENTINEL FAILOVER, or SIGKILL of the
    primary, while users sign in through gateways A and B.  Every session
    made before the last WAIT that confirmed the replica had everything
    (taken just before the switch), hence every session older than a
    second, works on both gateways afterwards; the trail verifies (or
    reports exactly a loss it recorded, never a fork).  SENTINEL FAILOVER
    loses the sign-ins the old primary still acknowledged after the
    replica was promoted; with min-replicas-to-write 1 it refuses them
    instead (the promoted replica left it), and nothing is lost."""
    cluster = aof_cluster
    if how == "sentinel+min-replicas":
        for port in (cluster.port1, cluster.port2):
            cluster.client(port).config_set("min-replicas-to-write", 1)
    a = start_gw(tmp_path, "A", cluster, tls_cert, upstream)
    b = start_gw(tmp_path, "B", cluster, tls_cert, upstream)
    emails = new_users(a, 10)
    old = cluster.primary()
    with SignIns([a, b], emails) as load:
        time.sleep(2.5)
        t_wait = replicated(cluster, old)
        assert t_wait is not None
        t0 = time.monotonic()
        if how.startswith("sentinel"):
            new = cluster.failover()
        else:
            new = cluster.replica_of(old)
            cluster.by_port[old].send_signal(signal.SIGKILL)
            cluster.by_port[old].wait()
            wait_until(lambda: cluster.settled(new), 60, "the promotion")
        for gw in (a, b):
            gw.wait_log("the primary of %s changed" % NAME, STORES,
                        timeout=20)
        time.sleep(0.5)
    if how == "sentinel+min-replicas":      # writes wait for a replica
        wait_until(lambda: cluster.client(new).info("replication")
                   ["min_slaves_good_slaves"] >= 1, 30, "a replica")
        print("\nwrites refused on the new primary until %.1f s after the "
              "switch began" % (time.monotonic() - t0))
    sessions = list(load.sessions)
    kept, lost = survivors([a, b], sessions)
    window = report("AOF everysec + replica, %s" % how, sessions, lost, t0)
    print("%d sign-ins refused (503) during the switch" % load.failed)
    assert len(sessions) >= 5, "too few sign-ins to measure"
    assert not [s for s in lost if s[0] < t_wait], lost
    assert window <= 1.0, lost
    if how == "sentinel+min-replicas":
        assert lost == []
    a.redis = cluster.client(new)
    v = verify(a)
    assert "BROKEN" not in v.stdout, v.stdout
    marks = rollbacks(a.redis)
    print("%s: audit verify exit %d, %d rollback records" % (
        how, v.returncode, len(marks)))
    assert v.returncode == (1 if marks else 0), v.stdout + v.stderr


def test_lost_write_is_recorded_across_failover(aof_cluster, tmp_path,
                                                tls_cert, upstream):
    """A write the replica never received (its link cut) when the
    primary dies: the session made then is gone after the promotion, the
    one made before it (WAIT confirmed) works on both gateways, and
    gateway A, whose login event was lost, records the loss as soon as its
    connections reach the new primary: audit verify reports it; the chain
    itself holds and goes on."""
    cluster = aof_cluster
    a = start_gw(tmp_path, "A", cluster, tls_cert, upstream)
    b = start_gw(tmp_path, "B", cluster, tls_cert, upstream)
    emails = new_users(a, 3)
    old = cluster.primary()
    new = cluster.replica_of(old)
    kept = signed_in(a, emails[0])
    wait_until(lambda: logins(cluster.client(old)) == 1, 5, "the event")
    assert replicated(cluster, old) is not None
    # stopped, the replica cannot reconnect; its link cut, what the
    # primary writes next never reaches it (not even its socket buffer)
    replica = cluster.by_port[new]
    replica.send_signal(signal.SIGSTOP)
    try:
        cluster.client(old).execute_command("CLIENT", "KILL", "TYPE",
                                            "replica")
        gone = signed_in(a, emails[1])
        wait_until(lambda: logins(cluster.client(old)) == 2, 5, "the event")
        lost = head(cluster.client(old))
        cluster.by_port[old].send_signal(signal.SIGKILL)
        cluster.by_port[old].wait()
    finally:
        replica.send_signal(signal.SIGCONT)
    wait_until(lambda: cluster.settled(new), 60, "the promotion")
    for gw in (a, b):
        gw.wait_log("the primary of %s changed" % NAME, STORES, timeout=20)
    a.redis = cluster.client(new)
    wait_until(lambda: rollbacks(a.redis) != [], 10, "the record")
    assert rollbacks(a.redis)[0]["target"] == lost
    assert_loss_recorded(a, lost)
    for gw in (a, b):
        assert email_of(get(gw, kept)) == emails[0]
        assert get(gw, gone).status_code == 401
    # the trail goes on from the record, one record for the one loss
    signed_in(b, emails[2])
    wait_until(lambda: logins(a.redis) == 2, 5, "the next event")
    assert len(rollbacks(a.redis)) == 1
    v = verify(a)
    assert "BROKEN" not in v.stdout and "LOST EVENTS" in v.stdout


def test_appends_on_a_lost_head_do_not_hide_it(solo_factory, tmp_path,
                                               tls_cert, upstream):
    """Redis loses the gateway's last events (the older keys restored),
    then the command-line tools append more events than were lost, past
    the gateway's own mark: the gateway's next event finds that the event
    at its mark is no longer the one it appended and records the loss
    first (a head merely ahead of the mark does not hide a fork)."""
    redis = solo_factory()
    gw = gw_on(tmp_path, "A", tls_cert, upstream, redis.port, workers=1)
    gw.redis = r = redis.client()
    emails = new_users(gw, 1)
    signed_in(gw, emails[0])
    wait_until(lambda: logins(r) == 1, 5, "the event")
    saved = {k: r.dump(k) for k in (HEAD, EVENTS)}
    seq = head_seq(r)
    for _ in range(2):
        signed_in(gw, emails[0])
    wait_until(lambda: logins(r) == 3, 5, "two more events")
    lost = head(r)
    for k, v in saved.items():
        r.restore(k, 0, v, replace=True)
    new_users(gw, 4)                    # user_add events by the CLI
    assert head_seq(r) == seq + 4 and rollbacks(r) == []
    assert verify(gw).returncode == 0   # a valid chain: the fork is silent
    signed_in(gw, emails[0])
    wait_until(lambda: logins(r) == 2, 5, "the sign-in's event")
    marks = rollbacks(r)
    assert len(marks) == 1 and marks[0]["target"] == lost, marks
    assert marks[0]["seq"] == str(seq + 5)
    assert_loss_recorded(gw, lost)


def test_trim_is_not_a_loss(solo_factory, tmp_path, tls_cert, upstream):
    """`postern audit trim` drops old events, the gateway's mark among
    them: its next events append with no audit_rollback record (a mark
    trimmed away cannot be checked, and is not taken for a loss), whether
    the mark is the event kept or one trimmed away."""
    redis = solo_factory()
    gw = gw_on(tmp_path, "A", tls_cert, upstream, redis.port, workers=1)
    gw.redis = r = redis.client()
    emails = new_users(gw, 1)
    for n in (1, 2):
        seq = head_seq(r)
        signed_in(gw, emails[0])
        wait_until(lambda: head_seq(r) == seq + 1, 5, "the event")
        if n == 2:
            new_users(gw, 3)            # the mark is not the last event
        t = run_postern("audit", "trim", "-c", str(gw.config), "--keep", "1")
        assert t.returncode == 0, t.stderr
        assert r.llen(EVENTS) == 1
    signed_in(gw, emails[0])
    wait_until(lambda: logins(r) == 1, 5, "the sign-in's event")
    assert rollbacks(r) == [] and '"outcome":"rollback"' not in gw.log()
    v = verify(gw)
    assert v.returncode == 0 and "LOST" not in v.stdout, v.stdout
