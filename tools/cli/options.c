// SPDX-License-Identifier: GPL-2.0
/*
 * Options into struct opts, and --help. An error names the option and says
 * what it wanted; an unknown option gets one line (getopt's) and a hint.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define FORMAT_OPTION(NAME, option) [FMT_##NAME] = option,
static const char *const format_options[FMT_NR] = {
	TT_FORMAT_LIST(FORMAT_OPTION)
};

const char *tt_format_option(enum tt_format f)
{
	return f < FMT_NR ? format_options[f] : "?";
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: " TT_NAME " [OPTIONS]\n"
"Per-connection TCP timelines from the tcpstates kernel module.\n"
"\n"
"Input (default: follow " TCPSTATES_DEVICE " until Ctrl-C, SIGTERM or SIGHUP):\n"
"  -r, --read FILE       a capture written with -w, or the text of\n"
"                        " TCPSTATES_PROC " ('-': standard input)\n"
"  -T, --text FILE       the text of " TCPSTATES_PROC " ('-': standard input)\n"
"      --from-now        live: skip the history already in the ring\n"
"  -w, --write FILE      save the records to a capture file ('-': standard\n"
"                        output); no timeline unless a format is also given.\n"
"                        On exit it says what it wrote: records, bytes, lost\n"
"  -U, --packet-buffered write each record (and each connection) at once,\n"
"                        not a buffer at a time\n"
"\n"
"Output formats, each to standard output or to its own =FILE (at most one\n"
"may take standard output; default: --timeline):\n"
"      --timeline[=FILE] a readable timeline per connection as it completes\n"
"  -l, --ladder[=FILE]   two-column sequence diagram of handshake and teardown\n"
"      --svg FILE        the same diagrams as one SVG picture\n"
"  -j, --json[=FILE]     one JSON object per connection per line\n"
"      --csv[=FILE]      one CSV row per connection, after a header line\n"
"  -s, --stats[=FILE]    counts, latency percentiles, time in state, oddities\n"
"      --close-wait SECS --stats: flag CLOSE_WAIT longer than this (10)\n"
"      --dump[=FILE]     every record, in the text format of " TCPSTATES_PROC "\n"
"      --time=MODE       wall (default: local time, 2026-11-30 14:03:07.123456),\n"
"                        utc, mono (CLOCK_MONOTONIC seconds, as recorded) or\n"
"                        relative (seconds since the first record)\n"
"      --realtime-offset=NS  CLOCK_REALTIME - CLOCK_MONOTONIC of the recording\n"
"                        host, for text that does not carry it (captures and\n"
"                        the device do; so does text saved with\n"
"                        cat " TCPSTATES_PROC_STATS " " TCPSTATES_PROC ")\n"
"\n"
"Filters (a conversation is shown if either side matches):\n"
"  -p, --port N          local or remote port\n"
"  -a, --addr ADDR       local or remote address\n"
"      --pid N           owner process id\n"
"      --comm NAME       owner command name\n"
"      --netns N         network namespace inode\n"
"      --state STATE     connections that went through STATE (e.g. CLOSE_WAIT)\n"
"      --role ROLE       client, server, listener or simultaneous\n"
"\n"
"      --fields          the fields of --json and --csv: name, type, when\n"
"                        null, meaning (tab-separated)\n"
"  -h, --help            this text\n"
"  -V, --version         the version, and the ABI it reads\n"
"\n"
"Examples:\n"
"  " TT_NAME "                           follow live connections\n"
"  " TT_NAME " -w trace.tcpcap           record until Ctrl-C\n"
"  " TT_NAME " -r trace.tcpcap --ladder  replay as sequence diagrams\n"
"  " TT_NAME " -r trace.tcpcap --json | jq 'select(.close==\"reset_received\")'\n"
"  " TT_NAME " -r trace.tcpcap --json=conns.json --stats\n"
"  cat " TCPSTATES_PROC " | " TT_NAME " -T - --stats\n"
"  ssh host cat " TCPSTATES_PROC " > t.txt; " TT_NAME " -r t.txt --port 443\n"
"  " TT_NAME " -r trace.tcpcap --svg flows.svg --role client\n"
"\n"
"Exit status: 0 ok, 1 usage error, 2 cannot open/read/write, 3 the input had\n"
"corrupt or truncated records (reported on stderr with offset and reason).\n");
}

static int bad_arg(const char *option, const char *arg, const char *what)
{
	fprintf(stderr, "%s: %s: '%s' is not %s\n", TT_NAME, option, arg, what);
	return TT_EXIT_USAGE;
}

static int parse_uint(const char *s, unsigned long long max,
		      unsigned long long *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_int(const char *s, int64_t *out)
{
	long long v;
	char *end;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || end == s)
		return -1;
	*out = v;
	return 0;
}

static int parse_addr(struct filter *f, const char *s)
{
	memset(f->addr, 0, sizeof(f->addr));
	f->have_addr = true;
	if (inet_pton(AF_INET, s, f->addr) == 1)
		f->addr_family = TCPSTATES_FAMILY_INET;
	else if (inet_pton(AF_INET6, s, f->addr) == 1)
		f->addr_family = TCPSTATES_FAMILY_INET6;
	else
		return -1;
	return 0;
}

enum {
	O_TIMELINE = 256, O_SVG, O_CSV, O_DUMP, O_CLOSE_WAIT, O_FROM_NOW,
	O_PID, O_COMM, O_NETNS, O_STATE, O_ROLE, O_DEVICE, O_BENCH, O_TIME,
	O_OFFSET, O_FIELDS,
};

static const struct option longopts[] = {
	{ "read", required_argument, NULL, 'r' },
	{ "text", required_argument, NULL, 'T' },
	{ "write", required_argument, NULL, 'w' },
	{ "packet-buffered", no_argument, NULL, 'U' },
	{ "from-now", no_argument, NULL, O_FROM_NOW },
	{ "timeline", optional_argument, NULL, O_TIMELINE },
	{ "ladder", optional_argument, NULL, 'l' },
	{ "svg", required_argument, NULL, O_SVG },
	{ "json", optional_argument, NULL, 'j' },
	{ "csv", optional_argument, NULL, O_CSV },
	{ "stats", optional_argument, NULL, 's' },
	{ "close-wait", required_argument, NULL, O_CLOSE_WAIT },
	{ "time", required_argument, NULL, O_TIME },
	{ "realtime-offset", required_argument, NULL, O_OFFSET },
	{ "dump", optional_argument, NULL, O_DUMP },
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
	{ "version", no_argument, NULL, 'V' },
	{ "fields", no_argument, NULL, O_FIELDS },
	{ 0 }
};

/* Output formats: the option, and where it writes ("-" unless =FILE). */
static bool format_opt(struct opts *o, int ch)
{
	static const struct { int ch; enum tt_format fmt; } map[] = {
		{ O_TIMELINE, FMT_TIMELINE }, { 'l', FMT_LADDER },
		{ 'j', FMT_JSON }, { O_CSV, FMT_CSV }, { 's', FMT_STATS },
		{ O_DUMP, FMT_DUMP }, { O_SVG, FMT_SVG },
	};

	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		if (map[i].ch == ch) {
			o->out[map[i].fmt] = optarg ? optarg : "-";
			return true;
		}
	}
	return false;
}

