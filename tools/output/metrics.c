// SPDX-License-Identifier: GPL-2.0
/*
 * Prometheus metrics (see metrics.h for the cardinality bound).
 *
 * What is counted where:
 *   from records   transitions (every record that moves a socket between
 *                  states: state, listen, request, child, request_end,
 *                  time_wait, tw_expire, tw_kill), resets sent (reset_sent
 *                  records), resets received (a state record into CLOSE with
 *                  sk_err ECONNRESET, ECONNREFUSED or EPIPE), SYN
 *                  retransmissions (total_retrans when a side leaves
 *                  SYN_SENT), SYN-ACK retransmissions (request_end's aux),
 *                  what listeners turned away (listen_drop, by cause)
 *   from sides     handshake latency when a side reaches ESTABLISHED
 *                  (client: SYN_SENT -> ESTABLISHED, server: the SYN's
 *                  arrival -> ESTABLISHED), the accept wait when accept()
 *                  takes a server side (its ESTABLISHED -> the accept
 *                  record), connections closed, why
 *                  (close reasons) and their duration when a side ends (its CLOSE, or the end of its
 *                  TIME_WAIT), the transition FIN_WAIT2 -> TIME_WAIT of a
 *                  timewait socket when it enters TIME_WAIT (a tw_rearm
 *                  record, which a re-arm in TIME_WAIT is too), and per
 *                  destination of client sides the ports and TIME_WAITs
 *                  they hold (ports.c; the 10 that hold most are named,
 *                  the rest summed as peer="other")
 *   from the live  connections in each state now, as the reconstruction
 *   sides          holds them (a side whose end was lost stays counted)
 *   from INFO      records written, lost by this reader, filtered, probe
 *                  misses per hook, the ring's capacity
 *   without INFO   records lost: what the input's LOST markers counted (a
 *                  capture, /proc text, a gap between rotated files)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "output/metrics.h"
#include "output/output.h"

#define NS TCPSTATES_NR_STATES
#define HS_ROLES 2 /* handshake: client, server */

/* Bucket upper bounds in ns (the "le" labels are these in seconds). */
static const uint64_t handshake_le[] = {
	100000,		250000,	       500000,	      1000000,
	2500000,	5000000,       10000000,      25000000,
	50000000,	100000000,     250000000,     500000000,
	1000000000ULL,	2500000000ULL, 5000000000ULL, 10000000000ULL,
	30000000000ULL,
};
static const uint64_t duration_le[] = {
	1000000,	  10000000,	     100000000,
	1000000000ULL,	  10000000000ULL,    60000000000ULL,
	300000000000ULL,  600000000000ULL,   1800000000000ULL,
	3600000000000ULL, 21600000000000ULL, 86400000000000ULL,
};

#define MAX_BUCKETS ARRAY_SIZE(handshake_le)
static_assert(ARRAY_SIZE(duration_le) <= MAX_BUCKETS, "bucket arrays");

struct hist {
	uint64_t b[MAX_BUCKETS]; /* per bucket, not cumulative */
	uint64_t count, sum_ns;
};

struct group {
	uint64_t trans[NS][NS];
	uint64_t closed[ROLE_NR][CLOSE_NR];
	uint64_t reasons[TT_REASON_KEYS];
	uint64_t resets_sent, resets_received, syn_retrans, synack_retrans;
	uint64_t listen_drops[TCPSTATES_NR_DROPS];
	struct hist handshake[HS_ROLES], accept_wait;
	struct hist duration[ROLE_NR];
	uint64_t live[NS];
};

#define HOOK_NAME(NAME, name, nr) [nr] = #name,
static const char *const hook_names[TCPSTATES_NR_HOOKS] = { TCPSTATES_HOOK_LIST(
	HOOK_NAME) };

