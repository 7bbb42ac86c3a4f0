"""A real Redis Sentinel deployment on loopback for the failover tests: one
redis-server primary, one replica (replicaof), three redis-sentinel
processes (Debian's), each with its own configuration file in a temp
dir, and the gateways that follow them (test_sentinel.py,
test_faults.py).

Sentinel(base) starts everything and waits until the sentinels know the
replica and each other (a failover needs both); primary() asks a sentinel
for the address of the primary, failover() runs SENTINEL FAILOVER and
waits for the new primary to say so itself; stop() ends every process.
"""
import shutil
import subprocess
import time

import redis as redislib

from conftest import start_redis
from gwproc import free_port, stop, wait_port

NAME = "pmaster"


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if pred():
                return
        except redislib.RedisError:
            pass
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


class Sentinel:
    def __init__(self, base, down_after=1000, failover_timeout=4000,
                 persistence=()):
        self.base = base
        self.procs = {}
        self.redis_procs = []
        try:
            self.start(down_after, failover_timeout, persistence)
        except BaseException:
            self.stop()
            raise

    def start(self, down_after, failover_timeout, persistence):
        base = self.base
        exe = shutil.which("redis-sentinel")
        assert exe, "redis-sentinel not installed"
        d1, d2 = base / "r1", base / "r2"
        d1.mkdir(parents=True)
        d2.mkdir()
        p, (_, self.port1) = start_redis(d1, *persistence)
        self.redis_procs.append(p)
        self.by_port = {self.port1: p}
        p, (_, self.port2) = start_redis(d2, "--replicaof", "127.0.0.1",
                                         str(self.port1), *persistence)
        self.redis_procs.append(p)
        self.by_port[self.port2] = p
        wait_until(lambda: self.client(self.port2).info("replication")
                   ["master_link_status"] == "up", 10, "the replica")
        self.sentinel_ports = []
        for i in range(3):
            port = free_port()
            d = base / ("s%d" % i)
            d.mkdir()
            conf = d / "sentinel.conf"
            conf.write_text(
                "port %d\nbind 127.0.0.1\ndaemonize no\ndir %s\n"
                "sentinel monitor %s 127.0.0.1 %d 2\n"
                "sentinel down-after-milliseconds %s %d\n"
                "sentinel failover-timeout %s %d\n"
                "sentinel parallel-syncs %s 1\n"
                % (port, d, NAME, self.port1, NAME, down_after, NAME,
                   failover_timeout, NAME))
            proc = subprocess.Popen([exe, str(conf)],
                                    stdout=open(d / "log", "w"),
                                    stderr=subprocess.STDOUT)
            wait_port(port, proc)
            self.procs[port] = proc
            self.sentinel_ports.append(port)
        for port in self.sentinel_ports:
            s = self.client(port)
            wait_until(lambda: len(s.sentinel_slaves(NAME)) == 1 and
                       len(s.sentinel_sentinels(NAME)) == 2, 30,
                       "sentinel %d to know the others" % port)

    @staticmethod
    def client(port):
        return redislib.Redis("127.0.0.1", port, socket_timeout=5)

    def addresses(self):
        return ["127.0.0.1:%d" % p for p in self.sentinel_ports]

    def redis_section(self, extra=None):
        keys = {"sentinels": "[%s]" % ", ".join(
            '"%s"' % a for a in self.addresses()), "master_name": NAME}
        keys.update(extra or {})
        return "redis:\n" + "".join("  %s: %s\n" % kv for kv in keys.items())

    def primary(self, sentinel=None):
        """The primary's port as a sentinel names it."""
        port = sentinel or self.sentinel_ports[0]
        host, p = self.client(port).sentinel_get_master_addr_by_name(NAME)
        return int(p)

    def role(self, port):
        return self.client(port).execute_command("ROLE")[0]

    def settled(self, port):
        """Every sentinel names <port>, which says it is master."""
        return (all(self.primary(s) == port for s in self.sentinel_ports)
                and self.role(port) in (b"master", "master"))

    def failover(self, timeout=30):
        """SENTINEL FAILOVER; the new primary's port once settled."""
        old = self.primary()
        self.client(self.sentinel_ports[0]).execute_command(
            "SENTINEL FAILOVER", NAME)
        new = self.port2 if old == self.port1 else self.port1
        wait_until(lambda: self.settled(new), timeout, "the failover")
        return new

    def replica_of(self, port):
        """The other server (the replica once settled)."""
        return self.port2 if port == self.port1 else self.port1

    def stop(self):
        for proc in list(self.procs.values()) + self.redis_procs:
            stop(proc)


def rewrite_redis(cfg, section):
    """Replace the redis: section write_config() wrote in <cfg>."""
    text = cfg.read_text()
    start = text.index("redis:\n")
    end = text.index("\n", text.index("address:", start)) + 1
    cfg.write_text(text[:start] + section + text[end:])
