/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small intrusive hash table (the node lives in the object), chained,
 * doubled when the load passes two; the reconstruction's lookups use it,
 * and so may the layers above.
 */
#ifndef TT_RECONSTRUCT_HTAB_H
#define TT_RECONSTRUCT_HTAB_H

#include <stddef.h>
#include <stdint.h>

#include "reconstruct/recon.h"

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr)-offsetof(type, member)))

struct htab {
	struct hnode **b;
	size_t mask, n;
};

int ht_init(struct htab *h, size_t nb); /* nb: a power of two */
void ht_add(struct htab *h, struct hnode *n, uint64_t hash);
void ht_del(struct htab *h, struct hnode *n);
struct hnode *ht_bucket(const struct htab *h, uint64_t hash);

uint64_t key_cookie(uint32_t netns, uint64_t cookie);
/* Symmetric in the two endpoints, so a side and its mirror share a bucket. */
uint64_t key_tuple(const uint8_t *la, uint16_t lp, const uint8_t *ra,
		   uint16_t rp);
uint64_t mix64(uint64_t x);

#endif /* TT_RECONSTRUCT_HTAB_H */
