#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/run-guest.sh PART - runs INSIDE the test VM (tests/bench/bench.sh boots it once per
# PART) and measures; tests/bench/report.py turns what it measured into the summary tables.
#
# PART main (the 2-CPU boot):
#   churn     connection churn (tests/stress/stress churn: THREADS clients, connect / 1-byte exchange
#             / close, a third of the closes by RST) over loopback and across a veth pair from one
#             network namespace to another, ROUNDS interleaved rounds of every configuration:
#               base       no tracing
#               kprobes    the floor: the kernel's own kprobe events on the module's symbols (a
#                          kretprobe where it has one), enabled with tracing off: the hooks'
#                          patching and trap cost with nothing behind them
#               tracepoint sock:inet_sock_set_state enabled into the kernel's own trace ring
#               module     tcpstates loaded, nobody reading
#               reader     tcpstates loaded, tcptimeline --from-now -w recording to a file
#               reader-w0  the same with wakeup_ms=0 (a reader wakeup per record, as before batching)
#               reader-read  the reader with --no-map: read() rather than the mapped ring
#               bpftrace   bpftrace on tracepoint:sock:inet_sock_set_state printing the same fields
#               bcc        Debian's tcpstates-bpfcc (left out, with the reason, if it cannot run)
#             Each configuration is set up once per round and runs loopback, then veth; report.py
#             compares every run with the base run of its round.
#   hits      microbench hits: listen() + connect(AF_UNSPEC) on one socket, two records an iteration,
#             timed with and without the module (and with a reader), interleaved
#   drain     /dev/tcpstates read throughput, one and four readers draining a full ring
#   cat       time of `cat /proc/tcpstates` of a full 64 Ki and 1 Mi ring
#   capacity  rings of 4 Ki, 64 Ki and 1 Mi records under churn, read by tcptimeline and by readers
#             that pause between reads: what each loses
#   profile   perf record -a -g -e cpu-clock during churn with the module and a reader
# PART scaling (a boot with another CPU count): the churn of base, module and reader, loopback
#   only. With 2 or more CPUs the reader has the last CPU to itself and every configuration's
#   churn runs on the others (BENCH_PIN=own), as a host with a core to spare runs a recorder;
#   with 1 CPU, or BENCH_PIN=none, all share every CPU.
#
# Every figure goes to $TCPSTATES_RESULTS/bench.txt as one tagged line (report.py documents the
# format) and is echoed as it is measured; the profile goes to perf-top.txt and perf-script.txt.
#
# Env: BENCH_PARTS (main: "hits churn ring capacity profile"), BENCH_ROUNDS (5), BENCH_RUN_S (4: seconds per churn run), BENCH_THREADS (client threads,
# default 2 per CPU), BENCH_BCC (1; 0 leaves bcc out), BENCH_BCC_ROUNDS (3: every bcc start compiles
# its BPF program with clang, about 75 s under TCG), BENCH_HITS (50000 iterations), BENCH_CAP_RUN_S
# (6), BENCH_PAUSES_MS ("250 1000 4000": the slow readers' pauses), BENCH_PERF_S (4),
# BENCH_SCALING_PATHS ("lo").
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
TOP=$(cd "$HERE/../.." && pwd -P)
PART=${1:-main}
KO=${TCPSTATES_KO:?}
RES=${TCPSTATES_RESULTS:?}/bench.txt
ROUNDS=${BENCH_ROUNDS:-5}
RUN_S=${BENCH_RUN_S:-4}
# BENCH_PIN: where the reader and the churn run (PART scaling, see above)
PIN=${BENCH_PIN:-$([ "$PART" = scaling ] && [ "$(nproc)" -ge 2 ] && echo own || echo none)}
LOAD_CPUS=0-$(($(nproc) - 1))
READER_CPUS=$LOAD_CPUS
if [ "$PIN" = own ]; then
	READER_CPUS=$(($(nproc) - 1))
	LOAD_CPUS=0-$(($(nproc) - 2))
