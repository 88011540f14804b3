/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --diagram and --diagram-svg: RFC 9293's TCP state diagram (Figure 5),
 * drawn from the transitions the recorded connections took.
 *
 * diagram.c counts: every edge a side took, with a fixed-size latency
 * sketch of the time it spent in the source state first (sketch.c), and
 * keeps the first conversation shown, for the one-connection view.
 * diagram_layout.c places the states and routes the figure's edges on a
 * grid of character cells, which the terminal (diagram_text.c) and SVG
 * (diagram_svg.c) renderers both draw from.
 */
#ifndef TT_OUTPUT_DIAGRAM_H
#define TT_OUTPUT_DIAGRAM_H

#include <stdbool.h>
#include <stdio.h>

#include "output/output.h"

/* ---- sketch.c: a log-linear histogram of nanoseconds ---- */
/*
 * Values below 2^SUB_BITS are exact; above, each power of two is cut in
 * 2^SUB_BITS buckets, and a quantile is its bucket's middle: within
 * 1/2^(SUB_BITS + 1) = 1/64 (1.5625 %) of the exact nearest-rank value,
 * whatever the input. 1920 buckets, 15 KiB.
 */
#define TT_SKETCH_SUB_BITS 5
#define TT_SKETCH_SUB (1u << TT_SKETCH_SUB_BITS)
#define TT_SKETCH_BUCKETS ((64 - TT_SKETCH_SUB_BITS + 1) * TT_SKETCH_SUB)

struct tt_sketch {
	uint64_t n;
	uint64_t b[TT_SKETCH_BUCKETS];
};

void tt_sketch_add(struct tt_sketch *s, uint64_t v);
/* The nearest-rank quantile @p (0 < p <= 1); 0 when empty. */
uint64_t tt_sketch_quantile(const struct tt_sketch *s, double p);

/* ---- diagram.c: the counts ---- */
/*
 * An edge is (from, to, off): off marks a transition the figure does not
 * draw, though its states are the figure's: the end of a side into CLOSE
 * by a reset, a refusal, a timeout or an error (the figure has no RST or
 * timeout arrows but SYN_RECEIVED -> LISTEN).
 */
struct tt_dgm_edge {
	uint64_t n;
	uint64_t causes[CLOSE_NR]; /* the sides' close, when it ended them */
	struct tt_sketch *sk; /* time in the source state; NULL: none yet */
};

struct tt_diagram {
	struct tt_dgm_edge e[TCPSTATES_NR_STATES][TCPSTATES_NR_STATES][2];
	uint64_t rearms; /* TIME_WAIT re-armed while in TIME_WAIT */
	uint64_t sides, conversations;
	struct conn *one[2]; /* the first conversation shown (copies) */
};

struct tt_diagram *tt_diagram_new(void);
/* A finished conversation shown: @a and its peer @b (or NULL). */
void tt_diagram_conn(struct tt_diagram *D, const struct conn *a,
		     const struct conn *b);
void tt_diagram_free(struct tt_diagram *D);
/* The edge a side's span @i was entered by: false for none (its first). */
bool tt_diagram_edge_of(const struct conn *c, uint32_t i, unsigned int *from,
			bool *off);
/* Only one conversation was shown: its sides, client first. */
bool tt_diagram_single(const struct tt_diagram *D, const struct conn **l,
		       const struct conn **r);

/* ---- diagram_layout.c: where things are, in character cells ---- */
#define TT_DGM_COLS 100
#define TT_DGM_ROWS 41
#define TT_DGM_BOX_W 16
#define TT_DGM_BOX_H 3
#define TT_DGM_MAXPTS 5

struct tt_dgm_box {
	uint8_t state;
	uint8_t x, y; /* top left */
	int8_t mark_x; /* where "off the figure to CLOSED" goes: column */
	bool mark_right; /* right-aligned at mark_x */
};

struct tt_dgm_path {
	uint8_t n; /* its number in the picture and the table */
	uint8_t from, to; /* TCPSTATES_* */
	bool figure; /* one of RFC 9293 Figure 5's twenty */
	const char *event; /* the figure's label: what makes it happen */
	uint8_t npts;
	struct {
		uint8_t x, y;
	} pt[TT_DGM_MAXPTS]; /* an orthogonal line, arrow at the last */
	uint8_t lx, ly; /* its tag */
	bool lright; /* the tag ends at lx */
};

const struct tt_dgm_box *tt_dgm_boxes(size_t *n);
const struct tt_dgm_path *tt_dgm_paths(size_t *n);
/* The box a state is drawn in; CLOSED has two, @bottom picks. */
const struct tt_dgm_box *tt_dgm_box_of(unsigned int state, bool bottom);
/* The layout's path for an edge, or NULL (drawn as a mark or listed). */
const struct tt_dgm_path *tt_dgm_path_of(unsigned int from, unsigned int to);
/* The diagram's name for a state: RFC 9293's where it has one. */
const char *tt_dgm_state_name(unsigned int state);

/* ---- diagram_text.c, diagram_svg.c ---- */
struct tt_dgm_style {
	bool ascii; /* no UTF-8: ASCII lines */
	bool color; /* a terminal without NO_COLOR */
};

/* Every edge, in the order of the table: figure's, then the others. */
struct tt_dgm_row {
	unsigned int n; /* the tag: path's number, or 21 on */
	unsigned int from, to;
	bool off;
	const struct tt_dgm_path *path; /* NULL: no line of its own */
	const struct tt_dgm_edge *e; /* NULL: never taken */
};

/* The edges (and states) one conversation took: its path, to light up. */
struct tt_dgm_lit {
	bool edge[TCPSTATES_NR_STATES][TCPSTATES_NR_STATES][2];
	bool state[TCPSTATES_NR_STATES];
};
/* False, @lit cleared, unless one conversation was shown. */
bool tt_dgm_lit(const struct tt_diagram *D, struct tt_dgm_lit *lit);

/* The table's last column: the figure's event, or the closes that took it. */
void tt_dgm_event(char *buf, size_t len, const struct tt_dgm_row *r);
/* Fills @rows (room for every possible edge); returns how many. */
size_t tt_dgm_rows(const struct tt_diagram *D, struct tt_dgm_row *rows);
#define TT_DGM_MAX_ROWS (TCPSTATES_NR_STATES * TCPSTATES_NR_STATES * 2 + 20)

/*
 * The packets of an edge side @side (0: the ladder's left, whose ISN is A)
 * took, in the study note's letters; @first: the side whose FIN is C.
 */
void tt_dgm_packets(const struct conn *c, int side, int first,
		    unsigned int from, unsigned int to, char *buf, size_t len);
/* Which side of a ladder sent the first FIN, C: 0 (left) or 1 (right). */
int tt_dgm_first_fin(const struct tt_ladder *L);

/* @f's: ASCII unless the locale is UTF-8; colour on a terminal, no NO_COLOR. */
void tt_dgm_style_for(struct tt_dgm_style *st, FILE *f, bool ascii);
void tt_diagram_print(const struct tt_diagram *D, FILE *f,
		      const struct tt_clock *k, const struct tt_dgm_style *st);
void tt_diagram_svg(const struct tt_diagram *D, FILE *f,
		    const struct tt_clock *k);

#endif /* TT_OUTPUT_DIAGRAM_H */
