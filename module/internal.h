/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpstates: declarations shared by the module's files.
 *
 *   main.c     init/exit, module parameters, the filter
 *   ring.c     the lockless multi-writer ring of records
 *   probes.c   the kprobes and what each records
 *   procfs.c   /proc/tcpstates and /proc/tcpstates_stats
 *   chardev.c  /dev/tcpstates
 */
#ifndef TCPSTATES_INTERNAL_H
#define TCPSTATES_INTERNAL_H

#include <linux/types.h>
#include <net/ipv6.h>
#include <net/sock.h>

#include "uapi/tcpstates.h"

/* ring.c */

enum ts_fetch {
	TS_FETCH_OK,		/* *rec holds record *next; *next advanced */
	TS_FETCH_EMPTY,		/* record *next is not written yet */
	TS_FETCH_LOST,		/* *next was overwritten; moved past *lost */
};

int ts_ring_init(u32 capacity);
void ts_ring_exit(void);
struct tcpstates_record *ts_ring_reserve(u64 *seq);
void ts_ring_commit(u64 seq);
enum ts_fetch ts_ring_fetch(u64 *next, struct tcpstates_record *rec,
			    u64 *lost);
bool ts_ring_ready(u64 next);
u64 ts_ring_head(void);
u64 ts_ring_oldest(void);
u64 ts_ring_capacity(void);
wait_queue_head_t *ts_ring_waitq(void);

/* probes.c */

int ts_probes_register(void);
void ts_probes_unregister(void);
u32 ts_probes_active(void);
u64 ts_probes_missed(unsigned int hook);
const char *ts_hook_name(unsigned int hook);
u64 ts_filtered_count(void);

/*
 * An AF_INET6 socket that talks IPv4: a v4-mapped peer, a listener bound to
 * a v4-mapped address, or a request made by an IPv6 listener for an IPv4
 * SYN (it keeps only the IPv4 addresses). Works on any sock_common: full,
 * request and timewait sockets.
 */
static inline bool ts_sk_is_mapped(const struct sock *sk)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family != AF_INET6)
		return false;
	if (ipv6_addr_v4mapped(&sk->sk_v6_daddr))
		return true;
	return ipv6_addr_any(&sk->sk_v6_daddr) &&
	       (sk->sk_daddr || ipv6_addr_v4mapped(&sk->sk_v6_rcv_saddr));
#else
	return false;
#endif
}

/* main.c: the filter set by the ports/family/netns parameters */

/* @lport: the local port the record shows, host order. */
bool ts_filter_pass(const struct sock *sk, u16 lport);
u32 ts_capacity_param(void);
/* The wakeup_ms parameter: how long a sleeping reader may wait for news. */
unsigned int ts_wakeup_ms_param(void);

/* procfs.c */

int ts_procfs_init(void);
void ts_procfs_exit(void);
const char *ts_state_name(unsigned int state);
const char *ts_event_name(unsigned int kind);
u64 ts_realtime_offset_ns(void);

/*
 * A reader whose network namespace is not the initial one sees only the
 * records of its own namespace. Returns 0 for "all namespaces".
 */
u32 ts_reader_netns(void);

/* chardev.c */

int ts_chardev_init(void);
void ts_chardev_exit(void);

#endif /* TCPSTATES_INTERNAL_H */
