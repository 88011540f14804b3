// SPDX-License-Identifier: GPL-2.0
/*
 * Several captures: `-r a -r b`, or `-r 'DIR/trace-*.tcpcap'` (a quoted
 * glob, expanded here in name order; a rotating recorder's names sort by
 * time, and where a clock step made them lie, the files of one run are
 * put back in the order the run made them, which their headers say). Files are grouped by the boot id in their header: one group is
 * one host's recording, read in the order given as one stream through one
 * decoder, so ring sequence numbers run on across file boundaries and a
 * connection that spans two files is one connection; a file deleted in
 * between shows as a gap: the next file's header names its run, its index
 * in it and the ring sequence it starts at, so the records the missing
 * file held become a LOST marker of that many, and a line on stderr says
 * how many files and records are missing. Two or more groups are captures
 * of different hosts, for merge.c. Files without a boot id (older captures,
 * or ones made from /proc text) all count as one host's: they were read as
 * one stream before hosts could be told apart.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fleet/fleet.h"

static int add_file(struct tt_files *fs, const char *path, size_t *cap)
{
	unsigned char h[TT_CAP_HEADER_SIZE];
	struct tt_file *f;
	struct stat st;
	char why[128];
	ssize_t n;
	int fd;

	if (fs->n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct tt_file *nf = realloc(fs->f, c * sizeof(*nf));

		if (!nf) {
			fprintf(stderr, "%s: out of memory\n", TT_NAME);
			return TT_EXIT_IO;
		}
		fs->f = nf;
		*cap = c;
	}
	f = &fs->f[fs->n];
	memset(f, 0, sizeof(*f));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", TT_NAME, path, strerror(errno));
		return TT_EXIT_IO;
	}
	n = read(fd, h, sizeof(h));
	if (!fstat(fd, &st)) {
		f->dev = st.st_dev;
		f->ino = st.st_ino;
	}
	close(fd);
	if (n < 0) {
		fprintf(stderr, "%s: %s: %s\n", TT_NAME, path, strerror(errno));
		return TT_EXIT_IO;
	}
	if (tt_cap_parse_header(h, n, &f->ci, why, sizeof(why))) {
		fprintf(stderr,
			"%s: %s: offset 0: %s (several inputs must all be captures written with -w)\n",
			TT_NAME, path, why);
		return TT_EXIT_DATA;
	}
	f->path = strdup(path);
	if (!f->path) {
		fprintf(stderr, "%s: out of memory\n", TT_NAME);
		return TT_EXIT_IO;
	}
	fs->n++;
	return 0;
}

static bool is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static int add_arg(struct tt_files *fs, const char *arg, size_t *cap)
{
	glob_t g;
	int ret = 0;

	if (!is_glob(arg) || access(arg, F_OK) == 0)
		return add_file(fs, arg, cap);
	if (glob(arg, GLOB_ERR, NULL, &g)) {
		fprintf(stderr, "%s: %s: no file matches\n", TT_NAME, arg);
		return TT_EXIT_IO;
	}
	for (size_t i = 0; i < g.gl_pathc && !ret; i++)
		ret = add_file(fs, g.gl_pathv[i], cap);
	globfree(&g);
	return ret;
}

static int cmp_run_index(const void *a, const void *b)
{
	const struct tt_file *x = a, *y = b;

	if (x->ci.run_id != y->ci.run_id)
		return x->ci.run_id < y->ci.run_id ? -1 : 1;
	return (x->ci.file_index > y->ci.file_index) -
	       (x->ci.file_index < y->ci.file_index);
}

static int cmp_run_place(const void *a, const void *b, void *arg)
{
	const struct tt_file *f = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;

	if (f[i].ci.run_id != f[j].ci.run_id)
		return f[i].ci.run_id < f[j].ci.run_id ? -1 : 1;
	return (i > j) - (i < j);
}

/*
 * A recorder run's files in the order it made them (the index in their
 * headers), in the places its files take in the list: names sort by the
 * clock, and a clock that stepped back names a later file before an
 * earlier one. Files of no run keep their places. -1: out of memory.
 */
static int run_order(struct tt_files *fs)
{
	struct tt_file *sorted = malloc(fs->n * sizeof(*sorted));
	size_t *place = malloc(fs->n * sizeof(*place)), m = 0;

	if (!sorted || !place) {
		free(sorted);
		free(place);
		return -1;
	}
	for (size_t i = 0; i < fs->n; i++) {
		if (!fs->f[i].ci.run_id)
			continue;
		sorted[m] = fs->f[i];
		place[m++] = i;
	}
	qsort(sorted, m, sizeof(*sorted), cmp_run_index);
	qsort_r(place, m, sizeof(*place), cmp_run_place, fs->f);
	for (size_t k = 0; k < m; k++)
		fs->f[place[k]] = sorted[k];
	free(sorted);
	free(place);
	return 0;
}

