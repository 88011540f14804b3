#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/journal/run.sh - tcptimeline --journal offline (make -C tools test runs it).
#
# The entries go through libsystemd's real sd_journal_sendv() to a socket at journald's path,
# /run/systemd/journal/socket, bound by capture.py in a private mount namespace with a tmpfs on
# /run (unshare -m: root, as CI is); capture.py decodes journald's native protocol, check.py
# compares the entries with --json and --brief of the same input. The real journald reads them
# in the systemd guest (tests/systemd/), with journalctl -o json. A fixed number of TAP checks.
set -u
export TZ=UTC
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
TT=${TT:-$REPO/tools/tcptimeline}
CASES=$REPO/tests/tool/cases
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# shellcheck source=tests/lib/tap.sh
. "$REPO/tests/lib/tap.sh"
TAP_PREFIX="journal: "

# journal OUT ARGS...: tcptimeline ARGS, its entries to OUT, stdout to OUT.stdout, stderr OUT.err;
# the exit status is the tool's. NOSOCK=1: nothing listens at journald's path.
journal()
{
	local out=$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -m --propagation private -- /bin/sh -c '
		mount -t tmpfs tmpfs /run || exit 125
		out=$1
		shift
		if [ "${NOSOCK:-0}" = 1 ]; then
			: >"$out"
			exec "$@"
		fi
		exec python3 "$0" "$out" "$@"' "$HERE/capture.py" "$out" "$TT" "$@" \
		>"$out.stdout" 2>"$out.err"
}

if ! unshare -m true 2>/dev/null; then
	for n in $(seq 9); do skip "check $n" "unshare -m needs root"; done
	tap_plan
	tap_exit
fi

for case in client_close_first vm61_scenarios; do
	in=$CASES/$case.txt
	"$TT" -T "$in" --json >"$TMP/$case.json" 2>/dev/null
	"$TT" -T "$in" --brief >"$TMP/$case.brief" 2>/dev/null
	journal "$TMP/$case.j" -T "$in" --journal
	rc=$?
	check "$case: an entry per connection side, nothing on stdout (exit $rc)" \
		eval '[ $rc = 0 ] && [ ! -s "$TMP/$case.j.stdout" ] &&
		python3 "$HERE/check.py" count "$TMP/$case.j" "$TMP/$case.json" "$TMP/$case.brief"'
	check "$case: TCPSTATES_* are the --json fields, null ones absent" \
		python3 "$HERE/check.py" fields "$TMP/$case.j" "$TMP/$case.json" "$TMP/$case.brief"
	check "$case: MESSAGE is the --brief row; PRIORITY 6, SYSLOG_IDENTIFIER tcptimeline" \
		eval 'python3 "$HERE/check.py" message "$TMP/$case.j" "$TMP/$case.json" "$TMP/$case.brief" &&
		python3 "$HERE/check.py" constant "$TMP/$case.j" "$TMP/$case.json" "$TMP/$case.brief"'
done

# The limit: 2 entries, then every other side counted, and said in one notice at the end.
sides=$(grep -c . "$TMP/vm61_scenarios.json")
journal "$TMP/limit.j" -T "$CASES/vm61_scenarios.txt" --journal --journal-limit 2
check "--journal-limit 2: 2 entries, then a notice TCPSTATES_SUPPRESSED=$((sides - 2)), PRIORITY 4" \
	eval '[ "$(grep -c TCPSTATES_COOKIE "$TMP/limit.j")" = 2 ] &&
	tail -n 1 "$TMP/limit.j" | grep -q "\"TCPSTATES_SUPPRESSED\": \"$((sides - 2))\"" &&
	tail -n 1 "$TMP/limit.j" | grep -q "\"PRIORITY\": \"4\"" &&
	[ "$(wc -l <"$TMP/limit.j")" = 3 ]'
check "--journal-limit 2: stderr counts what was sent and what was not" \
	eval 'grep -qx "tcptimeline: --journal: 2 entries, $((sides - 2)) sides over --journal-limit (said in 1 notices), 0 refused" "$TMP/limit.j.err"'

# No journald: libsystemd would drop every entry and say nothing (it returns 0 on ENOENT), so
# the tool refuses to start, exit 2, and says why.
NOSOCK=1 journal "$TMP/nosock.j" -T "$CASES/client_close_first.txt" --journal
rc=$?
check "no journald: refused up front, exit 2 (exit $rc), said why" \
	eval '[ $rc = 2 ] && [ "$(cat "$TMP/nosock.j.err")" = "tcptimeline: --journal: no journald: /run/systemd/journal/socket: No such file or directory" ]'

tap_plan
tap_exit
