/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The command line: options, filters, input and output files. The top
 * layer; it may include every other.
 */
#ifndef TT_CLI_CLI_H
#define TT_CLI_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "decode/decode.h"
#include "reconstruct/recon.h"
#include "output/output.h"
#include "cli/fleet.h"

#define TT_VERSION "2.0"

/* Exit codes (also in --help and the man page). */
enum {
	TT_EXIT_OK = 0,
	TT_EXIT_USAGE = 1, /* bad option or argument */
	TT_EXIT_IO = 2, /* cannot open/read/write a file or device */
	TT_EXIT_DATA = 3, /* input had corrupt or truncated records */
};

/*
 * Output formats. Each goes to standard output or to a file of its own
 * (--json=FILE); at most one may take standard output, so two formats are
 * never interleaved in one stream.
 */
#define TT_FORMAT_LIST(X)         \
	X(TIMELINE, "--timeline") \
	X(BRIEF, "--brief")       \
	X(LADDER, "--ladder")     \
	X(JSON, "--json")         \
	X(CSV, "--csv")           \
	X(STATS, "--stats")       \
	X(DUMP, "--dump")         \
	X(SVG, "--svg")

#define TT_FORMAT_ENUM(NAME, option) FMT_##NAME,
enum tt_format { TT_FORMAT_LIST(TT_FORMAT_ENUM) FMT_NR };

const char *tt_format_option(enum tt_format f);

/* --since, --until: as given, resolved at the first record (when.c). */
struct when {
	enum { WHEN_MONO, WHEN_EPOCH, WHEN_CIVIL, WHEN_TODAY } kind;
	struct tm tm; /* CIVIL: the date and time; TODAY: the time */
	int64_t ns; /* MONO, EPOCH: all of it; else the fraction */
	bool zulu; /* a trailing Z: UTC */
};

#define TT_FILTER_VALUES 64

struct cidr {
	uint8_t family, bits;
	uint8_t addr[16];
};

/* Values of one group are alternatives; the groups given must all hold. */
struct filter {
	bool any; /* some filter was given */
	bool have_port, have_lport, have_rport;
	uint8_t port[8192], lport[8192], rport[8192]; /* a bit per port */
	struct cidr addrs[TT_FILTER_VALUES];
	unsigned int naddrs;
	bool v4, v6;
	uint32_t pids[TT_FILTER_VALUES];
	unsigned int npids;
	char comms[TT_FILTER_VALUES][16];
	unsigned int ncomms;
	uint32_t netns[TT_FILTER_VALUES];
	unsigned int nnetns;
	uint32_t states; /* a bit per TCP state */
	uint32_t roles; /* a bit per enum tt_role */
	bool have_since, have_until;
	struct when since, until;
	uint64_t since_ns, until_ns; /* resolved: CLOCK_MONOTONIC */
};

struct opts {
	const char *read_file; /* -r, -T: a file, "-" for stdin */
	bool text; /* -T: the input is /proc/tcpstates text */
	const char *write_file; /* -w: capture, "-" for stdout */
	const char *out[FMT_NR]; /* NULL: not wanted; "-": stdout */
	const char *device;
	bool from_now, bench;
	bool unbuffered; /* -U: every record and connection at once */
	enum tt_time_mode time; /* --time */
	bool time_given; /* --time was given: no quiet fallback */
	bool have_offset; /* --realtime-offset */
	int64_t offset_ns;
	bool on_time_wait; /* --on-time-wait */
	uint64_t interval_ns; /* -i: --stats every so often; 0: at the end */
	uint64_t close_wait_ns;
	struct filter flt;
	char **reads; /* every -r, in order (read_file: the first) */
	size_t nreads;
	const char *metrics; /* --metrics ADDR:PORT, or - */
	struct tt_metrics_cfg metrics_cfg; /* --metrics-ports */
	struct tt_rotate_cfg rotate; /* -C, -G, -W */
	bool journal; /* --journal (output/journal.c) */
	unsigned int journal_limit; /* --journal-limit, per 30 s; 0: none */
};

/* ---- options.c ---- */
/* 0, or an exit code: usage errors and --help/--version end here. */
int tt_parse_opts(int argc, char **argv, struct opts *o, bool *done);

