/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The command line: options, input and output files, main(). The top
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
#include "filter/filter.h"
#include "record/record.h"
#include "fleet/fleet.h"

#define TT_VERSION "2.0"

/*
 * Output formats. Each goes to standard output or to a file of its own
 * (--json=FILE); at most one may take standard output, so two formats are
 * never interleaved in one stream.
 */
#define TT_FORMAT_LIST(X)             \
	X(TIMELINE, "--timeline")     \
	X(BRIEF, "--brief")           \
	X(LADDER, "--ladder")         \
	X(JSON, "--json")             \
	X(CSV, "--csv")               \
	X(STATS, "--stats")           \
	X(STATS_JSON, "--stats-json") \
	X(DUMP, "--dump")             \
	X(SVG, "--svg")               \
	X(DIAGRAM, "--diagram")       \
	X(DIAGRAM_SVG, "--diagram-svg")

#define TT_FORMAT_ENUM(NAME, option) FMT_##NAME,
enum tt_format { TT_FORMAT_LIST(TT_FORMAT_ENUM) FMT_NR };

const char *tt_format_option(enum tt_format f);

struct opts {
	const char *read_file; /* -r, -T: a file, "-" for stdin */
	bool text; /* -T: the input is /proc/tcpstates text */
	const char *write_file; /* -w: capture, "-" for stdout */
	const char *hostname; /* --hostname: the host label */
	const char *out[FMT_NR]; /* NULL: not wanted; "-": stdout */
	const char *device;
	bool from_now, bench;
	bool no_map; /* --no-map: read() the device, never map its ring */
	bool unbuffered; /* -U: every record and connection at once */
	enum tt_time_mode time; /* --time */
	bool time_given; /* --time was given: no quiet fallback */
	bool have_offset; /* --realtime-offset */
	int64_t offset_ns;
	bool on_time_wait; /* --on-time-wait */
	bool ascii; /* --ascii: --diagram without box-drawing characters */
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

/* ---- input.c: where the records come from ---- */
struct tt_source {
	int fd;
	const char *name; /* for messages */
	enum tt_input mode;
	bool live; /* the device: poll, follow until a signal */
	bool stream; /* a pipe, socket or terminal: poll, show as it comes */
	struct tt_cap_info ci; /* record size, realtime offset, capacity */
	unsigned char *head; /* bytes read while sniffing the format */
	size_t nhead;
	dev_t dev; /* what it is, to refuse writing over it */
	ino_t ino;
	bool have_offset; /* capture header, device, or the live stats */
	struct tt_files *files; /* several -r, or a glob: files.c reads them */
	struct tt_mapped *map; /* the device's ring, mapped; NULL: read() it */
	char label[64 * 4]; /* the host label, escaped; "": none */
};

/* ---- mapped.c: the device's ring, mapped (uapi/tcpstates.h) ---- */
struct tt_mapped;
struct tt_mapped *tt_mapped_open(int fd, uint64_t start); /* NULL: errno */
void tt_mapped_close(struct tt_mapped *m);
bool tt_mapped_ready(const struct tt_mapped *m); /* a record to copy */
ssize_t tt_mapped_read(struct tt_mapped *m, void *buf, size_t len);
int tt_mapped_before_poll(const struct tt_mapped *m); /* 0 or -1, errno */

/* Opens and identifies the input; an exit code on failure (said why). */
int tt_source_open(struct tt_source *src, const struct opts *o);
void tt_source_close(struct tt_source *src);

/* ---- fleet_opts.c: the recorder's and the fleet's options ---- */
/* -C, -G, -W, --metrics, --metrics-ports: 0, an exit code, -1: not mine. */
int tt_fleet_opt(struct opts *o, int ch, const char *name, const char *arg);
int tt_fleet_check_opts(const struct opts *o); /* 0 or an exit code */
bool tt_rotating(const struct opts *o);
bool tt_many_files(const struct opts *o);

/*
 * Refuses what several hosts' records cannot go to (-w, --dump, -i), on
 * stderr, before any output is opened: 0, or an exit code. @fs may be NULL.
 */
int tt_merge_check_opts(const struct opts *o, const struct tt_files *fs);

/* ---- outputs.c: the output files ---- */
struct tt_outputs {
	FILE *f[FMT_NR]; /* NULL: format not wanted */
	FILE *metrics; /* --metrics -: the exposition, at the end */
	struct tt_recorder *rec; /* -w */
	bool failed; /* an output failed for good (said): the run ends, 2 */
	/* errno of the write that failed, per format, caught when first seen */
	int err[FMT_NR];
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
/* An output failed for good: says @why (if any) once, naming @option. */
void tt_outputs_fail(struct tt_outputs *out, const char *option,
		     const char *why);
/* True once any output has failed: there is no point in going on. */
bool tt_outputs_failed(struct tt_outputs *out);
/* Pushes what the formats have written (live, -U). */
void tt_outputs_flush(const struct tt_outputs *out);
/*
 * After each read of the device or a pipe: --dump's lines, and the
 * capture when it goes to a pipe (tcptimeline -w - | tcptimeline -r -).
 */
void tt_outputs_batch(const struct tt_outputs *out);

#endif /* TT_CLI_CLI_H */