struct tt_metrics {
	struct tt_metrics_cfg cfg;
	unsigned int nnetns;
	uint32_t netns[256];
	size_t ngroups;
	struct group *g;
	uint64_t records_read;
	bool have_info;
	uint64_t written, lost, filtered, capacity, unhashed;
	uint64_t lost_marked; /* what the input's LOST markers counted */
	uint32_t hooks_active, nr_hooks;
	uint64_t missed[TCPSTATES_MAX_HOOKS];
	/* destinations: counted in @ports; a copy publishes @top */
	struct tt_ports *ports;
	struct tt_ports_top top;
};

struct tt_metrics *tt_metrics_new(const struct tt_metrics_cfg *cfg)
{
	struct tt_metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->cfg = *cfg;
	if (!m->cfg.max_netns || m->cfg.max_netns > ARRAY_SIZE(m->netns))
		m->cfg.max_netns = TT_METRICS_MAX_NETNS;
	if (m->cfg.nports > TT_METRICS_MAX_PORTS)
		m->cfg.nports = TT_METRICS_MAX_PORTS;
	m->ngroups = (m->cfg.max_netns + 1) * (m->cfg.nports + 1);
	m->g = calloc(m->ngroups, sizeof(*m->g));
	m->ports = tt_ports_new();
	if (!m->g || !m->ports) {
		tt_metrics_free(m);
		return NULL;
	}
	return m;
}

void tt_metrics_free(struct tt_metrics *m)
{
	if (!m)
		return;
	free(m->g);
	tt_ports_free(m->ports);
	free(m);
}

void tt_metrics_copy(struct tt_metrics *dst, const struct tt_metrics *src)
{
	struct group *g = dst->g;
	struct tt_ports *ports = dst->ports;

	memcpy(g, src->g, src->ngroups * sizeof(*g));
	*dst = *src;
	dst->g = g;
	dst->ports = ports;
	tt_ports_top(src->ports, &dst->top);
}

int tt_metrics_parse_ports(const char *s, struct tt_metrics_cfg *cfg, char *why,
			   size_t len)
{
	const char *p = s;

	cfg->nports = 0;
	while (*p) {
		char *end;
		long v;

		errno = 0;
		v = strtol(p, &end, 10);
		if (errno || end == p || v < 1 || v > 65535 ||
		    (*end && *end != ',')) {
			snprintf(why, len,
				 "'%s' is not a list of ports (80,443)", s);
			return -1;
		}
		if (cfg->nports == TT_METRICS_MAX_PORTS) {
			snprintf(why, len, "at most %d ports",
				 TT_METRICS_MAX_PORTS);
			return -1;
		}
		cfg->ports[cfg->nports++] = v;
		p = *end ? end + 1 : end;
	}
	if (!cfg->nports) {
		snprintf(why, len, "an empty list of ports");
		return -1;
	}
	return 0;
}

/* ---- which group ---- */

static unsigned int netns_slot(struct tt_metrics *m, uint32_t netns)
{
	for (unsigned int i = 0; i < m->nnetns; i++)
		if (m->netns[i] == netns)
			return i;
	if (m->nnetns < m->cfg.max_netns) {
		m->netns[m->nnetns] = netns;
		return m->nnetns++;
	}
	return m->cfg.max_netns; /* "other" */
}

static unsigned int port_slot(const struct tt_metrics *m, uint16_t port)
{
	for (unsigned int i = 0; i < m->cfg.nports; i++)
		if (m->cfg.ports[i] == port)
			return i;
	return m->cfg.nports; /* "other", or the only slot */
}

static struct group *group_of(struct tt_metrics *m, uint32_t netns,
			      uint16_t lport)
{
	return &m->g[netns_slot(m, netns) * (m->cfg.nports + 1) +
		     port_slot(m, lport)];
}

/* ---- inputs ---- */

static bool is_transition(unsigned int kind)
{
	switch (kind) {
	case TCPSTATES_EV_STATE:
	case TCPSTATES_EV_LISTEN:
	case TCPSTATES_EV_REQUEST:
	case TCPSTATES_EV_CHILD:
	case TCPSTATES_EV_REQUEST_END:
	case TCPSTATES_EV_TIME_WAIT:
	case TCPSTATES_EV_TW_EXPIRE:
	case TCPSTATES_EV_TW_KILL:
		return true;
	}
	return false;
}

