#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/bench.sh [KERNEL] - `make bench`: what tcpstates costs and loses, side by side with no
# tracing, bpftrace and bcc, in QEMU guests booting KERNEL (default 6.1); BENCHMARKS.md has the
# figures and how to read them.
#
#   1. installs what it needs from Debian, builds the module, tcptimeline and the helpers
#   2. on the host: `make -C tools bench` (tcptimeline: each format's rate and peak memory)
#   3. boots 2 CPUs: tests/bench/run-guest.sh main (churn over loopback and veth in 6
#      configurations, the microbenchmarks, ring capacities, a perf profile)
#   4. boots 1 and 4 CPUs: tests/bench/run-guest.sh scaling (base and reader churn)
#   5. prints the summary (tests/bench/report.py), also saved in OUTDIR/summary.txt
#
# About 11 minutes on an otherwise idle 2-core machine under TCG (13 with another VM running).
#
# BENCH_ICOUNT=SPEC (e.g. shift=0,sleep=off; `make bench-icount`) boots the main guest with QEMU's
# -icount SPEC: guest time is then a function of the instructions executed (shift=0: one
# nanosecond each), not of the host's clock or load, so the figures count instructions and move
# little between runs, where wall-clock TCG figures move with the host's load and price
# an HPET read or a trap at what the emulator pays for it. icount needs one host thread for all
# vCPUs, and QEMU 10 (TCPSTATES_QEMU=backports unless set: Debian 12's QEMU 7.2 with
# -icount shift=0,sleep=off printed nothing in 5 minutes, 10.0 boots in a minute). The guest has
# one vCPU (BENCH_ICOUNT_CPUS): QEMU runs the vCPUs of an icount guest in turns on one thread and
# every vCPU's instructions advance the one guest clock, so with one vCPU the time a loop takes is
# that loop's (and its reader's) instructions and nothing else. It runs the hits and churn parts
# (BENCH_PARTS), 3 rounds (hits: 20000 iterations; churn: 2 guest seconds a run, bcc in one round)
# and no scaling boots: about 30 minutes beside other guests. (The churn part hung under icount
# in three bench runs of 2026-11-30; on 2026-12-02 it ran in every configuration, bcc's included;
# the hang was not seen again and was not explained.)
#
# Env: BENCH_OUT (OUTDIR, default build/bench/DATE-TIME: each boot's bench.txt, console and the raw
# profile), BENCH_CPUS ("1 4": the scaling boots), BENCH_MAIN (0: no main boot; `make bench-scaling`
# is BENCH_MAIN=0 BENCH_CPUS="1 2 4", the reader on its own vCPU, about 12 minutes idle), BENCH_APPEND (guest kernel arguments, default clocksource=hpet: what the guest
# kernel picks by itself with 2 or more vCPUs under TCG, finding their TSCs unsynchronized; with 1
# vCPU it would take the TSC, and the scaling boots would not compare), TCPSTATES_KVM=1 on real
# hardware, and every BENCH_* variable run-guest.sh reads (BENCH_ROUNDS, BENCH_RUN_S,
# BENCH_BCC_ROUNDS ...), which are passed on to the guests; TCPSTATES_QEMU picks the emulator
# (tests/vm/vm.sh).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
# shellcheck source=tests/vm/kernels.sh
. "$REPO/tests/vm/kernels.sh"
KERNEL=${1:-6.1}
OUT=${BENCH_OUT:-$REPO/build/bench/$(date +%Y%m%d-%H%M%S)}
VM=$REPO/tests/vm/vm.sh
t0=$(date +%s)
failed=()
# the emulator the stress test runs on (tests/stress/stress.sh): QEMU 10, a host thread per vCPU
export TCPSTATES_QEMU=${TCPSTATES_QEMU:-backports}
icount=()
if [ -n "${BENCH_ICOUNT:-}" ]; then
	icount=(--icount "$BENCH_ICOUNT")
	export BENCH_PARTS=${BENCH_PARTS:-hits churn} BENCH_BCC_ROUNDS=${BENCH_BCC_ROUNDS:-1}
	export BENCH_ROUNDS=${BENCH_ROUNDS:-3} BENCH_RUN_S=${BENCH_RUN_S:-2} BENCH_HITS=${BENCH_HITS:-20000}
	BENCH_CPUS=${BENCH_CPUS:-}
