// SPDX-License-Identifier: GPL-2.0
/*
 * The hash tables of the reconstruction: intrusive (the node lives in the
 * connection), chained, doubled when the load passes two.
 */
#include <stdlib.h>
#include <string.h>

#include "reconstruct/htab.h"

uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

int ht_init(struct htab *h, size_t nb)
{
	h->b = calloc(nb, sizeof(*h->b));
	h->mask = nb - 1;
	h->n = 0;
	return h->b ? 0 : -1;
}

static void ht_grow(struct htab *h)
{
	size_t nb = (h->mask + 1) * 2;
	struct hnode **b = calloc(nb, sizeof(*b));

	if (!b)
		return; /* keep working with longer chains */
	for (size_t i = 0; i <= h->mask; i++) {
		struct hnode *n = h->b[i], *next;

		for (; n; n = next) {
			next = n->next;
			n->next = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	}
	free(h->b);
	h->b = b;
	h->mask = nb - 1;
}

void ht_add(struct htab *h, struct hnode *n, uint64_t hash)
{
	if (h->n >= 2 * (h->mask + 1))
		ht_grow(h);
	n->hash = hash;
	n->next = h->b[hash & h->mask];
	h->b[hash & h->mask] = n;
	h->n++;
}

void ht_del(struct htab *h, struct hnode *n)
{
	struct hnode **pp = &h->b[n->hash & h->mask];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			h->n--;
			return;
		}
	}
}

struct hnode *ht_bucket(const struct htab *h, uint64_t hash)
{
	return h->b[hash & h->mask];
}

uint64_t key_cookie(uint32_t netns, uint64_t cookie)
{
	return mix64(cookie * 0x9e3779b97f4a7c15ULL ^ netns);
}

static uint64_t endpoint_hash(const uint8_t *a, uint16_t port)
{
	uint64_t x, y;

	memcpy(&x, a, 8);
	memcpy(&y, a + 8, 8);
	return mix64(x ^ mix64(y ^ port));
}

uint64_t key_tuple(const uint8_t *la, uint16_t lp, const uint8_t *ra,
		   uint16_t rp)
{
	return mix64(endpoint_hash(la, lp) + endpoint_hash(ra, rp));
}
