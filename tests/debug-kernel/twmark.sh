# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tests/debug-kernel/twmark.sh - sourced INSIDE the debug guest (run-guest.sh, params-guest.sh)
# after tests/lib/tap.sh, with the module unloaded. twmark_checks KO: loads it, runs twmark.py in
# a namespace of its own pinned to CPU 0, unloads it; 2 TAP lines (twmark.py says what they test:
# a timewait hook's missed hit, made on demand through the module's drop_hits, leaves a record
# absent and counted, never a wrong one).
twmark_checks()
{
	local ko=$1 tr=/sys/kernel/tracing line out
	# shellcheck disable=SC2016 # $arg1 is the kprobe event's, not the shell's
	local ev='p:twmark/twmark_kill inet_twsk_kill tw=$arg1:x64'

	if ! insmod "$ko"; then
		not_ok "twmark: the module loads"
		return
	fi
	ip netns add tsm && ip -n tsm link set lo up &&
		ip netns exec tsm sysctl -qw net.ipv4.tcp_tw_reuse=1 &&
		echo "$ev" >>$tr/kprobe_events && echo 1 >$tr/events/twmark/enable
	# ip netns exec mounts a sysfs of the namespace's own on /sys: debugfs and tracefs, which
	# twmark.py writes to, are mounted again inside it
	out=$(ip netns exec tsm sh -c 'mount -t debugfs none /sys/kernel/debug &&
		mount -t tracefs none /sys/kernel/tracing &&
		exec taskset -c 0 python3 tests/debug-kernel/twmark.py' 2>&1)
	while IFS= read -r line; do
		case $line in
		'ok '*) ok "${line#ok }" ;;
		'not ok '*) not_ok "${line#not ok }" ;;
		'skip '*)
			line=${line#skip }
			skip "${line%%: *}" "${line#*: }"
			;;
		*) echo "# ${line#\# }" ;;
		esac
	done <<<"$out"
	echo 0 >$tr/events/twmark/enable
	echo '-:twmark/twmark_kill' >>$tr/kprobe_events
	ip netns del tsm
	rmmod tcpstates
}
