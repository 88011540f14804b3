// SPDX-License-Identifier: GPL-2.0
/*
 * Several captures: `-r a -r b`, or `-r 'DIR/trace-*.tcpcap'` (a quoted
 * glob, expanded here in name order; a rotating recorder's names sort by
 * time). Files are grouped by the boot id in their header: one group is
 * one host's recording, read in the order given as one stream through one
 * decoder, so ring sequence numbers run on across file boundaries and a
 * connection that spans two files is one connection; a file deleted in
 * between shows as a gap (a LOST marker). Two or more groups are captures
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
	const char *p = "?", *slash;
	char *dash;
	size_t n;

	for (size_t i = 0; i < fs->n; i++)
		if (fs->f[i].group == g) {
			p = fs->f[i].path;
			break;
		}
	slash = strrchr(p, '/');
	snprintf(buf, len, "%s", slash ? slash + 1 : p);
	n = strlen(buf);
	if (n > 7 && !strcmp(buf + n - 7, ".tcpcap"))
		buf[n - 7] = 0;
	/* a rotated file: NAME-20261130T140307.123456Z */
	dash = strrchr(buf, '-');
	if (dash && strlen(dash) == 24 && dash[9] == 'T' && dash[23] == 'Z')
		*dash = 0;
}

void tt_files_rewind(struct tt_files *fs, int group)
{
	if (fs->fd >= 0)
		close(fs->fd);
	fs->fd = -1;
	fs->group = group;
	fs->cur = 0;
}

static int next_file(struct tt_files *fs, struct tt_decoder *dec)
{
	struct tt_file *f;

	while (fs->cur < fs->n && fs->f[fs->cur].group != fs->group)
		fs->cur++;
	if (fs->cur >= fs->n)
		return 0;
	f = &fs->f[fs->cur];
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
