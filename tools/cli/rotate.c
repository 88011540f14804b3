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
 * so names sort by time and a restarted recorder never overwrites; -W
 * counts every file of that exact pattern in DIR, earlier runs' too, so the
 * disk stays bounded across restarts. Each file starts with its own header
 * (a fresh realtime offset from the device, so weeks of NTP adjustments do
 * not accumulate) and holds whole records only: each is a complete capture
 * and `tcptimeline -r 'DIR/NAME-*.tcpcap'` reads them as one stream.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

#define SUFFIX ".tcpcap"
#define STAMP_LEN 23 /* 20261130T140307.123456Z */

struct tt_rotor {
	struct tt_rotate_cfg cfg;
	struct tt_cap_info ci;
	int devfd;
	bool per_record, opened;
	char *dir, *stem;
	char *path; /* the current file's: its recorder names it */
	uint64_t bytes, records, opened_ns;
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

/* -W: delete the oldest of our files until COUNT are left. */
static void prune(struct tt_rotor *rot)
{
	char **names = NULL, **n2;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	if (!rot->cfg.max_files || !(d = opendir(rot->dir)))
		return;
	while ((de = readdir(d))) {
		if (!ours(rot, de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			n2 = realloc(names, cap * sizeof(*names));
			if (!n2)
				break;
			names = n2;
		}
		if (!(names[n] = strdup(de->d_name)))
			break;
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_name);
	for (size_t i = 0; i + rot->cfg.max_files < n; i++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", rot->dir, names[i]);
		if (unlink(path) && errno != ENOENT)
			fprintf(stderr, "%s: %s: cannot delete: %s\n", TT_NAME,
				path, strerror(errno));
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
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
	rec = rot->path ? tt_recorder_open(rot->path, rot->per_record) : NULL;
	if (!rec || tt_recorder_header(rec, &rot->ci)) {
		snprintf(why, len, "%s: cannot write", path);
		tt_recorder_close(rec);
		return NULL;
	}
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

static int rotate(struct tt_rotor *rot, struct tt_recorder **recp,
		  int64_t offset_ns, char *why, size_t len)
{
	int ret = 0;

	if (*recp && tt_recorder_close(*recp)) {
		snprintf(why, len, "closing %s failed", rot->path);
		ret = -1;
	}
	*recp = open_next(rot, offset_ns, why, len);
	return *recp && !ret ? 0 : -1;
}

int tt_rotor_next(struct tt_rotor *rot, struct tt_recorder **recp,
		  int64_t offset_ns, char *why, size_t len)
{
	uint64_t rs = sizeof(struct tcpstates_record); /* what -w writes */
	bool full = rot->cfg.max_bytes && rot->records &&
		    rot->bytes + rs > rot->cfg.max_bytes;

	if ((!rot->opened || full ||
	     (rot->records && time_up(rot, mono_ns()))) &&
	    rotate(rot, recp, offset_ns, why, len))
		return -1;
	rot->bytes += rs;
	rot->records++;
	return 0;
}

int tt_rotor_tick(struct tt_rotor *rot, struct tt_recorder **recp,
		  int64_t offset_ns, int *timeout_ms, char *why, size_t len)
{
	uint64_t now = mono_ns(), due;

	if (*recp)
		tt_recorder_flush(*recp); /* an idle file is complete on disk */
	*timeout_ms = -1;
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
	free(rot->path);
	free(rot->dir);
	free(rot->stem);
	free(rot);
}
