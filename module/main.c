// SPDX-License-Identifier: GPL-2.0
/*
 * tcpstates: record every TCP state transition into a ring buffer, exported
 * as /proc/tcpstates (text snapshot) and /dev/tcpstates (binary stream).
 *
 * This file: module parameters, the filter they set, init and exit.
 */
#include <linux/cred.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/nsproxy.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <net/net_namespace.h>
#include <net/tcp_states.h>

#include "internal.h"

#define TS_CAPACITY_DEFAULT	65536
#define TS_CAPACITY_MIN		64
#define TS_CAPACITY_MAX		(16U * 1024 * 1024)
#define TS_MAX_PORTS		16
#define TS_WAKEUP_MS_DEFAULT	10
#define TS_WAKEUP_MS_MAX	1000

/*
 * The filter. Probes read it under RCU; parameter writes (serialised by
 * the module's kernel_param_lock) build a new copy and publish it.
 * A NULL ts_active means "record everything", the fast path.
 */
struct ts_filter {
	struct rcu_head rcu;
	u32 netns;			/* inode number, 0: all */
	u8 family;			/* 0: any, AF_INET, AF_INET6 */
	u8 nports;			/* 0: all */
	u16 ports[TS_MAX_PORTS];	/* local or remote, host order */
};

static struct ts_filter ts_conf;
static struct ts_filter __rcu *ts_active;
/*
 * Parameters given at load are parsed before ts_init() and a later one may
 * still refuse the load, with no exit to free anything: until init runs,
 * only ts_conf is set.
 */
static bool ts_running;
static unsigned int ts_capacity = TS_CAPACITY_DEFAULT;
static unsigned int ts_wakeup_ms = TS_WAKEUP_MS_DEFAULT;

static bool ts_filter_match(const struct ts_filter *f, const struct sock *sk,
			    u16 lport)
{
	unsigned int i;
	u16 rport;

	if (f->netns && sock_net(sk)->ns.inum != f->netns)
		return false;
	if (f->family) {
		u8 family = ts_sk_is_mapped(sk) ? AF_INET : sk->sk_family;

		if (family != f->family)
			return false;
	}
	if (!f->nports)
		return true;
	rport = ntohs(sk->sk_dport);
	for (i = 0; i < f->nports; i++)
		if (f->ports[i] == lport || f->ports[i] == rport)
			return true;
	return false;
}

bool ts_filter_pass(const struct sock *sk, u16 lport)
{
	const struct ts_filter *f;
	bool pass = true;

	rcu_read_lock();
	f = rcu_dereference(ts_active);
	if (f)
		pass = ts_filter_match(f, sk, lport);
	rcu_read_unlock();
	return pass;
}

static int ts_filter_publish(void)
{
	struct ts_filter *f = NULL, *old;

	if (!ts_running)
		return 0;
	if (ts_conf.netns || ts_conf.family || ts_conf.nports) {
		f = kmemdup(&ts_conf, sizeof(*f), GFP_KERNEL);
		if (!f)
			return -ENOMEM;
	}
	old = rcu_replace_pointer(ts_active, f, true);
	if (old)
		kfree_rcu(old, rcu);
	return 0;
}

static void ts_filter_free(void)
{
	ts_running = false;
	kfree(rcu_replace_pointer(ts_active, NULL, true));
}

static int ts_capacity_set(const char *val, const struct kernel_param *kp)
{
	unsigned int n;

	if (kstrtouint(val, 0, &n) || n < TS_CAPACITY_MIN ||
	    n > TS_CAPACITY_MAX) {
		pr_err("capacity=%s refused: it must be a number of records from %u to %u\n",
		       val, TS_CAPACITY_MIN, TS_CAPACITY_MAX);
		return -EINVAL;
	}
	if (!is_power_of_2(n)) {
		pr_notice("capacity=%u rounded up to %lu, the next power of two\n",
			  n, roundup_pow_of_two(n));
		n = roundup_pow_of_two(n);
	}
	ts_capacity = n;
	return 0;
}

static const struct kernel_param_ops ts_capacity_ops = {
	.set = ts_capacity_set,
	.get = param_get_uint,
};
module_param_cb(capacity, &ts_capacity_ops, &ts_capacity, 0444);
MODULE_PARM_DESC(capacity,
		 "Records the ring holds, a power of two (default 65536: 10.5 MiB)");

