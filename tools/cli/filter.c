// SPDX-License-Identifier: GPL-2.0
/*
 * Filters. Each option is a group; the values given to one group (a list,
 * or the option repeated) are alternatives, as tcpdump's "or"; the groups
 * must all hold ("and"). A conversation (two sides on this host) is shown
 * if either side matches; its records, too.
 *
 * A side is judged in three values while it is open: YES and NO once
 * nothing still to come can change them (the ports are known once bound,
 * the owner once connect/accept/listen named it), UNSURE before. That lets
 * -w and --dump pass a record on as soon as its connection is decided
 * rather than when it ends.
 */
#include <arpa/inet.h>
#include <string.h>

#include "cli/cli.h"

enum { NO = 0, YES = 1, UNSURE = -1 };

static int all(int a, int b)
{
	if (a == NO || b == NO)
		return NO;
	return a == UNSURE || b == UNSURE ? UNSURE : YES;
}

static bool bit(const uint8_t *map, unsigned int i)
{
	return map[i / 8] & (1 << (i % 8));
}

static bool in_cidr(const struct cidr *n, unsigned int family, const uint8_t *a)
{
	unsigned int full = n->bits / 8, rest = n->bits % 8;

	if (n->family != family || memcmp(n->addr, a, full))
		return false;
	return !rest || !((n->addr[full] ^ a[full]) & (0xff << (8 - rest)));
}

static bool any_cidr(const struct filter *f, unsigned int family,
		     const uint8_t *a)
{
	for (unsigned int i = 0; i < f->naddrs; i++)
		if (in_cidr(&f->addrs[i], family, a))
			return true;
	return false;
}

static bool in_list(const uint32_t *v, unsigned int n, uint32_t x)
{
	for (unsigned int i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* Ports, addresses and family: all known from a 4-tuple. */
static bool tuple_ok(const struct filter *f, unsigned int family,
		     const uint8_t *la, uint16_t lp, const uint8_t *ra,
		     uint16_t rp)
{
	if (f->have_port && !bit(f->port, lp) && !bit(f->port, rp))
		return false;
	if (f->have_lport && !bit(f->lport, lp))
		return false;
	if (f->have_rport && !bit(f->rport, rp))
		return false;
	if (f->naddrs && !any_cidr(f, family, la) && !any_cidr(f, family, ra))
		return false;
	if ((f->v4 || f->v6) &&
	    !(family == TCPSTATES_FAMILY_INET ? f->v4 : f->v6))
		return false;
	return true;
}

static bool tuple_known(const struct conn *c)
{
	return c->lport && (c->rport || c->role == ROLE_LISTENER);
}

static int side_tuple(const struct filter *f, const struct conn *c, bool mirror)
{
	if (!tuple_known(c) && !c->ended)
		return UNSURE;
	if (mirror)
		return tuple_ok(f, c->family, c->raddr, c->rport, c->laddr,
				c->lport);
	return tuple_ok(f, c->family, c->laddr, c->lport, c->raddr, c->rport);
}

static bool comm_in(const struct filter *f, const char *comm)
{
	for (unsigned int i = 0; i < f->ncomms; i++)
		if (!strcmp(f->comms[i], comm))
			return true;
	return false;
}

/* pid and comm: final once connect, accept or listen named the owner. */
static int side_owner(const struct filter *f, const struct conn *c)
{
	bool final = c->ended || c->owner_rank == 2;
	int v = YES;

	if (f->npids && !(c->owner_rank && in_list(f->pids, f->npids, c->tgid)))
		v = NO;
	if (f->ncomms && !(c->owner_rank && comm_in(f, c->comm)))
		v = NO;
	return v == NO && !final ? UNSURE : v;
}

static int side_states(const struct filter *f, const struct conn *c)
{
	for (uint32_t i = 0; f->states && i < c->nstates; i++)
		if (f->states & (1u << c->states[i].state))
			return YES;
	return !f->states ? YES : c->ended ? NO : UNSURE;
}

static int side_role(const struct filter *f, const struct conn *c)
{
	bool final = c->ended || c->est_ns || c->role == ROLE_LISTENER ||
		     c->role == ROLE_SERVER;

	if (!f->roles)
		return YES;
	if (!final)
		return UNSURE;
	return f->roles & (1u << c->role) ? YES : NO;
}

/*
 * The side's life overlaps [since, until]: from its first record to its
 * end, or on past the end of the input if it was still open then.
 */
static int side_window(const struct filter *f, const struct conn *c)
{
	if (f->have_until && c->first_ns > f->until_ns)
		return NO;
	if (!f->have_since || c->last_ns >= f->since_ns ||
	    (c->ended && c->close == CLOSE_OPEN))
		return YES;
	return c->ended ? NO : UNSURE;
}

static bool cookie_in(const struct filter *f, uint64_t cookie)
{
	for (unsigned int i = 0; i < f->ncookies; i++)
		if (f->cookies[i] == cookie)
			return true;
	return false;
}

static int side(const struct filter *f, const struct conn *c, bool mirror)
{
	int v = side_tuple(f, c, mirror);

	if (mirror)
		return v;
	/* a side's cookie is known from its first record on */
	v = all(v, f->ncookies && !cookie_in(f, c->cookie) ? NO : YES);
	v = all(v, f->nnetns && !in_list(f->netns, f->nnetns, c->netns) ? NO :
									  YES);
	v = all(v, side_owner(f, c));
	v = all(v, side_states(f, c));
	v = all(v, side_role(f, c));
	return all(v, side_window(f, c));
}

bool tt_filter_conn(const struct filter *f, const struct conn *c)
{
	return side(f, c, false) == YES;
}

/*
 * An open side's conversation: YES once the side matches for good; NO once
 * it cannot, and neither can any peer (a listener has none; a peer has the
 * mirrored 4-tuple, so a tuple the mirror fails rules peers out).
 */
int tt_filter_early(const struct filter *f, const struct conn *c)
{
	int v = side(f, c, false);

	if (v == YES || (v == NO && c->role == ROLE_LISTENER))
		return v;
	if (v == NO && side(f, c, true) == NO)
		return NO;
	return UNSURE;
}

static bool within(const struct filter *f, uint64_t ts)
{
	return (!f->have_since || ts >= f->since_ns) &&
	       (!f->have_until || ts <= f->until_ns);
}

/* A record no connection claims, judged on what it carries itself. */
bool tt_filter_record(const struct filter *f, const struct tcpstates_record *r)
{
	bool task = r->ctx == TCPSTATES_CTX_TASK && r->pid;

	if (!tuple_ok(f, r->family, r->saddr, ntohs(r->sport), r->daddr,
		      ntohs(r->dport)))
		return false;
	if (f->nnetns && !in_list(f->netns, f->nnetns, r->netns))
		return false;
	if (f->ncookies && !cookie_in(f, r->cookie))
		return false;
	if (f->npids && !(task && in_list(f->pids, f->npids, r->tgid)))
		return false;
	if (f->ncomms && !(task && comm_in(f, r->comm)))
		return false;
	if (f->states &&
	    !(f->states & ((1u << r->old_state) | (1u << r->new_state))))
		return false;
	return !f->roles && within(f, r->ts_ns);
}
