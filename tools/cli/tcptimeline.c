// SPDX-License-Identifier: GPL-2.0
/*
 * tcptimeline: per-connection TCP timelines from the tcpstates module.
 *
 * main() parses the options, acquires in order (the input, the output
 * files, the formats and the reconstruction) and runs the one read loop:
 * decoder -> reconstruction -> the formats asked for. It leaves through
 * one cleanup: label.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/app.h"

#define READ_CHUNK (1 << 20)

uint64_t tt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * SIGINT, SIGTERM and SIGHUP end the loop alike: what is open is flushed as
 * open, the capture is complete. SIGPIPE and SIGXFSZ are ignored so that a
 * closed pipe and a file size limit (ulimit -f) are write errors that are
 * reported, like a full disk.
 */
static void signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
}

/*
 * Live, the signals that end the loop are blocked except inside ppoll(), so
 * one that comes between the check of stop and the wait cannot be lost.
 */
static void block_signals(bool block)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

/* --dump comes last: a record it shows has been through everything. */
static void on_record(void *arg, const struct tcpstates_record *r)
{
	struct app *a = arg;

	if (!a->started) {
		a->started = true;
		if (tt_clock_start(a, r)) {
			a->clock_failed = true;
			stop = 1;
			return;
		}
	}
	if (a->clock_failed)
		return;
	if (a->o->interval_ns && !a->tick_ns)
		a->tick_ns = r->ts_ns + a->o->interval_ns;
	tt_formats_tick(a, r->ts_ns);
	tt_formats_record(a, r);
}

/*
 * 1 when @src has bytes (or its end) to read, 0 when a deadline came first
 * or a signal: a pipe is not non-blocking, so it is read only when ready.
 */
static int wait_readable(struct app *a, const struct tt_source *src,
			 const sigset_t *mask)
{
	struct pollfd p = { .fd = src->fd, .events = POLLIN };
	struct timespec t, *timeout = NULL;
	uint64_t now = tt_now_ns(), left = UINT64_MAX;
	int ms = tt_fleet_tick(a); /* metrics, rotation: -1 or a deadline */
	int n;
	int dms = tt_formats_wait_ms(a); /* a live --diagram's redraw */

	if (src->live && a->tick_ns) /* -i: the end of the interval */
		left = a->tick_ns > now ? a->tick_ns - now : 0;
	if (ms >= 0 && ms * 1000000ULL < left)
		left = ms * 1000000ULL;
	if (dms >= 0 && dms * 1000000ULL < left)
		left = dms * 1000000ULL;
	if (left != UINT64_MAX) {
		t = (struct timespec){ left / 1000000000, left % 1000000000 };
		timeout = &t;
	}
	/*
	 * The mapped ring: no system call while records are there; else tell
	 * the module where this reader is, so that poll() waits for that.
	 */
	if (src->map && tt_mapped_ready(src->map))
		return 1;
	if (src->map && tt_mapped_before_poll(src->map) < 0) {
		fprintf(stderr, "%s: %s: ioctl(TCPSTATES_IOC_SEEK): %s\n",
			TT_NAME, src->name, strerror(errno));
		return -1;
	}
	n = ppoll(&p, 1, timeout, mask);
	if (n >= 0 || errno == EINTR) {
		if (src->live) /* a pipe's records are on another clock */
			tt_formats_tick(a, tt_now_ns());
		return n > 0;
	}
	fprintf(stderr, "%s: %s: poll: %s\n", TT_NAME, src->name,
		strerror(errno));
	return -1;
}

/*
 * -w alone from the mapped ring (passthrough, no rotation): records are
 * copied from the ring straight into the capture's write buffer, one copy
 * a record where read_loop()'s buffer would make two. The count copied,
 * or 0 and the caller takes the usual path (none there, or -U).
 */
static ssize_t mapped_to_capture(struct app *a, const struct tt_source *src,
				 struct tt_decoder *dec)
{
	const size_t rs = sizeof(struct tcpstates_record);
	size_t max;
	void *p = tt_recorder_reserve(a->out->rec, &max);
	ssize_t n;

	if (!p)
		return 0;
	n = tt_mapped_read(src->map, p, max * rs);
	if (n <= 0)
		return 0;
	tt_recorder_commit(a->out->rec, n / rs);
	dec->records += n / rs;
	tt_outputs_batch(a->out);
	return n;
}

/*
 * Until the end of the input, a signal, or an output that cannot be
 * written any more: 0, -1 after a read error, -2 after a write error (said
 * when the output is closed). The live device and a pipe are waited on
 * with poll, so the metrics are published and the rotation runs on time
 * while no record comes, and what was written leaves after each read.
 */
static int read_loop(struct app *a, const struct tt_source *src,
		     struct tt_decoder *dec, unsigned char *buf)
{
	size_t chunk = src->live ? src->ci.record_size * 1024 : READ_CHUNK;
	const size_t rs = sizeof(struct tcpstates_record);
	bool raw = tt_formats_passthrough(a), wait = src->live || src->stream;
	sigset_t mask;

