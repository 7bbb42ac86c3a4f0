#!/usr/bin/python3
"""What one Redis primary carries: the gateway's p99 against Redis' load.

usage: redis_ceiling.py [--steps R,R,...] [--seconds S] [--conns C]
                        POSTERN_BIN

capacity.py's processes (one Redis, gateways A and B of one worker each,
reached over plain HTTP as the trusted proxy that ended TLS), with the
session cache off on both (sessions.cache_size: 0: every signed-in request
is a miss) and an nginx upstream.  The load is the Redis-heavy mix, in
turn: a signed-in request (8 sessions), a public route with a per-IP
rate-limit class, an API key request (8 keys) -- one wrk per gateway
(tests/bench/mix.lua, C connections each, 32), stepped through the offered
rates R (requests per second in all; 0: as fast as wrk goes), S seconds
each (8), the whole ladder N times (--reps, 3; interleaved, as the
machine's speed drifts), each step's figures the median of its runs.  Sign-ins are left out: argon2id makes them gateway-bound (31 ms
of gateway CPU against under 1 ms of Redis', docs/scaling.md).

Per step: the requests per second served, non-2xx answers and connection
errors, the gateways' p99 (the worse of the two wrk runs), Redis' calls per
second (INFO commandstats, the commands inside scripts included: what
total_commands_processed and instantaneous_ops_per_sec count too), Redis'
CPU (% of one core) and the gateways' (in all).  Then the knee: the first step whose
p99 is at least twice the best of the steps below it (the lowest step's,
unless a hiccup made that one worse), and Redis' calls/s there; and the
costs that extrapolate it to a Redis core of its own: Redis CPU per call and
per request, gateway CPU per request, hence calls/s per Redis core and how
many gateway cores one Redis core serves.  Not a test: numbers for
docs/scaling.md.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import redis as redislib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "integration"))
sys.path.insert(0, os.path.dirname(__file__))
from benchproc import (cpu_us, nginx_upstream, parse_wrk,  # noqa: E402
                       wrk, write_mix)
from capacity import CapBench  # noqa: E402

STEPS = "500,1000,2000,3000,4000,6000,8000,0"
SESSIONS = 8


class CeilingBench(CapBench):
    """capacity.py's gateways, both without the session cache."""

    def gateway(self, name, upstream, rport):
        cfg = super().gateway(name, upstream, rport)
        if name != "b":         # B has it off already
            with open(cfg, "a") as f:
                f.write("sessions:\n  cache_size: 0\n")
        return cfg


def redis_counts(rc):
    """(calls, CPU seconds) of Redis so far, our own INFO calls left
    out."""
    info = rc.info("all")
    calls = sum(v["calls"] for k, v in info.items()
                if k.startswith("cmdstat_") and k[8:] != "info")
    return calls, info["used_cpu_user"] + info["used_cpu_sys"]


def step(bench, rc, mix, rate, seconds, conns):
    """One offered rate; its row."""
    ports = [bench.ports[n]["http"] for n in ("a", "b")]
    pids = [bench.a.proc.pid, bench.b.proc.pid]
    per = rate / 2
    delay = int(conns * 1000 / per) if rate else 0
    r0, g0, t0 = redis_counts(rc), sum(map(cpu_us, pids)), time.monotonic()
    runs = [wrk("http://127.0.0.1:%d/" % p, mix, seconds, conns, delay)
            for p in ports]
    outs = [parse_wrk(w.communicate()[0]) for w in runs]
    r1, g1, t1 = redis_counts(rc), sum(map(cpu_us, pids)), time.monotonic()
    el = t1 - t0
    n = sum(o["requests"] for o in outs)
    return {
        "offered": rate, "rps": sum(o["rps"] for o in outs),
        "requests": n,
        "p99": max(o["p99"] for o in outs),
        "p50": max(o["p50"] for o in outs),
        "errors": sum(o["non2xx"] + o["socket"] for o in outs),
        "calls": r1[0] - r0[0], "calls_s": (r1[0] - r0[0]) / el,
        "redis_cpu": r1[1] - r0[1], "redis_pct": (r1[1] - r0[1]) / el * 100,
        "gw_cpu": (g1 - g0) / 1e6, "gw_pct": (g1 - g0) / 1e6 / el * 100,
    }


def merge(runs):
    """The repetitions of one step as one row: the median of the rates
    and latencies, the sums of the counts."""
    row = dict(runs[0])
    for k in ("rps", "p50", "p99", "calls_s", "redis_pct", "gw_pct"):
        row[k] = statistics.median(r[k] for r in runs)
    for k in ("requests", "errors", "calls", "redis_cpu", "gw_cpu"):
        row[k] = sum(r[k] for r in runs)
    return row


