// SPDX-License-Identifier: GPL-2.0
/*
 * --stats' destinations: where a client's ephemeral ports go, and when they
 * run out.
 *
 * A client side takes a local port when its SYN leaves (the connect record)
 * and holds it until the side ends: through TIME_WAIT, whose timewait
 * socket keeps the 4-tuple, or at CLOSE when it skipped TIME_WAIT. connect()
 * without bind() may pick a port another destination uses, but never one
 * whose 4-tuple to this destination is held: so the ports a destination has
 * left are its range (the connect record's, TCPSTATES_PORTS_*) less what its
 * own client sides hold. Ports that bind() or a listener took in that range
 * are not seen here, nor ip_local_reserved_ports: "left" is an upper bound.
 * Where tcp_tw_reuse lets connect() take over a TIME_WAIT older than a second
 * (loopback, by default), a destination can hold more than its range.
 *
 * The forecast is the last minute's net rate (ports taken less ports freed,
 * over the 60 s up to the destination's last event, or since its first
 * connect if that is later, which it does not count: n connects are n - 1
 * intervals) carried forward: "at that rate, none left in N
 * s" after that event. Its own events, not the last record, end the window:
 * each host of a merge has its own clock. A merge keys destinations as one
 * host does: two hosts' clients of one peer from one local address (NAT,
 * loopback) would be summed, on two clocks.
 * Everything is counted as it happens (the sink's side events), so the
 * figures are those of the moment the input ends, or -i's interval ends.
 */
#include <stdlib.h>
#include <string.h>

#include "output/output.h"
#include "reconstruct/htab.h"

#define WINDOW_NS (60ULL * 1000000000ULL)
#define SHOWN TT_PORTS_TOP /* destinations shown, the most ports held first */

/* Times of the last minute's events, oldest first. */
struct times {
	uint64_t *v;
	size_t head, n, cap;
};

struct dest {
	struct hnode node; /* in tt_ports.by_key */
	uint32_t netns;
	uint8_t family;
	uint8_t laddr[16], raddr[16];
	uint16_t rport;
	uint32_t range; /* the last connect's: low | high << 16; 0: unknown */
	uint64_t connects, no_port, first_ns, first_no_port_ns;
	uint64_t held, held_peak, tw, tw_peak;
	uint64_t last_ns; /* its last event: a port taken or freed */
	struct times taken, freed;
};

struct tt_ports {
	struct dest **d; /* in the order first seen */
	size_t n, cap;
	struct htab by_key;
};

static void times_drop_before(struct times *t, uint64_t from)
{
	while (t->n && t->v[t->head] < from) {
		t->head++;
		t->n--;
	}
	if (!t->n)
		t->head = 0;
}

static void times_add(struct times *t, uint64_t ns)
{
	uint64_t *p;

	times_drop_before(t, ns > WINDOW_NS ? ns - WINDOW_NS : 0);
	if (t->head + t->n == t->cap) {
		if (t->head) { /* slide the live part down first */
			memmove(t->v, t->v + t->head, t->n * sizeof(*t->v));
			t->head = 0;
		}
		p = tt_grow(t->v, &t->cap, t->n, sizeof(*p), 64);
		if (!p)
			return; /* out of memory: the rate misses it */
		t->v = p;
	}
	t->v[t->head + t->n++] = ns;
}

static uint64_t times_since(const struct times *t, uint64_t from)
{
	uint64_t n = 0;

	for (size_t i = 0; i < t->n; i++)
		n += t->v[t->head + i] >= from;
	return n;
}

struct tt_ports *tt_ports_new(void)
{
	struct tt_ports *P = calloc(1, sizeof(*P));

	if (P && ht_init(&P->by_key, 64)) {
		free(P);
		return NULL;
	}
	return P;
}

void tt_ports_free(struct tt_ports *P)
{
	if (!P)
		return;
	for (size_t i = 0; i < P->n; i++) {
		free(P->d[i]->taken.v);
		free(P->d[i]->freed.v);
		free(P->d[i]);
	}
	free(P->d);
	free(P->by_key.b);
	free(P);
}

