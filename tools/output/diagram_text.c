// SPDX-License-Identifier: GPL-2.0
/*
 * --diagram on a terminal: the layout's cells drawn with box-drawing
 * characters (ASCII when the locale is not UTF-8, or with --ascii), then
 * the table of edges, then, for one conversation, its path side by side.
 *
 * Lines: an edge taken is a solid line, an edge of the figure never taken
 * a dashed one, an edge the figure does not have a double line, the one
 * conversation's path a heavy line; with colour, never taken is dim, off
 * the figure yellow, the path bold green. Each edge carries its tag,
 * "N:COUNT" (N alone if never taken), the row of the table below.
 */
#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output/diagram.h"

enum { U = 1, D = 2, LT = 4, RT = 8 };
/* weakest first: where lines cross, the stronger is drawn */
enum { S_FAINT, S_BOX, S_TAKEN, S_OFF, S_LIT, S_NR };

struct cell {
	uint8_t bits, style;
	uint32_t ch; /* 0: a line, its glyph from bits */
};

struct canvas {
	struct cell c[TT_DGM_ROWS][TT_DGM_COLS];
	const struct tt_dgm_style *st;
};

/* glyphs by U|D|L|R, per style: faint, box and taken, off, lit */
static const char *const light[16] = { " ", "│", "│", "│", "─", "┘", "┐", "┤",
				       "─", "└", "┌", "├", "─", "┴", "┬", "┼" };
static const char *const dbl[16] = { " ", "║", "║", "║", "═", "╝", "╗", "╣",
				     "═", "╚", "╔", "╠", "═", "╩", "╦", "╬" };
static const char *const heavy[16] = { " ", "┃", "┃", "┃", "━", "┛", "┓", "┫",
				       "━", "┗", "┏", "┣", "━", "┻", "┳", "╋" };
/* ASCII: horizontal, vertical, any corner */
static const char ascii[S_NR][3] = {
	[S_FAINT] = ".:.", [S_BOX] = "-|+", [S_TAKEN] = "-|+",
	[S_OFF] = "~!+",   [S_LIT] = "=H#",
};
static const char *const colors[S_NR] = { [S_FAINT] = "\033[2m",
					  [S_OFF] = "\033[33m",
					  [S_LIT] = "\033[1;32m" };

static void put(struct canvas *cv, int x, int y, uint8_t bits, uint8_t style,
		uint32_t ch)
{
	struct cell *c;

	if (x < 0 || y < 0 || x >= TT_DGM_COLS || y >= TT_DGM_ROWS)
		return;
	c = &cv->c[y][x];
	c->bits |= bits;
	if (style > c->style || (!c->ch && !c->bits))
		c->style = style;
	if (ch)
		c->ch = ch;
}

static void text(struct canvas *cv, int x, int y, bool right, uint8_t style,
		 const char *s)
{
	int n = strlen(s);

	if (right)
		x -= n - 1;
	for (int i = 0; i < n; i++) {
		if (x + i < 0 || x + i >= TT_DGM_COLS || y < 0 ||
		    y >= TT_DGM_ROWS)
			continue;
		put(cv, x + i, y, 0, style, (unsigned char)s[i]);
		cv->c[y][x + i].style = style; /* text over a line: its own */
	}
}

static void box(struct canvas *cv, const struct tt_dgm_box *b, bool lit)
{
	int x0 = b->x, y0 = b->y, x1 = x0 + TT_DGM_BOX_W - 1;
	int y1 = y0 + TT_DGM_BOX_H - 1;
	uint8_t s = lit ? S_LIT : S_BOX;
	const char *name = tt_dgm_state_name(b->state);

	for (int x = x0; x <= x1; x++) {
		put(cv, x, y0, (x > x0 ? LT : 0) | (x < x1 ? RT : 0), s, 0);
		put(cv, x, y1, (x > x0 ? LT : 0) | (x < x1 ? RT : 0), s, 0);
	}
	for (int y = y0; y <= y1; y++) {
		put(cv, x0, y, (y > y0 ? U : 0) | (y < y1 ? D : 0), s, 0);
		put(cv, x1, y, (y > y0 ? U : 0) | (y < y1 ? D : 0), s, 0);
	}
	text(cv, x0 + (TT_DGM_BOX_W - strlen(name)) / 2, y0 + 1, false, s,
	     name);
}

