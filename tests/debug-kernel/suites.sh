# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tests/debug-kernel/suites.sh - sourced INSIDE a debug guest (run-guest.sh, kcsan-guest.sh) after
# tests/lib/tap.sh. debug_suites: the scenario and device suites with kprobe optimization off, so
# every kprobe stays an int3 breakpoint and its handler runs inside the int3 exception, then the
# stress test with it on, so probes are optimized and unoptimized while they fire. 3 TAP lines.
debug_suites()
{
	local opt=/proc/sys/debug/kprobes-optimization
	[ -w $opt ]
	tap $? "kprobe optimization can be switched ($opt)"
	echo 0 >$opt
	tests/vm/suite-guest.sh
	tap $? "scenario and device suites, every probe an int3 breakpoint"
	echo 1 >$opt
	tests/stress/run-guest.sh
	tap $? "stress test, probes optimized"
}
