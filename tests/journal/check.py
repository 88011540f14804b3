#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""check.py WHAT ENTRIES JSON BRIEF - the journal entries against the tool's other outputs.

ENTRIES: capture.py's output; JSON: --json of the same input; BRIEF: its --brief.
WHAT: count (an entry per side), fields (every non-null JSON field as TCPSTATES_<NAME>, no
null one, the states in order), message (MESSAGE is the side's --brief row), constant
(PRIORITY, SYSLOG_IDENTIFIER, MESSAGE_ID). Prints why on failure, exits 1.
"""
import json
import sys

CONN_ID = "1428a57838af4f778f2ad51a38079433"


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def main():
    what, entries, sides = sys.argv[1], load(sys.argv[2]), load(sys.argv[3])
    with open(sys.argv[4]) as f:
        rows = [" ".join(line.split()) for line in f.read().splitlines()[1:]]
    conns = [e for e in entries if e.get("MESSAGE_ID") == CONN_ID]
    bad = []
    if what == "count":
        if len(conns) != len(sides) or len(entries) != len(sides):
            bad.append("%d entries (%d sides), want %d" % (len(entries), len(conns), len(sides)))
    for i, (e, s) in enumerate(zip(conns, sides)):
        if what == "fields":
            for k, v in s.items():
                key = "TCPSTATES_" + k.upper()
                if k == "states":
                    got = [p.split(":")[0] for p in e.get(key, "").split(";")]
                    want = [p["state"] for p in v]
                    if got != want:
                        bad.append("side %d: %s %s, want %s" % (i, key, got, want))
                elif v is None and key in e:
                    bad.append("side %d: %s=%s, JSON null" % (i, key, e[key]))
                elif v is not None and e.get(key) != value(v):
                    bad.append("side %d: %s=%s, JSON %s" % (i, key, e.get(key), value(v)))
            extra = [k for k in e if k.startswith("TCPSTATES_") and k[10:].lower() not in s]
            if extra:
                bad.append("side %d: fields JSON does not have: %s" % (i, extra))
        elif what == "message":
            if " ".join(e["MESSAGE"].split()) != rows[i]:
                bad.append("side %d: MESSAGE %r, --brief %r" % (i, e["MESSAGE"], rows[i]))
        elif what == "constant":
            if (e.get("PRIORITY"), e.get("SYSLOG_IDENTIFIER")) != ("6", "tcptimeline"):
                bad.append("side %d: PRIORITY %s SYSLOG_IDENTIFIER %s" %
                           (i, e.get("PRIORITY"), e.get("SYSLOG_IDENTIFIER")))
    if what in ("fields", "message", "constant") and not conns:
        bad.append("no entries")
    for b in bad[:5]:
        print("# " + b)
    sys.exit(1 if bad else 0)


main()
