// SPDX-License-Identifier: GPL-2.0
/*
 * The clock is settled at the first record, when text has shown whether it
 * carries the wall-clock offset; the filter's --since and --until are
 * resolved with it.
 */
#include "cli/app.h"

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
	if (!bad && f->have_since && f->have_until &&
	    f->since_ns > f->until_ns) {
		fprintf(stderr,
			"%s: --since is after --until: nothing to show\n",
			TT_NAME);
		return -1;
	}
	if (!bad)
		return 0;
	fprintf(stderr,
		"%s: %s: a wall-clock time needs the realtime offset, which this %s does not carry: give --realtime-offset, or monotonic seconds\n",
		TT_NAME, bad, input_kind(a));
	return -1;
}

/*
 * The clock is settled at the first record, when text has shown whether it
 * carries the wall-clock offset: wall time asked for and not to be had is
 * an error; by default the times fall back to monotonic, and say so. A
 * capture written from text gets the offset in its header.
 */
int tt_clock_start(struct app *a, const struct tcpstates_record *r)
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
	if (k->have_offset ||
	    (k->mode != TT_TIME_WALL && k->mode != TT_TIME_UTC))
		return 0;
	if (a->o->time_given) {
		fprintf(stderr,
			"%s: %s: --time=%s needs the wall-clock offset, which this %s does not carry: give --realtime-offset%s\n",
			TT_NAME, a->src->name,
			k->mode == TT_TIME_UTC ? "utc" : "wall", input_kind(a),
			a->src->mode == TT_IN_TEXT ?
				", or save the text with 'cat " TCPSTATES_PROC_STATS
				" " TCPSTATES_PROC "'" :
				"");
		return -1;
	}
	k->mode = TT_TIME_MONO;
	if (shows_times(a))
		fprintf(stderr,
			"%s: %s: this %s carries no wall-clock offset: times are CLOCK_MONOTONIC seconds (see --realtime-offset)\n",
			TT_NAME, a->src->name, input_kind(a));
	return 0;
}
