# SPDX-License-Identifier: GPL-2.0
#
# tests/fleet/lib.sh - sourced by the fleet suites (tests/fleet, tests/metrics, tests/crosshost):
# numbered TAP lines, polling with a deadline instead of fixed sleeps, and ending only the
# processes the suite started (PIDS, by pid).

n=0
fail=0
PIDS=()

ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); echo "not ok $n - $*"; fail=$((fail + 1)); }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# check NAME COMMAND...: ok if COMMAND succeeds
check() { local name=$1; shift; if "$@"; then ok "$name"; else notok "$name"; fi; }
diag() { sed 's/^/# /'; }

# wait_for SECS COMMAND...: run COMMAND every 0.1 s until it succeeds; 1 after SECS
wait_for()
{
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.1
	done
}

# stop_pids: SIGTERM to every process in PIDS, then reap them
stop_pids()
{
	local p
	for p in "${PIDS[@]}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	PIDS=()
}