void tt_metrics_record(struct tt_metrics *m, const struct tcpstates_record *r)
{
	struct group *g;

	if (r->kind == TCPSTATES_EV_LOST) {
		m->lost_marked += r->aux;
		return;
	}
	m->records_read++;
	g = group_of(m, r->netns, ntohs(r->sport));
	if (is_transition(r->kind) && r->old_state < NS && r->new_state < NS)
		g->trans[r->old_state][r->new_state]++;
	switch (r->kind) {
	case TCPSTATES_EV_RESET_SENT:
		g->resets_sent++;
		break;
	case TCPSTATES_EV_REQUEST_END:
		g->synack_retrans += TCPSTATES_REQ_RETRANS(r->aux);
		break;
	case TCPSTATES_EV_LISTEN_DROP: /* the decoder checked the cause */
		g->listen_drops[TCPSTATES_DROP_CAUSE(r->aux)]++;
		break;
	case TCPSTATES_EV_STATE:
		if (r->new_state == TCPSTATES_CLOSE &&
		    (r->sk_err == ECONNRESET || r->sk_err == ECONNREFUSED ||
		     r->sk_err == EPIPE))
			g->resets_received++;
		if (r->old_state == TCPSTATES_SYN_SENT &&
		    r->new_state != TCPSTATES_SYN_SENT &&
		    (r->flags & TCPSTATES_F_TCPINFO))
			g->syn_retrans += r->total_retrans;
		break;
	}
}

static void hist_add(struct hist *h, const uint64_t *le, size_t n, uint64_t v)
{
	size_t i;

	for (i = 0; i < n && v > le[i]; i++)
		;
	if (i < n)
		h->b[i]++;
	h->count++;
	h->sum_ns += v;
}

/*
 * A timewait socket's substate FIN_WAIT2 -> TIME_WAIT (the peer's FIN) is
 * a tw_rearm record, which a re-arm in TIME_WAIT is too: the side says
 * which, and the transition is counted here. A time_wait record straight
 * into TIME_WAIT is one already (is_transition).
 */
static void tw_entered(struct group *g, const struct conn *c)
{
	for (uint32_t i = 1; i < c->nstates; i++) {
		const struct tt_span *s = &c->states[i];

		if (s->state != TCPSTATES_TIME_WAIT)
			continue;
		if (s->kind == TCPSTATES_EV_TW_REARM &&
		    c->states[i - 1].state < NS)
			g->trans[c->states[i - 1].state][TCPSTATES_TIME_WAIT]++;
		return;
	}
}

void tt_metrics_side(struct tt_metrics *m, const struct conn *c,
		     enum tt_side_event ev)
{
	struct group *g = group_of(m, c->netns, c->lport);
	uint64_t wait;

	tt_ports_side(m->ports, c, ev);
	switch (ev) {
	case TT_SIDE_ESTABLISHED:
		if (!c->syn_ns || c->est_ns < c->syn_ns)
			return;
		if (c->role == ROLE_CLIENT || c->role == ROLE_SERVER)
			hist_add(&g->handshake[c->role == ROLE_SERVER],
				 handshake_le, ARRAY_SIZE(handshake_le),
				 c->est_ns - c->syn_ns);
		break;
	case TT_SIDE_ENDED:
		if (c->close == CLOSE_OPEN || c->role >= ROLE_NR ||
		    c->close >= CLOSE_NR)
			return;
		g->closed[c->role][c->close]++;
		g->reasons[tt_reason_key(c)]++;
		if (c->role != ROLE_LISTENER && c->end_ns >= c->first_ns)
			hist_add(&g->duration[c->role], duration_le,
				 ARRAY_SIZE(duration_le),
				 c->end_ns - c->first_ns);
		break;
	case TT_SIDE_TIME_WAIT:
		tw_entered(g, c);
		break;
	case TT_SIDE_CONNECTED:
		break;
	case TT_SIDE_ACCEPTED:
		if (tt_conn_accept_wait(c, &wait))
			hist_add(&g->accept_wait, handshake_le,
				 ARRAY_SIZE(handshake_le), wait);
		break;
	}
}

