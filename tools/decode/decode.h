/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The decode layer: bytes in (the live device, a capture file, the text of
 * /proc/tcpstates), validated struct tcpstates_record out. It depends on
 * the ABI header only.
 */
#ifndef TT_DECODE_DECODE_H
#define TT_DECODE_DECODE_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "decode/names.h"

static_assert(sizeof(struct tcpstates_record) == TCPSTATES_RECORD_SIZE,
	      "struct tcpstates_record does not match TCPSTATES_RECORD_SIZE");

/* ---- decode.c: the one decoder ---- */
typedef void (*tt_record_fn)(void *arg, const struct tcpstates_record *r);

enum tt_input { TT_IN_BINARY, TT_IN_TEXT };

struct tt_decoder {
	enum tt_input mode;
	size_t record_size; /* binary: stride of one record */
	const char *name; /* for messages */
	uint64_t offset; /* bytes of the stream consumed so far */
	uint64_t line; /* text: lines consumed so far */
	uint64_t next_seq; /* expected ring seq of the next record */
	uint64_t max_ts; /* the latest TIME_NS seen */
	bool have_seq;
	bool header_seen; /* text: the "SEQ ..." line */
	bool overlap; /* text: a new snapshot may repeat records */
	unsigned int ncols; /* text: columns the header named (0: none) */
	char *pend; /* partial record / line carried over */
	size_t npend, cappend;
	tt_record_fn emit;
	void *arg;
	uint64_t records; /* records emitted (including LOST) */
	uint64_t errors; /* corrupt records / lines skipped */
	uint64_t synth_lost; /* text: LOST markers made up from seq gaps */
	uint64_t seen_twice; /* records skipped: overlapping snapshots */
	unsigned int max_msgs; /* error messages printed before going quiet */
	bool have_offset; /* text: a realtime_offset_ns line was seen */
	int64_t realtime_offset_ns;
};

void tt_decoder_init(struct tt_decoder *d, enum tt_input mode,
		     size_t record_size, const char *name, tt_record_fn emit,
		     void *arg);
void tt_decoder_feed(struct tt_decoder *d, const void *data, size_t len);
void tt_decoder_finish(struct tt_decoder *d); /* reports a truncated tail */
/*
 * The stream goes on at ring sequence @next_seq: the records between the
 * last one seen and it are missing (a deleted file of a rotation). A LOST
 * marker for them, at the time of the last record; nothing if none are.
 */
void tt_decoder_gap(struct tt_decoder *d, uint64_t next_seq);
void tt_decoder_free(struct tt_decoder *d);

/* Checks one record; 0 if valid, else -1 with a reason in @why. */
int tt_check_record(const struct tcpstates_record *r, char *why, size_t len);
/* ---- text.c: the text of /proc/tcpstates ---- */
/* ABI 2: SEQ ... AUX NETNS_COOKIE; ABI 1 ends at AUX */
#define TT_TEXT_COLUMNS TCPSTATES_NR_PROC_COLUMNS
#define TT_TEXT_COLUMNS_V1 TCPSTATES_PROC_COLUMNS_V1

/* Checks a "SEQ ..." header line; its number of columns into @ncols. */
int tt_text_header(char *line, unsigned int *ncols, char *why, size_t len);
/*
 * Parses one line (no newline) into @r; @ncols from the header, or 0 to
 * take either ABI's. -1 and a reason in @why on error.
 */
int tt_parse_text_line(char *line, unsigned int ncols,
		       struct tcpstates_record *r, char *why, size_t len);
/* Prints @r as one ABI 2 line (LOST markers too, as kind "lost"). */
void tt_print_text_line(FILE *f, const struct tcpstates_record *r);
void tt_print_text_header(FILE *f);

/* ---- capture.c: the -w / -r file format ---- */
struct tt_cap_info {
	uint32_t abi_version;
	uint32_t record_size;
	int64_t realtime_offset_ns; /* ABI 1 wrote it unsigned: same bits */
	uint64_t capacity;
	uint32_t header_size;
	uint8_t boot_id[16]; /* the recording host's boot id; 0s: unknown */
	/* header_size >= TT_CAP_HEADER_SIZE only; else 0s */
	char host[64]; /* the recording host's label, NUL-terminated; "": none */
	uint64_t run_id; /* one recorder run's files share it; 0: none */
	uint64_t run_seq; /* the run's ring sequence at this file's start */
	uint32_t file_index; /* this file's place in its run */
	uint32_t run_flags; /* TT_CAP_RUN_SEQ: run_seq is valid */
};

#define TT_CAP_RUN_SEQ 1
#define TT_CAP_HEADER_V1 64 /* no host, no run: older writers */
#define TT_CAP_HEADER_SIZE 160 /* what -w writes */
#define TT_CAP_MAX_HEADER 4096
/* Parses a capture header from @buf (@len bytes); -1 + @why if invalid. */
int tt_cap_parse_header(const void *buf, size_t len, struct tt_cap_info *ci,
			char *why, size_t whylen);
bool tt_cap_is_capture(const void *buf, size_t len);
/* Encodes the header for @ci's realtime offset and capacity. */
void tt_cap_header(unsigned char h[TT_CAP_HEADER_SIZE],
		   const struct tt_cap_info *ci);

/*
 * ioctl(TCPSTATES_IOC_INFO) on the device @fd into @info (its argsz set),
 * falling back to ABI 2's first number on a module that knows only that.
 */
int tt_device_info(int fd, struct tcpstates_info *info);

#endif /* TT_DECODE_DECODE_H */
