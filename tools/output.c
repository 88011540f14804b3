// SPDX-License-Identifier: GPL-2.0
/*
 * The human outputs: the default per-connection timeline, CSV, and --stats.
 * Times are CLOCK_MONOTONIC seconds as the module recorded them; durations
 * pick a unit that keeps three decimals readable.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "tcptimeline.h"

void tt_fmt_dur(char *buf, size_t len, uint64_t ns)
{
	if (ns < 1000)
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.3fus", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.3fms", ns / 1e6);
	else
		snprintf(buf, len, "%.3fs", ns / 1e9);
}

void tt_fmt_ts(char *buf, size_t len, uint64_t ns)
{
	snprintf(buf, len, "%llu.%09llu", (unsigned long long)(ns / 1000000000),
		 (unsigned long long)(ns % 1000000000));
}

static void endpoint(char *buf, size_t len, unsigned int family,
		     const uint8_t *addr, uint16_t port)
{
	char a[INET6_ADDRSTRLEN];

	tt_format_addr_fam(family, addr, a, sizeof(a));
	if (family == TCPSTATES_FAMILY_INET6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
}

static const char *opt_list(uint8_t o, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", o & TCPSTATES_OPT_SACK ? "sack," : "",
		 o & TCPSTATES_OPT_TIMESTAMP ? "ts," : "",
		 o & TCPSTATES_OPT_WSCALE ? "wscale," : "",
		 o & TCPSTATES_OPT_ECN ? "ecn," : "");
	if (buf[0])
		buf[strlen(buf) - 1] = 0;
	else
		snprintf(buf, len, "none");
	return buf;
}

static void text_side(FILE *f, const struct conn *c, const char *in)
{
	char l[64], r[64], t[32], d[32], d2[32], o[40];
	const char *fam = c->family == TCPSTATES_FAMILY_INET6 ? "ipv6" :
			  c->mapped ? "ipv4 (v4-mapped ipv6 socket)" : "ipv4";
	uint64_t est_leave = 0;

	endpoint(l, sizeof(l), c->family, c->laddr, c->lport);
	endpoint(r, sizeof(r), c->family, c->raddr, c->rport);
	if (c->role == ROLE_LISTENER)
		fprintf(f, "%slistener %s %s netns %u cookie %llu\n", in, l,
			fam, c->netns, (unsigned long long)c->cookie);
	else
		fprintf(f, "%s%s %s -> %s %s netns %u cookie %llu\n", in,
			tt_role_name(c->role), l, r, fam, c->netns,
			(unsigned long long)c->cookie);
	if (c->owner_rank)
		fprintf(f, "%s  owner      pid %u comm %s uid %u\n", in, c->tgid,
			c->comm, c->uid);
	else
		fprintf(f, "%s  owner      unknown (no process-context event) uid %u\n",
			in, c->uid);
	if (c->incomplete)
		fprintf(f, "%s  INCOMPLETE history has a gap (lost records or started mid-connection)\n",
			in);

	if (c->role != ROLE_LISTENER && c->syn_ns) {
		tt_fmt_ts(t, sizeof(t), c->syn_ns);
		fprintf(f, "%s  open       %s, %s %s\n", in,
			tt_open_name(c->open) ? tt_open_name(c->open) : "-",
			c->role == ROLE_SERVER ? "SYN received" : "SYN sent", t);
		if (c->est_ns && c->est_ns >= c->syn_ns) {
			tt_fmt_dur(d, sizeof(d), c->est_ns - c->syn_ns);
			fprintf(f, "%s  handshake  %s to ESTABLISHED%s", in, d,
				c->role == ROLE_SERVER ? " (from the SYN's arrival)" : "");
			if (c->syn_retrans)
				fprintf(f, ", %u SYN retransmits", c->syn_retrans);
			if (c->synack_retrans)
				fprintf(f, ", %u SYN-ACK retransmits", c->synack_retrans);
			fputc('\n', f);
		} else {
			fprintf(f, "%s  handshake  not completed", in);
			if (c->syn_retrans)
				fprintf(f, ", %u SYN retransmits", c->syn_retrans);
			if (c->synack_retrans)
				fprintf(f, ", %u SYN-ACK retransmits", c->synack_retrans);
			fputc('\n', f);
		}
	}
	if (c->have_isn_local || c->have_isn_remote) {
		fprintf(f, "%s  isn        local ", in);
		if (c->have_isn_local)
			fprintf(f, "%u", c->isn_local);
		else
			fputc('-', f);
		fprintf(f, " remote ");
		if (c->have_isn_remote)
			fprintf(f, "%u", c->isn_remote);
		else
			fputc('-', f);
		fprintf(f, " (acks: local+1 = ");
		if (c->have_isn_local)
			fprintf(f, "%u", c->isn_local + 1);
		else
			fputc('-', f);
		fprintf(f, ", remote+1 = ");
		if (c->have_isn_remote)
			fprintf(f, "%u", c->isn_remote + 1);
		else
			fputc('-', f);
		fprintf(f, ")\n");
	}
	if (c->have_opts)
		fprintf(f, "%s  options    mss %u wscale snd %u rcv %u %s, windows snd %u rcv %u\n",
			in, c->mss, c->snd_wscale, c->rcv_wscale,
			opt_list(c->options, o, sizeof(o)), c->snd_wnd, c->rcv_wnd);
	if (c->est_ns) {
		for (uint32_t i = 0; i < c->nstates; i++)
			if (c->states[i].state == TCPSTATES_ESTABLISHED)
				est_leave = c->states[i].leave_ns;
		if (est_leave)
			tt_fmt_dur(d, sizeof(d), est_leave - c->est_ns);
		else
			snprintf(d, sizeof(d), "still ESTABLISHED");
		uint64_t sent, received;
		bool exact = tt_conn_app_bytes(c, &sent, &received);

		fprintf(f, "%s  data       %s, sent %llu B, received %llu B %s, retrans %u, srtt %uus\n",
			in, d, (unsigned long long)sent,
			(unsigned long long)received,
			exact ? "(from seq numbers)" :
				"(kernel counters, SYN/FIN included)",
			c->retrans, c->srtt_us);
	}

	if (c->role == ROLE_LISTENER) {
		fprintf(f, "%s  close      %s\n", in,
			c->close == CLOSE_OPEN ? "still listening at end of input" :
						 "the listener was closed");
		goto fins;
	}
	fprintf(f, "%s  close      %s", in, tt_close_name(c->close));
	switch (c->close) {
	case CLOSE_ACTIVE:
		fprintf(f, " (we sent the first FIN)");
		break;
	case CLOSE_PASSIVE:
		fprintf(f, " (the peer sent the first FIN)");
		break;
	case CLOSE_SIMULTANEOUS:
		fprintf(f, " (both FINs crossed)");
		break;
	case CLOSE_RESET_SENT:
		tt_fmt_ts(t, sizeof(t), c->reset_ns);
		fprintf(f, " (we sent RST at %s)", t);
		break;
	case CLOSE_RESET_RECEIVED:
		fprintf(f, " (sk_err %u)", c->sk_err);
		break;
	case CLOSE_REFUSED:
		fprintf(f, " (RST answered our SYN, sk_err %u)", c->sk_err);
		break;
	case CLOSE_TIMEOUT:
		if (c->req_cookie && !c->est_ns)
			fprintf(f, " (half-open request dropped after %u SYN-ACK retransmits)",
				c->synack_retrans);
		else
			fprintf(f, " (sk_err %u)", c->sk_err);
		break;
	case CLOSE_OPEN:
		fprintf(f, " (still %s at end of input)",
			tt_state_name(tt_conn_last_span(c) ?
				      tt_conn_last_span(c)->state : 0));
		break;
	}
	fputc('\n', f);
fins:
	if (c->have_fin_local || c->have_fin_remote) {
		fprintf(f, "%s  fin        local ", in);
		if (c->have_fin_local)
			fprintf(f, "%u", c->fin_local);
		else
			fputc('-', f);
		fprintf(f, " remote ");
		if (c->have_fin_remote)
			fprintf(f, "%u", c->fin_remote);
		else
			fputc('-', f);
		fprintf(f, " (acks: local+1 = ");
		if (c->have_fin_local)
			fprintf(f, "%u", c->fin_local + 1);
		else
			fputc('-', f);
		fprintf(f, ", remote+1 = ");
		if (c->have_fin_remote)
			fprintf(f, "%u", c->fin_remote + 1);
		else
			fputc('-', f);
		fprintf(f, ")\n");
	}
	if (c->twend != TW_NONE || c->tw_handed) {
		fprintf(f, "%s  time_wait  timeout %llums, %u re-arm%s, %s\n", in,
			(unsigned long long)c->tw_timeout_ms, c->tw_rearms,
			c->tw_rearms == 1 ? "" : "s",
			c->twend == TW_EXPIRED ? "expired" :
			c->twend == TW_KILLED ? "killed early (reuse or RST)" :
			"still waiting");
	}
	for (uint32_t i = 0; i < c->nstates; i++) {
		const struct tt_span *s = &c->states[i];

		tt_fmt_ts(t, sizeof(t), s->enter_ns);
		if (s->leave_ns >= s->enter_ns && (s->leave_ns || i + 1 < c->nstates))
			tt_fmt_dur(d2, sizeof(d2), s->leave_ns - s->enter_ns);
		else
			d2[0] = 0;
		fprintf(f, "%s  %-10s %-12s %s %-10s by %s\n", in,
			i ? "" : "states", tt_state_name(s->state), t,
			d2[0] ? d2 : s->state == TCPSTATES_CLOSE ? "end" : "open",
			tt_event_name(s->kind));
	}
}

void tt_text_conn(FILE *f, const struct conn *c, const struct conn *peer)
{
	char l[64], r[64];

	if (!peer) {
		text_side(f, c, "");
		fputc('\n', f);
		return;
	}
	tt_pair_order(&c, &peer);
	endpoint(l, sizeof(l), c->family, c->laddr, c->lport);
	endpoint(r, sizeof(r), c->family, c->raddr, c->rport);
	fprintf(f, "conversation %s <-> %s, both sides on this host%s\n", l, r,
		c->netns == peer->netns ? "" : " (two network namespaces)");
	text_side(f, c, "  ");
	text_side(f, peer, "  ");
	fputc('\n', f);
}

void tt_text_lost(FILE *f, const struct tcpstates_record *r)
{
	char t[32];

	tt_fmt_ts(t, sizeof(t), r->ts_ns);
	fprintf(f, "--- LOST %llu records (seq %llu..%llu) at %s: connections open across this gap are incomplete ---\n\n",
		(unsigned long long)r->aux, (unsigned long long)r->seq,
		(unsigned long long)(r->seq + r->aux - 1), t);
}

/* ---- CSV ---- */