void tt_metrics_live_begin(struct tt_metrics *m)
{
	for (size_t i = 0; i < m->ngroups; i++)
		memset(m->g[i].live, 0, sizeof(m->g[i].live));
}

void tt_metrics_live_conn(void *arg, const struct conn *c)
{
	struct tt_metrics *m = arg;
	const struct tt_span *s = tt_conn_last_span(c);

	if (s && s->state < NS && s->state != TCPSTATES_CLOSE)
		group_of(m, c->netns, c->lport)->live[s->state]++;
}

void tt_metrics_info(struct tt_metrics *m, const struct tcpstates_info *info,
		     uint64_t requests_unhashed)
{
	m->have_info = true;
	m->written = info->written;
	m->lost = info->reader_lost;
	m->filtered = info->filtered;
	m->capacity = info->capacity;
	m->unhashed = requests_unhashed;
	m->hooks_active = info->hooks_active;
	m->nr_hooks = info->nr_hooks;
	memcpy(m->missed, info->missed, sizeof(m->missed));
}

/* ---- the exposition ---- */

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The labels of group @i: netns="...",port="..." */
static void group_labels(const struct tt_metrics *m, size_t i, char *buf,
			 size_t len)
{
	unsigned int ns = i / (m->cfg.nports + 1),
		     port = i % (m->cfg.nports + 1);
	int n;

	if (ns < m->cfg.max_netns)
		n = snprintf(buf, len, "netns=\"%u\"", m->netns[ns]);
	else
		n = snprintf(buf, len, "netns=\"other\"");
	if (!m->cfg.nports || n < 0 || (size_t)n >= len)
		return;
	if (port < m->cfg.nports)
		snprintf(buf + n, len - n, ",port=\"%u\"", m->cfg.ports[port]);
	else
		snprintf(buf + n, len - n, ",port=\"other\"");
}

/* Groups that were ever used: their netns slot is taken. */
static bool group_used(const struct tt_metrics *m, size_t i)
{
	unsigned int ns = i / (m->cfg.nports + 1);

	return ns < m->nnetns || ns == m->cfg.max_netns;
}

static const char *state_label(unsigned int s)
{
	return s == TCPSTATES_STATE_NONE ? "NONE" : tt_state_name(s);
}

static void fmt_seconds(char *buf, size_t len, uint64_t ns)
{
	snprintf(buf, len, "%llu.%09llu", (unsigned long long)(ns / 1000000000),
		 (unsigned long long)(ns % 1000000000));
}

static void write_hist(FILE *f, const char *name, const char *labels,
		       const struct hist *h, const uint64_t *le, size_t n)
{
	uint64_t cum = 0;
	char s[32];

	if (!h->count)
		return;
	for (size_t i = 0; i < n; i++) {
		cum += h->b[i];
		fmt_seconds(s, sizeof(s), le[i]);
		/* trim the zeros: le="0.000100000" -> le="0.0001" */
		for (size_t k = strlen(s); k > 1 && s[k - 1] == '0'; k--)
			s[k - 1] = 0;
		if (s[strlen(s) - 1] == '.')
			s[strlen(s) - 1] = 0;
		fprintf(f, "%s_bucket{%s,le=\"%s\"} %llu\n", name, labels, s,
			(unsigned long long)cum);
	}
	fprintf(f, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels,
		(unsigned long long)h->count);
	fmt_seconds(s, sizeof(s), h->sum_ns);
	fprintf(f, "%s_sum{%s} %s\n", name, labels, s);
	fprintf(f, "%s_count{%s} %llu\n", name, labels,
		(unsigned long long)h->count);
}

/* One family's series of one group, @l its labels. */
struct family {
	const char *name, *type, *help;
	void (*series)(FILE *f, const struct family *fam, const struct group *g,
		       const char *l);
	size_t off; /* series_count: the counter in struct group */
};

