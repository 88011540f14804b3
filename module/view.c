// SPDX-License-Identifier: GPL-2.0
/*
 * Who may read the ring, and what each reader sees of it.
 *
 * /dev/tcpstates and /proc/tcpstates bind every open file to a view when it
 * is opened, with the opener's credentials (file->f_cred), as capability
 * checks on files should be done:
 *
 *   opener                                          sees
 *   initial netns, CAP_NET_ADMIN and CAP_PERFMON    every namespace
 *     (or CAP_SYS_ADMIN) in the initial user ns
 *   CAP_NET_ADMIN over its own netns (any netns,    that namespace only
 *     the initial one included)
 *   anyone else                                     -EPERM
 *
 * "Over its own netns" means in the user namespace that owns it, so a
 * container's root (a user namespace of its own) may read its own
 * namespace, and a root process that only entered a new network namespace
 * (no user namespace: a uid-0 container) is held to its namespace too.
 *
 * Every namespace takes a tracing capability, as perf and BPF do
 * (perfmon_capable(): CAP_PERFMON, or CAP_SYS_ADMIN; CAP_PERFMON exists
 * since 5.8, before every kernel the module builds on): the records name
 * every tenant's addresses, ports, uids and tasks, which no network
 * interface gives a CAP_NET_ADMIN holder outside its own namespace
 * (inet_diag is per namespace). A container that shares the host's network
 * namespace with CAP_NET_ADMIN alone (CNI agents, VPN sidecars) therefore
 * sees the host namespace's records, not its neighbours'. The check is
 * perfmon_capable()'s, made on the opener's credentials like the others.
 *
 * A bound view keeps only its namespace's cookie, no reference on the
 * namespace: the cookie is a number, never reused while the machine runs,
 * so a view that outlives its namespace compares records against a cookie
 * no new record can carry, and pins nothing (a dead container's devices
 * and sockets go when it does). The inode number a record also carries is
 * for display only: the kernel gives it to a new namespace as soon as the
 * old one dies, while records of the dead one may still sit in the ring.
 * "Every namespace" is the view's own flag, never a cookie of 0: a view
 * without it admits only records of its (nonzero) cookie, so a namespace
 * without a cookie would see nothing rather than everything.
 *
 * Ids are rewritten for the reader as it copies each record out (the ring
 * keeps the kernel's global values): uid into the opener's user namespace;
 * pid, tgid and comm cleared for an opener outside the initial PID
 * namespace (see "Processes" in uapi/tcpstates.h for why they are not
 * translated: a host task's comm names what runs beside the container).
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/nsproxy.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uidgid.h>
#include <net/net_namespace.h>

#include "internal.h"

/* perfmon_capable(), on the opener's credentials. */
static bool ts_tracing_capable(const struct file *file)
{
	return file_ns_capable(file, &init_user_ns, CAP_PERFMON) ||
	       file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN);
}

int ts_view_open(struct ts_view *view, const struct file *file)
{
	struct net *net = current->nsproxy->net_ns;

	if (!file_ns_capable(file, net->user_ns, CAP_NET_ADMIN))
		return -EPERM;
	memset(view, 0, sizeof(*view));
	view->user_ns = file->f_cred->user_ns;
	view->host_pids = task_active_pid_ns(current) == &init_pid_ns;
	/* init_net's owner is the initial user namespace. */
	view->all = net_eq(net, &init_net) && ts_tracing_capable(file);
	/* The namespace is alive: current is in it. */
	view->net_cookie = ts_net_cookie(net);
	return 0;
}

/*
 * May this reader see @rec? If so, rewrite its ids for the reader. A lost
 * marker belongs to the reader itself and always passes.
 */
bool ts_view_admit(const struct ts_view *view, struct tcpstates_record *rec)
{
	if (rec->kind == TCPSTATES_EV_LOST)
		return true;
	if (!view->all && (!view->net_cookie ||
			   rec->netns_cookie != view->net_cookie))
		return false;
	if (rec->uid != (u32)-1 && view->user_ns != &init_user_ns)
		rec->uid = from_kuid(view->user_ns,
				     make_kuid(&init_user_ns, rec->uid));
	if (!view->host_pids) {
		rec->pid = 0;
		rec->tgid = 0;
		memset(rec->comm, 0, sizeof(rec->comm));
	}
	return true;
}

/*
 * Does this reader get every record exactly as the ring holds it, so that
 * it may map the ring (chardev.c)? Every namespace's, with no uid or pid to
 * translate.
 */
bool ts_view_raw(const struct ts_view *view)
{
	return view->all && view->host_pids && view->user_ns == &init_user_ns;
}

/* What INFO and /proc/tcpstates_stats report: 0 for every namespace. */
u64 ts_view_netns_cookie(const struct ts_view *view)
{
	return view->all ? 0 : view->net_cookie;
}

/*
 * CLOCK_REALTIME - CLOCK_MONOTONIC, the clock records use, read as the one
 * offset the timekeeper keeps rather than as two clocks read apart.
 */
s64 ts_realtime_offset_ns(void)
{
	return ktime_to_ns(ktime_mono_to_real(0));
}
