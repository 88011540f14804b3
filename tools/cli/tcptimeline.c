// SPDX-License-Identifier: GPL-2.0
/*
 * tcptimeline: per-connection TCP timelines from the tcpstates module.
 *
 * main() acquires in order (input, capture output, SVG output, the
 * reconstruction, the signal handlers), runs the one read loop, and leaves
 * through one cleanup: label.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

#define READ_CHUNK	(1 << 20)

struct filter {
	int port;		/* -1: any */
	bool have_addr;
	uint8_t addr[16];
	unsigned int addr_family;
	long pid;		/* -1: any */
	const char *comm;
	long long netns;	/* -1: any */
	int state;		/* -1: any */
	int role;		/* -1: any */
};

struct opts {
	const char *read_file, *text_file, *write_file, *svg_file, *device;
	bool json, csv, ladder, stats, dump, text, from_now, bench;
	uint64_t close_wait_ns;
	struct filter flt;
};

struct app {
	struct opts *o;
	FILE *out, *cap;
	struct tt_svg *svg;
	struct tt_stats *stats;
	struct recon *recon;
	/* false when no output wants connections (-w alone): skip rebuilding them */
	bool reconstruct;
	bool live, csv_header_done, write_failed;
	uint64_t shown;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: " TT_NAME " [OPTIONS]\n"
"Per-connection TCP timelines from the tcpstates kernel module.\n"
"\n"
"Input (default: follow " TCPSTATES_DEVICE " until Ctrl-C):\n"
"  -r, --read FILE       replay a capture written with -w (or /proc text)\n"
"  -T, --text FILE       read the text of " TCPSTATES_PROC " ('-' = stdin)\n"
"      --from-now        live: skip the history already in the ring\n"
"  -w, --write FILE      save the records to a capture file (no timeline\n"
"                        unless an output option is also given)\n"
"Output (default: a readable timeline per connection as it completes):\n"
"  -l, --ladder          two-column sequence diagram of handshake and teardown\n"
"      --svg FILE        the same diagram as SVG\n"
"  -j, --json            one JSON object per connection per line\n"
"      --csv             one CSV row per connection\n"
"  -s, --stats           counts, latency percentiles, time in state, oddities\n"
"      --close-wait SECS --stats: flag CLOSE_WAIT longer than this (10)\n"
"      --dump            print every record in " TCPSTATES_PROC " format\n"
"Filters (a paired conversation is shown if either side matches):\n"
"  -p, --port N          local or remote port\n"
"  -a, --addr ADDR       local or remote address\n"
"      --pid N           owner process id\n"
"      --comm NAME       owner command name\n"
"      --netns N         network namespace inode\n"
"      --state STATE     connections that went through STATE (e.g. CLOSE_WAIT)\n"
"      --role ROLE       client, server, listener or simultaneous\n"
"  -h, --help            this text\n"
"\n"
"Examples:\n"
"  " TT_NAME "                           follow live connections\n"
"  " TT_NAME " -w trace.tcpcap           record until Ctrl-C\n"
"  " TT_NAME " -r trace.tcpcap --ladder  replay as sequence diagrams\n"
"  " TT_NAME " -r trace.tcpcap --json | jq 'select(.close==\"reset_received\")'\n"
"  cat /proc/tcpstates | " TT_NAME " -T - --stats\n"
"  ssh host cat /proc/tcpstates > t.txt; " TT_NAME " -r t.txt --port 443\n"
"  " TT_NAME " -r trace.tcpcap --svg flows.svg --role client\n"
"\n"
"Exit status: 0 ok, 1 usage error, 2 cannot open/read/write, 3 the input had\n"
"corrupt or truncated records (reported on stderr with offset and reason).\n");
}

/* ---- filters ---- */

static bool match_one(const struct filter *f, const struct conn *c)
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

static void sink_conn(void *arg, const struct conn *c, const struct conn *peer)
{
	struct app *a = arg;
	struct opts *o = a->o;
	const struct conn *l = c, *r = peer;

	if (!match_one(&o->flt, c) && !(peer && match_one(&o->flt, peer)))
		return;
	a->shown++;
	tt_pair_order(&l, &r);
	if (a->stats) {
		tt_stats_conn(a->stats, l);
		if (r)
			tt_stats_conn(a->stats, r);
	}
	if (o->text)
		tt_text_conn(a->out, l, r);
	if (o->ladder)
		tt_ladder_conn(a->out, l, r);
	if (o->json) {
		tt_json_conn(a->out, l);
		if (r)
			tt_json_conn(a->out, r);
	}
	if (o->csv) {
		if (!a->csv_header_done)
			tt_csv_header(a->out);
		a->csv_header_done = true;
		tt_csv_conn(a->out, l);
		if (r)
			tt_csv_conn(a->out, r);
	}
	if (a->svg)
		tt_svg_conn(a->svg, l, r);
	if (a->live)
		fflush(a->out);
}

