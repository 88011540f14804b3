#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/debug-kernel/run.sh - the debug-kernel tier: one boot of the 6.1 KASAN/lockdep/kmemleak
# kernel (build.sh, cached) running the scenario suite, the device suite and the stress test,
# then a kmemleak scan with the module unloaded (run-guest.sh).
#
# Output is TAP-like, prefixed [debug-6.1]; exit 0 only if every check passed and the kernel log
# is clean (no KASAN, lockdep, RCU, "sleeping function called from invalid context", WARN, BUG).
# Environment: STRESS_CYCLES (12 here: under KASAN an rmmod under load takes about 11 s) and
# STRESS_READ_S (0.6) size the stress part; TCPSTATES_JOBS for the kernel build; TCPSTATES_CACHE
# where the kernel is cached; DEBUG_GUEST another guest script to run instead of run-guest.sh
# (make mutants' "debug" suite runs params-guest.sh so). TCPSTATES_DEBUG_VARIANT=kcsan runs the
# second configuration instead (kcsan.sh says what it is): kcsan-6.1, kcsan-guest.sh, no
# slub_debug, and KCSAN reports of the kernel's own races kept out of the verdict.
#
# The guest boots with slub_debug=A,... (failinit.sh: the caches its fault injection may fail) and
# with pci=noacpi: the PCI interrupt routing then comes from the BIOS's $PIR
# table instead of the ACPI _PRT method. Under KASAN and TCG on a busy host, ACPICA interpreted
# _PRT slowly enough to hit its 30 s loop timeout (AE_AML_LOOP_TIMEOUT), the virtio devices got no
# interrupt and the guest sat idle until the run's timeout; with no AML to run for routing, the
# boot no longer depends on the emulator's speed. The stall watchdog (tests/vm/vm.sh --stall)
# ends any guest that still goes quiet, here after 600 s (TCPSTATES_DEBUG_STALL) rather than the
# stock kernels' 300: under KASAN and TCG every step takes several times longer. On a host at
# load 8 (2 cores; a second debug guest, the build check and compiles beside it, 2026-12-02) this
# guest printed nothing for 300 s while the scenario suite set up its network, and was ended;
# whether it was slow or stuck is not known. That setup now reports each step.
# The whole boot is bounded at 3600 s (TCPSTATES_DEBUG_TIMEOUT). It takes 1171-1512 s on a 2-core
# host alone; beside a second run of the suite it can take twice that, and a guest that is slow
# but moving must pass. The bound is the backstop; a guest that stops is the stall watchdog's.
# Like tests/stress/stress.sh, it boots on QEMU 10 with a host thread per vCPU (see there).
set -euo pipefail
export TCPSTATES_QEMU=${TCPSTATES_QEMU:-backports}
export TCPSTATES_TCG_THREAD=${TCPSTATES_TCG_THREAD:-multi}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
t0=$(date +%s)
case ${TCPSTATES_DEBUG_VARIANT:=debug} in
debug)
	NAME=debug-6.1
	GUEST=${DEBUG_GUEST:-tests/debug-kernel/run-guest.sh}
	APPEND="pci=noacpi slub_debug=A,kmalloc-*,proc_dir_entry,kernfs_node_cache,vmap_area"
	;;
kcsan)
	NAME=kcsan-6.1
	GUEST=tests/debug-kernel/kcsan-guest.sh
	APPEND=pci=noacpi
	export TCPSTATES_KCSAN=ours	# tests/vm/vm.sh's console scan
	;;
*)
	echo "not ok - TCPSTATES_DEBUG_VARIANT=$TCPSTATES_DEBUG_VARIANT: debug or kcsan"
	exit 1
	;;
esac
export TCPSTATES_DEBUG_VARIANT

prefix()
{
	sed -u -E "s/^((not )?ok( [0-9]+)?)( -)? /\\1 - [$NAME] /"
}

if ! TCPSTATES_KDIR=$("$HERE/build.sh"); then
	echo "not ok - [$NAME] $TCPSTATES_DEBUG_VARIANT kernel builds"
	exit 1
fi
export TCPSTATES_KDIR
echo "# [$NAME] kernel $(cat "$TCPSTATES_KDIR/include/config/kernel.release") ready after $(($(date +%s) - t0)) s"
make -s -C "$REPO/tests/stress"
make -s -C "$REPO/tests/device"
mkdir -p "$REPO/build"
cc -O2 -Wall -Wextra -Werror -o "$REPO/build/failnth" "$HERE/failnth.c"
if ! "$REPO/tests/vm/vm.sh" build "$NAME" >/dev/null; then
	echo "not ok - [$NAME] module builds against the $TCPSTATES_DEBUG_VARIANT kernel"
	exit 1
fi

mkdir -p "$REPO/build/vm-runs"
# A boot that dies before the tests start has run none: --boots 3 boots again, at most three boots
# in all (as tests/vm/suite.sh and tests/stress/stress.sh do). Anything after the start counts.
out=$(mktemp -d "$REPO/build/vm-runs/$NAME.XXXXXX")
set +e
"$REPO/tests/vm/vm.sh" run "$NAME" --boots 3 --cpus 2 --mem 1536 \
	--timeout "${TCPSTATES_DEBUG_TIMEOUT:-3600}" --stall "${TCPSTATES_DEBUG_STALL:-600}" \
	--append "$APPEND" \
	--out "$out" -- env STRESS_CYCLES="${STRESS_CYCLES:-12}" STRESS_READ_S="${STRESS_READ_S:-0.6}" \
	FAILNTH="$REPO/build/failnth" "$GUEST" | prefix
rc=${PIPESTATUS[0]}
set -e
"$REPO/tests/vm/vm.sh" verdict "$out" "[$NAME]" || rc=1
if [ "$TCPSTATES_DEBUG_VARIANT" = kcsan ]; then
	theirs=$(cat "$out"/*.log.theirs 2>/dev/null | grep -c 'BUG: KCSAN:' || true)
	echo "# [$NAME] KCSAN reports of the kernel's own races, no frame of the module: $theirs" \
		"(kept in $out/console.log.theirs)"
fi
echo "# [$NAME] took $(($(date +%s) - t0)) s (logs: $out)"
exit "$rc"
