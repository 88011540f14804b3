// SPDX-License-Identifier: GPL-2.0
/*
 * tcpstates parameters and the filter they set.
 *
 *   capacity    load only: records the ring holds
 *   wakeup_ms   how late a sleeping /dev/tcpstates reader may learn of a
 *               record
 *   ports, family, netns   the filter: which sockets are recorded
 *   skip_hooks  load only: hooks not to place (testing what a kernel that
 *               lacks them costs, or leaving out a hook one does not trust)
 *
 * Locking. Every parameter write runs under kernel_param_lock(THIS_MODULE):
 * sysfs takes it around .set, and ts_params_start()/ts_params_stop() take
 * it around what they publish and free. The sysfs files exist from before
 * init to after exit, so a write can race load or unload; under the lock it
 * sees either no published filter (ts_running false: it only updates
 * ts_conf) or a complete one, never one being freed. Probes read the
 * published filter under RCU; a NULL ts_active means "record everything",
 * the fast path.
 *
 * The netns filter is bound to a namespace by identity: the number written
 * is looked up once, and its cookie is what probes compare. The kernel
 * hands an inode number out again once its namespace dies; a cookie is
 * never reused, so a filter whose namespace died matches nothing rather
 * than a stranger that got the same number.
 *
 * A refused write changes nothing: each setter builds the next filter
 * beside ts_conf, publishes it, and only then makes it ts_conf, so the
 * value read back is always the filter applied. A number and its cookie
 * come from one lookup (ts_netns_cookie_of()), with no window in which the
 * namespace may die between "it exists" and "this is its cookie".
 *
 * Modes. ports, family and netns are 0600: they say which services and
 * which tenant's namespace are being watched, which is nobody else's
 * business (the records they select are root's alone, too). capacity,
 * wakeup_ms and skip_hooks say how the module runs, the same for every
 * reader, and stay world-readable.
 */
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <net/net_namespace.h>

#include "internal.h"

#define TS_CAPACITY_DEFAULT	65536
#define TS_CAPACITY_MIN		64
#define TS_CAPACITY_MAX		(16U * 1024 * 1024)
#define TS_MAX_PORTS		16
#define TS_WAKEUP_MS_DEFAULT	10
#define TS_WAKEUP_MS_MAX	1000

struct ts_filter {
	struct rcu_head rcu;
	u64 netns_cookie;		/* 0: all */
	u32 netns;			/* its inode number, as written */
	u8 family;			/* 0: any, AF_INET, AF_INET6 */
	u8 nports;			/* 0: all */
	u16 ports[TS_MAX_PORTS];	/* local or remote, host order */
};

static struct ts_filter ts_conf;
static struct ts_filter __rcu *ts_active;
static bool ts_running;
static unsigned int ts_capacity = TS_CAPACITY_DEFAULT;
static unsigned int ts_wakeup_ms = TS_WAKEUP_MS_DEFAULT;
static u32 ts_skip_mask;

static bool ts_filter_match(const struct ts_filter *f, const struct sock *sk,
			    u16 lport, u16 rport)
{
	unsigned int i;

	if (f->netns_cookie && ts_net_cookie(sock_net(sk)) != f->netns_cookie)
		return false;
	if (f->family) {
		u8 family = ts_sk_is_mapped(sk) ? AF_INET : sk->sk_family;

		if (family != f->family)
			return false;
	}
	if (!f->nports)
		return true;
	for (i = 0; i < f->nports; i++)
		if (f->ports[i] == lport || f->ports[i] == rport)
			return true;
	return false;
}

/*
 * Called by the probes with interrupts off, which is a read-side critical
 * section of RCU since the flavours were merged (4.20): kfree_rcu() of the
 * filter this returns waits for it. No rcu_read_lock(): under PREEMPT_RCU
 * it is a call and a nesting count per record.
 */
bool ts_filter_pass(const struct sock *sk, u16 lport, u16 rport)
{
	const struct ts_filter *f = rcu_dereference_sched(ts_active);

	lockdep_assert_irqs_disabled();
	return !f || ts_filter_match(f, sk, lport, rport);
}

