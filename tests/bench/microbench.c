// SPDX-License-Identifier: GPL-2.0
/*
 * microbench: the small measuring programs of the benchmark (tests/bench/
 * run-guest.sh drives them in the test VM).
 *
 *   microbench hits ITERATIONS PORT
 *	one TCP socket bound once to 127.0.0.1:PORT, then ITERATIONS times
 *	listen(fd, 1) + connect(fd, AF_UNSPEC). With tcpstates loaded that is
 *	exactly two records per iteration (the listen return probe, CLOSE ->
 *	LISTEN, and tcp_set_state LISTEN -> CLOSE from tcp_disconnect()) and
 *	no network, packet or scheduler work around them. Prints
 *	"hits iterations=N ns=T ns_per_iter=X".
 *
 *   microbench drain READERS
 *	opens /dev/tcpstates READERS times (O_NONBLOCK, so every cursor
 *	starts at the oldest record held), then one thread per file reads
 *	with 4 MiB buffers until EAGAIN, all started at once. Meant for a
 *	full ring that nothing writes to meanwhile. Prints "drain readers=R
 *	records=N lost=L seconds=S records_per_s=X" (N summed over readers).
 *
 *   microbench pace SLEEP_MS
 *	a slow reader: reads whatever /dev/tcpstates holds (from the head at
 *	open), then sleeps SLEEP_MS, until SIGINT or SIGTERM. The ring must
 *	hold SLEEP_MS worth of records for it to lose nothing. Prints
 *	"pace sleep_ms=S records=N lost=L".
 *
 *   microbench count FILE [SEQ...]
 *	counts the records of a `tcptimeline -w` capture, LOST markers apart:
 *	"count records=N lost=L markers=M" (L = what the markers say was
 *	lost). Given sequence numbers B1 B2 ... (`written` read from
 *	/proc/tcpstates_stats around each measurement), also one line per
 *	interval [Bi, Bi+1): "count from=Bi to=Bi+1 records=N lost=L", the
 *	records received and the records lost of those written in it.
 *
 * Exit status 0, 1 on an error (told on stderr), 2 for a usage error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../module/uapi/tcpstates.h"

_Static_assert(sizeof(struct tcpstates_record) == TCPSTATES_RECORD_SIZE, "record size");

#define READ_BUF	(4 << 20)	/* bytes per read(): about 25,000 records */
#define MAX_READERS	64
#define MAX_BOUNDS	16
#define CAP_HEADER	64		/* tools/capture.c: the header's fixed part */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Adds up a buffer of records: real ones to *records, LOST markers to *lost. */
static void tally(const struct tcpstates_record *rec, size_t n,
		  unsigned long *records, unsigned long *lost, unsigned long *markers)
{
	for (size_t i = 0; i < n; i++) {
		if (rec[i].kind == TCPSTATES_EV_LOST) {
			*lost += rec[i].aux;
			if (markers)
				(*markers)++;
		} else {
			(*records)++;
		}
	}
}

/* ---- hits ---- */

static int hits(long iterations, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	uint64_t t0, t1;
	int fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	/* an explicit port stays bound across the disconnects (SOCK_BINDPORT_LOCK) */
	if (fd < 0 || bind(fd, (void *)&sin, sizeof(sin))) {
		perror("microbench: bind");
		return 1;
	}
	t0 = now_ns();
	for (long i = 0; i < iterations; i++) {
		if (listen(fd, 1) || connect(fd, &unspec, sizeof(unspec))) {
			perror("microbench: listen/disconnect");
			return 1;
		}
	}
	t1 = now_ns();
	close(fd);
	printf("hits iterations=%ld ns=%llu ns_per_iter=%.1f\n", iterations,
	       (unsigned long long)(t1 - t0), (double)(t1 - t0) / iterations);
	return 0;
}

/* ---- drain ---- */

struct drainer {
	pthread_t thread;
	int fd;
	unsigned long records, lost;
	uint64_t end_ns;
	int err;
};

static pthread_barrier_t start_line;

static void *drain_one(void *arg)
{
	struct drainer *d = arg;
	struct tcpstates_record *buf = malloc(READ_BUF);

	if (!buf) {
		d->err = ENOMEM;
		return NULL;
	}
	pthread_barrier_wait(&start_line);
	for (;;) {
		ssize_t n = read(d->fd, buf, READ_BUF);

		if (n < 0) {
			if (errno != EAGAIN)
				d->err = errno;
			break;
		}
		tally(buf, n / sizeof(*buf), &d->records, &d->lost, NULL);
	}
	d->end_ns = now_ns();
	free(buf);
	return NULL;
}

