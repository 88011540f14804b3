#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/run-guest.sh - runs INSIDE the test VM (tests/bench/bench.sh boots it).
#
# Connection churn (tests/stress/stress churn: THREADS clients, connect / 1-byte exchange / close on
# loopback) for RUN_S seconds per run, in ROUNDS interleaved rounds of every configuration, so that
# the ratios compare runs made side by side in one boot:
#   base      no tracing
#   module    tcpstates loaded, nobody reading
#   reader    tcpstates loaded, tcptimeline --from-now -w recording to a file
#   bpftrace  a bpftrace program on sock:inet_sock_set_state printing the same fields to a file
# Prints one line per run and a summary: median connections/s, spread (min-max), ratio to base,
# records written and lost, and the cost per recorded event derived from the throughput difference.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
TOP=$(cd "$HERE/../.." && pwd -P)
KO=${TCPSTATES_KO:?}
ROUNDS=${BENCH_ROUNDS:-5}
RUN_S=${BENCH_RUN_S:-6}
THREADS=${BENCH_THREADS:-$(nproc)}
WORK=$(mktemp -d /tmp/bench.XXXXXX)
STRESS=$TOP/tests/stress/stress
TT=$TOP/tools/tcptimeline
port=7400

BPF='tracepoint:sock:inet_sock_set_state /args->protocol == 6/ {
	printf("%llu %d %d %d %d %d %s\n", nsecs, cpu, pid, args->oldstate, args->newstate,
	       args->sport, comm);
}'

configs=(base module reader)
if command -v bpftrace > /dev/null; then
	configs+=(bpftrace)
else
	echo "# bpftrace is not installed on the host: its runs are left out"
fi

stat_of() { awk -v k="$1" '$1 == k { print $2 }' /proc/tcpstates_stats; }

# run CONFIG: one churn run; prints "CONFIG cps written lost"
run()
{
	local cfg=$1 pid=0 w0=0 w1=0 lost=0 out cps recs
	port=$((port + 1))
	case $cfg in
	module | reader)
		insmod "$KO" || return 1
		w0=$(stat_of written)
		if [ "$cfg" = reader ]; then
			"$TT" --from-now -w "$WORK/cap" 2> "$WORK/tt.err" &
			pid=$!
			sleep 0.5
		fi
		;;
	bpftrace)
		bpftrace -e "$BPF" > "$WORK/bpf.out" 2> "$WORK/bpf.err" &
		pid=$!
		# bpftrace compiles and attaches before it prints anything
		for i in $(seq 100); do
			grep -q "Attaching" "$WORK/bpf.out" "$WORK/bpf.err" 2>/dev/null && break
			sleep 0.2
		done
		;;
	esac
	out=$("$STRESS" churn "$RUN_S" "$THREADS" 127.0.0.1 "$port")
	cps=$(echo "$out" | awk -F'conns=' -v s="$RUN_S" '{ printf "%.1f", $2 / s }')
	case $cfg in
	module | reader)
		sleep 0.3
		w1=$(stat_of written)
		if [ "$cfg" = reader ]; then
			kill -INT $pid
			wait $pid
			# 64-byte capture header, then whole records (LOST markers included)
			recs=$((($(stat -c %s "$WORK/cap") - 64) / 168))
			lost=$((w1 - w0 - recs))
		fi
		rmmod tcpstates
		;;
	bpftrace)
		kill -INT $pid
		wait $pid
		w1=$(grep -c '^[0-9]' "$WORK/bpf.out")
		;;
	esac
	echo "$cfg $cps $((w1 - w0)) $lost"
}

echo "# $(nproc) CPUs, $THREADS client threads, $ROUNDS rounds x ${RUN_S} s per configuration"
: > "$WORK/results"
for r in $(seq "$ROUNDS"); do
	for cfg in "${configs[@]}"; do
		line=$(run "$cfg") || { echo "# run $cfg failed"; continue; }
		echo "$line" >> "$WORK/results"
		echo "# round $r: $line"
	done
done

echo
printf '%-9s %10s %19s %8s %10s %8s %9s\n' config "conns/s" "spread" ratio records lost ns/event
python3 - "$WORK/results" "$RUN_S" "$(nproc)" <<'PY'
import statistics, sys
run_s, ncpu = float(sys.argv[2]), int(sys.argv[3])
rows = {}
for line in open(sys.argv[1]):
    cfg, cps, written, lost = line.split()
    rows.setdefault(cfg, []).append((float(cps), int(written), int(lost)))
base = statistics.median(c for c, _, _ in rows['base'])
for cfg, rs in rows.items():
    cps = [c for c, _, _ in rs]
    med = statistics.median(cps)
    written = sum(w for _, w, _ in rs)
    lost = sum(l for _, _, l in rs)
    conns = sum(cps) * run_s
    # The churn keeps every CPU busy: CPU time per connection is ncpu / cps. The extra CPU
    # time per connection, shared out over the records each connection produced:
    ns = (ncpu * 1e9 / med - ncpu * 1e9 / base) / (written / conns) if cfg != 'base' and written else 0
    print(f"{cfg:<9} {med:10.1f} {min(cps):8.1f}-{max(cps):<8.1f} {med / base:8.3f} "
          f"{written:10d} {lost:8d} {ns:9.0f}")
PY