static void sink_lost(void *arg, const struct tcpstates_record *r)
{
	struct app *a = arg;

	if (a->o->text || a->o->ladder)
		tt_text_lost(a->out, r);
	if (a->o->json)
		tt_json_lost(a->out, r);
}

static void on_record(void *arg, const struct tcpstates_record *r)
{
	struct app *a = arg;

	if (a->cap && !a->write_failed && tt_cap_write_record(a->cap, r))
		a->write_failed = true;
	if (a->o->dump)
		tt_print_text_line(a->out, r);
	if (a->stats)
		tt_stats_record(a->stats, r);
	if (a->reconstruct)
		tt_recon_record(a->recon, r);
}

/* ---- option parsing ---- */

static int parse_num(const char *s, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || end == s || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_SVG = 256, O_CSV, O_FROM_NOW, O_DUMP, O_PID, O_COMM, O_NETNS,
	       O_STATE, O_ROLE, O_DEVICE, O_BENCH, O_CLOSE_WAIT };
	static const struct option longopts[] = {
		{ "read", required_argument, NULL, 'r' },
		{ "text", required_argument, NULL, 'T' },
		{ "write", required_argument, NULL, 'w' },
		{ "from-now", no_argument, NULL, O_FROM_NOW },
		{ "ladder", no_argument, NULL, 'l' },
		{ "svg", required_argument, NULL, O_SVG },
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, O_CSV },
		{ "stats", no_argument, NULL, 's' },
		{ "close-wait", required_argument, NULL, O_CLOSE_WAIT },
		{ "dump", no_argument, NULL, O_DUMP },
		{ "port", required_argument, NULL, 'p' },
		{ "addr", required_argument, NULL, 'a' },
		{ "pid", required_argument, NULL, O_PID },
		{ "comm", required_argument, NULL, O_COMM },
		{ "netns", required_argument, NULL, O_NETNS },
		{ "state", required_argument, NULL, O_STATE },
		{ "role", required_argument, NULL, O_ROLE },
		{ "device", required_argument, NULL, O_DEVICE },	/* tests */
		{ "bench", no_argument, NULL, O_BENCH },		/* tests */
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	long long v;
	int ch;

	*o = (struct opts){
		.device = TCPSTATES_DEVICE,
		.close_wait_ns = 10ULL * 1000000000,
		.flt = { .port = -1, .pid = -1, .netns = -1, .state = -1,
			 .role = -1 },
	};
	while ((ch = getopt_long(argc, argv, "r:T:w:ljsp:a:h", longopts,
				 NULL)) != -1) {
		switch (ch) {
		case 'r':
			o->read_file = optarg;
			break;
		case 'T':
			o->text_file = optarg;
			break;
		case 'w':
			o->write_file = optarg;
			break;
		case O_FROM_NOW:
			o->from_now = true;
			break;
		case 'l':
			o->ladder = true;
			break;
		case O_SVG:
			o->svg_file = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case O_CSV:
			o->csv = true;
			break;
		case 's':
			o->stats = true;
			break;
		case O_CLOSE_WAIT:
			if (parse_num(optarg, 1000000, &v))
				goto bad_arg;
			o->close_wait_ns = v * 1000000000ULL;
			break;
		case O_DUMP:
			o->dump = true;
			break;
		case 'p':
			if (parse_num(optarg, 65535, &v))
				goto bad_arg;
			o->flt.port = v;
			break;
		case 'a':
			o->flt.have_addr = true;
			memset(o->flt.addr, 0, 16);
			if (inet_pton(AF_INET, optarg, o->flt.addr) == 1)
				o->flt.addr_family = TCPSTATES_FAMILY_INET;
			else if (inet_pton(AF_INET6, optarg, o->flt.addr) == 1)
				o->flt.addr_family = TCPSTATES_FAMILY_INET6;
			else
				goto bad_arg;
			break;
		case O_PID:
			if (parse_num(optarg, UINT32_MAX, &v))
				goto bad_arg;
			o->flt.pid = v;
			break;
		case O_COMM:
			o->flt.comm = optarg;
			break;
		case O_NETNS:
			if (parse_num(optarg, UINT32_MAX, &v))
				goto bad_arg;
			o->flt.netns = v;
			break;
		case O_STATE:
			o->flt.state = tt_state_parse(optarg);
			if (o->flt.state <= 0)
				goto bad_arg;
			break;
		case O_ROLE:
			o->flt.role = tt_role_parse(optarg);
			if (o->flt.role < 0)
				goto bad_arg;
			break;
		case O_DEVICE:
			o->device = optarg;
			break;
		case O_BENCH:
			o->bench = true;
			break;
		case 'h':
			usage(stdout);
			exit(TT_EXIT_OK);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", TT_NAME,
			argv[optind]);
		return -1;
	}
	if (o->read_file && o->text_file) {
		fprintf(stderr, "%s: -r and --text are exclusive\n", TT_NAME);
		return -1;
	}
	if (!o->json && !o->csv && !o->ladder && !o->stats && !o->dump &&
	    !o->svg_file && !o->write_file && !o->bench)
		o->text = true;
	return 0;