static void series_count(FILE *f, const struct family *fam,
			 const struct group *g, const char *l)
{
	uint64_t v = *(const uint64_t *)((const char *)g + fam->off);

	if (v)
		fprintf(f, "%s{%s} %llu\n", fam->name, l,
			(unsigned long long)v);
}

static void series_trans(FILE *f, const struct family *fam,
			 const struct group *g, const char *l)
{
	for (unsigned int o = 0; o < NS; o++)
		for (unsigned int n = 0; n < NS; n++)
			if (g->trans[o][n])
				fprintf(f,
					"%s{%s,from=\"%s\",to=\"%s\"} %llu\n",
					fam->name, l, state_label(o),
					state_label(n),
					(unsigned long long)g->trans[o][n]);
}

static void series_closed(FILE *f, const struct family *fam,
			  const struct group *g, const char *l)
{
	for (unsigned int r = 0; r < ROLE_NR; r++)
		for (unsigned int k = 0; k < CLOSE_NR; k++)
			if (g->closed[r][k])
				fprintf(f,
					"%s{%s,role=\"%s\",kind=\"%s\"} %llu\n",
					fam->name, l, tt_role_name(r),
					tt_close_name(k),
					(unsigned long long)g->closed[r][k]);
}

/* One label value per name in tcptimeline --close-reasons: bounded. */
static void series_reasons(FILE *f, const struct family *fam,
			   const struct group *g, const char *l)
{
	for (unsigned int k = 0; k < TT_REASON_KEYS; k++)
		if (g->reasons[k] && tt_reason_key_name(k))
			fprintf(f, "%s{%s,reason=\"%s\"} %llu\n", fam->name, l,
				tt_reason_key_name(k),
				(unsigned long long)g->reasons[k]);
}

static void series_live(FILE *f, const struct family *fam,
			const struct group *g, const char *l)
{
	for (unsigned int s = 1; s < NS; s++)
		if (g->live[s])
			fprintf(f, "%s{%s,state=\"%s\"} %llu\n", fam->name, l,
				tt_state_name(s),
				(unsigned long long)g->live[s]);
}

static void series_handshake(FILE *f, const struct family *fam,
			     const struct group *g, const char *l)
{
	char lr[96];

	for (unsigned int r = 0; r < HS_ROLES; r++) {
		snprintf(lr, sizeof(lr), "%s,role=\"%s\"", l,
			 r ? "server" : "client");
		write_hist(f, fam->name, lr, &g->handshake[r], handshake_le,
			   ARRAY_SIZE(handshake_le));
	}
}

static void series_accept_wait(FILE *f, const struct family *fam,
			       const struct group *g, const char *l)
{
	write_hist(f, fam->name, l, &g->accept_wait, handshake_le,
		   ARRAY_SIZE(handshake_le));
}

static void series_listen_drops(FILE *f, const struct family *fam,
				const struct group *g, const char *l)
{
	for (unsigned int k = 1; k < TCPSTATES_NR_DROPS; k++)
		if (g->listen_drops[k])
			fprintf(f, "%s{%s,cause=\"%s\"} %llu\n", fam->name, l,
				tt_drop_name(k),
				(unsigned long long)g->listen_drops[k]);
}

static void series_duration(FILE *f, const struct family *fam,
			    const struct group *g, const char *l)
{
	char lr[96];

	for (unsigned int r = 0; r < ROLE_NR; r++) {
		snprintf(lr, sizeof(lr), "%s,role=\"%s\"", l, tt_role_name(r));
		write_hist(f, fam->name, lr, &g->duration[r], duration_le,
			   ARRAY_SIZE(duration_le));
	}
}

#define COUNTER(name, help, field)                    \
	{                                             \
		name, "counter", help, series_count,  \
			offsetof(struct group, field) \
	}

