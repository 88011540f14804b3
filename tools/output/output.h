/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The output layer: finished connections (from the reconstruction) and
 * records (from the decoder) written as text, JSON, CSV, ladders, SVG and
 * statistics. It depends on the two layers below only.
 */
#ifndef TT_OUTPUT_OUTPUT_H
#define TT_OUTPUT_OUTPUT_H

#include <stdio.h>
#include <time.h>

#include "decode/decode.h"
#include "reconstruct/recon.h"

/* ---- clock.c: how times are shown ---- */
enum tt_time_mode { TT_TIME_WALL, TT_TIME_UTC, TT_TIME_MONO, TT_TIME_RELATIVE };

struct tt_clock {
	enum tt_time_mode mode;
	bool have_offset;
	int64_t offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC */
	uint64_t t0; /* relative: the first record's time */
};

int tt_time_mode_parse(const char *s); /* -1 if unknown */
/* @mono_ns since the epoch; false without an offset (or out of range). */
bool tt_clock_epoch(const struct tt_clock *k, uint64_t mono_ns,
		    struct timespec *ts);
/* @mono_ns as @k shows it; monotonic seconds where wall time is unknown. */
void tt_fmt_time(const struct tt_clock *k, char *buf, size_t len,
		 uint64_t mono_ns);
/* RFC 3339 UTC with nanoseconds; false without an offset. */
bool tt_fmt_rfc3339(const struct tt_clock *k, char *buf, size_t len,
		    uint64_t mono_ns);
int tt_time_width(const struct tt_clock *k); /* columns tt_fmt_time takes */

/* ---- escape.c: one rule for kernel text in every format ---- */
#define TT_COMM_ESCAPED (16 * 4) /* a comm, every byte \ooo */
/*
 * @s made terminal-safe: controls, backslash and bytes that are not valid
 * UTF-8 as \ooo, valid UTF-8 kept; @space: escape spaces too. Returns @buf.
 */
const char *tt_escape(char *buf, size_t len, const char *s, bool space);
/* @t as SVG/XML character data or an attribute value: < > & " as entities. */
void tt_xml_escape(FILE *f, const char *t);
bool tt_utf8_valid(const char *s);

/* ---- brief.c: --brief, a line per connection side ---- */
struct tt_brief;
/* @host: a HOST column, the connections' labels. */
struct tt_brief *tt_brief_open(FILE *f, const struct tt_clock *k, bool live,
			       bool host);
void tt_brief_conn(struct tt_brief *b, const struct conn *c);
void tt_brief_lost(struct tt_brief *b, const struct tcpstates_record *r);
void tt_brief_close(struct tt_brief *b);
/* One row alone, no header, each column at its narrowest width. */
void tt_brief_line(char *buf, size_t len, const struct tt_clock *k,
		   const struct conn *c);

/* ---- journal.c: --journal, an entry per connection side ---- */
struct tt_journal_counts {
	uint64_t sent; /* entries journald took */
	uint64_t suppressed; /* sides over the limit, not sent */
	uint64_t notices; /* entries that said how many were suppressed */
	uint64_t failed; /* entries sd_journal_sendv() refused */
	int last_error; /* its last errno */
};

struct tt_journal;
/* 0 if journald listens; else -1, said why on stderr. */
int tt_journal_check(void);
/* At most @limit entries every TT_JOURNAL_WINDOW_S seconds; 0: no limit. */
#define TT_JOURNAL_WINDOW_S 30
struct tt_journal *tt_journal_open(const struct tt_clock *k,
				   unsigned int limit);
void tt_journal_conn(struct tt_journal *j, const struct conn *c);
/* Says what was suppressed so far, if anything; then the counts. */
void tt_journal_close(struct tt_journal *j, struct tt_journal_counts *n);

/*
 * An array @v of @n elements of @size bytes with room for @cap, given room
 * for one more: doubled (or @first elements when empty) if full. NULL: no
 * memory, and @v and @cap are as they were.
 */
void *tt_grow(void *v, size_t *cap, size_t n, size_t size, size_t first);

/* ---- ports.c: ephemeral ports and TIME_WAIT per destination ---- */
struct tt_ports;
/* A destination's outlook as of its last event (a port taken or freed). */
struct tt_port_forecast {
	uint64_t window_ns; /* the last 60 s, or since its first connect */
	uint64_t taken, freed; /* ports, in that window */
	bool have_range; /* its connects recorded their port range */
	uint64_t left; /* the range less the ports held (have_range) */
	bool filling; /* ports left, more taken than freed: eta_ns */
	uint64_t eta_ns; /* at that net rate, none left after this */
};

struct tt_ports *tt_ports_new(void);
void tt_ports_free(struct tt_ports *P);
/* A client side's events, as they happen: its port taken, TIME_WAIT, end. */
void tt_ports_side(struct tt_ports *P, const struct conn *c,
		   enum tt_side_event ev);
/* Destination @i (print order once printed); false: none, or no connect. */
bool tt_ports_forecast(const struct tt_ports *P, size_t i,
		       struct tt_port_forecast *f);
