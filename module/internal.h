/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpstates: declarations shared by the module's files.
 *
 *   main.c     load and unload, in order
 *   params.c   module parameters and the filter they set
 *   ring.c     the lockless multi-writer ring of records
 *   probes.c   the kprobes and what each records
 *   view.c     who may read, and what a reader sees (namespaces, ids)
 *   procfs.c   /proc/tcpstates and /proc/tcpstates_stats
 *   chardev.c  /dev/tcpstates
 *   compat.h   what differs between the kernels the module builds on
 *   counter.h  per-CPU event counters, exact on 32-bit
 */
#ifndef TCPSTATES_INTERNAL_H
#define TCPSTATES_INTERNAL_H

#include <linux/types.h>
#include <net/ipv6.h>
#include <net/sock.h>

#include "compat.h"
#include "counter.h"
#include "uapi/tcpstates.h"

/* ring.c */

enum ts_fetch {
	TS_FETCH_OK,		/* *rec holds record *next; *next advanced */
	TS_FETCH_EMPTY,		/* record *next is not written yet */
	TS_FETCH_LOST,		/* *next was overwritten; moved past *lost */
};

/* Why sleeping readers were woken, counted for /proc/tcpstates_stats. */
enum ts_wake_cause {
	TS_WAKE_NOW,		/* a batch filled up, or wakeup_ms=0 */
	TS_WAKE_TIMER,		/* wakeup_ms after the first record */
	TS_NR_WAKE_CAUSES,
};

int ts_ring_init(u32 capacity);
void ts_ring_exit(void);
struct tcpstates_record *ts_ring_reserve(u64 *seq);
void ts_ring_commit(u64 seq);
enum ts_fetch ts_ring_fetch(u64 *next, struct tcpstates_record *rec,
			    u64 *lost);
enum ts_fetch ts_ring_fetch_claimed(u64 *next, struct tcpstates_record *rec,
				    u64 *lost);
bool ts_ring_ready(u64 next);
u64 ts_ring_head(void);
u64 ts_ring_oldest(void);
u64 ts_ring_capacity(void);
int ts_ring_map(struct vm_area_struct *vma);
u64 ts_ring_wakeups(enum ts_wake_cause cause);
wait_queue_head_t *ts_ring_waitq(void);

/* probes.c */

/* Why a hook is not active. */
enum ts_hook_status {
	TS_HOOK_ACTIVE,
	TS_HOOK_MISSING,	/* the kernel has no such symbol to probe */
	TS_HOOK_SKIPPED,	/* skip_hooks= */
	TS_HOOK_FAILED,		/* register_k(ret)probe() refused it */
	TS_HOOK_UNUSABLE,	/* a hook it needs is not active */
};

int ts_probes_register(void);
void ts_probes_unregister(void);
u32 ts_probes_active(void);
enum ts_hook_status ts_hook_status(unsigned int hook);
const char *ts_hook_mechanism(unsigned int hook);
u64 ts_probes_missed(unsigned int hook);
const char *ts_hook_name(unsigned int hook);
const char *ts_hook_symbol(unsigned int hook);
const char *ts_hook_cost(unsigned int hook);
const char *ts_hook_needs(unsigned int hook);
u64 ts_filtered_count(void);
u64 ts_unhashed_count(void);
u64 ts_tw_unknown_count(void);

/* fault.c: hits the debug tier drops on purpose (a kernel with fault injection) */
#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
bool ts_fault_drop(unsigned int hook);
u64 ts_fault_dropped(unsigned int hook);
void ts_fault_init(void);
void ts_fault_exit(void);
#else
static inline bool ts_fault_drop(unsigned int hook) { return false; }
static inline u64 ts_fault_dropped(unsigned int hook) { return 0; }
static inline void ts_fault_init(void) {}
static inline void ts_fault_exit(void) {}
#endif

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

/* params.c */

int ts_params_start(void);
void ts_params_stop(void);
/* @lport: the local port the record shows, host order. */
bool ts_filter_pass(const struct sock *sk, u16 lport, u16 rport);
u32 ts_capacity_param(void);
/* How long a sleeping reader may wait for news (wakeup_ms). */
unsigned int ts_wakeup_ms_param(void);
/* Is this hook listed in skip_hooks=? */
bool ts_hook_skipped(unsigned int hook);
/* "capacity=... wakeup_ms=..." for the load message. */
void ts_params_describe(char *buf, size_t size);

/* view.c */

/*
 * What one open file may see, fixed when it is opened (see "Who sees what"
 * in uapi/tcpstates.h).
 */
struct ts_view {
	bool all;			/* every namespace's records */
	bool host_pids;			/* opener in the initial PID namespace */
	u64 net_cookie;			/* the opener's netns, by cookie only */
	/* the opener's, for uids; held by file->f_cred for the file's life */
	struct user_namespace *user_ns;
};

int ts_view_open(struct ts_view *view, const struct file *file);
bool ts_view_admit(const struct ts_view *view, struct tcpstates_record *rec);
u64 ts_view_netns_cookie(const struct ts_view *view);
bool ts_view_raw(const struct ts_view *view);
s64 ts_realtime_offset_ns(void);

/* procfs.c */

int ts_procfs_init(void);
void ts_procfs_exit(void);

/* chardev.c */

int ts_chardev_init(void);
void ts_chardev_exit(void);

#endif /* TCPSTATES_INTERNAL_H */
