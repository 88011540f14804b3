#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/crosshost/run-guest.sh - runs INSIDE each of the two guests of tests/vm/pair.sh.
#
# Both guests load the module and record (tcptimeline -w) while guest a (the client host) talks to
# guest b (the server host) over their private link (tests/crosshost/peer.py); a also captures the
# packets on its NIC (tcpdump -S). Leaves in /results: the capture (a.tcpcap or b.tcpcap), on a the
# packets (a.pcap) and the client sockets (clients.jsonl), and /proc/tcpstates_stats (a.stats,
# b.stats).
#
# A journal fleet on the same run: each guest is host a or b (hostname, and a machine id of its
# own bound over the host's /etc/machine-id) with a systemd-journald of its own, started here
# (not PID 1; its journal in /run, the host's /var is read-only here), and the recorder adds
# --journal. Once the recorders have stopped, both guests send their journals with
# systemd-journal-upload to the systemd-journal-remote b runs on the link (a file per host in
# /run/journal-remote), and b asks journalctl there for one of a's conversations by its ports,
# from both sides. Leaves too: the machine and boot ids (ROLE.machine-id, ROLE.boot-id), the
# recorder's stderr with its count of entries (ROLE.tcptimeline.err), and on b what
# journal-remote received (journal-remote/) and the query's answer (journal-conversation.json,
# and .txt as journalctl shows it by default).
#
# tests/crosshost/run.sh checks them on the host. Output: "# ..." diagnostics and one
# "ok"/"not ok" line per step that could fail; the journal's steps are named "journal: ..." and
# leave the exit status alone (run.sh checks them apart, so a broken journal cannot hide the
# recording's result, nor the recording the journal's).
# Exit: 0 when every recording step worked, 1 otherwise, 4 skip.
set -uo pipefail

ROLE=${TCPSTATES_PAIR_ROLE:?run by tests/vm/pair.sh}
ADDR=$TCPSTATES_PAIR_ADDR
PEER=$TCPSTATES_PAIR_PEER
RES=${TCPSTATES_RESULTS:-/tmp}
TT=tools/tcptimeline
# the journal fleet: b collects on its address, journal-remote's default port
COLLECTOR=10.254.0.2:19532
JDIR=/run/journal-remote	# tmpfs: journal files are written through mmap, which 9p's /results is not
CONN_ID=1428a57838af4f778f2ad51a38079433	# the MESSAGE_ID of tcptimeline's entry per side
REMOTE='' HEAR=''
rc=0
# shellcheck source=tests/fleet/lib.sh
. tests/fleet/lib.sh

step() { # step NAME COMMAND...
	local name=$1
	shift
	if "$@"; then echo "ok - $ROLE: $name"; else echo "not ok - $ROLE: $name"; rc=1; fi
}
jstep() { # jstep NAME COMMAND...: a step of the journal fleet, checked by run.sh apart (rc alone)
	local name=$1
	shift
	if "$@"; then echo "ok - $ROLE: journal: $name"; else echo "not ok - $ROLE: journal: $name"; return 1; fi
}
forget() { # forget PID: out of PIDS, once it has been stopped and reaped
	local p keep=()
	for p in "${PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
}
listening() { ss -Hltn "sport = :$1" | grep -q .; }
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

# this guest's journald, as host a or b: its journal is the one the recorder's --journal writes to
journald_up()
{
	systemd-id128 new > /run/machine-id && mount --bind /run/machine-id /etc/machine-id &&
		hostname "$ROLE" || return 1
	cp /etc/machine-id "$RES/$ROLE.machine-id"
	cp /proc/sys/kernel/random/boot_id "$RES/$ROLE.boot-id"
	mkdir -p /run/systemd/journald.conf.d
	printf '[Journal]\nStorage=volatile\n' > /run/systemd/journald.conf.d/crosshost.conf
	/lib/systemd/systemd-journald 2> "$RES/$ROLE.journald.err" &
	PIDS+=("$!")
	wait_for 10 test -S /run/systemd/journal/socket
}
# b's systemd-journal-remote: plain HTTP on the link, a journal file per sending host
remote_up()
{
	mkdir -p "$JDIR"
	/lib/systemd/systemd-journal-remote --listen-http="${COLLECTOR#*:}" --output="$JDIR" \
		--split-mode=host 2> "$RES/journal-remote.err" &
	REMOTE=$!
	PIDS+=("$REMOTE")
	wait_for 10 listening "${COLLECTOR#*:}"
}
journal=()
jstep "journald up as $ROLE, machine id of its own" journald_up && journal=(--journal)
if [ "$ROLE" = b ]; then
	jstep "systemd-journal-remote listening on $COLLECTOR" remote_up
	# what a says when its journal is uploaded: the conversation to look up
	python3 tests/crosshost/peer.py hear "$ADDR" 600 > "$RES/uploaded.txt" &
	HEAR=$!
	PIDS+=("$HEAR")
