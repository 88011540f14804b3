# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tests/lib/verdict.sh - how tests/run-all.sh judges a finished suite (sourced; the unit suite
# runs it on made-up logs too). Needs TOP (the repository) and LOG_DIR (NAME.log, NAME.rc and
# NAME.cmd of each suite); adds to the globals passed, failed and skipped.
#
#   expected NAME "K B"   the number of checks suite NAME must report (tests/expected-counts)
#   skip_allowed NAME LINE  whether tests/expected-skips allows the skip LINE in suite NAME
#   report NAME "K B"     print the suite's output and its verdict, and count it
#
# A TAP line is a skip when its directive is "# SKIP", in any case (as TAP says). A skip counts
# as a check for tests/expected-counts, but replaces one: `make test` accepts only the skips
# tests/expected-skips lists, each with its reason; any other fails the run, so a check that
# stopped running here (a namespace that no longer works, a tool gone missing) cannot leave the
# run green.

passed=${passed:-0}
failed=${failed:-0}
skipped=${skipped:-0}

# _suite_matches WORD NAME: WORD is NAME, or a prefix ending in '-' of it (vm- for vm-6.1)
_suite_matches()
{
	[ "$1" = "$2" ] || { [[ "$1" == *- ]] && [[ "$2" == "$1"* ]]; }
}

# expected NAME "K B" -> the number of checks suite NAME must report (tests/expected-counts: the
# first word of a line is a suite name, or a prefix ending in '-' for a family such as vm-; the
# second an arithmetic expression in k, the kernels the suite covered, and b, those it booted)
expected()
{
	local word expr k=${2% *} b=${2#* }
	[ "$b" = "$2" ] && b=0
	while read -r word expr _; do
		case "$word" in '' | '#'*) continue ;; esac
		if _suite_matches "$word" "$1"; then
			expr=${expr//k/$k}
			echo $((${expr//b/$b}))
			return 0
		fi
	done <"$TOP/tests/expected-counts"
	return 1
}

# skip_allowed NAME LINE: a line of tests/expected-skips is SUITE<tab>PATTERN<tab>WHY; SUITE as in
# tests/expected-counts, PATTERN an extended regular expression (case-insensitive) that the skip
# line, from its name on ("[6.1] ... # SKIP unknown: ..."), must match; WHY may not be empty.
skip_allowed()
{
	local name=$1 text suite pattern why
	text=$(sed -E 's/^ok [0-9]* *- *//' <<<"$2")
	while IFS=$'\t' read -r suite pattern why; do
		case "$suite" in '' | '#'*) continue ;; esac
		if [ -z "$pattern" ] || [ -z "$why" ]; then
			continue
		fi
		_suite_matches "$suite" "$name" && grep -Eiq -- "$pattern" <<<"$text" && return 0
	done <"$TOP/tests/expected-skips"
	return 1
}

# report NAME "K B": print a finished suite's output, count its TAP lines, and count one more
# failure if it exited non-zero without reporting any, reported other than its expected number,
# or skipped a check tests/expected-skips does not list.
report()
{
	local name=$1 k=$2 log=$LOG_DIR/$1.log rc p f s n want line
	# the directive's '#' is unescaped: a name writes its own as '\#' (tests/lib/tap.sh)
	local skip_re='^ok .*[^\\]#[[:space:]]*skip([[:space:]]|$)'
	rc=$(cat "$LOG_DIR/$name.rc" 2>/dev/null || echo 1)
	printf '# === %s: %s\n' "$name" "$(cat "$LOG_DIR/$name.cmd")"
	cat "$log"
	p=$(grep -E '^ok ' "$log" | grep -Eicv "$skip_re")
	s=$(grep -Eic "$skip_re" "$log")
	f=$(grep -Ec '^not ok ' "$log")
	n=$((p + f + s))
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ] && [ "$f" -eq 0 ]; then
		printf 'not ok - %s: exited %d without reporting a failure\n' "$name" "$rc"
		f=$((f + 1))
	fi
	while IFS= read -r line; do
		skip_allowed "$name" "$line" && continue
		printf 'not ok - %s: a skip where a check was expected (tests/expected-skips): %s\n' \
			"$name" "$line"
		f=$((f + 1))
	done < <(grep -Ei "$skip_re" "$log")
	if ! want=$(expected "$name" "$k"); then
		printf 'not ok - %s: no expected number of checks in tests/expected-counts\n' "$name"
		f=$((f + 1))
	elif [ "$n" -ne "$want" ]; then
		printf 'not ok - %s: reported %d checks, tests/expected-counts says %d\n' \
			"$name" "$n" "$want"
		f=$((f + 1))
	else
		printf '# %s: %d checks, as expected\n' "$name" "$want"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	printf '# === %s: %d passed, %d failed, %d skipped in %d s\n' "$name" "$p" "$f" "$s" \
		$(($(stat -c %Y "$LOG_DIR/$name.rc") - $(stat -c %Y "$LOG_DIR/$name.cmd")))
}
