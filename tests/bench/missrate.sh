#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/missrate.sh [--runs N] [--control PATCH] [KERNEL...] - probe hits missed per
# million records on kernels where every hook is a kprobe or kretprobe (default: 5.10 6.1).
#
# Each run is one boot of KERNEL (2 vCPUs, 2 GiB, QEMU 10 with a host thread per vCPU, as the
# stress test boots) with two virtio-net NICs wired to each other through the host
# (QEMU's socket backend, UDP on 127.0.0.1), running
# tests/bench/missrate-guest.sh: connection churn across the NICs (TCP reached by interrupt) and
# over loopback until the module has written MISSRATE_RECORDS records (1000000) or
# MISSRATE_MAX_S seconds (300) have passed. The guest's header says the rest.
#
# --runs N: N runs per kernel (default 1). --control PATCH: after each run, one more with PATCH
# (a tests/mutants/ patch) applied to a scratch copy of the module, so the two alternate run by
# run under the same load. MISSRATE_OUT (default build/missrate/DATE-TIME) keeps each run's
# folder (vm.sh's console.log, output.log, stats.txt); the summary at the end is summary.txt.
#
# Under TCG a run takes a few minutes; run it niced on a shared host:
#   nice -n 5 tests/bench/missrate.sh
#   nice -n 5 tests/bench/missrate.sh --runs 3 --control tests/mutants/mod-irq-on.patch 6.1
set -euo pipefail
export TCPSTATES_QEMU=${TCPSTATES_QEMU:-backports}
export TCPSTATES_TCG_THREAD=${TCPSTATES_TCG_THREAD:-multi}
unset TCPSTATES_MODULE_SRC # the real module is the repo's; --control builds its own

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
VM=$REPO/tests/vm/vm.sh

runs=1 control=''
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) runs=${2:?--runs needs a number}; shift 2 ;;
	--control) control=$(realpath "${2:?--control needs a patch}"); shift 2 ;;
	-h | --help) sed -n '3,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) echo "missrate: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "missrate: --runs takes a whole number" >&2; exit 2; }
[ $# -gt 0 ] || set -- 5.10 6.1
OUT=${MISSRATE_OUT:-$REPO/build/missrate/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"

make -s -C "$REPO/tests/stress"

# the control's module: Kbuild and module/ copied, the patch applied, built apart (vm.sh's
# build_dir gives another TCPSTATES_MODULE_SRC a folder of its own)
ctl_src=''
if [ -n "$control" ]; then
	ctl_src=$OUT/src-$(basename "$control" .patch)
	mkdir -p "$ctl_src"
	cp -p "$REPO/Kbuild" "$ctl_src/"
	cp -pr "$REPO/module" "$ctl_src/"
	patch -s -F0 -p1 -d "$ctl_src" --no-backup-if-mismatch <"$control" ||
		{ echo "missrate: $control does not apply" >&2; exit 1; }
fi

free_udp_port()
{
	python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# one_run KERNEL VARIANT DIR [MODULE_SRC]: one boot; its output goes to DIR/output.log
one_run()
{
	local kernel=$1 variant=$2 dir=$3 src=${4:-} p1 p2 t0 rc=0
	p1=$(free_udp_port)
	p2=$(free_udp_port)
	# shellcheck disable=SC2054 # the commas are QEMU's, inside one argument
	local nic=(
		--qemu-arg -netdev --qemu-arg "socket,id=wa,udp=127.0.0.1:$p2,localaddr=127.0.0.1:$p1"
		--qemu-arg -device --qemu-arg virtio-net-pci,netdev=wa,mac=52:54:00:27:00:01
		--qemu-arg -netdev --qemu-arg "socket,id=wb,udp=127.0.0.1:$p1,localaddr=127.0.0.1:$p2"
		--qemu-arg -device --qemu-arg virtio-net-pci,netdev=wb,mac=52:54:00:27:00:02
	)
	t0=$SECONDS
	env ${src:+TCPSTATES_MODULE_SRC="$src"} "$VM" run "$kernel" --boots 3 --cpus 2 --mem 2048 \
		--timeout $((${MISSRATE_MAX_S:-300} + 600)) --out "$dir" "${nic[@]}" \
		--env MISSRATE_VARIANT="$variant" --env MISSRATE_RECORDS="${MISSRATE_RECORDS:-1000000}" \
		--env MISSRATE_MAX_S="${MISSRATE_MAX_S:-300}" --env MISSRATE_LOAD="${MISSRATE_LOAD:-nic lo}" \
		-- tests/bench/missrate-guest.sh >/dev/null || rc=$?
	echo "# $kernel $variant: boot and run took $((SECONDS - t0)) s, exit $rc, in $dir"
	grep -E '^(# |missrate )' "$dir/output.log" | grep -vE '^# (mechanisms|[0-9]+ s:)' || true
	return 0
}

for kernel in "$@"; do
	env TCPSTATES_MODULE_SRC= "$VM" build "$kernel" >/dev/null
	[ -z "$ctl_src" ] || TCPSTATES_MODULE_SRC=$ctl_src "$VM" build "$kernel" >/dev/null
	for ((r = 1; r <= runs; r++)); do
		one_run "$kernel" module "$OUT/$kernel-module-run$r"
		[ -z "$ctl_src" ] ||
			one_run "$kernel" "$(basename "$control" .patch)" "$OUT/$kernel-control-run$r" "$ctl_src"
	done
done

# the summary: one line a run, then the spread of misses per million for each kernel and variant
{
	printf '%-16s %-12s %4s %8s %9s %8s %7s %8s  %s\n' kernel variant run seconds written state \
		missed per_1M "missed by hook (non-zero)"
	for f in "$OUT"/*-run*/output.log; do
		d=$(basename "$(dirname "$f")")
		v=${d#*-}
		line=$(grep '^missrate ' "$f" || echo "missrate kernel=${d%%-*} variant=${v%-run*} written=FAILED")
		hooks=$(awk '/^missed_/ && $2 > 0 { sub("missed_", ""); printf "%s=%s ", $1, $2 }' "$f")
		awk -v run="${d##*-run}" -v hooks="$hooks" '{
			for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			printf "%-16s %-12s %4s %8s %9s %8s %7s %8s  %s\n", v["kernel"], v["variant"], run,
				v["seconds"], v["written"], v["state"], v["missed"], v["per_million"], hooks
		}' <<<"$line"
	done
	echo
	echo "misses per million records, by kernel and variant: runs, min, median, max"
	for f in "$OUT"/*-run*/output.log; do
		grep '^missrate ' "$f" || true
	done | awk '{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		print v["kernel"] " " v["variant"], v["per_million"] }' | sort -k1,2 -k3,3g |
		awk '{ k = $1 " " $2; n[k]++; x[k, n[k]] = $3 }
		END { for (k in n) {
			m = n[k] % 2 ? x[k, (n[k] + 1) / 2] : (x[k, n[k] / 2] + x[k, n[k] / 2 + 1]) / 2
			printf "%-34s %2d  %8.1f %8.1f %8.1f\n", k, n[k], x[k, 1], m, x[k, n[k]] } }' | sort
} | tee "$OUT/summary.txt"
echo "# results in $OUT"