def report(rows):
    print("%8s %8s %7s %7s %7s %10s %8s %8s %8s" % (
        "offered", "req/s", "errors", "p50 ms", "p99 ms", "calls/s",
        "redis %", "us/call", "gw %"))
    for r in rows:
        print("%8s %8.0f %7d %7.2f %7.2f %10.0f %8.1f %8.2f %8.1f" % (
            r["offered"] or "max", r["rps"], r["errors"], r["p50"], r["p99"],
            r["calls_s"], r["redis_pct"],
            r["redis_cpu"] / r["calls"] * 1e6 if r["calls"] else 0,
            r["gw_pct"]))
    # the quietest step below: the lowest one's p99, unless a hiccup made
    # that one worse than a later step's
    knee = next((r for i, r in enumerate(rows) if i and r["p99"] >= 2 * min(
        x["p99"] for x in rows[:i])), None)
    if knee is None:
        print("knee: none -- p99 stayed under twice the best of the steps "
              "below up to %.0f Redis calls/s" % max(
                  r["calls_s"] for r in rows))
    else:
        i = rows.index(knee)
        base = min(x["p99"] for x in rows[:i])
        below = rows[i - 1]
        print("knee: p99 %.2f ms at %.0f Redis calls/s (%.0f req/s, Redis "
              "at %.0f%% of a core), against %.2f ms at the best step below; "
              "the "
              "step below carried %.0f calls/s (%.0f req/s) at p99 %.2f ms"
              % (knee["p99"], knee["calls_s"], knee["rps"],
                 knee["redis_pct"], base, below["calls_s"], below["rps"],
                 below["p99"]))
    calls = sum(r["calls"] for r in rows)
    n = sum(r["requests"] for r in rows)
    rcpu = sum(r["redis_cpu"] for r in rows)
    gcpu = sum(r["gw_cpu"] for r in rows)
    if not (calls and n and rcpu):
        return
    print("over all steps: %.2f calls per request; Redis %.2f us per call, "
          "%.1f us per request; gateway %.1f us per request" % (
              calls / n, rcpu / calls * 1e6, rcpu / n * 1e6, gcpu / n * 1e6))
    print("so one Redis core: ~%.0f calls/s, ~%.0f requests/s of this mix, "
          "which keep ~%.1f gateway cores busy" % (
              calls / rcpu, n / rcpu, gcpu / rcpu))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", default=STEPS)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("binary")
    args = ap.parse_args()
    steps = [int(x) for x in args.steps.split(",")]
    d = tempfile.mkdtemp(prefix="postern-ceiling-")
    bench = CeilingBench(os.path.abspath(args.binary), d)
    up = None
    rows = []
    try:
        up, uport = nginx_upstream(d)
        bench.start("http://127.0.0.1:%d" % uport)
        rport = int(re.search(r"127\.0\.0\.1:(\d+)", open(os.path.join(
            d, "a", "postern.yaml")).read().split("redis:")[1]).group(1))
        rc = redislib.Redis(host="127.0.0.1", port=rport)
        bench.cli("org", "add", "bench")
        cfg = os.path.join(d, "a", "postern.yaml")
        lines = []
        xfp = {"X-Forwarded-Proto": "https"}
        for i in range(SESSIONS):
            cookie = bench.sign_in()[1]
            key = subprocess.run(
                [bench.bin, "apikey", "create", "-c", cfg, "--org", "bench",
                 "--scope", "bench:read", "--rate", "100000"],
                capture_output=True, text=True, check=True).stdout.strip()
            lines += [
                ("/x/%d" % i, dict(xfp, Cookie="__Host-postern=" + cookie)),
                ("/rl/%d" % i, xfp),
                ("/api/%d" % i, dict(xfp, Authorization="Bearer " + key))]
        mix = os.path.join(d, "mix.txt")
        write_mix(mix, lines)
        print("redis ceiling: 2 gateways x 1 worker, session cache off; "
              "mix: signed-in (miss), rate-limited route, API key; wrk 2 x "
              "%d connections, %d s a step; %d cores shared by Redis, the "
              "gateways, nginx and wrk; load before: %s" % (
                  args.conns, args.seconds, os.cpu_count(),
                  open("/proc/loadavg").read().strip()), flush=True)
        step(bench, rc, mix, 500, 2, args.conns)        # warm
        runs = {rate: [] for rate in steps}
        for _ in range(args.reps):
            for rate in steps:
                r = step(bench, rc, mix, rate, args.seconds, args.conns)
                runs[rate].append(r)
                print("  step %s: %.0f req/s, p99 %.2f ms" % (
                    rate or "max", r["rps"], r["p99"]), flush=True)
                time.sleep(1)
        rows = [merge(runs[rate]) for rate in steps]
        print("load after: %s" % open("/proc/loadavg").read().strip())
    finally:
        bench.close()
        if up is not None:
            up.terminate()
            up.wait()
        shutil.rmtree(d, ignore_errors=True)
    report(rows)
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
