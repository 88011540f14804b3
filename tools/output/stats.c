// SPDX-License-Identifier: GPL-2.0
/*
 * --stats: counts, latency percentiles, time in state, and what looks wrong.
 * --stats-json: the same figures as one JSON object per line, for a program
 * (every listener and destination, durations in ns), all but what looks
 * wrong, which is prose for a reader.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "output/output.h"

#define MAX_ODD 50

/* Every sample is kept: percentiles are exact (nearest rank), not buckets. */
struct samples {
	uint64_t *v;
	size_t n, cap;
};

/*
 * One listening port of one namespace (SO_REUSEPORT listeners on it are
 * summed): what it turned away (from listen_drop records, as they come) and
 * what became of its connections (from server sides).
 */
struct listener {
	uint32_t netns;
	uint16_t port;
	uint64_t drops[TCPSTATES_NR_DROPS];
	uint64_t servers, established, accepted, acks_dropped, req_dropped;
	uint64_t unanswered; /* of req_dropped: synack_timeout */
	struct samples wait; /* ESTABLISHED -> accept() */
};

struct tt_stats {
	uint64_t close_wait_warn_ns;
	uint64_t records, kinds[TCPSTATES_NR_EVENTS];
	uint64_t trans[TCPSTATES_NR_EVENTS][TCPSTATES_NR_STATES]
		      [TCPSTATES_NR_STATES];
	uint64_t lost_markers, lost_records;
	uint64_t conns, roles[ROLE_NR], closes[CLOSE_NR], incomplete;
	uint64_t reasons[TT_REASON_KEYS];
	uint64_t tw_entered, tw_expired, tw_killed, tw_skipped;
	uint64_t syn_retry_conns, resets;
	struct samples handshake[ROLE_NR];
	uint64_t state_ns[TCPSTATES_NR_STATES], state_n[TCPSTATES_NR_STATES];
	uint64_t state_max[TCPSTATES_NR_STATES];
	char *odd[MAX_ODD];
	size_t nodd;
	uint64_t odd_dropped;
	struct listener *lst;
	size_t nlst, caplst;
	/* per destination, from the input's start: -i resets none of it */
	struct tt_ports *ports;
};

static void samples_add(struct samples *h, uint64_t v)
{
	uint64_t *p = tt_grow(h->v, &h->cap, h->n, sizeof(*p), 64);

	if (!p)
		return; /* out of memory: the percentiles miss it */
	h->v = p;
	h->v[h->n++] = v;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* The nearest-rank percentile p (0 < p <= 1) of sorted samples. */
static uint64_t percentile(const struct samples *h, double p)
{
	size_t rank = (size_t)(p * h->n + 0.999999);

	if (rank < 1)
		rank = 1;
	return h->v[(rank > h->n ? h->n : rank) - 1];
}

static struct listener *listener_of(struct tt_stats *s, uint32_t netns,
				    uint16_t port)
{
	struct listener *l;

	for (size_t i = 0; i < s->nlst; i++)
		if (s->lst[i].netns == netns && s->lst[i].port == port)
			return &s->lst[i];
	l = tt_grow(s->lst, &s->caplst, s->nlst, sizeof(*l), 8);
	if (!l)
		return NULL; /* out of memory: this port goes uncounted */
	s->lst = l;
	l = &s->lst[s->nlst++];
	memset(l, 0, sizeof(*l));
	l->netns = netns;
	l->port = port;
	return l;
}

static void free_listeners(struct tt_stats *s)
{
	for (size_t i = 0; i < s->nlst; i++)
		free(s->lst[i].wait.v);
	free(s->lst);
}

struct tt_stats *tt_stats_new(uint64_t close_wait_warn_ns)
{
	struct tt_stats *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->close_wait_warn_ns = close_wait_warn_ns;
	s->ports = tt_ports_new();
	if (!s->ports) {
		free(s);
		return NULL;
	}
	return s;
}

void tt_stats_reset(struct tt_stats *s)
{
	uint64_t warn = s->close_wait_warn_ns;
	struct tt_ports *ports = s->ports;

	for (size_t i = 0; i < s->nodd; i++)
		free(s->odd[i]);
	for (unsigned int i = 0; i < ROLE_NR; i++)
		free(s->handshake[i].v);
	free_listeners(s);
	memset(s, 0, sizeof(*s));
	s->close_wait_warn_ns = warn;
	s->ports = ports;
}

void tt_stats_free(struct tt_stats *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nodd; i++)
		free(s->odd[i]);
	for (unsigned int i = 0; i < ROLE_NR; i++)
		free(s->handshake[i].v);
	free_listeners(s);
	tt_ports_free(s->ports);
	free(s);
}

