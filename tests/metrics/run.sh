#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/metrics/run.sh [KERNEL] - the exporter checked by a real Prometheus, in one QEMU guest
# (default kernel 6.1): builds the module, tcptimeline and tcpscen on the host, boots the guest
# with tests/metrics/run-guest.sh, and prints a fixed number of TAP checks (the guest's, then the
# harness's: kernel log clean, guest finished) with a plan line. A check the guest never reached
# is "not ok", so every run prints the same lines.
# Needs: prometheus (Debian's, with promtool), curl, libmicrohttpd-dev, QEMU (tests/vm/vm.sh).
# Exit: 0 all passed, 1 a check failed.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
KERNEL=${1:-6.1}
GUEST_CHECKS=30		# the "ok N" lines tests/metrics/run-guest.sh prints
t0=$(date +%s)

nice -n 5 make -s -C "$REPO/tools" tcptimeline >&2 &&
	nice -n 5 make -s -C "$REPO/tests/scenarios" >&2 &&
	"$REPO/tests/vm/vm.sh" build "$KERNEL" > /dev/null || {
	echo "not ok 1 - [$KERNEL] metrics: build"
	echo "1..1"
	exit 1
}
mkdir -p "$REPO/build/vm-runs"
# no_timer_check: on a loaded host TCG can miss the boot's IO-APIC timer check and panic; a boot
# that dies before the suite starts is booted again (--boots 3, as tests/vm/suite.sh does)
out=$(mktemp -d "$REPO/build/vm-runs/metrics-$KERNEL.XXXXXX")
"$REPO/tests/vm/vm.sh" run "$KERNEL" --boots 3 --timeout 900 --mem 1536 --append no_timer_check \
	--out "$out" -- tests/metrics/run-guest.sh > "$out/tap.txt"
n=0
failed=0
while IFS= read -r line; do
	case "$line" in
	"ok "[0-9]*" - "* | "not ok "[0-9]*" - "*)
		n=$((n + 1))
		line=$(sed -E "s/^((not )?ok) [0-9]+ - /\\1 $n - [$KERNEL] metrics: /" <<<"$line")
		case "$line" in not*) failed=1 ;; esac
		;;
	esac
	printf '%s\n' "$line"
done < "$out/tap.txt"
while [ $n -lt $GUEST_CHECKS ]; do
	n=$((n + 1))
	echo "not ok $n - [$KERNEL] metrics: guest check $n not reached"
	failed=1
done
"$REPO/tests/vm/vm.sh" verdict "$out" "[$KERNEL] metrics:" > "$out/verdict.txt" || failed=1
if grep -q '^ok - .*kernel log clean' "$out/verdict.txt"; then
	echo "ok $((n + 1)) - [$KERNEL] metrics: kernel log clean"
else
	echo "not ok $((n + 1)) - [$KERNEL] metrics: kernel log clean # $out/console.log"
fi
if grep -q 'guest finished' "$out/verdict.txt"; then
	echo "not ok $((n + 2)) - [$KERNEL] metrics: guest finished # $(grep 'guest finished' "$out/verdict.txt")"
else
	echo "ok $((n + 2)) - [$KERNEL] metrics: guest finished"
fi
echo "1..$((n + 2))"
echo "# [$KERNEL] metrics suite took $(($(date +%s) - t0)) s (logs: $out)"
exit $failed
