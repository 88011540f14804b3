// SPDX-License-Identifier: GPL-2.0
/*
 * Options into struct opts, and --help. An error names the option and says
 * what it wanted; an unknown option gets one line (getopt's) and a hint.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define FORMAT_OPTION(NAME, option) [FMT_##NAME] = option,
static const char *const format_options[FMT_NR] = { TT_FORMAT_LIST(
	FORMAT_OPTION) };

const char *tt_format_option(enum tt_format f)
{
	return f < FMT_NR ? format_options[f] : "?";
}

static void usage(FILE *f)
{
	/* clang-format off */
	fprintf(f,
"Usage: " TT_NAME " [OPTIONS]\n"
"Per-connection TCP timelines from the tcpstates kernel module.\n"
"\n"
"Input (default: follow " TCPSTATES_DEVICE " until Ctrl-C, SIGTERM or SIGHUP):\n"
"  -r, --read FILE       a capture written with -w, or the text of\n"
"                        " TCPSTATES_PROC " ('-': standard input)\n"
"  -T, --text FILE       the text of " TCPSTATES_PROC " ('-': standard input)\n"
"      --from-now        live: skip the history already in the ring\n"
"      --no-map          live: read() the device even where its ring could be\n"
"                        mapped (by default a reader that sees every namespace\n"
"                        copies records from the mapped ring, without a system\n"
"                        call per batch)\n"
"      --on-time-wait    show a connection when it enters TIME_WAIT, not when\n"
"                        its TIME_WAIT ends (60 s later)\n"
"  -w, --write FILE      save the records to a capture ('-': standard output);\n"
"                        no timeline unless a format is given too. On exit it\n"
"                        says what it wrote: records, bytes, how many lost\n"
"  -U, --packet-buffered write each record and connection at once (tcpdump -U)\n"
"      --hostname NAME   the host label -w records and every format shows\n"
"                        (default: live, this host's name; a capture, the\n"
"                        label in its header; /proc text, none)\n"
"\n"
"Output formats, each to standard output or to a file of its own (=FILE); at\n"
"most one may take standard output. Default: --timeline.\n"
"      --timeline[=FILE] a readable timeline per connection as it completes\n"
"  -b, --brief[=FILE]    a line per connection, as tcplife: START PID COMM\n"
"                        LADDR LPORT RADDR RPORT TX_B RX_B MS CLOSE\n"
"  -l, --ladder[=FILE]   two-column sequence diagram of handshake and teardown\n"
"      --svg FILE        the same diagrams as one SVG picture\n"
"  -j, --json[=FILE]     one JSON object per connection side per line\n"
"      --csv[=FILE]      one CSV row per connection side, after a header line\n"
"      --fields          the fields of --json and --csv, and when each is null\n"
"      --close-kinds     the values of 'close', and what each means\n"
"      --close-reasons   the values of 'reason', and what each means\n"
"  -s, --stats[=FILE]    counts, exact latency percentiles, time in state, and\n"
"                        what looks wrong\n"
"      --stats-json[=FILE]  the same figures as one JSON object per line\n"
"                        (all listeners and destinations, times in ns)\n"
"  -i, --interval SECS   --stats for each SECS of the records' time, alone\n"
"      --close-wait SECS --stats: flag CLOSE_WAIT longer than this (10)\n"
"      --dump[=FILE]     every record, as " TCPSTATES_PROC " prints it\n"
"      --diagram[=FILE]  RFC 9293's TCP state diagram, each edge taken with\n"
"                        its count and time in the source state (p50, p99);\n"
"                        one conversation shown: its path and packets.\n"
"                        Live on a terminal it redraws every second\n"
"      --diagram-svg FILE  the same diagram as an SVG picture\n"
"      --ascii           --diagram: ASCII lines, not box drawing (the default\n"
"                        when the locale is not UTF-8)\n"
"\n"
"Times (records carry CLOCK_MONOTONIC; captures and the device carry the\n"
"offset to wall-clock time, /proc text does not):\n"
"      --time=MODE       wall: local time, 2026-11-30 14:03:07.123456 (default)\n"
"                        utc, mono (as recorded), relative (to the first record)\n"
"      --realtime-offset=NS  CLOCK_REALTIME - CLOCK_MONOTONIC of the recording\n"
"                        host, for /proc text; or save the text with\n"
"                        cat " TCPSTATES_PROC_STATS " " TCPSTATES_PROC "\n"
"\n"
"Filters. A value may be a comma list, and an option may be repeated: the\n"
"values add up (-p 80 -p 443, like tcpdump's 'or'); different filters must\n"
"all hold. A conversation is shown, and its records kept by -w, --dump,\n"
"--stats and --metrics, if either side matches:\n"
"  -p, --port PORTS      local or remote port (ranges: 8000-8099)\n"
"  -L, --lport PORTS     local port        -D, --rport PORTS   remote port\n"
"  -4, --ipv4            IPv4 only         -6, --ipv6          IPv6 only\n"
"  -a, --addr ADDR[/LEN] local or remote address, or prefix (10.0.0.0/8)\n"
"      --pid PIDS        owner process id\n"
"      --comm NAMES      owner command name\n"
"      --netns INODES    network namespace inode\n"
"      --cookie COOKIES  socket cookie: 4097, or as ss -e prints it, sk:1001\n"
"      --state STATES    went through STATE (any spelling: close_wait)\n"
"      --role ROLES      client, server, listener, simultaneous, unknown\n"
"      --cookie COOKIES  socket cookie (as --json's cookie)\n"
"      --since TIME, --until TIME  active at some time in between:\n"
"                        2026-11-30 14:03:07, 14:03 (that day), @EPOCH, or\n"
"                        monotonic seconds (5001.25)\n"
"\n"
"  -h, --help            this text\n"
"  -V, --version         the version, and the ABIs it reads\n"
"\n"
"Several captures, the flight recorder, metrics:\n"
"  -r A -r B, -r 'GLOB'  captures of one host: read as one stream; of several\n"
"                        hosts (boot ids): conversations paired across them\n"
"  -C MB                 -w: a new file before one passes MB x 1,000,000 bytes\n"
"  -G SECS               -w: a new file every SECS seconds\n"
"  -W COUNT              -w: keep the newest COUNT files, delete older ones\n"
"                        (with any of these, -w FILE writes\n"
"                        FILE-<UTC time>.tcpcap: names sort by time)\n"
"      --metrics ADDR:PORT  serve Prometheus /metrics (:PORT = every address;\n"
"                        '-': print them once at the end of the input)\n"
"      --metrics-ports LIST  per local port too (80,443; others port=\"other\")\n"
"      --journal         a journal entry per connection side (journalctl -o\n"
"                        json: TCPSTATES_LADDR, _LPORT ... and the --brief line)\n"
"      --journal-limit N at most N entries per 30 s (5000; 0: no limit); the\n"
"                        sides over it are counted in a notice entry\n"
"\n"
"Examples:\n"
"  " TT_NAME "                            follow live connections\n"
"  " TT_NAME " --brief --on-time-wait     a line per connection as it closes\n"
"  " TT_NAME " -w trace.tcpcap -p 443     record port 443 until Ctrl-C\n"
"  " TT_NAME " -r trace.tcpcap --ladder   replay as sequence diagrams\n"
"  " TT_NAME " -r trace.tcpcap --json | jq 'select(.close==\"reset_received\")'\n"
"  " TT_NAME " -r trace.tcpcap --state close_wait --since 14:00 --until 14:05\n"
"  " TT_NAME " -r trace.tcpcap --json=conns.json --stats\n"
"  " TT_NAME " -r trace.tcpcap --diagram --diagram-svg states.svg\n"
"  " TT_NAME " -r trace.tcpcap --diagram --cookie 2   one connection's path\n"
"  " TT_NAME " -i 10                      live statistics every 10 seconds\n"
"  " TT_NAME " -w /var/lib/tcpstates/trace.tcpcap -C 100 -G 3600 -W 168\n"
"  " TT_NAME " --metrics 127.0.0.1:9185 --metrics-ports 80,443\n"
"  " TT_NAME " --journal                  journalctl -t tcptimeline -o json\n"
"  " TT_NAME " -r '/var/lib/tcpstates/trace-*.tcpcap' --stats\n"
"  " TT_NAME " -r web1.tcpcap -r db1.tcpcap --ladder   (two hosts)\n"
"  cat " TCPSTATES_PROC_STATS " " TCPSTATES_PROC " > t.txt    (on any host)\n"
"  " TT_NAME " -r t.txt -b -D 5432        its connections to PostgreSQL\n"
"\n"
"Exit status: 0 ok, 1 usage error, 2 cannot open/read/write (any write error:\n"
"a full disk, a closed pipe; the output is named), 3 the input was empty or had\n"
"corrupt or truncated records (reported on stderr with offset and reason).\n");
	/* clang-format on */
}