fi
LOAD_N=$(($(nproc) - $([ "$PIN" = own ] && echo 1 || echo 0)))
THREADS=${BENCH_THREADS:-$((2 * LOAD_N))}
BCC_ROUNDS=${BENCH_BCC_ROUNDS:-3}
HITS=${BENCH_HITS:-50000}
CAP_RUN_S=${BENCH_CAP_RUN_S:-6}
PAUSES_MS=${BENCH_PAUSES_MS:-250 1000 4000}
PERF_S=${BENCH_PERF_S:-4}
WORK=$(mktemp -d /tmp/bench.XXXXXX) || exit 1
STRESS=$TOP/tests/stress/stress
MB=$TOP/tests/bench/microbench
TT=$TOP/tools/tcptimeline
KVER=$(uname -r)
SRV_NS=bench-srv
CLI_NS=bench-cli
SRV_ADDR=10.201.0.1
port=7400
tracer=0
reader=0
farm_mounted=0
T=/sys/kernel/tracing
KPGROUP=benchfloor

# The module's hooks (module/probes.c): "r" where it places a kretprobe, "p" a kprobe.
FLOOR_PROBES=(
	"p tcp_set_state" "r inet_csk_listen_start" "r tcp_connect" "p inet_csk_reqsk_queue_hash_add"
	"r tcp_v4_syn_recv_sock" "r tcp_v6_syn_recv_sock" "p security_sock_graft"
	"p tcp_v4_reqsk_destructor" "p __inet_twsk_schedule" "r inet_twsk_alloc" "p tw_timer_handler"
	"p inet_twsk_kill" "p tcp_send_active_reset" "p tcp_v6_reqsk_destructor"
	"r tcp_conn_request" "r reqsk_timer_handler" "r tcp_check_req" "r tcp_v4_connect"
	"r tcp_v6_connect"
)
# and, 6.10 on, the time_wait hook's second probe (module/compat.h)
grep -q ' inet_twsk_hashdance_schedule$' /proc/kallsyms && FLOOR_PROBES+=("p inet_twsk_hashdance_schedule")

# The tracer prints nsecs, cpu, pid, old and new state, both ports and comm: as much of what a
# tcpstates record holds as the tracepoint has. report.py counts its lines by port.
BPF='tracepoint:sock:inet_sock_set_state /args->protocol == 6/ {
	printf("%llu %d %d %d %d %d %d %s\n", nsecs, cpu, pid, args->oldstate, args->newstate,
	       args->sport, args->dport, comm);
}'

