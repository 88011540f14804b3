#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Device and lifecycle tests for tcpstates.ko. Runs INSIDE the test guest as
# root (tests/vm/suite.sh calls it after the scenario suite):
#
#   TCPSTATES_KO=/path/tcpstates.ko TCPSTATES_RESULTS=/results \
#       tests/device/run-guest.sh
#
# Loads and unloads the module itself (it must not be loaded by anyone else
# meanwhile) and leaves it unloaded. Prints TAP lines "ok N - device: ..." with
# "# " diagnostics; exits 0 when all pass, 1 when any fails, 4 when it cannot
# run at all (kselftest convention).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TAP_PREFIX="device: "
# shellcheck source=tests/lib/tap.sh
. "$HERE/../lib/tap.sh"
MOD=tcpstates
KO=${TCPSTATES_KO:-}
RESULTS=${TCPSTATES_RESULTS:-}
# open(O_WRONLY/O_RDWR) as root: the errno module/chardev.c documents.
OPEN_WRITE_ERRNO=${OPEN_WRITE_ERRNO:-EINVAL}

KSFT_SKIP=4
MARK=0
TMP=
HOLDERS=()

cleanup() {
	local p
	for p in "${HOLDERS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	wait 2>/dev/null
	[ -d /sys/module/$MOD ] && rmmod $MOD 2>/dev/null
	if [ -n "$RESULTS" ] && [ -d "$RESULTS" ] && [ -w "$RESULTS" ]; then
		dmesg > "$RESULTS/device-dmesg.txt" 2>/dev/null
	fi
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT

diag() {
	local l
	while IFS= read -r l; do
		case $l in
		"# "*) echo "$l" ;;
		*) echo "# $l" ;;
		esac
	done
}

# check DESCRIPTION COMMAND...: one TAP line from an exit status.
# dt DESCRIPTION SUBCOMMAND [ARGS]: one TAP line for one devtest subcommand.
dt() {
	local what=$1 rc t0=$EPOCHREALTIME
	shift
	timeout 120 "$DEVTEST" "$@" > "$TMP/dt.out" 2>&1
	rc=$?
	echo "# devtest $1: $(elapsed "$t0") s" >> "$TMP/dt.out"
	diag < "$TMP/dt.out"
	case $rc in
	0) ok "$what" ;;
	"$KSFT_SKIP") skip "$what" "$(grep -m1 SKIP "$TMP/dt.out")" ;;
	124) echo "# timed out after 120 s"; not_ok "$what" ;;
	*) not_ok "$what" ;;
	esac
}