/* What --hostname takes: a hostname's, an address's, a FQDN's characters. */
#define HOST_CHARS                             \
	"abcdefghijklmnopqrstuvwxyz"           \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" \
	"._-:@"

static int bad_arg(const char *option, const char *arg, const char *what)
{
	fprintf(stderr, "%s: %s: '%s' is not %s\n", TT_NAME, option, arg, what);
	return TT_EXIT_USAGE;
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

enum {
	O_TIMELINE = 256,
	O_SVG,
	O_CSV,
	O_STATS_JSON,
	O_DUMP,
	O_CLOSE_WAIT,
	O_FROM_NOW,
	O_PID,
	O_COMM,
	O_NETNS,
	O_COOKIE,
	O_STATE,
	O_ROLE,
	O_DEVICE,
	O_BENCH,
	O_TIME,
	O_OFFSET,
	O_FIELDS,
	O_CLOSE_KINDS,
	O_CLOSE_REASONS,
	O_SINCE,
	O_UNTIL,
	O_ON_TIME_WAIT,
	O_METRICS,
	O_METRICS_PORTS,
	O_HOSTNAME,
	O_DIAGRAM,
	O_DIAGRAM_SVG,
	O_ASCII,
	O_JOURNAL,
	O_JOURNAL_LIMIT,
	O_NO_MAP,
};

static const struct option longopts[] = {
	{ "read", required_argument, NULL, 'r' },
	{ "text", required_argument, NULL, 'T' },
	{ "write", required_argument, NULL, 'w' },
	{ "packet-buffered", no_argument, NULL, 'U' },
	{ "from-now", no_argument, NULL, O_FROM_NOW },
	{ "no-map", no_argument, NULL, O_NO_MAP },
	{ "on-time-wait", no_argument, NULL, O_ON_TIME_WAIT },
	{ "metrics", required_argument, NULL, O_METRICS },
	{ "metrics-ports", required_argument, NULL, O_METRICS_PORTS },
	{ "hostname", required_argument, NULL, O_HOSTNAME },
	{ "journal", no_argument, NULL, O_JOURNAL },
	{ "journal-limit", required_argument, NULL, O_JOURNAL_LIMIT },
	{ "interval", required_argument, NULL, 'i' },
	{ "timeline", optional_argument, NULL, O_TIMELINE },
	{ "brief", optional_argument, NULL, 'b' },
	{ "ladder", optional_argument, NULL, 'l' },
	{ "svg", required_argument, NULL, O_SVG },
	{ "diagram", optional_argument, NULL, O_DIAGRAM },
	{ "diagram-svg", required_argument, NULL, O_DIAGRAM_SVG },
	{ "ascii", no_argument, NULL, O_ASCII },
	{ "json", optional_argument, NULL, 'j' },
	{ "csv", optional_argument, NULL, O_CSV },
	{ "stats-json", optional_argument, NULL, O_STATS_JSON },
	{ "stats", optional_argument, NULL, 's' },
	{ "close-wait", required_argument, NULL, O_CLOSE_WAIT },
	{ "time", required_argument, NULL, O_TIME },
	{ "realtime-offset", required_argument, NULL, O_OFFSET },
	{ "dump", optional_argument, NULL, O_DUMP },
	{ "port", required_argument, NULL, 'p' },
	{ "lport", required_argument, NULL, 'L' },
	{ "rport", required_argument, NULL, 'D' },
	{ "ipv4", no_argument, NULL, '4' },
	{ "ipv6", no_argument, NULL, '6' },
	{ "addr", required_argument, NULL, 'a' },
	{ "since", required_argument, NULL, O_SINCE },
	{ "until", required_argument, NULL, O_UNTIL },
	{ "pid", required_argument, NULL, O_PID },
	{ "comm", required_argument, NULL, O_COMM },
	{ "netns", required_argument, NULL, O_NETNS },
	{ "cookie", required_argument, NULL, O_COOKIE },
	{ "state", required_argument, NULL, O_STATE },
	{ "role", required_argument, NULL, O_ROLE },
	{ "device", required_argument, NULL, O_DEVICE }, /* tests */
	{ "bench", no_argument, NULL, O_BENCH }, /* tests */
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "fields", no_argument, NULL, O_FIELDS },
	{ "close-kinds", no_argument, NULL, O_CLOSE_KINDS },
	{ "close-reasons", no_argument, NULL, O_CLOSE_REASONS },
	{ 0 }
};

