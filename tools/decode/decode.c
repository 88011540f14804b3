// SPDX-License-Identifier: GPL-2.0
/*
 * The one decoder: the live device, capture files and the /proc/tcpstates
 * text all end up here, as bytes fed in any chunking, and leave as validated
 * struct tcpstates_record. Nothing is trusted: every record is length-checked
 * before it is copied out, every number is range-checked before it indexes a
 * table, and a bad record is reported with its offset (or line) and reason,
 * then skipped.
 *
 * Ring sequence numbers are followed across records: a forward gap that no
 * LOST marker announced (overwritten while `cat /proc/tcpstates` ran, or an
 * edited file) becomes a synthetic LOST marker, so the reconstruction sees
 * every gap the same way.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "decode/decode.h"

#define TT_MAX_LINE 4096

#define KNOWN_FLAGS                                                         \
	(TCPSTATES_F_MAPPED | TCPSTATES_F_SEQ | TCPSTATES_F_WINDOW |        \
	 TCPSTATES_F_TCPINFO | TCPSTATES_F_TIMEWAIT | TCPSTATES_F_REQUEST | \
	 TCPSTATES_F_UNREAD)
#define OPTION_BIT(NAME, name, bit) | (1 << (bit))
#define KNOWN_OPTS (0 TCPSTATES_OPTION_LIST(OPTION_BIT))

/* The fields every record but a LOST marker must get right. */
static int check_fields(const struct tcpstates_record *r, char *why, size_t len)
{
	if (r->family != TCPSTATES_FAMILY_INET &&
	    r->family != TCPSTATES_FAMILY_INET6)
		snprintf(why, len, "bad address family %u", r->family);
	else if (r->ctx >= TCPSTATES_NR_CTX)
		snprintf(why, len, "bad context %u", r->ctx);
	else if (r->flags & ~KNOWN_FLAGS)
		snprintf(why, len, "unknown flags 0x%02x", r->flags);
	else if ((r->flags & TCPSTATES_F_MAPPED) &&
		 r->family != TCPSTATES_FAMILY_INET)
		snprintf(why, len, "mapped flag on a non-IPv4 record");
	else if (r->options & ~KNOWN_OPTS)
		snprintf(why, len, "unknown options 0x%02x", r->options);
	else if (!memchr(r->comm, 0, sizeof(r->comm)))
		snprintf(why, len, "comm not NUL-terminated");
	else if (r->cookie == 0)
		snprintf(why, len, "cookie 0 on a %s record",
			 tt_event_name(r->kind));
	else if (r->snd_wscale > 14 || r->rcv_wscale > 14)
		snprintf(why, len, "window scale %u/%u out of range",
			 r->snd_wscale, r->rcv_wscale);
	else
		return 0;
	return -1;
}

/* The states each kind of record may carry (see the header). */
static bool states_fit(const struct tcpstates_record *r)
{
	switch (r->kind) {
	case TCPSTATES_EV_REQUEST:
		return r->new_state == TCPSTATES_NEW_SYN_RECV;
	case TCPSTATES_EV_CHILD:
		/* CLOSE: the kernel dropped the child before returning it */
		return r->new_state == TCPSTATES_SYN_RECV ||
		       r->new_state == TCPSTATES_CLOSE;
	case TCPSTATES_EV_REQUEST_END:
		return r->old_state == TCPSTATES_NEW_SYN_RECV;
	case TCPSTATES_EV_LISTEN:
		return r->new_state == TCPSTATES_LISTEN;
	case TCPSTATES_EV_LISTEN_DROP:
		/* the listener's own, or a request's final ACK */
		if (r->flags & TCPSTATES_F_REQUEST)
			return r->old_state == TCPSTATES_NEW_SYN_RECV &&
			       r->new_state == TCPSTATES_NEW_SYN_RECV;
		return r->old_state == TCPSTATES_LISTEN &&
		       r->new_state == TCPSTATES_LISTEN;
	}
	return r->new_state != TCPSTATES_STATE_NONE;
}

int tt_check_record(const struct tcpstates_record *r, char *why, size_t len)
{
	if (r->kind == 0 || r->kind >= TCPSTATES_NR_EVENTS) {
		snprintf(why, len, "bad event kind %u", r->kind);
		return -1;
	}
	if (r->kind == TCPSTATES_EV_LOST) {
		if (r->aux)
			return 0;
		snprintf(why, len, "lost marker with count 0");
		return -1;
	}
	if (r->old_state >= TCPSTATES_NR_STATES ||
	    r->new_state >= TCPSTATES_NR_STATES) {
		snprintf(why, len, "bad state %u -> %u", r->old_state,
			 r->new_state);
		return -1;
	}
	if (check_fields(r, why, len))
		return -1;
	if (r->kind == TCPSTATES_EV_LISTEN_DROP &&
	    (TCPSTATES_DROP_CAUSE(r->aux) == TCPSTATES_DROP_NONE ||
	     TCPSTATES_DROP_CAUSE(r->aux) >= TCPSTATES_NR_DROPS)) {
		snprintf(why, len, "listen_drop with unknown cause %u",
			 TCPSTATES_DROP_CAUSE(r->aux));
		return -1;
	}
	if (states_fit(r))
		return 0;
	snprintf(why, len, "%s record with states %s -> %s",
		 tt_event_name(r->kind), tt_state_name(r->old_state),
		 tt_state_name(r->new_state));
	return -1;
}

