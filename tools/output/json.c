// SPDX-License-Identifier: GPL-2.0
/*
 * --json: one object per connection side per line (JSON Lines), the fields
 * of fields.c in their order. A lost marker is its own line at the point
 * it happened: {"lost":N,"seq":S,"ts_ns":T,"time":...}.
 */
#include "decode/put.h"
#include "output/output.h"

/*
 * A string: valid UTF-8 as itself, control characters (C1 too) as \u00XX;
 * anything else as escape.c's \ooo text, which a JSON parser then reads
 * with its backslashes, as CSV and the text formats show it.
 */
static void json_str(struct tt_put *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	char esc[1024], u[6] = { '\\', 'u', '0', '0' };

	if (!tt_utf8_valid(s))
		p = (const unsigned char *)tt_escape(esc, sizeof(esc), s,
						     false);
	tt_put_c(o, '"');
	for (; *p; p++) {
		unsigned char c = *p;

		if (c == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0)
			c = *++p; /* U+0080..U+009F */
		else if (c >= 0x20 && c != 0x7f && c != '"' && c != '\\') {
			tt_put_c(o, c);
			continue;
		}
		if (c == '"' || c == '\\') {
			tt_put_c(o, '\\');
			tt_put_c(o, c);
			continue;
		}
		u[4] = hex[c >> 4];
		u[5] = hex[c & 15];
		tt_put_mem(o, u, sizeof(u));
	}
	tt_put_c(o, '"');
}

/*
 * A time as ,"NAME":"RFC 3339"; null for none (@ns 0) or without a
 * realtime offset.
 */
static void json_time(struct tt_put *o, const struct tt_clock *k,
		      const char *name, uint64_t ns)
{
	char t[TT_VALUE_BUF];

	tt_put_mem(o, ",\"", 2);
	tt_put_str(o, name);
	tt_put_mem(o, "\":", 2);
	if (ns && tt_fmt_rfc3339(k, t, sizeof(t), ns)) {
		tt_put_c(o, '"');
		tt_put_str(o, t);
		tt_put_c(o, '"');
	} else {
		tt_put_mem(o, "null", 4);
	}
}

static void json_states(struct tt_put *o, const struct tt_clock *k,
			const struct conn *c)
{
	tt_put_c(o, '[');
	for (uint32_t i = 0; i < c->nstates; i++) {
		const struct tt_span *s = &c->states[i];

		if (i)
			tt_put_c(o, ',');
		tt_put_str(o, "{\"state\":\"");
		tt_put_str(o, tt_state_name(s->state));
		tt_put_str(o, "\",\"event\":\"");
		tt_put_str(o, tt_event_name(s->kind));
		tt_put_str(o, "\",\"enter_ns\":");
		tt_put_u64(o, s->enter_ns);
		tt_put_str(o, ",\"leave_ns\":");
		if (s->leave_ns)
			tt_put_u64(o, s->leave_ns);
		else
			tt_put_mem(o, "null", 4);
		json_time(o, k, "enter_time", s->enter_ns);
		json_time(o, k, "leave_time", s->leave_ns);
		tt_put_c(o, '}');
	}
	tt_put_c(o, ']');
}

static void json_value(struct tt_put *o, const struct tt_field *fl,
		       const struct tt_value *v, const struct tt_row *x)
{
	if (v->null) {
		tt_put_mem(o, "null", 4);
		return;
	}
	switch (fl->type) {
	case FT_UINT:
		tt_put_u64(o, v->u);
		break;
	case FT_BOOL:
		tt_put_str(o, v->u ? "true" : "false");
		break;
	case FT_STATES:
		json_states(o, x->clock, x->c);
		break;
	default:
		json_str(o, v->s);
		break;
	}
}

void tt_json_conn(FILE *f, const struct tt_clock *k, const struct conn *c)
{
	const struct tt_row x = { .c = c, .clock = k };
	size_t n;
	const struct tt_field *fl = tt_fields(&n);
	struct tt_put o;

	tt_put_init(&o, f);
	tt_put_c(&o, '{');
	for (size_t i = 0; i < n; i++) {
		struct tt_value v;

		v.null = false;
		v.u = 0;
		v.s = NULL;
		fl[i].get(&x, &v);
		if (i)
			tt_put_c(&o, ',');
		tt_put_c(&o, '"');
		tt_put_str(&o, fl[i].name);
		tt_put_mem(&o, "\":", 2);
		json_value(&o, &fl[i], &v, &x);
	}
	tt_put_mem(&o, "}\n", 2);
	tt_put_flush(&o);
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
