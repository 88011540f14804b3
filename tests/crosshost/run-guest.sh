#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/crosshost/run-guest.sh - runs INSIDE each of the two guests of tests/vm/pair.sh.
#
# Both guests load the module and record (tcptimeline -w) while guest a (the client host) talks to
# guest b (the server host) over their private link (tests/crosshost/peer.py); a also captures the
# packets on its NIC (tcpdump -S). Leaves in /results: the capture (a.tcpcap or b.tcpcap), on a the
# packets (a.pcap) and the client sockets (clients.jsonl), and /proc/tcpstates_stats (a.stats,
# b.stats). tests/crosshost/run.sh checks them on the host. Output: "# ..." diagnostics and one "ok"/"not ok" line per step that could fail.
# Exit: 0 when every step worked, 1 otherwise, 4 skip.
set -uo pipefail

ROLE=${TCPSTATES_PAIR_ROLE:?run by tests/vm/pair.sh}
ADDR=$TCPSTATES_PAIR_ADDR
PEER=$TCPSTATES_PAIR_PEER
RES=${TCPSTATES_RESULTS:-/tmp}
TT=tools/tcptimeline
rc=0
# shellcheck source=tests/fleet/lib.sh
. tests/fleet/lib.sh

step() { # step NAME COMMAND...
	local name=$1
	shift
	if "$@"; then echo "ok - $ROLE: $name"; else echo "not ok - $ROLE: $name"; rc=1; fi
}
cleanup()
{
	stop_pids
	[ -d /sys/module/tcpstates ] && rmmod tcpstates 2>/dev/null
}
trap cleanup EXIT

if [ ! -e /proc/modules ]; then
	echo "ok - $ROLE: crosshost # SKIP this kernel cannot load modules"
	exit 4
fi
step "insmod" insmod "$TCPSTATES_KO" || exit 1
modprobe -q virtio_net
nic=
for _ in $(seq 100); do
	nic=$(ip -o link show | awk -F': ' '$2 != "lo" { print $2; exit }')
	[ -n "$nic" ] && break
	sleep 0.1
done
link_up() { ip addr add "$ADDR/24" dev "$nic" && ip link set "$nic" up; }
step "link $nic up as $ADDR" link_up || exit 1

# both guests are tcpstates-vm: each capture is labelled by its role, which check.py looks for
"$TT" -w "$RES/$ROLE.tcpcap" --hostname "$ROLE" 2> "$RES/$ROLE.tcptimeline.err" &
REC=$!
PIDS+=($REC)

if [ "$ROLE" = b ]; then
	# serves until a says "done" (a gives up after its own deadline, and so does the boot timeout)
	step "served a's conversations" timeout 600 python3 tests/crosshost/peer.py serve "$ADDR"
else
	tcpdump -i "$nic" -n -U -s 128 -w "$RES/a.pcap" 'tcp portrange 7300-7399' \
		2> "$RES/tcpdump.err" &
	PIDS+=($!)
	tcpdump_up() { grep -q "listening on" "$RES/tcpdump.err" 2>/dev/null; }
	step "tcpdump listening on $nic" wait_for 10 tcpdump_up
	step "b answers on $PEER:7399 (b booted)" python3 tests/crosshost/peer.py wait "$PEER" 400 || exit 1
	talk() { python3 tests/crosshost/peer.py talk "$PEER" > "$RES/clients.jsonl"; }
	step "conversations with b" talk
	step "told b to stop" python3 tests/crosshost/peer.py done "$PEER"
fi

# the recorder writes what it read when SIGINT ends it
kill -INT $REC
wait $REC
step "recorder exits 0" [ $? = 0 ]
# what the module counted, missed probe hits included, for check.py
cat /proc/tcpstates_stats > "$RES/$ROLE.stats"
PIDS=("${PIDS[@]/$REC/}")
if [ "$ROLE" = a ]; then
	for p in "${PIDS[@]}"; do
		[ -n "$p" ] && kill -INT "$p" 2>/dev/null
	done
	wait 2>/dev/null
	PIDS=()
fi
echo "# $ROLE: $(stat -c %s "$RES/$ROLE.tcpcap") bytes of capture"
exit $rc
