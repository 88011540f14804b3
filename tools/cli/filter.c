// SPDX-License-Identifier: GPL-2.0
/*
 * Filters: which connections (and conversations) the outputs show.
 */
#include <string.h>

#include "cli/cli.h"

bool tt_filter_conn(const struct filter *f, const struct conn *c)
{
	if (f->port >= 0 && c->lport != f->port && c->rport != f->port)
		return false;
	if (f->have_addr &&
	    (c->family != f->addr_family ||
	     (memcmp(c->laddr, f->addr, 16) && memcmp(c->raddr, f->addr, 16))))
		return false;
	if (f->pid >= 0 && (!c->owner_rank || c->tgid != (uint32_t)f->pid))
		return false;
	if (f->comm && (!c->owner_rank || strcmp(c->comm, f->comm)))
		return false;
	if (f->netns >= 0 && c->netns != (uint32_t)f->netns)
		return false;
	if (f->state >= 0 && !tt_conn_visited(c, f->state))
		return false;
	if (f->role >= 0 && c->role != f->role)
		return false;
	return true;
}
