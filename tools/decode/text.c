// SPDX-License-Identifier: GPL-2.0
/*
 * The text of /proc/tcpstates, one record a line, parsed and printed from
 * one table of columns, the module's own list (TCPSTATES_PROC_COLUMNS). ABI
 * 2 appended NETNS_COOKIE; a header (and so a file) without it is ABI 1,
 * whose records read it as 0.
 *
 * "-" stands for a value the record does not carry: the sequence fields
 * without TCPSTATES_F_SEQ, the windows without F_WINDOW, the tcp_info
 * fields without F_TCPINFO, the process without a task (or one the reader
 * may not know: pid 0), the uid where it has no mapping ((__u32)-1).
 * COMM escapes whitespace and backslash as \ooo (as /proc/mounts does);
 * this printer escapes every other byte outside printable ASCII too, so no
 * control character reaches a terminal, and the parser reads both.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "decode/put.h"

enum col_type {
	T_U64,
	T_U32,
	T_U16,
	T_U8,
	T_HEX8,
	T_EVENT,
	T_STATE,
	T_COMM,
	T_ADDR,
	T_PORT,
	T_CTX,
	T_FAMILY,
	T_OPTIONS,
};

/* When a column prints "-" instead of its value. */
enum col_valid {
	V_ALWAYS,
	V_SEQ,
	V_WND,
	V_INFO,
	V_TASK,
	V_UID,
	V_RECORD,
	V_UNREAD
};

struct column {
	const char *name;
	enum col_type type;
	enum col_valid valid;
	size_t off, size;
};

#define COL(name, type, valid, field)                                        \
	{                                                                    \
		name, type, valid, offsetof(struct tcpstates_record, field), \
			sizeof(((struct tcpstates_record *)0)->field)        \
	}

