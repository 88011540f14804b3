#!/bin/bash
# In the guest: where did each client's SYN_SENT -> ESTABLISHED run? The module's CTX for the
# record beside the comm the kernel's own tracepoint (sock:inet_sock_set_state) saw.
insmod "$TCPSTATES_KO" || exit 1
T=/sys/kernel/tracing
echo 1 > $T/events/sock/inet_sock_set_state/enable
run() {
	for i in $(seq 1 $1); do
		tests/scenarios/tcpscen conv demo --port 8080 --close client >/dev/null
	done
}
run 30
echo MARK > $T/trace_marker
for c in 1 2; do ( while :; do :; done ) & done
run 30
kill $(jobs -p)
echo 0 > $T/events/sock/inet_sock_set_state/enable
cat /proc/tcpstates > /tmp/rows
cat $T/trace > /tmp/trace
python3 - <<'PY'
import re, collections
h = None; mod = {}; order = {}
for l in open('/tmp/rows'):
    c = l.split()
    if h is None: h = c; continue
    r = dict(zip(h, c))
    if r['RPORT'] == '8080' and r['EVENT'] == 'state' and r['NEWSTATE'] == 'ESTABLISHED':
        mod[r['LPORT']] = r['CTX']
    if r['EVENT'] in ('connect', 'request'):
        port = r['LPORT'] if r['EVENT'] == 'connect' else r['RPORT']
        order.setdefault(port, []).append(r['EVENT'])
tr = {}; loaded = set(); phase = 'idle'
for l in open('/tmp/trace'):
    if 'MARK' in l: phase = 'loaded'
    m = re.match(r'\s*(\S+)-\d+\s.*sport=(\d+) dport=8080 .*oldstate=TCP_SYN_SENT newstate=TCP_ESTABLISHED', l)
    if m:
        tr[m[2]] = re.sub(r'/\d+$', '/N', m[1])
        if phase == 'loaded': loaded.add(m[2])
tab = collections.Counter()
for p, ctx in mod.items():
    tab[('loaded' if p in loaded else 'idle', ctx, tr.get(p, '?'), '>'.join(order.get(p, [])))] += 1
for k, v in sorted(tab.items()):
    print('TAB', *k, v)
PY
