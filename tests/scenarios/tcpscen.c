// SPDX-License-Identifier: GPL-2.0
/*
 * tcpscen: make one kind of TCP connection life happen, deterministically,
 * and say which sockets it used.
 *
 *   tcpscen conv NAME [options]   a client and a server (two processes);
 *                                 --close finwait2: the client's orphan waits
 *                                 in FIN_WAIT2 for a FIN that never comes;
 *                                 --close rto|usertimeout|keepalive|zerowindow with
 *                                 --cut CMD: CMD makes the path a black hole
 *                                 once the exchange is done, and the client
 *                                 waits for its timer to give up (ETIMEDOUT)
 *   tcpscen refused NAME ADDR PORT
 *   tcpscen timeout NAME NETNS ADDR PORT
 *   tcpscen unreachable NAME NETNS ADDR PORT
 *                                 connect() that an ICMP host unreachable
 *                                 ends (EHOSTUNREACH)
 *   tcpscen noroute NAME NETNS ADDR PORT
 *                                 connect() that finds no route and fails
 *                                 at once (ENETUNREACH), its socket in CLOSE
 *   tcpscen listen NAME ADDR PORT
 *   tcpscen halfopen NAME NETNS_CLIENT NETNS_SERVER SRC DST PORT WAIT_MS
 *   tcpscen synrace NAME NETNS_CLIENT NETNS_SERVER SRC DST PORT PAIRS
 *   tcpscen ackrace NAME NETNS_CLIENT NETNS_SERVER SRC DST PORT PAIRS IFACE
 *   tcpscen reqends NAME NETNS_CLIENT NETNS_SERVER SRC DST PORT IFACE
 *                                 requests, each ended its own way: an RST,
 *                                 a SYN in its window, its final ACK dropped
 *                                 (accept queue full) until its timer gave
 *                                 up, its listener closed before its timer
 *                                 fired
 *   tcpscen noport NAME NETNS ADDR PORT
 *   tcpscen twfill NAME NETNS ADDR PORT GAP_MS SAMPLES
 *                                 a connection every GAP_MS, each closed by
 *                                 the client first (TIME_WAIT), until no
 *                                 ephemeral port is left; between each two
 *                                 it counts ss's TIME_WAITs into SAMPLES
 *   tcpscen listenq NAME NETNS_SERVER NETNS_CLIENT ADDR PORT BACKLOG CLIENTS
 *                   ACCEPT_MS     CLIENTS connect to a listener of BACKLOG;
 *                                 ACCEPT_MS after the last, it accepts them
 *                                 all (-1: never), then every socket closes
 *   tcpscen devread FILE          copy /dev/tcpstates to FILE until SIGTERM
 *
 * Every socket it creates is printed on stdout as one JSON line with its
 * cookie (SO_COOKIE, the id the module records), the process and thread
 * that used it, its namespace and its addresses; the checker (check.py)
 * selects the module's records by those cookies.
 *
 * Steps are separated by sleeps longer than the kernel's delayed-ACK timer
 * (40-200 ms) so that every ACK leaves on its own and the transition
 * sequence is the same on every run, even in a slow emulated guest.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../module/uapi/tcpstates.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

static const char *scen = "?";
/* Where a failed connect() was going: getpeername() has nothing to say then. */
static const char *peer_addr;
static unsigned int peer_port;
/* One more JSON member for the next report() line, e.g. "est_ns":123. */
static char report_extra[64];

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tcpscen %s: ", scen);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (errno)
		fprintf(stderr, ": %s", strerror(errno));
	fputc('\n', stderr);
	exit(1);
}

static void msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void sleep_until(uint64_t ns)
{
	struct timespec ts = { ns / 1000000000ULL, ns % 1000000000ULL };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Enter the network namespace `ip netns add NAME` made; "" stays put. */
static void enter_netns(const char *name)
{
	char path[256];
	int fd;

	if (!name || !*name)
		return;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET))
		die("enter netns %s", name);
	close(fd);
}

static unsigned long netns_inode(void)
{
	struct stat st;

	return stat("/proc/thread-self/ns/net", &st) ? 0 : st.st_ino;
}

static void addr_str(const struct sockaddr_storage *ss, char *buf, size_t n,
		     unsigned int *port)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, buf, n);
		*port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, buf, n);
		*port = ntohs(s4->sin_port);
	}
}

/* One JSON line per socket; the checker keys everything on "cookie". */
static void report(int fd, const char *role)
{
	struct sockaddr_storage l = { 0 }, r = { 0 };
	socklen_t ll = sizeof(l), rl = sizeof(r);
	char la[INET6_ADDRSTRLEN] = "", ra[INET6_ADDRSTRLEN] = "";
	unsigned int lp = 0, rp = 0;
	uint64_t cookie = 0;
	socklen_t cl = sizeof(cookie);
	char comm[17] = "";

	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &cl))
		die("SO_COOKIE");
	if (!getsockname(fd, (void *)&l, &ll))
		addr_str(&l, la, sizeof(la), &lp);
	if (!getpeername(fd, (void *)&r, &rl)) {
		addr_str(&r, ra, sizeof(ra), &rp);
	} else if (peer_addr) {
		snprintf(ra, sizeof(ra), "%s", peer_addr);
		rp = peer_port;
	}
	prctl(PR_GET_NAME, comm);
	printf("{\"scen\":\"%s\",\"role\":\"%s\",\"cookie\":%llu,\"pid\":%ld,\"tgid\":%d,\"comm\":\"%s\",\"netns\":%lu,\"laddr\":\"%s\",\"lport\":%u,\"raddr\":\"%s\",\"rport\":%u%s%s}\n",
	       scen, role, (unsigned long long)cookie, (long)syscall(SYS_gettid),
	       getpid(), comm, netns_inode(), la, lp, ra, rp,
	       *report_extra ? "," : "", report_extra);
	fflush(stdout);
	*report_extra = 0;
}

static int make_addr(const char *addr, unsigned int port,
		     struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 *s6 = (void *)ss;
	struct sockaddr_in *s4 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return AF_INET6;
	}
	errno = 0;
	die("bad address %s", addr);
	return -1;
}

static int tcp_socket(int family)
{
	int one = 1, fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die("SO_REUSEADDR");
	return fd;
}

static void send_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);

		if (w < 0)
			die("send");
		buf += w;
		n -= w;
	}
}

