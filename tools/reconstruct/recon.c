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
 * Server sides are born of request sockets: request.c.
 *
 * Finished connections are paired with their mirror (same host: loopback or
 * two namespaces) when the ISNs agree, or, without ISNs, the same netns and
 * overlapping times. A finished side whose peer is still live is held until
 * the peer finishes; then both go to the sink together and are freed. Memory
 * is the live connections, the pending requests, the held sides and a ring
 * of tombstones: nothing that has been printed stays.
 *
 * Every record is said to belong to a connection by its id (a request's id
 * until its connection exists; 0 for none), so that filters can pick the
 * records of the connections they pick: see struct tt_sink.
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "reconstruct/internal.h"

struct recon *tt_recon_new(const struct tt_sink *sink)
{
	struct recon *R = calloc(1, sizeof(*R));

	if (!R)
		return NULL;
	R->sink = *sink;
	R->next_id = 1;
	R->tomb_ring = calloc(TT_TOMBS, sizeof(*R->tomb_ring));
	if (!R->tomb_ring || ht_init(&R->conns, 256) ||
	    ht_init(&R->tuples, 256) || ht_init(&R->reqs, 64) ||
	    ht_init(&R->req_tuples, 64) || ht_init(&R->tombs, 256)) {
		tt_recon_free(R);
		return NULL;
	}
	return R;
}

void tt_recon_first_id(struct recon *R, uint64_t id)
{
	R->next_id = id ? id : 1;
}

size_t tt_recon_peak(const struct recon *R)
{
	return R->peak;
}

void tt_recon_each_live(const struct recon *R,
			void (*fn)(void *arg, const struct conn *c), void *arg)
{
	for (const struct conn *c = R->head; c; c = c->next)
		if (!c->ended)
			fn(arg, c);
}

static void conn_free(struct conn *c)
{
	if (c->req)
		((struct request *)c->req)->child = NULL;
	free(c->states);
	free(c);
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
	tt_requests_free(R);
	while (R->tw_tombs) {
		struct tomb *t = R->tw_tombs;

		R->tw_tombs = t->next;
		free(t);
	}
	free(R->tomb_ring);
	free(R->tombs.b);
	free(R->conns.b);
	free(R->tuples.b);
	free(R->reqs.b);
	free(R->req_tuples.b);
	free(R);
}

struct conn *tt_conn_lookup(struct recon *R, uint32_t netns, uint64_t cookie)
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
		return; /* not yet bound: keep what we know */
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

struct conn *tt_conn_new(struct recon *R, const struct tcpstates_record *r)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->id = R->next_id++;
	c->host = R->host;
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

static void await_add(struct recon *R, struct conn *c)
{
	if (c->await_rst) /* a second CLOSE while it waits */
		return;
	c->await_rst = true;
	c->await_prev = R->await_tail;
	c->await_next = NULL;
	if (R->await_tail)
		R->await_tail->await_next = c;
	else
		R->await_head = c;
	R->await_tail = c;
}

static void await_del(struct recon *R, struct conn *c)
{
	if (!c->await_rst)
		return;
	c->await_rst = false;
	if (c->await_prev)
		c->await_prev->await_next = c->await_next;
	else if (R->await_head == c)
		R->await_head = c->await_next;
	if (c->await_next)
		c->await_next->await_prev = c->await_prev;
	else if (R->await_tail == c)
		R->await_tail = c->await_prev;
	c->await_prev = c->await_next = NULL;
}

