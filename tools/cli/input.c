// SPDX-License-Identifier: GPL-2.0
/*
 * The input: a capture file, /proc/tcpstates text (from a file or standard
 * input), or the live device. What it is, is decided here once: the
 * capture header's magic, text's first bytes, the device's INFO ioctl.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

#define TT_MAX_RECORD 4096

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

static int fail(const struct tt_source *src, const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s%s%s\n", TT_NAME, src->name, what,
		*what ? ": " : "", strerror(err));
	return TT_EXIT_IO;
}

/* /proc text starts with a comment, a header or a "key value" line. */
static bool looks_like_text(const unsigned char *p, size_t n)
{
	if (!n)
		return true;
	if (p[0] != '#' && !(p[0] >= 'A' && p[0] <= 'Z') &&
	    !(p[0] >= 'a' && p[0] <= 'z'))
		return false;
	return !memchr(p, 0, n);
}

static int read_capture_header(struct tt_source *src)
{
	char why[128];
	size_t skip;

	if (tt_cap_parse_header(src->head, src->nhead, &src->ci, why,
				sizeof(why))) {
		fprintf(stderr, "%s: %s: offset 0: %s\n", TT_NAME, src->name,
			why);
		return TT_EXIT_DATA;
	}
	if (src->ci.header_size <= src->nhead) {
		/* a shorter (older) header: what follows it is records */
		src->nhead -= src->ci.header_size;
		memmove(src->head, src->head + src->ci.header_size, src->nhead);
		goto done;
	}
	/* skip the rest of a longer (newer) header */
	skip = src->ci.header_size - src->nhead;
	if (read_full(src->fd, src->head, skip) != (ssize_t)skip) {
		fprintf(stderr, "%s: %s: offset %zu: truncated header\n",
			TT_NAME, src->name, src->nhead);
		return TT_EXIT_DATA;
	}
	src->nhead = 0;
done:
	src->have_offset = src->ci.realtime_offset_ns != 0; /* 0: unknown */
	return 0;
}

/*
 * Reading this host's /proc/tcpstates: its realtime offset is this host's,
 * in /proc/tcpstates_stats. (Text from anywhere else carries none, unless
 * the stats were saved with it.)
 */
static void live_proc_offset(struct tt_source *src)
{
	char line[128];
	long long v;
	FILE *f = fopen(TCPSTATES_PROC_STATS, "re");

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "realtime_offset_ns %lld", &v) == 1) {
			src->ci.realtime_offset_ns = v;
			src->have_offset = true;
		}
	}
	if (f)
		fclose(f);
}

static int open_file(struct tt_source *src, const struct opts *o)
{
	struct stat st;
	ssize_t n;

	if (!strcmp(o->read_file, "-")) {
		src->fd = STDIN_FILENO;
		src->name = "stdin";
	} else {
		src->name = o->read_file;
		src->fd = open(o->read_file, O_RDONLY | O_CLOEXEC);
		if (src->fd < 0)
			return fail(src, "", errno);
	}
	if (!fstat(src->fd, &st))
		src->stream = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
			      S_ISCHR(st.st_mode);
	n = read_full(src->fd, src->head, TT_CAP_HEADER_SIZE);
	if (n < 0)
		return fail(src, "read", errno);
	if (n == 0) { /* before any output is opened: nothing is replaced */
		fprintf(stderr,
			"%s: %s: empty: no capture header and no %s text\n",
			TT_NAME, src->name, TCPSTATES_PROC);
		return TT_EXIT_DATA;
	}
	src->nhead = n;
	if (o->text || (!tt_cap_is_capture(src->head, src->nhead) &&
			looks_like_text(src->head, src->nhead))) {
		src->mode = TT_IN_TEXT;
		if (!strcmp(o->read_file, TCPSTATES_PROC))
			live_proc_offset(src);
		return 0;
	}
	return read_capture_header(src);
}

/*
 * Copy records from the mapped ring where the module allows this reader
 * to map it (it sees every namespace), from where read() would start.
 * EPERM (a namespace-bound reader) and a module without mmap (ENODEV) mean
 * read(); any other failure is said, and read() is used.
 */
static int map_ring(struct tt_source *src, const struct opts *o)
{
	struct tcpstates_info info = { .argsz = sizeof(info) };

	if (o->no_map)
		return 0;
	if (ioctl(src->fd, TCPSTATES_IOC_INFO, &info) < 0)
		return 0; /* ABI 2's first modules: no mapping either */
	src->map = tt_mapped_open(src->fd, info.reader_next);
	if (!src->map && errno != EPERM && errno != ENODEV)
		fprintf(stderr, "%s: %s: mmap: %s; reading it instead\n",
			TT_NAME, src->name, strerror(errno));
	return 0;
}

