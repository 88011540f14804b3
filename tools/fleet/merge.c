// SPDX-License-Identifier: GPL-2.0
/*
 * Captures of several hosts (see reconstruct/hosts.c for the pairing and
 * the clocks): each host's files go through a decoder and a reconstruction
 * of their own, the finished sides are kept, paired across hosts, put on
 * the first host's clock and handed to the command line's usual sink, so
 * every output format shows a cross-host conversation as one. Every record
 * and every side's events go to the command line as they are read, host
 * after host, for what counts them (--stats, --metrics) and for the record
 * filter; connection ids are the hosts' own, apart (HOST_ID_SHIFT).
 *
 * The whole input is held in memory until the end (the clock estimate
 * needs every conversation before the first can be drawn): this mode is for
 * the captures of an incident, not for weeks of recordings.
 */
#include <stdlib.h>
#include <string.h>

#include "fleet/fleet.h"

#define MERGE_CHUNK (1 << 20)
/* Host g numbers its connections from g << HOST_ID_SHIFT on. */
#define HOST_ID_SHIFT 48

struct host_arg {
	struct tt_hosts *H;
	unsigned int host;
	const struct tt_merge_hooks *hk;
	struct recon *R;
	bool ended, failed;
};

static void host_conn(void *arg, const struct conn *c, const struct conn *peer)
{
	struct host_arg *ha = arg;

	if (tt_hosts_add(ha->H, ha->host, c, peer))
		ha->failed = true;
}

static void host_side(void *arg, const struct conn *c, enum tt_side_event ev)
{
	const struct host_arg *ha = arg;

	if (!ha->ended && ha->hk->sink.side)
		ha->hk->sink.side(ha->hk->sink.arg, c, ev);
}

static void host_alias(void *arg, uint64_t from, uint64_t to)
{
	const struct host_arg *ha = arg;

	if (ha->hk->sink.alias)
		ha->hk->sink.alias(ha->hk->sink.arg, from, to);
}

static void host_retire(void *arg, uint64_t id)
{
	const struct host_arg *ha = arg;

	if (ha->hk->sink.retire)
		ha->hk->sink.retire(ha->hk->sink.arg, id);
}

static void host_record(void *arg, const struct tcpstates_record *r)
{
	const struct host_arg *ha = arg;
	const struct conn *live;
	uint64_t id = tt_recon_record(ha->R, r, &live);

	if (ha->hk->record)
		ha->hk->record(ha->hk->sink.arg, r, id, live);
}

/* One host's files through a reconstruction of its own. */
static int read_host(struct tt_files *fs, struct tt_hosts *H, unsigned int g,
		     const struct tt_merge_hooks *hk, void *buf,
		     struct tt_decoder *total)
{
	struct host_arg ha = { .H = H, .host = g, .hk = hk };
	struct tt_sink sink = { .conn = host_conn,
				.side = host_side,
				.alias = host_alias,
				.retire = host_retire,
				.arg = &ha };
	struct tt_decoder dec;
	ssize_t n;

	ha.R = tt_recon_new(&sink);
	if (!ha.R)
		return -1;
	tt_recon_first_id(ha.R, ((uint64_t)g << HOST_ID_SHIFT) + 1);
	tt_decoder_init(&dec, TT_IN_BINARY, TCPSTATES_RECORD_SIZE, "?",
			host_record, &ha);
	tt_files_rewind(fs, g);
	while ((n = tt_files_read(fs, &dec, buf, MERGE_CHUNK)) > 0)
		tt_decoder_feed(&dec, buf, n);
	tt_decoder_finish(&dec);
	if (hk->end)
		hk->end(hk->sink.arg, ha.R);
	ha.ended = true;
	tt_recon_finish(ha.R);
	total->records += dec.records;
	total->errors += dec.errors;
	total->seen_twice += dec.seen_twice;
	tt_decoder_free(&dec);
	tt_recon_free(ha.R);
	return n < 0 || ha.failed ? -1 : 0;
}

static void fmt_off(char *buf, size_t len, int64_t ns)
{
	uint64_t a = ns < 0 ? -(uint64_t)ns : (uint64_t)ns;
	char d[32];

	tt_fmt_dur(d, sizeof(d), a);
	snprintf(buf, len, "%c%s", ns < 0 ? '-' : '+', d);
}