void tt_decoder_init(struct tt_decoder *d, enum tt_input mode,
		     size_t record_size, const char *name, tt_record_fn emit,
		     void *arg)
{
	memset(d, 0, sizeof(*d));
	d->mode = mode;
	d->record_size = record_size;
	d->name = name;
	d->emit = emit;
	d->arg = arg;
	d->max_msgs = 20;
}

void tt_decoder_free(struct tt_decoder *d)
{
	free(d->pend);
	d->pend = NULL;
	d->npend = d->cappend = 0;
}

/*
 * A message may quote the input (a bad field): its control bytes and
 * backslashes are written as \ooo, so a file cannot drive the terminal
 * (an escape sequence that sets the title, clears the screen ...).
 */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = *s;

		if (c < 0x20 || c == 0x7f || c == '\\')
			fprintf(f, "\\%03o", c);
		else
			fputc(c, f);
	}
}

static void report(struct tt_decoder *d, uint64_t where, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	d->errors++;
	if (d->errors > d->max_msgs) {
		return;
	}
	fprintf(stderr, "%s: %s: %s %llu: ", TT_NAME, d->name,
		d->mode == TT_IN_TEXT ? "line" : "offset",
		(unsigned long long)where);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	put_escaped(stderr, msg);
	fputc('\n', stderr);
	if (d->errors == d->max_msgs)
		fprintf(stderr, "%s: %s: further errors not shown\n", TT_NAME,
			d->name);
}

static void emit(struct tt_decoder *d, const struct tcpstates_record *r)
{
	d->records++;
	d->emit(d->arg, r);
}

/*
 * Follows the ring sequence. In text, a silent forward gap (records
 * overwritten while `cat /proc/tcpstates` ran, or between two snapshots)
 * becomes a LOST marker. Binary records come from the device, which
 * announces every loss with a LOST marker of its own: a gap there is
 * records this reader does not see (another network namespace's, or a
 * filtered recording's), not a loss. Snapshots appended to one file (`cat /proc/tcpstates >>
 * t.txt`, twice) overlap: after a second header line, records behind the
 * sequence and no newer than what was seen are ones seen already. Behind
 * and newer is not a repeat: the sequence restarted (module reloaded).
 */
static void deliver(struct tt_decoder *d, const struct tcpstates_record *r,
		    uint64_t where)
{
	uint64_t next = r->kind == TCPSTATES_EV_LOST ? r->seq + r->aux :
						       r->seq + 1;

	if (d->have_seq && r->seq < d->next_seq) {
		if (d->overlap && r->ts_ns <= d->max_ts) {
			d->seen_twice++;
			return;
		}
		report(d, where, "sequence went backwards (%llu after %llu)",
		       (unsigned long long)r->seq,
		       (unsigned long long)d->next_seq - 1);
	} else if (d->have_seq && r->seq > d->next_seq &&
		   r->kind != TCPSTATES_EV_LOST && d->mode == TT_IN_TEXT) {
		struct tcpstates_record lost = {
			.seq = d->next_seq,
			.ts_ns = r->ts_ns,
			.aux = r->seq - d->next_seq,
			.kind = TCPSTATES_EV_LOST,
		};

		d->synth_lost++;
		emit(d, &lost);
	}
	d->next_seq = next;
	d->have_seq = true;
	d->overlap = false;
	if (r->ts_ns > d->max_ts)
		d->max_ts = r->ts_ns;
	emit(d, r);
}

static void binary_one(struct tt_decoder *d, const unsigned char *p)
{
	struct tcpstates_record r = { 0 };
	char why[128];
	size_t n = d->record_size < sizeof(r) ? d->record_size : sizeof(r);

	memcpy(&r, p, n);
	if (tt_check_record(&r, why, sizeof(why)))
		report(d, d->offset, "%s", why);
	else
		deliver(d, &r, d->offset);
	d->offset += d->record_size;
}

static int pend_reserve(struct tt_decoder *d, size_t want)
{
	char *p;

	if (want <= d->cappend)
		return 0;
	p = realloc(d->pend, want);
	if (!p)
		return -1;
	d->pend = p;
	d->cappend = want;
	return 0;
}

static void binary_feed(struct tt_decoder *d, const unsigned char *p,
			size_t len)
{
	size_t rs = d->record_size;

	if (d->npend) {
		size_t take = rs - d->npend;

		if (take > len)
			take = len;
		memcpy(d->pend + d->npend, p, take);
		d->npend += take;
		p += take;
		len -= take;
		if (d->npend < rs)
			return;
		binary_one(d, (unsigned char *)d->pend);
		d->npend = 0;
	}
	while (len >= rs) {
		binary_one(d, p);
		p += rs;
		len -= rs;
	}
	if (len) {
		memcpy(d->pend, p, len);
		d->npend = len;
	}
}

