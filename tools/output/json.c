// SPDX-License-Identifier: GPL-2.0
/*
 * --json: one object per connection side per line (JSON Lines), the fields
 * of fields.c in their order. A lost marker is its own line at the point
 * it happened: {"lost":N,"seq":S,"ts_ns":T,"time":...}.
 */
#include "output/output.h"

/*
 * A string: valid UTF-8 as itself, control characters (C1 too) as \u00XX;
 * anything else as escape.c's \ooo text, which a JSON parser then reads
 * with its backslashes, as CSV and the text formats show it.
 */
static void json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[1024];

	if (!tt_utf8_valid(s))
		p = (const unsigned char *)tt_escape(esc, sizeof(esc), s,
						     false);
	fputc('"', f);
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0)
			fprintf(f, "\\u%04x", *++p); /* U+0080..U+009F */
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/*
 * A time as ,"NAME":"RFC 3339"; null for none (@ns 0) or without a
 * realtime offset.
 */
static void json_time(FILE *f, const struct tt_clock *k, const char *name,
		      uint64_t ns)
{
	char t[TT_VALUE_BUF];

	if (ns && tt_fmt_rfc3339(k, t, sizeof(t), ns))
		fprintf(f, ",\"%s\":\"%s\"", name, t);
	else
		fprintf(f, ",\"%s\":null", name);
}

static void json_states(FILE *f, const struct tt_clock *k, const struct conn *c)
{
	fputc('[', f);
	for (uint32_t i = 0; i < c->nstates; i++) {
		const struct tt_span *s = &c->states[i];

		fprintf(f,
			"%s{\"state\":\"%s\",\"event\":\"%s\",\"enter_ns\":%llu,\"leave_ns\":",
			i ? "," : "", tt_state_name(s->state),
			tt_event_name(s->kind),
			(unsigned long long)s->enter_ns);
		if (s->leave_ns)
			fprintf(f, "%llu", (unsigned long long)s->leave_ns);
		else
			fputs("null", f);
		json_time(f, k, "enter_time", s->enter_ns);
		json_time(f, k, "leave_time", s->leave_ns);
		fputc('}', f);
	}
	fputc(']', f);
}

static void json_value(FILE *f, const struct tt_field *fl,
		       const struct tt_value *v, const struct tt_row *x)
{
	if (v->null) {
		fputs("null", f);
		return;
	}
	switch (fl->type) {
	case FT_UINT:
		fprintf(f, "%llu", (unsigned long long)v->u);
		break;
	case FT_BOOL:
		fputs(v->u ? "true" : "false", f);
		break;
	case FT_STATES:
		json_states(f, x->clock, x->c);
		break;
	default:
		json_str(f, v->s);
		break;
	}
}

void tt_json_conn(FILE *f, const struct tt_clock *k, const struct conn *c)
{
	const struct tt_row x = { .c = c, .clock = k };
	size_t n;
	const struct tt_field *fl = tt_fields(&n);

	fputc('{', f);
	for (size_t i = 0; i < n; i++) {
		struct tt_value v = { 0 };

		fl[i].get(&x, &v);
		fprintf(f, "%s\"%s\":", i ? "," : "", fl[i].name);
		json_value(f, &fl[i], &v, &x);
	}
	fputs("}\n", f);
}

void tt_json_lost(FILE *f, const struct tt_clock *k,
		  const struct tcpstates_record *r)
{
	char t[TT_VALUE_BUF];

	fprintf(f, "{\"lost\":%llu,\"seq\":%llu,\"ts_ns\":%llu,\"time\":",
		(unsigned long long)r->aux, (unsigned long long)r->seq,
		(unsigned long long)r->ts_ns);
	if (tt_fmt_rfc3339(k, t, sizeof(t), r->ts_ns))
		fprintf(f, "\"%s\"}\n", t);
	else
		fputs("null}\n", f);
}