void tt_stats_record(struct tt_stats *s, const struct tcpstates_record *r)
{
	s->records++;
	if (r->kind < TCPSTATES_NR_EVENTS)
		s->kinds[r->kind]++;
	if (r->kind == TCPSTATES_EV_LOST) {
		s->lost_markers++;
		s->lost_records += r->aux;
		return;
	}
	if (r->kind == TCPSTATES_EV_LISTEN_DROP) {
		struct listener *l = listener_of(s, r->netns, ntohs(r->sport));

		if (l) /* the decoder checked the cause */
			l->drops[TCPSTATES_DROP_CAUSE(r->aux)]++;
	}
	if (r->kind < TCPSTATES_NR_EVENTS &&
	    r->old_state < TCPSTATES_NR_STATES &&
	    r->new_state < TCPSTATES_NR_STATES)
		s->trans[r->kind][r->old_state][r->new_state]++;
}

static void odd(struct tt_stats *s, const struct conn *c, const char *what)
{
	char l[64], r[64], owner[TT_COMM_ESCAPED + 32], comm[TT_COMM_ESCAPED];
	char *line;

	if (s->nodd >= MAX_ODD) {
		s->odd_dropped++;
		return;
	}
	tt_fmt_endpoint(l, sizeof(l), c->family, c->laddr, c->lport);
	tt_fmt_endpoint(r, sizeof(r), c->family, c->raddr, c->rport);
	if (c->owner_rank)
		snprintf(owner, sizeof(owner), "pid %u comm %s", c->tgid,
			 tt_escape(comm, sizeof(comm), c->comm, false));
	else
		snprintf(owner, sizeof(owner), "owner unknown");
	if (asprintf(&line, "%s %s -> %s netns %u cookie %llu (sk:%llx) %s: %s",
		     tt_role_name(c->role), l, r, c->netns,
		     (unsigned long long)c->cookie,
		     (unsigned long long)c->cookie, owner, what) < 0)
		return;
	s->odd[s->nodd++] = line;
}

/* Time in each state; a CLOSE_WAIT the application let last is odd. */
static void state_times(struct tt_stats *s, const struct conn *c)
{
	char d[32], what[96];

	for (uint32_t i = 0; i < c->nstates; i++) {
		const struct tt_span *sp = &c->states[i];
		uint64_t end =
			sp->leave_ns ?
				sp->leave_ns :
				(sp->state != TCPSTATES_CLOSE ? c->end_ns : 0);
		uint64_t dur;

		if (!end || end < sp->enter_ns ||
		    sp->state >= TCPSTATES_NR_STATES)
			continue;
		dur = end - sp->enter_ns;
		s->state_ns[sp->state] += dur;
		s->state_n[sp->state]++;
		if (dur > s->state_max[sp->state])
			s->state_max[sp->state] = dur;
		if (sp->state == TCPSTATES_CLOSE_WAIT &&
		    dur >= s->close_wait_warn_ns) {
			tt_fmt_dur(d, sizeof(d), dur);
			snprintf(
				what, sizeof(what),
				"CLOSE_WAIT for %s%s: the application did not close()",
				d, sp->leave_ns ? "" : " (still)");
			odd(s, c, what);
		}
	}
}

static void retries(struct tt_stats *s, const struct conn *c)
{
	char what[96];
	int n = 0;

	if (!c->syn_retrans && !c->synack_retrans)
		return;
	s->syn_retry_conns++;
	if (c->syn_retrans)
		n = snprintf(what, sizeof(what), "%u SYN retransmit%s",
			     c->syn_retrans, c->syn_retrans == 1 ? "" : "s");
	if (c->synack_retrans)
		snprintf(what + n, sizeof(what) - n,
			 "%s%u SYN-ACK retransmit%s", n ? ", " : "",
			 c->synack_retrans, c->synack_retrans == 1 ? "" : "s");
	odd(s, c, what);
}

static void abnormal_end(struct tt_stats *s, const struct conn *c)
{
	char what[96];

	switch (c->close) {
	case CLOSE_RESET_SENT:
	case CLOSE_RESET_RECEIVED:
		s->resets++;
		break;
	case CLOSE_REFUSED:
	case CLOSE_TIMEOUT:
	case CLOSE_ERROR:
		break;
	default:
		return;
	}
	snprintf(what, sizeof(what), "ended %s in %s", tt_close_name(c->close),
		 c->nstates > 1 ?
			 tt_state_name(c->states[c->nstates - 2].state) :
			 "-");
	odd(s, c, what);
}

