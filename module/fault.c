// SPDX-License-Identifier: GPL-2.0
/*
 * tcpstates fault injection: probe hits dropped on purpose.
 *
 * The kprobe core skips a hit that comes while another kprobe's handler
 * runs on the same CPU, and the module's promise for such a miss is a
 * record absent and counted, never a wrong one. A miss cannot be had on
 * demand, so the debug tier makes one: it writes "HOOK N" to
 *
 *	/sys/kernel/debug/tcpstates/drop_hits
 *
 * and the next N hits of HOOK run no handler, as a miss would, and are
 * counted where the kprobe core counts a miss (missed_HOOK in
 * /proc/tcpstates_stats). "HOOK 0" cancels; reading the file shows what
 * is left to drop per hook. tests/debug-kernel/twmark.py drops a tw_end hit
 * to leave a stale timewait mark behind (what a TIME_WAIT that expires
 * between the registrations of tw_expire and tw_end leaves), and a tw_expire
 * hit to end a TIME_WAIT with no mark.
 *
 * Only the hooks whose handlers ask ts_fault_drop() honour it: the two
 * timewait hooks, whose misses the records could otherwise get wrong. The
 * file exists only in kernels built for fault injection
 * (CONFIG_FAULT_INJECTION_DEBUG_FS, which Debian's kernels do not set),
 * is root's alone, as debugfs is, and costs a handler one atomic read.
 */
#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>

#include "counter.h"
#include "internal.h"

/* The hooks that honour drop_hits. */
#define TS_FAULT_HOOKS (BIT(TCPSTATES_HOOK_TW_EXPIRE) | BIT(TCPSTATES_HOOK_TW_END))

static atomic_t ts_drop_left[TCPSTATES_NR_HOOKS];
static DEFINE_PER_CPU(struct ts_counter, ts_dropped[TCPSTATES_NR_HOOKS]);
static struct dentry *ts_fault_dir;

/* From a probe handler: is this hit of @hook to be dropped? */
bool ts_fault_drop(unsigned int hook)
{
	if (likely(!atomic_read(&ts_drop_left[hook])))
		return false;
	if (atomic_dec_if_positive(&ts_drop_left[hook]) < 0)
		return false;
	ts_counter_inc(&ts_dropped[hook]);
	return true;
}

u64 ts_fault_dropped(unsigned int hook)
{
	return hook < TCPSTATES_NR_HOOKS ? ts_counter_sum(&ts_dropped[hook]) : 0;
}

static int ts_drop_hits_show(struct seq_file *m, void *v)
{
	unsigned int h;

	for (h = 0; h < TCPSTATES_NR_HOOKS; h++)
		if (TS_FAULT_HOOKS & BIT(h))
			seq_printf(m, "%s %d\n", ts_hook_name(h),
				   atomic_read(&ts_drop_left[h]));
	return 0;
}

static int ts_drop_hits_open(struct inode *inode, struct file *file)
{
	return single_open(file, ts_drop_hits_show, NULL);
}

/* "HOOK N": drop the next N hits of HOOK, one of TS_FAULT_HOOKS. */
static ssize_t ts_drop_hits_write(struct file *file, const char __user *ubuf,
				  size_t len, loff_t *ppos)
{
	char buf[32], name[16];
	unsigned int h;
	int n;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sscanf(buf, "%15s %d", name, &n) != 2 || n < 0)
		return -EINVAL;
	for (h = 0; h < TCPSTATES_NR_HOOKS; h++)
		if ((TS_FAULT_HOOKS & BIT(h)) && !strcmp(name, ts_hook_name(h)))
			break;
	if (h == TCPSTATES_NR_HOOKS)
		return -EINVAL;
	atomic_set(&ts_drop_left[h], n);
	return len;
}

static const struct file_operations ts_drop_hits_fops = {
	.owner = THIS_MODULE,
	.open = ts_drop_hits_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = ts_drop_hits_write,
};

/* No debugfs is no fault injection, not a failed load. */
void ts_fault_init(void)
{
	unsigned int h;

	for (h = 0; h < TCPSTATES_NR_HOOKS; h++)
		ts_counter_init(&ts_dropped[h]);
	ts_fault_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("drop_hits", 0600, ts_fault_dir, NULL,
			    &ts_drop_hits_fops);
}

/* Once the probes are gone: nothing asks ts_fault_drop() any more. */
void ts_fault_exit(void)
{
	debugfs_remove_recursive(ts_fault_dir);
}