static struct dest *dest_of(struct tt_ports *P, const struct conn *c)
{
	uint64_t h =
		mix64(key_tuple(c->laddr, 0, c->raddr, c->rport) ^ c->netns);
	struct dest **a, *d;

	for (struct hnode *n = ht_bucket(&P->by_key, h); n; n = n->next) {
		d = container_of(n, struct dest, node);
		if (n->hash == h && d->netns == c->netns &&
		    d->family == c->family && d->rport == c->rport &&
		    !memcmp(d->laddr, c->laddr, 16) &&
		    !memcmp(d->raddr, c->raddr, 16))
			return d;
	}
	/* out of memory: this one goes uncounted */
	a = tt_grow(P->d, &P->cap, P->n, sizeof(*a), 8);
	if (!a)
		return NULL;
	P->d = a;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	P->d[P->n++] = d;
	ht_add(&P->by_key, &d->node, h);
	d->netns = c->netns;
	d->family = c->family;
	d->rport = c->rport;
	memcpy(d->laddr, c->laddr, 16);
	memcpy(d->raddr, c->raddr, 16);
	return d;
}

/* Did @c take an ephemeral port of its range (not a bound one)? */
static bool takes_port(const struct conn *c)
{
	uint16_t lo = TCPSTATES_PORTS_LOW(c->port_range),
		 hi = TCPSTATES_PORTS_HIGH(c->port_range);

	return c->role == ROLE_CLIENT && c->connect_ns &&
	       (!c->port_range || (c->lport >= lo && c->lport <= hi));
}

void tt_ports_side(struct tt_ports *P, const struct conn *c,
		   enum tt_side_event ev)
{
	struct dest *d;
	/* not the input's end: a side still open, or in TIME_WAIT, holds on */
	bool ended = ev == TT_SIDE_ENDED && c->close != CLOSE_OPEN &&
		     !(c->tw_handed && c->twend == TW_NONE);

	if (c->role != ROLE_CLIENT || !c->rport)
		return;
	if (ev == TT_SIDE_ENDED && c->reason == REASON_NO_PORT) {
		if (!(d = dest_of(P, c)))
			return;
		if (!d->no_port++)
			d->first_no_port_ns = c->end_ns;
		return;
	}
	if (!takes_port(c) || !(d = dest_of(P, c)))
		return;
	if (ev == TT_SIDE_CONNECTED) {
		if (!d->connects++)
			d->first_ns = c->connect_ns;
		if (c->port_range)
			d->range = c->port_range;
		if (++d->held > d->held_peak)
			d->held_peak = d->held;
		times_add(&d->taken, c->connect_ns);
		if (c->connect_ns > d->last_ns)
			d->last_ns = c->connect_ns;
	} else if (ev == TT_SIDE_TIME_WAIT) {
		if (++d->tw > d->tw_peak)
			d->tw_peak = d->tw;
	} else if (ended) {
		if (d->held)
			d->held--;
		if (d->tw && tt_conn_visited(c, TCPSTATES_TIME_WAIT))
			d->tw--;
		times_add(&d->freed, c->end_ns);
		if (c->end_ns > d->last_ns)
			d->last_ns = c->end_ns;
	}
}

static bool dest_forecast(const struct dest *d, struct tt_port_forecast *f)
{
	uint64_t lo, hi, from, span, size, taken;

	memset(f, 0, sizeof(*f));
	if (!d || !d->connects || d->last_ns < d->first_ns)
		return false;
	lo = TCPSTATES_PORTS_LOW(d->range);
	hi = TCPSTATES_PORTS_HIGH(d->range);
	from = d->last_ns >= WINDOW_NS ? d->last_ns - WINDOW_NS : 0;
	if (from < d->first_ns)
		from = d->first_ns;
	span = d->last_ns - from;
	f->window_ns = span;
	f->taken = times_since(&d->taken, from);
	f->freed = times_since(&d->freed, from);
	if (!d->range || hi < lo)
		return true;
	f->have_range = true;
	size = hi - lo + 1;
	f->left = d->held < size ? size - d->held : 0;
	/*
	 * A window that starts at the first connect holds one connect more
	 * than the gaps between them: n connects span n - 1 intervals.
	 */
	taken = f->taken - (from == d->first_ns && f->taken);
	if (f->left && taken > f->freed && span) {
		f->filling = true;
		f->eta_ns =
			(uint64_t)((double)f->left * span / (taken - f->freed));
	}
	return true;
}

