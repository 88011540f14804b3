// SPDX-License-Identifier: GPL-2.0
/*
 * Names of the reconstruction's own values, and the questions the output
 * formats ask of a finished connection.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reconstruct/recon.h"

#define NAME_OF(NAME, name) #name,
static const char *const role_names[ROLE_NR] = { TT_ROLE_LIST(NAME_OF) };
static const char *const open_names[OPEN_NR] = { TT_OPEN_LIST(NAME_OF) };
#define CLOSE_NAME(NAME, name, meaning) #name,
#define CLOSE_MEANING(NAME, name, meaning) meaning,
static const char *const close_names[CLOSE_NR] = { TT_CLOSE_LIST(CLOSE_NAME) };
static const char *const close_meanings[CLOSE_NR] = { TT_CLOSE_LIST(
	CLOSE_MEANING) };

const char *tt_role_name(unsigned int v)
{
	return v < ROLE_NR ? role_names[v] : "unknown";
}

int tt_role_parse(const char *s)
{
	for (unsigned int i = 0; i < ROLE_NR; i++)
		if (!strcasecmp(role_names[i], s))
			return i;
	return -1;
}

const char *tt_open_name(unsigned int v)
{
	return v < OPEN_NR && v != OPEN_NONE ? open_names[v] : NULL;
}

const char *tt_close_name(unsigned int v)
{
	return v < CLOSE_NR ? close_names[v] : "unknown";
}

const char *tt_close_meaning(unsigned int v)
{
	return v < CLOSE_NR ? close_meanings[v] : "";
}

#define REASON_NAME(NAME, name, meaning) #name,
#define REASON_MEANING(NAME, name, meaning) meaning,
static const char *const reason_names[REASON_NR] = { TT_REASON_LIST(
	REASON_NAME) };
static const char *const reason_meanings[REASON_NR] = { TT_REASON_LIST(
	REASON_MEANING) };

const char *tt_reason_meaning(unsigned int v)
{
	return v < REASON_NR ? reason_meanings[v] : "";
}

/* A reset whose kernel reason is not known is just "reset". */
unsigned int tt_reason_key(const struct conn *c)
{
	if (c->reason == REASON_RESET && c->rst_reason != TCPSTATES_RST_NONE &&
	    c->rst_reason < TCPSTATES_NR_RST_REASONS)
		return REASON_NR + c->rst_reason;
	return c->reason < REASON_NR ? c->reason : REASON_UNKNOWN;
}

/* A reset named by the kernel's own word, not by what the records prove. */
bool tt_reason_is_kernels(const struct conn *c)
{
	return tt_reason_key(c) >= REASON_NR && !c->rst_derived;
}

/* The kernel's reasons, as include/net/rstreason.h explains them. */
static const char *const rst_meanings[TCPSTATES_NR_RST_REASONS] = {
	[TCPSTATES_RST_OTHER] = "a kernel reason newer than this tool",
	[TCPSTATES_RST_NOT_SPECIFIED] = "the kernel sent it without a reason",
	[TCPSTATES_RST_NO_SOCKET] = "no socket for the segment that came",
	[TCPSTATES_RST_TCP_INVALID_ACK_SEQUENCE] =
		"an ACK outside snd_una..snd_nxt",
	[TCPSTATES_RST_TCP_RFC7323_PAWS] = "PAWS rejected a segment",
	[TCPSTATES_RST_TCP_TOO_OLD_ACK] = "an ACK too old",
	[TCPSTATES_RST_TCP_ACK_UNSENT_DATA] = "an ACK of data never sent",
	[TCPSTATES_RST_TCP_FLAGS] = "invalid TCP flags",
	[TCPSTATES_RST_TCP_OLD_ACK] = "an old ACK, in the window",
	[TCPSTATES_RST_TCP_ABORT_ON_DATA] =
		"data came after close() (TcpExtTCPAbortOnData)",
	[TCPSTATES_RST_TCP_TIMEWAIT_SOCKET] = "a timewait socket answered",
	[TCPSTATES_RST_INVALID_SYN] =
		"a SYN in the window of a synchronised connection (RFC 9293)",
	[TCPSTATES_RST_TCP_ABORT_ON_CLOSE] =
		"close() threw away data the application had not read"
		" (TcpExtTCPAbortOnClose)",
	[TCPSTATES_RST_TCP_ABORT_ON_LINGER] =
		"an orphan in FIN_WAIT2 with TCP_LINGER2 < 0"
		" (TcpExtTCPAbortOnLinger)",
	[TCPSTATES_RST_TCP_ABORT_ON_MEMORY] =
		"too many orphans, or no memory (TcpExtTCPAbortOnMemory)",
	[TCPSTATES_RST_TCP_STATE] =
		"the state called for it (RFC 9293): tcp_disconnect() of a"
		" synchronised socket, close() with SO_LINGER 0 among them",
	[TCPSTATES_RST_TCP_KEEPALIVE_TIMEOUT] =
		"keepalive probes went unanswered",
	[TCPSTATES_RST_TCP_DISCONNECT_WITH_DATA] =
		"disconnect with data unsent in CLOSING or LAST_ACK",
	[TCPSTATES_RST_ERROR] = "an unexpected error",
};

