// SPDX-License-Identifier: GPL-2.0
/*
 * Conversations between hosts: each host's capture is reconstructed on its
 * own (cookies and namespace numbers mean nothing across hosts); the
 * finished sides are kept here, and a side on one host is paired with its
 * peer on another when the 4-tuples mirror each other and both ISNs agree
 * crosswise (NAT would change the tuple: such sides stay unpaired).
 *
 * Clocks. Each capture's records carry CLOCK_MONOTONIC, and its header the
 * host's CLOCK_REALTIME - CLOCK_MONOTONIC: that puts both on wall-clock
 * time, as good as the hosts' clocks agree. What is left, theta = (host's
 * wall clock) - (reference's wall clock), is bounded by causality: a packet
 * is received after it is sent. The module records a state before the
 * packet that state sends leaves (SYN_SENT before the SYN, the request
 * socket before the SYN-ACK, ESTABLISHED before the client's ACK,
 * FIN_WAIT1 and LAST_ACK before the FIN, CLOSE_WAIT before the ACK of the
 * FIN) and the state a packet causes after it arrived. So for a packet from
 * the reference (sent s, received r on the other host, both in wall-clock
 * time) theta < r - s, and for one towards it theta > s - r. Each
 * handshake bounds theta from both sides to within about one round trip;
 * all conversations between the two hosts together give [lo, hi]. The
 * middle is applied (the assumption NTP makes: symmetric delays), so every
 * arrow on the ladder goes forward in time; both bounds are shown. Bounds
 * that contradict each other (lo > hi) mean the clocks drifted during the
 * captures: the middle is still used and the output says so.
 */
#include <stdlib.h>
#include <string.h>

#include "reconstruct/internal.h"

struct item {
	struct conn *c, *peer; /* peer: same host, or paired across */
	unsigned int host, peer_host;
	bool merged; /* taken into another item's pair */
};

struct tt_hosts {
	unsigned int nhosts;
	const char *const *labels;
	int64_t *rt;
	struct tt_host_clock *clock;
	struct item *items;
	size_t n, cap;
};

struct tt_hosts *tt_hosts_new(unsigned int nhosts, const char *const *labels,
			      const int64_t *realtime_offset_ns)
{
	struct tt_hosts *H = calloc(1, sizeof(*H));

	if (!H)
		return NULL;
	H->nhosts = nhosts;
	H->labels = labels;
	H->rt = calloc(nhosts, sizeof(*H->rt));
	H->clock = calloc(nhosts, sizeof(*H->clock));
	if (!H->rt || !H->clock) {
		tt_hosts_free(H);
		return NULL;
	}
	memcpy(H->rt, realtime_offset_ns, nhosts * sizeof(*H->rt));
	for (unsigned int h = 1; h < nhosts; h++) {
		if (!H->rt[h] || !H->rt[0]) { /* unknown: the packets alone */
			H->clock[h].wall_unknown = true;
			H->rt[h] = H->rt[0];
		}
		H->clock[h].wall_ns = H->rt[h] - H->rt[0];
	}
	return H;
}

void tt_hosts_free(struct tt_hosts *H)
{
	if (!H)
		return;
	for (size_t i = 0; i < H->n; i++) {
		tt_conn_free(H->items[i].c);
		tt_conn_free(H->items[i].peer);
	}
	free(H->items);
	free(H->rt);
	free(H->clock);
	free(H);
}

int tt_hosts_add(struct tt_hosts *H, unsigned int host, const struct conn *c,
		 const struct conn *peer)
{
	struct item *it;

	if (host >= H->nhosts)
		return -1;
	if (H->n == H->cap) {
		size_t cap = H->cap ? H->cap * 2 : 256;
		struct item *n = realloc(H->items, cap * sizeof(*n));

		if (!n)
			return -1;
		H->items = n;
		H->cap = cap;
	}
	it = &H->items[H->n];
	memset(it, 0, sizeof(*it));
	it->host = it->peer_host = host;
	it->c = tt_conn_clone(c);
	it->peer = peer ? tt_conn_clone(peer) : NULL;
	if (!it->c || (peer && !it->peer)) {
		tt_conn_free(it->c);
		tt_conn_free(it->peer);
		return -1;
	}
	if (it->peer) {
		it->c->peer = it->peer;
		it->peer->peer = it->c;
	}
	it->c->host = it->peer ? (it->peer->host = H->labels[host]) :
				 H->labels[host];
	H->n++;
	return 0;
}

/* ---- pairing ---- */

