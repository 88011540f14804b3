#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/mutants/run.sh [--table] [NAME...] - mutation testing: prove that the suites fail when
# the code is wrong (make mutants; make mutants MUTANTS="a b" for a subset). Not part of CI: it
# runs whenever a suite changes. --table runs nothing: the table of the last verdicts.
#
# Each tests/mutants/NAME.patch plants one defect (git diff format) and says in its header
#   # defect: what the patch breaks
#   # promise: the promise that breaks (docs/promises.md, a man page, docs/testing.md)
#   # suite: the cheapest suite that must catch it, one of
#   #     unit             make -C tools test (tests/tool, tests/fleet, tests/harness)
#   #     tool | fleet | harness   one of those three alone
#   #     device K         tests/device/run-guest.sh in one boot of kernel K
#   #     scenarios K      tests/scenarios/run-guest.sh in one boot of kernel K
#   #     vm K             tests/vm/suite.sh K (both, in one boot)
#   #     metrics K        tests/metrics/run.sh K (Prometheus against the exporter, one boot)
#   #     stress K         tests/stress/stress.sh K
#   #     debug            tests/debug-kernel/params-guest.sh in one boot of the debug kernel
# For each mutant: a scratch copy of the working tree in build/mutants/NAME (tracked and untracked
# files, not ignored ones; the tool's objects come along so only what the patch touches is built
# again), the patch applied, the product it touches built (a mutant that does not apply or does
# not build is "broken", not killed), then its suite. The suite failing is "killed"; passing is
# "survived": a check is missing. Each suite also runs once on an unmutated copy first (the
# control, MUTANTS_BASELINE=0 to leave it out): a suite that fails on the real code kills
# nothing, and its mutants are "no verdict".
#
# A suite is stopped at its first "not ok" line: one failed check kills the mutant, unless that
# line is a guest the stall watchdog stopped, which is "no-verdict" (a loaded host, not the defect). Host suites
# and VM suites run in two lanes side by side, each one job at a time (CPU is scarce; a guest
# mostly waits on timers). Logs: build/mutants/NAME.log. The table at the end: mutant, suite,
# verdict, seconds, the first check that failed; then each control. Exit 1 if any mutant
# survived, was broken or got no verdict, or a control failed. MUTANTS_REPO (default: the tree
# this script is in) is the tree to copy, so that a copy of this folder can run on it.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "${MUTANTS_REPO:-$HERE/../..}" && pwd -P)
WORK=$REPO/build/mutants
BASELINE=${MUTANTS_BASELINE:-1}

die()
{
	echo "mutants: $*" >&2
	exit 2
}

# header NAME FIELD -> the value of "# FIELD: value" in NAME.patch
header()
{
	sed -n "s/^# $2: *//p" "$HERE/$1.patch" | head -n 1
}

# copy DST: the working tree as it is (tracked and untracked, not ignored), mtimes kept, plus
# the tool's objects, so that make rebuilds only what a patch changed
copy_tree()
{
	local dst=$1
	rm -rf "$dst"
	mkdir -p "$dst"
	(cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
		tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -C "$dst" -xf -
	if [ -d "$REPO/tools/build" ]; then
		(cd "$REPO" && tar --exclude=fuzz-corpus --exclude=fuzz-decoder \
			--exclude=tcptimeline-asan -cf - tools/build) | tar -C "$dst" -xf -
	fi
}

# build_for DIR SUITE: build what the suite runs, so a mutant that does not compile is told apart
build_for()
{
	local dir=$1 suite=$2 k=${2#* }
	case $suite in
	harness | debug) ;;	# debug-kernel/run.sh builds what it needs
	unit | tool | fleet)
		make -s -C "$dir/tools" tcptimeline build/tcptimeline-asan
		;;
	*)
		make -s -C "$dir/tools" tcptimeline &&
			make -s -C "$dir/tests/scenarios" && make -s -C "$dir/tests/device" &&
			make -s -C "$dir/tests/stress" && "$dir/tests/vm/vm.sh" build "$k" >/dev/null
		;;
	esac
}