/* The cookie of the live namespace with this inode number, or 0. */
static u64 ts_netns_cookie_of(u32 inum)
{
	struct net *net;
	u64 cookie = 0;

	rcu_read_lock();
	for_each_net_rcu(net) {
		if (net->ns.inum == inum) {
			cookie = ts_net_cookie(net);
			break;
		}
	}
	rcu_read_unlock();
	return cookie;
}

static bool ts_netns_exists(u32 inum)
{
	struct net *net;
	bool found = false;

	rcu_read_lock();
	for_each_net_rcu(net)
		found |= net->ns.inum == inum;
	rcu_read_unlock();
	return found;
}

/*
 * Bind @f's netns filter to the namespace that has its number now: once,
 * when the value is written, or at init for a value given at load (some
 * kernels' cookies exist only once init has run, see compat.h).
 */
static int ts_netns_bind(struct ts_filter *f)
{
	f->netns_cookie = f->netns ? ts_netns_cookie_of(f->netns) : 0;
	return f->netns && !f->netns_cookie ? -ENOENT : 0;
}

/*
 * Make @next the filter: published to the probes (once they may run) and
 * then ts_conf. On failure neither changes. Called with the parameter lock
 * held.
 */
static int ts_filter_publish(const struct ts_filter *next)
{
	struct ts_filter *f = NULL, *old;

	if (ts_running) {
		if (next->netns_cookie || next->family || next->nports) {
			f = kmemdup(next, sizeof(*f), GFP_KERNEL);
			if (!f)
				return -ENOMEM;
		}
		old = rcu_replace_pointer(ts_active, f, true);
		if (old)
			kfree_rcu(old, rcu);
	}
	ts_conf = *next;
	return 0;
}

int ts_params_start(void)
{
	struct ts_filter next;
	int err;

	kernel_param_lock(THIS_MODULE);
	next = ts_conf;
	err = ts_netns_bind(&next);
	if (err) {
		pr_err("netns=%u refused: that namespace is gone\n",
		       ts_conf.netns);
		goto unlock;
	}
	ts_running = true;
	err = ts_filter_publish(&next);
	if (err)
		ts_running = false;
unlock:
	kernel_param_unlock(THIS_MODULE);
	return err;
}

/* After the probes are gone: nobody reads the filter any more. */
void ts_params_stop(void)
{
	struct ts_filter *old;

	kernel_param_lock(THIS_MODULE);
	ts_running = false;
	old = rcu_replace_pointer(ts_active, NULL, true);
	kernel_param_unlock(THIS_MODULE);
	kfree(old);
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
		 "Records the ring holds, a power of two (default 65536: 11 MiB)");

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
	return ts_filter_publish(&next);
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
module_param_cb(ports, &ts_ports_ops, NULL, 0600);
MODULE_PARM_DESC(ports,
		 "Record only connections with one of these local or remote ports, e.g. 80,443 (default: all)");

static const char *ts_family_name(u8 family)
{
	return family == AF_INET ? "ipv4" : family == AF_INET6 ? "ipv6" : "any";
}

static int ts_family_set(const char *val, const struct kernel_param *kp)
{
	struct ts_filter next = ts_conf;

	if (sysfs_streq(val, "any")) {
		next.family = 0;
	} else if (sysfs_streq(val, "ipv4")) {
		next.family = AF_INET;
	} else if (sysfs_streq(val, "ipv6")) {
		next.family = AF_INET6;
	} else {
		pr_err("family=%s refused: expected any, ipv4 or ipv6\n", val);
		return -EINVAL;
	}
	return ts_filter_publish(&next);
}

static int ts_family_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", ts_family_name(ts_conf.family));
}

static const struct kernel_param_ops ts_family_ops = {
	.set = ts_family_set,
	.get = ts_family_get,
};
module_param_cb(family, &ts_family_ops, NULL, 0600);
MODULE_PARM_DESC(family,
		 "Record only ipv4 (including v4-mapped) or ipv6 connections (default: any)");

