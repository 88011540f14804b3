// SPDX-License-Identifier: GPL-2.0
/*
 * What one record tells about one side of a connection: its state spans,
 * its owner, ISNs and FINs, options and counters, and how it closed.
 *
 * Who closed first comes from what the states prove, never from a default:
 *   CLOSE_WAIT, LAST_ACK      the peer's FIN came first: passive
 *   FIN_WAIT1, FIN_WAIT2      ours came first: active, unless later
 *   CLOSING                   the two FINs crossed: simultaneous
 * A side seen in one of these states, as old or new state of any record,
 * says which, even when the start of its history was lost. A side seen
 * only in TIME_WAIT (active or simultaneous: the records do not say) is
 * unknown; an error (sk_err) or an RST we sent decides over all of them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reconstruct/internal.h"

void tt_side_set_state(struct conn *c, unsigned int state, uint64_t ts,
		       unsigned int kind)
{
	struct tt_span *s;

	if (c->nstates) {
		s = &c->states[c->nstates - 1];
		if (s->state == state)
			return;
		s->leave_ns = ts;
	}
	if (c->nstates == c->capstates) {
		uint32_t cap = c->capstates ? c->capstates * 2 : 8;
		struct tt_span *n = realloc(c->states, cap * sizeof(*n));

		if (!n) {
			c->incomplete = true;
			return;
		}
		c->states = n;
		c->capstates = cap;
	}
	c->states[c->nstates++] = (struct tt_span){
		.enter_ns = ts,
		.state = state,
		.kind = kind,
	};
}

unsigned int tt_side_state(const struct conn *c)
{
	return c->nstates ? c->states[c->nstates - 1].state :
			    TCPSTATES_STATE_NONE;
}

/*
 * pid/comm only from process context, and only a real pid (0: none, or
 * one this reader may not know); connect (or its error), accept and
 * listen name the owner better than a state change does (close() may run
 * in a forked child).
 */
void tt_side_attribute(struct conn *c, const struct tcpstates_record *r)
{
	uint8_t rank;

	if (r->ctx != TCPSTATES_CTX_TASK || (!r->pid && !r->tgid))
		return;
	switch (r->kind) {
	case TCPSTATES_EV_CONNECT:
	case TCPSTATES_EV_CONNECT_ERROR:
	case TCPSTATES_EV_ACCEPT:
	case TCPSTATES_EV_LISTEN:
		rank = 2;
		break;
	case TCPSTATES_EV_STATE:
	case TCPSTATES_EV_RESET_SENT:
		rank = 1;
		break;
	default:
		return;
	}
	if (rank <= c->owner_rank)
		return;
	c->owner_rank = rank;
	c->pid = r->pid;
	c->tgid = r->tgid ? r->tgid : r->pid;
	memcpy(c->comm, r->comm, sizeof(c->comm));
	c->comm[sizeof(c->comm) - 1] = 0;
}

/*
 * The full socket's sequence numbers as last recorded: a side that ends
 * without a FIN (an RST) still says exactly how far each way got.
 */
static void take_seq(struct conn *c, const struct tcpstates_record *r)
{
	if (!(r->flags & TCPSTATES_F_SEQ) ||
	    (r->flags & (TCPSTATES_F_TIMEWAIT | TCPSTATES_F_REQUEST)))
		return;
	c->have_seq_last = true;
	c->write_seq_last = r->write_seq;
	c->rcv_nxt_last = r->rcv_nxt;
}

void tt_side_take_info(struct conn *c, const struct tcpstates_record *r)
{
	take_seq(c, r);
	if (!(r->flags & TCPSTATES_F_TCPINFO))
		return;
	c->have_info = true;
	if (r->bytes_acked > c->bytes_acked)
		c->bytes_acked = r->bytes_acked;
	if (r->bytes_received > c->bytes_received)
		c->bytes_received = r->bytes_received;
	if (r->total_retrans > c->retrans)
		c->retrans = r->total_retrans;
	if (r->srtt_us)
		c->srtt_us = r->srtt_us;
}