/* What became of a listener's connection, counted as it ends. */
static void server_end(struct tt_stats *s, const struct conn *c)
{
	struct listener *l;

	if (c->role != ROLE_SERVER || !(l = listener_of(s, c->netns, c->lport)))
		return;
	l->servers++;
	l->established += c->est_ns != 0;
	l->accepted += c->accept_ns != 0;
	l->acks_dropped += c->acks_dropped;
	/* a request that ended without a child, for whatever reason */
	l->req_dropped += tt_side_before_close(c) == TCPSTATES_NEW_SYN_RECV;
	l->unanswered += c->reason == REASON_SYNACK_TIMEOUT;
}

void tt_stats_conn(struct tt_stats *s, const struct conn *c)
{
	s->conns++;
	s->roles[c->role < ROLE_NR ? c->role : 0]++;
	s->closes[c->close < CLOSE_NR ? c->close : 0]++;
	if (c->close != CLOSE_OPEN)
		s->reasons[tt_reason_key(c)]++;
	if (c->est_ns && c->syn_ns && c->est_ns >= c->syn_ns &&
	    c->role < ROLE_NR)
		samples_add(&s->handshake[c->role], c->est_ns - c->syn_ns);
	state_times(s, c);
	if (c->twend == TW_EXPIRED)
		s->tw_expired++;
	if (c->twend == TW_KILLED)
		s->tw_killed++;
	if (c->twend == TW_SKIPPED)
		s->tw_skipped++;
	retries(s, c);
	abnormal_end(s, c);
	server_end(s, c);
	if (c->incomplete) {
		s->incomplete++;
		odd(s, c, "incomplete history");
	}
}

/*
 * An entry into TIME_WAIT, counted when it happens (-i: in its interval,
 * as the transitions are), not when the side ends.
 */
void tt_stats_side(struct tt_stats *s, const struct conn *c,
		   enum tt_side_event ev)
{
	struct listener *l;
	uint64_t wait;

	tt_ports_side(s->ports, c, ev);
	if (ev == TT_SIDE_TIME_WAIT)
		s->tw_entered++;
	if (ev == TT_SIDE_ACCEPTED && tt_conn_accept_wait(c, &wait) &&
	    (l = listener_of(s, c->netns, c->lport)))
		samples_add(&l->wait, wait);
}

static void print_records(const struct tt_stats *s, FILE *f)
{
	fprintf(f, "records %llu, lost markers %llu (%llu record%s lost)\n",
		(unsigned long long)s->records,
		(unsigned long long)s->lost_markers,
		(unsigned long long)s->lost_records,
		s->lost_records == 1 ? "" : "s");
	fprintf(f, "\ntransitions (event old -> new: count)\n");
	for (unsigned int k = 1; k < TCPSTATES_NR_EVENTS; k++)
		for (unsigned int o = 0; o < TCPSTATES_NR_STATES; o++)
			for (unsigned int n = 0; n < TCPSTATES_NR_STATES; n++)
				if (s->trans[k][o][n])
					fprintf(f,
						"  %-12s %-12s -> %-12s %llu\n",
						tt_event_name(k),
						tt_state_name(o),
						tt_state_name(n),
						(unsigned long long)
							s->trans[k][o][n]);
}

static void print_connections(const struct tt_stats *s, FILE *f)
{
	fprintf(f, "\nconnections %llu (incomplete %llu)\n",
		(unsigned long long)s->conns,
		(unsigned long long)s->incomplete);
	for (unsigned int i = 0; i < ROLE_NR; i++)
		if (s->roles[i])
			fprintf(f, "  role %-16s %llu\n", tt_role_name(i),
				(unsigned long long)s->roles[i]);
	for (unsigned int i = 0; i < CLOSE_NR; i++)
		if (s->closes[i])
			fprintf(f, "  close %-15s %llu\n", tt_close_name(i),
				(unsigned long long)s->closes[i]);
	for (unsigned int i = 0; i < TT_REASON_KEYS; i++)
		if (s->reasons[i] && tt_reason_key_name(i))
			fprintf(f, "  reason %-14s %llu\n",
				tt_reason_key_name(i),
				(unsigned long long)s->reasons[i]);
}

/* "n=3 1.2ms 2ms 2ms 2ms": nearest-rank p50 p90 p99 max. */
static void print_percentiles(struct samples *h, FILE *f)
{
	char a[32], b[32], c[32], d[32];

	qsort(h->v, h->n, sizeof(*h->v), cmp_u64);
	tt_fmt_dur(a, sizeof(a), percentile(h, 0.50));
	tt_fmt_dur(b, sizeof(b), percentile(h, 0.90));
	tt_fmt_dur(c, sizeof(c), percentile(h, 0.99));
	tt_fmt_dur(d, sizeof(d), h->v[h->n - 1]);
	fprintf(f, "n=%zu %s %s %s %s\n", h->n, a, b, c, d);
}