static bool pairable(const struct conn *c)
{
	return c->role != ROLE_LISTENER && c->lport && c->rport &&
	       c->have_isn_local && c->have_isn_remote;
}

static bool mirrors(const struct conn *x, const struct conn *y)
{
	return x->family == y->family && x->lport == y->rport &&
	       x->rport == y->lport && !memcmp(x->laddr, y->raddr, 16) &&
	       !memcmp(x->raddr, y->laddr, 16) && pairable(y) &&
	       x->isn_local == y->isn_remote && x->isn_remote == y->isn_local;
}

/* ---- clocks ---- */

struct bounds {
	int64_t lo, hi;
	bool have_lo, have_hi;
	unsigned int n;
};

/*
 * A packet sent by @s at @ts (its host's monotonic clock), received by @r at
 * @tr. Hosts are 0 (the reference) and @h.
 */
static void bound(struct bounds *b, const struct tt_hosts *H, unsigned int hs,
		  uint64_t ts, unsigned int hr, uint64_t tr)
{
	int64_t s, r, v;

	if (!ts || !tr || hs == hr)
		return;
	s = (int64_t)ts + H->rt[hs];
	r = (int64_t)tr + H->rt[hr];
	if (hs == 0) { /* theta < r - s */
		v = r - s;
		if (!b->have_hi || v < b->hi)
			b->hi = v;
		b->have_hi = true;
	} else { /* theta > s - r */
		v = s - r;
		if (!b->have_lo || v > b->lo)
			b->lo = v;
		b->have_lo = true;
	}
	b->n++;
}

/* The packets of one conversation whose sending and receiving we saw. */
static void conversation_bounds(struct bounds *b, const struct tt_hosts *H,
				const struct conn *x, unsigned int hx,
				const struct conn *y, unsigned int hy)
{
	const struct conn *cl = x, *sv = y;
	unsigned int hc = hx, hsv = hy;

	if (x->role == ROLE_SERVER) {
		cl = y;
		sv = x;
		hc = hy;
		hsv = hx;
	}
	if (cl->role == ROLE_CLIENT && sv->role == ROLE_SERVER) {
		/* SYN; SYN-ACK (sent after the request socket); ACK */
		bound(b, H, hc, cl->syn_ns, hsv, sv->syn_ns);
		if (sv->req_cookie)
			bound(b, H, hsv, sv->syn_ns, hc, cl->est_ns);
		bound(b, H, hc, cl->est_ns, hsv, sv->est_ns);
	}
	for (int i = 0; i < 2; i++) {
		const struct conn *a = i ? y : x, *p = i ? x : y;
		unsigned int ha = i ? hy : hx, hp = i ? hx : hy;
		uint64_t fin = tt_conn_entered(a, TCPSTATES_FIN_WAIT1);

		/* a's FIN; p's ACK of it; p's FIN after a's */
		bound(b, H, ha, fin, hp,
		      tt_conn_entered(p, TCPSTATES_CLOSE_WAIT));
		bound(b, H, ha, fin, hp, tt_conn_entered(p, TCPSTATES_CLOSING));
		bound(b, H, hp, tt_conn_entered(p, TCPSTATES_CLOSE_WAIT), ha,
		      tt_conn_entered(a, TCPSTATES_FIN_WAIT2));
		if (tt_conn_entered(a, TCPSTATES_FIN_WAIT2))
			bound(b, H, hp, tt_conn_entered(p, TCPSTATES_LAST_ACK),
			      ha, tt_conn_entered(a, TCPSTATES_TIME_WAIT));
	}
}

static void estimate(struct tt_hosts *H, unsigned int h, const struct bounds *b,
		     unsigned int conversations)
{
	struct tt_host_clock *k = &H->clock[h];

	k->bounds = b->n;
	k->conversations = conversations;
	k->have_lo = b->have_lo;
	k->have_hi = b->have_hi;
	k->lo_ns = b->lo;
	k->hi_ns = b->hi;
	if (b->have_lo && b->have_hi)
		k->est_ns = b->lo + (b->hi - b->lo) / 2;
	else if (b->have_hi)
		k->est_ns = b->hi < 0 ? b->hi :
					0; /* the wall clock, if it fits */
	else if (b->have_lo)
		k->est_ns = b->lo > 0 ? b->lo : 0;
}

static int64_t shift_of(const struct tt_hosts *H, unsigned int h)
{
	if (H->clock[h].unplaced)
		return 0;
	return H->rt[h] - H->rt[0] - H->clock[h].est_ns;
}

static void lowest(uint64_t *low, const struct conn *c)
{
	if (c && c->first_ns && c->first_ns < *low)
		*low = c->first_ns;
}