/* MSS, window scale, options and windows as the handshake left them. */
static void take_opts(struct conn *c, const struct tcpstates_record *r)
{
	if (c->have_opts || !(r->flags & TCPSTATES_F_TCPINFO))
		return;
	c->have_opts = true;
	c->mss = r->mss;
	c->snd_wscale = r->snd_wscale;
	c->rcv_wscale = r->rcv_wscale;
	c->options = r->options;
	if (r->flags & TCPSTATES_F_WINDOW) {
		c->snd_wnd = r->snd_wnd;
		c->rcv_wnd = r->rcv_wnd;
	}
}

static void remote_isn(struct conn *c, const struct tcpstates_record *r)
{
	if (!c->have_isn_remote && (r->flags & TCPSTATES_F_SEQ)) {
		c->isn_remote = r->rcv_nxt - 1;
		c->have_isn_remote = true;
	}
}

/* The peer's FIN is RCV_NXT - 1 once it has been received. */
static void remote_fin(struct conn *c, const struct tcpstates_record *r)
{
	if (!c->have_fin_remote && (r->flags & TCPSTATES_F_SEQ)) {
		c->fin_remote = r->rcv_nxt - 1;
		c->have_fin_remote = true;
	}
}

/*
 * Our FIN is the first entry into FIN_WAIT1 or LAST_ACK: tcp_close_state()
 * sets the state before tcp_send_fin() queues the FIN, so WRITE_SEQ is the
 * FIN's sequence number. A close() after shutdown(SHUT_WR) sets the same
 * state again with WRITE_SEQ one past the FIN: that repeat must not move
 * it, and if it is the first record seen (the ring wrapped over the first
 * entry), the FIN is WRITE_SEQ - 1. So it is when seen first in CLOSING
 * (FIN_WAIT1 missed): the FIN was queued before.
 */
static void local_fin(struct conn *c, const struct tcpstates_record *r,
		      uint32_t queued)
{
	if (!c->have_fin_local && (r->flags & TCPSTATES_F_SEQ)) {
		c->fin_local = r->write_seq - queued;
		c->have_fin_local = true;
		/* what the peer had not acked when close() queued the FIN */
		c->unacked_fin = c->fin_local - r->snd_una;
		c->have_unacked_fin = true;
	}
}

static uint8_t closer_of(unsigned int state)
{
	switch (state) {
	case TCPSTATES_CLOSE_WAIT:
	case TCPSTATES_LAST_ACK:
		return CLOSE_PASSIVE;
	case TCPSTATES_FIN_WAIT1:
	case TCPSTATES_FIN_WAIT2:
		return CLOSE_ACTIVE;
	case TCPSTATES_CLOSING:
		return CLOSE_SIMULTANEOUS;
	}
	return 0;
}

/* The first proof wins, except that crossing FINs override "active". */
static void infer_closer(struct conn *c, const struct tcpstates_record *r)
{
	uint8_t o = closer_of(r->old_state), n = closer_of(r->new_state);

	for (int i = 0; i < 2; i++) {
		uint8_t k = i ? n : o;

		if (k && (!c->close_first || k == CLOSE_SIMULTANEOUS))
			c->close_first = k;
	}
}

static void state_open(struct conn *c, const struct tcpstates_record *r)
{
	unsigned int o = r->old_state, n = r->new_state;

	if (o == TCPSTATES_CLOSE && n == TCPSTATES_SYN_SENT) {
		c->role = ROLE_CLIENT;
		c->open = OPEN_ACTIVE;
		c->syn_ns = r->ts_ns;
	} else if (o == TCPSTATES_SYN_SENT && n == TCPSTATES_SYN_RECV) {
		c->role = ROLE_SIMULTANEOUS;
		c->open = OPEN_SIMULTANEOUS;
		remote_isn(c, r);
	} else if (n == TCPSTATES_ESTABLISHED &&
		   (o == TCPSTATES_SYN_SENT || o == TCPSTATES_SYN_RECV)) {
		c->est_ns = r->ts_ns;
		if (r->flags & TCPSTATES_F_TCPINFO) {
			c->syn_retrans = r->total_retrans;
			c->have_syn_retrans = true;
		}
		if (o == TCPSTATES_SYN_SENT)
			remote_isn(c, r);
		take_opts(c, r);
	} else if (n == TCPSTATES_LISTEN) {
		c->role = ROLE_LISTENER;
	}
}

