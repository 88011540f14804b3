#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/stress/stress.sh [KERNEL] - the stress test (run-guest.sh) in one boot of KERNEL (default
# 6.12-rt), 2 CPUs. TCPSTATES_KFENCE=1 makes KFENCE sample every millisecond; STRESS_CYCLES (30)
# and STRESS_READ_S (0.6) size the run. Prints TAP
# lines; exit 0 only if every check passed, the guest finished and the kernel log is clean.
# The debug kernel runs it through tests/debug-kernel/run.sh.
#
# Under TCG the guest runs with all its vCPUs on one host thread (TCPSTATES_TCG_THREAD=single,
# unless set otherwise): with QEMU 7.2's default thread per vCPU, probes patched in and out under
# churn on a loaded host crash the emulated kernel in ways only stale emulated code explains (a
# vCPU trapping again and again on an int3 that memory no longer holds; README, "What the module
# promises"). TCPSTATES_TCG_THREAD=multi runs it that way anyway; under KVM it does not apply.
set -euo pipefail
export TCPSTATES_TCG_THREAD=${TCPSTATES_TCG_THREAD:-single}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
KERNEL=${1:-6.12-rt}
append=""
[ "${TCPSTATES_KFENCE:-0}" = 1 ] && append="kfence.sample_interval=1"
tag=$KERNEL${append:+ kfence}

make -s -C "$HERE"
"$REPO/tests/vm/vm.sh" build "$KERNEL" >/dev/null
out=$(mktemp -d "$REPO/build/vm-runs/stress-$KERNEL.XXXXXX")
set +e
"$REPO/tests/vm/vm.sh" run "$KERNEL" --cpus 2 --timeout 1200 --append "$append" --out "$out" \
	-- env STRESS_CYCLES="${STRESS_CYCLES:-30}" STRESS_READ_S="${STRESS_READ_S:-0.6}" \
	tests/stress/run-guest.sh | sed -u -E "s/^((not )?ok [0-9]+) - /\\1 - [$tag] /"
rc=${PIPESTATUS[0]}
set -e
"$REPO/tests/vm/vm.sh" verdict "$out" "[$tag] stress:" || rc=1
exit "$rc"
