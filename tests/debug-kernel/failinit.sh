# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tests/debug-kernel/failinit.sh - sourced by run-guest.sh, INSIDE the debug-kernel guest, with the
# module unloaded: every allocation of a load fails in turn, and each failed load must leave
# nothing behind. failinit_checks prints 4 TAP lines (tests/lib/tap.sh), whatever happens;
# failparam_checks, at the end of this file, 1.
#
# How: the kernel's own fault injection (CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB). failnth writes N
# to its /proc/thread-self/fail-nth and calls finit_module() at once, so the Nth slab allocation of
# that load fails (syzkaller's method). N starts at the last allocation a whole load makes and goes
# down, one load each, until the failure falls in the module loader, before the module's init
# (the module:module_load tracepoint fires just before init runs): every allocation from the
# loader's do_init_module() through tcpstates' init, in order, fails once. A load whose failure
# was taken in its stride (an allocation the kernel may do without) must then work and unload.
#
# Except inside a loop: the first load is traced with each allocation's kernel stack
# (failsites.py), and a run of allocations with the same stack, return addresses included, is
# failed at its first and its last only. On 6.1, register_kretprobe() allocates each of a
# kretprobe's instances by itself, 256 for the connect hook: failing the 2nd to the 255th takes
# the same error path, one load (about 5 s under KASAN and TCG) each, and took 25 minutes of CI.
# If the trace does not account for every allocation, every one is failed, as before.
#
# Only caches marked with failslab fail, and 6.1 marks them only at boot: run.sh boots with
# slub_debug=A,kmalloc-*,proc_dir_entry,kernfs_node_cache,vmap_area (A is failslab), the caches a
# load allocates from (kzalloc, /proc entries, sysfs nodes, vmalloc areas), and not kmemleak's own
# (a failed kmemleak allocation switches kmemleak off, and the leak scan after this would check
# nothing). The page allocator is not failed: kmemleak takes its slabs' pages from it too.
#
# An injected failure makes the kernel print allocation-failure warnings with a stack (warn_alloc)
# for callers that did not pass __GFP_NOWARN; those are the kernel reporting the failure we
# caused, not a bug. So during the sweep the console shows emergencies only (the harness scans the
# console), and this file scans the kernel log of the sweep itself for what is a bug: KASAN,
# lockdep, WARN, BUG, Oops, a refcount or list corruption.

# failsites_trace on|off|remove: trace the next load's failable allocations for failsites.py: a
# kprobe event where fail-nth counts, with its kernel stack, and one at finit_module()'s entry and
# return, all for the failnth process only; off stops tracing; remove removes the events, after
# the trace was read (the buffer cannot print an event whose type is gone). fail-nth counts in
# should_fail_ex() where the kernel has it (6.1.192 Debian has it backported; should_fail() calls
# it), else in should_fail().
failsites_trace()
{
	local tr=/sys/kernel/tracing e fn=should_fail
	if [ "$1" = on ]; then
		grep -q ' should_fail_ex$' /proc/kallsyms && fn=should_fail_ex
		: >$tr/trace
		printf '%s\n' "p:tsfail/site $fn" 'p:tsfail/enter __x64_sys_finit_module' \
			'r:tsfail/leave __x64_sys_finit_module' >>$tr/kprobe_events || return
		for e in site enter leave; do
			echo 'comm == "failnth"' >$tr/events/tsfail/$e/filter
		done
		echo 1 >$tr/options/stacktrace
		echo 1 >$tr/events/tsfail/enable
	elif [ "$1" = off ]; then
		echo 0 >$tr/events/tsfail/enable
		echo 0 >$tr/options/stacktrace
	else
		printf '%s\n' '-:tsfail/site' '-:tsfail/enter' '-:tsfail/leave' >>$tr/kprobe_events
	fi 2>/dev/null
}

# failslab_setup: allocations that may sleep fail too, quietly, and only from the marked caches
failslab_setup()
{
	local dbg=/sys/kernel/debug
	echo N >$dbg/failslab/ignore-gfp-wait
	echo 0 >$dbg/failslab/verbose
	echo Y >$dbg/failslab/cache-filter
}

