// SPDX-License-Identifier: GPL-2.0
/*
 * tcptimeline: per-connection TCP timelines from the tcpstates module.
 *
 * main() parses the options, acquires in order (the input, the output
 * files, the formats and the reconstruction) and runs the one read loop:
 * decoder -> reconstruction -> the formats asked for. It leaves through
 * one cleanup: label.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

#define READ_CHUNK	(1 << 20)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

struct app {
	struct opts *o;		/* the filter's times are resolved in place */
	const struct tt_source *src;
	struct tt_decoder *dec;
	struct tt_clock clock;
	bool started;		/* the first record has been seen */
	struct tt_outputs *out;
	struct tt_svg *svg;
	struct tt_brief *brief;
	struct tt_stats *stats;
	struct recon *recon;
	struct tt_select *sel;	/* NULL: the record outputs take every record */
	/* false when no output wants connections (-w alone): skip rebuilding them */
	bool reconstruct;
	bool live, clock_failed;
	uint64_t tick_ns;	/* -i: the end of the current interval */
	uint64_t shown;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * SIGINT, SIGTERM and SIGHUP end the loop alike: what is open is flushed as
 * open, the capture is complete. SIGPIPE is ignored so that a closed pipe
 * is a write error that is reported, like any other.
 */
static void signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void block_signals(bool block)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

static void sink_conn(void *arg, const struct conn *c, const struct conn *peer)
{
	struct app *a = arg;
	FILE *const *f = a->out->f;
	const struct conn *l = c, *r = peer;

	bool shown = tt_filter_conn(&a->o->flt, c) ||
		     (peer && tt_filter_conn(&a->o->flt, peer));

	if (a->sel)
		tt_select_decide(a->sel, c->id, peer ? peer->id : 0, shown);
	if (!shown)
		return;
	a->shown++;
	tt_pair_order(&l, &r);
	if (a->stats) {
		tt_stats_conn(a->stats, l);
		if (r)
			tt_stats_conn(a->stats, r);
	}
	if (f[FMT_TIMELINE])
		tt_text_conn(f[FMT_TIMELINE], &a->clock, l, r);
	if (f[FMT_LADDER])
		tt_ladder_conn(f[FMT_LADDER], &a->clock, l, r);
	for (const struct conn *x = l; x; x = x == l ? r : NULL) {
		if (a->brief)
			tt_brief_conn(a->brief, x);
		if (f[FMT_JSON])
			tt_json_conn(f[FMT_JSON], &a->clock, x);
		if (f[FMT_CSV])
			tt_csv_conn(f[FMT_CSV], &a->clock, x);
	}
	if (a->svg)
		tt_svg_conn(a->svg, l, r);
	if (a->live || a->o->unbuffered)
		tt_outputs_flush(a->out);
}

static void sink_lost(void *arg, const struct tcpstates_record *r)
{
	struct app *a = arg;
	FILE *const *f = a->out->f;

	if (f[FMT_TIMELINE])
		tt_text_lost(f[FMT_TIMELINE], &a->clock, r);
	if (f[FMT_LADDER])
		tt_text_lost(f[FMT_LADDER], &a->clock, r);
	if (f[FMT_JSON])
		tt_json_lost(f[FMT_JSON], &a->clock, r);
}

static const char *input_kind(const struct app *a)
{
	return a->src->mode == TT_IN_TEXT ? "text" : "capture";
}

/* Formats that print times for people (JSON and CSV carry both clocks). */
static bool shows_times(const struct app *a)
{
	FILE *const *f = a->out->f;

	return f[FMT_TIMELINE] || f[FMT_BRIEF] || f[FMT_LADDER] || f[FMT_SVG];
}

/* --since and --until in the records' clock, now that the offset is known. */
static int resolve_window(struct app *a, uint64_t first_ns)
{
	struct filter *f = &a->o->flt;
	const char *bad = NULL;

	if (f->have_since &&
	    tt_when_resolve(&f->since, &a->clock, first_ns, &f->since_ns))
		bad = "--since";
	if (f->have_until &&
	    tt_when_resolve(&f->until, &a->clock, first_ns, &f->until_ns))
		bad = "--until";
	if (!bad)
		return 0;
	fprintf(stderr, "%s: %s: a wall-clock time needs the realtime offset, which this %s does not carry: give --realtime-offset, or monotonic seconds\n",
		TT_NAME, bad, input_kind(a));
	return -1;
}

