#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""One QMP command over a unix socket, for the shell tests.

usage: qmp.py SOCKET COMMAND [ARGUMENTS_JSON] [--get KEY]

Prints the command's "return" as JSON (or, with --get, the value of one
of its keys, strings bare) and exits 0; on a QMP error prints its
description to stderr and exits 1.  Waits up to 30 s for the socket.
HMP commands go through human-monitor-command.
"""
import json
import socket
import sys
import time


def connect(path):
    for _ in range(300):
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            time.sleep(0.1)
    sys.exit("qmp.py: no QMP server at %s" % path)


def call(f, cmd, args=None):
    msg = {"execute": cmd}
    if args:
        msg["arguments"] = args
    f.write(json.dumps(msg) + "\n")
    f.flush()
    while True:
        line = f.readline()
        if not line:
            sys.exit("qmp.py: QEMU closed the connection")
        r = json.loads(line)
        if "event" not in r:
            return r


def main():
    argv = sys.argv[1:]
    key = None
    if "--get" in argv:
        i = argv.index("--get")
        key = argv[i + 1]
        del argv[i:i + 2]
    if len(argv) not in (2, 3):
        sys.exit(__doc__)
    f = connect(argv[0]).makefile("rw")
    f.readline()  # the greeting
    call(f, "qmp_capabilities")
    r = call(f, argv[1], json.loads(argv[2]) if len(argv) == 3 else None)
    if "error" in r:
        print(r["error"].get("desc", r["error"]), file=sys.stderr)
        return 1
    v = r["return"]
    if key is not None:
        v = v[key]
    print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