u32 ts_capacity_param(void)
{
	return ts_capacity;
}

/*
 * How late a sleeping /dev/tcpstates reader may learn of a record (see
 * "Waking readers" in ring.c). 10 ms is below what a person watching can
 * notice, and under connection churn it turns one wakeup per record into
 * at most a hundred a second.
 */
static int ts_wakeup_ms_set(const char *val, const struct kernel_param *kp)
{
	unsigned int ms;

	if (kstrtouint(val, 0, &ms) || ms > TS_WAKEUP_MS_MAX) {
		pr_err("wakeup_ms=%s refused: expected 0 (wake readers at every record) to %u milliseconds\n",
		       val, TS_WAKEUP_MS_MAX);
		return -EINVAL;
	}
	WRITE_ONCE(ts_wakeup_ms, ms);
	return 0;
}

static const struct kernel_param_ops ts_wakeup_ms_ops = {
	.set = ts_wakeup_ms_set,
	.get = param_get_uint,
};
module_param_cb(wakeup_ms, &ts_wakeup_ms_ops, &ts_wakeup_ms, 0644);
MODULE_PARM_DESC(wakeup_ms,
		 "Wake sleeping /dev/tcpstates readers at most this many ms after a record (0: at every record; default 10)");

unsigned int ts_wakeup_ms_param(void)
{
	return READ_ONCE(ts_wakeup_ms);
}

static int ts_ports_set(const char *val, const struct kernel_param *kp)
{
	struct ts_filter next = ts_conf;
	char buf[128], *cur, *tok;
	u16 port;

	if (strscpy(buf, val, sizeof(buf)) < 0)
		goto bad;
	cur = strim(buf);
	next.nports = 0;
	while ((tok = strsep(&cur, ",")) != NULL) {
		tok = strim(tok);
		if (!*tok && !next.nports && !cur)
			break;		/* "" clears the list */
		if (kstrtou16(tok, 10, &port) || !port ||
		    next.nports == TS_MAX_PORTS)
			goto bad;
		next.ports[next.nports++] = port;
	}
	ts_conf = next;
	return ts_filter_publish();
bad:
	pr_err("ports=%s refused: expected up to %u comma-separated ports 1-65535, or \"\" for all\n",
	       val, TS_MAX_PORTS);
	return -EINVAL;
}

static int ts_ports_format(char *buf, size_t size)
{
	int len = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < ts_conf.nports; i++)
		len += scnprintf(buf + len, size - len, "%s%u", i ? "," : "",
				 ts_conf.ports[i]);
	return len;
}

static int ts_ports_get(char *buf, const struct kernel_param *kp)
{
	int len = ts_ports_format(buf, PAGE_SIZE);

	return len + sysfs_emit_at(buf, len, "\n");
}

static const struct kernel_param_ops ts_ports_ops = {
	.set = ts_ports_set,
	.get = ts_ports_get,
};
module_param_cb(ports, &ts_ports_ops, NULL, 0644);
MODULE_PARM_DESC(ports,
		 "Record only connections with one of these local or remote ports, e.g. 80,443 (default: all)");

static int ts_family_set(const char *val, const struct kernel_param *kp)
{
	u8 family;

	if (sysfs_streq(val, "any")) {
		family = 0;
	} else if (sysfs_streq(val, "ipv4")) {
		family = AF_INET;
	} else if (sysfs_streq(val, "ipv6")) {
		family = AF_INET6;
	} else {
		pr_err("family=%s refused: expected any, ipv4 or ipv6\n", val);
		return -EINVAL;
	}
	ts_conf.family = family;
	return ts_filter_publish();
}

static int ts_family_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", ts_conf.family == AF_INET ? "ipv4" :
				       ts_conf.family == AF_INET6 ? "ipv6" :
				       "any");
}

static const struct kernel_param_ops ts_family_ops = {
	.set = ts_family_set,
	.get = ts_family_get,
};
module_param_cb(family, &ts_family_ops, NULL, 0644);
MODULE_PARM_DESC(family,
		 "Record only ipv4 (including v4-mapped) or ipv6 connections (default: any)");