static uint8_t dir(int dx, int dy)
{
	return dy < 0 ? U : dy > 0 ? D : dx < 0 ? LT : RT;
}

static uint8_t back(uint8_t d)
{
	return d == U ? D : d == D ? U : d == LT ? RT : LT;
}

static void path(struct canvas *cv, const struct tt_dgm_path *p, uint8_t s)
{
	static const uint32_t arrows[2][9] = {
		{ [U] = 0x25b2, [D] = 0x25bc, [LT] = 0x25c0, [RT] = 0x25b6 },
		{ [U] = '^', [D] = 'v', [LT] = '<', [RT] = '>' },
	};
	uint8_t d = 0;

	for (int i = 0; i + 1 < p->npts; i++) {
		int x = p->pt[i].x, y = p->pt[i].y;
		int dx = (p->pt[i + 1].x > x) - (p->pt[i + 1].x < x);
		int dy = (p->pt[i + 1].y > y) - (p->pt[i + 1].y < y);

		d = dir(dx, dy);
		if (!i) { /* joined to the box it leaves */
			put(cv, x, y, back(d), s, 0);
			put(cv, x - dx, y - dy, d, S_BOX, 0);
		}
		for (; x != p->pt[i + 1].x || y != p->pt[i + 1].y;
		     x += dx, y += dy) {
			put(cv, x, y, d, s, 0);
			put(cv, x + dx, y + dy, back(d), s, 0);
		}
	}
	put(cv, p->pt[p->npts - 1].x, p->pt[p->npts - 1].y, 0, s,
	    arrows[cv->st->ascii][d]);
}

static const char *glyph(const struct canvas *cv, const struct cell *c,
			 char *buf)
{
	int k = c->bits == (LT | RT) || c->bits == LT || c->bits == RT ? 0 :
		c->bits == (U | D) || c->bits == U || c->bits == D     ? 1 :
									 2;

	if (c->ch) {
		buf[0] = 0;
		if (c->ch < 0x80)
			buf[0] = c->ch, buf[1] = 0;
		else /* the arrows, U+25xx: three bytes */
			sprintf(buf, "%c%c%c", 0xe0 | (c->ch >> 12),
				0x80 | ((c->ch >> 6) & 0x3f),
				0x80 | (c->ch & 0x3f));
		return buf;
	}
	if (!c->bits)
		return " ";
	if (cv->st->ascii) {
		buf[0] = ascii[c->style][k];
		buf[1] = 0;
		return buf;
	}
	if (c->style == S_FAINT && k < 2)
		return k ? "┆" : "┄";
	return c->style == S_OFF ? dbl[c->bits] :
	       c->style == S_LIT ? heavy[c->bits] :
				   light[c->bits];
}

static void emit(const struct canvas *cv, FILE *f)
{
	char buf[8];

	for (int y = 0; y < TT_DGM_ROWS; y++) {
		int end = TT_DGM_COLS, style = S_BOX;

		while (end > 0 && !cv->c[y][end - 1].bits &&
		       !cv->c[y][end - 1].ch)
			end--;
		for (int x = 0; x < end; x++) {
			const struct cell *c = &cv->c[y][x];
			int s = c->bits || c->ch ? c->style : S_BOX;

			if (cv->st->color && colors[s] != colors[style])
				fputs(colors[s] ? colors[s] : "\033[0m", f);
			style = s;
			fputs(glyph(cv, c, buf), f);
		}
		if (cv->st->color && colors[style])
			fputs("\033[0m", f);
		fputc('\n', f);
	}
}

static uint8_t row_style(const struct tt_dgm_row *r,
			 const struct tt_dgm_lit *lit)
{
	if (lit->edge[r->from][r->to][r->off])
		return S_LIT;
	if (!r->e)
		return S_FAINT;
	return r->off || !r->path || !r->path->figure ? S_OFF : S_TAKEN;
}