static int drain(int readers)
{
	struct drainer d[MAX_READERS] = { 0 };
	unsigned long records = 0, lost = 0;
	uint64_t t0, t1 = 0;
	int err = 0;

	if (readers < 1 || readers > MAX_READERS) {
		fprintf(stderr, "microbench: 1 to %d readers\n", MAX_READERS);
		return 2;
	}
	pthread_barrier_init(&start_line, NULL, readers + 1);
	for (int i = 0; i < readers; i++) {
		d[i].fd = open(TCPSTATES_DEVICE, O_RDONLY | O_NONBLOCK);
		if (d[i].fd < 0) {
			perror("microbench: open " TCPSTATES_DEVICE);
			return 1;
		}
	}
	for (int i = 0; i < readers; i++)
		pthread_create(&d[i].thread, NULL, drain_one, &d[i]);
	t0 = now_ns();
	pthread_barrier_wait(&start_line);
	for (int i = 0; i < readers; i++) {
		pthread_join(d[i].thread, NULL);
		close(d[i].fd);
		records += d[i].records;
		lost += d[i].lost;
		if (d[i].end_ns > t1)
			t1 = d[i].end_ns;
		if (d[i].err)
			err = d[i].err;
	}
	if (err) {
		fprintf(stderr, "microbench: read: %s\n", strerror(err));
		return 1;
	}
	printf("drain readers=%d records=%lu lost=%lu seconds=%.4f records_per_s=%.0f\n",
	       readers, records, lost, (t1 - t0) / 1e9, records / ((t1 - t0) / 1e9));
	return 0;
}

/* ---- pace ---- */

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static int pace(long sleep_ms)
{
	struct sigaction sa = { .sa_handler = on_stop };
	struct timespec nap = { sleep_ms / 1000, sleep_ms % 1000 * 1000000 };
	struct tcpstates_record *buf = malloc(READ_BUF);
	unsigned long records = 0, lost = 0;
	int fd;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fd = open(TCPSTATES_DEVICE, O_RDONLY | O_NONBLOCK);
	if (!buf || fd < 0 || ioctl(fd, TCPSTATES_IOC_SEEK_HEAD, 0)) {
		perror("microbench: open " TCPSTATES_DEVICE);
		return 1;
	}
	/* one more pass after the stop, so what was there at the stop is counted */
	for (int last = 0; !last;) {
		ssize_t n;

		last = stop;
		while ((n = read(fd, buf, READ_BUF)) > 0)
			tally(buf, n / sizeof(*buf), &records, &lost, NULL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			perror("microbench: read");
			return 1;
		}
		if (!last)
			nanosleep(&nap, NULL);
	}
	printf("pace sleep_ms=%ld records=%lu lost=%lu\n", sleep_ms, records, lost);
	close(fd);
	free(buf);
	return 0;
}

/* ---- count ---- */

static uint32_t get32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The part of [from, from + n) that falls in [lo, hi). */
static uint64_t overlap(uint64_t from, uint64_t n, uint64_t lo, uint64_t hi)
{
	uint64_t a = from > lo ? from : lo, b = from + n < hi ? from + n : hi;

	return b > a ? b - a : 0;
}

/* Adds a record to the interval [b[i], b[i + 1]) it is in, a marker to every one it overlaps. */
static void tally_parts(const struct tcpstates_record *rec, int nb, const uint64_t *b,
			unsigned long *records, unsigned long *lost)
{
	for (int i = 0; i + 1 < nb; i++) {
		if (rec->kind == TCPSTATES_EV_LOST)
			lost[i] += overlap(rec->seq, rec->aux, b[i], b[i + 1]);
		else if (rec->seq >= b[i] && rec->seq < b[i + 1])
			records[i]++;
	}
}

static int count(const char *path, int nb, char **bounds)
{
	struct tcpstates_record *buf = malloc(READ_BUF);
	unsigned long records = 0, lost = 0, markers = 0;
	unsigned long part_records[MAX_BOUNDS] = { 0 }, part_lost[MAX_BOUNDS] = { 0 };
	uint64_t b[MAX_BOUNDS];
	unsigned char header[CAP_HEADER];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (nb > MAX_BOUNDS) {
		fprintf(stderr, "microbench: at most %d bounds\n", MAX_BOUNDS);
		return 2;
	}
	for (int i = 0; i < nb; i++)
		b[i] = strtoull(bounds[i], NULL, 0);
	/* the header's layout is in tools/capture.c */
	if (!buf || !f || fread(header, 1, sizeof(header), f) != sizeof(header) ||
	    memcmp(header, "TCPTLCAP", 8) || get32(header + 20) != sizeof(*buf) ||
	    fseek(f, get32(header + 12), SEEK_SET)) {
		fprintf(stderr, "microbench: %s: not a capture of %zu-byte records\n", path,
			sizeof(*buf));
		return 1;
	}
	while ((n = fread(buf, sizeof(*buf), READ_BUF / sizeof(*buf), f)) > 0) {
		tally(buf, n, &records, &lost, &markers);
		for (size_t r = 0; r < n; r++)
			tally_parts(&buf[r], nb, b, part_records, part_lost);
	}
	printf("count records=%lu lost=%lu markers=%lu\n", records, lost, markers);
	for (int i = 0; i + 1 < nb; i++)
		printf("count from=%llu to=%llu records=%lu lost=%lu\n",
		       (unsigned long long)b[i], (unsigned long long)b[i + 1],
		       part_records[i], part_lost[i]);
	fclose(f);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "hits"))
		return hits(atol(argv[2]), atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "drain"))
		return drain(atoi(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "pace"))
		return pace(atol(argv[2]));
	if (argc >= 3 && !strcmp(argv[1], "count"))
		return count(argv[2], argc - 3, argv + 3);
	fprintf(stderr, "usage: microbench hits ITERATIONS PORT | drain READERS | pace SLEEP_MS |\n"
		"       microbench count FILE [SEQ...]\n");
	return 2;
}