static bool ts_netns_exists(u32 inum)
{
	struct net *net;
	bool found = false;

	rcu_read_lock();
	for_each_net_rcu(net) {
		if (net->ns.inum == inum) {
			found = true;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

static int ts_netns_set(const char *val, const struct kernel_param *kp)
{
	u32 inum;

	if (kstrtou32(val, 0, &inum) || (inum && !ts_netns_exists(inum))) {
		pr_err("netns=%s refused: expected 0 (all) or the inode number of an existing network namespace (stat -L -c %%i /proc/PID/ns/net)\n",
		       val);
		return -EINVAL;
	}
	ts_conf.netns = inum;
	return ts_filter_publish();
}

static int ts_netns_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%u\n", ts_conf.netns);
}

static const struct kernel_param_ops ts_netns_ops = {
	.set = ts_netns_set,
	.get = ts_netns_get,
};
module_param_cb(netns, &ts_netns_ops, NULL, 0644);
MODULE_PARM_DESC(netns,
		 "Record only this network namespace, by inode number (default 0: all)");

u32 ts_reader_netns(void)
{
	struct net *net = current->nsproxy->net_ns;

	if (net_eq(net, &init_net) && current_user_ns() == &init_user_ns)
		return 0;
	return net->ns.inum;
}

u64 ts_realtime_offset_ns(void)
{
	return ktime_get_real_ns() - ktime_get_ns();
}

static void ts_log_loaded(void)
{
	char active[256], inactive[256], ports[TS_MAX_PORTS * 6 + 1];
	size_t a = 0, i = 0;
	u32 mask = ts_probes_active();
	unsigned int h;

	active[0] = '\0';
	inactive[0] = '\0';
	for (h = 0; h < TCPSTATES_NR_HOOKS; h++) {
		if (mask & BIT(h))
			a += scnprintf(active + a, sizeof(active) - a, " %s",
				       ts_hook_name(h));
		else
			i += scnprintf(inactive + i, sizeof(inactive) - i,
				       " %s", ts_hook_name(h));
	}
	ts_ports_format(ports, sizeof(ports));
	pr_info("loaded: capacity=%u records (%lu KiB), ports=%s family=%s netns=%u wakeup_ms=%u; hooks:%s%s%s\n",
		ts_capacity,
		(unsigned long)ts_capacity * (sizeof(struct tcpstates_record) + 8) / 1024,
		ts_conf.nports ? ports : "all",
		ts_conf.family == AF_INET ? "ipv4" :
		ts_conf.family == AF_INET6 ? "ipv6" : "any",
		ts_conf.netns, ts_wakeup_ms, active,
		i ? "; inactive (symbol missing):" : "", inactive);
}

/* Our ABI numbers are the kernel's: fail the build if they ever diverge. */
#define TS_PIN(ours, kernels)	BUILD_BUG_ON((int)(ours) != (int)(kernels))

static void __init ts_build_checks(void)
{
	BUILD_BUG_ON(sizeof(struct tcpstates_record) != TCPSTATES_RECORD_SIZE);
	BUILD_BUG_ON(sizeof(struct tcpstates_info) != TCPSTATES_INFO_SIZE);
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
	int err;

	ts_build_checks();

	ts_running = true;
	err = ts_filter_publish();
	if (err)
		goto err_free_filter;
	err = ts_ring_init(ts_capacity);
	if (err) {
		pr_err("cannot allocate %u records (%lu KiB): %d\n",
		       ts_capacity,
		       (unsigned long)ts_capacity * (sizeof(struct tcpstates_record) + 8) / 1024,
		       err);
		goto err_free_filter;
	}
	err = ts_procfs_init();
	if (err)
		goto err_free_ring;
	err = ts_chardev_init();
	if (err)
		goto err_remove_proc;
	err = ts_probes_register();
	if (err)
		goto err_deregister_chardev;

	ts_log_loaded();
	return 0;

err_deregister_chardev:
	ts_chardev_exit();
err_remove_proc:
	ts_procfs_exit();
err_free_ring:
	ts_ring_exit();
err_free_filter:
	ts_filter_free();
	return err;
}

static void __exit ts_exit(void)
{
	ts_probes_unregister();
	ts_chardev_exit();
	ts_procfs_exit();
	pr_info("unloaded: %llu records written, %llu filtered\n",
		ts_ring_head(), ts_filtered_count());
	ts_ring_exit();
	ts_filter_free();
}

module_init(ts_init);
module_exit(ts_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Record every TCP state transition: /proc/tcpstates, /dev/tcpstates");
MODULE_AUTHOR("tcpstates developers");
