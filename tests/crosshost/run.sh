#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/crosshost/run.sh [KERNEL] - conversations across hosts, for real: two QEMU guests (default
# kernel 6.1) joined by a private link (tests/vm/pair.sh), each recording with the module while
# guest a talks to guest b (tests/crosshost/run-guest.sh); then, on the host, the two recordings
# are merged (tcptimeline -r a.tcpcap -r b.tcpcap) and checked against the packets tcpdump saw on
# a (tests/crosshost/check.py). The same run is a journal fleet: each guest's journald gets its
# recorder's --journal entries, both upload to b's systemd-journal-remote, and b's journalctl
# finds one conversation there from both sides (tests/crosshost/journal_check.py). Prints a fixed
# number of TAP checks (CHECKS) and a plan line; the merged ladder goes to DIR/ladder.txt.
# Exit: 0 all passed, 1 a check failed.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
KERNEL=${1:-6.1}
TT=$REPO/tools/tcptimeline
t0=$(date +%s)
TAP_PREFIX="[$KERNEL] crosshost: "
# build 1, the guests' recording 1, the guests' journal steps 1, check.py 7, journal_check.py 3
CHECKS=13
# shellcheck source=tests/vm/kernels.sh
. "$REPO/tests/vm/kernels.sh"
# shellcheck source=tests/lib/tap.sh
. "$REPO/tests/lib/tap.sh"
relay() { # relay "ok - x" | "ok - x # SKIP why" | "not ok - x" (a checker's line): numbered, prefixed
	case "$1" in
	"not ok - "*) not_ok "${1#not ok - }" ;;
	*" # SKIP "*)
		local line=${1#ok - }
		skip "${line%% # SKIP *}" "${line#* # SKIP }"
		;;
	*) ok "${1#ok - }" ;;
	esac
}
relay_all() { # relay_all FILE: its "# ..." lines as they are, its checks through relay
	grep '^#' "$1"
	while IFS= read -r line; do
		relay "$line"
	done < <(grep -E '^(not )?ok - ' "$1")
}
# journal_check.py reads journal-remote's files with the host's journalctl (the guests run the
# host's binaries); run-all.sh installs it before the suites start
_kernels_apt_install systemd-journal-remote

nice -n 5 make -s -C "$REPO/tools" tcptimeline >&2 && "$REPO/tests/vm/vm.sh" build "$KERNEL" > /dev/null
tap $? "module and tcptimeline build"
mkdir -p "$REPO/build/vm-runs"
out=$(mktemp -d "$REPO/build/vm-runs/crosshost-$KERNEL.XXXXXX")
"$REPO/tests/vm/pair.sh" run "$KERNEL" --out "$out" --timeout 900 -- tests/crosshost/run-guest.sh \
	> "$out/guests.txt"
pair_rc=$?
grep -v -E '^[ab]: (not )?ok - ' "$out/guests.txt" | sed 's/^\([ab]\): /# \1: /'
# the recording's steps; the journal's ("R: journal: ...") leave a guest's exit status alone
guest_ok=1
grep -E '^[ab]: not ok' "$out/guests.txt" | grep -q -v -E '^[ab]: not ok - [ab]: journal: ' &&
	guest_ok=0
for r in a b; do
	grep -q "^$r: ok - $r: recorder exits 0" "$out/guests.txt" || guest_ok=0
done
grep -E '^[ab]: not ok' "$out/guests.txt" | sed 's/^/# /'
tap "$([ $pair_rc = 0 ] && [ $guest_ok = 1 ]; echo $?)" "both guests booted, linked, recorded and finished cleanly"
journal_ok=1
grep -q -E '^[ab]: not ok - [ab]: journal: ' "$out/guests.txt" && journal_ok=0
# each guest's last journal step: a's message to b, b's copy of what journal-remote received
grep -q "^a: ok - a: journal: told b " "$out/guests.txt" || journal_ok=0
grep -q "^b: ok - b: journal: what journal-remote received" "$out/guests.txt" || journal_ok=0
tap "$([ $journal_ok = 1 ]; echo $?)" "each guest's own journald (hostname a or b, a machine id of its own) held every entry its recorder sent, both uploaded to b's journal-remote, b's journalctl ran"

if [ -f "$out/a/a.tcpcap" ] && [ -f "$out/b/b.tcpcap" ] && [ -f "$out/a/a.pcap" ]; then
	"$TT" -r "$out/a/a.tcpcap" -r "$out/b/b.tcpcap" --ladder --port 7301 > "$out/ladder.txt" 2>&1
	python3 "$HERE/check.py" "$TT" "$out" > "$out/check.txt" 2>&1
	relay_all "$out/check.txt"
fi
while [ $TAP_COUNT -lt 10 ]; do	# check.py's 7 checks, when there was nothing to check
	not_ok "merge check $((TAP_COUNT - 2)) not reached (no recordings)"
done
if [ -f "$out/a/a.tcpcap" ] && [ -f "$out/b/b.tcpcap" ] && [ -f "$out/a/a.pcap" ]; then
	python3 "$HERE/journal_check.py" "$TT" "$out" > "$out/journal_check.txt" 2>&1
	relay_all "$out/journal_check.txt"
fi
while [ $TAP_COUNT -lt $CHECKS ]; do	# journal_check.py's 3, when there was nothing to check
	not_ok "journal check $((TAP_COUNT - 9)) not reached (no recordings, or journal_check.py failed)"
done
tap_plan
echo "# [$KERNEL] crosshost suite took $(($(date +%s) - t0)) s (logs: $out, ladder: $out/ladder.txt)"
tap_exit
