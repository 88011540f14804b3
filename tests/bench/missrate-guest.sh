#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/missrate-guest.sh - runs INSIDE the guest (tests/bench/missrate.sh boots it).
#
# How many probe hits the kprobe core misses per million records, under a fixed load. The guest
# has two virtio-net NICs wired to each other through the host (QEMU's socket backend, UDP on
# 127.0.0.1): "wa" stays here as 10.27.0.1, "wb" goes into network namespace "wire" as 10.27.0.2.
# A connection across them reaches TCP by interrupt: the NIC's interrupt raises NET_RX, and
# irq_exit() runs it on whatever that CPU was doing, a probe handler in task context included.
# Loopback churn alone runs its softirqs from local_bh_enable(), outside any handler.
#
# Load (MISSRATE_LOAD, default "nic lo"): "nic" = `stress churn` with 2 client threads from here
# to a server in "wire"; "lo" = the same over 127.0.0.1. TIME_WAIT sockets live 60 s, so a run
# longer than that also has their expiries in the timer softirq. The module is loaded with a ring
# of 2 Mi records (MISSRATE_CAPACITY), so that the records of a whole run stay in it and can be
# counted by kind at the end. The churn stops once `written` reaches MISSRATE_RECORDS (1000000)
# or after MISSRATE_MAX_S (300) seconds, whichever comes first.
#
# Prints "# " lines (progress, interrupt and softirq counts) and the result lines:
#   missrate KEY=VALUE ...   kernel, variant, seconds, conns, written, state records, missed,
#                            misses per million records
#   missed_<hook> N          for every hook, as /proc/tcpstates_stats says it
#   mechanism_<hook> M
#   kind <name> N            the records in the ring by kind (all of them if oldest is 0)
# The stats file as read at the end is kept in $TCPSTATES_RESULTS/stats.txt.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
KO=${TCPSTATES_KO:-}
RECORDS=${MISSRATE_RECORDS:-1000000}
MAX_S=${MISSRATE_MAX_S:-300}
CAPACITY=${MISSRATE_CAPACITY:-2097152}
LOAD=${MISSRATE_LOAD:-nic lo}
VARIANT=${MISSRATE_VARIANT:-module}
RES=${TCPSTATES_RESULTS:-/tmp}
STATS=/proc/tcpstates_stats
WORK=$(mktemp -d /tmp/missrate.XXXXXX) || exit 1
BG=()

