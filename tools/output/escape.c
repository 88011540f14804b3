// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel-supplied text (a task's comm is whatever the process set with
 * prctl(PR_SET_NAME)) is escaped before any human output prints it: a
 * byte outside printable ASCII, and the backslash, become \ooo as in
 * /proc/mounts, so no control sequence reaches a terminal. Columnar output
 * escapes the space too.
 */
#include "output/output.h"

const char *tt_escape(char *buf, size_t len, const char *s, bool space)
{
	size_t n = 0;

	for (; *s && n + 5 < len; s++) {
		unsigned char c = *s;

		if (c < 0x20 || c >= 0x7f || c == '\\' || (space && c == ' '))
			n += snprintf(buf + n, len - n, "\\%03o", c);
		else
			buf[n++] = c;
	}
	buf[n] = 0;
	return buf;
}