void tt_csv_header(FILE *f)
{
	fprintf(f, "netns,cookie,family,laddr,lport,raddr,rport,role,pid,comm,"
		   "open,close,isn_local,isn_remote,fin_seq_local,fin_seq_remote,"
		   "handshake_ns,start_ns,end_ns,bytes_acked,bytes_received,"
		   "retrans,srtt_us,mss,incomplete,peer_cookie,states\n");
}

static void csv_opt_u32(FILE *f, bool have, uint32_t v)
{
	if (have)
		fprintf(f, "%u,", v);
	else
		fputc(',', f);
}

void tt_csv_conn(FILE *f, const struct conn *c)
{
	char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
	const char *o = tt_open_name(c->open);

	tt_format_addr_fam(c->family, c->laddr, l, sizeof(l));
	tt_format_addr_fam(c->family, c->raddr, r, sizeof(r));
	fprintf(f, "%u,%llu,%s,%s,%u,%s,%u,%s,", c->netns,
		(unsigned long long)c->cookie,
		c->family == TCPSTATES_FAMILY_INET6 ? "ipv6" : "ipv4", l,
		c->lport, r, c->rport, tt_role_name(c->role));
	if (c->owner_rank)
		fprintf(f, "%u,", c->tgid);
	else
		fputc(',', f);
	fputc('"', f);
	for (const char *p = c->comm; *p; p++) {
		if (*p == '"')
			fputc('"', f);
		fputc(*p, f);
	}
	fprintf(f, "\",%s,%s,", o ? o : "", tt_close_name(c->close));
	csv_opt_u32(f, c->have_isn_local, c->isn_local);
	csv_opt_u32(f, c->have_isn_remote, c->isn_remote);
	csv_opt_u32(f, c->have_fin_local, c->fin_local);
	csv_opt_u32(f, c->have_fin_remote, c->fin_remote);
	if (c->est_ns && c->syn_ns && c->est_ns >= c->syn_ns)
		fprintf(f, "%llu,", (unsigned long long)(c->est_ns - c->syn_ns));
	else
		fputc(',', f);
	fprintf(f, "%llu,%llu,%llu,%llu,%u,%u,%u,%s,",
		(unsigned long long)c->first_ns, (unsigned long long)c->end_ns,
		(unsigned long long)c->bytes_acked,
		(unsigned long long)c->bytes_received, c->retrans, c->srtt_us,
		c->mss, c->incomplete ? "true" : "false");
	if (c->peer)
		fprintf(f, "%llu,", (unsigned long long)c->peer->cookie);
	else
		fputc(',', f);
	for (uint32_t i = 0; i < c->nstates; i++) {
		const struct tt_span *s = &c->states[i];

		fprintf(f, "%s%s", i ? ";" : "", tt_state_name(s->state));
		if (s->leave_ns >= s->enter_ns && s->leave_ns)
			fprintf(f, ":%llu",
				(unsigned long long)(s->leave_ns - s->enter_ns));
	}
	fputc('\n', f);
}

