#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/vm/symcheck-guest.sh - runs INSIDE the guest (tests/build-check.sh boots each kernel with
# it): is every symbol the module probes there, out of line, once, and probeable; and does the
# module load on this kernel with every hook active?
#
# Why a boot and not the System.map of the kernel's -dbg package: that package is about 1 GB per
# kernel (download, unpack, delete: minutes each, and gigabytes of cache), while the kernel image
# the VM tests fetch anyway boots in about 15 s and its /proc/kallsyms is the same symbol table,
# with the running kernel's kprobe blacklist beside it. A hook whose function a new kernel inlines
# away is absent from kallsyms (or present only as a .isra/.constprop/.part clone, which a kprobe
# by name does not find): that fails here instead of in a user's load message.
#
# Per symbol (from the hook table in module/probes.c):
#   in kallsyms          exactly one text symbol of that name (several: a kprobe by name refuses
#                        an ambiguous one on newer kernels and may pick the wrong one on older)
#   no clone             no .isra/.constprop/.part copy beside it: callers in its own file may
#                        call the copy, which the probe never sees (gcc 16 made
#                        __inet_twsk_schedule.part.0 in Debian's 7.2 and 7.3-rc kernels, and
#                        TIME_WAIT entry went unrecorded). The one the module covers is allowed:
#                        __inet_twsk_schedule where inet_twsk_hashdance_schedule, its only caller
#                        in that file, is probed too (module/compat.h). A .cold part is only the
#                        unlikely end of the same function and is fine.
#   not blacklisted      not in /sys/kernel/debug/kprobes/blacklist
# and, as a note only, whether ftrace can patch it (available_filter_functions): kprobes there
# cost a call, not an int3 trap.
# Then the module is loaded: every hook must report active in /proc/tcpstates_stats.
#
# Output: TAP-like lines (one for the symbols, two for the module), a comment per problem; exit 1
# if anything failed.
set -uo pipefail

TAP_PREFIX=""
# shellcheck source=tests/lib/tap.sh
. tests/lib/tap.sh
kver=$(uname -r)


mapfile -t syms < <(sed -n 's/.*TS_KRETPROBE("\([a-z0-9_]*\)".*/\1/p
	s/.*TS_KPROBE("\([a-z0-9_]*\)".*/\1/p
	s/.*\.symbol_name = "\([a-z0-9_]*\)".*/\1/p' module/probes.c)
[ ${#syms[@]} -gt 0 ] || { echo "not ok 1 - no hook symbols found in module/probes.c"; exit 1; }

kallsyms=$(mktemp)
awk '$2 ~ /^[tT]$/ { print $3 }' /proc/kallsyms >"$kallsyms"
blacklist=$(mktemp)
# The blacklist must be read: an unreadable one (no debugfs) would pass every symbol. Every x86
# kernel has entries (the NOKPROBE_SYMBOL functions), so an empty one is a read that failed too.
bl_err=
if ! awk '{ print $2 }' /sys/kernel/debug/kprobes/blacklist >"$blacklist" 2>"$blacklist.err"; then
	bl_err="cannot read /sys/kernel/debug/kprobes/blacklist: $(head -1 "$blacklist.err")"
elif [ ! -s "$blacklist" ]; then
	bl_err="/sys/kernel/debug/kprobes/blacklist is empty"
fi
ftraceable=$(mktemp)
awk '{ print $1 }' /sys/kernel/tracing/available_filter_functions >"$ftraceable" 2>/dev/null
echo "# $(wc -l <"$kallsyms") text symbols, $(wc -l <"$blacklist") blacklisted, $(wc -l <"$ftraceable") ftrace-able"

bad=()
[ -z "$bl_err" ] || bad+=("$bl_err")
for s in "${syms[@]}"; do
	count=$(grep -cxF "$s" "$kallsyms")
	if [ "$count" -eq 0 ]; then
		clones=$(grep -E "^$s\.(isra|constprop|part|cold)" "$kallsyms" | tr '\n' ' ')
		bad+=("$s: not in kallsyms (inlined or removed)${clones:+; clones: $clones}")
	elif [ "$count" -gt 1 ]; then
		bad+=("$s: $count text symbols of that name (ambiguous for a kprobe)")
	else
		clones=$(grep -E "^$s\.(isra|constprop|part)\." "$kallsyms" | tr '\n' ' ')
		if [ -n "$clones" ] && [ "$s" = __inet_twsk_schedule ] &&
			grep -qxF inet_twsk_hashdance_schedule "$kallsyms"; then
			echo "# $s: clones $clones(covered: TIME_WAIT entry is probed at inet_twsk_hashdance_schedule)"
		elif [ -n "$clones" ]; then
			bad+=("$s: clones that callers in its own file may call instead: $clones")
		fi
	fi
	grep -qxF "$s" "$blacklist" && bad+=("$s: on the kprobe blacklist")
	if [ -s "$ftraceable" ] && ! grep -qxF "$s" "$ftraceable"; then
		echo "# $s: not in available_filter_functions (an int3 kprobe, not an ftrace one)"
	fi
done
for b in "${bad[@]}"; do
	echo "# $b"
done
tap "${#bad[@]}" "[$kver] ${#syms[@]} hook symbols out of line, unique, not blacklisted"
rm -f "$kallsyms" "$blacklist" "$blacklist.err" "$ftraceable"

if [ -z "${TCPSTATES_KO:-}" ] || [ ! -f "$TCPSTATES_KO" ]; then
	tap 1 "[$kver] module loads # no built module (${TCPSTATES_KO:-TCPSTATES_KO unset})"
elif ! insmod "$TCPSTATES_KO"; then
	tap 1 "[$kver] module loads"
else
	tap 0 "[$kver] module loads"
	inactive=$(grep '^hook_' /proc/tcpstates_stats | grep -v ' active$' | tr '\n' ' ')
	tap "$([ -z "$inactive" ] && echo 0 || echo 1)" "[$kver] every hook active${inactive:+ # $inactive}"
	dmesg | grep -E 'tcpstates: (loaded|hook)' | sed 's/^/# /'
	rmmod tcpstates
	tap $? "[$kver] module unloads"
fi

[ "$TAP_FAILED" -eq 0 ]
