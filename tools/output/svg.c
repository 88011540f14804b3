// SPDX-License-Identifier: GPL-2.0
/*
 * --svg FILE: the ladder diagrams of ladder.c as one SVG picture, one block
 * per connection or conversation, stacked top to bottom. The body is built in
 * memory because the picture's height is known only at the end.
 */
#include <stdlib.h>
#include <string.h>

#include "output/output.h"

#define ROW_H	26
#define HEAD_H	56
#define X_TIME	10
#define X_LEFT	330
#define X_RIGHT	650
#define WIDTH	900

struct tt_svg {
	const struct tt_clock *clock;
	FILE *out, *body;
	char *buf;
	size_t len;
	unsigned int y;
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

static void esc(FILE *f, const char *t)
{
	for (; *t; t++) {
		switch (*t) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*t, f);
		}
	}
}

void tt_svg_conn(struct tt_svg *s, const struct conn *a, const struct conn *b)
{
	struct tt_ladder L;
	FILE *f = s->body;
	unsigned int y0, y;
	uint64_t prev = 0;
	char ts[32], d[32];

	if (tt_ladder_build(&L, a, b)) {
		tt_ladder_free(&L);
		return;
	}
	y0 = s->y;
	fprintf(f, "<g class=\"conn\">\n<text x=\"%d\" y=\"%u\" class=\"title\">",
		X_TIME, y0 + 16);
	esc(f, L.title);
	if ((L.side[0] && L.side[0]->incomplete) ||
	    (L.side[1] && L.side[1]->incomplete))
		fputs(" [INCOMPLETE]", f);
	fprintf(f, "</text>\n<text x=\"%d\" y=\"%u\">", X_TIME, y0 + 34);
	esc(f, L.legend);
	fputs("</text>\n", f);
	y = y0 + HEAD_H;
	fprintf(f, "<line x1=\"%d\" y1=\"%u\" x2=\"%d\" y2=\"%zu\" class=\"life\"/>\n",
		X_LEFT, y - 10, X_LEFT, y + L.nsteps * ROW_H);
	fprintf(f, "<line x1=\"%d\" y1=\"%u\" x2=\"%d\" y2=\"%zu\" class=\"life\"/>\n",
		X_RIGHT, y - 10, X_RIGHT, y + L.nsteps * ROW_H);
	for (size_t i = 0; i < L.nsteps; i++, y += ROW_H) {
		const struct tt_step *st = &L.steps[i];

		tt_fmt_time(s->clock, ts, sizeof(ts), st->ts);
		if (i) {
			d[0] = '+';
			tt_fmt_dur(d + 1, sizeof(d) - 1, st->ts - prev);
		} else {
			d[0] = 0;
		}
		prev = st->ts;
		fprintf(f, "<text x=\"%d\" y=\"%u\" class=\"time\">%s %s</text>\n",
			X_TIME, y + 14, ts, d);
		if (st->state[0]) {
			if (st->side == 0)
				fprintf(f, "<text x=\"%d\" y=\"%u\" class=\"state\" text-anchor=\"end\">",
					X_LEFT - 6, y + 14);
			else
				fprintf(f, "<text x=\"%d\" y=\"%u\" class=\"state\">",
					X_RIGHT + 6, y + 14);
			esc(f, st->state);
			fputs("</text>\n", f);
		}
		if (st->dir != DIR_NONE) {
			int x1 = st->dir == DIR_RIGHT ? X_LEFT : X_RIGHT;
			int x2 = st->dir == DIR_RIGHT ? X_RIGHT : X_LEFT;

			fprintf(f, "<line x1=\"%d\" y1=\"%u\" x2=\"%d\" y2=\"%u\" class=\"pkt\" marker-end=\"url(#arrow)\"/>\n",
				x1, y + 6, x2, y + 20);
		}
		if (st->label[0]) {
			fprintf(f, "<text x=\"%d\" y=\"%u\" text-anchor=\"middle\" class=\"label\">",
				(X_LEFT + X_RIGHT) / 2, y + 10);
			esc(f, st->label);
			fputs("</text>\n", f);
		}
	}
	fputs("</g>\n", f);
	s->y = y + 20;
	tt_ladder_free(&L);
}

void tt_svg_close(struct tt_svg *s)
{
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