static const struct family families[] = {
	{ "tcpstates_transitions_total", "counter",
	  "TCP state transitions recorded, by old and new state (NONE: no socket yet or any more).",
	  series_trans, 0 },
	{ "tcpstates_connections_closed_total", "counter",
	  "Connection sides that ended (CLOSE, or the end of TIME_WAIT), by role and how they closed.",
	  series_closed, 0 },
	{ "tcpstates_close_reasons_total", "counter",
	  "Connection sides that ended, by why (tcptimeline --close-reasons: the kernel's reset reasons, timeouts, refusals ...).",
	  series_reasons, 0 },
	{ "tcpstates_connections", "gauge",
	  "Connection sides in each TCP state now, as tcpstates has seen them.",
	  series_live, 0 },
	{ "tcpstates_handshake_seconds", "histogram",
	  "Handshake latency: client SYN sent -> ESTABLISHED, server SYN received -> ESTABLISHED.",
	  series_handshake, 0 },
	{ "tcpstates_accept_wait_seconds", "histogram",
	  "How long a server connection sat established in its listener's accept queue before accept() took it.",
	  series_accept_wait, 0 },
	{ "tcpstates_listen_drops_total", "counter",
	  "Segments a listener turned away, by cause: SYNs and final ACKs dropped (accept_queue, syn_queue, other) and SYNs answered with a cookie (syncookie); the kernel's TcpExt counts, per listener port.",
	  series_listen_drops, 0 },
	{ "tcpstates_connection_duration_seconds", "histogram",
	  "Connection lifetime, first record (the SYN) to the side's end, by role.",
	  series_duration, 0 },
	COUNTER("tcpstates_resets_sent_total",
		"RSTs the kernel sent on a socket (reset_sent records).",
		resets_sent),
	COUNTER("tcpstates_resets_received_total",
		"Sockets ended by an RST that arrived (sk_err ECONNRESET, ECONNREFUSED or EPIPE).",
		resets_received),
	COUNTER("tcpstates_syn_retransmits_total",
		"SYN retransmissions of client sides (total_retrans on leaving SYN_SENT).",
		syn_retrans),
	COUNTER("tcpstates_synack_retransmits_total",
		"SYN-ACK retransmissions of request sockets (request_end records).",
		synack_retrans),
};

static void write_groups(FILE *f, const struct tt_metrics *m)
{
	char l[64];

	for (size_t k = 0; k < ARRAY_SIZE(families); k++) {
		const struct family *fam = &families[k];

		family(f, fam->name, fam->type, fam->help);
		for (size_t i = 0; i < m->ngroups; i++) {
			if (!group_used(m, i))
				continue;
			group_labels(m, i, l, sizeof(l));
			fam->series(f, fam, &m->g[i], l);
		}
	}
}

