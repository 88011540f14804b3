// SPDX-License-Identifier: GPL-2.0
/*
 * --diagram-svg FILE: the diagram as one self-contained SVG picture, the
 * terminal's cells scaled (10 x 18 pixels each), then the table of edges.
 * Each edge is a <g> whose data- attributes carry its numbers (count, and
 * p50 and p99 in nanoseconds), so a test can read them back.
 */
#include <stdlib.h>
#include <string.h>

#include "output/diagram.h"

#define CW 10
#define RH 18
#define TOP 56
#define WIDTH (TT_DGM_COLS * CW + 20)
#define LINE 16

static void text(FILE *f, int x, int y, const char *cls, const char *s)
{
	fprintf(f,
		"<text x=\"%d\" y=\"%d\" class=\"%s\" xml:space=\"preserve\">",
		x, y, cls);
	tt_xml_escape(f, s);
	fputs("</text>\n", f);
}

static int px(int x)
{
	return 10 + x * CW + CW / 2;
}

static int py(int y)
{
	return TOP + y * RH + RH / 2;
}

static void box(FILE *f, const struct tt_dgm_box *b, bool lit)
{
	fprintf(f,
		"<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"6\" class=\"box%s\"/>\n",
		10 + b->x * CW + 2, TOP + b->y * RH + 4, TT_DGM_BOX_W * CW - 4,
		TT_DGM_BOX_H * RH - 8, lit ? " lit" : "");
	fprintf(f,
		"<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" class=\"state\">%s</text>\n",
		10 + b->x * CW + TT_DGM_BOX_W * CW / 2,
		TOP + b->y * RH + RH + 13, tt_dgm_state_name(b->state));
}

/* The line: from the source box's border to the target's, cell centres. */
static void line(FILE *f, const struct tt_dgm_path *p, const char *c)
{
	int n = p->npts - 1;
	int dx0 = p->pt[1].x - p->pt[0].x, dy0 = p->pt[1].y - p->pt[0].y;
	int dx1 = p->pt[n].x - p->pt[n - 1].x,
	    dy1 = p->pt[n].y - p->pt[n - 1].y;

	dx0 = (dx0 > 0) - (dx0 < 0);
	dy0 = (dy0 > 0) - (dy0 < 0);
	dx1 = (dx1 > 0) - (dx1 < 0);
	dy1 = (dy1 > 0) - (dy1 < 0);
	fprintf(f, "<polyline points=\"%d,%d", px(p->pt[0].x) - dx0 * CW / 2,
		py(p->pt[0].y) - dy0 * (RH / 2 - 4));
	for (int i = 0; i <= n; i++) {
		int x = px(p->pt[i].x), y = py(p->pt[i].y);

		if (i == n) {
			x += dx1 * CW / 2;
			y += dy1 * (RH / 2 - 4);
		}
		fprintf(f, " %d,%d", x, y);
	}
	fprintf(f, "\" marker-end=\"url(#a-%s)\"/>\n", c);
}

static const char *cls(const struct tt_dgm_row *r, const struct tt_dgm_lit *lit)
{
	if (lit->edge[r->from][r->to][r->off])
		return "lit";
	if (!r->e)
		return "faint";
	return r->off || !r->path || !r->path->figure ? "off" : "taken";
}

static void times(char *buf, size_t len, const struct tt_dgm_row *r)
{
	char a[32], b[32];

	buf[0] = 0;
	if (!r->e || !r->e->sk || !r->e->sk->n)
		return;
	tt_fmt_dur(a, sizeof(a), tt_sketch_quantile(r->e->sk, 0.5));
	tt_fmt_dur(b, sizeof(b), tt_sketch_quantile(r->e->sk, 0.99));
	snprintf(buf, len, "p50 %s p99 %s", a, b);
}

