#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/stress/run-guest.sh - runs INSIDE the test VM (tests/stress/stress.sh boots it).
#
# For the whole run: connection churn on every CPU over IPv4 and IPv6 loopback and in two network
# namespaces, `cat /proc/tcpstates` in a loop, and the runtime parameters (ports, family, netns,
# wakeup_ms) rewritten every 0.2 s, invalid values included. Meanwhile $CYCLES times: insmod
# (capacity 64, 4096 or 65536 in turn), five /dev/tcpstates readers (blocking, non-blocking, poll,
# a slow one that a small ring laps, and one that maps the ring and copies records in place), an
# rmmod while the blocking and the poll reader sleep in read()/poll(), which must fail with EBUSY and leave every reader working, then stop the readers
# and rmmod, with the churn still running.
#
# Every cycle runs, whatever the host's speed: the run has a fixed number of checks and no time
# budget (the harness's stall watchdog catches a hang). The moment readers must be asleep is made,
# not waited for by luck: the parameter writer pauses and ports=1 (a port nobody uses) filters
# every event, so the two readers drain the ring, fall asleep and stay asleep for the rmmod.
#
# Asserts: every insmod and final rmmod succeeds; every cycle's busy rmmod fails with EBUSY with
# both readers asleep, and leaves them working; each reader's records + reported losses = the
# advance of its cursor, with no gap or bad record; every parameter write gets the expected result;
# the /proc cat loop never fails; vmalloc'd memory is back where it started (within 256 kB: less than
# one 4096-record ring, so leaking any ring but the smallest, once, fails). The harness
# fails the run on any kernel report (BUG, WARNING, KFENCE, lockdep, sleeping in atomic ...).
# Reported, not asserted: probe hits the kprobe core missed (missed_* of /proc/tcpstates_stats,
# summed over the cycles), and how long insmod and rmmod took.
# STRESS_CYCLES (30) and STRESS_READ_S (0.6) size the run.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
TAP_PREFIX="stress: "
# shellcheck source=tests/lib/tap.sh
. "$HERE/../lib/tap.sh"
KO=${TCPSTATES_KO:-}
CYCLES=${STRESS_CYCLES:-30}
READ_S=${STRESS_READ_S:-0.6}
P=/sys/module/tcpstates/parameters
WORK=$(mktemp -d /tmp/stress.XXXXXX) || exit 1
BG=()
rpids=()


cleanup()
{
	local p
	for p in "${BG[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${rpids[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	ip netns del st1 2>/dev/null
	ip netns del st2 2>/dev/null
	[ -d /sys/module/tcpstates ] && rmmod tcpstates 2>/dev/null
}
trap cleanup EXIT

if [ -z "$KO" ] || [ ! -f "$KO" ]; then
	echo "not ok 1 - stress: module built (TCPSTATES_KO=$KO)"
	exit 1
fi
STRESS=$HERE/stress
if [ ! -x "$STRESS" ] || [ "$STRESS" -ot "$HERE/stress.c" ]; then
	STRESS=$WORK/stress
	${CC:-gcc} -O2 -std=gnu11 -Wall -Wextra -Werror -pthread -o "$STRESS" "$HERE/stress.c" ||
		{ echo "not ok 1 - stress: stress.c builds"; exit 1; }
fi