static void recv_exact(int fd, char *buf, size_t n)
{
	while (n) {
		ssize_t r = recv(fd, buf, n, 0);

		if (r <= 0)
			die("recv (%zd)", r);
		buf += r;
		n -= r;
	}
}

/* Read until the peer's FIN (or, if @rst_ok, its RST); returns the bytes read. */
static size_t recv_eof(int fd, bool rst_ok)
{
	char buf[4096];
	size_t total = 0;
	ssize_t r;

	while ((r = recv(fd, buf, sizeof(buf), 0)) > 0)
		total += r;
	if (r < 0 && !(rst_ok && errno == ECONNRESET))
		die("recv until EOF");
	return total;
}

enum closer {
	CLOSE_CLIENT,		/* client close() first, server after EOF */
	CLOSE_SERVER,		/* server close() first, client after EOF */
	CLOSE_BOTH,		/* both close() at the same instant */
	CLOSE_LINGER0,		/* client SO_LINGER 0: RST instead of FIN */
	CLOSE_UNREAD,		/* client close()s with unread data: RST mid-stream */
	CLOSE_HALF,		/* client shutdown(SHUT_WR), server keeps sending */
	CLOSE_SHUTDOWN,		/* each side shutdown(SHUT_WR), then close() at once */
	CLOSE_RTO,		/* path cut, data unacked: tcp_retries2 gives up */
	CLOSE_USER_TIMEOUT,	/* the same with TCP_USER_TIMEOUT set */
	CLOSE_KEEPALIVE,	/* path cut, idle: keepalive probes give up */
	CLOSE_ZERO_WINDOW,	/* peer's window shut, then path cut: window probes give up */
	CLOSE_FIN_WAIT2,	/* client close()s, TCP_LINGER2 2 s; server sends no FIN */
	CLOSE_UNSENT,		/* client close()s right after a write: FIN behind unacked data */
};

static const struct {
	const char *name;
	enum closer closer;
} closers[] = {
	{ "client", CLOSE_CLIENT }, { "server", CLOSE_SERVER },
	{ "both", CLOSE_BOTH }, { "linger0", CLOSE_LINGER0 },
	{ "unread", CLOSE_UNREAD }, { "half", CLOSE_HALF },
	{ "shutdown", CLOSE_SHUTDOWN }, { "rto", CLOSE_RTO },
	{ "usertimeout", CLOSE_USER_TIMEOUT }, { "keepalive", CLOSE_KEEPALIVE },
	{ "zerowindow", CLOSE_ZERO_WINDOW }, { "finwait2", CLOSE_FIN_WAIT2 },
	{ "unsent", CLOSE_UNSENT },
};

struct conv {
	const char *srv_addr, *cli_addr, *srv_ns, *cli_ns, *cut;
	unsigned int port, cli_port, conns, reuse_gap_ms;
	enum closer closer;
	int lost[2];	/* the client's "my timer gave up" to the server */
};

#define GAP_MS		300	/* > the 200 ms delayed-ACK maximum */
#define USER_TIMEOUT_MS	1500
#define KEEP_IDLE_S	1	/* TCP_KEEPIDLE and TCP_KEEPINTVL */
#define KEEP_CNT	2
#define SERVER_RCVBUF	4096	/* zerowindow: the server's, which it never reads */

static bool timer_closer(enum closer closer)
{
	return closer == CLOSE_RTO || closer == CLOSE_USER_TIMEOUT ||
	       closer == CLOSE_KEEPALIVE || closer == CLOSE_ZERO_WINDOW;
}

/*
 * The client loses its peer: once everything is acked, --cut makes the
 * path a black hole (nothing the client sends arrives, nothing answers),
 * then data is sent (rto, usertimeout) or the socket is left idle
 * (keepalive) until the timer gives up and recv() fails with ETIMEDOUT.
 * zerowindow first fills the window of a server that reads nothing more,
 * until the client's writes would block and its window probes are being
 * answered with a zero window; then the cut.
 */
static void fill_window(int fd)
{
	static char chunk[16384];
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK))
		die("O_NONBLOCK");
	int queued, unsent, i;

	while (send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL) > 0)
		;
	if (errno != EAGAIN)
		die("send until the window shuts");
	if (fcntl(fd, F_SETFL, fl))
		die("blocking again");
	/*
	 * Shut means nothing in flight and data waiting: the probe timer, not
	 * the retransmission timer, is running. A slow guest gets there later.
	 */
	for (i = 0; i < 200; i++) {
		if (ioctl(fd, SIOCOUTQ, &queued) || ioctl(fd, SIOCOUTQNSD, &unsent))
			die("SIOCOUTQ");
		if (queued == unsent && unsent > 0)
			break;
		msleep(50);
	}
	if (i == 200) {
		errno = 0;
		die("the window never shut with nothing in flight");
	}
	msleep(GAP_MS);
}

static void lose_peer(const struct conv *c, int fd)
{
	int one = 1, v;
	char b;

	if (c->closer == CLOSE_USER_TIMEOUT) {
		v = USER_TIMEOUT_MS;
		if (setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &v, sizeof(v)))
			die("TCP_USER_TIMEOUT");
	}
	if (c->closer == CLOSE_KEEPALIVE) {
		v = KEEP_IDLE_S;
		if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) ||
		    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)) ||
		    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof(v)))
			die("keepalive options");
		v = KEEP_CNT;
		if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof(v)))
			die("TCP_KEEPCNT");
	}
	msleep(GAP_MS);
	if (c->closer == CLOSE_ZERO_WINDOW)
		fill_window(fd);
	if (!c->cut || system(c->cut)) {
		errno = 0;
		die("--cut %s failed", c->cut ? c->cut : "(none)");
	}
	if (c->closer == CLOSE_RTO || c->closer == CLOSE_USER_TIMEOUT)
		send_all(fd, "lost", 4);
	if (recv(fd, &b, 1, 0) != -1 || errno != ETIMEDOUT)
		die("expected ETIMEDOUT from recv()");
	close(fd);
	if (write(c->lost[1], "t", 1) != 1)
		die("lost pipe");
}

#define HALF_BYTES	3000
/*
 * finwait2: the client's TCP_LINGER2. The kernel arms its FIN_WAIT2 for
 * at least 3.5 RTOs, so the scenario runs where routes have no rto_min.
 */
#define FIN_WAIT2_S	2
#define UNSENT_BYTES	3008	/* unsent: written just before close(), 47 * 64 */

