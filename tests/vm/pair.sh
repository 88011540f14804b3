#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/vm/pair.sh - two QEMU guests joined by a private network link, each running a command.
#
# Usage:
#   tests/vm/pair.sh run KERNEL --out DIR [--timeout SECS] [--mem MB] -- COMMAND [ARGS...]
#
# Boots KERNEL twice (tests/vm/vm.sh run, so everything vm.sh promises holds in each guest), guest
# "a" and guest "b", each with a virtio-net NIC whose other end is the other guest's: QEMU's socket
# backend, "a" listening on a free TCP port of 127.0.0.1 and "b" connecting to it. The link carries
# Ethernet frames between the two QEMUs and nothing else: no host interface, no route out; the
# guests' addresses (10.254.0.1 for a, 10.254.0.2 for b, set by COMMAND) exist only on that link.
# COMMAND runs in both guests with TCPSTATES_PAIR_ROLE=a or b, TCPSTATES_PAIR_ADDR (its own
# address) and TCPSTATES_PAIR_PEER (the other's); each guest's results are in DIR/a and DIR/b
# (vm.sh's --out: console.log, output.log, the files COMMAND left in /results).
# Output: each guest's output lines, prefixed "a: " or "b: ". Every boot has --timeout (default
# 900 s); a guest that cannot reach the other must give up on its own before that.
# Exit: 0 if both guests' COMMAND exited 0 with clean kernel logs, else 1.
set -euo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

msg() { printf '# pair: %s\n' "$*" >&2; }
die() { printf '# pair: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '/^# Usage:/,/^# Exit:/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

cleanup()
{
	# only what this script started, by pid: each guest's vm.sh, which stops its QEMU
	local r
	for r in a b; do
		# || true: a guest already gone is fine, and under set -e a failed kill would end the script
		[ ! -s "$out/$r.pid" ] || kill "$(cat "$out/$r.pid")" 2>/dev/null || true
	done
	return 0
}

free_port()
{
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

listening() # listening PORT: a QEMU listens there (ss: no connection made, QEMU would take it)
{
	ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

[ "${1:-}" = run ] || usage
[ $# -ge 2 ] || usage
kernel=$2
shift 2
out='' timeout=900 mem=1024
while [ $# -gt 0 ]; do
	case "$1" in
	--out) out=${2:?}; shift 2 ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	--mem) mem=${2:?}; shift 2 ;;
	--) shift; break ;;
	*) usage ;;
	esac
done
[ -n "$out" ] && [ $# -gt 0 ] || usage
mkdir -p "$out/a" "$out/b"
trap cleanup EXIT

nic() { # nic ROLE MAC BACKEND
	printf '%s\n' -netdev "socket,id=pair,$3" -device "virtio-net-pci,netdev=pair,mac=$2"
}
run_guest() { # run_guest ROLE ADDR PEER MAC BACKEND COMMAND...
	local role=$1 addr=$2 peer=$3 mac=$4 backend=$5 qargs=() a
	shift 5
	while IFS= read -r a; do
		qargs+=(--qemu-arg "$a")
	done < <(nic "$role" "$mac" "$backend")
	rm -rf "${out:?}/$role"
	mkdir -p "$out/$role"
	# no_timer_check: a loaded host can make TCG miss the IO-APIC timer check at boot (a panic)
	"$VM_DIR/vm.sh" run "$kernel" --timeout "$timeout" --mem "$mem" --out "$out/$role" \
		--append no_timer_check "${qargs[@]}" --env TCPSTATES_PAIR_ROLE="$role" \
		--env TCPSTATES_PAIR_ADDR="$addr" --env TCPSTATES_PAIR_PEER="$peer" -- "$@" \
		2> "$out/$role.vm.log" > >(sed -u "s/^/$role: /") &
	echo $! > "$out/$role.pid"
	wait $!
}
died_early() { # died_early PID ROLE: the guest is gone and never started its command
	! kill -0 "$1" 2>/dev/null && [ ! -e "$out/$2/.vm/started" ]
}

# A guest that dies before its command starts (a boot flake under TCG) has run nothing: both are
# booted again, at most 3 times. Anything after that counts. The attempt's folders are kept
# (DIR/a.attemptN, DIR/b.attemptN) and their kernel logs scanned: the partner that had started
# its command is said and judged as any run (vm.sh scan started), the dead one as a dead boot
# (vm.sh scan dead); a problem in either fails the pair.
unclean=()
keep_attempt() { # keep_attempt N: move both guests' results aside and scan their kernel logs
	local r kept
	for r in a b; do
		kept=$out/$r.attempt$1
		rm -rf "$kept"
		mv "$out/$r" "$kept"
		mv "$out/$r.vm.log" "$kept/vm.log" 2>/dev/null || true
		if [ -e "$kept/.vm/started" ]; then
			msg "attempt $1: guest $r had started its command when its partner died: kept in $kept"
			"$VM_DIR/vm.sh" scan started "$kept" || unclean+=("$kept")
		else
			"$VM_DIR/vm.sh" scan dead "$kept/console.log" || unclean+=("$kept")
		fi
	done
	return 0
}
for attempt in 1 2 3; do
	port=$(free_port)
	msg "attempt $attempt: guest a listens on 127.0.0.1:$port for guest b's link"
	run_guest a 10.254.0.1 10.254.0.2 52:54:00:fe:00:01 "listen=127.0.0.1:$port" "$@" &
	A_PID=$!
	# b connects only once a's QEMU listens (a build of the initramfs may come first)
	for _ in $(seq 1200); do
		listening "$port" && break
		kill -0 "$A_PID" 2>/dev/null || break
		sleep 0.5
	done
	listening "$port" || die "guest a's QEMU never listened on 127.0.0.1:$port (see $out/a.vm.log)"
	run_guest b 10.254.0.2 10.254.0.1 52:54:00:fe:00:02 "connect=127.0.0.1:$port" "$@" &
	B_PID=$!
	retry=0
	while kill -0 "$A_PID" 2>/dev/null || kill -0 "$B_PID" 2>/dev/null; do
		if died_early "$A_PID" a || died_early "$B_PID" b; then
			retry=1
			break
		fi
		sleep 0.5
	done
	if [ $retry = 1 ] && [ $attempt -lt 3 ]; then
		msg "attempt $attempt: a guest died before its command started; booting both again"
		cleanup
		# under set -e a bare wait would end the script with the dead guest's status (as would
		# a failed kill in cleanup): this retry never ran, until QEMU 10 aborted at a boot
		# (iotlb_to_section) in a CI-style run and the suite failed instead of booting again
		wait "$A_PID" "$B_PID" 2>/dev/null || true
		A_PID= B_PID=
		rm -f "$out/a.pid" "$out/b.pid"
		keep_attempt "$attempt"
		continue
	fi
	break
done

rc=0
wait "$A_PID" || rc=1
A_PID=
wait "$B_PID" || rc=1
B_PID=
rm -f "$out/a.pid" "$out/b.pid"
for r in a b; do
	grep -h '^# vm:' "$out/$r.vm.log" | sed "s/^# vm:/# pair: $r:/" | tail -n 3 >&2
done
if [ ${#unclean[@]} -gt 0 ]; then
	msg "kernel problems in an attempt booted again: ${unclean[*]}"
	rc=1
fi
exit $rc
