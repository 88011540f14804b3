#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks the journal fleet of tests/crosshost (runs on the host): what b's systemd-journal-remote
kept of both guests' journals, and the one conversation journalctl found there, against the
recordings and the packets.

  journal_check.py TCPTIMELINE DIR

  DIR/a: a.tcpcap a.pcap clients.jsonl a.tcptimeline.err a.machine-id a.boot-id
  DIR/b: b.tcpcap b.tcptimeline.err b.machine-id b.boot-id journal-remote/ journal-conversation.json

Prints a fixed number of "ok - ..." / "not ok - ..." lines (CHECKS), then exits 0 or 1.
"""
import json
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside check.py
from check import packets  # noqa: E402

CHECKS = 3
# tcptimeline's MESSAGE_ID of an entry per connection side (tools/output/journal.c)
CONN_ID = "1428a57838af4f778f2ad51a38079433"
# who sent what to b's journal-remote: its --split-mode=host file is named after the sender
HOSTS = {"a": "10.254.0.1", "b": "10.254.0.2"}


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def sent(d, host):
    """The entries host's recorder says it sent (its stderr: "--journal: N entries, ...")."""
    m = re.search(r"--journal: (\d+) entries", read("%s/%s/%s.tcptimeline.err" % (d, host, host)))
    return int(m[1]) if m else None


def remote_kept(d):
    """Each host's file in b's journal-remote folder holds all its recorder sent, and only its."""
    ok = True
    ids = {}
    for host, addr in HOSTS.items():
        path = "%s/b/journal-remote/remote-%s.journal" % (d, addr)
        run = subprocess.run(["journalctl", "--file=" + path, "-o", "json", "MESSAGE_ID=" + CONN_ID],
                             capture_output=True, text=True)
        entries = json_lines(run.stdout) if run.returncode == 0 else []
        want = {"_HOSTNAME": host,
                "_MACHINE_ID": read("%s/%s/%s.machine-id" % (d, host, host)).strip(),
                "_BOOT_ID": read("%s/%s/%s.boot-id" % (d, host, host)).strip().replace("-", "")}
        ids[host] = want["_MACHINE_ID"]
        wrong = [e for e in entries if any(e.get(k) != v for k, v in want.items())]
        n = sent(d, host)
        print("# %s: %s entries sent, %d in %s (journalctl exit %d)%s"
              % (host, "no count of" if n is None else n, len(entries), os.path.basename(path), run.returncode,
                 ", %d not %s" % (len(wrong), json.dumps(want)) if wrong else ""))
        if not (n and len(entries) == n and not wrong and all(want.values())):
            ok = False
    return ok and ids["a"] != ids["b"]


def conversation(d):
    """journalctl's answer on b: exactly a's client side and b's server side of one of a's
    conversations, or None."""
    entries = json_lines(read(d + "/b/journal-conversation.json"))
    clients = json_lines(read(d + "/a/clients.jsonl"))
    cl = [e for e in entries if e.get("_HOSTNAME") == "a" and e.get("TCPSTATES_ROLE") == "client"]
    sv = [e for e in entries if e.get("_HOSTNAME") == "b" and e.get("TCPSTATES_ROLE") == "server"]
    print("# journalctl on b: %d entries: %s" % (len(entries), ", ".join(
        "%s %s %s:%s -> %s:%s cookie %s" % (e.get("_HOSTNAME"), e.get("TCPSTATES_ROLE"),
                                           e.get("TCPSTATES_LADDR"), e.get("TCPSTATES_LPORT"),
                                           e.get("TCPSTATES_RADDR"), e.get("TCPSTATES_RPORT"),
                                           e.get("TCPSTATES_COOKIE")) for e in entries)))
    if len(entries) != 2 or len(cl) != 1 or len(sv) != 1:
        return None
    c, s = cl[0], sv[0]
    mirrored = all(c.get("TCPSTATES_" + x) == s.get("TCPSTATES_" + y) for x, y in
                   (("LADDR", "RADDR"), ("LPORT", "RPORT"), ("RADDR", "LADDR"), ("RPORT", "LPORT")))
    ours = (c.get("TCPSTATES_LADDR"), c.get("TCPSTATES_RADDR")) == (HOSTS["a"], HOSTS["b"]) and \
        any((str(x["lport"]), str(x["rport"])) == (c.get("TCPSTATES_LPORT"), c.get("TCPSTATES_RPORT"))
            for x in clients)
    same = all(e.get("SYSLOG_IDENTIFIER") == "tcptimeline" and e.get("MESSAGE_ID") == CONN_ID
               for e in (c, s))
    return (c, s) if mirrored and ours and same else None


