// SPDX-License-Identifier: GPL-2.0
/*
 * The one-connection view's notes: each edge a side took, with the packets
 * the study note puts on it (SYN seq=A, SYN-ACK seq=B ack=A+1, ACK ack=B+1,
 * FIN seq=C, ACK ack=C+1, FIN seq=D, ACK ack=D+1). The letters are the
 * ladder's (ladder.c), whose legend gives the numbers behind them.
 */
#include "output/diagram.h"

int tt_dgm_first_fin(const struct tt_ladder *L)
{
	const struct conn *l = L->side[0], *r = L->side[1];

	if (l && l->close_first == CLOSE_PASSIVE)
		return 1;
	if (!l || !l->close_first)
		return r && r->close_first == CLOSE_ACTIVE;
	return 0;
}

#define E(f, t) (TCPSTATES_##f * TCPSTATES_NR_STATES + TCPSTATES_##t)

/* Into CLOSED: how, where the figure's arrow does not say. */
static void closed(const struct conn *c, unsigned int from, char fin, char *buf,
		   size_t len)
{
	if (from == TCPSTATES_TIME_WAIT)
		snprintf(buf, len, "%s",
			 c->twend == TW_KILLED ? "killed (reused)" :
						 "2MSL timer expired");
	else if (from == TCPSTATES_LAST_ACK && c->close == CLOSE_PASSIVE)
		snprintf(buf, len, "rcv ACK ack=%c+1", fin);
	else
		snprintf(buf, len, "close: %s", tt_close_name(c->close));
}

void tt_dgm_packets(const struct conn *c, int side, int first,
		    unsigned int from, unsigned int to, char *buf, size_t len)
{
	char me = side ? 'B' : 'A', peer = side ? 'A' : 'B';
	char fin = side == first ? 'C' : 'D', pfin = side == first ? 'D' : 'C';

	buf[0] = 0;
	if (from >= TCPSTATES_NR_STATES || to >= TCPSTATES_NR_STATES)
		return;
	switch (from * TCPSTATES_NR_STATES + to) {
	case E(CLOSE, SYN_SENT):
		snprintf(buf, len, "snd SYN seq=%c", me);
		break;
	case E(SYN_SENT, ESTABLISHED):
		snprintf(buf, len,
			 "rcv SYN-ACK seq=%c ack=%c+1 / snd ACK ack=%c+1", peer,
			 me, peer);
		break;
	case E(LISTEN, NEW_SYN_RECV):
	case E(LISTEN, SYN_RECV):
	case E(SYN_SENT, SYN_RECV):
		snprintf(buf, len,
			 "rcv SYN seq=%c / snd SYN-ACK seq=%c ack=%c+1", peer,
			 me, peer);
		break;
	case E(NEW_SYN_RECV, SYN_RECV):
		snprintf(buf, len, "rcv ACK ack=%c+1", me);
		break;
	case E(SYN_RECV, ESTABLISHED):
		snprintf(buf, len, "the ACK ack=%c+1 accepted", me);
		break;
	case E(ESTABLISHED, FIN_WAIT1):
	case E(CLOSE_WAIT, LAST_ACK):
		snprintf(buf, len, "snd FIN seq=%c", fin);
		break;
	case E(FIN_WAIT1, FIN_WAIT2):
	case E(CLOSING, TIME_WAIT):
		snprintf(buf, len, "rcv ACK ack=%c+1", fin);
		break;
	case E(FIN_WAIT2, TIME_WAIT):
	case E(ESTABLISHED, CLOSE_WAIT):
	case E(FIN_WAIT1, CLOSING):
		snprintf(buf, len, "rcv FIN seq=%c / snd ACK ack=%c+1", pfin,
			 pfin);
		break;
	case E(FIN_WAIT1, TIME_WAIT):
		snprintf(buf, len, "rcv FIN seq=%c ack=%c+1 / snd ACK ack=%c+1",
			 pfin, fin, pfin);
		break;
	default:
		if (to == TCPSTATES_CLOSE)
			closed(c, from, fin, buf, len);
	}
}