/*
 * The clock is settled at the first record, when text has shown whether it
 * carries the wall-clock offset: wall time asked for and not to be had is
 * an error; by default the times fall back to monotonic, and say so. A
 * capture written from text gets the offset in its header.
 */
static int start_clock(struct app *a, const struct tcpstates_record *r)
{
	struct tt_clock *k = &a->clock;
	struct tt_cap_info ci = a->src->ci;

	k->t0 = r->ts_ns;
	if (!k->have_offset && a->dec->have_offset) {
		k->have_offset = true;
		k->offset_ns = a->dec->realtime_offset_ns;
	}
	ci.realtime_offset_ns = k->have_offset ? k->offset_ns : 0;
	if (a->out->rec && a->src->mode == TT_IN_TEXT)
		tt_recorder_header(a->out->rec, &ci);
	if (resolve_window(a, r->ts_ns))
		return -1;
	if (k->have_offset || (k->mode != TT_TIME_WALL && k->mode != TT_TIME_UTC))
		return 0;
	if (a->o->time_given) {
		fprintf(stderr, "%s: %s: --time=%s needs the wall-clock offset, which this %s does not carry: give --realtime-offset%s\n",
			TT_NAME, a->src->name,
			k->mode == TT_TIME_UTC ? "utc" : "wall", input_kind(a),
			a->src->mode == TT_IN_TEXT ?
			", or save the text with 'cat " TCPSTATES_PROC_STATS " " TCPSTATES_PROC "'" : "");
		return -1;
	}
	k->mode = TT_TIME_MONO;
	if (shows_times(a))
		fprintf(stderr, "%s: %s: this %s carries no wall-clock offset: times are CLOCK_MONOTONIC seconds (see --realtime-offset)\n",
			TT_NAME, a->src->name, input_kind(a));
	return 0;
}

static void sink_alias(void *arg, uint64_t from, uint64_t to)
{
	struct app *a = arg;

	if (a->sel)
		tt_select_alias(a->sel, from, to);
}

static void sink_retire(void *arg, uint64_t id)
{
	struct app *a = arg;

	if (a->sel)
		tt_select_retire(a->sel, id);
}

/* The record outputs: -w, --stats counts, --dump. */
static void record_out(void *arg, const struct tcpstates_record *r)
{
	struct app *a = arg;

	if (a->out->rec)
		tt_recorder_record(a->out->rec, r);
	if (a->stats)
		tt_stats_record(a->stats, r);
	if (a->out->f[FMT_DUMP]) {
		tt_print_text_line(a->out->f[FMT_DUMP], r);
		if (a->o->unbuffered)
			fflush(a->out->f[FMT_DUMP]);
	}
}

/*
 * -i: the statistics of each interval, [tick - interval, tick), printed
 * when time reaches its end: the records' time, which live is this host's
 * monotonic clock, so an idle interval is printed too.
 */
static void tick(struct app *a, uint64_t now)
{
	char from[40], to[40];

	while (a->o->interval_ns && a->tick_ns && now >= a->tick_ns) {
		tt_fmt_time(&a->clock, from, sizeof(from),
			    a->tick_ns - a->o->interval_ns);
		tt_fmt_time(&a->clock, to, sizeof(to), a->tick_ns);
		fprintf(a->out->f[FMT_STATS], "--- %s to %s ---\n", from, to);
		tt_stats_print(a->stats, a->out->f[FMT_STATS]);
		fputc('\n', a->out->f[FMT_STATS]);
		fflush(a->out->f[FMT_STATS]);
		tt_stats_reset(a->stats);
		a->tick_ns += a->o->interval_ns;
	}
}

/* --dump comes last: a record it shows has been through everything. */
static void on_record(void *arg, const struct tcpstates_record *r)
{
	struct app *a = arg;
	const struct conn *live = NULL;
	uint64_t id = 0;

	if (!a->started) {
		a->started = true;
		if (start_clock(a, r)) {
			a->clock_failed = true;
			stop = 1;
			return;
		}
	}
	if (a->clock_failed)
		return;
	if (a->o->interval_ns && !a->tick_ns)
		a->tick_ns = r->ts_ns + a->o->interval_ns;
	tick(a, r->ts_ns);

	if (a->reconstruct)
		id = tt_recon_record(a->recon, r, &live);
	if (a->sel)
		tt_select_record(a->sel, r, id, live);
	else
		record_out(a, r);
}


