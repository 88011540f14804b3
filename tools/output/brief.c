// SPDX-License-Identifier: GPL-2.0
/*
 * --brief: one line per connection side, as bcc's tcplife prints them,
 * under a header, in aligned columns:
 *
 *   START PID COMM LADDR LPORT RADDR RPORT TX_B RX_B MS CLOSE REASON
 *
 * TX_B and RX_B are the application's bytes; "~" marks the kernel's
 * counters where the sequence numbers for the exact count are missing.
 * MS is the side's life, first record to end, in milliseconds, rounded to
 * two decimals as tcplife's %.2f does. REASON is why it ended (see CLOSE
 * REASONS in tcptimeline(8)). HOST, last, is the recording host's
 * label, when the input names one. A loss (the ring overwrote records before
 * they were read, or a rotated file is missing) is a line of its own where
 * it happened, and the CLOSE of a side whose history has a gap ends in '*'.
 * Columns are as wide as their widest value: from a file, rows are written a block
 * at a time, each block aligned; live, each row at once, the columns
 * widening when a value needs it (never narrowing).
 */
#include <stdlib.h>
#include <string.h>

#include "output/output.h"

#define BLOCK 1024
#define NCOL 13
#define CELL 80
#define NOTE 160

static const struct {
	const char *name;
	int min;
	bool right;
} cols[NCOL] = {
	{ "START", 5, false },	{ "PID", 7, true },    { "COMM", 15, false },
	{ "LADDR", 15, false }, { "LPORT", 5, true },  { "RADDR", 15, false },
	{ "RPORT", 5, true },	{ "TX_B", 8, true },   { "RX_B", 8, true },
	{ "MS", 9, true },	{ "CLOSE", 5, false }, { "REASON", 6, false },
	{ "HOST", 4, false },
};

struct tt_brief {
	FILE *f;
	const struct tt_clock *clock;
	bool live, header_done;
	int ncol; /* NCOL with HOST, else one fewer */
	int width[NCOL];
	char (*rows)[NCOL][CELL];
	char (*notes)[NOTE]; /* a row that is a line of its own: "" if not */
	size_t n;
};

struct tt_brief *tt_brief_open(FILE *f, const struct tt_clock *k, bool live,
			       bool host)
{
	struct tt_brief *b = calloc(1, sizeof(*b));

	if (!b || !(b->rows = calloc(live ? 1 : BLOCK, sizeof(*b->rows))) ||
	    !(b->notes = calloc(live ? 1 : BLOCK, sizeof(*b->notes)))) {
		if (b)
			free(b->rows);
		free(b);
		return NULL;
	}
	b->f = f;
	b->clock = k;
	b->live = live;
	b->ncol = host ? NCOL : NCOL - 1;
	for (int i = 0; i < NCOL; i++)
		b->width[i] = cols[i].min;
	return b;
}

static void bytes_cell(char *cell, const struct tt_bytes *x)
{
	if (x->kind == TT_BYTES_NONE)
		snprintf(cell, CELL, "-");
	else
		snprintf(cell, CELL, "%s%llu",
			 x->kind == TT_BYTES_KERNEL ? "~" : "",
			 (unsigned long long)x->n);
}