static void tag(char *buf, size_t len, const struct tt_dgm_row *r)
{
	if (r->e)
		snprintf(buf, len, "%u:%llu", r->n,
			 (unsigned long long)r->e->n);
	else
		snprintf(buf, len, "%u", r->n);
}

static void draw(struct canvas *cv, const struct tt_diagram *D,
		 const struct tt_dgm_row *rows, size_t n,
		 const struct tt_dgm_lit *lit)
{
	size_t nb;
	const struct tt_dgm_box *b = tt_dgm_boxes(&nb);
	char t[64];

	for (size_t i = 0; i < nb; i++)
		box(cv, &b[i], lit->state[b[i].state]);
	for (size_t i = 0; i < n; i++) {
		const struct tt_dgm_row *r = &rows[i];
		const struct tt_dgm_box *from = tt_dgm_box_of(r->from, false);

		tag(t, sizeof(t), r);
		if (r->path) {
			path(cv, r->path, row_style(r, lit));
			text(cv, r->path->lx, r->path->ly, r->path->lright,
			     row_style(r, lit), t);
		} else if (r->to == TCPSTATES_CLOSE && from && from->mark_x) {
			strcat(t, " to CLOSED");
			text(cv, from->mark_x, from->y + 2, from->mark_right,
			     row_style(r, lit), t);
		}
	}
	if (D->rearms) {
		snprintf(t, sizeof(t), "re-armed %llu times in TIME_WAIT",
			 (unsigned long long)D->rearms);
		text(cv, 42, 40, false, S_OFF, t);
	}
}

/* @s in lines of @w columns from column @col, broken after a space. */
static void wrapped(FILE *f, const char *s, int col, int w)
{
	int n = strlen(s);

	while (n > w) {
		int cut = w;

		while (cut > 0 && s[cut] != ' ')
			cut--;
		if (!cut)
			cut = w;
		fprintf(f, "%.*s\n%*s", cut, s, col, "");
		s += cut + (s[cut] == ' ');
		n = strlen(s);
	}
	fputs(s, f);
}

#define EVENT_COL 63

static void table(FILE *f, const struct tt_dgm_row *rows, size_t n,
		  const struct tt_diagram *D, const struct tt_dgm_style *st)
{
	char a[32], b[32], edge[40], ev[256];

	fprintf(f, "%3s  %-28s %7s %9s %9s  %s\n", "#", "edge", "count", "p50",
		"p99", "event, or the close kinds");
	for (size_t i = 0; i < n; i++) {
		const struct tt_dgm_row *r = &rows[i];
		const struct tt_sketch *sk = r->e ? r->e->sk : NULL;
		bool faint = !r->e && st->color;

		snprintf(edge, sizeof(edge), "%s -> %s",
			 tt_dgm_state_name(r->from), tt_dgm_state_name(r->to));
		snprintf(a, sizeof(a), "-");
		snprintf(b, sizeof(b), "-");
		if (sk && sk->n) {
			tt_fmt_dur(a, sizeof(a), tt_sketch_quantile(sk, 0.5));
			tt_fmt_dur(b, sizeof(b), tt_sketch_quantile(sk, 0.99));
		}
		tt_dgm_event(ev, sizeof(ev), r);
		fprintf(f, "%s%3u  %-28s %7llu %9s %9s  ",
			faint ? "\033[2m" : "", r->n, edge,
			r->e ? (unsigned long long)r->e->n : 0ULL, a, b);
		wrapped(f, ev, EVENT_COL, TT_DGM_COLS - EVENT_COL);
		fputs(faint ? "\033[0m\n" : "\n", f);
	}
	if (D->rearms)
		fprintf(f, "     %-28s %7llu %9s %9s  %s\n",
			"TIME_WAIT -> TIME_WAIT", (unsigned long long)D->rearms,
			"-", "-", "re-armed by a segment");
}

#define MAX_NOTES 128

/* One side's edges in a column of 50: time, the edge, the packets. */
struct note {
	uint64_t ts;
	int side;
	char line[3][80];
};