static void print_clock(FILE *f, bool json, const char *ref, const char *name,
			const struct tt_host_clock *k)
{
	char w[40], lo[40], hi[40], est[40];

	if (json) {
		fprintf(f, "{\"clock\":{\"reference\":\"%s\",\"host\":\"%s\",",
			ref, name);
		if (k->wall_unknown)
			fprintf(f, "\"realtime_offset_diff_ns\":null,");
		else
			fprintf(f, "\"realtime_offset_diff_ns\":%lld,",
				(long long)k->wall_ns);
		fprintf(f, "\"offset_ns\":%lld,", (long long)k->est_ns);
		if (k->have_lo)
			fprintf(f, "\"offset_min_ns\":%lld,",
				(long long)k->lo_ns);
		else
			fprintf(f, "\"offset_min_ns\":null,");
		if (k->have_hi)
			fprintf(f, "\"offset_max_ns\":%lld,",
				(long long)k->hi_ns);
		else
			fprintf(f, "\"offset_max_ns\":null,");
		fprintf(f,
			"\"bounds\":%u,\"conversations\":%u,\"consistent\":%s}}\n",
			k->bounds, k->conversations,
			k->have_lo && k->have_hi && k->lo_ns > k->hi_ns ?
				"false" :
				"true");
		return;
	}
	fmt_off(w, sizeof(w), k->wall_ns);
	if (k->wall_unknown)
		fprintf(f,
			"clock %s - %s: a capture carries no CLOCK_REALTIME - CLOCK_MONOTONIC: only the packets place %s's clock\n",
			name, ref, name);
	else
		fprintf(f,
			"clock %s - %s: each capture's CLOCK_REALTIME - CLOCK_MONOTONIC puts both on wall-clock time (they differ by %s)\n",
			name, ref, w);
	if (!k->bounds) {
		fprintf(f,
			"  no conversation between them bounds the wall clocks' difference: taken as 0\n\n");
		return;
	}
	fmt_off(lo, sizeof(lo), k->lo_ns);
	fmt_off(hi, sizeof(hi), k->hi_ns);
	fmt_off(est, sizeof(est), k->est_ns);
	fprintf(f,
		"  %s's wall clock - %s's is %s%s%s%s%s: %u packet%s sent and received in %u conversation%s say so\n",
		name, ref, k->have_lo ? "above " : "", k->have_lo ? lo : "",
		k->have_lo && k->have_hi ? " and " : "",
		k->have_hi ? "below " : "", k->have_hi ? hi : "", k->bounds,
		k->bounds == 1 ? "" : "s", k->conversations,
		k->conversations == 1 ? "" : "s");
	if (k->have_lo && k->have_hi && k->lo_ns > k->hi_ns)
		fprintf(f,
			"  these bounds contradict each other: the clocks drifted during the captures\n");
	fprintf(f, "  taken as %s: %s's times below are on %s's clock\n\n", est,
		name, ref);
}

/*
 * One host label for two boots (a host that rebooted, or two that share a
 * name): each gets "@" and the first 8 hex digits of its boot id.
 */
static void unique_labels(const struct tt_files *fs, char (*labels)[64],
			  unsigned int nh)
{
	bool *dup = calloc(nh, sizeof(*dup));

	if (!dup)
		return;
	for (unsigned int g = 0; g < nh; g++)
		for (unsigned int h = g + 1; h < nh; h++)
			if (!strcmp(labels[g], labels[h]))
				dup[g] = dup[h] = true;
	for (size_t i = 0; i < fs->n; i++) {
		const struct tt_file *f = &fs->f[i];
		const uint8_t *b = f->ci.boot_id;
		char *l = labels[f->group];
		size_t n = strlen(l);

		if (!dup[f->group])
			continue;
		dup[f->group] = false; /* the group's first file names it */
		snprintf(l + (n > 54 ? 54 : n), 64 - (n > 54 ? 54 : n),
			 "@%02x%02x%02x%02x", b[0], b[1], b[2], b[3]);
	}
	free(dup);
}

/* What the clocks cannot say goes to standard error, whatever the format. */
static void warn_clock(const char *ref, const char *name,
		       const struct tt_host_clock *k)
{
	if (k->unplaced)
		fprintf(stderr,
			"%s: host %s: on %s's clock its times would fall before %s's boot (a wrong or unknown realtime offset): they are shown on %s's own monotonic clock\n",
			TT_NAME, name, ref, ref, name);
	else if (k->wall_unknown && !k->bounds)
		fprintf(stderr,
			"%s: host %s: its capture or %s's carries no realtime offset, and no conversation between them places it: %s's monotonic times are taken as %s's\n",
			TT_NAME, name, ref, name, ref);
	else if (k->wall_unknown)
		fprintf(stderr,
			"%s: host %s: its capture or %s's carries no realtime offset: %s's clock is placed by the packets of %u conversation%s alone\n",
			TT_NAME, name, ref, name, k->conversations,
			k->conversations == 1 ? "" : "s");
}

int tt_merge_run(struct tt_files *fs, const struct tt_merge_hooks *hk,
		 FILE *timeline, FILE *ladder, FILE *json,
		 struct tt_decoder *total)
{
	unsigned int nh = fs->ngroups;
	char(*labels)[64] = calloc(nh, sizeof(*labels));
	const char **lp = calloc(nh, sizeof(*lp));
	int64_t *rt = calloc(nh, sizeof(*rt));
	void *buf = malloc(MERGE_CHUNK);
	struct tt_hosts *H = NULL;
	int ret = TT_EXIT_IO;

	if (!labels || !lp || !rt || !buf)
		goto out;
	for (unsigned int g = 0; g < nh; g++) {
		tt_files_label(fs, g, labels[g], sizeof(labels[g]));
		lp[g] = labels[g];
	}
	unique_labels(fs, labels, nh);
	for (unsigned int g = 0; g < nh; g++) {
		for (size_t i = 0; i < fs->n; i++)
			if (fs->f[i].group == (int)g) {
				rt[g] = (int64_t)fs->f[i].ci.realtime_offset_ns;
				break;
			}
	}
	H = tt_hosts_new(nh, lp, rt);
	if (!H)
		goto out;
	for (unsigned int g = 0; g < nh; g++)
		if (read_host(fs, H, g, hk, buf, total))
			goto out;
	tt_hosts_pair(H);
	for (unsigned int g = 1; g < nh; g++) {
		const struct tt_host_clock *k = tt_hosts_clock(H, g);

		warn_clock(lp[0], lp[g], k);

		if (timeline)
			print_clock(timeline, false, lp[0], lp[g], k);
		if (ladder)
			print_clock(ladder, false, lp[0], lp[g], k);
		if (json)
			print_clock(json, true, lp[0], lp[g], k);
	}
	tt_hosts_emit(H, &hk->sink);
	ret = TT_EXIT_OK;
out:
	if (ret)
		fprintf(stderr,
			"%s: merging the captures failed (out of memory or a read error)\n",
			TT_NAME);
	tt_hosts_free(H);
	free(buf);
	free(rt);
	free(lp);
	free(labels);
	return ret;
}
