// SPDX-License-Identifier: GPL-2.0
/*
 * --ladder: the classic two-column sequence diagram. The client (the side
 * that opened actively) is on the left, the server on the right. Each row is
 * one state a side entered, with the packet that transition implies drawn as
 * an arrow from the side that sent it:
 *
 *   SYN seq=A, SYN-ACK seq=B ack=A+1, ACK ack=B+1,
 *   FIN seq=C, ACK ack=C+1, FIN seq=D, ACK ack=D+1
 *
 * A and B are the client's and server's ISNs, C the first FIN sent (whoever
 * closed first), D the second. In a simultaneous close (FINs crossed) C is
 * the one sent first by the times both sides entered FIN_WAIT1, the
 * client's when only one side was recorded or the times tie. Rows are built once (tt_ladder_build) and drawn by
 * the terminal renderer here and the SVG renderer in svg.c.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "decode/put.h"
#include "output/output.h"

struct build {
	struct tt_ladder *L;
	size_t cap;
	char isn[2], fin[2]; /* letters per side */
	int prio;
};

/* snprintf(buf, len, "%s", s), without its cost: a copy cut to fit */
static void copy(char *buf, size_t len, const char *s)
{
	size_t n = strnlen(s, len - 1);

	memcpy(buf, s, n);
	buf[n] = 0;
}

static int add_step(struct build *b, uint64_t ts, int side, int dir,
		    const char *label, const char *state)
{
	struct tt_ladder *L = b->L;
	struct tt_step *s;

	if (L->nsteps == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct tt_step *n = realloc(L->steps, cap * sizeof(*n));

		if (!n)
			return -1;
		L->steps = n;
		b->cap = cap;
	}
	s = &L->steps[L->nsteps++];
	memset(s, 0, sizeof(*s));
	s->ts = ts;
	s->side = side;
	s->dir = dir;
	copy(s->label, sizeof(s->label), label);
	copy(s->state, sizeof(s->state), state);
	return 0;
}

/* What a side sent when it moved from @o to @n (and was not just told). */
static void packet(const struct build *b, int side, unsigned int o,
		   unsigned int n, char *buf, size_t len)
{
	char me = b->isn[side], peer = b->isn[!side];
	char myfin = b->fin[side], peerfin = b->fin[!side];

	buf[0] = 0;
	if (n == TCPSTATES_SYN_SENT &&
	    (o == TCPSTATES_STATE_NONE || o == TCPSTATES_CLOSE))
		snprintf(buf, len, "SYN seq=%c", me);
	else if (n == TCPSTATES_NEW_SYN_RECV ||
		 (o == TCPSTATES_SYN_SENT && n == TCPSTATES_SYN_RECV))
		snprintf(buf, len, "SYN-ACK seq=%c ack=%c+1", me, peer);
	else if (o == TCPSTATES_SYN_SENT && n == TCPSTATES_ESTABLISHED)
		snprintf(buf, len, "ACK ack=%c+1", peer);
	else if (n == TCPSTATES_FIN_WAIT1 || n == TCPSTATES_LAST_ACK)
		snprintf(buf, len, "FIN seq=%c", myfin);
	else if (n == TCPSTATES_CLOSE_WAIT || n == TCPSTATES_CLOSING ||
		 (n == TCPSTATES_TIME_WAIT && o != TCPSTATES_CLOSING))
		snprintf(buf, len, "ACK ack=%c+1", peerfin);
}

static int cmp_step(const void *x, const void *y)
{
	const struct tt_step *a = x, *b = y;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return 0;
}

