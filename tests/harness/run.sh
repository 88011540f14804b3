#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/harness/run.sh - the harness's own promises, offline (make -C tools test runs it after
# tests/tool and tests/fleet): a check that fails prints "not ok", a skip says "# SKIP" and why, a
# '#' in a name cannot pass for a skip directive, a suite with a failure exits non-zero
# (tests/lib/tap.sh), and every kind of kernel report that docs/testing.md says fails a run is
# matched by tests/vm/vm.sh's console scan, while a clean boot's lines are not. A planted defect in any of these would otherwise turn every suite green
# (tests/mutants/harness-*.patch). A fixed number of TAP checks, a plan line; exit 0 or 1.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Its own TAP lines, not tests/lib/tap.sh's: a broken tap.sh must not judge itself.
n=0
failed=0
check()
{
	local name=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - harness: $name"
	else
		echo "not ok $n - harness: $name"
		failed=$((failed + 1))
	fi
}

# tap_run SCRIPT: run SCRIPT (bash, tap.sh sourced, fresh counters) and keep its output and status
tap_run()
{
	bash -c ". '$REPO/tests/lib/tap.sh'; $1" >"$TMP/out" 2>&1
	echo $? >"$TMP/rc"
}

tap_run 'check passes true; check fails false'
printf 'ok 1 - passes\nnot ok 2 - fails\n' >"$TMP/want"
check "tap.sh: check prints ok for a command that succeeds, not ok for one that fails" \
	cmp -s "$TMP/want" "$TMP/out"
diff -u "$TMP/want" "$TMP/out" | sed 's/^/# /'

tap_run 'skip gone "no such thing"'
check "tap.sh: a skip is counted and says SKIP and why" \
	grep -qx 'ok 1 - gone # SKIP no such thing' "$TMP/out"

# A '#' in a name is escaped, and tests/lib/verdict.sh's skip pattern (read from it, as run-all
# uses it) sees only the directive: a name that says "# SKIP" once made CI count a pass as a skip.
tap_run 'ok "says # SKIP in its name"; skip "x#y" why'
skip_re=$(sed -n "s/^[[:space:]]*local skip_re='\(.*\)'\$/\1/p" "$REPO/tests/lib/verdict.sh")
escaped_not_skip()
{
	[ -n "$skip_re" ] && grep -qx 'ok 1 - says \\# SKIP in its name' "$TMP/out" &&
		[ "$(grep -Eic "$skip_re" "$TMP/out")" = 1 ] &&
		grep -Eiq "$skip_re" <<<'ok 3 - name # SKIP why' &&
		grep -Eiq "$skip_re" <<<'ok 3 - name #skip'
}
check "tap.sh: a '#' in a name is written '\\#'; verdict.sh counts only the directive as a skip" \
	escaped_not_skip

tap_run 'check fails false; check passes true; tap_exit'
check "tap.sh: tap_exit fails a suite with a failed check" grep -qx 1 "$TMP/rc"

tap_run 'check passes true; skip gone why; tap_exit'
check "tap.sh: tap_exit passes a suite of passes and skips" grep -qx 0 "$TMP/rc"

# The console scan's pattern, as vm.sh holds it; one line of each report it must catch, each
# caught by itself: a word dropped from the pattern leaves its line unmatched.
re=$(sed -n "s/^BAD_LOG_RE='\(.*\)'\$/\1/p" "$REPO/tests/vm/vm.sh")
cat >"$TMP/bad" <<'EOF'
[   12.345678] WARNING: CPU: 1 PID: 201 at kernel/kprobes.c:1045 arm_kprobe+0x4e/0x60
[   12.345678] BUG: kernel NULL pointer dereference, address: 0000000000000008
[   12.345678] Oops: 0000 [#1] PREEMPT SMP NOPTI
[   12.345678] BUG: KASAN: slab-use-after-free in ts_emit+0x1d2/0x3a0 [tcpstates]
[   12.345678] KFENCE: out-of-bounds read in ts_ring_fetch+0x8c/0x140 [tcpstates]
[   12.345678] UBSAN: array-index-out-of-bounds in module/procfs.c:120:20
[   12.345678] general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1]
[   12.345678] BUG: scheduling while atomic: scen_cli/183/0x00000002
[   12.345678] BUG: sleeping function called from invalid context at kernel/locking/spinlock_rt.c:48
[   12.345678] WARNING: possible recursive locking detected
[   12.345678] WARNING: possible circular locking dependency detected
[   72.345678] INFO: task rmmod:230 blocked for more than 60 seconds.
[   12.345678]  Call Trace:
[   12.345678] Kernel panic - not syncing: Fatal exception in interrupt
[   34.345678] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [stress:300]
[   34.345678] rcu: INFO: rcu_preempt self-detected stall on CPU
EOF
missed=$(grep -avE "${re:-^}" "$TMP/bad")
scan_catches_all() { [ -n "$re" ] && [ -z "$missed" ]; }
check "vm.sh: the console scan matches every kind of kernel report docs/testing.md lists" \
	scan_catches_all
[ -z "$missed" ] || printf '# not matched: %s\n' "${missed//$'\n'/$'\n'# not matched: }"

printf '%s\n' "[    0.000000] Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org)" \
	"[    1.234567] tcpstates: loaded: capacity=65536 records (11776 KiB)" \
	"[    2.345678] tcpstates: unloaded" \
	"[    3.456789] kprobe_optimizer: kprobe jump-optimization is enabled" >"$TMP/good"
scan_passes_clean() { [ -n "$re" ] && ! grep -qaE "$re" "$TMP/good"; }
check "vm.sh: the console scan passes a clean boot's lines" scan_passes_clean

# make mutants proves the suites with planted defects; a patch that no longer applies without fuzz
# (the code it edits moved: run.sh applies with -F0, so that no mutant lands on the wrong line)
# proves nothing, and says so only when someone runs it: 11 of 31 had drifted so.
: >"$TMP/drift"
for m in "$REPO"/tests/mutants/*.patch; do
	patch --dry-run -s -F0 -p1 -d "$REPO" -r - <"$m" >/dev/null 2>&1 || basename "$m" >>"$TMP/drift"
done
mutants_apply() { [ -n "$(ls "$REPO"/tests/mutants/*.patch 2>/dev/null)" ] && [ ! -s "$TMP/drift" ]; }
check "mutants: every planted defect in tests/mutants applies to today's tree" mutants_apply
sed 's/^/# does not apply: /' "$TMP/drift"

echo "1..$n"
[ "$failed" = 0 ]
