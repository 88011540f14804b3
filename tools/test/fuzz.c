// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: arbitrary bytes through the decoder (capture header,
 * binary records or /proc text, chosen as -r chooses), fed in uneven chunks,
 * through the reconstruction and every output format.
 *
 *   make -C tools fuzz            (clang, libclang-rt-14-dev)
 */
#include <stdlib.h>
#include <string.h>

#include "output/output.h"

static FILE *devnull;
static const struct tt_clock clk = { .mode = TT_TIME_WALL,
				     .have_offset = true,
				     .offset_ns = 1700000000000000000LL };
static struct tt_stats *stats;

static void fz_conn(void *arg, const struct conn *c, const struct conn *peer)
{
	(void)arg;
	tt_text_conn(devnull, &clk, c, peer);
	tt_ladder_conn(devnull, &clk, c, peer);
	tt_json_conn(devnull, &clk, c);
	tt_csv_conn(devnull, &clk, c);
	tt_stats_conn(stats, c);
}

static void fz_lost(void *arg, const struct tcpstates_record *r)
{
	(void)arg;
	tt_text_lost(devnull, &clk, r);
	tt_json_lost(devnull, &clk, r);
}

static void fz_record(void *arg, const struct tcpstates_record *r)
{
	const struct conn *live;

	tt_print_text_line(devnull, r);
	tt_stats_record(stats, r);
	tt_recon_record(arg, r, &live);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tt_sink sink = { .conn = fz_conn, .lost = fz_lost };
	struct tt_cap_info ci = { .record_size = TCPSTATES_RECORD_SIZE };
	struct tt_decoder d;
	struct recon *R;
	enum tt_input mode = TT_IN_BINARY;
	size_t off = 0, chunk;
	char why[128];

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	stats = tt_stats_new(1000000000);
	R = tt_recon_new(&sink);
	if (!R || !stats || !devnull)
		abort();
	if (size >= 4 && !memcmp(data, "SEQ ", 4)) {
		mode = TT_IN_TEXT;
	} else if (tt_cap_is_capture(data, size)) {
		if (tt_cap_parse_header(data, size, &ci, why, sizeof(why)))
			goto out;
		off = ci.header_size < size ? ci.header_size : size;
	}
	tt_decoder_init(&d, mode, ci.record_size, "fuzz", fz_record, R);
	d.max_msgs = 0;
	chunk = size ? data[size - 1] % 200 + 1 : 1;
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;

		tt_decoder_feed(&d, data + off, n);
		off += n;
		chunk = chunk * 7 % 251 + 1;
	}
	tt_decoder_finish(&d);
	tt_decoder_free(&d);
	tt_recon_finish(R);
out:
	tt_recon_free(R);
	tt_stats_free(stats);
	return 0;
}