/* ---- --stats ---- */

#define HIST_SUB	16
#define HIST_N		(64 * HIST_SUB)
#define MAX_ODD		50

struct hist {
	uint64_t n, max, b[HIST_N];
};

struct tt_stats {
	uint64_t close_wait_warn_ns;
	uint64_t records, kinds[TCPSTATES_NR_EVENTS];
	uint64_t trans[TCPSTATES_NR_EVENTS][TCPSTATES_NR_STATES][TCPSTATES_NR_STATES];
	uint64_t lost_markers, lost_records;
	uint64_t conns, roles[ROLE_NR], closes[CLOSE_NR], incomplete;
	uint64_t tw_entered, tw_expired, tw_killed;
	uint64_t syn_retry_conns, resets;
	struct hist handshake[ROLE_NR];
	uint64_t state_ns[TCPSTATES_NR_STATES], state_n[TCPSTATES_NR_STATES];
	uint64_t state_max[TCPSTATES_NR_STATES];
	char *odd[MAX_ODD];
	size_t nodd;
	uint64_t odd_dropped;
};

static unsigned int hist_idx(uint64_t v)
{
	unsigned int e;

	if (v < HIST_SUB)
		return v;
	e = 63 - __builtin_clzll(v);
	return (e - 3) * HIST_SUB + ((v >> (e - 4)) & (HIST_SUB - 1));
}

