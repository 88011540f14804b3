#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/stress/matrix.sh - issue 12's experiment: is a guest crash under multi-threaded TCG the
# emulator's or a real kernel/module race? (results in docs/emulator.md)
#
# Usage:
#   tests/stress/matrix.sh run [CELL...]   run the cells round-robin (one run of each cell per
#                                           round, so every cell has data early), unattended
#   tests/stress/matrix.sh table           print the table of what ran so far (markdown)
#   tests/stress/matrix.sh classify DIR    the crash signatures of one run's console.log
#   tests/stress/matrix.sh reclassify      redo runs.tsv's signatures from the kept console logs
#
# A CELL is QEMU/THREAD/KERNEL/LOAD[xRUNS]:
#   QEMU   7.2 (the system's) or 10.0 (bookworm-backports, tests/vm/qemu.sh)
#   THREAD multi (a host thread per vCPU) or single (every vCPU on one host thread)
#   KERNEL 6.1, 6.12, 6.12-rt, or anything tests/vm/vm.sh boots
#   LOAD   module         the stress test (run-guest.sh: churn, readers, insmod/rmmod cycles)
#          kprobe-events  the control: the same churn, the same symbols probed by the kernel's own
#                         kprobe events, added/enabled/disabled/removed each cycle; no module
#          static-keys    the same churn, no kprobe: the tcp and sock trace events enabled and
#                         disabled in a loop, their static branches patched by text_poke_bp
#          idle           the churn alone, no probes at all
#   RUNS   how many runs the cell gets (default MATRIX_RUNS, 8)
# e.g. tests/stress/matrix.sh run 10.0/multi/6.12/module 10.0/multi/6.12/kprobe-eventsx4
#
# Each run boots one guest at nice 10 with 2 vCPUs, STRESS_CYCLES (default 10 here) cycles, a
# timeout and a stall watchdog (MATRIX_STALL, 600 s: a cycle of a guest at nice 10 on a host at load
# 10 can take minutes), and oops=panic softlockup_panic=1: the first report ends the run
# (it is the one that tells what happened; what follows is its fallout). MATRIX_JOBS (default 1)
# guests at a time: each run holds one of MATRIX_JOBS slot locks (flock on
# $TCPSTATES_CACHE/matrix.lock.SLOT; run other guests of yours under `flock` on one too and they
# take turns). With 2 or more on a 2-core machine the guests load each other, as the busy hosts
# did where the crashes were first seen. MATRIX_LOAD=kbuild (default) keeps a kernel build of
# linux-source-6.1 running at nice 19 beside the guest, as on the busy hosts where the crashes were
# first seen; MATRIX_LOAD=none does not. Every run's logs stay in MATRIX_OUT (default
# build/matrix)/CELL/N; one line per run is appended to MATRIX_OUT/runs.tsv as it finishes.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
# shellcheck source=tests/vm/kernels.sh
. "$REPO/tests/vm/kernels.sh"
OUT=${MATRIX_OUT:-$REPO/build/matrix}
RUNS=${MATRIX_RUNS:-8}
CYCLES=${STRESS_CYCLES:-10}
LOCK=$TCPSTATES_CACHE/matrix.lock
JOBS=${MATRIX_JOBS:-1}
LOAD_PID=

DEFAULT_CELLS=(
	7.2/multi/6.12/module 7.2/multi/6.12/kprobe-events 10.0/multi/6.12/module
	10.0/multi/6.12/kprobe-events 7.2/multi/6.1/module 10.0/multi/6.1/module
	7.2/multi/6.12-rt/module 10.0/multi/6.12-rt/module
	7.2/multi/6.1/kprobe-eventsx4 10.0/multi/6.1/kprobe-eventsx4
	7.2/multi/6.12-rt/kprobe-eventsx4 10.0/multi/6.12-rt/kprobe-eventsx4
	7.2/multi/6.12/idlex3 10.0/multi/6.12/idlex3
	7.2/single/6.1/modulex2 7.2/single/6.12/modulex2 7.2/single/6.12-rt/modulex2
	10.0/single/6.1/modulex2 10.0/single/6.12/modulex2 10.0/single/6.12-rt/modulex2
)

