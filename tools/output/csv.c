// SPDX-License-Identifier: GPL-2.0
/*
 * --csv: one row per connection side, the fields of fields.c in their
 * order, after a header line that is printed even when no row follows.
 * Null is an empty field. A field with a comma, a quote or a space is
 * quoted (RFC 4180); text is escaped as escape.c says (control characters
 * and bytes that are not UTF-8 as \ooo), so that no row spans lines and
 * none reaches a terminal raw.
 */
#include <string.h>

#include "decode/put.h"
#include "output/output.h"

void tt_csv_header(FILE *f)
{
	size_t n;
	const struct tt_field *fl = tt_fields(&n);

	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%c", fl[i].name, i + 1 < n ? ',' : '\n');
}

static void csv_str(struct tt_put *o, const char *raw)
{
	char buf[1024];
	const char *s = tt_escape(buf, sizeof(buf), raw, false);
	bool quote = s[strcspn(s, ",\" ")] != 0;

	if (quote)
		tt_put_c(o, '"');
	for (; *s; s++) {
		if (*s == '"')
			tt_put_c(o, '"');
		tt_put_c(o, *s);
	}
	if (quote)
		tt_put_c(o, '"');
}

/* STATE:nanoseconds in it, ';'-separated; the last state has no time. */
static void csv_states(struct tt_put *o, const struct conn *c)
{
	for (uint32_t i = 0; i < c->nstates; i++) {
		const struct tt_span *s = &c->states[i];

		if (i)
			tt_put_c(o, ';');
		tt_put_str(o, tt_state_name(s->state));
		if (s->leave_ns >= s->enter_ns && s->leave_ns) {
			tt_put_c(o, ':');
			tt_put_u64(o, s->leave_ns - s->enter_ns);
		}
	}
}

void tt_csv_conn(FILE *f, const struct tt_clock *k, const struct conn *c)
{
	const struct tt_row x = { .c = c, .clock = k };
	size_t n;
	const struct tt_field *fl = tt_fields(&n);
	struct tt_put o;

	tt_put_init(&o, f);
	for (size_t i = 0; i < n; i++) {
		struct tt_value v;

		v.null = false;
		v.u = 0;
		v.s = NULL;
		fl[i].get(&x, &v);
		if (i)
			tt_put_c(&o, ',');
		if (v.null)
			continue;
		if (fl[i].type == FT_UINT)
			tt_put_u64(&o, v.u);
		else if (fl[i].type == FT_BOOL)
			tt_put_str(&o, v.u ? "true" : "false");
		else if (fl[i].type == FT_STATES)
			csv_states(&o, c);
		else
			csv_str(&o, v.s);
	}
	tt_put_c(&o, '\n');
	tt_put_flush(&o);
}
