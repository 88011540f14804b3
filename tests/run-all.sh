#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/run-all.sh [--all] - the test suite: `make test` (what CI runs) or, with --all,
# `make test-all` (everything, on every kernel).
#
# Every suite prints TAP-like lines (`ok N - name`, `not ok N - name`, `ok N - name # SKIP why`);
# this script prints each suite's output as it finishes, then the line
#     N passed, N failed, N skipped
# and exits 0 only if nothing failed and every suite ran to its end.
#
# Every suite reports a fixed number of checks, the same on every run and every kernel; the numbers
# are in tests/expected-counts, and a suite that reports more or fewer fails, so a check cannot
# vanish quietly (or appear only when timing allows). A deliberate change to a suite changes that
# file in the same commit. A skip ("# SKIP", any case) is allowed only where tests/expected-skips
# lists it, with its reason: any other fails the run (tests/lib/verdict.sh).
#
# Suites (make test, what CI runs; --all adds what is in brackets):
#   unit          tcptimeline offline: golden files, malformed input, fuzzing, the fleet features
#   docs          man pages render cleanly; the README's examples match what the code prints
#   build         every Debian kernel from 5.10 to 7.x (kernels.sh): W=1 and sparse clean;
#                 checkpatch; a boot of each kernel no VM suite boots, to check its hooks
#   vm-K          scenarios and device tests in one boot, K = 5.10 6.1 6.12 6.12-rt 7.3 7.3-rt
#                 [and 6.12-deb13 7.2-sid 7.3-rc: every kernel the project supports]
#   metrics-6.1   Prometheus in a guest against the exporter
#   crosshost-6.1 two guests on one link, one conversation from two recordings
#   stress-K      churn, readers, parameter writes and 30 insmod/rmmod cycles: 7.3-rt
#                 [6.12-rt, and 6.12 with KFENCE sampling every millisecond]
#   debug-6.1     a 6.1 kernel built here with KASAN, lockdep and kmemleak: scenarios, device
#                 tests and stress in one boot (the build is cached)
#   [kcsan-6.1]   the same 6.1 with KCSAN instead of KASAN and kmemleak: scenarios, device tests
#                 and stress; a data race of the module's fails it
#   systemd-6.1   the Debian packages built, lintian, then installed in a Debian 12 guest with
#                 systemd as PID 1: DKMS, the recorder, --journal, a kernel upgrade to 6.12 and
#                 a reboot into it, apt purge [and systemd-6.12-deb13: the same on Debian 13,
#                 upgraded to 7.3]
#
# Two suites run at a time (TCPSTATES_PARALLEL; a guest spends much of a suite waiting: for TIME_WAIT
# to end, on timers, on 9p), after one sequential step, tests/vm/prepare.sh, has installed and
# built everything they share. TCPSTATES_VM_KERNELS and TCPSTATES_SUITES="unit vm" narrow a run.
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$TOP" || exit 1

ALL=0
[ "${1:-}" = --all ] && ALL=1

# shellcheck source=tests/vm/kernels.sh
. "$TOP/tests/vm/kernels.sh"
# A fresh Debian 12 machine has none of this: QEMU, compilers, the guest's userland
# (kernel_ensure_deps), sparse for the build check, clang's fuzzer runtime for the tool, and
# libmicrohttpd, libsystemd (--journal), Prometheus, curl and systemd for the fleet features and
# their tests, man-db for the docs suite, xmllint (libxml2-utils) and rsvg-convert (librsvg2-bin)
# for the tool suite's check of the --diagram-svg picture.
kernel_ensure_deps
_kernels_apt_install sparse clang libclang-rt-14-dev libmicrohttpd-dev libsystemd-dev prometheus \
	curl systemd systemd-journal-remote man-db libxml2-utils librsvg2-bin
# ... and what the debug kernel's build needs (tests/debug-kernel/build.sh), installed here
# because that build starts beside prepare.sh below, which must be the only one running apt.
_kernels_apt_install linux-source-6.1 flex bison bc libelf-dev libssl-dev