/* The module's column list, with its printing rules (uapi/tcpstates.h). */
#define TT_COLUMN(NAME, field, type, valid) \
	[TCPSTATES_COL_##NAME] = COL(#NAME, T_##type, V_##valid, field),
/* An X-macro list reads best as one entry a line. */
/* clang-format off */
static const struct column columns[TT_TEXT_COLUMNS] = {
	TCPSTATES_PROC_COLUMNS(TT_COLUMN)
};
/* clang-format on */

static const uint64_t type_max[] = {
	[T_U64] = UINT64_MAX, [T_U32] = UINT32_MAX, [T_U16] = UINT16_MAX,
	[T_U8] = UINT8_MAX,   [T_HEX8] = UINT8_MAX, [T_PORT] = UINT16_MAX,
};

static void put_uint(void *p, size_t size, uint64_t v)
{
	uint8_t u8 = v;
	uint16_t u16 = v;
	uint32_t u32 = v;

	if (size == 1)
		memcpy(p, &u8, 1);
	else if (size == 2)
		memcpy(p, &u16, 2);
	else if (size == 4)
		memcpy(p, &u32, 4);
	else
		memcpy(p, &v, 8);
}

static uint64_t get_uint(const void *p, size_t size)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	if (size == 1)
		return memcpy(&u8, p, 1), u8;
	if (size == 2)
		return memcpy(&u16, p, 2), u16;
	if (size == 4)
		return memcpy(&u32, p, 4), u32;
	return memcpy(&u64, p, 8), u64;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out, int base)
{
	unsigned long long v;
	char *end;

	if (!((*s >= '0' && *s <= '9') ||
	      (base == 16 &&
	       ((*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))))
		return -1;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* \ooo octal escapes, as the module writes them. */
static int unescape_comm(const char *s, char *out, size_t len)
{
	size_t n = 0;

	while (*s) {
		unsigned char c = *s++;

		if (c == '\\') {
			unsigned int v = 0;

			for (int i = 0; i < 3; i++, s++) {
				if (*s < '0' || *s > '7')
					return -1;
				v = v * 8 + (*s - '0');
			}
			if (v > 255 || v == 0)
				return -1;
			c = v;
		}
		if (n + 1 >= len)
			return -1;
		out[n++] = c;
	}
	out[n] = 0;
	return 0;
}

static int parse_options(const char *s, uint8_t *out)
{
	char buf[64], *tok, *save;

	*out = 0;
	if (!strcmp(s, "none"))
		return 0;
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned int bit;

		for (bit = 0; bit < 8; bit++)
			if (tt_option_name(bit) &&
			    !strcmp(tok, tt_option_name(bit)))
				break;
		if (bit == 8)
			return -1;
		*out |= 1 << bit;
	}
	return 0;
}

static int parse_named(const char *s, int (*parse)(const char *), int min,
		       uint64_t *v)
{
	int i = parse(s);

	if (i < min)
		return -1;
	*v = i;
	return 0;
}

/* One column's text into the record; addresses wait for the family. */
static int parse_column(const struct column *c, const char *s,
			struct tcpstates_record *r)
{
	uint8_t *p = (uint8_t *)r + c->off;
	uint64_t v = 0;

	if (!strcmp(s, "-") && c->type != T_EVENT) {
		if (c->valid == V_UID)
			put_uint(p, c->size, UINT32_MAX);
		return 0; /* not carried: zero, as the module zeroes it */
	}
	switch (c->type) {
	case T_EVENT:
		return parse_named(s, tt_event_parse, 1, &v) ?
			       -1 :
			       (put_uint(p, c->size, v), 0);
	case T_STATE:
		if (parse_named(s, tt_state_parse, 0, &v))
			return -1;
		break;
	case T_CTX:
		if (parse_named(s, tt_ctx_parse, 0, &v))
			return -1;
		break;
	case T_FAMILY:
		if (strcmp(s, "ipv4") && strcmp(s, "ipv6"))
			return -1;
		v = s[3] == '6' ? TCPSTATES_FAMILY_INET6 :
				  TCPSTATES_FAMILY_INET;
		break;
	case T_COMM:
		return unescape_comm(s, (char *)p, c->size);
	case T_OPTIONS:
		return parse_options(s, p);
	case T_ADDR:
		return 0;
	case T_HEX8:
		if (strncmp(s, "0x", 2) || parse_u64(s + 2, UINT8_MAX, &v, 16))
			return -1;
		break;
	case T_PORT:
		if (parse_u64(s, UINT16_MAX, &v, 10))
			return -1;
		v = htons(v);
		break;
	default:
		if (parse_u64(s, type_max[c->type], &v, 10))
			return -1;
		break;
	}
	put_uint(p, c->size, v);
	return 0;
}

static int parse_addr(const char *s, unsigned int family, uint8_t *out)
{
	if (!strcmp(s, "-"))
		return 0;
	if (family == TCPSTATES_FAMILY_INET6)
		return inet_pton(AF_INET6, s, out) == 1 ? 0 : -1;
	return inet_pton(AF_INET, s, out) == 1 ? 0 : -1;
}

int tt_text_header(char *line, unsigned int *ncols, char *why, size_t len)
{
	char *save, *tok = strtok_r(line, " ", &save);
	unsigned int i;

	for (i = 0; i < TT_TEXT_COLUMNS && tok; i++) {
		if (strcmp(tok, columns[i].name)) {
			snprintf(why, len,
				 "header column %u is '%.40s', expected '%s'",
				 i + 1, tok, columns[i].name);
			return -1;
		}
		tok = strtok_r(NULL, " ", &save);
	}
	if (tok || i < TT_TEXT_COLUMNS_V1) {
		snprintf(why, len, "header has %s columns than %u or %u",
			 tok ? "more" : "fewer", TT_TEXT_COLUMNS_V1,
			 TT_TEXT_COLUMNS);
		return -1;
	}
	*ncols = i;
	return 0;
}

int tt_parse_text_line(char *line, unsigned int ncols,
		       struct tcpstates_record *r, char *why, size_t len)
{
	char *f[TT_TEXT_COLUMNS + 1], *save, *tok;
	unsigned int n = 0, i;

	memset(r, 0, sizeof(*r));
	for (tok = strtok_r(line, " ", &save); tok && n <= TT_TEXT_COLUMNS;
	     tok = strtok_r(NULL, " ", &save))
		f[n++] = tok;
	if (ncols ? n != ncols :
		    n != TT_TEXT_COLUMNS_V1 && n != TT_TEXT_COLUMNS) {
		snprintf(why, len, "%u fields, expected %u", n,
			 ncols ? ncols : TT_TEXT_COLUMNS);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (parse_column(&columns[i], f[i], r))
			goto bad_field;
	for (i = 0; i < n; i++)
		if (columns[i].type == T_ADDR &&
		    parse_addr(f[i], r->family, (uint8_t *)r + columns[i].off))
			goto bad_field;
	return tt_check_record(r, why, len);

bad_field:
	snprintf(why, len, "bad %s field '%.40s'", columns[i].name, f[i]);
	return -1;
}

void tt_print_text_header(FILE *f)
{
	for (unsigned int i = 0; i < TT_TEXT_COLUMNS; i++)
		fprintf(f, "%s%c", columns[i].name,
			i + 1 < TT_TEXT_COLUMNS ? ' ' : '\n');
}

static bool column_valid(const struct column *c,
			 const struct tcpstates_record *r)
{
	bool lost = r->kind == TCPSTATES_EV_LOST;

	switch (c->valid) {
	case V_SEQ:
		return r->flags & TCPSTATES_F_SEQ;
	case V_WND:
		return r->flags & TCPSTATES_F_WINDOW;
	case V_INFO:
		return r->flags & TCPSTATES_F_TCPINFO;
	case V_TASK:
		return !lost && r->ctx == TCPSTATES_CTX_TASK && r->pid;
	case V_UID:
		return !lost && r->uid != UINT32_MAX;
	case V_RECORD:
		return !lost;
	case V_UNREAD:
		return r->flags & TCPSTATES_F_UNREAD;
	default:
		return true;
	}
}

static void print_comm(struct tt_put *o, const char *comm, size_t size)
{
	char e[5];

	for (size_t i = 0; i < size && comm[i]; i++) {
		unsigned char c = comm[i];

		if (c <= ' ' || c >= 0x7f || c == '\\') {
			e[0] = '\\';
			e[1] = '0' + (c >> 6);
			e[2] = '0' + (c >> 3 & 7);
			e[3] = '0' + (c & 7);
			tt_put_mem(o, e, 4);
		} else {
			tt_put_c(o, c);
		}
	}
}

static void print_column(struct tt_put *o, const struct column *c,
			 const struct tcpstates_record *r)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)r + c->off;
	char a[INET6_ADDRSTRLEN];

	switch (c->type) {
	case T_EVENT:
		tt_put_str(o, tt_event_name(r->kind));
		break;
	case T_STATE:
		tt_put_str(o, tt_state_name(*p));
		break;
	case T_CTX:
		tt_put_str(o, tt_ctx_name(r->ctx));
		break;
	case T_FAMILY:
		tt_put_str(o, r->family == TCPSTATES_FAMILY_INET6 ? "ipv6" :
								    "ipv4");
		break;
	case T_COMM:
		print_comm(o, (const char *)p, c->size);
		break;
	case T_OPTIONS:
		tt_put_str(o, tt_options_format(r->options, a, sizeof(a)));
		break;
	case T_ADDR:
		tt_format_addr(r->family, p, a, sizeof(a));
		tt_put_str(o, a);
		break;
	case T_HEX8:
		tt_put_mem(o, "0x", 2);
		tt_put_c(o, hex[*p >> 4]);
		tt_put_c(o, hex[*p & 15]);
		break;
	case T_PORT:
		tt_put_u64(o, ntohs(get_uint(p, c->size)));
		break;
	default:
		tt_put_u64(o, get_uint(p, c->size));
		break;
	}
}

void tt_print_text_line(FILE *f, const struct tcpstates_record *r)
{
	struct tt_put o;

	tt_put_init(&o, f);
	for (unsigned int i = 0; i < TT_TEXT_COLUMNS; i++) {
		const struct column *c = &columns[i];

		if (i)
			tt_put_c(&o, ' ');
		if (column_valid(c, r) && !(c->type == T_COMM && !r->comm[0]))
			print_column(&o, c, r);
		else
			tt_put_c(&o, '-');
	}
	tt_put_c(&o, '\n');
	tt_put_flush(&o);
}
