// SPDX-License-Identifier: GPL-2.0
/*
 * A log-linear histogram (as HdrHistogram's buckets): a fixed 15 KiB per
 * edge however many samples, against --stats' exact percentiles, which keep
 * every sample. The error bound is diagram.h's.
 */
#include "output/diagram.h"

#define SB TT_SKETCH_SUB_BITS

static unsigned int bucket(uint64_t v)
{
	unsigned int e;

	if (v < TT_SKETCH_SUB)
		return v;
	e = 63 - __builtin_clzll(v); /* 2^e <= v < 2^(e+1), e >= SB */
	return (e - SB + 1) * TT_SKETCH_SUB +
	       ((v >> (e - SB)) & (TT_SKETCH_SUB - 1));
}

/* The middle of bucket @i: within 2^(e-SB-1) <= v/64 of any v in it. */
static uint64_t middle(unsigned int i)
{
	unsigned int e = i / TT_SKETCH_SUB + SB - 1;
	uint64_t lo;

	if (i < TT_SKETCH_SUB)
		return i;
	lo = (uint64_t)(TT_SKETCH_SUB + i % TT_SKETCH_SUB) << (e - SB);
	return lo + ((1ULL << (e - SB)) >> 1);
}

void tt_sketch_add(struct tt_sketch *s, uint64_t v)
{
	s->b[bucket(v)]++;
	s->n++;
}

uint64_t tt_sketch_quantile(const struct tt_sketch *s, double p)
{
	uint64_t rank = (uint64_t)(p * s->n + 0.999999), seen = 0;

	if (!s->n)
		return 0;
	if (rank < 1)
		rank = 1;
	if (rank > s->n)
		rank = s->n;
	for (unsigned int i = 0; i < TT_SKETCH_BUCKETS; i++) {
		seen += s->b[i];
		if (seen >= rank)
			return middle(i);
	}
	return 0;
}
