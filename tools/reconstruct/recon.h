/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The reconstruction layer: validated records in (from the decode layer),
 * finished connections out, each with its timeline. It depends on the
 * decode layer only; every output format is built on what it hands over.
 */
#ifndef TT_RECONSTRUCT_RECON_H
#define TT_RECONSTRUCT_RECON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"

/* X(NAME, name): the side's part in opening the connection. */
#define TT_ROLE_LIST(X)       \
	X(UNKNOWN, unknown)   \
	X(CLIENT, client)     \
	X(SERVER, server)     \
	X(LISTENER, listener) \
	X(SIMULTANEOUS, simultaneous)

#define TT_ROLE_ENUM(NAME, name) ROLE_##NAME,
enum tt_role { TT_ROLE_LIST(TT_ROLE_ENUM) ROLE_NR };

#define TT_OPEN_LIST(X)     \
	X(NONE, none)       \
	X(ACTIVE, active)   \
	X(PASSIVE, passive) \
	X(SIMULTANEOUS, simultaneous)

#define TT_OPEN_ENUM(NAME, name) OPEN_##NAME,
enum tt_open { TT_OPEN_LIST(TT_OPEN_ENUM) OPEN_NR };

/* X(NAME, name, meaning): how the side's connection ended. */
#define TT_CLOSE_LIST(X)                                                     \
	X(OPEN, open, "still open at the end of the input")                  \
	X(ACTIVE, active, "we sent the first FIN")                           \
	X(PASSIVE, passive, "the peer sent the first FIN")                   \
	X(SIMULTANEOUS, simultaneous, "both FINs crossed")                   \
	X(RESET_SENT, reset_sent, "we sent an RST (an abort)")               \
	X(RESET_RECEIVED, reset_received,                                    \
	  "an RST arrived (ECONNRESET, or EPIPE in CLOSE_WAIT)")             \
	X(REFUSED, refused,                                                  \
	  "the peer refused our SYN: an RST, or an ICMP port unreachable"    \
	  " (ECONNREFUSED)")                                                 \
	X(TIMEOUT, timeout,                                                  \
	  "a timer gave up (ETIMEDOUT; reason says which),"                  \
	  " or a half-open request was dropped")                             \
	X(ERROR, error, "another error ended it (sk_err names it)")          \
	X(ABORTED, aborted,                                                  \
	  "closed in SYN_SENT, without an error: connect() given up")        \
	X(LISTENER_CLOSED, listener_closed, "a listening socket was closed") \
	X(UNKNOWN, unknown, "the records that would tell are missing")

#define TT_CLOSE_ENUM(NAME, name, meaning) CLOSE_##NAME,
enum tt_close { TT_CLOSE_LIST(TT_CLOSE_ENUM) CLOSE_NR };

/*
 * X(NAME, name, meaning): why the side ended, beside how (close). A reset
 * we sent is named by its kernel reason instead (tcp_abort_on_close ...,
 * the TCPSTATES_RST_* names): REASON_RESET says to look there.
 */