static uint64_t hist_val(unsigned int i)
{
	unsigned int e;

	if (i < HIST_SUB)
		return i;
	e = i / HIST_SUB + 3;
	return (uint64_t)(HIST_SUB + i % HIST_SUB) << (e - 4);
}

static void hist_add(struct hist *h, uint64_t v)
{
	h->b[hist_idx(v)]++;
	h->n++;
	if (v > h->max)
		h->max = v;
}

static uint64_t hist_pct(const struct hist *h, double p)
{
	uint64_t want = (uint64_t)(p * h->n + 0.5), seen = 0;

	if (want == 0)
		want = 1;
	for (unsigned int i = 0; i < HIST_N; i++) {
		seen += h->b[i];
		if (seen >= want) {
			uint64_t hi = i + 1 < HIST_N ? hist_val(i + 1) - 1 : h->max;

			return hi < h->max ? hi : h->max;
		}
	}
	return h->max;
}

struct tt_stats *tt_stats_new(uint64_t close_wait_warn_ns)
{
	struct tt_stats *s = calloc(1, sizeof(*s));

	if (s)
		s->close_wait_warn_ns = close_wait_warn_ns;
	return s;
}

void tt_stats_free(struct tt_stats *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nodd; i++)
		free(s->odd[i]);
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
	if (r->kind < TCPSTATES_NR_EVENTS && r->old_state < TCPSTATES_NR_STATES &&
	    r->new_state < TCPSTATES_NR_STATES)
		s->trans[r->kind][r->old_state][r->new_state]++;
}

