// SPDX-License-Identifier: GPL-2.0
/*
 * tcpstates: the few kernels that need code, not a helper, to look like
 * the newest (./Kbuild builds this file only where compat.h says so).
 *
 * Before 5.12 net->net_cookie is zero until __net_gen_cookie() makes it on
 * first use: not exported, and its per-CPU generator is not safe to re-enter
 * from a probe. Set it here instead, for every namespace, before any socket
 * in it exists: register_pernet_subsys() calls the init for each namespace
 * that exists and then for each new one, before it is visible to anyone.
 * cmpxchg keeps a cookie the kernel made first, and the top bit keeps ours
 * apart from the kernel's counter (which counts up from 1), so the kernel's
 * own users then see ours. Each load counts on from the boot time in ns: no
 * load can hand out more cookies than nanoseconds pass before the next, so
 * a cookie stays unique for the boot across reloads too.
 */
#include <linux/atomic.h>
#include <linux/ktime.h>
#include <net/net_namespace.h>

#include "internal.h"

#define TS_NET_COOKIE_BASE	BIT_ULL(63)

static atomic64_t ts_net_cookie_last;

static int __net_init ts_net_cookie_init(struct net *net)
{
	u64 cookie = TS_NET_COOKIE_BASE |
		     atomic64_inc_return(&ts_net_cookie_last);

	atomic64_cmpxchg(&net->net_cookie, 0, cookie);
	return 0;
}

static struct pernet_operations ts_net_cookie_ops = {
	.init = ts_net_cookie_init,
};

int ts_compat_init(void)
{
	atomic64_set(&ts_net_cookie_last, ktime_get_boottime_ns());
	return register_pernet_subsys(&ts_net_cookie_ops);
}

void ts_compat_exit(void)
{
	unregister_pernet_subsys(&ts_net_cookie_ops);
}
