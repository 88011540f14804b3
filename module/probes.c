// SPDX-License-Identifier: GPL-2.0
/*
 * tcpstates probes: where each record comes from.
 *
 * tcp_set_state() is the one required hook. The others add what it never
 * sees (see the TCPSTATES_EV_* comments in uapi/tcpstates.h):
 *
 *   hook          symbol                          record
 *   set_state     tcp_set_state                   state (old -> new)
 *   listen        inet_csk_listen_start (ret)     CLOSE -> LISTEN
 *   connect       tcp_connect (ret)               SYN leaves, client ISN
 *   request       inet_csk_reqsk_queue_hash_add   request socket hashed, both
 *                 (ret where it can fail)           ISNs
 *   child_v4/v6   tcp_v{4,6}_syn_recv_sock (ret)  server child in SYN_RECV,
 *                                                   the one hashed (own_req)
 *   accept        security_sock_graft             owner process
 *   request_end*  tcp_v{4,6}_reqsk_destructor     request socket freed
 *   time_wait     __inet_twsk_schedule            timewait timer armed:
 *                 (6.10 on, entry at                time_wait, tw_rearm
 *                 inet_twsk_hashdance_schedule,     (entry: filled in, about
 *                 before hashing and arming)        to be hashed and armed)
 *   tw_overflow   inet_twsk_alloc (ret)           no timewait socket
 *   tw_expire     tw_timer_handler                (marks the expiring socket
 *                                                 for tw_end, records nothing)
 *   tw_end        inet_twsk_kill                  timewait socket ended:
 *                                                 tw_expire or tw_kill
 *   reset_sent    tcp_send_active_reset           RST sent, and why (6.10 on)
 *   req_timer     reqsk_timer_handler (ret)       (mark what frees a request
 *   check_req     tcp_check_req (ret)              for request_end, record
 *                                                  nothing)
 *   connect_fail* tcp_v{4,6}_connect (ret)        connect() failed in CLOSE
 *
 * Each record is made once what it reports is certain: a request once
 * inet_csk_reqsk_queue_hash_add() hashed it (where it can fail, on a
 * duplicate SYN, at its return), a child only if it is the one hashed,
 * time_wait once the timewait socket exists, filled in (an allocation that
 * fails is tw_overflow instead), the end of a timewait socket where the
 * kernel really ends it, once (inet_twsk_kill() runs exactly once per
 * timewait socket, from its timer or from whoever kills it first).
 *
 * Every symbol is called across files or through a function pointer in
 * the kernels the module supports, so it is not inlined away (the build
 * check boots each kernel and looks; the one call within a file, the
 * timewait timer's first arming since 6.10, is taken at its caller, see
 * compat.h); a symbol a kernel lacks leaves its
 * hook inactive, the load message says what that costs, and the module
 * loads without it.
 *
 * No return probe sits on a function that can block: a return instance
 * stays in flight for as long as its function runs, across rmmod. That is
 * why accept is seen at sock_graft() (inet_accept() grafts the new socket
 * onto the acceptor's struct socket, in its task context, after
 * inet_csk_accept() returns) and not at inet_csk_accept()'s return, which
 * a server can wait in for hours. security_sock_graft() is sock_graft()'s
 * one out-of-line call; kernels built without CONFIG_SECURITY_NETWORK
 * inline it away, and there the hook is inactive. The return probes that
 * remain (listen, connect, request where it can fail, child, tw_overflow,
 * syn, req_timer, check_req, connect_fail_v4/v6) run to completion without
 * sleeping for long (a connect() allocates its SYN, as tcp_connect() does).
 *
 * Handlers run on any CPU in process, softirq or timer context with
 * preemption disabled, and from an int3 kprobe inside an NMI-like exception
 * (see ts_context()): they read the socket, claim a ring slot, fill it and
 * publish it. Everything they call must be NMI-safe: no locks, no
 * allocation, no printk, no ktime_get() (its seqcount can spin forever if
 * it interrupted a timekeeping update; lockdep says so).
 *
 * A probe hit while another kprobe's handler runs on the same CPU is not
 * run at all: the kprobe core counts it in nmissed (missed_* in
 * /proc/tcpstates_stats). A softirq that starts on the way out of an
 * interrupt taken during a task-context handler, and changes a TCP state,
 * is exactly that. Turning interrupts off inside the handler does not
 * prevent it: the interrupt is then taken at local_irq_restore(), still
 * inside the handler (the kprobe core keeps current_kprobe set until the
 * handler returns), and its softirq runs there just the same. A module
 * cannot close that window on a kprobe; it is counted, and docs/promises.md
 * has the figures. fprobe has no such window (its recursion guard is per
 * context), which is why the entry-only hooks are fprobes where the kernel
 * has them.
 *
 * What interrupts off in ts_emit() does buy: no writer starts on this CPU
 * between another's ts_ring_reserve() and ts_ring_commit(). Under fprobe a
 * softirq's handler may run inside a task's, and ts_ring_reserve() waits
 * for an older writer that still holds its slot; a nested writer one lap
 * ahead of the one it interrupted would wait for it forever (ring.c,
 * "Invariants"). ts_ring_reserve() asserts it under lockdep.
 */
#include <linux/highuid.h>
#include <linux/kprobes.h>
#include <linux/percpu.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <asm/word-at-a-time.h>
#include <net/inet_connection_sock.h>
#include <net/inet_timewait_sock.h>
#include <net/ipv6.h>
#include <net/request_sock.h>
#include <net/tcp.h>

#include "internal.h"

static DEFINE_PER_CPU(struct ts_counter, ts_filtered);
static DEFINE_PER_CPU(struct ts_counter, ts_unhashed);
static DEFINE_PER_CPU(struct ts_counter, ts_tw_unknown);

/*
 * The timewait socket whose timer is running on this CPU, for tw_end: its
 * address and its cookie, which no other socket shares while the machine
 * runs. A mark left behind (tw_end's hit missed, or tw_expire registered
 * while a handler ran) then never matches a later socket at that address.
 */
struct ts_tw_mark {
	const struct inet_timewait_sock *tw;
	u64 cookie;
};

static DEFINE_PER_CPU(struct ts_tw_mark, ts_tw_expiring);

/*
 * What is freeing the request socket about to be freed on this CPU
 * (TCPSTATES_REQ_END_*), for request_end; named, like the timewait mark,
 * by address and cookie. Two hooks set it, each for a span in which that
 * request's destructor can run only on this CPU and only for that cause:
 *   req_timer  from reqsk_timer_handler()'s entry to its return: a handler
 *              that drops its request frees it before returning (unless
 *              another CPU still holds it, which then frees it unmarked);
 *   check_req  as tcp_check_req() returns with its request unhashed: the
 *              caller's reqsk_put() frees it next, in the same softirq, and
 *              no timer runs on this CPU in between (unless a child took
 *              it into the accept queue, which frees it later, unmarked).
 * A mark left behind (a hit missed, another CPU freed it) names a request
 * that is gone, whose cookie no later request has.
 */
struct ts_req_mark {
	const struct sock *req;
	u64 cookie;
	u8 cause;
};

static DEFINE_PER_CPU(struct ts_req_mark, ts_req_ending);

/* Each in-flight tcp_connect() holds one return instance, asleep or not. */
#define TS_CONNECT_MAXACTIVE	256

/* What kind of object a probe's socket pointer really is. */
enum ts_obj {
	TS_OBJ_FULL,		/* struct tcp_sock */
	TS_OBJ_REQUEST,		/* struct tcp_request_sock */
	TS_OBJ_TIMEWAIT,	/* struct tcp_timewait_sock */
};

static u64 ts_cookie(struct sock *sk)
{
	u64 cookie = atomic64_read(&sk->sk_cookie);
	u32 halves[2];

	if (likely(cookie))
		return cookie;
	/* Any sock_common works: inet_diag does the same for req/tw. */
	sock_diag_save_cookie(sk, halves);
	return (u64)halves[1] << 32 | halves[0];
}

/*
 * The context the probed function ran in. A kprobe placed on ftrace (x86
 * Debian kernels, at a function's entry) or optimized into a jump runs its
 * handler in that context; one still on its int3 breakpoint (before the
 * optimizer gets to it, while it is being removed, or on kernels without
 * either) runs it inside the int3 exception, which the kernel enters as an
 * NMI: one NMI and one hardirq level on top of the interrupted context.
 * TCP never runs in a real NMI, so in_nmi() here means that exception.
 */
static u8 ts_context(void)
{
	unsigned long hardirq = hardirq_count();

	if (in_nmi())
		hardirq -= HARDIRQ_OFFSET;
	if (hardirq)
		return TCPSTATES_CTX_HARDIRQ;
	if (in_serving_softirq())
		return TCPSTATES_CTX_SOFTIRQ;
	return TCPSTATES_CTX_TASK;
}

