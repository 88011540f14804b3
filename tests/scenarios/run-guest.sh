#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/scenarios/run-guest.sh - runs INSIDE the test VM (tests/vm/suite.sh boots it).
#
# Loads the module, then makes every kind of connection life happen (tcpscen.c) while three
# independent witnesses watch: the module itself (a /dev/tcpstates reader for the whole run, and
# `cat /proc/tcpstates` at the end), tcpdump -S on every interface the traffic crosses, and the
# kernel's own sock:inet_sock_set_state tracepoint. check.py then asserts, per scenario and per
# socket, the exact event sequence, process attribution, the ISNs and FIN sequence numbers against
# the capture, the tracepoint's transitions, and that /proc and /dev agree record for record.
#
# Scenarios (ports 7101-7135; namespaces tsa/tsb joined by a veth pair, tsc/tsd by a veth pair with
# 150 ms netem delay each way, tst with a dummy interface that swallows everything, tso whose
# tcp_max_tw_buckets is 0, tse with two ephemeral ports, tsk that answers every SYN with a cookie,
# tsp with 32 ephemeral ports and no TIME_WAIT reuse):
#   port_pressure client_close server_close simultaneous_close ipv6 mapped netns_veth half_close shutdown_close
#   unsent_close
#   tw_reuse tw_overflow, which enter TIME_WAIT (or fail to), first; then linger0_reset
#   unread_reset refused syn_timeout listen_close half_open syn_noroute fin_wait2 noport no_route
#   no_route6
#   syn_race ack_race request_ends
#   rto_timeout user_timeout keepalive_timeout probe_timeout listen_overflow listen_syncookies
#   slow_accept unreachable.
#
# Time is controlled, never raced: the snapshot is taken only once every socket the scenarios
# made is gone from every namespace (ss shows none on ports 7100-7199), so every TIME_WAIT has
# ended and every life is complete. The lives are then the same on every run and every kernel,
# and so is the number of checks.
#
# Output: TAP lines from check.py; raw material in $TCPSTATES_RESULTS/scenarios/.
# Exit: 0 all passed, 1 a check failed, 4 skipped (no module support).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
KO=${TCPSTATES_KO:-}
OUT=${TCPSTATES_RESULTS:-/tmp}/scenarios
WORK=$(mktemp -d /tmp/scenarios.XXXXXX) || exit 1
TRACE=/sys/kernel/tracing
PIDS=()
NAMESPACES="tsa tsb tsc tsd tst tso tse tsk tsp"
PORTS='( sport >= :7100 and sport <= :7199 ) or ( dport >= :7100 and dport <= :7199 )'

diag() { sed 's/^/# /'; }

cleanup()
{
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	echo 0 > "$TRACE/events/sock/inet_sock_set_state/enable" 2>/dev/null
	for ns in $NAMESPACES; do
		ip netns del "$ns" 2>/dev/null
	done
	[ -d /sys/module/tcpstates ] && rmmod tcpstates 2>/dev/null
}
trap cleanup EXIT

if [ ! -e /proc/modules ]; then
	echo "ok - scenarios # SKIP this kernel cannot load modules"
	exit 4
fi
if [ -z "$KO" ] || [ ! -f "$KO" ]; then
	echo "not ok - scenarios: module not built (TCPSTATES_KO=$KO)"
	exit 1
fi
mkdir -p "$OUT"

# The guest's root is the host's, read-only: build tcpscen here if the host copy is stale.
SCEN=$HERE/tcpscen
if [ ! -x "$SCEN" ] || [ "$SCEN" -ot "$HERE/tcpscen.c" ]; then
	SCEN=$WORK/tcpscen
	if ! ${CC:-gcc} -O2 -std=gnu11 -pthread -Wall -Wextra -Werror -o "$SCEN" "$HERE/tcpscen.c" \
		2> "$WORK/cc.err"; then
		diag < "$WORK/cc.err"
		echo "not ok - scenarios: tcpscen builds"
		exit 1
	fi
fi

