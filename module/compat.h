/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpstates: everything that differs between the kernels the module builds
 * on, in one place, so the other files read as if written for the newest.
 *
 * Features are probed, not version numbers: a macro the kernel defines is
 * tested here with #ifdef; anything else (a function, a field's type) is
 * grepped from the target's headers by ./Kbuild, which passes TS_HAVE_*.
 *
 *   kernel   what differs                       helper
 *   < 6.2    no timer_shutdown_sync() (6.1.y    ts_timer_shutdown_sync()
 *            has it backported)
 *   < 5.12   net->net_cookie made on first use  ts_compat_init(),
 *            by an unexported generator           ts_net_cookie()
 *   >= 6.10  the timewait timer's first arming  TS_TW_ENTRY_SYMBOL
 *            is a call within one file, which a
 *            compiler may route to a clone
 *   6.1.y,   inet_csk_reqsk_queue_hash_add()    TS_REQSK_HASH_CAN_FAIL
 *   >= 6.10  returns bool: false for a
 *            duplicate SYN's request
 *   all      syn_recv_sock()'s own_req argument TS_SYN_RECV_OWN_REQ_ARG
 *   >= 7.2   TCP_ECN_OK gone: an ECN mode,      ts_tcp_ecn_ok(),
 *            RFC 3168 or AccECN; a request's      ts_req_ecn_ok()
 *            AccECN in tcp_request_sock
 *   >= 6.5   fprobe with ret_ip and entry_data  TS_FPROBE,
 *            (with CONFIG_FPROBE: Debian from     struct ts_fprobe_regs,
 *            6.12); its registers an ftrace_regs  ts_fprobe_pt_regs(),
 *            from 6.14, and no pool of return     ts_fprobe_set_maxactive()
 *            instances
 *   < 5.11   no get_kretprobe(): ri->rp         ts_get_kretprobe()
 *   >= 6.10  tcp_send_active_reset() says why   TS_RST_REASON_ARG
 *            (enum sk_rst_reason), after its
 *            gfp_t, or in its place once the
 *            gfp_t went
 *   >= 6.8   the ephemeral port range a         ts_port_range()
 *            lockless u32; before, an int[2]
 *            under a seqlock, and the socket's
 *            own range (6.3, 6.1.y) a pair
 *   >= 6.3   a VMA's vm_flags written through   ts_vm_flags_mod()
 *            vm_flags_mod() only
 *
 * Needing no helper, since every kernel from 5.10 has them: data_race()
 * and CAP_PERFMON (5.8), u64_stats_t (5.5).
 */
#ifndef TCPSTATES_COMPAT_H
#define TCPSTATES_COMPAT_H

#include <linux/mm.h>
#include <linux/timer.h>
#include <linux/tcp.h>
#include <net/tcp.h>
#include <net/net_namespace.h>
#include <net/ip.h>

#include "uapi/tcpstates.h"

#ifdef TS_HAVE_LAZY_NET_COOKIE
/*
 * Before 5.12 a namespace's cookie is made on first use, by a per-CPU
 * generator that an int3 probe could re-enter (a duplicate cookie) and
 * that modules cannot call. compat.c gives each namespace one where that
 * is safe, in a pernet init that runs before any socket of the namespace
 * exists; probes then only read it.
 */
int ts_compat_init(void);
void ts_compat_exit(void);

static inline u64 ts_net_cookie(const struct net *net)
{
	return atomic64_read(&net->net_cookie);
}
#else
static inline int ts_compat_init(void)
{
	return 0;
}

static inline void ts_compat_exit(void)
{
}

/* The network namespace's cookie (SO_NETNS_COOKIE), unique for the boot. */
static inline u64 ts_net_cookie(const struct net *net)
{
	return net->net_cookie;
}
#endif

/* Set @set and clear @clear in a VMA being mapped (its mmap lock held). */
static inline void ts_vm_flags_mod(struct vm_area_struct *vma,
				   vm_flags_t set, vm_flags_t clear)
{
#ifdef TS_HAVE_VM_FLAGS_MOD
	vm_flags_mod(vma, set, clear);
#else
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
#endif
}

#ifdef TS_HAVE_TW_HASHDANCE_SCHEDULE
/*
 * Since 6.10 tcp_time_wait() hands the timewait socket to
 * inet_twsk_hashdance_schedule(tw, sk, hashinfo, timeo), which arms its timer
 * with __inet_twsk_schedule(tw, timeo, false) in the same file; only re-arms
 * come from elsewhere. A compiler may then call a clone (gcc 16 builds
 * __inet_twsk_schedule.part.0 for Debian's 7.2 and 7.3-rc kernels), which a
 * probe on the symbol never sees: TIME_WAIT entry went unrecorded. The entry
 * is taken at inet_twsk_hashdance_schedule() instead, an exported function
 * called from another file, and the time_wait hook keeps only re-arms.
 */
#define TS_TW_ENTRY_SYMBOL "inet_twsk_hashdance_schedule"
#define TS_TW_ENTRY_TIMEO_ARG 3
#endif

#ifdef TS_HAVE_REQSK_HASH_BOOL
/*
 * inet_csk_reqsk_queue_hash_add() returns false when a duplicate SYN's
 * request, processed on another CPU at the same time, was hashed first
 * (upstream since 6.10, and backported to Debian's 6.1.y): the request is
 * freed without a SYN-ACK. Before, it cannot fail, and returns nothing.
 */
#define TS_REQSK_HASH_CAN_FAIL
#endif

#ifdef TS_HAVE_RST_REASON
/*
 * tcp_send_active_reset()'s enum sk_rst_reason: (sk, priority, reason)
 * from 6.10, (sk, reason) once the gfp_t went (./Kbuild tells which).
 */
