/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fleet: the metrics exporter (exporter.c), reading a list of
 * captures as one stream or as several hosts (files.c, merge.c). Above
 * the filters; the command line's fleet_opts.c holds the options and the
 * glue that calls these.
 */
#ifndef TT_FLEET_FLEET_H
#define TT_FLEET_FLEET_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "decode/decode.h"
#include "reconstruct/recon.h"
#include "output/output.h"
#include "output/metrics.h"

struct filter;

/* ---- exporter.c: --metrics ADDR:PORT ---- */
struct tt_exporter;

/*
 * The metrics of a run: counted by the reader, published to the HTTP
 * server's thread (if any) without ever waiting for it.
 */
struct tt_live_metrics {
	struct tt_metrics *m; /* the reader's own, always current */
	struct tt_exporter *exp; /* NULL: print once at the end (-) */
	int devfd; /* for INFO; -1: not the device */
	const struct filter *flt; /* NULL: the gauge counts every open side */
	bool dirty;
	uint64_t last_publish_ns, last_info_ns;
};

/*
 * @spec "ADDR:PORT", "[ADDR6]:PORT", ":PORT" (every address), or "-" for
 * the exposition on stdout at the end of the input. -1 with @why.
 */
int tt_metrics_check_spec(const char *spec, char *why, size_t len);
/* Starts the metrics of @spec, as checked above: -1 with @why. */
int tt_live_metrics_start(struct tt_live_metrics *lm, const char *spec,
			  const struct tt_metrics_cfg *cfg, int devfd,
			  char *why, size_t len);
/*
 * Publishes when due; returns how long the reader may sleep (ms). @R, here
 * and below: the reconstruction whose open sides the gauge counts; NULL:
 * as counted already (several hosts' reconstructions, formats.c).
 */
int tt_live_metrics_tick(struct tt_live_metrics *lm, const struct recon *R);
/*
 * Adds @R's open sides to the gauge: under a filter, those of the
 * conversations shown, as far as is known (a side counts once it or its
 * peer on this host matches for good; one not known yet does not count).
 */
void tt_live_metrics_count(struct tt_live_metrics *lm, const struct recon *R);
/* The gauge anew: @R's open sides (NULL: as counted already). */
void tt_live_metrics_gauge(struct tt_live_metrics *lm, const struct recon *R);
/*
 * The exposition to @out (NULL: none; --metrics -), its gauge as last
 * counted, then frees it all.
 */
void tt_live_metrics_stop(struct tt_live_metrics *lm, FILE *out);

/* ---- files.c: -r given more than once, or a glob ---- */
struct tt_file {
	char *path;
	struct tt_cap_info ci;
	int group; /* host: files with one boot id are one */
	dev_t dev; /* what it is, to refuse writing over it */
	ino_t ino;
};

struct tt_files {
	struct tt_file *f;
	size_t n;
	int ngroups;
	/* reading one group as one stream */
	int group, fd;
	size_t cur;
	const struct tt_file *prev; /* the group's file read before cur */
};

/*
 * Expands globs, reads every header and groups the files by host (boot
 * id; files without one are one host's), each group in the order given.
 * An exit code on failure, said on stderr.
 */
int tt_files_open(struct tt_files *fs, char **paths,
		  size_t npaths); /* @fs zeroed */
void tt_files_free(struct tt_files *fs); /* and @fs itself */
/*
 * A name for group @g: the host label its first file's header names; a
 * capture without one (older writers, or made from /proc text), "boot-"
 * and the first 12 hex digits of its boot id; without a boot id either,
 * its path. Escaped for the terminal.
 */
void tt_files_label(const struct tt_files *fs, int g, char *buf, size_t len);
/*
 * Reads the next bytes of group @group's stream, moving to its next file
 * (and telling @dec the new name, offset and record size) at each end.
 * 0 at the end of the last file, -1 on a read error (said on stderr).
 */
ssize_t tt_files_read(struct tt_files *fs, struct tt_decoder *dec, void *buf,
		      size_t len);
void tt_files_rewind(struct tt_files *fs, int group);

/* ---- merge.c: captures from several hosts, one conversation each ---- */
/*
 * What the command line sees of the hosts. @sink's conn gets the merged
 * conversations; its side, alias and retire (each optional) get those of
 * every host's reconstruction, whose connection ids never meet another
 * host's. @record gets every record of every host, host after host, with
 * the id and the live side tt_recon_record() gave it; @end each host's
 * reconstruction when its input ended, before its open sides are closed
 * (@sink's side hears nothing of that closing). Both optional.
 */
struct tt_merge_hooks {
	struct tt_sink sink;
	void (*record)(void *arg, const struct tcpstates_record *r, uint64_t id,
		       const struct conn *live);
	void (*end)(void *arg, const struct recon *R);
};

/*
 * Reads every group through its own reconstruction, pairs a side on one
 * host with its peer on another (mirrored 4-tuple and both ISNs),
 * estimates each host's clock offset from the handshakes and FINs, then
 * hands every conversation to @hk's sink on the first host's clock, in
 * time order. The offsets go first to @timeline and @ladder (text) and
 * @json (one line), each NULL if not wanted. Every host's decoder's
 * counts (records, errors, seen twice) are added to @total's. An exit code.
 */
int tt_merge_run(struct tt_files *fs, const struct tt_merge_hooks *hk,
		 FILE *timeline, FILE *ladder, FILE *json,
		 struct tt_decoder *total);
#endif /* TT_FLEET_FLEET_H */
