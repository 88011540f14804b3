#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/metrics/run-guest.sh - runs INSIDE the guest (tests/metrics/run.sh boots it).
#
# The exporter (tcptimeline --metrics) follows /dev/tcpstates while Debian's Prometheus scrapes it
# every second and real connections come and go (tests/scenarios/tcpscen); then PromQL through
# Prometheus' HTTP API must give exactly the counts the traffic made. Hostile HTTP clients (1000
# connections, slowloris, an 8 MB request) run while more traffic is recorded: the records must
# still be counted and the exporter's memory must stay bounded. No fixed sleeps: every wait polls
# for its condition with a deadline.
#
# The traffic runs in a network namespace of its own ("traffic"), the exporter and Prometheus in
# the initial one: the exporter records its own HTTP connections too, and the netns label keeps
# them apart from what is checked. Traffic (loopback of the traffic namespace):
#   7201 client_close x3, 7202 server_close x2, 7203 linger0 x1, 7204 refused x2,
#   7205 client_close x1 while the hostile clients hold the exporter.
# Listener pressure in a namespace of its own ("lq"): 7207 two connections that wait 600 ms
# before accept(), 7208 a backlog-1 listener that never accepts six SYNs.
# Ports to one destination ("pp", 16 ephemeral ports, tcp_tw_reuse 0): 7209 a connection every
# 250 ms, closed by the client first, until connect() finds no port.
# The exporter is asked for ports 7201,7202: every other local port is port="other".
#
# Output: TAP lines "ok N - ..." numbered from 1, no plan (run.sh adds the harness's lines and the
# plan). Exit 0 pass, 1 fail, 4 skip.
set -uo pipefail

TT=tools/tcptimeline
SCEN=tests/scenarios/tcpscen
HOSTILE=tests/metrics/hostile.py
KO=${TCPSTATES_KO:-}
OUT=${TCPSTATES_RESULTS:-/tmp}/metrics
WORK=$(mktemp -d /tmp/metrics.XXXXXX) || exit 1
EXP=127.0.0.1:9185
PROM=127.0.0.1:9090
# shellcheck source=tests/fleet/lib.sh
. tests/fleet/lib.sh

