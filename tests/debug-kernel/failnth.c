// SPDX-License-Identifier: GPL-2.0
/*
 * failnth - load a module, or write a file, with its Nth fault-injection site
 * failed.
 *
 *   failnth N MODULE.ko [PARAMS]
 *   failnth N --write FILE VALUE
 *
 * Writes N to this thread's /proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION),
 * so that the Nth allocation the kernel makes for this thread from then on fails,
 * as syzkaller does; then calls finit_module(), or write() of VALUE to FILE
 * (opened before), at once, with nothing in between that could allocate; then
 * reads fail-nth back: 0 if the failure was injected, otherwise the
 * allocations still to go (the call made fewer than N).
 *
 * Prints one line: "injected 0|1 load 0|ERRNO-NAME remaining R" (the call's
 * result is named load for a write too), and exits 0, or 2 with a message when
 * the set-up itself fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int die(const char *what)
{
	fprintf(stderr, "failnth: %s: %s\n", what, strerror(errno));
	return 2;
}

int main(int argc, char **argv)
{
	bool wr = argc == 5 && !strcmp(argv[2], "--write");
	char n[32], back[32];
	ssize_t len;
	int fd, nth, rc, err;

	if (argc < 3 || argc > 5 || (argc == 5 && !wr)) {
		fprintf(stderr, "usage: failnth N MODULE.ko [PARAMS]\n"
				"       failnth N --write FILE VALUE\n");
		return 2;
	}
	fd = open(wr ? argv[3] : argv[2], (wr ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return die(wr ? argv[3] : argv[2]);
	nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (nth < 0)
		return die("/proc/thread-self/fail-nth");
	len = snprintf(n, sizeof(n), "%s", argv[1]);
	if (write(nth, n, len) != len)
		return die("writing fail-nth");
	if (wr)
		rc = write(fd, argv[4], strlen(argv[4])) == (ssize_t)strlen(argv[4]) ? 0 : -1;
	else
		rc = syscall(SYS_finit_module, fd, argc > 3 ? argv[3] : "", 0);
	err = rc ? errno : 0;
	len = pread(nth, back, sizeof(back) - 1, 0);
	if (len <= 0)
		return die("reading fail-nth");
	back[len] = '\0';
	/* disarm, whatever is left: nothing after this may fail */
	if (write(nth, "0", 1) != 1)
		return die("clearing fail-nth");
	printf("injected %d load %s remaining %ld\n", atoi(back) == 0,
	       err ? strerrorname_np(err) : "0", atol(back));
	return 0;
}