static int side_steps(struct build *b, int side, const struct conn *c)
{
	char label[48], st[24], e[24];

	for (uint32_t i = 0; i < c->nstates; i++) {
		const struct tt_span *s = &c->states[i];
		unsigned int o = i ? c->states[i - 1].state :
				     TCPSTATES_STATE_NONE;

		packet(b, side, o, s->state, label, sizeof(label));
		snprintf(st, sizeof(st), "%s", tt_state_name(s->state));
		if (s->state == TCPSTATES_CLOSE) {
			if (c->twend == TW_EXPIRED)
				snprintf(st, sizeof(st), "CLOSE (expired)");
			else if (c->twend == TW_KILLED)
				snprintf(st, sizeof(st), "CLOSE (killed)");
			else if (c->close == CLOSE_RESET_RECEIVED)
				snprintf(label, sizeof(label),
					 "(RST received)");
			else if (c->close == CLOSE_REFUSED)
				snprintf(label, sizeof(label),
					 "(RST: refused)");
			else if (c->close == CLOSE_TIMEOUT)
				snprintf(label, sizeof(label), "(timeout)");
			else if (c->close == CLOSE_ERROR)
				snprintf(label, sizeof(label), "(%s)",
					 tt_errno_name(c->sk_err, e,
						       sizeof(e)));
		}
		if (add_step(b, s->enter_ns, side,
			     label[0] == '(' || !label[0] ? DIR_NONE :
			     side			  ? DIR_LEFT :
							    DIR_RIGHT,
			     label, st))
			return -1;
	}
	if (c->reset_sent && add_step(b, c->reset_ns, side,
				      side ? DIR_LEFT : DIR_RIGHT, "RST", ""))
		return -1;
	return 0;
}

static uint64_t est_leave(const struct conn *c)
{
	for (uint32_t i = 0; i < c->nstates; i++)
		if (c->states[i].state == TCPSTATES_ESTABLISHED)
			return c->states[i].leave_ns;
	return 0;
}

static void seqval(char *buf, size_t len, bool have, uint32_t v)
{
	if (have)
		snprintf(buf, len, "%u", v);
	else
		snprintf(buf, len, "?");
}

/* Which side sent the first FIN: 0 (left) or 1 (right). */
static int first_fin(const struct conn *l, const struct conn *r)
{
	uint64_t tl, tr;

	/* crossed FINs: the one sent first, on this clock; a tie is left's */
	if (l && r && l->close_first == CLOSE_SIMULTANEOUS &&
	    r->close_first == CLOSE_SIMULTANEOUS) {
		tl = tt_conn_entered(l, TCPSTATES_FIN_WAIT1);
		tr = tt_conn_entered(r, TCPSTATES_FIN_WAIT1);
		return tl && tr && tr < tl;
	}
	if (l && l->close_first == CLOSE_PASSIVE)
		return 1;
	if (!l || !l->close_first)
		return r && r->close_first == CLOSE_ACTIVE;
	return 0;
}

/*
 * A side's FIN is its own fin_local or, if that side was not recorded, the
 * other's fin_remote: the one it received.
 */
static void fin_value(char *buf, size_t len, const struct conn *own,
		      const struct conn *other)
{
	if (own)
		seqval(buf, len, own->have_fin_local, own->fin_local);
	else
		seqval(buf, len, other->have_fin_remote, other->fin_remote);
}

/* The values behind the letters, from whichever side saw them. */
static void legend(struct tt_ladder *L, int first)
{
	const struct conn *l = L->side[0], *r = L->side[1];
	const struct conn *cf = first ? r : l, *df = first ? l : r;
	char sa[16], sb[16], sc[16], sd[16];

	seqval(sa, sizeof(sa), l ? l->have_isn_local : r->have_isn_remote,
	       l ? l->isn_local : r->isn_remote);
	seqval(sb, sizeof(sb), r ? r->have_isn_local : l->have_isn_remote,
	       r ? r->isn_local : l->isn_remote);
	fin_value(sc, sizeof(sc), cf, df);
	fin_value(sd, sizeof(sd), df, cf);
	snprintf(L->legend, sizeof(L->legend), "A=%s B=%s C=%s D=%s", sa, sb,
		 sc, sd);
}

/* Captures of several hosts: " on HOST" after each side's address. */
static const char *on(const struct conn *c)
{
	return c && c->host ? " on " : "";
}

static const char *host(const struct conn *c)
{
	return c && c->host ? c->host : "";
}

