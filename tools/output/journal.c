// SPDX-License-Identifier: GPL-2.0
/*
 * --journal: one structured journal entry per finished connection side,
 * sent to journald with libsystemd's sd_journal_sendv(), as bcc's
 * tcpstates -Y does. An entry carries:
 *
 *   MESSAGE            the side's --brief line (brief.c)
 *   MESSAGE_ID         TT_JOURNAL_CONN_ID, the same for every side
 *   PRIORITY           6 (info)
 *   SYSLOG_IDENTIFIER  tcptimeline
 *   TCPSTATES_<FIELD>  every field of --json and --csv (fields.c) that is
 *                      not null, its name in capitals: TCPSTATES_LADDR,
 *                      TCPSTATES_LPORT, TCPSTATES_COOKIE, TCPSTATES_CLOSE,
 *                      TCPSTATES_ISN_LOCAL ...; states as --csv writes
 *                      them (SYN_SENT:23000;ESTABLISHED:...;CLOSE)
 *
 * so that `journalctl TCPSTATES_RPORT=5432 TCPSTATES_CLOSE=reset_received`
 * finds what a query wants without parsing text.
 *
 * The limit. journald drops what a service logs past its own rate limit
 * (RateLimitBurst=10000 in RateLimitIntervalSec=30s by default) and says
 * only how many it dropped. This writer sends at most @limit entries in
 * each TT_JOURNAL_WINDOW_S (30 s) window, 5000 unless told otherwise, half
 * of journald's, so journald never has to drop an entry of ours; the
 * sides past the limit are counted, and the first entry after the window
 * (or the end of the run) is a notice with their number:
 *
 *   MESSAGE_ID=TT_JOURNAL_SUPPRESSED_ID PRIORITY=4 TCPSTATES_SUPPRESSED=N
 *
 * An entry journald refuses (sd_journal_sendv() fails) is counted too;
 * the counts go to stderr at the end. sd_journal_sendv() says nothing when
 * there is no journald at all (libsystemd returns 0 on ENOENT), so the run
 * is refused up front when journald's socket is missing. Nothing is lost
 * from the capture or the metrics, which see every side.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "output/output.h"

/* systemd-id128 new: a finished connection side; sides not logged */
#define TT_JOURNAL_CONN_ID "1428a57838af4f778f2ad51a38079433"
#define TT_JOURNAL_SUPPRESSED_ID "0620a33a91ad4e008c1357c05cac8c0d"
/* where sd_journal_sendv() sends (systemd's src/libsystemd/sd-journal) */
#define TT_JOURNAL_SOCKET "/run/systemd/journal/socket"
#define WINDOW_NS (TT_JOURNAL_WINDOW_S * 1000000000ULL)

struct tt_journal {
	const struct tt_clock *clock;
	unsigned int limit;
	uint64_t window_ns; /* when the current window began */
	unsigned int in_window; /* entries sent in it */
	uint64_t pending; /* suppressed since the last notice */
	struct tt_journal_counts n;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int tt_journal_check(void)
{
	struct stat st;

