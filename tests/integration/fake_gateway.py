#!/usr/bin/python3
"""A stand-in for `postern serve` that writes what a sanitizer build
writes when it finds something, for test_launcher.py.

usage: fake_gateway.py KIND
  clean        says "ready", and "terminated" on SIGTERM, exit 0
  leak         the same, then a LeakSanitizer report on stderr at exit (as
               LeakSanitizer reports only when the process exits), exit 23
  asan         an AddressSanitizer report on stderr at once, exit 1
  ubsan        an UndefinedBehaviorSanitizer runtime error on stderr, then
               runs on as a UBSan build does, until SIGTERM
  stdout-asan  the AddressSanitizer report on stdout instead
"""
import os
import signal
import sys
import time

PID = os.getpid()

ASAN = """\
=================================================================
==%(pid)d==ERROR: AddressSanitizer: heap-use-after-free on address \
0x602000000010 at pc 0x55d0c0a1b2c3 bp 0x7ffd0 sp 0x7ffc8
READ of size 1 at 0x602000000010 thread T0
    #0 0x55d0c0a1b2c3 in conn_read gateway/conn.c:120:9
    #1 0x55d0c0a1b400 in worker_loop gateway/worker.c:301:5
SUMMARY: AddressSanitizer: heap-use-after-free gateway/conn.c:120:9 in \
conn_read
==%(pid)d==ABORTING
""" % {"pid": PID}

LEAK = """\

=================================================================
==%(pid)d==ERROR: LeakSanitizer: detected memory leaks

Direct leak of 64 byte(s) in 1 object(s) allocated from:
    #0 0x55d0c0a00000 in malloc
    #1 0x55d0c0a1c000 in config_load gateway/config.c:994:12

SUMMARY: AddressSanitizer: 64 byte(s) leaked in 1 allocation(s).
""" % {"pid": PID}

UBSAN = """\
gateway/chunked.c:88:17: runtime error: signed integer overflow: \
2147483647 + 1 cannot be represented in type 'int'
SUMMARY: UndefinedBehaviorSanitizer: undefined-behavior \
gateway/chunked.c:88:17 in
"""


def main(kind):
    def on_term(signum, frame):
        print("terminated", flush=True)
        if kind == "leak":
            sys.stderr.write(LEAK)
            sys.stderr.flush()
            os._exit(23)
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    if kind == "asan":
        sys.stderr.write(ASAN)
        sys.stderr.flush()
        os._exit(1)
    if kind == "stdout-asan":
        sys.stdout.write(ASAN)
        sys.stdout.flush()
        os._exit(1)
    if kind == "ubsan":
        sys.stderr.write(UBSAN)
        sys.stderr.flush()
    print("ready", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main(sys.argv[1])
