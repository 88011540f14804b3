// SPDX-License-Identifier: GPL-2.0
/*
 * Server side: a request record (the request socket's own cookie) waits in
 * the request table, found again by (netns, 4-tuple) when the child is born
 * with its own cookie; the child's connection starts at the request's time,
 * the SYN's arrival. A request that ends without a child is a half-open
 * connection that timed out. The request's records belong to the child (or
 * to the half-open connection) once there is one: the sink hears it as an
 * alias from the request's id to the connection's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reconstruct/internal.h"

static uint64_t req_tuple_key(uint32_t netns, const struct tcpstates_record *r)
{
	return mix64(key_tuple(r->saddr, r->sport, r->daddr, r->dport) ^ netns);
}

static struct request *req_by_cookie(struct recon *R, uint32_t netns,
				     uint64_t cookie)
{
	uint64_t h = key_cookie(netns, cookie);

	for (struct hnode *n = ht_bucket(&R->reqs, h); n; n = n->next) {
		struct request *q = container_of(n, struct request, by_cookie);

		if (n->hash == h && q->cookie == cookie && q->netns == netns)
			return q;
	}
	return NULL;
}

/* The latest unclaimed request for the child's 4-tuple, before it. */
static struct request *req_by_tuple(struct recon *R,
				    const struct tcpstates_record *r)
{
	uint64_t h = req_tuple_key(r->netns, r);
	struct request *best = NULL;

	for (struct hnode *n = ht_bucket(&R->req_tuples, h); n; n = n->next) {
		struct request *q = container_of(n, struct request, by_tuple);

		if (n->hash != h || q->child_id || q->netns != r->netns ||
		    q->rec.sport != r->sport || q->rec.dport != r->dport ||
		    memcmp(q->rec.saddr, r->saddr, 16) ||
		    memcmp(q->rec.daddr, r->daddr, 16) || q->ts > r->ts_ns)
			continue;
		if (!best || q->ts > best->ts)
			best = q;
	}
	return best;
}

static void req_free(struct recon *R, struct request *q)
{
	if (q->child)
		q->child->req = NULL;
	ht_del(&R->reqs, &q->by_cookie);
	ht_del(&R->req_tuples, &q->by_tuple);
	if (q->prev)
		q->prev->next = q->next;
	else
		R->rhead = q->next;
	if (q->next)
		q->next->prev = q->prev;
	free(q);
}