cleanup()
{
	[ "$tracer" != 0 ] && kill -KILL "$tracer" 2>/dev/null
	[ "$reader" != 0 ] && kill -KILL "$reader" 2>/dev/null
	wait 2>/dev/null
	[ -d /sys/module/tcpstates ] && rmmod tcpstates 2>/dev/null
	floor_off kprobes 2>/dev/null
	floor_off tracepoint 2>/dev/null
	ip netns del $SRV_NS 2>/dev/null
	ip netns del $CLI_NS 2>/dev/null
	if [ "$farm_mounted" = 1 ]; then
		umount "/lib/modules/$KVER"
		umount "$WORK/modules.orig"
	fi
	# never into a mount that is still there (modules.orig is the host's tree)
	rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

# emit TAG FIELDS...: one result line, to the results file and to the console
emit()
{
	echo "$*" >> "$RES"
	echo "# $*"
}

# note TEXT: a remark for the summary, with the guest's time so far
note()
{
	emit note "[${SECONDS} s] $*"
}

stat_of()
{
	awk -v k="$1" '$1 == k { print $2 }' /proc/tcpstates_stats
}

# busy CPU time so far, in USER_HZ ticks (user, nice, system, irq, softirq, steal)
busy_ticks()
{
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

now_ns()
{
	date +%s%N
}

# wait_for FILE PATTERN SECONDS PID: until PATTERN shows in FILE; fails if PID ends or time is up
wait_for()
{
	local file=$1 pattern=$2 end=$(($(date +%s) + $3)) pid=$4
	until grep -q "$pattern" "$file" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || return 1
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# ---- setup ----------------------------------------------------------------------------------

# Two namespaces joined by a veth pair: the churn's server in one, its clients in the other.
setup_veth()
{
	modprobe veth &&
	ip netns add $SRV_NS && ip netns add $CLI_NS &&
	ip link add bench-c type veth peer name bench-s &&
	ip link set bench-s netns $SRV_NS && ip link set bench-c netns $CLI_NS &&
	ip -n $SRV_NS addr add $SRV_ADDR/24 dev bench-s &&
	ip -n $CLI_NS addr add 10.201.0.2/24 dev bench-c &&
	ip -n $SRV_NS link set bench-s up && ip -n $SRV_NS link set lo up &&
	ip -n $CLI_NS link set bench-c up && ip -n $CLI_NS link set lo up
}

# bcc compiles its BPF program against /lib/modules/$KVER/build. The VM harness mounts the guest
# kernel's own module tree there (tests/vm/init.sh), which has no build link; the host's
# linux-headers package (seen through the shared root) has the tree. Mount a copy of the module
# folder made of symlinks, plus build and source, over it (tmpfs: nothing on the host changes).
bcc_headers()
{
	local mods=/lib/modules/$KVER orig=$WORK/modules.orig farm=$WORK/modules.farm f
	[ -e "$mods/build/Makefile" ] && return 0
	[ -e "/usr/src/linux-headers-$KVER/Makefile" ] || return 1
	mkdir -p "$orig" "$farm" && mount --bind "$mods" "$orig" || return 1
	for f in "$orig"/*; do
		ln -s "$f" "$farm/"
	done
	ln -s "/usr/src/linux-headers-$KVER" "$farm/build"
	ln -s "/usr/src/linux-headers-${KVER%-amd64}-common" "$farm/source"
	mount --bind "$farm" "$mods" || { umount "$orig"; return 1; }
	farm_mounted=1
}

# ---- configurations ---------------------------------------------------------------------------

# floor_on kprobes|tracepoint: the floor's hooks, from tracefs
floor_on()
{
	local p
	case $1 in
	kprobes)
		echo 0 > $T/tracing_on
		for p in "${FLOOR_PROBES[@]}"; do
			echo "${p% *}:$KPGROUP/floor_${p#* } ${p#* }" >> $T/kprobe_events || return 1
		done
		echo 1 > "$T/events/$KPGROUP/enable"
		;;
	tracepoint)
		echo > $T/trace
		echo 1 > $T/events/sock/inet_sock_set_state/enable && echo 1 > $T/tracing_on
		;;
	esac
}

floor_off()
{
	local p
	case $1 in
	kprobes)
		[ -d "$T/events/$KPGROUP" ] || return 0
		echo 0 > "$T/events/$KPGROUP/enable"
		for p in "${FLOOR_PROBES[@]}"; do
			echo "-:$KPGROUP/floor_${p#* }" >> $T/kprobe_events
		done
		echo 1 > $T/tracing_on
		;;
	tracepoint)
		echo 0 > $T/events/sock/inet_sock_set_state/enable
		;;
	esac
}

# floor_hits CONFIG: how often the floor's hooks fired (kprobe_profile's hit column, summed), or -
floor_hits()
{
	[ "$1" = kprobes ] || { echo -; return; }
	awk 'index($1, "floor_") == 1 { s += $2 } END { print s + 0 }' $T/kprobe_profile
}

# start CONFIG: set CONFIG up (the module, a reader, a tracer); fails if it cannot
start()
{
	tracer=0
	reader=0
	case $1 in
	module)
		insmod "$KO"
		;;
	kprobes | tracepoint)
		floor_on "$1"
		;;
	reader | reader-w0 | reader-read)
		if [ "$1" = reader-w0 ]; then
			insmod "$KO" wakeup_ms=0 || return 1
		else
			insmod "$KO" || return 1
		fi
		# shellcheck disable=SC2046 # no word, or --no-map
		taskset -c "$READER_CPUS" "$TT" $([ "$1" = reader-read ] && echo --no-map) --from-now \
			-w "$WORK/cap" 2> "$WORK/tt.err" &
		reader=$!
		sleep 0.5
		;;
	bpftrace)
		bpftrace -e "$BPF" > "$WORK/trace.out" 2>&1 &
		tracer=$!
		# it compiles and attaches before it says so
		wait_for "$WORK/trace.out" Attaching 120 $tracer
		;;
	bcc)
		# stdout unbuffered, as on a terminal; its lost-sample notes go to the same file
		local t0
		t0=$(date +%s)
		PYTHONUNBUFFERED=1 /usr/sbin/tcpstates-bpfcc > "$WORK/trace.out" 2>&1 &
		tracer=$!
		wait_for "$WORK/trace.out" SKADDR 240 $tracer || return 1
		note "bcc: tcpstates-bpfcc compiled its program and attached in $(($(date +%s) - t0)) s"
		;;
	esac
}

# stop CONFIG
stop()
{
	if [ "$reader" != 0 ]; then
		kill -INT $reader
		wait $reader
		reader=0
	fi
	if [ "$tracer" != 0 ]; then
		# bcc's python leaves SIGINT ignored when started in the background: TERM it
		kill -TERM $tracer
		wait $tracer
		tracer=0
	fi
	case $1 in
	module | reader | reader-w0 | reader-read) rmmod tcpstates ;;
	kprobes | tracepoint) floor_off "$1" ;;
	esac
}

# churn PATH PORT SECONDS: the churn generator over loopback or the veth pair; prints conns
churn()
{
	case $1 in
	lo) taskset -c "$LOAD_CPUS" "$STRESS" churn "$3" "$THREADS" 127.0.0.1 "$2" ;;
	veth)
		ip netns exec $CLI_NS taskset -c "$LOAD_CPUS" "$STRESS" churn "$3" "$THREADS" \
			$SRV_ADDR "$2" /run/netns/$SRV_NS
		;;
	esac | sed -n 's/.*conns=//p'
}

# ctxsw PID: voluntary context switches of PID so far (a blocked reader's wakeups)
ctxsw()
{
	awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$1/status"
}

# round ROUND CONFIG PATHS...: one run of CONFIG on each path; emits one line per path:
#   churn PATH CONFIG ROUND SECONDS CONNS CPU_TICKS WRITTEN RECEIVED LOST WAKEUPS PORT
# WRITTEN..WAKEUPS are "-" where they do not apply: report.py counts the tracers' lines by PORT.
round()
{
	local r=$1 cfg=$2 path conns b0 b1 w0 w1 c0 c1 runs=() line
	local ticks p written received lost wakeups
	shift 2
	if ! start "$cfg"; then
		note "round $r: $cfg did not start: $(grep -v '^$' "$WORK/trace.out" 2>/dev/null | tail -n 1)"
		stop "$cfg"
		return 1
	fi
	for path in "$@"; do
		port=$((port + 1))
		w0=-
		[ -d /sys/module/tcpstates ] && w0=$(stat_of written)
		[ "$cfg" = kprobes ] && w0=$(floor_hits kprobes)
		c0=-
		[ "$reader" != 0 ] && c0=$(ctxsw $reader)
		b0=$(busy_ticks)
		conns=$(churn "$path" $port "$RUN_S")
		b1=$(busy_ticks)
		sleep 0.3
		w1=-
		[ -d /sys/module/tcpstates ] && w1=$(stat_of written)
		[ "$cfg" = kprobes ] && w1=$(floor_hits kprobes)
		c1=-
		[ "$reader" != 0 ] && c1=$(ctxsw $reader)
		runs+=("$path ${conns:-0} $((b1 - b0)) $w0 $w1 $c0 $c1 $port")
	done
	stop "$cfg"
	for line in "${runs[@]}"; do
		read -r path conns ticks w0 w1 c0 c1 p <<< "$line"
		written=-
		received=-
		lost=-
		wakeups=-
		[ "$w0" != - ] && written=$((w1 - w0))
		if [ "$c0" != - ]; then
			# what the capture holds of the records written in [w0, w1)
			read -r received lost < <("$MB" count "$WORK/cap" "$w0" "$w1" |
				sed -n 's/^count from=.*records=\([0-9]*\) lost=\([0-9]*\)/\1 \2/p')
			[ "$lost" = $((written - received)) ] ||
				note "reader: LOST markers say $lost lost, written - received = $((written - received))"
			lost=$((written - received))
			wakeups=$((c1 - c0))
		fi
		emit churn "$path" "$cfg" "$r" "$RUN_S" "$conns" "$ticks" "$written" "$received" "$lost" \
			"$wakeups" "$p"
	done
	# the tracers' output, for report.py to count by port
	case $cfg in bpftrace | bcc) cp "$WORK/trace.out" "${RES%/*}/trace-$cfg-$r.out" ;; esac
	rm -f "$WORK/cap"
}

part_churn()
{
	local configs=("$@") r cfg paths=(lo veth)
	[ "$PART" = scaling ] && read -r -a paths <<< "${BENCH_SCALING_PATHS:-lo}"
	note "churn: $(nproc) CPUs (churn on $LOAD_CPUS, reader on $READER_CPUS), $THREADS client threads, $ROUNDS rounds of ${RUN_S} s per configuration and path (${paths[*]})"
	for r in $(seq "$ROUNDS"); do
		for cfg in "${configs[@]}"; do
			[ "$cfg" = bcc ] && [ "$r" -gt "$BCC_ROUNDS" ] && continue
			if ! round "$r" "$cfg" "${paths[@]}" && [ "$cfg" = bcc ]; then
				# a bcc that does not start once (clang, headers) will not the next time
				note "bcc: tcpstates-bpfcc cannot run here: left out"
				BCC_ROUNDS=0
			fi
		done
	done
}

# ---- microbenchmarks ----------------------------------------------------------------------------

# hits: the cost of a probe hit that records, without network work around it
part_hits()
{
	local r cfg ns w0 w1 written
	note "hits: $HITS iterations of listen + connect(AF_UNSPEC), 2 records each, $ROUNDS rounds"
	for r in $(seq "$ROUNDS"); do
		for cfg in base kprobes module reader reader-w0; do
			start "$cfg" || { note "hits: $cfg did not start"; continue; }
			# warm up: under TCG the first hits of freshly loaded code pay for its translation
			"$MB" hits 2000 7399 > /dev/null
			sleep 0.1
			w0=-
			[ -d /sys/module/tcpstates ] && w0=$(stat_of written)
			[ "$cfg" = kprobes ] && w0=$(floor_hits kprobes)
			ns=$("$MB" hits "$HITS" 7399 | sed -n 's/.* ns=\([0-9]*\) .*/\1/p')
			written=-
			if [ "$w0" != - ]; then
				sleep 0.1
				if [ "$cfg" = kprobes ]; then
					w1=$(floor_hits kprobes)
				else
					w1=$(stat_of written)
				fi
				written=$((w1 - w0))
			fi
			stop "$cfg"
			emit hits "$cfg" "$r" "$HITS" "${ns:-0}" "$written"
		done
	done
	rm -f "$WORK/cap"
}

# fill_churn: churn on loopback until the ring has wrapped
fill_churn()
{
	local cap
	cap=$(stat_of capacity)
	while [ "$(stat_of written)" -lt "$cap" ]; do
		port=$((port + 1))
		churn lo $port 3 > /dev/null
	done
}

# time_cat RING CONTENT: emits "cat RING CONTENT LINES SECONDS" for one cat of a full ring
time_cat()
{
	local t0 t1 lines
	t0=$(now_ns)
	cat /proc/tcpstates > /dev/null
	t1=$(now_ns)
	lines=$(($(wc -l < /proc/tcpstates) - 1))
	emit cat "$1" "$2" "$lines" "$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f", d / 1e9 }')"
}

# drain RING READERS: emits "drain RING READERS RECORDS LOST SECONDS"
drain()
{
	local records lost seconds
	read -r records lost seconds < <("$MB" drain "$2" |
		sed -n 's/.*records=\([0-9]*\) lost=\([0-9]*\) seconds=\([0-9.]*\).*/\1 \2 \3/p')
	emit drain "$1" "$2" "$records" "$lost" "$seconds"
}

part_ring()
{
	local big=1048576
	note "drain and cat: full rings, nothing writing meanwhile"
	# the default ring, filled by the churn
	insmod "$KO" || return 1
	fill_churn
	time_cat 65536 churn
	time_cat 65536 churn
	time_cat 65536 churn
	drain 65536 1
	drain 65536 4
	rmmod tcpstates
	# the same ring filled by the hits loop (listener records: fewer fields), for comparison
	insmod "$KO" || return 1
	"$MB" hits 40000 7399 > /dev/null
	time_cat 65536 listen
	time_cat 65536 listen
	time_cat 65536 listen
	rmmod tcpstates
	# 1 Mi records: the hits loop fills it in seconds where the churn would take a minute
	insmod "$KO" capacity=$big || return 1
	"$MB" hits $((big / 2 + 1000)) 7399 > /dev/null
	time_cat $big listen
	drain $big 1
	drain $big 4
	rmmod tcpstates
}

# capacity: what readers of each speed lose with each ring size
part_capacity()
{
	local cap ms pids=() w0 w1 records lost conns
	note "capacity: churn on loopback ${CAP_RUN_S} s; readers: tcptimeline -w and readers pausing ${PAUSES_MS// /, } ms"
	for cap in 4096 65536 1048576; do
		insmod "$KO" capacity=$cap || continue
		"$TT" --from-now -w "$WORK/cap" 2> "$WORK/tt.err" &
		reader=$!
		pids=()
		for ms in $PAUSES_MS; do
			"$MB" pace "$ms" > "$WORK/pace.$ms" &
			pids+=($!)
		done
		sleep 0.5
		w0=$(stat_of written)
		port=$((port + 1))
		conns=$(churn lo $port "$CAP_RUN_S")
		sleep 0.3
		w1=$(stat_of written)
		kill -TERM "${pids[@]}"
		wait "${pids[@]}"
		kill -INT $reader
		wait $reader
		reader=0
		rmmod tcpstates
		read -r records lost < <("$MB" count "$WORK/cap" "$w0" "$w1" |
			sed -n 's/^count from=.*records=\([0-9]*\) lost=\([0-9]*\)/\1 \2/p')
		emit capacity $cap tcptimeline 0 $((w1 - w0)) "$records" $((w1 - w0 - records)) "$CAP_RUN_S" \
			"$conns"
		for ms in $PAUSES_MS; do
			# a pace reader counts from its open to its stop, a little more than [w0, w1):
			# its own records + lost stand for what was written meanwhile
			read -r records lost < <(sed -n 's/.*records=\([0-9]*\) lost=\([0-9]*\)/\1 \2/p' \
				"$WORK/pace.$ms")
			emit capacity $cap pace "$ms" $((records + lost)) "$records" "$lost" "$CAP_RUN_S" "$conns"
		done
		rm -f "$WORK/cap"
	done
}

# profile: where the time goes with the module loaded and a reader recording
part_profile()
{
	local dir=${RES%/*}
	command -v perf > /dev/null || { note "profile: perf is not installed on the host: left out"; return; }
	start reader || return
	port=$((port + 1))
	if ! perf record -q -a -g -e cpu-clock -o "$WORK/perf.data" -- \
		"$STRESS" churn "$PERF_S" "$THREADS" 127.0.0.1 $port > /dev/null 2> "$WORK/perf.err"; then
		note "profile: perf record failed: $(tail -n 1 "$WORK/perf.err")"
		stop reader
		return
	fi
	# while the module is loaded, so that perf finds its symbols in /proc/kallsyms
	perf report -i "$WORK/perf.data" --stdio --no-children --sort comm,dso,sym -g none \
		2> /dev/null | grep -v '^#' | grep -v '^$' | head -n 40 > "$dir/perf-top.txt"
	perf script -i "$WORK/perf.data" -F comm,ip,sym,dso 2> /dev/null > "$dir/perf-script.txt"
	# perf shows the module's functions under [kernel.kallsyms]: report.py needs their names
	awk '$4 == "[tcpstates]" { print $3 }' /proc/kallsyms > "$dir/module-syms.txt"
	stop reader
	note "profile: perf record -a -g -e cpu-clock, churn ${PERF_S} s with the module and tcptimeline -w:" \
		"$(grep -c '^[^[:space:]]' "$dir/perf-script.txt") samples"
}

# ---- main -------------------------------------------------------------------------------------

emit guest "$KVER" "$(nproc)" "$(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo)" \
	"$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
[ -x "$STRESS" ] && [ -x "$MB" ] && [ -x "$TT" ] || { echo "# bench: build the helpers first (bench.sh does)"; exit 1; }
setup_veth || { echo "# bench: cannot set up the veth pair"; exit 1; }

case $PART in
main)
	configs=(base kprobes tracepoint module reader reader-read reader-w0)
	if command -v bpftrace > /dev/null; then
		configs+=(bpftrace)
	else
		note "bpftrace is not installed on the host: its runs are left out"
	fi
	if [ "${BENCH_BCC:-1}" = 0 ]; then
		note "bcc: left out (BENCH_BCC=0)"
	elif [ ! -x /usr/sbin/tcpstates-bpfcc ]; then
		note "bcc: /usr/sbin/tcpstates-bpfcc is not installed on the host (bpfcc-tools): left out"
	elif ! bcc_headers; then
		note "bcc: no kernel headers for $KVER (/usr/src/linux-headers-$KVER): left out"
	else
		# first in its rounds: its runs then come right after its long start and right
		# before base's, so the pair compares runs made moments apart
		configs=(bcc "${configs[@]}")
	fi
	# hits first: TIME_WAIT sockets the churn leaves expire a minute later, and the module
	# records their end, which would spoil the exact record count of the hits loop
	for p in ${BENCH_PARTS:-hits churn ring capacity profile}; do
		case $p in
		hits) part_hits ;;
		churn) part_churn "${configs[@]}" ;;
		ring) part_ring ;;
		capacity) part_capacity ;;
		profile) part_profile ;;
		*) note "unknown part $p in BENCH_PARTS" ;;
		esac
	done
	;;
scaling)
	emit pin "$PIN" "$LOAD_CPUS" "$READER_CPUS"
	part_churn base module reader
	;;
*)
	echo "# bench: unknown part $PART"
	exit 2
	;;
esac
echo "# bench: part $PART done"