/* The server side of one accepted connection. */
static void serve_one(const struct conv *c, int lfd, int sync_w)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	char buf[64];
	uint64_t t;
	int fd;

	/*
	 * Let the handshake finish first: accept() then finds it ESTABLISHED.
	 * The wait starts once the child is in the accept queue, which the
	 * kernel does just before it processes the ACK on it: a wait from
	 * before the client's connect() ended too early on a slow kernel
	 * (KCSAN), and accept() freed the request before the child's
	 * SYN_RECV -> ESTABLISHED.
	 */
	if (poll(&p, 1, 30000) != 1)
		die("no connection to accept");
	msleep(GAP_MS);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		die("accept");
	report(fd, "server");
	recv_exact(fd, buf, 5);
	send_all(fd, "world!", 6);

	switch (c->closer) {
	case CLOSE_CLIENT:
	case CLOSE_UNSENT:
	case CLOSE_LINGER0:
		recv_eof(fd, c->closer == CLOSE_LINGER0);
		msleep(GAP_MS);
		close(fd);
		break;
	case CLOSE_SERVER:
		msleep(GAP_MS);
		close(fd);
		break;
	case CLOSE_BOTH:
		t = mono_ns() + 2 * GAP_MS * 1000000ULL;
		if (write(sync_w, &t, sizeof(t)) != sizeof(t))
			die("sync pipe");
		sleep_until(t);
		close(fd);
		break;
	case CLOSE_UNREAD:
		/* Keep sending: the client's RST lands mid-stream. */
		memset(buf, 'x', sizeof(buf));
		for (int i = 0; i < 200; i++) {
			if (send(fd, buf, sizeof(buf), MSG_NOSIGNAL) < 0)
				break;
			msleep(10);
		}
		close(fd);
		break;
	case CLOSE_SHUTDOWN:
		/*
		 * After our ACK of the client's FIN has left (GAP_MS), FIN and
		 * close() back to back: close() finds LAST_ACK again, long
		 * before the client's ACK can come back over the delayed link.
		 */
		recv_eof(fd, false);
		msleep(GAP_MS);
		if (shutdown(fd, SHUT_WR))
			die("shutdown");
		close(fd);
		break;
	case CLOSE_RTO:
	case CLOSE_USER_TIMEOUT:
	case CLOSE_KEEPALIVE:
	case CLOSE_ZERO_WINDOW: {
		/* The client gave up; an RST of ours would not reach it. */
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		if (read(c->lost[0], buf, 1) != 1)
			die("lost pipe");
		if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
			die("SO_LINGER");
		close(fd);
		break;
	}
	case CLOSE_FIN_WAIT2: {
		/*
		 * No FIN of ours until the client's orphan has long given up
		 * waiting for one (TCP_LINGER2 2 s), then a reset into the void.
		 */
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		recv_eof(fd, false);
		msleep(FIN_WAIT2_S * 1000 + 4000);
		if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
			die("SO_LINGER");
		close(fd);
		break;
	}
	case CLOSE_HALF:
		recv_eof(fd, false);
		memset(buf, 'y', sizeof(buf));
		for (int sent = 0; sent < HALF_BYTES; sent += 1000) {
			msleep(100);
			for (int i = 0; i < 1000 / 50; i++)
				send_all(fd, buf, 50);
		}
		msleep(GAP_MS);
		close(fd);
		break;
	}
}

static void client_one(const struct conv *c, int sync_r)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[64];
	uint64_t t;
	int fd, family;

	family = make_addr(c->srv_addr, c->port, &ss, &len);
	fd = tcp_socket(family);
	if (c->cli_addr || c->cli_port) {
		struct sockaddr_storage bs;
		socklen_t bl;

		make_addr(c->cli_addr ? c->cli_addr :
			  family == AF_INET6 ? "::" : "0.0.0.0",
			  c->cli_port, &bs, &bl);
		if (bind(fd, (void *)&bs, bl))
			die("bind client");
	}
	if (connect(fd, (void *)&ss, len))
		die("connect");
	report(fd, "client");
	/*
	 * Let the final ACK make the server's child before data follows it:
	 * two segments for one request socket, handled on two CPUs at once,
	 * make two children, and the loser closes outside tcp_set_state().
	 */
	msleep(GAP_MS);
	send_all(fd, "hello", 5);
	if (c->closer != CLOSE_UNREAD)
		recv_exact(fd, buf, 6);

	switch (c->closer) {
	case CLOSE_CLIENT:
		msleep(GAP_MS);
		close(fd);
		break;
	case CLOSE_UNSENT:
		/* Over a 300 ms round trip none of it is acked yet at close(). */
		msleep(GAP_MS);
		memset(buf, 'z', sizeof(buf));
		for (int i = 0; i < UNSENT_BYTES / (int)sizeof(buf); i++)
			send_all(fd, buf, sizeof(buf));
		close(fd);
		break;
	case CLOSE_FIN_WAIT2: {
		int s = FIN_WAIT2_S;

		if (setsockopt(fd, IPPROTO_TCP, TCP_LINGER2, &s, sizeof(s)))
			die("TCP_LINGER2");
		msleep(GAP_MS);
		close(fd);
		break;
	}
	case CLOSE_SERVER:
		recv_eof(fd, false);
		msleep(GAP_MS);
		close(fd);
		break;
	case CLOSE_BOTH:
		if (read(sync_r, &t, sizeof(t)) != sizeof(t))
			die("sync pipe");
		sleep_until(t);
		close(fd);
		break;
	case CLOSE_LINGER0: {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		msleep(GAP_MS);
		if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
			die("SO_LINGER");
		close(fd);
		break;
	}
	case CLOSE_UNREAD: {
		/*
		 * Wait until the server's data is here, read none of it, and
		 * close(): unread data makes close() reset. Waiting on a timer
		 * alone raced the server on a slow guest and closed with a FIN.
		 */
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 10000) != 1)
			die("no data from the server to leave unread");
		msleep(GAP_MS);
		close(fd);
		break;
	}
	case CLOSE_SHUTDOWN:
		/* The FIN, then close() in FIN_WAIT1 again, before any ACK. */
		msleep(GAP_MS);
		if (shutdown(fd, SHUT_WR))
			die("shutdown");
		close(fd);
		break;
	case CLOSE_HALF:
		msleep(GAP_MS);
		if (shutdown(fd, SHUT_WR))
			die("shutdown");
		if (recv_eof(fd, false) != HALF_BYTES)
			die("half-close: short read");
		msleep(GAP_MS);
		close(fd);
		break;
	case CLOSE_RTO:
	case CLOSE_USER_TIMEOUT:
	case CLOSE_KEEPALIVE:
	case CLOSE_ZERO_WINDOW:
		lose_peer(c, fd);
		break;
	}
}