#define TT_REASON_LIST(X)                                                      \
	X(OPEN, open, "still open at the end of the input")                    \
	X(FIN, fin,                                                            \
	  "an orderly close, a FIN each way; close says who was first")        \
	X(RESET, reset,                                                        \
	  "we sent an RST; the kernel gave no reason, the records prove none") \
	X(RESET_RECEIVED, reset_received,                                      \
	  "an RST arrived (ECONNRESET, or EPIPE in CLOSE_WAIT; a request:"     \
	  " tcp_check_req() dropped it for the RST)")                          \
	X(REFUSED, refused,                                                    \
	  "the peer refused our SYN: an RST, or an ICMP port unreachable"      \
	  " (ECONNREFUSED)")                                                   \
	X(SYN_TIMEOUT, syn_timeout,                                            \
	  "our SYN retransmissions ran out (ETIMEDOUT in SYN_SENT)")           \
	X(TIMEOUT, timeout,                                                    \
	  "ETIMEDOUT once synchronised; the records do not say which timer"    \
	  " (a module older than TCPSTATES_TIMERS_VALID)")                     \
	X(RETRANSMIT_TIMEOUT, retransmit_timeout,                              \
	  "our retransmissions of unacked data went unanswered until"          \
	  " tcp_retries2 gave up (retransmits_at_close counts them)")          \
	X(USER_TIMEOUT, user_timeout,                                          \
	  "TCP_USER_TIMEOUT ran out with data unacked or window probes"        \
	  " unanswered")                                                       \
	X(PROBE_TIMEOUT, probe_timeout,                                        \
	  "the peer's window stayed shut: our zero-window probes went"         \
	  " unanswered (probes_at_close counts them)")                         \
	X(REQUEST_DROPPED, request_dropped,                                    \
	  "a request ended without a child, and the records do not say why"    \
	  " (a module without the req_timer and check_req hooks, or one"       \
	  " whose last reference another CPU dropped)")                        \
	X(SYNACK_TIMEOUT, synack_timeout,                                      \
	  "a request's SYN-ACKs went unanswered until its timer gave up"       \
	  " (synack_retrans counts them; tcp_synack_retries, fewer while the"  \
	  " SYN queue is over half full)")                                     \
	X(ACK_DROPPED, ack_dropped,                                            \
	  "a request's final ACK came but made no child (the accept queue"     \
	  " was full: acks_dropped counts them; or TCP_DEFER_ACCEPT waited"    \
	  " for data), and its timer gave up")                                 \
	X(FIN_WAIT2_TIMEOUT, fin_wait2_timeout,                                \
	  "our FIN was acked, the peer's never came: tcp_fin_timeout"          \
	  " ended the orphan")                                                 \
	X(NO_PORT, no_port,                                                    \
	  "connect() found no free ephemeral port to that destination"         \
	  " (EADDRNOTAVAIL): the socket closed in SYN_SENT without one")       \
	X(CONNECT_FAILED, connect_failed,                                      \
	  "connect() failed before a SYN left: with its local port chosen"     \
	  " (no route for it, no memory, a bound port's 4-tuple in use), or"   \
	  " before (a broadcast or multicast peer: sk_err names the errno)")   \
	X(NO_ROUTE, no_route,                                                  \
	  "connect() found no route to the peer (ENETUNREACH, EHOSTUNREACH)"   \
	  " and failed in CLOSE: no SYN left")                                 \
	X(ABORTED, aborted,                                                    \
	  "closed in SYN_SENT after the SYN left, without an error")           \
	X(UNREACHABLE, unreachable,                                            \
	  "an ICMP destination unreachable ended it (EHOSTUNREACH or"          \
	  " ENETUNREACH): a router said so, or this host when the next hop"    \
	  " did not answer ARP or neighbour discovery")                        \
	X(SK_ERROR, sk_error, "another error ended it (sk_err names it)")      \
	X(LISTENER_CLOSED, listener_closed,                                    \
	  "a listening socket was closed; a request: its timer found its"      \
	  " listener closed")                                                  \
	X(UNKNOWN, unknown, "the records that would tell are missing")

#define TT_REASON_ENUM(NAME, name, meaning) REASON_##NAME,
enum tt_reason { TT_REASON_LIST(TT_REASON_ENUM) REASON_NR };

/*
 * One number for every name a side's reason can have: the list above,
 * then (REASON_RESET's) one per TCPSTATES_RST_* reason; for tables.
 */
#define TT_REASON_KEYS (REASON_NR + TCPSTATES_NR_RST_REASONS)

/* How the TIME_WAIT ended; SKIPPED: tw_overflow, there was none. */
enum tt_twend { TW_NONE, TW_EXPIRED, TW_KILLED, TW_SKIPPED };

struct conn;

const char *tt_role_name(unsigned int v);
int tt_role_parse(const char *s);
const char *tt_open_name(unsigned int v); /* NULL for OPEN_NONE */
const char *tt_close_name(unsigned int v);
const char *tt_close_meaning(unsigned int v);
const char *tt_reason_meaning(unsigned int v); /* REASON_*: the list's */
unsigned int tt_reason_key(const struct conn *c); /* < TT_REASON_KEYS */
const char *tt_reason_key_name(unsigned int key); /* NULL: no such key */
const char *tt_reason_key_meaning(unsigned int key);
bool tt_reason_is_kernels(const struct conn *c);
/* The state the side left for CLOSE, or TCPSTATES_STATE_NONE (side.c). */
unsigned int tt_side_before_close(const struct conn *c);

struct tt_span {
	uint64_t enter_ns;
	uint64_t leave_ns; /* 0 while in this state */
	uint8_t state;
	uint8_t kind; /* TCPSTATES_EV_* that entered it */
};

struct hnode {
	struct hnode *next;
	uint64_t hash;
};

struct conn {
	struct hnode by_cookie; /* live table: (netns, cookie) */
	struct hnode by_tuple; /* pairing table: symmetric 4-tuple */
	struct conn *prev, *next; /* live list, creation order */
	struct conn *peer; /* the other side, when paired */
	void *req; /* recon.c's pending request that made it */
	uint64_t id; /* creation order, for stable output; never 0 */

