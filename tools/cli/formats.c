// SPDX-License-Identifier: GPL-2.0
/*
 * The formats: what each finished connection and each record is written
 * to. Connections come from the reconstruction's sink; records either go
 * straight to -w, --stats and --dump, or, under a filter, through
 * select.c, which keeps those of the conversations shown. Captures of
 * several hosts (merge.c) are not one stream of records: their records
 * go to the counts alone, --stats and --metrics (through select.c too);
 * -w and --dump are refused before anything is opened (merge.c).
 *
 * Under a filter, --metrics counts what the other outputs show: the
 * records of the conversations shown (their transitions, resets and
 * retransmissions), and the sides of those conversations, each counted
 * (its handshake, its accept wait, its close, its duration) when the
 * conversation is shown,
 * that is when it has ended. Without one, a side is counted as it happens.
 * The gauge of open sides is exporter.c's.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/app.h"

static void side_event(struct app *a, const struct conn *c,
		       enum tt_side_event ev)
{
	if (a->stats)
		tt_stats_side(a->stats, c, ev);
	if (a->lm.m) {
		tt_metrics_side(a->lm.m, c, ev);
		a->lm.dirty = true;
	}
}

/* Under a filter, a side's events are counted once it is shown. */
static void side_events(struct app *a, const struct conn *c)
{
	if (c->connect_ns)
		side_event(a, c, TT_SIDE_CONNECTED);
	side_event(a, c, TT_SIDE_ESTABLISHED);
	if (c->accept_ns)
		side_event(a, c, TT_SIDE_ACCEPTED);
	if (tt_conn_visited(c, TCPSTATES_TIME_WAIT))
		side_event(a, c, TT_SIDE_TIME_WAIT);
	side_event(a, c, TT_SIDE_ENDED);
}

/* Without a filter, --stats and --metrics count each side as it happens. */
static void sink_side(void *arg, const struct conn *c, enum tt_side_event ev)
{
	struct app *a = arg;

	if (!a->o->flt.any)
		side_event(a, c, ev);
}

#define DGM_REDRAW_NS 1000000000ULL /* live --diagram on a terminal */

/*
 * --diagram: box drawing if the locale is UTF-8 (and no --ascii), colour
 * on a terminal without NO_COLOR; live on a terminal, a redraw a second.
 */
static int diagram_start(struct app *a)
{
	FILE *f = a->out->f[FMT_DIAGRAM];

	a->diagram = tt_diagram_new();
	if (!a->diagram)
		return -1;
	if (!f)
		return 0;
	tt_dgm_style_for(&a->dgm_style, f, a->o->ascii);
	if (a->live && isatty(fileno(f)))
		a->dgm_redraw_ns = tt_now_ns() + DGM_REDRAW_NS;
	return 0;
}

static void diagram_draw(struct app *a, bool clear)
{
	FILE *f = a->out->f[FMT_DIAGRAM];

	if (clear)
		fputs("\033[H\033[2J", f);
	tt_diagram_print(a->diagram, f, &a->clock, &a->dgm_style);
	fflush(f);
}

