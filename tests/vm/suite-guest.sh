#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/vm/suite-guest.sh - runs INSIDE the guest (tests/vm/suite.sh boots it): the scenario suite,
# then the device suite, in the same boot. Each prints TAP-like lines; a suite that is missing or not
# executable gets one "ok - <suite> # SKIP reason" line so the gap is counted, not silent.
#
# Exit: 1 if a suite failed (exit status other than 0 or 4), 4 if none could run, else 0.
set -uo pipefail

SUITES=(tests/scenarios/run-guest.sh tests/device/run-guest.sh)
ran=0
failed=0

for s in "${SUITES[@]}"; do
	name=$(basename "$(dirname "$s")")
	if [ ! -e "$s" ]; then
		echo "ok - $name # SKIP $s does not exist yet"
		continue
	fi
	if [ ! -x "$s" ]; then
		echo "ok - $name # SKIP $s is not executable"
		continue
	fi
	# a suite that leaves the module loaded must not break the next one
	[ -d /sys/module/tcpstates ] && rmmod tcpstates 2>/dev/null
	echo "# ---- $s"
	t0=$(date +%s)
	"./$s"
	rc=$?
	echo "# ---- $s exited $rc after $(($(date +%s) - t0)) s"
	case $rc in
	0) ran=$((ran + 1)) ;;
	4) ;;
	*)
		ran=$((ran + 1))
		failed=1
		;;
	esac
done

[ $failed -ne 0 ] && exit 1
[ $ran -eq 0 ] && exit 4
exit 0
