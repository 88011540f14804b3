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
 *   ioctl(TCPSTATES_IOC_INFO) fills struct tcpstates_info (see there);
 *   ioctl(TCPSTATES_IOC_SEEK_HEAD, 0) moves the cursor to "now" (skip
 *   history). A reader that sees every namespace may map the ring instead
 *   and read records in place ("The mapped ring", at the end).
 *
 * Who sees what
 *   Every open file (of /dev/tcpstates and /proc/tcpstates alike) is bound
 *   at open() to the opener's network namespace by identity, its cookie
 *   (the file holds no reference on it), never by its inode number, which
 *   the kernel hands out again once a namespace dies:
 *   - an opener in the initial network namespace with CAP_NET_ADMIN and a
 *     tracing capability (CAP_PERFMON or CAP_SYS_ADMIN, as perf and BPF
 *     need) in the initial user namespace sees every namespace's records;
 *   - any other opener needs CAP_NET_ADMIN over its own network namespace
 *     (in the user namespace that owns it: a container's root) and sees
 *     only that namespace's records; so does an opener in the initial
 *     network namespace with CAP_NET_ADMIN alone (a container sharing the
 *     host's network): the initial namespace's records, no other's;
 *   - anyone else gets -EPERM (the files are also mode 0400, root only).
 *   Sequence numbers are global: a namespace-bound reader sees gaps where
 *   other namespaces' records are. tcpstates_info.reader_netns_cookie
 *   (reader_netns_cookie in /proc/tcpstates_stats) says which it is: 0 for
 *   every namespace, else the cookie of the one namespace.
 *
 * Processes
 *   pid, tgid and comm name the task that acted on the socket, only in task
 *   context (ctx TCPSTATES_CTX_TASK); in softirq and timer context no task
 *   acts, and all three are 0. pid and tgid are the ids of the initial PID
 *   namespace. A reader in another PID namespace gets 0 for both and an
 *   empty comm: ids cannot be translated truthfully after the fact (the
 *   task may be gone and its number reused), and a host task's name is
 *   not the container's to know. uid is translated into the reader's user
 *   namespace; (__u32)-1 where it has no mapping, and for a timewait
 *   socket, which keeps no uid.
 *
 *   netns is the namespace's inode number, for display: the kernel hands
 *   it out again once the namespace dies. netns_cookie (SO_NETNS_COOKIE)
 *   is never reused while the machine runs; compare namespaces by it.
 *
 * Versioning
 *   TCPSTATES_ABI_VERSION changes only when a field changes meaning. New
 *   fields are appended at the end of a record, so record_size grows; a
 *   reader must use the record_size the ioctl (or a capture header) reports
 *   and may ignore trailing bytes it does not know. New behaviour gets a new
 *   ioctl number, never a versioned struct.
 *   ABI 1: 168-byte records; INFO was ioctl 1 with a fixed 328-byte struct.
 *   ABI 2: appends netns_cookie (176 bytes), INFO is ioctl 3 with @argsz,
 *   realtime_offset_ns is signed, softirq records carry no pid, tgid or
 *   comm, uid is the reader's view, the tw_overflow event. Later in ABI 2
 *   (no field changed meaning): INFO numbered _IOWR, its first number
 *   still answered (see the ioctl numbers at the end); reset_sent's aux
 *   says why (it was 0); reserved1 became rcv_unread, valid only with
 *   TCPSTATES_F_UNREAD, which older modules never set; a state record
 *   into CLOSE carries its timers in aux (TCPSTATES_TIMERS_*, it was 0);
 *   the listen_drop event and the syn hook; request_end's aux says what
 *   freed the request above its low byte (TCPSTATES_REQ_END, it was 0),
 *   from the req_timer and check_req hooks; the connect_error event and
 *   the connect_fail_v4 and connect_fail_v6 hooks.
 *
 *   Every number in the lists below (states, events, hooks, contexts,
 *   flags, option bits) is written out in its list and keeps its meaning
 *   forever: a new event or hook takes the next free number, never an old
 *   one, and that is not an ABI change (the version stays). The lists'
 *   order means nothing. TCPSTATES_NR_* are only how many numbers this
 *   copy of the header knows, for sizing a reader's tables, not an ABI
 *   value: a newer module may send a kind, state or context above them,
 *   and a reader must check every number against its own NR_* before
 *   using it as an index (unknown: skip it, or show it as a number).
 *   tcpstates_info.nr_hooks is the running module's count, and @missed
 *   and @hooks_active are indexed by hook number. The one list whose order
 *   is the format is TCPSTATES_PROC_COLUMNS, the /proc text's columns: they
 *   are only ever appended, and a reader takes their names from the
 *   header line.
 *
 * Conventions
 *   Only fixed-width types, natural alignment, no padding, explicit reserved
 *   fields; a field a record does not carry is 0. Addresses are 16 bytes:
 *   IPv4 uses the first 4, IPv4-mapped IPv6 sockets are reported as
 *   TCPSTATES_FAMILY_INET with TCPSTATES_F_MAPPED set. Ports are in network
 *   byte order, as in struct inet_diag_sockid. Sequence numbers are the raw
 *   32-bit values seen on the wire (tcpdump -S). A client socket has none
 *   (TCPSTATES_F_SEQ, F_WINDOW and F_TCPINFO clear) until its SYN has left:
 *   a connect() that fails in SYN_SENT before that (no free port, no route)
 *   records SYN_SENT -> CLOSE without them.
 *   rcv_unread (TCPSTATES_F_UNREAD, on a full socket's records that carry
 *   sequence numbers) is rcv_nxt - copied_seq: what arrived and the
 *   application has not read, the peer's FIN counted as one until read()
 *   returned 0. Data still unread on the way to CLOSE is what close()
 *   throws away with an RST (TCP_ABORT_ON_CLOSE): when the socket had not
 *   had the peer's FIN (it left ESTABLISHED, FIN_WAIT1 or FIN_WAIT2) all of
 *   rcv_unread is data; when it had, all but one byte of it, or none if
 *   it is 0.
 *   @cookie is the socket cookie (the one `ss -e` prints as "sk:"), never a
 *   kernel address. One connection keeps one cookie: a timewait socket
 *   copies its full socket's, and the server child copies its request
 *   socket's (inet_csk_clone_lock() copies ir_cookie, which the request
 *   probe has generated by then). Only if the request hook is inactive does
 *   the child get a fresh cookie; readers may fall back to netns + 4-tuple.
 *
 * Byte order
 *   Records are written in the byte order of the machine that made them
 *   (host order), except sport and dport (network order) and saddr and
 *   daddr (bytes as on the wire). Every other multi-byte field, seq and
 *   ts_ns to netns_cookie, and every field of struct tcpstates_info, is in
 *   the recording host's order: a reader of another host's records must
 *   know that host's byte order. tcptimeline's captures are little-endian,
 *   the order of every machine the module is tested on, and a big-endian
 *   reader refuses them at the header rather than misread them.
 */
#ifndef _UAPI_TCPSTATES_H
#define _UAPI_TCPSTATES_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define TCPSTATES_ABI_VERSION	2
#define TCPSTATES_DEVICE	"/dev/tcpstates"
#define TCPSTATES_PROC		"/proc/tcpstates"
#define TCPSTATES_PROC_STATS	"/proc/tcpstates_stats"

/*
 * TCP states, numbered as the kernel numbers them (include/net/tcp_states.h);
 * the module pins each value with BUILD_BUG_ON. 0 means "no state": the
 * request socket before it exists, a lost-record marker.
 *
 * Names and numbers come from one list, TCPSTATES_STATE_LIST(X): X(NAME, nr)
 * yields the enum below and every name table (the module's /proc text, the
 * tool's parser and printers), so a name cannot exist twice.
 */
#define TCPSTATES_STATE_LIST(X)		\
	X(ESTABLISHED,		1)	\
	X(SYN_SENT,		2)	\
	X(SYN_RECV,		3)	\
	X(FIN_WAIT1,		4)	\
	X(FIN_WAIT2,		5)	\
	X(TIME_WAIT,		6)	\
	X(CLOSE,		7)	\
	X(CLOSE_WAIT,		8)	\
	X(LAST_ACK,		9)	\
	X(LISTEN,		10)	\
	X(CLOSING,		11)	\
	X(NEW_SYN_RECV,		12)	\
	X(BOUND_INACTIVE,	13)	/* 6.5+, inet_diag only */

#define __TCPSTATES_STATE_ENUM(name, nr)	TCPSTATES_##name = nr,
enum {
	TCPSTATES_STATE_NONE		= 0,
	TCPSTATES_STATE_LIST(__TCPSTATES_STATE_ENUM)
	TCPSTATES_NR_STATES
};

/*
 * Events: what produced a record, and what old_state / new_state mean for
 * it. 0 is never a valid kind, so a zeroed record is recognisably invalid.
 *
 * state        tcp_set_state(sk, new): old = sk->sk_state at entry. Into
 *              CLOSE, once a SYN has left: aux = the timers' counts
 *              (TCPSTATES_TIMERS_*, below); otherwise 0.
 * listen       inet_csk_listen_start() succeeded: CLOSE -> LISTEN.
 * connect      tcp_connect() queued the client's SYN: SYN_SENT -> SYN_SENT.
 *              snd_una is the client ISN (A), snd_nxt = A + 1. aux = the
 *              ephemeral port range its connect() picked from
 *              (TCPSTATES_PORTS_*, below), or 0 where the module could not
 *              read it.
 * request      A SYN reached a listener and a request socket was hashed:
 *              NONE -> NEW_SYN_RECV. snd_una = server ISN (B), snd_nxt =
 *              B + 1, rcv_nxt = client ISN + 1 (A + 1). The child inherits
 *              its cookie. Made once the hash succeeded: a duplicate SYN
 *              whose request lost the race to be hashed (the kernel frees
 *              it, no SYN-ACK sent) makes none.
 * child        The server child socket was created, fully initialised, and
 *              hashed in its request's place: NEW_SYN_RECV -> SYN_RECV.
 *              snd_una = B + 1, rcv_nxt = A + 1. When two CPUs complete one
 *              request at once, the child that lost (destroyed at once by
 *              the kernel) makes no record.
 * accept       accept() handed this socket to a process (inet_accept()
 *              grafts it onto the new struct socket, in the acceptor's
 *              context): state -> same state.
 * request_end  A request socket with a cookie was freed (one the "request"
 *              hook recorded, or one hashed before the module loaded that
 *              inet_diag, e.g. "ss -e", gave a cookie): the child took
 *              over (after "child"), or it was dropped (SYN-ACK retries
 *              exhausted, RST, listener closed): NEW_SYN_RECV -> NONE.
 *              aux = SYN-ACK retransmissions it made, and what freed it
 *              where the module saw that (TCPSTATES_REQ_*, below; 0,
 *              unsaid, from older modules). No
 *              "child" for its 4-tuple means the handshake never
 *              completed. Request sockets
 *              that were never hashed (LSM refusal, no route, SYN cookies,
 *              a duplicate SYN's that lost the race, Fast Open requests)
 *              make no record: their ISN and even their addresses may never
 *              have been written. They are counted as requests_unhashed in
 *              /proc/tcpstates_stats, with two kinds of hashed ones the
 *              module cannot tell apart: those hashed before the load that
 *              had no cookie, and those whose request probe hit was missed
 *              (missed_request). The hook needs the request hook (skip one,
 *              lose both).
 * time_wait    The full socket handed over to a timewait socket, which
 *              exists, filled in: old = NONE (the timewait socket does not
 *              keep the full socket's state; the connection's previous
 *              record shows FIN_WAIT2 or CLOSING). Where the kernel has
 *              inet_twsk_hashdance_schedule() (6.10 on) the record is made
 *              as it is handed to it, just before it is hashed and its
 *              timer armed; before, as its timer is armed, once hashed;
 *              new = the timewait substate (TIME_WAIT, or FIN_WAIT2 for an
 *              orphan waiting for the peer's FIN), aux = timeout in ms. The
 *              full socket then goes -> CLOSE (a state record); the
 *              connection lives on in the timewait socket.
 * tw_rearm     A timewait socket's timer was re-armed by an incoming FIN:
 *              its substate just moved FIN_WAIT2 -> TIME_WAIT, or a FIN was
 *              retransmitted in TIME_WAIT. old = NONE (the kernel does not
 *              say which), new = substate now, aux = timeout in ms,
 *              rcv_nxt = the peer's FIN + 1.
 * tw_expire    The timewait timer fired and ended the socket: substate ->
 *              CLOSE.
 * tw_kill      The timewait socket was ended early, its timer still pending
 *              and its expiry time still ahead: reused by a new connection
 *              on the same 4-tuple, an RST, or namespace teardown:
 *              substate -> CLOSE. A timewait socket gets at most one of
 *              tw_expire and tw_kill; neither when the module cannot tell
 *              which (a missed tw_expire hit, or a kill that beat an
 *              overdue timer), counted as tw_end_unknown.
 * reset_sent   The kernel sent an RST on this socket: state -> same state.
 *              aux = why, a TCPSTATES_RST_* number (below): the kernel's
 *              own reason (enum sk_rst_reason, 6.10 on), or
 *              TCPSTATES_RST_NONE where the kernel passes none.
 * lost         Marker in the /dev/tcpstates stream only: aux records were
 *              overwritten before this reader got to them; seq is the first
 *              lost.
 * tw_overflow  tcp_time_wait() found no timewait socket to hand over to
 *              (net.ipv4.tcp_max_tw_buckets reached, or no memory): the
 *              connection skips TIME_WAIT. old = FIN_WAIT2 or CLOSING, new
 *              = the substate it would have entered. The kernel counts it
 *              as TCPTimeWaitOverflow.
 * listen_drop  A listener turned a segment away, as the kernel's own TcpExt
 *              counters show it: a SYN that got no request socket
 *              (tcp_conn_request(): on the listener, LISTEN -> LISTEN), or
 *              the handshake's final ACK that got no child
 *              (tcp_v{4,6}_syn_recv_sock(): on the request, NEW_SYN_RECV ->
 *              NEW_SYN_RECV, or on the listener when the request has no
 *              cookie, a SYN cookie's). aux = why, and the accept queue
 *              then (TCPSTATES_DROP_*, below). The peer's address is not
 *              recorded. The request of a dropped final ACK lives on: its
 *              SYN-ACK is sent again, and the next ACK may make the child.
 * connect_error
 *              tcp_v4_connect() or tcp_v6_connect() failed and the socket
 *              never left CLOSE: no other record was made of it during the
 *              call (no route to the peer, a broadcast or multicast peer,
 *              an invalid address). CLOSE -> CLOSE; the remote address and
 *              port are connect()'s, which the socket may not hold; aux =
 *              the errno connect() returns (ENETUNREACH ...). A connect()
 *              that failed after SYN_SENT (no free port, the route for its
 *              port) is a state record instead. Made only for a socket
 *              that had no cookie when connect() was called: one that an
 *              earlier record, ss -e or SO_COOKIE gave one makes none (the
 *              module could not tell which records that connect() made).
 *
 * TCPSTATES_EVENT_LIST(X): X(NAME, name, nr), the enum suffix, the name the
 * /proc text and the tool print, and the number.
 */
#define TCPSTATES_EVENT_LIST(X)				\
	X(STATE,	state,		1)		\
	X(LISTEN,	listen,		2)		\
	X(CONNECT,	connect,	3)		\
	X(REQUEST,	request,	4)		\
	X(CHILD,	child,		5)		\
	X(ACCEPT,	accept,		6)		\
	X(REQUEST_END,	request_end,	7)		\
	X(TIME_WAIT,	time_wait,	8)		\
	X(TW_REARM,	tw_rearm,	9)		\
	X(TW_EXPIRE,	tw_expire,	10)		\
	X(TW_KILL,	tw_kill,	11)		\
	X(RESET_SENT,	reset_sent,	12)		\
	X(LOST,		lost,		13)		\
	X(TW_OVERFLOW,	tw_overflow,	14)		\
	X(LISTEN_DROP,	listen_drop,	15)	\
	X(CONNECT_ERROR, connect_error,	16)

#define __TCPSTATES_EVENT_ENUM(NAME, name, nr)	TCPSTATES_EV_##NAME = nr,
enum {
	TCPSTATES_EVENT_LIST(__TCPSTATES_EVENT_ENUM)
	TCPSTATES_NR_EVENTS
};

/*
 * Hooks, one bit each in tcpstates_info.hooks_active, and the names
 * /proc/tcpstates_stats and the load message use: X(NAME, name, nr).
 * set_state is the one a load cannot do without.
 */
#define TCPSTATES_HOOK_LIST(X)					\
	X(SET_STATE,		set_state,		0)	\
	X(LISTEN,		listen,			1)	\
	X(CONNECT,		connect,		2)	\
	X(REQUEST,		request,		3)	\
	X(CHILD_V4,		child_v4,		4)	\
	X(CHILD_V6,		child_v6,		5)	\
	X(ACCEPT,		accept,			6)	\
	X(REQUEST_END,		request_end_v4,		7)	\
	X(TIME_WAIT,		time_wait,		8)	\
	X(TW_OVERFLOW,		tw_overflow,		9)	\
	X(TW_EXPIRE,		tw_expire,		10)	\
	X(TW_END,		tw_end,			11)	\
	X(RESET_SENT,		reset_sent,		12)	\
	X(REQUEST_END_V6,	request_end_v6,		13)	\
	X(SYN,			syn,			14)	\
	X(REQ_TIMER,		req_timer,		15)	\
	X(CHECK_REQ,		check_req,		16)	\
	X(CONNECT_FAIL_V4,	connect_fail_v4,	17)	\
	X(CONNECT_FAIL_V6,	connect_fail_v6,	18)

#define __TCPSTATES_HOOK_ENUM(NAME, name, nr)	TCPSTATES_HOOK_##NAME = nr,
enum {
	TCPSTATES_HOOK_LIST(__TCPSTATES_HOOK_ENUM)
	TCPSTATES_NR_HOOKS
};

#define TCPSTATES_MAX_HOOKS	32

/* tcpstates_record.family: the AF_* values, spelled out for userspace. */
#define TCPSTATES_FAMILY_INET	2
#define TCPSTATES_FAMILY_INET6	10

/*
 * tcpstates_record.ctx: where the probe ran, X(NAME, name, nr).
 *   task     process context: pid, tgid and comm are the task acting on the
 *            socket.
 *   softirq  softirq or timer: no process is acting (on loopback the task
 *            interrupted is often the peer), so pid, tgid and comm are 0.
 *   hardirq  likewise 0.
 */
#define TCPSTATES_CTX_LIST(X)			\
	X(TASK,		task,		0)	\
	X(SOFTIRQ,	softirq,	1)	\
	X(HARDIRQ,	hardirq,	2)

#define __TCPSTATES_CTX_ENUM(NAME, name, nr)	TCPSTATES_CTX_##NAME = nr,
enum {
	TCPSTATES_CTX_LIST(__TCPSTATES_CTX_ENUM)
	TCPSTATES_NR_CTX
};

/* tcpstates_record.flags */
#define TCPSTATES_F_MAPPED	0x01	/* IPv4-mapped IPv6 socket */
#define TCPSTATES_F_SEQ		0x02	/* write_seq..rcv_nxt are valid */
#define TCPSTATES_F_WINDOW	0x04	/* snd_wnd, rcv_wnd are valid */
#define TCPSTATES_F_TCPINFO	0x08	/* mss, wscales, options, srtt, retrans, bytes */
#define TCPSTATES_F_TIMEWAIT	0x10	/* record describes a timewait socket */
#define TCPSTATES_F_REQUEST	0x20	/* record describes a request socket */
#define TCPSTATES_F_UNREAD	0x40	/* rcv_unread is valid */

/*
 * Which timer gave up: a state record into CLOSE from a socket whose SYN
 * has left carries in aux what its timers had counted as it closed, with
 * TCPSTATES_TIMERS_VALID set (aux is a field of its own, and no flag is
 * spent: a reader that checks flags strictly still reads these records).
 * With sk_err ETIMEDOUT they say which timer ended it:
 *   RETRANSMITS   icsk_retransmits: retransmission timeouts of the same
 *                 unacked data since the last ack (in SYN_SENT, the SYN's
 *                 retries); tcp_retries2 bounds them, or TCP_USER_TIMEOUT
 *   PROBES        icsk_probes_out: unanswered keepalive or zero-window
 *                 probes (a keepalive timeout also sends an RST first)
 *   USER_TIMEOUT  TCP_USER_TIMEOUT was set: it, not tcp_retries2 or the
 *                 probe count, decided when to give up
 *   KEEPALIVE     SO_KEEPALIVE was on
 * Older modules leave aux 0 on state records.
 */
#define TCPSTATES_TIMERS_RETRANSMITS(aux)	((__u8)(aux))
#define TCPSTATES_TIMERS_PROBES(aux)		((__u8)((aux) >> 8))
#define TCPSTATES_TIMERS_USER_TIMEOUT		0x00010000ULL
#define TCPSTATES_TIMERS_KEEPALIVE		0x00020000ULL
#define TCPSTATES_TIMERS_VALID			0x01000000ULL

/*
 * The ephemeral ports a client's connect() picks from, in its connect
 * record's aux: its namespace's net.ipv4.ip_local_port_range, narrowed by
 * the socket's own IP_LOCAL_PORT_RANGE where it set one (6.3 on), low and
 * high inclusive, with TCPSTATES_PORTS_VALID set. The module reads it
 * without a lock, as a probe must: aux is 0 where it could not (a sysctl
 * write changing the range at that moment; a module older than this
 * field). Ports the kernel skips (ip_local_reserved_ports) are not
 * subtracted. Where the socket's range lies outside the namespace's, the
 * kernel's rule from 6.8 (and 6.1.y) applies, not 6.3's clamp.
 */
#define TCPSTATES_PORTS_LOW(aux)		((__u16)(aux))
#define TCPSTATES_PORTS_HIGH(aux)		((__u16)((aux) >> 16))
#define TCPSTATES_PORTS_VALID			0x100000000ULL

/*
 * Why an RST left (reset_sent's aux): X(NAME, name, nr). The names are the
 * kernel's (enum sk_rst_reason in include/net/rstreason.h, 6.10 on, what
 * the tcp:tcp_send_reset tracepoint prints as reason=); the numbers are
 * this header's, never the kernel's, which may be renumbered: the module
 * matches the kernel's reasons to these by name when it loads.
 *   NONE   the running kernel passes no reason (before 6.10)
 *   OTHER  the kernel gave a reason this list does not name (a newer one)
 * The kernel's MPTCP reasons never reach a TCP socket's reset, and map to
 * OTHER if they do.
 */
#define TCPSTATES_RST_REASON_LIST(X)					\
	X(NONE,				none,			0)	\
	X(OTHER,			other,			1)	\
	X(NOT_SPECIFIED,		not_specified,		2)	\
	X(NO_SOCKET,			no_socket,		3)	\
	X(TCP_INVALID_ACK_SEQUENCE,	tcp_invalid_ack_sequence, 4)	\
	X(TCP_RFC7323_PAWS,		tcp_rfc7323_paws,	5)	\
	X(TCP_TOO_OLD_ACK,		tcp_too_old_ack,	6)	\
	X(TCP_ACK_UNSENT_DATA,		tcp_ack_unsent_data,	7)	\
	X(TCP_FLAGS,			tcp_flags,		8)	\
	X(TCP_OLD_ACK,			tcp_old_ack,		9)	\
	X(TCP_ABORT_ON_DATA,		tcp_abort_on_data,	10)	\
	X(TCP_TIMEWAIT_SOCKET,		tcp_timewait_socket,	11)	\
	X(INVALID_SYN,			invalid_syn,		12)	\
	X(TCP_ABORT_ON_CLOSE,		tcp_abort_on_close,	13)	\
	X(TCP_ABORT_ON_LINGER,		tcp_abort_on_linger,	14)	\
	X(TCP_ABORT_ON_MEMORY,		tcp_abort_on_memory,	15)	\
	X(TCP_STATE,			tcp_state,		16)	\
	X(TCP_KEEPALIVE_TIMEOUT,	tcp_keepalive_timeout,	17)	\
	X(TCP_DISCONNECT_WITH_DATA,	tcp_disconnect_with_data, 18)	\
	X(ERROR,			error,			19)

#define __TCPSTATES_RST_ENUM(NAME, name, nr)	TCPSTATES_RST_##NAME = nr,
enum {
	TCPSTATES_RST_REASON_LIST(__TCPSTATES_RST_ENUM)
	TCPSTATES_NR_RST_REASONS
};

/*
 * Why a listener turned a segment away (listen_drop's aux, low byte):
 * X(NAME, name, nr). The module tells them apart by which of the kernel's
 * TcpExt counters the call that dropped it moved, on the CPU it ran on
 * (softirq: nothing else counts there meanwhile), so the tool's totals are
 * the kernel's own:
 *   ACCEPT_QUEUE  the accept queue was full (ListenOverflows): a SYN
 *                 dropped before a request was made, or a final ACK
 *                 dropped before the child was made
 *   SYN_QUEUE     the SYN queue was full and SYN cookies are off: SYN
 *                 dropped (TCPReqQFullDrop)
 *   SYNCOOKIE     not dropped: answered with a SYN cookie and no request
 *                 kept (SyncookiesSent), as the SYN queue was full or
 *                 tcp_syncookies is 2
 *   OTHER         dropped for another reason (no memory, an LSM, no route
 *                 back): ListenDrops moved alone
 * Every one but SYNCOOKIE also counts in ListenDrops.
 * TCPSTATES_DROP_BACKLOG(aux): the listener's accept queue length then
 * (sk_ack_backlog); TCPSTATES_DROP_MAX_BACKLOG(aux): its limit, capped at
 * 0xffffff.
 */
#define TCPSTATES_DROP_LIST(X)			\
	X(ACCEPT_QUEUE,	accept_queue,	1)	\
	X(SYN_QUEUE,	syn_queue,	2)	\
	X(SYNCOOKIE,	syncookie,	3)	\
	X(OTHER,	other,		4)

#define __TCPSTATES_DROP_ENUM(NAME, name, nr)	TCPSTATES_DROP_##NAME = nr,
enum {
	TCPSTATES_DROP_NONE = 0,
	TCPSTATES_DROP_LIST(__TCPSTATES_DROP_ENUM)
	TCPSTATES_NR_DROPS
};

/*
 * request_end aux: the SYN-ACK retransmissions the request made, and what
 * freed it, X(NAME, name, nr):
 *   timeout      its timer gave up, the final ACK never came: the SYN-ACK
 *                retries ran out (tcp_synack_retries or TCP_SYNCNT, fewer
 *                while the SYN queue is over half full)
 *   ack_dropped  its timer gave up after a final ACK came that made no
 *                child: the accept queue was full (the listen_drop record
 *                shows it), or TCP_DEFER_ACCEPT waited for data in vain
 *   listener     its timer found its listener no longer listening
 *   reset        tcp_check_req() dropped it for an RST in the window
 *   segment      tcp_check_req() unhashed it for a segment without RST and
 *                freed it: the kernel reset the request (a SYN in the
 *                window, tcp_abort_on_overflow), or another CPU's child
 *                won the race
 * 0 (none): the module did not see what freed it: a request that became a
 * child (it waits in the accept queue until accept() or the listener's
 * close frees it), an older module, the req_timer and check_req hooks
 * inactive or their hit missed, or the last reference dropped on another
 * CPU than the one that ended it.
 */
#define TCPSTATES_REQ_END_LIST(X)			\
	X(TIMEOUT,	timeout,	1)		\
	X(ACK_DROPPED,	ack_dropped,	2)		\
	X(LISTENER,	listener,	3)		\
	X(RESET,	reset,		4)		\
	X(SEGMENT,	segment,	5)

#define __TCPSTATES_REQ_END_ENUM(NAME, name, nr)	TCPSTATES_REQ_END_##NAME = nr,
enum {
	TCPSTATES_REQ_END_NONE = 0,
	TCPSTATES_REQ_END_LIST(__TCPSTATES_REQ_END_ENUM)
	TCPSTATES_NR_REQ_ENDS
};

#define TCPSTATES_REQ_RETRANS(aux)		((__u8)(aux))
#define TCPSTATES_REQ_END(aux)			((__u8)((aux) >> 8))

#define TCPSTATES_DROP_CAUSE(aux)		((__u8)(aux))
#define TCPSTATES_DROP_MAX_BACKLOG(aux)		((__u32)((aux) >> 8) & 0xffffff)
#define TCPSTATES_DROP_BACKLOG(aux)		((__u32)((aux) >> 32))

/*
 * tcpstates_record.options: what the handshake negotiated (or offered),
 * one bit each: X(NAME, name, bit).
 */
#define TCPSTATES_OPTION_LIST(X)		\
	X(SACK,		sack,		0)	\
	X(TIMESTAMP,	ts,		1)	\
	X(WSCALE,	wscale,		2)	\
	X(ECN,		ecn,		3)

#define __TCPSTATES_OPTION_BIT(NAME, name, bit)	\
	TCPSTATES_OPT_##NAME = 1 << (bit),
enum {
	TCPSTATES_OPTION_LIST(__TCPSTATES_OPTION_BIT)
};

/*
 * The columns of /proc/tcpstates, in order: X(NAME, field, type, valid).
 * NAME is the header's word, field the record member it shows. type says
 * how it prints: U64 U32 U16 U8 decimal, HEX8 0x%02x, EVENT STATE CTX
 * FAMILY OPTIONS by name (the lists above; OPTIONS comma-separated or
 * "none"), COMM with every byte outside printable ASCII, space and
 * backslash as \ooo, ADDR in the family's text form, PORT host order.
 * valid says when it prints "-" instead: ALWAYS never; SEQ, WND, INFO
 * without TCPSTATES_F_SEQ, F_WINDOW, F_TCPINFO; TASK outside task context
 * or with pid 0 (no process the reader may know); UID for (__u32)-1;
 * RECORD only for a lost marker, which /proc never shows; UNREAD without
 * TCPSTATES_F_UNREAD. ABI 2 appended NETNS_COOKIE: a header without it
 * is ABI 1's; later RCV_UNREAD, which older ABI 2 modules do not print.
 */
#define TCPSTATES_PROC_COLUMNS(X)					\
	X(SEQ,			seq,		U64,	ALWAYS)		\
	X(TIME_NS,		ts_ns,		U64,	ALWAYS)		\
	X(CPU,			cpu,		U16,	ALWAYS)		\
	X(EVENT,		kind,		EVENT,	ALWAYS)		\
	X(NETNS,		netns,		U32,	ALWAYS)		\
	X(COOKIE,		cookie,		U64,	ALWAYS)		\
	X(PID,			pid,		U32,	TASK)		\
	X(COMM,			comm,		COMM,	TASK)		\
	X(LADDR,		saddr,		ADDR,	RECORD)		\
	X(LPORT,		sport,		PORT,	RECORD)		\
	X(RADDR,		daddr,		ADDR,	RECORD)		\
	X(RPORT,		dport,		PORT,	RECORD)		\
	X(OLDSTATE,		old_state,	STATE,	ALWAYS)		\
	X(NEWSTATE,		new_state,	STATE,	ALWAYS)		\
	X(WRITE_SEQ,		write_seq,	U32,	SEQ)		\
	X(SND_UNA,		snd_una,	U32,	SEQ)		\
	X(SND_NXT,		snd_nxt,	U32,	SEQ)		\
	X(RCV_NXT,		rcv_nxt,	U32,	SEQ)		\
	X(SND_WND,		snd_wnd,	U32,	WND)		\
	X(RCV_WND,		rcv_wnd,	U32,	WND)		\
	X(MSS,			mss,		U16,	INFO)		\
	X(SRTT_US,		srtt_us,	U32,	INFO)		\
	X(TGID,			tgid,		U32,	TASK)		\
	X(UID,			uid,		U32,	UID)		\
	X(CTX,			ctx,		CTX,	RECORD)		\
	X(FAMILY,		family,		FAMILY,	RECORD)		\
	X(FLAGS,		flags,		HEX8,	ALWAYS)		\
	X(SND_WSCALE,		snd_wscale,	U8,	INFO)		\
	X(RCV_WSCALE,		rcv_wscale,	U8,	INFO)		\
	X(OPTIONS,		options,	OPTIONS, INFO)		\
	X(RETRANS,		total_retrans,	U32,	INFO)		\
	X(BYTES_ACKED,		bytes_acked,	U64,	INFO)		\
	X(BYTES_RECEIVED,	bytes_received,	U64,	INFO)		\
	X(SK_ERR,		sk_err,		U8,	ALWAYS)		\
	X(AUX,			aux,		U64,	ALWAYS)		\
	X(NETNS_COOKIE,		netns_cookie,	U64,	ALWAYS)		\
	X(RCV_UNREAD,		rcv_unread,	U32,	UNREAD)

#define __TCPSTATES_COLUMN_ENUM(NAME, field, type, valid)	\
	TCPSTATES_COL_##NAME,
enum {
	TCPSTATES_PROC_COLUMNS(__TCPSTATES_COLUMN_ENUM)
	TCPSTATES_NR_PROC_COLUMNS
};

#define TCPSTATES_PROC_COLUMNS_V1	35	/* ABI 1: up to AUX */

struct tcpstates_record {
	__u64	seq;		/* ring sequence number, from 0 at load */
	__u64	ts_ns;		/* CLOCK_MONOTONIC, read NMI-safely */
	__u64	cookie;		/* socket cookie; 0 for a LOST marker */
	__u64	aux;		/* per kind, see the events above */
	__u64	bytes_acked;	/* tcp_sock.bytes_acked */
	__u64	bytes_received;	/* tcp_sock.bytes_received */
	__u32	netns;		/* network namespace inode number (for display) */
	__u32	pid;		/* thread id, see "Processes" above; 0: none */
	__u32	tgid;		/* process id; 0: none */
	__u32	uid;		/* sk_uid as the reader's user ns sees it */
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
	__u32	rcv_unread;	/* rcv_nxt - copied_seq (F_UNREAD), see below */
	char	comm[16];	/* the task's comm, NUL-terminated; "" if none */
	/* ABI 2 */
	__u64	netns_cookie;	/* the netns's SO_NETNS_COOKIE, never reused */
};

#define TCPSTATES_RECORD_SIZE		176
#define TCPSTATES_RECORD_SIZE_V1	168	/* ABI 1: up to comm */

/*
 * Filled by TCPSTATES_IOC_INFO. The caller sets @argsz to the size of its
 * struct; the module fills min(argsz, its own size) bytes and writes its own
 * size back into @argsz, so the struct can grow at its end (the VFIO
 * convention). argsz below TCPSTATES_INFO_SIZE_MIN is -EINVAL.
 */
struct tcpstates_info {
	__u32	argsz;
	__u32	abi_version;
	__u32	record_size;
	__u32	nr_hooks;	/* TCPSTATES_NR_HOOKS of the running module */
	__u64	capacity;	/* records the ring holds */
	__u64	written;	/* records written since load (next seq) */
	__u64	oldest;		/* seq of the oldest record still held */
	__u64	filtered;	/* events skipped by the filter parameters */
	__u64	reader_next;	/* this open file's cursor (next seq) */
	__u64	reader_lost;	/* records this open file has lost */
	__s64	realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC */
	__u64	reader_netns_cookie; /* the namespace this file sees; 0: all */
	__u32	hooks_active;	/* bit (1 << TCPSTATES_HOOK_*) per active hook */
	__u32	reserved;
	__u64	missed[TCPSTATES_MAX_HOOKS]; /* kprobe nmissed per hook */
};

#define TCPSTATES_INFO_SIZE	344
#define TCPSTATES_INFO_SIZE_MIN	16	/* up to nr_hooks */

/*
 * ioctl numbers. TCPSTATES_IOC_INFO says what it does with its argument,
 * as ioctl.rst asks: _IOWR, since the module reads @argsz before it writes
 * the struct back, and the struct's size as this header defines it. The
 * module matches its type, number and direction, not the size: @argsz says
 * how much the caller has, so a reader built with an older or newer header
 * (a smaller or larger struct, another size in the number) still works.
 * TCPSTATES_IOC_INFO_V2 is the same request as ABI 2's first modules
 * numbered it, without direction and size; they know only that number
 * (-ENOTTY for the new one), so a reader falls back to it on -ENOTTY, and
 * the module keeps answering it.
 */
#define TCPSTATES_IOC_MAGIC	0xE7
/* 1 was ABI 1's fixed-size INFO, retired with it. */
#define TCPSTATES_IOC_SEEK_HEAD	_IO(TCPSTATES_IOC_MAGIC, 2)	/* arg must be 0 */
#define TCPSTATES_IOC_INFO	_IOWR(TCPSTATES_IOC_MAGIC, 3, struct tcpstates_info)
#define TCPSTATES_IOC_INFO_V2	_IO(TCPSTATES_IOC_MAGIC, 3)	/* struct tcpstates_info * */
/* Moves this file's cursor to *arg, at most the head (for poll(); see below). */
#define TCPSTATES_IOC_SEEK	_IOW(TCPSTATES_IOC_MAGIC, 4, __u64)

/*
 * The mapped ring. A reader that sees every namespace as it is (the
 * all-namespaces view of the initial user and PID namespaces: records the
 * module would hand it unchanged) may mmap() /dev/tcpstates: read-only
 * (PROT_READ; PROT_WRITE is -EACCES), offset 0, at most
 * tcpstates_mmap_header.map_size bytes (else -EINVAL: map the first page
 * to read it, then the whole), MAP_SHARED or MAP_PRIVATE. Any other
 * reader gets -EPERM and keeps read(), which is
 * where its namespace's filter and id translation happen. The mapping
 * holds the file, and so the module: rmmod is refused (EBUSY) until it is
 * unmapped, and the mapped pages are never freed under it.
 *
 * The map is one header page (struct tcpstates_mmap_header), then
 * @capacity slots of @slot_size bytes, each a struct tcpstates_slot:
 *
 *   gen == 0                      never written
 *   gen == (seq + 1) << 1 | 1     record seq is being written
 *   gen == (seq + 1) << 1         record seq, whole
 *
 * Record seq lives in slot seq & (capacity - 1). A reader keeps its own
 * cursor, the next seq it wants, and copies record seq seqlock-style:
 *
 *   head = load_acquire(&hdr->head);        next seq writers hand out
 *   if (seq >= head)                         nothing new: wait (below)
 *   if (head - seq > capacity)               lapped
 *   g1 = load_acquire(&slot->gen);
 *   if (g1 >> 1 > seq + 1)                   lapped: slot reused
 *   if (g1 >> 1 < seq + 1 || g1 & 1)         claimed, not yet written:
 *                                            try again shortly
 *   copy slot->rec;
 *   acquire fence (copy before re-reading gen)
 *   if (load(&slot->gen) != g1)              lapped during the copy: the
 *                                            copy is torn, never decode it
 *   seq++;
 *
 * Lapped: writers overwrote records the reader had not copied. It moves to
 * max(seq + 1, head - capacity), the oldest record still held, and has lost
 * exactly the difference (read() hands a namespace-bound reader the same
 * count as a TCPSTATES_EV_LOST record). A writer is never held up by a
 * reader, mapped or not.
 *
 * Waiting without spinning: ioctl(TCPSTATES_IOC_SEEK, &seq) tells the
 * module where the reader is, then poll() says POLLIN once record seq is
 * there, batched as for read() (the wakeup_ms parameter).
 */
#define TCPSTATES_MMAP_MAGIC	0x74637073	/* "tcps" */

struct tcpstates_mmap_header {
	__u32	magic;		/* TCPSTATES_MMAP_MAGIC */
	__u32	abi_version;	/* TCPSTATES_ABI_VERSION */
	__u32	record_size;	/* bytes of a record, as tcpstates_info's */
	__u32	slot_size;	/* bytes of a slot: its gen, then its record */
	__u64	capacity;	/* slots, a power of two */
	__u64	slots_offset;	/* where slot 0 starts: one page */
	__u64	map_size;	/* the bytes to map, a whole number of pages */
	__u64	reserved[3];
	/*
	 * At offset 64: the only word writers write, on a cache line of its
	 * own (nothing follows it in the page).
	 */
	__u64	head;
};

struct tcpstates_slot {
	__u64	gen;
	struct tcpstates_record rec;
};

#endif /* _UAPI_TCPSTATES_H */