bad_arg:
	fprintf(stderr, "%s: bad argument '%s' for %s\n", TT_NAME, optarg,
		argv[optind - 1]);
	return -1;
}

/* ---- input ---- */

static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += n;
	}
	return got;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct app a = { .o = &o, .out = stdout };
	struct tt_decoder dec;
	struct tt_cap_info ci = { .abi_version = TCPSTATES_ABI_VERSION,
				  .record_size = TCPSTATES_RECORD_SIZE };
	struct tt_sink sink = { .conn = sink_conn, .lost = sink_lost, .arg = &a };
	struct sigaction sa = { .sa_handler = on_signal };
	struct tcpstates_info info;
	enum tt_input mode = TT_IN_BINARY;
	const char *in_name;
	unsigned char *buf = NULL;
	size_t have = 0;	/* bytes already in buf from sniffing */
	int fd = -1, ret = TT_EXIT_IO;
	bool dec_init = false;
	uint64_t t0 = now_ns();

	if (parse_opts(argc, argv, &o))
		return TT_EXIT_USAGE;

	buf = malloc(READ_CHUNK);
	if (!buf) {
		fprintf(stderr, "%s: out of memory\n", TT_NAME);
		goto cleanup;
	}

	/* 1. the input, and what its records look like */
	in_name = o.read_file ? o.read_file : o.text_file ? o.text_file : o.device;
	if (o.text_file && !strcmp(o.text_file, "-")) {
		fd = STDIN_FILENO;
		in_name = "stdin";
	} else {
		fd = open(in_name, O_RDONLY | O_CLOEXEC |
			  (o.read_file || o.text_file ? 0 : O_NONBLOCK));
	}
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", TT_NAME, in_name, strerror(errno));
		goto cleanup;
	}
	if (o.text_file) {
		mode = TT_IN_TEXT;
	} else if (o.read_file) {
		char why[128];
		ssize_t n = read_full(fd, buf, TT_CAP_HEADER_SIZE);

		if (n < 0) {
			fprintf(stderr, "%s: %s: %s\n", TT_NAME, in_name,
				strerror(errno));
			goto cleanup;
		}
		have = n;
		if ((have >= 4 && !memcmp(buf, "SEQ ", 4)) ||
		    (have && buf[0] == '#')) {
			mode = TT_IN_TEXT;
		} else if (tt_cap_parse_header(buf, have, &ci, why, sizeof(why))) {
			fprintf(stderr, "%s: %s: offset 0: %s\n", TT_NAME, in_name,
				why);
			ret = TT_EXIT_DATA;
			goto cleanup;
		} else {
			/* skip the rest of a longer (newer) header */
			size_t skip = ci.header_size - TT_CAP_HEADER_SIZE;

			if (skip && read_full(fd, buf, skip) != (ssize_t)skip) {
				fprintf(stderr, "%s: %s: offset %d: truncated header\n",
					TT_NAME, in_name, TT_CAP_HEADER_SIZE);
				ret = TT_EXIT_DATA;
				goto cleanup;
			}
			have = 0;
		}
	} else {
		a.live = true;
		info.argsz = sizeof(info);
		if (ioctl(fd, TCPSTATES_IOC_INFO, &info) == 0) {
			if (info.abi_version != TCPSTATES_ABI_VERSION ||
			    info.record_size < TCPSTATES_RECORD_SIZE ||
			    info.record_size > 4096) {
				fprintf(stderr, "%s: %s: ABI %u record size %u not supported (this tool: ABI %d, %d bytes)\n",
					TT_NAME, in_name, info.abi_version,
					info.record_size, TCPSTATES_ABI_VERSION,
					TCPSTATES_RECORD_SIZE);
				ret = TT_EXIT_DATA;
				goto cleanup;
			}
			ci.record_size = info.record_size;
			ci.realtime_offset_ns = info.realtime_offset_ns;
			ci.capacity = info.capacity;
			if (o.from_now && ioctl(fd, TCPSTATES_IOC_SEEK_HEAD, 0) < 0) {
				fprintf(stderr, "%s: %s: seek head: %s\n",
					TT_NAME, in_name, strerror(errno));
				goto cleanup;
			}
		} else if (errno != ENOTTY && errno != EINVAL) {
			fprintf(stderr, "%s: %s: info ioctl: %s\n", TT_NAME,
				in_name, strerror(errno));
			goto cleanup;
		}
		/* else: a FIFO or file of raw records (tests) */
	}

	/* 2. outputs */
	if (o.write_file) {
		a.cap = fopen(o.write_file, "wbe");
		if (!a.cap || tt_cap_write_header(a.cap, &ci)) {
			fprintf(stderr, "%s: %s: %s\n", TT_NAME, o.write_file,
				strerror(errno));
			goto cleanup;
		}
	}
	if (o.svg_file) {
		FILE *f = fopen(o.svg_file, "we");

		if (!f || !(a.svg = tt_svg_open(f))) {
			fprintf(stderr, "%s: %s: %s\n", TT_NAME, o.svg_file,
				strerror(errno));
			if (f)
				fclose(f);
			goto cleanup;
		}
	}
	if (o.stats && !(a.stats = tt_stats_new(o.close_wait_ns)))
		goto cleanup;
	if (o.dump)
		tt_print_text_header(a.out);

	/* 3. the reconstruction and the decoder feeding it */
	a.reconstruct = o.text || o.ladder || o.json || o.csv || o.stats ||
			o.svg_file || o.bench;
	a.recon = tt_recon_new(&sink);
	if (!a.recon) {
		fprintf(stderr, "%s: out of memory\n", TT_NAME);
		goto cleanup;
	}
	tt_decoder_init(&dec, mode, ci.record_size, in_name, on_record, &a);
	if (o.read_file && mode == TT_IN_BINARY)
		dec.offset = ci.header_size;	/* report file offsets */
	dec_init = true;

	/* 4. Ctrl-C ends the loop; what is open is flushed as open */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (have)
		tt_decoder_feed(&dec, buf, have);
	while (!stop) {
		ssize_t n;

		if (a.live) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			if (poll(&p, 1, -1) < 0) {
				if (errno == EINTR)
					continue;
				fprintf(stderr, "%s: %s: poll: %s\n", TT_NAME,
					in_name, strerror(errno));
				goto cleanup;
			}
		}
		n = read(fd, buf, a.live ? ci.record_size * 1024 : READ_CHUNK);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "%s: %s: read: %s\n", TT_NAME, in_name,
				strerror(errno));
			goto cleanup;
		}
		if (n == 0)
			break;
		tt_decoder_feed(&dec, buf, n);
	}
	tt_decoder_finish(&dec);
	tt_recon_finish(a.recon);

	if (a.stats)
		tt_stats_print(a.stats, a.out);
	if (o.bench) {
		double s = (now_ns() - t0) / 1e9;

		fprintf(stderr, "%s: %llu records, %llu connections in %.3fs: %.0f records/s, peak live connections %zu\n",
			TT_NAME, (unsigned long long)dec.records,
			(unsigned long long)a.shown, s, dec.records / s,
			tt_recon_peak(a.recon));
	}
	if (dec.seen_twice)
		fprintf(stderr, "%s: %s: %llu record%s seen twice (overlapping snapshots) skipped\n",
			TT_NAME, in_name, (unsigned long long)dec.seen_twice,
			dec.seen_twice == 1 ? "" : "s");
	if (dec.errors) {
		fprintf(stderr, "%s: %s: %llu input error%s (see above)\n",
			TT_NAME, in_name, (unsigned long long)dec.errors,
			dec.errors == 1 ? "" : "s");
		ret = TT_EXIT_DATA;
	} else {
		ret = TT_EXIT_OK;
	}
	if (a.write_failed || (a.cap && fflush(a.cap))) {
		fprintf(stderr, "%s: %s: write failed\n", TT_NAME, o.write_file);
		ret = TT_EXIT_IO;
	}
	if (fflush(a.out)) {
		fprintf(stderr, "%s: stdout: %s\n", TT_NAME, strerror(errno));
		ret = TT_EXIT_IO;
	}

cleanup:
	if (dec_init)
		tt_decoder_free(&dec);
	tt_recon_free(a.recon);
	tt_stats_free(a.stats);
	if (a.svg)
		tt_svg_close(a.svg);
	if (a.cap && fclose(a.cap) && ret == TT_EXIT_OK)
		ret = TT_EXIT_IO;
	if (fd > STDIN_FILENO)
		close(fd);
	free(buf);
	return ret;
}