say()
{
	printf '# matrix: %s\n' "$*" >&2
}

# classify DIR -> space-separated signatures found in DIR/console.log (and why the run failed)
classify()
{
	local d=$1 c=$1/console.log sig=()
	[ -f "$c" ] || { echo no-console; return; }
	grep -aqE 'int3: 0000|Oops: int3|trap int3' "$c" && sig+=(int3-oops)
	# (console lines end in \r)
	grep -aqE 'RIP: 0010:0x0([^0-9a-fx]|$)' "$c" && sig+=(call-to-0)
	grep -aqE 'BUG: kernel NULL pointer dereference' "$c" &&
		! grep -aqE 'RIP: 0010:0x0' "$c" && sig+=(null-deref)
	grep -aq 'soft lockup' "$c" && sig+=(soft-lockup)
	grep -aq 'hard LOCKUP' "$c" && sig+=(hard-lockup)
	grep -aqE 'rcu: INFO: .* detected stall|rcu_preempt detected stall|rcu_sched detected stall' "$c" &&
		sig+=(rcu-stall)
	grep -aq 'general protection fault' "$c" && sig+=(gpf)
	grep -aqE 'invalid opcode' "$c" && sig+=(invalid-opcode)
	grep -aqE 'BUG: unable to handle page fault' "$c" && sig+=(page-fault)
	[ ${#sig[@]} = 0 ] && grep -aqE 'Kernel panic' "$c" && sig+=(panic)
	if [ ${#sig[@]} = 0 ] && grep -aqE 'WARNING:|BUG:|Oops' "$c"; then
		sig+=(other-report)
	fi
	if [ ${#sig[@]} = 0 ] && [ -f "$d/.vm/stalled" ]; then
		sig+=(stall)
	elif [ ${#sig[@]} = 0 ] && [ -f "$d/.vm/failure" ]; then
		sig+=(no-finish)
	fi
	echo "${sig[*]:-none}"
}

# where DIR -> "symbol+off" of the first RIP: line (where the first report points), or -; for a
# call to 0, "0x0<-CALLER": the first frame of its call trace that is not the unwinder's guess
where()
{
	local w c
	w=$(grep -aom1 -E 'RIP: 0010:[^ ]+' "$1/console.log" 2>/dev/null | tr -d '\r' | sed 's/RIP: 0010://')
	if [ "$w" = 0x0 ]; then
		c=$(sed -n '/RIP: 0010:0x0/,/Kernel panic\|---\[ end/p' "$1/console.log" | tr -d '\r' |
			grep -aE '^\[ *[0-9.]+\]  [a-z_][a-z0-9_.]*\+0x' | grep -v '^\[.*\]  ? ' |
			awk '{ print $3 }' | grep -vE '^(trace_clock|asm_|<)' | head -n 1)
		w="0x0<-${c:-?}"
	fi
	echo "${w:--}"
}

start_load()
{
	[ "${MATRIX_LOAD:-kbuild}" = kbuild ] || return 0
	local src=$TCPSTATES_CACHE/loadgen/linux
	if [ ! -f "$src/Makefile" ]; then
		_kernels_apt_install linux-source-6.1 flex bison bc libelf-dev libssl-dev
		say "unpacking linux-source-6.1 for the load generator"
		mkdir -p "$src" &&
			tar -xaf /usr/src/linux-source-6.1.tar.xz -C "$src" --strip-components=1 || return 1
		make -s -C "$src" defconfig >/dev/null || return 1
	fi
	# build, clean, build again, for as long as the matrix runs; nice 19 so every other job wins
	(
		trap 'kill $(jobs -p) 2>/dev/null; exit 0' TERM
		while :; do
			nice -n 19 make -s -C "$src" -j2 vmlinux >/dev/null 2>&1 &
			wait $!
			nice -n 19 make -s -C "$src" clean >/dev/null 2>&1 &
			wait $!
		done
	) &
	LOAD_PID=$!
	say "load: kernel build at nice 19 (pid $LOAD_PID)"
}

stop_load()
{
	[ -n "$LOAD_PID" ] || return 0
	kill "$LOAD_PID" 2>/dev/null
	wait "$LOAD_PID" 2>/dev/null
	LOAD_PID=
}

# one_run CELL N: boot the guest for CELL once a slot lock is free, record the result
one_run()
{
	local cell=$1 i=$2 qemu thread kernel load dir spec guest rc t0 t sig loadavg
	IFS=/ read -r qemu thread kernel load <<<"$cell"
	case "$qemu" in 7.2) spec=system ;; 10.0) spec=backports ;; *) spec=$qemu ;; esac
	case "$load" in
	module) guest=(tests/stress/run-guest.sh) ;;
	kprobe-events | static-keys | idle) guest=(tests/stress/control-guest.sh "$load") ;;
	*) say "unknown load $load"; return 1 ;;
	esac
	dir=$OUT/${cell//\//_}/$i
	rm -rf "$dir"
	mkdir -p "$dir"
	[ "$load" = module ] && { "$REPO/tests/vm/vm.sh" build "$kernel" >/dev/null || return 1; }
	t0=$(date +%s)
	(
		# the first free slot lock (guests of other processes may hold some)
		local s
		while :; do
			for s in $(seq 1 "$JOBS"); do
				exec 9>"$LOCK.$s"
				flock -n 9 && break 2
			done
			exec 9>&-
			sleep 1
		done
		loadavg=$(cut -d' ' -f1 /proc/loadavg)
		echo "$loadavg" >"$dir/loadavg"
		TCPSTATES_QEMU=$spec TCPSTATES_TCG_THREAD=$thread nice -n 10 \
			"$REPO/tests/vm/vm.sh" run "$kernel" --cpus 2 --timeout "${MATRIX_TIMEOUT:-1200}" \
			--stall "${MATRIX_STALL:-600}" --append "oops=panic softlockup_panic=1" \
			--out "$dir" -- env STRESS_CYCLES="$CYCLES" \
			STRESS_READ_S="${STRESS_READ_S:-0.6}" "${guest[@]}" >"$dir/tap.log" 2>"$dir/vm.log"
	)
	rc=$?
	t=$(($(date +%s) - t0))
	sig=$(classify "$dir")
	[ "$rc" = 0 ] && [ "$sig" = none ] && sig=clean
	[ "$rc" != 0 ] && [ "$sig" = none ] && sig=test-failed
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$qemu" "$thread" "$kernel" \
		"$load" "$i" "$rc" "$t" "$(cat "$dir/loadavg" 2>/dev/null)" "$sig $(where "$dir")" >>"$OUT/runs.tsv"
	say "$cell #$i: rc $rc in ${t}s: $sig"
}

cmd_run()
{
	local cells=("$@") cell max=0 r n name runs=()
	[ ${#cells[@]} -gt 0 ] || cells=("${DEFAULT_CELLS[@]}")
	mkdir -p "$OUT"
	[ -f "$OUT/runs.tsv" ] ||
		printf 'when\tqemu\tthread\tkernel\tload\trun\trc\tseconds\tloadavg\tsignatures where\n' >"$OUT/runs.tsv"
	for cell in "${cells[@]}"; do
		n=$RUNS
		[[ "$cell" == *x[0-9]* ]] && n=${cell##*x}
		runs+=("$n")
		[ "$n" -gt "$max" ] && max=$n
	done
	make -s -C "$HERE" || exit 1
	"$REPO/tests/vm/qemu.sh" path backports >/dev/null || exit 1
	trap 'stop_load' EXIT
	trap 'exit 130' INT TERM
	start_load
	local bg=0	# the load generator, a background job too
	[ -n "$LOAD_PID" ] && bg=1
	for ((r = 1; r <= max; r++)); do
		for i in "${!cells[@]}"; do
			[ "$r" -le "${runs[$i]}" ] || continue
			name=${cells[$i]%x[0-9]*}
			# a run already recorded (a resumed matrix) is not run again
			if awk -F'\t' -v q="${name%%/*}" -v c="$name" -v r="$r" \
				'$2 "/" $3 "/" $4 "/" $5 == c && $6 == r { f = 1 } END { exit !f }' "$OUT/runs.tsv"; then
				continue
			fi
			# at most JOBS runs at once
			while [ "$(jobs -rp | wc -l)" -ge $((JOBS + bg)) ]; do
				wait -n
			done
			one_run "$name" "$r" &
			sleep 5		# not two boots in the same second: their CPU peaks apart
		done
	done
	while [ "$(jobs -rp | wc -l)" -gt $bg ]; do
		wait -n
	done
	cmd_table
}

# the table: one row per cell: runs, runs that crashed (a kernel report, or a guest that did not
# finish), runs ended silent (nothing printed for MATRIX_STALL seconds and no report: no verdict),
# and how often each signature was seen (with where the first report of those runs pointed)
cmd_table()
{
	awk -F'\t' '
	NR == 1 { next }
	{
		cell = $2 " | " $3 " | " $4 " | " $5
		if (!(cell in runs)) order[++n] = cell
		runs[cell]++
		k = split($10, w, " ")
		if (w[1] == "clean") next
		# ended by the stall watchdog with no kernel report: no verdict, not a crash
		if (w[1] == "stall" && k == 2) { silent[cell]++; next }
		crashes[cell]++
		for (i = 1; i < k; i++) {
			key = cell SUBSEP w[i]
			if (!(key in cnt)) sigs[cell] = sigs[cell] " " w[i]
			cnt[key]++
			if (index(at[key], w[k]) == 0) at[key] = at[key] (at[key] == "" ? "" : ", ") w[k]
		}
	}
	END {
		print "| QEMU | TCG threads | kernel | load | runs | crashed | silent | signatures: runs (where) |"
		print "|---|---|---|---|---|---|---|---|"
		for (i = 1; i <= n; i++) {
			c = order[i]
			out = ""
			m = split(sigs[c], s, " ")
			for (j = 1; j <= m; j++)
				out = out (out == "" ? "" : "; ") s[j] " " cnt[c, s[j]] " (" at[c, s[j]] ")"
			printf "| %s | %d | %d | %d | %s |\n", c, runs[c], crashes[c] + 0, silent[c] + 0,
				out == "" ? "-" : out
		}
	}' "$OUT/runs.tsv"
}

# reclassify: the signature column of runs.tsv again, from each run's console.log (after a change
# to classify)
cmd_reclassify()
{
	local tmp=$OUT/runs.tsv.new when qemu thread kernel load i rc t la sig dir
	head -n 1 "$OUT/runs.tsv" >"$tmp"
	tail -n +2 "$OUT/runs.tsv" | while IFS=$'\t' read -r when qemu thread kernel load i rc t la sig; do
		dir=$OUT/${qemu}_${thread}_${kernel}_${load}/$i
		if [ -d "$dir" ]; then
			sig=$(classify "$dir")
			[ "$rc" = 0 ] && [ "$sig" = none ] && sig=clean
			[ "$rc" != 0 ] && [ "$sig" = none ] && sig=test-failed
			sig="$sig $(where "$dir")"
		fi
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$when" "$qemu" "$thread" "$kernel" \
			"$load" "$i" "$rc" "$t" "$la" "$sig"
	done >>"$tmp"
	mv "$tmp" "$OUT/runs.tsv"
}

case "${1:-}" in
run) shift; cmd_run "$@" ;;
reclassify) cmd_reclassify ;;
table) cmd_table ;;
classify) classify "$2"; where "$2" ;;
*) sed -n '/^# Usage:/,/^# A CELL/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