	sigprocmask(SIG_SETMASK, NULL, &mask);
	if (wait)
		block_signals(true);
	if (src->nhead)
		tt_decoder_feed(dec, src->head, src->nhead);
	if (src->live && a->o->interval_ns)
		a->tick_ns = tt_now_ns() + a->o->interval_ns;
	while (!stop && !tt_outputs_failed(a->out)) {
		ssize_t n;

		if (wait) {
			int ready = wait_readable(a, src, &mask);

			if (ready < 0) {
				block_signals(false);
				return -1;
			}
			if (!ready)
				continue;
		}
		if (src->map && raw && a->started && !a->clock_failed &&
		    !a->rot && a->out->rec &&
		    mapped_to_capture(a, src, dec) > 0)
			continue;
		if (src->files) /* several files: one stream */
			n = tt_files_read(src->files, dec, buf, chunk);
		else if (src->map)
			n = tt_mapped_read(src->map, buf, chunk);
		else
			n = read(src->fd, buf, chunk);
		if (n < 0 && src->files)
			return -1;
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			fprintf(stderr, "%s: %s: read: %s\n", TT_NAME,
				src->name, strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		if (raw && a->started && !a->clock_failed && n % rs == 0) {
			dec->records += n / rs;
			tt_formats_raw(a, (const void *)buf, n / rs);
		} else {
			tt_decoder_feed(dec, buf, n);
		}
		if (wait)
			tt_outputs_batch(a->out);
	}
	block_signals(false);
	return tt_outputs_failed(a->out) ? -2 : 0;
}

static int summary(const struct app *a, const struct tt_decoder *dec,
		   uint64_t t0)
{
	if (a->o->bench) {
		double s = (tt_now_ns() - t0) / 1e9;
		size_t peak = tt_recon_peak(a->recon);

		if (a->hosts_peak > peak)
			peak = a->hosts_peak;
		fprintf(stderr,
			"%s: %llu records, %llu connections in %.3fs: %.0f records/s, peak live connections %zu\n",
			TT_NAME, (unsigned long long)dec->records,
			(unsigned long long)a->shown, s, dec->records / s,
			peak);
	}
	if (dec->seen_twice)
		fprintf(stderr,
			"%s: %s: %llu record%s seen twice (overlapping snapshots) skipped\n",
			TT_NAME, dec->name, (unsigned long long)dec->seen_twice,
			dec->seen_twice == 1 ? "" : "s");
	if (!dec->errors)
		return TT_EXIT_OK;
	fprintf(stderr, "%s: %s: %llu input error%s (see above)\n", TT_NAME,
		dec->name, (unsigned long long)dec->errors,
		dec->errors == 1 ? "" : "s");
	return TT_EXIT_DATA;
}

/* --metrics -: the exposition as the input ended (the gauge counted). */
static void metrics_end(struct app *a)
{
	tt_live_metrics_stop(&a->lm, a->out->metrics);
}

static int run(struct app *a, const struct tt_source *src)
{
	struct tt_decoder dec;
	unsigned char *buf = malloc(READ_CHUNK);
	uint64_t t0 = tt_now_ns();
	int ret = TT_EXIT_IO, loop = 0;

	if (!buf || tt_formats_start(a, src)) {
		fprintf(stderr, "%s: out of memory\n", TT_NAME);
		free(buf);
		return TT_EXIT_IO;
	}
	tt_decoder_init(&dec, src->mode, src->ci.record_size, src->name,
			on_record, a);
	a->dec = &dec;
	if (!src->live && src->mode == TT_IN_BINARY)
		dec.offset = src->ci.header_size; /* report file offsets */
	if (src->files && src->files->ngroups > 1) {
		ret = tt_formats_merge(a, src->files, &dec);
		if (!ret) {
			metrics_end(a); /* the gauge: each host's open sides */
			tt_formats_stop(a);
			ret = summary(a, &dec, t0);
		}
	} else if (!(loop = read_loop(a, src, &dec, buf)) && !a->clock_failed) {
		tt_decoder_finish(&dec);
		/* the gauge as the input ended, before open sides are closed */
		if (a->lm.m)
			tt_live_metrics_gauge(&a->lm, a->recon);
		if (!a->started && a->out->rec && src->mode == TT_IN_TEXT)
			tt_recorder_header(a->out->rec, &src->ci);
		tt_recon_finish(a->recon);
		if (a->sel) /* and, under a filter, what it holds still counted */
			tt_select_finish(a->sel);
		metrics_end(a);
		tt_formats_stop(a);
		ret = summary(a, &dec, t0);
	} else if (a->clock_failed) {
		ret = TT_EXIT_USAGE;
	} else if (loop == -2) {
		/* not the input's fault: no "truncated record" for the tail */
		ret = TT_EXIT_IO;
	}
	tt_decoder_free(&dec);
	free(buf);
	return ret;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct tt_source src = { .fd = -1 };
	struct tt_outputs out = { 0 };
	struct app a = { .o = &o, .src = &src, .out = &out };
	bool done;
	int ret;

	ret = tt_parse_opts(argc, argv, &o, &done);
	if (ret || done) {
		free(o.reads);
		return ret;
	}
	signals();
	ret = tt_source_open(&src, &o);
	if (ret)
		goto cleanup;
	ret = tt_merge_check_opts(&o, src.files);
	if (ret)
		goto cleanup;
	ret = tt_outputs_open(&out, &o, &src);
	if (ret)
		goto cleanup;
	if (o.journal && tt_journal_check()) {
		ret = TT_EXIT_IO;
		goto cleanup;
	}
	ret = tt_fleet_start(&a, &src);
	if (ret)
		goto cleanup;
	ret = run(&a, &src);

cleanup:
	tt_formats_free(&a); /* writes what the end of the input finished */
	tt_outputs_failed(
		&out); /* and keeps the errno of a write that failed */
	if (tt_outputs_close(&out, &o) && !ret)
		ret = TT_EXIT_IO;
	tt_fleet_stop(&a);
	tt_source_close(&src);
	return ret;
}