void tt_ports_print(const struct tt_ports *P, FILE *f);
void tt_ports_json(const struct tt_ports *P, FILE *f);

/* The destinations that hold most ports, for the metrics: a plain copy. */
#define TT_PORTS_TOP 10
struct tt_port_dest {
	uint32_t netns;
	uint8_t family;
	uint8_t laddr[16], raddr[16];
	uint16_t rport;
	uint64_t held, tw;
	bool have_forecast;
	struct tt_port_forecast fc;
};

struct tt_ports_top {
	bool valid; /* made by tt_ports_top() */
	size_t n; /* d[0..n): the most ports held first */
	struct tt_port_dest d[TT_PORTS_TOP];
	size_t others; /* destinations not in d, summed: */
	uint64_t others_held, others_tw;
	uint64_t no_port; /* every destination's connects that found no port */
};

void tt_ports_top(const struct tt_ports *P, struct tt_ports_top *t);

/* ---- timeline.c: the default text, and the helpers it shares ---- */
void tt_fmt_dur(char *buf, size_t len, uint64_t ns);
/* "78 B", "~79 B" for a kernel counter, "?" when unknown. */
void tt_fmt_bytes(char *buf, size_t len, const struct tt_bytes *b);
void tt_fmt_endpoint(char *buf, size_t len, unsigned int family,
		     const uint8_t *addr, uint16_t port);
void tt_text_conn(FILE *f, const struct tt_clock *k, const struct conn *c,
		  const struct conn *peer);
void tt_text_lost(FILE *f, const struct tt_clock *k,
		  const struct tcpstates_record *r);

/* ---- fields.c: the one schema JSON and CSV are rendered from ---- */
#define TT_VALUE_BUF 64

enum tt_ftype { FT_UINT, FT_STR, FT_BOOL, FT_TIME, FT_STATES };

struct tt_row {
	const struct conn *c;
	const struct tt_clock *clock;
};

struct tt_value {
	bool null;
	uint64_t u; /* FT_UINT, FT_BOOL */
	const char *s; /* FT_STR, FT_TIME */
	char buf[TT_VALUE_BUF];
};

struct tt_field {
	const char *name;
	enum tt_ftype type;
	const char *null_when; /* "never", or when it is null */
	const char *desc;
	void (*get)(const struct tt_row *x, struct tt_value *v);
};

const struct tt_field *tt_fields(size_t *n);
const char *tt_field_type(enum tt_ftype t);
/* --fields: one line per field, tab-separated, after a header. */
void tt_fields_list(FILE *f);

/* ---- json.c, csv.c ---- */
void tt_json_conn(FILE *f, const struct tt_clock *k, const struct conn *c);
void tt_json_lost(FILE *f, const struct tt_clock *k,
		  const struct tcpstates_record *r);
void tt_csv_header(FILE *f);
void tt_csv_conn(FILE *f, const struct tt_clock *k, const struct conn *c);

/* ---- ladder.c, svg.c ---- */
void tt_ladder_conn(FILE *f, const struct tt_clock *k, const struct conn *a,
		    const struct conn *b);

struct tt_svg;
#define TT_SVG_MAX 1000 /* diagrams in one picture; the rest are counted */
struct tt_svg *tt_svg_open(FILE *f, const struct tt_clock *k);
void tt_svg_conn(struct tt_svg *s, const struct conn *a, const struct conn *b);
uint64_t tt_svg_left_out(const struct tt_svg *s);
void tt_svg_close(struct tt_svg *s);

/* The ladder's rows, shared by the terminal and SVG renderers. */
enum { DIR_NONE, DIR_RIGHT, DIR_LEFT };
struct tt_step {
	uint64_t ts;
	int side; /* 0 = left, 1 = right */
	int dir; /* DIR_* arrow, from the side that sent */
	char label[48]; /* packet, e.g. "SYN seq=A" */
	char state[24]; /* state the side entered, or "" */
};
struct tt_ladder {
	const struct conn *side[2]; /* left (client), right (server) */
	char title[256];
	char legend[160];
	struct tt_step *steps;
	size_t nsteps;
};
int tt_ladder_build(struct tt_ladder *L, const struct conn *a,
		    const struct conn *b);
void tt_ladder_free(struct tt_ladder *L);

/* ---- stats.c: --stats ---- */
struct tt_stats;
struct tt_stats *tt_stats_new(uint64_t close_wait_warn_ns);
void tt_stats_record(struct tt_stats *s, const struct tcpstates_record *r);
/* A side, when it ends (its close, handshake, time in each state). */
void tt_stats_conn(struct tt_stats *s, const struct conn *c);
/* What happens to a side before it ends (TIME_WAIT entered). */
void tt_stats_side(struct tt_stats *s, const struct conn *c,
		   enum tt_side_event ev);
void tt_stats_print(struct tt_stats *s, FILE *f);
void tt_stats_print_json(struct tt_stats *s, FILE *f, const char *from,
			 const char *to);
void tt_stats_reset(struct tt_stats *s); /* -i: a new interval */
void tt_stats_free(struct tt_stats *s);

#endif /* TT_OUTPUT_OUTPUT_H */
