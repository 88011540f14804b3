// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel-supplied text (a task's comm is whatever the process set with
 * prctl(PR_SET_NAME)) is escaped before any output prints it, by one rule
 * for every format but --dump (which prints what /proc/tcpstates prints):
 *
 *   - a control character (C0, DEL, and C1 as U+0080..U+009F), the
 *     backslash, and every byte that is not part of valid UTF-8 become
 *     \ooo, as in /proc/mounts, so no control sequence reaches a terminal;
 *   - valid UTF-8 otherwise stays as it is ("café" is café);
 *   - columnar output (--brief) escapes the space too.
 *
 * JSON has no \ooo: a comm that is valid UTF-8 is its string, control
 * characters as \u00XX, so a parser gets the bytes back; one that is not
 * is the escaped text above, as CSV and the text formats show it.
 */
#include <string.h>

#include "output/output.h"

/* Length of the valid UTF-8 sequence at @s (not an ASCII byte), else 0. */
static size_t utf8_seq(const unsigned char *s, uint32_t *cp)
{
	size_t n, i;
	uint32_t v;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		v = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		v = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		v = s[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates, beyond U+10FFFF */
	if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) ||
	    (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff)
		return 0;
	*cp = v;
	return n;
}

bool tt_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;

	while (*p) {
		size_t n = *p < 0x80 ? 1 : utf8_seq(p, &cp);

		if (!n)
			return false;
		p += n;
	}
	return true;
}

const char *tt_escape(char *buf, size_t len, const char *s, bool space)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0, u;
	uint32_t cp;

	while (*p && n + 5 < len) {
		unsigned char c = *p;

		u = c >= 0x80 ? utf8_seq(p, &cp) : 0;
		if (u && cp >= 0xa0 && n + u < len) {
			memcpy(buf + n, p, u);
			n += u;
			p += u;
			continue;
		}
		if (c < 0x20 || c >= 0x7f || c == '\\' || (space && c == ' '))
			n += snprintf(buf + n, len - n, "\\%03o", c);
		else
			buf[n++] = c;
		p++;
	}
	buf[n] = 0;
	return buf;
}

void tt_xml_escape(FILE *f, const char *t)
{
	for (; *t; t++) {
		switch (*t) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*t, f);
		}
	}
}