/* Output formats: the option, and where it writes ("-" unless =FILE). */
static bool format_opt(struct opts *o, int ch)
{
	static const struct {
		int ch;
		enum tt_format fmt;
	} map[] = {
		{ O_TIMELINE, FMT_TIMELINE },
		{ 'b', FMT_BRIEF },
		{ 'l', FMT_LADDER },
		{ 'j', FMT_JSON },
		{ O_CSV, FMT_CSV },
		{ 's', FMT_STATS },
		{ O_STATS_JSON, FMT_STATS_JSON },
		{ O_DUMP, FMT_DUMP },
		{ O_SVG, FMT_SVG },
		{ O_DIAGRAM, FMT_DIAGRAM },
		{ O_DIAGRAM_SVG, FMT_DIAGRAM_SVG },
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
	static const struct {
		int ch;
		enum tt_filter_kind k;
	} map[] = {
		{ 'p', TT_F_PORT },    { 'L', TT_F_LPORT },
		{ 'D', TT_F_RPORT },   { 'a', TT_F_ADDR },
		{ O_PID, TT_F_PID },   { O_NETNS, TT_F_NETNS },
		{ O_COMM, TT_F_COMM }, { O_STATE, TT_F_STATE },
		{ O_ROLE, TT_F_ROLE }, { O_COOKIE, TT_F_COOKIE },
	};
	struct filter *f = &o->flt;
	const char *want;

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (map[i].ch == ch)
			return tt_filter_add(f, map[i].k, optarg, &want) ?
				       bad_arg(name, optarg, want) :
				       0;
	switch (ch) {
	case '4':
	case '6':
		*(ch == '4' ? &f->v4 : &f->v6) = true;
		break;
	case O_SINCE:
	case O_UNTIL:
		if (tt_when_parse(optarg,
				  ch == O_SINCE ? &f->since : &f->until))
			return bad_arg(
				name, optarg,
				"a time (2026-11-30 14:03:07, 14:03, @EPOCH or monotonic seconds)");
		*(ch == O_SINCE ? &f->have_since : &f->have_until) = true;
		break;
	default:
		return -1;
	}
	f->any = true;
	return 0;
}

/* Everything else: 0, an exit code, or -1 for "not mine". */
static int other_opt(struct opts *o, int ch, const char *name)
{
	uint32_t v;

	switch (ch) {
	case 'r':
	case 'T':
		if (o->read_file && (ch == 'T' || o->text))
			return bad_arg(name, optarg,
				       "a second input (-T reads one)");
		if (!o->read_file) {
			o->read_file = optarg;
			o->text = ch == 'T';
		}
		if (ch == 'r')
			o->reads[o->nreads++] = optarg; /* files.c */
		break;
	case 'w':
		o->write_file = optarg;
		break;
	case 'U':
		o->unbuffered = true;
		break;
	case O_HOSTNAME:
		if (!*optarg || strlen(optarg) > 63 ||
		    strspn(optarg, HOST_CHARS) != strlen(optarg))
			return bad_arg(
				name, optarg,
				"a host label: 1 to 63 letters, digits and ._-:@");
		o->hostname = optarg;
		break;
	case O_FROM_NOW:
		o->from_now = true;
		break;
	case O_NO_MAP:
		o->no_map = true;
		break;
	case O_ON_TIME_WAIT:
		o->on_time_wait = true;
		break;
	case O_ASCII:
		o->ascii = true;
		break;
	case 'i':
		if (tt_parse_u32(optarg, 86400, &v) || !v)
			return bad_arg(name, optarg,
				       "a number of seconds (1 to 86400)");
		o->interval_ns = v * 1000000000ULL;
		break;
	case O_CLOSE_WAIT:
		if (tt_parse_u32(optarg, 1000000, &v))
			return bad_arg(name, optarg, "a number of seconds");
		o->close_wait_ns = v * 1000000000ULL;
		break;
	case O_TIME:
		if (tt_time_mode_parse(optarg) < 0)
			return bad_arg(name, optarg,
				       "wall, utc, mono or relative");
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
	case O_JOURNAL:
		o->journal = true;
		break;
	case O_JOURNAL_LIMIT:
		if (tt_parse_u32(optarg, 1000000, &o->journal_limit))
			return bad_arg(name, optarg,
				       "a number of entries (0 to 1000000)");
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

/* --help, --version, --fields, --close-kinds, --close-reasons: print, done. */
static int info_opt(int ch, bool *done)
{
	errno = 0; /* a write error's errno, for tt_close_stdout() */
	if (ch == 'h')
		usage(stdout);
	else if (ch == O_FIELDS)
		tt_fields_list(stdout);
	else if (ch == O_CLOSE_KINDS)
		for (unsigned int i = 0; i < CLOSE_NR; i++)
			printf("%s\t%s\n", tt_close_name(i),
			       tt_close_meaning(i));
	else if (ch == O_CLOSE_REASONS)
		for (unsigned int k = 0; k < TT_REASON_KEYS; k++) {
			if (!tt_reason_key_name(k))
				continue;
			printf("%s\t%s\n", tt_reason_key_name(k),
			       tt_reason_key_meaning(k));
		}
	else
		printf("%s %s (reads tcpstates ABI 1 and %d)\n", TT_NAME,
		       TT_VERSION, TCPSTATES_ABI_VERSION);
	*done = true;
	return tt_close_stdout(NULL) ? TT_EXIT_IO : TT_EXIT_OK;
}

static int one_option(struct opts *o, int ch, const char *name, bool *done)
{
	int ret;

	if (ch == 'h' || ch == 'V' || ch == O_FIELDS || ch == O_CLOSE_KINDS ||
	    ch == O_CLOSE_REASONS)
		return info_opt(ch, done);
	if (format_opt(o, ch))
		return 0;
	ret = other_opt(o, ch, name);
	if (ret < 0)
		ret = filter_opt(o, ch, name);
	if (ret < 0)
		ret = tt_fleet_opt(o, ch, name, optarg);
	if (ret >= 0)
		return ret;
	fprintf(stderr, "Try '%s --help' for more information.\n", TT_NAME);
	return TT_EXIT_USAGE;
}

int tt_parse_opts(int argc, char **argv, struct opts *o, bool *done)
{
	char name[64];
	int ch, ret;

	memset(o, 0, sizeof(*o));
	o->device = TCPSTATES_DEVICE;
	o->close_wait_ns = 10ULL * 1000000000;
	o->journal_limit = 5000; /* half journald's RateLimitBurst */
	o->reads = calloc(argc, sizeof(char *));
	*done = false;
	if (!o->reads) {
		fprintf(stderr, "%s: out of memory\n", TT_NAME);
		return TT_EXIT_IO;
	}
	argv[0] = (char *)TT_NAME; /* getopt's messages name the tool */
	while ((ch = getopt_long(argc, argv, "r:T:w:Ui:bljsp:L:D:46a:hVC:G:W:",
				 longopts, NULL)) != -1) {
		snprintf(name, sizeof(name), "--%s", long_name(ch));
		ret = one_option(o, ch, name, done);
		if (ret || *done)
			return ret;
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", TT_NAME,
			argv[optind]);
		fprintf(stderr, "Try '%s --help' for more information.\n",
			TT_NAME);
		return TT_EXIT_USAGE;
	}
	if (o->interval_ns && !o->out[FMT_STATS] && !o->out[FMT_STATS_JSON])
		o->out[FMT_STATS] = "-";
	ret = tt_fleet_check_opts(o);
	if (ret)
		return ret;
	if (!any_format(o) && !o->write_file && !o->bench && !o->metrics &&
	    !o->journal)
		o->out[FMT_TIMELINE] = "-";
	return 0;
}