# --- the network: namespaces, veth pairs, a delayed pair, a black hole ---
setup_net()
{
	local ns
	for ns in $NAMESPACES; do
		ip netns add "$ns" && ip -n "$ns" link set lo up || return 1
	done
	ip link add veth-a netns tsa type veth peer name veth-b netns tsb || return 1
	ip -n tsa addr add 10.252.0.1/24 dev veth-a && ip -n tsa link set veth-a up &&
	ip -n tsb addr add 10.252.0.2/24 dev veth-b && ip -n tsb link set veth-b up || return 1
	# half_open: SYN-ACKs to 10.252.0.77 go to a MAC nobody has, so no RST ever comes back.
	ip -n tsb neigh add 10.252.0.77 lladdr 02:00:00:00:00:77 dev veth-b nud permanent &&
	ip netns exec tsb sysctl -qw net.ipv4.tcp_synack_retries=1 || return 1
	# syn_noroute: tsb has no route to 192.0.2.0/24, and no reverse-path filter drops the SYN
	# before TCP sees it.
	ip netns exec tsb sysctl -qw net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.veth-b.rp_filter=0 || return 1
	# rto_timeout, user_timeout, keepalive_timeout, probe_timeout: a server address each (.3 to
	# .6) whose neighbour entry in tsa the scenario then points at a MAC nobody has: the path is
	# cut, no RST or ICMP comes back. To .3, .4 and .6 the RTO starts at 200 ms (quick_routes leaves routes
	# that have an rto_min alone), tsa gives up after 3 retransmissions (about 3 s), and sends
	# no tail loss probe, which is a retransmission the timers do not count.
	ip -n tsb addr add 10.252.0.3/32 dev veth-b && ip -n tsb addr add 10.252.0.4/32 dev veth-b &&
	ip -n tsb addr add 10.252.0.5/32 dev veth-b && ip -n tsb addr add 10.252.0.6/32 dev veth-b ||
		return 1
	ip -n tsa route add 10.252.0.3/32 dev veth-a quickack 1 rto_min 200ms &&
	ip -n tsa route add 10.252.0.4/32 dev veth-a quickack 1 rto_min 200ms &&
	ip -n tsa route add 10.252.0.6/32 dev veth-a quickack 1 rto_min 200ms &&
	ip netns exec tsa sysctl -qw net.ipv4.tcp_retries2=3 net.ipv4.tcp_early_retrans=0 || return 1
	# unreachable: tsa reaches 10.9.9.0/24 through tsb, a router whose route there is
	# "unreachable": it answers the SYN with an ICMP host unreachable (forwarding on, or it
	# would drop it in silence), which ends the connect() with EHOSTUNREACH.
	ip -n tsa route add 10.9.9.0/24 via 10.252.0.2 && ip -n tsb route add unreachable 10.9.9.0/24 &&
	ip netns exec tsb sysctl -qw net.ipv4.ip_forward=1 || return 1

	ip link add veth-c netns tsc type veth peer name veth-d netns tsd || return 1
	ip -n tsc addr add 10.253.0.1/24 dev veth-c && ip -n tsc link set veth-c up &&
	ip -n tsd addr add 10.253.0.2/24 dev veth-d && ip -n tsd link set veth-d up || return 1
	# simultaneous_close: both FINs are in flight at once; shutdown_close: close() runs while
	# the FIN is unacknowledged. 150 ms each way keeps the RTT (300 ms) well under the SYN's
	# 1 s retransmission timeout.
	ip netns exec tsc tc qdisc add dev veth-c root netem delay 150ms &&
	ip netns exec tsd tc qdisc add dev veth-d root netem delay 150ms || return 1
	# tw_overflow: no timewait socket can be had in tso.
	ip netns exec tso sysctl -qw net.ipv4.tcp_max_tw_buckets=0 || return 1
	# noport: two ephemeral ports, so the third connect() to one destination finds none.
	ip netns exec tse sysctl -qw net.ipv4.ip_local_port_range="40000 40001" || return 1
	# port_pressure: 16 ephemeral ports (an even low, an odd high: the kernel warns otherwise),
	# and no TIME_WAIT taken over by a new connect() (tcp_tw_reuse 2, the default, allows it on
	# loopback): each TIME_WAIT holds its port for its 60 s.
	ip netns exec tsp sysctl -qw net.ipv4.ip_local_port_range="40000 40015" \
		net.ipv4.tcp_tw_reuse=0 || return 1
	# listen_syncookies: every SYN is answered with a cookie, none queued.
	ip netns exec tsk sysctl -qw net.ipv4.tcp_syncookies=2 || return 1

	ip -n tst link add dummy0 type dummy && ip -n tst addr add 10.250.0.1/24 dev dummy0 &&
	ip -n tst link set dummy0 up && ip netns exec tst sysctl -qw net.ipv4.tcp_syn_retries=1
}

