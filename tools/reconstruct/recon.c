// SPDX-License-Identifier: GPL-2.0
/*
 * Reconstruction: validated records in, finished connections out.
 *
 * A connection is (netns, cookie) from its first state to its end. The end is
 * the full socket's CLOSE, unless a time_wait record handed it to a timewait
 * socket first (same cookie): then the full socket's CLOSE is ignored and the
 * end is tw_expire / tw_kill. Once ended, a connection leaves the live table,
 * so a socket that is reused (connect() again after a failure, listen() again)
 * starts a new connection under the same cookie.
 *
 * Server side: a request record (its own cookie) waits in the request table,
 * found again by (netns, 4-tuple) when the child is born (new cookie); the
 * child's connection starts at the request's time, the SYN's arrival. A
 * request that ends without a child is a half-open connection that timed out.
 *
 * Finished connections are paired with their mirror (same host: loopback or
 * two namespaces) when the ISNs agree, or, without ISNs, the same netns and
 * overlapping times. A finished side whose peer is still live is held until
 * the peer finishes; then both go to the sink together and are freed. Memory
 * is the live connections, the pending requests and the held sides: nothing
 * that has been printed stays.
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "reconstruct/internal.h"

struct request {
	struct hnode by_cookie, by_tuple;
	struct request *prev, *next;
	uint64_t cookie, ts;
	uint32_t netns;
	struct tcpstates_record rec;
	struct conn *child;	/* the child while it is live */
	bool claimed;		/* a child took it over */
};

struct recon {
	struct tt_sink sink;
	struct htab conns, tuples, reqs, req_tuples;
	struct conn *head, *tail;	/* live and held, creation order */
	struct request *rhead;
	uint64_t next_id;
	size_t live, peak;
};

struct recon *tt_recon_new(const struct tt_sink *sink)
{
	struct recon *R = calloc(1, sizeof(*R));

	if (!R)
		return NULL;
	R->sink = *sink;
	if (ht_init(&R->conns, 1024) || ht_init(&R->tuples, 1024) ||
	    ht_init(&R->reqs, 256) || ht_init(&R->req_tuples, 256)) {
		tt_recon_free(R);
		return NULL;
	}
	return R;
}

size_t tt_recon_live(const struct recon *R)
{
	return R->live;
}

size_t tt_recon_peak(const struct recon *R)
{
	return R->peak;
}

static void conn_free(struct conn *c)
{
	if (c->req)
		((struct request *)c->req)->child = NULL;
	free(c->states);
	free(c);
}

static void req_unlink(struct recon *R, struct request *q)
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
}

void tt_recon_free(struct recon *R)
{
	if (!R)
		return;
	while (R->head) {
		struct conn *c = R->head;

		R->head = c->next;
		conn_free(c);
	}
	while (R->rhead) {
		struct request *q = R->rhead;

		R->rhead = q->next;
		free(q);
	}
	free(R->conns.b);
	free(R->tuples.b);
	free(R->reqs.b);
	free(R->req_tuples.b);
	free(R);
}

static struct conn *conn_lookup(struct recon *R, uint32_t netns,
				uint64_t cookie)
{
	uint64_t h = key_cookie(netns, cookie);

	for (struct hnode *n = ht_bucket(&R->conns, h); n; n = n->next) {
		struct conn *c = container_of(n, struct conn, by_cookie);

		if (n->hash == h && c->cookie == cookie && c->netns == netns)
			return c;
	}
	return NULL;
}

static void conn_set_tuple(struct recon *R, struct conn *c,
			   const struct tcpstates_record *r)
{
	uint16_t lp = ntohs(r->sport), rp = ntohs(r->dport);

	if (c->in_tuple && lp == c->lport && rp == c->rport &&
	    !memcmp(c->laddr, r->saddr, 16) && !memcmp(c->raddr, r->daddr, 16))
		return;
	if (!lp && c->lport)
		return;	/* not yet bound: keep what we know */
	if (c->in_tuple)
		ht_del(&R->tuples, &c->by_tuple);
	memcpy(c->laddr, r->saddr, 16);
	memcpy(c->raddr, r->daddr, 16);
	c->lport = lp;
	c->rport = rp;
	c->family = r->family;
	c->mapped = !!(r->flags & TCPSTATES_F_MAPPED);
	ht_add(&R->tuples, &c->by_tuple,
	       key_tuple(c->laddr, c->lport, c->raddr, c->rport));
	c->in_tuple = true;
}

static struct conn *conn_new(struct recon *R, const struct tcpstates_record *r)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->id = R->next_id++;
	c->cookie = r->cookie;
	c->netns = r->netns;
	c->netns_cookie = r->netns_cookie;
	c->first_ns = c->last_ns = r->ts_ns;
	c->uid = UINT32_MAX;
	ht_add(&R->conns, &c->by_cookie, key_cookie(c->netns, c->cookie));
	conn_set_tuple(R, c, r);
	c->prev = R->tail;
	if (R->tail)
		R->tail->next = c;
	else
		R->head = c;
	R->tail = c;
	if (++R->live > R->peak)
		R->peak = R->live;
	return c;
}