static void conn_unlink(struct recon *R, struct conn *c)
{
	await_del(R, c); /* emitted as its peer's pair before its wait ended */
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

static struct conn *find_peer(const struct recon *R, const struct conn *x)
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

const struct conn *tt_recon_peer(const struct recon *R, const struct conn *c)
{
	if (c->peer || c->role == ROLE_LISTENER)
		return c->peer;
	return find_peer(R, c);
}

void tt_recon_alias(struct recon *R, uint64_t from, uint64_t to)
{
	if (R->sink.alias)
		R->sink.alias(R->sink.arg, from, to);
}

/* Remembers an ended side; the oldest tombstone makes room, its id retired. */
static void tomb_add(struct recon *R, const struct conn *c)
{
	struct tomb *t = &R->tomb_ring[R->tomb_next++ % TT_TOMBS];

	if (t->used) {
		ht_del(&R->tombs, &t->node);
		if (R->sink.retire)
			R->sink.retire(R->sink.arg, t->id);
	}
	*t = (struct tomb){ .cookie = c->cookie,
			    .id = c->id,
			    .netns = c->netns,
			    .used = true };
	ht_add(&R->tombs, &t->node, key_cookie(t->netns, t->cookie));
}

/* --on-time-wait: a tombstone for the timewait socket, until it ends. */
static void tomb_add_tw(struct recon *R, const struct conn *c)
{
	struct tomb *t = calloc(1, sizeof(*t));

	if (!t) {
		tomb_add(R, c);
		return;
	}
	*t = (struct tomb){ .cookie = c->cookie,
			    .id = c->id,
			    .netns = c->netns,
			    .used = true,
			    .tw = true,
			    .next = R->tw_tombs };
	if (R->tw_tombs)
		R->tw_tombs->prev = t;
	R->tw_tombs = t;
	ht_add(&R->tombs, &t->node, key_cookie(t->netns, t->cookie));
}

static void tomb_free_tw(struct recon *R, struct tomb *t)
{
	ht_del(&R->tombs, &t->node);
	if (t->prev)
		t->prev->next = t->next;
	else
		R->tw_tombs = t->next;
	if (t->next)
		t->next->prev = t->prev;
	if (R->sink.retire)
		R->sink.retire(R->sink.arg, t->id);
	free(t);
}

void tt_recon_set_host(struct recon *R, const char *host)
{
	R->host = host;
}

void tt_recon_early_time_wait(struct recon *R)
{
	R->early_tw = true;
}

static struct tomb *tomb_find(struct recon *R, uint32_t netns, uint64_t cookie)
{
	uint64_t h = key_cookie(netns, cookie);

	for (struct hnode *n = ht_bucket(&R->tombs, h); n; n = n->next) {
		struct tomb *t = container_of(n, struct tomb, node);

		if (n->hash == h && t->cookie == cookie && t->netns == netns)
			return t;
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
bool tt_conn_finish(struct recon *R, struct conn *c, uint64_t ts,
		    bool still_open)
{
	struct conn *peer;

	if (c->await_rst) {
		/* it ended at its CLOSE, whenever its RST's wait ends */
		await_del(R, c);
		ts = c->reset_ns;
		still_open = false;
	}
	if (c->nstates)
		c->states[c->nstates - 1].leave_ns = 0;
	c->end_ns = ts;
	c->ended = true;
	c->close = tt_side_close_kind(c, still_open);
	tt_side_set_reason(c);
	ht_del(&R->conns, &c->by_cookie);
	if (c->tw_early)
		tomb_add_tw(R, c);
	else
		tomb_add(R, c);
	if (R->sink.side)
		R->sink.side(R->sink.arg, c, TT_SIDE_ENDED);

	peer = c->peer;
	if (!peer && c->role != ROLE_LISTENER)
		peer = find_peer(R, c);
	if (!peer) {
		emit(R, c, NULL);
		return true;
	}
	c->peer = peer;
	peer->peer = c;
	if (!peer->held) {
		c->held = true; /* wait for the other side to finish */
		return false;
	}
	emit(R, c, peer);
	return true;
}

static bool is_beginning(const struct tcpstates_record *r)
{
	switch (r->kind) {
	case TCPSTATES_EV_LISTEN:
	case TCPSTATES_EV_CONNECT:
	case TCPSTATES_EV_CHILD:
	case TCPSTATES_EV_CONNECT_ERROR: /* the whole life of its side */
		return true;
	case TCPSTATES_EV_STATE:
		return r->old_state == TCPSTATES_CLOSE &&
		       (r->new_state == TCPSTATES_SYN_SENT ||
			r->new_state == TCPSTATES_LISTEN);
	}
	return false;
}

static void on_lost(struct recon *R, const struct tcpstates_record *r)
{
	for (struct conn *c = R->head; c; c = c->next)
		if (!c->ended)
			c->incomplete = true;
	if (R->sink.lost)
		R->sink.lost(R->sink.arg, r);
}

/* What trails a side already over: its RST, a CLOSE -> CLOSE, a TIME_WAIT end. */
static bool trails(const struct tcpstates_record *r)
{
	if (r->kind == TCPSTATES_EV_TW_EXPIRE ||
	    r->kind == TCPSTATES_EV_TW_KILL)
		return true;
	return r->old_state == TCPSTATES_CLOSE &&
	       (r->kind == TCPSTATES_EV_RESET_SENT ||
		(r->kind == TCPSTATES_EV_STATE &&
		 r->new_state == TCPSTATES_CLOSE));
}

/* What a side shown on entering TIME_WAIT still does: the timewait socket. */
static bool tw_tail(const struct tcpstates_record *r)
{
	switch (r->kind) {
	case TCPSTATES_EV_TIME_WAIT:
	case TCPSTATES_EV_TW_REARM:
	case TCPSTATES_EV_TW_EXPIRE:
	case TCPSTATES_EV_TW_KILL:
	case TCPSTATES_EV_RESET_SENT:
		return true;
	case TCPSTATES_EV_STATE:
		return r->new_state == TCPSTATES_CLOSE;
	}
	return false;
}

/* @r belongs to a side already over: its id, the tombstone let go at the end. */
static bool absorbed(struct recon *R, const struct tcpstates_record *r,
		     uint64_t *id)
{
	struct tomb *t = tomb_find(R, r->netns, r->cookie);

	if (!t || !(trails(r) || (t->tw && tw_tail(r))))
		return false;
	*id = t->id;
	if (t->tw && (r->kind == TCPSTATES_EV_TW_EXPIRE ||
		      r->kind == TCPSTATES_EV_TW_KILL))
		tomb_free_tw(R, t);
	return true;
}

/* The live side @r is about, made if need be; NULL if it trails one. */
static struct conn *side_of(struct recon *R, const struct tcpstates_record *r,
			    uint64_t *id)
{
	struct conn *c = tt_conn_lookup(R, r->netns, r->cookie);

	if (c && c->await_rst && is_beginning(r)) {
		/* reused before its RST's record came: it ended at CLOSE */
		tt_conn_finish(R, c, c->reset_ns, false);
		c = NULL;
	} else if (c && is_beginning(r) && r->kind != TCPSTATES_EV_CONNECT &&
		   tt_side_state(c) != TCPSTATES_STATE_NONE) {
		/* a reused socket whose end we missed */
		c->incomplete = true;
		tt_conn_finish(R, c, r->ts_ns, true);
		c = NULL;
	}
	if (!c && absorbed(R, r, id))
		return NULL;
	if (!c && trails(r) && r->old_state == TCPSTATES_CLOSE)
		return NULL; /* trails what we never saw */
	if (!c && (c = tt_conn_new(R, r)) && !is_beginning(r))
		c->incomplete = true;
	if (c)
		*id = c->id;
	return c;
}

/*
 * Sides whose RST's record did not come within TT_RST_WAIT_NS of their
 * CLOSE (its hit missed, the hook inactive): they end as they are.
 */
static void await_expire(struct recon *R, uint64_t now)
{
	struct conn *c;

	while ((c = R->await_head) && c->reset_ns + TT_RST_WAIT_NS < now)
		tt_conn_finish(R, c, c->reset_ns, false);
}

uint64_t tt_recon_record(struct recon *R, const struct tcpstates_record *r,
			 const struct conn **live)
{
	enum tt_side_end end;
	struct conn *c;
	uint64_t id = 0, est, accepted, connected;
	bool tw;

	*live = NULL;
	await_expire(R, r->ts_ns);
	switch (r->kind) {
	case TCPSTATES_EV_LOST:
		on_lost(R, r);
		return 0;
	case TCPSTATES_EV_REQUEST:
		return tt_on_request(R, r);
	case TCPSTATES_EV_REQUEST_END:
		return tt_on_request_end(R, r);
	case TCPSTATES_EV_CHILD:
		return tt_on_child(R, r, live);
	case TCPSTATES_EV_LISTEN_DROP:
		if (r->flags & TCPSTATES_F_REQUEST)
			return tt_on_request_drop(R, r);
		break;
	}
	c = side_of(R, r, &id);
	if (!c)
		return id;
	if (r->sport || !c->in_tuple)
		conn_set_tuple(R, c, r);
	est = c->est_ns;
	accepted = c->accept_ns;
	connected = c->connect_ns;
	tw = tt_side_state(c) == TCPSTATES_TIME_WAIT;
	end = tt_side_update(c, r);
	if (!connected && c->connect_ns && R->sink.side)
		R->sink.side(R->sink.arg, c, TT_SIDE_CONNECTED);
	if (!est && c->est_ns && R->sink.side)
		R->sink.side(R->sink.arg, c, TT_SIDE_ESTABLISHED);
	if (!accepted && c->accept_ns && R->sink.side)
		R->sink.side(R->sink.arg, c, TT_SIDE_ACCEPTED);
	if (!tw && tt_side_state(c) == TCPSTATES_TIME_WAIT && R->sink.side)
		R->sink.side(R->sink.arg, c, TT_SIDE_TIME_WAIT);
	if (end == SIDE_GOES_ON && R->early_tw && c->tw_handed &&
	    tt_side_state(c) == TCPSTATES_TIME_WAIT)
		c->tw_early = true;
	if (end == SIDE_AWAITS_RST) {
		await_add(R, c);
		*live = c;
	} else if (end == SIDE_GOES_ON && !c->tw_early) {
		*live = c;
	} else if (!tt_conn_finish(R, c, r->ts_ns, c->tw_early)) {
		*live = NULL; /* held for its peer */
	}
	return id;
}

void tt_recon_finish(struct recon *R)
{
	struct conn *c;

	tt_requests_finish(R);
	while (R->await_head)
		tt_conn_finish(R, R->await_head, 0, false);
	/* Emitting frees the current entry and perhaps its held peer. */
	while ((c = R->head)) {
		for (c = R->head; c && c->ended; c = c->next)
			;
		if (!c)
			break;
		tt_conn_finish(R, c, c->last_ns, true);
	}
	/* Anything still held had a peer that never finished. */
	while ((c = R->head)) {
		if (c->peer)
			c->peer->peer = NULL;
		c->peer = NULL;
		emit(R, c, NULL);
	}
}