# guest DIR K SCRIPT: one guest suite alone in one boot of K, then the harness's verdict
guest()
{
	local dir=$1 k=$2 script=$3 out rc=0
	mkdir -p "$dir/build/vm-runs"
	out=$(mktemp -d "$dir/build/vm-runs/mutant-$k.XXXXXX")
	nice -n 5 "$dir/tests/vm/vm.sh" run "$k" --boots 3 --timeout 1800 \
		--append "kfence.sample_interval=100" --out "$out" -- "$script" || rc=$?
	"$dir/tests/vm/vm.sh" verdict "$out" "[$k]" || rc=1
	case $rc in
	0 | 4) return 0 ;;
	*) return 1 ;;
	esac
}

# run_suite DIR SUITE: 0 if the suite passed
run_suite()
{
	local dir=$1 suite=$2 k=${2#* } o=$1/tools/build
	case $suite in
	unit) nice -n 5 make -s -C "$dir/tools" test ;;
	tool) O=$o nice -n 5 "$dir/tests/tool/run.sh" ;;
	fleet) O=$o nice -n 5 "$dir/tests/fleet/run.sh" ;;
	harness) nice -n 5 "$dir/tests/harness/run.sh" ;;
	"device "*) guest "$dir" "$k" tests/device/run-guest.sh ;;
	"scenarios "*) guest "$dir" "$k" tests/scenarios/run-guest.sh ;;
	"vm "*) nice -n 5 "$dir/tests/vm/suite.sh" "$k" ;;
	"stress "*) nice -n 5 "$dir/tests/stress/stress.sh" "$k" ;;
	"metrics "*) nice -n 5 "$dir/tests/metrics/run.sh" "$k" ;;
	debug) DEBUG_GUEST=tests/debug-kernel/params-guest.sh nice -n 5 "$dir/tests/debug-kernel/run.sh" ;;
	*) return 2 ;;
	esac
}

# watch NAME DIR SUITE: run the suite, and stop it at its first "not ok" line, as mutation
# testing does: one failed check kills the mutant. Prints the suite's output; 0 if it passed.
watch()
{
	local out=$WORK/$1.suite pid rc
	: >"$out"
	set -m	# a process group of its own, to stop it whole (vm.sh then ends its guest)
	run_suite "$2" "$3" >"$out" 2>&1 &
	pid=$!
	set +m
	while kill -0 "$pid" 2>/dev/null; do
		if grep -q '^not ok' "$out"; then
			kill -TERM -- "-$pid" 2>/dev/null
			break
		fi
		sleep 2
	done
	wait "$pid"
	rc=$?
	cat "$out"
	grep -q '^not ok' "$out" && return 1
	return "$rc"
}

# one NAME SUITE [PATCH]: one job; writes WORK/NAME.result "verdict seconds first-failure"
one()
{
	local name=$1 suite=$2 patch=${3:-} dir=$WORK/$1 t0=$SECONDS verdict
	{
		echo "# mutant $name, suite $suite, $(date -u '+%F %T') UTC"
		copy_tree "$dir"
		if [ -n "$patch" ] && ! patch -s -F0 -p1 -d "$dir" --no-backup-if-mismatch -r - <"$patch"; then
			verdict=broken
			echo "# the patch does not apply"
		elif ! build_for "$dir" "$suite"; then
			verdict=broken
			echo "# the mutant does not build"
		elif watch "$name" "$dir" "$suite"; then
			verdict=survived
		elif grep -m1 '^not ok' "$WORK/$name.suite" | grep -q 'guest stalled'; then
			# A guest the stall watchdog stopped says nothing of the defect: on a loaded
			# host two did, and one of those mutants then survived on a quieter one.
			verdict=no-verdict
		else
			verdict=killed
		fi
		echo "# $name: $verdict after $((SECONDS - t0)) s"
	} >"$WORK/$name.log" 2>&1
	echo "$verdict $((SECONDS - t0)) $(grep -m1 '^not ok' "$WORK/$name.suite" 2>/dev/null |
		sed -E 's/^not ok [0-9]* ?- //' | cut -c1-70)" >"$WORK/$name.result"
	rm -f "$WORK/$name.suite"
	# the scratch copy of a killed mutant is not needed; a survivor's is kept to look at
	[ "$verdict" = survived ] || rm -rf "$dir"
}

