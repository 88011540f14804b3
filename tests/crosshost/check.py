#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks the cross-host merge of tests/crosshost against the packets (runs on the host).

  check.py TCPTIMELINE DIR     DIR/a: a.tcpcap a.pcap clients.jsonl, DIR/b: b.tcpcap

Prints a fixed number of "ok - ..." / "not ok - ..." lines (CHECKS), then exits 0 or 1.
"""
import json
import re
import subprocess
import sys

CHECKS = 7
CLOSES = {7301: ("active", "passive"), 7302: ("passive", "active")}
# The hooks whose records carry a FIN: FIN_WAIT1, LAST_ACK and CLOSE_WAIT come from set_state,
# TIME_WAIT (its RCV_NXT, the peer's FIN + 1) from time_wait.
FIN_HOOKS = ("set_state", "time_wait")
# The handshake's four moments, (side, state, the hooks whose record enters that state): the
# client's SYN_SENT (connect, or set_state where connect is inactive), the server's request
# (NEW_SYN_RECV, from request), the client's ESTABLISHED (set_state) and the server child's
# (child_v4/child_v6 make it SYN_RECV, set_state ESTABLISHED).
HANDSHAKE = (("a", "SYN_SENT", ("connect", "set_state")),
             ("b", "NEW_SYN_RECV", ("request",)),
             ("a", "ESTABLISHED", ("set_state",)),
             ("b", "ESTABLISHED", ("set_state", "child_v4", "child_v6")))
# The most probe hits a guest's module may miss before the run fails (as tests/scenarios/check.py).
MISS_BOUND = 4


def packets(pcap):
    """(src, sport, dst, dport) -> {"syn": seq, "fin": seq} from tcpdump -S."""
    out = subprocess.run(["tcpdump", "-n", "-S", "-tt", "-r", pcap],
                         capture_output=True, text=True).stdout
    pk = {}
    rx = re.compile(r"IP (\S+)\.(\d+) > (\S+)\.(\d+): Flags \[([^\]]*)\], seq (\d+)(?::(\d+))?")
    for line in out.splitlines():
        m = rx.search(line)
        if not m:
            continue
        key = (m[1], int(m[2]), m[3], int(m[4]))
        flags, seq, end = m[5], int(m[6]), m[7]
        d = pk.setdefault(key, {})
        if "S" in flags:
            d.setdefault("syn", seq)
        if "F" in flags:
            d.setdefault("fin", int(end) if end else seq)
    return pk, out


def missed(d):
    """Probe hits each guest's module counted as missed (kprobe nmissed): {host: {hook: n}}."""
    n = {}
    for host in ("a", "b"):
        n[host] = {}
        try:
            for line in open("%s/%s/%s.stats" % (d, host, host)):
                k, _, v = line.partition(" ")
                if k.startswith("missed_") and v.strip().isdigit() and int(v):
                    n[host][k[7:]] = int(v)
        except OSError:
            pass
    return n


def excuse(misses, host, n, hooks=FIN_HOOKS):
    """Spend n missed hits of host's FIN hooks on n unknown FINs; False if it has not that many.
    A FIN is unknown honestly only where the guest that should have recorded it counted a
    missed hit of a hook that records it, each hit explaining one value, once."""
    for _ in range(n):
        hook = next((h for h in hooks if misses[host].get(h, 0) > 0), None)
        if hook is None:
            return False
        misses[host][hook] -= 1
    return True


