/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcptimeline: internal interfaces between the decoder, the capture file,
 * the reconstruction and the output formats.
 *
 *   input bytes --decode.c--> struct tcpstates_record --conn.c--> struct conn
 *   (device, capture, text)    (validated, one decoder)   (per-connection
 *                                                           timelines)
 *                                              --output.c/json.c/ladder.c/svg.c-->
 */
#ifndef TCPTIMELINE_H
#define TCPTIMELINE_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../module/uapi/tcpstates.h"

static_assert(sizeof(struct tcpstates_record) == TCPSTATES_RECORD_SIZE,
	      "struct tcpstates_record does not match TCPSTATES_RECORD_SIZE");

#define TT_NAME "tcptimeline"

/* Exit codes (also in --help and the man page). */
enum {
	TT_EXIT_OK = 0,
	TT_EXIT_USAGE = 1,	/* bad option or argument */
	TT_EXIT_IO = 2,		/* cannot open/read/write a file or device */
	TT_EXIT_DATA = 3,	/* input had corrupt or truncated records */
};

/* ---- names.c: bounds-checked tables ---- */
const char *tt_state_name(unsigned int state);	/* "-" for NONE, "?" if bad */
int tt_state_parse(const char *s);		/* -1 if unknown */
const char *tt_event_name(unsigned int kind);	/* "?" if bad */
int tt_event_parse(const char *s);
const char *tt_ctx_name(unsigned int ctx);
int tt_ctx_parse(const char *s);
void tt_format_addr(const struct tcpstates_record *r, const uint8_t *addr,
		    char *buf, size_t len);
void tt_format_addr_fam(unsigned int family, const uint8_t *addr, char *buf,
			size_t len);

/* ---- decode.c: the one decoder ---- */
typedef void (*tt_record_fn)(void *arg, const struct tcpstates_record *r);

enum tt_input { TT_IN_BINARY, TT_IN_TEXT };

struct tt_decoder {
	enum tt_input mode;
	size_t record_size;	/* binary: stride of one record */
	const char *name;	/* for messages */
	uint64_t offset;	/* bytes of the stream consumed so far */
	uint64_t line;		/* text: lines consumed so far */
	uint64_t next_seq;	/* expected ring seq of the next record */
	bool have_seq;
	bool header_seen;	/* text: the "SEQ ..." line */
	char *pend;		/* partial record / line carried over */
	size_t npend, cappend;
	tt_record_fn emit;
	void *arg;
	uint64_t records;	/* records emitted (including LOST) */
	uint64_t errors;	/* corrupt records / lines skipped */
	uint64_t synth_lost;	/* LOST markers made up from seq gaps */
	unsigned int max_msgs;	/* error messages printed before going quiet */
};

void tt_decoder_init(struct tt_decoder *d, enum tt_input mode,
		     size_t record_size, const char *name, tt_record_fn emit,
		     void *arg);
void tt_decoder_feed(struct tt_decoder *d, const void *data, size_t len);
void tt_decoder_finish(struct tt_decoder *d);	/* reports a truncated tail */
void tt_decoder_free(struct tt_decoder *d);

/* Checks one record; 0 if valid, else -1 with a reason in @why. */
int tt_check_record(const struct tcpstates_record *r, char *why, size_t len);
/* Parses one /proc/tcpstates line (no newline) into @r; -1 + @why on error. */
int tt_parse_text_line(char *line, struct tcpstates_record *r, char *why,
		       size_t len);
/* Prints @r as one /proc/tcpstates line (plus "lost" for LOST markers). */
void tt_print_text_line(FILE *f, const struct tcpstates_record *r);
void tt_print_text_header(FILE *f);

/* ---- capture.c: the -w / -r file format ---- */
struct tt_cap_info {
	uint32_t abi_version;
	uint32_t record_size;
	uint64_t realtime_offset_ns;
	uint64_t capacity;
	uint32_t header_size;
};

#define TT_CAP_HEADER_SIZE 64
/* Parses a capture header from @buf (@len bytes); -1 + @why if invalid. */
int tt_cap_parse_header(const void *buf, size_t len, struct tt_cap_info *ci,
			char *why, size_t whylen);
bool tt_cap_is_capture(const void *buf, size_t len);
int tt_cap_write_header(FILE *f, const struct tt_cap_info *ci);
int tt_cap_write_record(FILE *f, const struct tcpstates_record *r);

/* ---- conn.c: reconstruction ---- */
enum tt_role { ROLE_UNKNOWN, ROLE_CLIENT, ROLE_SERVER, ROLE_LISTENER,
	       ROLE_SIMULTANEOUS, ROLE_NR };
enum tt_open { OPEN_NONE, OPEN_ACTIVE, OPEN_PASSIVE, OPEN_SIMULTANEOUS,
	       OPEN_NR };
enum tt_close { CLOSE_OPEN, CLOSE_ACTIVE, CLOSE_PASSIVE, CLOSE_SIMULTANEOUS,
		CLOSE_RESET_SENT, CLOSE_RESET_RECEIVED, CLOSE_REFUSED,
		CLOSE_TIMEOUT, CLOSE_NR };
enum tt_twend { TW_NONE, TW_EXPIRED, TW_KILLED };

const char *tt_role_name(unsigned int v);
const char *tt_open_name(unsigned int v);	/* NULL for OPEN_NONE */
const char *tt_close_name(unsigned int v);
int tt_role_parse(const char *s);

