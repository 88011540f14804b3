// SPDX-License-Identifier: GPL-2.0
/*
 * --svg FILE: the ladder diagrams of ladder.c as one SVG picture, one block
 * per connection or conversation, stacked top to bottom. The body is built in
 * memory because the picture's height is known only at the end, so the
 * picture is bounded: the first TT_SVG_MAX diagrams are drawn, and the
 * picture and standard error say how many more were left out (a filter
 * chooses which to draw). A million connections would otherwise make a
 * picture tens of millions of pixels tall that nothing can display.
 */
#include <stdlib.h>
#include <string.h>

#include "output/output.h"

#define ROW_H 26
#define HEAD_H 56
#define X_TIME 10
#define X_LEFT 330
#define X_RIGHT 650
#define WIDTH 900

struct tt_svg {
	const struct tt_clock *clock;
	FILE *out, *body;
	char *buf;
	size_t len;
	unsigned int y;
	uint64_t drawn, left_out;
};

struct tt_svg *tt_svg_open(FILE *f, const struct tt_clock *k)
{
	struct tt_svg *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->out = f;
	s->clock = k;
	s->body = open_memstream(&s->buf, &s->len);
	if (!s->body) {
		free(s);
		return NULL;
	}
	s->y = 10;
	return s;
}

static void svg_text(FILE *f, int x, unsigned int y, const char *attrs,
		     const char *text)
{
	fprintf(f, "<text x=\"%d\" y=\"%u\"%s>", x, y, attrs);
	tt_xml_escape(f, text);
	fputs("</text>\n", f);
}

/* One step: its time, the state a side entered, the packet's arrow. */
static void svg_step(struct tt_svg *s, const struct tt_step *st,
		     const char *delta, unsigned int y)
{
	FILE *f = s->body;
	char ts[48], line[96];

	tt_fmt_time(s->clock, ts, sizeof(ts), st->ts);
	snprintf(line, sizeof(line), "%s %s", ts, delta);
	svg_text(f, X_TIME, y + 14, " class=\"time\"", line);
	if (st->state[0] && st->side == 0)
		svg_text(f, X_LEFT - 6, y + 14,
			 " class=\"state\" text-anchor=\"end\"", st->state);
	else if (st->state[0])
		svg_text(f, X_RIGHT + 6, y + 14, " class=\"state\"", st->state);
	if (st->dir != DIR_NONE) {
		int x1 = st->dir == DIR_RIGHT ? X_LEFT : X_RIGHT;
		int x2 = st->dir == DIR_RIGHT ? X_RIGHT : X_LEFT;

		fprintf(f,
			"<line x1=\"%d\" y1=\"%u\" x2=\"%d\" y2=\"%u\" class=\"pkt\" marker-end=\"url(#arrow)\"/>\n",
			x1, y + 6, x2, y + 20);
	}
	if (st->label[0])
		svg_text(f, (X_LEFT + X_RIGHT) / 2, y + 10,
			 " text-anchor=\"middle\" class=\"label\"", st->label);
}

void tt_svg_conn(struct tt_svg *s, const struct conn *a, const struct conn *b)
{
	struct tt_ladder L;
	FILE *f = s->body;
	unsigned int y = s->y + HEAD_H;
	char title[300], d[32];

	if (s->drawn == TT_SVG_MAX) {
		s->left_out++;
		return;
	}
	s->drawn++;
	if (tt_ladder_build(&L, a, b)) {
		tt_ladder_free(&L);
		return;
	}
	snprintf(title, sizeof(title), "%s%s", L.title,
		 (L.side[0] && L.side[0]->incomplete) ||
				 (L.side[1] && L.side[1]->incomplete) ?
			 " [INCOMPLETE]" :
			 "");
	fputs("<g class=\"conn\">\n", f);
	svg_text(f, X_TIME, s->y + 16, " class=\"title\"", title);
	svg_text(f, X_TIME, s->y + 34, "", L.legend);
	for (int x = X_LEFT; x <= X_RIGHT; x += X_RIGHT - X_LEFT)
		fprintf(f,
			"<line x1=\"%d\" y1=\"%u\" x2=\"%d\" y2=\"%zu\" class=\"life\"/>\n",
			x, y - 10, x, y + L.nsteps * ROW_H);
	for (size_t i = 0; i < L.nsteps; i++, y += ROW_H) {
		d[0] = 0;
		if (i) {
			d[0] = '+';
			tt_fmt_dur(d + 1, sizeof(d) - 1,
				   L.steps[i].ts - L.steps[i - 1].ts);
		}
		svg_step(s, &L.steps[i], d, y);
	}
	fputs("</g>\n", f);
	s->y = y + 20;
	tt_ladder_free(&L);
}

uint64_t tt_svg_left_out(const struct tt_svg *s)
{
	return s->left_out;
}

void tt_svg_close(struct tt_svg *s)
{
	char note[160];

	if (s->left_out) {
		snprintf(
			note, sizeof(note),
			"%llu more diagrams not drawn: --svg draws the first %d (choose them with a filter)",
			(unsigned long long)s->left_out, TT_SVG_MAX);
		svg_text(s->body, X_TIME, s->y + 16, " class=\"title\"", note);
		s->y += 30;
	}
	fclose(s->body);
	fprintf(s->out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%u\" viewBox=\"0 0 %d %u\" font-family=\"monospace\" font-size=\"12\">\n"
		"<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\"/></marker>\n"
		"<style>.life{stroke:#444;stroke-width:2}.pkt{stroke:#06c;stroke-width:1.5}.title{font-weight:bold}.state{fill:#a40}.time{fill:#666}</style></defs>\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		WIDTH, s->y, WIDTH, s->y);
	if (s->buf)
		fwrite(s->buf, 1, s->len, s->out);
	fputs("</svg>\n", s->out);
	free(s->buf);
	free(s);
}