static void title(struct tt_ladder *L)
{
	const struct conn *l = L->side[0], *r = L->side[1], *k = l ? l : r;
	char la[64], ra[64];

	if (l) {
		tt_fmt_endpoint(la, sizeof(la), k->family, l->laddr, l->lport);
		tt_fmt_endpoint(ra, sizeof(ra), k->family, l->raddr, l->rport);
	} else {
		tt_fmt_endpoint(la, sizeof(la), k->family, r->raddr, r->rport);
		tt_fmt_endpoint(ra, sizeof(ra), k->family, r->laddr, r->lport);
	}
	if (k->role == ROLE_LISTENER)
		snprintf(L->title, sizeof(L->title),
			 "listener %s netns %u cookie %llu (sk:%llx)%s%s", la,
			 k->netns, (unsigned long long)k->cookie,
			 (unsigned long long)k->cookie, on(k), host(k));
	else
		snprintf(L->title, sizeof(L->title), "%s %s%s%s | %s %s%s%s",
			 l ? tt_role_name(l->role) : "peer (not recorded)", la,
			 on(l), host(l),
			 r ? tt_role_name(r->role) : "peer (not recorded)", ra,
			 on(r), host(r));
}

/* Stable: the left side first on equal times. */
static void sort_steps(struct tt_ladder *L)
{
	for (size_t i = 1; i < L->nsteps; i++) {
		struct tt_step t = L->steps[i];
		size_t j = i;

		while (j > 0 && cmp_step(&L->steps[j - 1], &t) > 0) {
			L->steps[j] = L->steps[j - 1];
			j--;
		}
		L->steps[j] = t;
	}
}

/* When the data phase ends: the first side to leave ESTABLISHED, or reset. */
static uint64_t data_end(const struct conn *l, const struct conn *r)
{
	uint64_t ts = 0;

	for (int i = 0; i < 2; i++) {
		const struct conn *c = i ? r : l;

		if (c && est_leave(c) && (!ts || est_leave(c) < ts))
			ts = est_leave(c);
	}
	for (int i = 0; i < 2; i++) {
		const struct conn *c = i ? r : l;

		if (c && c->reset_sent && ts && c->reset_ns < ts)
			ts = c->reset_ns;
	}
	return ts;
}

/* The bytes each way, as a row before the first step of the close. */
static int data_step(struct build *B, uint64_t ts)
{
	struct tt_ladder *L = B->L;
	struct tt_bytes right, left;
	char label[64], a[24], b[24];
	struct tt_step t;
	size_t i;

	/* Either side knows both directions; prefer the client's. */
	if (L->side[0])
		tt_conn_bytes(L->side[0], &right, &left);
	else
		tt_conn_bytes(L->side[1], &left, &right);
	tt_fmt_bytes(a, sizeof(a), &right);
	tt_fmt_bytes(b, sizeof(b), &left);
	snprintf(label, sizeof(label), "data %s > < %s", a, b);
	if (right.kind == TT_BYTES_KERNEL || left.kind == TT_BYTES_KERNEL)
		snprintf(L->legend + strlen(L->legend),
			 sizeof(L->legend) - strlen(L->legend),
			 " (~: kernel byte counters)");
	if (add_step(B, ts, 2, DIR_NONE, label, ""))
		return -1;
	for (i = 0; i + 1 < L->nsteps && L->steps[i].ts < ts; i++)
		;
	t = L->steps[L->nsteps - 1];
	memmove(&L->steps[i + 1], &L->steps[i],
		(L->nsteps - 1 - i) * sizeof(t));
	L->steps[i] = t;
	return 0;
}

int tt_ladder_build(struct tt_ladder *L, const struct conn *a,
		    const struct conn *b)
{
	struct build B = { .L = L, .isn = { 'A', 'B' } };
	int first;

	memset(L, 0, sizeof(*L));
	tt_pair_order(&a, &b);
	L->side[0] = !b && a->role == ROLE_SERVER ? NULL : a;
	L->side[1] = L->side[0] ? b : a;
	first = first_fin(L->side[0], L->side[1]);
	B.fin[first] = 'C';
	B.fin[!first] = 'D';
	legend(L, first);
	title(L);
	if (L->side[0] && side_steps(&B, 0, L->side[0]))
		return -1;
	if (L->side[1] && side_steps(&B, 1, L->side[1]))
		return -1;
	sort_steps(L);
	if (data_end(L->side[0], L->side[1]))
		return data_step(&B, data_end(L->side[0], L->side[1]));
	return 0;
}

