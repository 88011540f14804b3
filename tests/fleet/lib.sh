# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tests/fleet/lib.sh - sourced by the fleet suites (tests/fleet, tests/metrics, tests/crosshost):
# the TAP lines every suite prints (tests/lib/tap.sh: ok, not_ok, skip, check, tap_plan),
# polling with a deadline instead of fixed sleeps, and ending only the processes the suite
# started (PIDS, by pid).

# shellcheck source=tests/lib/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"
PIDS=()

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