/* The formats' headers, and what each needs before the first record. */
static int start_formats(struct app *a, const struct tt_source *src)
{
	const struct opts *o = a->o;
	FILE *const *f = a->out->f;
	struct tt_sink sink = { .conn = sink_conn, .lost = sink_lost,
				.alias = sink_alias, .retire = sink_retire,
				.arg = a };
	bool records = a->out->rec || f[FMT_STATS] || f[FMT_DUMP];

	a->live = src->live;
	a->clock = (struct tt_clock){
		.mode = o->time,
		.have_offset = o->have_offset || src->have_offset,
		.offset_ns = o->have_offset ? o->offset_ns :
			     src->ci.realtime_offset_ns,
	};
	if (a->out->rec && src->mode == TT_IN_BINARY) {
		struct tt_cap_info ci = src->ci;

		ci.realtime_offset_ns = a->clock.offset_ns;
		tt_recorder_header(a->out->rec, &ci);
	}
	if (f[FMT_SVG] && !(a->svg = tt_svg_open(f[FMT_SVG], &a->clock)))
		return -1;
	if (f[FMT_BRIEF] &&
	    !(a->brief = tt_brief_open(f[FMT_BRIEF], &a->clock, a->live)))
		return -1;
	if (f[FMT_STATS] && !(a->stats = tt_stats_new(o->close_wait_ns)))
		return -1;
	if (f[FMT_DUMP])
		tt_print_text_header(f[FMT_DUMP]);
	if (f[FMT_CSV])
		tt_csv_header(f[FMT_CSV]);
	for (int i = 0; i < FMT_NR; i++)
		if (f[i] && i != FMT_DUMP)
			a->reconstruct = true;
	a->reconstruct |= o->bench;
	if (o->flt.any && records) {
		a->reconstruct = true;	/* a record follows its connection */
		a->sel = tt_select_new(&o->flt, record_out, a);
		if (!a->sel)
			return -1;
	}
	a->recon = tt_recon_new(&sink);
	if (a->recon && o->on_time_wait)
		tt_recon_early_time_wait(a->recon);
	return a->recon ? 0 : -1;
}

/* What is written only at the end: the statistics and the SVG picture. */
static void stop_formats(struct app *a)
{
	char from[40];

	tt_brief_close(a->brief);
	a->brief = NULL;
	if (a->stats && a->tick_ns) {
		tt_fmt_time(&a->clock, from, sizeof(from),
			    a->tick_ns - a->o->interval_ns);
		fprintf(a->out->f[FMT_STATS], "--- %s to the end ---\n", from);
	}
	if (a->stats)
		tt_stats_print(a->stats, a->out->f[FMT_STATS]);
	if (a->svg)
		tt_svg_close(a->svg);
	a->svg = NULL;
}

/*
 * Live, the signals that end the loop are blocked except inside ppoll(), so
 * one that comes between the check of stop and the wait cannot be lost.
 */
static int wait_readable(struct app *a, const struct tt_source *src,
			 const sigset_t *mask)
{
	struct pollfd p = { .fd = src->fd, .events = POLLIN };
	struct timespec t, *timeout = NULL;
	uint64_t now = now_ns();

	if (a->tick_ns) {
		uint64_t left = a->tick_ns > now ? a->tick_ns - now : 0;

		t = (struct timespec){ left / 1000000000, left % 1000000000 };
		timeout = &t;
	}
	if (ppoll(&p, 1, timeout, mask) >= 0 || errno == EINTR) {
		tick(a, now_ns());
		return 0;
	}
	fprintf(stderr, "%s: %s: poll: %s\n", TT_NAME, src->name,
		strerror(errno));
	return -1;
}

/*
 * Until the end of the input, a signal, or an output that cannot be
 * written any more: 0, or -1 after a read error.
 */
