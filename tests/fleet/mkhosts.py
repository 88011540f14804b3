#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Makes the captures of two hosts from one golden /proc text (offline tests).

  mkhosts.py TCPTIMELINE CASE.txt PORT OUTDIR

The records of the server side (local port PORT, the listener, the request
socket) go to host "srv", the others to host "cli", as if each host had its
own tcpstates (its name in the capture's header): ring sequence numbers from 0 on each, the server's monotonic
clock DELTA later than the client's, its wall clock SKEW ahead (the residual
the merge must find within its bounds), each capture with its own boot id.
Writes OUTDIR/cli.tcpcap and OUTDIR/srv.tcpcap.
"""
import os
import struct
import subprocess
import sys

DELTA = 1000 * 10**9          # the server booted 1000 s before the client
SKEW = 3 * 10**6              # its wall clock is 3 ms ahead
REALTIME = 1_780_000_000 * 10**9  # the client's CLOCK_REALTIME - CLOCK_MONOTONIC


def main():
    tt, case, port, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    header, recs = None, []
    for line in open(case):
        if line.startswith("#") or not line.strip():
            continue
        if line.startswith("SEQ "):
            header = line
            continue
        recs.append(line.split())
    cols = header.split()
    c = {n: i for i, n in enumerate(cols)}
    server = set()
    for r in recs:
        if r[c["LPORT"]] == port or r[c["EVENT"]] == "listen":
            server.add(r[c["COOKIE"]])
    hosts = {"cli": [], "srv": []}
    for r in recs:
        hosts["srv" if r[c["COOKIE"]] in server else "cli"].append(r)
    for i, (name, rs) in enumerate(sorted(hosts.items())):
        shift = DELTA if name == "srv" else 0
        txt = os.path.join(out, name + ".txt")
        with open(txt, "w") as f:
            f.write(header)
            for seq, r in enumerate(rs):
                r = list(r)
                r[c["SEQ"]] = str(seq)
                r[c["TIME_NS"]] = str(int(r[c["TIME_NS"]]) + shift)
                f.write(" ".join(r) + "\n")
        cap = os.path.join(out, name + ".tcpcap")
        subprocess.run([tt, "-T", txt, "-w", cap, "--hostname", name],
                       check=True)
        with open(cap, "r+b") as f:
            h = bytearray(f.read(64))
            rt = REALTIME - shift + (SKEW if name == "srv" else 0)
            struct.pack_into("<q", h, 24, rt)
            h[40:56] = bytes([0x10 + i] * 16)
            f.seek(0)
            f.write(h)


if __name__ == "__main__":
    main()