# elapsed START: seconds since $EPOCHREALTIME was START, one decimal
elapsed() {
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

# Kernel log since the last mark(), without timestamps.
mark() {
	MARK=$((MARK + 1))
	echo "devtest: mark $MARK" > /dev/kmsg
}

since_mark() {
	dmesg -t | awk -v m="devtest: mark $MARK" 'f { print } $0 == m { f = 1 }'
}

loaded() {
	[ -d /sys/module/$MOD ] || grep -qw "^$MOD" /proc/modules
}

load() {
	insmod "$KO" "$@" 2> "$TMP/insmod.err"
}

unload() {
	rmmod $MOD 2> "$TMP/rmmod.err"
}

param() {
	cat /sys/module/$MOD/parameters/"$1"
}

stat_value() {
	awk -v k="$1" '$1 == k { print $2 }' /proc/tcpstates_stats
}

# stop_holders SIGNAL: signal every background reader in HOLDERS and wait for each; 0 if all
# exited 0, else a failed one's status.
stop_holders() {
	local p rc=0
	kill -"$1" "${HOLDERS[@]}"
	for p in "${HOLDERS[@]}"; do
		wait "$p" || rc=$?
	done
	HOLDERS=()
	return $rc
}

# wait_for FILE PATTERN [TENTHS]: until a line matches, default 10 s.
wait_for() {
	local i
	for ((i = 0; i < ${3:-100}; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------------------
# Preflight

if [ "$(id -u)" != 0 ]; then
	echo "# SKIP: must run as root (in the test guest)"
	exit $KSFT_SKIP
fi
if [ -z "$KO" ] || [ ! -r "$KO" ]; then
	echo "# SKIP: TCPSTATES_KO (${KO:-unset}) is not a readable module"
	exit $KSFT_SKIP
fi
if [ ! -e /proc/modules ]; then
	echo "# SKIP: this kernel cannot load modules (no /proc/modules)"
	exit $KSFT_SKIP
fi
TMP=$(mktemp -d /tmp/devtest.XXXXXX) || exit 1
chmod 755 "$TMP"

# The host builds tests/device/devtest; fall back to building it here.
DEVTEST=$HERE/devtest
TT=$HERE/../../tools/tcptimeline
if [ ! -x "$DEVTEST" ] || [ "$DEVTEST" -ot "$HERE/devtest.c" ] ||
   [ "$DEVTEST" -ot "$HERE/../../module/uapi/tcpstates.h" ]; then
	DEVTEST=$TMP/devtest
	if ! ${CC:-gcc} -O2 -Wall -Wextra -Werror -std=gnu11 -pthread \
		-o "$DEVTEST" "$HERE/devtest.c" 2> "$TMP/cc.err"; then
		diag < "$TMP/cc.err"
		echo "# cannot build devtest"
		exit 1
	fi
fi

echo "TAP version 13"
T_START=$EPOCHREALTIME
echo "# kernel $(uname -r), module $KO"

if loaded; then
	echo "# $MOD was loaded on entry; unloading it"
	unload || { diag < "$TMP/rmmod.err"; exit 1; }
fi

# ---------------------------------------------------------------------------
# Load-time parameters: each bad one refuses the load with one exact line.

# refused PARAM=VALUE EXPECTED_LOG_LINE
refused() {
	local arg=$1 want=$2 fail=
	mark
	if load "$arg"; then
		fail="insmod $arg succeeded"
		unload
	fi
	since_mark > "$TMP/log"
	if ! grep -qxF -- "$want" "$TMP/log"; then
		fail="${fail:+$fail; }no kernel log line '$want'"
	fi
	if loaded; then
		fail="${fail:+$fail; }module still present after the refused load"
		unload
	fi
	if lsmod | grep -qw "^$MOD"; then
		fail="${fail:+$fail; }lsmod lists $MOD"
	fi
	[ -e /dev/tcpstates ] && fail="${fail:+$fail; }/dev/tcpstates left behind"
	[ -e /proc/tcpstates ] && fail="${fail:+$fail; }/proc/tcpstates left behind"
	if [ -n "$fail" ]; then
		echo "# $fail"
		sed 's/^/# log: /' "$TMP/log"
		sed 's/^/# insmod: /' "$TMP/insmod.err"
		not_ok "load refused: $arg"
	else
		ok "load refused: $arg"
	fi
}

# module/main.c prints one line per refused value; the kernel's parser adds
# "`VAL' invalid for parameter `NAME'" after it.
PORTS17=$(seq -s, 1 17)
cap_refused() {
	refused "capacity=$1" "tcpstates: capacity=$1 refused: it must be a number of records from 64 to 16777216"
}
ports_refused() {
	refused "ports=$1" "tcpstates: ports=$1 refused: expected up to 16 comma-separated ports 1-65535, or \"\" for all"
}
cap_refused 0
cap_refused -1
cap_refused abc
cap_refused 16777217
cap_refused 63
cap_refused 1
ports_refused abc
ports_refused 80,,443
ports_refused 70000
ports_refused 0
ports_refused "$PORTS17"
refused family=foo "tcpstates: family=foo refused: expected any, ipv4 or ipv6"
refused wakeup_ms=1001 "tcpstates: wakeup_ms=1001 refused: expected 0 (wake readers at every record) to 1000 milliseconds"
refused wakeup_ms=-1 "tcpstates: wakeup_ms=-1 refused: expected 0 (wake readers at every record) to 1000 milliseconds"
refused netns=abc "tcpstates: netns=abc refused: expected 0 (all) or the inode number of an existing network namespace (stat -L -c %i /proc/PID/ns/net)"
refused netns=4 "tcpstates: netns=4 refused: expected 0 (all) or the inode number of an existing network namespace (stat -L -c %i /proc/PID/ns/net)"
refused skip_hooks=set_state "tcpstates: skip_hooks=set_state refused: expected hook names from /proc/tcpstates_stats, comma-separated; set_state cannot be skipped"
refused skip_hooks=nosuch "tcpstates: skip_hooks=nosuch refused: expected hook names from /proc/tcpstates_stats, comma-separated; set_state cannot be skipped"
# A ring larger than the guest's memory: the load fails at once and cleanly, without a warning
# or the OOM killer (module/ring.c allocates with __GFP_NORETRY | __GFP_NOWARN).
refused capacity=16777216 "tcpstates: cannot allocate 16777216 records (3014656 KiB): -12"
if grep -Eq 'oom-kill|Out of memory|vmalloc error|Call Trace' "$TMP/log"; then
	grep -E 'oom-kill|Out of memory|vmalloc error|Call Trace' "$TMP/log" | diag
	not_ok "the failed allocation woke neither a warning nor the OOM killer"
else
	ok "the failed allocation woke neither a warning nor the OOM killer"
fi
echo "# refused loads: $(elapsed "$T_START") s so far"

# A non-power-of-two capacity is rounded up, with a note.
mark
if load capacity=100; then
	since_mark > "$TMP/log"
	fail=
	[ "$(stat_value capacity)" = 128 ] ||
		fail="stats capacity $(stat_value capacity), want 128"
	grep -qxF 'tcpstates: capacity=100 rounded up to 128, the next power of two' "$TMP/log" ||
		fail="${fail:+$fail; }no log note about 100 -> 128"
	[ "$(param capacity)" = 128 ] ||
		fail="${fail:+$fail; }parameters/capacity reads $(param capacity)"
	sed 's/^/# log: /' "$TMP/log"
	if [ -z "$fail" ]; then ok "capacity=100 rounds up to 128"
	else echo "# $fail"; not_ok "capacity=100 rounds up to 128"; fi
	dt "capacity=100: INFO reports 128" info 128
	check "unload after capacity=100" unload
else
	diag < "$TMP/insmod.err"
	not_ok "capacity=100 rounds up to 128"
fi

# ---------------------------------------------------------------------------
# A hook the kernel lacks, made to happen: skip_hooks. The load goes on; the load message,
# one line per inactive hook and /proc/tcpstates_stats say which hooks are inactive, why, and
# what the records lose. tw_end needs tw_expire and request_end_v4/v6 need request, so skipping
# one makes the others unusable.

mark
if load skip_hooks=request,accept,tw_expire; then
	since_mark > "$TMP/log"
	fail=
	for want in \
		"tcpstates: hook request inactive (inet_csk_reqsk_queue_hash_add skipped): no request record: the server's ISN (B) shows only at the child" \
		"tcpstates: hook accept inactive (security_sock_graft skipped): no accept record: a server socket's owner shows only when it acts" \
		"tcpstates: hook tw_expire inactive (tw_timer_handler skipped): the end of TIME_WAIT is not recorded (tw_end needs this hook)" \
		"tcpstates: hook tw_end inactive (inet_twsk_kill useless without tw_expire): the end of TIME_WAIT is not recorded" \
		"tcpstates: hook request_end_v4 inactive (tcp_v4_reqsk_destructor useless without request): the end of IPv4 request sockets is not recorded" \
		"tcpstates: hook request_end_v6 inactive (tcp_v6_reqsk_destructor useless without request): the end of IPv6 request sockets is not recorded" \
		"tcpstates: hook req_timer inactive (reqsk_timer_handler useless without request): a request's end does not say that its timer gave up" \
		"tcpstates: hook check_req inactive (tcp_check_req useless without request): a request's end does not say that a segment (an RST) ended it"; do
		grep -qxF -- "$want" "$TMP/log" || fail="${fail:+$fail; }no log line '$want'"
	done
	grep -q '^tcpstates: loaded: .*; inactive: request accept request_end_v4 tw_expire tw_end request_end_v6 req_timer check_req$' "$TMP/log" ||
		fail="${fail:+$fail; }the load message does not end with the inactive hooks"
	for kv in "hook_request skipped" "hook_accept skipped" "hook_tw_expire skipped" \
		"hook_tw_end unusable" "hook_request_end_v4 unusable" "hook_request_end_v6 unusable" \
		"hook_req_timer unusable" "hook_check_req unusable" \
		"hook_set_state active" "hook_child_v4 active"; do
		grep -qxF "$kv" /proc/tcpstates_stats || fail="${fail:+$fail; }stats lack '$kv'"
	done
	[ "$(param skip_hooks)" = "request,accept,tw_expire" ] ||
		fail="${fail:+$fail; }parameters/skip_hooks reads '$(param skip_hooks)'"
	if [ -z "$fail" ]; then
		ok "skip_hooks=request,accept,tw_expire: load message, cost lines and stats name the inactive hooks"
	else
		echo "# $fail"
		sed 's/^/# log: /' "$TMP/log"
		not_ok "skip_hooks=request,accept,tw_expire: load message, cost lines and stats name the inactive hooks"
	fi
	check "unload after skip_hooks" unload
else
	diag < "$TMP/insmod.err"
	not_ok "skip_hooks=request,accept,tw_expire: load message, cost lines and stats name the inactive hooks"
fi

# ---------------------------------------------------------------------------
# The smallest ring: a lapped reader gets exactly one LOST marker.

if load capacity=64; then
	ok "load capacity=64 (the minimum)"
	dt "capacity=64: INFO fields" info 64
	dt "capacity=64: lapped reader gets one LOST, counters add up" lapped 40
	dt "capacity=64: a lapped mapped reader skips once, records + lost = written" mmaplapped 40
	# tcptimeline on the mapped ring, stopped while the ring laps it: its capture says what it
	# lost with one LOST marker, the records around it contiguous (tt_lapped.py)
	if [ -x "$TT" ]; then
		"$TT" --from-now -w "$TMP/tt.lap.tcpcap" 2> "$TMP/tt.lap.err" &
		HOLDERS+=($!)
		# stopped once it has mapped the ring, not after a guess at how long that takes
		for ((i = 0; i < 600; i++)); do
			grep -q /dev/tcpstates "/proc/${HOLDERS[0]}/maps" 2>/dev/null && break
			sleep 0.1
		done
		# and once it has taken a first batch and waits again (woken, back in ppoll, 271):
		# the first batch goes through the decoder, so the lap must come in a later one to
		# reach the capture straight from the ring
		wk0=$(($(stat_value wakeups_now) + $(stat_value wakeups_timer)))
		"$DEVTEST" burst 1 > /dev/null
		for ((i = 0; i < 300; i++)); do
			[ $(($(stat_value wakeups_now) + $(stat_value wakeups_timer))) -gt $wk0 ] &&
				[ "$(cut -d' ' -f1 "/proc/${HOLDERS[0]}/syscall" 2>/dev/null)" = 271 ] && break
			sleep 0.1
		done
		kill -STOP "${HOLDERS[0]}"
		"$DEVTEST" burst 40 > /dev/null
		kill -CONT "${HOLDERS[0]}"
		"$DEVTEST" burst 2 > /dev/null
		sleep 1
		stop_holders INT
		rc=$?
		# and its summary counts what the marker says was lost
		if [ $rc = 0 ] && grep -q "read from the mapped ring$" "$TMP/tt.lap.err" &&
		   python3 "$HERE/tt_lapped.py" "$TMP/tt.lap.tcpcap" > "$TMP/tt.lap.out" 2>&1 &&
		   lost=$(sed -n 's/.* marker for \([0-9]*\) lost.*/\1/p' "$TMP/tt.lap.out") &&
		   grep -q "; the ring lost $lost before they were read;" "$TMP/tt.lap.err"; then
			ok "capacity=64: tcptimeline lapped on the mapped ring: $(cat "$TMP/tt.lap.out")"
		else
			cat "$TMP/tt.lap.err" "$TMP/tt.lap.out" | diag
			not_ok "capacity=64: tcptimeline lapped on the mapped ring: one LOST marker, the count exact"
		fi
	else
		not_ok "capacity=64: tcptimeline lapped on the mapped ring (no $TT)"
	fi
	# a quarter of the ring (16 records) wakes readers without waiting for wakeup_ms
	echo 1000 > /sys/module/$MOD/parameters/wakeup_ms
	dt "capacity=64, wakeup_ms=1000: a batch of 16 records wakes a sleeping reader at once" wakeup now 0 3
	lines=$(($(wc -l < /proc/tcpstates) - 1))
	if [ "$lines" -le 64 ] && [ "$lines" -ge 1 ]; then
		ok "capacity=64: /proc/tcpstates shows $lines records (<= 64)"
	else
		not_ok "capacity=64: /proc/tcpstates shows $lines records"
	fi
	dt "capacity=64, lapped: records carry no kernel addresses and nothing they do not carry" leakscan
	check "unload after capacity=64" unload
else
	diag < "$TMP/insmod.err"
	not_ok "load capacity=64 (the minimum)"
fi

# ---------------------------------------------------------------------------
# Default load: the device ABI.

mark
if ! load; then
	diag < "$TMP/insmod.err"
	not_ok "load with default parameters"
	tap_plan
	exit 1
fi
ok "load with default parameters"
since_mark | grep '^tcpstates' | diag
inactive=$(grep '^hook_' /proc/tcpstates_stats | grep -v ' active$' | tr '\n' ' ')
hooks=$(grep -c '^hook_' /proc/tcpstates_stats)
if [ -z "$inactive" ] && [ "$hooks" -gt 0 ]; then
	ok "all $hooks hooks active on $(uname -r)"
else
	not_ok "all hooks active on $(uname -r) # $inactive"
fi

# How each hook is placed (mechanism_*, module/probes.c): where the kernel has fprobe (its
# register_fprobe_syms in kallsyms; Debian builds it from 6.12), every hook is an fprobe, the
# return probes too (an exit handler), whose hits a probe in another context cannot make it miss.
# Elsewhere the ten return probes are kretprobes, request is one where
# inet_csk_reqsk_queue_hash_add() can fail (6.1.y) and a kprobe before, and the rest kprobes.
fprobe_kernel=0
grep -q ' register_fprobe_syms$' /proc/kallsyms && fprobe_kernel=1
mech_bad=$(sed -n 's/^mechanism_//p' /proc/tcpstates_stats | awk -v f=$fprobe_kernel '
	BEGIN { split("listen connect child_v4 child_v6 tw_overflow syn req_timer check_req connect_fail_v4 connect_fail_v6", r); for (i in r) ret[r[i]] = 1 }
	{ n++ }
	f { if ($2 != "fprobe") print; next }
	$1 in ret { if ($2 !~ /^kretprobe-(ftrace|jump|int3)$/) print; next }
	$1 == "request" { if ($2 !~ /^k(ret)?probe-(ftrace|jump|int3)$/) print; next }
	$2 !~ /^kprobe-(ftrace|jump|int3)$/ { print }
	END { if (n != '"$hooks"') print "mechanism lines: " n + 0 ", hooks: '"$hooks"'" }' | tr '\n' ' ')
mechs=$(sed -n 's/^mechanism_[a-z0-9_]* //p' /proc/tcpstates_stats | sort | uniq -c | awk '{ printf "%s%s %s", s, $1, $2; s = ", " }')
if [ -z "$mech_bad" ]; then
	ok "each hook's mechanism: $mechs (fprobe in the kernel: $fprobe_kernel)"
else
	not_ok "each hook's mechanism (fprobe in the kernel: $fprobe_kernel) # $mech_bad"
fi

# The node: a misc device, root only, read only.
node=$(stat -c '%F %a %u %g' /dev/tcpstates 2>&1)
if [ "$node" = "character special file 400 0 0" ]; then
	ok "/dev/tcpstates is a 0400 root character device"
else
	echo "# stat: $node"
	not_ok "/dev/tcpstates is a 0400 root character device"
fi

# Parameters (module/params.c, "Modes"): the filter says which services and whose namespace are
# watched, root's business only; how the module runs is anyone's.
modes=$(cd /sys/module/$MOD/parameters && stat -c '%n %a' capacity family netns ports skip_hooks \
	wakeup_ms | tr '\n' ' ')
if [ "$modes" = "capacity 444 family 600 netns 600 ports 600 skip_hooks 444 wakeup_ms 644 " ]; then
	ok "parameter modes: the filter 0600, the rest world-readable"
else
	echo "# $modes"
	not_ok "parameter modes: the filter 0600, the rest world-readable"
fi

dt "INFO fields (abi 2, record 176, argsz, _IOWR and ABI 2's number, capacity 65536, set_state hook)" info 65536
dt "errno of misuse (short read, EAGAIN, ENOTTY, EFAULT, write, lseek, mmap, open modes)" \
	errors "$OPEN_WRITE_ERRNO"
dt "poll, select and epoll readiness" poll
dt "the mapped ring: header, PROT_WRITE/offset/size refused, the records read() gets, byte for byte, SEEK then poll()" mmap
dt "new cursor at the oldest record; SEEK_HEAD skips history" seekhead
dt "blocking read woken by traffic, interrupted by a signal" block
# Batched wakeups (module/ring.c, "Waking readers"): a sleeping reader hears of a record through
# the timer, no sooner than wakeup_ms after the record it reads, and at every record with
# wakeup_ms=0; /proc/tcpstates_stats counts which. How much later is printed, not asserted (see
# devtest.c).
echo 300 > /sys/module/$MOD/parameters/wakeup_ms
dt "wakeup_ms=300: a sleeping reader is woken by the timer, 300 ms after its record at the soonest" \
	wakeup timer 300
echo 0 > /sys/module/$MOD/parameters/wakeup_ms
dt "wakeup_ms=0: a sleeping reader is woken at the record, not by the timer" wakeup now 0
echo 10 > /sys/module/$MOD/parameters/wakeup_ms
dt "4 concurrent readers each see every record of a burst" multi 4 20

# tcptimeline maps the ring where it may: its capture is the one read() would have written, the
# ring's history (from its oldest record) and a burst.
if [ -x "$TT" ]; then
	for how in map read; do
		flag=; [ $how = read ] && flag=--no-map
		"$TT" $flag -w "$TMP/tt.$how.tcpcap" 2> "$TMP/tt.$how.err" &
		HOLDERS+=($!)
	done
	sleep 1	# both open, from the same oldest record: nothing else runs now
	"$DEVTEST" burst 20 > /dev/null
	"$DEVTEST" burst 20 v6 fin > /dev/null
	sleep 1
	stop_holders INT
	rc=$?
	# the records after the 160-byte capture header, byte for byte
	if [ $rc = 0 ] && grep -q "; read from the mapped ring$" "$TMP/tt.map.err" &&
	   ! grep -q "mapped" "$TMP/tt.read.err" &&
	   [ "$(stat -c %s "$TMP/tt.map.tcpcap")" -ge $((160 + 160 * 176)) ] &&
	   cmp <(tail -c +161 "$TMP/tt.map.tcpcap") <(tail -c +161 "$TMP/tt.read.tcpcap") > "$TMP/tt.cmp"; then
		ok "tcptimeline -w from the mapped ring writes the records --no-map reads ($(cat "$TMP/tt.map.err"))"
	else
		cat "$TMP/tt.map.err" "$TMP/tt.read.err" "$TMP/tt.cmp" | diag
		not_ok "tcptimeline -w from the mapped ring writes the records --no-map reads"
	fi
else
	not_ok "tcptimeline -w from the mapped ring writes the records --no-map reads (no $TT)"
fi
dt "2000 simultaneous opens, then close" manyopen 2000
# Every TIME_WAIT entry, at volume (docs/promises.md, "No silent loss"): each of 60 connections
# its client closes first leaves one client timewait socket, so one time_wait record each.
# (Loopback's softirq may finish a close after close() returns: up to 5 s for the count to settle.)
port=$("$DEVTEST" burst 60 fin)
for _ in $(seq 50); do
	tw=$(awk -v p="$port" '$4 == "time_wait" && $12 == p' /proc/tcpstates | wc -l)
	[ "$tw" -ge 60 ] && break
	sleep 0.1
done
check "60 connections closed by the client: 60 time_wait records ($tw)" [ "$tw" = 60 ]

# ---------------------------------------------------------------------------
# Network namespaces.

dt "a reader in another netns sees only its namespace" netns 5

if command -v unshare > /dev/null; then
	unshare -n sh -c "ip link set lo up && '$DEVTEST' burst 3 > /dev/null &&
		readlink /proc/self/ns/net && cat /proc/tcpstates" \
		> "$TMP/nscat" 2> "$TMP/nscat.err"
	rc=$?
	ns=$(sed -n '1s/^net:\[\([0-9]*\)\]$/\1/p' "$TMP/nscat")
	res=$(awk -v ns="$ns" 'NR == 2 { hdr = $1; next }
		NR > 2 { n++; if ($5 != ns) bad++ }
		END { printf "%s %d %d", hdr, n, bad }' "$TMP/nscat")
	set -- $res
	if [ $rc = 0 ] && [ -n "$ns" ] && [ "${1:-}" = SEQ ] && [ "${2:-0}" -ge 12 ] &&
	   [ "${3:-1}" = 0 ]; then
		ok "cat /proc/tcpstates in a netns shows only that netns ($2 lines)"
	else
		echo "# rc=$rc netns=$ns header=${1:-} lines=${2:-} foreign=${3:-}"
		head -5 "$TMP/nscat" "$TMP/nscat.err" | diag
		not_ok "cat /proc/tcpstates in a netns shows only that netns"
	fi
	n=$(awk -v ns="$ns" 'NR > 1 && $5 == ns' /proc/tcpstates | wc -l)
	if [ -n "$ns" ] && [ "$n" -ge 12 ]; then
		ok "cat /proc/tcpstates in the init netns includes netns $ns ($n lines)"
	else
		not_ok "cat /proc/tcpstates in the init netns includes netns $ns ($n lines)"
	fi
else
	skip "cat /proc/tcpstates in a netns" "no unshare(1)"
fi

# Who may read (module/view.c): CAP_NET_ADMIN over one's own network namespace. A new user
# namespace (root mapped to root, so the 0400 files still open) in the initial network namespace
# has no such capability there: refused. The same with a network namespace of its own (a
# container) reads that namespace, and none of another's, through both interfaces.
if unshare -U -r true 2> /dev/null; then
	for f in /dev/tcpstates /proc/tcpstates /proc/tcpstates_stats; do
		if unshare -U -r "$DEVTEST" openerr "$f" EPERM > "$TMP/np" 2>&1; then
			ok "a new user namespace in the initial netns cannot open $f (EPERM)"
		else
			diag < "$TMP/np"
			not_ok "a new user namespace in the initial netns cannot open $f (EPERM)"
		fi
	done
	"$DEVTEST" burst 3 > /dev/null
	for via in proc dev; do
		unshare -U -r -n sh -c "ip link set lo up && '$DEVTEST' burst 3 > /dev/null &&
			stat -L -c %i /proc/self/ns/net &&
			if [ $via = proc ]; then awk 'NR > 1 { print \$5 }' /proc/tcpstates
			else '$DEVTEST' dump | sed -n 's/.* netns=\([0-9]*\) .*/\1/p'; fi" \
			> "$TMP/userns.$via" 2> "$TMP/userns.err"
		own=$(head -n1 "$TMP/userns.$via")
		n=$(($(wc -l < "$TMP/userns.$via") - 1))
		foreign=$(tail -n +2 "$TMP/userns.$via" | grep -cvx "$own")
		if [ -n "$own" ] && [ "$n" -ge 12 ] && [ "$foreign" = 0 ]; then
			ok "a container (user + network namespace) reads only its netns through /$via ($n records)"
		else
			echo "# via $via: netns $own, $n records, $foreign foreign"
			diag < "$TMP/userns.err"
			not_ok "a container (user + network namespace) reads only its netns through /$via"
		fi
	done
	dt "uids are shown in the reader's user namespace (container uid 100 = host 65534)" uidmap
else
	for t in "a new user namespace cannot open /dev/tcpstates" \
		"a new user namespace cannot open /proc/tcpstates" \
		"a new user namespace cannot open /proc/tcpstates_stats" \
		"a container reads only its netns through /proc" \
		"a container reads only its netns through /dev" "uids in a container"; do
		skip "$t" "unshare -U -r does not work here"
	done
fi

# Root without CAP_NET_ADMIN (dropped from the bounding set: a uid-0 container without a user
# namespace that was not given the capability) is refused too.
for f in /dev/tcpstates /proc/tcpstates /proc/tcpstates_stats; do
	if setpriv --bounding-set -net_admin "$DEVTEST" openerr "$f" EPERM > "$TMP/np" 2>&1; then
		ok "root without CAP_NET_ADMIN cannot open $f (EPERM)"
	else
		diag < "$TMP/np"
		not_ok "root without CAP_NET_ADMIN cannot open $f (EPERM)"
	fi
done

# CAP_NET_ADMIN without a tracing capability (CAP_PERFMON, CAP_SYS_ADMIN) in the initial network
# namespace: a container sharing the host's network (a CNI agent, a VPN sidecar). It sees the
# initial namespace's records and no other's, in both files, and its stats name the one namespace
# it sees; full root, the control, sees the other namespace's records in the same ring.
ip netns add tsn0 && ip -n tsn0 link set lo up
other=$(stat -L -c %i /run/netns/tsn0)
host=$(stat -L -c %i /proc/self/ns/net)
ip netns exec tsn0 "$DEVTEST" burst 3 > /dev/null
"$DEVTEST" burst 3 > /dev/null
ip netns del tsn0
n_other=$(awk -v ns="$other" 'NR > 1 && $5 == ns' /proc/tcpstates | wc -l)
notrace() { setpriv --bounding-set -perfmon,-sys_admin "$@"; }
# The mapped ring shows every record as it is: only to a reader that read() would hand them
# unchanged. Each of these views changes them, and gets EPERM.
for v in "notrace:CAP_NET_ADMIN without CAP_PERFMON/CAP_SYS_ADMIN" \
	"unshare -n:a reader in another network namespace" \
	"unshare -p -f:a reader in another PID namespace (its pids hidden)"; do
	if ${v%%:*} "$DEVTEST" mmaperr EPERM > "$TMP/mmaperr" 2>&1; then
		ok "${v#*:}: mmap() is EPERM"
	else
		diag < "$TMP/mmaperr"
		not_ok "${v#*:}: mmap() is EPERM"
	fi
done
# shellcheck disable=SC2016 # awk's fields
cookie=$(notrace awk '$1 == "reader_netns_cookie" { print $2 }' /proc/tcpstates_stats)
for via in proc dev; do
	if [ $via = proc ]; then
		# NETNS and NETNS_COOKIE, found by name in the header
		# shellcheck disable=SC2016 # awk's fields
		notrace awk 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "NETNS_COOKIE") c = i }
			NR > 1 { print $5, $c }' /proc/tcpstates
	else
		notrace "$DEVTEST" dump | sed -n 's/.* netns=\([0-9]*\) .*/\1/p'
	fi > "$TMP/notrace.$via" 2> "$TMP/notrace.err"
	n=$(wc -l < "$TMP/notrace.$via")
	foreign=$(awk -v ns="$host" -v c="${cookie:-x}" -v via=$via \
		'$1 != ns || (via == "proc" && $2 != c)' "$TMP/notrace.$via" | wc -l)
	what="CAP_NET_ADMIN without CAP_PERFMON/CAP_SYS_ADMIN in the initial netns reads only it through /$via"
	if [ "$n_other" -ge 12 ] && [ "$n" -ge 12 ] && [ "$foreign" = 0 ] &&
	   [ "${cookie:-0}" != 0 ]; then
		ok "$what ($n records, none of $n_other in netns $other)"
	else
		echo "# netns $host: $n records, $foreign foreign or of another cookie;" \
			"reader_netns_cookie ${cookie:-none}; full root saw $n_other in netns $other"
		head -3 "$TMP/notrace.err" | diag
		not_ok "$what"
	fi
done

# Process ids: none outside task context; host pids and names only for a reader in the initial
# PID namespace.
dt "softirq records name no process; task records carry the host pid and the comm, exactly" ids host
if unshare -p -f true 2> /dev/null; then
	# shellcheck disable=SC2016
	if unshare -p -f "$DEVTEST" ids hidden > "$TMP/pidns" 2>&1; then
		diag < "$TMP/pidns"
		ok "a reader in a new PID namespace gets pid and tgid 0 and no comm"
	else
		diag < "$TMP/pidns"
		not_ok "a reader in a new PID namespace gets pid and tgid 0 and no comm"
	fi
else
	skip "a reader in a new PID namespace gets pid and tgid 0 and no comm" "unshare -p does not work here"
fi

# A dead namespace's inode number is given to the next one; its records are still in the ring.
# A reader in the newcomer must see none of them, and a netns= filter set for the dead one must
# not start recording the newcomer.
ip netns add tsr0 && ip -n tsr0 link set lo up
dead=$(stat -L -c %i /run/netns/tsr0)
ip netns exec tsr0 "$DEVTEST" burst 3 > /dev/null
echo "$dead" > /sys/module/$MOD/parameters/netns
ip netns del tsr0
# The namespace a netns= filter names has died; writes of the other parameters rebuild the filter
# and must keep it bound to the dead namespace (matching nothing), never widen it to every one.
w0=$(stat_value written)
f0=$(stat_value filtered)
echo "" > /sys/module/$MOD/parameters/ports && echo any > /sys/module/$MOD/parameters/family
wrc=$?
"$DEVTEST" burst 3 > /dev/null
sleep 0.3
w1=$(stat_value written)
f1=$(stat_value filtered)
what="after netns $dead died, ports= and family= writes keep the filter on it: init-netns traffic is not recorded"
if [ $wrc = 0 ] && [ "$(param netns)" = "$dead" ] && [ "$w1" = "$w0" ] && [ "$((f1 - f0))" -ge 12 ]; then
	ok "$what (filtered +$((f1 - f0)))"
else
	echo "# writes exit $wrc; netns reads $(param netns); written $w0 -> $w1, filtered $f0 -> $f1"
	not_ok "$what"
fi
reused=
for i in $(seq 1 300); do
	ip netns add "tsr$i" || break
	if [ "$(stat -L -c %i "/run/netns/tsr$i")" = "$dead" ]; then
		reused=tsr$i
		break
	fi
	ip netns del "tsr$i"
	sleep 0.1
done
if [ -n "$reused" ]; then
	ip -n "$reused" link set lo up
	in_dead=$(awk -v ns="$dead" 'NR > 1 && $5 == ns' /proc/tcpstates | wc -l)
	w0=$(stat_value written)
	f0=$(stat_value filtered)
	ip netns exec "$reused" "$DEVTEST" burst 3 > /dev/null
	sleep 0.3
	w1=$(stat_value written)
	f1=$(stat_value filtered)
	ip netns exec "$reused" sh -c "cat /proc/tcpstates | awk 'NR > 1' | wc -l;
		'$DEVTEST' dump | wc -l" > "$TMP/reuse"
	read -r via_proc < "$TMP/reuse"
	via_dev=$(sed -n 2p "$TMP/reuse")
	echo "# netns inode $dead given again to $reused after $i tries; the ring holds $in_dead records of the dead one"
	if [ "$in_dead" -ge 12 ] && [ "$via_proc" = 0 ] && [ "$via_dev" = 0 ]; then
		ok "a reader in a namespace that got a dead one's inode number sees none of its records"
	else
		echo "# the newcomer read $via_proc lines of /proc/tcpstates and $via_dev records of /dev"
		not_ok "a reader in a namespace that got a dead one's inode number sees none of its records"
	fi
	if [ "$w1" = "$w0" ] && [ "$((f1 - f0))" -ge 12 ]; then
		ok "netns=$dead set for the dead namespace does not record the newcomer (filtered +$((f1 - f0)))"
	else
		echo "# written $w0 -> $w1, filtered $f0 -> $f1"
		not_ok "netns=$dead set for the dead namespace does not record the newcomer"
	fi
	ip netns del "$reused"
else
	echo "# no new namespace got inode number $dead in 300 tries"
	not_ok "a reader in a namespace that got a dead one's inode number sees none of its records"
	not_ok "netns=$dead set for the dead namespace does not record the newcomer"
fi
echo 0 > /sys/module/$MOD/parameters/netns

dt "poll() answers and INFO is interruptible while read() is stuck in a page fault" stuck

# ---------------------------------------------------------------------------
# Unprivileged users get nothing.

if command -v setpriv > /dev/null; then
	asnobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
else
	asnobody() { su nobody -s /bin/sh -c '"$0" "$@"' -- "$@"; }
fi
for f in /dev/tcpstates /proc/tcpstates /proc/tcpstates_stats; do
	if asnobody "$DEVTEST" openerr "$f" EACCES > "$TMP/np" 2>&1; then
		ok "uid 65534 cannot open $f (EACCES)"
	else
		diag < "$TMP/np"
		not_ok "uid 65534 cannot open $f (EACCES)"
	fi
done

# ---------------------------------------------------------------------------
# Runtime parameters: bad writes are refused and change nothing.

# badwrite PARAM VALUE
badwrite() {
	local before after
	before=$(param "$1")
	if (echo "$2" > /sys/module/$MOD/parameters/"$1") 2> "$TMP/w.err"; then
		not_ok "write '$2' to parameters/$1 is refused"
		return
	fi
	after=$(param "$1")
	if [ "$before" = "$after" ]; then
		ok "write '$2' to parameters/$1 is refused ($(sed 's/.*: //' "$TMP/w.err"))"
	else
		echo "# value changed from '$before' to '$after'"
		not_ok "write '$2' to parameters/$1 is refused"
	fi
}
badwrite ports abc
badwrite ports 80,,443
badwrite ports 70000
badwrite ports "$PORTS17"
badwrite family foo
badwrite netns abc
badwrite capacity 128
badwrite wakeup_ms 1001
badwrite wakeup_ms abc

# goodwrite PARAM VALUE EXPECTED_READBACK
goodwrite() {
	if (echo "$2" > /sys/module/$MOD/parameters/"$1") 2> "$TMP/w.err" &&
	   [ "$(param "$1")" = "$3" ]; then
		ok "write '$2' to parameters/$1 reads back '$3'"
	else
		diag < "$TMP/w.err"
		not_ok "write '$2' to parameters/$1 reads back '$3' (got '$(param "$1")')"
	fi
}
goodwrite ports 80,443 80,443
goodwrite ports "" ""
goodwrite family ipv6 ipv6
goodwrite wakeup_ms 0 0
goodwrite wakeup_ms 10 10
# With family=ipv6, IPv4 traffic is filtered, not recorded.
w0=$(stat_value written)
f0=$(stat_value filtered)
"$DEVTEST" burst 3 > /dev/null
sleep 0.3
w1=$(stat_value written)
f1=$(stat_value filtered)
if [ "$w1" = "$w0" ] && [ "$((f1 - f0))" -ge 12 ]; then
	ok "family=ipv6 filters IPv4 traffic (filtered +$((f1 - f0)))"
else
	echo "# written $w0 -> $w1, filtered $f0 -> $f1"
	not_ok "family=ipv6 filters IPv4 traffic"
fi
goodwrite family any any

# ---------------------------------------------------------------------------
# Readers blocked in read() and poll(): /proc still works, rmmod is refused.

# written before the readers start: their cursors start at or after it (SEEK_HEAD)
w0=$(stat_value written)
"$DEVTEST" hold read > "$TMP/hold_read" 2>&1 &
HOLDERS+=($!)
"$DEVTEST" hold poll > "$TMP/hold_poll" 2>&1 &
HOLDERS+=($!)
if wait_for "$TMP/hold_read" '^ready' && wait_for "$TMP/hold_poll" '^ready'; then
	sleep 0.3
	fail=
	timeout 10 cat /proc/tcpstates > "$TMP/cat" || fail="cat failed or hung"
	# header, then records with as many space-separated fields as it has
	awk 'NR == 1 { if ($1 != "SEQ") { print "header: " $0; exit 1 }; nf = NF; next }
	     NF != nf { print "line " NR " has " NF " fields, header " nf ": " $0; exit 1 }
	     END { if (NR < 2) { print "no records"; exit 1 } }' "$TMP/cat" > "$TMP/cat.bad" ||
		fail="${fail:+$fail; }$(cat "$TMP/cat.bad")"
	# A record written meanwhile (an earlier test's TIME_WAIT ending, say, under load) wakes the
	# reader as it should: only a wake with nothing written since before the readers started is
	# cat's doing. (w0 was once read after the readers were ready: a record written between
	# their SEEK_HEAD and that read, and printed late on a loaded host, then passed for cat's.)
	if grep -q '^rec' "$TMP/hold_read" && [ "$(stat_value written)" = "$w0" ]; then
		fail="${fail:+$fail; }cat woke the blocked reader (written stayed $w0)"
	fi
	kill -0 "${HOLDERS[0]}" 2>/dev/null || fail="${fail:+$fail; }the blocked reader died"
	if [ -z "$fail" ]; then
		ok "cat /proc/tcpstates while readers are blocked ($(($(wc -l < "$TMP/cat") - 1)) records)"
	else
		echo "# $fail"
		head -n 3 "$TMP/hold_read" | sed 's/^/# hold_read: /'
		not_ok "cat /proc/tcpstates while readers are blocked"
	fi

	refcnt=$(cat /sys/module/$MOD/refcnt)
	if [ "$refcnt" -ge 2 ]; then
		ok "two open files pin the module (refcnt $refcnt)"
	else
		not_ok "two open files pin the module (refcnt $refcnt)"
	fi
	if unload; then
		not_ok "rmmod refused while readers are blocked"
		echo "# rmmod succeeded with open files: the module is gone under them"
	elif grep -q "in use" "$TMP/rmmod.err" && loaded; then
		ok "rmmod refused while readers are blocked ($(cat "$TMP/rmmod.err"))"
	else
		diag < "$TMP/rmmod.err"
		not_ok "rmmod refused while readers are blocked"
	fi
	# The syscall itself, without kmod's refcnt pre-check.
	e=$("$DEVTEST" delmod $MOD)
	if [ "$e" = EAGAIN ] && loaded; then
		ok "delete_module() while readers are open fails EWOULDBLOCK"
	else
		not_ok "delete_module() while readers are open fails EWOULDBLOCK (got $e)"
	fi

	# The readers keep working.
	port=$("$DEVTEST" burst 2)
	if wait_for "$TMP/hold_read" "^rec .* $port" 50 &&
	   wait_for "$TMP/hold_poll" "^rec .* $port" 50; then
		ok "blocked readers still get records after the refused rmmod"
	else
		tail -3 "$TMP/hold_read" "$TMP/hold_poll" | diag
		not_ok "blocked readers still get records after the refused rmmod"
	fi

	dt "records carry no kernel addresses and nothing they do not carry" leakscan
	cat /proc/tcpstates /proc/tcpstates_stats > "$TMP/text"
	if grep -Eiq '(0x)?ffff[89a-f][0-9a-f]{11}|\b18446[5-7][0-9]{14}\b' "$TMP/text"; then
		grep -Eim3 '(0x)?ffff[89a-f][0-9a-f]{11}|\b18446[5-7][0-9]{14}\b' "$TMP/text" | diag
		not_ok "no kernel addresses in /proc/tcpstates or /proc/tcpstates_stats"
	else
		ok "no kernel addresses in /proc/tcpstates or /proc/tcpstates_stats ($(wc -l < "$TMP/text") lines)"
	fi

	stop_holders TERM
	rc=$?
	if [ $rc = 0 ] && grep -q '^eintr' "$TMP/hold_read" &&
	   grep -q '^eintr' "$TMP/hold_poll"; then
		ok "SIGTERM interrupts the blocked readers (EINTR), they exit cleanly"
	else
		tail -3 "$TMP/hold_read" "$TMP/hold_poll" | diag
		not_ok "SIGTERM interrupts the blocked readers (EINTR), they exit cleanly"
	fi
else
	cat "$TMP/hold_read" "$TMP/hold_poll" | diag
	not_ok "readers blocked in read() and poll() start"
fi

# ---------------------------------------------------------------------------
# A mapping whose file is closed still pins the module: rmmod waits for munmap.

"$DEVTEST" mmaphold > "$TMP/mmaphold" 2>&1 &
HOLDERS+=($!)
if wait_for "$TMP/mmaphold" '^mapped'; then
	if unload; then
		not_ok "rmmod refused while the ring is mapped (its file closed)"
		echo "# rmmod succeeded under a mapping: its pages are the ring's"
	elif grep -q "in use" "$TMP/rmmod.err" && loaded; then
		ok "rmmod refused while the ring is mapped (its file closed): $(cat "$TMP/rmmod.err")"
	else
		diag < "$TMP/rmmod.err"
		not_ok "rmmod refused while the ring is mapped (its file closed)"
	fi
	stop_holders TERM
	rc=$?
	if [ $rc = 0 ] && grep -q '^head' "$TMP/mmaphold"; then
		ok "the mapped reader unmaps and exits cleanly"
	else
		diag < "$TMP/mmaphold"
		not_ok "the mapped reader unmaps and exits cleanly"
	fi
else
	diag < "$TMP/mmaphold"
	not_ok "rmmod refused while the ring is mapped (its file closed)"
	not_ok "the mapped reader unmaps and exits cleanly"
fi

# ---------------------------------------------------------------------------
# Unload, and what the kernel log says about all of the above.

since_mark > "$TMP/log"
mark
if unload && ! loaded && [ ! -e /dev/tcpstates ] && [ ! -e /proc/tcpstates ] &&
   [ ! -e /proc/tcpstates_stats ]; then
	ok "rmmod succeeds once the readers are gone; device and /proc entries removed"
else
	diag < "$TMP/rmmod.err"
	not_ok "rmmod succeeds once the readers are gone; device and /proc entries removed"
fi
since_mark >> "$TMP/log"

dmesg -t | grep '^tcpstates' > "$TMP/tlog"
if grep -Eiq 'ffff[89a-f][0-9a-f]{11}' "$TMP/tlog"; then
	grep -Ei 'ffff[89a-f][0-9a-f]{11}' "$TMP/tlog" | head -3 | diag
	not_ok "no kernel addresses in tcpstates log lines"
else
	ok "no kernel addresses in tcpstates log lines ($(wc -l < "$TMP/tlog") lines)"
fi

# Anything the kernel screamed about while we ran. Under KCSAN, a report of a race the module's
# own accesses are not part of (the kernel's, tests/lib/kcsan-ours.awk) is left out, as the
# host's scan of the console does for that tier.
kcsan_ours() {
	if [ -e /sys/kernel/debug/kcsan ]; then
		awk -v theirs=/dev/null -f "$HERE/../lib/kcsan-ours.awk"
	else
		cat
	fi
}
dmesg -t | awk '/^devtest: mark 1$/ { f = 1 } f' | kcsan_ours |
	grep -E 'BUG|WARNING|Oops|Call Trace|KASAN|KFENCE|UBSAN|refcount_t|list_add corruption|sleeping function called|lockdep|possible recursive|circular locking' \
	> "$TMP/bad"
if [ -s "$TMP/bad" ]; then
	head -20 "$TMP/bad" | diag
	not_ok "no kernel warnings, oopses or sanitizer reports during the device tests"
else
	ok "no kernel warnings, oopses or sanitizer reports during the device tests"
fi

echo "# device tests took $(elapsed "$T_START") s"
tap_plan
tap_exit
