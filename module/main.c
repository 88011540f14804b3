// SPDX-License-Identifier: GPL-2.0
/*
 * tcpstates: record every TCP state transition into a ring buffer, exported
 * as /proc/tcpstates (text snapshot) and /dev/tcpstates (binary stream).
 *
 * This file: load and unload. Init acquires in the order readers depend on
 * things: the filter and the ring (what probes write into), the probes, and
 * only then the files users open, so nobody can open one while a step that
 * may still fail is ahead. Exit is the exact reverse.
 */
#include <linux/module.h>
#include <net/tcp_states.h>

#include "internal.h"

static void ts_log_loaded(void)
{
	char params[160];
	char active[256], inactive[256];
	size_t a = 0, i = 0;
	unsigned int h;

	active[0] = '\0';
	inactive[0] = '\0';
	for (h = 0; h < TCPSTATES_NR_HOOKS; h++) {
		if (ts_hook_status(h) == TS_HOOK_ACTIVE)
			a += scnprintf(active + a, sizeof(active) - a, " %s",
				       ts_hook_name(h));
		else
			i += scnprintf(inactive + i, sizeof(inactive) - i,
				       " %s", ts_hook_name(h));
	}
	ts_params_describe(params, sizeof(params));
	pr_info("loaded: %s; hooks:%s%s%s\n", params, active,
		i ? "; inactive:" : "", inactive);
	/* What each inactive hook costs, once, so nobody has to guess. */
	for (h = 0; h < TCPSTATES_NR_HOOKS; h++) {
		enum ts_hook_status st = ts_hook_status(h);
		const char *why = st == TS_HOOK_SKIPPED ? "skipped" :
				  st == TS_HOOK_MISSING ? "not in this kernel" :
				  st == TS_HOOK_FAILED ? "refused by kprobes" :
				  "useless without";

		if (st == TS_HOOK_ACTIVE)
			continue;
		pr_notice("hook %s inactive (%s %s%s%s): %s\n", ts_hook_name(h),
			  ts_hook_symbol(h), why,
			  st == TS_HOOK_UNUSABLE ? " " : "",
			  st == TS_HOOK_UNUSABLE ? ts_hook_needs(h) : "",
			  ts_hook_cost(h));
	}
}

/* Our ABI numbers are the kernel's: fail the build if they ever diverge. */
#define TS_PIN(ours, kernels)	BUILD_BUG_ON((int)(ours) != (int)(kernels))

static void __init ts_build_checks(void)
{
	BUILD_BUG_ON(sizeof(struct tcpstates_record) != TCPSTATES_RECORD_SIZE);
	BUILD_BUG_ON(offsetof(struct tcpstates_record, netns_cookie) !=
		     TCPSTATES_RECORD_SIZE_V1);
	BUILD_BUG_ON(sizeof(struct tcpstates_info) != TCPSTATES_INFO_SIZE);
	BUILD_BUG_ON(offsetofend(struct tcpstates_info, nr_hooks) !=
		     TCPSTATES_INFO_SIZE_MIN);
	BUILD_BUG_ON(TCPSTATES_NR_HOOKS > TCPSTATES_MAX_HOOKS);
	TS_PIN(TCPSTATES_FAMILY_INET, AF_INET);
	TS_PIN(TCPSTATES_FAMILY_INET6, AF_INET6);
	TS_PIN(TCPSTATES_ESTABLISHED, TCP_ESTABLISHED);
	TS_PIN(TCPSTATES_SYN_SENT, TCP_SYN_SENT);
	TS_PIN(TCPSTATES_SYN_RECV, TCP_SYN_RECV);
	TS_PIN(TCPSTATES_FIN_WAIT1, TCP_FIN_WAIT1);
	TS_PIN(TCPSTATES_FIN_WAIT2, TCP_FIN_WAIT2);
	TS_PIN(TCPSTATES_TIME_WAIT, TCP_TIME_WAIT);
	TS_PIN(TCPSTATES_CLOSE, TCP_CLOSE);
	TS_PIN(TCPSTATES_CLOSE_WAIT, TCP_CLOSE_WAIT);
	TS_PIN(TCPSTATES_LAST_ACK, TCP_LAST_ACK);
	TS_PIN(TCPSTATES_LISTEN, TCP_LISTEN);
	TS_PIN(TCPSTATES_CLOSING, TCP_CLOSING);
	TS_PIN(TCPSTATES_NEW_SYN_RECV, TCP_NEW_SYN_RECV);
	/* 6.5+ adds TCP_BOUND_INACTIVE (13) before TCP_MAX_STATES. */
	BUILD_BUG_ON((int)TCP_MAX_STATES > (int)TCPSTATES_NR_STATES);
}

static int __init ts_init(void)
{
	u32 capacity = ts_capacity_param();
	int err;

	ts_build_checks();

	err = ts_compat_init();
	if (err)
		return err;
	err = ts_params_start();
	if (err)
		goto err_compat_exit;
	err = ts_ring_init(capacity);
	if (err) {
		pr_err("cannot allocate %u records (%lu KiB): %d\n", capacity,
		       (unsigned long)capacity *
			       (sizeof(struct tcpstates_record) + 8) / 1024,
		       err);
		goto err_stop_params;
	}
	ts_fault_init();
	err = ts_probes_register();
	if (err)
		goto err_fault_exit;
	err = ts_procfs_init();
	if (err)
		goto err_unregister_probes;
	err = ts_chardev_init();
	if (err)
		goto err_remove_proc;

	ts_log_loaded();
	return 0;

err_remove_proc:
	ts_procfs_exit();
err_unregister_probes:
	ts_probes_unregister();
err_fault_exit:
	ts_fault_exit();
	ts_ring_exit();
err_stop_params:
	ts_params_stop();
err_compat_exit:
	ts_compat_exit();
	return err;
}

static void __exit ts_exit(void)
{
	ts_chardev_exit();
	ts_procfs_exit();
	ts_probes_unregister();
	ts_fault_exit();
	pr_info("unloaded: %llu records written, %llu filtered\n",
		ts_ring_head(), ts_filtered_count());
	ts_ring_exit();
	ts_params_stop();
	ts_compat_exit();
}

module_init(ts_init);
module_exit(ts_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Record every TCP state transition: /proc/tcpstates, /dev/tcpstates");
MODULE_AUTHOR("tcpstates developers");