/*
 * The task's name, and zeros after it, in two word stores: what
 * strscpy_pad() stores, without its loop and its memset() call. Not
 * get_task_comm(): its task_lock() sleeps on PREEMPT_RT. A rename racing
 * with this may mix two names; the last byte is always NUL.
 */
static void ts_fill_comm(char dst[TASK_COMM_LEN], const char *comm)
{
	const struct word_at_a_time k = WORD_AT_A_TIME_CONSTANTS;
	unsigned long w[TASK_COMM_LEN / sizeof(unsigned long)], z;
	unsigned int i;
	bool ended = false;

	BUILD_BUG_ON(TASK_COMM_LEN % sizeof(unsigned long));
	memcpy(w, comm, sizeof(w));
	for (i = 0; i < ARRAY_SIZE(w); i++) {
		if (ended) {
			w[i] = 0;
		} else if (has_zero(w[i], &z, &k)) {
			z = prep_zero_mask(w[i], z, &k);
			w[i] &= zero_bytemask(create_zero_mask(z));
			ended = true;
		}
	}
	/* no NUL at all: a rename tore the name; end it */
	((u8 *)w)[sizeof(w) - 1] = 0;
	memcpy(dst, w, sizeof(w));
}

/* Outside task context no process acts on the socket: name none. */
static void ts_fill_task(struct tcpstates_record *rec)
{
	rec->ctx = ts_context();
	if (rec->ctx != TCPSTATES_CTX_TASK) {
		rec->pid = 0;
		rec->tgid = 0;
		memset(rec->comm, 0, sizeof(rec->comm));
		return;
	}
	rec->pid = current->pid;
	rec->tgid = current->tgid;
	BUILD_BUG_ON(sizeof(rec->comm) != TASK_COMM_LEN);
	ts_fill_comm(rec->comm, current->comm);
}

/*
 * sk_uid as the initial user namespace sees it: from_kuid_munged() there,
 * without walking its one-extent map (identity, (uid_t)-1 unmapped).
 */
static u32 ts_uid(kuid_t uid)
{
	return uid_valid(uid) ? __kuid_val(uid) : (u32)overflowuid;
}

/*
 * The local port. tcp_set_state(CLOSE) releases a full socket's port
 * (inet_put_port() zeroes inet_num) while inet_sport, the port its packets
 * carry, stays: a reset sent after that must still show the real port.
 * Request and timewait sockets only have sock_common's skc_num.
 */
static __be16 ts_sport(const struct sock *sk, enum ts_obj obj)
{
	if (obj == TS_OBJ_FULL && inet_sk(sk)->inet_sport)
		return inet_sk(sk)->inet_sport;
	return htons(sk->sk_num);
}

/* Family, addresses, ports, netns and cookie live in struct sock_common. */
static void ts_fill_common(struct tcpstates_record *rec, struct sock *sk,
			   __be16 sport)
{
	rec->netns = sock_net(sk)->ns.inum;
	rec->netns_cookie = ts_net_cookie(sock_net(sk));
	rec->cookie = ts_cookie(sk);
	rec->sport = sport;
	rec->dport = sk->sk_dport;
	rec->flags = 0;		/* the first to set flags; the rest add theirs */
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6 && !ts_sk_is_mapped(sk)) {
		rec->family = TCPSTATES_FAMILY_INET6;
		memcpy(rec->saddr, &sk->sk_v6_rcv_saddr, 16);
		memcpy(rec->daddr, &sk->sk_v6_daddr, 16);
		return;
	}
	if (sk->sk_family == AF_INET6)
		rec->flags = TCPSTATES_F_MAPPED;
#endif
	rec->family = TCPSTATES_FAMILY_INET;
	memcpy(rec->saddr, &sk->sk_rcv_saddr, 4);
	memset(rec->saddr + 4, 0, 12);
	memcpy(rec->daddr, &sk->sk_daddr, 4);
	memset(rec->daddr + 4, 0, 12);
}

/*
 * The three groups of TCP fields, each stored whole by every record:
 * values where the record carries the group (its TCPSTATES_F_* flag),
 * zeros where it does not.
 */
static void ts_put_seq(struct tcpstates_record *rec, u32 write_seq,
		       u32 snd_una, u32 snd_nxt, u32 rcv_nxt, u32 rcv_unread)
{
	rec->write_seq = write_seq;
	rec->snd_una = snd_una;
	rec->snd_nxt = snd_nxt;
	rec->rcv_nxt = rcv_nxt;
	rec->rcv_unread = rcv_unread;
}

static void ts_put_window(struct tcpstates_record *rec, u32 snd_wnd,
			  u32 rcv_wnd)
{
	rec->snd_wnd = snd_wnd;
	rec->rcv_wnd = rcv_wnd;
}

/* TCPSTATES_F_TCPINFO's fields but the options and windows scales. */
static void ts_put_info(struct tcpstates_record *rec, u32 srtt_us,
			u32 total_retrans, u16 mss, u64 bytes_acked,
			u64 bytes_received)
{
	rec->srtt_us = srtt_us;
	rec->total_retrans = total_retrans;
	rec->mss = mss;
	rec->bytes_acked = bytes_acked;
	rec->bytes_received = bytes_received;
}

static void ts_put_options(struct tcpstates_record *rec, u8 options,
			   u8 snd_wscale, u8 rcv_wscale)
{
	rec->options = options;
	rec->snd_wscale = snd_wscale;
	rec->rcv_wscale = rcv_wscale;
}

/*
 * Sequence numbers exist once a SYN has left. A listener has none; nor has
 * a socket before tcp_connect() (CLOSE -> SYN_SENT, or back to CLOSE), nor
 * one that leaves SYN_SENT without having sent its SYN: tcp_v4_connect()
 * and tcp_v6_connect() set SYN_SENT before they pick a port and an ISN, and
 * go back to CLOSE when that fails (no free ephemeral port, no route,
 * tcp_connect() failing). segs_out counts the segments the socket
 * transmitted, the SYN first; tcp_disconnect() zeroes it.
 */
static bool ts_has_seq(const struct sock *sk, u8 old_state, u8 new_state)
{
	if (old_state == TCP_LISTEN || new_state == TCP_LISTEN)
		return false;
	if (old_state == TCP_CLOSE &&
	    (new_state == TCP_SYN_SENT || new_state == TCP_CLOSE))
		return false;
	return old_state != TCP_SYN_SENT || READ_ONCE(tcp_sk(sk)->segs_out);
}

/*
 * Which timer gave up, for a socket going to CLOSE (uapi: TCPSTATES_TIMERS_*).
 * The counts are still those of the timer that called tcp_done(): nothing
 * clears them before it sets CLOSE.
 */
static void ts_fill_timers(struct tcpstates_record *rec, const struct sock *sk)
{
	const struct inet_connection_sock *icsk = inet_csk(sk);

	rec->aux = TCPSTATES_TIMERS_VALID | READ_ONCE(icsk->icsk_retransmits) |
		   (u64)READ_ONCE(icsk->icsk_probes_out) << 8;
	if (READ_ONCE(icsk->icsk_user_timeout))
		rec->aux |= TCPSTATES_TIMERS_USER_TIMEOUT;
	if (sock_flag(sk, SOCK_KEEPOPEN))
		rec->aux |= TCPSTATES_TIMERS_KEEPALIVE;
}

/* uid: the kernel's global value; view.c maps it for each reader. */
static void ts_fill_full(struct tcpstates_record *rec, struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	u32 rcv_nxt;
	u8 options = 0;

	rec->uid = ts_uid(sk->sk_uid);
	rec->sk_err = READ_ONCE(sk->sk_err);
	if (!ts_has_seq(sk, rec->old_state, rec->new_state)) {
		ts_put_seq(rec, 0, 0, 0, 0, 0);
		ts_put_window(rec, 0, 0);
		ts_put_info(rec, 0, 0, 0, 0, 0);
		ts_put_options(rec, 0, 0, 0);
		return;
	}

	/* rcv_unread: what close() would throw away now (uapi). */
	rec->flags |= TCPSTATES_F_SEQ | TCPSTATES_F_WINDOW |
		      TCPSTATES_F_TCPINFO | TCPSTATES_F_UNREAD;
	rcv_nxt = READ_ONCE(tp->rcv_nxt);
	ts_put_seq(rec, READ_ONCE(tp->write_seq), READ_ONCE(tp->snd_una),
		   READ_ONCE(tp->snd_nxt), rcv_nxt,
		   rcv_nxt - READ_ONCE(tp->copied_seq));
	ts_put_window(rec, tp->snd_wnd, tp->rcv_wnd);
	ts_put_info(rec, tp->srtt_us >> 3, tp->total_retrans, tp->mss_cache,
		    tp->bytes_acked, tp->bytes_received);
	if (tp->rx_opt.sack_ok)
		options |= TCPSTATES_OPT_SACK;
	if (tp->rx_opt.tstamp_ok)
		options |= TCPSTATES_OPT_TIMESTAMP;
	if (tp->rx_opt.wscale_ok)
		options |= TCPSTATES_OPT_WSCALE;
	if (ts_tcp_ecn_ok(tp))
		options |= TCPSTATES_OPT_ECN;
	ts_put_options(rec, options, tp->rx_opt.snd_wscale,
		       tp->rx_opt.rcv_wscale);
	if (rec->kind == TCPSTATES_EV_STATE && rec->new_state == TCP_CLOSE)
		ts_fill_timers(rec, sk);
}

