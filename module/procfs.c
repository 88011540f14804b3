// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/tcpstates: a text snapshot of the ring, oldest record first.
 * /proc/tcpstates_stats: counters, capacity, ABI and hooks, "key value".
 *
 * The snapshot's bounds [oldest, head) are fixed at open(); each line is
 * copied out of the ring like any reader does, so `cat` never consumes,
 * blocks or disturbs /dev/tcpstates readers or writers. Records overwritten
 * while `cat` runs are skipped: their SEQ is missing from the output.
 * ts_show_record() prints the columns in the order TCPSTATES_PROC_COLUMNS
 * lists them, each as its type and validity there say.
 * The column format is documented in tcpstates(4). Who may open either file,
 * and what a reader sees, is view.c's to say.
 */
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "internal.h"

#define TS_PROC_MODE	0400

#define TS_STATE_NAME(name, nr) \
	[nr] = #name,
static const char *const ts_state_names[TCPSTATES_NR_STATES] = {
	TCPSTATES_STATE_LIST(TS_STATE_NAME)
};

#define TS_EVENT_NAME(NAME, name, nr) \
	[nr] = #name,
static const char *const ts_event_names[TCPSTATES_NR_EVENTS] = {
	TCPSTATES_EVENT_LIST(TS_EVENT_NAME)
};

#define TS_CTX_NAME(NAME, name, nr) \
	[nr] = #name,
static const char *const ts_ctx_names[TCPSTATES_NR_CTX] = {
	TCPSTATES_CTX_LIST(TS_CTX_NAME)
};

#define TS_OPTION_NAME(NAME, name, bit) \
	[bit] = #name,
static const char *const ts_option_names[] = {
	TCPSTATES_OPTION_LIST(TS_OPTION_NAME)
};

/* Every table above is looked up with a checked index: "-" if unknown. */
static const char *ts_name(const char *const *tab, size_t n, unsigned int i)
{
	return i < n && tab[i] ? tab[i] : "-";
}

static const char *ts_state_name(unsigned int state)
{
	return ts_name(ts_state_names, ARRAY_SIZE(ts_state_names), state);
}

static const char *ts_event_name(unsigned int kind)
{
	return ts_name(ts_event_names, ARRAY_SIZE(ts_event_names), kind);
}

static const char *ts_ctx_name(unsigned int ctx)
{
	return ts_name(ts_ctx_names, ARRAY_SIZE(ts_ctx_names), ctx);
}

struct ts_snapshot {
	u64 start;		/* oldest seq when opened */
	u64 end;		/* head when opened */
	u64 cur;		/* the record ts_seq_show() prints */
	struct ts_view view;	/* fixed at open */
	struct tcpstates_record rec;
};

#define TS_COLUMN_NAME(NAME, field, type, valid) \
	[TCPSTATES_COL_##NAME] = #NAME,
static const char *const ts_column_names[TCPSTATES_NR_PROC_COLUMNS] = {
	TCPSTATES_PROC_COLUMNS(TS_COLUMN_NAME)
};

/* The header: the column names of uapi/tcpstates.h, in that order. */
static void ts_put_header(struct seq_file *m)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ts_column_names); i++)
		seq_printf(m, "%s%c", ts_column_names[i],
			   i + 1 < ARRAY_SIZE(ts_column_names) ? ' ' : '\n');
}

/* The seq_file position is 0 for the header, 1 + n for seq start + n. */
static void *ts_seq_start(struct seq_file *m, loff_t *pos)
{
	struct ts_snapshot *snap = m->private;

	if (*pos == 0)
		return SEQ_START_TOKEN;
	if (snap->start + *pos - 1 >= snap->end)
		return NULL;
	snap->cur = snap->start + *pos - 1;
	return snap;
}

/*
 * A namespace-bound reader skips other namespaces' records without output,
 * so one read() may walk a large part of the ring: yield, and stop for a
 * fatal signal.
 */
static void *ts_seq_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	cond_resched();
	if (fatal_signal_pending(current))
		return NULL;
	return ts_seq_start(m, pos);
}

static void ts_seq_stop(struct seq_file *m, void *v)
{
}

static void ts_put_addr(struct seq_file *m, const struct tcpstates_record *r,
			const u8 *addr)
{
	if (r->family == TCPSTATES_FAMILY_INET6)
		seq_printf(m, " %pI6c", addr);
	else
		seq_printf(m, " %pI4", addr);
}

/*
 * Every byte outside printable ASCII, space and backslash as \ooo, so every
 * line splits on spaces and no control character reaches a terminal (the
 * /proc/mounts convention, taken to all bytes a comm may hold).
 */