fi

say()
{
	printf '# bench: %s\n' "$*"
}

# boot NAME CPUS PART TIMEOUT: run-guest.sh PART in a guest with CPUS CPUs; results in $OUT/NAME
boot()
{
	local name=$1 cpus=$2 part=$3 timeout=$4 env=() v
	# the guest starts from an empty environment: pass the BENCH_* settings on
	for v in $(compgen -v BENCH_); do
		env+=("$v=${!v}")
	done
	say "boot $name: $cpus CPUs, part $part ($(($(date +%s) - t0)) s so far)"
	"$VM" run "$KERNEL" --cpus "$cpus" --mem 2048 --timeout "$timeout" --out "$OUT/$name" \
		"${icount[@]}" --append "${BENCH_APPEND-clocksource=hpet}" -- env "${env[@]}" tests/bench/run-guest.sh "$part" ||
		failed+=("$name")
}

kernel_ensure_deps
# bpftrace: the peer a user would reach for, on the sock:inet_sock_set_state tracepoint.
# bpfcc-tools: bcc's tcpstates (tcpstates-bpfcc), the stock tool for the same job.
# linux-perf: perf for the profile (the guest runs the host's binaries).
_kernels_apt_install bpftrace bpfcc-tools linux-perf
make -s -C "$REPO/tools" tcptimeline || exit 1
make -s -C "$REPO/tests/stress" || exit 1
make -s -C "$REPO/tests/bench" || exit 1
# the module (and the guest kernel's headers, which bcc compiles against)
if ! "$VM" build "$KERNEL" > /dev/null; then
	say "module build failed; trying again in a minute (someone may be editing module/)"
	sleep 60
	"$VM" build "$KERNEL" > /dev/null || exit 1
fi
mkdir -p "$OUT" || exit 1

# the host, and how busy it is: the guests' figures move with the load of a shared machine
{
	echo "cpu $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
	echo "system Debian $(cat /etc/debian_version), kernel $(uname -r)"
	if [ -n "${BENCH_ICOUNT:-}" ]; then
		timing="-icount $BENCH_ICOUNT, one host thread (guest time counts instructions)"
	else
		timing="thread=${TCPSTATES_TCG_THREAD:-multi} (wall-clock guest time)"
	fi
	echo "qemu $("$REPO/tests/vm/qemu.sh" version "${TCPSTATES_QEMU:-backports}"), TCG $timing"
	echo "load_start $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/host.txt"

say "host: make -C tools bench"
make -s -C "$REPO/tools" bench 2>&1 | tee "$OUT/tools-bench.txt"

main_cpus=2
[ ${#icount[@]} = 0 ] || main_cpus=${BENCH_ICOUNT_CPUS:-1}
[ "${BENCH_MAIN:-1}" = 0 ] ||
	boot main "$main_cpus" main "${BENCH_TIMEOUT:-$([ ${#icount[@]} = 0 ] && echo 1100 || echo 4000)}"
for cpus in ${BENCH_CPUS-1 4}; do
	boot "cpus$cpus" "$cpus" scaling 400
done

echo "load_end $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/host.txt"
echo "elapsed $(($(date +%s) - t0))" >> "$OUT/host.txt"
python3 "$HERE/report.py" "$OUT" | tee "$OUT/summary.txt"
say "finished in $(($(date +%s) - t0)) s; results in $OUT"
if [ ${#failed[@]} -gt 0 ]; then
	say "FAILED boots (timeout, crash or kernel warnings: see their console.log): ${failed[*]}"
	exit 1
fi
