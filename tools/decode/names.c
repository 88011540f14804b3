// SPDX-License-Identifier: GPL-2.0
/*
 * Names for the numbers in the ABI, generated from the header's X-macro
 * lists (the module's /proc text uses the same lists).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "decode/names.h"

#define STATE_NAME(NAME, nr) [nr] = #NAME,
static const char *const state_names[TCPSTATES_NR_STATES] = {
	[TCPSTATES_STATE_NONE] = "-",
	TCPSTATES_STATE_LIST(STATE_NAME)
};

#define EVENT_NAME(NAME, name, nr) [nr] = #name,
static const char *const event_names[TCPSTATES_NR_EVENTS] = {
	TCPSTATES_EVENT_LIST(EVENT_NAME)
};

#define CTX_NAME(NAME, name, nr) [nr] = #name,
static const char *const ctx_names[TCPSTATES_NR_CTX] = { TCPSTATES_CTX_LIST(
	CTX_NAME) };

#define OPTION_NAME(NAME, name, bit) [bit] = #name,
static const char *const option_names[8] = { TCPSTATES_OPTION_LIST(
	OPTION_NAME) };

#define RST_NAME(NAME, name, nr) [nr] = #name,
static const char *const rst_names[TCPSTATES_NR_RST_REASONS] = {
	TCPSTATES_RST_REASON_LIST(RST_NAME)
};

#define DROP_NAME(NAME, name, nr) [nr] = #name,
static const char *const drop_names[TCPSTATES_NR_DROPS] = { TCPSTATES_DROP_LIST(
	DROP_NAME) };

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

/* Upper case letters and digits only: CLOSE_WAIT and close-wait meet. */
static void squash(const char *s, char *out, size_t len)
{
	size_t n = 0;

	for (; *s && n + 1 < len; s++) {
		if (*s >= 'a' && *s <= 'z')
			out[n++] = *s - 'a' + 'A';
		else if ((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'))
			out[n++] = *s;
	}
	out[n] = 0;
}

int tt_state_lookup(const char *s)
{
	char want[32], name[32];

	squash(s, want, sizeof(want));
	for (unsigned int i = 1; i < ARRAY_SIZE(state_names); i++) {
		squash(state_names[i], name, sizeof(name));
		if (!strcmp(want, name))
			return i;
	}
	return -1;
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

const char *tt_option_name(unsigned int bit)
{
	return lookup(option_names, ARRAY_SIZE(option_names), bit, NULL);
}

const char *tt_options_format(uint8_t options, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (unsigned int bit = 0; bit < 8; bit++)
		if ((options & (1 << bit)) && tt_option_name(bit) && n < len)
			n += snprintf(buf + n, len - n, "%s%s", n ? "," : "",
				      tt_option_name(bit));
	if (!n)
		snprintf(buf, len, "none");
	return buf;
}

const char *tt_errno_name(unsigned int err, char *buf, size_t len)
{
	const char *name = err ? strerrorname_np(err) : "-";

	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "E%u", err);
	return buf;
}

/* a.b.c.d without inet_ntop, whose sprintf dominated the text formats */
static void format_v4(const uint8_t *a, char *buf)
{
	char *p = buf;

	for (int i = 0; i < 4; i++) {
		if (a[i] >= 100)
			*p++ = '0' + a[i] / 100;
		if (a[i] >= 10)
			*p++ = '0' + a[i] / 10 % 10;
		*p++ = '0' + a[i] % 10;
		*p++ = i < 3 ? '.' : 0;
	}
}

void tt_format_addr(unsigned int family, const uint8_t *addr, char *buf,
		    size_t len)
{
	if (family != TCPSTATES_FAMILY_INET6 && len >= INET_ADDRSTRLEN)
		format_v4(addr, buf);
	else if (!inet_ntop(family == TCPSTATES_FAMILY_INET6 ? AF_INET6 :
							       AF_INET,
			    addr, buf, len))
		snprintf(buf, len, "?");
}

const char *tt_rst_reason_name(unsigned int reason)
{
	return lookup(rst_names, ARRAY_SIZE(rst_names), reason, NULL);
}

const char *tt_drop_name(unsigned int cause)
{
	return lookup(drop_names, ARRAY_SIZE(drop_names), cause, NULL);
}
