#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/stress/control-guest.sh MODE - runs INSIDE the test VM: the stress test's load without this
# module, the control of issue 12 (docs/emulator.md; tests/stress/matrix.sh boots it).
#
# The same connection churn as run-guest.sh (every CPU, IPv4 and IPv6 loopback, two network
# namespaces) for the whole run, and meanwhile $CYCLES times, by MODE:
#   kprobe-events  the symbols the module hooks, probed by the kernel's own kprobe events
#                  (tracefs kprobe_events; a kretprobe where the module has one): add them all,
#                  enable them, let them fire for STRESS_READ_S with a reader on trace_pipe, disable,
#                  remove. Each cycle patches every probe site in and out through the same kprobe
#                  and ftrace code as an insmod/rmmod of tcpstates does, twice (register, then arm).
#   static-keys    no kprobe at all: the tcp and sock trace event groups (sock:inet_sock_set_state
#                  in tcp_set_state among them) enabled and disabled 5 times in each STRESS_READ_S,
#                  each flip rewriting their static branches in the hot TCP paths through the
#                  kernel's text_poke_bp, the one code-patching protocol that kprobes (through
#                  ftrace or int3) and jump labels share
#   idle           nothing: the churn alone, for the same number of STRESS_READ_S pauses
# No module is loaded. The harness fails the run on any kernel report; the run itself asserts only
# that every cycle's writes to tracefs succeeded and that the churn kept going.
set -uo pipefail

MODE=${1:-kprobe-events}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
CYCLES=${STRESS_CYCLES:-30}
READ_S=${STRESS_READ_S:-0.6}
T=/sys/kernel/tracing
GROUP=tsctl
WORK=$(mktemp -d /tmp/control.XXXXXX) || exit 1
BG=()
TAP_PREFIX="control: "
# shellcheck source=tests/lib/tap.sh
. "$HERE/../lib/tap.sh"

# The module's hooks (module/probes.c): r = kretprobe there, p = kprobe.
PROBES=(
	"p tcp_set_state"
	"r inet_csk_listen_start"
	"r tcp_connect"
	"p inet_csk_reqsk_queue_hash_add"
	"r tcp_v4_syn_recv_sock"
	"r tcp_v6_syn_recv_sock"
	"p security_sock_graft"
	"p tcp_v4_reqsk_destructor"
	"p __inet_twsk_schedule"
	"r inet_twsk_alloc"
	"p tw_timer_handler"
	"p inet_twsk_kill"
	"p tcp_send_active_reset"
	"p tcp_v6_reqsk_destructor"
)
# and, 6.10 on, the time_wait hook's second probe (module/compat.h)
grep -q ' inet_twsk_hashdance_schedule$' /proc/kallsyms && PROBES+=("p inet_twsk_hashdance_schedule")

remove_events()
{
	[ -d "$T/events/$GROUP" ] && echo 0 > "$T/events/$GROUP/enable"
	local p
	for p in "${PROBES[@]}"; do
		[ -d "$T/events/$GROUP/e_${p#* }" ] && echo "-:$GROUP/e_${p#* }" >> "$T/kprobe_events"
	done
	return 0
}

cleanup()
{
	local p
	for p in "${BG[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	[ "$MODE" = kprobe-events ] && remove_events 2>/dev/null
	ip netns del st1 2>/dev/null
	ip netns del st2 2>/dev/null
}
trap cleanup EXIT

case "$MODE" in kprobe-events | static-keys | idle) ;; *) echo "not ok 1 - control: mode '$MODE'"; exit 1 ;; esac
STRESS=$HERE/stress
if [ ! -x "$STRESS" ] || [ "$STRESS" -ot "$HERE/stress.c" ]; then
	STRESS=$WORK/stress
	${CC:-gcc} -O2 -std=gnu11 -Wall -Wextra -Werror -pthread -o "$STRESS" "$HERE/stress.c" ||
		{ echo "not ok 1 - control: stress.c builds"; exit 1; }
fi
exec {NAP_FD}<> <(:)
nap() { read -rt "$1" -u "$NAP_FD"; }
now_us() { echo "${EPOCHREALTIME/./}"; }
t0_us=$(now_us)
cpus=$(nproc)
echo "# $cpus CPUs, $CYCLES cycles, mode $MODE, no module loaded"
[ -d /sys/module/tcpstates ] && { echo "not ok 1 - control: tcpstates is loaded"; exit 1; }

