// SPDX-License-Identifier: GPL-2.0
/*
 * gencap N: writes a synthetic capture of about N records to stdout for the
 * benchmark: loopback conversations (client closes first, server passive),
 * 17 records each, with every TIME_WAIT expiring 256 conversations later, so
 * a few hundred connections are live at any time while millions finish.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "output/output.h"

#define LAG 256

static uint64_t seq, now = 1000000000000ULL;

static void put(const struct tcpstates_record *r)
{
	struct tcpstates_record x = *r;

	x.seq = seq++;
	x.ts_ns = now;
	now += 1000;
	fwrite(&x, sizeof(x), 1, stdout);
}

static void ev(struct tcpstates_record *r, uint16_t kind, uint8_t o, uint8_t n,
	       uint8_t ctx)
{
	r->kind = kind;
	r->old_state = o;
	r->new_state = n;
	r->ctx = ctx;
	put(r);
}

int main(int argc, char **argv)
{
	struct tt_cap_info ci = { 0 };
	unsigned char h[TT_CAP_HEADER_SIZE];
	struct tcpstates_record *tw = calloc(LAG, sizeof(*tw));
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	uint64_t i;

	tt_cap_header(h, &ci);
	if (!tw || fwrite(h, sizeof(h), 1, stdout) != 1)
		return 2;
	for (i = 0; seq < n; i++) {
		struct tcpstates_record c = { 0 }, s, q;
		uint32_t A = (uint32_t)(i * 2654435761u), B = ~A;
		uint16_t port = 10000 + i % 50000;

		c.netns = 4026531840u;
		c.cookie = 1000 + 3 * i;
		c.family = TCPSTATES_FAMILY_INET;
		c.flags = TCPSTATES_F_SEQ | TCPSTATES_F_TCPINFO |
			  TCPSTATES_F_WINDOW;
		c.saddr[0] = c.daddr[0] = 127;
		c.saddr[3] = c.daddr[3] = 1;
		c.sport = htons(port);
		c.dport = htons(8080);
		c.pid = c.tgid = 4242;
		strcpy(c.comm, "bench");
		s = c;
		s.cookie = c.cookie + 2;
		s.sport = c.dport;
		s.dport = c.sport;
		s.pid = s.tgid = 777;
		q = s;
		q.cookie = c.cookie + 1;
		q.flags = TCPSTATES_F_SEQ | TCPSTATES_F_REQUEST;

		ev(&c, TCPSTATES_EV_STATE, TCPSTATES_CLOSE, TCPSTATES_SYN_SENT,
		   0);
		c.snd_una = A;
		ev(&c, TCPSTATES_EV_CONNECT, TCPSTATES_SYN_SENT,
		   TCPSTATES_SYN_SENT, 0);
		q.snd_una = B;
		q.rcv_nxt = A + 1;
		ev(&q, TCPSTATES_EV_REQUEST, 0, TCPSTATES_NEW_SYN_RECV, 1);
		c.rcv_nxt = B + 1;
		ev(&c, TCPSTATES_EV_STATE, TCPSTATES_SYN_SENT,
		   TCPSTATES_ESTABLISHED, 1);
		s.snd_una = B + 1;
		s.rcv_nxt = A + 1;
		ev(&s, TCPSTATES_EV_CHILD, TCPSTATES_NEW_SYN_RECV,
		   TCPSTATES_SYN_RECV, 1);
		ev(&q, TCPSTATES_EV_REQUEST_END, TCPSTATES_NEW_SYN_RECV, 0, 1);
		ev(&s, TCPSTATES_EV_STATE, TCPSTATES_SYN_RECV,
		   TCPSTATES_ESTABLISHED, 1);
		ev(&s, TCPSTATES_EV_ACCEPT, TCPSTATES_ESTABLISHED,
		   TCPSTATES_ESTABLISHED, 0);
		c.write_seq = A + 101;
		c.bytes_acked = 100;
		ev(&c, TCPSTATES_EV_STATE, TCPSTATES_ESTABLISHED,
		   TCPSTATES_FIN_WAIT1, 0);
		s.rcv_nxt = A + 102;
		ev(&s, TCPSTATES_EV_STATE, TCPSTATES_ESTABLISHED,
		   TCPSTATES_CLOSE_WAIT, 1);
		ev(&c, TCPSTATES_EV_STATE, TCPSTATES_FIN_WAIT1,
		   TCPSTATES_FIN_WAIT2, 1);
		c.aux = 60000;
		ev(&c, TCPSTATES_EV_TIME_WAIT, TCPSTATES_FIN_WAIT2,
		   TCPSTATES_FIN_WAIT2, 1);
		c.aux = 0;
		ev(&c, TCPSTATES_EV_STATE, TCPSTATES_FIN_WAIT2, TCPSTATES_CLOSE,
		   1);
		s.write_seq = B + 1;
		ev(&s, TCPSTATES_EV_STATE, TCPSTATES_CLOSE_WAIT,
		   TCPSTATES_LAST_ACK, 0);
		c.rcv_nxt = B + 2;
		c.aux = 60000;
		ev(&c, TCPSTATES_EV_TW_REARM, 0, TCPSTATES_TIME_WAIT, 1);
		ev(&s, TCPSTATES_EV_STATE, TCPSTATES_LAST_ACK, TCPSTATES_CLOSE,
		   1);
		if (i >= LAG) {
			struct tcpstates_record *old = &tw[i % LAG];

			ev(old, TCPSTATES_EV_TW_EXPIRE, TCPSTATES_TIME_WAIT,
			   TCPSTATES_CLOSE, 1);
		}
		tw[i % LAG] = c;
	}
	free(tw);
	return fflush(stdout) ? 2 : 0;
}