const char *tt_reason_key_meaning(unsigned int key)
{
	if (key < REASON_NR)
		return reason_meanings[key];
	if (key < TT_REASON_KEYS && rst_meanings[key - REASON_NR])
		return rst_meanings[key - REASON_NR];
	return "";
}

const char *tt_reason_key_name(unsigned int key)
{
	if (key < REASON_NR)
		return reason_names[key];
	if (key == REASON_NR + TCPSTATES_RST_NONE)
		return NULL;
	return key < TT_REASON_KEYS ? tt_rst_reason_name(key - REASON_NR) :
				      NULL;
}

static struct tt_bytes one_way(bool have_isn, uint32_t isn, bool have_end,
			       uint32_t end, bool have_info, uint64_t counter)
{
	if (have_isn && have_end && end != isn)
		return (struct tt_bytes){ (uint32_t)(end - isn - 1),
					  TT_BYTES_APP };
	if (have_info)
		return (struct tt_bytes){ counter, TT_BYTES_KERNEL };
	return (struct tt_bytes){ 0, TT_BYTES_NONE };
}

/*
 * Where the bytes one way end: the FIN's sequence number, or, for a side
 * over without it and whose history is whole, the full socket's last
 * write_seq or rcv_nxt (no FIN in it: a FIN would have been recorded).
 */
static bool bytes_end(const struct conn *c, bool have_fin, uint32_t fin,
		      uint32_t seq_last, uint32_t *end)
{
	*end = have_fin ? fin : seq_last;
	return have_fin || (c->have_seq_last && c->ended && !c->incomplete &&
			    c->close != CLOSE_OPEN);
}

void tt_conn_bytes(const struct conn *c, struct tt_bytes *tx,
		   struct tt_bytes *rx)
{
	uint32_t end;
	bool have;

	have = bytes_end(c, c->have_fin_local, c->fin_local, c->write_seq_last,
			 &end);
	*tx = one_way(c->have_isn_local, c->isn_local, have, end, c->have_info,
		      c->bytes_acked);
	have = bytes_end(c, c->have_fin_remote, c->fin_remote, c->rcv_nxt_last,
			 &end);
	*rx = one_way(c->have_isn_remote, c->isn_remote, have, end,
		      c->have_info, c->bytes_received);
}

const struct tt_span *tt_conn_last_span(const struct conn *c)
{
	return c->nstates ? &c->states[c->nstates - 1] : NULL;
}

bool tt_conn_visited(const struct conn *c, unsigned int state)
{
	for (uint32_t i = 0; i < c->nstates; i++)
		if (c->states[i].state == state)
			return true;
	return false;
}

void tt_pair_order(const struct conn **a, const struct conn **b)
{
	const struct conn *t;

	if (!*b)
		return;
	if ((*a)->role == ROLE_SERVER ||
	    ((*b)->role == ROLE_CLIENT && (*a)->role != ROLE_CLIENT)) {
		t = *a;
		*a = *b;
		*b = t;
	}
}

struct conn *tt_conn_clone(const struct conn *c)
{
	struct conn *n = malloc(sizeof(*n));

	if (!n)
		return NULL;
	*n = *c;
	n->by_cookie.next = n->by_tuple.next = NULL;
	n->prev = n->next = n->peer = NULL;
	n->req = NULL;
	n->states = NULL;
	n->capstates = n->nstates;
	if (c->nstates) {
		n->states = malloc(c->nstates * sizeof(*n->states));
		if (!n->states) {
			free(n);
			return NULL;
		}
		memcpy(n->states, c->states, c->nstates * sizeof(*n->states));
	}
	return n;
}

void tt_conn_free(struct conn *c)
{
	if (!c)
		return;
	free(c->states);
	free(c);
}

static void shift(uint64_t *t, int64_t delta)
{
	if (*t)
		*t += delta;
}

void tt_conn_shift(struct conn *c, int64_t delta)
{
	shift(&c->first_ns, delta);
	shift(&c->last_ns, delta);
	shift(&c->syn_ns, delta);
	shift(&c->est_ns, delta);
	shift(&c->accept_ns, delta);
	shift(&c->connect_ns, delta);
	shift(&c->reset_ns, delta);
	shift(&c->end_ns, delta);
	for (uint32_t i = 0; i < c->nstates; i++) {
		shift(&c->states[i].enter_ns, delta);
		shift(&c->states[i].leave_ns, delta);
	}
}

bool tt_conn_accept_wait(const struct conn *c, uint64_t *ns)
{
	if (c->role != ROLE_SERVER || !c->est_ns || !c->accept_ns ||
	    c->accept_ns < c->est_ns)
		return false;
	*ns = c->accept_ns - c->est_ns;
	return true;
}

uint64_t tt_conn_entered(const struct conn *c, unsigned int state)
{
	for (uint32_t i = 0; i < c->nstates; i++)
		if (c->states[i].state == state)
			return c->states[i].enter_ns;
	return 0;
}
