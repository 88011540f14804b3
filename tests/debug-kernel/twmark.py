#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""tests/debug-kernel/twmark.py - runs INSIDE the debug guest (twmark.sh starts it): what a
missed timewait hook does to the records.

tw_expire marks the timewait socket whose timer runs on this CPU, and tw_end, in
inet_twsk_kill(), calls its end an expiry if the mark names it, a kill if its expiry time is still
ahead, and nothing (counted as tw_end_unknown) otherwise. Two misses could make that lie:

  1. a stale mark. A TIME_WAIT that expires between the registrations of tw_expire and tw_end
     (or whose tw_end hit the kprobe core skipped) leaves its mark behind. The slab gives the
     next timewait socket allocated on that CPU the same address; if that one is killed, a mark
     that named it by address alone would call its kill an expiry. The mark also holds the
     socket's cookie, which no later socket shares.
  2. no mark. A TIME_WAIT whose tw_expire hit was missed expires unmarked; calling every
     unmarked end a kill would name an expiry a kill. Its expiry time has passed, so the end is
     unknown: no record, counted.

The misses are made on demand: the module's /sys/kernel/debug/tcpstates/drop_hits (module/
fault.c) drops the next hit of a hook as the kprobe core drops a missed one, and counts it in
missed_<hook>. Everything runs on CPU 0 (the caller pins this process; each timewait timer is
pinned to the CPU that armed it), so the mark, the slab's per-CPU free list and the kill all meet
on one CPU. A kprobe event on inet_twsk_kill() is the witness that the killed socket of case 1 had
the very address of the one whose mark was left: only then has the check been put to the test,
and it is tried up to three times for that.

