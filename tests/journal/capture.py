#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""capture.py OUT CMD... - what CMD sends to journald, as journald receives it.

Run in a private mount namespace with a tmpfs on /run (tests/journal/run.sh): binds
/run/systemd/journal/socket, the datagram socket libsystemd's sd_journal_sendv() writes to,
runs CMD, and writes each datagram it received, decoded from journald's native protocol
(KEY=value lines; a value with a newline as KEY, a little-endian 64-bit length and the
bytes), as one JSON object per line to OUT. CMD's exit status is this script's.
The real journald reads the same bytes in the systemd guest (tests/systemd/).
"""
import json
import os
import socket
import struct
import subprocess
import sys


def decode(data):
    entry = {}
    i = 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            i = nl + 1
        else:
            k = line
            (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            v = data[nl + 9:nl + 9 + n]
            if data[nl + 9 + n:nl + 10 + n] != b"\n":
                raise ValueError("binary field %r not followed by a newline" % k)
            i = nl + 10 + n
        entry.setdefault(k.decode(), v.decode("utf-8", "backslashreplace"))
    return entry


def main():
    out, cmd = sys.argv[1], sys.argv[2:]
    os.makedirs("/run/systemd/journal", exist_ok=True)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("/run/systemd/journal/socket")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.settimeout(0.2)
    proc = subprocess.Popen(cmd)
    entries = []
    while True:
        try:
            data, anc, _, _ = s.recvmsg(1 << 20, 4096)
        except socket.timeout:
            if proc.poll() is not None:
                break
            continue
        if anc:
            raise SystemExit("capture.py: an entry passed as a file descriptor (too big?)")
        entries.append(decode(data))
    with open(out, "w") as f:
        for e in entries:
            f.write(json.dumps(e, sort_keys=True) + "\n")
    sys.exit(proc.returncode)


main()
