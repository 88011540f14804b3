// SPDX-License-Identifier: GPL-2.0
/*
 * Names for the numbers in the ABI and in the reconstruction. Every table is
 * a designated initializer behind a lookup that checks the index, because the
 * index comes from the kernel or from a file.
 */
#include <arpa/inet.h>
#include <string.h>

#include "tcptimeline.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const state_names[TCPSTATES_NR_STATES] = {
	[TCPSTATES_STATE_NONE]		= "-",
	[TCPSTATES_ESTABLISHED]		= "ESTABLISHED",
	[TCPSTATES_SYN_SENT]		= "SYN_SENT",
	[TCPSTATES_SYN_RECV]		= "SYN_RECV",
	[TCPSTATES_FIN_WAIT1]		= "FIN_WAIT1",
	[TCPSTATES_FIN_WAIT2]		= "FIN_WAIT2",
	[TCPSTATES_TIME_WAIT]		= "TIME_WAIT",
	[TCPSTATES_CLOSE]		= "CLOSE",
	[TCPSTATES_CLOSE_WAIT]		= "CLOSE_WAIT",
	[TCPSTATES_LAST_ACK]		= "LAST_ACK",
	[TCPSTATES_LISTEN]		= "LISTEN",
	[TCPSTATES_CLOSING]		= "CLOSING",
	[TCPSTATES_NEW_SYN_RECV]	= "NEW_SYN_RECV",
	[TCPSTATES_BOUND_INACTIVE]	= "BOUND_INACTIVE",
};

static const char *const event_names[TCPSTATES_NR_EVENTS] = {
	[TCPSTATES_EV_STATE]		= "state",
	[TCPSTATES_EV_LISTEN]		= "listen",
	[TCPSTATES_EV_CONNECT]		= "connect",
	[TCPSTATES_EV_REQUEST]		= "request",
	[TCPSTATES_EV_CHILD]		= "child",
	[TCPSTATES_EV_ACCEPT]		= "accept",
	[TCPSTATES_EV_REQUEST_END]	= "request_end",
	[TCPSTATES_EV_TIME_WAIT]	= "time_wait",
	[TCPSTATES_EV_TW_REARM]		= "tw_rearm",
	[TCPSTATES_EV_TW_EXPIRE]	= "tw_expire",
	[TCPSTATES_EV_TW_KILL]		= "tw_kill",
	[TCPSTATES_EV_RESET_SENT]	= "reset_sent",
	[TCPSTATES_EV_LOST]		= "lost",
};

static const char *const ctx_names[] = {
	[TCPSTATES_CTX_TASK]	= "task",
	[TCPSTATES_CTX_SOFTIRQ]	= "softirq",
	[TCPSTATES_CTX_HARDIRQ]	= "hardirq",
};

static const char *const role_names[ROLE_NR] = {
	[ROLE_UNKNOWN]		= "unknown",
	[ROLE_CLIENT]		= "client",
	[ROLE_SERVER]		= "server",
	[ROLE_LISTENER]		= "listener",
	[ROLE_SIMULTANEOUS]	= "simultaneous",
};

static const char *const open_names[OPEN_NR] = {
	[OPEN_NONE]		= NULL,
	[OPEN_ACTIVE]		= "active",
	[OPEN_PASSIVE]		= "passive",
	[OPEN_SIMULTANEOUS]	= "simultaneous",
};

static const char *const close_names[CLOSE_NR] = {
	[CLOSE_OPEN]		= "open",
	[CLOSE_ACTIVE]		= "active",
	[CLOSE_PASSIVE]		= "passive",
	[CLOSE_SIMULTANEOUS]	= "simultaneous",
	[CLOSE_RESET_SENT]	= "reset_sent",
	[CLOSE_RESET_RECEIVED]	= "reset_received",
	[CLOSE_REFUSED]		= "refused",
	[CLOSE_TIMEOUT]		= "timeout",
};

static const char *lookup(const char *const *tab, size_t n, unsigned int i,
			  const char *bad)
{
	if (i >= n || !tab[i])
		return bad;
	return tab[i];
}

static int rlookup(const char *const *tab, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (tab[i] && !strcmp(tab[i], s))
			return (int)i;
	return -1;
}

const char *tt_state_name(unsigned int s)
{
	return lookup(state_names, ARRAY_SIZE(state_names), s, "?");
}

int tt_state_parse(const char *s)
{
	return rlookup(state_names, ARRAY_SIZE(state_names), s);
}

const char *tt_event_name(unsigned int k)
{
	return lookup(event_names, ARRAY_SIZE(event_names), k, "?");
}

int tt_event_parse(const char *s)
{
	return rlookup(event_names, ARRAY_SIZE(event_names), s);
}

const char *tt_ctx_name(unsigned int c)
{
	return lookup(ctx_names, ARRAY_SIZE(ctx_names), c, "?");
}

int tt_ctx_parse(const char *s)
{
	return rlookup(ctx_names, ARRAY_SIZE(ctx_names), s);
}

const char *tt_role_name(unsigned int v)
{
	return lookup(role_names, ARRAY_SIZE(role_names), v, "unknown");
}

int tt_role_parse(const char *s)
{
	return rlookup(role_names, ARRAY_SIZE(role_names), s);
}

const char *tt_open_name(unsigned int v)
{
	return lookup(open_names, ARRAY_SIZE(open_names), v, NULL);
}

const char *tt_close_name(unsigned int v)
{
	return lookup(close_names, ARRAY_SIZE(close_names), v, "open");
}

void tt_format_addr_fam(unsigned int family, const uint8_t *addr, char *buf,
			size_t len)
{
	if (family == TCPSTATES_FAMILY_INET6) {
		if (!inet_ntop(AF_INET6, addr, buf, len))
			snprintf(buf, len, "?");
	} else {
		if (!inet_ntop(AF_INET, addr, buf, len))
			snprintf(buf, len, "?");
	}
}

void tt_format_addr(const struct tcpstates_record *r, const uint8_t *addr,
		    char *buf, size_t len)
{
	tt_format_addr_fam(r->family, addr, buf, len);
}