static void state_fins(struct conn *c, const struct tcpstates_record *r)
{
	switch (r->new_state) {
	case TCPSTATES_FIN_WAIT1:
	case TCPSTATES_LAST_ACK:
		/* a repeat comes after tcp_send_fin(): WRITE_SEQ counts it */
		local_fin(c, r, r->old_state == r->new_state);
		break;
	case TCPSTATES_CLOSING:
		local_fin(c, r, 1);
		remote_fin(c, r);
		break;
	case TCPSTATES_CLOSE_WAIT:
	case TCPSTATES_TIME_WAIT:
		remote_fin(c, r);
		break;
	}
}

/*
 * Leaving a synchronised state for CLOSE with no error is our abort
 * (SO_LINGER 0, close() with unread data): the kernel goes to CLOSE first
 * and sends the RST right after, so the reset_sent record comes when the
 * connection is already over. Not after tw_overflow: that CLOSE is the
 * orphan ending without its TIME_WAIT.
 */
/*
 * Application data received and not read: rcv_unread, less the peer's FIN
 * where it had come (the states after it) and is still unread (uapi).
 */
static uint32_t data_unread(const struct tcpstates_record *r)
{
	switch (r->old_state) {
	case TCPSTATES_CLOSE_WAIT:
	case TCPSTATES_LAST_ACK:
	case TCPSTATES_CLOSING:
		return r->rcv_unread ? r->rcv_unread - 1 : 0;
	}
	return r->rcv_unread;
}

/* True when the close is our abort, whose RST's record is still to come. */
static bool state_close(struct conn *c, const struct tcpstates_record *r)
{
	unsigned int o = r->old_state;
	bool abort = false;

	c->close_in_task = r->ctx == TCPSTATES_CTX_TASK;
	if (r->aux & TCPSTATES_TIMERS_VALID)
		c->timers = (uint32_t)r->aux;
	if (r->flags & TCPSTATES_F_UNREAD) {
		c->have_unread_close = true;
		c->unread_close = data_unread(r);
	}
	/* connect() failed before the SYN: the module gives no sequence */
	if (o == TCPSTATES_SYN_SENT && !(r->flags & TCPSTATES_F_SEQ) &&
	    !c->have_isn_local)
		c->no_syn = true;
	c->sk_err = r->sk_err;
	if (!r->sk_err && !c->reset_sent && c->twend != TW_SKIPPED &&
	    (o == TCPSTATES_ESTABLISHED || o == TCPSTATES_CLOSE_WAIT ||
	     o == TCPSTATES_SYN_RECV || o == TCPSTATES_FIN_WAIT1)) {
		c->reset_sent = true;
		c->reset_ns = r->ts_ns;
		abort = true;
	}
	if (o == TCPSTATES_SYN_SENT && (r->flags & TCPSTATES_F_TCPINFO)) {
		c->syn_retrans = r->total_retrans;
		c->have_syn_retrans = true;
	}
	return abort;
}

static enum tt_side_end on_state(struct conn *c,
				 const struct tcpstates_record *r)
{
	if (r->new_state == TCPSTATES_CLOSE && c->tw_handed)
		return SIDE_GOES_ON; /* the timewait socket lives on */
	tt_side_set_state(c, r->new_state, r->ts_ns, r->kind);
	state_open(c, r);
	state_fins(c, r);
	if (r->new_state != TCPSTATES_CLOSE)
		return SIDE_GOES_ON;
	/* our abort: its RST's record says why (or a CLOSE again while waiting) */
	if (state_close(c, r) || c->await_rst)
		return SIDE_AWAITS_RST;
	return SIDE_ENDS;
}

