// SPDX-License-Identifier: GPL-2.0
/*
 * tt_grow(): the one way the outputs make room in an array that grows.
 */
#include <stdlib.h>

#include "output/output.h"

void *tt_grow(void *v, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t c = *cap ? *cap * 2 : first;
	void *p;

	if (n < *cap)
		return v;
	p = realloc(v, c * size);
	if (p)
		*cap = c;
	return p;
}