Prints one line per check, "ok NAME", "not ok NAME" or "skip NAME: REASON", and "# " lines; exit
status 0. Needs: the module loaded, this process in a namespace of its own with tcp_tw_reuse 1.
"""
import os
import re
import socket
import struct
import sys
import time

DROP = '/sys/kernel/debug/tcpstates/drop_hits'
TRACE = '/sys/kernel/tracing'
SERVER = ('127.0.0.1', 7140)
TCP_LINGER2 = 8
TCP_FIN_WAIT2 = 5


def say(ok, name, reason=None):
    if reason is not None and ok is None:
        print(f'skip {name}: {reason}', flush=True)
    else:
        print(f'{"ok" if ok else "not ok"} {name}', flush=True)


def stats():
    with open('/proc/tcpstates_stats') as f:
        return {k: v for k, v in (line.split(None, 1) for line in f)}


def counter(name):
    return int(stats()[name])


def records(first, last, lport):
    """The records SEQ first..last-1 of the client side on local port lport."""
    with open('/proc/tcpstates') as f:
        head = f.readline().split()
        out = []
        for line in f:
            r = dict(zip(head, line.split()))
            if first <= int(r['SEQ']) < last and r['LPORT'] == str(lport) and \
                    r['RPORT'] == str(SERVER[1]):
                out.append(r)
    return out


def drop(hook, n):
    with open(DROP, 'w') as f:
        f.write(f'{hook} {n}\n')


def drops_left(hook):
    with open(DROP) as f:
        return int(dict(line.split() for line in f)[hook])


def kills():
    """The timewait sockets inet_twsk_kill() ended since the trace was cleared, in order."""
    with open(f'{TRACE}/trace') as f:
        return re.findall(r'twmark_kill: \(\S+\) tw=(0x[0-9a-f]+)', f.read())


def clear_trace():
    with open(f'{TRACE}/trace', 'w') as f:
        f.write('')


def wait_gone(lport, limit=30):
    """Wait until no socket of this namespace has local port lport (timewait ones included)."""
    hexport = f':{lport:04X} '
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        with open('/proc/net/tcp') as f:
            if not any(hexport in line.split(None, 2)[1] + ' ' for line in f.readlines()[1:]):
                return True
        time.sleep(0.1)
    return False


def tcp_state(s):
    return struct.unpack('B', s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1))[0]


def pair(listener, lport):
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c.bind(('127.0.0.1', lport))
    c.connect(SERVER)
    s, _ = listener.accept()
    return c, s


def half_closed(c):
    """shutdown(SHUT_WR), then wait for the ACK of the FIN: the client in FIN_WAIT2."""
    c.shutdown(socket.SHUT_WR)
    t0 = time.monotonic()
    while tcp_state(c) != TCP_FIN_WAIT2:
        if time.monotonic() - t0 > 10:
            raise RuntimeError(f'port {c.getsockname()[1]}: no FIN_WAIT2 after 10 s')
        time.sleep(0.01)


def short_timewait(listener, lport):
    """A timewait socket that expires in about a second: close() in FIN_WAIT2 with TCP_LINGER2
    1 makes one, in the FIN_WAIT2 substate, armed for tcp_fin_time(). Returns once it is gone."""
    c, s = pair(listener, lport)
    half_closed(c)
    c.setsockopt(socket.IPPROTO_TCP, TCP_LINGER2, 1)
    c.close()
    gone = wait_gone(lport)
    s.close()
    if not gone:
        raise RuntimeError(f'port {lport}: the timewait socket did not expire in 30 s')


def killed_timewait(listener, lport):
    """A TIME_WAIT (the server's FIN received in FIN_WAIT2) that a connect() from the same port
    then kills (tcp_tw_reuse, once its timestamp is a second old). The connection that took its
    place ends with an RST: no timewait socket of its own."""
    c, s = pair(listener, lport)
    half_closed(c)
    s.close()
    time.sleep(2.2)
    c.close()
    c2 = socket.socket()
    c2.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c2.bind(('127.0.0.1', lport))
    c2.connect(SERVER)
    s2, _ = listener.accept()
    c2.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    c2.close()
    s2.close()
    if not wait_gone(lport, 10):
        raise RuntimeError(f'port {lport}: sockets left after the reset')


def ends(recs):
    return [r['EVENT'] for r in recs if r['EVENT'] in ('tw_expire', 'tw_kill')]


def main():
    if not os.path.exists(DROP):
        for name in ('a stale timewait mark never names a later socket',
                     'a timewait end with no mark is unknown, not a kill'):
            say(None, name, f'{DROP} missing (module built without fault injection)')
        return
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(SERVER)
    listener.listen(8)

    # 1. A stale mark: tw_end's hit dropped for a TIME_WAIT that expires, then the next timewait
    # socket on this CPU (the same address, the witness says) is killed.
    name = 'a stale timewait mark never names a later socket'
    for attempt in (1, 2, 3):
        base = 47140 + 10 * attempt
        st0 = stats()
        seq0 = int(st0['written'])
        clear_trace()
        drop('tw_end', 1)
        short_timewait(listener, base)
        seq1 = counter('written')
        killed_timewait(listener, base + 1)
        st2 = stats()
        seq2 = int(st2['written'])
        addrs = kills()
        left = drops_left('tw_end')
        first = ends(records(seq0, seq1, base))
        second = ends(records(seq1, seq2, base + 1))
        missed = int(st2['missed_tw_end']) - int(st0['missed_tw_end'])
        unknown = int(st2['tw_end_unknown']) - int(st0['tw_end_unknown'])
        print(f'# attempt {attempt}: ends {first} then {second}; inet_twsk_kill() of {addrs}; '
              f'missed_tw_end +{missed}, tw_end_unknown +{unknown}, drops left {left}')
        if len(addrs) != 2 or addrs[0] != addrs[1]:
            continue
        say(left == 0 and missed == 1 and unknown == 0 and first == [] and second == ['tw_kill'],
            name + ' (the expiry whose tw_end hit was dropped: no record, counted as missed; '
            'the next killed at the same address: tw_kill)')
        break
    else:
        say(None, name, 'in three tries the slab never gave the killed socket the address of '
            'the one whose mark was left')

    # 2. No mark: tw_expire's hit dropped, the TIME_WAIT expires.
    name = 'a timewait end with no mark is unknown, not a kill'
    st0 = stats()
    seq0 = int(st0['written'])
    drop('tw_expire', 1)
    short_timewait(listener, 47180)
    st1 = stats()
    got = ends(records(seq0, int(st1['written']), 47180))
    missed = int(st1['missed_tw_expire']) - int(st0['missed_tw_expire'])
    unknown = int(st1['tw_end_unknown']) - int(st0['tw_end_unknown'])
    print(f'# ends {got}; missed_tw_expire +{missed}, tw_end_unknown +{unknown}, '
          f'drops left {drops_left("tw_expire")}')
    say(got == [] and missed == 1 and unknown == 1 and drops_left('tw_expire') == 0,
        name + ' (the expiry whose tw_expire hit was dropped: no record, tw_end_unknown 1)')
    listener.close()


if __name__ == '__main__':
    try:
        main()
    except (OSError, RuntimeError) as e:
        print(f'not ok twmark ran to its end: {e}', flush=True)
    sys.exit(0)