static void odd(struct tt_stats *s, const struct conn *c, const char *what)
{
	char l[64], r[64], *line;

	if (s->nodd >= MAX_ODD) {
		s->odd_dropped++;
		return;
	}
	endpoint(l, sizeof(l), c->family, c->laddr, c->lport);
	endpoint(r, sizeof(r), c->family, c->raddr, c->rport);
	if (asprintf(&line, "%s %s -> %s netns %u cookie %llu pid %u comm %s: %s",
		     tt_role_name(c->role), l, r, c->netns,
		     (unsigned long long)c->cookie, c->tgid,
		     c->comm[0] ? c->comm : "-", what) < 0)
		return;
	s->odd[s->nodd++] = line;
}

void tt_stats_conn(struct tt_stats *s, const struct conn *c)
{
	char d[32], what[96];
	const struct tt_span *last = tt_conn_last_span(c);

	s->conns++;
	s->roles[c->role < ROLE_NR ? c->role : 0]++;
	s->closes[c->close < CLOSE_NR ? c->close : 0]++;
	if (c->incomplete)
		s->incomplete++;
	if (c->est_ns && c->syn_ns && c->est_ns >= c->syn_ns &&
	    c->role < ROLE_NR)
		hist_add(&s->handshake[c->role], c->est_ns - c->syn_ns);
	for (uint32_t i = 0; i < c->nstates; i++) {
		const struct tt_span *sp = &c->states[i];
		uint64_t end = sp->leave_ns ? sp->leave_ns :
			       (sp->state != TCPSTATES_CLOSE ? c->end_ns : 0);
		uint64_t dur;

		if (!end || end < sp->enter_ns || sp->state >= TCPSTATES_NR_STATES)
			continue;
		dur = end - sp->enter_ns;
		s->state_ns[sp->state] += dur;
		s->state_n[sp->state]++;
		if (dur > s->state_max[sp->state])
			s->state_max[sp->state] = dur;
		if (sp->state == TCPSTATES_CLOSE_WAIT &&
		    dur >= s->close_wait_warn_ns) {
			tt_fmt_dur(d, sizeof(d), dur);
			snprintf(what, sizeof(what),
				 "CLOSE_WAIT for %s%s: the application did not close()",
				 d, sp->leave_ns ? "" : " (still)");
			odd(s, c, what);
		}
	}
	if (tt_conn_visited(c, TCPSTATES_TIME_WAIT))
		s->tw_entered++;
	if (c->twend == TW_EXPIRED)
		s->tw_expired++;
	if (c->twend == TW_KILLED)
		s->tw_killed++;
	if (c->syn_retrans || c->synack_retrans) {
		s->syn_retry_conns++;
		snprintf(what, sizeof(what), "%u SYN / %u SYN-ACK retransmits",
			 c->syn_retrans, c->synack_retrans);
		odd(s, c, what);
	}
	switch (c->close) {
	case CLOSE_RESET_SENT:
	case CLOSE_RESET_RECEIVED:
	case CLOSE_REFUSED:
	case CLOSE_TIMEOUT:
		if (c->close != CLOSE_TIMEOUT && c->close != CLOSE_REFUSED)
			s->resets++;
		snprintf(what, sizeof(what), "ended %s in %s",
			 tt_close_name(c->close),
			 c->nstates > 1 ? tt_state_name(c->states[c->nstates - 2].state) : "-");
		odd(s, c, what);
		break;
	}
	if (c->incomplete)
		odd(s, c, "incomplete history");
	(void)last;
}

