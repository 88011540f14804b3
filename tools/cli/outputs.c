// SPDX-License-Identifier: GPL-2.0
/*
 * The output files. Nothing is opened (and so nothing truncated) before
 * every check has passed: no output is an input, no two outputs are one
 * file, and at most one takes standard output.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli/cli.h"

struct dest {
	const char *option;
	const char *path;
	FILE **f; /* NULL for --write, the recorder's */
};

#define NDEST (FMT_NR + 2) /* the formats, --write and --metrics - */

/* --metrics - first: it has no =FILE, so the hint names the other. */
static size_t collect(struct dest *d, struct tt_outputs *out,
		      const struct opts *o)
{
	size_t n = 0;

	if (o->metrics && !strcmp(o->metrics, "-"))
		d[n++] = (struct dest){ "--metrics", "-", &out->metrics };
	if (o->write_file && !tt_rotating(o)) /* else rotate.c's files */
		d[n++] = (struct dest){ "--write", o->write_file, NULL };
	for (int i = 0; i < FMT_NR; i++)
		if (o->out[i])
			d[n++] = (struct dest){ tt_format_option(i), o->out[i],
						&out->f[i] };
	return n;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (!strcmp(a, b))
		return true;
	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static bool is_file(const struct stat *st, dev_t dev, ino_t ino)
{
	return ino && st->st_dev == dev && st->st_ino == ino;
}

/*
 * Says so if writing @d would overwrite the input, or one of several (-r
 * given more than once, or a glob): every one of them is read only after
 * the outputs are opened, and opening truncates.
 */
static bool over_input(const struct dest *d, const struct tt_source *src)
{
	const struct tt_files *fs = src->files;
	struct stat st;

	if (stat(d->path, &st))
		return false;
	if (is_file(&st, src->dev, src->ino)) {
		fprintf(stderr,
			"%s: %s: %s is the input; refusing to overwrite it\n",
			TT_NAME, d->option, d->path);
		return true;
	}
	for (size_t i = 0; fs && i < fs->n; i++) {
		if (is_file(&st, fs->f[i].dev, fs->f[i].ino)) {
			fprintf(stderr,
				"%s: %s: %s is an input (--read %s); refusing to overwrite it\n",
				TT_NAME, d->option, d->path, fs->f[i].path);
			return true;
		}
	}
	return false;
}

static int check(const struct dest *d, size_t n, const struct tt_source *src)
{
	const struct dest *out = NULL;

	for (size_t i = 0; i < n; i++) {
		if (!strcmp(d[i].path, "-")) {
			if (out) {
				fprintf(stderr,
					"%s: %s and %s both write to standard output; give one a file (%s=FILE)\n",
					TT_NAME, out->option, d[i].option,
					d[i].option);
				return TT_EXIT_USAGE;
			}
			out = &d[i];
			continue;
		}
		if (over_input(&d[i], src))
			return TT_EXIT_USAGE;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(d[j].path, "-") &&
			    same_file(d[i].path, d[j].path)) {
				fprintf(stderr,
					"%s: %s and %s both write to %s\n",
					TT_NAME, d[j].option, d[i].option,
					d[i].path);
				return TT_EXIT_USAGE;
			}
		}
	}
	return 0;
}

/*
 * Formats write a few hundred bytes a record: a buffer of 128 KiB makes a
 * write a thousand lines, not sixteen (live, each connection is flushed).
 */
#define OUT_BUFFER (128 * 1024)

int tt_outputs_open(struct tt_outputs *out, const struct opts *o,
		    const struct tt_source *src)
{
	struct dest d[NDEST];
	size_t n = collect(d, out, o);
	int ret = check(d, n, src);

	for (size_t i = 0; i < n && !ret; i++) {
		if (!d[i].f) {
			out->rec = tt_recorder_open(d[i].path, o->unbuffered);
			ret = out->rec ? 0 : TT_EXIT_IO;
			if (src->map)
				tt_recorder_via(out->rec,
						"read from the mapped ring");
		} else if (!strcmp(d[i].path, "-")) {
			*d[i].f = stdout;
			if (!isatty(STDOUT_FILENO))
				setvbuf(stdout, NULL, _IOFBF, OUT_BUFFER);
		} else if (!(*d[i].f = fopen(d[i].path, "we"))) {
			fprintf(stderr, "%s: %s: %s: %s\n", TT_NAME,
				d[i].option, d[i].path, strerror(errno));
			ret = TT_EXIT_IO;
		} else {
			setvbuf(*d[i].f, NULL, _IOFBF, OUT_BUFFER);
		}
	}
	return ret;
}

