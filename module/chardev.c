// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/tcpstates: the ring as a stream of binary records.
 *
 * Every open file has its own cursor, starting at the oldest record still
 * held, so any number of readers each see every record. read() returns
 * whole records only, blocks until one is there (or -EAGAIN with
 * O_NONBLOCK), and works with poll/select/epoll. A reader that was lapped
 * gets one TCPSTATES_EV_LOST record saying how many it missed.
 *
 * Errors: a buffer shorter than one record is -EINVAL; opening for writing
 * is -EINVAL (the stream is read-only; write() on a read-only file is
 * -EBADF from the VFS); lseek is -ESPIPE (a stream); unknown ioctls are
 * -ENOTTY; bad user pointers are -EFAULT.
 *
 * mmap maps the ring itself, read-only, for a reader whose view changes no
 * record (ts_view_raw()): -EPERM for any other, -EACCES for PROT_WRITE,
 * -EINVAL for an offset but 0 or more than the whole map. The protocol
 * is in uapi/tcpstates.h ("The mapped ring"); TCPSTATES_IOC_SEEK tells the
 * file where a mapped reader is, so that poll() waits for what it wants.
 *
 * An open file pins the module (.owner), so rmmod while readers sleep in
 * read() or poll() fails with EBUSY instead of pulling the code from under
 * them; it succeeds once they close. A mapping holds its file, and so the
 * module, until it is unmapped.
 *
 * Each file sees what view.c grants its opener (-EPERM if nothing): every
 * namespace, or only the opener's own; lost-record markers are always
 * delivered. ioctl: TCPSTATES_IOC_INFO of any size in the number, and ABI
 * 2's first number for it, TCPSTATES_IOC_INFO_V2 (argsz-sized, -EINVAL
 * below the minimum), TCPSTATES_IOC_SEEK_HEAD (argument 0, else -EINVAL).
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "internal.h"

struct ts_reader {
	/*
	 * Serialises read/poll/ioctl on this file. read() holds it across
	 * copy_to_user(), which can wait on a page fault for as long as
	 * userfaultfd wants: everything else takes it interruptibly, or
	 * (poll) only tries.
	 */
	struct mutex lock;
	u64 next;		/* the next seq this reader wants */
	u64 lost;		/* records this reader has lost so far */
	struct ts_view view;	/* fixed at open */
};

static int ts_open(struct inode *inode, struct file *file)
{
	struct ts_reader *r;
	int err;

	if (file->f_mode & FMODE_WRITE)
		return -EINVAL;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	err = ts_view_open(&r->view, file);
	if (err) {
		kfree(r);
		return err;
	}
	mutex_init(&r->lock);
	r->next = ts_ring_oldest();
	file->private_data = r;
	return stream_open(inode, file);
}

static int ts_release(struct inode *inode, struct file *file)
{
	struct ts_reader *r = file->private_data;

	mutex_destroy(&r->lock);
	kfree(r);
	return 0;
}

static void ts_lost_marker(struct tcpstates_record *rec, u64 first, u64 lost)
{
	memset(rec, 0, sizeof(*rec));
	rec->seq = first;
	rec->ts_ns = ktime_get_mono_fast_ns();	/* the probes' clock */
	rec->kind = TCPSTATES_EV_LOST;
	rec->aux = lost;
}

/*
 * Fetch the next record this reader may see into *rec, turning a lap into
 * a marker. The cursor moves only when the caller commits *next, so a
 * failed copy_to_user() loses nothing. Records of other namespaces are
 * skipped (and the cursor moved past them at once); a long run of them
 * ends early for a pending signal: -ERESTARTSYS.
 */
static int ts_reader_fetch(struct ts_reader *r, u64 *next,
			   struct tcpstates_record *rec, enum ts_fetch *res)
{
	u64 lost = 0;

	*next = r->next;
	for (;;) {
		u64 from = *next;

		*res = ts_ring_fetch(next, rec, &lost);
		if (*res == TS_FETCH_LOST) {
			ts_lost_marker(rec, from, lost);
			return 0;
		}
		if (*res == TS_FETCH_EMPTY || ts_view_admit(&r->view, rec))
			return 0;
		r->next = *next;
		if (signal_pending(current))
			return -ERESTARTSYS;
		cond_resched();
	}
}

static ssize_t ts_read(struct file *file, char __user *buf, size_t count,
		       loff_t *ppos)
{
	struct ts_reader *r = file->private_data;
	struct tcpstates_record rec;
	size_t done = 0;
	ssize_t err = 0;

	if (count < sizeof(rec))
		return -EINVAL;
	if (mutex_lock_interruptible(&r->lock))
		return -ERESTARTSYS;

	while (count - done >= sizeof(rec)) {
		enum ts_fetch res;
		u64 next;

		err = ts_reader_fetch(r, &next, &rec, &res);
		if (err)
			break;
		if (res == TS_FETCH_EMPTY) {
			if (done)
				break;
			if (file->f_flags & O_NONBLOCK) {
				err = -EAGAIN;
				break;
			}
			mutex_unlock(&r->lock);
			if (wait_event_interruptible(*ts_ring_waitq(),
						     ts_ring_ready(READ_ONCE(r->next))))
				return -ERESTARTSYS;
			if (mutex_lock_interruptible(&r->lock))
				return -ERESTARTSYS;
			continue;
		}
		if (copy_to_user(buf + done, &rec, sizeof(rec))) {
			err = -EFAULT;
			break;
		}
		if (res == TS_FETCH_LOST)
			r->lost += rec.aux;
		r->next = next;
		done += sizeof(rec);
		cond_resched();
	}
	mutex_unlock(&r->lock);
	return done ? done : err;
}