/* Filters: 0, an exit code, or -1 for "not mine". */
static int filter_opt(struct opts *o, int ch, const char *name)
{
	struct filter *f = &o->flt;
	unsigned long long v;

	switch (ch) {
	case 'p':
		if (parse_uint(optarg, 65535, &v))
			return bad_arg(name, optarg, "a port (0 to 65535)");
		f->port = v;
		break;
	case 'a':
		if (parse_addr(f, optarg))
			return bad_arg(name, optarg, "an IPv4 or IPv6 address");
		break;
	case O_PID:
		if (parse_uint(optarg, UINT32_MAX, &v))
			return bad_arg(name, optarg, "a process id");
		f->pid = v;
		break;
	case O_COMM:
		f->comm = optarg;
		break;
	case O_NETNS:
		if (parse_uint(optarg, UINT32_MAX, &v))
			return bad_arg(name, optarg, "a namespace inode number");
		f->netns = v;
		break;
	case O_STATE:
		f->state = tt_state_parse(optarg);
		if (f->state <= 0)
			return bad_arg(name, optarg, "a TCP state (e.g. CLOSE_WAIT)");
		break;
	case O_ROLE:
		f->role = tt_role_parse(optarg);
		if (f->role < 0)
			return bad_arg(name, optarg,
				       "a role (client, server, listener, simultaneous)");
		break;
	default:
		return -1;
	}
	return 0;
}