# Every route the conversations use gets quickack (no delayed ACK: each ACK leaves when its
# segment arrives, not when a timer that a loaded emulator can run late fires) and an rto_min of
# 5 s (no retransmission unless the guest stalls for seconds). A delayed ACK caught up by the
# next FIN, or a FIN retransmitted into TIME_WAIT, would change a life's sequence; with these the
# sequence is the same whatever the host's load. (Only for the traffic of this suite: rto_min
# does not touch the SYN's 1 s initial timeout, which syn_timeout and half_open rely on.)
quick_routes()
{
	local ns=$1 run=()
	[ -n "$ns" ] && run=(ip netns exec "$ns")
	"${run[@]}" ip route show table all | grep -vE '^(broadcast|multicast|unreachable|anycast)' |
		grep -E '^(local )?[0-9]' | grep -v ' rto_min ' | while read -r r; do
		# shellcheck disable=SC2086
		"${run[@]}" ip route replace $r quickack 1 rto_min 5s || return 1
	done
	"${run[@]}" ip -6 route show table all | grep -E '^(local )?(::1|fe80|[0-9a-f]+:)' |
		grep -vE '^(multicast|anycast)|fe80::/64 dev lo' | while read -r r; do
		# shellcheck disable=SC2086
		"${run[@]}" ip -6 route replace $r quickack 1 rto_min 5s || return 1
	done
}

# Each step says when it is done: under the debug kernel on a busy host this setup is a hundred
# commands at several seconds each, and the harness's stall watchdog (tests/vm/vm.sh --stall)
# counts these lines as progress; a setup that does hang then shows where.
net_failed()
{
	diag < "$WORK/net.err"
	echo "not ok - scenarios: network namespaces, veth, netem and dummy set up"
	exit 1
}
t_net=$SECONDS
modprobe -q veth; modprobe -q sch_netem; modprobe -q dummy
setup_net > "$WORK/net.err" 2>&1 || net_failed
echo "# namespaces, veth, netem and dummy set up ($((SECONDS - t_net)) s)"
for ns in "" tsa tsb tsc tsd tso; do
	quick_routes "$ns" >> "$WORK/net.err" 2>&1 || net_failed
	echo "# quickack and rto_min on the routes of ${ns:-the initial namespace} ($((SECONDS - t_net)) s)"
done

# --- witnesses ---
# start_capture NAME NETNS IFACE [FILTER]: tcpdump -S of ports 7100-7199 (or of FILTER), up
# before any traffic.
start_capture()
{
	local name=$1 ns=$2 ifc=$3 filter=${4:-tcp portrange 7100-7199} i
	local run=()
	[ -n "$ns" ] && run=(ip netns exec "$ns")
	"${run[@]}" tcpdump -i "$ifc" -n -U -s 128 -w "$WORK/$name.pcap" "$filter" \
		2> "$WORK/$name.tcpdump.err" &
	PIDS+=($!)
	for i in $(seq 100); do
		grep -q "listening on" "$WORK/$name.tcpdump.err" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "# tcpdump on $ifc did not start:"; diag < "$WORK/$name.tcpdump.err"
	return 1
}

if ! insmod "$KO" 2> "$WORK/insmod.err"; then
	diag < "$WORK/insmod.err"; dmesg | tail -5 | diag
	echo "not ok - scenarios: insmod $KO"
	exit 1
fi
echo "# $(dmesg | grep 'tcpstates: loaded' | tail -1)"

