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
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"

#define TT_MAX_LINE	4096
#define TT_NCOLS	35
#define TT_MAX_RECORD	4096

static const char *const columns[TT_NCOLS] = {
	"SEQ", "TIME_NS", "CPU", "EVENT", "NETNS", "COOKIE", "PID", "COMM",
	"LADDR", "LPORT", "RADDR", "RPORT", "OLDSTATE", "NEWSTATE",
	"WRITE_SEQ", "SND_UNA", "SND_NXT", "RCV_NXT", "SND_WND", "RCV_WND",
	"MSS", "SRTT_US", "TGID", "UID", "CTX", "FAMILY", "FLAGS",
	"SND_WSCALE", "RCV_WSCALE", "OPTIONS", "RETRANS", "BYTES_ACKED",
	"BYTES_RECEIVED", "SK_ERR", "AUX",
};

enum {
	C_SEQ, C_TIME, C_CPU, C_EVENT, C_NETNS, C_COOKIE, C_PID, C_COMM,
	C_LADDR, C_LPORT, C_RADDR, C_RPORT, C_OLD, C_NEW, C_WRITE_SEQ,
	C_SND_UNA, C_SND_NXT, C_RCV_NXT, C_SND_WND, C_RCV_WND, C_MSS, C_SRTT,
	C_TGID, C_UID, C_CTX, C_FAMILY, C_FLAGS, C_SND_WSCALE, C_RCV_WSCALE,
	C_OPTIONS, C_RETRANS, C_BYTES_ACKED, C_BYTES_RECEIVED, C_SK_ERR, C_AUX,
};

#define KNOWN_FLAGS (TCPSTATES_F_MAPPED | TCPSTATES_F_SEQ | \
		     TCPSTATES_F_WINDOW | TCPSTATES_F_TCPINFO | \
		     TCPSTATES_F_TIMEWAIT | TCPSTATES_F_REQUEST)
#define OPTION_BIT(NAME, name, bit) | (1 << (bit))
#define KNOWN_OPTS (0 TCPSTATES_OPTION_LIST(OPTION_BIT))

