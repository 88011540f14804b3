// SPDX-License-Identifier: GPL-2.0
/*
 * --metrics ADDR:PORT: /metrics in the Prometheus text format, served by
 * libmicrohttpd from a thread of its own.
 *
 * The reader and the server share one published copy of the metrics and a
 * mutex. The reader counts into its own copy and publishes with a trylock:
 * if a scrape is formatting at that moment, the reader goes on reading and
 * publishes on its next batch or tick (at most PUBLISH_MS later). So a
 * scrape sees a consistent snapshot, taken between two batches, and the
 * reader never waits for the network.
 *
 * Hostile clients: libmicrohttpd runs every connection from one event loop
 * (epoll), so a slow client holds a slot, not a thread. Slots are limited
 * (CONN_LIMIT overall, PER_IP_LIMIT from one address, the rest are closed
 * at accept), each connection's memory is capped (MEMORY_LIMIT: a request
 * line or headers larger than that get 431/414 and the connection closes),
 * and an idle connection is dropped after IDLE_TIMEOUT seconds. Memory is
 * thus bounded by CONN_LIMIT x (MEMORY_LIMIT + one exposition), whatever
 * the clients do, and the reader thread never touches a socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filter/filter.h"
#include "fleet/fleet.h"

#define CONN_LIMIT 64
#define PER_IP_LIMIT 32
#define MEMORY_LIMIT (16 * 1024)
#define IDLE_TIMEOUT 10 /* seconds */
#define PUBLISH_MS 100 /* at most this stale while records come */
#define INFO_MS 1000 /* INFO ioctl at least this often */

struct tt_exporter {
	struct MHD_Daemon *d;
	pthread_mutex_t lock;
	struct tt_metrics *pub; /* under lock */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int code,
			     char *body, size_t len, const char *type)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn,
				  unsigned int code, const char *text)
{
	char *body = strdup(text);

	return body ? reply(conn, code, body, strlen(body),
			    "text/plain; charset=utf-8") :
		      MHD_NO;
}

/* Answers at the first call, before any body: a body is never read in. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	struct tt_exporter *e = cls;
	char *body = NULL;
	size_t len = 0;
	FILE *f;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)state;
	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "only GET and HEAD\n");
	if (!strcmp(url, "/"))
		return reply_text(conn, MHD_HTTP_OK,
				  TT_NAME ": the metrics are at /metrics\n");
	if (strcmp(url, "/metrics"))
		return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
	f = open_memstream(&body, &len);
	if (!f)
		return MHD_NO;
	pthread_mutex_lock(&e->lock);
	tt_metrics_write(f, e->pub);
	pthread_mutex_unlock(&e->lock);
	if (fclose(f)) {
		free(body);
		return MHD_NO;
	}
	return reply(conn, MHD_HTTP_OK, body, len,
		     "text/plain; version=0.0.4; charset=utf-8");
}

/* "ADDR:PORT", "[ADDR6]:PORT" or ":PORT" into @ss (family 0: any). */
static int parse_listen(const char *spec, struct sockaddr_storage *ss,
			uint16_t *port)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(spec, ':');
	char *end;
	long p;
	size_t hl;

	if (!colon)
		return -1;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || p < 1 || p > 65535)
		return -1;
	*port = p;
	hl = colon - spec;
	memset(ss, 0, sizeof(*ss));
	if (!hl)
		return 0;
	if (hl >= sizeof(host))
		return -1;
	memcpy(host, spec, hl);
	host[hl] = 0;
	if (host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		host[hl - 1] = 0;
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			return -1;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(p);
		return 0;
	}
	{
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -1;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(p);
	}
	return 0;
}

int tt_metrics_check_spec(const char *spec, char *why, size_t len)
{
	struct sockaddr_storage ss;
	uint16_t port;

	if (!strcmp(spec, "-") || !parse_listen(spec, &ss, &port))
		return 0;
	snprintf(why, len, "'%s' is not ADDR:PORT, [ADDR6]:PORT or :PORT",
		 spec);
	return -1;
}