echo > "$TRACE/trace"
echo 1 > "$TRACE/events/sock/inet_sock_set_state/enable" || echo "# tracepoint unavailable"
# Every RST a socket sends, and from 6.10 the kernel's reason for it: the witness of reset_sent.
echo 1 > "$TRACE/events/tcp/tcp_send_reset/enable" || echo "# tcp_send_reset tracepoint unavailable"
# The initial namespace's TcpExt counters before and after: TCPAbortOnClose and TCPAbortOnData
# count the resets close() sends, which the tool's close reasons must match.
# netstat_of < /proc/net/netstat: the TcpExt lines as NAME VALUE
netstat_of() {
	awk '$1 == "TcpExt:" { if (!n) { split($0, k); n = 1 } else
		for (i = 2; i <= NF; i++) print k[i], $i }'
}
netstat_of < /proc/net/netstat > "$WORK/netstat0.txt"
# tsa's: TCPAbortOnTimeout and TCPKeepAlive witness the timers that gave up there.
ip netns exec tsa cat /proc/net/netstat | netstat_of > "$WORK/tsa.netstat0.txt"
# tsd's and tsk's: what their listeners turned away (listen_overflow, listen_syncookies).
for ns in tsd tsk; do
	ip netns exec "$ns" cat /proc/net/netstat | netstat_of > "$WORK/$ns.netstat0.txt"
done
stat -L -c %i /proc/self/ns/net > "$WORK/root_netns.txt"
# ack_race's witness: every child inet_ehash_nolisten() could not hash in its request's place
# (the loser of two CPUs completing one request) is a return value of 0 here.
{ echo 'r:tcpscen/ehash_nolisten inet_ehash_nolisten ret=$retval:u8' >> "$TRACE/kprobe_events" &&
	echo 1 > "$TRACE/events/tcpscen/ehash_nolisten/enable"; } 2>/dev/null ||
	echo "# kretprobe event on inet_ehash_nolisten unavailable"

"$SCEN" devread "$WORK/dev.bin" > "$WORK/devread.out" 2>&1 &
DEVREAD=$!
PIDS+=($DEVREAD)
start_capture lo "" lo && start_capture tsa tsa veth-a && start_capture tsc tsc veth-c &&
	start_capture tsa_icmp tsa veth-a icmp &&
	start_capture tst tst dummy0 && start_capture tso tso lo && start_capture tse tse lo ||
	{ echo "not ok - scenarios: captures start"; exit 1; }

# --- the scenarios: each appends its sockets to sockets.jsonl ---
SOCKETS=$WORK/sockets.jsonl
: > "$SOCKETS"
scenario()
{
	local name=$1 t0=$EPOCHREALTIME
	shift
	if ! timeout 60 "$@" >> "$SOCKETS" 2> "$WORK/$name.err"; then
		echo "# scenario $name failed to run: $*"
		diag < "$WORK/$name.err"
		echo "{\"scen\":\"$name\",\"role\":\"failed\"}" >> "$SOCKETS"
	fi
	awk -v n="$name" -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "# scenario %s ran in %.1f s\n", n, b - a }'
}

# Lives that enter TIME_WAIT (or are refused it) first, so their 60 s run beside the others.
# port_pressure: 16 connections 200 ms apart, then the 17th connect() finds no port (16, not
# more: on the KASAN kernel each sample's ss takes 1.3 s, and a scenario has 60 s).
scenario port_pressure "$SCEN" twfill port_pressure tsp 127.0.0.1 7128 200 \
	"$WORK/port_pressure.samples.jsonl"
scenario client_close "$SCEN" conv client_close --port 7101 --close client
scenario server_close "$SCEN" conv server_close --port 7102 --close server
scenario simultaneous_close "$SCEN" conv simultaneous_close --server 10.253.0.2 --port 7103 \
	--server-netns tsd --client-netns tsc --close both
scenario ipv6 "$SCEN" conv ipv6 --server ::1 --port 7110 --close client
scenario mapped "$SCEN" conv mapped --server ::ffff:127.0.0.1 --port 7111 --close client
scenario netns_veth "$SCEN" conv netns_veth --server 10.252.0.2 --port 7112 \
	--server-netns tsb --client-netns tsa --close client