	uint64_t cookie, req_cookie;
	uint64_t netns_cookie; /* 0: not known (ABI 1) */
	uint32_t netns;
	uint8_t family, mapped;
	uint8_t laddr[16], raddr[16];
	uint16_t lport, rport; /* host order */

	uint8_t role, open, close, twend;
	/* why (REASON_*), and for REASON_RESET the TCPSTATES_RST_* reason */
	uint8_t reason, rst_reason;
	/* the CLOSE record's task context and application data unread */
	bool close_in_task, have_unread_close, no_syn;
	bool rst_derived; /* rst_reason from the records, not the kernel */
	/* in CLOSE, on recon's list of those whose RST's record is to come */
	bool await_rst;
	struct conn *await_prev, *await_next;
	uint32_t unread_close;
	/* the CLOSE record's AUX: its timers (TCPSTATES_TIMERS_*); 0: none */
	uint32_t timers;
	/* bytes sent and not yet acked when our FIN was queued */
	bool have_unacked_fin;
	uint32_t unacked_fin;
	bool ended, held, incomplete, tw_handed, reset_sent, in_tuple;
	bool have_isn_local, have_isn_remote, have_fin_local, have_fin_remote;
	bool have_opts, have_info;
	bool have_syn_retrans, have_synack_retrans;
	bool tw_early; /* shown on entering TIME_WAIT, which goes on */
	uint8_t close_first; /* CLOSE_ACTIVE/PASSIVE/SIMULTANEOUS or 0 */
	uint8_t sk_err, owner_rank, options, snd_wscale, rcv_wscale;
	uint8_t req_end; /* a request's end: TCPSTATES_REQ_END_*, 0: unsaid */
	uint32_t pid, tgid;
	uint32_t uid; /* UINT32_MAX: unknown */
	char comm[16];

	uint32_t isn_local, isn_remote, fin_local, fin_remote;
	/* the full socket's last write_seq and rcv_nxt (have_seq_last) */
	bool have_seq_last;
	uint32_t write_seq_last, rcv_nxt_last;
	uint32_t mss, snd_wnd, rcv_wnd, srtt_us, retrans, synack_retrans;
	uint32_t syn_retrans; /* retransmits before ESTABLISHED */
	uint64_t bytes_acked, bytes_received, tw_timeout_ms;
	uint64_t first_ns, last_ns, syn_ns, est_ns, reset_ns, end_ns;
	uint32_t tw_rearms;
	/*
	 * Listener pressure. A server side: when accept() took it (0: not
	 * yet), and the final ACKs its listener dropped while it was a request
	 * (full accept queue). A listener: what it turned away, by
	 * TCPSTATES_DROP_* cause (SYNs, and final ACKs of requests whose
	 * record was not ours).
	 */
	uint64_t accept_ns;
	uint32_t acks_dropped;
	/*
	 * A client side: when its connect record came (its SYN left, its
	 * local port taken; 0: none), and the ephemeral port range it was
	 * chosen from (low | high << 16; 0: not recorded).
	 */
	uint64_t connect_ns;
	uint32_t port_range;
	uint32_t listen_drops[TCPSTATES_NR_DROPS];

	struct tt_span *states;
	uint32_t nstates, capstates;
	const char *host; /* the recording host's label, else NULL */
};

/* What happened to one side, for the sink's side callback. */
enum tt_side_event {
	TT_SIDE_ESTABLISHED, /* it just reached ESTABLISHED */
	TT_SIDE_ENDED, /* it ended (before pairing, which may hold it) */
	TT_SIDE_TIME_WAIT, /* it just entered TIME_WAIT (not a re-arm in it) */
	TT_SIDE_ACCEPTED, /* accept() just took it (first accept record) */
	TT_SIDE_CONNECTED, /* its SYN left: its local port is taken */
};

/*
 * What the reconstruction hands over. Records belong to connections by id
 * (conn.id, never 0); a server's first records belong to its request, and
 * alias() says when they become a connection's.
 */
struct tt_sink {
	/* A finished connection and its peer on this host (or NULL). */
	void (*conn)(void *arg, const struct conn *c, const struct conn *peer);
	void (*side)(void *arg, const struct conn *c, enum tt_side_event ev);
	void (*lost)(void *arg, const struct tcpstates_record *r);
	/* Records of @from are @to's from now on (0: no connection's). */
	void (*alias)(void *arg, uint64_t from, uint64_t to);
	/* No record will name @id again. */
	void (*retire)(void *arg, uint64_t id);
	void *arg;
};

struct recon;
struct recon *tt_recon_new(const struct tt_sink *sink);
/*
 * Applies @r. Returns the id of the connection it belongs to (0: none),
 * and in @live that connection while it is still open, else NULL.
 */
