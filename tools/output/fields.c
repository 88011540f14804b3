// SPDX-License-Identifier: GPL-2.0
/*
 * The one schema of a connection (one side of it) for machines: every
 * field JSON and CSV carry, in order, with its type, when it is null and
 * what it means. json.c and csv.c only render this table, `tcptimeline
 * --fields` prints it, and the man page's field list is checked against
 * that by the test suite. Unknown is null in JSON and empty in CSV, never
 * 0: a consumer can tell "ISN 0" from "not seen".
 */
#include <string.h>

#include "output/output.h"

#define NEVER "never"
#define NO_INFO "no record carried tcp_info"
#define NO_OPTS "the handshake was not recorded"

#define GET(fname) \
	static void get_##fname(const struct tt_row *x, struct tt_value *v)

/* A number from the connection, null when @nul holds. */
#define UINT(fname, expr, nul)               \
	GET(fname)                           \
	{                                    \
		const struct conn *c = x->c; \
		v->u = (expr);               \
		v->null = (nul);             \
	}

/* A string from the connection, null when it is NULL. */
#define STR(fname, expr)                     \
	GET(fname)                           \
	{                                    \
		const struct conn *c = x->c; \
		v->s = (expr);               \
		v->null = !v->s;             \
	}

static const char *family(unsigned int f)
{
	return f == TCPSTATES_FAMILY_INET6 ? "ipv6" : "ipv4";
}

static const char *addr(char *buf, const struct conn *c, const uint8_t *a)
{
	tt_format_addr(c->family, a, buf, TT_VALUE_BUF);
	return buf;
}

static const char *twend(const struct conn *c)
{
	static const char *const names[] = {
		[TW_EXPIRED] = "expired",
		[TW_KILLED] = "killed",
		[TW_SKIPPED] = "skipped",
	};

	return c->twend < ARRAY_SIZE(names) ? names[c->twend] : NULL;
}

static bool handshake_done(const struct conn *c)
{
	return c->est_ns && c->syn_ns && c->est_ns >= c->syn_ns;
}

static struct tt_bytes bytes(const struct conn *c, bool rx)
{
	struct tt_bytes tx, r;

	tt_conn_bytes(c, &tx, &r);
	return rx ? r : tx;
}

UINT(netns, c->netns, false)
UINT(netns_cookie, c->netns_cookie, !c->netns_cookie)
UINT(cookie, c->cookie, false)
STR(family, family(c->family))
UINT(mapped, c->mapped, false)
STR(laddr, addr(v->buf, c, c->laddr))
UINT(lport, c->lport, false)
STR(raddr, addr(v->buf, c, c->raddr))
UINT(rport, c->rport, false)
STR(role, tt_role_name(c->role))
UINT(pid, c->tgid, !c->owner_rank)
STR(comm, c->owner_rank ? c->comm : NULL)
UINT(uid, c->uid, c->uid == UINT32_MAX)
STR(open, tt_open_name(c->open))
STR(close, tt_close_name(c->close))
STR(sk_err, c->sk_err ? tt_errno_name(c->sk_err, v->buf, TT_VALUE_BUF) : NULL)
STR(reason,
    c->close == CLOSE_OPEN ? NULL : tt_reason_key_name(tt_reason_key(c)))
STR(reason_source, c->close == CLOSE_OPEN  ? NULL :
		   tt_reason_is_kernels(c) ? "kernel" :
					     "records")
