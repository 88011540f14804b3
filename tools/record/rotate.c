// SPDX-License-Identifier: GPL-2.0
/*
 * The flight recorder: -w FILE with tcpdump's -C, -G and -W.
 *
 *   -C MB     start a new file before one would pass MB x 1,000,000 bytes
 *   -G SECS   start a new file every SECS seconds (CLOCK_MONOTONIC, so a
 *             clock step does not rotate early or late)
 *   -W COUNT  keep at most COUNT files: the oldest is deleted once a new
 *             one is open. Unlike tcpdump, -W with -G does not stop the
 *             recording: a flight recorder runs until it is stopped.
 *
 * With any of them, -w DIR/NAME.tcpcap writes DIR/NAME-<UTC time>.tcpcap,
 * the time of the file's opening to the microsecond (NAME-20261130T140307.123456Z.tcpcap),
 * so a restarted recorder never overwrites. -W counts every file of that
 * exact pattern in DIR, earlier runs' too, so the disk stays bounded
 * across restarts; it deletes earlier runs' files first, and this run's
 * oldest only when none is left: this run knows its own files in the order
 * it made them, and never trusts the names to sort by time (a clock that
 * stepped back names a new file before an old one). Each file starts with
 * its own header (a fresh realtime offset from the device, so weeks of NTP
 * adjustments do not accumulate; the run's id, the file's index in it and
 * the ring sequence it starts at, so a reader tells a missing file and the
 * records it held) and holds whole records only: each is a complete
 * capture and `tcptimeline -r 'DIR/NAME-*.tcpcap'` reads them as one
 * stream.
 *
 * The first error stops the recorder for good: a file that cannot be
 * opened or written is said once, and no further file is tried, so a full
 * disk or a missing directory ends the run (exit 2) rather than leaving a
 * file per record.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "record/record.h"

#define SUFFIX ".tcpcap"
#define STAMP_LEN 23 /* 20261130T140307.123456Z */

