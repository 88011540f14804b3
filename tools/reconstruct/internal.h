/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared inside the reconstruction layer only: the hash table its lookups
 * use, and the per-side update that recon.c calls for every record.
 */
#ifndef TT_RECONSTRUCT_INTERNAL_H
#define TT_RECONSTRUCT_INTERNAL_H

#include "reconstruct/htab.h"
#include "reconstruct/recon.h"

/* ---- recon.c: the connections, their pairs, what trails them ---- */
struct request {
	struct hnode by_cookie, by_tuple;
	struct request *prev, *next;
	uint64_t id; /* the records' owner until a connection is */
	uint64_t cookie, ts;
	uint32_t netns;
	struct tcpstates_record rec;
	struct conn *child; /* the child while it is live */
	uint64_t child_id; /* the child's id once claimed */
	uint32_t acks_dropped; /* listen_drop records before its child */
};

/*
 * A connection that has ended, remembered for a while by (netns, cookie):
 * what trails it (the RST a kernel sends after CLOSE, a second TIME_WAIT end
 * from ABI 1) still belongs to it.
 */
struct tomb {
	struct hnode node;
	struct tomb *prev, *next; /* tw: the list of them */
	uint64_t cookie, id;
	uint32_t netns;
	bool used;
	/*
	 * --on-time-wait: the side was shown on entering TIME_WAIT; this one
	 * stands for its timewait socket until that ends (not in the ring).
	 */
	bool tw;
};

#define TT_TOMBS 1024

struct recon {
	struct tt_sink sink;
	struct htab conns, tuples, reqs, req_tuples, tombs;
	struct conn *head, *tail; /* live and held, creation order */
	/* sides in CLOSE that wait for their RST's record (side.c), oldest first */
	struct conn *await_head, *await_tail;
	struct request *rhead;
	struct tomb *tomb_ring; /* TT_TOMBS, the oldest reused */
	size_t tomb_next;
	struct tomb *tw_tombs;
	bool early_tw; /* --on-time-wait */
	const char *host; /* every connection's label, or NULL */
	uint64_t next_id;
	size_t live, peak;
};

struct conn *tt_conn_new(struct recon *R, const struct tcpstates_record *r);
struct conn *tt_conn_lookup(struct recon *R, uint32_t netns, uint64_t cookie);
/* The side is over (or the input is); true if it was freed (emitted). */
bool tt_conn_finish(struct recon *R, struct conn *c, uint64_t ts,
		    bool still_open);
void tt_recon_alias(struct recon *R, uint64_t from, uint64_t to);

/* ---- request.c: request sockets, and the server children they make ---- */
/* Each returns the id the record belongs to (0: none). */
uint64_t tt_on_request(struct recon *R, const struct tcpstates_record *r);
uint64_t tt_on_request_end(struct recon *R, const struct tcpstates_record *r);
uint64_t tt_on_request_drop(struct recon *R, const struct tcpstates_record *r);
uint64_t tt_on_child(struct recon *R, const struct tcpstates_record *r,
		     const struct conn **live);
/* End of input: requests still waiting become half-open connections. */
void tt_requests_finish(struct recon *R);
void tt_requests_free(struct recon *R);

/* ---- side.c: what one record tells about one side ---- */
/*
 * SIDE_AWAITS_RST: in CLOSE, and its RST, which the kernel sends right
 * after, is still to come: its record carries the kernel's reason.
 */
enum tt_side_end { SIDE_GOES_ON, SIDE_ENDS, SIDE_AWAITS_RST };

/*
 * How long after its CLOSE a side waits for its reset_sent record (the
 * kernel sends the RST in the same call, microseconds later; a record
 * more than this later, or the end of the input, ends the wait).
 */
#define TT_RST_WAIT_NS 1000000000ULL

/* Applies @r to @c; SIDE_ENDS when the connection is over. */
enum tt_side_end tt_side_update(struct conn *c,
				const struct tcpstates_record *r);
void tt_side_set_state(struct conn *c, unsigned int state, uint64_t ts,
		       unsigned int kind);
unsigned int tt_side_state(const struct conn *c);
void tt_side_attribute(struct conn *c, const struct tcpstates_record *r);
void tt_side_take_info(struct conn *c, const struct tcpstates_record *r);
/* How it ended: @still_open when the input ended first. */
uint8_t tt_side_close_kind(const struct conn *c, bool still_open);
void tt_side_set_reason(struct conn *c); /* after close is set */

#endif /* TT_RECONSTRUCT_INTERNAL_H */
