#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/vm/suite.sh KERNEL - the module's VM test suite on one kernel, in a single boot:
#   1. tests/vm/vm.sh build KERNEL
#   2. tests/vm/vm.sh run KERNEL -- tests/vm/suite-guest.sh
#      (= tests/scenarios/run-guest.sh, then tests/device/run-guest.sh, in the same guest)
#
# Output is TAP-like. Every test name gets the kernel alias as prefix, so the kernels' results
# can be told apart:   ok 3 - client_close   ->   ok 3 - [6.12-rt] client_close
# (the guest scripts also get TCPSTATES_KERNEL_ALIAS=KERNEL in their environment). Two lines of the
# harness's own follow: "ok - [KERNEL] kernel log clean" (or not ok, with the offending lines as
# diagnostics) and, when the guest did not finish, "not ok - [KERNEL] guest finished # reason".
#
# Options: --timeout SECS (default 1800; the stall watchdog of vm.sh ends a stuck guest long before), --append "kernel args" (added to the defaults below);
# TCPSTATES_APPEND adds kernel args too. KFENCE samples every 100 ms by default (Debian ships it off).
# Exit status: 0 all passed (skips allowed), 1 anything failed.
set -euo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$VM_DIR/../.." && pwd -P)

usage()
{
	sed -n '3,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

[ $# -ge 1 ] || usage
KERNEL=$1
shift
timeout=1800
append="kfence.sample_interval=100 ${TCPSTATES_APPEND:-}"
while [ $# -gt 0 ]; do
	case "$1" in
	--timeout) timeout=${2:?}; shift 2 ;;
	--append) append+=" ${2?}"; shift 2 ;;
	-h | --help) usage ;;
	*) usage ;;
	esac
done

t0=$(date +%s)
prefix()
{
	# "ok 3 - name", "not ok 3 name", "ok - name # SKIP x" -> "... - [KERNEL] name ..."
	sed -u -E "s/^((not )?ok( [0-9]+)?)( -)? /\\1 - [$KERNEL] /"
}

if ! ko=$("$VM_DIR/vm.sh" build "$KERNEL"); then
	echo "not ok - [$KERNEL] module builds"
	echo "# [$KERNEL] suite took $(($(date +%s) - t0)) s"
	exit 1
fi
echo "ok - [$KERNEL] module builds"
echo "# [$KERNEL] $ko"

mkdir -p "$REPO/build/vm-runs"
# A guest that dies before the suite even starts has not run a test. Under QEMU 7.2's threaded TCG
# stock kernels took an int3 oops at a code-patching site during boot, with no module loaded
# (docs/emulator.md); so, once, under host load, did a stock 7.3-rt kernel on QEMU 10, the
# default. --boots 3: such a boot is booted again, at most three boots in all, and said; anything
# after the suite has started counts, as always.
out=$(mktemp -d "$REPO/build/vm-runs/suite-$KERNEL.XXXXXX")
set +e
"$VM_DIR/vm.sh" run "$KERNEL" --boots 3 --timeout "$timeout" --append "$append" --out "$out" \
	-- tests/vm/suite-guest.sh | prefix
rc=${PIPESTATUS[0]}
set -e

"$VM_DIR/vm.sh" verdict "$out" "[$KERNEL]" || rc=1
echo "# [$KERNEL] suite took $(($(date +%s) - t0)) s (logs: $out)"
case $rc in
0 | 4) exit 0 ;;
*) exit 1 ;;
esac