static void on_connect(struct conn *c, const struct tcpstates_record *r)
{
	if (c->role == ROLE_UNKNOWN)
		c->role = ROLE_CLIENT;
	if (c->open == OPEN_NONE)
		c->open = OPEN_ACTIVE;
	if (!c->syn_ns)
		c->syn_ns = r->ts_ns;
	if (tt_side_state(c) == TCPSTATES_STATE_NONE)
		tt_side_set_state(c, TCPSTATES_SYN_SENT, r->ts_ns, r->kind);
	if (r->flags & TCPSTATES_F_SEQ) {
		c->isn_local = r->snd_una;
		c->have_isn_local = true;
	}
	if (!c->connect_ns)
		c->connect_ns = r->ts_ns;
	if (r->aux & TCPSTATES_PORTS_VALID)
		c->port_range = (uint32_t)r->aux;
}

/*
 * connect() failed and the socket never left CLOSE (no route): the
 * connection is this one record, and aux is the errno connect() gave.
 */
static void on_connect_error(struct conn *c, const struct tcpstates_record *r)
{
	c->role = ROLE_CLIENT;
	c->open = OPEN_ACTIVE;
	c->syn_ns = r->ts_ns;
	c->no_syn = true;
	c->sk_err = r->aux <= UINT8_MAX ? (uint8_t)r->aux : 0;
	tt_side_set_state(c, TCPSTATES_CLOSE, r->ts_ns, r->kind);
}

/* time_wait and tw_rearm: the timewait socket and its substate. */
static void on_timewait(struct conn *c, const struct tcpstates_record *r)
{
	c->tw_handed = true;
	c->tw_timeout_ms = r->aux;
	if (r->kind == TCPSTATES_EV_TW_REARM)
		c->tw_rearms++;
	if (r->new_state == TCPSTATES_TIME_WAIT)
		remote_fin(c, r);
	tt_side_set_state(c, r->new_state, r->ts_ns, r->kind);
}

enum tt_side_end tt_side_update(struct conn *c,
				const struct tcpstates_record *r)
{
	c->last_ns = r->ts_ns;
	if (r->netns_cookie)
		c->netns_cookie = r->netns_cookie;
	/* A timewait socket has no owner uid: the module reports (u32)-1. */
	if (!(r->flags & TCPSTATES_F_TIMEWAIT) && r->uid != UINT32_MAX)
		c->uid = r->uid;
	tt_side_attribute(c, r);
	tt_side_take_info(c, r);
	infer_closer(c, r);

	switch (r->kind) {
	case TCPSTATES_EV_STATE:
		return on_state(c, r);
	case TCPSTATES_EV_LISTEN:
		c->role = ROLE_LISTENER;
		tt_side_set_state(c, TCPSTATES_LISTEN, r->ts_ns, r->kind);
		break;
	case TCPSTATES_EV_CONNECT:
		on_connect(c, r);
		break;
	case TCPSTATES_EV_CONNECT_ERROR:
		on_connect_error(c, r);
		return SIDE_ENDS;
	case TCPSTATES_EV_TIME_WAIT:
	case TCPSTATES_EV_TW_REARM:
		on_timewait(c, r);
		break;
	case TCPSTATES_EV_ACCEPT:
		if (!c->accept_ns)
			c->accept_ns = r->ts_ns;
		break;
	case TCPSTATES_EV_LISTEN_DROP: /* the decoder checked the cause */
		c->listen_drops[TCPSTATES_DROP_CAUSE(r->aux)]++;
		if (c->role == ROLE_UNKNOWN) /* listening before our history */
			c->role = ROLE_LISTENER;
		if (tt_side_state(c) == TCPSTATES_STATE_NONE)
			tt_side_set_state(c, TCPSTATES_LISTEN, r->ts_ns,
					  r->kind);
		break;
	case TCPSTATES_EV_TW_OVERFLOW:
		c->twend = TW_SKIPPED; /* the full socket's CLOSE ends it */
		if (r->new_state == TCPSTATES_TIME_WAIT)
			remote_fin(c, r); /* it came with the peer's FIN */
		break;
	case TCPSTATES_EV_TW_EXPIRE:
	case TCPSTATES_EV_TW_KILL:
		c->twend = r->kind == TCPSTATES_EV_TW_EXPIRE ? TW_EXPIRED :
							       TW_KILLED;
		tt_side_set_state(c, TCPSTATES_CLOSE, r->ts_ns, r->kind);
		return SIDE_ENDS;
	case TCPSTATES_EV_RESET_SENT:
		if (!c->reset_sent)
			c->reset_ns = r->ts_ns;
		c->reset_sent = true;
		if (!c->rst_reason)
			c->rst_reason = r->aux < TCPSTATES_NR_RST_REASONS ?
						(uint8_t)r->aux :
						TCPSTATES_RST_OTHER;
		if (c->await_rst)
			return SIDE_ENDS; /* the RST that followed its CLOSE */
		break;
	}
	return SIDE_GOES_ON;
}