static void ts_fill_request(struct tcpstates_record *rec, struct sock *sk)
{
	const struct request_sock *req = inet_reqsk(sk);
	const struct inet_request_sock *ireq = inet_rsk(req);
	const struct tcp_request_sock *treq = tcp_rsk(req);
	u8 options = 0;

	rec->flags |= TCPSTATES_F_REQUEST | TCPSTATES_F_SEQ |
		      TCPSTATES_F_TCPINFO;
	rec->uid = req->rsk_listener ? ts_uid(req->rsk_listener->sk_uid) :
				       (u32)-1;
	rec->sk_err = 0;
	/* What the child will start from: the SYN-ACK is not acked yet. */
	ts_put_seq(rec, treq->snt_isn + 1, treq->snt_isn, treq->snt_isn + 1,
		   treq->rcv_isn + 1, 0);
	ts_put_window(rec, 0, 0);
	ts_put_info(rec, 0, req->num_retrans, req->mss, 0, 0);
	if (ireq->sack_ok)
		options |= TCPSTATES_OPT_SACK;
	if (ireq->tstamp_ok)
		options |= TCPSTATES_OPT_TIMESTAMP;
	if (ts_req_ecn_ok(req))
		options |= TCPSTATES_OPT_ECN;
	if (ireq->wscale_ok)
		ts_put_options(rec, options | TCPSTATES_OPT_WSCALE,
			       ireq->snd_wscale, ireq->rcv_wscale);
	else
		ts_put_options(rec, options, 0, 0);
}

static void ts_fill_timewait(struct tcpstates_record *rec, struct sock *sk)
{
	const struct tcp_timewait_sock *tcptw = tcp_twsk(sk);
	u32 snd_nxt = READ_ONCE(tcptw->tw_snd_nxt);

	/* Our FIN is acked in both substates: una == nxt == write_seq. */
	rec->flags |= TCPSTATES_F_TIMEWAIT | TCPSTATES_F_SEQ;
	rec->uid = (u32)-1;
	rec->sk_err = 0;
	ts_put_seq(rec, snd_nxt, snd_nxt, snd_nxt,
		   READ_ONCE(tcptw->tw_rcv_nxt), 0);
	ts_put_window(rec, 0, 0);
	ts_put_info(rec, 0, 0, 0, 0, 0);
	ts_put_options(rec, 0, 0, 0);
}

/*
 * Where a connect() that failed before the socket left CLOSE was going:
 * the socket may hold none of it (tcp_v4_connect() takes the peer only
 * once it has a route).
 */
struct ts_peer {
	__be16 port;
	u8 family;		/* AF_INET or AF_INET6 */
	union {
		__be32 v4;
		struct in6_addr v6;
	} addr;
};

/* After ts_fill_common(): the family is the socket's, the peer @p's. */
static void ts_fill_peer(struct tcpstates_record *rec, const struct ts_peer *p)
{
	rec->dport = p->port;
	memset(rec->daddr, 0, sizeof(rec->daddr));
	if (rec->family == TCPSTATES_FAMILY_INET6)
		memcpy(rec->daddr, &p->addr.v6, 16);
	else if (p->family == AF_INET6)	/* a v4-mapped peer */
		memcpy(rec->daddr, &p->addr.v6.s6_addr32[3], 4);
	else
		memcpy(rec->daddr, &p->addr.v4, 4);
}

/* A record of @sk; @peer, if not NULL, is its remote end instead of sk's. */
static void ts_emit_to(struct sock *sk, enum ts_obj obj, u16 kind,
		       u8 old_state, u8 new_state, u64 aux,
		       const struct ts_peer *peer)
{
	__be16 sport = ts_sport(sk, obj);
	__be16 dport = peer ? peer->port : sk->sk_dport;
	struct tcpstates_record *rec;
	unsigned long flags;
	u64 seq;

	/* No writer nests in ours: see "What interrupts off ..." above. */
	local_irq_save(flags);
	if (!ts_filter_pass(sk, ntohs(sport), ntohs(dport))) {
		ts_counter_inc(&ts_filtered);
		goto out;
	}
	rec = ts_ring_reserve(&seq);
	if (!rec)
		goto out;

	/*
	 * Every byte of the slot is stored once, here and in the one
	 * ts_fill_*() its object takes; nothing is zeroed first. The slot
	 * holds the record of a lap ago, another socket's and perhaps another
	 * namespace's: a field left out would show its value. The record has
	 * no padding, and a field added to it breaks the build here until it
	 * is stored. Debug kernels poison the slot first, so that a field
	 * left out shows as 0xa5 bytes, which the device suite's canon check
	 * refuses (devtest.c, canon_problem()).
	 */
	BUILD_BUG_ON(sizeof(*rec) != 176);
	if (IS_ENABLED(CONFIG_KASAN))
		memset(rec, 0xa5, sizeof(*rec));
	rec->seq = seq;
	/* NMI-safe (see ts_context()); ktime_get_ns() is not. */
	rec->ts_ns = ktime_get_mono_fast_ns();
	rec->cpu = raw_smp_processor_id();
	rec->kind = kind;
	rec->old_state = old_state;
	rec->new_state = new_state;
	rec->aux = aux;
	rec->reserved0 = 0;
	ts_fill_task(rec);
	ts_fill_common(rec, sk, sport);
	if (peer)
		ts_fill_peer(rec, peer);
	switch (obj) {
	case TS_OBJ_FULL:
		ts_fill_full(rec, sk);
		break;
	case TS_OBJ_REQUEST:
		ts_fill_request(rec, sk);
		break;
	case TS_OBJ_TIMEWAIT:
		ts_fill_timewait(rec, sk);
		break;
	}
	ts_ring_commit(seq);
out:
	local_irq_restore(flags);
}

static void ts_emit(struct sock *sk, enum ts_obj obj, u16 kind,
		    u8 old_state, u8 new_state, u64 aux)
{
	ts_emit_to(sk, obj, kind, old_state, new_state, aux, NULL);
}

static struct sock *ts_arg_sk(struct pt_regs *regs, unsigned int n)
{
	return (struct sock *)regs_get_kernel_argument(regs, n);
}

/* Families other than inet reuse protocol numbers: check all three. */
static bool ts_is_tcp(const struct sock *sk)
{
	return (sk->sk_family == AF_INET || sk->sk_family == AF_INET6) &&
	       sk->sk_protocol == IPPROTO_TCP && sk->sk_type == SOCK_STREAM;
}

/* DCCP shares the timewait code; only TCP's timewait sockets are ours. */
static bool ts_is_tcp_tw(const struct inet_timewait_sock *tw)
{
	return tw->tw_prot->twsk_prot->twsk_obj_size ==
	       sizeof(struct tcp_timewait_sock);
}

/* Plain kprobes. */

static int ts_set_state_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct sock *sk = ts_arg_sk(regs, 0);
	int state = (int)regs_get_kernel_argument(regs, 1);

	ts_emit(sk, TS_OBJ_FULL, TCPSTATES_EV_STATE, READ_ONCE(sk->sk_state),
		state, 0);
	return 0;
}

/*
 * inet_csk_reqsk_queue_hash_add(listener, req, timeout) hashes the request
 * tcp_conn_request() filled in (both ISNs written), before the SYN-ACK
 * leaves. Where it returns bool (compat.h) it fails on a duplicate SYN
 * whose other copy, on another CPU, hashed its request first:
 * tcp_conn_request() then frees this one and sends no SYN-ACK. There the
 * record is made at its return, on success only; the caller still holds
 * the request then.
 *
 * The request gets its cookie here whether it is recorded or not
 * (filtered, no ring slot): request_end tells a hashed request by it.
 */
static void ts_request_hashed(struct sock *req)
{
	ts_cookie(req);
	ts_emit(req, TS_OBJ_REQUEST, TCPSTATES_EV_REQUEST,
		TCPSTATES_STATE_NONE, TCP_NEW_SYN_RECV, 0);
}