def main():
    tt, d = sys.argv[1], sys.argv[2]
    results = []

    def check(ok, what):
        results.append(("ok" if ok else "not ok") + " - " + what)

    run = subprocess.run([tt, "-r", d + "/a/a.tcpcap", "-r", d + "/b/b.tcpcap", "--json"],
                         capture_output=True, text=True)
    lines = [json.loads(l) for l in run.stdout.splitlines() if l.strip()]
    clock = lines[0].get("clock") if lines else None
    check(run.returncode == 0 and clock is not None,
          "tcptimeline -r a.tcpcap -r b.tcpcap merges two hosts (exit %d)" % run.returncode)
    sides = [l for l in lines if "cookie" in l]
    clients = [json.loads(l) for l in open(d + "/a/clients.jsonl")]
    pk, dump = packets(d + "/a/a.pcap")
    open(d + "/a.pcap.txt", "w").write(dump)

    pairs = []
    for c in clients:
        cl = [s for s in sides if s.get("host") == "a" and s["role"] == "client"
              and s["lport"] == c["lport"] and s["rport"] == c["rport"]]
        sv = [s for s in sides if s.get("host") == "b" and s["role"] == "server"
              and s["rport"] == c["lport"] and s["lport"] == c["rport"]]
        if len(cl) == 1 and len(sv) == 1 and cl[0]["peer_cookie"] == sv[0]["cookie"] \
                and sv[0]["peer_cookie"] == cl[0]["cookie"]:
            pairs.append((c, cl[0], sv[0]))
    check(len(pairs) == len(clients) == 5,
          "each of a's %d clients is paired with its server on b (%d pairs)"
          % (len(clients), len(pairs)))

    isn_ok = fin_ok = close_ok = order_ok = bool(pairs)
    absent = []
    misses = missed(d)
    counted = {h: sum(m.values()) for h, m in misses.items()}
    unknown = []
    still_open = []
    if any(n > MISS_BOUND for n in counted.values()):
        fin_ok = False
        print("# more than %d probe hits missed in a guest: %s" % (MISS_BOUND, misses))
    for c, cl, sv in pairs:
        up = pk.get((cl["laddr"], cl["lport"], cl["raddr"], cl["rport"]), {})
        down = pk.get((cl["raddr"], cl["rport"], cl["laddr"], cl["lport"]), {})
        want = (up.get("syn"), down.get("syn"))
        got = ((cl["isn_local"], cl["isn_remote"]), (sv["isn_remote"], sv["isn_local"]))
        if got[0] != want or got[1] != want:
            isn_ok = False
            print("# port %d: ISNs on the wire %s, recorded client %s server %s"
                  % (cl["lport"], want, got[0], got[1]))
        want = (up.get("fin"), down.get("fin"))
        got = ((cl["fin_seq_local"], cl["fin_seq_remote"]),
               (sv["fin_seq_remote"], sv["fin_seq_local"]))
        if got[0] != want or got[1] != want:
            # A FIN the recording lacks (null) is a record the module did not make; that is
            # honest only if that guest counted a missed hit of its hook. A wrong number never is.
            wrong = any(g is not None and g != w for side in got for g, w in zip(side, want))
            nulls = {"a": got[0].count(None), "b": got[1].count(None)}
            excused = not wrong and all(excuse(misses, h, n) for h, n in nulls.items())
            print("# port %d: FINs on the wire %s, recorded client %s server %s%s"
                  % (cl["lport"], want, got[0], got[1],
                     " (unknown, not wrong: a missed hit of that guest's hook for each)"
                     if excused else ""))
            if excused:
                unknown.append("port %d: %d of a's, %d of b's" % (cl["lport"], nulls["a"], nulls["b"]))
            else:
                fin_ok = False
        if (cl["close"], sv["close"]) != CLOSES[c["rport"]]:
            # A side still "open" whose last transition the module did not record is unknown,
            # not wrong, where that guest counted a missed set_state hit (6.1's kprobe: a
            # CI run's server on b stayed in LAST_ACK with missed_set_state 1, while a's
            # capture shows the final ACK leave and b never sent its FIN again). Any other
            # kind that differs is wrong.
            opened = [(h, got) for h, got, want in zip("ab", (cl["close"], sv["close"]),
                                                        CLOSES[c["rport"]]) if got != want]
            excused = all(got == "open" for _, got in opened) and \
                all(excuse(misses, h, 1, ("set_state",)) for h, _ in opened)
            print("# port %d -> %d: closes %s/%s%s" % (cl["lport"], c["rport"], cl["close"],
                                                       sv["close"],
                                                       " (unknown, not wrong: a missed set_state "
                                                       "hit of that guest)" if excused else ""))
            if excused:
                still_open.append("port %d: %s" % (cl["lport"], ", ".join(h for h, _ in opened)))
            else:
                close_ok = False
        # on one clock: SYN sent < SYN received < SYN-ACK received < ACK received
        # A moment the recording lacks is honest only where that guest counted a missed hit of a
        # hook that records it (as for the FINs); the moments present must still run forward.
        st = lambda s, name: next((x["enter_ns"] for x in s["states"] if x["state"] == name), None)
        seq = [st(cl if host == "a" else sv, name) for host, name, _ in HANDSHAKE]
        present = [t for t in seq if t is not None]
        gaps = [(host, name, hooks) for (host, name, hooks), t in zip(HANDSHAKE, seq) if t is None]
        excused = all(excuse(misses, host, 1, hooks) for host, _, hooks in gaps)
        if present != sorted(present) or not excused:
            order_ok = False
            print("# port %d: handshake out of order on the merged clock: %s" % (cl["lport"], seq))
        elif gaps:
            print("# port %d: handshake %s: %s absent, each a missed hit that guest counted"
                  % (cl["lport"], seq, ", ".join("%s's %s" % (h, n) for h, n, _ in gaps)))
            absent.append("port %d: %s" % (cl["lport"], ", ".join("%s's %s" % (h, n) for h, n, _ in gaps)))
    check(isn_ok, "both ISNs of every pair equal the SYN and SYN-ACK on the wire (tcpdump -S on a)")
    check(fin_ok, "both FIN sequence numbers of every pair equal the FINs on the wire"
          " (or are unknown where that guest counted a missed hit of its hook;"
          " at most %d missed hits a guest)" % MISS_BOUND
          + (" # SKIP unknown: FINs absent, each a counted missed hit (%s)" % "; ".join(unknown)
             if fin_ok and unknown else ""))
    check(close_ok, "close kinds: 7301 client active / server passive, 7302 the other way round"
          + (" # SKIP unknown: a close absent, its set_state hit counted as missed (%s)"
             % "; ".join(still_open) if close_ok and still_open else ""))
    check(order_ok, "on the merged clock every handshake runs forward: SYN < SYN in < SYN-ACK in < ACK in"
          + (" # SKIP unknown: moments absent, each a counted missed hit (%s)" % "; ".join(absent)
             if order_ok and absent else ""))
    if clock:
        print("# clock: %s" % json.dumps(clock))
    check(clock is not None and clock["consistent"] and clock["offset_min_ns"] is not None
          and clock["offset_max_ns"] is not None
          and clock["offset_min_ns"] <= clock["offset_ns"] <= clock["offset_max_ns"]
          and clock["conversations"] >= 5,
          "the clock offset is bounded from both sides and the estimate lies within")
    for r in results:
        print(r)
    assert len(results) == CHECKS
    return 0 if all(r.startswith("ok") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