/* The state the side left for CLOSE, or NONE. */
unsigned int tt_side_before_close(const struct conn *c)
{
	if (c->nstates < 2 || tt_side_state(c) != TCPSTATES_CLOSE)
		return TCPSTATES_STATE_NONE;
	return c->states[c->nstates - 2].state;
}

static uint8_t error_kind(unsigned int err)
{
	switch (err) {
	case 0:
		return 0;
	case ECONNRESET:
	case EPIPE: /* an RST in CLOSE_WAIT */
		return CLOSE_RESET_RECEIVED;
	case ECONNREFUSED:
		return CLOSE_REFUSED;
	case ETIMEDOUT:
		return CLOSE_TIMEOUT;
	}
	return CLOSE_ERROR;
}

uint8_t tt_side_close_kind(const struct conn *c, bool still_open)
{
	if (c->role == ROLE_LISTENER)
		return still_open ? CLOSE_OPEN : CLOSE_LISTENER_CLOSED;
	if (c->req_end == TCPSTATES_REQ_END_LISTENER)
		return CLOSE_LISTENER_CLOSED;
	/* In TIME_WAIT both FINs are done: say who closed, not "open". */
	if (still_open && !c->tw_handed)
		return CLOSE_OPEN;
	if (c->reset_sent)
		return CLOSE_RESET_SENT;
	if (error_kind(c->sk_err))
		return error_kind(c->sk_err);
	if (c->close_first)
		return c->close_first;
	if (tt_side_before_close(c) == TCPSTATES_SYN_SENT)
		return CLOSE_ABORTED;
	return CLOSE_UNKNOWN;
}

/*
 * A reset the kernel gave no reason for (before 6.10), named where the
 * records prove the kernel's path, as the kernel from 6.10 names it:
 *   tcp_abort_on_close  close() found application data unread (the CLOSE
 *                       record, in the task's context, has some)
 *   tcp_state           tcp_disconnect() reset a synchronised socket:
 *                       close() with SO_LINGER 0, or connect(AF_UNSPEC);
 *                       in the task's context, nothing unread, no error,
 *                       from a state only tcp_disconnect() leaves that way
 *                       (close() itself goes to FIN_WAIT1 or LAST_ACK
 *                       first; ss -K sets ECONNABORTED first)
 *   tcp_keepalive_timeout
 *                       the keepalive timer gave up: its RST, then CLOSE
 *                       with ETIMEDOUT, keepalive on and probes unanswered
 *                       (no other path sends an RST and then ETIMEDOUT)
 * and otherwise none: "reset", never a guess.
 */
static uint8_t derived_rst_reason(const struct conn *c)
{
	if (c->sk_err == ETIMEDOUT &&
	    (c->timers & TCPSTATES_TIMERS_KEEPALIVE) &&
	    TCPSTATES_TIMERS_PROBES(c->timers))
		return TCPSTATES_RST_TCP_KEEPALIVE_TIMEOUT;
	if (!c->close_in_task || !c->have_unread_close)
		return TCPSTATES_RST_NONE;
	if (c->unread_close)
		return TCPSTATES_RST_TCP_ABORT_ON_CLOSE;
	if (c->sk_err)
		return TCPSTATES_RST_NONE;
	switch (tt_side_before_close(c)) {
	case TCPSTATES_ESTABLISHED:
	case TCPSTATES_CLOSE_WAIT:
	case TCPSTATES_SYN_RECV:
		return TCPSTATES_RST_TCP_STATE;
	}
	return TCPSTATES_RST_NONE;
}