UINT(unread_at_close, c->unread_close, !c->have_unread_close)
UINT(unacked_at_fin, c->unacked_fin, !c->have_unacked_fin)
UINT(retransmits_at_close, TCPSTATES_TIMERS_RETRANSMITS(c->timers), !c->timers)
UINT(probes_at_close, TCPSTATES_TIMERS_PROBES(c->timers), !c->timers)
UINT(isn_local, c->isn_local, !c->have_isn_local)
UINT(isn_remote, c->isn_remote, !c->have_isn_remote)
UINT(fin_seq_local, c->fin_local, !c->have_fin_local)
UINT(fin_seq_remote, c->fin_remote, !c->have_fin_remote)
UINT(tx_bytes, bytes(c, false).n, bytes(c, false).kind != TT_BYTES_APP)
UINT(rx_bytes, bytes(c, true).n, bytes(c, true).kind != TT_BYTES_APP)
UINT(bytes_acked, c->bytes_acked, !c->have_info)
UINT(bytes_received, c->bytes_received, !c->have_info)
UINT(handshake_ns, c->est_ns - c->syn_ns, !handshake_done(c))
UINT(syn_retrans, c->syn_retrans, !c->have_syn_retrans)
UINT(synack_retrans, c->synack_retrans, !c->have_synack_retrans)
GET(accept_wait_ns)
{
	uint64_t ns = 0;

	v->null = !tt_conn_accept_wait(x->c, &ns);
	v->u = ns;
}
UINT(acks_dropped, c->acks_dropped, c->role != ROLE_SERVER)
UINT(listen_drops_accept_queue, c->listen_drops[TCPSTATES_DROP_ACCEPT_QUEUE],
     c->role != ROLE_LISTENER)
UINT(listen_drops_syn_queue, c->listen_drops[TCPSTATES_DROP_SYN_QUEUE],
     c->role != ROLE_LISTENER)
UINT(listen_syncookies, c->listen_drops[TCPSTATES_DROP_SYNCOOKIE],
     c->role != ROLE_LISTENER)
UINT(listen_drops_other, c->listen_drops[TCPSTATES_DROP_OTHER],
     c->role != ROLE_LISTENER)
UINT(retrans, c->retrans, !c->have_info)
UINT(srtt_us, c->srtt_us, !c->srtt_us)
UINT(mss, c->mss, !c->have_opts)
UINT(snd_wscale, c->snd_wscale, !c->have_opts)
UINT(rcv_wscale, c->rcv_wscale, !c->have_opts)
STR(options,
    c->have_opts ? tt_options_format(c->options, v->buf, TT_VALUE_BUF) : NULL)
UINT(snd_wnd, c->snd_wnd, !c->have_opts)
UINT(rcv_wnd, c->rcv_wnd, !c->have_opts)
UINT(start_ns, c->first_ns, false)
UINT(end_ns, c->end_ns, false)
UINT(duration_ns, c->end_ns - c->first_ns, c->end_ns < c->first_ns)
STR(time_wait_end, twend(c))
UINT(time_wait_ms, c->tw_timeout_ms, !c->tw_handed)
UINT(peer_netns, c->peer ? c->peer->netns : 0, !c->peer)
UINT(peer_cookie, c->peer ? c->peer->cookie : 0, !c->peer)
UINT(incomplete, c->incomplete, false)
STR(host, c->host)

GET(start_time)
{
	v->s = v->buf;
	v->null =
		!tt_fmt_rfc3339(x->clock, v->buf, TT_VALUE_BUF, x->c->first_ns);
}

GET(end_time)
{
	v->s = v->buf;
	v->null = !tt_fmt_rfc3339(x->clock, v->buf, TT_VALUE_BUF, x->c->end_ns);
}

GET(states)
{
	(void)x;
	v->null = false; /* json.c and csv.c render the spans */
}

/* clang-format off */
#define F(name, type, nul, desc) { #name, type, nul, desc, get_##name }
/* clang-format on */