static void print_handshakes(struct tt_stats *s, FILE *f)
{
	fprintf(f,
		"\nhandshake latency (exact, nearest rank: p50 p90 p99 max)\n");
	for (unsigned int i = 0; i < ROLE_NR; i++) {
		if (!s->handshake[i].n)
			continue;
		fprintf(f, "  %-12s ", tt_role_name(i));
		print_percentiles(&s->handshake[i], f);
	}
}

static int cmp_listener(const void *x, const void *y)
{
	const struct listener *a = x, *b = y;

	if (a->netns != b->netns)
		return a->netns < b->netns ? -1 : 1;
	return (a->port > b->port) - (a->port < b->port);
}

static void print_listeners(struct tt_stats *s, FILE *f)
{
	if (!s->nlst)
		return;
	fprintf(f, "\nlisteners (per namespace and local port)\n");
	qsort(s->lst, s->nlst, sizeof(*s->lst), cmp_listener);
	for (size_t i = 0; i < s->nlst; i++) {
		struct listener *l = &s->lst[i];

		fprintf(f, "  netns %u port %u\n", l->netns, l->port);
		fprintf(f,
			"    connections %llu: established %llu, accepted %llu, request dropped %llu (SYN-ACKs unanswered %llu), final ACKs dropped %llu\n",
			(unsigned long long)l->servers,
			(unsigned long long)l->established,
			(unsigned long long)l->accepted,
			(unsigned long long)l->req_dropped,
			(unsigned long long)l->unanswered,
			(unsigned long long)l->acks_dropped);
		fprintf(f, "    listen_drop");
		for (unsigned int k = 1; k < TCPSTATES_NR_DROPS; k++)
			fprintf(f, " %s %llu", tt_drop_name(k),
				(unsigned long long)l->drops[k]);
		fprintf(f, " (SYNs and final ACKs, as TcpExt counts them)\n");
		if (l->wait.n) {
			fprintf(f, "    accept wait (p50 p90 p99 max) ");
			print_percentiles(&l->wait, f);
		}
	}
}

static void print_states(const struct tt_stats *s, FILE *f)
{
	char a[32], b[32], c[32];

	fprintf(f, "\ntime in state (count total mean max)\n");
	for (unsigned int i = 1; i < TCPSTATES_NR_STATES; i++) {
		if (!s->state_n[i])
			continue;
		tt_fmt_dur(a, sizeof(a), s->state_ns[i]);
		tt_fmt_dur(b, sizeof(b), s->state_ns[i] / s->state_n[i]);
		tt_fmt_dur(c, sizeof(c), s->state_max[i]);
		fprintf(f, "  %-12s %llu %s %s %s\n", tt_state_name(i),
			(unsigned long long)s->state_n[i], a, b, c);
	}
	fprintf(f,
		"\nTIME_WAIT entered %llu, expired %llu, killed %llu, skipped (tw_overflow) %llu\n",
		(unsigned long long)s->tw_entered,
		(unsigned long long)s->tw_expired,
		(unsigned long long)s->tw_killed,
		(unsigned long long)s->tw_skipped);
}

/*
 * @sep"NAME":{"n":N,"p50":..,"p90":..,"p99":..,"max":..} in ns, if there
 * are samples: false if not (nothing written).
 */
static bool json_percentiles(struct samples *h, const char *sep,
			     const char *name, FILE *f)
{
	if (!h->n)
		return false;
	qsort(h->v, h->n, sizeof(*h->v), cmp_u64);
	fprintf(f,
		"%s\"%s\":{\"n\":%zu,\"p50\":%llu,\"p90\":%llu,\"p99\":%llu,\"max\":%llu}",
		sep, name, h->n, (unsigned long long)percentile(h, 0.50),
		(unsigned long long)percentile(h, 0.90),
		(unsigned long long)percentile(h, 0.99),
		(unsigned long long)h->v[h->n - 1]);
	return true;
}

/*
 * ,"NAME":{"key":count,...}: the counts @name_of names (NULL: none), the
 * zeros too if @zeros.
 */
