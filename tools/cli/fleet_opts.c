// SPDX-License-Identifier: GPL-2.0
/*
 * The recorder's and the fleet's options (-C, -G, -W, --metrics,
 * --metrics-ports, what several hosts refuse) and the one call the read
 * loop makes while it waits: publish the metrics, rotate by time. The
 * modes themselves are in record/ (rotate.c) and fleet/ (exporter.c,
 * files.c, merge.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/app.h"

static int count(const char *name, const char *arg, unsigned long long max,
		 unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || errno || *end || !*v || *v > max) {
		fprintf(stderr, "%s: %s: '%s' is not a number from 1 to %llu\n",
			TT_NAME, name, arg, max);
		return TT_EXIT_USAGE;
	}
	return 0;
}

int tt_fleet_opt(struct opts *o, int ch, const char *name, const char *arg)
{
	unsigned long long v;
	char why[160];

	switch (ch) {
	case 'C':
		if (count("-C", arg, 1000000, &v))
			return TT_EXIT_USAGE;
		o->rotate.max_bytes = v * 1000000ULL;
		return 0;
	case 'G':
		if (count("-G", arg, 100000000, &v))
			return TT_EXIT_USAGE;
		o->rotate.max_secs = v;
		return 0;
	case 'W':
		if (count("-W", arg, 1000000, &v))
			return TT_EXIT_USAGE;
		o->rotate.max_files = v;
		return 0;
	}
	if (!strcmp(name, "--metrics")) {
		o->metrics = arg;
		if (!tt_metrics_check_spec(arg, why, sizeof(why)))
			return 0;
		fprintf(stderr, "%s: %s: %s\n", TT_NAME, name, why);
		return TT_EXIT_USAGE;
	}
	if (!strcmp(name, "--metrics-ports")) {
		if (!tt_metrics_parse_ports(arg, &o->metrics_cfg, why,
					    sizeof(why)))
			return 0;
		fprintf(stderr, "%s: %s: %s\n", TT_NAME, name, why);
		return TT_EXIT_USAGE;
	}
	return -1;
}

bool tt_rotating(const struct opts *o)
{
	return o->rotate.max_bytes || o->rotate.max_secs || o->rotate.max_files;
}

int tt_fleet_check_opts(const struct opts *o)
{
	const char *why = NULL;

	if (tt_rotating(o) && (!o->write_file || !strcmp(o->write_file, "-")))
		why = "-C, -G and -W rotate the file of -w FILE";
	else if (o->metrics_cfg.nports && !o->metrics)
		why = "--metrics-ports goes with --metrics";
	if (!why)
		return 0;
	fprintf(stderr, "%s: %s\n", TT_NAME, why);
	fprintf(stderr, "Try '%s --help' for more information.\n", TT_NAME);
	return TT_EXIT_USAGE;
}

/* Several -r, or one that is a glob and not a file. */
bool tt_many_files(const struct opts *o)
{
	return o->nreads > 1 ||
	       (o->nreads == 1 && strpbrk(o->reads[0], "*?[") &&
		access(o->reads[0], F_OK));
}

int tt_fleet_start(struct app *a, struct tt_source *src)
{
	const struct opts *o = a->o;
	int devfd = src->live ? src->fd : -1;
	char why[160];

	/* the live device's captures name its boot: files of one host */
	if (src->live && tt_read_boot_id(src->ci.boot_id))
		memset(src->ci.boot_id, 0, sizeof(src->ci.boot_id));
	/* JSON Lines for log shippers: live, each line leaves when it is done */
	if ((src->live || src->stream) && a->out->f[FMT_JSON])
		setvbuf(a->out->f[FMT_JSON], NULL, _IOLBF, 0);
	if (o->metrics &&
	    tt_live_metrics_start(&a->lm, o->metrics, &o->metrics_cfg, devfd,
				  why, sizeof(why))) {
		fprintf(stderr, "%s: --metrics: %s\n", TT_NAME, why);
		return TT_EXIT_IO;
	}
	if (o->flt.any)
		a->lm.flt = &o->flt;
	if (!tt_rotating(o))
		return 0;
	a->rot = tt_rotor_new(o->write_file, &o->rotate, &src->ci, devfd,
			      o->unbuffered, why, sizeof(why));
	if (a->rot)
		return 0;
	fprintf(stderr, "%s: --write: %s\n", TT_NAME, why);
	return TT_EXIT_IO;
}

int tt_fleet_tick(struct app *a)
{
	int t = -1, tr = -1;
	char why[160];

	if (a->lm.m)
		t = tt_live_metrics_tick(&a->lm, a->recon);
	if (a->rot && !a->out->failed &&
	    tt_rotor_tick(a->rot, &a->out->rec, a->clock.offset_ns, &tr, why,
			  sizeof(why)))
		tt_outputs_fail(a->out, "--write", why);
	return t < 0 || (tr >= 0 && tr < t) ? tr : t;
}

/* After the outputs are closed: the last file's recorder named it. */
void tt_fleet_stop(struct app *a)
{
	tt_live_metrics_stop(&a->lm, NULL);
	tt_rotor_free(a->rot);
	a->rot = NULL;
	free(a->o->reads);
	a->o->reads = NULL;
}

/*
 * Records of several boots are not one stream: no capture (its header
 * names one boot), no /proc/tcpstates text (one ring's sequence numbers),
 * no interval of one monotonic clock can hold them.
 */
int tt_merge_check_opts(const struct opts *o, const struct tt_files *fs)
{
	const char *option, *why;

	if (!fs || fs->ngroups < 2)
		return 0;
	if (o->write_file) {
		option = "--write";
		why = "; a capture holds the records of one: write each boot's files separately (-r 'HOST-*.tcpcap' -w FILE)";
	} else if (o->out[FMT_DUMP]) {
		option = "--dump";
		why = "; --dump prints the records of one, as its /proc/tcpstates does: dump each boot's files separately";
	} else if (o->hostname) {
		option = "--hostname";
		why = ": it labels one host's records; each capture names its own host";
	} else if (o->interval_ns) {
		option = "--interval";
		why = ", each on a monotonic clock of its own: no interval spans them; --stats counts them all, or give -i each boot's files separately";
	} else {
		return 0;
	}
	fprintf(stderr,
		"%s: %s: the captures come from %d boots (different hosts, or a reboot)%s\n",
		TT_NAME, option, fs->ngroups, why);
	return TT_EXIT_USAGE;
}