#ifdef TS_REQSK_HASH_CAN_FAIL
static int ts_request_entry(void *data, struct pt_regs *regs)
{
	*(struct sock **)data = ts_arg_sk(regs, 1);
	return !ts_is_tcp(ts_arg_sk(regs, 0));	/* nonzero: no return handler */
}

static void ts_request_ret(void *data, struct pt_regs *regs)
{
	/* A bool comes back in the low byte; the rest is undefined. */
	if (regs_return_value(regs) & 0xff)
		ts_request_hashed(*(struct sock **)data);
}
#else
static int ts_request_pre(struct kprobe *p, struct pt_regs *regs)
{
	if (ts_is_tcp(ts_arg_sk(regs, 0)))
		ts_request_hashed(ts_arg_sk(regs, 1));
	return 0;
}
#endif

/*
 * inet_reqsk_alloc() zeroes ir_cookie and the request hook sets it (as
 * sock_diag does for a request it dumps) once the request is hashed. A
 * request freed with no cookie was never hashed: dropped before (LSM, no
 * route), a SYN cookie's, a duplicate SYN's that lost the race to hash it,
 * or a Fast Open request (its child is made from the SYN, the request is
 * never hashed). Its ISN, maybe even its addresses, are whatever the slab
 * held before, so it makes no record, only a count (requests_unhashed).
 * Two hashed requests have no cookie either and are counted with them:
 * those hashed before the module loaded that nothing gave a cookie (they
 * live a few seconds at most), and those whose request hit the kprobe core
 * missed (counted as missed_request as well).
 */
static int ts_request_end_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct sock *req = ts_arg_sk(regs, 0);
	struct ts_req_mark *mark = this_cpu_ptr(&ts_req_ending);
	u64 cookie = atomic64_read(&req->sk_cookie);
	u64 aux = inet_reqsk(req)->num_retrans;

	if (!cookie) {
		ts_counter_inc(&ts_unhashed);
		return 0;
	}
	if (mark->req == req && mark->cookie == cookie) {
		aux |= (u64)mark->cause << 8;
		mark->req = NULL;
	}
	ts_emit(req, TS_OBJ_REQUEST, TCPSTATES_EV_REQUEST_END,
		TCP_NEW_SYN_RECV, TCPSTATES_STATE_NONE, aux);
	return 0;
}

static void ts_req_mark(struct sock *req, u64 cookie, u8 cause)
{
	struct ts_req_mark *mark = this_cpu_ptr(&ts_req_ending);

	mark->req = req;
	mark->cookie = cookie;
	mark->cause = cause;
}

/*
 * reqsk_timer_handler(timer): the request's timer fired. It drops the
 * request if its listener stopped listening, or if the retries ran out
 * (after a final ACK that made no child: acked); else it resends and
 * re-arms, and the mark goes at its return.
 */
static int ts_req_timer_entry(void *data, struct pt_regs *regs)
{
	struct timer_list *t = (struct timer_list *)regs_get_kernel_argument(regs, 0);
	struct request_sock *req = container_of(t, struct request_sock, rsk_timer);
	struct sock *sk = req_to_sk(req);
	u64 cookie = atomic64_read(&sk->sk_cookie);
	u8 cause = TCPSTATES_REQ_END_TIMEOUT;

	if (!cookie)
		return 1;	/* not one request_end records: no return handler */
	if (inet_sk_state_load(req->rsk_listener) != TCP_LISTEN)
		cause = TCPSTATES_REQ_END_LISTENER;
	else if (inet_rsk(req)->acked)
		cause = TCPSTATES_REQ_END_ACK_DROPPED;
	ts_req_mark(sk, cookie, cause);
	*(struct sock **)data = sk;
	return 0;
}

/* Only the pointer is compared: the request may be freed by now. */
static void ts_req_timer_ret(void *data, struct pt_regs *regs)
{
	struct ts_req_mark *mark = this_cpu_ptr(&ts_req_ending);

	if (mark->req == *(struct sock **)data)
		mark->req = NULL;
}

struct ts_check_req {
	struct sock *req;
	u64 cookie;
	bool rst;
};

/*
 * tcp_check_req(listener, skb, req, ...): a segment for a request, from
 * tcp_v{4,6}_rcv(), which hold the request until it returns. A Fast Open
 * request (from tcp_rcv_state_process()) was never hashed: no cookie.
 */
static int ts_check_req_entry(void *data, struct pt_regs *regs)
{
	struct ts_check_req *c = data;
	struct sk_buff *skb = (struct sk_buff *)regs_get_kernel_argument(regs, 1);

	c->req = ts_arg_sk(regs, 2);
	c->cookie = atomic64_read(&c->req->sk_cookie);
	if (!c->cookie)
		return 1;
	c->rst = tcp_hdr(skb)->rst;
	return 0;
}

static void ts_check_req_ret(void *data, struct pt_regs *regs)
{
	struct ts_check_req *c = data;

	if (sk_unhashed(c->req))
		ts_req_mark(c->req, c->cookie,
			    c->rst ? TCPSTATES_REQ_END_RESET :
				     TCPSTATES_REQ_END_SEGMENT);
}

struct ts_connect_call {
	struct sock *sk;
	struct ts_peer peer;
};

/*
 * tcp_v{4,6}_connect(sk, uaddr, addr_len), for a connect() that fails
 * before the socket leaves CLOSE (no route): no state record shows it.
 * Whether the call made any record is whether the socket has a cookie at
 * its return that it lacked at entry (every record gives it one); one
 * that has a cookie already cannot tell, and makes none. The IPv4 call
 * tcp_v6_connect() makes for a v4-mapped peer is the IPv6 hook's.
 */
static int ts_connect_call_entry(void *data, struct pt_regs *regs,
				 unsigned short family)
{
	struct ts_connect_call *call = data;
	struct sock *sk = ts_arg_sk(regs, 0);
	const void *uaddr = (const void *)regs_get_kernel_argument(regs, 1);
	int len = (int)regs_get_kernel_argument(regs, 2);

	if (sk->sk_family != family || !ts_is_tcp(sk) ||
	    atomic64_read(&sk->sk_cookie))
		return 1;
	if (family == AF_INET) {
		const struct sockaddr_in *sin = uaddr;

		if (len < (int)sizeof(*sin) || sin->sin_family != AF_INET)
			return 1;
		call->peer.addr.v4 = sin->sin_addr.s_addr;
		call->peer.port = sin->sin_port;
	} else {
		const struct sockaddr_in6 *sin6 = uaddr;

		if (len < SIN6_LEN_RFC2133 || sin6->sin6_family != AF_INET6)
			return 1;
		call->peer.addr.v6 = sin6->sin6_addr;
		call->peer.port = sin6->sin6_port;
	}
	call->peer.family = family;
	call->sk = sk;
	return 0;
}

static int ts_connect4_entry(void *data, struct pt_regs *regs)
{
	return ts_connect_call_entry(data, regs, AF_INET);
}

static int ts_connect6_entry(void *data, struct pt_regs *regs)
{
	return ts_connect_call_entry(data, regs, AF_INET6);
}

static void ts_connect_call_ret(void *data, struct pt_regs *regs)
{
	struct ts_connect_call *call = data;
	/* an int: the register's upper half is not its sign */
	int err = (int)regs_return_value(regs);
	struct sock *sk = call->sk;

	if (err >= 0 || err < -MAX_ERRNO || atomic64_read(&sk->sk_cookie) ||
	    READ_ONCE(sk->sk_state) != TCP_CLOSE)
		return;
	ts_emit_to(sk, TS_OBJ_FULL, TCPSTATES_EV_CONNECT_ERROR, TCP_CLOSE,
		   TCP_CLOSE, -err, &call->peer);
}

/* A timewait socket's timer, armed for @timeo jiffies: @ev is its record. */
static void ts_tw_armed(struct sock *sk, u16 ev, int timeo)
{
	struct inet_timewait_sock *tw = inet_twsk(sk);

	if (ts_is_tcp_tw(tw))
		ts_emit(sk, TS_OBJ_TIMEWAIT, ev, TCPSTATES_STATE_NONE,
			READ_ONCE(tw->tw_substate), jiffies_to_msecs(timeo));
}

/*
 * __inet_twsk_schedule(tw, timeo, rearm): a timewait socket's timer is armed.
 * The first arming (rearm false) comes from tcp_time_wait() once the
 * timewait socket exists and is filled in: TIME_WAIT entry. The full
 * socket's previous state is not kept in it (its own records show it:
 * FIN_WAIT2 or CLOSING, then CLOSE). Later ones re-arm it for a FIN.
 */