BUILD_KERNELS=$(kernels_aliases | tr '\n' ' ')
# The VM suites: every kernel with --all; in make test (CI) the six that cover each series and
# RT flavour (kernels_vm_aliases), within the hour CI is given, and the build check boots the rest.
if [ "$ALL" = 1 ]; then
	VM_KERNELS=${TCPSTATES_VM_KERNELS:-$BUILD_KERNELS}
else
	VM_KERNELS=${TCPSTATES_VM_KERNELS:-$(kernels_vm_aliases | tr '\n' ' ')}
fi
# The build check boots the kernels the VM suites do not (a VM suite loads the module there and
# checks every hook is active), so that every kernel compiled is also probed: a hook a new kernel
# inlined away fails here, not in a user's load message. About 15 s a boot.
BOOT_KERNELS=
for k in $BUILD_KERNELS; do
	case " $VM_KERNELS " in *" $k "*) ;; *) BOOT_KERNELS+="$k " ;; esac
done
if [ "$ALL" = 1 ]; then
	STRESS="7.3-rt 6.12-rt 6.12-kfence"
else
	# What CI runs, chosen to end within an hour on 2 cores from a cold cache: every kernel
	# compiled and booted; the VM suite on every kernel it boots (5.10 to 7.3-rt); the stress
	# test on the newest RT kernel; the debug kernel; the fleet features on 6.1.
	STRESS="7.3-rt"
fi
SUITES=${TCPSTATES_SUITES:-"unit docs build vm metrics crosshost stress debug systemd kcsan"}
# The KCSAN kernel: --all only (docs/testing.md, "kcsan-6.1", says why: CI's hour has no room for
# a second debug kernel). The systemd guest on Debian 12 runs in both, on Debian 13 in --all.
[ "$ALL" = 1 ] || [ -n "${TCPSTATES_SUITES:-}" ] || SUITES=${SUITES% kcsan}
case " $SUITES " in *" build "*) ;; *) BOOT_KERNELS= ;; esac
JOBS=${TCPSTATES_PARALLEL:-2}
LOG_DIR=$TOP/build/test-logs
mkdir -p "$LOG_DIR"

wanted()
{
	case " $SUITES " in *" $1 "*) return 0 ;; esac
	return 1
}

# The queue: "name|k b|command" (k: how many kernels the suite covers, b: how many of them it
# boots, for tests/expected-counts), longest first so that the two slots end close together.
queue=()
wanted debug && queue+=("debug-6.1|1|tests/debug-kernel/run.sh")
wanted kcsan && queue+=("kcsan-6.1|1|tests/debug-kernel/kcsan.sh")
wanted build && queue+=("build|$(wc -w <<<"$BUILD_KERNELS") $(wc -w <<<"$BOOT_KERNELS")|env TCPSTATES_SYMCHECK_KERNELS='$BOOT_KERNELS' tests/build-check.sh $BUILD_KERNELS")
if wanted vm; then
	for k in $VM_KERNELS; do
		queue+=("vm-$k|1|tests/vm/suite.sh $k")
	done
fi
if wanted stress; then
	for s in $STRESS; do
		case $s in
		*-kfence) queue+=("stress-$s|1|env TCPSTATES_KFENCE=1 tests/stress/stress.sh ${s%-kfence}") ;;
		*) queue+=("stress-$s|1|tests/stress/stress.sh $s") ;;
		esac
	done
fi
wanted metrics && queue+=("metrics-6.1|1|tests/metrics/run.sh 6.1")
wanted crosshost && queue+=("crosshost-6.1|1|tests/crosshost/run.sh 6.1")
wanted docs && queue+=("docs|1|tests/docs/run.sh")
wanted unit && queue+=("unit|1|make -s -C tools test")
if wanted systemd; then
	# what dpkg-buildpackage and lintian need, installed before the suites run side by side
	_kernels_apt_install dpkg-dev debhelper dh-dkms fakeroot lintian e2fsprogs
	# first, beside the debug kernel: two boots and two DKMS builds under TCG, the longest after it
	systemd=("systemd-6.1|1|tests/systemd/run.sh 6.1")
	[ "$ALL" = 1 ] && systemd+=("systemd-6.12-deb13|1|tests/systemd/run.sh 6.12-deb13")
	queue=("${systemd[@]}" "${queue[@]}")