/*
 * Before init (a value given at load) the number is only checked: some
 * kernels' cookies exist once init has run, which binds it. Once running,
 * the number and its cookie come from one lookup.
 */
static int ts_netns_set(const char *val, const struct kernel_param *kp)
{
	struct ts_filter next = ts_conf;

	if (kstrtou32(val, 0, &next.netns))
		goto bad;
	if (!ts_running) {
		if (next.netns && !ts_netns_exists(next.netns))
			goto bad;
	} else if (ts_netns_bind(&next)) {
		goto bad;
	}
	return ts_filter_publish(&next);
bad:
	pr_err("netns=%s refused: expected 0 (all) or the inode number of an existing network namespace (stat -L -c %%i /proc/PID/ns/net)\n",
	       val);
	return -EINVAL;
}

static int ts_netns_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%u\n", ts_conf.netns);
}

static const struct kernel_param_ops ts_netns_ops = {
	.set = ts_netns_set,
	.get = ts_netns_get,
};
module_param_cb(netns, &ts_netns_ops, NULL, 0600);
MODULE_PARM_DESC(netns,
		 "Record only the network namespace that has this inode number when written (default 0: all)");

static int ts_skip_hooks_set(const char *val, const struct kernel_param *kp)
{
	char buf[256], *cur, *tok;
	unsigned int h;
	u32 mask = 0;

	if (strscpy(buf, val, sizeof(buf)) < 0)
		goto bad;
	cur = strim(buf);
	while ((tok = strsep(&cur, ",")) != NULL) {
		tok = strim(tok);
		if (!*tok)
			continue;
		for (h = 0; h < TCPSTATES_NR_HOOKS; h++)
			if (!strcmp(tok, ts_hook_name(h)))
				break;
		if (h == TCPSTATES_NR_HOOKS || h == TCPSTATES_HOOK_SET_STATE)
			goto bad;
		mask |= BIT(h);
	}
	ts_skip_mask = mask;
	return 0;
bad:
	pr_err("skip_hooks=%s refused: expected hook names from /proc/tcpstates_stats, comma-separated; set_state cannot be skipped\n",
	       val);
	return -EINVAL;
}

static int ts_skip_hooks_get(char *buf, const struct kernel_param *kp)
{
	unsigned int h;
	int len = 0;

	for (h = 0; h < TCPSTATES_NR_HOOKS; h++)
		if (ts_skip_mask & BIT(h))
			len += sysfs_emit_at(buf, len, "%s%s", len ? "," : "",
					     ts_hook_name(h));
	return len + sysfs_emit_at(buf, len, "\n");
}

static const struct kernel_param_ops ts_skip_hooks_ops = {
	.set = ts_skip_hooks_set,
	.get = ts_skip_hooks_get,
};
module_param_cb(skip_hooks, &ts_skip_hooks_ops, NULL, 0444);
MODULE_PARM_DESC(skip_hooks,
		 "Hooks not to place, e.g. accept,tw_kill (default: none)");

bool ts_hook_skipped(unsigned int hook)
{
	return hook < TCPSTATES_NR_HOOKS && (ts_skip_mask & BIT(hook));
}

void ts_params_describe(char *buf, size_t size)
{
	char ports[TS_MAX_PORTS * 6 + 1];

	kernel_param_lock(THIS_MODULE);
	ts_ports_format(ports, sizeof(ports));
	scnprintf(buf, size,
		  "capacity=%u records (%lu KiB), ports=%s family=%s netns=%u wakeup_ms=%u",
		  ts_capacity,
		  (unsigned long)ts_capacity *
			  (sizeof(struct tcpstates_record) + 8) / 1024,
		  ts_conf.nports ? ports : "all",
		  ts_family_name(ts_conf.family), ts_conf.netns,
		  READ_ONCE(ts_wakeup_ms));
	kernel_param_unlock(THIS_MODULE);
}
