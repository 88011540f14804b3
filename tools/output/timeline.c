// SPDX-License-Identifier: GPL-2.0
/*
 * The default output: a readable timeline per connection or conversation,
 * a line per fact, each from a small function. Times as clock.c shows
 * them; durations pick a unit that keeps three decimals readable; the
 * owner's comm is escaped for the terminal.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "decode/put.h"
#include "output/output.h"

/*
 * @ns / @unit to three decimals, as printf's "%.3f" of the double @d =
 * @ns / @unit rounds it: to nearest, and at an exact decimal tie the way
 * the double lies (d * 1000 is exact in a long double: 53 + 10 bits),
 * and to even where the double is that tie.
 */
static uint64_t thousandths(uint64_t ns, uint64_t unit, double d)
{
	uint64_t step = unit / 1000, q = ns / step, rem = ns % step;
	long double x;

	if (rem * 2 > step)
		return q + 1;
	if (rem * 2 < step)
		return q;
	x = (long double)d * 1000;
	if (x == (long double)q + 0.5L) /* the double is the tie: to even */
		return q + (q & 1);
	return x > (long double)q + 0.5L ? q + 1 : q;
}

void tt_fmt_dur(char *buf, size_t len, uint64_t ns)
{
	static const uint64_t units[] = { 1000, 1000000, 1000000000 };
	static const char *const names[] = { "us", "ms", "s" };
	char t[48], *p = t + 24, *e;
	uint64_t v;
	int u;

	if (ns < 1000) {
		v = ns;
		u = -1;
	} else {
		u = ns < 1000000 ? 0 : ns < 1000000000 ? 1 : 2;
		v = thousandths(ns, units[u], (double)ns / units[u]);
	}
	if (u >= 0) {
		for (int i = 0; i < 3; i++, v /= 10)
			*--p = '0' + v % 10;
		*--p = '.';
	}
	do {
		*--p = '0' + v % 10;
		v /= 10;
	} while (v);
	e = stpcpy(t + 24, u < 0 ? "ns" : names[u]);
	if ((size_t)(e - p) >= len)
		e = p + len - 1;
	memcpy(buf, p, e - p);
	buf[e - p] = 0;
}

void tt_fmt_bytes(char *buf, size_t len, const struct tt_bytes *b)
{
	char t[32], *p = t + sizeof(t);
	uint64_t v = b->n;

	if (b->kind == TT_BYTES_NONE) {
		snprintf(buf, len, "?");
		return;
	}
	*--p = 0;
	p -= 2;
	memcpy(p, " B", 2);
	do {
		*--p = '0' + v % 10;
		v /= 10;
	} while (v);
	if (b->kind == TT_BYTES_KERNEL)
		*--p = '~';
	snprintf(buf, len, "%s", p);
}

void tt_fmt_endpoint(char *buf, size_t len, unsigned int family,
		     const uint8_t *addr, uint16_t port)
{
	char a[INET6_ADDRSTRLEN];

	char t[INET6_ADDRSTRLEN + 10], *p = t, d[6];
	int i = sizeof(d);

	tt_format_addr(family, addr, a, sizeof(a));
	if (family == TCPSTATES_FAMILY_INET6)
		*p++ = '[';
	p = stpcpy(p, a);
	if (family == TCPSTATES_FAMILY_INET6)
		*p++ = ']';
	*p++ = ':';
	do {
		d[--i] = '0' + port % 10;
		port /= 10;
	} while (port);
	memcpy(p, d + i, sizeof(d) - i);
	p[sizeof(d) - i] = 0;
	snprintf(buf, len, "%s", t);
}