static int ts_tw_schedule_pre(struct kprobe *p, struct pt_regs *regs)
{
	bool rearm = regs_get_kernel_argument(regs, 2) & 0xff;

#ifdef TS_TW_ENTRY_SYMBOL
	if (!rearm)
		return 0;	/* the entry is ts_tw_entry_pre()'s */
#endif
	ts_tw_armed(ts_arg_sk(regs, 0), rearm ? TCPSTATES_EV_TW_REARM :
		    TCPSTATES_EV_TIME_WAIT,
		    (int)regs_get_kernel_argument(regs, 1));
	return 0;
}

#ifdef TS_TW_ENTRY_SYMBOL
/*
 * inet_twsk_hashdance_schedule(tw, sk, hashinfo, timeo): tcp_time_wait()
 * hands over a timewait socket it has filled in; it is about to be hashed
 * and its timer armed. TIME_WAIT entry, as ts_tw_schedule_pre() records it
 * on kernels before 6.10 (see compat.h).
 */
static int ts_tw_entry_pre(struct kprobe *p, struct pt_regs *regs)
{
	ts_tw_armed(ts_arg_sk(regs, 0), TCPSTATES_EV_TIME_WAIT,
		    (int)regs_get_kernel_argument(regs, TS_TW_ENTRY_TIMEO_ARG));
	return 0;
}
#endif

/* tw_timer_handler(timer) is about to end its socket through tw_end. */
static int ts_tw_expire_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct timer_list *t = (struct timer_list *)regs_get_kernel_argument(regs, 0);
	struct inet_timewait_sock *tw = container_of(t, struct inet_timewait_sock,
						     tw_timer);
	struct ts_tw_mark *mark = this_cpu_ptr(&ts_tw_expiring);

	if (!ts_is_tcp_tw(tw) || ts_fault_drop(TCPSTATES_HOOK_TW_EXPIRE))
		return 0;
	mark->tw = tw;
	mark->cookie = ts_cookie((struct sock *)tw);
	return 0;
}

/*
 * inet_twsk_kill(tw): called exactly once per timewait socket, from its
 * timer (synchronously, on the CPU ts_tw_expire_pre() marked) or from
 * inet_twsk_deschedule_put() once that stopped the pending timer.
 *
 * An expiry is the mark naming this very socket. A kill is no mark and an
 * expiry time still ahead, which no expiry can have: a timer never fires
 * early. Neither (tw_expire's hit missed, or tw_expire registered while
 * the handler ran; or a kill that beat an overdue timer) leaves the end
 * unknown: no record, counted as tw_end_unknown, never a guess. A killer
 * that preempts the timer's thread (PREEMPT_RT) leaves the mark alone.
 */
static int ts_tw_end_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct inet_timewait_sock *tw = inet_twsk(ts_arg_sk(regs, 0));
	struct ts_tw_mark *mark = this_cpu_ptr(&ts_tw_expiring);
	u16 kind;

	if (!ts_is_tcp_tw(tw) || ts_fault_drop(TCPSTATES_HOOK_TW_END))
		return 0;
	if (mark->tw == tw && mark->cookie == ts_cookie((struct sock *)tw)) {
		mark->tw = NULL;
		kind = TCPSTATES_EV_TW_EXPIRE;
	} else if (time_before(jiffies, READ_ONCE(tw->tw_timer.expires))) {
		kind = TCPSTATES_EV_TW_KILL;
	} else {
		ts_counter_inc(&ts_tw_unknown);
		return 0;
	}
	ts_emit((struct sock *)tw, TS_OBJ_TIMEWAIT, kind,
		READ_ONCE(tw->tw_substate), TCP_CLOSE, 0);
	return 0;
}

#ifdef TS_HAVE_RST_REASON
/*
 * The kernel's reset reasons by the kernel's number, as this module's
 * (uapi) numbers: matched by name at load, so that a kernel that adds or
 * reorders reasons changes no number a reader sees. A name the uapi list
 * lacks is TCPSTATES_RST_OTHER.
 */
#define TS_RST_KERNEL_NAME(reason) \
	[SK_RST_REASON_##reason] = #reason,
static const char *const ts_rst_kernel_names[] = {
	DEFINE_RST_REASON(TS_RST_KERNEL_NAME, TS_RST_KERNEL_NAME)
};

#define TS_RST_UAPI_NAME(NAME, name, nr) \
	[nr] = #NAME,
static const char *const ts_rst_uapi_names[TCPSTATES_NR_RST_REASONS] = {
	TCPSTATES_RST_REASON_LIST(TS_RST_UAPI_NAME)
};

static u8 ts_rst_map[ARRAY_SIZE(ts_rst_kernel_names)] __read_mostly;

static void ts_rst_map_init(void)
{
	unsigned int k, u;

	for (k = 0; k < ARRAY_SIZE(ts_rst_map); k++) {
		ts_rst_map[k] = TCPSTATES_RST_OTHER;
		for (u = TCPSTATES_RST_OTHER + 1; u < ARRAY_SIZE(ts_rst_uapi_names); u++)
			if (ts_rst_kernel_names[k] && ts_rst_uapi_names[u] &&
			    !strcmp(ts_rst_kernel_names[k], ts_rst_uapi_names[u]))
				ts_rst_map[k] = u;
	}
}

static u64 ts_rst_reason(struct pt_regs *regs)
{
	unsigned long reason = regs_get_kernel_argument(regs, TS_RST_REASON_ARG);

	/* the enum's low bits: an int argument's upper half is undefined */
	reason = (u32)reason;
	if (reason < ARRAY_SIZE(ts_rst_map))
		return ts_rst_map[reason];
	return TCPSTATES_RST_OTHER;
}
#else
static void ts_rst_map_init(void)
{
}

/* The kernel passes no reason: the reader derives what it can. */
static u64 ts_rst_reason(struct pt_regs *regs)
{
	return TCPSTATES_RST_NONE;
}
#endif

static int ts_reset_sent_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct sock *sk = ts_arg_sk(regs, 0);
	u8 state = READ_ONCE(sk->sk_state);

	ts_emit(sk, TS_OBJ_FULL, TCPSTATES_EV_RESET_SENT, state, state,
		ts_rst_reason(regs));
	return 0;
}

/*
 * Return probes: two handlers share @data, the hook's data_size bytes for
 * each call in flight. The entry handler keeps what the return needs (here
 * the socket); a nonzero return from it means no return handler.
 */

static int ts_save_sk(void *data, struct pt_regs *regs)
{
	*(struct sock **)data = ts_arg_sk(regs, 0);
	return 0;
}

static struct sock *ts_saved_sk(void *data)
{
	return *(struct sock **)data;
}

/* inet_twsk_alloc(sk, death_row, state): only TCP's, and the state asked. */
struct ts_tw_alloc {
	struct sock *sk;
	int state;
};

static int ts_tw_alloc_entry(void *data, struct pt_regs *regs)
{
	struct ts_tw_alloc *d = data;

	d->sk = ts_arg_sk(regs, 0);
	d->state = (int)regs_get_kernel_argument(regs, 2);
	return !ts_is_tcp(d->sk);	/* nonzero: no return handler */
}

/* No timewait socket: tcp_time_wait() will close without TIME_WAIT. */
static void ts_tw_alloc_ret(void *data, struct pt_regs *regs)
{
	struct ts_tw_alloc *d = data;

	if (!regs_return_value(regs))
		ts_emit(d->sk, TS_OBJ_FULL, TCPSTATES_EV_TW_OVERFLOW,
			READ_ONCE(d->sk->sk_state), d->state, 0);
}

static void ts_listen_ret(void *data, struct pt_regs *regs)
{
	struct sock *sk = ts_saved_sk(data);

	if (regs_return_value(regs) == 0 && ts_is_tcp(sk))
		ts_emit(sk, TS_OBJ_FULL, TCPSTATES_EV_LISTEN, TCP_CLOSE,
			TCP_LISTEN, 0);
}

static void ts_connect_ret(void *data, struct pt_regs *regs)
{
	struct sock *sk = ts_saved_sk(data);
	u8 state = READ_ONCE(sk->sk_state);

	if (regs_return_value(regs) == 0)
		ts_emit(sk, TS_OBJ_FULL, TCPSTATES_EV_CONNECT, state, state,
			ts_port_range(sk));
}

/*
 * Listener drops (listen_drop, uapi TCPSTATES_DROP_*). Where a listener
 * turns a SYN or a final ACK away, the kernel counts it in TcpExt and
 * records nothing else. The entry of the call that may drop reads the
 * counters this CPU holds for the listener's namespace, the return reads
 * them again: what moved says what happened. The call runs in softirq
 * (or with BH disabled; on PREEMPT_RT under the CPU's BH lock), so it
 * stays on this CPU and no other drop is counted on it meanwhile. The
 * listener is lockless: another CPU may count its own drops at the same
 * time, in its own per-CPU counters, which this one does not read.
 */