static int run_conv(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "client-addr", required_argument, NULL, 'c' },
		{ "server-netns", required_argument, NULL, 'S' },
		{ "client-netns", required_argument, NULL, 'C' },
		{ "port", required_argument, NULL, 'p' },
		{ "client-port", required_argument, NULL, 'P' },
		{ "close", required_argument, NULL, 'x' },
		{ "conns", required_argument, NULL, 'n' },
		{ "reuse-gap-ms", required_argument, NULL, 'g' },
		{ "cut", required_argument, NULL, 'k' },
		{ 0 }
	};
	struct conv c = { .srv_addr = "127.0.0.1", .conns = 1 };
	struct sockaddr_storage ss;
	int sync[2], ready[2], lfd, opt, status = 0;
	socklen_t len;
	pid_t srv;
	char ok;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': c.srv_addr = optarg; break;
		case 'c': c.cli_addr = optarg; break;
		case 'S': c.srv_ns = optarg; break;
		case 'C': c.cli_ns = optarg; break;
		case 'p': c.port = atoi(optarg); break;
		case 'P': c.cli_port = atoi(optarg); break;
		case 'n': c.conns = atoi(optarg); break;
		case 'g': c.reuse_gap_ms = atoi(optarg); break;
		case 'k': c.cut = optarg; break;
		case 'x':
			for (opt = 0; opt < (int)(sizeof(closers) / sizeof(closers[0])); opt++)
				if (!strcmp(optarg, closers[opt].name))
					break;
			if (opt == (int)(sizeof(closers) / sizeof(closers[0]))) {
				errno = 0;
				die("unknown --close %s", optarg);
			}
			c.closer = closers[opt].closer;
			break;
		default:
			return 2;
		}
	}
	if (!c.port || pipe(sync) || pipe(ready) || pipe(c.lost) ||
	    (timer_closer(c.closer) && !c.cut)) {
		errno = 0;
		die("conv needs --port (and --cut for a timer's close)");
	}

	srv = fork();
	if (srv < 0)
		die("fork");
	if (srv == 0) {
		prctl(PR_SET_NAME, "scen_srv");
		enter_netns(c.srv_ns);
		lfd = tcp_socket(make_addr(c.srv_addr, c.port, &ss, &len));
		opt = SERVER_RCVBUF;
		if (c.closer == CLOSE_ZERO_WINDOW &&
		    setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &opt, sizeof(opt)))
			die("SO_RCVBUF");
		if (bind(lfd, (void *)&ss, len) || listen(lfd, 16))
			die("listen");
		report(lfd, "listener");
		if (write(ready[1], "r", 1) != 1)
			die("ready pipe");
		for (unsigned int i = 0; i < c.conns; i++)
			serve_one(&c, lfd, sync[1]);
		msleep(GAP_MS);
		close(lfd);
		exit(0);
	}

	prctl(PR_SET_NAME, "scen_cli");
	enter_netns(c.cli_ns);
	if (read(ready[0], &ok, 1) != 1)
		die("server did not start");
	for (unsigned int i = 0; i < c.conns; i++) {
		if (i)
			msleep(c.reuse_gap_ms);
		client_one(&c, sync[0]);
	}
	if (waitpid(srv, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		errno = 0;
		die("server side failed");
	}
	return 0;
}

/* connect() that must fail with @want; the socket is reported anyway. */
static int run_failing_connect(const char *ns, const char *addr,
			       unsigned int port, int want)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	prctl(PR_SET_NAME, "scen_cli");
	enter_netns(ns);
	peer_addr = addr;
	peer_port = port;
	fd = tcp_socket(make_addr(addr, port, &ss, &len));
	if (!connect(fd, (void *)&ss, len) || errno != want)
		die("connect to %s:%u: expected %s", addr, port, strerror(want));
	report(fd, "client");
	close(fd);
	return 0;
}

static int run_listen(const char *addr, unsigned int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	prctl(PR_SET_NAME, "scen_srv");
	fd = tcp_socket(make_addr(addr, port, &ss, &len));
	if (bind(fd, (void *)&ss, len) || listen(fd, 4))
		die("listen");
	report(fd, "listener");
	msleep(GAP_MS);
	close(fd);
	return 0;
}

/*
 * One process in NETNS is client and server: a listener on ADDR:PORT,
 * reported, and the peer its clients report.
 */
static int own_listener(const char *ns, const char *addr, unsigned int port,
			struct sockaddr_storage *ss, socklen_t *len)
{
	int lfd;

	prctl(PR_SET_NAME, "scen_cli");
	enter_netns(ns);
	lfd = tcp_socket(make_addr(addr, port, ss, len));
	if (bind(lfd, (void *)ss, *len) || listen(lfd, 64))
		die("listen");
	report(lfd, "listener");
	peer_addr = addr;
	peer_port = port;
	return lfd;
}

/*
 * connect() until the namespace's ephemeral ports to ADDR:PORT are used up
 * (run-guest.sh narrows ip_local_port_range there): the last connect()
 * fails with EADDRNOTAVAIL after tcp_v4_connect() set SYN_SENT, before any
 * ISN was chosen or SYN sent. Only that socket and the listener are
 * reported; the others end with an RST (SO_LINGER 0), without TIME_WAIT.
 */
static int run_noport(const char *ns, const char *addr, unsigned int port)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr_storage ss;
	int lfd, fds[64], n = 0;
	socklen_t len;

	lfd = own_listener(ns, addr, port, &ss, &len);
	for (;;) {
		if (n == (int)(sizeof(fds) / sizeof(fds[0]))) {
			errno = 0;
			die("%d connects and still a free port", n);
		}
		fds[n] = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[n] < 0)
			die("socket");
		if (connect(fds[n], (void *)&ss, len)) {
			if (errno != EADDRNOTAVAIL)
				die("connect %d", n + 1);
			break;
		}
		n++;
	}
	report(fds[n], "client");
	close(fds[n]);
	msleep(GAP_MS);
	while (n--) {
		setsockopt(fds[n], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fds[n]);
	}
	msleep(GAP_MS);
	close(lfd);
	return 0;
}

