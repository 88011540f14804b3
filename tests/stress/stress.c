// SPDX-License-Identifier: GPL-2.0
/*
 * stress: the load and the readers of the stress test (run-guest.sh drives them).
 *
 *   stress churn SECONDS THREADS ADDR PORT [SERVER_NETNS]
 *	a server thread per CPU and THREADS client threads doing connect / 1-byte
 *	exchange / close as fast as they can, until SECONDS pass or SIGTERM; every third
 *	client closes with SO_LINGER 0 (RST), the others leave TIME_WAIT behind.
 *	With SERVER_NETNS (a namespace file such as /run/netns/NAME) the
 *	listening socket is made in that network namespace and the clients stay
 *	in the caller's, so the churn crosses a veth pair instead of loopback
 *	(tests/bench/). Prints "churn ADDR conns=N".
 *
 *   stress reader MODE
 *	reads /dev/tcpstates until SIGTERM; MODE is block, nonblock, poll,
 *	slow (one record every 20 ms; after its first, it waits until the
 *	writers have lapped it, however slow they are, so that a small ring
 *	surely does) or mapped (the mapped ring's protocol, uapi/tcpstates.h;
 *	between batches TCPSTATES_IOC_SEEK and poll(); its own cursor is the
 *	one checked, its losses those it counted). Checks every
 *	record (kind, sequence continuity, LOST markers) and that what it got
 *	adds up: records + lost = the cursor's advance (TCPSTATES_IOC_INFO at
 *	open and at exit, s1 - s0), and the cursor never passes `written`.
 *	Prints "reader MODE records=R lost=L span=S s0= s1= written0= written1=
 *	ok|BAD" and exits 1 on any inconsistency.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../module/uapi/tcpstates.h"
#include "../lib/mapped.h"

_Static_assert(sizeof(struct tcpstates_record) == TCPSTATES_RECORD_SIZE, "record size");

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- churn ---- */

static struct sockaddr_storage srv_addr;
static socklen_t srv_len;
static double deadline;
static atomic_ulong conns;
static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void *server(void *arg)
{
	int lfd = *(int *)arg;

	for (;;) {
		char b;
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		if (recv(fd, &b, 1, 0) == 1)
			send(fd, &b, 1, MSG_NOSIGNAL);
		close(fd);
	}
	return NULL;
}

static void *client(void *arg)
{
	long id = (long)arg;
	unsigned long n = 0;

	while (!stop && now() < deadline) {
		int fd = socket(srv_addr.ss_family, SOCK_STREAM, 0);
		char b = 'x';

		if (fd < 0)
			continue;
		if (!connect(fd, (void *)&srv_addr, srv_len) &&
		    send(fd, &b, 1, MSG_NOSIGNAL) == 1 && recv(fd, &b, 1, 0) == 1) {
			n++;
			if (n % 3 == (unsigned long)id % 3) {
				struct linger lg = { 1, 0 };

				setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			}
		}
		close(fd);
	}
	atomic_fetch_add(&conns, n);
	return NULL;
}

/*
 * listen_in(NETNS): socket + bind + listen in the network namespace
 * NETNS (NULL: our own). setns() moves only the calling thread, and the
 * socket stays in the namespace it was made in after the thread returns.
 */
static int listen_in(const char *netns)
{
	int lfd, ns, self = -1, one = 1;

	if (netns) {
		self = open("/proc/thread-self/ns/net", O_RDONLY);
		ns = open(netns, O_RDONLY);
		if (self < 0 || ns < 0 || setns(ns, CLONE_NEWNET)) {
			fprintf(stderr, "stress: cannot enter %s: %s\n", netns, strerror(errno));
			return -1;
		}
		close(ns);
	}
	lfd = socket(srv_addr.ss_family, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (void *)&srv_addr, srv_len) || listen(lfd, 512)) {
		perror("stress: listen");
		close(lfd);
		lfd = -1;
	}
	if (netns) {
		if (setns(self, CLONE_NEWNET)) {
			perror("stress: setns back");
			exit(1);
		}
		close(self);
	}
	return lfd;
}

