"""Helpers shared by the long benches (soak.py, redis_ceiling.py): an nginx
upstream, wrk runs through mix.lua and their parsed output, and what /proc
says about a process.  Standard library only.
"""
import os
import re
import shutil
import subprocess

from gwproc import free_port, wait_port

MIX_LUA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mix.lua")


def nginx_upstream(d):
    """An nginx (one worker) on a free loopback port under <d>/upstream that
    answers every request 200 with the X-Postern-Email it received (the
    identity the gateway forwarded) as its body; (Popen, port)."""
    port = free_port()
    w = os.path.join(d, "upstream")
    os.makedirs(os.path.join(w, "logs"), exist_ok=True)
    conf = os.path.join(w, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""worker_processes 1;
pid %(w)s/nginx.pid;
daemon off;
error_log %(w)s/logs/error.log crit;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path %(w)s/body;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:%(port)d;
		location / { default_type text/plain;
		    return 200 "$http_x_postern_email\\n"; }
	}
}
""" % {"w": w, "port": port})
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    p = subprocess.Popen([nginx, "-p", w, "-c", conf],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, p)
    return p, port


def write_mix(path, lines):
    """mix.lua's request file: one "PATH<TAB>Header: value<TAB>..." a
    line, from (path, {header: value}) pairs."""
    with open(path, "w") as f:
        for p, headers in lines:
            f.write("\t".join([p] + ["%s: %s" % kv for kv in
                                     headers.items()]) + "\n")


def wrk(url, mixfile, seconds, conns, delay_ms, threads=1):
    """Start wrk on <url> with mix.lua (requests from <mixfile>, each
    connection pausing <delay_ms> after each answer); the Popen, its
    output on stdout."""
    return subprocess.Popen(
        ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds,
         "--timeout", "2s", "--latency", "-s", MIX_LUA, url, "--",
         mixfile, "%d" % delay_ms],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _ms(v):
    n, u = re.match(r"([\d.]+)(us|ms|s)$", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000}[u]


def parse_wrk(out):
    """wrk's text -> {requests, seconds, rps, p50, p99 (ms), non2xx,
    socket (connect+read+write+timeout errors)}."""
    try:
        n, v, u = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)\b",
                            out).groups()
        p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
        p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    except AttributeError:
        raise RuntimeError("could not read wrk's output:\n" + out)
    secs = float(v) * {"ms": 0.001, "s": 1, "m": 60}[u]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write "
                     r"(\d+), timeout (\d+)", out)
    return {"requests": int(n), "seconds": secs, "rps": int(n) / secs,
            "p50": p50, "p99": p99,
            "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket": sum(map(int, sock.groups())) if sock else 0}


def rss_kib(pid):
    """VmRSS of <pid>, KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid):
    """Open file descriptors of <pid>."""
    return len(os.listdir("/proc/%d/fd" % pid))


def cpu_us(pid):
    """User+system CPU of process <pid> (all its threads), microseconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) * 1e6 / tick


def slope(xs, ys):
    """Least-squares slope of <ys> over <xs> (0 with fewer than 2)."""
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx


def pct(v, q):
    """The <q> percentile of <v> (nearest rank); 0 for none."""
    if not v:
        return 0.0
    v = sorted(v)
    return v[max(0, -(-q * len(v) // 100) - 1)]
