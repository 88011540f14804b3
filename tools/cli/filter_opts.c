// SPDX-License-Identifier: GPL-2.0
/*
 * Filter options into struct filter. A value may be a comma-separated list
 * and an option may be repeated: either way the values add up (-p 80 -p 443
 * is -p 80,443). Ports take ranges (8000-8099), addresses a prefix length
 * (10.0.0.0/8, fe80::/10), states any spelling (close_wait, CLOSE-WAIT).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int tt_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static void set_bits(uint8_t *map, uint32_t lo, uint32_t hi)
{
	for (uint32_t p = lo; p <= hi; p++)
		map[p / 8] |= 1 << (p % 8);
}

static int add_ports(uint8_t *map, bool *have, char *v)
{
	char *dash = strchr(v, '-');
	uint32_t lo, hi;

	if (dash)
		*dash = 0;
	if (tt_parse_u32(v, 65535, &lo) ||
	    tt_parse_u32(dash ? dash + 1 : v, 65535, &hi) || hi < lo)
		return -1;
	set_bits(map, lo, hi);
	*have = true;
	return 0;
}

static int add_cidr(struct filter *f, char *v)
{
	struct cidr *n = &f->addrs[f->naddrs];
	char *slash = strchr(v, '/');
	uint32_t bits;

	if (f->naddrs == TT_FILTER_VALUES)
		return -1;
	if (slash)
		*slash = 0;
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, v, n->addr) == 1)
		n->family = TCPSTATES_FAMILY_INET;
	else if (inet_pton(AF_INET6, v, n->addr) == 1)
		n->family = TCPSTATES_FAMILY_INET6;
	else
		return -1;
	bits = n->family == TCPSTATES_FAMILY_INET ? 32 : 128;
	if (slash && tt_parse_u32(slash + 1, bits, &bits))
		return -1;
	n->bits = bits;
	f->naddrs++;
	return 0;
}

static int add_u32(uint32_t *list, unsigned int *n, const char *v)
{
	if (*n == TT_FILTER_VALUES || tt_parse_u32(v, UINT32_MAX, &list[*n]))
		return -1;
	(*n)++;
	return 0;
}

static int add_u64(uint64_t *list, unsigned int *n, const char *v)
{
	unsigned long long x;
	char *end;

	if (*n == TT_FILTER_VALUES || *v < '0' || *v > '9')
		return -1;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || *end)
		return -1;
	list[(*n)++] = x;
	return 0;
}

static int add_comm(struct filter *f, const char *v)
{
	if (f->ncomms == TT_FILTER_VALUES || !*v ||
	    strlen(v) >= sizeof(f->comms[0]))
		return -1;
	strcpy(f->comms[f->ncomms++], v);
	return 0;
}

static int add_named(uint32_t *set, int (*lookup)(const char *), int min,
		     const char *v)
{
	int i = lookup(v);

	if (i < min)
		return -1;
	*set |= 1u << i;
	return 0;
}

static int add_one(struct filter *f, enum tt_filter_kind k, char *v)
{
	switch (k) {
	case TT_F_PORT:
		return add_ports(f->port, &f->have_port, v);
	case TT_F_LPORT:
		return add_ports(f->lport, &f->have_lport, v);
	case TT_F_RPORT:
		return add_ports(f->rport, &f->have_rport, v);
	case TT_F_ADDR:
		return add_cidr(f, v);
	case TT_F_PID:
		return add_u32(f->pids, &f->npids, v);
	case TT_F_NETNS:
		return add_u32(f->netns, &f->nnetns, v);
	case TT_F_COMM:
		return add_comm(f, v);
	case TT_F_STATE:
		return add_named(&f->states, tt_state_lookup, 1, v);
	case TT_F_ROLE:
		return add_named(&f->roles, tt_role_parse, 0, v);
	case TT_F_COOKIE:
		return add_u64(f->cookies, &f->ncookies, v);
	}
	return -1;
}

static const char *const wants[] = {
	[TT_F_PORT] = "a port or range (0 to 65535, e.g. 80,8000-8099)",
	[TT_F_LPORT] = "a port or range (0 to 65535, e.g. 80,8000-8099)",
	[TT_F_RPORT] = "a port or range (0 to 65535, e.g. 80,8000-8099)",
	[TT_F_ADDR] = "an IPv4 or IPv6 address or prefix (e.g. 10.0.0.0/8)",
	[TT_F_PID] = "a process id",
	[TT_F_NETNS] = "a namespace inode number",
	[TT_F_COMM] = "a command name (1 to 15 characters)",
	[TT_F_STATE] = "a TCP state (e.g. CLOSE_WAIT, close-wait, fin_wait2)",
	[TT_F_ROLE] =
		"a role (client, server, listener, simultaneous, unknown)",
	[TT_F_COOKIE] = "a socket cookie",
};

int tt_filter_add(struct filter *f, enum tt_filter_kind k, const char *arg,
		  const char **want)
{
	char buf[1024], *v, *save;

	*want = wants[k];
	if (strlen(arg) >= sizeof(buf) || !*arg)
		return -1;
	strcpy(buf, arg);
	for (v = strtok_r(buf, ",", &save); v; v = strtok_r(NULL, ",", &save))
		if (add_one(f, k, v))
			return -1;
	f->any = true;
	return 0;
}