bool tt_ports_forecast(const struct tt_ports *P, size_t i,
		       struct tt_port_forecast *f)
{
	return dest_forecast(i < P->n ? P->d[i] : NULL, f);
}

/* Most ports held first, then most ever held, then by address. */
static int cmp_dest(const void *x, const void *y)
{
	const struct dest *a = x, *b = y;
	int r;

	if (a->held != b->held)
		return a->held > b->held ? -1 : 1;
	if (a->held_peak != b->held_peak)
		return a->held_peak > b->held_peak ? -1 : 1;
	if (a->netns != b->netns)
		return a->netns < b->netns ? -1 : 1;
	if ((r = memcmp(a->laddr, b->laddr, 16)) ||
	    (r = memcmp(a->raddr, b->raddr, 16)))
		return r;
	return (a->rport > b->rport) - (a->rport < b->rport);
}

/* The SHOWN destinations first by cmp_dest(), in that order: their count. */
static size_t select_top(const struct tt_ports *P, size_t idx[SHOWN])
{
	size_t k, j;

	for (k = 0; k < SHOWN && k < P->n; k++) {
		size_t best = P->n;

		for (size_t i = 0; i < P->n; i++) {
			for (j = 0; j < k && idx[j] != i; j++)
				;
			if (j == k &&
			    (best == P->n || cmp_dest(P->d[i], P->d[best]) < 0))
				best = i;
		}
		idx[k] = best;
	}
	return k;
}

void tt_ports_top(const struct tt_ports *P, struct tt_ports_top *t)
{
	size_t idx[SHOWN];

	memset(t, 0, sizeof(*t));
	t->valid = true;
	t->n = select_top(P, idx);
	for (size_t i = 0; i < P->n; i++) {
		t->no_port += P->d[i]->no_port;
		t->others_held += P->d[i]->held;
		t->others_tw += P->d[i]->tw;
	}
	for (size_t k = 0; k < t->n; k++) {
		const struct dest *d = P->d[idx[k]];
		struct tt_port_dest *o = &t->d[k];

		o->netns = d->netns;
		o->family = d->family;
		memcpy(o->laddr, d->laddr, 16);
		memcpy(o->raddr, d->raddr, 16);
		o->rport = d->rport;
		o->held = d->held;
		o->tw = d->tw;
		o->have_forecast = tt_ports_forecast(P, idx[k], &o->fc);
		t->others_held -= d->held;
		t->others_tw -= d->tw;
	}
	t->others = P->n - t->n;
}

void tt_ports_print(const struct tt_ports *P, FILE *f)
{
	char la[64], ra[64], w[32], e[32], t[32];
	struct tt_port_forecast fc;
	struct tt_ports_top top;
	size_t idx[SHOWN];

	if (!P->n)
		return;
	select_top(P, idx);
	tt_ports_top(P, &top);
	fprintf(f,
		"\ndestinations (client sides per namespace, local address and peer: ephemeral ports; the %d holding most)\n",
		SHOWN);
	for (size_t k = 0; k < top.n; k++) {
		const struct dest *d = P->d[idx[k]];

		tt_format_addr(d->family, d->laddr, la, sizeof(la));
		tt_fmt_endpoint(ra, sizeof(ra), d->family, d->raddr, d->rport);
		fprintf(f, "  netns %u %s -> %s\n", d->netns, la, ra);
		fprintf(f,
			"    connects %llu, no free port (EADDRNOTAVAIL) %llu",
			(unsigned long long)d->connects,
			(unsigned long long)d->no_port);
		if (d->no_port && d->connects &&
		    d->first_no_port_ns >= d->first_ns) {
			tt_fmt_dur(t, sizeof(t),
				   d->first_no_port_ns - d->first_ns);
			fprintf(f, ", the first %s after the first connect", t);
		}
		fprintf(f, "\n    TIME_WAIT %llu (peak %llu)\n",
			(unsigned long long)d->tw,
			(unsigned long long)d->tw_peak);
		fprintf(f, "    ports held %llu (peak %llu)",
			(unsigned long long)d->held,
			(unsigned long long)d->held_peak);
		if (!top.d[k].have_forecast) /* tt_ports_top() made it */
			continue;
		fc = top.d[k].fc;
		if (fc.have_range)
			fprintf(f, " of %u-%u: %llu left\n",
				(unsigned int)TCPSTATES_PORTS_LOW(d->range),
				(unsigned int)TCPSTATES_PORTS_HIGH(d->range),
				(unsigned long long)fc.left);
		else
			fprintf(f, ", range not recorded\n");
		tt_fmt_dur(w, sizeof(w), fc.window_ns);
		fprintf(f, "    last %s: %llu taken, %llu freed", w,
			(unsigned long long)fc.taken,
			(unsigned long long)fc.freed);
		if (fc.filling) {
			tt_fmt_dur(e, sizeof(e), fc.eta_ns);
			fprintf(f, ": at that rate none left in %s\n", e);
		} else if (fc.have_range && !fc.left) {
			fprintf(f, ": none left\n");
		} else {
			fprintf(f, "\n");
		}
	}
	if (top.others)
		fprintf(f, "  %zu more: ports held %llu, TIME_WAIT %llu\n",
			top.others, (unsigned long long)top.others_held,
			(unsigned long long)top.others_tw);
}