# lane NAME...: the jobs of one lane, one after the other, each suite's control first
lane()
{
	local name suite done_base=' '
	for name in "$@"; do
		suite=$(header "$name" suite)
		if [ "$BASELINE" = 1 ] && [[ $done_base != *" ${suite// /-} "* ]]; then
			done_base+="${suite// /-} "
			one "control-${suite// /-}" "$suite"
			echo "# control-${suite// /-}: $(cat "$WORK/control-${suite// /-}.result")" >&2
		fi
		if [ "$BASELINE" = 1 ] &&
		   [ "$(cut -d' ' -f1 "$WORK/control-${suite// /-}.result")" != survived ]; then
			echo "no-verdict 0" >"$WORK/$name.result"
		else
			one "$name" "$suite" "$HERE/$name.patch"
		fi
		echo "# $name: $(cat "$WORK/$name.result")" >&2
	done
}

# table: the verdicts of names[] and controls[], as the last runs left them; counts the bad ones
table()
{
	local n c verdict secs by
	bad=0
	printf '%-28s %-13s %-10s %7s  %s\n' mutant suite verdict seconds 'first failed check'
	for n in "${names[@]}"; do
		verdict=missing secs=0 by=
		[ -f "$WORK/$n.result" ] && read -r verdict secs by <"$WORK/$n.result"
		printf '%-28s %-13s %-10s %7s  %s\n' "$n" "$(header "$n" suite)" "$verdict" "$secs" "$by"
		[ "$verdict" = killed ] || bad=$((bad + 1))
	done
	for c in "${controls[@]}"; do
		verdict=missing secs=0 by=
		[ -f "$WORK/$c.result" ] && read -r verdict secs by <"$WORK/$c.result"
		# a control is the suite on the real code: it must pass
		[ "$verdict" = survived ] && verdict=passed
		printf '%-28s %-13s %-10s %7s  %s\n' "$c" "" "$verdict" "$secs" "$by"
		[ "$verdict" = passed ] || bad=$((bad + 1))
	done
	echo "# ${#names[@]} mutants, $bad not killed or failed, $((SECONDS - t0)) s"
}

only_table=0
if [ "${1:-}" = --table ]; then
	only_table=1
	shift
fi
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for p in "$HERE"/*.patch; do
		names+=("$(basename "$p" .patch)")
	done
fi
host=()
vm=()
for n in "${names[@]}"; do
	[ -f "$HERE/$n.patch" ] || die "no such mutant: $n ($HERE/$n.patch)"
	s=$(header "$n" suite)
	[ -n "$(header "$n" promise)" ] || die "$n.patch names no promise"
	case $s in
	unit | tool | fleet | harness) host+=("$n") ;;
	"device "* | "scenarios "* | "vm "* | "stress "* | "metrics "* | debug) vm+=("$n") ;;
	*) die "$n.patch: unknown suite '$s'" ;;
	esac
done

mkdir -p "$WORK"
controls=()
for n in "${names[@]}"; do
	s=$(header "$n" suite)
	[[ " ${controls[*]} " == *" control-${s// /-} "* ]] || controls+=("control-${s// /-}")
done
[ "$BASELINE" = 1 ] || controls=()
t0=$SECONDS
if [ "$only_table" = 1 ]; then
	table
	[ "$bad" -eq 0 ]
	exit
fi
for n in "${names[@]}" "${controls[@]}"; do
	rm -f "$WORK/$n.result"
done
echo "# mutants: ${#host[@]} on the host, ${#vm[@]} in guests; logs in $WORK" >&2
[ ${#host[@]} -eq 0 ] || lane "${host[@]}" &
[ ${#vm[@]} -eq 0 ] || lane "${vm[@]}" &
wait

table
[ "$bad" -eq 0 ]
