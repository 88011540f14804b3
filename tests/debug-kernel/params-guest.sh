#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/debug-kernel/params-guest.sh - runs INSIDE the debug-kernel guest: the parameter-write
# fault-injection check alone (failinit.sh's failparam_checks), which run-guest.sh also runs.
# For make mutants (suite "debug"): DEBUG_GUEST=tests/debug-kernel/params-guest.sh
# tests/debug-kernel/run.sh boots the debug kernel with it in a few minutes instead of the half
# hour the whole tier takes.
set -uo pipefail
TAP_PREFIX="debug: "
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
# shellcheck source=tests/debug-kernel/failinit.sh
. tests/debug-kernel/failinit.sh
echo 1 >/proc/sys/kernel/printk	# the failures' allocation warnings are expected, not news
failparam_checks "${FAILNTH:-build/failnth}" "$TCPSTATES_KO"
tap_plan
tap_exit