cleanup()
{
	[ ${#BG[@]} = 0 ] || kill "${BG[@]}" 2>/dev/null
	wait 2>/dev/null
	ip netns del wire 2>/dev/null
	[ ! -d /sys/module/tcpstates ] || rmmod tcpstates 2>/dev/null
}
trap cleanup EXIT

die()
{
	echo "missrate: error: $*"
	exit 1
}

if [ -z "$KO" ] || [ ! -f "$KO" ]; then
	die "no module built (TCPSTATES_KO=$KO)"
fi
STRESS=$HERE/../stress/stress
[ -x "$STRESS" ] || die "$STRESS not built (make -C tests/stress)"

# stat NAME: one value of /proc/tcpstates_stats
stat_of()
{
	awk -v k="$1" '$1 == k { print $2 }' "$STATS"
}

# nic_by_mac MAC: the interface with that address
nic_by_mac()
{
	local d
	for d in /sys/class/net/*; do
		[ "$(cat "$d/address")" = "$1" ] && { basename "$d"; return 0; }
	done
	return 1
}

# irq_lines: the interrupt counts that matter, summed over CPUs (virtio NICs, local timer)
irq_lines()
{
	awk '/virtio[0-9]+-(input|output|config)|LOC:/ {
		s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i
		name = $NF; if ($1 == "LOC:") name = "LOC"
		print name, s }' /proc/interrupts
}

modprobe virtio_net || die "modprobe virtio_net"
if ! wa=$(nic_by_mac 52:54:00:27:00:01) || ! wb=$(nic_by_mac 52:54:00:27:00:02); then
	die "the two NICs (52:54:00:27:00:01/02) are not there: $(echo /sys/class/net/*)"
fi
ip netns add wire || die "ip netns add wire"
ip link set "$wb" netns wire
ip -n wire link set lo up
ip -n wire addr add 10.27.0.2/24 dev "$wb"
ip -n wire link set "$wb" up
ip addr add 10.27.0.1/24 dev "$wa"
ip link set "$wa" up
# one ping both ways: the wire works before anything is measured
for ((i = 0; i < 20; i++)); do
	busybox ping -c1 -W1 10.27.0.2 >/dev/null 2>&1 && break
done
busybox ping -c1 -W2 10.27.0.2 >/dev/null 2>&1 || die "10.27.0.2 does not answer across the NICs"
# every TIME_WAIT socket kept (none refused for want of buckets): the timer softirq expires them
sysctl -qw net.ipv4.tcp_max_tw_buckets=1000000
ip netns exec wire sysctl -qw net.ipv4.tcp_max_tw_buckets=1000000

insmod "$KO" capacity="$CAPACITY" || die "insmod $KO capacity=$CAPACITY"
echo "# $(uname -r), variant $VARIANT, $(nproc) CPUs, load: $LOAD, until $RECORDS records or $MAX_S s"
echo "# mechanisms: $(awk '/^mechanism_/ { sub("mechanism_", ""); printf "%s=%s ", $1, $2 }' "$STATS")"

irq_lines >"$WORK/irq0"
cp /proc/softirqs "$WORK/softirqs0"
t0=$EPOCHREALTIME
for l in $LOAD; do
	case $l in
	nic) "$STRESS" churn "$MAX_S" 2 10.27.0.2 7427 /run/netns/wire >"$WORK/churn.nic" 2>&1 & BG+=($!) ;;
	lo) "$STRESS" churn "$MAX_S" 2 127.0.0.1 7428 >"$WORK/churn.lo" 2>&1 & BG+=($!) ;;
	*) die "unknown load '$l' (nic, lo)" ;;
	esac
done
last=-10
while :; do
	written=$(stat_of written)
	now=$EPOCHREALTIME
	s=$(awk -v a="$t0" -v b="$now" 'BEGIN { printf "%d", b - a }')
	[ "$written" -ge "$RECORDS" ] && break
	[ "$s" -ge "$MAX_S" ] && break
	if [ $((s - last)) -ge 10 ]; then
		last=$s
		echo "# ${s} s: written $written, missed $(awk '/^missed_/ { m += $2 } END { print m + 0 }' "$STATS")"
	fi
	sleep 1
done
kill -TERM "${BG[@]}" 2>/dev/null
wait "${BG[@]}" 2>/dev/null
BG=()
t1=$EPOCHREALTIME
# the churn's last connections settle (their FINs, resets and TIME_WAIT entries) before the count
sleep 2
irq_lines >"$WORK/irq1"
cp /proc/softirqs "$WORK/softirqs1"
cp "$STATS" "$RES/stats.txt"

seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
conns=$(cat "$WORK"/churn.* | awk -F'conns=' '/conns=/ { s += $2 } END { print s + 0 }')
for l in $LOAD; do
	echo "# churn $l: $(cat "$WORK/churn.$l")"
done
echo "# interrupts during the run (summed over CPUs):" \
	"$(join "$WORK/irq0" "$WORK/irq1" | awk '{ printf "%s=%d ", $1, $3 - $2 }')"
echo "# softirqs during the run:" "$(paste "$WORK/softirqs0" "$WORK/softirqs1" | awk 'NR > 1 {
	n = (NF - 2) / 2; a = 0; b = 0
	for (i = 2; i <= n + 1; i++) a += $i
	for (i = n + 3; i <= NF; i++) b += $i
	printf "%s%d ", $1, b - a }')"

written=$(stat_of written)
oldest=$(stat_of oldest)
awk 'NR > 1 { n[$4]++ } END { for (k in n) print "kind", k, n[k] }' /proc/tcpstates | sort -k2 >"$WORK/kinds"
state=$(awk '$2 == "state" { print $3 }' "$WORK/kinds")
missed=$(awk '/^missed_/ { m += $2 } END { print m + 0 }' "$STATS")
per_m=$(awk -v m="$missed" -v w="$written" 'BEGIN { printf "%.1f", w ? m * 1e6 / w : 0 }')
[ "$oldest" = 0 ] || state="${state:-0}(ring-wrapped,oldest=$oldest)"
echo "missrate kernel=$(uname -r) variant=$VARIANT load=${LOAD// /+} seconds=$seconds conns=$conns" \
	"written=$written state=${state:-0} missed=$missed per_million=$per_m"
grep -E '^(missed|mechanism)_' "$STATS"
cat "$WORK/kinds"
rm -rf "$WORK"
