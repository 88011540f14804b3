// SPDX-License-Identifier: GPL-2.0
/*
 * Times. Records carry CLOCK_MONOTONIC nanoseconds of the recording host
 * (read NMI-safely by the module). Wall-clock time is that plus the host's
 * realtime offset (CLOCK_REALTIME - CLOCK_MONOTONIC) as it was when the
 * capture started: a clock step during the capture is not followed.
 *
 *   wall      2026-11-30 14:03:07.123456   local time (TZ), microseconds
 *   utc       2026-11-30 14:03:07.123456Z  UTC
 *   mono      5001.000023000               CLOCK_MONOTONIC seconds
 *   relative  12.000023000                 seconds since the first record
 *
 * JSON and CSV carry the monotonic nanoseconds, and the RFC 3339 UTC time
 * when the offset is known.
 */
#include <string.h>
#include <time.h>

#include "output/output.h"

#define NSEC 1000000000LL

static const char *const mode_names[] = {
	[TT_TIME_WALL] = "wall",
	[TT_TIME_UTC] = "utc",
	[TT_TIME_MONO] = "mono",
	[TT_TIME_RELATIVE] = "relative",
};

int tt_time_mode_parse(const char *s)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(mode_names); i++)
		if (!strcmp(s, mode_names[i]))
			return i;
	return -1;
}

bool tt_clock_epoch(const struct tt_clock *k, uint64_t mono_ns,
		    struct timespec *ts)
{
	int64_t ns;

	if (!k->have_offset || mono_ns > INT64_MAX ||
	    __builtin_add_overflow((int64_t)mono_ns, k->offset_ns, &ns))
		return false; /* a time no clock shows: no wall time */
	ts->tv_sec = ns / NSEC;
	ts->tv_nsec = ns % NSEC;
	if (ts->tv_nsec < 0) {
		ts->tv_sec--;
		ts->tv_nsec += NSEC;
	}
	return true;
}

/* @v as exactly @digits digits, zero-padded; returns the end. */
static char *digits(char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v /= 10)
		p[i] = '0' + v % 10;
	return p + n;
}

/*
 * The date and time of day are those of the last second shown, most of
 * the time: localtime_r and strftime run once a second of records, not
 * for every time printed.
 */
static void fmt_civil(char *buf, size_t len, const struct timespec *ts,
		      bool utc)
{
	static __thread time_t last_sec = -1;
	static __thread bool last_utc;
	static __thread char d[32];
	char *p;

	if (ts->tv_sec != last_sec || utc != last_utc) {
		struct tm tm;

		if (utc)
			gmtime_r(&ts->tv_sec, &tm);
		else
			localtime_r(&ts->tv_sec, &tm);
		strftime(d, sizeof(d), "%Y-%m-%d %H:%M:%S", &tm);
		last_sec = ts->tv_sec;
		last_utc = utc;
	}
	if (len < strlen(d) + 9) {
		snprintf(buf, len, "%s", d);
		return;
	}
	p = stpcpy(buf, d);
	*p++ = '.';
	p = digits(p, ts->tv_nsec / 1000, 6);
	if (utc)
		*p++ = 'Z';
	*p = 0;
}

static void fmt_seconds(char *buf, size_t len, uint64_t ns)
{
	char t[32], *p = t + 20;
	uint64_t sec = ns / NSEC;

	do {
		*--p = '0' + sec % 10;
		sec /= 10;
	} while (sec);
	memmove(t, p, t + 20 - p);
	p = t + (t + 20 - p);
	*p++ = '.';
	p = digits(p, ns % NSEC, 9);
	if ((size_t)(p - t) >= len)
		p = t + len - 1;
	memcpy(buf, t, p - t);
	buf[p - t] = 0;
}

void tt_fmt_time(const struct tt_clock *k, char *buf, size_t len,
		 uint64_t mono_ns)
{
	struct timespec ts;

	switch (k->mode) {
	case TT_TIME_WALL:
	case TT_TIME_UTC:
		if (tt_clock_epoch(k, mono_ns, &ts)) {
			fmt_civil(buf, len, &ts, k->mode == TT_TIME_UTC);
			return;
		}
		break;
	case TT_TIME_RELATIVE:
		fmt_seconds(buf, len, mono_ns >= k->t0 ? mono_ns - k->t0 : 0);
		return;
	default:
		break;
	}
	fmt_seconds(buf, len, mono_ns);
}

bool tt_fmt_rfc3339(const struct tt_clock *k, char *buf, size_t len,
		    uint64_t mono_ns)
{
	struct timespec ts;
	struct tm tm;
	char d[32];

	if (!tt_clock_epoch(k, mono_ns, &ts))
		return false;
	gmtime_r(&ts.tv_sec, &tm);
	strftime(d, sizeof(d), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%09ldZ", d, ts.tv_nsec);
	return true;
}

int tt_time_width(const struct tt_clock *k)
{
	if (k->have_offset && k->mode == TT_TIME_WALL)
		return 26;
	if (k->have_offset && k->mode == TT_TIME_UTC)
		return 27;
	return 20;
}