static void ts_put_comm(struct seq_file *m, const char *comm)
{
	size_t i;

	seq_putc(m, ' ');
	for (i = 0; i < TASK_COMM_LEN && comm[i]; i++) {
		unsigned char c = comm[i];

		if (c <= ' ' || c >= 0x7f || c == '\\')
			seq_printf(m, "\\%03o", c);
		else
			seq_putc(m, c);
	}
}

static void ts_put_u32(struct seq_file *m, bool valid, u32 val)
{
	if (valid)
		seq_printf(m, " %u", val);
	else
		seq_puts(m, " -");
}

static void ts_put_options(struct seq_file *m, u8 opt)
{
	bool first = true;
	unsigned int i;

	seq_putc(m, ' ');
	for (i = 0; i < ARRAY_SIZE(ts_option_names); i++) {
		if (!(opt & BIT(i)))
			continue;
		seq_printf(m, "%s%s", first ? "" : ",", ts_option_names[i]);
		first = false;
	}
	if (first)
		seq_puts(m, "none");
}

static void ts_show_record(struct seq_file *m, const struct tcpstates_record *r)
{
	/* pid 0: no task (softirq), or one this reader may not know. */
	bool task = r->ctx == TCPSTATES_CTX_TASK && r->pid;
	bool seq = r->flags & TCPSTATES_F_SEQ;
	bool wnd = r->flags & TCPSTATES_F_WINDOW;
	bool info = r->flags & TCPSTATES_F_TCPINFO;

	seq_printf(m, "%llu %llu %u %s %u %llu", r->seq, r->ts_ns, r->cpu,
		   ts_event_name(r->kind), r->netns, r->cookie);
	ts_put_u32(m, task, r->pid);
	if (task)
		ts_put_comm(m, r->comm);
	else
		seq_puts(m, " -");
	ts_put_addr(m, r, r->saddr);
	seq_printf(m, " %u", ntohs(r->sport));
	ts_put_addr(m, r, r->daddr);
	seq_printf(m, " %u %s %s", ntohs(r->dport),
		   ts_state_name(r->old_state), ts_state_name(r->new_state));
	ts_put_u32(m, seq, r->write_seq);
	ts_put_u32(m, seq, r->snd_una);
	ts_put_u32(m, seq, r->snd_nxt);
	ts_put_u32(m, seq, r->rcv_nxt);
	ts_put_u32(m, wnd, r->snd_wnd);
	ts_put_u32(m, wnd, r->rcv_wnd);
	ts_put_u32(m, info, r->mss);
	ts_put_u32(m, info, r->srtt_us);
	ts_put_u32(m, task, r->tgid);
	ts_put_u32(m, r->uid != (u32)-1, r->uid);
	seq_printf(m, " %s %s 0x%02x", ts_ctx_name(r->ctx),
		   r->family == TCPSTATES_FAMILY_INET6 ? "ipv6" : "ipv4",
		   r->flags);
	ts_put_u32(m, info, r->snd_wscale);
	ts_put_u32(m, info, r->rcv_wscale);
	if (info)
		ts_put_options(m, r->options);
	else
		seq_puts(m, " -");
	ts_put_u32(m, info, r->total_retrans);
	if (info)
		seq_printf(m, " %llu %llu", r->bytes_acked, r->bytes_received);
	else
		seq_puts(m, " - -");
	seq_printf(m, " %u %llu %llu", r->sk_err, r->aux, r->netns_cookie);
	ts_put_u32(m, r->flags & TCPSTATES_F_UNREAD, r->rcv_unread);
	seq_putc(m, '\n');
}

static int ts_seq_show(struct seq_file *m, void *v)
{
	struct ts_snapshot *snap = m->private;
	u64 next, lost;

	if (v == SEQ_START_TOKEN) {
		ts_put_header(m);
		return 0;
	}
	next = snap->cur;
	if (ts_ring_fetch_claimed(&next, &snap->rec, &lost) != TS_FETCH_OK)
		return 0;	/* overwritten since open: its SEQ is missing */
	if (!ts_view_admit(&snap->view, &snap->rec))
		return 0;
	ts_show_record(m, &snap->rec);
	return 0;
}

static const struct seq_operations ts_seq_ops = {
	.start	= ts_seq_start,
	.next	= ts_seq_next,
	.stop	= ts_seq_stop,
	.show	= ts_seq_show,
};

