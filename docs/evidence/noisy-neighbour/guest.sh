#!/bin/bash
# In the guest (tests/vm/vm.sh run 6.1 -- docs/evidence/noisy-neighbour/guest.sh, after
# tests/vm/vm.sh build 6.1, make -C tests/stress and make -C tests/device):
# what one namespace's connection churn does to a reader in another namespace. Two namespaces,
# one ring (NOISY_PARAMS=capacity=N to size it). In the victim namespace two readers start at the
# head: one that follows (poll + read) and one that sleeps until the run ends and then reads (a
# stalled or batch consumer). The victim namespace then makes NOISY_CONNS connections; in
# "noisy", a neighbour namespace then churns as fast as it can for NOISY_SECONDS, in "quiet"
# nothing does.
set -u
D=${NOISY_SECONDS:-30}
N=${NOISY_CONNS:-10}
EV=docs/evidence/noisy-neighbour
DEVTEST=${DEVTEST:-tests/device/devtest}
# shellcheck disable=SC2086 # parameters, one a word
insmod "$TCPSTATES_KO" ${NOISY_PARAMS:-} || exit 1
ip netns add victim && ip -n victim link set lo up
ip netns add noisy && ip -n noisy link set lo up
stat_value() { awk -v k="$1" '$1 == k { print $2 }' /proc/tcpstates_stats; }

run() {
	local name=$1 churn=$2 w0 w1 t0 t1
	rm -f /tmp/stop*
	w0=$(stat_value written)
	t0=$EPOCHREALTIME
	ip netns exec victim python3 $EV/victim.py follow /tmp/stop > /tmp/follow.txt &
	ip netns exec victim python3 $EV/victim.py pause /tmp/stop > /tmp/pause.txt &
	until [ -e /tmp/stop.follow.ready ] && [ -e /tmp/stop.pause.ready ]; do sleep 0.2; done
	for _ in $(seq 1 "$N"); do
		ip netns exec victim "$DEVTEST" burst 1 > /dev/null
	done
	if [ "$churn" = 1 ]; then
		ip netns exec noisy tests/stress/stress churn "$D" 2 127.0.0.1 9000 > /tmp/churn.txt
	fi
	t1=$EPOCHREALTIME
	w1=$(stat_value written)
	touch /tmp/stop
	wait
	echo "$name: ring written +$((w1 - w0)) in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s;" \
		"capacity $(stat_value capacity); $(cat /tmp/churn.txt 2>/dev/null)"
	echo "$name: $(cat /tmp/follow.txt)"
	echo "$name: $(cat /tmp/pause.txt)"
	rm -f /tmp/churn.txt
}
echo "# kernel $(uname -r), $(nproc) CPUs, ${NOISY_PARAMS:-default parameters}, $N victim connections, $D s of churn"
run quiet 0
run noisy 1
rmmod tcpstates