static void json_counts(const uint64_t *v, unsigned int n,
			const char *(*name_of)(unsigned int), bool zeros,
			const char *name, FILE *f)
{
	const char *sep = "";

	fprintf(f, ",\"%s\":{", name);
	for (unsigned int i = 0; i < n; i++) {
		if ((!v[i] && !zeros) || !name_of(i))
			continue;
		fprintf(f, "%s\"%s\":%llu", sep, name_of(i),
			(unsigned long long)v[i]);
		sep = ",";
	}
	fputc('}', f);
}

static const char *drop_key(unsigned int i)
{
	return i ? tt_drop_name(i) : NULL;
}

static const char *state_key(unsigned int i)
{
	return i ? tt_state_name(i) : NULL;
}

static void json_listeners(struct tt_stats *s, FILE *f)
{
	fprintf(f, ",\"listeners\":[");
	qsort(s->lst, s->nlst, sizeof(*s->lst), cmp_listener);
	for (size_t i = 0; i < s->nlst; i++) {
		struct listener *l = &s->lst[i];

		fprintf(f,
			"%s{\"netns\":%u,\"port\":%u,\"connections\":%llu,\"established\":%llu,\"accepted\":%llu,\"request_dropped\":%llu,\"synack_timeout\":%llu,\"acks_dropped\":%llu",
			i ? "," : "", l->netns, l->port,
			(unsigned long long)l->servers,
			(unsigned long long)l->established,
			(unsigned long long)l->accepted,
			(unsigned long long)l->req_dropped,
			(unsigned long long)l->unanswered,
			(unsigned long long)l->acks_dropped);
		json_counts(l->drops, TCPSTATES_NR_DROPS, drop_key, true,
			    "listen_drop", f);
		json_percentiles(&l->wait, ",", "accept_wait_ns", f);
		fputc('}', f);
	}
	fputc(']', f);
}

/* @from, @to: the interval's bounds as the text shows them; NULL: none. */
void tt_stats_print_json(struct tt_stats *s, FILE *f, const char *from,
			 const char *to)
{
	fputc('{', f);
	if (from)
		fprintf(f, "\"from\":\"%s\",", from);
	if (to)
		fprintf(f, "\"to\":\"%s\",", to);
	fprintf(f,
		"\"records\":%llu,\"lost_markers\":%llu,\"lost_records\":%llu,\"connections\":%llu,\"incomplete\":%llu",
		(unsigned long long)s->records,
		(unsigned long long)s->lost_markers,
		(unsigned long long)s->lost_records,
		(unsigned long long)s->conns,
		(unsigned long long)s->incomplete);
	json_counts(s->roles, ROLE_NR, tt_role_name, false, "roles", f);
	json_counts(s->closes, CLOSE_NR, tt_close_name, false, "closes", f);
	json_counts(s->reasons, TT_REASON_KEYS, tt_reason_key_name, false,
		    "reasons", f);
	fprintf(f, ",\"handshake_ns\":{");
	for (unsigned int i = 0, n = 0; i < ROLE_NR; i++)
		n += json_percentiles(&s->handshake[i], n ? "," : "",
				      tt_role_name(i), f);
	fputc('}', f);
	json_listeners(s, f);
	tt_ports_json(s->ports, f);
	json_counts(s->state_n, TCPSTATES_NR_STATES, state_key, false,
		    "state_count", f);
	json_counts(s->state_ns, TCPSTATES_NR_STATES, state_key, false,
		    "state_total_ns", f);
	json_counts(s->state_max, TCPSTATES_NR_STATES, state_key, false,
		    "state_max_ns", f);
	fprintf(f,
		",\"time_wait\":{\"entered\":%llu,\"expired\":%llu,\"killed\":%llu,\"skipped\":%llu},\"resets\":%llu,\"syn_retry_connections\":%llu}\n",
		(unsigned long long)s->tw_entered,
		(unsigned long long)s->tw_expired,
		(unsigned long long)s->tw_killed,
		(unsigned long long)s->tw_skipped,
		(unsigned long long)s->resets,
		(unsigned long long)s->syn_retry_conns);
}

void tt_stats_print(struct tt_stats *s, FILE *f)
{
	print_records(s, f);
	print_connections(s, f);
	print_handshakes(s, f);
	print_listeners(s, f);
	tt_ports_print(s->ports, f);
	print_states(s, f);
	fprintf(f, "resets %llu, connections with SYN retries %llu\n",
		(unsigned long long)s->resets,
		(unsigned long long)s->syn_retry_conns);
	fprintf(f, "\nlooks wrong (%zu%s)\n", s->nodd + s->odd_dropped,
		s->odd_dropped ? ", first ones shown" : "");
	for (size_t i = 0; i < s->nodd; i++)
		fprintf(f, "  %s\n", s->odd[i]);
}
