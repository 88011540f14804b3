#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/run-all.sh - the whole test suite: `make test`.
#
# Runs every suite, each printing TAP-like lines (`ok N - name`, `not ok N - name`,
# `ok N - name # SKIP reason`), streams their output, and ends with the line
#     N passed, N failed, N skipped
# Exit status 0 only if nothing failed and every suite ran to its end.
#
# Every suite reports a fixed number of checks, the same on every run and every kernel; the numbers
# are in tests/expected-counts, and a suite that reports more or fewer fails, so a check cannot
# vanish quietly (or appear only when timing allows). A deliberate change to a suite changes that
# file in the same commit.
#
# Suites, in order (cheap and offline first):
#   unit      tools/ offline tests: golden files, malformed input, bounded fuzz run
#   build     the module with W=1 (no warnings), checkpatch and sparse, for each kernel
#   vm-<k>    the VM scenario + device suites, one boot per kernel (6.1, 6.12, 6.12-rt)
#   stress    the stress test on 6.12-rt and on 6.12 with KFENCE every 1 ms
#   debug     a 6.1 kernel built here with KASAN, lockdep, kmemleak: the scenario, device and stress
#             suites in one boot (tests/debug-kernel/; the build is cached, about 6 minutes)
#
# TCPSTATES_KERNELS="6.1 6.12 6.12-rt" picks kernels; TCPSTATES_SUITES="unit vm" picks suites.
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$TOP" || exit 1

# shellcheck source=tests/vm/kernels.sh
. "$TOP/tests/vm/kernels.sh"
# A fresh Debian 12 machine has none of this: QEMU, compilers, the guest's userland
# (kernel_ensure_deps), sparse for the build check, clang's fuzzer runtime for the tool.
kernel_ensure_deps
_kernels_apt_install sparse clang libclang-rt-14-dev

KERNELS=${TCPSTATES_KERNELS:-"6.1 6.12 6.12-rt"}
SUITES=${TCPSTATES_SUITES:-"unit build vm stress debug"}
LOG_DIR=$TOP/build/test-logs
mkdir -p "$LOG_DIR"

passed=0
failed=0
skipped=0
started=$(date +%s)
nkernels=$(wc -w <<<"$KERNELS")

# expected NAME -> the number of checks suite NAME must report (tests/expected-counts: the first
# word of a line is a suite name, or a prefix ending in '-' for a family such as vm-; the second
# an arithmetic expression in which k is the number of kernels of this run)
expected()
{
	local word expr
	while read -r word expr _; do
		case "$word" in '' | '#'*) continue ;; esac
		if [ "$word" = "$1" ] || { [[ "$word" == *- ]] && [[ "$1" == "$word"* ]]; }; then
			echo $((${expr//k/$nkernels}))
			return 0
		fi
	done <"$TOP/tests/expected-counts"
	return 1
}

wanted()
{
	case " $SUITES " in *" $1 "*) return 0 ;; esac
	return 1
}

# run NAME COMMAND...: stream the suite's output, count its TAP lines, and
# count one extra failure if it exits non-zero without reporting any.
run()
{
	local name=$1 log=$LOG_DIR/$1.log t0 rc p f s n want
	shift
	t0=$(date +%s)
	printf '# === %s: %s\n' "$name" "$*"
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	p=$(grep -E '^ok ' "$log" | grep -vc '# SKIP')
	s=$(grep -E '^ok .*# SKIP' -c "$log")
	f=$(grep -Ec '^not ok ' "$log")
	n=$((p + f + s))
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ] && [ "$f" -eq 0 ]; then
		printf 'not ok - %s: exited %d without reporting a failure\n' "$name" "$rc"
		f=$((f + 1))
	fi
	if ! want=$(expected "$name"); then
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
	printf '# === %s: %d passed, %d failed, %d skipped in %d s\n' \
		"$name" "$p" "$f" "$s" $(($(date +%s) - t0))
}

wanted unit && run unit make -s -C tools test
wanted build && run build tests/build-check.sh $KERNELS
if wanted vm; then
	for k in $KERNELS; do
		run "vm-$k" tests/vm/suite.sh "$k"
	done
fi
if wanted stress; then
	run stress-6.12-rt tests/stress/stress.sh 6.12-rt
	run stress-6.12-kfence env TCPSTATES_KFENCE=1 tests/stress/stress.sh 6.12
fi
wanted debug && run debug-6.1 tests/debug-kernel/run.sh
printf '# total time %d s\n' $(($(date +%s) - started))
printf '%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
[ "$failed" -eq 0 ]
