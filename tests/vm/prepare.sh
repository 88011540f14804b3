#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/vm/prepare.sh [--vm KERNEL...] [--build KERNEL...] - fetch, install and build, one step
# after the other, everything the test suites will need, so that suites that then run side by
# side (tests/run-all.sh) find it all there and never run apt, a chroot's apt or the same build
# at once:
#   the test programs (tools/, tests/scenarios, tests/stress), QEMU 10 (tests/vm/qemu.sh);
#   per --build kernel: its headers, here or in its suite's chroot (tests/vm/kernels.sh);
#   per --vm kernel: also its image, its initramfs and the module built against it.
# Messages go to stderr; exit 1 at the first thing that cannot be had, saying what.
set -euo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$VM_DIR/../.." && pwd -P)
# shellcheck source=tests/vm/kernels.sh
. "$VM_DIR/kernels.sh"

vm=()
build=()
list=build
for a in "$@"; do
	case "$a" in
	--vm) list=vm ;;
	--build) list=build ;;
	*) if [ "$list" = vm ]; then vm+=("$a"); else build+=("$a"); fi ;;
	esac
done

step()
{
	local t0=$SECONDS
	"$@" >/dev/null
	printf '# prepare: %s (%d s)\n' "$*" $((SECONDS - t0)) >&2
}

kernel_ensure_deps
step make -s -C "$REPO/tools" all
step make -s -C "$REPO/tests/scenarios"
step make -s -C "$REPO/tests/stress"
step "$VM_DIR/qemu.sh" path backports
for k in "${build[@]}" "${vm[@]}"; do
	kver=$(kernel_resolve "$k")
	step kernel_ensure_headers "$kver"
done
for k in "${vm[@]}"; do
	step "$VM_DIR/vm.sh" initramfs "$k"
	step "$VM_DIR/vm.sh" build "$k"
done