/* Why the close kind is what it is, with the numbers behind it. */
static void close_detail(char *buf, size_t len, const struct tt_clock *k,
			 const struct conn *c)
{
	const struct tt_span *last = tt_conn_last_span(c);
	char t[40], e[24];

	tt_errno_name(c->sk_err, e, sizeof(e));
	switch (c->close) {
	case CLOSE_OPEN:
		snprintf(buf, len, "still %s at the end of the input",
			 c->role == ROLE_LISTENER ?
				 "listening" :
				 tt_state_name(last ? last->state : 0));
		break;
	case CLOSE_RESET_SENT:
		tt_fmt_time(k, t, sizeof(t), c->reset_ns);
		snprintf(buf, len, "we sent an RST at %s", t);
		break;
	case CLOSE_RESET_RECEIVED:
		snprintf(buf, len, "an RST arrived, sk_err %s", e);
		break;
	case CLOSE_REFUSED:
		snprintf(
			buf, len,
			"the peer refused our SYN (an RST or an ICMP port unreachable), sk_err %s",
			e);
		break;
	case CLOSE_TIMEOUT:
		if (c->req_cookie && !c->est_ns)
			snprintf(
				buf, len,
				"half-open request dropped after %u SYN-ACK retransmit%s",
				c->synack_retrans,
				c->synack_retrans == 1 ? "" : "s");
		else
			snprintf(buf, len, "a timer gave up, sk_err %s", e);
		break;
	case CLOSE_ERROR:
		if (c->no_syn) /* a connect_error: connect() returned it */
			snprintf(buf, len, "connect() returned %s", e);
		else
			snprintf(buf, len, "sk_err %s", e);
		break;
	case CLOSE_ABORTED:
		if (c->no_syn) { /* connect() returned the error itself */
			snprintf(
				buf, len,
				"closed in SYN_SENT before a SYN left: connect() failed");
			break;
		}
		/* fall through */
	default:
		snprintf(buf, len, "%s", tt_close_meaning(c->close));
		break;
	}
}

/*
 * Why it ended: the reason's name, where it comes from (the kernel, or the
 * records for a kernel that gives none) and the bytes behind it.
 */
static void reason_line(FILE *f, const char *in, const struct conn *c)
{
	const char *from = "";
	char extra[64] = "";

	if (c->close == CLOSE_OPEN)
		return;
	if (tt_reason_key(c) >= REASON_NR) /* a reset, named */
		from = tt_reason_is_kernels(c) ? "the kernel's reason" :
						 "derived from the records";
	else
		from = tt_reason_meaning(c->reason);
	if (c->have_unread_close && c->unread_close)
		snprintf(extra, sizeof(extra), "; %u bytes unread at close",
			 c->unread_close);
	else if (c->have_unacked_fin && c->unacked_fin)
		snprintf(extra, sizeof(extra), "; %u bytes unacked at our FIN",
			 c->unacked_fin);
	else if (TCPSTATES_TIMERS_RETRANSMITS(c->timers) &&
		 c->sk_err == ETIMEDOUT)
		snprintf(extra, sizeof(extra),
			 "; %u retransmissions unanswered",
			 TCPSTATES_TIMERS_RETRANSMITS(c->timers));
	else if (TCPSTATES_TIMERS_PROBES(c->timers) && c->sk_err == ETIMEDOUT)
		snprintf(extra, sizeof(extra), "; %u probes unanswered",
			 TCPSTATES_TIMERS_PROBES(c->timers));
	fprintf(f, "%s  reason     %s (%s%s)\n", in,
		tt_reason_key_name(tt_reason_key(c)), from, extra);
}

/* Bytes each way: the application's, or marked as the kernel's counters. */
static void data_line(FILE *f, const char *in, const struct conn *c,
		      const char *dur)
{
	struct tt_bytes tx, rx;
	char s[32], r[32];

	struct tt_put o;

	tt_conn_bytes(c, &tx, &rx);
	tt_fmt_bytes(s, sizeof(s), &tx);
	tt_fmt_bytes(r, sizeof(r), &rx);
	tt_put_init(&o, f);
	tt_put_str(&o, in);
	tt_put_str(&o, "  data       ");
	tt_put_str(&o, dur);
	tt_put_str(&o, ", sent ");
	tt_put_str(&o, s);
	tt_put_str(&o, ", received ");
	tt_put_str(&o, r);
	tt_put_str(&o, ", retrans ");
	tt_put_u64(&o, c->retrans);
	tt_put_str(&o, ", srtt ");
	tt_put_u64(&o, c->srtt_us);
	tt_put_str(&o, "us");
	if (tx.kind == TT_BYTES_KERNEL || rx.kind == TT_BYTES_KERNEL)
		tt_put_str(
			&o,
			" (~: the kernel's bytes_acked/bytes_received, which count the SYN and FIN too)");
	tt_put_c(&o, '\n');
	tt_put_flush(&o);
}

