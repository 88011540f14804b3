// SPDX-License-Identifier: GPL-2.0
/*
 * --diagram's counts. Each side shown is walked once, span by span: the
 * edge into each state it entered, and the time it spent in the state it
 * left (the next span's entry minus its own). Nothing grows with the input:
 * a count and a cause per close kind per edge, a sketch per edge taken,
 * and the first conversation, kept for the one-connection view.
 *
 * A side's first span is an edge only where the figure has one into it:
 * from CLOSED to SYN_SENT or LISTEN, from LISTEN to the server's
 * NEW_SYN_RECV (or to SYN_RECV, when its request was not recorded). A
 * first span in any other state is history from before the recording.
 */
#include <stdlib.h>
#include <string.h>

#include "output/diagram.h"

struct tt_diagram *tt_diagram_new(void)
{
	return calloc(1, sizeof(struct tt_diagram));
}

void tt_diagram_free(struct tt_diagram *D)
{
	if (!D)
		return;
	for (unsigned int f = 0; f < TCPSTATES_NR_STATES; f++)
		for (unsigned int t = 0; t < TCPSTATES_NR_STATES; t++)
			for (int o = 0; o < 2; o++)
				free(D->e[f][t][o].sk);
	tt_conn_free(D->one[0]);
	tt_conn_free(D->one[1]);
	free(D);
}

static bool abnormal(unsigned int close)
{
	return close == CLOSE_RESET_SENT || close == CLOSE_RESET_RECEIVED ||
	       close == CLOSE_REFUSED || close == CLOSE_TIMEOUT ||
	       close == CLOSE_ERROR;
}

bool tt_diagram_edge_of(const struct conn *c, uint32_t i, unsigned int *from,
			bool *off)
{
	unsigned int to = c->states[i].state;
	const struct tt_dgm_path *p;

	*off = false;
	if (i) {
		*from = c->states[i - 1].state;
	} else if (to == TCPSTATES_SYN_SENT || to == TCPSTATES_LISTEN) {
		*from = TCPSTATES_CLOSE;
	} else if (to == TCPSTATES_NEW_SYN_RECV ||
		   (to == TCPSTATES_SYN_RECV && c->role == ROLE_SERVER)) {
		*from = TCPSTATES_LISTEN;
	} else {
		return false;
	}
	p = tt_dgm_path_of(*from, to);
	*off = p && p->figure && to == TCPSTATES_CLOSE && i + 1 == c->nstates &&
	       abnormal(c->close);
	return *from < TCPSTATES_NR_STATES && to < TCPSTATES_NR_STATES;
}

static void side(struct tt_diagram *D, const struct conn *c)
{
	uint32_t rearm_entries = 0;

	D->sides++;
	for (uint32_t i = 0; i < c->nstates; i++) {
		const struct tt_span *s = &c->states[i];
		struct tt_dgm_edge *e;
		unsigned int from;
		bool off;

		if (s->state == TCPSTATES_TIME_WAIT &&
		    s->kind == TCPSTATES_EV_TW_REARM)
			rearm_entries++;
		if (!tt_diagram_edge_of(c, i, &from, &off))
			continue;
		e = &D->e[from][s->state][off];
		e->n++;
		if (s->state == TCPSTATES_CLOSE && i + 1 == c->nstates &&
		    c->close < CLOSE_NR)
			e->causes[c->close]++;
		if (!i || s->enter_ns < c->states[i - 1].enter_ns)
			continue;
		if (!e->sk && !(e->sk = calloc(1, sizeof(*e->sk))))
			continue; /* out of memory: the times miss it */
		tt_sketch_add(e->sk, s->enter_ns - c->states[i - 1].enter_ns);
	}
	if (c->tw_rearms > rearm_entries)
		D->rearms += c->tw_rearms - rearm_entries;
}

void tt_diagram_conn(struct tt_diagram *D, const struct conn *a,
		     const struct conn *b)
{
	D->conversations++;
	side(D, a);
	if (b)
		side(D, b);
	if (D->conversations == 1) {
		D->one[0] = tt_conn_clone(a);
		D->one[1] = b ? tt_conn_clone(b) : NULL;
	}
}

bool tt_diagram_single(const struct tt_diagram *D, const struct conn **l,
		       const struct conn **r)
{
	if (D->conversations != 1 || !D->one[0])
		return false;
	*l = D->one[0];
	*r = D->one[1];
	tt_pair_order(l, r);
	return true;
}

static size_t add_row(struct tt_dgm_row *rows, size_t n, unsigned int num,
		      unsigned int from, unsigned int to, bool off,
		      const struct tt_dgm_path *p, const struct tt_dgm_edge *e)
{
	rows[n] = (struct tt_dgm_row){ .n = num,
				       .from = from,
				       .to = to,
				       .off = off,
				       .path = p,
				       .e = e->n ? e : NULL };
	return n + 1;
}

size_t tt_dgm_rows(const struct tt_diagram *D, struct tt_dgm_row *rows)
{
	size_t np, n = 0;
	const struct tt_dgm_path *p = tt_dgm_paths(&np);
	unsigned int num = np + 1;

	/* the figure's always; Linux's request socket once taken */
	for (size_t i = 0; i < np; i++)
		if (p[i].figure || D->e[p[i].from][p[i].to][0].n)
			n = add_row(rows, n, p[i].n, p[i].from, p[i].to, false,
				    &p[i], &D->e[p[i].from][p[i].to][0]);
	for (unsigned int f = 0; f < TCPSTATES_NR_STATES; f++) {
		for (unsigned int t = 0; t < TCPSTATES_NR_STATES; t++) {
			const struct tt_dgm_edge *e = D->e[f][t];

			if (e[1].n)
				n = add_row(rows, n, num++, f, t, true, NULL,
					    &e[1]);
			if (e[0].n && !tt_dgm_path_of(f, t))
				n = add_row(rows, n, num++, f, t, false, NULL,
					    &e[0]);
		}
	}
	return n;
}

bool tt_dgm_lit(const struct tt_diagram *D, struct tt_dgm_lit *lit)
{
	const struct conn *s[2];

	memset(lit, 0, sizeof(*lit));
	if (!tt_diagram_single(D, &s[0], &s[1]))
		return false;
	for (int k = 0; k < 2 && s[k]; k++) {
		for (uint32_t i = 0; i < s[k]->nstates; i++) {
			unsigned int from, to = s[k]->states[i].state;
			bool off;

			if (to < TCPSTATES_NR_STATES)
				lit->state[to] = true;
			if (!tt_diagram_edge_of(s[k], i, &from, &off))
				continue;
			lit->edge[from][to][off] = true;
			lit->state[from] = true;
		}
	}
	return true;
}

/* What the last column says: the figure's event, or what caused it. */
void tt_dgm_event(char *buf, size_t len, const struct tt_dgm_row *r)
{
	size_t n = 0;

	buf[0] = 0;
	if (r->path && r->path->figure && !r->off) {
		snprintf(buf, len, "%s", r->path->event);
		return;
	}
	if (r->path)
		n = snprintf(buf, len, "%s; ", r->path->event);
	for (unsigned int k = 0; r->e && k < CLOSE_NR && n < len; k++)
		if (r->e->causes[k])
			n += snprintf(buf + n, len - n, "%s %llu, ",
				      tt_close_name(k),
				      (unsigned long long)r->e->causes[k]);
	if (n >= 2 && n < len)
		buf[n - 2] = 0; /* the last separator */
	if (!buf[0])
		snprintf(buf, len, "not in the figure");
}