/*
 * TIME_WAIT fills a destination's ports (run-guest.sh: 32 ephemeral ports,
 * tcp_tw_reuse 0): every GAP_MS a connection to ADDR:PORT, the client
 * closing first, so each leaves a TIME_WAIT that holds its port for 60 s,
 * until connect() fails with EADDRNOTAVAIL. Once its TIME_WAIT is in (it
 * comes with the server's FIN: on a KASAN guest over 200 ms after close())
 * and GAP_MS / 2 more, ss counts the namespace's TIME_WAIT sockets to the
 * destination: one JSON line in SAMPLES with CLOCK_MONOTONIC (the module's
 * clock) before and after, so no transition of this scenario falls
 * between. The last line says when the failing connect() began. The
 * listener and the failing client are reported.
 */
static int ss_count(const char *cmd)
{
	char line[64];
	FILE *p = popen(cmd, "r");

	if (!p || !fgets(line, sizeof(line), p))
		die("ss");
	pclose(p);
	return atoi(line);
}

/*
 * The namespace's TIME_WAIT sockets to remote port @port, from
 * /proc/net/tcp (IPv4): what the wait reads, as cheap as ss is not (1.3 s a
 * run on the KASAN kernel).
 */
static int tw_to_port(unsigned int port)
{
	char line[256];
	unsigned int rport, st;
	FILE *f = fopen("/proc/net/tcp", "r");
	int n = 0;

	if (!f)
		die("/proc/net/tcp");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %*d: %*x:%*x %*x:%x %x", &rport, &st) == 2 &&
		    rport == port && st == 6) /* TCP_TIME_WAIT */
			n++;
	fclose(f);
	return n;
}

static int run_twfill(const char *ns, const char *addr, unsigned int port,
		      int gap_ms, const char *samples)
{
	struct sockaddr_storage ss;
	char cmd[160];
	socklen_t len;
	int lfd, n;
	FILE *out;

	lfd = own_listener(ns, addr, port, &ss, &len);
	out = fopen(samples, "w");
	if (!out)
		die("%s", samples);
	snprintf(cmd, sizeof(cmd),
		 "ss -Htan state time-wait dst %s dport = :%u | wc -l", addr, port);
	for (n = 0;; n++) {
		int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), child;
		uint64_t t0 = mono_ns(), t1;
		char buf[1];
		int tw;

		if (fd < 0)
			die("socket");
		if (n == 1000) {
			errno = 0;
			die("%d connects and still a free port", n);
		}
		if (connect(fd, (void *)&ss, len)) {
			if (errno != EADDRNOTAVAIL)
				die("connect %d", n + 1);
			fprintf(out, "{\"fail_ns\":%llu,\"connects\":%d}\n",
				(unsigned long long)t0, n);
			report(fd, "client");
			close(fd);
			break;
		}
		child = accept(lfd, NULL, NULL);
		if (child < 0)
			die("accept");
		close(fd);
		if (read(child, buf, 1) != 0)
			die("read: no EOF");
		close(child);
		for (int w = 0; w < 150 && tw_to_port(port) <= n; w++)
			msleep(20);
		msleep(gap_ms / 2);
		t0 = mono_ns();
		tw = ss_count(cmd);
		t1 = mono_ns();
		fprintf(out, "{\"t0\":%llu,\"t1\":%llu,\"tw\":%d}\n",
			(unsigned long long)t0, (unsigned long long)t1, tw);
		msleep(gap_ms - gap_ms / 2);
	}
	fclose(out);
	close(lfd);
	return 0;
}

/* Did a non-blocking connect() complete, without error, within @ms? */
static bool connected_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t el = sizeof(int);
	int err = 0;

	return poll(&p, 1, ms) == 1 &&
	       !getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) && !err;
}

/*
 * Listener pressure: CLIENTS non-blocking connects to a listener of BACKLOG
 * in NETNS_SERVER, from NETNS_CLIENT. A listener that accepts (ACCEPT_MS >=
 * 0) gets them one at a time: each client is reported with est_ns,
 * CLOCK_MONOTONIC (the module's clock) when its connect() completed.
 * ACCEPT_MS after the last, the listener accepts what its queue holds, each
 * child reported with accepted_ns, the time accept() returned it. One that
 * never accepts (-1) gets every SYN 50 ms apart, without waiting for the
 * handshakes: over a path with delay, requests made while the accept queue
 * had room get their final ACK when it has none. Then the clients close
 * with an RST (SO_LINGER 0: no TIME_WAIT, and a request whose final ACK was
 * dropped dies at once), the children and the listener after them.
 */
static int run_listenq(const char *srv_ns, const char *cli_ns,
		       const char *addr, unsigned int port, int backlog,
		       int clients, int accept_ms)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr_storage ss;
	int lfd, fds[64], kids[64], nkids = 0, i;
	socklen_t len;

	if (clients < 1 || clients > 64) {
		errno = 0;
		die("1 to 64 clients");
	}
	prctl(PR_SET_NAME, "scen_srv");
	enter_netns(srv_ns);
	lfd = tcp_socket(make_addr(addr, port, &ss, &len));
	if (bind(lfd, (void *)&ss, len) || listen(lfd, backlog))
		die("listen");
	report(lfd, "listener");
	prctl(PR_SET_NAME, "scen_cli");
	enter_netns(cli_ns);
	for (i = 0; i < clients; i++) {
		fds[i] = socket(ss.ss_family,
				SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fds[i] < 0)
			die("socket");
		if (!connect(fds[i], (void *)&ss, len) || errno != EINPROGRESS)
			die("connect %d", i + 1);
		if (accept_ms < 0) {
			msleep(50);
			continue;
		}
		if (connected_within(fds[i], 1000))
			snprintf(report_extra, sizeof(report_extra),
				 "\"est_ns\":%llu",
				 (unsigned long long)mono_ns());
		report(fds[i], "client");
	}
	for (i = 0; accept_ms < 0 && i < clients; i++)
		report(fds[i], "client");
	prctl(PR_SET_NAME, "scen_srv");
	if (accept_ms >= 0) {
		msleep(accept_ms);
		/* take what the queue holds, then stop */
		if (fcntl(lfd, F_SETFL, O_NONBLOCK))
			die("O_NONBLOCK");
		while (nkids < 64 &&
		       (kids[nkids] = accept4(lfd, NULL, NULL,
					      SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
			snprintf(report_extra, sizeof(report_extra),
				 "\"accepted_ns\":%llu",
				 (unsigned long long)mono_ns());
			report(kids[nkids++], "server");
		}
	}
	msleep(GAP_MS);
	for (i = 0; i < clients; i++) {
		setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fds[i]);
	}
	msleep(GAP_MS);
	while (nkids--)
		close(kids[nkids]);
	close(lfd);
	return 0;
}

