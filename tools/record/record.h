/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The recorder: -w FILE, the capture writer (recorder.c), and the flight
 * recorder that rotates its files (rotate.c). Above the decoder, whose
 * capture header it writes; below the command line.
 */
#ifndef TT_RECORD_RECORD_H
#define TT_RECORD_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"

/* ---- recorder.c: -w, the capture writer ---- */
struct tt_recorder;
/* NULL after saying why on stderr. */
struct tt_recorder *tt_recorder_open(const char *path, bool per_record);
int tt_recorder_header(struct tt_recorder *w, const struct tt_cap_info *ci);
int tt_recorder_record(struct tt_recorder *w, const struct tcpstates_record *r);
/*
 * A source that copies records in itself: room for *max whole records
 * (NULL with -U or after an error), then how many it copied there.
 */
void *tt_recorder_reserve(struct tt_recorder *w, size_t *max);
void tt_recorder_commit(struct tt_recorder *w, size_t n);
int tt_recorder_flush(struct tt_recorder *w);
int tt_recorder_error(const struct tt_recorder *w); /* errno, or 0 */
/* It writes to a pipe, socket or terminal, not a file. */
bool tt_recorder_to_pipe(const struct tt_recorder *w);
/* Flushes, closes, says what was written (or the error). -1 on error. */
int tt_recorder_close(struct tt_recorder *w);
void tt_recorder_via(struct tt_recorder *w, const char *via);

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
 * Before @r is written: opens the first file, or a new one (closing
 * *@recp) when the size or the time is up; @offset_ns is the realtime
 * offset for its header when there is no device. -1 once anything failed:
 * the rotor has stopped for good, @why says why (empty: said already).
 */
int tt_rotor_next(struct tt_rotor *rot, struct tt_recorder **recp,
		  const struct tcpstates_record *r, int64_t offset_ns,
		  char *why, size_t len);
/*
 * While no records come: pushes what was written, rotates when the time
 * is up, and says in @timeout_ms when to call again (-1: no need). -1 as
 * tt_rotor_next() does.
 */
int tt_rotor_tick(struct tt_rotor *rot, struct tt_recorder **recp,
		  int64_t offset_ns, int *timeout_ms, char *why, size_t len);
/* After the last recorder was closed (it names its file until then). */
void tt_rotor_free(struct tt_rotor *rot);

/* Reads the running kernel's boot id (the capture header's host id). */
int tt_read_boot_id(uint8_t id[16]);

#endif /* TT_RECORD_RECORD_H */
