// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/tcpstates: a text snapshot of the ring, oldest record first.
 * /proc/tcpstates_stats: counters, capacity, ABI and hooks, "key value".
 *
 * The snapshot's bounds [oldest, head) are fixed at open(); each line is
 * copied out of the ring like any reader does, so `cat` never consumes,
 * blocks or disturbs /dev/tcpstates readers or writers. Records overwritten
 * while `cat` runs are skipped: their SEQ is missing from the output.
 * The column format is documented in README.md.
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/string.h>

#include "internal.h"

#define TS_PROC_MODE	0400

static const char *const ts_state_names[TCPSTATES_NR_STATES] = {
	[TCPSTATES_ESTABLISHED]		= "ESTABLISHED",
	[TCPSTATES_SYN_SENT]		= "SYN_SENT",
	[TCPSTATES_SYN_RECV]		= "SYN_RECV",
	[TCPSTATES_FIN_WAIT1]		= "FIN_WAIT1",
	[TCPSTATES_FIN_WAIT2]		= "FIN_WAIT2",
	[TCPSTATES_TIME_WAIT]		= "TIME_WAIT",
	[TCPSTATES_CLOSE]		= "CLOSE",
	[TCPSTATES_CLOSE_WAIT]		= "CLOSE_WAIT",
	[TCPSTATES_LAST_ACK]		= "LAST_ACK",
	[TCPSTATES_LISTEN]		= "LISTEN",
	[TCPSTATES_CLOSING]		= "CLOSING",
	[TCPSTATES_NEW_SYN_RECV]	= "NEW_SYN_RECV",
	[TCPSTATES_BOUND_INACTIVE]	= "BOUND_INACTIVE",
};

static const char *const ts_event_names[TCPSTATES_NR_EVENTS] = {
	[TCPSTATES_EV_STATE]		= "state",
	[TCPSTATES_EV_LISTEN]		= "listen",
	[TCPSTATES_EV_CONNECT]		= "connect",
	[TCPSTATES_EV_REQUEST]		= "request",
	[TCPSTATES_EV_CHILD]		= "child",
	[TCPSTATES_EV_ACCEPT]		= "accept",
	[TCPSTATES_EV_REQUEST_END]	= "request_end",
	[TCPSTATES_EV_TIME_WAIT]	= "time_wait",
	[TCPSTATES_EV_TW_REARM]		= "tw_rearm",
	[TCPSTATES_EV_TW_EXPIRE]	= "tw_expire",
	[TCPSTATES_EV_TW_KILL]		= "tw_kill",
	[TCPSTATES_EV_RESET_SENT]	= "reset_sent",
	[TCPSTATES_EV_LOST]		= "lost",
};

static const char *const ts_ctx_names[] = {
	[TCPSTATES_CTX_TASK]		= "task",
	[TCPSTATES_CTX_SOFTIRQ]		= "softirq",
	[TCPSTATES_CTX_HARDIRQ]		= "hardirq",
};

/* "-" for no state or one this module does not know. */
const char *ts_state_name(unsigned int state)
{
	if (state < ARRAY_SIZE(ts_state_names) && ts_state_names[state])
		return ts_state_names[state];
	return "-";
}

const char *ts_event_name(unsigned int kind)
{
	if (kind < ARRAY_SIZE(ts_event_names) && ts_event_names[kind])
		return ts_event_names[kind];
	return "-";
}

static const char *ts_ctx_name(unsigned int ctx)
{
	return ctx < ARRAY_SIZE(ts_ctx_names) ? ts_ctx_names[ctx] : "-";
}

struct ts_snapshot {
	u64 start;		/* oldest seq when opened */
	u64 end;		/* head when opened */
	u64 cur;		/* the record ts_seq_show() prints */
	u32 netns;		/* 0: all namespaces */
	struct tcpstates_record rec;
};