fi

# each capture is labelled by its role, which check.py looks for; without a journald the
# recording goes on without --journal (the journal's checks fail, the recording's still judge)
"$TT" -w "$RES/$ROLE.tcpcap" --hostname "$ROLE" "${journal[@]}" 2> "$RES/$ROLE.tcptimeline.err" &
REC=$!
PIDS+=("$REC")

if [ "$ROLE" = b ]; then
	# serves until a says "done" (a gives up after its own deadline, and so does the boot timeout)
	step "served a's conversations" timeout 600 python3 tests/crosshost/peer.py serve "$ADDR"
else
	tcpdump -i "$nic" -n -U -s 128 -w "$RES/a.pcap" 'tcp portrange 7300-7399' \
		2> "$RES/tcpdump.err" &
	TCPDUMP=$!
	PIDS+=("$TCPDUMP")
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
forget $REC
if [ "$ROLE" = a ]; then
	kill -INT "$TCPDUMP" 2>/dev/null
	wait "$TCPDUMP" 2>/dev/null
	forget "$TCPDUMP"
fi
echo "# $ROLE: $(stat -c %s "$RES/$ROLE.tcpcap") bytes of capture"

# ---- the journal fleet: every entry the recorder sent, in this guest's journal, then to b -----
sent=$(sed -n 's/.*--journal: \([0-9]*\) entries.*/\1/p' "$RES/$ROLE.tcptimeline.err")
in_journal() {
	[ -n "$sent" ] && [ "$sent" -gt 0 ] &&
		[ "$(journalctl -q -t tcptimeline MESSAGE_ID=$CONN_ID -o json | wc -l)" = "$sent" ]
}
jstep "journald holds the ${sent:-no} entries the recorder sent" wait_for 30 in_journal
upload() {
	/lib/systemd/systemd-journal-upload --url="http://$COLLECTOR" -D /run/log/journal \
		--follow=no 2> "$RES/$ROLE.journal-upload.err"
}
jstep "systemd-journal-upload to $COLLECTOR exits 0" upload
if [ "$ROLE" = a ]; then
	# the first conversation, for b to look up (tells b even when the upload failed: b then
	# finds nothing, and says so, rather than waiting for the boot's timeout)
	conv=$(head -n 1 "$RES/clients.jsonl" |
		python3 -c 'import json, sys; c = json.load(sys.stdin); print(c["lport"], c["rport"])')
	jstep "told b the journal is uploaded, and the conversation $conv" \
		python3 tests/crosshost/peer.py tell "$PEER" "uploaded $conv" 120
	exit $rc
fi

wait "$HEAR"
heard=$?
forget "$HEAR"
read -r _ lport rport _ < "$RES/uploaded.txt"
jstep "a's journal uploaded, its conversation ${lport:-?} -> ${rport:-?} to look up" [ $heard = 0 ]
match=("TCPSTATES_LPORT=$lport" "TCPSTATES_RPORT=$rport" + "TCPSTATES_LPORT=$rport" "TCPSTATES_RPORT=$lport")
echo "# b: \$ journalctl -D $JDIR -o json ${match[*]}"
query() {
	[ -n "$lport" ] && [ -n "$rport" ] &&
		journalctl -D "$JDIR" -o json "${match[@]}" > "$RES/journal-conversation.json" &&
		journalctl -D "$JDIR" "${match[@]}" > "$RES/journal-conversation.txt"
}
jstep "journalctl -D $JDIR: the conversation $lport <-> $rport, from both sides" query
diag < "$RES/journal-conversation.txt"
# journal-remote closes its files on SIGTERM
[ -n "$REMOTE" ] && kill "$REMOTE" && wait "$REMOTE"
forget "$REMOTE"
jstep "what journal-remote received, kept in /results" cp -r --sparse=always "$JDIR" "$RES/journal-remote"
exit $rc