#include <net/rstreason.h>
#ifdef TS_HAVE_RST_REASON_NO_GFP
#define TS_RST_REASON_ARG 1
#else
#define TS_RST_REASON_ARG 2
#endif
#endif

/*
 * The index of `bool *own_req` among the arguments of
 * icsk_af_ops->syn_recv_sock() (tcp_v4_syn_recv_sock(), tcp_v6_...):
 * (sk, skb, req, dst, req_unhash, own_req, ...) on every supported kernel
 * (./Kbuild refuses a build whose prototype does not match).
 */
#define TS_SYN_RECV_OWN_REQ_ARG 5

#if IS_ENABLED(CONFIG_FPROBE) && \
	(defined(TS_HAVE_FPROBE_PT_REGS) || defined(TS_HAVE_FPROBE_FTRACE_REGS))
/*
 * An fprobe's hit is lost only to recursion within one context (task,
 * softirq, hardirq, NMI: ftrace's recursion bits), where a kprobe's is lost
 * whenever any kprobe's handler runs on that CPU, which a softirq that
 * starts inside one does (probes.c, "A probe hit while another..."). The
 * handlers read their arguments from a pt_regs: before 6.14 fprobe gives
 * one; from 6.14 an ftrace_regs, which ftrace_partial_regs() makes one of
 * (on x86 the pt_regs inside it; elsewhere a copy into the caller's
 * buffer).
 */
#include <linux/fprobe.h>
#define TS_FPROBE
#ifdef TS_HAVE_FPROBE_FTRACE_REGS
#define ts_fprobe_regs ftrace_regs

static inline struct pt_regs *ts_fprobe_pt_regs(struct ts_fprobe_regs *fregs,
						struct pt_regs *buf)
{
	return ftrace_partial_regs(fregs, buf);
}
#else
#define ts_fprobe_regs pt_regs

static inline struct pt_regs *ts_fprobe_pt_regs(struct ts_fprobe_regs *regs,
						struct pt_regs *buf)
{
	return regs;
}
#endif

/*
 * On rethook (until 6.13) a return's entry data comes from a pool, like a
 * kretprobe's instances; 0 sizes it as kretprobes do. On the function-graph
 * tracer it lives on the task's shadow stack: nothing to size.
 */
static inline void ts_fprobe_set_maxactive(struct fprobe *fp, int maxactive)
{
#ifdef TS_HAVE_FPROBE_MAXACTIVE
	fp->nr_maxactive = maxactive;
#endif
}
#endif

#include <linux/kprobes.h>

static inline struct kretprobe *
ts_get_kretprobe(struct kretprobe_instance *ri)
{
#ifdef TS_HAVE_GET_KRETPROBE
	return get_kretprobe(ri);
#else
	return ri->rp;
#endif
}

/* Stop a timer for good, waiting for a running callback. */
static inline void ts_timer_shutdown_sync(struct timer_list *timer)
{
#ifdef TS_HAVE_TIMER_SHUTDOWN
	timer_shutdown_sync(timer);
#else
	del_timer_sync(timer);	/* the caller re-arms it no more */
#endif
}

/* Did the handshake negotiate ECN (RFC 3168, or AccECN where it exists)? */
static inline bool ts_tcp_ecn_ok(const struct tcp_sock *tp)
{
#ifdef TCP_ECN_OK
	return tp->ecn_flags & TCP_ECN_OK;
#else
	return tcp_ecn_mode_any(tp);
#endif
}

/* Did the SYN ask for ECN that the SYN-ACK agreed to (or AccECN)? */
static inline bool ts_req_ecn_ok(const struct request_sock *req)
{
#ifdef TCP_ECN_MODE_ACCECN
	if (tcp_rsk(req)->accecn_ok)
		return true;
#endif
	return inet_rsk(req)->ecn_ok;
}

/*
 * The ephemeral ports @sk's connect() picks from, as a connect record's aux
 * (TCPSTATES_PORTS_*), or 0. Probe context: no lock taken, no wait. The
 * seqlock of <= 6.2 is read through its bare seqcount_t, which never takes
 * the lock (a seqlock_t reader on PREEMPT_RT that meets a writer would)
 * and never spins: a writer at work makes the range unknown, not late.
 */
static inline u64 ts_port_range(const struct sock *sk)
{
	int lo, hi;
#if defined(TS_HAVE_PORT_RANGE_U32)
	inet_sk_get_local_port_range(sk, &lo, &hi);
#elif defined(TS_HAVE_PORT_RANGE_SEQCOUNT)
	const struct local_ports *p = &sock_net(sk)->ipv4.ip_local_ports;
	const seqcount_t *sc = &p->lock.seqcount.seqcount;
	unsigned int seq = raw_seqcount_begin(sc);

	lo = READ_ONCE(p->range[0]);
	hi = READ_ONCE(p->range[1]);
	if (read_seqcount_retry(sc, seq))
		return 0;
#ifdef TS_HAVE_SK_PORT_RANGE_PAIR
	{
		/* inet_sk_get_local_port_range()'s rule, 6.1.y's and 6.8's */
		int sk_lo = READ_ONCE(inet_sk(sk)->local_port_range.lo);
		int sk_hi = READ_ONCE(inet_sk(sk)->local_port_range.hi);

		if (lo <= sk_lo && sk_lo <= hi)
			lo = sk_lo;
		if (lo <= sk_hi && sk_hi <= hi)
			hi = sk_hi;
	}
#endif
#else
	return 0;
#endif
	return TCPSTATES_PORTS_VALID | (u16)lo | (u64)(u16)hi << 16;
}

#endif /* TCPSTATES_COMPAT_H */