scenario half_close "$SCEN" conv half_close --port 7113 --close half
scenario shutdown_close "$SCEN" conv shutdown_close --server 10.253.0.2 --port 7115 \
	--server-netns tsd --client-netns tsc --close shutdown
scenario unsent_close "$SCEN" conv unsent_close --server 10.253.0.2 --port 7135 \
	--server-netns tsd --client-netns tsc --close unsent
scenario tw_reuse "$SCEN" conv tw_reuse --port 7114 --client-port 47114 --conns 2 \
	--reuse-gap-ms 1500 --close client
scenario tw_overflow "$SCEN" conv tw_overflow --port 7116 --server-netns tso \
	--client-netns tso --close client
scenario linger0_reset "$SCEN" conv linger0_reset --port 7104 --close linger0
scenario unread_reset "$SCEN" conv unread_reset --port 7105 --close unread
scenario refused "$SCEN" refused refused 127.0.0.1 7106
scenario syn_timeout "$SCEN" timeout syn_timeout tst 10.250.0.2 7107
scenario listen_close "$SCEN" listen listen_close 127.0.0.1 7108
scenario half_open "$SCEN" halfopen half_open tsa tsb 10.252.0.77 10.252.0.2 7109 4500
scenario syn_noroute "$SCEN" halfopen syn_noroute tsa tsb 192.0.2.7 10.252.0.2 7117 1000
# The client's orphan waits in FIN_WAIT2 for a FIN that never comes. In tse: the kernel arms
# FIN_WAIT2 for at least 3.5 RTOs, and quick_routes' rto_min of 5 s would make that 17.5 s.
scenario fin_wait2 "$SCEN" conv fin_wait2 --port 7134 --server-netns tse --client-netns tse \
	--close finwait2
scenario noport "$SCEN" noport noport tse 127.0.0.1 7118
# tse has routes only for its loopback: a connect() elsewhere fails in CLOSE (ENETUNREACH).
scenario no_route "$SCEN" noroute no_route tse 192.0.2.1 7132
scenario no_route6 "$SCEN" noroute no_route6 tse 2001:db8::1 7133
scenario syn_race "$SCEN" synrace syn_race tsa tsb 10.252.0.77 10.252.0.2 7119 100
scenario ack_race "$SCEN" ackrace ack_race tsa tsb 10.252.0.77 10.252.0.2 7120 100 veth-a
# Three requests ended three ways: an RST, a SYN in the window, the listener closed (tcpscen.c).
scenario request_ends "$SCEN" reqends request_ends tsa tsb 10.252.0.77 10.252.0.2 7130 veth-a
# The path cut once established: a timer of the client's gives up (ETIMEDOUT).
cut_path() { echo "ip -n tsa neigh replace $1 lladdr 02:00:00:00:00:99 dev veth-a nud permanent"; }
scenario rto_timeout "$SCEN" conv rto_timeout --server 10.252.0.3 --port 7121 \
	--server-netns tsb --client-netns tsa --close rto --cut "$(cut_path 10.252.0.3)"
scenario user_timeout "$SCEN" conv user_timeout --server 10.252.0.4 --port 7122 \
	--server-netns tsb --client-netns tsa --close usertimeout --cut "$(cut_path 10.252.0.4)"
scenario keepalive_timeout "$SCEN" conv keepalive_timeout --server 10.252.0.5 --port 7123 \
	--server-netns tsb --client-netns tsa --close keepalive --cut "$(cut_path 10.252.0.5)"
scenario probe_timeout "$SCEN" conv probe_timeout --server 10.252.0.6 --port 7124 \
	--server-netns tsb --client-netns tsa --close zerowindow --cut "$(cut_path 10.252.0.6)"
