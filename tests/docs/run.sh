#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/docs/run.sh - the documentation says what the code does (the "docs" suite):
#   the man pages render without a warning (man --warnings);
#   tcpstates(4) lists the columns and stats keys the module prints, the UAPI header's events and
#   the module's parameters (tests/docs/check.py);
#   README.md's examples of the demo's commands show what the demo prints today: the demo
#   (tests/vm/demo.sh, one boot of 6.1) runs and its output is compared, numbers aside.
# TAP lines, 8 of them; exit 0 if all pass.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
TOP=$(cd "$HERE/../.." && pwd -P)
TAP_PREFIX="docs: "
# shellcheck source=tests/lib/tap.sh
. "$TOP/tests/lib/tap.sh"
OUT=$TOP/build/docs
mkdir -p "$OUT"

for page in module/tcpstates.4 tools/tcptimeline.8; do
	MANWIDTH=100 man --warnings -l "$TOP/$page" >/dev/null 2>"$OUT/man.err"
	[ -s "$OUT/man.err" ] && sed 's/^/# /' "$OUT/man.err"
	tap "$([ -s "$OUT/man.err" ] && echo 1 || echo 0)" "man -l $page renders without a warning"
done

"$TOP/tests/vm/demo.sh" 6.1 >"$OUT/demo.out" 2>"$OUT/demo.err"
rc=$?
[ $rc = 0 ] || tail -n 15 "$OUT/demo.err" | sed 's/^/# /'
tap $rc "the demo (tests/vm/demo.sh 6.1) runs"

ko=$("$TOP/tests/vm/vm.sh" build 6.1 2>/dev/null)
modinfo -F parm "$ko" >"$OUT/parms" 2>&1
python3 "$HERE/check.py" "$OUT/demo.out" "$OUT/parms" $((TAP_COUNT + 1))
rc=$?
TAP_COUNT=$((TAP_COUNT + 5))
[ $rc = 0 ] || TAP_FAILED=$((TAP_FAILED + 1))
tap_plan
tap_exit