/* A line of its own, or a tag by its source box, or a curve. */
static void edge(FILE *f, const struct tt_dgm_row *r,
		 const struct tt_dgm_lit *lit)
{
	const struct tt_sketch *sk = r->e ? r->e->sk : NULL;
	const struct tt_dgm_box *b = tt_dgm_box_of(r->from, false);
	const struct tt_dgm_box *t = tt_dgm_box_of(r->to, true);
	char tag[48], tm[80];
	int x, y, anchor_end = 0;

	fprintf(f,
		"<g class=\"edge %s\" data-n=\"%u\" data-from=\"%s\" data-to=\"%s\" data-figure=\"%d\" data-off=\"%d\" data-count=\"%llu\"",
		cls(r, lit), r->n, tt_state_name(r->from), tt_state_name(r->to),
		r->path && r->path->figure && !r->off, r->off,
		r->e ? (unsigned long long)r->e->n : 0ULL);
	if (sk && sk->n)
		fprintf(f, " data-p50-ns=\"%llu\" data-p99-ns=\"%llu\"",
			(unsigned long long)tt_sketch_quantile(sk, 0.5),
			(unsigned long long)tt_sketch_quantile(sk, 0.99));
	fputs(">\n", f);
	if (r->e)
		snprintf(tag, sizeof(tag), "%u: %llu", r->n,
			 (unsigned long long)r->e->n);
	else
		snprintf(tag, sizeof(tag), "%u", r->n);
	times(tm, sizeof(tm), r);
	if (r->path) {
		line(f, r->path, cls(r, lit));
		x = 10 + r->path->lx * CW + (r->path->lright ? CW : 0);
		y = TOP + r->path->ly * RH + 13;
		anchor_end = r->path->lright;
	} else if (b && t && (r->to != TCPSTATES_CLOSE || !b->mark_x)) {
		x = (px(b->x + 8) + px(t->x + 8)) / 2;
		y = (py(b->y + 1) + py(t->y + 1)) / 2 - 30;
		fprintf(f,
			"<path d=\"M %d %d Q %d %d %d %d\" marker-end=\"url(#a-%s)\"/>\n",
			px(b->x + 8), py(b->y + 2) + 4, x, y + 60, px(t->x + 8),
			py(t->y) - 4, cls(r, lit));
	} else if (b) {
		strncat(tag, " to CLOSED", sizeof(tag) - strlen(tag) - 1);
		x = 10 + b->mark_x * CW + (b->mark_right ? CW : 0);
		y = TOP + (b->y + 2) * RH + 13;
		anchor_end = b->mark_right;
	} else {
		fputs("</g>\n", f);
		return;
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"tag\"%s>", x, y,
		anchor_end ? " text-anchor=\"end\"" : "");
	tt_xml_escape(f, tag);
	if (tm[0])
		fprintf(f, "<tspan x=\"%d\" dy=\"11\" class=\"tm\">%s</tspan>",
			x, tm);
	fputs("</text>\n</g>\n", f);
}

static int table(FILE *f, const struct tt_diagram *D,
		 const struct tt_dgm_row *rows, size_t n, int y)
{
	char line[400], edge[40], tm[80], ev[256];

	text(f, 10, y, "head",
	     "  #  edge                           count  time in the source state    event, or the close kinds");
	for (size_t i = 0; i < n; i++) {
		const struct tt_dgm_row *r = &rows[i];

		y += LINE;
		snprintf(edge, sizeof(edge), "%s -> %s",
			 tt_dgm_state_name(r->from), tt_dgm_state_name(r->to));
		times(tm, sizeof(tm), r);
		tt_dgm_event(ev, sizeof(ev), r);
		snprintf(line, sizeof(line), "%3u  %-28s %7llu  %-26s  %s",
			 r->n, edge, r->e ? (unsigned long long)r->e->n : 0ULL,
			 tm[0] ? tm : "-", ev);
		text(f, 10, y, r->e ? "row" : "row faint", line);
	}
	if (D->rearms) {
		y += LINE;
		snprintf(line, sizeof(line),
			 "     %-28s %7llu  %-26s  re-armed by a segment",
			 "TIME_WAIT -> TIME_WAIT",
			 (unsigned long long)D->rearms, "-");
		text(f, 10, y, "row off", line);
	}
	return y + LINE;
}