uint64_t tt_on_request(struct recon *R, const struct tcpstates_record *r)
{
	struct request *q = req_by_cookie(R, r->netns, r->cookie);

	if (q) { /* same cookie again: the old one's end was lost */
		tt_recon_alias(R, q->id, q->child_id);
		req_free(R, q);
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return 0;
	q->id = R->next_id++;
	q->cookie = r->cookie;
	q->netns = r->netns;
	q->ts = r->ts_ns;
	q->rec = *r;
	ht_add(&R->reqs, &q->by_cookie, key_cookie(q->netns, q->cookie));
	ht_add(&R->req_tuples, &q->by_tuple, req_tuple_key(r->netns, r));
	q->next = R->rhead;
	if (R->rhead)
		R->rhead->prev = q;
	R->rhead = q;
	return q->id;
}

static void server_from_request(struct conn *c, const struct request *q)
{
	const struct tcpstates_record *r = &q->rec;

	c->role = ROLE_SERVER;
	c->open = OPEN_PASSIVE;
	c->req_cookie = q->cookie;
	c->acks_dropped = q->acks_dropped;
	c->first_ns = q->ts;
	c->syn_ns = q->ts;
	tt_side_set_state(c, TCPSTATES_NEW_SYN_RECV, q->ts,
			  TCPSTATES_EV_REQUEST);
	if (r->flags & TCPSTATES_F_SEQ) {
		c->isn_local = r->snd_una;
		c->isn_remote = r->rcv_nxt - 1;
		c->have_isn_local = c->have_isn_remote = true;
	}
}

/* The handshake never completed: a half-open connection. */
static struct conn *half_open(struct recon *R, struct request *q)
{
	struct conn *c = tt_conn_new(R, &q->rec);

	if (!c)
		return NULL;
	server_from_request(c, q);
	c->last_ns = q->ts;
	tt_recon_alias(R, q->id, c->id);
	return c;
}

/*
 * How a request without a child ended, as the close kind sees it (the
 * reason follows from it, tt_side_set_reason()): tcp_check_req() drops a
 * request for a segment only at its embryonic reset, which answers any
 * segment without an RST with one (a SYN in its window, a final ACK under
 * tcp_abort_on_overflow). Its timer, or a module that did not say: a
 * timeout, as before the kernel said more.
 */
static void half_open_end(struct conn *c, unsigned int req_end, uint64_t ts)
{
	c->req_end = req_end < TCPSTATES_NR_REQ_ENDS ? req_end : 0;
	switch (c->req_end) {
	case TCPSTATES_REQ_END_RESET:
		c->sk_err = ECONNRESET;
		break;
	case TCPSTATES_REQ_END_SEGMENT:
		c->reset_sent = true; /* in the softirq that then freed it */
		c->reset_ns = ts;
		break;
	case TCPSTATES_REQ_END_LISTENER:
		break;
	default:
		c->sk_err = ETIMEDOUT;
	}
}

uint64_t tt_on_request_end(struct recon *R, const struct tcpstates_record *r)
{
	struct request *q = req_by_cookie(R, r->netns, r->cookie);
	struct conn *c;
	uint64_t id;

	if (!q)
		return 0; /* its request record was before our history */
	id = q->child_id;
	if (q->child) {
		q->child->synack_retrans = TCPSTATES_REQ_RETRANS(r->aux);
		q->child->have_synack_retrans = true;
	} else if (!q->child_id && (c = half_open(R, q))) {
		id = c->id;
		c->synack_retrans = TCPSTATES_REQ_RETRANS(r->aux);
		c->have_synack_retrans = true;
		half_open_end(c, TCPSTATES_REQ_END(r->aux), r->ts_ns);
		c->last_ns = r->ts_ns;
		tt_side_set_state(c, TCPSTATES_CLOSE, r->ts_ns, r->kind);
		tt_conn_finish(R, c, r->ts_ns, false);
	}
	req_free(R, q);
	return id;
}

/*
 * The listener dropped this request's final ACK (its accept queue was
 * full): the request waits on for the next ACK, or ends without a child.
 */
uint64_t tt_on_request_drop(struct recon *R, const struct tcpstates_record *r)
{
	struct request *q = req_by_cookie(R, r->netns, r->cookie);

	if (!q)
		return 0; /* its request record was before our history */
	/* never after its child: a final ACK that made one was not dropped */
	q->acks_dropped++;
	return q->child_id ? q->child_id : q->id;
}

uint64_t tt_on_child(struct recon *R, const struct tcpstates_record *r,
		     const struct conn **live)
{
	struct conn *c = tt_conn_lookup(R, r->netns, r->cookie);
	struct request *q;

	if (c) /* a second child on a live cookie: history was lost */
		tt_conn_finish(R, c, r->ts_ns, true);
	c = tt_conn_new(R, r);
	if (!c)
		return 0;
	q = req_by_tuple(R, r);
	if (q) {
		q->child = c;
		q->child_id = c->id;
		c->req = q;
		server_from_request(c, q);
		tt_recon_alias(R, q->id, c->id);
	} else {
		c->role = ROLE_SERVER;
		c->open = OPEN_PASSIVE;
		c->syn_ns = r->ts_ns;
		if (r->flags & TCPSTATES_F_SEQ) {
			c->isn_local = r->snd_una - 1;
			c->isn_remote = r->rcv_nxt - 1;
			c->have_isn_local = c->have_isn_remote = true;
		}
	}
	tt_side_set_state(c, TCPSTATES_SYN_RECV, r->ts_ns, r->kind);
	tt_side_attribute(c, r);
	tt_side_take_info(c, r);
	if (r->new_state == TCPSTATES_CLOSE) {
		/*
		 * Dropped at birth (tcp_v4/v6_syn_recv_sock's forced close):
		 * another CPU had already made the child of this request, or
		 * it could not be hashed. Seen under a SYN flood.
		 */
		uint64_t id = c->id;

		tt_side_set_state(c, TCPSTATES_CLOSE, r->ts_ns, r->kind);
		tt_conn_finish(R, c, r->ts_ns, false);
		return id;
	}
	*live = c;
	return c->id;
}

void tt_requests_finish(struct recon *R)
{
	while (R->rhead) {
		struct request *q = R->rhead;

		if (!q->child_id)
			half_open(R, q);
		req_free(R, q);
	}
}

void tt_requests_free(struct recon *R)
{
	while (R->rhead) {
		struct request *q = R->rhead;

		R->rhead = q->next;
		free(q);
	}
}