struct tt_span {
	uint64_t enter_ns;
	uint64_t leave_ns;	/* 0 while in this state */
	uint8_t state;
	uint8_t kind;		/* TCPSTATES_EV_* that entered it */
};

struct hnode {
	struct hnode *next;
	uint64_t hash;
};

struct conn {
	struct hnode by_cookie;	/* live table: (netns, cookie) */
	struct hnode by_tuple;	/* pairing table: symmetric 4-tuple */
	struct conn *prev, *next;	/* live list, creation order */
	struct conn *peer;	/* the other side, when paired */
	void *req;		/* conn.c's pending request that made it */
	uint64_t id;		/* creation order, for stable output */

	uint64_t cookie, req_cookie;
	uint32_t netns;
	uint8_t family, mapped;
	uint8_t laddr[16], raddr[16];
	uint16_t lport, rport;	/* host order */

	uint8_t role, open, close, twend;
	bool ended, held, incomplete, tw_handed, reset_sent, in_tuple;
	bool have_isn_local, have_isn_remote, have_fin_local, have_fin_remote;
	bool have_opts;
	uint8_t close_first;	/* CLOSE_ACTIVE/PASSIVE/SIMULTANEOUS or 0 */
	uint8_t sk_err, owner_rank, options, snd_wscale, rcv_wscale;
	uint32_t pid, tgid, uid;
	char comm[16];

	uint32_t isn_local, isn_remote, fin_local, fin_remote;
	uint32_t mss, snd_wnd, rcv_wnd, srtt_us, retrans, synack_retrans;
	uint32_t syn_retrans;	/* retransmits before ESTABLISHED */
	uint64_t bytes_acked, bytes_received, tw_timeout_ms;
	uint64_t first_ns, last_ns, syn_ns, est_ns, reset_ns, end_ns;
	uint32_t tw_rearms;

	struct tt_span *states;
	uint32_t nstates, capstates;
};

/* Called with a finished connection and its peer (or NULL). */
struct tt_sink {
	void (*conn)(void *arg, const struct conn *c, const struct conn *peer);
	void (*lost)(void *arg, const struct tcpstates_record *r);
	void (*record)(void *arg, const struct tcpstates_record *r);
	void *arg;
};

struct recon;
struct recon *tt_recon_new(const struct tt_sink *sink);
void tt_recon_record(struct recon *R, const struct tcpstates_record *r);
void tt_recon_finish(struct recon *R);	/* flush everything still open */
void tt_recon_free(struct recon *R);
size_t tt_recon_live(const struct recon *R);
size_t tt_recon_peak(const struct recon *R);

/* helpers shared by the output formats */
uint64_t tt_conn_state_ns(const struct conn *c, unsigned int state);
bool tt_conn_visited(const struct conn *c, unsigned int state);
const struct tt_span *tt_conn_last_span(const struct conn *c);
/*
 * Application bytes each way. Exact (FIN - ISN - 1) when both ISNs and both
 * FINs are known, and then returns true; else the kernel's bytes_acked and
 * bytes_received, which also count the SYN and FIN, and returns false.
 */
bool tt_conn_app_bytes(const struct conn *c, uint64_t *sent, uint64_t *received);
/* Orders a pair as (client, server); returns true if swapped. */
void tt_pair_order(const struct conn **a, const struct conn **b);

/* ---- output formats ---- */
void tt_fmt_dur(char *buf, size_t len, uint64_t ns);
void tt_fmt_ts(char *buf, size_t len, uint64_t ns);
void tt_text_conn(FILE *f, const struct conn *c, const struct conn *peer);
void tt_text_lost(FILE *f, const struct tcpstates_record *r);
void tt_json_conn(FILE *f, const struct conn *c);
void tt_json_lost(FILE *f, const struct tcpstates_record *r);
void tt_csv_header(FILE *f);
void tt_csv_conn(FILE *f, const struct conn *c);
void tt_ladder_conn(FILE *f, const struct conn *a, const struct conn *b);

struct tt_svg;
struct tt_svg *tt_svg_open(FILE *f);
void tt_svg_conn(struct tt_svg *s, const struct conn *a, const struct conn *b);
void tt_svg_close(struct tt_svg *s);

struct tt_stats;
struct tt_stats *tt_stats_new(uint64_t close_wait_warn_ns);
void tt_stats_record(struct tt_stats *s, const struct tcpstates_record *r);
void tt_stats_conn(struct tt_stats *s, const struct conn *c);
void tt_stats_print(struct tt_stats *s, FILE *f);
void tt_stats_free(struct tt_stats *s);

/* The ladder's rows, shared by the terminal and SVG renderers. */
enum { DIR_NONE, DIR_RIGHT, DIR_LEFT };
struct tt_step {
	uint64_t ts;
	int side;		/* 0 = left, 1 = right */
	int dir;		/* DIR_* arrow, from the side that sent */
	char label[48];		/* packet, e.g. "SYN seq=A" */
	char state[24];		/* state the side entered, or "" */
};
struct tt_ladder {
	const struct conn *side[2];	/* left (client), right (server) */
	char title[256];
	char legend[160];
	struct tt_step *steps;
	size_t nsteps;
};
int tt_ladder_build(struct tt_ladder *L, const struct conn *a,
		    const struct conn *b);
void tt_ladder_free(struct tt_ladder *L);

#endif /* TCPTIMELINE_H */