/*
 * A host whose times, moved onto host 0's clock, would fall before its 0
 * (a boot long before host 0's, or a wrong offset) stays on its own clock:
 * an unsigned time never wraps into the year 2500.
 */
static void check_placed(struct tt_hosts *H)
{
	for (unsigned int h = 1; h < H->nhosts; h++) {
		int64_t d = shift_of(H, h);
		uint64_t low = UINT64_MAX;

		for (size_t i = 0; i < H->n; i++) {
			const struct item *it = &H->items[i];

			if (it->merged)
				continue;
			if (it->host == h)
				lowest(&low, it->c);
			if (it->peer_host == h)
				lowest(&low, it->peer);
		}
		if (d < 0 && low != UINT64_MAX && low <= -(uint64_t)d)
			H->clock[h].unplaced = true;
	}
}

static uint64_t item_start(const struct item *it)
{
	uint64_t t = it->c->first_ns;

	if (it->peer && it->peer->first_ns && it->peer->first_ns < t)
		t = it->peer->first_ns;
	return t;
}

static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	uint64_t tx, ty;

	if (x->merged != y->merged)
		return x->merged ? 1 : -1;
	if (x->merged)
		return 0;
	tx = item_start(x);
	ty = item_start(y);
	if (tx != ty)
		return tx < ty ? -1 : 1;
	if (x->host != y->host)
		return x->host < y->host ? -1 : 1;
	return x->c->id < y->c->id ? -1 : x->c->id > y->c->id;
}

void tt_hosts_pair(struct tt_hosts *H)
{
	struct htab t;

	if (ht_init(&t, 1024))
		return;
	for (size_t i = 0; i < H->n; i++) {
		struct conn *c = H->items[i].c;

		c->req = &H->items[i]; /* clones have no request: the owner */
		if (!H->items[i].peer && pairable(c))
			ht_add(&t, &c->by_tuple,
			       key_tuple(c->laddr, c->lport, c->raddr,
					 c->rport));
	}
	for (size_t i = 0; i < H->n; i++) {
		struct item *it = &H->items[i];
		struct conn *x = it->c;
		uint64_t k;

		if (it->peer || it->merged || !pairable(x))
			continue;
		k = key_tuple(x->laddr, x->lport, x->raddr, x->rport);
		for (struct hnode *n = ht_bucket(&t, k); n; n = n->next) {
			struct conn *y = container_of(n, struct conn, by_tuple);
			struct item *o = y->req;

			if (n->hash != k || o == it || o->merged || o->peer ||
			    o->host == it->host || !mirrors(x, y))
				continue;
			it->peer = y;
			it->peer_host = o->host;
			x->peer = y;
			y->peer = x;
			o->c = NULL;
			o->merged = true;
			break;
		}
	}
	free(t.b);
	for (size_t i = 0; i < H->n; i++) {
		if (H->items[i].c)
			H->items[i].c->req = NULL;
		if (H->items[i].peer)
			H->items[i].peer->req = NULL;
	}
	for (unsigned int h = 1; h < H->nhosts; h++) {
		struct bounds b = { 0 };
		unsigned int conv = 0;

		for (size_t i = 0; i < H->n; i++) {
			struct item *it = &H->items[i];

			if (it->merged || it->host == it->peer_host ||
			    (it->host != 0 && it->peer_host != 0) ||
			    (it->host != h && it->peer_host != h))
				continue;
			conversation_bounds(&b, H, it->c, it->host, it->peer,
					    it->peer_host);
			conv++;
		}
		estimate(H, h, &b, conv);
	}
	check_placed(H);
}

const struct tt_host_clock *tt_hosts_clock(const struct tt_hosts *H,
					   unsigned int host)
{
	return host < H->nhosts ? &H->clock[host] : NULL;
}

/* ---- emitting, on host 0's clock ---- */

void tt_hosts_emit(struct tt_hosts *H, const struct tt_sink *sink)
{
	for (size_t i = 0; i < H->n; i++) {
		struct item *it = &H->items[i];

		if (it->merged)
			continue;
		tt_conn_shift(it->c, shift_of(H, it->host));
		if (it->peer && it->peer_host != it->host)
			tt_conn_shift(it->peer, shift_of(H, it->peer_host));
		else if (it->peer)
			tt_conn_shift(it->peer, shift_of(H, it->host));
	}
	qsort(H->items, H->n, sizeof(*H->items), cmp_item);
	for (size_t i = 0; i < H->n && !H->items[i].merged; i++)
		sink->conn(sink->arg, H->items[i].c, H->items[i].peer);
}