fi

passed=0
failed=0
skipped=0
started=$(date +%s)

# shellcheck source=tests/lib/verdict.sh
. "$TOP/tests/lib/verdict.sh"	# expected, skip_allowed, report: each suite's verdict

# Everything the suites share, fetched and built once, in order.
prep_vm="$VM_KERNELS $BOOT_KERNELS"
wanted vm || wanted build || prep_vm=
wanted metrics || wanted crosshost || wanted docs && prep_vm+=" 6.1"
for s in $STRESS; do wanted stress && prep_vm+=" ${s%-kfence}"; done
t0=$(date +%s)
# The debug kernel is the one long compile (about 14 minutes on two idle cores), and a cold
# prepare.sh spends much of its time waiting on the mirror (debootstrap, kernel packages): the
# build starts now, beside it, niced so that prepare's own compiles and, later, the guests come
# first. It fills the waits instead of taking a lane's CPU later; measured from a cold cache in
# docs/testing.md ("Time"). The debug-6.1 suite calls build.sh again, which waits for this one
# (a lock) and then finds the kernel cached; a build that failed here is retried there and
# reported. With the kernel cached this returns at once.
debug_build=
if wanted debug; then
	nice -n 10 tests/debug-kernel/build.sh >"$LOG_DIR/debug-build.log" 2>&1 </dev/null &
	debug_build=$!
fi
# shellcheck disable=SC2086,SC2046 # one kernel a word
if ! tests/vm/prepare.sh --build $BUILD_KERNELS --vm $(tr ' ' '\n' <<<"$prep_vm" | sort -u) \
	>"$LOG_DIR/prepare.log" 2>&1; then
	tail -n 20 "$LOG_DIR/prepare.log"
	echo "not ok - prepare: fetch and build what the suites share (see $LOG_DIR/prepare.log)"
	failed=$((failed + 1))
fi
printf '# prepare: %d s (%s)\n' $(($(date +%s) - t0)) "$LOG_DIR/prepare.log"
if [ -n "$debug_build" ]; then
	if kill -0 "$debug_build" 2>/dev/null; then
		echo "# debug kernel: still building beside the suites ($LOG_DIR/debug-build.log)"
	elif wait "$debug_build"; then
		echo "# debug kernel: ready ($LOG_DIR/debug-build.log)"
	else
		echo "# debug kernel: build failed; debug-6.1 tries again ($LOG_DIR/debug-build.log)"
	fi
fi

declare -A pid_of=() k_of=()
reported=0
next=0
while [ "$next" -lt "${#queue[@]}" ] || [ "${#pid_of[@]}" -gt 0 ]; do
	while [ "$next" -lt "${#queue[@]}" ] && [ "${#pid_of[@]}" -lt "$JOBS" ]; do
		IFS='|' read -r name k cmd <<<"${queue[$next]}"
		next=$((next + 1))
		printf '%s\n' "$cmd" >"$LOG_DIR/$name.cmd"
		rm -f "$LOG_DIR/$name.rc"
		printf '# --- %s started (%s)\n' "$name" "$(date +%T)"
		(
			bash -c "$cmd" </dev/null >"$LOG_DIR/$name.log" 2>&1
			echo $? >"$LOG_DIR/$name.rc"
		) &
		pid_of[$name]=$!
		k_of[$name]=$k
	done
	wait -n
	for name in "${!pid_of[@]}"; do
		[ -f "$LOG_DIR/$name.rc" ] || continue
		wait "${pid_of[$name]}" 2>/dev/null
		report "$name" "${k_of[$name]}"
		reported=$((reported + 1))
		unset "pid_of[$name]"
	done
done

[ -z "$debug_build" ] || wait "$debug_build" 2>/dev/null
# a runner that lost a suite must not end green
if [ "$reported" -ne "${#queue[@]}" ]; then
	printf 'not ok - %d suites queued, %d reported\n' "${#queue[@]}" "$reported"
	failed=$((failed + 1))
fi
printf '# total time %d s\n' $(($(date +%s) - started))
printf '%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
[ "$failed" -eq 0 ]