enum {
	TS_MIB_OVERFLOWS,
	TS_MIB_REQQ_DROP,
	TS_MIB_COOKIES,
	TS_MIB_DROPS,
	TS_NR_MIB,
};

static const u16 ts_mib_field[TS_NR_MIB] = {
	[TS_MIB_OVERFLOWS] = LINUX_MIB_LISTENOVERFLOWS,
	[TS_MIB_REQQ_DROP] = LINUX_MIB_TCPREQQFULLDROP,
	[TS_MIB_COOKIES] = LINUX_MIB_SYNCOOKIESSENT,
	[TS_MIB_DROPS] = LINUX_MIB_LISTENDROPS,
};

/* In the order the causes are told apart: the first that moved wins. */
static const u8 ts_mib_cause[TS_NR_MIB] = {
	[TS_MIB_OVERFLOWS] = TCPSTATES_DROP_ACCEPT_QUEUE,
	[TS_MIB_REQQ_DROP] = TCPSTATES_DROP_SYN_QUEUE,
	[TS_MIB_COOKIES] = TCPSTATES_DROP_SYNCOOKIE,
	[TS_MIB_DROPS] = TCPSTATES_DROP_OTHER,
};

struct ts_listen_snap {
	struct sock *sk;	/* the listener */
	unsigned int cpu;
	unsigned long mib[TS_NR_MIB];
};

static void ts_listen_snap(struct ts_listen_snap *snap, struct sock *sk)
{
	struct linux_mib __percpu *mib = sock_net(sk)->mib.net_statistics;
	unsigned int i;

	snap->sk = sk;
	snap->cpu = raw_smp_processor_id();
	for (i = 0; i < TS_NR_MIB; i++)
		snap->mib[i] = this_cpu_read(mib->mibs[ts_mib_field[i]]);
}

/* TCPSTATES_DROP_NONE if the call dropped nothing, else the aux to record. */
static u64 ts_listen_drop(const struct ts_listen_snap *snap)
{
	struct sock *sk = snap->sk;
	struct linux_mib __percpu *mib = sock_net(sk)->mib.net_statistics;
	unsigned int i;

	/* Cannot happen in softirq; if it ever does, claim nothing. */
	if (WARN_ON_ONCE(snap->cpu != raw_smp_processor_id()))
		return TCPSTATES_DROP_NONE;
	for (i = 0; i < TS_NR_MIB; i++)
		if (this_cpu_read(mib->mibs[ts_mib_field[i]]) != snap->mib[i])
			return ts_mib_cause[i] |
			       (u64)min_t(u32, READ_ONCE(sk->sk_max_ack_backlog),
					  0xffffff) << 8 |
			       (u64)READ_ONCE(sk->sk_ack_backlog) << 32;
	return TCPSTATES_DROP_NONE;
}

/* tcp_conn_request(rsk_ops, af_ops, listener, skb): a SYN to a listener. */
static int ts_syn_entry(void *data, struct pt_regs *regs)
{
	struct sock *sk = ts_arg_sk(regs, 2);

	if (!ts_is_tcp(sk))
		return 1;	/* no return handler */
	ts_listen_snap(data, sk);
	return 0;
}

static void ts_syn_ret(void *data, struct pt_regs *regs)
{
	struct ts_listen_snap *snap = data;
	u64 aux = ts_listen_drop(snap);

	if (aux)
		ts_emit(snap->sk, TS_OBJ_FULL, TCPSTATES_EV_LISTEN_DROP,
			TCP_LISTEN, TCP_LISTEN, aux);
}

/*
 * tcp_v{4,6}_syn_recv_sock(listener, skb, req, dst, req_unhash, own_req,
 * ...) returns the child, and *own_req says whether it was hashed in the
 * request's place. Two CPUs completing one request at once (its final ACK
 * twice) both make a child; the loser's comes back with *own_req false,
 * already closed and destroyed by inet_ehash_nolisten() without
 * tcp_set_state(). Only the child that was hashed is recorded. The entry
 * keeps the pointer; the flag lives in the caller's frame until the return.
 * No child at all is a drop of the final ACK (listen_drop), on the request
 * it would have completed.
 */
struct ts_child {
	struct ts_listen_snap snap;
	struct sock *req;
	bool *own_req;
};

static int ts_child_entry(void *data, struct pt_regs *regs)
{
	struct ts_child *d = data;

	ts_listen_snap(&d->snap, ts_arg_sk(regs, 0));
	d->req = ts_arg_sk(regs, 2);
	d->own_req =
		(bool *)regs_get_kernel_argument(regs, TS_SYN_RECV_OWN_REQ_ARG);
	return 0;
}

/*
 * An IPv4-mapped child on an IPv6 listener goes through
 * tcp_v6_syn_recv_sock(), which calls tcp_v4_syn_recv_sock(): record it
 * once, in the IPv6 return.
 */
static int ts_child_v4_entry(void *data, struct pt_regs *regs)
{
	if (ts_arg_sk(regs, 0)->sk_family == AF_INET6)
		return 1;	/* no return handler */
	return ts_child_entry(data, regs);
}

/*
 * A SYN cookie's request was never hashed and has no cookie: its drop is
 * the listener's, as a dropped SYN is.
 */
static void ts_child_ret(void *data, struct pt_regs *regs)
{
	struct sock *child = (struct sock *)regs_return_value(regs);
	struct ts_child *d = data;
	u64 aux;

	if (!IS_ERR_OR_NULL(child)) {
		if (READ_ONCE(*d->own_req))
			ts_emit(child, TS_OBJ_FULL, TCPSTATES_EV_CHILD,
				TCP_NEW_SYN_RECV, READ_ONCE(child->sk_state),
				0);
		return;
	}
	aux = ts_listen_drop(&d->snap);
	if (!aux)
		return;
	if (atomic64_read(&d->req->sk_cookie))
		ts_emit(d->req, TS_OBJ_REQUEST, TCPSTATES_EV_LISTEN_DROP,
			TCP_NEW_SYN_RECV, TCP_NEW_SYN_RECV, aux);
	else
		ts_emit(d->snap.sk, TS_OBJ_FULL, TCPSTATES_EV_LISTEN_DROP,
			TCP_LISTEN, TCP_LISTEN, aux);
}

/*
 * sock_graft(newsk, newsock) from inet_accept(): the new connection now
 * belongs to the acceptor (current). Unix, vsock, alg and other families
 * graft too, and MPTCP grafts its TCP subflows: keep TCP only.
 */
static int ts_accept_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct sock *sk = ts_arg_sk(regs, 0);
	u8 state;

	if (!ts_is_tcp(sk))
		return 0;
	state = READ_ONCE(sk->sk_state);
	ts_emit(sk, TS_OBJ_FULL, TCPSTATES_EV_ACCEPT, state, state, 0);
	return 0;
}

#ifdef TS_FPROBE
/* An fprobe that runs a kprobe's pre_handler. */
struct ts_fprobe {
	struct fprobe fp;
	struct kprobe *kp;
};
#endif

struct ts_hook {
	const char *cost;	/* what the records lack without it */
	bool ret;		/* a return probe; else only rp.kp is used */
	s8 needs;		/* a hook this one is useless without, or -1 */
	enum ts_hook_status status;
	/*
	 * A return probe's handlers (see "Return probes" above), which
	 * ts_krp_entry() and ts_krp_return() run for the kretprobe rp.
	 */
	int (*on_entry)(void *data, struct pt_regs *regs);
	void (*on_return)(void *data, struct pt_regs *regs);
	struct kretprobe rp;
	struct kprobe also;	/* a second probe, if also.symbol_name */
	const char *symbols;	/* both, for the log */
#ifdef TS_FPROBE
	/*
	 * Where the kernel has fprobe, the hook is placed as fprobes instead,
	 * which run the same handlers: fp for rp.kp (with an exit handler for
	 * a return probe), fp_also for also. fprobe is then true.
	 */
	bool fprobe;
	struct ts_fprobe fp, fp_also;
#endif
};

static struct ts_hook *ts_hook_of_ri(struct kretprobe_instance *ri)
{
	return container_of(ts_get_kretprobe(ri), struct ts_hook, rp);
}

static int ts_krp_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return ts_hook_of_ri(ri)->on_entry(ri->data, regs);
}

static int ts_krp_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	ts_hook_of_ri(ri)->on_return(ri->data, regs);
	return 0;
}

#define TS_KPROBE(_sym, _pre, _cost) {					\
	.cost = _cost,							\
	.needs = -1,							\
	.rp.kp = { .symbol_name = _sym, .pre_handler = _pre },		\
}