for ns in st1 st2; do
	ip netns add "$ns" && ip -n "$ns" link set lo up
done
CHURN=(nice -n 10 "$STRESS" churn 3600)
"${CHURN[@]}" "$cpus" 127.0.0.1 7301 > "$WORK/churn4" 2>&1 & BG+=($!)
"${CHURN[@]}" "$cpus" ::1 7302 > "$WORK/churn6" 2>&1 & BG+=($!)
ip netns exec st1 "${CHURN[@]}" 1 127.0.0.1 7303 > "$WORK/churn_st1" 2>&1 & BG+=($!)
ip netns exec st2 "${CHURN[@]}" 1 ::1 7304 > "$WORK/churn_st2" 2>&1 & BG+=($!)

if [ "$MODE" != idle ]; then
	echo 256 > "$T/buffer_size_kb"
	echo 1 > "$T/tracing_on"
	cat "$T/trace_pipe" > /dev/null & BG+=($!)
fi

# static-keys: ten flips in each STRESS_READ_S, so a cycle lasts as long as in the other modes
FLIP_S=$(awk -v s="$READ_S" 'BEGIN { print s / 10 }')
bad=0 done_cycles=0 add_us=0 del_us=0
for c in $(seq 1 "$CYCLES"); do
	done_cycles=$c
	# a line a cycle: the harness's stall watchdog ends a guest that prints nothing for minutes,
	# and a cycle can take a minute on a loaded host
	echo "# cycle $c starts at $((($(now_us) - t0_us) / 1000000)) s"
	if [ "$MODE" = idle ]; then
		nap "$READ_S"
		continue
	fi
	if [ "$MODE" = static-keys ]; then
		ok=1
		for _ in 1 2 3 4 5; do
			for g in tcp sock; do
				echo 1 > "$T/events/$g/enable" || ok=0
			done
			nap "$FLIP_S"
			for g in tcp sock; do
				echo 0 > "$T/events/$g/enable" || ok=0
			done
			nap "$FLIP_S"
		done
		[ $ok = 1 ] || bad=$((bad + 1))
		continue
	fi
	t=$(now_us)
	ok=1
	for p in "${PROBES[@]}"; do
		echo "${p% *}:$GROUP/e_${p#* } ${p#* }" >> "$T/kprobe_events" 2> "$WORK/add.err" ||
			{ ok=0; echo "# cycle $c: add ${p#* }: $(cat "$WORK/add.err")"; }
	done
	echo 1 > "$T/events/$GROUP/enable" || ok=0
	add_us=$((add_us + $(now_us) - t))
	nap "$READ_S"
	t=$(now_us)
	echo 0 > "$T/events/$GROUP/enable" || ok=0
	for p in "${PROBES[@]}"; do
		echo "-:$GROUP/e_${p#* }" >> "$T/kprobe_events" 2> "$WORK/del.err" ||
			{ ok=0; echo "# cycle $c: remove ${p#* }: $(cat "$WORK/del.err")"; }
	done
	del_us=$((del_us + $(now_us) - t))
	[ $ok = 1 ] || bad=$((bad + 1))
done

for p in "${BG[@]}"; do
	kill -TERM "$p" 2>/dev/null
done
wait 2>/dev/null
BG=()

if [ "$MODE" = kprobe-events ]; then
	echo "# on average under load: add+enable $((add_us / done_cycles / 1000)) ms, disable+remove $((del_us / done_cycles / 1000)) ms"
	tap $((bad > 0 || done_cycles != CYCLES)) "$done_cycles of $CYCLES kprobe-event add/enable/disable/remove cycles on ${#PROBES[@]} symbols under load ($bad failed)"
elif [ "$MODE" = static-keys ]; then
	tap $((bad > 0 || done_cycles != CYCLES)) "$done_cycles of $CYCLES cycles of 5 tcp/sock trace event enable/disable flips under load ($bad failed)"
else
	tap $((done_cycles != CYCLES)) "$done_cycles of $CYCLES idle pauses under load"
fi
conns=$(cat "$WORK"/churn* | awk -F'conns=' '/conns=/ { s += $2 } END { print s + 0 }')
tap $((conns == 0)) "churn kept going on $cpus CPUs, IPv4/IPv6, 3 namespaces: $conns connections"
echo "# control took $((($(now_us) - t0_us) / 1000000)) s"
tap_plan
[ "$TAP_FAILED" = 0 ]
