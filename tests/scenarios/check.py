#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check what tcpstates recorded during run-guest.sh against independent witnesses.

Input: the run's work folder with sockets.jsonl (what tcpscen did: each socket's cookie, process,
namespace and addresses), proc.txt (cat /proc/tcpstates), dev.bin (the /dev/tcpstates stream for
the whole run), *.pcap.txt (tcpdump -n -S -tt) and trace.txt (the sock:inet_sock_set_state
tracepoint). Prints TAP lines, exits 1 if any failed.

Per scenario and socket it asserts:
  seq       the exact (EVENT, OLDSTATE, NEWSTATE) sequence of the socket's records
  attr      task-context records carry the owning process's pid, tgid and comm; /proc prints
            '-' for PID and COMM exactly when the probe ran outside task context
  wire      ISNs A and B and FIN sequence numbers C and D implied by the records equal the
            packet capture's (never a constant: every expected number comes from the capture)
  trace     the tracepoint's transitions for the socket's 4-tuple equal its `state` records
and that tcptimeline --diagram of each conversation (by its client's cookie) names the capture's
A, B, C and D; and globally that /proc/tcpstates and /dev/tcpstates hold the same records, that
the binary records made outside task context name no process, and that the diagram of the whole
recording counts each edge as --json's transitions.
"""
import functools
import json
import os
import re
import struct
import subprocess
import sys

WORK = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, '..', '..', 'tools', 'tcptimeline')

STATES = ['-', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT',
          'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV', 'BOUND_INACTIVE']


def uapi_list(name):
    """A TCPSTATES_*_LIST(X) of the module's header (uapi) as {number: name}."""
    text = open(os.path.join(HERE, '..', '..', 'module', 'uapi', 'tcpstates.h')).read()
    body = text.split(f'#define {name}(X)')[1].split('\n\n')[0]
    return {int(n): low for _, low, n in re.findall(r'X\((\w+),\s*(\w+),\s*(\d+)\)', body)}


# The record kinds by number, from the header: a kind the module adds is known here at once.
_EV = uapi_list('TCPSTATES_EVENT_LIST')
EVENTS = [_EV.get(i) for i in range(max(_EV) + 1)]
F_MAPPED, F_SEQ, F_REQUEST, F_UNREAD = 0x01, 0x02, 0x20, 0x40

# ---------------------------------------------------------------- what each scenario must show

CLIENT_OPEN = [('state', 'CLOSE', 'SYN_SENT'), ('connect', 'SYN_SENT', 'SYN_SENT'),
               ('state', 'SYN_SENT', 'ESTABLISHED')]
# The server's socket keeps the request socket's cookie (inet_csk_clone_lock copies it).
# accept() runs 300 ms after the handshake, and it drops the last reference to the request.
SERVER_OPEN = [('request', '-', 'NEW_SYN_RECV'), ('child', 'NEW_SYN_RECV', 'SYN_RECV'),
               ('state', 'SYN_RECV', 'ESTABLISHED'), ('request_end', 'NEW_SYN_RECV', '-'),
               ('accept', 'ESTABLISHED', 'ESTABLISHED')]
# close() first: the orphan waits for the peer's FIN in a timewait socket (substate FIN_WAIT2).
# A time_wait record comes from the timewait socket, which does not keep the full socket's
# state: old is '-'. Every TIME_WAIT the scenarios make expires before the snapshot (the suite
# waits for it), so a life that enters it ends with TW_EXPIRE (or TW_KILL).
ACTIVE_CLOSE = [('state', 'ESTABLISHED', 'FIN_WAIT1'), ('state', 'FIN_WAIT1', 'FIN_WAIT2'),
                ('time_wait', '-', 'FIN_WAIT2'), ('state', 'FIN_WAIT2', 'CLOSE'),
                ('tw_rearm', '-', 'TIME_WAIT')]
PASSIVE_CLOSE = [('state', 'ESTABLISHED', 'CLOSE_WAIT'), ('state', 'CLOSE_WAIT', 'LAST_ACK'),
                 ('state', 'LAST_ACK', 'CLOSE')]
# Both FINs cross (100 ms netem each way): FIN_WAIT1 -> CLOSING, then the ACK of our FIN.
SIM_CLOSE = [('state', 'ESTABLISHED', 'FIN_WAIT1'), ('state', 'FIN_WAIT1', 'CLOSING'),
             ('time_wait', '-', 'TIME_WAIT'), ('state', 'CLOSING', 'CLOSE')]
# tcp_disconnect() (SO_LINGER 0) and tcp_close() with unread data both go to CLOSE, then reset.
RESET_SENT = [('state', 'ESTABLISHED', 'CLOSE'), ('reset_sent', 'CLOSE', 'CLOSE')]
RESET_RECEIVED = [('state', 'ESTABLISHED', 'CLOSE')]
# shutdown(SHUT_WR): the socket is still ours in FIN_WAIT2, so the peer's FIN goes straight
# to TIME_WAIT.
HALF_CLOSE = [('state', 'ESTABLISHED', 'FIN_WAIT1'), ('state', 'FIN_WAIT1', 'FIN_WAIT2'),
              ('time_wait', '-', 'TIME_WAIT'), ('state', 'FIN_WAIT2', 'CLOSE')]
# shutdown(SHUT_WR) then close() at once, over a 150 ms link: close() finds the socket in
# FIN_WAIT1 (client) or LAST_ACK (server) again, and the kernel sets that state once more,
# with write_seq already past the FIN.
SHUT_ACTIVE = [('state', 'ESTABLISHED', 'FIN_WAIT1'), ('state', 'FIN_WAIT1', 'FIN_WAIT1')] + \
    ACTIVE_CLOSE[1:]
SHUT_PASSIVE = [('state', 'ESTABLISHED', 'CLOSE_WAIT'), ('state', 'CLOSE_WAIT', 'LAST_ACK'),
                ('state', 'LAST_ACK', 'LAST_ACK'), ('state', 'LAST_ACK', 'CLOSE')]
# net.ipv4.tcp_max_tw_buckets=0: no timewait socket, the connection closes at once, and the
# peer's FIN then finds no socket (the kernel answers with an RST of no socket's).
TW_OVERFLOW = [('state', 'ESTABLISHED', 'FIN_WAIT1'), ('state', 'FIN_WAIT1', 'FIN_WAIT2'),
               ('tw_overflow', 'FIN_WAIT2', 'FIN_WAIT2'), ('state', 'FIN_WAIT2', 'CLOSE')]
LISTENER = [('listen', 'CLOSE', 'LISTEN'), ('state', 'LISTEN', 'CLOSE')]
FAILED_CONNECT = [('state', 'CLOSE', 'SYN_SENT'), ('connect', 'SYN_SENT', 'SYN_SENT'),
                  ('state', 'SYN_SENT', 'CLOSE')]
# connect() with every ephemeral port to the destination in use: SYN_SENT is set before the port
# is picked, and left with no ISN chosen and no SYN sent.
NOPORT = [('state', 'CLOSE', 'SYN_SENT'), ('state', 'SYN_SENT', 'CLOSE')]
# connect() found no route: the socket never left CLOSE, one connect_error record
NO_ROUTE = [('connect_error', 'CLOSE', 'CLOSE')]
TW_EXPIRE = [('tw_expire', 'TIME_WAIT', 'CLOSE')]
# The client's orphan waits in FIN_WAIT2 for a FIN that never comes: a timewait socket in
# substate FIN_WAIT2 until TCP_LINGER2 (2 s) ends it. The server then closes with SO_LINGER 0.
FIN_WAIT2_CLOSE = [('state', 'ESTABLISHED', 'FIN_WAIT1'), ('state', 'FIN_WAIT1', 'FIN_WAIT2'),
                   ('time_wait', '-', 'FIN_WAIT2'), ('state', 'FIN_WAIT2', 'CLOSE'),
                   ('tw_expire', 'FIN_WAIT2', 'CLOSE')]
# How long a scenario's timewait sockets are armed for, at least: TCP_TIMEWAIT_LEN, exactly;
# fin_wait2's TCP_LINGER2, or 3.5 RTOs if more (tcp_fin_time()).
TW_MS = {'fin_wait2': 2000}
# The path cut once established: the client's timer gives up and tcp_done() closes it with
# ETIMEDOUT; the keepalive timer sends an RST first. The server, told so, closes with SO_LINGER 0.
TIMED_OUT = [('state', 'ESTABLISHED', 'CLOSE')]
KEEPALIVE_TIMED_OUT = [('reset_sent', 'ESTABLISHED', 'ESTABLISHED'), ('state', 'ESTABLISHED', 'CLOSE')]
TW_KILL = [('tw_kill', 'TIME_WAIT', 'CLOSE')]

# scenario -> role -> list of expected sequences (one per socket of that role, in order)
EXPECT = {
    'client_close': {'client': [CLIENT_OPEN + ACTIVE_CLOSE + TW_EXPIRE],
                     'server': [SERVER_OPEN + PASSIVE_CLOSE]},
    'unsent_close': {'client': [CLIENT_OPEN + ACTIVE_CLOSE + TW_EXPIRE],
                     'server': [SERVER_OPEN + PASSIVE_CLOSE]},
    'fin_wait2': {'client': [CLIENT_OPEN + FIN_WAIT2_CLOSE],
                  'server': [SERVER_OPEN + [('state', 'ESTABLISHED', 'CLOSE_WAIT'),
                                            ('state', 'CLOSE_WAIT', 'CLOSE'),
                                            ('reset_sent', 'CLOSE', 'CLOSE')]]},
    'server_close': {'client': [CLIENT_OPEN + PASSIVE_CLOSE],
                     'server': [SERVER_OPEN + ACTIVE_CLOSE + TW_EXPIRE]},
    'simultaneous_close': {'client': [CLIENT_OPEN + SIM_CLOSE + TW_EXPIRE],
                           'server': [SERVER_OPEN + SIM_CLOSE + TW_EXPIRE]},
    'linger0_reset': {'client': [CLIENT_OPEN + RESET_SENT],
                      'server': [SERVER_OPEN + RESET_RECEIVED]},
    'unread_reset': {'client': [CLIENT_OPEN + RESET_SENT],
                     'server': [SERVER_OPEN + RESET_RECEIVED]},
    'refused': {'client': [FAILED_CONNECT]},
    'syn_timeout': {'client': [FAILED_CONNECT]},
    # a router's ICMP host unreachable ends the connect() (tcp_v4_err() in SYN_SENT)
    'unreachable': {'client': [FAILED_CONNECT]},
    'listen_close': {'listener': [LISTENER]},
    'half_open': {'listener': [LISTENER]},
    # the SYN it cannot route a SYN-ACK back to: tcp_conn_request() drops it (ListenDrops)
    'syn_noroute': {'listener': [[LISTENER[0], ('listen_drop', 'LISTEN', 'LISTEN'), LISTENER[1]]]},
    'noport': {'client': [NOPORT], 'listener': [LISTENER]},
    'no_route': {'client': [NO_ROUTE]},
    'no_route6': {'client': [NO_ROUTE]},
    'port_pressure': {'client': [NOPORT], 'listener': [LISTENER]},
    'syn_race': {'listener': [LISTENER]},
    'ack_race': {'listener': [LISTENER]},
    'request_ends': {'listener': [LISTENER, LISTENER]},
    'ipv6': {'client': [CLIENT_OPEN + ACTIVE_CLOSE + TW_EXPIRE],
             'server': [SERVER_OPEN + PASSIVE_CLOSE]},
    'mapped': {'client': [CLIENT_OPEN + ACTIVE_CLOSE + TW_EXPIRE],
               'server': [SERVER_OPEN + PASSIVE_CLOSE]},
    'netns_veth': {'client': [CLIENT_OPEN + ACTIVE_CLOSE + TW_EXPIRE],
                   'server': [SERVER_OPEN + PASSIVE_CLOSE]},
    'half_close': {'client': [CLIENT_OPEN + HALF_CLOSE + TW_EXPIRE],
                   'server': [SERVER_OPEN + PASSIVE_CLOSE]},
    'shutdown_close': {'client': [CLIENT_OPEN + SHUT_ACTIVE + TW_EXPIRE],
                       'server': [SERVER_OPEN + SHUT_PASSIVE]},
    'tw_reuse': {'client': [CLIENT_OPEN + ACTIVE_CLOSE + TW_KILL,
                            CLIENT_OPEN + ACTIVE_CLOSE + TW_EXPIRE],
                 'server': [SERVER_OPEN + PASSIVE_CLOSE, SERVER_OPEN + PASSIVE_CLOSE]},
    'tw_overflow': {'client': [CLIENT_OPEN + TW_OVERFLOW],
                    'server': [SERVER_OPEN + PASSIVE_CLOSE]},
    'rto_timeout': {'client': [CLIENT_OPEN + TIMED_OUT], 'server': [SERVER_OPEN + RESET_SENT]},
    'user_timeout': {'client': [CLIENT_OPEN + TIMED_OUT], 'server': [SERVER_OPEN + RESET_SENT]},
    'keepalive_timeout': {'client': [CLIENT_OPEN + KEEPALIVE_TIMED_OUT],
                          'server': [SERVER_OPEN + RESET_SENT]},
    'probe_timeout': {'client': [CLIENT_OPEN + TIMED_OUT], 'server': [SERVER_OPEN + RESET_SENT]},
}
for s in EXPECT.values():
    if 'server' in s:
        s.setdefault('listener', [LISTENER])
# sk_err of the socket's last `state` record
EXPECT_ERR = {('linger0_reset', 'server'): 104, ('unread_reset', 'server'): 104,
              ('refused', 'client'): 111, ('syn_timeout', 'client'): 110,
              ('unreachable', 'client'): 113,
              ('tw_overflow', 'server'): 104, ('rto_timeout', 'client'): 110,
              ('user_timeout', 'client'): 110, ('keepalive_timeout', 'client'): 110,
              ('probe_timeout', 'client'): 110}
# who sends the first FIN, for the wire check
ACTIVE = {'client_close': 'client', 'server_close': 'server', 'ipv6': 'client',
          'mapped': 'client', 'netns_veth': 'client', 'half_close': 'client',
          'tw_reuse': 'client', 'simultaneous_close': 'both', 'shutdown_close': 'client',
          'tw_overflow': 'client', 'unsent_close': 'client'}

# ---------------------------------------------------------------- TAP

n_tests = 0
n_failed = 0


def tap(ok, name, evidence=(), unknown=None):
    """One TAP line. @unknown: what could not be asserted and why (a record absent, its probe
    hit counted as missed): a pass is then printed as a skip, `# SKIP unknown: <why>`, which
    tests/expected-skips allows for this reason only."""
    global n_tests, n_failed
    n_tests += 1
    if not ok:
        n_failed += 1
    skip = f' # SKIP unknown: {unknown}' if ok and unknown else ''
    print(f"{'ok' if ok else 'not ok'} {n_tests} - {name}{skip}")
    if not ok:
        for line in list(evidence)[:12]:
            print(f'#   {line}')


# ---------------------------------------------------------------- inputs

def read_proc(path):
    recs = []
    with open(path) as f:
        header = f.readline().split()
        for line in f:
            v = dict(zip(header, line.split()))
            v['line'] = line.rstrip('\n')
            recs.append(v)
    return header, recs


REC = struct.Struct('<QQQQQQIIIIHHBBBB16s16sHHIIIIIIIIHBBBBBBI16sQ')
assert REC.size == 176


def read_dev(path):
    recs = []
    data = open(path, 'rb').read()
    for off in range(0, len(data) - len(data) % REC.size, REC.size):
        f = REC.unpack_from(data, off)
        recs.append({
            'seq': f[0], 'cookie': f[2], 'aux': f[3], 'netns': f[6], 'pid': f[7], 'tgid': f[8],
            'kind': f[10], 'old': f[12], 'new': f[13], 'family': f[14], 'flags': f[15],
            'sport': struct.unpack('>H', struct.pack('<H', f[18]))[0],
            'dport': struct.unpack('>H', struct.pack('<H', f[19]))[0],
            'write_seq': f[20], 'snd_una': f[21], 'snd_nxt': f[22], 'rcv_nxt': f[23],
            'sk_err': f[32], 'ctx': f[33], 'comm': f[36].split(b'\0')[0].decode(errors='replace'),
            'rcv_unread': f[35], 'netns_cookie': f[37],
        })
    return recs, len(data) % REC.size


PKT = re.compile(r'^(\S+) IP6? (\S+)\.(\d+) > (\S+)\.(\d+): Flags \[([^\]]*)\](?:, seq (\d+)(?::(\d+))?)?'
                 r'(?:, ack (\d+))?')


def read_pcaps():
    pkts = []
    for name in sorted(os.listdir(WORK)):
        if not name.endswith('.pcap.txt'):
            continue
        for line in open(os.path.join(WORK, name)):
            m = PKT.match(line)
            if m:
                pkts.append({'t': float(m[1]), 'src': (m[2], int(m[3])), 'dst': (m[4], int(m[5])),
                             'flags': m[6], 'seq': int(m[7]) if m[7] else None,
                             'end': int(m[8]) if m[8] else None,
                             'ack': int(m[9]) if m[9] else None, 'line': line.strip()})
    return pkts


TRACE = re.compile(r'inet_sock_set_state: family=(\S+) protocol=IPPROTO_TCP sport=(\d+) dport=(\d+)'
                   r'.* oldstate=TCP_(\S+) newstate=TCP_(\S+)')


def read_trace():
    out = []
    try:
        for line in open(os.path.join(WORK, 'trace.txt')):
            m = TRACE.search(line)
            if m:
                out.append((int(m[2]), int(m[3]), m[4], m[5]))
    except FileNotFoundError:
        pass
    return out


def norm_addr(a):
    """tcpscen prints v4-mapped sockets as ::ffff:a.b.c.d; the module shows them as IPv4."""
    return a[7:] if a.startswith('::ffff:') and '.' in a else a


# ---------------------------------------------------------------- checks

def main():
    header, proc = read_proc(os.path.join(WORK, 'proc.txt'))
    dev, dev_tail = read_dev(os.path.join(WORK, 'dev.bin'))
    sockets = [json.loads(line) for line in open(os.path.join(WORK, 'sockets.jsonl')) if line.strip()]
    pkts = read_pcaps()
    trace = read_trace()

    # /proc and /dev agree, record for record, up to the /proc snapshot (the reader stopped
    # after it, so it may hold a few later records)
    last = int(proc[-1]['SEQ']) if proc else -1
    dev = [r for r in dev if r['seq'] <= last]
    dev_by_seq = {r['seq']: r for r in dev if EVENTS[r['kind']] != 'lost'}
    lost = [r for r in dev if EVENTS[r['kind']] == 'lost']
    bad = []
    for p in proc:
        d = dev_by_seq.get(int(p['SEQ']))
        if d is None:
            bad.append(f"SEQ {p['SEQ']} in /proc, not in /dev")
            continue
        want = (EVENTS[d['kind']], str(d['cookie']), STATES[d['old']], STATES[d['new']],
                str(d['netns']), str(d['sport']), str(d['dport']))
        got = (p['EVENT'], p['COOKIE'], p['OLDSTATE'], p['NEWSTATE'], p['NETNS'], p['LPORT'],
               p['RPORT'])
        if want != got:
            bad.append(f"SEQ {p['SEQ']}: /dev {want} /proc {got}")
        if d['flags'] & F_SEQ:
            for col, key in (('WRITE_SEQ', 'write_seq'), ('SND_UNA', 'snd_una'),
                             ('SND_NXT', 'snd_nxt'), ('RCV_NXT', 'rcv_nxt')):
                if p[col] != str(d[key]):
                    bad.append(f"SEQ {p['SEQ']}: {col} /proc {p[col]} /dev {d[key]}")
        if (p['PID'] == '-') != (d['ctx'] != 0):
            bad.append(f"SEQ {p['SEQ']}: PID column {p['PID']} with ctx {d['ctx']}")
    if len(proc) != len(dev_by_seq):
        bad.append(f'{len(proc)} records in /proc, {len(dev_by_seq)} in /dev')
    tap(not bad and not lost and dev_tail == 0 and len(proc) > 0,
        f'scenarios: /proc/tcpstates and /dev/tcpstates hold the same {len(proc)} records, '
        f'none lost', bad + [f'{len(lost)} LOST markers, {dev_tail} trailing bytes'])

    # /proc prints '-' for the process of a record made outside task context whatever the record
    # holds, so the binary record itself is what must name no process (docs/promises.md).
    outside = [r for r in dev_by_seq.values() if r['ctx'] != 0]
    named = [f"SEQ {r['seq']} ctx {r['ctx']}: pid {r['pid']} tgid {r['tgid']} comm '{r['comm']}'"
             for r in outside if (r['pid'], r['tgid'], r['comm']) != (0, 0, '')]
    tap(outside and not named, f'scenarios: the {len(outside)} /dev records made outside task '
        'context name no process (pid, tgid and comm empty)', named or ['no such record'])

    by_cookie = {}
    for p in proc:
        by_cookie.setdefault(int(p['COOKIE']), []).append(p)
    check_counters(sockets, proc, pkts)
    check_resets(dev, sockets, pkts)
    check_timers(dev, sockets, pkts)
    check_listeners(dev, sockets)
    check_accept_wait(sockets)
    check_port_pressure(sockets)

    for scen, roles in EXPECT.items():
        socks = [s for s in sockets if s['scen'] == scen]
        if any(s['role'] == 'failed' for s in socks) or not socks:
            tap(False, f'{scen}: scenario ran', ['see the # lines above'])
            continue
        check_scenario(scen, roles, socks, by_cookie, proc, pkts, trace)
    check_diagram()
    check_diagram_edges()

    print(f'1..{n_tests}')
    return 1 if n_failed else 0


def read_kv(name):
    try:
        return dict(line.split(None, 1) for line in open(os.path.join(WORK, name)) if ' ' in line)
    except FileNotFoundError:
        return {}


def check_counters(sockets, proc, pkts):
    """Counts only the module and the kernel keep, against what the scenarios did."""
    stats = read_kv('stats.txt')
    missed = {k: v.strip() for k, v in stats.items() if k.startswith('missed_')}
    total = sum(int(v) for v in missed.values() if v.isdigit())
    tap(bool(missed) and all(v.isdigit() for v in missed.values()) and total <= MISS_BOUND,
        f'scenarios: the kprobe core missed {total} probe hits in this boot, at most '
        f'{MISS_BOUND}', [f'{k} {v}' for k, v in sorted(missed.items()) if v != '0']
        or ['no missed_ counter in the stats'])
    # A hook placed as an fprobe (mechanism_<hook> fprobe: kernels with fprobe, Debian's from
    # 6.12) misses a hit only to recursion within one context, which nothing here makes: a miss
    # there is a bug, not the kprobe core's window that MISS_BOUND allows for.
    fprobes = sorted(k[len('mechanism_'):] for k, v in stats.items()
                     if k.startswith('mechanism_') and v.strip() == 'fprobe')
    fmissed = [f'missed_{h} {missed.get("missed_" + h)}' for h in fprobes
               if missed.get('missed_' + h) != '0']
    tap(any(k.startswith('mechanism_') for k in stats) and not fmissed,
        f'scenarios: the {len(fprobes)} hooks placed as fprobes missed no hit'
        f'{"" if fprobes else " (none: this kernel has no fprobe)"}',
        fmissed or ([] if any(k.startswith('mechanism_') for k in stats)
                    else ['no mechanism_ line in the stats']))
    # syn_noroute sends one SYN the server cannot route a SYN-ACK back to: its request socket
    # is freed before it is hashed, which is counted and never recorded. So is each duplicate
    # SYN of syn_race that lost its race (check_syn_race counts them on the wire), and, at
    # most, each request whose probe hit the kprobe core missed (it has no cookie either).
    raw = [s for s in sockets if s['scen'] == 'syn_noroute' and s['role'] == 'raw_syn']
    unhashed = stats.get('requests_unhashed', '').strip()
    leaked = [p for p in proc if raw and p['RPORT'] == str(raw[0]['lport'])
              and p['EVENT'] in ('request', 'request_end')]
    lost = race_losers(sockets, pkts)
    # and in tsd and tsk (listen_overflow, listen_syncookies), each SYN answered with a cookie
    # (its request freed at once) and each cookie an ACK brought back (cookie_v4_check() makes a
    # request for the child, never hashed)
    for ns in ('tsd', 'tsk'):
        k0, k1 = read_kv(f'{ns}.netstat0.txt'), read_kv(f'{ns}.netstat1.txt')
        lost += sum(int(k1.get(m, 0)) - int(k0.get(m, 0))
                    for m in ('SyncookiesSent', 'SyncookiesRecv'))
    missed = int(stats.get('missed_request', '0').strip() or 0)
    ok = unhashed.isdigit() and 1 + lost <= int(unhashed) <= 1 + lost + missed
    tap(bool(raw) and ok and not leaked,
        f'syn_noroute, syn_race, listen_*: the unroutable SYN and the {lost} duplicate SYNs that '
        f'lost their race, SYN cookies sent and cookies received are counted (requests_unhashed '
        f'{unhashed}) and never recorded',
        [f'requests_unhashed {unhashed!r}, expected {1 + lost} (+ up to {missed} missed '
         f'request hits), raw SYN {raw}', *fmt(leaked)])
    # tw_overflow: the kernel's own counter in the namespace says how many closes skipped
    # TIME_WAIT; the module must have recorded exactly that many.
    ovf = [p for p in proc if p['EVENT'] == 'tw_overflow']
    kernel = read_kv('tso.netstat.txt').get('TCPTimeWaitOverflow', '').strip()
    tap(kernel == '1' and len(ovf) == 1,
        f'tw_overflow: TcpExt TCPTimeWaitOverflow {kernel or "?"} = {len(ovf)} tw_overflow record',
        fmt(ovf))


# The hook whose probe makes each event: a hit the kprobe core missed (missed_<hook> in the
# stats) is a record that is absent, counted. tw_expire is made by tw_end, after tw_expire
# marked it: a miss of either loses it.
HOOKS_OF = {'state': ('set_state',), 'listen': ('listen',), 'connect': ('connect',),
            'request': ('request',), 'child': ('child_v4', 'child_v6'), 'accept': ('accept',),
            'request_end': ('request_end_v4', 'request_end_v6'), 'time_wait': ('time_wait',),
            'tw_rearm': ('time_wait',), 'tw_expire': ('tw_expire', 'tw_end'),
            'tw_kill': ('tw_end',), 'reset_sent': ('reset_sent',),
            'tw_overflow': ('tw_overflow',), 'listen_drop': ('syn', 'child_v4', 'child_v6'),
            'connect_error': ('connect_fail_v4', 'connect_fail_v6')}
MISSES = {}   # check kind -> hook -> missed hits not yet used to explain an absent record
# The most probe hits the kprobe core may miss in a boot of the scenarios before the boot fails:
# a change that makes misses common (a probe path that no longer disables interrupts) would
# exceed it, absences excused or not. One simultaneous_close can lose three hits a side (its
# set_state, time_wait and tw_overflow, as netem's timer interrupt delivers the peer's FIN
# inside another handler): 3 seen on 7.2-sid (2026-12-02), 6 on 5.10 (2026-12-07, both sides,
# a fresh-clone run beside two other guests). The bound is that worst case and two more.
MISS_BOUND = 8
# (scenario, role, index) -> the events the events check found absent and counted: a value
# those records would have carried is then unknown, which passes; a wrong value still fails.
ABSENT = {}


def missed_budget(kind):
    """The boot's counted probe misses, one budget per kind of check (events, tracepoint)."""
    if kind not in MISSES:
        stats = read_kv('stats.txt')
        MISSES[kind] = {k[len('missed_'):]: int(v) for k, v in stats.items()
                        if k.startswith('missed_') and v.strip().isdigit() and int(v) > 0}
    return MISSES[kind]


def absent_but_counted(want, got, kind):
    """None unless got is want with some entries absent, each one a hit its hook's missed
    counter holds (and then uses up): the module's promise is records plus counted misses,
    and the kprobe core's miss window (docs/promises.md) is not the suite's to control.
    Returns the absent entries."""
    budget = missed_budget(kind)
    if not budget:
        return None
    absent, i = [], 0
    for w in want:
        if i < len(got) and got[i] == w:
            i += 1
        else:
            absent.append(w)
    if i != len(got) or not absent:
        return None
    spend = dict(budget)
    for a in absent:
        hook = next((h for h in HOOKS_OF.get(a[0], ()) if spend.get(h, 0) > 0), None)
        if hook is None:
            return None
        spend[hook] -= 1
    budget.update(spend)
    return absent


def seq_of(recs):
    return [(r['EVENT'], r['OLDSTATE'], r['NEWSTATE']) for r in recs]


def fmt(recs):
    return [f"{r['SEQ']} {r['EVENT']} {r['OLDSTATE']}->{r['NEWSTATE']} ctx={r['CTX']} "
            f"err={r['SK_ERR']}" for r in recs]


def check_scenario(scen, roles, socks, by_cookie, proc, pkts, trace):
    recs_of = {}
    for role, wants in roles.items():
        mine = [s for s in socks if s['role'] == role]
        if len(mine) != len(wants):
            tap(False, f'{scen}: {len(wants)} {role} socket(s) reported', [str(mine)])
            continue
        for i, (s, want) in enumerate(zip(mine, wants)):
            who = role if len(wants) == 1 else f'{role} {i + 1}'
            recs = by_cookie.get(s['cookie'], [])
            recs_of[(role, i)] = recs
            got = seq_of(recs)
            # A life that ends in TIME_WAIT may also have run its 60 s before the snapshot.
            if want[-1][2] == 'TIME_WAIT' and got == want + TW_EXPIRE:
                want = got
            absent = None if got == want else absent_but_counted(want, got, 'events')
            ABSENT[(scen, role, i)] = {a[0] for a in absent or ()}
            if absent:
                print(f'# {scen}: {who}: absent, each a probe hit the stats count as missed: '
                      f'{absent}')
            tap(got == want or bool(absent), f'{scen}: {who} events '
                f"{' '.join(e + ':' + n for e, _, n in want)}",
                ['expected ' + str(want), 'recorded:'] + fmt(recs),
                absent and f'{len(absent)} record(s) absent, each a hit its hook counted as '
                f"missed ({', '.join(a[0] + ':' + a[2] for a in absent)})")
            check_attr(scen, who, s, recs)
            check_tw_expiry(scen, who, recs, ABSENT[(scen, role, i)])
            err = EXPECT_ERR.get((scen, role))
            if err is not None:
                last = [r for r in recs if r['EVENT'] == 'state'][-1:]
                tap(bool(last) and last[0]['SK_ERR'] == str(err),
                    f'{scen}: {who} CLOSE carries sk_err {err}', fmt(recs))
            check_addrs(scen, who, s, recs)

    # The tracepoint has no cookie: compare per 4-tuple. tw_reuse puts two connections on
    # one 4-tuple, so their records are taken together, in record order.
    tuples = {}
    for (role, i), recs in recs_of.items():
        s = [x for x in socks if x['role'] == role][i]
        tuples.setdefault((s['lport'], s['rport']), (role, s, []))[2].extend(recs)
    for (lport, rport), (role, s, recs) in tuples.items():
        recs.sort(key=lambda r: int(r['SEQ']))
        check_trace(scen, role, s, recs, trace)

    if scen == 'half_open':
        check_half_open(socks, proc, pkts)
    if scen == 'syn_race':
        check_syn_race(socks, proc, pkts)
    if scen == 'ack_race':
        check_ack_race(socks, proc)
    if scen == 'request_ends':
        check_request_ends(socks, proc, pkts)
    if scen in ('no_route', 'no_route6'):
        check_no_route(scen, socks[0], recs_of.get(('client', 0), []))
    if scen == 'fin_wait2':
        check_fin_wait2(socks, recs_of.get(('client', 0), []), pkts)
    if scen == 'unsent_close':
        check_unsent(socks, pkts)
    if scen in ('noport', 'port_pressure'):
        check_noport(socks, recs_of.get(('client', 0), []))
    if scen in ACTIVE:
        for i in range(len(roles.get('client', []))):
            check_wire(scen, i, socks, recs_of.get(('client', i), []),
                       recs_of.get(('server', i), []), pkts)
    if scen in ('refused', 'syn_timeout', 'unreachable'):
        check_syn_only(scen, socks[0], recs_of.get(('client', 0), []), pkts)


def check_tw_expiry(scen, who, recs, absent):
    """TIME_WAIT lasts TCP_TIMEWAIT_LEN (60 s) from the last time its timer was armed.

    The timer cannot fire early, so that bound is checked; how much later it fired is the
    host's speed (a loaded emulator can be seconds late), printed, not asserted. With every
    arming absent and counted as missed (@absent), the arming is unknown: that passes."""
    end = rec(recs, 'tw_expire')
    if not end:
        return
    armed = [r for r in recs if r['EVENT'] in ('time_wait', 'tw_rearm')]
    if not armed and absent & {'time_wait', 'tw_rearm'}:
        tap(True, f'{scen}: {who} TIME_WAIT armed for 60000 ms, expired no sooner',
            unknown='the arming record absent, its probe hit counted as missed')
        return
    ms = TW_MS.get(scen, 60000)
    aux = int(armed[-1]['AUX']) if armed else -1
    held = (int(end['TIME_NS']) - int(armed[-1]['TIME_NS'])) / 1e9 if armed else -1
    tap(armed and (aux == ms or scen in TW_MS and aux >= ms) and held >= aux / 1000 - 0.1,
        f'{scen}: {who} TIME_WAIT armed for {ms} ms{" or more" if scen in TW_MS else ""}, '
        'expired no sooner', fmt(recs) + [f'expired {held:.2f} s after it was last armed'])
    print(f'# {scen}: {who} TIME_WAIT expired {held:.2f} s after it was last armed')


def check_attr(scen, who, s, recs):
    bad = []
    task = [r for r in recs if r['CTX'] == 'task']
    for r in task:
        if (r['PID'], r['TGID'], r['COMM']) != (str(s['pid']), str(s['tgid']), s['comm']):
            bad.append(f"{r['SEQ']} {r['EVENT']}: pid {r['PID']} tgid {r['TGID']} comm "
                       f"{r['COMM']}, owner {s['pid']}/{s['tgid']}/{s['comm']}")
    for r in recs:
        if r['CTX'] != 'task' and (r['PID'], r['COMM'], r['TGID']) != ('-', '-', '-'):
            bad.append(f"{r['SEQ']} {r['EVENT']}: ctx {r['CTX']} but PID {r['PID']}")
    tap(bool(task) and not bad, f'{scen}: {who} task-context records name its process '
        f"({s['comm']} {s['pid']}), softirq ones name none", bad or ['no task-context record'])


def check_addrs(scen, who, s, recs):
    bad = []
    fam = 'ipv6' if ':' in norm_addr(s['laddr']) else 'ipv4'
    for r in recs:
        if r['NETNS'] != str(s['netns']):
            bad.append(f"{r['SEQ']}: netns {r['NETNS']}, process in {s['netns']}")
        if r['FAMILY'] != fam:
            bad.append(f"{r['SEQ']}: family {r['FAMILY']}, expected {fam}")
        if s['laddr'].startswith('::ffff:') and not int(r['FLAGS'], 16) & F_MAPPED:
            bad.append(f"{r['SEQ']}: v4-mapped socket without FLAGS 0x01")
        if r['EVENT'] in ('state', 'listen') and r['NEWSTATE'] in ('SYN_SENT', 'LISTEN'):
            continue  # the local port/address may not be bound yet
        if r['LPORT'] != str(s['lport']) or (s['rport'] and r['RPORT'] != str(s['rport'])):
            bad.append(f"{r['SEQ']}: ports {r['LPORT']}/{r['RPORT']}, socket "
                       f"{s['lport']}/{s['rport']}")
        if s['raddr'] and r['RADDR'] != norm_addr(s['raddr']):
            bad.append(f"{r['SEQ']}: raddr {r['RADDR']}, socket {s['raddr']}")
    tap(not bad, f"{scen}: {who} netns {s['netns']}, {fam}, addresses and ports", bad)


def check_trace(scen, who, s, recs, trace):
    """The tracepoint fires in tcp_set_state() (and for LISTEN); compare per 4-tuple.

    CLOSE -> SYN_SENT fires before connect() picks the local port, and a child's birth
    (LISTEN -> SYN_RECV) before its ports are set, so neither can be matched by 4-tuple."""
    if not trace:
        tap(False, f'{scen}: {who} tracepoint transitions', ['no tracepoint events at all'])
        return
    skip = {('CLOSE', 'SYN_SENT'), ('LISTEN', 'SYN_RECV')}
    def ev(t):
        return 'listen' if t == ('CLOSE', 'LISTEN') else 'state'
    mine = [(r['OLDSTATE'], r['NEWSTATE']) for r in recs
            if r['EVENT'] in ('state', 'listen') and (r['OLDSTATE'], r['NEWSTATE']) not in skip]
    seen = [(o, n) for sp, dp, o, n in trace
            if sp == s['lport'] and dp == s['rport'] and (o, n) not in skip]
    absent = None if seen == mine else absent_but_counted(
        [(ev(t),) + t for t in seen], [(ev(t),) + t for t in mine], 'tracepoint')
    tap(seen == mine or bool(absent), f'{scen}: {who} tracepoint shows the same transitions',
        ['tracepoint ' + str(seen), 'module     ' + str(mine)],
        absent and f'the tracepoint saw {len(absent)} the module missed, each a hit its hook '
        f"counted ({', '.join(a[1] + '->' + a[2] for a in absent)})")


def pkts_between(pkts, a, b):
    """Packets of the conversation between endpoints a and b ((addr, port) tuples)."""
    a = (norm_addr(a[0]), a[1])
    b = (norm_addr(b[0]), b[1])
    return [p for p in pkts if {p['src'], p['dst']} == {a, b}]


def first(pkts, src, pred):
    src = (norm_addr(src[0]), src[1])
    for p in pkts:
        if p['src'] == src and pred(p):
            return p
    return None


def fin_seq(p):
    return p['end'] if p['end'] is not None else p['seq']


def rec(recs, event, new=None):
    for r in recs:
        if r['EVENT'] == event and (new is None or r['NEWSTATE'] == new):
            return r
    return None


def num(r, col):
    return int(r[col]) if r and r[col] != '-' else None


def check_wire(scen, i, socks, crecs, srecs, pkts):
    """The ISNs and FINs of conversation @i against the capture. A value whose record the
    events check found absent and counted as missed is unknown, which passes; wrong fails."""
    clients = [s for s in socks if s['role'] == 'client']
    c = clients[i]
    cli = (c['laddr'], c['lport'])
    srv = (c['raddr'], c['rport'])
    conv = pkts_between(pkts, cli, srv)
    # tw_reuse runs two connections on one 4-tuple: split the capture at each client SYN.
    starts = [k for k, p in enumerate(conv)
              if p['src'] == (norm_addr(cli[0]), cli[1]) and p['flags'] == 'S']
    nth = [k for k in starts if not any(conv[j]['seq'] == conv[k]['seq'] for j in starts if j < k)]
    if i < len(nth):
        conv = conv[nth[i]:nth[i + 1] if i + 1 < len(nth) else len(conv)]
    syn = first(conv, cli, lambda p: p['flags'] == 'S')
    synack = first(conv, srv, lambda p: p['flags'] == 'S.')
    cfin = first(conv, cli, lambda p: 'F' in p['flags'])
    sfin = first(conv, srv, lambda p: 'F' in p['flags'])
    who = scen if len(clients) == 1 else f'{scen} {i + 1}'
    if not (syn and synack and cfin and sfin):
        tap(False, f'{who}: capture has SYN, SYN-ACK and both FINs',
            [f'{len(conv)} packets between {cli} and {srv}'] + [p['line'] for p in conv])
        return
    A, B, C, D = syn['seq'], synack['seq'], fin_seq(cfin), fin_seq(sfin)
    m32 = 0xffffffff
    rec_a = num(rec(crecs, 'connect'), 'SND_UNA')
    checks = [
        ('the SYN-ACK acks the recorded A+1', None if rec_a is None else (rec_a + 1) & m32,
         synack['ack'], 'client', {'connect'}),
        ('client connect SND_UNA = A', rec_a, A),
        ('client ESTABLISHED RCV_NXT = B+1', num(rec(crecs, 'state', 'ESTABLISHED'), 'RCV_NXT'),
         (B + 1) & m32),
        ('server request SND_UNA = B', num(rec(srecs, 'request'), 'SND_UNA'), B),
        ('server request RCV_NXT = A+1', num(rec(srecs, 'request'), 'RCV_NXT'), (A + 1) & m32),
        ('server child SND_UNA = B+1', num(rec(srecs, 'child'), 'SND_UNA'), (B + 1) & m32),
    ]
    active = ACTIVE[scen]
    for side, recs, own, peer in (('client', crecs, C, D), ('server', srecs, D, C)):
        if active in (side, 'both'):
            checks.append((f'{side} FIN_WAIT1 WRITE_SEQ = its FIN',
                           num(rec(recs, 'state', 'FIN_WAIT1'), 'WRITE_SEQ'), own))
            if scen == 'tw_overflow':
                # No timewait socket: the full socket's last record knows the peer's
                # next byte, which is where the peer's FIN (never received) sits.
                checks.append((f'{side} tw_overflow RCV_NXT = peer FIN',
                               num(rec(recs, 'tw_overflow'), 'RCV_NXT'), peer))
            else:
                tw = rec(recs, 'tw_rearm') or rec(recs, 'time_wait', 'TIME_WAIT')
                checks.append((f'{side} TIME_WAIT RCV_NXT = peer FIN+1', num(tw, 'RCV_NXT'),
                               (peer + 1) & m32, side, {'tw_rearm', 'time_wait'}))
        else:
            checks.append((f'{side} CLOSE_WAIT RCV_NXT = peer FIN+1',
                           num(rec(recs, 'state', 'CLOSE_WAIT'), 'RCV_NXT'), (peer + 1) & m32))
            checks.append((f'{side} LAST_ACK WRITE_SEQ = its FIN',
                           num(rec(recs, 'state', 'LAST_ACK'), 'WRITE_SEQ'), own))
        if scen == 'shutdown_close':
            # close() after shutdown(): the repeated state carries write_seq past the FIN,
            # which is why a reader must take the FIN from the first entry.
            again = [r for r in recs if r['EVENT'] == 'state' and r['OLDSTATE'] == r['NEWSTATE']]
            checks.append((f'{side} repeated {again[0]["NEWSTATE"] if again else "state"} '
                           'WRITE_SEQ = its FIN+1',
                           num(again[0] if again else None, 'WRITE_SEQ'), (own + 1) & m32))
    if scen == 'tw_overflow':
        rst = first(conv, cli, lambda p: 'R' in p['flags'])
        checks.append(('the peer FIN is answered by an RST of no socket', rst is not None, True))
    bad, unknown = [], []
    for name, got, want, *source in checks:
        if got == want:
            continue
        if None in (got, want) and source and source[1] & ABSENT.get((scen, source[0], i), set()):
            unknown.append(name)
            continue
        bad.append(f'{name}: recorded {got}, wire {want}')
    tap(not bad, f'{who}: ISNs A={A} B={B} and FINs C={C} D={D} match the capture', bad,
        unknown and f"{', '.join(unknown)}: the record absent, its probe hit counted as missed")
    # The study note's (and the ladder's) C is the first FIN, the closer's; here C is the client's.
    # In a simultaneous close the tool's C is the FIN of the side that entered FIN_WAIT1 first by
    # the records' times, the client's on a tie or when a side's record is absent (tcptimeline(8)).
    closer = active
    if active == 'both':
        ct = num(rec(crecs, 'state', 'FIN_WAIT1'), 'TIME_NS')
        st = num(rec(srecs, 'state', 'FIN_WAIT1'), 'TIME_NS')
        closer = 'server' if ct is not None and st is not None and st < ct else 'client'
    fin1, fin2 = (D, C) if closer == 'server' else (C, D)
    WIRE.append((who, c['cookie'], f'A={A} B={B} C={fin1} D={fin2}'))


WIRE = []  # (scenario, client cookie, the capture's A B C D as the ladder names them)


def check_diagram():
    """One conversation's --diagram (tools/tcptimeline on proc.txt) names the wire's letters."""
    bad = []
    for who, cookie, want in WIRE:
        out = subprocess.run([TOOL, '-T', os.path.join(WORK, 'proc.txt'), '--time=mono',
                              '--diagram', '--cookie', str(cookie)], capture_output=True,
                             text=True).stdout
        got = re.findall(r'^  (A=\S+ B=\S+ C=\S+ D=\S+)', out, re.M)
        if got != [want]:
            bad.append(f'{who} cookie {cookie}: diagram {got}, wire {want}')
    tap(WIRE and not bad, f'tcptimeline --diagram of {len(WIRE)} conversations: '
        'A B C D are the capture\'s', bad)


def check_diagram_edges():
    """--diagram-svg of the whole boot's recording: every edge's count is the transitions of
    --json's states, counted apart (tests/tool/diagram_check.py, as the tool suite does for its
    cases)."""
    src = ['-T', os.path.join(WORK, 'proc.txt'), '--time=mono']
    js, svg = os.path.join(WORK, 'diagram.json'), os.path.join(WORK, 'diagram.svg')
    with open(js, 'w') as f:
        a = subprocess.run([TOOL] + src + ['--json'], stdout=f, stderr=subprocess.PIPE, text=True)
    b = subprocess.run([TOOL] + src + ['--diagram-svg', svg], capture_output=True, text=True)
    r = subprocess.run([sys.executable, os.path.join(HERE, '..', 'tool', 'diagram_check.py'),
                        'edges', js, svg], capture_output=True, text=True)
    tap(a.returncode == b.returncode == r.returncode == 0, 'tcptimeline --diagram of the boot: '
        'each edge\'s count is the transitions --json shows',
        (a.stderr + b.stderr + r.stdout + r.stderr).splitlines())


# ---------------------------------------------------------------- why resets left

# The reason each scenario's reset has on the kernel's path, as 6.10 and later name it: close()
# with SO_LINGER 0 is tcp_disconnect() of a synchronised socket, close() over unread data
# tcp_close()'s abort. The checks below hold these against the kernel's tracepoint (6.10 on) and
# its TcpExt counters (every kernel).
EXPECT_RST = {'linger0_reset': 'TCP_STATE', 'unread_reset': 'TCP_ABORT_ON_CLOSE'}
# Bytes the client read before its close(): "world!" in linger0_reset, nothing in unread_reset.
READ_BEFORE_CLOSE = {'linger0_reset': 6, 'unread_reset': 0}
# The tracepoint fires for two kinds of reset. tcp_send_active_reset() (a socket's own abort:
# close() over unread data, SO_LINGER 0, a timer) passes no segment, so skbaddr is NULL, which
# %p prints as zeros: reset_sent records exactly these. tcp_v4/v6_send_reset() answers a segment
# (skbaddr set), with or without a socket; the module does not record those. A NO_SOCKET reset can
# share the client's 4-tuple: close() unhashes the socket before its RST leaves, and on a 7.3-rt
# CI run a segment from the server that arrived in between was answered with one, traced before
# the abort's own (stop 36). So only the first kind is held against the records. Kernels that
# print no skbaddr (5.10, 6.1) trace no reset without a socket, and none answering a segment
# came up in these scenarios there: each of their lines is taken as a socket's own.
SEND_RESET = re.compile(r'tcp_send_reset: (?:skbaddr=(\w+) )?.*?(?:sport=(\d+) dport=(\d+)|'
                        r'src=\S*?:(\d+) dest=\S*?:(\d+))(?:.* reason=(\w+))?')


def rst_names():
    """reset_sent's AUX -> the reason's name, from the module's own header (uapi)."""
    text = open(os.path.join(HERE, '..', '..', 'module', 'uapi', 'tcpstates.h')).read()
    body = text.split('#define TCPSTATES_RST_REASON_LIST(X)')[1].split('\n\n')[0]
    return {int(n): name for name, _, n in re.findall(r'X\((\w+),\s*(\w+),\s*(\d+)\)', body)}


@functools.lru_cache(maxsize=None)
def tool_json(proc_path):
    """tcptimeline --json of a /proc text: (sides, the run). Run once per file: six checks
    read the same one, and none changes what it gets."""
    out = subprocess.run([TOOL, '-T', proc_path, '--time=mono', '--json'], capture_output=True,
                         text=True)
    return [json.loads(line) for line in out.stdout.splitlines() if '"cookie"' in line], out


def client_close(scen, sockets, dev, bad):
    """The scenario's client socket and its /dev records into CLOSE; (None, []) noted in bad."""
    c = [x for x in sockets if x['scen'] == scen and x['role'] == 'client']
    if not c:
        bad.append(f'{scen}: no client socket')
        return None, []
    return c[0], [r for r in dev if r['cookie'] == c[0]['cookie'] and EVENTS[r['kind']] == 'state'
                  and STATES[r['new']] == 'CLOSE']


# Which timer gave up: the scenario, what its CLOSE record's aux must say (uapi
# TCPSTATES_TIMERS_*: user timeout set, keepalive on), what the wire counts (retransmissions of
# the lost segment, keepalive probes, window probes) and the reason.
TIMERS_USER, TIMERS_KEEPALIVE, TIMERS_VALID = 0x10000, 0x20000, 0x1000000
EXPECT_TIMER = {'rto_timeout': (False, False, 'retrans', 'retransmit_timeout'),
                'user_timeout': (True, False, 'retrans', 'user_timeout'),
                'keepalive_timeout': (False, True, 'keepalive', 'tcp_keepalive_timeout'),
                'probe_timeout': (False, False, 'window', 'probe_timeout')}


def check_timers(dev, sockets, pkts):
    """The client's CLOSE record against the wire and the kernel's counters.

    Retransmissions: the client's segments on the wire that repeat the lost segment's sequence
    number, less the first (tsa sends no tail loss probe: tcp_early_retrans 0). Probes (keepalive
    or window): the client's empty segments that ack nothing new, those the server no longer
    answered. The kernel's TcpExt in tsa: TCPAbortOnTimeout +4 (one per scenario), TCPKeepAlive
    as many as the keepalive probes, answered or not. And tcptimeline names the timer."""
    sides, out = tool_json(os.path.join(WORK, 'proc.txt'))
    bad, probes_total = [], 0
    for scen, (user, keep, wire_kind, reason) in sorted(EXPECT_TIMER.items()):
        c, closing = client_close(scen, sockets, dev, bad)
        if c is None:
            continue
        mine = [p for p in pkts if p['src'][1] == c['lport'] and p['dst'][1] == c['rport']]
        if not closing or not mine:
            bad.append(f'{scen}: CLOSE record {bool(closing)}, client segments on the wire '
                       f'{bool(mine)}')
            continue
        aux = closing[0]['aux']
        data = [p for p in mine if p['end'] is not None and p['end'] > p['seq']
                and 'S' not in p['flags']]
        theirs = [p for p in pkts if p['src'][1] == c['rport'] and p['dst'][1] == c['lport']]
        if wire_kind in ('keepalive', 'window'):
            # A probe is an empty segment at snd_una - 1 (tcpdump prints no seq for it) that
            # acks nothing new. The record counts those still unanswered: the ones after the
            # server's last segment (its RST, once the client gave up, aside). The cut takes a
            # while (an ip command): on a slow kernel the first probe is still answered.
            heard = [p['t'] for p in theirs if 'R' not in p['flags']]
            acked, probes = 0, []
            for p in mine:
                if p['flags'] == '.' and p['seq'] is None and p['ack'] is not None \
                        and (p['ack'] - acked) % 2**32 == 0:
                    probes.append(p)
                acked = p['ack'] if p['ack'] is not None else acked
            if wire_kind == 'keepalive':
                served = [p['t'] for p in theirs if p['end'] is not None and p['end'] > p['seq']]
                probes_total += len([p for p in probes if served and p['t'] > served[-1]])
            wire = [p for p in probes if heard and p['t'] > heard[-1]]
            want_retrans, want_probes = 0, len(wire)
        else:
            lost = data[-1]['seq'] if data else None
            wire = [p for p in data if p['seq'] == lost]
            want_retrans, want_probes = len(wire) - 1, 0
        got = (bool(aux & TIMERS_VALID), bool(aux & TIMERS_USER), bool(aux & TIMERS_KEEPALIVE),
               aux & 0xff, (aux >> 8) & 0xff)
        want = (True, user, keep, want_retrans, want_probes)
        side = [x for x in sides if x['cookie'] == c['cookie']]
        named = [(x.get('reason'), x.get('retransmits_at_close'), x.get('probes_at_close'))
                 for x in side]
        if got != want or (wire_kind != 'retrans' and want_probes < 1) or \
                (wire_kind == 'retrans' and want_retrans < 1) or \
                named != [(reason, want_retrans, want_probes)]:
            bad.append(f'{scen}: aux {aux:#x} (valid, user, keepalive, retransmits, probes) {got}, '
                       f'the wire and the socket options say {want}; tcptimeline {named}, '
                       f'want {reason}')
        print(f'# {scen}: aux {aux:#x}: {want_retrans} retransmissions, {want_probes} probes '
              f'on the wire; tcptimeline: {named}')
    k0, k1 = read_kv('tsa.netstat0.txt'), read_kv('tsa.netstat1.txt')
    for mib, want in (('TCPAbortOnTimeout', len(EXPECT_TIMER)), ('TCPKeepAlive', probes_total)):
        if mib not in k0 or mib not in k1:
            bad.append(f'TcpExt {mib} not in tsa\'s /proc/net/netstat')
        elif int(k1[mib]) - int(k0[mib]) != want:
            bad.append(f'TcpExt {mib} in tsa +{int(k1[mib]) - int(k0[mib])}, the records say {want}')
    tap(out.returncode == 0 and not bad, 'rto_timeout, user_timeout, keepalive_timeout, '
        'probe_timeout: the client\'s CLOSE carries the timers the wire shows (retransmissions, '
        'keepalive and window probes), TcpExt TCPAbortOnTimeout and TCPKeepAlive in tsa agree, '
        'and tcptimeline names the timer',
        bad + out.stderr.splitlines())


# Listener pressure: the scenario, the namespace whose TcpExt is its truth, and what it must
# cause at least once. uapi TCPSTATES_DROP_*: the cause in aux's low byte.
DROPS = {1: 'accept_queue', 2: 'syn_queue', 3: 'syncookie', 4: 'other'}
MIB_OF = {'accept_queue': 'ListenOverflows', 'syn_queue': 'TCPReqQFullDrop',
          'syncookie': 'SyncookiesSent'}
EXPECT_LISTEN = {'listen_overflow': ('tsd', 'accept_queue'),
                 'listen_syncookies': ('tsk', 'syncookie')}


def check_listeners(dev, sockets):
    """What listeners turned away, against the kernel's own counters.

    Per scenario: its namespace's TcpExt deltas over the run (nothing else there listens under
    pressure) equal the listen_drop records of that namespace, by cause; ListenDrops equals
    every cause but syncookie. tcptimeline's totals (the listener's listen_drops_* plus its
    connections' acks_dropped, the final ACKs dropped on their requests) equal them too, and
    listen_overflow must have dropped both a SYN and a request's final ACK."""
    sides, out = tool_json(os.path.join(WORK, 'proc.txt'))
    bad, said = [], []
    for scen, (ns, must) in sorted(EXPECT_LISTEN.items()):
        lst = [s for s in sockets if s['scen'] == scen and s['role'] == 'listener']
        if not lst:
            bad.append(f'{scen}: no listener socket')
            continue
        netns, port = lst[0]['netns'], lst[0]['lport']
        recs = [r for r in dev if EVENTS[r['kind']] == 'listen_drop' and r['netns'] == netns]
        got = {name: len([r for r in recs if r['aux'] & 0xff == k]) for k, name in DROPS.items()}
        on_req = len([r for r in recs if r['flags'] & F_REQUEST])
        k0, k1 = read_kv(f'{ns}.netstat0.txt'), read_kv(f'{ns}.netstat1.txt')
        delta = {m: int(k1.get(m, -1)) - int(k0.get(m, 0))
                 for m in list(MIB_OF.values()) + ['ListenDrops']}
        want = {name: delta[m] for name, m in MIB_OF.items()}
        mine = [x for x in sides if x['netns'] == netns and x['lport'] == port]
        tool = {'accept_queue': sum((x.get('listen_drops_accept_queue') or 0) +
                                    (x.get('acks_dropped') or 0) for x in mine),
                'syn_queue': sum(x.get('listen_drops_syn_queue') or 0 for x in mine),
                'syncookie': sum(x.get('listen_syncookies') or 0 for x in mine)}
        drops = got['accept_queue'] + got['syn_queue'] + got['other']
        said.append(f'{scen}: records {got} ({on_req} on requests), TcpExt in {ns} {delta}, '
                    f'tcptimeline {tool}')
        if {k: got[k] for k in want} != want or delta['ListenDrops'] != drops or \
                tool != want or got[must] < 1 or any(r['netns'] != netns for r in recs) or \
                (scen == 'listen_overflow' and not 0 < on_req < got['accept_queue']):
            bad.append(said[-1])
    for line in said:
        print(f'# {line}')
    tap(out.returncode == 0 and not bad, 'listen_overflow, listen_syncookies: the listen_drop '
        'records by cause equal TcpExt ListenOverflows, TCPReqQFullDrop, SyncookiesSent and '
        'ListenDrops in the listener\'s namespace, and so do tcptimeline\'s totals (dropped SYNs '
        'and final ACKs both seen)', bad + out.stderr.splitlines())


def check_accept_wait(sockets):
    """slow_accept: each connection's accept wait against the application's own clocks.

    The client noted CLOCK_MONOTONIC when its connect() completed, the server when accept()
    returned the child; the module's clock is the same. The child's ESTABLISHED comes within the
    loopback's microseconds of the client's, the accept record just before accept() returns: the
    tool's accept_wait_ns must be within 25 ms of the difference (scheduling of a loaded guest),
    and at least the 400 ms the server waited less that margin."""
    sides, out = tool_json(os.path.join(WORK, 'proc.txt'))
    socks = [s for s in sockets if s['scen'] == 'slow_accept']
    servers = [s for s in socks if s['role'] == 'server']
    bad = []
    for s in servers:
        cli = [c for c in socks if c['role'] == 'client' and c['lport'] == s['rport']]
        side = [x for x in sides if x['cookie'] == s['cookie'] and x['role'] == 'server']
        if not cli or 'est_ns' not in cli[0] or len(side) != 1 or side[0]['accept_wait_ns'] is None:
            bad.append(f'server {s["cookie"]}: client {cli}, tcptimeline {side}')
            continue
        truth = s['accepted_ns'] - cli[0]['est_ns']
        got = side[0]['accept_wait_ns']
        print(f'# slow_accept: port {s["rport"]}: accept wait {got} ns, the application\'s '
              f'clocks {truth} ns')
        if abs(got - truth) > 25_000_000 or got < 375_000_000:
            bad.append(f'port {s["rport"]}: tcptimeline {got} ns, application {truth} ns')
    tap(out.returncode == 0 and len(servers) == 3 and not bad,
        f'slow_accept: tcptimeline\'s accept wait of each of {len(servers)} connections (want 3) '
        'is the time between the client\'s connect() and the server\'s accept()',
        bad + out.stderr.splitlines())


# ---------------------------------------------------------------- where ports go

PP_PORTS = (40000, 40015)   # tsp's ip_local_port_range
DUR = re.compile(r'([\d.]+)(ns|us|ms|s)$')


def dur_ns(text):
    m = DUR.match(text)
    return round(float(m[1]) * {'ns': 1, 'us': 1e3, 'ms': 1e6, 's': 1e9}[m[2]])


def destination(stats, netns, peer):
    """--stats' block for one destination of netns: {tw, held, range, left, taken, freed, eta}."""
    lines = stats.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == f'netns {netns} 127.0.0.1 -> {peer}':
            block = '\n'.join(lines[i + 1:i + 5])
            break
    else:
        return None
    m = re.search(r'connects (\d+), no free port \(EADDRNOTAVAIL\) (\d+).*\n'
                  r'\s+TIME_WAIT (\d+) \(peak \d+\)\n'
                  r'\s+ports held (\d+) \(peak \d+\)(?: of (\d+)-(\d+): (\d+) left)?.*\n'
                  r'\s+last \S+: (\d+) taken, (\d+) freed(: at that rate none left in (\S+)|'
                  r': none left)?', block)
    if not m:
        return {'unparsed': block}
    return {'connects': int(m[1]), 'no_port': int(m[2]), 'tw': int(m[3]), 'held': int(m[4]),
            'range': (int(m[5]), int(m[6])) if m[5] else None,
            'left': int(m[7]) if m[7] else None, 'taken': int(m[8]), 'freed': int(m[9]),
            'eta': dur_ns(m[11]) if m[11] else 0 if m[10] else None}


def check_port_pressure(sockets):
    """port_pressure: TIME_WAIT and ports per destination, and the forecast, sample by sample.

    tcpscen counted tsp's TIME_WAITs to 127.0.0.1:7128 with ss at each sample, between its t0
    and t1: once ss saw the latest connection's TIME_WAIT, then 100 ms more, and 100 ms before
    the next connect(), so no transition of the scenario falls between. tcptimeline reads the /proc records up to t0, what a reader following the device
    had by then: its destinations section must show as many TIME_WAITs as ss, each holding one
    port of 40000-40015. From the second connection on it must forecast the ports' end, and its
    forecast must be the pace of the connect records so far carried forward, as this checker
    computes it from them: (ports left) x (last connect - first) / (connects - 1), no port
    being freed yet; once none is left it must say so, all before the connect() that failed
    with EADDRNOTAVAIL. How close the forecast came to the 32nd connect is printed, not
    asserted: it depends on the guest keeping its pace, which a loaded host does not (a
    control run beside another suite's lane slowed from 0.26 s to 0.6 s a connection). Over
    the whole run it counts that one failure."""
    lst = [s for s in sockets if s['scen'] == 'port_pressure' and s['role'] == 'listener']
    try:
        samples = [json.loads(line) for line in
                   open(os.path.join(WORK, 'port_pressure.samples.jsonl')) if line.strip()]
    except FileNotFoundError:
        samples = []
    fail = [s for s in samples if 'fail_ns' in s]
    samples = [s for s in samples if 't0' in s]
    if not lst or not fail:
        tap(False, 'port_pressure: TIME_WAIT per destination at each sample is what ss counted',
            [f'listener {lst}, samples {len(samples)}, failure {fail}'])
        tap(False, 'port_pressure: the forecast of the ports running out')
        tap(False, 'port_pressure: the failed connect() counted')
        return
    netns, fail_ns = lst[0]['netns'], fail[0]['fail_ns']
    peer = f'127.0.0.1:{lst[0]["lport"]}'
    lines = open(os.path.join(WORK, 'proc.txt')).read().splitlines()
    head = lines[0].split()
    col = head.index('TIME_NS')
    connects = sorted(int(x.split()[col]) for x in lines[1:]
                      if dict(zip(head, x.split())).get('EVENT') == 'connect' and
                      x.split()[head.index('NETNS')] == str(netns) and
                      x.split()[head.index('RPORT')] == str(lst[0]['lport']))
    last_ns = connects[-1] if connects else 0
    tmp = os.path.join(WORK, 'proc.until.txt')
    bad_tw, bad_fc, said = [], [], []
    for i, s in enumerate(samples):
        with open(tmp, 'w') as f:
            f.write('\n'.join([lines[0]] + [x for x in lines[1:]
                                           if int(x.split()[col]) <= s['t0']]) + '\n')
        out = subprocess.run([TOOL, '-T', tmp, '--stats'], capture_output=True, text=True)
        d = destination(out.stdout, netns, peer)
        if not d or 'unparsed' in d or d['tw'] != s['tw'] or d['tw'] != i + 1 or \
                d['held'] != i + 1 or d['range'] != PP_PORTS:
            bad_tw.append(f'sample {i + 1}: ss {s["tw"]}, tcptimeline {d}')
            continue
        togo = last_ns - s['t0']
        so_far = [c for c in connects if c <= s['t0']]
        left = PP_PORTS[1] - PP_PORTS[0] + 1 - len(so_far)
        if i + 1 >= 2:
            got = d['eta']
            if left:
                want = left * (so_far[-1] - so_far[0]) / (len(so_far) - 1)
                ok = got is not None and abs(got - want) <= max(1_000_000, want / 1000)
            else:
                want, ok = 0, got == 0 and d['left'] == 0
            if i + 1 in (8, 16, 24, 31, 32) or not ok:
                said.append(f'after connection {i + 1}: {d["left"]} ports left, tcptimeline: '
                            f'none left in {got / 1e9 if got is not None else None} s (the '
                            f'records\' pace: {want / 1e9:.3f} s); the last was taken '
                            f'{togo / 1e9:.3f} s later, EADDRNOTAVAIL '
                            f'{(fail_ns - s["t0"]) / 1e9:.3f} s later')
            if not ok:
                bad_fc.append(said[-1])
    for line in said:
        print(f'# port_pressure: {line}')
    tap(len(samples) == PP_PORTS[1] - PP_PORTS[0] + 1 and not bad_tw,
        f'port_pressure: at each of {len(samples)} samples (want 16) tcptimeline\'s TIME_WAITs '
        'to 127.0.0.1:7128 from the records so far are what ss counted, each holding a port of '
        '40000-40015', bad_tw)
    tap(len(samples) >= 8 and len(connects) == len(samples) and not bad_fc and
        all(c < fail_ns for c in connects),
        'port_pressure: from the 2nd connection on, before EADDRNOTAVAIL, tcptimeline forecasts '
        'the ports\' end at the pace of the connect records so far; with none left it says so',
        bad_fc + [f'{len(connects)} connect records'])
    out = subprocess.run([TOOL, '-T', os.path.join(WORK, 'proc.txt'), '--stats'],
                         capture_output=True, text=True)
    d = destination(out.stdout, netns, peer)
    sides, _ = tool_json(os.path.join(WORK, 'proc.txt'))
    cli = [s for s in sockets if s['scen'] == 'port_pressure' and s['role'] == 'client']
    why = [x['reason'] for x in sides if cli and x['cookie'] == cli[0]['cookie']]
    tap(d is not None and d.get('no_port') == 1 and d.get('connects') == len(samples) and
        why == ['no_port'],
        f'port_pressure: tcptimeline counts {len(samples)} connects and the one that found no '
        'port, whose reason is no_port', [f'{d}', f'reason {why}'])


def check_resets(dev, sockets, pkts):
    names = rst_names()
    in_range = [r for r in dev if EVENTS[r['kind']] == 'reset_sent'
                and (7100 <= r['sport'] <= 7199 or 7100 <= r['dport'] <= 7199)]
    # 1. each reset_sent record against the kernel's tracepoint, per 4-tuple and in order
    sent, answers = {}, 0
    for line in open(os.path.join(WORK, 'trace.txt')):
        m = SEND_RESET.search(line)
        if m and m[1] and m[1].strip('0'):
            answers += 1
        elif m:
            ports = (int(m[2] or m[4]), int(m[3] or m[5]))
            sent.setdefault(ports, []).append(m[6] or 'NONE')
    bad, seen = [], {}
    for r in in_range:
        key = (r['sport'], r['dport'])
        n = seen[key] = seen.get(key, -1) + 1
        want = sent.get(key, [])
        got = names.get(r['aux'], f'?{r["aux"]}')
        if n >= len(want) or want[n] != got:
            bad.append(f'SEQ {r["seq"]} {key}: reason {got}, the tracepoint has {want}')
    print(f'# reset_sent: {sum(map(len, sent.values()))} traced resets a socket sent itself; '
          f'{answers} answered a segment (tcp_v4/v6_send_reset, not recorded)')
    tap(len(in_range) >= len(EXPECT_RST) and not bad,
        f'reset_sent: the {len(in_range)} records carry the reason tcp:tcp_send_reset printed for '
        'each socket\'s own reset (reason= from 6.10, NONE before)',
        bad or [f'{len(in_range)} records'])

    # 2. rcv_unread of the client's CLOSE record: the RST's ack on the wire less B + 1 (bytes
    # that arrived), less what the client read
    bad = []
    for scen in sorted(EXPECT_RST):
        c, closing = client_close(scen, sockets, dev, bad)
        if c is None:
            continue
        conv = [p for p in pkts if {p['src'][1], p['dst'][1]} == {c['lport'], c['rport']}]
        synack = [p for p in conv if p['src'][1] == c['rport'] and p['flags'] == 'S.']
        rst = [p for p in conv if p['src'][1] == c['lport'] and 'R' in p['flags']
               and p['ack'] is not None]
        if not (closing and synack and rst):
            bad.append(f'{scen}: CLOSE record {bool(closing)}, SYN-ACK {bool(synack)}, '
                       f'RST with an ack {bool(rst)} on the wire')
            continue
        want = (rst[0]['ack'] - synack[0]['seq'] - 1) % 2**32 - READ_BEFORE_CLOSE[scen]
        r = closing[0]
        if not r['flags'] & F_UNREAD or r['rcv_unread'] != want or \
                (scen == 'unread_reset' and want <= 0):
            bad.append(f'{scen}: flags {r["flags"]:#x} rcv_unread {r["rcv_unread"]}, the wire '
                       f'says {want} ({rst[0]["line"]})')
    tap(not bad, 'linger0_reset, unread_reset: the client\'s CLOSE record holds the bytes unread, '
        'as the RST\'s ack on the wire says', bad)

    # 3. the kernel's own counters in the initial namespace: as many resets of each reason as
    # tcptimeline names there (the kernel's reason from 6.10, derived before)
    root = open(os.path.join(WORK, 'root_netns.txt')).read().strip()
    sides, out = tool_json(os.path.join(WORK, 'proc.txt'))
    k0, k1 = read_kv('netstat0.txt'), read_kv('netstat1.txt')
    bad = []
    for mib, reason in (('TCPAbortOnClose', 'tcp_abort_on_close'), ('TCPAbortOnData', 'tcp_state')):
        if mib not in k0 or mib not in k1:
            bad.append(f'TcpExt {mib} not in /proc/net/netstat')
            continue
        kernel = int(k1[mib]) - int(k0[mib])
        tool = sum(1 for x in sides if str(x['netns']) == root and x.get('reason') == reason)
        if kernel != tool or kernel < 1:
            bad.append(f'TcpExt {mib} +{kernel}, tcptimeline {reason} {tool}')
    tap(out.returncode == 0 and not bad, 'TcpExt TCPAbortOnClose and TCPAbortOnData in the '
        'initial namespace: as many as tcptimeline\'s tcp_abort_on_close and tcp_state resets',
        bad + out.stderr.splitlines())

    # 4. the reason as recorded and as derived with every AUX of reset_sent zeroed (a kernel
    # before 6.10): the scenario path's on both; and a derived reason is never another name
    path = os.path.join(WORK, 'proc_noreason.txt')
    with open(os.path.join(WORK, 'proc.txt')) as f, open(path, 'w') as g:
        cols = None
        for line in f:
            w = line.split()
            if w and w[0] == 'SEQ':
                cols = w
            elif cols and len(w) == len(cols) and w[cols.index('EVENT')] == 'reset_sent':
                w[cols.index('AUX')] = '0'
                line = ' '.join(w) + '\n'
            g.write(line)
    derived, out2 = tool_json(path)
    by = {(x['cookie'], x['start_ns']): x.get('reason') for x in sides}
    bad = []
    for x in derived:
        rec = by.get((x['cookie'], x['start_ns']))
        kernel_name = rec in {n.lower() for n in names.values()}
        if x.get('reason') != rec and not (x.get('reason') == 'reset' and kernel_name):
            bad.append(f'cookie {x["cookie"]}: derived {x.get("reason")}, recorded {rec}')
    # where the kernel says why (its tracepoint printed reason=), the tool must take its word
    kernel_says = any(v != 'NONE' for lst in sent.values() for v in lst)
    for scen, want in sorted(EXPECT_RST.items()):
        c = [s for s in sockets if s['scen'] == scen and s['role'] == 'client']
        for src, lst, source in (('recorded', sides, 'kernel' if kernel_says else 'records'),
                                 ('derived', derived, 'records')):
            got = [(x.get('reason'), x.get('reason_source')) for x in lst
                   if c and x['cookie'] == c[0]['cookie']]
            if got != [(want.lower(), source)]:
                bad.append(f'{scen}: {src} reason {got}, the path\'s {want.lower()} '
                           f'from the {source}')
    tap(out2.returncode == 0 and not bad, 'linger0_reset, unread_reset: tcptimeline names the '
        'kernel path\'s reset reason, the kernel\'s own where it gives one, and the same derived '
        'without it; no derived reason differs from a recorded one', bad + out2.stderr.splitlines())


def check_syn_only(scen, s, recs, pkts):
    # After a failed connect() getsockname() says 0.0.0.0: match on the local port.
    srv = (norm_addr(s['raddr']), s['rport'])
    conv = [p for p in pkts if (p['src'][1], p['dst']) == (s['lport'], srv)
            or (p['src'], p['dst'][1]) == (srv, s['lport'])]
    syns = [p for p in conv if p['dst'] == srv and p['flags'] == 'S']
    A = num(rec(recs, 'connect'), 'SND_UNA')
    ok = bool(syns) and all(p['seq'] == A for p in syns)
    extra = []
    if scen == 'refused':
        ok = ok and any('R' in p['flags'] for p in conv)
        extra = ['RST expected from the server side']
    icmp = []
    if scen == 'unreachable':
        # tcpdump prints the ICMP, not the TCP header it quotes: one per SYN, to the client. An
        # ICMP that comes while connect() still holds the socket's lock (it sent the SYN, and
        # the router's answer came back in the same softirq) is only sk_err_soft: the SYN's
        # retransmission then meets the one that ends it. So one or two SYNs, each answered.
        with open(os.path.join(WORK, 'tsa_icmp.pcap.txt')) as f:
            icmp = [x.strip() for x in f if f'ICMP host {srv[0]} unreachable' in x]
        ok = ok and len(icmp) == len(syns) >= 1
        extra = ['as many ICMP host unreachable as SYNs expected'] + icmp
    tap(ok, f'{scen}: connect SND_UNA = the SYN seq on the wire ({len(syns)} SYNs'
        f'{", answered by an ICMP host unreachable" if icmp else ""})',
        [f'recorded A={A}'] + [p['line'] for p in conv] + extra)
    if scen == 'unreachable':
        sides, _ = tool_json(os.path.join(WORK, 'proc.txt'))
        why = [(x.get('reason'), x.get('sk_err')) for x in sides if x['cookie'] == s['cookie']]
        tap(why == [('unreachable', 'EHOSTUNREACH')],
            'unreachable: tcptimeline names the reason unreachable (sk_err EHOSTUNREACH)',
            [f'{why}'])


def race_pairs(sockets, pkts):
    """syn_race: per SYN pair (one 4-tuple), the SYN-ACKs the capture holds."""
    out = []
    for r in sockets:
        if r['scen'] != 'syn_race' or r['role'] != 'raw_syn':
            continue
        synacks = [p for p in pkts if p['src'] == (r['raddr'], r['rport'])
                   and p['dst'] == (r['laddr'], r['lport']) and p['flags'] == 'S.']
        syns = [p for p in pkts if p['dst'] == (r['raddr'], r['rport'])
                and p['src'] == (r['laddr'], r['lport']) and p['flags'] == 'S']
        out.append((r, syns, synacks))
    return out


def race_losers(sockets, pkts):
    """Pairs where one SYN found no request and then failed to hash its own. tsb's
    tcp_synack_retries is 1, so a request sends its SYN-ACK, one retransmission a second later,
    and one more for each duplicate SYN that finds it: a pair that did not race shows three
    SYN-ACKs with one ISN, a loser two (the winner's and its retransmission), and a race where
    the hash cannot fail (5.10) two ISNs."""
    n = 0
    for r, syns, synacks in race_pairs(sockets, pkts):
        n += len(syns) == 2 and len(synacks) == 2 and len({p['seq'] for p in synacks}) == 1
    return n


def check_syn_race(sockets, proc, pkts):
    """Every request record's ISN is one a SYN-ACK carried: none for a request that was never
    hashed and never answered."""
    pairs = race_pairs(sockets, pkts)
    bad = []
    for r, syns, synacks in pairs:
        isns = {p['seq'] for p in synacks}
        for p in proc:
            if p['EVENT'] == 'request' and p['LPORT'] == str(r['rport']) and \
                    p['RPORT'] == str(r['lport']) and num(p, 'SND_UNA') not in isns:
                bad.append(f"port {r['lport']}: request {p['SEQ']} ISN {p['SND_UNA']}, "
                           f"SYN-ACKs {sorted(isns)}")
        if len(syns) != 2:
            bad.append(f"port {r['lport']}: {len(syns)} SYNs on the wire, 2 sent")
    lost = race_losers(sockets, pkts)
    print(f'# syn_race: {len(pairs)} SYN pairs, {lost} lost the race to hash the request')
    tap(bool(pairs) and not bad, f'syn_race: every request record ISN is a SYN-ACK seq on the '
        f'wire ({len(pairs)} duplicate SYN pairs, {lost} duplicates failed to hash)', bad)


def check_ack_race(socks, proc):
    """Two copies of one final ACK on two CPUs: one child per connection. The loser's child,
    destroyed by the kernel at once, makes no record. The kernel's own count of such losers
    comes from a kretprobe event on inet_ehash_nolisten() (its return value 0)."""
    raw = [s for s in socks if s['role'] == 'raw_syn']
    bad = []
    for r in raw:
        kids = [p for p in proc if p['EVENT'] == 'child' and p['LPORT'] == str(r['rport'])
                and p['RPORT'] == str(r['lport'])]
        if len(kids) != 1:
            bad.append(f"port {r['lport']}: {len(kids)} child records")
            bad += fmt(kids)
    losers = None
    try:
        lines = open(os.path.join(WORK, 'trace.txt')).read().splitlines()
        if any('ehash_nolisten:' in line for line in lines):
            losers = sum(1 for line in lines if 'ehash_nolisten:' in line and 'ret=0' in line)
    except FileNotFoundError:
        pass
    print(f'# ack_race: {len(raw)} ACK pairs; children the kernel could not hash in their '
          f"request's place: {losers if losers is not None else 'unknown (no kretprobe event)'}")
    tap(bool(raw) and not bad, f'ack_race: one child record per connection ({len(raw)} final ACKs '
        f'sent twice at once, {losers} losing children)', bad)


def check_noport(socks, recs):
    """A connect() that found no free port never chose an ISN nor sent a SYN."""
    last = rec(recs, 'state', 'CLOSE')
    tap(last is not None and not int(last['FLAGS'], 16) & 0x0e and last['WRITE_SEQ'] == '-'
        and last['MSS'] == '-',
        f'{socks[0]["scen"]}: SYN_SENT->CLOSE of a connect() that found no port carries no sequence '
        'numbers, windows or tcp_info', fmt(recs) + ([last['line']] if last else []))


def check_half_open(socks, proc, pkts):
    raw = [s for s in socks if s['role'] == 'raw_syn']
    if not raw:
        tap(False, 'half_open: raw SYN sent')
        return
    r = raw[0]
    recs = [p for p in proc if p['LPORT'] == str(r['rport']) and p['RPORT'] == str(r['lport'])]
    tap(seq_of(recs) == [('request', '-', 'NEW_SYN_RECV'), ('request_end', 'NEW_SYN_RECV', '-')],
        'half_open: request socket events request:NEW_SYN_RECV request_end:-', fmt(recs))
    synacks = [p for p in pkts if p['src'] == (r['raddr'], r['rport'])
               and p['dst'] == (r['laddr'], r['lport']) and p['flags'] == 'S.']
    req, end = rec(recs, 'request'), rec(recs, 'request_end')
    bad = []
    if not synacks:
        bad.append('no SYN-ACK in the capture')
    else:
        B = synacks[0]['seq']
        if num(req, 'SND_UNA') != B:
            bad.append(f"request SND_UNA {num(req, 'SND_UNA')}, SYN-ACK seq {B}")
        if any(p['seq'] != B or p['ack'] != (r['isn'] + 1) & 0xffffffff for p in synacks):
            bad.append('SYN-ACKs disagree')
    if num(req, 'RCV_NXT') != (r['isn'] + 1) & 0xffffffff:
        bad.append(f"request RCV_NXT {num(req, 'RCV_NXT')}, our SYN's ISN + 1 "
                   f"{(r['isn'] + 1) & 0xffffffff}")
    if not end or int(end['AUX']) & 0xff != len(synacks) - 1:
        bad.append(f"request_end AUX {end and end['AUX']}, {len(synacks)} SYN-ACKs on the wire")
    tap(not bad, f"half_open: ISN A={r['isn']} from our SYN, B and {len(synacks)} SYN-ACKs "
        'match the request records', bad + [p['line'] for p in synacks])
    check_request_end(r, 'timeout', recs, synacks, 'synack_timeout')


def check_unsent(socks, pkts):
    """A close() right after a write, over a 300 ms round trip: the FIN leaves behind data the
    peer has not acked. tcptimeline's unacked_at_fin is what the wire says: the FIN's sequence
    number less the last ack the peer had sent before it."""
    c = [s for s in socks if s['role'] == 'client'][0]
    conv = [p for p in pkts if {p['src'], p['dst']} == {(c['laddr'], c['lport']),
                                                         (c['raddr'], c['rport'])}]
    fin = first(conv, (c['laddr'], c['lport']), lambda p: 'F' in p['flags'])
    acks = [p['ack'] for p in conv if p['src'] == (c['raddr'], c['rport']) and fin
            and p['t'] <= fin['t'] and p['ack'] is not None]
    wire = (fin_seq(fin) - acks[-1]) % 2**32 if fin and acks else None
    sides, _ = tool_json(os.path.join(WORK, 'proc.txt'))
    got = [x.get('unacked_at_fin') for x in sides if x['cookie'] == c['cookie']]
    tap(wire is not None and wire > 0 and got == [wire],
        f'unsent_close: tcptimeline unacked_at_fin {got} = the FIN less the last ack before it '
        f'on the wire ({wire})', [p['line'] for p in conv[:12]])


def check_fin_wait2(socks, recs, pkts):
    """The client's FIN is on the wire and acked, the server's never: tcptimeline says the
    FIN_WAIT2 timer ended the orphan (the expiry's timing is check_tw_expiry's)."""
    c = [s for s in socks if s['role'] == 'client'][0]
    conv = [p for p in pkts if {p['src'], p['dst']} == {(c['laddr'], c['lport']),
                                                         (c['raddr'], c['rport'])}]
    ours = [p for p in conv if p['src'] == (c['laddr'], c['lport']) and 'F' in p['flags']]
    theirs = [p for p in conv if p['src'] == (c['raddr'], c['rport']) and 'F' in p['flags']]
    sides, _ = tool_json(os.path.join(WORK, 'proc.txt'))
    why = [x.get('reason') for x in sides if x['cookie'] == c['cookie']]
    tap(len(ours) == 1 and not theirs and why == ['fin_wait2_timeout'],
        f'fin_wait2: our FIN on the wire, none from the server, tcptimeline says {why}',
        fmt(recs) + [p['line'] for p in conv])


def check_no_route(scen, s, recs):
    """A connect() with no route: its record says ENETUNREACH, the errno connect() returned (the
    scenario fails otherwise), tcptimeline says no_route, and tse's own count of packets it
    could not route (Ip OutNoRoutes or Ip6OutNoRoutes, one connect each) agrees."""
    last = rec(recs, 'connect_error')
    sides, _ = tool_json(os.path.join(WORK, 'proc.txt'))
    why = [(x.get('reason'), x.get('sk_err')) for x in sides if x['cookie'] == s['cookie']]
    snmp = open(os.path.join(WORK, 'tse.snmp.txt')).read()
    want = 'Ip6OutNoRoutes' if scen == 'no_route6' else 'OutNoRoutes'
    if want == 'Ip6OutNoRoutes':
        m = re.search(r'^Ip6OutNoRoutes\s+(\d+)', snmp, re.M)
        count = m and int(m[1])
    else:
        ip = [line.split() for line in snmp.splitlines() if line.startswith('Ip: ')][:2]
        count = int(ip[1][ip[0].index('OutNoRoutes')]) if len(ip) == 2 else None
    tap(last is not None and last['AUX'] == '101' and why == [('no_route', 'ENETUNREACH')]
        and count == 1,
        f'{scen}: connect() failed in CLOSE with ENETUNREACH, its connect_error record says '
        f'so, tcptimeline says no_route, tse counts {want} {count}',
        [f'tcptimeline {why}'] + fmt(recs))


# request_end's aux above its low byte: what freed the request (uapi TCPSTATES_REQ_END_*)
REQ_END = {'timeout': 1, 'ack_dropped': 2, 'listener': 3, 'reset': 4, 'segment': 5}


def check_request_end(r, end, recs, synacks, reason):
    """The request's end record says what freed it, and tcptimeline gives its reason."""
    last = rec(recs, 'request_end')
    aux = int(last['AUX']) if last else None
    sides, _ = tool_json(os.path.join(WORK, 'proc.txt'))
    why = [x.get('reason') for x in sides if x.get('lport') == r['rport']
           and x.get('rport') == r['lport'] and x.get('role') == 'server']
    tap(aux is not None and aux >> 8 == REQ_END[end] and aux & 0xff == len(synacks) - 1
        and why == [reason],
        f"{r['scen']}: request from port {r['lport']} freed by {end} "
        f"({len(synacks)} SYN-ACKs), tcptimeline says {reason}",
        [f'request_end AUX {aux}, want {REQ_END[end]} << 8 | {len(synacks) - 1}',
         f'tcptimeline reason {why}'] + fmt(recs))


def check_request_ends(socks, proc, pkts):
    """Requests freed four ways, each seen on the wire: our RST (seq A + 1); our SYN at A + 1,
    which the kernel's embryonic reset answers with an RST; our final ACK once three children
    filled a backlog-2 listener's accept queue (dropped on the request: a listen_drop record;
    the timer resends the SYN-ACK once, then gives up); none, the listener closed before the
    request's timer fired (its end comes after the listener's CLOSE)."""
    raw = {}
    for s in socks:
        if s['role'] == 'raw_syn':
            raw.setdefault(s['end'], []).append(s)
    lsn = {s['lport']: s for s in socks if s['role'] == 'listener'}
    if {k: len(v) for k, v in raw.items()} != {'reset': 1, 'syn': 1, 'ack': 1, 'child': 3,
                                               'listener': 1} or len(lsn) != 2:
        tap(False, 'request_ends: the raw requests and two listeners reported', [str(socks)])
        return
    kids = [p for r in raw['child'] for p in proc if p['EVENT'] == 'child'
            and p['LPORT'] == str(r['rport']) and p['RPORT'] == str(r['lport'])]
    tap(len(kids) == 3, f"request_ends: the three children that fill port {raw['child'][0]['rport']}'s "
        'accept queue were made', fmt(kids))
    for end, reason, want in (('reset', 'reset_received', 'reset'), ('syn', 'reset', 'segment'),
                              ('ack', 'ack_dropped', 'ack_dropped'),
                              ('listener', 'listener_closed', 'listener')):
        r = raw[end][0]
        recs = [p for p in proc if p['LPORT'] == str(r['rport']) and p['RPORT'] == str(r['lport'])]
        conv = [p for p in pkts if {p['src'], p['dst']} == {(r['laddr'], r['lport']),
                                                             (r['raddr'], r['rport'])}]
        synacks = [p for p in conv if p['src'][1] == r['rport'] and p['flags'] == 'S.']
        ours = [p for p in conv if p['src'][1] == r['lport']][1:]  # after our first SYN
        theirs = [p for p in conv if p['src'][1] == r['rport'] and 'R' in p['flags']]
        A1 = (r['isn'] + 1) & 0xffffffff
        bad = []
        events = [('request', '-', 'NEW_SYN_RECV'), ('request_end', 'NEW_SYN_RECV', '-')]
        if end == 'ack':
            events.insert(1, ('listen_drop', 'NEW_SYN_RECV', 'NEW_SYN_RECV'))
        if seq_of(recs) != events:
            bad.append(f'records: want {events}')
        if end == 'reset' and ([(p['flags'], p['seq']) for p in ours] != [('R', A1)] or theirs):
            bad.append(f'wire: want our one RST at {A1} and none from the server')
        if end == 'syn' and ([(p['flags'], p['seq']) for p in ours] != [('S', A1)] or
                             len(theirs) != 1):
            bad.append(f'wire: want our SYN at {A1} and one RST from the server')
        B1 = synacks and (synacks[0]['seq'] + 1) & 0xffffffff
        # the ACK comes before the timer's first resend, except in a very slow guest: either
        # way its request's timer resends once (tcp_synack_retries 1) and gives up
        if end == 'ack' and ([(p['flags'], p['ack']) for p in ours] != [('.', B1)] or theirs or
                             len(synacks) != 2):
            bad.append(f'wire: want our ACK of {B1}, two SYN-ACKs, and no RST')
        if end == 'listener':
            closed = [p for p in proc if p['COOKIE'] == str(lsn[r['rport']]['cookie'])
                      and p['EVENT'] == 'state' and p['NEWSTATE'] == 'CLOSE']
            last = rec(recs, 'request_end')
            if ours or theirs:
                bad.append('wire: want nothing after the SYN-ACK either way')
            if not closed or not last or int(last['TIME_NS']) < int(closed[0]['TIME_NS']):
                bad.append("want the request's end after the listener's CLOSE")
        tap(bool(synacks) and not bad, f'request_ends: {end}: the wire and the records agree '
            f'({len(synacks)} SYN-ACK(s))', bad + fmt(recs) + [p['line'] for p in conv])
        check_request_end(r, want, recs, synacks, reason)


if __name__ == '__main__':
    try:
        sys.exit(main())
    except Exception:  # a crashed checker is a failure, never a silent pass
        import traceback
        for line in traceback.format_exc().splitlines():
            print(f'# {line}')
        print(f'not ok {n_tests + 1} - scenarios: check.py ran to the end')
        sys.exit(1)