/* The one conversation: its letters, then each side's edges. */
static int one(FILE *f, const struct tt_diagram *D, const struct tt_clock *k,
	       int y)
{
	const struct conn *l, *r;
	struct tt_ladder L;
	char t[40], pk[80], s[200];
	int first, end = y;

	if (!tt_diagram_single(D, &l, &r) || tt_ladder_build(&L, l, r))
		return y;
	first = tt_dgm_first_fin(&L);
	text(f, 10, y + LINE, "head", L.title);
	text(f, 10, y + 2 * LINE, "row", L.legend);
	y += 2 * LINE;
	for (int side = 0; side < 2; side++) {
		const struct conn *c = L.side[side];
		int yy = y;

		for (uint32_t i = 0; c && i < c->nstates; i++) {
			unsigned int from, to = c->states[i].state;
			bool off;

			if (!tt_diagram_edge_of(c, i, &from, &off))
				continue;
			tt_fmt_time(k, t, sizeof(t), c->states[i].enter_ns);
			tt_dgm_packets(c, side, first, from, to, pk,
				       sizeof(pk));
			snprintf(s, sizeof(s), "%s %s -> %s", t,
				 tt_dgm_state_name(from),
				 tt_dgm_state_name(to));
			text(f, 10 + side * 500, yy += LINE, "row", s);
			text(f, 30 + side * 500, yy += LINE, "row tm", pk);
		}
		if (yy > end)
			end = yy;
	}
	tt_ladder_free(&L);
	return end + LINE;
}

/* An arrowhead per kind of line, in its colour. */
#define MARKER(kind, color)                                                 \
	"<marker id=\"a-" kind "\" viewBox=\"0 0 10 10\" refX=\"10\" "      \
	"refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\" "  \
	"markerUnits=\"userSpaceOnUse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" " \
	"style=\"fill:" color ";stroke:none\"/></marker>"

void tt_diagram_svg(const struct tt_diagram *D, FILE *f,
		    const struct tt_clock *k)
{
	struct tt_dgm_row *rows = calloc(TT_DGM_MAX_ROWS, sizeof(*rows));
	struct tt_dgm_lit lit;
	char *body = NULL, head[200];
	size_t len = 0, n, nb;
	FILE *m = open_memstream(&body, &len);
	const struct tt_dgm_box *b = tt_dgm_boxes(&nb);
	int y;

	if (!rows || !m) {
		free(rows);
		if (m)
			fclose(m);
		free(body);
		return;
	}
	tt_dgm_lit(D, &lit);
	n = tt_dgm_rows(D, rows);
	snprintf(
		head, sizeof(head),
		"TCP state diagram (RFC 9293 Figure 5): %llu conversation%s, %llu side%s",
		(unsigned long long)D->conversations,
		D->conversations == 1 ? "" : "s", (unsigned long long)D->sides,
		D->sides == 1 ? "" : "s");
	text(m, 10, 18, "title", head);
	text(m, 10, 34, "row",
	     "black: taken, grey dashed: never taken, orange dashed: not in the figure, green: one connection's path;");
	text(m, 10, 48, "row",
	     "each edge N: COUNT, then p50 and p99 of the time spent in the source state before it");
	for (size_t i = 0; i < nb; i++)
		box(m, &b[i], lit.state[b[i].state]);
	for (size_t i = 0; i < n; i++)
		edge(m, &rows[i], &lit);
	if (D->rearms) {
		snprintf(head, sizeof(head), "re-armed %llu times in TIME_WAIT",
			 (unsigned long long)D->rearms);
		text(m, 10 + 42 * CW, TOP + 40 * RH + 13, "tag offt", head);
	}
	y = table(m, D, rows, n, TOP + TT_DGM_ROWS * RH + 30);
	y = one(m, D, k, y);
	fclose(m);
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"monospace\" font-size=\"12\">\n"
		"<defs>%s%s%s%s\n"
		"<style>polyline,path{fill:none;stroke-width:1.6}.taken polyline,.taken path{stroke:#222}.faint polyline{stroke:#bbb;stroke-dasharray:4 3}.off polyline,.off path{stroke:#d60;stroke-dasharray:7 3}.lit polyline,.lit path{stroke:#0a0;stroke-width:3.5}"
		".box{fill:#f4f4ff;stroke:#335;stroke-width:1.5}.box.lit{fill:#e8ffe8;stroke:#0a0;stroke-width:3}.state{font-weight:bold}.title{font-weight:bold;font-size:15px}.head{font-weight:bold}"
		"text{white-space:pre}.tag{font-size:11px;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}.tm{font-size:9.5px;fill:#555}.faint,.faint .tag{fill:#999}.off .tag,.offt{fill:#b50}.lit .tag{fill:#070;font-weight:bold}.row.faint{fill:#999}.row.off{fill:#b50}</style></defs>\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		WIDTH, y, WIDTH, y, MARKER("taken", "#222"),
		MARKER("faint", "#bbb"), MARKER("off", "#d60"),
		MARKER("lit", "#0a0"));
	fwrite(body, 1, len, f);
	fputs("</svg>\n", f);
	free(body);
	free(rows);
}