int tt_formats_wait_ms(const struct app *a)
{
	uint64_t now = tt_now_ns();

	if (!a->dgm_redraw_ns)
		return -1;
	return a->dgm_redraw_ns > now ? (a->dgm_redraw_ns - now) / 1000000 : 0;
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
	for (const struct conn *x = l; x; x = x == l ? r : NULL) {
		if (a->o->flt.any)
			side_events(a, x);
		if (a->stats)
			tt_stats_conn(a->stats, x);
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
		if (a->journal)
			tt_journal_conn(a->journal, x);
	}
	if (a->svg)
		tt_svg_conn(a->svg, l, r);
	if (a->diagram)
		tt_diagram_conn(a->diagram, l, r);
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
	if (a->brief)
		tt_brief_lost(a->brief, r);
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

/* The record outputs: --metrics, -w, --stats counts, --dump. */
static void record_out(void *arg, const struct tcpstates_record *r)
{
	struct app *a = arg;
	char why[160];

	if (a->lm.m) {
		tt_metrics_record(a->lm.m, r);
		a->lm.dirty = true;
	}
	if (a->rot && !a->out->failed &&
	    tt_rotor_next(a->rot, &a->out->rec, r, a->clock.offset_ns, why,
			  sizeof(why)))
		tt_outputs_fail(a->out, "--write", why);
	if (a->out->rec && !a->out->failed)
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
 * -w with nothing else that wants records, from the live device: the read
 * buffer's records go to the capture as the module wrote them, without the
 * decoder's copy of each, its checks against a corrupt file and its
 * sequence bookkeeping. Those guard files; the device hands out whole
 * records only, of the size its INFO ioctl gave when it was opened, and
 * the capture is checked like any file when it is read back. Under
 * instruction counting that work was half of what the recorder cost a
 * record (BENCHMARKS.md, "Where a reader's instructions go").
 */
bool tt_formats_passthrough(const struct app *a)
{
	return a->src->live && a->src->mode == TT_IN_BINARY &&
	       a->src->ci.record_size == sizeof(struct tcpstates_record) &&
	       !a->reconstruct && !a->sel && !a->lm.m && !a->stats &&
	       !a->out->f[FMT_DUMP];
}

void tt_formats_raw(struct app *a, const struct tcpstates_record *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		record_out(a, &r[i]);
}

/* Several hosts: the record outputs, the counts alone. */
static void host_out(void *arg, const struct tcpstates_record *r)
{
	struct app *a = arg;

	if (a->lm.m)
		tt_metrics_record(a->lm.m, r);
	if (a->stats)
		tt_stats_record(a->stats, r);
}

/*
 * -i: the statistics of each interval, [tick - interval, tick), printed
 * when time reaches its end: the records' time, which live is this host's
 * monotonic clock, so an idle interval is printed too.
 */
void tt_formats_tick(struct app *a, uint64_t now)
{
	char from[40], to[40];

	if (a->dgm_redraw_ns && now >= a->dgm_redraw_ns) {
		diagram_draw(a, true);
		a->dgm_redraw_ns = now + DGM_REDRAW_NS;
	}
	while (a->o->interval_ns && a->tick_ns && now >= a->tick_ns) {
		tt_fmt_time(&a->clock, from, sizeof(from),
			    a->tick_ns - a->o->interval_ns);
		tt_fmt_time(&a->clock, to, sizeof(to), a->tick_ns);
		if (a->out->f[FMT_STATS]) {
			fprintf(a->out->f[FMT_STATS], "--- %s to %s ---\n",
				from, to);
			tt_stats_print(a->stats, a->out->f[FMT_STATS]);
			fputc('\n', a->out->f[FMT_STATS]);
			fflush(a->out->f[FMT_STATS]);
		}
		if (a->out->f[FMT_STATS_JSON]) {
			tt_stats_print_json(a->stats, a->out->f[FMT_STATS_JSON],
					    from, to);
			fflush(a->out->f[FMT_STATS_JSON]);
		}
		tt_stats_reset(a->stats);
		a->tick_ns += a->o->interval_ns;
	}
}

void tt_formats_record(struct app *a, const struct tcpstates_record *r)
{
	const struct conn *live = NULL;
	uint64_t id = 0;

	if (a->reconstruct)
		id = tt_recon_record(a->recon, r, &live);
	if (a->sel)
		tt_select_record(a->sel, r, id, live);
	else
		record_out(a, r);
}

/* The formats' headers, and what each needs before the first record. */
int tt_formats_start(struct app *a, const struct tt_source *src)
{
	const struct opts *o = a->o;
	FILE *const *f = a->out->f;
	struct tt_sink sink = { .conn = sink_conn,
				.side = sink_side,
				.lost = sink_lost,
				.alias = sink_alias,
				.retire = sink_retire,
				.arg = a };
	bool hosts = src->files && src->files->ngroups > 1;
	bool records = a->lm.m || f[FMT_STATS] || f[FMT_STATS_JSON] ||
		       (!hosts && (a->out->rec || a->rot || f[FMT_DUMP]));

	a->live = src->live || src->stream;
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
	if ((f[FMT_DIAGRAM] || f[FMT_DIAGRAM_SVG]) && diagram_start(a))
		return -1;
	if (f[FMT_BRIEF] && !(a->brief = tt_brief_open(f[FMT_BRIEF], &a->clock,
						       a->live || o->unbuffered,
						       hosts || src->label[0])))
		return -1;
	if ((f[FMT_STATS] || f[FMT_STATS_JSON]) &&
	    !(a->stats = tt_stats_new(o->close_wait_ns)))
		return -1;
	if (o->journal &&
	    !(a->journal = tt_journal_open(&a->clock, o->journal_limit)))
		return -1;
	if (f[FMT_DUMP])
		tt_print_text_header(f[FMT_DUMP]);
	if (f[FMT_CSV])
		tt_csv_header(f[FMT_CSV]);
	for (int i = 0; i < FMT_NR; i++)
		if (f[i] && i != FMT_DUMP)
			a->reconstruct = true;
	a->reconstruct |= o->bench || a->lm.m || a->journal;
	if (o->flt.any && records) {
		a->reconstruct = true; /* a record follows its connection */
		a->sel = tt_select_new(&o->flt, hosts ? host_out : record_out,
				       a);
		if (!a->sel)
			return -1;
	}
	a->recon = tt_recon_new(&sink);
	if (a->recon && o->on_time_wait)
		tt_recon_early_time_wait(a->recon);
	if (a->recon && src->label[0] && !hosts)
		tt_recon_set_host(a->recon, src->label);
	return a->recon ? 0 : -1;
}

/* --journal: what it sent, and what it did not, on stderr. */
static void journal_stop(struct app *a)
{
	struct tt_journal_counts n;

	if (!a->journal)
		return;
	tt_journal_close(a->journal, &n);
	a->journal = NULL;
	fprintf(stderr,
		"%s: --journal: %llu entries, %llu sides over --journal-limit (said in %llu notices), %llu refused%s%s\n",
		TT_NAME, (unsigned long long)n.sent,
		(unsigned long long)n.suppressed, (unsigned long long)n.notices,
		(unsigned long long)n.failed, n.failed ? ": " : "",
		n.failed ? strerror(n.last_error) : "");
}

/* What is written only at the end: the statistics and the SVG picture. */
void tt_formats_stop(struct app *a)
{
	char from[40];

	tt_brief_close(a->brief);
	a->brief = NULL;
	journal_stop(a);
	if (a->stats && a->tick_ns)
		tt_fmt_time(&a->clock, from, sizeof(from),
			    a->tick_ns - a->o->interval_ns);
	if (a->stats && a->out->f[FMT_STATS]) {
		if (a->tick_ns)
			fprintf(a->out->f[FMT_STATS], "--- %s to the end ---\n",
				from);
		tt_stats_print(a->stats, a->out->f[FMT_STATS]);
	}
	if (a->stats && a->out->f[FMT_STATS_JSON])
		tt_stats_print_json(a->stats, a->out->f[FMT_STATS_JSON],
				    a->tick_ns ? from : NULL, NULL);
	if (a->svg && tt_svg_left_out(a->svg))
		fprintf(stderr,
			"%s: --svg: %llu more diagrams (connections or conversations) not drawn: the picture holds the first %d (choose them with a filter)\n",
			TT_NAME, (unsigned long long)tt_svg_left_out(a->svg),
			TT_SVG_MAX);
	if (a->svg)
		tt_svg_close(a->svg);
	a->svg = NULL;
	if (a->diagram && a->out->f[FMT_DIAGRAM])
		diagram_draw(a, a->dgm_redraw_ns);
	if (a->diagram && a->out->f[FMT_DIAGRAM_SVG])
		tt_diagram_svg(a->diagram, a->out->f[FMT_DIAGRAM_SVG],
			       &a->clock);
	a->dgm_redraw_ns = 0;
}

/* Every record of every host, counted as one stream's would be. */
static void host_record(void *arg, const struct tcpstates_record *r,
			uint64_t id, const struct conn *live)
{
	struct app *a = arg;

	if (a->sel)
		tt_select_record(a->sel, r, id, live);
	else
		host_out(a, r);
}

/*
 * The gauge of open sides: those of every host as its input ended; and
 * --bench's peak, the largest of one host's (one is read at a time).
 */
static void host_end(void *arg, const struct recon *R)
{
	struct app *a = arg;

	if (a->lm.m)
		tt_live_metrics_count(&a->lm, R);
	if (tt_recon_peak(R) > a->hosts_peak)
		a->hosts_peak = tt_recon_peak(R);
}

int tt_formats_merge(struct app *a, struct tt_files *fs,
		     struct tt_decoder *total)
{
	struct tt_merge_hooks hk = {
		.sink = { .conn = sink_conn,
			  .side = sink_side,
			  .alias = sink_alias,
			  .retire = sink_retire,
			  .arg = a },
		.record = host_record,
		.end = host_end,
	};
	int ret = tt_merge_run(fs, &hk, a->out->f[FMT_TIMELINE],
			       a->out->f[FMT_LADDER], a->out->f[FMT_JSON],
			       total);

	if (!ret && a->sel)
		tt_select_finish(a->sel);
	return ret;
}

void tt_formats_free(struct app *a)
{
	if (a->svg)
		tt_svg_close(a->svg);
	tt_brief_close(a->brief);
	tt_journal_close(a->journal, NULL);
	tt_recon_free(a->recon);
	tt_select_free(a->sel);
	tt_stats_free(a->stats);
	tt_diagram_free(a->diagram);
}