static uint16_t csum(const void *data, size_t len, uint32_t sum)
{
	const uint16_t *p = data;

	for (; len > 1; len -= 2)
		sum += *p++;
	if (len)
		sum += *(const uint8_t *)p;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* A bare IPv4 TCP segment, sent through a raw socket (IP_HDRINCL). */
struct raw_syn {
	struct iphdr ip;
	struct tcphdr tcp;
};

/* A bare segment with TCP @flags (TH_*); its ack number only with TH_ACK. */
static void make_flags(struct raw_syn *pkt, const char *src, const char *dst,
		       unsigned int sport, unsigned int dport, uint32_t seq,
		       uint32_t ack, unsigned int flags)
{
	struct {
		uint32_t src, dst;
		uint8_t zero, proto;
		uint16_t len;
		struct tcphdr tcp;
	} pseudo = { 0 };

	memset(pkt, 0, sizeof(*pkt));
	pkt->ip.version = 4;
	pkt->ip.ihl = 5;
	pkt->ip.tot_len = htons(sizeof(*pkt));
	pkt->ip.ttl = 64;
	pkt->ip.protocol = IPPROTO_TCP;
	inet_pton(AF_INET, src, &pkt->ip.saddr);
	inet_pton(AF_INET, dst, &pkt->ip.daddr);
	pkt->tcp.source = htons(sport);
	pkt->tcp.dest = htons(dport);
	pkt->tcp.seq = htonl(seq);
	pkt->tcp.ack_seq = htonl(ack);
	pkt->tcp.doff = 5;
	pkt->tcp.syn = !!(flags & TH_SYN);
	pkt->tcp.ack = !!(flags & TH_ACK);
	pkt->tcp.rst = !!(flags & TH_RST);
	pkt->tcp.window = htons(65535);
	pseudo.src = pkt->ip.saddr;
	pseudo.dst = pkt->ip.daddr;
	pseudo.proto = IPPROTO_TCP;
	pseudo.len = htons(sizeof(pkt->tcp));
	pseudo.tcp = pkt->tcp;
	pkt->tcp.check = csum(&pseudo, sizeof(pseudo), 0);
}

/* A bare segment: a SYN (@ack 0) or the handshake's final ACK. */
static void make_seg(struct raw_syn *pkt, const char *src, const char *dst,
		     unsigned int sport, unsigned int dport, uint32_t seq,
		     uint32_t ack)
{
	make_flags(pkt, src, dst, sport, dport, seq, ack, ack ? TH_ACK : TH_SYN);
}

static int raw_socket(void)
{
	int one = 1, raw = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);

	if (raw < 0 || setsockopt(raw, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)))
		die("raw socket");
	return raw;
}

static void send_seg(int raw, const struct raw_syn *pkt)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_addr.s_addr = pkt->ip.daddr };

	if (sendto(raw, pkt, sizeof(*pkt), 0, (void *)&to, sizeof(to)) != sizeof(*pkt))
		die("send segment");
}

static void report_syn(const char *src, unsigned int sport, const char *dst,
		       unsigned int dport, uint32_t isn)
{
	printf("{\"scen\":\"%s\",\"role\":\"raw_syn\",\"isn\":%u,\"laddr\":\"%s\",\"lport\":%u,\"raddr\":\"%s\",\"rport\":%u}\n",
	       scen, isn, src, sport, dst, dport);
	fflush(stdout);
}

/* A listener on DST:PORT in @srv_ns, then back to @cli_ns. */
static int listen_in(const char *srv_ns, const char *cli_ns, const char *dst,
		     unsigned int port, int backlog)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int lfd;

	prctl(PR_SET_NAME, "scen_srv");
	enter_netns(srv_ns);
	lfd = tcp_socket(make_addr(dst, port, &ss, &len));
	if (bind(lfd, (void *)&ss, len) || listen(lfd, backlog))
		die("listen");
	report(lfd, "listener");
	enter_netns(cli_ns);
	return lfd;
}

/*
 * A SYN from an address nobody owns: the server's SYN-ACKs go nowhere, no
 * RST comes back, and the request socket times out (or, from an address
 * the server has no route back to, it is dropped before it is hashed). The
 * listener lives in @srv_ns; the SYN is sent from @cli_ns over the veth
 * pair between them.
 */
static int run_halfopen(const char *cli_ns, const char *srv_ns,
			const char *src, const char *dst, unsigned int port,
			unsigned int wait_ms)
{
	uint32_t isn = 0x12345678u ^ (uint32_t)mono_ns();
	unsigned int sport = 40000 + (mono_ns() / 1000) % 20000;
	struct raw_syn pkt;
	int lfd, raw;

	lfd = listen_in(srv_ns, cli_ns, dst, port, 4);
	raw = raw_socket();
	make_seg(&pkt, src, dst, sport, port, isn, 0);
	send_seg(raw, &pkt);
	report_syn(src, sport, dst, port, isn);
	/* Wait for the SYN-ACK retries to run out, then close the listener. */
	msleep(wait_ms);
	close(lfd);
	return 0;
}

/*
 * The same segment sent at the same instant from two CPUs, PAIRS times,
 * each pair from its own port: each copy crosses the veth pair and reaches
 * TCP in the softirq of the CPU that sent it, so the two can both miss what
 * the other is about to hash.
 *
 * synrace: two copies of a SYN. Both can miss the request socket; the
 * loser's inet_csk_reqsk_queue_hash_add() then finds the winner's (6.1.y,
 * 6.12 on) and fails: tcp_conn_request() frees the request without a
 * SYN-ACK.
 *
 * ackrace: one SYN, then two copies of the final ACK to its SYN-ACK (read
 * off @ifname, where the SYN-ACK to an address nobody owns still passes).
 * Both find the request and make a child; the loser's
 * inet_ehash_nolisten() finds the request gone, and syn_recv_sock()
 * returns its child, already closed, with *own_req false.
 */