#define TS_HEADER "SEQ TIME_NS CPU EVENT NETNS COOKIE PID COMM LADDR LPORT " \
	"RADDR RPORT OLDSTATE NEWSTATE WRITE_SEQ SND_UNA SND_NXT RCV_NXT " \
	"SND_WND RCV_WND MSS SRTT_US TGID UID CTX FAMILY FLAGS SND_WSCALE " \
	"RCV_WSCALE OPTIONS RETRANS BYTES_ACKED BYTES_RECEIVED SK_ERR AUX\n"

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

static void *ts_seq_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
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

/* Only whitespace and backslash are escaped, as /proc/mounts does. */
static void ts_put_comm(struct seq_file *m, const char *comm)
{
	char buf[TASK_COMM_LEN];

	strscpy(buf, comm, sizeof(buf));
	seq_putc(m, ' ');
	seq_escape(m, buf, " \t\n\\");
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
	static const char *const names[] = { "sack", "ts", "wscale", "ecn" };
	bool first = true;
	unsigned int i;

	seq_putc(m, ' ');
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!(opt & BIT(i)))
			continue;
		seq_printf(m, "%s%s", first ? "" : ",", names[i]);
		first = false;
	}
	if (first)
		seq_puts(m, "none");
}

static void ts_show_record(struct seq_file *m, const struct tcpstates_record *r)
{
	bool task = r->ctx == TCPSTATES_CTX_TASK;
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
	seq_printf(m, " %u %llu\n", r->sk_err, r->aux);
}

static int ts_seq_show(struct seq_file *m, void *v)
{
	struct ts_snapshot *snap = m->private;
	u64 next, lost;

	if (v == SEQ_START_TOKEN) {
		seq_puts(m, TS_HEADER);
		return 0;
	}
	next = snap->cur;
	if (ts_ring_fetch(&next, &snap->rec, &lost) != TS_FETCH_OK)
		return 0;	/* overwritten since open: its SEQ is missing */
	if (snap->netns && snap->rec.netns != snap->netns)
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

	snap = __seq_open_private(file, &ts_seq_ops, sizeof(*snap));
	if (!snap)
		return -ENOMEM;
	snap->end = ts_ring_head();
	snap->start = ts_ring_oldest();
	if (snap->start > snap->end)
		snap->start = snap->end;
	snap->netns = ts_reader_netns();
	return 0;
}

static const struct proc_ops ts_proc_ops = {
	.proc_open	= ts_proc_open,
	.proc_read	= seq_read,
	.proc_lseek	= seq_lseek,
	.proc_release	= seq_release_private,
};

static int ts_stats_show(struct seq_file *m, void *v)
{
	u32 active = ts_probes_active();
	unsigned int h;

	seq_printf(m, "abi_version %u\n", TCPSTATES_ABI_VERSION);
	seq_printf(m, "record_size %zu\n", sizeof(struct tcpstates_record));
	seq_printf(m, "capacity %llu\n", ts_ring_capacity());
	seq_printf(m, "written %llu\n", ts_ring_head());
	seq_printf(m, "oldest %llu\n", ts_ring_oldest());
	seq_printf(m, "filtered %llu\n", ts_filtered_count());
	seq_printf(m, "realtime_offset_ns %llu\n", ts_realtime_offset_ns());
	for (h = 0; h < TCPSTATES_NR_HOOKS; h++)
		seq_printf(m, "hook_%s %s\n", ts_hook_name(h),
			   active & BIT(h) ? "active" : "inactive");
	for (h = 0; h < TCPSTATES_NR_HOOKS; h++)
		seq_printf(m, "missed_%s %llu\n", ts_hook_name(h),
			   ts_probes_missed(h));
	return 0;
}

static int ts_stats_open(struct inode *inode, struct file *file)
{
	return single_open(file, ts_stats_show, NULL);
}

static const struct proc_ops ts_stats_ops = {
	.proc_open	= ts_stats_open,
	.proc_read	= seq_read,
	.proc_lseek	= seq_lseek,
	.proc_release	= single_release,
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