static __poll_t ts_poll(struct file *file, poll_table *wait)
{
	struct ts_reader *r = file->private_data;
	struct tcpstates_record rec;
	enum ts_fetch res;
	u64 next;

	poll_wait(file, ts_ring_waitq(), wait);
	/*
	 * Another thread in read() or ioctl() on this file holds the lock,
	 * maybe for long: answer from the ring alone. That may say readable
	 * when only other namespaces' records are there, which poll()'s
	 * contract allows (a non-blocking read() then says -EAGAIN).
	 */
	if (!mutex_trylock(&r->lock))
		return ts_ring_ready(READ_ONCE(r->next)) ?
		       EPOLLIN | EPOLLRDNORM : 0;
	/* Moves past foreign records, so "readable" means read() won't block. */
	if (ts_reader_fetch(r, &next, &rec, &res))
		res = TS_FETCH_EMPTY;
	mutex_unlock(&r->lock);
	return res != TS_FETCH_EMPTY ? EPOLLIN | EPOLLRDNORM : 0;
}

static long ts_ioctl_info(struct ts_reader *r, void __user *arg)
{
	struct tcpstates_info info;
	unsigned int h;
	u32 argsz;

	if (get_user(argsz, (u32 __user *)arg))
		return -EFAULT;
	if (argsz < TCPSTATES_INFO_SIZE_MIN)
		return -EINVAL;

	memset(&info, 0, sizeof(info));
	info.argsz = sizeof(info);
	info.abi_version = TCPSTATES_ABI_VERSION;
	info.record_size = sizeof(struct tcpstates_record);
	info.nr_hooks = TCPSTATES_NR_HOOKS;
	info.capacity = ts_ring_capacity();
	info.written = ts_ring_head();
	info.oldest = ts_ring_oldest();
	info.filtered = ts_filtered_count();
	info.realtime_offset_ns = ts_realtime_offset_ns();
	info.reader_netns_cookie = ts_view_netns_cookie(&r->view);
	info.hooks_active = ts_probes_active();
	for (h = 0; h < TCPSTATES_NR_HOOKS; h++)
		info.missed[h] = ts_probes_missed(h);
	if (mutex_lock_interruptible(&r->lock))
		return -ERESTARTSYS;
	info.reader_next = r->next;
	info.reader_lost = r->lost;
	mutex_unlock(&r->lock);

	if (copy_to_user(arg, &info, min_t(u32, argsz, sizeof(info))))
		return -EFAULT;
	return 0;
}

static long ts_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct ts_reader *r = file->private_data;

	/* Any size: @argsz says how much the caller has (uapi/tcpstates.h). */
	if (_IOC_TYPE(cmd) == _IOC_TYPE(TCPSTATES_IOC_INFO) &&
	    _IOC_NR(cmd) == _IOC_NR(TCPSTATES_IOC_INFO) &&
	    _IOC_DIR(cmd) == _IOC_DIR(TCPSTATES_IOC_INFO))
		cmd = TCPSTATES_IOC_INFO;

	switch (cmd) {
	case TCPSTATES_IOC_INFO:
	case TCPSTATES_IOC_INFO_V2:
		return ts_ioctl_info(r, (void __user *)arg);
	case TCPSTATES_IOC_SEEK_HEAD:
		if (arg)
			return -EINVAL;
		if (mutex_lock_interruptible(&r->lock))
			return -ERESTARTSYS;
		r->next = ts_ring_head();
		mutex_unlock(&r->lock);
		return 0;
	case TCPSTATES_IOC_SEEK: {
		u64 seq;

		if (get_user(seq, (u64 __user *)arg))
			return -EFAULT;
		if (mutex_lock_interruptible(&r->lock))
			return -ERESTARTSYS;
		/* Past the head is not a record yet; a lapped one reads as lost. */
		r->next = min(seq, ts_ring_head());
		mutex_unlock(&r->lock);
		return 0;
	}
	default:
		return -ENOTTY;
	}
}

static int ts_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct ts_reader *r = file->private_data;

	if (!ts_view_raw(&r->view))
		return -EPERM;
	if (vma->vm_flags & VM_WRITE)
		return -EACCES;
	/* Never writable later (mprotect), never grown (mremap), not dumped. */
	ts_vm_flags_mod(vma, VM_DONTEXPAND | VM_DONTDUMP, VM_MAYWRITE);
	return ts_ring_map(vma);
}

static const struct file_operations ts_fops = {
	.owner		= THIS_MODULE,
	.open		= ts_open,
	.release	= ts_release,
	.read		= ts_read,
	.poll		= ts_poll,
	.mmap		= ts_mmap,
	.unlocked_ioctl	= ts_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct miscdevice ts_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "tcpstates",
	.fops	= &ts_fops,
	.mode	= 0400,
};

int ts_chardev_init(void)
{
	return misc_register(&ts_misc);
}

void ts_chardev_exit(void)
{
	misc_deregister(&ts_misc);
}