#define RACE_PAIRS_MAX	1000

struct race {
	const char *src, *dst;
	unsigned int sport0, port, pairs;
	int psock;			/* ackrace: where SYN-ACKs are read */
	uint32_t isn[RACE_PAIRS_MAX];
	struct raw_syn pkts[RACE_PAIRS_MAX];
};

struct racer {
	int cpu, raw;
	struct race *race;
};

static atomic_uint race_arrived;

static void race_barrier(unsigned int round)
{
	atomic_fetch_add(&race_arrived, 1);
	while (atomic_load(&race_arrived) < 2 * (round + 1))
		;
}

/* The server's ISN from its SYN-ACK to pair @i's SYN. */
static uint32_t wait_synack(const struct race *rc, unsigned int i)
{
	uint32_t src, dst;
	uint8_t buf[128];
	uint64_t end = mono_ns() + 3000000000ULL;

	inet_pton(AF_INET, rc->src, &src);
	inet_pton(AF_INET, rc->dst, &dst);
	while (mono_ns() < end) {
		const struct iphdr *ip = (const void *)buf;
		const struct tcphdr *th;
		ssize_t n = recv(rc->psock, buf, sizeof(buf), 0);

		if (n < (ssize_t)sizeof(*ip) || ip->protocol != IPPROTO_TCP ||
		    ip->saddr != dst || ip->daddr != src ||
		    n < ip->ihl * 4 + (ssize_t)sizeof(*th))
			continue;
		th = (const void *)(buf + ip->ihl * 4);
		if (th->syn && th->ack && ntohs(th->source) == rc->port &&
		    ntohs(th->dest) == rc->sport0 + i)
			return ntohl(th->seq);
	}
	errno = 0;
	die("no SYN-ACK to port %u", rc->sport0 + i);
	return 0;
}

/* ackrace: pair @i's SYN, and its final ACK ready for both racers. */
static void ack_prepare(struct racer *r, unsigned int i)
{
	struct race *rc = r->race;
	struct raw_syn syn;

	make_seg(&syn, rc->src, rc->dst, rc->sport0 + i, rc->port, rc->isn[i], 0);
	send_seg(r->raw, &syn);
	make_seg(&rc->pkts[i], rc->src, rc->dst, rc->sport0 + i, rc->port,
		 rc->isn[i] + 1, wait_synack(rc, i) + 1);
}

