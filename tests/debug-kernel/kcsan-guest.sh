#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/debug-kernel/kcsan-guest.sh - runs INSIDE the KCSAN guest (kcsan.sh boots it):
#   1. KCSAN is on (its debugfs file says enabled: 1)
#   2. kprobe optimization can be switched; the scenario and device suites with it off, as in the
#      debug tier: every handler runs in the int3 exception (fprobes aside: 6.1 has none)
#   3. the stress test with it on: probes optimized and unoptimized while they fire
#   4. no KCSAN report in the kernel log is of an access the module made
# 4 is also the console scan's verdict (tests/vm/vm.sh with TCPSTATES_KCSAN=ours); here it is a
# check of its own, with the reports' first lines, so a race is named where the suite fails.
set -uo pipefail
TAP_PREFIX="kcsan: "
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/debug-kernel/suites.sh
. tests/debug-kernel/suites.sh

echo "# kernel $(uname -r), $(nproc) CPUs"
grep -q '^enabled: 1' /sys/kernel/debug/kcsan 2>/dev/null
tap $? "KCSAN is on ($(head -n1 /sys/kernel/debug/kcsan 2>/dev/null))"

debug_suites

[ ! -d /sys/module/tcpstates ] || rmmod tcpstates
# the reports of accesses the module made: tests/lib/kcsan-ours.awk's rule, as the console scan
ours=$(dmesg | awk -v theirs=/dev/null -f tests/lib/kcsan-ours.awk | grep 'BUG: KCSAN:')
all=$(dmesg | grep -c 'BUG: KCSAN:')
[ -z "$ours" ] || sed 's/^/# /' <<<"$ours"
tap $((${#ours} != 0)) "no KCSAN report of an access the module made ($all reports in all, the rest the kernel's own)"
tap_plan
tap_exit
