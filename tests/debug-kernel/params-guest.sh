#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/debug-kernel/params-guest.sh - runs INSIDE the debug-kernel guest: the fault-injection
# checks that need no sweep, which run-guest.sh also runs: a parameter write whose allocation
# fails (failinit.sh's failparam_checks) and the timewait hooks' dropped hits (twmark.sh).
# For make mutants (suite "debug"): DEBUG_GUEST=tests/debug-kernel/params-guest.sh
# tests/debug-kernel/run.sh boots the debug kernel with it in a few minutes instead of the half
# hour the whole tier takes.
set -uo pipefail
TAP_PREFIX="debug: "
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/debug-kernel/failinit.sh
. tests/debug-kernel/failinit.sh
# shellcheck source=tests/debug-kernel/twmark.sh
. tests/debug-kernel/twmark.sh
echo 1 >/proc/sys/kernel/printk	# the failures' allocation warnings are expected, not news
failparam_checks "${FAILNTH:-build/failnth}" "$TCPSTATES_KO"
twmark_checks "$TCPSTATES_KO"
# Then traffic through the probes, every writer under lockdep: one that ran with interrupts on
# trips ts_ring_reserve()'s lockdep_assert_irqs_disabled(), a WARNING that the host's scan of the
# kernel log fails (make mutants: mod-irq-on). run-guest.sh's vm suite does this at length.
n=0
if insmod "$TCPSTATES_KO"; then
	tests/device/devtest burst 100 fin >/dev/null
	tests/device/devtest burst 100 v6 >/dev/null
	n=$(sed -n 's/^written //p' /proc/tcpstates_stats)
	rmmod tcpstates
fi
check "200 loopback connections recorded under lockdep ($n records)" [ "${n:-0}" -ge 800 ]
tap_plan
tap_exit