void tt_ladder_free(struct tt_ladder *L)
{
	free(L->steps);
	L->steps = NULL;
	L->nsteps = 0;
}

#define ARROW_W 32

static void arrow(char *buf, int dir, const char *label)
{
	size_t n = strlen(label), i = 0;

	if (dir == DIR_NONE) {
		if (n) {
			size_t pad = n < ARROW_W ? (ARROW_W - n) / 2 : 0;

			snprintf(buf, ARROW_W + 3, "|%*s%-*s|", (int)pad, "",
				 (int)(ARROW_W - pad), label);
		} else {
			snprintf(buf, ARROW_W + 3, "|%*s|", ARROW_W, "");
		}
		return;
	}
	if (n > ARROW_W - 6)
		n = ARROW_W - 6;
	buf[i++] = '|';
	if (dir == DIR_LEFT) {
		buf[i++] = '<';
		while (i < ARROW_W - n - 2)
			buf[i++] = '-';
		buf[i++] = ' ';
		memcpy(buf + i, label, n);
		i += n;
		buf[i++] = ' ';
		buf[i++] = '-';
	} else {
		buf[i++] = '-';
		buf[i++] = ' ';
		memcpy(buf + i, label, n);
		i += n;
		buf[i++] = ' ';
		while (i < ARROW_W)
			buf[i++] = '-';
		buf[i++] = '>';
	}
	buf[i++] = '|';
	buf[i] = 0;
}

/* "  %-*s %-11s %15s %s%s%s\n", a row a step, without printf */
static void row(FILE *f, int width, const char *ts, const char *d,
		const struct tt_step *s, const char *arr)
{
	const char *left = s->side == 0 ? s->state : "";
	size_t n = strlen(ts);
	struct tt_put o;

	tt_put_init(&o, f);
	tt_put_mem(&o, "  ", 2);
	tt_put_mem(&o, ts, n);
	for (; (int)n < width; n++)
		tt_put_c(&o, ' ');
	tt_put_c(&o, ' ');
	n = strlen(d);
	tt_put_mem(&o, d, n);
	for (; n < 11; n++)
		tt_put_c(&o, ' ');
	tt_put_c(&o, ' ');
	for (n = strlen(left); n < 15; n++)
		tt_put_c(&o, ' ');
	tt_put_str(&o, left);
	tt_put_c(&o, ' ');
	tt_put_str(&o, arr);
	if (s->side == 1 && s->state[0]) {
		tt_put_c(&o, ' ');
		tt_put_str(&o, s->state);
	}
	tt_put_c(&o, '\n');
	tt_put_flush(&o);
}

void tt_ladder_conn(FILE *f, const struct tt_clock *k, const struct conn *a,
		    const struct conn *b)
{
	struct tt_ladder L;
	char ts[32], d[32], arr[ARROW_W + 8];
	uint64_t prev = 0;

	if (tt_ladder_build(&L, a, b)) {
		tt_ladder_free(&L);
		return;
	}
	fprintf(f, "%s%s\n", L.title,
		(L.side[0] && L.side[0]->incomplete) ||
				(L.side[1] && L.side[1]->incomplete) ?
			"  [INCOMPLETE]" :
			"");
	if (!(L.side[0] && L.side[0]->role == ROLE_LISTENER))
		fprintf(f, "  %s\n", L.legend);
	for (size_t i = 0; i < L.nsteps; i++) {
		const struct tt_step *s = &L.steps[i];

		tt_fmt_time(k, ts, sizeof(ts), s->ts);
		if (i) {
			d[0] = '+';
			tt_fmt_dur(d + 1, sizeof(d) - 1, s->ts - prev);
		} else {
			d[0] = 0;
		}
		prev = s->ts;
		arrow(arr, s->dir, s->label);
		row(f, tt_time_width(k), ts, d, s, arr);
	}
	fputc('\n', f);
	tt_ladder_free(&L);
}
