// SPDX-License-Identifier: GPL-2.0
/*
 * Who may read the ring, and what each reader sees of it.
 *
 * /dev/tcpstates and /proc/tcpstates bind every open file to a view when it
 * is opened, with the opener's credentials (file->f_cred), as capability
 * checks on files should be done:
 *
 *   opener                                          sees
 *   initial netns, CAP_NET_ADMIN in init user ns    every namespace
 *   other netns, CAP_NET_ADMIN over that netns      that namespace only
 *   anyone else                                     -EPERM
 *
 * "Over that netns" means in the user namespace that owns it, so a
 * container's root (a user namespace of its own) may read its own
 * namespace, and a root process that only entered a new network namespace
 * (no user namespace: a uid-0 container) is held to its namespace too.
 *
 * A bound view holds a reference on its struct net for as long as the file
 * is open and compares records by the namespace's cookie. The inode number
 * a record also carries is for display only: the kernel gives it to a new
 * namespace as soon as the old one dies, while records of the dead one may
 * still sit in the ring.
 *
 * Ids are rewritten for the reader as it copies each record out (the ring
 * keeps the kernel's global values): uid into the opener's user namespace,
 * pid and tgid zeroed for an opener outside the initial PID namespace (see
 * "Processes" in uapi/tcpstates.h for why they are not translated).
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/nsproxy.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/timekeeping.h>
#include <linux/uidgid.h>
#include <net/net_namespace.h>

#include "internal.h"

int ts_view_open(struct ts_view *view, const struct file *file)
{
	struct net *net = current->nsproxy->net_ns;

	if (!file_ns_capable(file, net->user_ns, CAP_NET_ADMIN))
		return -EPERM;
	view->user_ns = file->f_cred->user_ns;
	view->host_pids = task_active_pid_ns(current) == &init_pid_ns;
	if (net_eq(net, &init_net)) {
		/* init_net's owner is the initial user namespace. */
		view->net = NULL;
		view->net_cookie = 0;
		return 0;
	}
	view->net = get_net(net);
	view->net_cookie = ts_net_cookie(net);
	return 0;
}

void ts_view_release(struct ts_view *view)
{
	if (view->net)
		put_net(view->net);
	view->net = NULL;
}

/*
 * May this reader see @rec? If so, rewrite its ids for the reader. A lost
 * marker belongs to the reader itself and always passes.
 */
bool ts_view_admit(const struct ts_view *view, struct tcpstates_record *rec)
{
	if (rec->kind == TCPSTATES_EV_LOST)
		return true;
	if (view->net_cookie && rec->netns_cookie != view->net_cookie)
		return false;
	if (rec->uid != (u32)-1 && view->user_ns != &init_user_ns)
		rec->uid = from_kuid(view->user_ns,
				     make_kuid(&init_user_ns, rec->uid));
	if (!view->host_pids) {
		rec->pid = 0;
		rec->tgid = 0;
	}
	return true;
}

/*
 * CLOCK_REALTIME - CLOCK_MONOTONIC, the clock records use, read as the one
 * offset the timekeeper keeps rather than as two clocks read apart.
 */
s64 ts_realtime_offset_ns(void)
{
	return ktime_to_ns(ktime_mono_to_real(0));
}