static struct tt_exporter *exporter_start(const char *spec,
					  const struct tt_metrics_cfg *cfg,
					  char *why, size_t len)
{
	struct sockaddr_storage ss;
	struct tt_exporter *e;
	sigset_t block, old;
	unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD;
	uint16_t port;

	if (parse_listen(spec, &ss, &port)) {
		snprintf(why, len,
			 "'%s' is not ADDR:PORT, [ADDR6]:PORT or :PORT", spec);
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e || !(e->pub = tt_metrics_new(cfg))) {
		snprintf(why, len, "out of memory");
		free(e);
		return NULL;
	}
	pthread_mutex_init(&e->lock, NULL);
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	else if (!ss.ss_family)
		flags |= MHD_USE_DUAL_STACK;
	/* The server's thread inherits this mask: signals stay with the reader. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	e->d = MHD_start_daemon(
		flags, port, NULL, NULL, on_request, e,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONN_LIMIT,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)PER_IP_LIMIT,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MEMORY_LIMIT,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)IDLE_TIMEOUT,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)CONN_LIMIT,
		ss.ss_family ? MHD_OPTION_SOCK_ADDR : MHD_OPTION_END, &ss,
		MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!e->d) {
		snprintf(
			why, len,
			"cannot listen on %s (in use, or not an address of this host?)",
			spec);
		tt_metrics_free(e->pub);
		pthread_mutex_destroy(&e->lock);
		free(e);
		return NULL;
	}
	return e;
}

int tt_live_metrics_start(struct tt_live_metrics *lm, const char *spec,
			  const struct tt_metrics_cfg *cfg, int devfd,
			  char *why, size_t len)
{
	memset(lm, 0, sizeof(*lm));
	lm->devfd = devfd;
	lm->m = tt_metrics_new(cfg);
	if (!lm->m) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	if (strcmp(spec, "-")) {
		lm->exp = exporter_start(spec, cfg, why, len);
		if (!lm->exp) {
			tt_metrics_free(lm->m);
			lm->m = NULL;
			return -1;
		}
	}
	lm->dirty = true;
	return 0;
}

/* The counters the module keeps: INFO, and requests_unhashed from /proc. */
static void refresh_info(struct tt_live_metrics *lm)
{
	struct tcpstates_info info = { .argsz = sizeof(info) };
	unsigned long long unhashed = 0;
	char line[128];
	FILE *f;

	if (lm->devfd < 0 || tt_device_info(lm->devfd, &info))
		return;
	f = fopen(TCPSTATES_PROC_STATS, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "requests_unhashed %llu", &unhashed) == 1)
			break;
	if (f)
		fclose(f);
	tt_metrics_info(lm->m, &info, unhashed);
}

struct gauge {
	struct tt_live_metrics *lm;
	const struct recon *R;
};

static void count_side(void *arg, const struct conn *c)
{
	const struct gauge *g = arg;
	const struct filter *f = g->lm->flt;
	const struct conn *peer;

	if (f && tt_filter_early(f, c) != 1 &&
	    (!(peer = tt_recon_peer(g->R, c)) || tt_filter_early(f, peer) != 1))
		return;
	tt_metrics_live_conn(g->lm->m, c);
}

void tt_live_metrics_count(struct tt_live_metrics *lm, const struct recon *R)
{
	struct gauge g = { .lm = lm, .R = R };

	tt_recon_each_live(R, count_side, &g);
}

/* NULL @R: the gauge as counted already (several hosts, formats.c). */
void tt_live_metrics_gauge(struct tt_live_metrics *lm, const struct recon *R)
{
	if (!R)
		return;
	tt_metrics_live_begin(lm->m);
	tt_live_metrics_count(lm, R);
}

int tt_live_metrics_tick(struct tt_live_metrics *lm, const struct recon *R)
{
	uint64_t now = mono_ns();
	struct tt_exporter *e = lm->exp;

	if (!e)
		return -1;
	if (now - lm->last_info_ns >= INFO_MS * 1000000ULL) {
		refresh_info(lm);
		lm->last_info_ns = now;
		lm->dirty = true;
	}
	if (!lm->dirty)
		return INFO_MS;
	if (now - lm->last_publish_ns < PUBLISH_MS * 1000000ULL)
		return PUBLISH_MS;
	/* INFO with every publish: records written and lost match the rest. */
	refresh_info(lm);
	tt_live_metrics_gauge(lm, R);
	if (pthread_mutex_trylock(&e->lock))
		return 10; /* a scrape is formatting: again soon */
	tt_metrics_copy(e->pub, lm->m);
	pthread_mutex_unlock(&e->lock);
	lm->dirty = false;
	lm->last_publish_ns = now;
	return INFO_MS;
}

void tt_live_metrics_stop(struct tt_live_metrics *lm, FILE *out)
{
	if (!lm->m)
		return;
	if (lm->exp) {
		MHD_stop_daemon(lm->exp->d);
		tt_metrics_free(lm->exp->pub);
		pthread_mutex_destroy(&lm->exp->lock);
		free(lm->exp);
	} else if (out) {
		refresh_info(lm);
		tt_metrics_write(out, lm->m);
	}
	tt_metrics_free(lm->m);
	memset(lm, 0, sizeof(*lm));
}
