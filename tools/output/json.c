// SPDX-License-Identifier: GPL-2.0
/*
 * --json: one object per connection per line (JSON Lines). Unknown numbers
 * are null, never 0, so a consumer can tell "ISN 0" from "not seen". A lost
 * marker is its own line, {"lost": N, ...}, at the point it happened.
 */
#include <arpa/inet.h>

#include "output/output.h"

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_u32(FILE *f, const char *key, bool have, uint32_t v)
{
	if (have)
		fprintf(f, ",\"%s\":%u", key, v);
	else
		fprintf(f, ",\"%s\":null", key);
}

void tt_json_conn(FILE *f, const struct conn *c)
{
	char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
	const char *o = tt_open_name(c->open);

	tt_format_addr(c->family, c->laddr, l, sizeof(l));
	tt_format_addr(c->family, c->raddr, r, sizeof(r));
	fprintf(f, "{\"netns\":%u,\"cookie\":%llu,\"family\":\"%s\",\"mapped\":%s",
		c->netns, (unsigned long long)c->cookie,
		c->family == TCPSTATES_FAMILY_INET6 ? "ipv6" : "ipv4",
		c->mapped ? "true" : "false");
	fprintf(f, ",\"laddr\":\"%s\",\"lport\":%u,\"raddr\":\"%s\",\"rport\":%u",
		l, c->lport, r, c->rport);
	fprintf(f, ",\"role\":\"%s\"", tt_role_name(c->role));
	json_u32(f, "pid", c->owner_rank, c->tgid);
	fprintf(f, ",\"comm\":");
	if (c->owner_rank)
		json_str(f, c->comm);
	else
		fprintf(f, "null");
	json_u32(f, "uid", c->uid != UINT32_MAX, c->uid);
	if (o)
		fprintf(f, ",\"open\":\"%s\"", o);
	else
		fprintf(f, ",\"open\":null");
	fprintf(f, ",\"close\":\"%s\"", tt_close_name(c->close));
	json_u32(f, "isn_local", c->have_isn_local, c->isn_local);
	json_u32(f, "isn_remote", c->have_isn_remote, c->isn_remote);
	json_u32(f, "fin_seq_local", c->have_fin_local, c->fin_local);
	json_u32(f, "fin_seq_remote", c->have_fin_remote, c->fin_remote);
	if (c->est_ns && c->syn_ns && c->est_ns >= c->syn_ns)
		fprintf(f, ",\"handshake_ns\":%llu",
			(unsigned long long)(c->est_ns - c->syn_ns));
	else
		fprintf(f, ",\"handshake_ns\":null");
	fprintf(f, ",\"start_ns\":%llu,\"end_ns\":%llu",
		(unsigned long long)c->first_ns, (unsigned long long)c->end_ns);
	fprintf(f, ",\"states\":[");
	for (uint32_t i = 0; i < c->nstates; i++) {
		const struct tt_span *s = &c->states[i];

		fprintf(f, "%s{\"state\":\"%s\",\"enter_ns\":%llu,\"leave_ns\":",
			i ? "," : "", tt_state_name(s->state),
			(unsigned long long)s->enter_ns);
		if (s->leave_ns)
			fprintf(f, "%llu}", (unsigned long long)s->leave_ns);
		else
			fprintf(f, "null}");
	}
	fprintf(f, "]");
	fprintf(f, ",\"bytes_acked\":%llu,\"bytes_received\":%llu",
		(unsigned long long)c->bytes_acked,
		(unsigned long long)c->bytes_received);
	fprintf(f, ",\"retrans\":%u,\"syn_retrans\":%u,\"synack_retrans\":%u",
		c->retrans, c->syn_retrans, c->synack_retrans);
	json_u32(f, "srtt_us", c->srtt_us, c->srtt_us);
	json_u32(f, "mss", c->have_opts, c->mss);
	json_u32(f, "snd_wscale", c->have_opts, c->snd_wscale);
	json_u32(f, "rcv_wscale", c->have_opts, c->rcv_wscale);
	if (c->have_opts)
		fprintf(f, ",\"sack\":%s,\"timestamps\":%s",
			c->options & TCPSTATES_OPT_SACK ? "true" : "false",
			c->options & TCPSTATES_OPT_TIMESTAMP ? "true" : "false");
	json_u32(f, "snd_wnd", c->have_opts, c->snd_wnd);
	json_u32(f, "rcv_wnd", c->have_opts, c->rcv_wnd);
	json_u32(f, "sk_err", true, c->sk_err);
	fprintf(f, ",\"time_wait_end\":%s",
		c->twend == TW_EXPIRED ? "\"expired\"" :
		c->twend == TW_KILLED ? "\"killed\"" :
		c->twend == TW_SKIPPED ? "\"skipped\"" : "null");
	if (c->peer)
		fprintf(f, ",\"peer_netns\":%u,\"peer_cookie\":%llu",
			c->peer->netns, (unsigned long long)c->peer->cookie);
	else
		fprintf(f, ",\"peer_netns\":null,\"peer_cookie\":null");
	fprintf(f, ",\"incomplete\":%s}\n", c->incomplete ? "true" : "false");
}

void tt_json_lost(FILE *f, const struct tcpstates_record *r)
{
	fprintf(f, "{\"lost\":%llu,\"seq\":%llu,\"ts_ns\":%llu}\n",
		(unsigned long long)r->aux, (unsigned long long)r->seq,
		(unsigned long long)r->ts_ns);
}