static void write_plain(FILE *f, const char *name, const char *type,
			const char *help, uint64_t v)
{
	family(f, name, type, help);
	fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

static void write_info(FILE *f, const struct tt_metrics *m)
{
	write_plain(f, "tcpstates_records_read_total", "counter",
		    "Records this exporter read and counted.", m->records_read);
	if (!m->have_info) { /* a capture or text: its LOST markers say */
		write_plain(
			f, "tcpstates_records_lost_total", "counter",
			"Records lost before they were read (the input's LOST markers).",
			m->lost_marked);
		return;
	}
	write_plain(
		f, "tcpstates_records_written_total", "counter",
		"Records the module wrote since it was loaded (all namespaces).",
		m->written);
	write_plain(f, "tcpstates_records_lost_total", "counter",
		    "Records overwritten before this exporter read them.",
		    m->lost);
	write_plain(f, "tcpstates_records_filtered_total", "counter",
		    "Events the module's filter parameters skipped.",
		    m->filtered);
	write_plain(
		f, "tcpstates_requests_unhashed_total", "counter",
		"Request sockets freed before they were hashed (no record).",
		m->unhashed);
	write_plain(f, "tcpstates_ring_capacity_records", "gauge",
		    "Records the module's ring holds.", m->capacity);
	family(f, "tcpstates_probe_misses_total", "counter",
	       "Probe hits the kernel missed (kprobe nmissed), per active hook.");
	for (unsigned int h = 0; h < TCPSTATES_NR_HOOKS && h < m->nr_hooks; h++)
		if (m->hooks_active & (1u << h))
			fprintf(f,
				"tcpstates_probe_misses_total{hook=\"%s\"} %llu\n",
				hook_names[h],
				(unsigned long long)m->missed[h]);
}

static void dest_labels(const struct tt_port_dest *d, char *buf, size_t len)
{
	char la[64], ra[64];

	tt_format_addr(d->family, d->laddr, la, sizeof(la));
	tt_fmt_endpoint(ra, sizeof(ra), d->family, d->raddr, d->rport);
	snprintf(buf, len, "netns=\"%u\",local=\"%s\",peer=\"%s\"", d->netns,
		 la, ra);
}

/*
 * Destinations: gauges for the TT_PORTS_TOP that hold most ports now (a
 * destination comes and goes with its rank), the rest summed; the ports
 * left and the forecast where its connects recorded their range.
 */
/* A gauge of every destination named and of the rest: TIME_WAITs or ports held. */
static void dest_gauge(FILE *f, const struct tt_ports_top *t, bool tw,
		       const char *name, const char *help)
{
	char l[160];

	family(f, name, "gauge", help);
	for (size_t i = 0; i < t->n; i++) {
		dest_labels(&t->d[i], l, sizeof(l));
		fprintf(f, "%s{%s} %llu\n", name, l,
			(unsigned long long)(tw ? t->d[i].tw : t->d[i].held));
	}
	fprintf(f, "%s{netns=\"other\",local=\"other\",peer=\"other\"} %llu\n",
		name, (unsigned long long)(tw ? t->others_tw : t->others_held));
}

static void write_ports(FILE *f, const struct tt_ports_top *t)
{
	char l[160];

	dest_gauge(
		f, t, false, "tcpstates_destination_ports_held",
		"Ephemeral ports client sides hold to a destination, TIME_WAIT included (the 10 that hold most; peer=\"other\": the rest summed).");
	dest_gauge(
		f, t, true, "tcpstates_destination_time_wait",
		"Client sides in TIME_WAIT to a destination (the same 10; peer=\"other\": the rest summed).");
	family(f, "tcpstates_destination_ports_left", "gauge",
	       "Ports of the range its connects chose from that a destination has left (an upper bound: bound and reserved ports are not seen).");
	for (size_t i = 0; i < t->n; i++) {
		if (!t->d[i].have_forecast || !t->d[i].fc.have_range)
			continue;
		dest_labels(&t->d[i], l, sizeof(l));
		fprintf(f, "tcpstates_destination_ports_left{%s} %llu\n", l,
			(unsigned long long)t->d[i].fc.left);
	}
	family(f, "tcpstates_destination_ports_exhausted_seconds", "gauge",
	       "At the last minute's net rate (ports taken less freed), seconds until a destination has no port left, from its last connect or close; 0: none left now. Absent: not filling.");
	for (size_t i = 0; i < t->n; i++) {
		const struct tt_port_forecast *fc = &t->d[i].fc;
		char s[32];

		if (!t->d[i].have_forecast || !fc->have_range ||
		    !(fc->filling || !fc->left))
			continue;
		dest_labels(&t->d[i], l, sizeof(l));
		fmt_seconds(s, sizeof(s), fc->filling ? fc->eta_ns : 0);
		fprintf(f,
			"tcpstates_destination_ports_exhausted_seconds{%s} %s\n",
			l, s);
	}
	write_plain(
		f, "tcpstates_connect_no_port_total", "counter",
		"connect() calls that found no free ephemeral port (EADDRNOTAVAIL), every destination.",
		t->no_port);
}

void tt_metrics_write(FILE *f, const struct tt_metrics *m)
{
	struct tt_ports_top top;

	write_groups(f, m);
	if (m->top.valid) { /* the exporter's published copy */
		write_ports(f, &m->top);
	} else {
		tt_ports_top(m->ports, &top);
		write_ports(f, &top);
	}
	write_info(f, m);
}