static int churn(double seconds, long threads, const char *addr, int port,
		 const char *netns)
{
	struct sockaddr_in *s4 = (void *)&srv_addr;
	struct sockaddr_in6 *s6 = (void *)&srv_addr;
	struct sigaction sa = { .sa_handler = on_term };
	pthread_t t, tid[64];
	int lfd;

	sigaction(SIGTERM, &sa, NULL);

	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		srv_len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		srv_len = sizeof(*s6);
	} else {
		fprintf(stderr, "stress: bad address %s\n", addr);
		return 2;
	}
	lfd = listen_in(netns);
	if (lfd < 0)
		return 1;
	deadline = now() + seconds;
	/* one acceptor per CPU: a single one would be the churn's bottleneck */
	for (long i = sysconf(_SC_NPROCESSORS_ONLN); i > 0; i--)
		pthread_create(&t, NULL, server, &lfd);
	if (threads > 64)
		threads = 64;
	for (long i = 0; i < threads; i++)
		pthread_create(&tid[i], NULL, client, (void *)i);
	for (long i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	printf("churn %s conns=%lu\n", addr, atomic_load(&conns));
	return 0;
}

/* ---- reader ---- */

/*
 * Until the writers are a whole ring ahead of this reader's cursor, so its
 * next read must report a loss; false if told to stop first. Polls INFO
 * every 20 ms: the writers' pace decides, not a timer.
 */
static bool wait_lapped(int fd)
{
	struct tcpstates_info info = { .argsz = sizeof(info) };

	while (!stop) {
		if (ioctl(fd, TCPSTATES_IOC_INFO, &info))
			return false;
		if (info.written - info.reader_next > info.capacity)
			return true;
		usleep(20000);
	}
	return false;
}

/*
 * The mapped reader: copies records in place until SIGTERM, with the
 * protocol of uapi/tcpstates.h (tests/lib/mapped.h). Its cursor is its own,
 * so INFO's is moved to it (TCPSTATES_IOC_SEEK) before each poll() and at
 * the end.
 */