void tt_stats_print(struct tt_stats *s, FILE *f)
{
	char a[32], b[32], c[32], d[32];

	fprintf(f, "records %llu, lost markers %llu (%llu records lost)\n",
		(unsigned long long)s->records,
		(unsigned long long)s->lost_markers,
		(unsigned long long)s->lost_records);
	fprintf(f, "\ntransitions (event old -> new: count)\n");
	for (unsigned int k = 1; k < TCPSTATES_NR_EVENTS; k++)
		for (unsigned int o = 0; o < TCPSTATES_NR_STATES; o++)
			for (unsigned int n = 0; n < TCPSTATES_NR_STATES; n++)
				if (s->trans[k][o][n])
					fprintf(f, "  %-12s %-12s -> %-12s %llu\n",
						tt_event_name(k), tt_state_name(o),
						tt_state_name(n),
						(unsigned long long)s->trans[k][o][n]);
	fprintf(f, "\nconnections %llu (incomplete %llu)\n",
		(unsigned long long)s->conns, (unsigned long long)s->incomplete);
	for (unsigned int i = 0; i < ROLE_NR; i++)
		if (s->roles[i])
			fprintf(f, "  role %-14s %llu\n", tt_role_name(i),
				(unsigned long long)s->roles[i]);
	for (unsigned int i = 0; i < CLOSE_NR; i++)
		if (s->closes[i])
			fprintf(f, "  close %-13s %llu\n", tt_close_name(i),
				(unsigned long long)s->closes[i]);
	fprintf(f, "\nhandshake latency (p50 p90 p99 max)\n");
	for (unsigned int i = 0; i < ROLE_NR; i++) {
		struct hist *h = &s->handshake[i];

		if (!h->n)
			continue;
		tt_fmt_dur(a, sizeof(a), hist_pct(h, 0.50));
		tt_fmt_dur(b, sizeof(b), hist_pct(h, 0.90));
		tt_fmt_dur(c, sizeof(c), hist_pct(h, 0.99));
		tt_fmt_dur(d, sizeof(d), h->max);
		fprintf(f, "  %-12s n=%llu %s %s %s %s\n", tt_role_name(i),
			(unsigned long long)h->n, a, b, c, d);
	}
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
	fprintf(f, "\nTIME_WAIT entered %llu, expired %llu, killed %llu\n",
		(unsigned long long)s->tw_entered,
		(unsigned long long)s->tw_expired,
		(unsigned long long)s->tw_killed);
	fprintf(f, "resets %llu, connections with SYN retries %llu\n",
		(unsigned long long)s->resets,
		(unsigned long long)s->syn_retry_conns);
	fprintf(f, "\nlooks wrong (%zu%s)\n", s->nodd + s->odd_dropped,
		s->odd_dropped ? ", first ones shown" : "");
	for (size_t i = 0; i < s->nodd; i++)
		fprintf(f, "  %s\n", s->odd[i]);
}