int tt_files_open(struct tt_files *fs, char **paths, size_t npaths)
{
	size_t cap = 0;
	int ret;

	fs->fd = -1;
	for (size_t i = 0; i < npaths; i++) {
		ret = add_arg(fs, paths[i], &cap);
		if (ret)
			return ret;
	}
	if (run_order(fs)) {
		fprintf(stderr, "%s: out of memory\n", TT_NAME);
		return TT_EXIT_IO;
	}
	for (size_t i = 0; i < fs->n; i++) {
		struct tt_file *f = &fs->f[i];

		f->group = -1;
		for (size_t j = 0; j < i; j++)
			if (!memcmp(fs->f[j].ci.boot_id, f->ci.boot_id, 16)) {
				f->group = fs->f[j].group;
				break;
			}
		if (f->group < 0)
			f->group = fs->ngroups++;
	}
	return 0;
}

void tt_files_free(struct tt_files *fs)
{
	if (!fs)
		return;
	if (fs->fd >= 0)
		close(fs->fd);
	for (size_t i = 0; i < fs->n; i++)
		free(fs->f[i].path);
	free(fs->f);
	free(fs);
}

void tt_files_label(const struct tt_files *fs, int g, char *buf, size_t len)
{
	const struct tt_file *f = NULL;
	const uint8_t *b;

	for (size_t i = 0; i < fs->n && !f; i++)
		if (fs->f[i].group == g)
			f = &fs->f[i];
	if (!f) {
		snprintf(buf, len, "?");
		return;
	}
	b = f->ci.boot_id;
	if (f->ci.host[0])
		tt_escape(buf, len, f->ci.host, true);
	else if (memcmp(b, (uint8_t[16]){ 0 }, 16))
		snprintf(buf, len, "boot-%02x%02x%02x%02x%02x%02x", b[0], b[1],
			 b[2], b[3], b[4], b[5]);
	else /* older captures: their one group */
		tt_escape(buf, len, f->path, true);
}

void tt_files_rewind(struct tt_files *fs, int group)
{
	if (fs->fd >= 0)
		close(fs->fd);
	fs->fd = -1;
	fs->group = group;
	fs->cur = 0;
	fs->prev = NULL;
}

/*
 * @f follows @prev in its group: if both are one run's and files of it are
 * missing between them, says so and gives the decoder the gap.
 */
static void check_gap(const struct tt_file *prev, const struct tt_file *f,
		      struct tt_decoder *dec)
{
	uint32_t files;
	uint64_t recs;

	if (!prev || !f->ci.run_id || f->ci.run_id != prev->ci.run_id ||
	    !(f->ci.run_flags & TT_CAP_RUN_SEQ) ||
	    f->ci.file_index <= prev->ci.file_index)
		return;
	files = f->ci.file_index - prev->ci.file_index - 1;
	recs = dec->have_seq && f->ci.run_seq > dec->next_seq ?
		       f->ci.run_seq - dec->next_seq :
		       0;
	if (!files && !recs)
		return;
	fprintf(stderr,
		"%s: %s: %u file%s of this recording missing before it (after %s): %llu record%s lost\n",
		TT_NAME, f->path, files, files == 1 ? "" : "s", prev->path,
		(unsigned long long)recs, recs == 1 ? "" : "s");
	tt_decoder_gap(dec, f->ci.run_seq);
}

static int next_file(struct tt_files *fs, struct tt_decoder *dec)
{
	struct tt_file *f;

	while (fs->cur < fs->n && fs->f[fs->cur].group != fs->group)
		fs->cur++;
	if (fs->cur >= fs->n)
		return 0;
	f = &fs->f[fs->cur];
	check_gap(fs->prev, f, dec);
	fs->prev = f;
	fs->fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fs->fd < 0 || lseek(fs->fd, f->ci.header_size, SEEK_SET) < 0) {
		fprintf(stderr, "%s: %s: %s\n", TT_NAME, f->path,
			strerror(errno));
		return -1;
	}
	dec->name = f->path;
	dec->offset = f->ci.header_size;
	dec->record_size = f->ci.record_size;
	return 1;
}

ssize_t tt_files_read(struct tt_files *fs, struct tt_decoder *dec, void *buf,
		      size_t len)
{
	for (;;) {
		ssize_t n;

		if (fs->fd < 0) {
			int r = next_file(fs, dec);

			if (r <= 0)
				return r;
		}
		n = read(fs->fd, buf, len);
		if (n > 0)
			return n;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "%s: %s: read: %s\n", TT_NAME,
				fs->f[fs->cur].path, strerror(errno));
			return -1;
		}
		/* this file ends: a partial record here is reported here */
		tt_decoder_finish(dec);
		close(fs->fd);
		fs->fd = -1;
		fs->cur++;
	}
}
