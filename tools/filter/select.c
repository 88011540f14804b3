// SPDX-License-Identifier: GPL-2.0
/*
 * Filters for records (-w, --dump, --stats counts): a record is kept when
 * its connection's conversation is shown, and records stay in their order.
 * A record whose connection is not decided yet waits in a queue, and with
 * it every record behind it; the queue moves as verdicts come in:
 *
 *   record -> [ held | held | held ] -> out (in order), or dropped
 *              ^ waits for its connection's verdict (filter.c decides it
 *                early when it can, else when the conversation ends)
 *
 * So a filtered live recording lags behind its longest undecided
 * connection, by at most its lifetime; --port and --addr decide at once.
 *
 * Verdicts are kept by connection id in a small table. A request's id is
 * an alias of its connection's; an id that no record will name again
 * (retired) is dropped once no held record refers to it.
 */
#include <stdlib.h>
#include <string.h>

#include "filter/filter.h"
#include "reconstruct/htab.h"

enum { V_UNSURE = -1, V_NO = 0, V_YES = 1, V_ALONE = 2 };

struct verdict {
	struct hnode node;
	uint64_t id;
	int v; /* V_*: ALONE, judge each record by itself */
	struct verdict *to; /* an alias: the verdict is to's */
	uint32_t refs; /* held records and aliases naming it */
	bool retired;
};

struct held {
	struct tcpstates_record r;
	struct verdict *owner; /* NULL: judged already, see v */
	int v;
};

struct tt_select {
	const struct filter *f;
	tt_record_fn out;
	void *arg;
	struct htab ids;
	struct held *q;
	size_t head, len, cap; /* a ring */
};

struct tt_select *tt_select_new(const struct filter *f, tt_record_fn out,
				void *arg)
{
	struct tt_select *S = calloc(1, sizeof(*S));

	if (!S || ht_init(&S->ids, 256)) {
		free(S);
		return NULL;
	}
	S->f = f;
	S->out = out;
	S->arg = arg;
	return S;
}

static struct verdict *find(struct tt_select *S, uint64_t id, bool make)
{
	uint64_t h = mix64(id);
	struct verdict *e;

	for (struct hnode *n = ht_bucket(&S->ids, h); n; n = n->next) {
		e = container_of(n, struct verdict, node);
		if (e->id == id)
			return e;
	}
	if (!make || !(e = calloc(1, sizeof(*e))))
		return NULL;
	e->id = id;
	e->v = V_UNSURE;
	ht_add(&S->ids, &e->node, h);
	return e;
}

static void unref(struct tt_select *S, struct verdict *e)
{
	while (e && --e->refs == 0 && e->retired) {
		struct verdict *to = e->to;

		ht_del(&S->ids, &e->node);
		free(e);
		e = to;
	}
}

static int resolve(const struct verdict *e)
{
	while (e->to)
		e = e->to;
	return e->v;
}

/* Out goes what is decided at the head of the queue, in order. */
static void flush(struct tt_select *S, bool all)
{
	while (S->len) {
		struct held *h = &S->q[S->head];
		int v = h->owner ? resolve(h->owner) : h->v;

		if (v == V_UNSURE && !all)
			break;
		if (v == V_UNSURE || v == V_ALONE)
			v = tt_filter_record(S->f, &h->r);
		if (v == V_YES)
			S->out(S->arg, &h->r);
		if (h->owner)
			unref(S, h->owner);
		S->head = (S->head + 1) % S->cap;
		S->len--;
	}
}

static int push(struct tt_select *S, const struct tcpstates_record *r,
		struct verdict *owner, int v)
{
	if (S->len == S->cap) {
		size_t cap = S->cap ? S->cap * 2 : 1024;
		struct held *q = malloc(cap * sizeof(*q));

		if (!q)
			return -1;
		for (size_t i = 0; i < S->len; i++)
			q[i] = S->q[(S->head + i) % S->cap];
		free(S->q);
		S->q = q;
		S->cap = cap;
		S->head = 0;
	}
	S->q[(S->head + S->len++) % S->cap] = (struct held){ *r, owner, v };
	if (owner)
		owner->refs++;
	return 0;
}

void tt_select_record(struct tt_select *S, const struct tcpstates_record *r,
		      uint64_t id, const struct conn *live)
{
	struct verdict *e = NULL;
	int v = V_ALONE;

	if (r->kind == TCPSTATES_EV_LOST)
		v = V_YES; /* a loss is everybody's */
	else if (id && !(e = find(S, id, true)))
		v = V_ALONE; /* out of memory: judge it by itself */
	if (e && e->v == V_UNSURE && !e->to && live)
		e->v = tt_filter_early(S->f, live);
	if (e && resolve(e) != V_UNSURE) {
		v = resolve(e);
		e = NULL;
	}
	if (push(S, r, e, v) == 0)
		flush(S, false);
}

/* The conversation of @c and @peer is shown (or not). */
void tt_select_decide(struct tt_select *S, uint64_t c, uint64_t peer,
		      bool shown)
{
	struct verdict *e;

	if ((e = find(S, c, true)))
		e->v = shown;
	if (peer && (e = find(S, peer, true)))
		e->v = shown;
	flush(S, false);
}

void tt_select_alias(struct tt_select *S, uint64_t from, uint64_t to)
{
	struct verdict *e = find(S, from, true), *t;

	if (!e)
		return;
	e->retired = true;
	if (!to) {
		e->v = V_ALONE;
	} else if ((t = find(S, to, true))) {
		e->to = t;
		t->refs++;
	}
	e->refs++; /* released below: frees it if nothing holds it */
	unref(S, e);
	flush(S, false);
}

void tt_select_retire(struct tt_select *S, uint64_t id)
{
	struct verdict *e = find(S, id, false);

	if (!e)
		return;
	e->retired = true;
	e->refs++;
	unref(S, e);
}

/* The end of the input: everything still held is judged now. */
void tt_select_finish(struct tt_select *S)
{
	flush(S, true);
}

void tt_select_free(struct tt_select *S)
{
	if (!S)
		return;
	for (size_t i = 0; i <= S->ids.mask; i++) {
		struct hnode *n = S->ids.b[i], *next;

		for (; n; n = next) {
			next = n->next;
			free(container_of(n, struct verdict, node));
		}
	}
	free(S->ids.b);
	free(S->q);
	free(S);
}
