#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""journal_check.py TRUTH JOURNAL - journalctl -o json entries against traffic.py's truth.

For each socket traffic.py made, the entry whose TCPSTATES_COOKIE is its SO_COOKIE must exist,
once, with its addresses, ports, process, role, bytes and close kind; the two sides of the
exchange must carry each other's ISNs (client ISN_LOCAL = server ISN_REMOTE and back); MESSAGE
is a --brief row naming both ports and the close kind, and last this host's name. Prints why on failure, exits 1.
"""
import json
import socket
import sys

FIELDS = ("laddr", "lport", "raddr", "rport", "pid", "role", "tx_bytes", "rx_bytes", "close")


def main():
    with open(sys.argv[1]) as f:
        truth = json.load(f)
    with open(sys.argv[2]) as f:
        entries = [json.loads(line) for line in f if line.strip()]
    bad, found = [], []
    for t in truth:
        mine = [e for e in entries if e.get("TCPSTATES_COOKIE") == str(t["cookie"])]
        if len(mine) != 1:
            bad.append("cookie %d: %d entries" % (t["cookie"], len(mine)))
            continue
        e = mine[0]
        found.append(e)
        for k in FIELDS:
            if k in t and e.get("TCPSTATES_" + k.upper()) != str(t[k]):
                bad.append("cookie %d: TCPSTATES_%s=%s, the socket says %s" %
                           (t["cookie"], k.upper(), e.get("TCPSTATES_" + k.upper()), t[k]))
        # the --brief row: ... close kind, reason, and last the host's name
        words = e.get("MESSAGE", "").split()
        want = [str(t["rport"]), t["close"]] + ([str(t["lport"])] if "lport" in t else [])
        if not all(w in words for w in want) or words[-1] != socket.gethostname():
            bad.append("cookie %d: MESSAGE %r" % (t["cookie"], e.get("MESSAGE")))
    if len(found) >= 2:
        c, s = found[0], found[1]
        if not (c.get("TCPSTATES_ISN_LOCAL") and
                c.get("TCPSTATES_ISN_LOCAL") == s.get("TCPSTATES_ISN_REMOTE") and
                c.get("TCPSTATES_ISN_REMOTE") == s.get("TCPSTATES_ISN_LOCAL")):
            bad.append("ISNs do not cross: client %s/%s server %s/%s" % (
                c.get("TCPSTATES_ISN_LOCAL"), c.get("TCPSTATES_ISN_REMOTE"),
                s.get("TCPSTATES_ISN_LOCAL"), s.get("TCPSTATES_ISN_REMOTE")))
    for b in bad:
        print("# " + b)
    sys.exit(1 if bad else 0)


main()