static int reader_mapped(void)
{
	struct sigaction sa = { .sa_handler = on_term };
	struct tcpstates_info info0 = { .argsz = sizeof(info0) };
	struct tcpstates_info info1 = { .argsz = sizeof(info1) };
	unsigned long records = 0, bad = 0;
	__u64 start, lost = 0, head, l;
	struct tcpstates_record r;
	struct mapped m;
	int fd, err;

	sigaction(SIGTERM, &sa, NULL);
	fd = open(TCPSTATES_DEVICE, O_RDONLY);
	if (fd < 0 || ioctl(fd, TCPSTATES_IOC_INFO, &info0)) {
		perror("stress: open/INFO");
		return 1;
	}
	err = map_ring(fd, &m);
	if (err) {
		fprintf(stderr, "stress: mmap: %s\n", strerror(err));
		return 1;
	}
	start = m.next = info0.reader_next;
	while (!stop) {
		int got = mapped_fetch(&m, &r, &l);

		if (got == M_OK) {
			if (r.seq != m.next - 1 || !r.kind || r.kind >= TCPSTATES_NR_EVENTS ||
			    r.kind == TCPSTATES_EV_LOST)
				bad++;
			records++;
			continue;
		}
		if (got == M_LOST) {
			lost += l;
			continue;
		}
		if (ioctl(fd, TCPSTATES_IOC_SEEK, &m.next)) {
			bad++;
			break;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		poll(&p, 1, 100);
	}
	head = mapped_head(&m);
	if (ioctl(fd, TCPSTATES_IOC_SEEK, &m.next) || ioctl(fd, TCPSTATES_IOC_INFO, &info1))
		bad++;
	/* copied + counted lost = the cursor's advance, which never passes the head */
	if (records + lost != m.next - start || info1.reader_next != m.next || m.next > head ||
	    start > info0.written)
		bad++;
	printf("reader mapped records=%lu lost=%llu span=%llu s0=%llu s1=%llu written0=%llu written1=%llu %s\n",
	       records, (unsigned long long)lost, (unsigned long long)(m.next - start),
	       (unsigned long long)start, (unsigned long long)m.next,
	       (unsigned long long)info0.written, (unsigned long long)head,
	       bad ? "BAD" : "ok");
	munmap((void *)m.hdr, m.size);
	close(fd);
	return bad ? 1 : 0;
}

static int reader(const char *mode)
{
	struct sigaction sa = { .sa_handler = on_term };
	struct tcpstates_info info0, info1;
	struct tcpstates_record rec[64];
	bool slow = !strcmp(mode, "slow"), nb = !strcmp(mode, "nonblock");
	bool use_poll = !strcmp(mode, "poll"), lapped = false;
	unsigned long records = 0, lost = 0, bad = 0;
	uint64_t expect;
	int fd;

	sigaction(SIGTERM, &sa, NULL);
	info0.argsz = sizeof(info0);
	info1.argsz = sizeof(info1);
	fd = open(TCPSTATES_DEVICE, O_RDONLY | (nb ? O_NONBLOCK : 0));
	if (fd < 0 || ioctl(fd, TCPSTATES_IOC_INFO, &info0)) {
		perror("stress: open/INFO");
		return 1;
	}
	expect = info0.reader_next;
	while (!stop) {
		size_t want = slow ? 1 : sizeof(rec) / sizeof(rec[0]);
		ssize_t n;

		if (use_poll) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			if (poll(&p, 1, 100) <= 0)
				continue;
		}
		n = read(fd, rec, want * sizeof(rec[0]));
		if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
			if (errno == EAGAIN)
				usleep(1000);
			continue;
		}
		if (n <= 0 || n % sizeof(rec[0])) {
			fprintf(stderr, "stress: read returned %zd (%s)\n", n, strerror(errno));
			bad++;
			break;
		}
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(rec[0]); i++) {
			const struct tcpstates_record *r = &rec[i];

			if (r->seq != expect || !r->kind || r->kind >= TCPSTATES_NR_EVENTS)
				bad++;
			if (r->kind == TCPSTATES_EV_LOST) {
				lost += r->aux;
				expect = r->seq + r->aux;
			} else {
				records++;
				expect = r->seq + 1;
			}
		}
		if (slow && !lapped)
			lapped = wait_lapped(fd);
		if (slow)
			usleep(20000);
	}
	if (ioctl(fd, TCPSTATES_IOC_INFO, &info1))
		bad++;
	/* received + reported lost = the cursor's advance, which never passes the head */
	if (records + lost != info1.reader_next - info0.reader_next ||
	    lost != info1.reader_lost || info1.reader_next != expect ||
	    info1.reader_next > info1.written || info0.reader_next > info0.written)
		bad++;
	printf("reader %s records=%lu lost=%lu span=%llu s0=%llu s1=%llu written0=%llu written1=%llu %s\n",
	       mode, records, lost,
	       (unsigned long long)(info1.reader_next - info0.reader_next),
	       (unsigned long long)info0.reader_next, (unsigned long long)info1.reader_next,
	       (unsigned long long)info0.written, (unsigned long long)info1.written,
	       bad ? "BAD" : "ok");
	close(fd);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "churn"))
		return churn(atof(argv[2]), atol(argv[3]), argv[4], atoi(argv[5]),
			     argc == 7 ? argv[6] : NULL);
	if (argc == 3 && !strcmp(argv[1], "reader") && !strcmp(argv[2], "mapped"))
		return reader_mapped();
	if (argc == 3 && !strcmp(argv[1], "reader"))
		return reader(argv[2]);
	fprintf(stderr, "usage: stress churn SECONDS THREADS ADDR PORT [SERVER_NETNS] | stress reader MODE\n");
	return 2;
}