/*
 * Flushes and closes @f; says what failed, naming @option if not NULL.
 * errno is 0 or the error of the last write to @f.
 */
static int close_one(FILE *f, const char *option, const char *path)
{
	const char *name = strcmp(path, "-") ? path : "standard output";
	bool is_stdout = f == stdout;
	int err = 0;

	if (fflush(f) || ferror(f))
		err = errno ? errno : EIO;
	/* a stdout closed before we ran, with nothing to write: no error */
	if (fclose(f) && !err && !(is_stdout && errno == EBADF))
		err = errno;
	if (!err)
		return 0;
	if (option)
		fprintf(stderr, "%s: %s: %s: %s\n", TT_NAME, option, name,
			strerror(err));
	else
		fprintf(stderr, "%s: %s: %s\n", TT_NAME, name, strerror(err));
	return -1;
}

/*
 * As coreutils' close_stdout(): a write error that stdio kept to itself (a
 * full disk, a closed pipe) is said and fails the run, even when all that
 * was written is --help.
 */
int tt_close_stdout(const char *option)
{
	return close_one(stdout, option, "-");
}

/* The error tt_outputs_failed() kept for @f, or 0. */
static int saved_err(const struct tt_outputs *out, FILE *f)
{
	for (int i = 0; i < FMT_NR; i++)
		if (out->f[i] == f && out->err[i])
			return out->err[i];
	return 0;
}

int tt_outputs_close(struct tt_outputs *out, const struct opts *o)
{
	struct dest d[NDEST];
	size_t n = collect(d, out, o);
	const char *to_stdout = NULL; /* the option that wrote there */
	int stdout_err = saved_err(out, stdout);
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		if (!d[i].f || !*d[i].f)
			continue;
		errno = saved_err(out, *d[i].f);
		if (*d[i].f == stdout)
			to_stdout = d[i].option;
		else if (close_one(*d[i].f, d[i].option, d[i].path))
			ret = -1;
		*d[i].f = NULL;
	}
	if (tt_recorder_close(out->rec))
		ret = -1;
	out->rec = NULL;
	errno = stdout_err;
	if (tt_close_stdout(to_stdout))
		ret = -1;
	return ret;
}

void tt_outputs_fail(struct tt_outputs *out, const char *option,
		     const char *why)
{
	if (!out->failed && why && *why)
		fprintf(stderr, "%s: %s: %s\n", TT_NAME, option, why);
	out->failed = true;
}

/*
 * A write that fails in the middle of a run (the buffer was full) leaves
 * its errno to the next check here; by the time the file is closed, other
 * calls may have changed errno, and "No space left on device" would read
 * as a bare I/O error. So the first check keeps it.
 */
bool tt_outputs_failed(struct tt_outputs *out)
{
	if (out->failed)
		return true;
	for (int i = 0; i < FMT_NR; i++)
		if (out->f[i] && ferror(out->f[i])) {
			if (!out->err[i])
				out->err[i] = errno ? errno : EIO;
			return true;
		}
	return out->rec && tt_recorder_error(out->rec);
}

void tt_outputs_batch(const struct tt_outputs *out)
{
	if (out->f[FMT_DUMP])
		fflush(out->f[FMT_DUMP]);
	if (out->rec && tt_recorder_to_pipe(out->rec))
		tt_recorder_flush(out->rec);
}

void tt_outputs_flush(const struct tt_outputs *out)
{
	for (int i = 0; i < FMT_NR; i++)
		if (out->f[i] && i != FMT_SVG)
			fflush(out->f[i]);
	if (out->rec)
		tt_recorder_flush(out->rec);
}