static void conn_unlink(struct recon *R, struct conn *c)
{
	if (c->in_tuple)
		ht_del(&R->tuples, &c->by_tuple);
	if (c->prev)
		c->prev->next = c->next;
	else
		R->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		R->tail = c->prev;
	R->live--;
}

static bool pair_match(const struct conn *x, const struct conn *y)
{
	if (x == y || y->peer || x->family != y->family ||
	    x->lport != y->rport || x->rport != y->lport || !x->lport ||
	    !x->rport || memcmp(x->laddr, y->raddr, 16) ||
	    memcmp(x->raddr, y->laddr, 16))
		return false;
	if (y->first_ns > x->last_ns || x->first_ns > y->last_ns)
		return false;
	if (x->have_isn_local && y->have_isn_remote &&
	    x->isn_local != y->isn_remote)
		return false;
	if (x->have_isn_remote && y->have_isn_local &&
	    x->isn_remote != y->isn_local)
		return false;
	if ((x->have_isn_local && y->have_isn_remote) ||
	    (x->have_isn_remote && y->have_isn_local))
		return true;
	return x->netns == y->netns;
}

static struct conn *find_peer(struct recon *R, struct conn *x)
{
	uint64_t h;

	if (!x->in_tuple)
		return NULL;
	h = key_tuple(x->laddr, x->lport, x->raddr, x->rport);
	for (struct hnode *n = ht_bucket(&R->tuples, h); n; n = n->next) {
		struct conn *y = container_of(n, struct conn, by_tuple);

		if (n->hash == h && pair_match(x, y))
			return y;
	}
	return NULL;
}

static void emit(struct recon *R, struct conn *c, struct conn *peer)
{
	if (peer && tt_conn_last_span(peer) && peer->id < c->id) {
		struct conn *t = c;

		c = peer;
		peer = t;
	}
	R->sink.conn(R->sink.arg, c, peer);
	conn_unlink(R, c);
	conn_free(c);
	if (peer) {
		conn_unlink(R, peer);
		conn_free(peer);
	}
}

/* The connection is over (or the input is): pair it, or hold it, or emit. */
static void finish(struct recon *R, struct conn *c, uint64_t ts, bool still_open)
{
	struct conn *peer;

	if (c->nstates)
		c->states[c->nstates - 1].leave_ns = 0;
	c->end_ns = ts;
	c->ended = true;
	c->close = tt_side_close_kind(c, still_open);
	ht_del(&R->conns, &c->by_cookie);

	peer = c->peer;
	if (!peer && c->role != ROLE_LISTENER)
		peer = find_peer(R, c);
	if (!peer) {
		emit(R, c, NULL);
		return;
	}
	c->peer = peer;
	peer->peer = c;
	if (!peer->held) {
		c->held = true;	/* wait for the other side to finish */
		return;
	}
	emit(R, c, peer);
}

static bool is_beginning(const struct tcpstates_record *r)
{
	switch (r->kind) {
	case TCPSTATES_EV_LISTEN:
	case TCPSTATES_EV_CONNECT:
	case TCPSTATES_EV_CHILD:
		return true;
	case TCPSTATES_EV_STATE:
		return r->old_state == TCPSTATES_CLOSE &&
		       (r->new_state == TCPSTATES_SYN_SENT ||
			r->new_state == TCPSTATES_LISTEN);
	}
	return false;
}

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

static struct request *req_by_tuple(struct recon *R,
				    const struct tcpstates_record *r)
{
	uint64_t h = req_tuple_key(r->netns, r);
	struct request *best = NULL;

	for (struct hnode *n = ht_bucket(&R->req_tuples, h); n; n = n->next) {
		struct request *q = container_of(n, struct request, by_tuple);

		if (n->hash != h || q->claimed || q->netns != r->netns ||
		    q->rec.sport != r->sport || q->rec.dport != r->dport ||
		    memcmp(q->rec.saddr, r->saddr, 16) ||
		    memcmp(q->rec.daddr, r->daddr, 16) || q->ts > r->ts_ns)
			continue;
		if (!best || q->ts > best->ts)
			best = q;
	}
	return best;
}

