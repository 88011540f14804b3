#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/vm/demo.sh [KERNEL] - the README's main command: build the module, tcptimeline and the
# traffic generator, boot KERNEL (default 6.1; or 6.12, 6.12-rt) in a QEMU guest, load the module,
# make a few real TCP connections, and show /proc/tcpstates and the timelines (tests/vm/demo-guest.sh
# is what runs in the guest). Installs what it needs from Debian's mirror on first use.
set -euo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$VM_DIR/../.." && pwd -P)
# shellcheck source=tests/vm/kernels.sh
. "$VM_DIR/kernels.sh"
KERNEL=${1:-6.1}

kernel_ensure_deps
make -s -C "$REPO/tools" tcptimeline
make -s -C "$REPO/tests/scenarios"
"$VM_DIR/vm.sh" build "$KERNEL" >/dev/null
# A boot that dies before the demo starts (an emulator flake: docs/emulator.md) is booted again
# (--boots 3), as the test harnesses do; once the demo has started, its result stands.
exec "$VM_DIR/vm.sh" run "$KERNEL" --boots 3 --timeout 300 -- tests/vm/demo-guest.sh