static int ts_proc_open(struct inode *inode, struct file *file)
{
	struct ts_snapshot *snap;
	struct ts_view view;
	int err;

	err = ts_view_open(&view, file);
	if (err)
		return err;
	snap = __seq_open_private(file, &ts_seq_ops, sizeof(*snap));
	if (!snap)
		return -ENOMEM;
	snap->view = view;
	snap->end = ts_ring_head();
	snap->start = ts_ring_oldest();
	if (snap->start > snap->end)
		snap->start = snap->end;
	return 0;
}

static const struct proc_ops ts_proc_ops = {
	.proc_open	= ts_proc_open,
	.proc_read	= seq_read,
	.proc_lseek	= seq_lseek,
	.proc_release	= seq_release_private,
};

static const char *const ts_hook_status_names[] = {
	[TS_HOOK_ACTIVE]	= "active",
	[TS_HOOK_MISSING]	= "missing",
	[TS_HOOK_SKIPPED]	= "skipped",
	[TS_HOOK_FAILED]	= "failed",
	[TS_HOOK_UNUSABLE]	= "unusable",
};

/*
 * The counters are global, as the records' sequence numbers are: a
 * namespace-bound reader learns the machine's record rate from either.
 */
static int ts_stats_show(struct seq_file *m, void *v)
{
	const struct ts_view *view = m->private;
	unsigned int h;

	seq_printf(m, "abi_version %u\n", TCPSTATES_ABI_VERSION);
	seq_printf(m, "record_size %zu\n", sizeof(struct tcpstates_record));
	seq_printf(m, "capacity %llu\n", ts_ring_capacity());
	seq_printf(m, "written %llu\n", ts_ring_head());
	seq_printf(m, "oldest %llu\n", ts_ring_oldest());
	seq_printf(m, "filtered %llu\n", ts_filtered_count());
	seq_printf(m, "requests_unhashed %llu\n", ts_unhashed_count());
	seq_printf(m, "tw_end_unknown %llu\n", ts_tw_unknown_count());
	seq_printf(m, "realtime_offset_ns %lld\n", ts_realtime_offset_ns());
	/* 0: this reader sees every namespace; gaps in SEQ are then losses */
	seq_printf(m, "reader_netns_cookie %llu\n",
		   ts_view_netns_cookie(view));
	seq_printf(m, "wakeups_now %llu\n", ts_ring_wakeups(TS_WAKE_NOW));
	seq_printf(m, "wakeups_timer %llu\n", ts_ring_wakeups(TS_WAKE_TIMER));
	for (h = 0; h < TCPSTATES_NR_HOOKS; h++)
		seq_printf(m, "hook_%s %s\n", ts_hook_name(h),
			   ts_name(ts_hook_status_names,
				   ARRAY_SIZE(ts_hook_status_names),
				   ts_hook_status(h)));
	for (h = 0; h < TCPSTATES_NR_HOOKS; h++)
		seq_printf(m, "missed_%s %llu\n", ts_hook_name(h),
			   ts_probes_missed(h));
	for (h = 0; h < TCPSTATES_NR_HOOKS; h++)
		seq_printf(m, "mechanism_%s %s\n", ts_hook_name(h),
			   ts_hook_mechanism(h));
	return 0;
}

/* The same check as the records': who may read, may read the counters. */
static int ts_stats_open(struct inode *inode, struct file *file)
{
	struct ts_view *view;
	int err;

	view = kzalloc(sizeof(*view), GFP_KERNEL);
	if (!view)
		return -ENOMEM;
	err = ts_view_open(view, file);
	if (!err)
		err = single_open(file, ts_stats_show, view);
	if (err)
		kfree(view);
	return err;
}

static int ts_stats_release(struct inode *inode, struct file *file)
{
	kfree(((struct seq_file *)file->private_data)->private);
	return single_release(inode, file);
}

static const struct proc_ops ts_stats_ops = {
	.proc_open	= ts_stats_open,
	.proc_read	= seq_read,
	.proc_lseek	= seq_lseek,
	.proc_release	= ts_stats_release,
};

int ts_procfs_init(void)
{
	if (!proc_create("tcpstates", TS_PROC_MODE, NULL, &ts_proc_ops))
		return -ENOMEM;
	if (!proc_create("tcpstates_stats", TS_PROC_MODE, NULL,
			 &ts_stats_ops)) {
		remove_proc_entry("tcpstates", NULL);
		return -ENOMEM;
	}
	return 0;
}

/* remove_proc_entry() waits for readers inside a proc_ops call. */
void ts_procfs_exit(void)
{
	remove_proc_entry("tcpstates_stats", NULL);
	remove_proc_entry("tcpstates", NULL);
}