uint64_t tt_recon_record(struct recon *R, const struct tcpstates_record *r,
			 const struct conn **live);
void tt_recon_finish(struct recon *R); /* flush everything still open */
/*
 * Numbers connections from @id on (the default is 1), before the first
 * record: reconstructions whose ids must never meet (one per host).
 */
void tt_recon_first_id(struct recon *R, uint64_t id);
/*
 * Hand a side over on entering TIME_WAIT (with its peer, if that is done),
 * not when TIME_WAIT ends; its timewait socket's records still belong to it.
 */
void tt_recon_early_time_wait(struct recon *R);
/* Every connection made from now on is @host's (kept, not copied). */
void tt_recon_set_host(struct recon *R, const char *host);
void tt_recon_free(struct recon *R);
size_t tt_recon_peak(const struct recon *R);
/*
 * @c's peer on this host: the side it is paired with, or else the one
 * whose 4-tuple and ISNs mirror it, as its end would pair them (NULL: none).
 */
const struct conn *tt_recon_peer(const struct recon *R, const struct conn *c);
/* Calls @fn for every side that has not ended yet, in creation order. */
void tt_recon_each_live(const struct recon *R,
			void (*fn)(void *arg, const struct conn *c), void *arg);

/* ---- conn.c: questions the output formats ask of a connection ---- */
bool tt_conn_visited(const struct conn *c, unsigned int state);
const struct tt_span *tt_conn_last_span(const struct conn *c);
/*
 * Bytes one way. APP: the application's bytes, exact, from the sequence
 * numbers: FIN - ISN - 1 when that side's ISN and FIN were both recorded;
 * for a side that ended without that FIN (an RST), its last write_seq
 * (sent) or rcv_nxt (received) - ISN - 1. KERNEL: the kernel's bytes_acked
 * or bytes_received instead, which count the SYN and FIN too, where the
 * sequence numbers were not recorded. NONE: neither was recorded.
 */
enum tt_bytes_kind { TT_BYTES_NONE, TT_BYTES_APP, TT_BYTES_KERNEL };
struct tt_bytes {
	uint64_t n;
	enum tt_bytes_kind kind;
};

void tt_conn_bytes(const struct conn *c, struct tt_bytes *tx,
		   struct tt_bytes *rx);
/* Orders a pair as (client, server). */
void tt_pair_order(const struct conn **a, const struct conn **b);
/* A copy that owns its states, outside any table (NULL: no memory). */
struct conn *tt_conn_clone(const struct conn *c);
void tt_conn_free(struct conn *c);
/* Moves every time of @c by @delta ns (another host's clock onto ours). */
void tt_conn_shift(struct conn *c, int64_t delta);
/* When @c first entered @state; 0 if never. */
uint64_t tt_conn_entered(const struct conn *c, unsigned int state);
/* A server side's time in the accept queue (ESTABLISHED to accept()); false: none. */
bool tt_conn_accept_wait(const struct conn *c, uint64_t *ns);

/* ---- hosts.c: conversations between captures of several hosts ---- */
struct tt_host_clock {
	int64_t wall_ns; /* this host's realtime - the reference's */
	bool have_lo, have_hi; /* residual offset bounds from packets */
	int64_t lo_ns, hi_ns;
	int64_t est_ns; /* residual applied: the middle of the bounds */
	unsigned int bounds, conversations;
	bool wall_unknown; /* a capture without its realtime offset: wall_ns 0 */
	bool unplaced; /* on host 0's clock it would start before 0: not moved */
};

struct tt_hosts;
/*
 * @realtime_offset_ns per host: CLOCK_REALTIME - CLOCK_MONOTONIC there, 0
 * when the capture does not carry it (the packets alone place that host).
 */
struct tt_hosts *tt_hosts_new(unsigned int nhosts, const char *const *labels,
			      const int64_t *realtime_offset_ns);
/* Keeps a copy of a finished side (and its same-host peer) of @host. */
int tt_hosts_add(struct tt_hosts *H, unsigned int host, const struct conn *c,
		 const struct conn *peer);
/* Pairs sides across hosts and estimates each host's clock offset. */
void tt_hosts_pair(struct tt_hosts *H);
const struct tt_host_clock *tt_hosts_clock(const struct tt_hosts *H,
					   unsigned int host);
/* Every conversation to @sink, on host 0's clock, in time order. */
void tt_hosts_emit(struct tt_hosts *H, const struct tt_sink *sink);
void tt_hosts_free(struct tt_hosts *H);

#endif /* TT_RECONSTRUCT_RECON_H */
