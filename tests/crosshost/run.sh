#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/crosshost/run.sh [KERNEL] - conversations across hosts, for real: two QEMU guests (default
# kernel 6.1) joined by a private link (tests/vm/pair.sh), each recording with the module while
# guest a talks to guest b (tests/crosshost/run-guest.sh); then, on the host, the two recordings
# are merged (tcptimeline -r a.tcpcap -r b.tcpcap) and checked against the packets tcpdump saw on
# a (tests/crosshost/check.py). Prints a fixed number of TAP checks and a plan line; the merged
# ladder goes to DIR/ladder.txt. Exit: 0 all passed, 1 a check failed.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
KERNEL=${1:-6.1}
TT=$REPO/tools/tcptimeline
t0=$(date +%s)
TAP_PREFIX="[$KERNEL] crosshost: "
# shellcheck source=tests/lib/tap.sh
. "$REPO/tests/lib/tap.sh"
relay() { # relay "ok - x" | "not ok - x" (a guest's or check.py's line): numbered, prefixed
	case "$1" in
	"not ok - "*) not_ok "${1#not ok - }" ;;
	*) ok "${1#ok - }" ;;
	esac
}

nice -n 5 make -s -C "$REPO/tools" tcptimeline >&2 && "$REPO/tests/vm/vm.sh" build "$KERNEL" > /dev/null
tap $? "module and tcptimeline build"
mkdir -p "$REPO/build/vm-runs"
out=$(mktemp -d "$REPO/build/vm-runs/crosshost-$KERNEL.XXXXXX")
"$REPO/tests/vm/pair.sh" run "$KERNEL" --out "$out" --timeout 900 -- tests/crosshost/run-guest.sh \
	> "$out/guests.txt"
pair_rc=$?
grep -v -E '^[ab]: (not )?ok - ' "$out/guests.txt" | sed 's/^\([ab]\): /# \1: /'
guest_ok=1
grep -q -E '^[ab]: not ok' "$out/guests.txt" && guest_ok=0
for r in a b; do
	grep -q "^$r: ok - $r: recorder exits 0" "$out/guests.txt" || guest_ok=0
done
grep -E '^[ab]: not ok' "$out/guests.txt" | sed 's/^/# /'
tap "$([ $pair_rc = 0 ] && [ $guest_ok = 1 ]; echo $?)" "both guests booted, linked, recorded and finished cleanly"

if [ -f "$out/a/a.tcpcap" ] && [ -f "$out/b/b.tcpcap" ] && [ -f "$out/a/a.pcap" ]; then
	"$TT" -r "$out/a/a.tcpcap" -r "$out/b/b.tcpcap" --ladder --port 7301 > "$out/ladder.txt" 2>&1
	python3 "$HERE/check.py" "$TT" "$out" > "$out/check.txt" 2>&1
	grep '^#' "$out/check.txt"
	while IFS= read -r line; do
		relay "$line"
	done < <(grep -E '^(not )?ok - ' "$out/check.txt")
fi
while [ $TAP_COUNT -lt 9 ]; do	# check.py's 7 checks, when there was nothing to check
	not_ok "merge check $((TAP_COUNT - 1)) not reached (no recordings)"
done
tap_plan
echo "# [$KERNEL] crosshost suite took $(($(date +%s) - t0)) s (logs: $out, ladder: $out/ladder.txt)"
tap_exit
