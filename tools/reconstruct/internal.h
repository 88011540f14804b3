/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared inside the reconstruction layer only: the hash table its lookups
 * use, and the per-side update that recon.c calls for every record.
 */
#ifndef TT_RECONSTRUCT_INTERNAL_H
#define TT_RECONSTRUCT_INTERNAL_H

#include "reconstruct/recon.h"

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* ---- htab.c: a small intrusive hash table, chained, doubling ---- */
struct htab {
	struct hnode **b;
	size_t mask, n;
};

int ht_init(struct htab *h, size_t nb);	/* nb: a power of two */
void ht_add(struct htab *h, struct hnode *n, uint64_t hash);
void ht_del(struct htab *h, struct hnode *n);
struct hnode *ht_bucket(const struct htab *h, uint64_t hash);

uint64_t key_cookie(uint32_t netns, uint64_t cookie);
/* Symmetric in the two endpoints, so a side and its mirror share a bucket. */
uint64_t key_tuple(const uint8_t *la, uint16_t lp, const uint8_t *ra,
		   uint16_t rp);
uint64_t mix64(uint64_t x);

/* ---- side.c: what one record tells about one side ---- */
enum tt_side_end { SIDE_GOES_ON, SIDE_ENDS };

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

#endif /* TT_RECONSTRUCT_INTERNAL_H */