#define TS_KRETPROBE(_sym, _entry, _ret, _size, _maxactive, _cost)	\
	TS_KRETPROBE_NEEDS(_sym, _entry, _ret, _size, _maxactive, -1, _cost)

/* A return probe useless without hook @_needs (see ts_hook.needs). */
#define TS_KRETPROBE_NEEDS(_sym, _entry, _ret, _size, _maxactive, _needs,	\
			   _cost) {					\
	.cost = _cost,							\
	.ret = true,							\
	.needs = _needs,						\
	.on_entry = _entry,						\
	.on_return = _ret,						\
	.rp = {								\
		.kp.symbol_name = _sym,					\
		.entry_handler = ts_krp_entry,				\
		.handler = ts_krp_return,				\
		.data_size = _size,					\
		.maxactive = _maxactive,				\
	},								\
}

static struct ts_hook ts_hooks[TCPSTATES_NR_HOOKS] = {
	[TCPSTATES_HOOK_SET_STATE] =
		TS_KPROBE("tcp_set_state", ts_set_state_pre,
			  "nothing can be recorded"),
	[TCPSTATES_HOOK_LISTEN] =
		TS_KRETPROBE("inet_csk_listen_start", ts_save_sk,
			     ts_listen_ret, sizeof(struct sock *), 0,
			     "LISTEN is not recorded: a listener shows only its close"),
	[TCPSTATES_HOOK_CONNECT] =
		TS_KRETPROBE("tcp_connect", ts_save_sk, ts_connect_ret,
			     sizeof(struct sock *), TS_CONNECT_MAXACTIVE,
			     "no connect record: the client's ISN (A) is unknown"),
	[TCPSTATES_HOOK_REQUEST] =
#ifdef TS_REQSK_HASH_CAN_FAIL
		TS_KRETPROBE("inet_csk_reqsk_queue_hash_add", ts_request_entry,
			     ts_request_ret, sizeof(struct sock *), 0,
			     "no request record: the server's ISN (B) shows only at the child"),
#else
		TS_KPROBE("inet_csk_reqsk_queue_hash_add", ts_request_pre,
			  "no request record: the server's ISN (B) shows only at the child"),
#endif
	[TCPSTATES_HOOK_CHILD_V4] =
		TS_KRETPROBE("tcp_v4_syn_recv_sock", ts_child_v4_entry,
			     ts_child_ret, sizeof(struct ts_child), 0,
			     "the IPv4 server child's birth in SYN_RECV is not recorded"),
	[TCPSTATES_HOOK_CHILD_V6] =
		TS_KRETPROBE("tcp_v6_syn_recv_sock", ts_child_entry,
			     ts_child_ret, sizeof(struct ts_child), 0,
			     "the IPv6 server child's birth in SYN_RECV is not recorded"),
	[TCPSTATES_HOOK_ACCEPT] =
		TS_KPROBE("security_sock_graft", ts_accept_pre,
			  "no accept record: a server socket's owner shows only when it acts"),
	/*
	 * request_end records only request sockets with a cookie, which the
	 * request hook gives them: without it every request would be counted
	 * as unhashed, a figure that would lie.
	 */
	[TCPSTATES_HOOK_REQUEST_END] = {
		.cost = "the end of IPv4 request sockets is not recorded",
		.needs = TCPSTATES_HOOK_REQUEST,
		.rp.kp = { .symbol_name = "tcp_v4_reqsk_destructor",
			   .pre_handler = ts_request_end_pre },
	},
	[TCPSTATES_HOOK_TIME_WAIT] = {
		.cost = "TIME_WAIT entry and re-arms are not recorded",
		.needs = -1,
		.rp.kp = { .symbol_name = "__inet_twsk_schedule",
			   .pre_handler = ts_tw_schedule_pre },
#ifdef TS_TW_ENTRY_SYMBOL
		.also = { .symbol_name = TS_TW_ENTRY_SYMBOL,
			  .pre_handler = ts_tw_entry_pre },
		.symbols = "__inet_twsk_schedule and " TS_TW_ENTRY_SYMBOL,
#endif
	},
	[TCPSTATES_HOOK_TW_OVERFLOW] =
		TS_KRETPROBE("inet_twsk_alloc", ts_tw_alloc_entry,
			     ts_tw_alloc_ret, sizeof(struct ts_tw_alloc), 0,
			     "a close that skips TIME_WAIT is not marked"),
	[TCPSTATES_HOOK_TW_EXPIRE] =
		TS_KPROBE("tw_timer_handler", ts_tw_expire_pre,
			  "the end of TIME_WAIT is not recorded (tw_end needs this hook)"),
	[TCPSTATES_HOOK_TW_END] = {
		.cost = "the end of TIME_WAIT is not recorded",
		.needs = TCPSTATES_HOOK_TW_EXPIRE,
		.rp.kp = { .symbol_name = "inet_twsk_kill",
			   .pre_handler = ts_tw_end_pre },
	},
	[TCPSTATES_HOOK_RESET_SENT] =
		TS_KPROBE("tcp_send_active_reset", ts_reset_sent_pre,
			  "RSTs the kernel sends are not recorded"),
	[TCPSTATES_HOOK_REQUEST_END_V6] = {
		.cost = "the end of IPv6 request sockets is not recorded",
		.needs = TCPSTATES_HOOK_REQUEST,
		.rp.kp = { .symbol_name = "tcp_v6_reqsk_destructor",
			   .pre_handler = ts_request_end_pre },
	},
	[TCPSTATES_HOOK_SYN] =
		TS_KRETPROBE("tcp_conn_request", ts_syn_entry, ts_syn_ret,
			     sizeof(struct ts_listen_snap), 0,
			     "SYNs a listener dropped or answered with a cookie are not recorded"),
	/* Both only mark requests for request_end, which needs request. */
	[TCPSTATES_HOOK_REQ_TIMER] =
		TS_KRETPROBE_NEEDS("reqsk_timer_handler", ts_req_timer_entry,
				   ts_req_timer_ret, sizeof(struct sock *), 0,
				   TCPSTATES_HOOK_REQUEST,
				   "a request's end does not say that its timer gave up"),
	[TCPSTATES_HOOK_CHECK_REQ] =
		TS_KRETPROBE_NEEDS("tcp_check_req", ts_check_req_entry,
				   ts_check_req_ret, sizeof(struct ts_check_req), 0,
				   TCPSTATES_HOOK_REQUEST,
				   "a request's end does not say that a segment (an RST) ended it"),
	[TCPSTATES_HOOK_CONNECT_FAIL_V4] =
		TS_KRETPROBE("tcp_v4_connect", ts_connect4_entry,
			     ts_connect_call_ret, sizeof(struct ts_connect_call),
			     TS_CONNECT_MAXACTIVE,
			     "an IPv4 connect() failing in CLOSE (no route) is not recorded"),
	[TCPSTATES_HOOK_CONNECT_FAIL_V6] =
		TS_KRETPROBE("tcp_v6_connect", ts_connect6_entry,
			     ts_connect_call_ret, sizeof(struct ts_connect_call),
			     TS_CONNECT_MAXACTIVE,
			     "an IPv6 connect() failing in CLOSE (no route) is not recorded"),
};

#define TS_HOOK_NAME(NAME, name, nr) \
	[nr] = #name,
static const char *const ts_hook_names[TCPSTATES_NR_HOOKS] = {
	TCPSTATES_HOOK_LIST(TS_HOOK_NAME)
};

#ifdef TS_FPROBE
static int ts_fprobe_entry(struct fprobe *fp, unsigned long entry_ip,
			   unsigned long ret_ip, struct ts_fprobe_regs *fregs,
			   void *entry_data)
{
	struct kprobe *kp = container_of(fp, struct ts_fprobe, fp)->kp;
	struct pt_regs buf;

	kp->pre_handler(kp, ts_fprobe_pt_regs(fregs, &buf));
	return 0;
}

static int ts_fprobe_register(struct ts_fprobe *f, struct kprobe *kp)
{
	f->kp = kp;
	f->fp.entry_handler = ts_fprobe_entry;
	return register_fprobe_syms(&f->fp, &kp->symbol_name, 1);
}

static struct ts_hook *ts_hook_of_fprobe(struct fprobe *fp)
{
	return container_of(container_of(fp, struct ts_fprobe, fp),
			    struct ts_hook, fp);
}

/* A return probe's handlers, run by its fprobe h->fp. */
static int ts_fprobe_ret_entry(struct fprobe *fp, unsigned long entry_ip,
			       unsigned long ret_ip,
			       struct ts_fprobe_regs *fregs, void *entry_data)
{
	struct pt_regs buf;