/* Everything else: 0, an exit code, or -1 for "not mine". */
static int other_opt(struct opts *o, int ch, const char *name)
{
	unsigned long long v;

	switch (ch) {
	case 'r':
	case 'T':
		if (o->read_file)
			return bad_arg(name, optarg, "a second input (one -r or -T)");
		o->read_file = optarg;
		o->text = ch == 'T';
		break;
	case 'w':
		o->write_file = optarg;
		break;
	case 'U':
		o->unbuffered = true;
		break;
	case O_FROM_NOW:
		o->from_now = true;
		break;
	case O_CLOSE_WAIT:
		if (parse_uint(optarg, 1000000, &v))
			return bad_arg(name, optarg, "a number of seconds");
		o->close_wait_ns = v * 1000000000ULL;
		break;
	case O_TIME:
		if (tt_time_mode_parse(optarg) < 0)
			return bad_arg(name, optarg, "wall, utc, mono or relative");
		o->time = tt_time_mode_parse(optarg);
		o->time_given = true;
		break;
	case O_OFFSET:
		if (parse_int(optarg, &o->offset_ns))
			return bad_arg(name, optarg, "a number of nanoseconds");
		o->have_offset = true;
		break;
	case O_DEVICE:
		o->device = optarg;
		break;
	case O_BENCH:
		o->bench = true;
		break;
	default:
		return -1;
	}
	return 0;
}

static const char *long_name(int ch)
{
	for (const struct option *l = longopts; l->name; l++)
		if (l->val == ch)
			return l->name;
	return "?";
}

static bool any_format(const struct opts *o)
{
	for (int i = 0; i < FMT_NR; i++)
		if (o->out[i])
			return true;
	return false;
}

static int one_option(struct opts *o, int ch, const char *name, bool *done)
{
	int ret;

	if (ch == 'h' || ch == 'V' || ch == O_FIELDS) {
		if (ch == 'h')
			usage(stdout);
		else if (ch == O_FIELDS)
			tt_fields_list(stdout);
		else
			printf("%s %s (reads tcpstates ABI 1 and %d)\n", TT_NAME,
			       TT_VERSION, TCPSTATES_ABI_VERSION);
		*done = true;
		return fflush(stdout) ? TT_EXIT_IO : TT_EXIT_OK;
	}
	if (format_opt(o, ch))
		return 0;
	ret = other_opt(o, ch, name);
	if (ret < 0)
		ret = filter_opt(o, ch, name);
	if (ret >= 0)
		return ret;
	fprintf(stderr, "Try '%s --help' for more information.\n", TT_NAME);
	return TT_EXIT_USAGE;
}

int tt_parse_opts(int argc, char **argv, struct opts *o, bool *done)
{
	char name[64];
	int ch, ret;

	*o = (struct opts){
		.device = TCPSTATES_DEVICE,
		.close_wait_ns = 10ULL * 1000000000,
		.flt = { .port = -1, .pid = -1, .netns = -1, .state = -1,
			 .role = -1 },
	};
	*done = false;
	argv[0] = (char *)TT_NAME;	/* getopt's messages name the tool */
	while ((ch = getopt_long(argc, argv, "r:T:w:Uljsp:a:hV", longopts,
				 NULL)) != -1) {
		snprintf(name, sizeof(name), "--%s", long_name(ch));
		ret = one_option(o, ch, name, done);
		if (ret || *done)
			return ret;
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", TT_NAME,
			argv[optind]);
		fprintf(stderr, "Try '%s --help' for more information.\n", TT_NAME);
		return TT_EXIT_USAGE;
	}
	if (!any_format(o) && !o->write_file && !o->bench)
		o->out[FMT_TIMELINE] = "-";
	return 0;
}
