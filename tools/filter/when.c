// SPDX-License-Identifier: GPL-2.0
/*
 * --since and --until. A time is read as given and resolved to the
 * records' clock (CLOCK_MONOTONIC nanoseconds) at the first record, once
 * the input has shown its wall-clock offset:
 *
 *   2026-11-30 14:03:07[.123]   wall clock, local time (UTC with --time=utc)
 *   2026-11-30T14:03:07Z        with Z: UTC
 *   14:03[:07[.123]]            that time on the day of the first record
 *   @1796042587[.5]             seconds since the epoch
 *   5001.25                     seconds as the times are shown: CLOCK_MONOTONIC
 *                               (--time=mono), or since the first record with
 *                               --time=relative
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filter/filter.h"

#define NSEC 1000000000LL

/* ".123" -> 123000000 ns; the whole string must be used. */
static int fraction(const char *s, int64_t *ns)
{
	int64_t scale = NSEC / 10;

	*ns = 0;
	if (!*s)
		return 0;
	if (*s++ != '.' || !*s)
		return -1;
	for (; *s >= '0' && *s <= '9'; s++, scale /= 10)
		*ns += (*s - '0') * scale;
	return *s ? -1 : 0;
}

static int parse_seconds(const char *s, int64_t *ns)
{
	char *end;
	long long sec = strtoll(s, &end, 10);
	int64_t frac;

	if (end == s || sec < 0 || fraction(end, &frac))
		return -1;
	*ns = sec * NSEC + frac;
	return 0;
}

/* HH:MM[:SS[.frac]][Z] */
static int parse_clock(const char *s, struct when *w)
{
	char buf[64];
	size_t len = strlen(s);
	int n = 0;

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len + 1);
	if (len && buf[len - 1] == 'Z') {
		w->zulu = true;
		buf[len - 1] = 0;
	}
	if (sscanf(buf, "%2d:%2d%n:%2d%n", &w->tm.tm_hour, &w->tm.tm_min, &n,
		   &w->tm.tm_sec, &n) < 2)
		return -1;
	if (w->tm.tm_hour > 23 || w->tm.tm_min > 59 || w->tm.tm_sec > 60)
		return -1;
	return fraction(buf + n, &w->ns);
}

int tt_when_parse(const char *s, struct when *w)
{
	int n = 0;

	memset(w, 0, sizeof(*w));
	if (s[0] == '@') {
		w->kind = WHEN_EPOCH;
		return parse_seconds(s + 1, &w->ns);
	}
	if (!strchr(s, ':')) {
		w->kind = WHEN_MONO;
		return parse_seconds(s, &w->ns);
	}
	if (sscanf(s, "%4d-%2d-%2d%n", &w->tm.tm_year, &w->tm.tm_mon,
		   &w->tm.tm_mday, &n) == 3) {
		if (s[n] != ' ' && s[n] != 'T')
			return -1;
		w->kind = WHEN_CIVIL;
		w->tm.tm_year -= 1900;
		w->tm.tm_mon -= 1;
		return parse_clock(s + n + 1, w);
	}
	w->kind = WHEN_TODAY;
	return parse_clock(s, w);
}

/* @w in CLOCK_MONOTONIC ns of the recording host; -1 without an offset. */
int tt_when_resolve(const struct when *w, const struct tt_clock *k,
		    uint64_t first_ns, uint64_t *mono)
{
	bool utc = w->zulu || k->mode == TT_TIME_UTC;
	struct tm tm = w->tm;
	int64_t epoch;
	time_t t;

	if (w->kind == WHEN_MONO) {
		*mono = w->ns;
		if (k->mode == TT_TIME_RELATIVE)
			*mono += first_ns;
		return 0;
	}
	if (!k->have_offset)
		return -1;
	if (w->kind == WHEN_EPOCH) {
		epoch = w->ns;
	} else {
		if (w->kind == WHEN_TODAY) {
			struct timespec first;
			struct tm day;

			if (!tt_clock_epoch(k, first_ns, &first))
				return -1;
			t = first.tv_sec;
			if (utc)
				gmtime_r(&t, &day);
			else
				localtime_r(&t, &day);
			tm.tm_year = day.tm_year;
			tm.tm_mon = day.tm_mon;
			tm.tm_mday = day.tm_mday;
		}
		tm.tm_isdst = -1;
		t = utc ? timegm(&tm) : mktime(&tm);
		epoch = (int64_t)t * NSEC + w->ns;
	}
	if (__builtin_sub_overflow(epoch, k->offset_ns, &epoch) || epoch < 0)
		epoch = 0;
	*mono = epoch;
	return 0;
}