/* ---- filter_opts.c ---- */
enum tt_filter_kind {
	TT_F_PORT,
	TT_F_LPORT,
	TT_F_RPORT,
	TT_F_ADDR,
	TT_F_PID,
	TT_F_NETNS,
	TT_F_COMM,
	TT_F_STATE,
	TT_F_ROLE,
};

/* A decimal number up to @max, the whole string; -1 if not. */
int tt_parse_u32(const char *s, uint32_t max, uint32_t *out);
/* Adds the values of @arg (a comma list); -1 with what it wanted. */
int tt_filter_add(struct filter *f, enum tt_filter_kind k, const char *arg,
		  const char **want);

/* ---- filter.c ---- */
/* An ended side matches. */
bool tt_filter_conn(const struct filter *f, const struct conn *c);
/* An open side's conversation: 1 shown, 0 not, -1 not known yet. */
int tt_filter_early(const struct filter *f, const struct conn *c);
/* A record no connection claims, on its own fields. */
bool tt_filter_record(const struct filter *f, const struct tcpstates_record *r);

/* ---- select.c: which records -w, --dump and --stats keep ---- */
struct tt_select;
/* @out gets the records kept, in their order. */
struct tt_select *tt_select_new(const struct filter *f, tt_record_fn out,
				void *arg);
void tt_select_record(struct tt_select *S, const struct tcpstates_record *r,
		      uint64_t id, const struct conn *live);
void tt_select_decide(struct tt_select *S, uint64_t c, uint64_t peer,
		      bool shown);
void tt_select_alias(struct tt_select *S, uint64_t from, uint64_t to);
void tt_select_retire(struct tt_select *S, uint64_t id);
void tt_select_finish(struct tt_select *S);
void tt_select_free(struct tt_select *S);

/* ---- when.c ---- */
int tt_when_parse(const char *s, struct when *w);
int tt_when_resolve(const struct when *w, const struct tt_clock *k,
		    uint64_t first_ns, uint64_t *mono);

/* ---- input.c: where the records come from ---- */
struct tt_source {
	int fd;
	const char *name; /* for messages */
	enum tt_input mode;
	bool live; /* the device: poll, follow until a signal */
	struct tt_cap_info ci; /* record size, realtime offset, capacity */
	unsigned char *head; /* bytes read while sniffing the format */
	size_t nhead;
	dev_t dev; /* what it is, to refuse writing over it */
	ino_t ino;
	bool have_offset; /* capture header, device, or the live stats */
	struct tt_files *files; /* several -r, or a glob: files.c reads them */
};

/* Opens and identifies the input; an exit code on failure (said why). */
int tt_source_open(struct tt_source *src, const struct opts *o);
void tt_source_close(struct tt_source *src);

/* ---- recorder.c: -w, the capture writer ---- */
struct tt_recorder;
/* NULL after saying why on stderr. */
struct tt_recorder *tt_recorder_open(const char *path, bool per_record);
int tt_recorder_header(struct tt_recorder *w, const struct tt_cap_info *ci);
int tt_recorder_record(struct tt_recorder *w, const struct tcpstates_record *r);
int tt_recorder_flush(struct tt_recorder *w);
int tt_recorder_error(const struct tt_recorder *w); /* errno, or 0 */
/* Flushes, closes, says what was written (or the error). -1 on error. */
int tt_recorder_close(struct tt_recorder *w);

/* ---- outputs.c: the output files ---- */
struct tt_outputs {
	FILE *f[FMT_NR]; /* NULL: format not wanted */
	FILE *metrics; /* --metrics -: the exposition, at the end */
	struct tt_recorder *rec; /* -w */
};

/*
 * Checks that no output is an input or another output and that at most
 * one takes stdout, then opens them all. An exit code on failure.
 */
int tt_outputs_open(struct tt_outputs *out, const struct opts *o,
		    const struct tt_source *src);
/* Closes everything, stdout last; -1 if any write failed (said which). */
int tt_outputs_close(struct tt_outputs *out, const struct opts *o);
/*
 * Flushes, checks and closes standard output, naming @option (or not) in
 * the error it says; -1 on error. errno: 0 or the last write's error.
 */
int tt_close_stdout(const char *option);
/* True once any output has failed: there is no point in going on. */
bool tt_outputs_failed(const struct tt_outputs *out);
/* Pushes what the formats have written (live, -U). */
void tt_outputs_flush(const struct tt_outputs *out);

#endif /* TT_CLI_CLI_H */