static void on_request(struct recon *R, const struct tcpstates_record *r)
{
	struct request *q = req_by_cookie(R, r->netns, r->cookie);

	if (q) {	/* same cookie again: the old one's end was lost */
		req_unlink(R, q);
		free(q);
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return;
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
}

static void server_from_request(struct conn *c, const struct request *q)
{
	const struct tcpstates_record *r = &q->rec;

	c->req_cookie = q->cookie;
	c->first_ns = q->ts;
	c->syn_ns = q->ts;
	tt_side_set_state(c, TCPSTATES_NEW_SYN_RECV, q->ts, TCPSTATES_EV_REQUEST);
	if (r->flags & TCPSTATES_F_SEQ) {
		c->isn_local = r->snd_una;
		c->isn_remote = r->rcv_nxt - 1;
		c->have_isn_local = c->have_isn_remote = true;
	}
}

static void on_request_end(struct recon *R, const struct tcpstates_record *r)
{
	struct request *q = req_by_cookie(R, r->netns, r->cookie);
	struct conn *c;

	if (!q)
		return;	/* its request record was before our history */
	if (q->claimed) {
		if (q->child)
			q->child->synack_retrans = r->aux;
	} else {
		/* The handshake never completed: a half-open connection. */
		c = conn_new(R, &q->rec);
		if (c) {
			c->role = ROLE_SERVER;
			c->open = OPEN_PASSIVE;
			server_from_request(c, q);
			c->cookie = q->cookie;
			c->synack_retrans = r->aux;
			c->sk_err = 110;
			c->last_ns = r->ts_ns;
			tt_side_set_state(c, TCPSTATES_CLOSE, r->ts_ns, r->kind);
			finish(R, c, r->ts_ns, false);
		}
	}
	req_unlink(R, q);
	free(q);
}

static void on_child(struct recon *R, const struct tcpstates_record *r)
{
	struct conn *c = conn_lookup(R, r->netns, r->cookie);
	struct request *q;

	if (c)	/* a second child on a live cookie: history was lost */
		finish(R, c, r->ts_ns, true);
	c = conn_new(R, r);
	if (!c)
		return;
	c->role = ROLE_SERVER;
	c->open = OPEN_PASSIVE;
	q = req_by_tuple(R, r);
	if (q) {
		q->child = c;
		q->claimed = true;
		c->req = q;
		server_from_request(c, q);
	} else {
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
}

static void on_lost(struct recon *R, const struct tcpstates_record *r)
{
	for (struct conn *c = R->head; c; c = c->next)
		if (!c->ended)
			c->incomplete = true;
	if (R->sink.lost)
		R->sink.lost(R->sink.arg, r);
}

void tt_recon_record(struct recon *R, const struct tcpstates_record *r)
{
	struct conn *c;

	if (R->sink.record)
		R->sink.record(R->sink.arg, r);
	switch (r->kind) {
	case TCPSTATES_EV_LOST:
		on_lost(R, r);
		return;
	case TCPSTATES_EV_REQUEST:
		on_request(R, r);
		return;
	case TCPSTATES_EV_REQUEST_END:
		on_request_end(R, r);
		return;
	case TCPSTATES_EV_CHILD:
		on_child(R, r);
		return;
	}

	c = conn_lookup(R, r->netns, r->cookie);
	if (c && is_beginning(r) && r->kind != TCPSTATES_EV_CONNECT &&
	    tt_side_state(c) != TCPSTATES_STATE_NONE) {
		/* a reused socket whose end we missed */
		c->incomplete = true;
		finish(R, c, r->ts_ns, true);
		c = NULL;
	}
	/* What trails a connection already over: its reset, a CLOSE -> CLOSE. */
	if (!c && r->old_state == TCPSTATES_CLOSE &&
	    (r->kind == TCPSTATES_EV_RESET_SENT ||
	     (r->kind == TCPSTATES_EV_STATE && r->new_state == TCPSTATES_CLOSE)))
		return;
	if (!c) {
		c = conn_new(R, r);
		if (!c)
			return;
		if (!is_beginning(r))
			c->incomplete = true;
	}
	if (r->sport || !c->in_tuple)
		conn_set_tuple(R, c, r);
	if (tt_side_update(c, r) == SIDE_ENDS)
		finish(R, c, r->ts_ns, false);
}

void tt_recon_finish(struct recon *R)
{
	struct conn *c;

	/* Requests that are still waiting for the final ACK: half-open now. */
	while (R->rhead) {
		struct request *q = R->rhead;

		if (!q->claimed) {
			c = conn_new(R, &q->rec);
			if (c) {
				c->role = ROLE_SERVER;
				c->open = OPEN_PASSIVE;
				server_from_request(c, q);
				c->last_ns = q->ts;
			}
		}
		req_unlink(R, q);
		free(q);
	}
	/* Emitting frees the current entry and perhaps its held peer. */
	while ((c = R->head)) {
		for (c = R->head; c && c->ended; c = c->next)
			;
		if (!c)
			break;
		finish(R, c, c->last_ns, true);
	}
	/* Anything still held had a peer that never finished. */
	while ((c = R->head)) {
		if (c->peer)
			c->peer->peer = NULL;
		c->peer = NULL;
		emit(R, c, NULL);
	}
}