/*
 * A line of /proc/tcpstates_stats, "key value", is welcome anywhere in the
 * text (`cat /proc/tcpstates_stats /proc/tcpstates > t.txt` keeps the
 * wall-clock offset with the records); realtime_offset_ns is the one used.
 */
static bool stats_line(struct tt_decoder *d, const char *line)
{
	char key[64], value[64], rest;
	long long v;

	if (sscanf(line, "%63s %63s %c", key, value, &rest) != 2 ||
	    strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
		    strlen(key) ||
	    key[0] < 'a' || key[0] > 'z')
		return false;
	if (!strcmp(key, "realtime_offset_ns") &&
	    sscanf(value, "%lld%c", &v, &rest) == 1) {
		d->realtime_offset_ns = v;
		d->have_offset = true;
	}
	return true;
}

static void text_line(struct tt_decoder *d, char *line, size_t n)
{
	struct tcpstates_record r;
	char why[160];

	d->line++;
	if (n && line[n - 1] == '\r')
		line[--n] = 0;
	if (n == 0 || line[0] == '#' || stats_line(d, line))
		return;
	if (!strncmp(line, "SEQ ", 4)) {
		if (tt_text_header(line, &d->ncols, why, sizeof(why)))
			report(d, d->line, "%s", why);
		else
			d->header_seen = true;
		d->overlap = d->have_seq;
		return;
	}
	if (!d->header_seen) {
		report(d, d->line, "no 'SEQ ...' header line before records");
		d->header_seen = true; /* say it once */
	}
	if (tt_parse_text_line(line, d->ncols, &r, why, sizeof(why)))
		report(d, d->line, "%s", why);
	else
		deliver(d, &r, d->line);
}

/*
 * Text: complete lines are parsed from a private copy (strtok writes); a
 * partial line waits in pend. A line longer than TT_MAX_LINE is reported and
 * dropped up to its newline (npend == SIZE_MAX marks "discarding").
 */
static void text_feed(struct tt_decoder *d, const char *p, size_t len)
{
	char line[TT_MAX_LINE + 1];

	while (len) {
		const char *nl = memchr(p, '\n', len);
		size_t n = nl ? (size_t)(nl - p) : len;

		if (d->npend == SIZE_MAX) { /* discarding a long line */
			if (nl) {
				d->npend = 0;
				d->line++;
			}
		} else if (d->npend + n > TT_MAX_LINE) {
			report(d, d->line + 1, "line longer than %d bytes",
			       TT_MAX_LINE);
			d->npend = SIZE_MAX;
			if (nl) {
				d->npend = 0;
				d->line++;
			}
		} else if (nl) {
			memcpy(line, d->pend, d->npend);
			memcpy(line + d->npend, p, n);
			line[d->npend + n] = 0;
			if (memchr(line, 0, d->npend + n))
				report(d, ++d->line, "NUL byte in text");
			else
				text_line(d, line, d->npend + n);
			d->npend = 0;
		} else {
			memcpy(d->pend + d->npend, p, n);
			d->npend += n;
		}
		d->offset += n + (nl ? 1 : 0);
		p += n + (nl ? 1 : 0);
		len -= n + (nl ? 1 : 0);
	}
}

void tt_decoder_feed(struct tt_decoder *d, const void *data, size_t len)
{
	size_t need = d->mode == TT_IN_TEXT ? TT_MAX_LINE + 1 : d->record_size;

	if (pend_reserve(d, need)) {
		report(d, d->offset, "out of memory");
		return;
	}
	if (d->mode == TT_IN_TEXT)
		text_feed(d, data, len);
	else
		binary_feed(d, data, len);
}

void tt_decoder_gap(struct tt_decoder *d, uint64_t next_seq)
{
	struct tcpstates_record lost = {
		.seq = d->next_seq,
		.ts_ns = d->max_ts,
		.aux = next_seq - d->next_seq,
		.kind = TCPSTATES_EV_LOST,
	};

	if (!d->have_seq || next_seq <= d->next_seq)
		return;
	d->synth_lost++;
	d->next_seq = next_seq;
	emit(d, &lost);
}

void tt_decoder_finish(struct tt_decoder *d)
{
	if (d->mode == TT_IN_TEXT) {
		if (d->npend == SIZE_MAX) {
			d->npend = 0;
		} else if (d->npend) {
			char line[TT_MAX_LINE + 1];

			memcpy(line, d->pend, d->npend);
			line[d->npend] = 0;
			if (memchr(line, 0, d->npend))
				report(d, ++d->line, "NUL byte in text");
			else
				text_line(d, line, d->npend);
			d->npend = 0;
		}
		return;
	}
	if (d->npend) {
		report(d, d->offset, "truncated record: %zu of %zu bytes",
		       d->npend, d->record_size);
		d->npend = 0;
	}
}

int tt_device_info(int fd, struct tcpstates_info *info)
{
	int ret = ioctl(fd, TCPSTATES_IOC_INFO, info);

	if (ret < 0 && errno == ENOTTY)
		ret = ioctl(fd, TCPSTATES_IOC_INFO_V2, info);
	return ret;
}