static int device_info(struct tt_source *src, const struct opts *o)
{
	struct tcpstates_info info = { .argsz = sizeof(info) };

	if (tt_device_info(src->fd, &info) < 0) {
		if (errno != ENOTTY && errno != EINVAL)
			return fail(src, "info ioctl", errno);
		fprintf(stderr,
			"%s: %s: no INFO ioctl: the module is older than ABI %d, which this tool needs live\n",
			TT_NAME, src->name, TCPSTATES_ABI_VERSION);
		return TT_EXIT_IO;
	}
	if (info.abi_version != TCPSTATES_ABI_VERSION ||
	    info.record_size < TCPSTATES_RECORD_SIZE ||
	    info.record_size > TT_MAX_RECORD) {
		fprintf(stderr,
			"%s: %s: ABI %u with %u-byte records; this tool reads ABI %d (%d bytes)\n",
			TT_NAME, src->name, info.abi_version, info.record_size,
			TCPSTATES_ABI_VERSION, TCPSTATES_RECORD_SIZE);
		return TT_EXIT_IO;
	}
	src->ci.record_size = info.record_size;
	src->ci.realtime_offset_ns = info.realtime_offset_ns;
	src->ci.capacity = info.capacity;
	src->have_offset = true;
	if (o->from_now && ioctl(src->fd, TCPSTATES_IOC_SEEK_HEAD, 0) < 0)
		return fail(src, "seek head", errno);
	return map_ring(src, o);
}

static int open_device(struct tt_source *src, const struct opts *o)
{
	struct stat st;

	src->name = o->device;
	src->live = true;
	src->fd = open(o->device, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (src->fd < 0 && errno == ENOENT) {
		fprintf(stderr,
			"%s: %s: %s (is the tcpstates module loaded? insmod tcpstates.ko)\n",
			TT_NAME, src->name, strerror(errno));
		return TT_EXIT_IO;
	}
	if (src->fd < 0 && (errno == EACCES || errno == EPERM)) {
		fprintf(stderr,
			"%s: %s: %s (reading it needs CAP_NET_ADMIN: run as root)\n",
			TT_NAME, src->name, strerror(errno));
		return TT_EXIT_IO;
	}
	if (src->fd < 0)
		return fail(src, "", errno);
	if (fstat(src->fd, &st) == 0 && S_ISCHR(st.st_mode))
		return device_info(src, o);
	return 0; /* a FIFO or file of raw records (tests) */
}

/* Several -r, or a glob: files.c reads them as one stream. */
static int files_source(struct tt_source *src, const struct opts *o)
{
	struct tt_files *fs = calloc(1, sizeof(*fs));
	int ret;

	if (!fs) {
		fprintf(stderr, "%s: out of memory\n", TT_NAME);
		return TT_EXIT_IO;
	}
	src->files = fs;
	ret = tt_files_open(fs, o->reads, o->nreads);
	if (ret)
		return ret;
	src->mode = TT_IN_BINARY;
	src->ci = fs->f[0].ci;
	src->name = fs->f[0].path;
	src->have_offset = src->ci.realtime_offset_ns != 0; /* 0: unknown */
	return 0;
}

/*
 * The host label: --hostname; live, this host's name; a capture's header.
 * -w writes it; the formats show it escaped. The input's run (a rotation's
 * file) is files.c's business: a capture written from it starts its own.
 */
static void host_label(struct tt_source *src, const struct opts *o)
{
	struct tt_cap_info *ci = &src->ci;

	if (o->hostname)
		snprintf(ci->host, sizeof(ci->host), "%s", o->hostname);
	else if (src->live && (gethostname(ci->host, sizeof(ci->host) - 1) ||
			       !strcmp(ci->host, "(none)"))) /* never set */
		ci->host[0] = 0;
	ci->host[sizeof(ci->host) - 1] = 0;
	tt_escape(src->label, sizeof(src->label), ci->host, true);
	ci->run_id = ci->run_seq = 0;
	ci->file_index = ci->run_flags = 0;
}

int tt_source_open(struct tt_source *src, const struct opts *o)
{
	struct stat st;
	int ret;

	*src = (struct tt_source){
		.fd = -1,
		.mode = TT_IN_BINARY,
		.ci = { .abi_version = TCPSTATES_ABI_VERSION,
			.record_size = TCPSTATES_RECORD_SIZE },
	};
	src->head = malloc(TT_CAP_MAX_HEADER);
	if (!src->head) {
		fprintf(stderr, "%s: out of memory\n", TT_NAME);
		return TT_EXIT_IO;
	}
	if (tt_many_files(o))
		ret = files_source(src, o);
	else
		ret = o->read_file ? open_file(src, o) : open_device(src, o);
	if (!ret && !src->files && fstat(src->fd, &st) == 0) {
		src->dev = st.st_dev;
		src->ino = st.st_ino;
	}
	if (!ret)
		host_label(src, o);
	return ret;
}

void tt_source_close(struct tt_source *src)
{
	tt_mapped_close(src->map);
	src->map = NULL;
	if (src->fd > STDIN_FILENO)
		close(src->fd);
	src->fd = -1;
	tt_files_free(src->files);
	free(src->head);
	src->head = NULL;
}
