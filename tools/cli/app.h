/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The running tool, shared by the files of the command line: formats.c
 * (what each record and connection is written to), clock.c (the clock,
 * settled at the first record) and tcptimeline.c (main and the loop).
 */
#ifndef TT_CLI_APP_H
#define TT_CLI_APP_H

#include "cli/cli.h"
#include "output/diagram.h"

struct app {
	struct opts *o; /* the filter's times are resolved in place */
	const struct tt_source *src;
	struct tt_decoder *dec;
	struct tt_clock clock;
	bool started; /* the first record has been seen */
	struct tt_outputs *out;
	struct tt_svg *svg;
	struct tt_brief *brief;
	struct tt_stats *stats;
	struct tt_diagram *diagram; /* --diagram, --diagram-svg */
	struct tt_dgm_style dgm_style;
	uint64_t dgm_redraw_ns; /* live on a terminal: the next redraw; else 0 */
	struct tt_journal *journal; /* --journal */
	struct recon *recon;
	struct tt_select *sel; /* NULL: the record outputs take every record */
	struct tt_live_metrics lm; /* --metrics (fleet.c) */
	struct tt_rotor *rot; /* -w with -C, -G, -W (fleet.c) */
	/* false when no output wants connections (-w alone): skip rebuilding them */
	bool reconstruct;
	bool live, clock_failed;
	uint64_t tick_ns; /* -i: the end of the current interval */
	uint64_t shown;
	size_t hosts_peak; /* several hosts: the largest reconstruction's peak */
};

uint64_t tt_now_ns(void);

/* ---- formats.c ---- */
/* The formats' headers, the reconstruction, the record filter. */
int tt_formats_start(struct app *a, const struct tt_source *src);
/* A record, decoded: through the reconstruction to the formats. */
void tt_formats_record(struct app *a, const struct tcpstates_record *r);
/*
 * -w alone from the live device: may whole records skip the decoder? Then
 * tt_formats_raw() takes @n of them at a time, once the first read has
 * been decoded (its first record settles the clock).
 */
bool tt_formats_passthrough(const struct app *a);
void tt_formats_raw(struct app *a, const struct tcpstates_record *r, size_t n);
/* -i: prints and restarts the statistics of each interval ended by @now. */
void tt_formats_tick(struct app *a, uint64_t now);
/* How long the reader may wait before the diagram redraws (-1: forever). */
int tt_formats_wait_ms(const struct app *a);
/* The end of the input: what is written only at the end. */
void tt_formats_stop(struct app *a);
void tt_formats_free(struct app *a);
/*
 * Captures of several hosts: merge.c's conversations to the formats, every
 * record and side to what counts them (--stats, --metrics); every host's
 * decoder's counts to @total's (--bench, the summary).
 */
int tt_formats_merge(struct app *a, struct tt_files *fs,
		     struct tt_decoder *total);

/* ---- fleet.c ---- */
/* --metrics and the rotating -w, after the outputs are open. */
int tt_fleet_start(struct app *a, struct tt_source *src);
/* Publishes metrics, rotates by time; how long the reader may wait (ms). */
int tt_fleet_tick(struct app *a);
void tt_fleet_stop(struct app *a);

/* ---- clock.c ---- */
/* Settles the clock and the filter's times; -1 (said why) if it cannot. */
int tt_clock_start(struct app *a, const struct tcpstates_record *r);

#endif /* TT_CLI_APP_H */