static void head_line(FILE *f, const char *in, const struct conn *c)
{
	const char *fam = c->family == TCPSTATES_FAMILY_INET6 ? "ipv6" :
			  c->mapped ? "ipv4 (v4-mapped ipv6 socket)" :
				      "ipv4";
	char l[64], r[64];

	tt_fmt_endpoint(l, sizeof(l), c->family, c->laddr, c->lport);
	tt_fmt_endpoint(r, sizeof(r), c->family, c->raddr, c->rport);
	struct tt_put o;

	tt_put_init(&o, f);
	tt_put_str(&o, in);
	if (c->role == ROLE_LISTENER) {
		tt_put_str(&o, "listener ");
		tt_put_str(&o, l);
	} else {
		tt_put_str(&o, tt_role_name(c->role));
		tt_put_c(&o, ' ');
		tt_put_str(&o, l);
		tt_put_str(&o, " -> ");
		tt_put_str(&o, r);
	}
	tt_put_c(&o, ' ');
	tt_put_str(&o, fam);
	tt_put_str(&o, " netns ");
	tt_put_u64(&o, c->netns);
	tt_put_str(&o, " cookie ");
	tt_put_u64(&o, c->cookie);
	tt_put_str(&o, " (sk:"); /* as ss -e prints it */
	tt_put_hex(&o, c->cookie);
	tt_put_c(&o, ')');
	if (c->host) {
		tt_put_str(&o, " on host ");
		tt_put_str(&o, c->host);
	}
	tt_put_c(&o, '\n');
	tt_put_flush(&o);
}

static void owner_line(FILE *f, const char *in, const struct conn *c)
{
	char comm[TT_COMM_ESCAPED];
	struct tt_put o;

	tt_put_init(&o, f);
	tt_put_str(&o, in);
	if (c->owner_rank) {
		tt_put_str(&o, "  owner      pid ");
		tt_put_u64(&o, c->tgid);
		tt_put_str(&o, " comm ");
		tt_put_str(&o, tt_escape(comm, sizeof(comm), c->comm, false));
	} else {
		tt_put_str(&o,
			   "  owner      unknown (no record named a process)");
	}
	tt_put_str(&o, " uid ");
	if (c->uid != UINT32_MAX)
		tt_put_u64(&o, c->uid);
	else
		tt_put_c(&o, '-');
	tt_put_c(&o, '\n');
	tt_put_flush(&o);
	if (c->incomplete)
		fprintf(f,
			"%s  INCOMPLETE history has a gap (lost records or started mid-connection)\n",
			in);
}

static void retransmits(FILE *f, const struct conn *c)
{
	if (c->syn_retrans)
		fprintf(f, ", %u SYN retransmit%s", c->syn_retrans,
			c->syn_retrans == 1 ? "" : "s");
	if (c->synack_retrans)
		fprintf(f, ", %u SYN-ACK retransmit%s", c->synack_retrans,
			c->synack_retrans == 1 ? "" : "s");
	fputc('\n', f);
}

static void open_lines(FILE *f, const struct tt_clock *k, const char *in,
		       const struct conn *c)
{
	char t[40], d[32];

	if (c->role == ROLE_LISTENER || !c->syn_ns)
		return;
	tt_fmt_time(k, t, sizeof(t), c->syn_ns);
	if (c->no_syn)
		fprintf(f, "%s  open       %s, connect() %s, no SYN sent\n", in,
			tt_open_name(c->open) ? tt_open_name(c->open) : "-", t);
	else
		fprintf(f, "%s  open       %s, %s %s\n", in,
			tt_open_name(c->open) ? tt_open_name(c->open) : "-",
			c->role == ROLE_SERVER ? "SYN received" : "SYN sent",
			t);
	if (c->est_ns && c->est_ns >= c->syn_ns) {
		tt_fmt_dur(d, sizeof(d), c->est_ns - c->syn_ns);
		fprintf(f, "%s  handshake  %s to ESTABLISHED%s", in, d,
			c->role == ROLE_SERVER ? " (from the SYN's arrival)" :
						 "");
	} else {
		fprintf(f, "%s  handshake  not completed", in);
	}
	retransmits(f, c);
}

/* "%-*s" without printf */
static void put_pad(struct tt_put *o, const char *s, size_t w)
{
	size_t n = strlen(s);

	tt_put_mem(o, s, n);
	for (; n < w; n++)
		tt_put_c(o, ' ');
}