static void *racer_run(void *arg)
{
	struct racer *r = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(r->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("pin to CPU %d", r->cpu);
	for (unsigned int i = 0; i < r->race->pairs; i++) {
		if (r->cpu == 0 && r->race->psock >= 0)
			ack_prepare(r, i);
		race_barrier(i);
		send_seg(r->raw, &r->race->pkts[i]);
		msleep(20);
	}
	return NULL;
}

static int run_race(bool acks, const char *cli_ns, const char *srv_ns,
		    const char *src, const char *dst, unsigned int port,
		    unsigned int pairs, const char *ifname)
{
	static struct race rc;
	struct racer r[2];
	pthread_t helper;
	int lfd;

	if (!pairs || pairs > RACE_PAIRS_MAX || sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		errno = 0;
		die("needs 1..%d pairs and two CPUs", RACE_PAIRS_MAX);
	}
	rc = (struct race){ .src = src, .dst = dst, .port = port,
			    .pairs = pairs, .psock = -1,
			    .sport0 = 20000 + (mono_ns() / 1000) % 10000 };
	lfd = listen_in(srv_ns, cli_ns, dst, port, 4096);
	if (acks) {
		struct sockaddr_ll ll = { .sll_family = AF_PACKET,
					  .sll_protocol = htons(ETH_P_IP),
					  .sll_ifindex = if_nametoindex(ifname) };
		struct timeval tv = { .tv_sec = 1 };

		rc.psock = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
		if (rc.psock < 0 || !ll.sll_ifindex ||
		    bind(rc.psock, (void *)&ll, sizeof(ll)) ||
		    setsockopt(rc.psock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
			die("packet socket on %s", ifname);
	}
	for (unsigned int i = 0; i < pairs; i++) {
		rc.isn[i] = 0x9e3779b9u * (i + 1) ^ (uint32_t)mono_ns();
		if (!acks)
			make_seg(&rc.pkts[i], src, dst, rc.sport0 + i, port, rc.isn[i], 0);
		report_syn(src, rc.sport0 + i, dst, port, rc.isn[i]);
	}
	for (int i = 0; i < 2; i++)
		r[i] = (struct racer){ .cpu = i, .raw = raw_socket(), .race = &rc };
	if (pthread_create(&helper, NULL, racer_run, &r[1]))
		die("thread");
	racer_run(&r[0]);
	pthread_join(helper, NULL);
	/* Every request's SYN-ACK retries run out (tcp_synack_retries 1). */
	msleep(4500);
	close(lfd);
	return 0;
}

/* A raw SYN to @port from sport0 + @i, reported with its @end; its SYN-ACK's ISN. */
static uint32_t raw_request(struct race *rc, int raw, unsigned int i,
			    unsigned int port, const char *end, uint32_t *isn)
{
	struct raw_syn pkt;

	*isn = 0x7f4a7c15u * (i + 1) ^ (uint32_t)mono_ns();
	make_seg(&pkt, rc->src, rc->dst, rc->sport0 + i, port, *isn, 0);
	send_seg(raw, &pkt);
	printf("{\"scen\":\"%s\",\"role\":\"raw_syn\",\"end\":\"%s\",\"isn\":%u,\"laddr\":\"%s\",\"lport\":%u,\"raddr\":\"%s\",\"rport\":%u}\n",
	       scen, end, *isn, rc->src, rc->sport0 + i, rc->dst, port);
	fflush(stdout);
	rc->port = port;
	return wait_synack(rc, i);
}

/* Its final ACK (or, with @flags, an RST or SYN at A + 1). */
static void raw_answer(const struct race *rc, int raw, unsigned int i,
		       unsigned int port, uint32_t isn, uint32_t b,
		       unsigned int flags)
{
	struct raw_syn pkt;

	make_flags(&pkt, rc->src, rc->dst, rc->sport0 + i, port, isn + 1,
		   flags ? 0 : b + 1, flags ? flags : TH_ACK);
	send_seg(raw, &pkt);
	msleep(100);
}

/*
 * Requests from an address nobody owns (the server's SYN-ACKs go to a MAC
 * nobody has and are read off @ifname), each ended its own way once its
 * SYN-ACK came. Each is printed as a raw_syn line with "end" naming it:
 *   reset     PORT: an RST at the request's next sequence number (in its
 *             window)
 *   syn       PORT: a SYN at that number (in the window, not the request's
 *             SYN): the kernel's embryonic reset answers it with an RST
 *   ack       PORT + 1, a listener of backlog 2 that never accepts: its
 *             final ACK comes once three children (end "child") fill the
 *             accept queue, and is dropped; tcp_synack_retries is 1, so
 *             its timer resends the SYN-ACK 1 s after the first and gives
 *             up 2 s later (a request made later would find the SYN queue
 *             full or the accept queue full: a cookie, or no SYN-ACK)
 *   listener  PORT: the listener closes; the request's timer, 1 s after its
 *             SYN-ACK, finds it closed and drops the request
 */
static int run_reqends(const char *cli_ns, const char *srv_ns,
		       const char *src, const char *dst, unsigned int port,
		       const char *ifname)
{
	static struct race rc;
	struct sockaddr_ll ll = { .sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_IP) };
	struct timeval tv = { .tv_sec = 1 };
	uint32_t isn, b, ack_isn, ack_b;
	int lfd, lfd2, raw;

	rc = (struct race){ .src = src, .dst = dst, .port = port, .pairs = 7,
			    .sport0 = 30000 + (mono_ns() / 1000) % 10000 };
	lfd = listen_in(srv_ns, cli_ns, dst, port, 16);
	lfd2 = listen_in(srv_ns, cli_ns, dst, port + 1, 2);
	ll.sll_ifindex = if_nametoindex(ifname);
	rc.psock = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
	if (rc.psock < 0 || !ll.sll_ifindex ||
	    bind(rc.psock, (void *)&ll, sizeof(ll)) ||
	    setsockopt(rc.psock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		die("packet socket on %s", ifname);
	raw = raw_socket();
	b = raw_request(&rc, raw, 0, port, "reset", &isn);
	raw_answer(&rc, raw, 0, port, isn, b, TH_RST);
	b = raw_request(&rc, raw, 1, port, "syn", &isn);
	raw_answer(&rc, raw, 1, port, isn, b, TH_SYN);
	ack_b = raw_request(&rc, raw, 2, port + 1, "ack", &ack_isn);
	for (unsigned int i = 3; i < 6; i++) {
		b = raw_request(&rc, raw, i, port + 1, "child", &isn);
		raw_answer(&rc, raw, i, port + 1, isn, b, 0);
	}
	raw_answer(&rc, raw, 2, port + 1, ack_isn, ack_b, 0);
	raw_request(&rc, raw, 6, port, "listener", &isn);
	close(lfd);
	/*
	 * The ack request's timer gives up 3 s after its SYN-ACK, about 2.5 s
	 * from here: its listener must still be listening then.
	 */
	msleep(4000);
	close(lfd2);
	return 0;
}

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* Copy the binary stream to FILE, whole records, until SIGTERM. */
static int run_devread(const char *path)
{
	struct sigaction sa = { .sa_handler = on_term };
	static struct tcpstates_record buf[256];
	int in, out;
	ssize_t n;

	sigaction(SIGTERM, &sa, NULL);
	in = open("/dev/tcpstates", O_RDONLY | O_CLOEXEC);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (in < 0 || out < 0)
		die("open");
	printf("devread ready\n");
	fflush(stdout);
	while (!stop) {
		n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("read /dev/tcpstates (%zd)", n);
		if (n % sizeof(buf[0]) || write(out, buf, n) != n)
			die("short record or write");
	}
	/* Drain what is left without blocking. */
	fcntl(in, F_SETFL, O_NONBLOCK);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			die("write");
	close(out);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		goto usage;
	if (!strcmp(argv[1], "devread") && argc == 3)
		return run_devread(argv[2]);
	if (argc < 3)
		goto usage;
	scen = argv[2];
	if (!strcmp(argv[1], "conv"))
		return run_conv(argc - 2, argv + 2);
	if (!strcmp(argv[1], "refused") && argc == 5)
		return run_failing_connect("", argv[3], atoi(argv[4]), ECONNREFUSED);
	if (!strcmp(argv[1], "timeout") && argc == 6)
		return run_failing_connect(argv[3], argv[4], atoi(argv[5]), ETIMEDOUT);
	if (!strcmp(argv[1], "unreachable") && argc == 6)
		return run_failing_connect(argv[3], argv[4], atoi(argv[5]), EHOSTUNREACH);
	if (!strcmp(argv[1], "noroute") && argc == 6)
		return run_failing_connect(argv[3], argv[4], atoi(argv[5]), ENETUNREACH);
	if (!strcmp(argv[1], "listen") && argc == 5)
		return run_listen(argv[3], atoi(argv[4]));
	if (!strcmp(argv[1], "synrace") && argc == 9)
		return run_race(false, argv[3], argv[4], argv[5], argv[6],
				atoi(argv[7]), atoi(argv[8]), NULL);
	if (!strcmp(argv[1], "ackrace") && argc == 10)
		return run_race(true, argv[3], argv[4], argv[5], argv[6],
				atoi(argv[7]), atoi(argv[8]), argv[9]);
	if (!strcmp(argv[1], "reqends") && argc == 9)
		return run_reqends(argv[3], argv[4], argv[5], argv[6],
				   atoi(argv[7]), argv[8]);
	if (!strcmp(argv[1], "listenq") && argc == 10)
		return run_listenq(argv[3], argv[4], argv[5], atoi(argv[6]),
				   atoi(argv[7]), atoi(argv[8]), atoi(argv[9]));
	if (!strcmp(argv[1], "noport") && argc == 6)
		return run_noport(argv[3], argv[4], atoi(argv[5]));
	if (!strcmp(argv[1], "twfill") && argc == 8)
		return run_twfill(argv[3], argv[4], atoi(argv[5]), atoi(argv[6]),
				  argv[7]);
	if (!strcmp(argv[1], "halfopen") && argc == 9)
		return run_halfopen(argv[3], argv[4], argv[5], argv[6],
				    atoi(argv[7]), atoi(argv[8]));
usage:
	fprintf(stderr, "usage: see the comment at the top of tcpscen.c\n");
	return 2;
}