	return ts_hook_of_fprobe(fp)->on_entry(entry_data,
					       ts_fprobe_pt_regs(fregs, &buf));
}

static void ts_fprobe_ret_exit(struct fprobe *fp, unsigned long entry_ip,
			       unsigned long ret_ip,
			       struct ts_fprobe_regs *fregs, void *entry_data)
{
	struct pt_regs buf;

	ts_hook_of_fprobe(fp)->on_return(entry_data,
					 ts_fprobe_pt_regs(fregs, &buf));
}

static int ts_fprobe_register_ret(struct ts_hook *h)
{
	struct fprobe *fp = &h->fp.fp;

	fp->entry_handler = ts_fprobe_ret_entry;
	fp->exit_handler = ts_fprobe_ret_exit;
	fp->entry_data_size = h->rp.data_size;
	ts_fprobe_set_maxactive(fp, h->rp.maxactive);
	return register_fprobe_syms(fp, &h->rp.kp.symbol_name, 1);
}

/*
 * A hook as fprobes, both or neither; 0 if placed so. Else the error, and
 * the caller places kprobes: -ENOENT (the symbol is not one ftrace can
 * trace: notrace, or not at a function's entry) or whatever fprobe refused.
 */
static int ts_hook_register_fprobe(struct ts_hook *h)
{
	int err;

	if (h->ret)
		return ts_fprobe_register_ret(h);
	err = ts_fprobe_register(&h->fp, &h->rp.kp);
	if (err || !h->also.symbol_name)
		return err;
	err = ts_fprobe_register(&h->fp_also, &h->also);
	if (err)
		unregister_fprobe(&h->fp.fp);
	return err;
}
#endif

/* Both probes of a hook, or neither: fprobes where the kernel has them. */
static int ts_hook_register(struct ts_hook *h)
{
	int err;

#ifdef TS_FPROBE
	h->fprobe = !ts_hook_register_fprobe(h);
	if (h->fprobe)
		return 0;
#endif

	if (h->also.symbol_name) {
		err = register_kprobe(&h->also);
		if (err)
			return err;
	}
	err = h->ret ? register_kretprobe(&h->rp) : register_kprobe(&h->rp.kp);
	if (err && h->also.symbol_name)
		unregister_kprobe(&h->also);
	return err;
}

static enum ts_hook_status ts_hook_place(unsigned int i)
{
	struct ts_hook *h = &ts_hooks[i];
	int err;

	if (ts_hook_skipped(i))
		return TS_HOOK_SKIPPED;
	if (h->needs >= 0 && ts_hooks[h->needs].status != TS_HOOK_ACTIVE)
		return TS_HOOK_UNUSABLE;
	err = ts_hook_register(h);
	if (!err)
		return TS_HOOK_ACTIVE;
	/* -ENOENT: no such symbol; anything else: kprobes refused it. */
	return err == -ENOENT ? TS_HOOK_MISSING : TS_HOOK_FAILED;
}

/* Hooks are placed in table order, so one needed comes before its user. */
int ts_probes_register(void)
{
	unsigned int i;

	ts_counter_init(&ts_filtered);
	ts_counter_init(&ts_unhashed);
	ts_counter_init(&ts_tw_unknown);
	ts_rst_map_init();
	for (i = 0; i < ARRAY_SIZE(ts_hooks); i++) {
		ts_hooks[i].status = ts_hook_place(i);
		if (i == TCPSTATES_HOOK_SET_STATE &&
		    ts_hooks[i].status != TS_HOOK_ACTIVE) {
			pr_err("cannot probe %s: the one hook the module needs\n",
			       ts_hooks[i].rp.kp.symbol_name);
			return -ENOENT;
		}
	}
	return 0;
}

/*
 * Waits for running handlers; in-flight returns run no handler.
 *
 * Two batches, kprobes then kretprobes, so that unload waits for two RCU
 * grace periods rather than one per hook. Within a batch the kprobe core
 * disarms every probe, in array order, before it waits; the arrays are
 * filled in reverse table order so that a hook is disarmed before the one
 * it needs (tw_end before tw_expire), as when they went one by one.
 */
void ts_probes_unregister(void)
{
	struct kretprobe *rps[TCPSTATES_NR_HOOKS];
	struct kprobe *kps[2 * TCPSTATES_NR_HOOKS];
	unsigned int i = ARRAY_SIZE(ts_hooks);
	bool exits = false;
	int nr = 0, nk = 0;

	while (i--) {
		struct ts_hook *h = &ts_hooks[i];

#ifdef TS_FPROBE
		/* unregister_fprobe() waits for running entry handlers */
		if (h->status == TS_HOOK_ACTIVE && h->fprobe) {
			if (h->also.symbol_name)
				unregister_fprobe(&h->fp_also.fp);
			unregister_fprobe(&h->fp.fp);
			exits |= h->ret;
			h->status = TS_HOOK_SKIPPED;
			continue;
		}
#endif
		if (h->status == TS_HOOK_ACTIVE) {
			if (h->ret)
				rps[nr++] = &h->rp;
			else
				kps[nk++] = &h->rp.kp;
			if (h->also.symbol_name)
				kps[nk++] = &h->also;
		}
		h->status = TS_HOOK_SKIPPED;
	}
	/*
	 * Not for a running exit handler: one that found its fprobe still
	 * registered (rethook's trampoline, the function-graph return) runs
	 * it with preemption disabled, so a grace period waits for it. Calls
	 * still in flight find the fprobe gone and run nothing.
	 */
	if (exits)
		synchronize_rcu();
	if (nk)
		unregister_kprobes(kps, nk);
	if (nr)
		unregister_kretprobes(rps, nr);
}

u32 ts_probes_active(void)
{
	u32 mask = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ts_hooks); i++)
		if (ts_hooks[i].status == TS_HOOK_ACTIVE)
			mask |= BIT(i);
	return mask;
}

enum ts_hook_status ts_hook_status(unsigned int hook)
{
	return ts_hooks[hook].status;
}

const char *ts_hook_name(unsigned int hook)
{
	return hook < ARRAY_SIZE(ts_hook_names) ? ts_hook_names[hook] : NULL;
}

const char *ts_hook_symbol(unsigned int hook)
{
	return ts_hooks[hook].symbols ?: ts_hooks[hook].rp.kp.symbol_name;
}

const char *ts_hook_cost(unsigned int hook)
{
	return ts_hooks[hook].cost;
}

/* The hook @hook cannot work without, or NULL. */
const char *ts_hook_needs(unsigned int hook)
{
	return ts_hooks[hook].needs >= 0 ? ts_hook_name(ts_hooks[hook].needs) :
					   NULL;
}

u64 ts_probes_missed(unsigned int hook)
{
	const struct ts_hook *h;

	if (hook >= ARRAY_SIZE(ts_hooks))
		return 0;
	h = &ts_hooks[hook];
#ifdef TS_FPROBE
	if (h->fprobe)
		return READ_ONCE(h->fp.fp.nmissed) +
		       READ_ONCE(h->fp_also.fp.nmissed) + ts_fault_dropped(hook);
#endif
	/* A kretprobe also misses when it runs out of return instances. */
	return h->rp.kp.nmissed + (h->ret ? h->rp.nmissed : 0) +
	       h->also.nmissed + ts_fault_dropped(hook);
}

/*
 * How an active hook is placed, for /proc/tcpstates_stats: "fprobe", or a
 * kprobe or kretprobe on ftrace (a function's entry, x86 Debian kernels),
 * optimized into a jump, or still on its int3 breakpoint. A kprobe's can
 * change while the module runs (the optimizer works after a delay).
 */
const char *ts_hook_mechanism(unsigned int hook)
{
	struct ts_hook *h;
	struct kprobe *kp;

	if (hook >= ARRAY_SIZE(ts_hooks) ||
	    ts_hooks[hook].status != TS_HOOK_ACTIVE)
		return "none";
	h = &ts_hooks[hook];
#ifdef TS_FPROBE
	if (h->fprobe)
		return "fprobe";
#endif
	kp = &h->rp.kp;
	if (kprobe_ftrace(kp))
		return h->ret ? "kretprobe-ftrace" : "kprobe-ftrace";
	/* the optimizer sets this flag under its own mutex, whenever it runs */
	if (data_race(kprobe_optimized(kp)))
		return h->ret ? "kretprobe-jump" : "kprobe-jump";
	return h->ret ? "kretprobe-int3" : "kprobe-int3";
}

u64 ts_filtered_count(void)
{
	return ts_counter_sum(&ts_filtered);
}

u64 ts_unhashed_count(void)
{
	return ts_counter_sum(&ts_unhashed);
}

u64 ts_tw_unknown_count(void)
{
	return ts_counter_sum(&ts_tw_unknown);
}