vmalloc_kb() { awk '/^VmallocUsed:/ { print $2 }' /proc/meminfo; }
# nap SECONDS: sleep without an exec (read on a pipe nobody writes to)
exec {NAP_FD}<> <(:)
nap() { read -rt "$1" -u "$NAP_FD"; }
# now_us: microseconds, without an exec
now_us() { echo "${EPOCHREALTIME/./}"; }
# both_asleep PID PID: both in state S (a reader asleep in read() or poll())
both_asleep()
{
	local a b
	read -r a < "/proc/$1/stat" && read -r b < "/proc/$2/stat" || return 1
	a=${a##*) } b=${b##*) }
	[ "${a%% *}${b%% *}" = SS ]
}
t0_us=$(now_us)
before_kb=$(vmalloc_kb)
cpus=$(nproc)
duration=3600	# stopped with SIGTERM once the cycles are done
echo "# $cpus CPUs, $CYCLES cycles, vmalloc before: ${before_kb} kB"

for ns in st1 st2; do
	ip netns add "$ns" && ip -n "$ns" link set lo up
done
st1_inum=$(ip netns exec st1 stat -L -c %i /proc/self/ns/net)

# --- the background load, for the whole run ---
# At nice 10 the churn still fills every CPU, but insmod/rmmod and the readers are not starved by
# it: under TCG that is what decides how many cycles fit in the budget.
CHURN=(nice -n 10 "$STRESS" churn "$duration")
"${CHURN[@]}" "$cpus" 127.0.0.1 7301 > "$WORK/churn4" 2>&1 & BG+=($!)
"${CHURN[@]}" "$cpus" ::1 7302 > "$WORK/churn6" 2>&1 & BG+=($!)
ip netns exec st1 "${CHURN[@]}" 1 127.0.0.1 7303 > "$WORK/churn_st1" 2>&1 & BG+=($!)
ip netns exec st2 "${CHURN[@]}" 1 ::1 7304 > "$WORK/churn_st2" 2>&1 & BG+=($!)

# Each loop says its counts once, when it is told to stop: a count written at every turn could
# be caught half written (truncated, not yet filled) by the kill.
(
	cats=0 errs=0
	trap 'echo "$cats $errs" > "$WORK/cat.count"; exit 0' TERM
	while :; do
		if [ -r /proc/tcpstates ]; then
			if cat /proc/tcpstates > /dev/null 2> "$WORK/cat.err"; then
				cats=$((cats + 1))
			elif [ -r /proc/tcpstates ]; then
				# rmmod between open and read gives ENOENT or EIO: expected
				grep -qvE "No such file|Input/output error" "$WORK/cat.err" &&
					errs=$((errs + 1))
			fi
		fi
		nap 0.05
	done
) & BG+=($!)

# param: the writes and what each must give (0 = accepted, 1 = refused with EINVAL)
(
	good=0 wrong=0
	trap 'echo "$good $wrong" > "$WORK/param.count"; exit 0' TERM
	set -- "ports:7301,7302:0" "ports::0" "family:ipv6:0" "family:any:0" "netns:$st1_inum:0" \
		"netns:0:0" "wakeup_ms:0:0" "wakeup_ms:300:0" "wakeup_ms:10:0" \
		"ports:99999:1" "family:ipx:1" "netns:12345:1" "ports:1,,2:1" "wakeup_ms:5000:1"
	while :; do
		for w in "$@"; do
			IFS=: read -r name val want <<< "$w"
			[ -d $P ] || { nap 0.2; continue; }
			# Not 'echo > FILE': that opens with O_CREAT, and when the file has just gone
			# (rmmod between the test above and the open, or a load that has made the
			# directory but not yet its files) creating it in sysfs fails EACCES, which is
			# indistinguishable from a real refusal (seen once in 1122 writes on the debug
			# kernel). dd conv=nocreat gives ENOENT then, which means no verdict.
			if echo "$val" | dd of="$P/$name" conv=nocreat,notrunc status=none \
				2> "$WORK/param.err"; then got=0; else got=1; fi
			[ -d $P ] || continue	# unloaded meanwhile: no verdict
			err=
			[ $got = 0 ] || read -r err < "$WORK/param.err"
			[[ "$err" == *"No such file"* ]] && continue	# not there at the open: no verdict
			if [ $got = "$want" ] && { [ $got = 0 ] || [[ "$err" == *"Invalid argument"* ]]; }; then
				good=$((good + 1))
			else
				wrong=$((wrong + 1))
				echo "# $name=$val gave $got, wanted $want: $(cat "$WORK/param.err")" >> "$WORK/param.bad"
			fi
			nap 0.2
		done
	done
) & BG+=($!)
PARAM_PID=$!

# missed_* of the loaded module, added into MISSED[hook] (bash only: no fork in the loop)
declare -A MISSED
count_missed()
{
	local k v
	while read -r k v; do
		case $k in missed_*) MISSED[${k#missed_}]=$((${MISSED[${k#missed_}]:-0} + v)) ;; esac
	done < /proc/tcpstates_stats
}

# --- the cycles ---
caps=(64 4096 65536)
insmod_bad=0 rmmod_bad=0 busy_ok=0 busy_asleep=0 busy_bad=0 readers_ok=0 readers_bad=0 slow_cycles=0 slow_lapped=0 slow_lost=0
done_cycles=0 ins_us=0 rm_us=0
for c in $(seq 1 "$CYCLES"); do
	# no awk/sed/grep in the loop: under TCG every fork+exec over 9p costs tens of ms
	done_cycles=$c
	# a line a cycle: the harness's stall watchdog ends a guest that prints nothing for minutes,
	# and a cycle can take a minute on a loaded host
	echo "# cycle $c starts at $((($(now_us) - t0_us) / 1000000)) s"
	# the 64-record ring first: there the slow reader is surely lapped (the check below), so a
	# run of one or two cycles tests that too
	cap=${caps[$(((c - 1) % 3))]}
	t=$(now_us)
	if ! insmod "$KO" capacity="$cap" 2> "$WORK/insmod.err"; then
		insmod_bad=$((insmod_bad + 1))
		sed 's/^/# insmod: /' "$WORK/insmod.err"
		continue
	fi
	ins_us=$((ins_us + $(now_us) - t))
	rpids=()
	for mode in block nonblock poll slow mapped; do
		"$STRESS" reader "$mode" > "$WORK/reader.$c.$mode" 2>&1 &
		rpids+=($!)
	done
	sleep "$READ_S"
	# A new reader starts at the oldest record held, and the slow one waits after its first
	# record until the writers have lapped it (stress.c): with a 64-record ring that is done
	# once 2 x 64 + 2 are written, which the churn reaches however slow the kernel is (KCSAN's
	# did not always in READ_S). Wait for that, not for a time; the stall watchdog bounds it.
	if [ "$cap" = 64 ]; then
		for ((i = 0; i < 6000; i++)); do
			w=0
			while read -r k v; do [ "$k" = written ] && w=$v; done < /proc/tcpstates_stats
			[ "$w" -ge $((2 * cap + 2)) ] && break
			nap 0.01
		done
	fi
	# rmmod while the blocking and the poll reader sleep in read()/poll(): quiet the ring (see
	# the top), wait until both sleep, then it must fail with EBUSY and every reader survive
	kill -STOP "$PARAM_PID"
	for ((i = 0; i < 50; i++)); do
		echo 1 2> "$WORK/quiet.err" > "$P/ports" && read -r q < "$P/ports" && [ "$q" = 1 ] && break
		echo "# cycle $c: writing ports=1 failed: $(cat "$WORK/quiet.err")"
		nap 0.1
	done
	# the verdict is the loop's own sighting: a second look could catch a reader woken in
	# between (once in 30 cycles it did, and the message then claimed a 30 s wait)
	asleep=0
	for ((i = 0; i < 3000; i++)); do
		both_asleep "${rpids[0]}" "${rpids[2]}" && { asleep=1; break; }
		nap 0.01
	done
	if [ $asleep = 0 ]; then
		echo "# cycle $c: the blocking and poll readers are not asleep after 30 s:"
		for p in "${rpids[0]}" "${rpids[2]}"; do
			echo "#   $(cat "/proc/$p/stat" 2>&1); wchan $(cat "/proc/$p/wchan" 2>&1)"
			sed 's/^/#     /' "/proc/$p/stack" 2>&1
		done
		echo "#   $(grep -E '^(written|filtered) ' /proc/tcpstates_stats | tr '\n' ' ')"
	fi
	if rmmod tcpstates 2> "$WORK/rmmod-busy.err"; then
		busy_bad=$((busy_bad + 1))
		echo "# cycle $c: rmmod succeeded with five readers open"
		insmod "$KO" capacity="$cap"
	elif read -r err < "$WORK/rmmod-busy.err" && [[ "$err" == *"in use"* ]] &&
		kill -0 "${rpids[@]}" 2>/dev/null; then
		busy_ok=$((busy_ok + 1))
		busy_asleep=$((busy_asleep + asleep))
	else
		busy_bad=$((busy_bad + 1))
		echo "# cycle $c: rmmod with readers open: $(cat "$WORK/rmmod-busy.err")"
	fi
	echo > "$P/ports"
	kill -CONT "$PARAM_PID"
	kill -TERM "${rpids[@]}" 2>/dev/null
	for p in "${rpids[@]}"; do
		wait "$p"
	done
	rpids=()
	for mode in block nonblock poll slow mapped; do
		line=
		read -r line < "$WORK/reader.$c.$mode"
		if [[ "$line" == "reader "*" ok" ]]; then
			readers_ok=$((readers_ok + 1))
		else
			readers_bad=$((readers_bad + 1))
			sed "s/^/# cycle $c capacity $cap: /" "$WORK/reader.$c.$mode"
		fi
		[ "$mode" = slow ] && [ "$cap" = 64 ] || continue
		# the slow reader of a 64-record ring: lapped, told so by LOST markers, and its own
		# line ok (its records plus those losses are its cursor's advance)
		slow_cycles=$((slow_cycles + 1))
		lost=${line#* lost=}
		lost=${lost%% *}
		if [[ "$line" == "reader slow "*" ok" ]] && [[ "$lost" =~ ^[0-9]+$ ]] && [ "$lost" -gt 0 ]; then
			slow_lapped=$((slow_lapped + 1))
			slow_lost=$((slow_lost + lost))
		else
			echo "# cycle $c: the slow reader of a 64-record ring was not lapped: $line"
		fi
	done
	count_missed
	t=$(now_us)
	for i in 1 2 3 4 5; do
		rmmod tcpstates 2> "$WORK/rmmod.err" && break
		sleep 0.2	# a /proc reader may still hold the entry for an instant
	done
	rm_us=$((rm_us + $(now_us) - t))
	if [ -d /sys/module/tcpstates ]; then
		rmmod_bad=$((rmmod_bad + 1))
		sed 's/^/# rmmod: /' "$WORK/rmmod.err"
	fi
done

for p in "${BG[@]}"; do
	kill -TERM "$p" 2>/dev/null
done
wait 2>/dev/null
BG=()

[ "$done_cycles" -gt 0 ] &&
	echo "# on average under load: insmod $((ins_us / done_cycles / 1000)) ms, rmmod $((rm_us / done_cycles / 1000)) ms"
tap $((insmod_bad + rmmod_bad > 0 || done_cycles != CYCLES)) \
	"$done_cycles of $CYCLES insmod/rmmod cycles under load ($insmod_bad insmod and $rmmod_bad rmmod failures)"
tap $((busy_bad > 0 || busy_asleep != CYCLES)) "rmmod refused (EBUSY) with both readers asleep in read/poll, readers unharmed: $busy_ok of $CYCLES cycles ($busy_asleep asleep), $busy_bad wrong"
missed=0 per=
for h in "${!MISSED[@]}"; do
	missed=$((missed + MISSED[$h]))
	[ "${MISSED[$h]}" = 0 ] || per+=" $h=${MISSED[$h]}"
done
echo "# probe hits missed by the kprobe core over $CYCLES cycles: $missed${per:+ ($per )}"
tap $((readers_bad > 0 || readers_ok == 0)) "$readers_ok readers: records + reported losses = cursor advance, no gaps ($readers_bad bad)"
tap $((slow_cycles == 0 || slow_lapped != slow_cycles)) \
	"the slow reader was lapped and told so in each of the $slow_cycles cycles with a 64-record ring ($slow_lapped lapped, $slow_lost records lost)"
read -r cats cerrs < "$WORK/cat.count"
tap $((cerrs > 0 || cats == 0)) "cat /proc/tcpstates in a loop: $cats reads, $cerrs errors"
read -r pgood pwrong < "$WORK/param.count"
[ -f "$WORK/param.bad" ] && head -5 "$WORK/param.bad"
tap $((pwrong > 0 || pgood == 0)) "runtime parameter writes: $pgood as expected, $pwrong not"
conns=$(cat "$WORK"/churn* | awk -F'conns=' '/conns=/ { s += $2 } END { print s + 0 }')
tap $((conns == 0)) "churn kept going on $cpus CPUs, IPv4/IPv6, 3 namespaces: $conns connections"
after_kb=$(vmalloc_kb)
echo "# vmalloc after: ${after_kb} kB (before ${before_kb} kB)"
tap $((after_kb - before_kb > 256)) "vmalloc back where it started after the last rmmod (delta $((after_kb - before_kb)) kB; a 4096-record ring is 700 kB)"
echo "# stress took $((($(now_us) - t0_us) / 1000000)) s"
tap_plan
tap_exit
