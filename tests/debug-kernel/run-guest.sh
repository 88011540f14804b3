#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/debug-kernel/run-guest.sh - runs INSIDE the debug-kernel guest (run.sh boots it).
#
#   1. check the checkers are there: KASAN initialised, lockdep on, kmemleak in debugfs
#   2. kmemleak baseline: scan, then `clear` what the boot itself left (not ours to judge)
#   3. the scenario and device suites (tests/vm/suite-guest.sh) with kprobe optimization off, so
#      every probe stays an int3 breakpoint and every handler runs inside the int3 exception, which
#      the kernel enters as an NMI (this kernel has no ftrace, the Debian kernels' usual path):
#      lockdep then checks that nothing the handlers call is unsafe there, and the scenarios that
#      the records still name the right context and process; then the stress test with it back on,
#      so probes are optimized and unoptimized while they fire
#   4. with the module unloaded, every allocation of a load fails in turn, a loop's run of them at
#      its first and last (failinit.sh): each failed load leaves nothing behind; and a ports=
#      write with each of its allocations failed changes nothing (failparam_checks); a timewait
#      hook's hit dropped on purpose (the module's drop_hits) leaves a record absent and counted,
#      never a wrong one (twmark.sh)
#   5. with the module unloaded: two kmemleak scans; any new suspected leak fails the run (the
#      failed loads of 4 included)
#   6. lockdep must still be on at the end (it switches itself off after its first report or when
#      its tables overflow, and would then check nothing more)
# KASAN, lockdep, RCU, sleeping-in-atomic and WARN reports fail the run through the harness's
# console scan (tests/vm/vm.sh). STRESS_CYCLES and STRESS_READ_S are passed to the stress test.
set -uo pipefail

KMEMLEAK=/sys/kernel/debug/kmemleak
TMP_SCAN_ERR=$(mktemp)
TAP_PREFIX="debug: "
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/debug-kernel/failinit.sh
. tests/debug-kernel/failinit.sh
# shellcheck source=tests/debug-kernel/suites.sh
. tests/debug-kernel/suites.sh
# shellcheck source=tests/debug-kernel/twmark.sh
. tests/debug-kernel/twmark.sh


lockdep_on()
{
	grep -qE '^ *debug_locks: +1$' /proc/lockdep_stats 2>/dev/null
}

echo "# kernel $(uname -r), $(nproc) CPUs"
# grep -c reads to the end: grep -q would quit at the match, and under pipefail the SIGPIPE it
# may then deal dmesg would fail the check whenever the log is long enough (it did, once).
dmesg | grep -c 'KernelAddressSanitizer initialized' >/dev/null
tap $? "KASAN is initialised"
lockdep_on
tap $? "lockdep is on (debug_locks 1)"
[ -w "$KMEMLEAK" ]
tap $? "kmemleak is available"

t0=$(date +%s)
echo scan >"$KMEMLEAK" && echo clear >"$KMEMLEAK"
echo "# kmemleak baseline scan took $(($(date +%s) - t0)) s"

debug_suites

[ ! -d /sys/module/tcpstates ] || rmmod tcpstates
[ ! -d /sys/module/tcpstates ]
tap $? "module unloaded before the leak scan"
failinit_checks "${FAILNTH:-build/failnth}" "$TCPSTATES_KO"
failparam_checks "${FAILNTH:-build/failnth}" "$TCPSTATES_KO"
twmark_checks "$TCPSTATES_KO"
# kmemleak reports an object only once it is older than 5 s and unreferenced in a full scan;
# the second scan confirms the first. A scan that fails, or a kmemleak that switched itself off
# (on an error of its own it disables itself, and then reports no leak at all; a write of "scan"
# then fails with EPERM), is no verdict: both must be seen to work.
sleep 6
scans=0
for i in 1 2; do
	echo scan 2>"$TMP_SCAN_ERR" >"$KMEMLEAK" && scans=$((scans + 1)) ||
		echo "# kmemleak: scan $i failed: $(cat "$TMP_SCAN_ERR")"
done
disabled=$(dmesg | grep -m1 'kmemleak: Kernel memory leak detector disabled')
[ -z "$disabled" ] || echo "# $disabled"
leaks=$(grep -c '^unreferenced object' "$KMEMLEAK")
if [ "$leaks" != 0 ]; then
	echo "# kmemleak: $leaks suspected leaks (unresolved addresses are frames of the unloaded module):"
	head -n 120 "$KMEMLEAK" | sed 's/^/#   /'
fi
tap $((leaks != 0 || scans != 2 || ${#disabled} != 0)) \
	"kmemleak after rmmod: both scans ran, kmemleak still enabled, $leaks new suspected leaks"
lockdep_on
tap $? "lockdep still on at the end (no report switched it off)"
tap_plan
tap_exit