# Listener pressure. A backlog-1 listener in tsd that never accepts, 8 SYNs 50 ms apart over the
# 300 ms RTT: requests made while its accept queue had room get their final ACK when it is full
# (dropped on the request), later SYNs find it full (dropped on the listener). Then tsk's SYN
# cookies, and a listener that lets three connections wait 400 ms before accept().
scenario listen_overflow "$SCEN" listenq listen_overflow tsd tsc 10.253.0.2 7125 1 8 -1
scenario listen_syncookies "$SCEN" listenq listen_syncookies tsk tsk 127.0.0.1 7126 8 3 100
scenario slow_accept "$SCEN" listenq slow_accept tsa tsa 127.0.0.1 7127 8 3 400
# A router on the way says the host is unreachable (tsb's "unreachable" route).
scenario unreachable "$SCEN" unreachable unreachable tsa 10.9.9.9 7129

# Every socket of every scenario must be gone, in every namespace: TIME_WAIT ends 60 s after it
# was last armed, so this takes a minute after the last TIME_WAIT began, and never ends early.
# The bound only catches a socket that never goes away.
sockets_left()
{
	local ns
	for ns in "" $NAMESPACES; do
		${ns:+ip netns exec "$ns"} ss -Htan "$PORTS" 2>/dev/null
	done | grep -c .
}
t_wait=$(date +%s)
while left=$(sockets_left) && [ "$left" -gt 0 ]; do
	if [ $(($(date +%s) - t_wait)) -gt 150 ]; then
		echo "# sockets still there after 150 s:"
		for ns in "" $NAMESPACES; do ${ns:+ip netns exec "$ns"} ss -Htan "$PORTS"; done | diag
		break
	fi
	sleep 1
done
echo "# every scenario socket gone $(($(date +%s) - t_wait)) s after the last scenario"

# --- collect ---
# /proc first: the reader then drains everything committed by then (and maybe a little more,
# which check.py leaves out), so both hold every record up to the snapshot's last SEQ.
cat /proc/tcpstates > "$WORK/proc.txt"
cat /proc/tcpstates_stats > "$WORK/stats.txt"
ip netns exec tso cat /proc/net/netstat | netstat_of > "$WORK/tso.netstat.txt"
# no_route's witness: the connects tse could not route (Ip OutNoRoutes, Ip6OutNoRoutes).
ip netns exec tse cat /proc/net/snmp /proc/net/snmp6 > "$WORK/tse.snmp.txt"
netstat_of < /proc/net/netstat > "$WORK/netstat1.txt"
ip netns exec tsa cat /proc/net/netstat | netstat_of > "$WORK/tsa.netstat1.txt"
for ns in tsd tsk; do
	ip netns exec "$ns" cat /proc/net/netstat | netstat_of > "$WORK/$ns.netstat1.txt"
done
kill -TERM "$DEVREAD"; wait "$DEVREAD" 2>/dev/null
echo 0 > "$TRACE/events/sock/inet_sock_set_state/enable"
echo 0 > "$TRACE/events/tcp/tcp_send_reset/enable" 2>/dev/null
echo 0 > "$TRACE/events/tcpscen/ehash_nolisten/enable" 2>/dev/null
cat "$TRACE/trace" > "$WORK/trace.txt"
echo '-:tcpscen/ehash_nolisten' >> "$TRACE/kprobe_events" 2>/dev/null
for p in "${PIDS[@]}"; do
	kill -INT "$p" 2>/dev/null
done
wait 2>/dev/null
PIDS=()
for name in lo tsa tsa_icmp tsc tst tso tse; do
	tcpdump -n -S -tt -r "$WORK/$name.pcap" > "$WORK/$name.pcap.txt" 2>/dev/null
done
cp "$WORK"/{proc.txt,stats.txt,*netstat*.txt,*.snmp.txt,root_netns.txt,dev.bin,sockets.jsonl,trace.txt,*.pcap.txt,*.samples.jsonl} \
	"$OUT/" 2>/dev/null

python3 "$HERE/check.py" "$WORK"
rc=$?

if rmmod tcpstates 2> "$WORK/rmmod.err"; then
	echo "ok - scenarios: rmmod once the readers are gone"
else
	diag < "$WORK/rmmod.err"
	echo "not ok - scenarios: rmmod once the readers are gone"
	rc=1
fi
exit $rc