int tt_check_record(const struct tcpstates_record *r, char *why, size_t len)
{
	if (r->kind == 0 || r->kind >= TCPSTATES_NR_EVENTS) {
		snprintf(why, len, "bad event kind %u", r->kind);
		return -1;
	}
	if (r->kind == TCPSTATES_EV_LOST) {
		if (r->aux == 0) {
			snprintf(why, len, "lost marker with count 0");
			return -1;
		}
		return 0;
	}
	if (r->old_state >= TCPSTATES_NR_STATES ||
	    r->new_state >= TCPSTATES_NR_STATES) {
		snprintf(why, len, "bad state %u -> %u", r->old_state,
			 r->new_state);
		return -1;
	}
	if (r->family != TCPSTATES_FAMILY_INET &&
	    r->family != TCPSTATES_FAMILY_INET6) {
		snprintf(why, len, "bad address family %u", r->family);
		return -1;
	}
	if (r->ctx >= TCPSTATES_NR_CTX) {
		snprintf(why, len, "bad context %u", r->ctx);
		return -1;
	}
	if (r->flags & ~KNOWN_FLAGS) {
		snprintf(why, len, "unknown flags 0x%02x", r->flags);
		return -1;
	}
	if ((r->flags & TCPSTATES_F_MAPPED) &&
	    r->family != TCPSTATES_FAMILY_INET) {
		snprintf(why, len, "mapped flag on a non-IPv4 record");
		return -1;
	}
	if (r->options & ~KNOWN_OPTS) {
		snprintf(why, len, "unknown options 0x%02x", r->options);
		return -1;
	}
	if (!memchr(r->comm, 0, sizeof(r->comm))) {
		snprintf(why, len, "comm not NUL-terminated");
		return -1;
	}
	if (r->cookie == 0) {
		snprintf(why, len, "cookie 0 on a %s record",
			 tt_event_name(r->kind));
		return -1;
	}
	if (r->snd_wscale > 14 || r->rcv_wscale > 14) {
		snprintf(why, len, "window scale %u/%u out of range",
			 r->snd_wscale, r->rcv_wscale);
		return -1;
	}
	switch (r->kind) {
	case TCPSTATES_EV_REQUEST:
		if (r->new_state != TCPSTATES_NEW_SYN_RECV)
			goto bad_kind_state;
		break;
	case TCPSTATES_EV_CHILD:
		if (r->new_state != TCPSTATES_SYN_RECV)
			goto bad_kind_state;
		break;
	case TCPSTATES_EV_REQUEST_END:
		if (r->old_state != TCPSTATES_NEW_SYN_RECV)
			goto bad_kind_state;
		break;
	case TCPSTATES_EV_LISTEN:
		if (r->new_state != TCPSTATES_LISTEN)
			goto bad_kind_state;
		break;
	default:
		if (r->new_state == TCPSTATES_STATE_NONE)
			goto bad_kind_state;
		break;
	}
	return 0;

bad_kind_state:
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

static void report(struct tt_decoder *d, uint64_t where, const char *fmt, ...)
{
	va_list ap;

	d->errors++;
	if (d->errors > d->max_msgs) {
		return;
	}
	fprintf(stderr, "%s: %s: %s %llu: ", TT_NAME, d->name,
		d->mode == TT_IN_TEXT ? "line" : "offset",
		(unsigned long long)where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (d->errors == d->max_msgs)
		fprintf(stderr, "%s: %s: further errors not shown\n", TT_NAME,
			d->name);
}

/* Follows the ring sequence, making up a LOST marker for a silent gap. */
static void deliver(struct tt_decoder *d, const struct tcpstates_record *r,
		    uint64_t where)
{
	if (r->kind == TCPSTATES_EV_LOST) {
		d->next_seq = r->seq + r->aux;
		d->have_seq = true;
		d->records++;
		d->emit(d->arg, r);
		return;
	}
	if (d->have_seq && r->seq != d->next_seq) {
		if (r->seq > d->next_seq) {
			struct tcpstates_record lost = {
				.seq = d->next_seq,
				.ts_ns = r->ts_ns,
				.aux = r->seq - d->next_seq,
				.kind = TCPSTATES_EV_LOST,
			};

			d->synth_lost++;
			d->records++;
			d->emit(d->arg, &lost);
		} else {
			report(d, where,
			       "sequence went backwards (%llu after %llu)",
			       (unsigned long long)r->seq,
			       (unsigned long long)d->next_seq - 1);
		}
	}
	d->next_seq = r->seq + 1;
	d->have_seq = true;
	d->records++;
	d->emit(d->arg, r);
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

static int parse_u64(const char *s, uint64_t max, uint64_t *out, int base)
{
	char *end;
	unsigned long long v;

	if (*s == '-' && s[1] == 0) {
		*out = 0;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* /proc/mounts escaping: \ooo octal. */
static int unescape_comm(const char *s, char *out, size_t len)
{
	size_t n = 0;

	if (!strcmp(s, "-")) {
		out[0] = 0;
		return 0;
	}
	while (*s) {
		char c = *s++;

		if (c == '\\') {
			int v = 0;

			for (int i = 0; i < 3; i++, s++) {
				if (*s < '0' || *s > '7')
					return -1;
				v = v * 8 + (*s - '0');
			}
			if (v > 255)
				return -1;
			c = (char)v;
		}
		if (n + 1 >= len)
			return -1;
		out[n++] = c;
	}
	out[n] = 0;
	return 0;
}

static int parse_addr(const char *s, unsigned int family, uint8_t *out)
{
	memset(out, 0, 16);
	if (!strcmp(s, "-"))
		return 0;
	if (family == TCPSTATES_FAMILY_INET6)
		return inet_pton(AF_INET6, s, out) == 1 ? 0 : -1;
	return inet_pton(AF_INET, s, out) == 1 ? 0 : -1;
}

static int option_bit(const char *name)
{
	for (unsigned int bit = 0; bit < 8; bit++) {
		const char *n = tt_option_name(bit);

		if (n && !strcmp(n, name))
			return bit;
	}
	return -1;
}

static int parse_options(const char *s, uint8_t *out)
{
	char buf[64], *tok, *save;

	*out = 0;
	if (!strcmp(s, "-") || !strcmp(s, "none"))
		return 0;
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		int bit = option_bit(tok);

		if (bit < 0)
			return -1;
		*out |= 1 << bit;
	}
	return 0;
}

int tt_parse_text_line(char *line, struct tcpstates_record *r, char *why,
		       size_t len)
{
	char *f[TT_NCOLS], *save, *tok;
	uint64_t v;
	int n = 0, i;

	memset(r, 0, sizeof(*r));
	for (tok = strtok_r(line, " ", &save); tok && n < TT_NCOLS;
	     tok = strtok_r(NULL, " ", &save))
		f[n++] = tok;
	if (n < TT_NCOLS) {
		snprintf(why, len, "%d fields, expected %d", n, TT_NCOLS);
		return -1;
	}

#define NUM(col, max, dst, base)					\
	do {								\
		if (parse_u64(f[col], (max), &v, (base))) {		\
			i = (col);					\
			goto bad_field;					\
		}							\
		(dst) = v;						\
	} while (0)

	NUM(C_SEQ, UINT64_MAX, r->seq, 10);
	NUM(C_TIME, UINT64_MAX, r->ts_ns, 10);
	NUM(C_CPU, UINT16_MAX, r->cpu, 10);
	i = tt_event_parse(f[C_EVENT]);
	if (i <= 0) {
		i = C_EVENT;
		goto bad_field;
	}
	r->kind = i;
	NUM(C_NETNS, UINT32_MAX, r->netns, 10);
	NUM(C_COOKIE, UINT64_MAX, r->cookie, 10);
	NUM(C_PID, UINT32_MAX, r->pid, 10);
	if (unescape_comm(f[C_COMM], r->comm, sizeof(r->comm))) {
		i = C_COMM;
		goto bad_field;
	}
	if (!strcmp(f[C_FAMILY], "ipv4"))
		r->family = TCPSTATES_FAMILY_INET;
	else if (!strcmp(f[C_FAMILY], "ipv6"))
		r->family = TCPSTATES_FAMILY_INET6;
	else if (strcmp(f[C_FAMILY], "-")) {
		i = C_FAMILY;
		goto bad_field;
	}
	if (parse_addr(f[C_LADDR], r->family, r->saddr)) {
		i = C_LADDR;
		goto bad_field;
	}
	if (parse_addr(f[C_RADDR], r->family, r->daddr)) {
		i = C_RADDR;
		goto bad_field;
	}
	NUM(C_LPORT, UINT16_MAX, r->sport, 10);
	r->sport = htons(r->sport);
	NUM(C_RPORT, UINT16_MAX, r->dport, 10);
	r->dport = htons(r->dport);
	for (int c = C_OLD; c <= C_NEW; c++) {
		int s = tt_state_parse(f[c]);

		if (s < 0) {
			i = c;
			goto bad_field;
		}
		if (c == C_OLD)
			r->old_state = s;
		else
			r->new_state = s;
	}
	NUM(C_WRITE_SEQ, UINT32_MAX, r->write_seq, 10);
	NUM(C_SND_UNA, UINT32_MAX, r->snd_una, 10);
	NUM(C_SND_NXT, UINT32_MAX, r->snd_nxt, 10);
	NUM(C_RCV_NXT, UINT32_MAX, r->rcv_nxt, 10);
	NUM(C_SND_WND, UINT32_MAX, r->snd_wnd, 10);
	NUM(C_RCV_WND, UINT32_MAX, r->rcv_wnd, 10);
	NUM(C_MSS, UINT16_MAX, r->mss, 10);
	NUM(C_SRTT, UINT32_MAX, r->srtt_us, 10);
	NUM(C_TGID, UINT32_MAX, r->tgid, 10);
	NUM(C_UID, UINT32_MAX, r->uid, 10);
	i = tt_ctx_parse(f[C_CTX]);
	if (i < 0) {
		if (strcmp(f[C_CTX], "-")) {
			i = C_CTX;
			goto bad_field;
		}
		i = 0;
	}
	r->ctx = i;
	if (strncmp(f[C_FLAGS], "0x", 2) ||
	    parse_u64(f[C_FLAGS] + 2, UINT8_MAX, &v, 16)) {
		i = C_FLAGS;
		goto bad_field;
	}
	r->flags = v;
	NUM(C_SND_WSCALE, UINT8_MAX, r->snd_wscale, 10);
	NUM(C_RCV_WSCALE, UINT8_MAX, r->rcv_wscale, 10);
	if (parse_options(f[C_OPTIONS], &r->options)) {
		i = C_OPTIONS;
		goto bad_field;
	}
	NUM(C_RETRANS, UINT32_MAX, r->total_retrans, 10);
	NUM(C_BYTES_ACKED, UINT64_MAX, r->bytes_acked, 10);
	NUM(C_BYTES_RECEIVED, UINT64_MAX, r->bytes_received, 10);
	NUM(C_SK_ERR, UINT8_MAX, r->sk_err, 10);
	NUM(C_AUX, UINT64_MAX, r->aux, 10);
#undef NUM
	return tt_check_record(r, why, len);

bad_field:
	snprintf(why, len, "bad %s field '%.40s'", columns[i], f[i]);
	return -1;
}

static void text_line(struct tt_decoder *d, char *line, size_t n)
{
	struct tcpstates_record r;
	char why[160];

	d->line++;
	if (n && line[n - 1] == '\r')
		line[--n] = 0;
	if (n == 0 || line[0] == '#')
		return;
	if (!strncmp(line, "SEQ ", 4)) {
		char *save, *tok = strtok_r(line, " ", &save);

		for (int i = 0; i < TT_NCOLS; i++, tok = strtok_r(NULL, " ", &save)) {
			if (!tok || strcmp(tok, columns[i])) {
				report(d, d->line, "header column %d is '%s', expected '%s'",
				       i + 1, tok ? tok : "(missing)", columns[i]);
				return;
			}
		}
		d->header_seen = true;
		return;
	}
	if (!d->header_seen) {
		report(d, d->line, "no 'SEQ ...' header line before records");
		d->header_seen = true; /* say it once */
	}
	if (tt_parse_text_line(line, &r, why, sizeof(why)))
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

		if (d->npend == SIZE_MAX) {	/* discarding a long line */
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

void tt_print_text_header(FILE *f)
{
	for (int i = 0; i < TT_NCOLS; i++)
		fprintf(f, "%s%c", columns[i], i + 1 < TT_NCOLS ? ' ' : '\n');
}

static void put_u(FILE *f, bool valid, unsigned long long v)
{
	if (valid)
		fprintf(f, " %llu", v);
	else
		fputs(" -", f);
}

void tt_print_text_line(FILE *f, const struct tcpstates_record *r)
{
	char la[INET6_ADDRSTRLEN], ra[INET6_ADDRSTRLEN];
	bool task = r->ctx == TCPSTATES_CTX_TASK && r->kind != TCPSTATES_EV_LOST;
	bool lost = r->kind == TCPSTATES_EV_LOST;
	bool seq = r->flags & TCPSTATES_F_SEQ;
	bool wnd = r->flags & TCPSTATES_F_WINDOW;
	bool info = r->flags & TCPSTATES_F_TCPINFO;

	fprintf(f, "%llu %llu %u %s %u %llu", (unsigned long long)r->seq,
		(unsigned long long)r->ts_ns, r->cpu, tt_event_name(r->kind),
		r->netns, (unsigned long long)r->cookie);
	put_u(f, task, r->pid);
	fputc(' ', f);
	if (task && r->comm[0]) {
		for (size_t i = 0; i < sizeof(r->comm) && r->comm[i]; i++) {
			unsigned char c = r->comm[i];

			if (c == ' ' || c == '\t' || c == '\n' || c == '\\')
				fprintf(f, "\\%03o", c);
			else
				fputc(c, f);
		}
	} else {
		fputc('-', f);
	}
	if (lost) {
		la[0] = ra[0] = '-';
		la[1] = ra[1] = 0;
	} else {
		tt_format_addr(r->family, r->saddr, la, sizeof(la));
		tt_format_addr(r->family, r->daddr, ra, sizeof(ra));
	}
	fprintf(f, " %s", la);
	put_u(f, !lost, ntohs(r->sport));
	fprintf(f, " %s", ra);
	put_u(f, !lost, ntohs(r->dport));
	fprintf(f, " %s %s", tt_state_name(r->old_state),
		tt_state_name(r->new_state));
	put_u(f, seq, r->write_seq);
	put_u(f, seq, r->snd_una);
	put_u(f, seq, r->snd_nxt);
	put_u(f, seq, r->rcv_nxt);
	put_u(f, wnd, r->snd_wnd);
	put_u(f, wnd, r->rcv_wnd);
	put_u(f, info, r->mss);
	put_u(f, info, r->srtt_us);
	put_u(f, task, r->tgid);
	put_u(f, !lost, r->uid);
	fprintf(f, " %s %s 0x%02x", lost ? "-" : tt_ctx_name(r->ctx),
		r->family == TCPSTATES_FAMILY_INET6 ? "ipv6" :
		r->family == TCPSTATES_FAMILY_INET ? "ipv4" : "-", r->flags);
	put_u(f, info, r->snd_wscale);
	put_u(f, info, r->rcv_wscale);
	if (!info) {
		fputs(" -", f);
	} else if (!r->options) {
		fputs(" none", f);
	} else {
		const char *sep = " ";

		for (unsigned int bit = 0; bit < 8; bit++) {
			if ((r->options & (1 << bit)) && tt_option_name(bit)) {
				fprintf(f, "%s%s", sep, tt_option_name(bit));
				sep = ",";
			}
		}
	}
	put_u(f, info, r->total_retrans);
	put_u(f, info, r->bytes_acked);
	put_u(f, info, r->bytes_received);
	fprintf(f, " %u %llu\n", r->sk_err, (unsigned long long)r->aux);
}
