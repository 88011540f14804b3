// SPDX-License-Identifier: GPL-2.0
/*
 * --csv: one row per connection, with a header line.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "output/output.h"

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

	tt_format_addr(c->family, c->laddr, l, sizeof(l));
	tt_format_addr(c->family, c->raddr, r, sizeof(r));
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

