// SPDX-License-Identifier: GPL-2.0
/*
 * -w FILE: the capture writer. The header goes out at once, so even an
 * empty recording is a valid capture; records are buffered whole and
 * written with write(2) in whole records, so a recording that is killed
 * ends at a record boundary (or, if the kill lands inside a large write,
 * in one partial record that the reader reports and skips). -U writes
 * every record as it comes, as tcpdump -U does. The first write error
 * stops the recording and is kept to be reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record/record.h"

#define REC_BUF_RECORDS 372 /* 64 KiB of 176-byte records */

struct tt_recorder {
	int fd;
	const char *path;
	bool per_record, pipe;
	unsigned char *buf;
	size_t len, cap;
	uint64_t records, lost, bytes;
	int err; /* the first write error, or 0 */
	const char *via; /* how the records came, for the summary; or NULL */
};

/* The summary at close also says how the records came (the mapped ring). */
void tt_recorder_via(struct tt_recorder *w, const char *via)
{
	if (w)
		w->via = via;
}

static int write_all(struct tt_recorder *w, const void *p, size_t len)
{
	while (len && !w->err) {
		ssize_t n = write(w->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->err = n < 0 ? errno : EIO;
			break;
		}
		p = (const char *)p + n;
		len -= n;
		w->bytes += n;
	}
	return w->err ? -1 : 0;
}

struct tt_recorder *tt_recorder_open(const char *path, bool per_record)
{
	struct tt_recorder *w = calloc(1, sizeof(*w));
	struct stat st;

	if (!w)
		return NULL;
	w->path = path;
	w->per_record = per_record;
	w->cap = REC_BUF_RECORDS * sizeof(struct tcpstates_record);
	w->buf = malloc(w->cap);
	w->fd = strcmp(path, "-") ?
			open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			     0644) :
			STDOUT_FILENO;
	if (!w->buf || w->fd < 0) {
		w->err = w->buf ? errno : ENOMEM;
		tt_recorder_close(w);
		return NULL;
	}
	w->pipe = !fstat(w->fd, &st) && !S_ISREG(st.st_mode);
	return w;
}

int tt_recorder_header(struct tt_recorder *w, const struct tt_cap_info *ci)
{
	unsigned char h[TT_CAP_HEADER_SIZE];

	tt_cap_header(h, ci);
	return write_all(w, h, sizeof(h));
}

static int flush(struct tt_recorder *w)
{
	int ret = write_all(w, w->buf, w->len);

	w->len = 0;
	return ret;
}

int tt_recorder_record(struct tt_recorder *w, const struct tcpstates_record *r)
{
	if (w->err)
		return -1;
	if (w->len + sizeof(*r) > w->cap && flush(w))
		return -1;
	memcpy(w->buf + w->len, r, sizeof(*r));
	w->len += sizeof(*r);
	w->records++;
	if (r->kind == TCPSTATES_EV_LOST)
		w->lost += r->aux;
	return w->per_record ? flush(w) : 0;
}

/*
 * Room in the write buffer for a source that copies whole records there
 * itself (the mapped ring), saving the copy tt_recorder_record() makes:
 * where, and how many records fit (at least one). NULL when the recorder
 * writes every record as it comes (-U) or has failed.
 */
void *tt_recorder_reserve(struct tt_recorder *w, size_t *max)
{
	const size_t rs = sizeof(struct tcpstates_record);

	if (w->err || w->per_record)
		return NULL;
	if (w->len + rs > w->cap && flush(w))
		return NULL;
	*max = (w->cap - w->len) / rs;
	return w->buf + w->len;
}

/* @n records were copied where tt_recorder_reserve() said. */
void tt_recorder_commit(struct tt_recorder *w, size_t n)
{
	const struct tcpstates_record *r = (const void *)(w->buf + w->len);

	for (size_t i = 0; i < n; i++)
		if (r[i].kind == TCPSTATES_EV_LOST)
			w->lost += r[i].aux;
	w->len += n * sizeof(*r);
	w->records += n;
}

int tt_recorder_flush(struct tt_recorder *w)
{
	return w->err ? -1 : flush(w);
}

int tt_recorder_error(const struct tt_recorder *w)
{
	return w->err;
}

bool tt_recorder_to_pipe(const struct tt_recorder *w)
{
	return w->pipe;
}

/* Flushes and closes; says what was written, or why not. -1 on error. */
int tt_recorder_close(struct tt_recorder *w)
{
	char lost[64] = "none lost";
	int err;

	if (!w)
		return 0;
	if (w->fd >= 0 && !w->err)
		flush(w);
	if (w->fd > STDOUT_FILENO && close(w->fd) && !w->err)
		w->err = errno;
	err = w->err;
	if (w->lost)
		snprintf(lost, sizeof(lost),
			 "the ring lost %llu before they were read",
			 (unsigned long long)w->lost);
	if (err)
		fprintf(stderr, "%s: --write: %s: %s\n", TT_NAME,
			strcmp(w->path, "-") ? w->path : "standard output",
			strerror(err));
	else
		fprintf(stderr,
			"%s: %llu record%s written to %s (%llu bytes); %s%s%s\n",
			TT_NAME, (unsigned long long)w->records,
			w->records == 1 ? "" : "s",
			strcmp(w->path, "-") ? w->path : "standard output",
			(unsigned long long)w->bytes, lost, w->via ? "; " : "",
			w->via ? w->via : "");
	free(w->buf);
	free(w);
	return err ? -1 : 0;
}