static const struct tt_field fields[] = {
	F(netns, FT_UINT, NEVER, "network namespace inode number"),
	F(netns_cookie, FT_UINT, "ABI 1 input",
	  "the namespace's cookie, never reused while the machine runs"),
	F(cookie, FT_UINT, NEVER, "socket cookie (ss -e shows it as sk:)"),
	F(family, FT_STR, NEVER, "ipv4 or ipv6"),
	F(mapped, FT_BOOL, NEVER, "an IPv6 socket with IPv4-mapped addresses"),
	F(laddr, FT_STR, NEVER, "local address"),
	F(lport, FT_UINT, NEVER, "local port"),
	F(raddr, FT_STR, NEVER, "remote address"),
	F(rport, FT_UINT, NEVER, "remote port"),
	F(role, FT_STR, NEVER,
	  "client, server, listener, simultaneous (open) or unknown"),
	F(pid, FT_UINT, "no record named a process",
	  "the owner's process id, from connect, accept or listen in process context"),
	F(comm, FT_STR, "no record named a process",
	  "the owner's command name"),
	F(uid, FT_UINT, "unknown",
	  "the socket's uid, as the reader's user namespace maps it"),
	F(open, FT_STR, "not seen opening", "active, passive or simultaneous"),
	F(close, FT_STR, NEVER, "how it ended; see CLOSE KINDS"),
	F(sk_err, FT_STR, "no error",
	  "the error that ended it, e.g. ECONNRESET; for a connect() that"
	  " failed before the socket left CLOSE, the errno connect() returned"
	  " (ENETUNREACH)"),
	F(reason, FT_STR, "still open", "why it ended; see CLOSE REASONS"),
	F(reason_source, FT_STR, "still open",
	  "kernel: the kernel's reset reason (6.10 on); records: what the records prove"),
	F(unread_at_close, FT_UINT, "its CLOSE record carried no rcv_unread",
	  "application bytes received and never read when it went to CLOSE (close() resets over them)"),
	F(unacked_at_fin, FT_UINT, "no FIN of ours recorded",
	  "bytes sent and not yet acked when our FIN was queued"),
	F(retransmits_at_close, FT_UINT,
	  "its CLOSE record carried no timers (older module)",
	  "retransmission timeouts of the same unacked data when it went to CLOSE (SYN retries in SYN_SENT)"),
	F(probes_at_close, FT_UINT,
	  "its CLOSE record carried no timers (older module)",
	  "keepalive or zero-window probes unanswered when it went to CLOSE"),
	F(isn_local, FT_UINT, "not recorded",
	  "our initial sequence number (A or B)"),
	F(isn_remote, FT_UINT, "not recorded",
	  "the peer's initial sequence number"),
	F(fin_seq_local, FT_UINT, "no FIN recorded",
	  "sequence number of our FIN"),
	F(fin_seq_remote, FT_UINT, "no FIN recorded",
	  "sequence number of the peer's FIN"),
	F(tx_bytes, FT_UINT,
	  "our ISN, or our FIN and the last write_seq, not recorded",
	  "application bytes sent, exact: fin_seq_local - isn_local - 1, or without our FIN (an RST) the last write_seq - isn_local - 1"),
	F(rx_bytes, FT_UINT,
	  "the peer's ISN, or its FIN and the last rcv_nxt, not recorded",
	  "application bytes received, exact: fin_seq_remote - isn_remote - 1, or without the peer's FIN (an RST) the last rcv_nxt - isn_remote - 1"),
	F(bytes_acked, FT_UINT, NO_INFO,
	  "the kernel's tcp_sock.bytes_acked (counts the SYN and FIN too)"),
	F(bytes_received, FT_UINT, NO_INFO,
	  "the kernel's tcp_sock.bytes_received (counts the FIN too)"),
	F(handshake_ns, FT_UINT, "no handshake completed",
	  "SYN sent (or, for a server, received) to ESTABLISHED"),
	F(syn_retrans, FT_UINT, "the handshake's end carried no tcp_info",
	  "SYN retransmissions before ESTABLISHED"),
	F(synack_retrans, FT_UINT, "its request's end was not recorded",
	  "SYN-ACK retransmissions of its request"),
	F(accept_wait_ns, FT_UINT,
	  "not a server side, or not accepted (yet) after ESTABLISHED",
	  "time in the accept queue: ESTABLISHED to accept() taking it"),
	F(acks_dropped, FT_UINT, "not a server side",
	  "its final ACKs the listener dropped, its accept queue full"),
	F(listen_drops_accept_queue, FT_UINT, "not a listener",
	  "SYNs (and final ACKs of unrecorded requests) it dropped, its accept queue full (TcpExtListenOverflows)"),
	F(listen_drops_syn_queue, FT_UINT, "not a listener",
	  "SYNs it dropped, its SYN queue full and SYN cookies off (TcpExtTCPReqQFullDrop)"),
	F(listen_syncookies, FT_UINT, "not a listener",
	  "SYNs it answered with a SYN cookie (TcpExtSyncookiesSent)"),
	F(listen_drops_other, FT_UINT, "not a listener",
	  "SYNs and final ACKs it dropped for another reason (TcpExtListenDrops alone)"),
	F(retrans, FT_UINT, NO_INFO,
	  "total retransmissions (tcp_sock.total_retrans)"),
	F(srtt_us, FT_UINT, "no RTT measured",
	  "smoothed round-trip time, microseconds"),
	F(mss, FT_UINT, NO_OPTS, "MSS after the handshake"),
	F(snd_wscale, FT_UINT, NO_OPTS, "send window scale"),
	F(rcv_wscale, FT_UINT, NO_OPTS, "receive window scale"),
	F(options, FT_STR, NO_OPTS,
	  "TCP options negotiated: sack, ts, wscale, ecn, comma-separated, or none"),
	F(snd_wnd, FT_UINT, NO_OPTS, "send window after the handshake"),
	F(rcv_wnd, FT_UINT, NO_OPTS, "receive window after the handshake"),
	F(start_ns, FT_UINT, NEVER,
	  "first record, CLOCK_MONOTONIC nanoseconds"),
	F(start_time, FT_TIME, "no realtime offset",
	  "start_ns as RFC 3339 UTC"),
	F(end_ns, FT_UINT, NEVER,
	  "last record (the end of the input for open ones), CLOCK_MONOTONIC ns"),
	F(end_time, FT_TIME, "no realtime offset", "end_ns as RFC 3339 UTC"),
	F(duration_ns, FT_UINT, NEVER, "end_ns - start_ns"),
	F(time_wait_end, FT_STR, "no TIME_WAIT end seen",
	  "expired, killed (reused or reset) or skipped (tw_overflow)"),
	F(time_wait_ms, FT_UINT, "no timewait socket", "the TIME_WAIT timeout"),
	F(peer_netns, FT_UINT, "no peer on this host",
	  "the other side's netns"),
	F(peer_cookie, FT_UINT, "no peer on this host",
	  "the other side's cookie"),
	F(incomplete, FT_BOOL, NEVER,
	  "records of its history are missing (lost, or before the input began)"),
	F(states, FT_STATES, NEVER,
	  "JSON: [{state, event, enter_ns, leave_ns, enter_time, leave_time}]; CSV: STATE:ns;... (time in each)"),
	F(host, FT_STR,
	  "no host label: /proc text, or a capture older than labels",
	  "the recording host's label (its hostname or --hostname, kept in the capture); several hosts' captures without one: boot-<its boot id>"),
};

const struct tt_field *tt_fields(size_t *n)
{
	*n = ARRAY_SIZE(fields);
	return fields;
}

const char *tt_field_type(enum tt_ftype t)
{
	static const char *const names[] = {
		[FT_UINT] = "integer",	[FT_STR] = "string",
		[FT_BOOL] = "boolean",	[FT_TIME] = "string (RFC 3339)",
		[FT_STATES] = "states",
	};

	return names[t];
}

void tt_fields_list(FILE *f)
{
	fprintf(f, "NAME\tTYPE\tNULL WHEN\tDESCRIPTION\n");
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		fprintf(f, "%s\t%s\t%s\t%s\n", fields[i].name,
			tt_field_type(fields[i].type), fields[i].null_when,
			fields[i].desc);
}
