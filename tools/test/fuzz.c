// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: arbitrary bytes through the decoder (capture header,
 * binary records or /proc text, chosen as -r chooses), fed in uneven chunks,
 * through the reconstruction (with --on-time-wait when the last byte is
 * odd), the record filter of -w/--dump, and every output format, the
 * state diagram too.
 *
 *   make -C tools fuzz            (clang, libclang-rt-14-dev)
 *
 * The suite runs it for a fixed number of runs from a fixed seed, so it
 * gives the same verdict every time, however loaded the machine.
 */
#include <stdlib.h>
#include <string.h>

#include "filter/filter.h"
#include "output/diagram.h"

struct fz {
	FILE *null;
	struct tt_stats *stats;
	struct tt_diagram *diagram;
	struct tt_brief *brief;
	struct tt_select *sel;
	struct recon *recon;
};

static const struct tt_clock clk = { .mode = TT_TIME_WALL,
				     .have_offset = true,
				     .offset_ns = 1700000000000000000LL };
static struct filter flt;

static void fz_conn(void *arg, const struct conn *c, const struct conn *peer)
{
	struct fz *z = arg;

	tt_select_decide(z->sel, c->id, peer ? peer->id : 0,
			 tt_filter_conn(&flt, c) ||
				 (peer && tt_filter_conn(&flt, peer)));
	tt_text_conn(z->null, &clk, c, peer);
	tt_ladder_conn(z->null, &clk, c, peer);
	tt_json_conn(z->null, &clk, c);
	tt_csv_conn(z->null, &clk, c);
	tt_brief_conn(z->brief, c);
	tt_stats_conn(z->stats, c);
	tt_diagram_conn(z->diagram, c, peer);
}

static void fz_lost(void *arg, const struct tcpstates_record *r)
{
	struct fz *z = arg;

	tt_text_lost(z->null, &clk, r);
	tt_json_lost(z->null, &clk, r);
	tt_brief_lost(z->brief, r);
}

static void fz_alias(void *arg, uint64_t from, uint64_t to)
{
	tt_select_alias(((struct fz *)arg)->sel, from, to);
}

static void fz_retire(void *arg, uint64_t id)
{
	tt_select_retire(((struct fz *)arg)->sel, id);
}

/* What the filter keeps: --dump and --stats counts. */
static void fz_kept(void *arg, const struct tcpstates_record *r)
{
	struct fz *z = arg;

	tt_print_text_line(z->null, r);
	tt_stats_record(z->stats, r);
}

static void fz_record(void *arg, const struct tcpstates_record *r)
{
	struct fz *z = arg;
	const struct conn *live;
	uint64_t id = tt_recon_record(z->recon, r, &live);

	tt_select_record(z->sel, r, id, live);
}

static void setup(struct fz *z, bool early_tw)
{
	struct tt_sink sink = { .conn = fz_conn,
				.lost = fz_lost,
				.alias = fz_alias,
				.retire = fz_retire,
				.arg = z };
	const char *want;

	if (!flt.any && (tt_filter_add(&flt, TT_F_PORT, "8080,1-9", &want) ||
			 tt_filter_add(&flt, TT_F_COMM, "curl,nginx", &want)))
		abort();
	static FILE *null;

	if (!null)
		null = fopen("/dev/null", "w");
	z->null = null;
	z->stats = tt_stats_new(1000000000);
	z->diagram = tt_diagram_new();
	z->brief = tt_brief_open(z->null, &clk, true, true);
	z->sel = tt_select_new(&flt, fz_kept, z);
	z->recon = tt_recon_new(&sink);
	if (!z->null || !z->stats || !z->diagram || !z->brief || !z->sel ||
	    !z->recon)
		abort();
	if (early_tw)
		tt_recon_early_time_wait(z->recon);
}

static void feed(struct tt_decoder *d, const uint8_t *data, size_t off,
		 size_t size)
{
	size_t chunk = size ? data[size - 1] % 200 + 1 : 1;

	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;

		tt_decoder_feed(d, data + off, n);
		off += n;
		chunk = chunk * 7 % 251 + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tt_cap_info ci = { .record_size = TCPSTATES_RECORD_SIZE };
	enum tt_input mode = TT_IN_BINARY;
	struct tt_decoder d;
	struct fz z;
	size_t off = 0;
	char why[128];

	setup(&z, size && (data[size - 1] & 1));
	if (size && !tt_cap_is_capture(data, size) &&
	    (data[0] == '#' || (data[0] >= 'A' && data[0] <= 'Z') ||
	     (data[0] >= 'a' && data[0] <= 'z'))) {
		mode = TT_IN_TEXT; /* as -r tells text from a capture */
	} else if (tt_cap_is_capture(data, size)) {
		if (tt_cap_parse_header(data, size, &ci, why, sizeof(why)))
			goto out;
		off = ci.header_size < size ? ci.header_size : size;
	}
	tt_decoder_init(&d, mode, ci.record_size, "fuzz", fz_record, &z);
	d.max_msgs = 0;
	feed(&d, data, off, size);
	tt_decoder_finish(&d);
	tt_decoder_free(&d);
	tt_recon_finish(z.recon);
	tt_select_finish(z.sel);
	tt_stats_print(z.stats, z.null);
	tt_diagram_print(z.diagram, z.null, &clk,
			 &(struct tt_dgm_style){ .ascii = size & 2 });
	tt_diagram_svg(z.diagram, z.null, &clk);
out:
	tt_recon_free(z.recon);
	tt_select_free(z.sel);
	tt_brief_close(z.brief);
	tt_stats_free(z.stats);
	tt_diagram_free(z.diagram);
	return 0;
}