def agrees(tt, d, pair):
    """The entries' cookies are the sides' in the captures (which the merge pairs), their ISNs
    cross and are the SYN's and SYN-ACK's on a's wire."""
    if not pair:
        return False
    c, s = pair
    run = subprocess.run([tt, "-r", d + "/a/a.tcpcap", "-r", d + "/b/b.tcpcap", "--json"],
                         capture_output=True, text=True)
    sides = [x for x in json_lines(run.stdout) if "cookie" in x]
    lport, rport = int(c["TCPSTATES_LPORT"]), int(c["TCPSTATES_RPORT"])
    rc = [x for x in sides if x.get("host") == "a" and x["role"] == "client"
          and (x["lport"], x["rport"]) == (lport, rport)]
    rs = [x for x in sides if x.get("host") == "b" and x["role"] == "server"
          and (x["lport"], x["rport"]) == (rport, lport)]
    pk, _ = packets(d + "/a/a.pcap")
    syn = pk.get((HOSTS["a"], lport, HOSTS["b"], rport), {}).get("syn")
    synack = pk.get((HOSTS["b"], rport, HOSTS["a"], lport), {}).get("syn")
    got = {k: (c.get("TCPSTATES_" + k), s.get("TCPSTATES_" + k))
           for k in ("COOKIE", "ISN_LOCAL", "ISN_REMOTE")}
    print("# port %d -> %d: journal cookies %s, captures %s; ISNs client %s/%s server %s/%s,"
          " wire SYN %s SYN-ACK %s" % (lport, rport, got["COOKIE"],
                                      (rc[0]["cookie"], rs[0]["cookie"]) if rc and rs else None,
                                      got["ISN_LOCAL"][0], got["ISN_REMOTE"][0],
                                      got["ISN_LOCAL"][1], got["ISN_REMOTE"][1], syn, synack))
    if len(rc) != 1 or len(rs) != 1 or rc[0].get("peer_cookie") != rs[0]["cookie"] or syn is None \
            or synack is None:
        return False
    return got == {"COOKIE": (str(rc[0]["cookie"]), str(rs[0]["cookie"])),
                   "ISN_LOCAL": (str(syn), str(synack)),
                   "ISN_REMOTE": (str(synack), str(syn))}


def main():
    tt, d = sys.argv[1], sys.argv[2]
    results = []

    def check(ok, what):
        results.append(("ok" if ok else "not ok") + " - " + what)

    check(remote_kept(d), "b's systemd-journal-remote kept each guest's journal in a file of its own"
          " (remote-10.254.0.1, remote-10.254.0.2), with every entry its recorder sent,"
          " each with that guest's _HOSTNAME, machine id and boot id")
    pair = conversation(d)
    check(pair is not None, "journalctl -D on b, one conversation by its ports from both sides:"
          " exactly a's client entry (_HOSTNAME a) and b's server entry (_HOSTNAME b), mirrored")
    check(agrees(tt, d, pair), "their cookies are the sides' in a.tcpcap and b.tcpcap, their ISNs"
          " cross and equal the SYN and SYN-ACK on the wire (tcpdump -S on a)")
    for r in results:
        print(r)
    assert len(results) == CHECKS
    return 0 if all(r.startswith("ok") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