failinit_checks()
{
	local failnth=$1 ko=$2 dbg=/sys/kernel/debug tr=/sys/kernel/tracing
	local printk c marked=0 out total n inj load rem refused=0 survived=0 bad='' loads=0
	local kp0 kp1 klog tail_pid i sites fail

	if [ ! -w /proc/thread-self/fail-nth ] || [ ! -d $dbg/failslab ] || [ ! -x "$failnth" ] ||
		[ ! -d $tr/events/module/module_load ]; then
		not_ok "fault injection is there (fail-nth, failslab, module_load event, $failnth)"
		skip "every allocation of a load fails in turn, nothing left behind" "no fault injection"
		skip "the kernel log of those loads is clean" "no fault injection"
		skip "a load with nothing injected then works and unloads" "no fault injection"
		return
	fi
	failslab_setup
	for c in /sys/kernel/slab/*/failslab; do
		[ "$(cat "$c")" = 1 ] && marked=$((marked + 1))
	done
	if [ "$(cat /sys/kernel/slab/kmemleak_object/failslab 2>/dev/null)" = 1 ]; then
		not_ok "fault injection is there (kmemleak's cache is marked to fail: see run.sh)"
	else
		tap $((marked == 0)) "fault injection is there (fail-nth; failslab on $marked caches, not kmemleak's)"
	fi

	kp0=$(cat $dbg/kprobes/list)
	printk=$(cat /proc/sys/kernel/printk)
	echo 1 >/proc/sys/kernel/printk
	# The sweep's kernel log, every record read by its sequence number as it is written
	# (kmsgtail.py), not cut from the ring afterwards, where the start could have scrolled out.
	klog=$(mktemp)
	python3 tests/debug-kernel/kmsgtail.py "$klog" &
	tail_pid=$!
	for ((i = 0; i < 100; i++)); do
		grep -q '^kmsgtail: reading' "$klog" && break
		sleep 0.1
	done
	echo "tcpstates-failinit: start" >/dev/kmsg
	echo 1 >$tr/events/module/module_load/enable

	# How many injection sites a whole load passes: N too large to be reached. The load is traced
	# at each site with its stack (failsites_trace), to fail a loop's run of sites at its ends.
	failsites_trace on
	out=$("$failnth" 1000000 "$ko")
	failsites_trace off
	read -r _ inj _ load _ rem <<<"$out"
	total=$((1000000 - rem))
	if [ "$load" != 0 ] || [ "$inj" != 0 ] || ! rmmod tcpstates; then
		bad="the calibration load: $out"
		total=0
	fi
	fail=()
	if sites=$(python3 tests/debug-kernel/failsites.py $tr/trace "$total" 2>"$klog.sites"); then
		for n in $sites; do fail[n]=1; done
	else
		for ((n = 1; n <= total; n++)); do fail[n]=1; done
	fi
	failsites_trace remove
	sed 's/^/# /' "$klog.sites"
	rm -f "$klog.sites"
	echo "# failinit: a whole load makes $total failable allocations; failing ${#fail[@]} from the last down"
	for ((n = total; n >= 1; n--)); do
		[ -n "${fail[n]:-}" ] || continue
		: >$tr/trace
		out=$("$failnth" "$n" "$ko") || { bad="failnth $n: $out"; break; }
		read -r _ inj _ load _ rem <<<"$out"
		grep -q 'module_load: tcpstates' $tr/trace || break # failed in the loader: done
		loads=$((loads + 1))
		[ $((loads % 10)) = 0 ] && echo "# failinit: $loads loads, at allocation $n of $total"
		if [ "$load" = 0 ]; then
			survived=$((survived + 1))
			if ! [ -r /proc/tcpstates ] || ! [ -c /dev/tcpstates ] ||
				! head -c1 /proc/tcpstates >/dev/null || ! rmmod tcpstates; then
				bad="allocation $n failed, the load went on ($out) but the module does not work"
				break
			fi
		else
			refused=$((refused + 1))
			kp1=$(cat $dbg/kprobes/list)
			for c in /proc/tcpstates /proc/tcpstates_stats /dev/tcpstates /sys/class/misc/tcpstates \
				/sys/module/tcpstates; do
				[ ! -e "$c" ] || bad="allocation $n failed ($out): $c is left behind"
			done
			[ "$kp1" = "$kp0" ] || bad="allocation $n failed ($out): a kprobe is left behind"
			[ -z "$bad" ] || break
		fi
	done
	echo 0 >$tr/events/module/module_load/enable
	echo "tcpstates-failinit: end" >/dev/kmsg
	for ((i = 0; i < 100; i++)); do
		grep -q 'tcpstates-failinit: end' "$klog" && break
		sleep 0.1
	done
	kill "$tail_pid" 2>/dev/null
	wait "$tail_pid" 2>/dev/null
	echo "$printk" >/proc/sys/kernel/printk
	[ "$loads" -gt 0 ] || bad=${bad:-"no load reached the init of the module"}
	tap $((${#bad} != 0)) "every allocation from do_init_module() through init failed in turn (a loop's at its ends): $loads loads, $refused refused, $survived went on and worked; nothing left behind${bad:+: $bad}"

	out=$(grep -E 'GAP:|KASAN|BUG:|WARNING:|Oops|general protection|possible (recursive|circular) locking|refcount_t|list_(add|del) corruption|kmemleak: Cannot' "$klog" | head -n 20)
	# the window is whole: both markers read, no record lost between them
	grep -q 'tcpstates-failinit: start' "$klog" && grep -q 'tcpstates-failinit: end' "$klog" ||
		out+="${out:+$'\n'}the log window lacks a marker: $(wc -l <"$klog") records read"
	[ -z "$out" ] || sed 's/^/# /' <<<"$out"
	echo "# failinit: $(wc -l <"$klog") kernel log records in the sweep, read from /dev/kmsg"
	tap $((${#out} != 0)) "the kernel log of those loads, every record read: no KASAN, lockdep, WARN or BUG"
	rm -f "$klog"

	if insmod "$ko" && [ -c /dev/tcpstates ] && rmmod tcpstates; then
		ok "a load with nothing injected then works and unloads"
	else
		not_ok "a load with nothing injected then works and unloads"
	fi
}

# failparam_checks FAILNTH KO: a parameter write whose allocation fails changes nothing. ports=7
# is written with each of its allocations failed in turn (kernfs's buffer, then the filter the
# probes read), from the first until the write makes fewer than N. After each, the value read back
# must be the filter the probes apply: a connection to port 2 (refused) is filtered exactly when
# ports reads 7. The bug this guards: the value was set before the copy for the probes was made,
# so an ENOMEM left ports reading 7 while every port was traced. Prints 1 TAP line.
failparam_checks()
{
	local failnth=$1 ko=$2 p=/sys/module/tcpstates/parameters/ports n out inj res rem got
	local f0 f1 writes=0 failed=0 bad=''

	failslab_setup
	if ! insmod "$ko"; then
		not_ok "a ports= write whose allocation fails changes nothing: the module does not load"
		return
	fi
	for ((n = 1; n <= 20; n++)); do
		echo "" >$p
		out=$("$failnth" "$n" --write $p 7) || { bad="failnth $n: $out"; break; }
		read -r _ inj _ res _ rem <<<"$out"
		got=$(cat $p)
		f0=$(awk '$1 == "filtered" { print $2 }' /proc/tcpstates_stats)
		python3 -c 'import socket; s = socket.socket(); s.settimeout(5)
try: s.connect(("127.0.0.1", 2))
except OSError: pass' 2>/dev/null
		f1=$(awk '$1 == "filtered" { print $2 }' /proc/tcpstates_stats)
		writes=$((writes + 1))
		if [ "$res" = 0 ] && [ "$got" = 7 ] && [ "$f1" -gt "$f0" ]; then
			[ "$inj" = 0 ] && break	# made fewer than N allocations: every one was failed
		elif [ "$res" = ENOMEM ] && [ -z "$got" ] && [ "$f1" = "$f0" ]; then
			failed=$((failed + 1))
		else
			bad="allocation $n failed ($out): ports reads '$got', filtered went $f0 -> $f1"
			break
		fi
	done
	echo "" >$p
	rmmod tcpstates || bad=${bad:-"rmmod failed"}
	[ "$failed" -gt 0 ] || bad=${bad:-"no write failed: $writes writes, none refused with ENOMEM"}
	tap $((${#bad} != 0)) "a ports= write whose allocation fails changes nothing: $writes writes, $failed refused with ENOMEM, each left ports and the probes' filter as they were${bad:+: $bad}"
}