static void seq_or_dash(struct tt_put *o, bool have, uint32_t v)
{
	if (have)
		tt_put_u64(o, v);
	else
		tt_put_c(o, '-');
}

/* "isn" or "fin": ours and the peer's, and the ACKs that answer them. */
static void seq_line(FILE *f, const char *in, const char *what, bool hl,
		     uint32_t l, bool hr, uint32_t r)
{
	struct tt_put o;

	if (!hl && !hr)
		return;
	tt_put_init(&o, f);
	tt_put_str(&o, in);
	tt_put_mem(&o, "  ", 2);
	put_pad(&o, what, 10);
	tt_put_str(&o, " local ");
	seq_or_dash(&o, hl, l);
	tt_put_str(&o, " remote ");
	seq_or_dash(&o, hr, r);
	tt_put_str(&o, " (acks: local+1 = ");
	seq_or_dash(&o, hl, l + 1);
	tt_put_str(&o, ", remote+1 = ");
	seq_or_dash(&o, hr, r + 1);
	tt_put_str(&o, ")\n");
	tt_put_flush(&o);
}

static void options_line(FILE *f, const char *in, const struct conn *c)
{
	char o[64];

	if (c->have_opts)
		fprintf(f,
			"%s  options    mss %u wscale snd %u rcv %u %s, windows snd %u rcv %u\n",
			in, c->mss, c->snd_wscale, c->rcv_wscale,
			tt_options_format(c->options, o, sizeof(o)), c->snd_wnd,
			c->rcv_wnd);
}

static void established(FILE *f, const char *in, const struct conn *c)
{
	uint64_t leave = 0;
	char d[32];

	if (!c->est_ns)
		return;
	for (uint32_t i = 0; i < c->nstates; i++)
		if (c->states[i].state == TCPSTATES_ESTABLISHED)
			leave = c->states[i].leave_ns;
	if (leave)
		tt_fmt_dur(d, sizeof(d), leave - c->est_ns);
	else
		snprintf(d, sizeof(d), "still ESTABLISHED");
	data_line(f, in, c, d);
}

static const char *tw_end(const struct conn *c)
{
	return c->twend == TW_EXPIRED ? "expired" :
	       c->twend == TW_KILLED  ? "killed early (reuse or RST)" :
					"still waiting";
}

/* Unknown values say so, as JSON's nulls do. */
static void time_wait_line(FILE *f, const char *in, const struct conn *c)
{
	if (c->twend == TW_SKIPPED)
		fprintf(f,
			"%s  time_wait  skipped: no timewait socket (tcp_max_tw_buckets reached: tw_overflow)\n",
			in);
	else if (c->tw_handed)
		fprintf(f, "%s  time_wait  timeout %llums, %u re-arm%s, %s\n",
			in, (unsigned long long)c->tw_timeout_ms, c->tw_rearms,
			c->tw_rearms == 1 ? "" : "s", tw_end(c));
	else if (c->twend != TW_NONE) /* its time_wait record is missing */
		fprintf(f, "%s  time_wait  timeout ?, re-arms ?, %s\n", in,
			tw_end(c));
}

/* The most printed line: "  states     SYN_SENT     5001.000 23.000us  by state" */
static void state_line(FILE *f, const char *in, const char *what,
		       const struct tt_span *s, const char *t, const char *d)
{
	struct tt_put o;

	tt_put_init(&o, f);
	tt_put_str(&o, in);
	tt_put_mem(&o, "  ", 2);
	put_pad(&o, what, 10);
	tt_put_c(&o, ' ');
	put_pad(&o, tt_state_name(s->state), 12);
	tt_put_c(&o, ' ');
	tt_put_str(&o, t);
	tt_put_c(&o, ' ');
	put_pad(&o, d, 10);
	tt_put_mem(&o, " by ", 4);
	tt_put_str(&o, tt_event_name(s->kind));
	tt_put_c(&o, '\n');
	tt_put_flush(&o);
}

static void state_lines(FILE *f, const struct tt_clock *k, const char *in,
			const struct conn *c)
{
	char t[40], d[32];

	for (uint32_t i = 0; i < c->nstates; i++) {
		const struct tt_span *s = &c->states[i];

		tt_fmt_time(k, t, sizeof(t), s->enter_ns);
		if (s->leave_ns >= s->enter_ns &&
		    (s->leave_ns || i + 1 < c->nstates))
			tt_fmt_dur(d, sizeof(d), s->leave_ns - s->enter_ns);
		else
			snprintf(d, sizeof(d), "%s",
				 s->state == TCPSTATES_CLOSE ? "end" : "open");
		state_line(f, in, i ? "" : "states", s, t, d);
	}
}

