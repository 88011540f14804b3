/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Filters: which connections are shown (filter.c), which records -w,
 * --dump and --stats keep (select.c), the filter options (filter_opts.c)
 * and --since/--until (when.c). Below the recorder, the fleet modes and
 * the command line, which use it; above the formats.
 */
#ifndef TT_FILTER_FILTER_H
#define TT_FILTER_FILTER_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "decode/decode.h"
#include "reconstruct/recon.h"
#include "output/output.h"

/* --since, --until: as given, resolved at the first record (when.c). */
struct when {
	enum { WHEN_MONO, WHEN_EPOCH, WHEN_CIVIL, WHEN_TODAY } kind;
	struct tm tm; /* CIVIL: the date and time; TODAY: the time */
	int64_t ns; /* MONO, EPOCH: all of it; else the fraction */
	bool zulu; /* a trailing Z: UTC */
};

#define TT_FILTER_VALUES 64

struct cidr {
	uint8_t family, bits;
	uint8_t addr[16];
};

/* Values of one group are alternatives; the groups given must all hold. */
struct filter {
	bool any; /* some filter was given */
	bool have_port, have_lport, have_rport;
	uint8_t port[8192], lport[8192], rport[8192]; /* a bit per port */
	struct cidr addrs[TT_FILTER_VALUES];
	unsigned int naddrs;
	bool v4, v6;
	uint32_t pids[TT_FILTER_VALUES];
	unsigned int npids;
	char comms[TT_FILTER_VALUES][16];
	unsigned int ncomms;
	uint32_t netns[TT_FILTER_VALUES];
	unsigned int nnetns;
	uint64_t cookies[TT_FILTER_VALUES];
	unsigned int ncookies;
	uint32_t states; /* a bit per TCP state */
	uint32_t roles; /* a bit per enum tt_role */
	bool have_since, have_until;
	struct when since, until;
	uint64_t since_ns, until_ns; /* resolved: CLOCK_MONOTONIC */
};

/* ---- filter_opts.c: the options into struct filter ---- */
enum tt_filter_kind {
	TT_F_PORT,
	TT_F_LPORT,
	TT_F_RPORT,
	TT_F_ADDR,
	TT_F_PID,
	TT_F_NETNS,
	TT_F_COOKIE,
	TT_F_COMM,
	TT_F_STATE,
	TT_F_ROLE,
};

/* A decimal number up to @max, the whole string; -1 if not. */
int tt_parse_u32(const char *s, uint32_t max, uint32_t *out);
/* ::ffff:a.b.c.d, an IPv4 address in IPv6 form */
static inline bool tt_v4_mapped(const uint8_t *a)
{
	static const uint8_t prefix[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a, prefix, sizeof(prefix));
}
/* Adds the values of @arg (a comma list); -1 with what it wanted. */
int tt_filter_add(struct filter *f, enum tt_filter_kind k, const char *arg,
		  const char **want);

/* ---- filter.c ---- */
/* An ended side matches. */
bool tt_filter_conn(const struct filter *f, const struct conn *c);
/* An open side's conversation: 1 shown, 0 not, -1 not known yet. */
int tt_filter_early(const struct filter *f, const struct conn *c);
/* A record no connection claims, on its own fields. */
bool tt_filter_record(const struct filter *f, const struct tcpstates_record *r);

/* ---- select.c: which records -w, --dump and --stats keep ---- */
struct tt_select;
/* @out gets the records kept, in their order. */
struct tt_select *tt_select_new(const struct filter *f, tt_record_fn out,
				void *arg);
void tt_select_record(struct tt_select *S, const struct tcpstates_record *r,
		      uint64_t id, const struct conn *live);
void tt_select_decide(struct tt_select *S, uint64_t c, uint64_t peer,
		      bool shown);
void tt_select_alias(struct tt_select *S, uint64_t from, uint64_t to);
void tt_select_retire(struct tt_select *S, uint64_t id);
void tt_select_finish(struct tt_select *S);
void tt_select_free(struct tt_select *S);

/* ---- when.c ---- */
int tt_when_parse(const char *s, struct when *w);
int tt_when_resolve(const struct when *w, const struct tt_clock *k,
		    uint64_t first_ns, uint64_t *mono);

#endif /* TT_FILTER_FILTER_H */
