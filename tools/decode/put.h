/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Text appended to a buffer and written a line at a time, without printf:
 * the formats of millions of records spent most of their time parsing
 * printf formats (BENCHMARKS.md, "The formats at 1 M and 10 M records").
 * Every layer may use it; a line longer than the buffer is written in
 * pieces, never cut.
 */
#ifndef TT_DECODE_PUT_H
#define TT_DECODE_PUT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define TT_PUT_SIZE 4096

struct tt_put {
	FILE *f;
	size_t n;
	char b[TT_PUT_SIZE];
};

static inline void tt_put_init(struct tt_put *p, FILE *f)
{
	p->f = f;
	p->n = 0;
}

static inline void tt_put_flush(struct tt_put *p)
{
	if (p->n)
		fwrite(p->b, 1, p->n, p->f);
	p->n = 0;
}

static inline void tt_put_mem(struct tt_put *p, const char *s, size_t k)
{
	if (p->n + k > TT_PUT_SIZE) {
		tt_put_flush(p);
		if (k > TT_PUT_SIZE) {
			fwrite(s, 1, k, p->f);
			return;
		}
	}
	memcpy(p->b + p->n, s, k);
	p->n += k;
}

static inline void tt_put_str(struct tt_put *p, const char *s)
{
	tt_put_mem(p, s, strlen(s));
}

static inline void tt_put_c(struct tt_put *p, char c)
{
	if (p->n == TT_PUT_SIZE)
		tt_put_flush(p);
	p->b[p->n++] = c;
}

static inline void tt_put_u64(struct tt_put *p, uint64_t v)
{
	static const char pairs[] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";
	char t[20];
	int i = sizeof(t);

	while (v >= 100) {
		i -= 2;
		memcpy(t + i, pairs + v % 100 * 2, 2);
		v /= 100;
	}
	if (v >= 10) {
		i -= 2;
		memcpy(t + i, pairs + v * 2, 2);
	} else {
		t[--i] = '0' + v;
	}
	tt_put_mem(p, t + i, sizeof(t) - i);
}

static inline void tt_put_hex(struct tt_put *p, uint64_t v)
{
	char t[16];
	int i = sizeof(t);

	do {
		t[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	tt_put_mem(p, t + i, sizeof(t) - i);
}

#endif /* TT_DECODE_PUT_H */