static size_t side_notes(struct note *v, size_t n, const struct tt_ladder *L,
			 int side, int first, const struct tt_clock *k)
{
	const struct conn *c = L->side[side];
	char t[40], d[32];

	for (uint32_t i = 0; c && i < c->nstates && n < MAX_NOTES; i++) {
		const struct tt_span *s = &c->states[i];
		const struct tt_dgm_path *p;
		unsigned int from;
		bool off;

		if (!tt_diagram_edge_of(c, i, &from, &off))
			continue;
		p = tt_dgm_path_of(from, s->state);
		tt_fmt_time(k, t, sizeof(t), s->enter_ns);
		d[0] = 0;
		if (i) {
			memcpy(d, " +", 3);
			tt_fmt_dur(d + 2, sizeof(d) - 2,
				   s->enter_ns - c->states[i - 1].enter_ns);
		}
		v[n] = (struct note){ .ts = s->enter_ns, .side = side };
		snprintf(v[n].line[0], 80, "%s%s", t, d);
		snprintf(v[n].line[1], 80, "%s%s -> %s", p && !off ? "" : "~ ",
			 tt_dgm_state_name(from), tt_dgm_state_name(s->state));
		tt_dgm_packets(c, side, first, from, s->state, v[n].line[2],
			       80);
		n++;
	}
	return n;
}

static int cmp_note(const void *x, const void *y)
{
	const struct note *a = x, *b = y;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return a->side - b->side;
}

static void one(FILE *f, const struct tt_diagram *D, const struct tt_clock *k)
{
	const struct conn *l, *r;
	struct tt_ladder L;
	struct note *v = calloc(MAX_NOTES, sizeof(*v));
	size_t n;
	int first;

	if (!v || !tt_diagram_single(D, &l, &r) || tt_ladder_build(&L, l, r)) {
		free(v);
		return;
	}
	first = tt_dgm_first_fin(&L);
	n = side_notes(v, 0, &L, 0, first, k);
	n = side_notes(v, n, &L, 1, first, k);
	qsort(v, n, sizeof(*v), cmp_note);
	fprintf(f, "\nthe path of %s\n  %s\n", L.title, L.legend);
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < 3; j++)
			fprintf(f, "  %*s%s\n", v[i].side ? 50 : 0, "",
				v[i].line[j]);
	tt_ladder_free(&L);
	free(v);
}

void tt_diagram_print(const struct tt_diagram *D, FILE *f,
		      const struct tt_clock *k, const struct tt_dgm_style *st)
{
	struct tt_dgm_row *rows = calloc(TT_DGM_MAX_ROWS, sizeof(*rows));
	struct canvas *cv = calloc(1, sizeof(*cv));
	struct tt_dgm_lit lit;
	size_t n;

	if (!rows || !cv)
		goto out;
	cv->st = st;
	tt_dgm_lit(D, &lit);
	n = tt_dgm_rows(D, rows);
	fprintf(f,
		"TCP state diagram (RFC 9293 Figure 5): %llu conversation%s, %llu side%s\n",
		(unsigned long long)D->conversations,
		D->conversations == 1 ? "" : "s", (unsigned long long)D->sides,
		D->sides == 1 ? "" : "s");
	fprintf(f, "%s\n\n",
		st->ascii ?
			"lines: - taken, . never taken, ~ not in the figure, = the one path; tag N:COUNT" :
			"lines: ─ taken, ┄ never taken, ═ not in the figure, ━ the one path; tag N:COUNT");
	draw(cv, D, rows, n, &lit);
	emit(cv, f);
	fputc('\n', f);
	table(f, rows, n, D, st);
	one(f, D, k);
out:
	free(rows);
	free(cv);
}

void tt_dgm_style_for(struct tt_dgm_style *st, FILE *f, bool ascii)
{
	const char *no = getenv("NO_COLOR");
	char *was = setlocale(LC_CTYPE, NULL);
	char saved[64];

	/* the locale's charset, without leaving the locale set */
	snprintf(saved, sizeof(saved), "%s", was ? was : "C");
	setlocale(LC_CTYPE, "");
	st->ascii = ascii || strcmp(nl_langinfo(CODESET), "UTF-8");
	setlocale(LC_CTYPE, saved);
	st->color = isatty(fileno(f)) && !(no && *no);
}
