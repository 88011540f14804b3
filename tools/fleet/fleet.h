/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The long-running and many-file modes of the command line: the metrics
 * exporter (exporter.c), the rotating capture writer (rotate.c), reading a
 * list of captures as one stream or as several hosts (files.c, merge.c).
 * tcptimeline.c holds only the glue that calls these.
 */
#ifndef TT_CLI_FLEET_H
#define TT_CLI_FLEET_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "decode/decode.h"
#include "reconstruct/recon.h"
#include "output/output.h"
#include "output/metrics.h"

struct filter;
struct opts;
struct tt_recorder;

/* ---- fleet.c: the options, and what the read loop does while it waits ---- */
/* -C, -G, -W, --metrics, --metrics-ports: 0, an exit code, -1: not mine. */
int tt_fleet_opt(struct opts *o, int ch, const char *name, const char *arg);
int tt_fleet_check_opts(const struct opts *o); /* 0 or an exit code */
bool tt_rotating(const struct opts *o);
bool tt_many_files(const struct opts *o);

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

/* ---- rotate.c: -w FILE with -C MB, -G SECS, -W COUNT ---- */
struct tt_rotate_cfg {
	uint64_t max_bytes; /* -C: 0 = no size limit */
	uint64_t max_secs; /* -G: 0 = no time limit */
	unsigned int max_files; /* -W: 0 = keep all */
};

struct tt_rotor;

/*
 * Nothing is opened yet: the first file is, at the first record or tick.
 * @ci: record size, capacity, boot id for the headers; @devfd (or -1) the
 * device, for a fresh realtime offset in each header.
 */
struct tt_rotor *tt_rotor_new(const char *path, const struct tt_rotate_cfg *cfg,
			      const struct tt_cap_info *ci, int devfd,
			      bool per_record, char *why, size_t len);
/*
 * Before one record is written: opens the first file, or a new one (closing
 * *@recp) when the size or the time is up; @offset_ns is the realtime
 * offset for its header when there is no device. -1 with @why on error.
 */
int tt_rotor_next(struct tt_rotor *rot, struct tt_recorder **recp,
		  int64_t offset_ns, char *why, size_t len);
/*
 * While no records come: pushes what was written, rotates when the time
 * is up, and says in @timeout_ms when to call again (-1: no need).
 */
int tt_rotor_tick(struct tt_rotor *rot, struct tt_recorder **recp,
		  int64_t offset_ns, int *timeout_ms, char *why, size_t len);
/* After the last recorder was closed (it names its file until then). */
void tt_rotor_free(struct tt_rotor *rot);

/* Reads the running kernel's boot id (the capture header's host id). */
int tt_read_boot_id(uint8_t id[16]);

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
};

/*
 * Expands globs, reads every header and groups the files by host (boot
 * id; files without one are one host's), each group in the order given.
 * An exit code on failure, said on stderr.
 */
int tt_files_open(struct tt_files *fs, char **paths,
		  size_t npaths); /* @fs zeroed */
void tt_files_free(struct tt_files *fs); /* and @fs itself */
struct tt_source;
/* The input of several files (cli.h's struct tt_source): an exit code. */
int tt_files_source(struct tt_source *src, const struct opts *o);
/* A name for group @g: the first file's name without directory and suffix. */
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
 * time order. The offsets go first to the timeline and ladder (text) and
 * JSON (one line) of @out, cli.h's format files. Every host's decoder's
 * counts (records, errors, seen twice) are added to @total's. An exit code.
 */
int tt_merge_run(struct tt_files *fs, const struct tt_merge_hooks *hk,
		 FILE *const *out, struct tt_decoder *total);
/*
 * Refuses what several hosts' records cannot go to (-w, --dump, -i), on
 * stderr, before any output is opened: 0, or an exit code. @fs may be NULL.
 */
int tt_merge_check_opts(const struct opts *o, const struct tt_files *fs);

#endif /* TT_CLI_FLEET_H */
