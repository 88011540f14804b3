/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prometheus metrics: counters, gauges and histograms built from records
 * (decode layer) and from connection sides as the reconstruction sees them,
 * written in the Prometheus text exposition format 0.0.4.
 *
 * Cardinality is fixed when the metrics are made, whatever the traffic:
 * every series lives in one of (netns slots + 1) x (port slots + 1) groups,
 * allocated once. The first max_netns network namespaces seen get a slot of
 * their own (label netns="<inode>"), every later one shares netns="other";
 * the local ports asked for (--metrics-ports) get one each, every other port
 * port="other", and without --metrics-ports there is no port label at all.
 * A namespace keeps its slot after it is gone: counters must not vanish.
 * Destinations (ports.c) are outside the groups: gauges for the 10 that
 * hold most ports now, the rest summed, and one counter for them all.
 */
#ifndef TT_OUTPUT_METRICS_H
#define TT_OUTPUT_METRICS_H

#include <stdio.h>

#include "decode/decode.h"
#include "reconstruct/recon.h"

#define TT_METRICS_MAX_PORTS 16
#define TT_METRICS_MAX_NETNS 16 /* default; 1..256 */

struct tt_metrics_cfg {
	uint16_t ports[TT_METRICS_MAX_PORTS];
	unsigned int nports; /* 0: no port label */
	unsigned int max_netns;
};

struct tt_metrics;

struct tt_metrics *tt_metrics_new(const struct tt_metrics_cfg *cfg);
void tt_metrics_free(struct tt_metrics *m);
/* Copies everything @src counted into @dst (same cfg); no allocation. */
void tt_metrics_copy(struct tt_metrics *dst, const struct tt_metrics *src);

/* "80,443" into @cfg; -1 on a bad list (said why in @why). */
int tt_metrics_parse_ports(const char *s, struct tt_metrics_cfg *cfg, char *why,
			   size_t len);

/* Inputs. */
void tt_metrics_record(struct tt_metrics *m, const struct tcpstates_record *r);
void tt_metrics_side(struct tt_metrics *m, const struct conn *c,
		     enum tt_side_event ev);
/* Live states: clear, then add each live side of the reconstruction. */
void tt_metrics_live_begin(struct tt_metrics *m);
void tt_metrics_live_conn(void *m, const struct conn *c);
void tt_metrics_info(struct tt_metrics *m, const struct tcpstates_info *info,
		     uint64_t requests_unhashed);

/* The exposition, every family with its HELP and TYPE. */
void tt_metrics_write(FILE *f, const struct tt_metrics *m);

#endif /* TT_OUTPUT_METRICS_H */