static void fill(const struct tt_brief *b, char row[NCOL][CELL],
		 const struct conn *c)
{
	struct tt_bytes tx, rx;
	uint64_t ns = c->end_ns > c->first_ns ? c->end_ns - c->first_ns : 0;
	uint64_t cs = (ns + 5000) / 10000; /* rounded to 0.01 ms, as tcplife */

	tt_fmt_time(b->clock, row[0], CELL, c->first_ns);
	if (c->owner_rank) {
		snprintf(row[1], CELL, "%u", c->tgid);
		tt_escape(row[2], CELL, c->comm, true);
	} else {
		strcpy(row[1], "-");
		strcpy(row[2], "-");
	}
	tt_format_addr(c->family, c->laddr, row[3], CELL);
	snprintf(row[4], CELL, "%u", c->lport);
	tt_format_addr(c->family, c->raddr, row[5], CELL);
	snprintf(row[6], CELL, "%u", c->rport);
	tt_conn_bytes(c, &tx, &rx);
	bytes_cell(row[7], &tx);
	bytes_cell(row[8], &rx);
	snprintf(row[9], CELL, "%llu.%02llu", (unsigned long long)(cs / 100),
		 (unsigned long long)(cs % 100));
	snprintf(row[10], CELL, "%s%s", tt_close_name(c->close),
		 c->incomplete ? "*" : "");
	snprintf(row[11], CELL, "%s",
		 c->close == CLOSE_OPEN ? "-" :
					  tt_reason_key_name(tt_reason_key(c)));
	snprintf(row[12], CELL, "%s", c->host ? c->host : "-");
}

static void print_row(const struct tt_brief *b, const char (*row)[CELL],
		      bool header)
{
	for (int i = 0; i < b->ncol; i++) {
		const char *v = header ? cols[i].name : row[i];
		int w = i + 1 < b->ncol ? b->width[i] : 0;

		fprintf(b->f, cols[i].right ? "%*s%s" : "%-*s%s", w, v,
			i + 1 < b->ncol ? " " : "\n");
	}
}

static void flush(struct tt_brief *b)
{
	for (size_t r = 0; r < b->n; r++)
		for (int i = 0; i < NCOL && !b->notes[r][0]; i++)
			if ((int)strlen(b->rows[r][i]) > b->width[i])
				b->width[i] = strlen(b->rows[r][i]);
	if (!b->header_done) {
		print_row(b, NULL, true);
		b->header_done = true;
	}
	for (size_t r = 0; r < b->n; r++) {
		if (b->notes[r][0])
			fprintf(b->f, "%s\n", b->notes[r]);
		else
			print_row(b, (const char(*)[CELL])b->rows[r], false);
		b->notes[r][0] = 0;
	}
	b->n = 0;
}

void tt_brief_conn(struct tt_brief *b, const struct conn *c)
{
	fill(b, b->rows[b->n++], c);
	if (b->live || b->n == BLOCK)
		flush(b);
}

/* A loss: a line of its own, in its place among the rows. */
void tt_brief_lost(struct tt_brief *b, const struct tcpstates_record *r)
{
	char t[40];

	tt_fmt_time(b->clock, t, sizeof(t), r->ts_ns);
	snprintf(
		b->notes[b->n++], NOTE,
		"--- LOST %llu record%s (seq %llu..%llu) at %s: a CLOSE marked * has a gap ---",
		(unsigned long long)r->aux, r->aux == 1 ? "" : "s",
		(unsigned long long)r->seq,
		(unsigned long long)(r->seq + r->aux - 1), t);
	if (b->live || b->n == BLOCK)
		flush(b);
}

/* One row alone, each column at its narrowest width (--journal's MESSAGE). */
void tt_brief_line(char *buf, size_t len, const struct tt_clock *k,
		   const struct conn *c)
{
	struct tt_brief b = { .clock = k };
	char row[NCOL][CELL];
	size_t at = 0;

	int ncol = c->host ? NCOL : NCOL - 1; /* HOST only where there is one */

	fill(&b, row, c);
	buf[0] = 0;
	for (int i = 0; i < ncol && at < len; i++) {
		int w = i + 1 < ncol ? cols[i].min : 0;
		int n = snprintf(buf + at, len - at,
				 cols[i].right ? "%*s%s" : "%-*s%s", w, row[i],
				 i + 1 < ncol ? " " : "");

		at += n > 0 ? (size_t)n : 0;
	}
}

void tt_brief_close(struct tt_brief *b)
{
	if (!b)
		return;
	if (b->n || !b->header_done)
		flush(b);
	free(b->rows);
	free(b->notes);
	free(b);
}
