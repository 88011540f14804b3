#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/stress/stress.sh [KERNEL] - the stress test (run-guest.sh) in one boot of KERNEL (default
# 6.12-rt), 2 CPUs. TCPSTATES_KFENCE=1 makes KFENCE sample every millisecond; STRESS_CYCLES (30)
# and STRESS_READ_S (0.6) size the run. Prints TAP
# lines; exit 0 only if every check passed, the guest finished and the kernel log is clean.
# The debug kernel runs it through tests/debug-kernel/run.sh.
#
# Under TCG the guest runs on QEMU 10 (bookworm-backports, unpacked into the cache by
# tests/vm/qemu.sh; TCPSTATES_QEMU=backports unless set) with a host thread per vCPU
# (TCPSTATES_TCG_THREAD=multi unless set): its vCPUs run in parallel, as a real machine's CPUs do.
# Under Debian 12's QEMU 7.2 with a thread per vCPU, guests crash at probe sites being patched on a
# busy host, with this module and without it (the kernel's own kprobe events on the same symbols);
# QEMU 10 ran the same loads clean (docs/emulator.md has the experiment). TCPSTATES_QEMU=system
# TCPSTATES_TCG_THREAD=single is the fallback without QEMU 10 (sound, every vCPU on one thread).
set -euo pipefail
export TCPSTATES_QEMU=${TCPSTATES_QEMU:-backports}
export TCPSTATES_TCG_THREAD=${TCPSTATES_TCG_THREAD:-multi}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
KERNEL=${1:-6.12-rt}
append=""
[ "${TCPSTATES_KFENCE:-0}" = 1 ] && append="kfence.sample_interval=1"
tag=$KERNEL${append:+ kfence}

make -s -C "$HERE"
"$REPO/tests/vm/vm.sh" build "$KERNEL" >/dev/null
# A boot that dies before the test starts has run no test: --boots 3 boots again, at most three
# boots in all, and says so (as tests/vm/suite.sh does). Under host load QEMU 10's threaded TCG,
# too, has crashed a stock 7.3-rt kernel patching its own code at boot, before any module was
# loaded (docs/emulator.md). Anything after the test has started counts.
mkdir -p "$REPO/build/vm-runs"
out=$(mktemp -d "$REPO/build/vm-runs/stress-$KERNEL.XXXXXX")
set +e
"$REPO/tests/vm/vm.sh" run "$KERNEL" --boots 3 --cpus 2 --timeout 1200 --append "$append" \
	--out "$out" -- env STRESS_CYCLES="${STRESS_CYCLES:-30}" STRESS_READ_S="${STRESS_READ_S:-0.6}" \
	tests/stress/run-guest.sh | sed -u -E "s/^((not )?ok [0-9]+) - /\\1 - [$tag] /"
rc=${PIPESTATUS[0]}
set -e
"$REPO/tests/vm/vm.sh" verdict "$out" "[$tag] stress:" || rc=1
exit "$rc"
