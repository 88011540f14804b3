#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/bench.sh [KERNEL] - `make bench`: builds the module, tcptimeline and the churn
# generator, installs bpftrace (Debian's, the peer a user would reach for), boots KERNEL (default
# 6.1) once with 2 CPUs and runs tests/bench/run-guest.sh. BENCH_ROUNDS, BENCH_RUN_S and
# BENCH_THREADS size it.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
# shellcheck source=tests/vm/kernels.sh
. "$REPO/tests/vm/kernels.sh"
KERNEL=${1:-6.1}

kernel_ensure_deps
_kernels_apt_install bpftrace
make -s -C "$REPO/tools" tcptimeline
make -s -C "$REPO/tests/stress"
"$REPO/tests/vm/vm.sh" build "$KERNEL" >/dev/null
exec "$REPO/tests/vm/vm.sh" run "$KERNEL" --cpus 2 --mem 2048 --timeout 1200 -- \
	env BENCH_ROUNDS="${BENCH_ROUNDS:-5}" BENCH_RUN_S="${BENCH_RUN_S:-6}" \
	BENCH_THREADS="${BENCH_THREADS:-2}" tests/bench/run-guest.sh