/*
 * Listener pressure: a server side's wait in the accept queue and its
 * final ACKs dropped; what a listener turned away.
 */
static void accept_line(FILE *f, const char *in, const struct conn *c)
{
	char d[32];
	uint64_t wait;
	int any = 0;

	if (c->role == ROLE_SERVER && (c->accept_ns || c->acks_dropped)) {
		fprintf(f, "%s  accept     ", in);
		if (tt_conn_accept_wait(c, &wait)) {
			tt_fmt_dur(d, sizeof(d), wait);
			fprintf(f, "%s in the accept queue", d);
		} else {
			fprintf(f, "%s", c->accept_ns ? "taken" : "never");
		}
		if (c->acks_dropped)
			fprintf(f,
				", %u final ACK%s dropped (accept queue full)",
				c->acks_dropped,
				c->acks_dropped == 1 ? "" : "s");
		fputc('\n', f);
	}
	if (c->role != ROLE_LISTENER)
		return;
	for (unsigned int k = 1; k < TCPSTATES_NR_DROPS; k++) {
		if (!c->listen_drops[k])
			continue;
		if (!any++)
			fprintf(f, "%s  turned     away", in);
		fprintf(f, " %s %u", tt_drop_name(k), c->listen_drops[k]);
	}
	if (any)
		fputc('\n', f);
}

static void text_side(FILE *f, const struct tt_clock *k, const struct conn *c,
		      const char *in)
{
	char d[96];
	struct tt_put o;

	head_line(f, in, c);
	owner_line(f, in, c);
	open_lines(f, k, in, c);
	seq_line(f, in, "isn", c->have_isn_local, c->isn_local,
		 c->have_isn_remote, c->isn_remote);
	options_line(f, in, c);
	established(f, in, c);
	accept_line(f, in, c);
	close_detail(d, sizeof(d), k, c);
	tt_put_init(&o, f);
	tt_put_str(&o, in);
	tt_put_str(&o, "  close      ");
	tt_put_str(&o, tt_close_name(c->close));
	tt_put_str(&o, " (");
	tt_put_str(&o, d);
	tt_put_str(&o, ")\n");
	tt_put_flush(&o);
	reason_line(f, in, c);
	seq_line(f, in, "fin", c->have_fin_local, c->fin_local,
		 c->have_fin_remote, c->fin_remote);
	time_wait_line(f, in, c);
	state_lines(f, k, in, c);
}

void tt_text_conn(FILE *f, const struct tt_clock *k, const struct conn *c,
		  const struct conn *peer)
{
	char l[64], r[64];

	if (!peer) {
		text_side(f, k, c, "");
		fputc('\n', f);
		return;
	}
	tt_pair_order(&c, &peer);
	tt_fmt_endpoint(l, sizeof(l), c->family, c->laddr, c->lport);
	tt_fmt_endpoint(r, sizeof(r), c->family, c->raddr, c->rport);
	if (c->host && peer->host && strcmp(c->host, peer->host))
		fprintf(f, "conversation %s <-> %s, between hosts %s and %s\n",
			l, r, c->host, peer->host);
	else
		fprintf(f, "conversation %s <-> %s, both sides on %s%s%s\n", l,
			r, c->host ? "host " : "this host",
			c->host ? c->host : "",
			c->netns == peer->netns ? "" :
						  " (two network namespaces)");
	text_side(f, k, c, "  ");
	text_side(f, k, peer, "  ");
	fputc('\n', f);
}

void tt_text_lost(FILE *f, const struct tt_clock *k,
		  const struct tcpstates_record *r)
{
	char t[40];

	tt_fmt_time(k, t, sizeof(t), r->ts_ns);
	fprintf(f,
		"--- LOST %llu record%s (seq %llu..%llu) at %s: connections open across this gap are incomplete ---\n\n",
		(unsigned long long)r->aux, r->aux == 1 ? "" : "s",
		(unsigned long long)r->seq,
		(unsigned long long)(r->seq + r->aux - 1), t);
}