struct tt_rotor {
	struct tt_rotate_cfg cfg;
	struct tt_cap_info ci;
	int devfd;
	bool per_record, opened, failed;
	char *dir, *stem;
	char *path; /* the current file's: its recorder names it */
	uint64_t bytes, records, opened_ns;
	uint64_t next_seq; /* the ring sequence after the last record */
	bool have_seq;
	char **mine; /* this run's files still on disk, oldest first */
	size_t nmine;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int tt_read_boot_id(uint8_t id[16])
{
	char s[64];
	unsigned int n = 0;
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	if (!f)
		return -1;
	if (!fgets(s, sizeof(s), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	for (char *p = s; *p && *p != '\n' && n < 32; p++) {
		unsigned int v;

		if (*p == '-')
			continue;
		if (sscanf(p, "%1x", &v) != 1)
			return -1;
		id[n / 2] = n % 2 ? id[n / 2] | v : v << 4;
		n++;
	}
	return n == 32 ? 0 : -1;
}

/* NAME-<stamp>.tcpcap of this rotor? */
static bool ours(const struct tt_rotor *rot, const char *name)
{
	size_t sl = strlen(rot->stem), n = strlen(name);
	const char *s = name + sl + 1;

	if (n != sl + 1 + STAMP_LEN + strlen(SUFFIX) ||
	    strncmp(name, rot->stem, sl) || name[sl] != '-' ||
	    strcmp(name + n - strlen(SUFFIX), SUFFIX))
		return false;
	for (int i = 0; i < STAMP_LEN; i++) {
		char c = s[i];
		bool ok = i == 8  ? c == 'T' :
			  i == 15 ? c == '.' :
			  i == 22 ? c == 'Z' :
				    (c >= '0' && c <= '9');

		if (!ok)
			return false;
	}
	return true;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_mine(const struct tt_rotor *rot, const char *name)
{
	for (size_t i = 0; i < rot->nmine; i++)
		if (!strcmp(rot->mine[i], name))
			return true;
	return false;
}

static void unlink_file(const struct tt_rotor *rot, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", rot->dir, name);
	if (unlink(path) && errno != ENOENT)
		fprintf(stderr, "%s: %s: cannot delete: %s\n", TT_NAME, path,
			strerror(errno));
}

/*
 * Earlier runs' files of the pattern, in name order (the best they offer).
 * -1 if they could not all be listed.
 */
static int others(const struct tt_rotor *rot, char ***namesp, size_t *np)
{
	char **names = NULL, **n2;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(rot->dir);
	int ret = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (!ours(rot, de->d_name) || is_mine(rot, de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			n2 = realloc(names, cap * sizeof(*names));
			if (!n2) {
				ret = -1;
				break;
			}
			names = n2;
		}
		if (!(names[n] = strdup(de->d_name))) {
			ret = -1;
			break;
		}
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_name);
	*namesp = names;
	*np = n;
	return ret;
}

/*
 * -W: until COUNT files of the pattern are left, delete earlier runs'
 * files, then this run's oldest. The file just opened is the newest of
 * all, whatever its name says, and COUNT >= 1 keeps it.
 */
static void prune(struct tt_rotor *rot)
{
	char **names = NULL;
	size_t n = 0, i = 0, keep = rot->cfg.max_files;

	if (!keep)
		return;
	if (others(rot, &names, &n)) { /* unlisted: delete none of ours */
		for (size_t j = 0; j < n; j++)
			free(names[j]);
		free(names);
		return;
	}
	for (; i < n && n - i + rot->nmine > keep; i++)
		unlink_file(rot, names[i]);
	while (n - i + rot->nmine > keep && rot->nmine > 1) {
		unlink_file(rot, rot->mine[0]);
		free(rot->mine[0]);
		memmove(rot->mine, rot->mine + 1,
			--rot->nmine * sizeof(*rot->mine));
	}
	for (size_t j = 0; j < n; j++)
		free(names[j]);
	free(names);
}

/* Remembers the file just made as this run's newest. */
static int remember(struct tt_rotor *rot, const char *path)
{
	const char *base = strrchr(path, '/') + 1;
	char **m = realloc(rot->mine, (rot->nmine + 1) * sizeof(*m));

	if (!m)
		return -1;
	rot->mine = m;
	if (!(m[rot->nmine] = strdup(base)))
		return -1;
	rot->nmine++;
	return 0;
}

/* Makes the next file (a name nobody has) and its recorder, header first. */
static struct tt_recorder *open_next(struct tt_rotor *rot, int64_t offset_ns,
				     char *why, size_t len)
{
	struct tcpstates_info info = { .argsz = sizeof(info) };
	struct tt_recorder *rec;
	char path[4096], stamp[32];
	struct timespec now;
	struct tm tm;
	int fd = -1;

	rot->ci.realtime_offset_ns = offset_ns;
	if (rot->devfd >= 0 && !tt_device_info(rot->devfd, &info))
		rot->ci.realtime_offset_ns = info.realtime_offset_ns;
	clock_gettime(CLOCK_REALTIME, &now);
	/* O_EXCL: two files in one microsecond (a clock step back) get the next */
	for (int tries = 0; fd < 0 && tries < 1000; tries++) {
		gmtime_r(&now.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
		snprintf(path, sizeof(path), "%s/%s-%s.%06ldZ" SUFFIX, rot->dir,
			 rot->stem, stamp, now.tv_nsec / 1000);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			break;
		now.tv_nsec += 1000;
		if (now.tv_nsec >= 1000000000) {
			now.tv_sec++;
			now.tv_nsec -= 1000000000;
		}
	}
	if (fd < 0) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return NULL;
	}
	close(fd);
	free(rot->path);
	rot->path = strdup(path);
	/* -W's list of this run's files: at most COUNT long, none without it */
	if (!rot->path || (rot->cfg.max_files && remember(rot, path))) {
		snprintf(why, len, "out of memory");
		return NULL;
	}
	rot->ci.run_seq = rot->have_seq ? rot->next_seq : 0;
	rot->ci.run_flags = rot->have_seq ? TT_CAP_RUN_SEQ : 0;
	rec = tt_recorder_open(rot->path, rot->per_record);
	if (!rec) {
		why[0] = 0; /* its close said why, naming the file */
		return NULL;
	}
	if (tt_recorder_header(rec, &rot->ci)) {
		why[0] = 0; /* its close says why, naming the file */
		tt_recorder_close(rec);
		return NULL;
	}
	rot->ci.file_index++;
	rot->opened = true;
	rot->bytes = TT_CAP_HEADER_SIZE;
	rot->records = 0;
	rot->opened_ns = mono_ns();
	prune(rot);
	return rec;
}

struct tt_rotor *tt_rotor_new(const char *path, const struct tt_rotate_cfg *cfg,
			      const struct tt_cap_info *ci, int devfd,
			      bool per_record, char *why, size_t len)
{
	struct tt_rotor *rot = calloc(1, sizeof(*rot));
	const char *slash = strrchr(path, '/');
	size_t sl;

	if (!rot) {
		snprintf(why, len, "out of memory");
		return NULL;
	}
	rot->cfg = *cfg;
	rot->ci = *ci;
	rot->ci.file_index = 0;
	/* one id for the run's files: a reader tells a missing one */
	if (getrandom(&rot->ci.run_id, sizeof(rot->ci.run_id), 0) !=
		    sizeof(rot->ci.run_id) ||
	    !rot->ci.run_id)
		rot->ci.run_id = mono_ns() ^ ((uint64_t)getpid() << 32);
	rot->devfd = devfd;
	rot->per_record = per_record;
	rot->dir = slash ? strndup(path, slash - path ? slash - path : 1) :
			   strdup(".");
	rot->stem = strdup(slash ? slash + 1 : path);
	if (!rot->dir || !rot->stem) {
		snprintf(why, len, "out of memory");
		goto fail;
	}
	sl = strlen(rot->stem);
	if (sl > strlen(SUFFIX) &&
	    !strcmp(rot->stem + sl - strlen(SUFFIX), SUFFIX))
		rot->stem[sl - strlen(SUFFIX)] = 0;
	if (!rot->stem[0]) {
		snprintf(why, len, "%s: no file name to rotate", path);
		goto fail;
	}
	return rot;

fail:
	tt_rotor_free(rot);
	return NULL;
}

static bool time_up(const struct tt_rotor *rot, uint64_t now)
{
	return rot->cfg.max_secs &&
	       now - rot->opened_ns >= rot->cfg.max_secs * 1000000000ULL;
}

/*
 * Closes the current file (its close says what it wrote, or its error)
 * and opens the next; any failure stops the rotor for good, @why empty
 * when the failing file's close has said it already.
 */
static int rotate(struct tt_rotor *rot, struct tt_recorder **recp,
		  int64_t offset_ns, char *why, size_t len)
{
	struct tt_recorder *old = *recp;

	*recp = NULL;
	if (old && tt_recorder_close(old)) {
		why[0] = 0;
		rot->failed = true;
		return -1;
	}
	*recp = open_next(rot, offset_ns, why, len);
	rot->failed = !*recp;
	return *recp ? 0 : -1;
}

/* A write error in the current file: said by its close, at the end. */
static bool stopped(struct tt_rotor *rot, struct tt_recorder *rec, char *why)
{
	if (!rot->failed && rec && tt_recorder_error(rec))
		rot->failed = true;
	if (rot->failed)
		why[0] = 0;
	return rot->failed;
}

int tt_rotor_next(struct tt_rotor *rot, struct tt_recorder **recp,
		  const struct tcpstates_record *r, int64_t offset_ns,
		  char *why, size_t len)
{
	uint64_t rs = sizeof(struct tcpstates_record); /* what -w writes */
	bool full = rot->cfg.max_bytes && rot->records &&
		    rot->bytes + rs > rot->cfg.max_bytes;

	if (stopped(rot, *recp, why))
		return -1;
	if ((!rot->opened || full ||
	     (rot->records && time_up(rot, mono_ns()))) &&
	    rotate(rot, recp, offset_ns, why, len))
		return -1;
	rot->bytes += rs;
	rot->records++;
	rot->next_seq = r->kind == TCPSTATES_EV_LOST ? r->seq + r->aux :
						       r->seq + 1;
	rot->have_seq = true;
	return 0;
}

int tt_rotor_tick(struct tt_rotor *rot, struct tt_recorder **recp,
		  int64_t offset_ns, int *timeout_ms, char *why, size_t len)
{
	uint64_t now = mono_ns(), due;

	*timeout_ms = -1;
	if (*recp)
		tt_recorder_flush(*recp); /* an idle file is complete on disk */
	if (stopped(rot, *recp, why))
		return -1;
	if (!rot->cfg.max_secs)
		return 0;
	if (!rot->opened || time_up(rot, now)) {
		if (rotate(rot, recp, offset_ns, why, len))
			return -1;
		now = rot->opened_ns;
	}
	due = rot->opened_ns + rot->cfg.max_secs * 1000000000ULL - now;
	*timeout_ms = due / 1000000 + 1;
	return 0;
}

void tt_rotor_free(struct tt_rotor *rot)
{
	if (!rot)
		return;
	for (size_t i = 0; i < rot->nmine; i++)
		free(rot->mine[i]);
	free(rot->mine);
	free(rot->path);
	free(rot->dir);
	free(rot->stem);
	free(rot);
}