/*
 * Which timer gave up (ETIMEDOUT, no RST of ours): TCP_USER_TIMEOUT decides
 * alone where it is set; otherwise retransmissions of unacked data (whose
 * count resets at every ack), else zero-window probes, which are sent only
 * while nothing is in flight.
 */
static uint8_t timeout_reason(const struct conn *c, unsigned int before)
{
	if (before == TCPSTATES_SYN_SENT)
		return REASON_SYN_TIMEOUT;
	if (before == TCPSTATES_NEW_SYN_RECV)
		return c->req_end == TCPSTATES_REQ_END_TIMEOUT ?
			       REASON_SYNACK_TIMEOUT :
		       c->req_end == TCPSTATES_REQ_END_ACK_DROPPED ?
			       REASON_ACK_DROPPED :
			       REASON_REQUEST_DROPPED;
	if (!c->timers)
		return REASON_TIMEOUT;
	if (c->timers & TCPSTATES_TIMERS_USER_TIMEOUT)
		return REASON_USER_TIMEOUT;
	if (TCPSTATES_TIMERS_RETRANSMITS(c->timers))
		return REASON_RETRANSMIT_TIMEOUT;
	if (TCPSTATES_TIMERS_PROBES(c->timers))
		return REASON_PROBE_TIMEOUT;
	return REASON_TIMEOUT;
}

/* Why it ended, from how (tt_side_close_kind()) and what the records add. */
void tt_side_set_reason(struct conn *c)
{
	static const uint8_t by_close[CLOSE_NR] = {
		[CLOSE_OPEN] = REASON_OPEN,
		[CLOSE_ACTIVE] = REASON_FIN,
		[CLOSE_PASSIVE] = REASON_FIN,
		[CLOSE_SIMULTANEOUS] = REASON_FIN,
		[CLOSE_RESET_SENT] = REASON_RESET,
		[CLOSE_RESET_RECEIVED] = REASON_RESET_RECEIVED,
		[CLOSE_REFUSED] = REASON_REFUSED,
		[CLOSE_TIMEOUT] = REASON_TIMEOUT,
		[CLOSE_ERROR] = REASON_SK_ERROR,
		[CLOSE_ABORTED] = REASON_ABORTED,
		[CLOSE_LISTENER_CLOSED] = REASON_LISTENER_CLOSED,
		[CLOSE_UNKNOWN] = REASON_UNKNOWN,
	};
	unsigned int before = tt_side_before_close(c);

	c->reason = c->close < CLOSE_NR ? by_close[c->close] : REASON_UNKNOWN;
	switch (c->reason) {
	case REASON_RESET:
		if (c->rst_reason == TCPSTATES_RST_NONE) {
			c->rst_reason = derived_rst_reason(c);
			c->rst_derived = c->rst_reason != TCPSTATES_RST_NONE;
		}
		break;
	case REASON_FIN:
		if (!c->have_fin_remote && c->twend == TW_EXPIRED &&
		    before == TCPSTATES_FIN_WAIT2)
			c->reason = REASON_FIN_WAIT2_TIMEOUT;
		break;
	case REASON_TIMEOUT:
		c->reason = timeout_reason(c, before);
		break;
	case REASON_SK_ERROR:
		/* tcp_v4_err()/tcp_v6_err(): a hard ICMP error ends a connect */
		if (c->sk_err == EHOSTUNREACH || c->sk_err == ENETUNREACH)
			c->reason = c->no_syn ? REASON_NO_ROUTE :
						REASON_UNREACHABLE;
		else if (c->no_syn)
			c->reason = REASON_CONNECT_FAILED;
		break;
	case REASON_ABORTED:
		/* inet_hash_connect() sets the port; it failing leaves it 0 */
		if (c->no_syn)
			c->reason = c->lport ? REASON_CONNECT_FAILED :
					       REASON_NO_PORT;
		break;
	}
}