	errno = 0;
	if (!stat(TT_JOURNAL_SOCKET, &st) && S_ISSOCK(st.st_mode))
		return 0;
	fprintf(stderr, "tcptimeline: --journal: no journald: %s: %s\n",
		TT_JOURNAL_SOCKET, errno ? strerror(errno) : "not a socket");
	return -1;
}

struct tt_journal *tt_journal_open(const struct tt_clock *k, unsigned int limit)
{
	struct tt_journal *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->clock = k;
	j->limit = limit;
	j->window_ns = now_ns();
	return j;
}

/* Sends @n strings "NAME=value"; counts the outcome. */
static void send_entry(struct tt_journal *j, char **f, int n, bool notice)
{
	struct iovec iov[n];
	int ret;

	for (int i = 0; i < n; i++)
		iov[i] = (struct iovec){ f[i], strlen(f[i]) };
	ret = sd_journal_sendv(iov, n);
	if (ret < 0) {
		if (!j->n.failed)
			fprintf(stderr, "tcptimeline: --journal: %s\n",
				strerror(-ret));
		j->n.failed++;
		j->n.last_error = -ret;
	} else if (notice) {
		j->n.notices++;
	} else {
		j->n.sent++;
	}
}

static void notice(struct tt_journal *j)
{
	char msg[200], num[48];
	char *f[] = { msg, num, "PRIORITY=4", "SYSLOG_IDENTIFIER=tcptimeline",
		      "MESSAGE_ID=" TT_JOURNAL_SUPPRESSED_ID };

	snprintf(
		msg, sizeof(msg),
		"MESSAGE=%llu connection sides not logged: over --journal-limit %u per %d s (the capture and the metrics have them)",
		(unsigned long long)j->pending, j->limit, TT_JOURNAL_WINDOW_S);
	snprintf(num, sizeof(num), "TCPSTATES_SUPPRESSED=%llu",
		 (unsigned long long)j->pending);
	send_entry(j, f, ARRAY_SIZE(f), true);
	j->pending = 0;
}

/* Under the limit: true; else counted. A new window first says what the
 * last ones suppressed. */
static bool admit(struct tt_journal *j)
{
	uint64_t now = now_ns();

	if (!j->limit)
		return true;
	if (now - j->window_ns >= WINDOW_NS) {
		j->window_ns = now;
		j->in_window = 0;
		if (j->pending)
			notice(j);
	}
	if (j->in_window < j->limit) {
		j->in_window++;
		return true;
	}
	j->pending++;
	j->n.suppressed++;
	return false;
}

/* STATE:nanoseconds in it, ';'-separated, as --csv writes them. */
static char *states_value(const struct conn *c)
{
	size_t len = 32 + c->nstates * 40, at;
	char *s = malloc(len);

	if (!s)
		return NULL;
	at = snprintf(s, len, "TCPSTATES_STATES=");
	for (uint32_t i = 0; i < c->nstates && at < len; i++) {
		const struct tt_span *p = &c->states[i];

		at += snprintf(s + at, len - at, "%s%s", i ? ";" : "",
			       tt_state_name(p->state));
		if (at < len && p->leave_ns >= p->enter_ns && p->leave_ns)
			at += snprintf(s + at, len - at, ":%llu",
				       (unsigned long long)(p->leave_ns -
							    p->enter_ns));
	}
	return s;
}

/* TCPSTATES_<NAME>=value of one field; NULL when it is null. */
static char *field_value(const struct tt_field *fl, const struct tt_row *x)
{
	struct tt_value v = { 0 };
	char name[64], *s = NULL;
	size_t i;

	fl->get(x, &v);
	if (v.null)
		return NULL;
	if (fl->type == FT_STATES)
		return states_value(x->c);
	for (i = 0; fl->name[i] && i + 1 < sizeof(name); i++)
		name[i] = toupper((unsigned char)fl->name[i]);
	name[i] = 0;
	if (fl->type == FT_UINT)
		return asprintf(&s, "TCPSTATES_%s=%llu", name,
				(unsigned long long)v.u) < 0 ?
			       NULL :
			       s;
	if (fl->type == FT_BOOL)
		return asprintf(&s, "TCPSTATES_%s=%s", name,
				v.u ? "true" : "false") < 0 ?
			       NULL :
			       s;
	return asprintf(&s, "TCPSTATES_%s=%s", name, v.s) < 0 ? NULL : s;
}

void tt_journal_conn(struct tt_journal *j, const struct conn *c)
{
	const struct tt_row x = { .c = c, .clock = j->clock };
	size_t nf, n = 0;
	const struct tt_field *fl = tt_fields(&nf);
	char *f[nf + 4], line[512];

	if (!admit(j))
		return;
	tt_brief_line(line, sizeof(line), j->clock, c);
	if (asprintf(&f[n], "MESSAGE=%s", line) >= 0)
		n++;
	f[n++] = strdup("MESSAGE_ID=" TT_JOURNAL_CONN_ID);
	f[n++] = strdup("PRIORITY=6");
	f[n++] = strdup("SYSLOG_IDENTIFIER=tcptimeline");
	for (size_t i = 0; i < nf; i++) {
		char *v = field_value(&fl[i], &x);

		if (v)
			f[n++] = v;
	}
	for (size_t i = 0; i < n; i++) {
		if (!f[i]) { /* out of memory: one entry fails, counted */
			j->n.failed++;
			j->n.last_error = ENOMEM;
			goto out;
		}
	}
	send_entry(j, f, n, false);
out:
	for (size_t i = 0; i < n; i++)
		free(f[i]);
}

void tt_journal_close(struct tt_journal *j, struct tt_journal_counts *n)
{
	if (!j)
		return;
	if (j->pending)
		notice(j);
	if (n)
		*n = j->n;
	free(j);
}