static int read_loop(struct app *a, const struct tt_source *src,
		     struct tt_decoder *dec, unsigned char *buf)
{
	size_t chunk = src->live ? src->ci.record_size * 1024 : READ_CHUNK;
	sigset_t mask;

	sigprocmask(SIG_SETMASK, NULL, &mask);
	if (src->live)
		block_signals(true);
	if (src->nhead)
		tt_decoder_feed(dec, src->head, src->nhead);
	if (src->live && a->o->interval_ns)
		a->tick_ns = now_ns() + a->o->interval_ns;
	while (!stop && !tt_outputs_failed(a->out)) {
		ssize_t n;

		if (src->live && wait_readable(a, src, &mask))
			return -1;
		n = read(src->fd, buf, chunk);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			fprintf(stderr, "%s: %s: read: %s\n", TT_NAME, src->name,
				strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		tt_decoder_feed(dec, buf, n);
		if (src->live && a->out->f[FMT_DUMP])
			fflush(a->out->f[FMT_DUMP]);
	}
	block_signals(false);
	return 0;
}

static int summary(const struct app *a, const struct tt_decoder *dec,
		   uint64_t t0)
{
	if (a->o->bench) {
		double s = (now_ns() - t0) / 1e9;

		fprintf(stderr, "%s: %llu records, %llu connections in %.3fs: %.0f records/s, peak live connections %zu\n",
			TT_NAME, (unsigned long long)dec->records,
			(unsigned long long)a->shown, s, dec->records / s,
			tt_recon_peak(a->recon));
	}
	if (dec->seen_twice)
		fprintf(stderr, "%s: %s: %llu record%s seen twice (overlapping snapshots) skipped\n",
			TT_NAME, dec->name, (unsigned long long)dec->seen_twice,
			dec->seen_twice == 1 ? "" : "s");
	if (!dec->errors)
		return TT_EXIT_OK;
	fprintf(stderr, "%s: %s: %llu input error%s (see above)\n", TT_NAME,
		dec->name, (unsigned long long)dec->errors,
		dec->errors == 1 ? "" : "s");
	return TT_EXIT_DATA;
}

static int run(struct app *a, const struct tt_source *src)
{
	struct tt_decoder dec;
	unsigned char *buf = malloc(READ_CHUNK);
	uint64_t t0 = now_ns();
	int ret = TT_EXIT_IO;

	if (!buf || start_formats(a, src)) {
		fprintf(stderr, "%s: out of memory\n", TT_NAME);
		free(buf);
		return TT_EXIT_IO;
	}
	tt_decoder_init(&dec, src->mode, src->ci.record_size, src->name,
			on_record, a);
	a->dec = &dec;
	if (!src->live && src->mode == TT_IN_BINARY)
		dec.offset = src->ci.header_size;	/* report file offsets */
	if (!read_loop(a, src, &dec, buf) && !a->clock_failed) {
		tt_decoder_finish(&dec);
		if (!a->started && a->out->rec && src->mode == TT_IN_TEXT)
			tt_recorder_header(a->out->rec, &src->ci);
		tt_recon_finish(a->recon);
		if (a->sel)
			tt_select_finish(a->sel);
		stop_formats(a);
		ret = summary(a, &dec, t0);
	} else if (a->clock_failed) {
		ret = TT_EXIT_USAGE;
	}
	tt_decoder_free(&dec);
	free(buf);
	return ret;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct tt_source src = { .fd = -1 };
	struct tt_outputs out = { 0 };
	struct app a = { .o = &o, .src = &src, .out = &out };
	bool done;
	int ret;

	ret = tt_parse_opts(argc, argv, &o, &done);
	if (ret || done)
		return ret;
	signals();
	ret = tt_source_open(&src, &o);
	if (ret)
		goto cleanup;
	ret = tt_outputs_open(&out, &o, &src);
	if (ret)
		goto cleanup;
	ret = run(&a, &src);

cleanup:
	if (a.svg)
		tt_svg_close(a.svg);
	tt_brief_close(a.brief);
	tt_recon_free(a.recon);
	tt_select_free(a.sel);
	tt_stats_free(a.stats);
	if (tt_outputs_close(&out, &o) && !ret)
		ret = TT_EXIT_IO;
	tt_source_close(&src);
	return ret;
}