cleanup()
{
	stop_pids
	ip netns del traffic 2>/dev/null
	ip netns del held 2>/dev/null
	ip netns del lq 2>/dev/null
	ip netns del pp 2>/dev/null
	[ -d /sys/module/tcpstates ] && rmmod tcpstates 2>/dev/null
	mkdir -p "$OUT" && cp "$WORK"/*.txt "$WORK"/*.log "$OUT"/ 2>/dev/null
}
trap cleanup EXIT

if [ ! -e /proc/modules ]; then
	echo "ok 1 - metrics # SKIP this kernel cannot load modules"
	exit 4
fi
for f in "$TT" "$SCEN" /usr/bin/prometheus /usr/bin/promtool; do
	if [ ! -x "$f" ]; then
		echo "not ok 1 - metrics: $f missing (make -C tools; make -C tests/scenarios; apt-get install prometheus)"
		exit 1
	fi
done
if ! insmod "$KO" 2> "$WORK/insmod.log"; then
	diag < "$WORK/insmod.log"
	echo "not ok 1 - metrics: insmod $KO"
	exit 1
fi

metric() { # metric NAME: the exporter's own value of a label-less sample
	curl -sf -m 5 "http://$EXP/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}

# promql QUERY: the value of a scalar-ish instant query (sum of the vector; "none" if empty)
promql()
{
	curl -sf -m 10 "http://$PROM/api/v1/query" --data-urlencode "query=$1" |
		python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print("none" if not r else "%g" % sum(float(x["value"][1]) for x in r))'
}

ip netns add traffic && ip -n traffic link set lo up || {
	echo "not ok 1 - metrics: network namespace for the traffic"
	exit 1
}
NS=$(stat -L -c %i /run/netns/traffic)
echo "# traffic in netns $NS"

# 1. the exporter
"$TT" --metrics "$EXP" --metrics-ports 7201,7202 > "$WORK/exporter.log" 2>&1 &
EXPORTER=$!
PIDS+=($EXPORTER)
check "exporter serves /metrics" wait_for 30 curl -sf -m 2 -o /dev/null "http://$EXP/metrics"

# 2. Prometheus, scraping every second, its storage on the guest's tmpfs
cat > "$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: tcpstates
    static_configs:
      - targets: ['$EXP']
EOF
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
	--web.listen-address="$PROM" --log.level=warn > "$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
check "prometheus is ready" wait_for 120 curl -sf -m 2 -o /dev/null "http://$PROM/-/ready"
echo "# $(prometheus --version 2>&1 | head -1)"

# 3. the traffic
scen() { timeout 60 ip netns exec traffic "$SCEN" "$@" >> "$WORK/sockets.txt" 2>> "$WORK/scen.log"; }
traffic_ok=1
scen conv client_close --port 7201 --conns 3 --close client || traffic_ok=0
scen conv server_close --port 7202 --conns 2 --close server || traffic_ok=0
scen conv linger0 --port 7203 --close linger0 || traffic_ok=0
scen refused refused 127.0.0.1 7204 || traffic_ok=0
scen refused refused 127.0.0.1 7204 || traffic_ok=0
[ $traffic_ok = 1 ] || diag < "$WORK/scen.log"
check "traffic ran (client_close x3, server_close x2, linger0, refused x2)" [ $traffic_ok = 1 ]

# 4. hostile clients hold the exporter while one more conversation is recorded
hwm_before=$(awk '/^VmHWM/ { print $2 }' "/proc/$EXPORTER/status")
python3 "$HOSTILE" hold 9185 1000 20 8 > "$WORK/hold.txt" 2>&1 &
HOLD=$!
PIDS+=($HOLD)
scen conv client_close --port 7205 --close client
hostile_traffic=$?
wait $HOLD
# with a slot free: the request itself is what gets it closed
python3 "$HOSTILE" huge 9185 8 > "$WORK/huge.txt" 2>&1
echo "# hold: $(cat "$WORK/hold.txt")"
echo "# huge: $(cat "$WORK/huge.txt")"
# At least 500 of the 1000 must have connected within hostile.py's 5 s: many times the exporter's
# 64-connection limit (tools/cli/exporter.c CONN_LIMIT), so the limit was met and held; fewer,
# and the check would pass on an exporter nobody could reach ("connected 0 of 1000").
held=$(sed -n 's/^connected \([0-9]*\) of 1000, slowloris [0-9]* of 20 .*/\1/p' "$WORK/hold.txt")
check "1000 connections ($held completed, at least 500) and 20 slowloris clients ran against the exporter" \
	eval '[ "${held:-0}" -ge 500 ]'
check "an 8 MB request is rejected" grep -q '^rejected' "$WORK/huge.txt"
check "recording went on under the hostile clients (exporter alive, traffic ran)" \
	eval '[ $hostile_traffic = 0 ] && kill -0 $EXPORTER'
hwm_after=$(awk '/^VmHWM/ { print $2 }' "/proc/$EXPORTER/status")
echo "# exporter peak RSS: ${hwm_before} kB before the hostile clients, ${hwm_after} kB after"
check "exporter memory bounded (peak RSS ${hwm_after} kB < 32768 kB, grew < 8192 kB)" \
	eval '[ "${hwm_after:-999999}" -lt 32768 ] && [ $((hwm_after - hwm_before)) -lt 8192 ]'

# 5. the state gauge, what shows a connection leak: one connection held open in a namespace of
# its own ("held", so the traffic's counts above stay as they are), then half-closed by its
# client. It stays so until the end (stop_pids), so the exposition checked below carries it.
ip netns add held && ip -n held link set lo up
HELD=$(stat -L -c %i /run/netns/held)
ip netns exec held python3 -c '
import os, socket, sys, time
l = socket.socket()
l.bind(("127.0.0.1", 7206))
l.listen()
c = socket.create_connection(("127.0.0.1", 7206))
s, _ = l.accept()
while not os.path.exists(sys.argv[1]):
    time.sleep(0.05)
c.shutdown(socket.SHUT_WR)  # FIN_WAIT2 here, CLOSE_WAIT at the server until it closes
time.sleep(3600)
' "$WORK/half-close" > "$WORK/held.log" 2>&1 &
PIDS+=($!)
gauge() { # gauge STATE N...: the held namespace's connections{state=STATE} is N ("none": no series)
	while [ $# -gt 1 ]; do
		[ "$(promql "sum(tcpstates_connections{netns=\"$HELD\",state=\"$1\"})")" = "$2" ] || return 1
		shift 2
	done
}
check "an open connection is in the gauge: LISTEN 1, ESTABLISHED 2" \
	wait_for 30 gauge LISTEN 1 ESTABLISHED 2
touch "$WORK/half-close"
check "half-closed by its client: FIN_WAIT2 1, CLOSE_WAIT 1, ESTABLISHED none (a CLOSE_WAIT leak)" \
	wait_for 30 gauge FIN_WAIT2 1 CLOSE_WAIT 1 ESTABLISHED none LISTEN 1
diag < "$WORK/held.log"

# 5b. listener pressure: what the listeners of "lq" turned away is what its TcpExt counted
ip netns add lq && ip -n lq link set lo up
LQ=$(stat -L -c %i /run/netns/lq)
lq_mib() { ip netns exec lq cat /proc/net/netstat | awk '$1 == "TcpExt:" { if (!n) { split($0, k); n = 1 }
	else for (i = 2; i <= NF; i++) if (k[i] == "'"$1"'") print $i }'; }
ovf0=$(lq_mib ListenOverflows) drops0=$(lq_mib ListenDrops) cookies0=$(lq_mib SyncookiesSent)
lq_ok=1
timeout 60 ip netns exec lq "$SCEN" listenq slow_accept lq lq 127.0.0.1 7207 8 2 600 \
	>> "$WORK/sockets.txt" 2>> "$WORK/scen.log" || lq_ok=0
timeout 60 ip netns exec lq "$SCEN" listenq listen_overflow lq lq 127.0.0.1 7208 1 6 -1 \
	>> "$WORK/sockets.txt" 2>> "$WORK/scen.log" || lq_ok=0
OVF=$(($(lq_mib ListenOverflows) - ovf0))
TURNED=$(($(lq_mib ListenDrops) - drops0 + $(lq_mib SyncookiesSent) - cookies0))
echo "# lq: TcpExt ListenOverflows +$OVF, ListenDrops + SyncookiesSent +$TURNED"
check "listener pressure ran in lq (slow_accept, listen_overflow: ListenOverflows +$OVF, at least 1)" \
	eval '[ $lq_ok = 1 ] && [ "$OVF" -ge 1 ]'
lq_scraped() { [ "$(promql "sum(tcpstates_listen_drops_total{netns=\"$LQ\"})")" = "$TURNED" ]; }
check "prometheus scraped lq's listen drops ($TURNED)" wait_for 30 lq_scraped

# 5c. ports to one destination: TIME_WAIT fills pp's 16 ports, then connect() fails
# (EADDRNOTAVAIL). Prometheus must hold ss's TIME_WAIT count and no port left, and scrapes
# before the failure a forecast, the last of them putting the ports' end within 1.5 s of it.
ip netns add pp && ip -n pp link set lo up &&
	ip netns exec pp sysctl -qw net.ipv4.ip_local_port_range="40000 40015" net.ipv4.tcp_tw_reuse=0
PP=$(stat -L -c %i /run/netns/pp)
PPL="netns=\"$PP\",peer=\"127.0.0.1:7209\""
timeout 60 "$SCEN" twfill port_pressure pp 127.0.0.1 7209 250 "$WORK/pp-samples.txt" \
	>> "$WORK/sockets.txt" 2>> "$WORK/scen.log"
PPTW=$(ip netns exec pp ss -Htan state time-wait dst 127.0.0.1 dport = :7209 | wc -l)
pp_scraped()
{
	[ "$(promql "sum(tcpstates_destination_time_wait{$PPL})")" = "$PPTW" ] &&
		[ "$(promql "sum(tcpstates_destination_ports_left{$PPL})")" = 0 ] &&
		[ "$(promql "sum(tcpstates_destination_ports_exhausted_seconds{$PPL})")" = 0 ]
}
check "prometheus scraped pp's $PPTW TIME_WAITs to 127.0.0.1:7209 (ss; 16 wanted), no port left" \
	eval '[ "$PPTW" = 16 ] && wait_for 30 pp_scraped'
# the failure on the wall clock Prometheus keeps: tcpscen's CLOCK_MONOTONIC plus the offset now
FAIL=$(python3 -c 'import json, sys, time
off = time.time() - time.clock_gettime(time.CLOCK_MONOTONIC)
print([json.loads(l)["fail_ns"] / 1e9 + off for l in open(sys.argv[1]) if "fail_ns" in l][0])' \
	"$WORK/pp-samples.txt" 2>/dev/null)
curl -sf -m 10 "http://$PROM/api/v1/query" --data-urlencode \
	"query=tcpstates_destination_ports_exhausted_seconds{$PPL}[60s]" > "$WORK/pp-forecast.json"
forecast=$(python3 -c 'import json, sys
fail = float(sys.argv[2])
r = json.load(open(sys.argv[1]))["data"]["result"]
v = [(float(t), float(x)) for s in r for t, x in s["values"] if float(t) < fail and float(x) > 0]
print(" ".join("%.2f:%.2f" % (t - fail, x) for t, x in v))
sys.exit(0 if v and abs(v[-1][0] + v[-1][1] - fail) <= 1.5 else 1)' "$WORK/pp-forecast.json" "${FAIL:-0}")
rc=$?
echo "# pp: scrapes before the failure (seconds before it: forecast) $forecast"
check "pp: scrapes before connect() failed held a forecast, the last within 1.5 s of the failure" [ $rc = 0 ]

# 6. done: every connection of the traffic ended (TIME_WAIT: 60 s); then one scrape after that
settled()
{
	curl -sf -m 5 "http://$EXP/metrics" > "$WORK/settle.txt" &&
		! grep -q "^tcpstates_connections{netns=\"$NS\"" "$WORK/settle.txt"
}
# Where every hook is a kprobe (5.10, 6.1), a hit while another handler runs on its CPU is
# missed and counted (docs/promises.md, "No silent loss"): a side whose end was such a hit stays
# open. That is a skip, and only when the hooks that end or close a side counted at least as many
# misses as the sides left open or the counts below fall short by; anything else fails.
misses_now()
{
	curl -sf -m 5 "http://$EXP/metrics" |
		awk '/^tcpstates_probe_misses_total\{hook="(set_state|time_wait|tw_expire|tw_end)"\}/ { s += $2 }
		     END { print s + 0 }'
}
if wait_for 150 settled; then
	ok "every connection of the traffic ended (within 150 s)"
else
	MISSES=$(misses_now)
	left=$(awk -v ns="netns=\"$NS\"" '/^tcpstates_connections\{/ && index($0, ns) { s += $2 }
		END { print s + 0 }' "$WORK/settle.txt")
	if [ "$MISSES" -ge "$left" ] && [ "$left" -gt 0 ]; then
		skip "every connection of the traffic ended (within 150 s)" \
			"unknown: $left side(s) left open, and the ending hooks counted $MISSES missed hits"
	else
		not_ok "every connection of the traffic ended (within 150 s): $left side(s) left open, $MISSES missed hits"
	fi
fi
MISSES=$(misses_now)
CLOSED=$(awk -v ns="netns=\"$NS\"" '/^tcpstates_connections_closed_total\{/ && index($0, ns) { s += $2 }
	END { print s + 0 }' "$WORK/settle.txt")
scraped() { [ "$(promql "sum(tcpstates_connections_closed_total{netns=\"$NS\"})")" = "$CLOSED" ]; }
check "prometheus scraped the final state ($CLOSED sides closed)" wait_for 30 scraped
curl -sf "http://$EXP/metrics" > "$WORK/metrics.txt"

# 7. PromQL = what the traffic did
expect() { # expect QUERY VALUE WHAT
	local got
	got=$(promql "$1")
	if [ "$got" = "$2" ]; then
		ok "$3: $1 = $2"
	elif [[ "$got" =~ ^[0-9]+$ ]] && [ "$got" -lt "$2" ] && [ $(($2 - got)) -le "$MISSES" ]; then
		# short by no more than the counted misses of the hooks that end a side (above)
		skip "$3: $1 = $2" "unknown: $got, short by $(($2 - got)), and the ending hooks counted $MISSES missed hits"
	else
		not_ok "$3: $1 = $got, expected $2"
	fi
}
expect "sum(tcpstates_connections_closed_total{netns=\"$NS\",role=\"client\",kind=\"active\"})" 4 "clients that closed first"
expect "sum(tcpstates_connections_closed_total{netns=\"$NS\",role=\"server\",kind=\"passive\",port=\"7201\"})" 3 "their servers, on port 7201"
expect "sum(tcpstates_connections_closed_total{netns=\"$NS\",role=\"server\",kind=\"active\",port=\"7202\"})" 2 "servers that closed first, port 7202"
expect "sum(tcpstates_connections_closed_total{netns=\"$NS\",role=\"client\",kind=\"passive\"})" 2 "their clients"
expect "sum(tcpstates_connections_closed_total{netns=\"$NS\",role=\"client\",kind=\"refused\"})" 2 "refused connects"
expect "sum(tcpstates_connections_closed_total{netns=\"$NS\",role=\"listener\",kind=\"listener_closed\"})" 4 "listeners closed"
expect "sum(tcpstates_handshake_seconds_count{netns=\"$NS\",role=\"client\"})" 7 "client handshakes"
expect "sum(tcpstates_handshake_seconds_count{netns=\"$NS\",role=\"server\"})" 7 "server handshakes"
expect "sum(tcpstates_connection_duration_seconds_count{netns=\"$NS\",role=~\"client|server\"})" 16 "connection durations"
expect "sum(tcpstates_resets_sent_total{netns=\"$NS\"})" 1 "resets sent (linger0)"
expect "sum(tcpstates_resets_received_total{netns=\"$NS\"})" 3 "resets received (linger0's server, refused x2)"
expect "sum(tcpstates_transitions_total{netns=\"$NS\",from=\"ESTABLISHED\",to=\"FIN_WAIT1\"})" 6 "FINs sent first"
# why each ended (issue 29): the kernel's own reason names come from 6.10; on 6.1 the records
# prove linger0's client reset in tcp_disconnect() (tcp_state)
expect "sum(tcpstates_close_reasons_total{netns=\"$NS\",reason=\"refused\"})" 2 "close reason refused (refused x2)"
expect "sum(tcpstates_close_reasons_total{netns=\"$NS\",reason=\"reset_received\"})" 1 "close reason reset_received (linger0's server)"
expect "sum(tcpstates_close_reasons_total{netns=\"$NS\",reason=\"tcp_state\"})" 1 "close reason tcp_state (linger0's client, SO_LINGER 0)"
expect "sum(tcpstates_listen_drops_total{netns=\"$LQ\",cause=\"accept_queue\"})" "$OVF" "lq's accept-queue overflows (TcpExt ListenOverflows)"
expect "sum(tcpstates_accept_wait_seconds_count{netns=\"$LQ\"})" 2 "lq's connections accepted"
expect "sum(tcpstates_accept_wait_seconds_count{netns=\"$LQ\"}) - sum(tcpstates_accept_wait_seconds_bucket{netns=\"$LQ\",le=\"0.5\"})" 2 "lq's accept waits over 0.5 s (600 ms)"
expect 'sum(tcpstates_connect_no_port_total)' 1 "connect() that found no port (pp)"
expect 'sum(tcpstates_records_lost_total)' 0 "records lost"
expect "count(count by (port) (tcpstates_connections_closed_total{netns=\"$NS\"}))" 3 "port labels bounded (7201, 7202, other)"

# 8. the format
promtool check metrics < "$WORK/metrics.txt" > "$WORK/promtool.txt" 2>&1
rc=$?
diag < "$WORK/promtool.txt"
check "promtool check metrics reports nothing" eval '[ $rc = 0 ] && [ ! -s "$WORK/promtool.txt" ]'

kill -INT $EXPORTER
wait $EXPORTER
check "exporter exits 0 on SIGINT" [ $? = 0 ]
PIDS=("${PIDS[@]/$EXPORTER/}")
[ "$TAP_FAILED" = 0 ]
