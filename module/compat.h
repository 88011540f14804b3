/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpstates: everything that differs between the kernels the module builds
 * on, in one place, so the other files read as if written for the newest.
 */
#ifndef TCPSTATES_COMPAT_H
#define TCPSTATES_COMPAT_H

#include <linux/tcp.h>
#include <net/tcp.h>
#include <net/net_namespace.h>

/* The network namespace's cookie (SO_NETNS_COOKIE), unique for the boot. */
static inline u64 ts_net_cookie(const struct net *net)
{
	return net->net_cookie;
}

/* Did the handshake negotiate ECN? */
static inline bool ts_tcp_ecn_ok(const struct tcp_sock *tp)
{
	return tp->ecn_flags & TCP_ECN_OK;
}

#endif /* TCPSTATES_COMPAT_H */
