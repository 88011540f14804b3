/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * tcpstates: the binary ABI shared by the kernel module and its readers.
 *
 * The module records one fixed-size struct tcpstates_record for every TCP
 * state transition it sees, plus a few events that a kprobe on
 * tcp_set_state() alone never shows (LISTEN, the request socket, the server
 * child's birth in SYN_RECV, TIME_WAIT entry, re-arm and end, accept, RST).
 *
 * /dev/tcpstates
 *   read() returns whole records only; a buffer shorter than one record is
 *   -EINVAL. Each open file has its own cursor that starts at the oldest
 *   record still held. A reader that was overwritten ("lapped") receives one
 *   record of kind TCPSTATES_EV_LOST whose @aux is the number of records it
 *   missed, then continues with the oldest record still held.
 *   ioctl(TCPSTATES_IOC_INFO) fills struct tcpstates_info;
 *   ioctl(TCPSTATES_IOC_SEEK_HEAD) moves the cursor to "now" (skip history).
 *
 * Versioning
 *   TCPSTATES_ABI_VERSION changes only when a field changes meaning. New
 *   fields are appended at the end of a record, so record_size grows; a
 *   reader must use the record_size the ioctl (or a capture header) reports
 *   and may ignore trailing bytes it does not know. New behaviour gets a new
 *   ioctl number, never a versioned struct.
 *
 * Conventions
 *   Only fixed-width types, natural alignment, explicit reserved fields (the
 *   module zeroes every record before filling it). Addresses are 16 bytes:
 *   IPv4 uses the first 4, IPv4-mapped IPv6 sockets are reported as
 *   TCPSTATES_FAMILY_INET with TCPSTATES_F_MAPPED set. Ports are in network
 *   byte order, as in struct inet_diag_sockid. Sequence numbers are the raw
 *   32-bit values seen on the wire (tcpdump -S).
 *   @cookie is the socket cookie (the one `ss -e` prints as "sk:"), never a
 *   kernel address. A timewait socket keeps its full socket's cookie. A
 *   request socket has its own cookie; the server child gets a new one, so a
 *   reader joins request and child by netns and 4-tuple.
 */
#ifndef _UAPI_TCPSTATES_H
#define _UAPI_TCPSTATES_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define TCPSTATES_ABI_VERSION	1
#define TCPSTATES_DEVICE	"/dev/tcpstates"
#define TCPSTATES_PROC		"/proc/tcpstates"
#define TCPSTATES_PROC_STATS	"/proc/tcpstates_stats"

/*
 * TCP states, numbered as the kernel numbers them (include/net/tcp_states.h);
 * the module pins each value with BUILD_BUG_ON. 0 means "no state": the
 * request socket before it exists, a lost-record marker.
 */
enum {
	TCPSTATES_STATE_NONE		= 0,
	TCPSTATES_ESTABLISHED		= 1,
	TCPSTATES_SYN_SENT		= 2,
	TCPSTATES_SYN_RECV		= 3,
	TCPSTATES_FIN_WAIT1		= 4,
	TCPSTATES_FIN_WAIT2		= 5,
	TCPSTATES_TIME_WAIT		= 6,
	TCPSTATES_CLOSE			= 7,
	TCPSTATES_CLOSE_WAIT		= 8,
	TCPSTATES_LAST_ACK		= 9,
	TCPSTATES_LISTEN		= 10,
	TCPSTATES_CLOSING		= 11,
	TCPSTATES_NEW_SYN_RECV		= 12,
	TCPSTATES_BOUND_INACTIVE	= 13,	/* 6.5+, inet_diag only */
	TCPSTATES_NR_STATES
};

/*
 * What produced a record, and what old_state / new_state mean for it.
 * 0 is never a valid kind, so a zeroed record is recognisably invalid.
 */
enum {
	/* tcp_set_state(sk, new): old = sk->sk_state at entry. */
	TCPSTATES_EV_STATE		= 1,
	/* inet_csk_listen_start() succeeded: CLOSE -> LISTEN. */
	TCPSTATES_EV_LISTEN		= 2,
	/*
	 * tcp_connect() queued the client's SYN: SYN_SENT -> SYN_SENT.
	 * snd_una is the client ISN (A), snd_nxt = A + 1.
	 */
	TCPSTATES_EV_CONNECT		= 3,
	/*
	 * A SYN reached a listener and a request socket was hashed:
	 * NONE -> NEW_SYN_RECV. snd_una = server ISN (B), snd_nxt = B + 1,
	 * rcv_nxt = client ISN + 1 (A + 1). The cookie is the request's.
	 */
	TCPSTATES_EV_REQUEST		= 4,
	/*
	 * The server child socket was created, fully initialised:
	 * NEW_SYN_RECV -> SYN_RECV. snd_una = B + 1, rcv_nxt = A + 1.
	 */
	TCPSTATES_EV_CHILD		= 5,
	/* accept() returned this socket to a process: state -> same state. */
	TCPSTATES_EV_ACCEPT		= 6,
	/*
	 * The request socket was freed, either because the child took over
	 * (after TCPSTATES_EV_CHILD) or because it was dropped (SYN-ACK
	 * retries exhausted, RST, listener closed): NEW_SYN_RECV -> NONE.
	 * aux = SYN-ACK retransmissions it made. No CHILD for its 4-tuple
	 * means the handshake never completed.
	 */
	TCPSTATES_EV_REQUEST_END	= 7,
	/*
	 * tcp_time_wait(): the full socket hands over to a timewait socket.
	 * old = FIN_WAIT2 / CLOSING, new = the timewait substate (TIME_WAIT,
	 * or FIN_WAIT2 for an orphan waiting for the peer's FIN).
	 * aux = timeout in ms. The full socket then goes -> CLOSE (a STATE
	 * record); the connection lives on in the timewait socket.
	 */
	TCPSTATES_EV_TIME_WAIT		= 8,
	/*
	 * A timewait socket's timer was re-armed by an incoming FIN: either
	 * its substate just moved FIN_WAIT2 -> TIME_WAIT, or a FIN was
	 * retransmitted in TIME_WAIT. old = NONE (the kernel does not say
	 * which), new = substate now, aux = timeout in ms, rcv_nxt = D + 1.
	 */
	TCPSTATES_EV_TW_REARM		= 9,
	/* The timewait timer expired: substate -> CLOSE. */
	TCPSTATES_EV_TW_EXPIRE		= 10,
	/*
	 * The timewait socket was killed early: reused by a new connection on
	 * the same 4-tuple, an RST, or namespace teardown: substate -> CLOSE.
	 */
	TCPSTATES_EV_TW_KILL		= 11,
	/* The kernel sent an RST on this socket: state -> same state. */
	TCPSTATES_EV_RESET_SENT		= 12,
	/*
	 * Marker in the /dev/tcpstates stream only: @aux records were
	 * overwritten before this reader got to them; @seq is the first lost.
	 */
	TCPSTATES_EV_LOST		= 13,
	TCPSTATES_NR_EVENTS
};

/* Hooks, one bit each in tcpstates_info.hooks_active. */
enum {
	TCPSTATES_HOOK_SET_STATE	= 0,	/* required */
	TCPSTATES_HOOK_LISTEN		= 1,
	TCPSTATES_HOOK_CONNECT		= 2,
	TCPSTATES_HOOK_REQUEST		= 3,
	TCPSTATES_HOOK_CHILD_V4		= 4,
	TCPSTATES_HOOK_CHILD_V6		= 5,
	TCPSTATES_HOOK_ACCEPT		= 6,
	TCPSTATES_HOOK_REQUEST_END	= 7,	/* IPv4 request destructor */
	TCPSTATES_HOOK_TIME_WAIT	= 8,
	TCPSTATES_HOOK_TW_REARM		= 9,
	TCPSTATES_HOOK_TW_EXPIRE	= 10,
	TCPSTATES_HOOK_TW_KILL		= 11,
	TCPSTATES_HOOK_RESET_SENT	= 12,
	TCPSTATES_HOOK_REQUEST_END_V6	= 13,
	TCPSTATES_NR_HOOKS
};

#define TCPSTATES_MAX_HOOKS	32

/* tcpstates_record.family: the AF_* values, spelled out for userspace. */
#define TCPSTATES_FAMILY_INET	2
#define TCPSTATES_FAMILY_INET6	10

/* tcpstates_record.ctx: where the probe ran, and so what pid/comm mean. */
enum {
	/* Process context: pid/comm are the task acting on the socket. */
	TCPSTATES_CTX_TASK	= 0,
	/*
	 * Softirq or timer: pid/comm are whatever task was interrupted
	 * (on loopback often the peer), not the socket's owner.
	 */
	TCPSTATES_CTX_SOFTIRQ	= 1,
	TCPSTATES_CTX_HARDIRQ	= 2,
};

/* tcpstates_record.flags */
#define TCPSTATES_F_MAPPED	0x01	/* IPv4-mapped IPv6 socket */
#define TCPSTATES_F_SEQ		0x02	/* write_seq..rcv_nxt are valid */
#define TCPSTATES_F_WINDOW	0x04	/* snd_wnd, rcv_wnd are valid */
#define TCPSTATES_F_TCPINFO	0x08	/* mss, wscales, options, srtt, retrans, bytes */
#define TCPSTATES_F_TIMEWAIT	0x10	/* record describes a timewait socket */
#define TCPSTATES_F_REQUEST	0x20	/* record describes a request socket */

/* tcpstates_record.options: what the handshake negotiated (or offered). */
#define TCPSTATES_OPT_SACK	0x01
#define TCPSTATES_OPT_TIMESTAMP	0x02
#define TCPSTATES_OPT_WSCALE	0x04
#define TCPSTATES_OPT_ECN	0x08

struct tcpstates_record {
	__u64	seq;		/* ring sequence number, from 0 at load */
	__u64	ts_ns;		/* CLOCK_MONOTONIC */
	__u64	cookie;		/* socket cookie; 0 for a LOST marker */
	__u64	aux;		/* per kind, see TCPSTATES_EV_* */
	__u64	bytes_acked;	/* tcp_sock.bytes_acked */
	__u64	bytes_received;	/* tcp_sock.bytes_received */
	__u32	netns;		/* network namespace inode number */
	__u32	pid;		/* current->pid (thread id) */
	__u32	tgid;		/* current->tgid (process id) */
	__u32	uid;		/* sk_uid; (__u32)-1 for a timewait socket */
	__u16	kind;		/* TCPSTATES_EV_* */
	__u16	cpu;
	__u8	old_state;	/* TCPSTATES_* state */
	__u8	new_state;
	__u8	family;		/* TCPSTATES_FAMILY_* */
	__u8	flags;		/* TCPSTATES_F_* */
	__u8	saddr[16];	/* local address */
	__u8	daddr[16];	/* remote address */
	__be16	sport;		/* local port, network order */
	__be16	dport;		/* remote port, network order */
	__u32	write_seq;
	__u32	snd_una;
	__u32	snd_nxt;
	__u32	rcv_nxt;
	__u32	snd_wnd;
	__u32	rcv_wnd;
	__u32	srtt_us;
	__u32	total_retrans;
	__u16	mss;		/* mss_cache (request: the peer's MSS option) */
	__u8	snd_wscale;
	__u8	rcv_wscale;
	__u8	options;	/* TCPSTATES_OPT_* */
	__u8	sk_err;		/* sk->sk_err: ECONNRESET, ETIMEDOUT ... */
	__u8	ctx;		/* TCPSTATES_CTX_* */
	__u8	reserved0;
	__u32	reserved1;
	char	comm[16];	/* current->comm, NUL-terminated */
};

#define TCPSTATES_RECORD_SIZE	168

/* Filled by TCPSTATES_IOC_INFO. */
struct tcpstates_info {
	__u32	abi_version;
	__u32	record_size;
	__u64	capacity;	/* records the ring holds */
	__u64	written;	/* records written since load (next seq) */
	__u64	oldest;		/* seq of the oldest record still held */
	__u64	filtered;	/* events skipped by the filter parameters */
	__u64	reader_next;	/* this open file's cursor (next seq) */
	__u64	reader_lost;	/* records this open file has lost */
	__u64	realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC */
	__u32	hooks_active;	/* bit (1 << TCPSTATES_HOOK_*) per active hook */
	__u32	nr_hooks;	/* TCPSTATES_NR_HOOKS of the running module */
	__u64	missed[TCPSTATES_MAX_HOOKS]; /* kprobe nmissed per hook */
};

#define TCPSTATES_INFO_SIZE	328

#define TCPSTATES_IOC_MAGIC	0xE7
#define TCPSTATES_IOC_INFO	_IOR(TCPSTATES_IOC_MAGIC, 1, struct tcpstates_info)
#define TCPSTATES_IOC_SEEK_HEAD	_IO(TCPSTATES_IOC_MAGIC, 2)

#endif /* _UAPI_TCPSTATES_H */