static int cmp_dest_ptr(const void *x, const void *y)
{
	return cmp_dest(*(const struct dest *const *)x,
			*(const struct dest *const *)y);
}

/*
 * --stats-json: ,"destinations":[...], every one, the most ports held
 * first; the range, the ports left and the forecast null where unknown.
 */
void tt_ports_json(const struct tt_ports *P, FILE *f)
{
	char la[64], ra[64];
	struct tt_port_forecast fc;
	struct dest **order;

	fprintf(f, ",\"destinations\":[");
	if (!P->n) {
		fputc(']', f);
		return;
	}
	order = malloc(P->n * sizeof(*order));
	if (!order) { /* said, not silently left out */
		fprintf(f, "],\"destinations_error\":\"out of memory\"");
		return;
	}
	memcpy(order, P->d, P->n * sizeof(*order));
	qsort(order, P->n, sizeof(*order), cmp_dest_ptr);
	for (size_t k = 0; k < P->n; k++) {
		const struct dest *d = order[k];

		dest_forecast(d, &fc);
		tt_format_addr(d->family, d->laddr, la, sizeof(la));
		tt_format_addr(d->family, d->raddr, ra, sizeof(ra));
		fprintf(f,
			"%s{\"netns\":%u,\"family\":\"%s\",\"laddr\":\"%s\",\"raddr\":\"%s\",\"rport\":%u,\"connects\":%llu,\"no_port\":%llu,\"time_wait\":%llu,\"time_wait_peak\":%llu,\"held\":%llu,\"held_peak\":%llu",
			k ? "," : "", d->netns,
			d->family == TCPSTATES_FAMILY_INET6 ? "ipv6" : "ipv4",
			la, ra, d->rport, (unsigned long long)d->connects,
			(unsigned long long)d->no_port,
			(unsigned long long)d->tw,
			(unsigned long long)d->tw_peak,
			(unsigned long long)d->held,
			(unsigned long long)d->held_peak);
		if (fc.have_range)
			fprintf(f,
				",\"port_low\":%u,\"port_high\":%u,\"left\":%llu",
				(unsigned int)TCPSTATES_PORTS_LOW(d->range),
				(unsigned int)TCPSTATES_PORTS_HIGH(d->range),
				(unsigned long long)fc.left);
		else
			fprintf(f,
				",\"port_low\":null,\"port_high\":null,\"left\":null");
		fprintf(f,
			",\"window_ns\":%llu,\"taken\":%llu,\"freed\":%llu,\"exhausted_in_ns\":",
			(unsigned long long)fc.window_ns,
			(unsigned long long)fc.taken,
			(unsigned long long)fc.freed);
		if (fc.filling)
			fprintf(f, "%llu}", (unsigned long long)fc.eta_ns);
		else if (fc.have_range && !fc.left)
			fprintf(f, "0}");
		else
			fprintf(f, "null}");
	}
	fputc(']', f);
	free(order);
}
