/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpstates: per-CPU event counters, bumped by probes and summed by readers.
 *
 * A u64 bumped on one CPU while another sums it can be read torn on a
 * 32-bit kernel; u64_stats makes the sum exact there (a seqcount per CPU,
 * its writer with interrupts off, so a probe that interrupts another on
 * the same CPU cannot nest inside an update) and costs nothing on 64-bit,
 * where an update is one local64 increment, atomic against interruption.
 */
#ifndef TCPSTATES_COUNTER_H
#define TCPSTATES_COUNTER_H

#include <linux/percpu.h>
#include <linux/u64_stats_sync.h>

struct ts_counter {
	u64_stats_t n;
	struct u64_stats_sync sync;
};

/* Before the first ts_counter_inc(); a static per-CPU counter starts at 0. */
static inline void ts_counter_init(struct ts_counter __percpu *c)
{
	int cpu;

	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(c, cpu)->sync);
}

/* From any context but NMI, preemption disabled (a probe handler). */
static inline void ts_counter_inc(struct ts_counter __percpu *c)
{
	struct ts_counter *p = this_cpu_ptr(c);
	unsigned long flags;

	flags = u64_stats_update_begin_irqsave(&p->sync);
	u64_stats_inc(&p->n);
	u64_stats_update_end_irqrestore(&p->sync, flags);
}

static inline u64 ts_counter_sum(struct ts_counter __percpu *c)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu) {
		const struct ts_counter *p = per_cpu_ptr(c, cpu);
		unsigned int start;
		u64 n;

		do {
			start = u64_stats_fetch_begin(&p->sync);
			n = u64_stats_read(&p->n);
		} while (u64_stats_fetch_retry(&p->sync, start));
		sum += n;
	}
	return sum;
}

#endif /* TCPSTATES_COUNTER_H */
