// SPDX-License-Identifier: GPL-2.0
/*
 * tcpstates ring: fixed-size records, many concurrent writers, any number
 * of non-consuming readers, oldest records overwritten when full.
 *
 * Writers are kprobe handlers on any CPU, in process, softirq and timer
 * context, with preemption disabled. They never sleep, never allocate and
 * take no lock (a spinlock_t sleeps on PREEMPT_RT). Readers (read(), poll(),
 * the /proc snapshot) never slow a writer down and never hold it up.
 *
 *   head (atomic64): the next sequence number to hand out
 *
 *        oldest = head - capacity            head
 *             |                               |
 *   seq:  ... | s-N+1 | ... | s-1 |   s   |  (s+1 not claimed yet)
 *             +-------+-----+-----+-------+
 *   slot:     i = seq & (capacity - 1)
 *
 *   slot->gen = (seq + 1) << 1 | BUSY     (0: never written)
 *
 * A writer claims seq s with one atomic increment of head, then takes its
 * slot by a cmpxchg of gen to (s + 1) << 1 | BUSY, fills the record in
 * place and publishes it with a release store of (s + 1) << 1.
 *
 * Invariants:
 *  - Only the writer that set BUSY writes the slot's record, until it
 *    clears BUSY. A slot's gen only grows.
 *  - A writer whose slot already shows a newer seq (it was lapped before
 *    it got there) drops its record: readers count that seq as lost.
 *  - A writer that finds the slot BUSY with an older seq waits for that
 *    writer. That one runs on another CPU: writers hold interrupts off
 *    from reserve to commit (ts_emit()), so none nests in another on one
 *    CPU, not even an fprobe handler in a softirq, whose recursion guard
 *    would let it. The wait is bounded by one record copy; it can only
 *    happen when the whole ring wraps during that copy.
 *  - Every claimed seq ends with the slot's gen >= (s + 1) << 1, so a
 *    reader waiting for s always makes progress.
 *
 * Readers keep their own cursor (the next seq they want) and copy a record
 * seqlock-style: read gen (acquire), copy, re-read gen. A changed gen, or a
 * gen newer than the cursor, means the reader was lapped: it moves to the
 * oldest record still held and is told exactly how many it skipped.
 *
 * One global head gives every record a global order and exact per-reader
 * loss counts; its cache line is shared by all CPUs. At the rates TCP
 * state changes reach (one to a few per connection) that costs less than
 * the merge that per-CPU rings would push onto every reader.
 *
 * Waking readers. A reader that finds nothing to read sleeps on ring.wait.
 * Waking it for every record would cost a wakeup, a context switch and a
 * read() per record, more than the record itself; so wakeups are batched,
 * as perf's wakeup watermark and tcpdump's buffer timeout do:
 *
 *   - the first record committed while a reader sleeps arms a timer that
 *     wakes every reader @wakeup_ms later (the latency bound);
 *   - every ring.wake_batch-th record wakes them at once, so a burst never
 *     gets near a lap before readers run (a quarter of the ring, at most
 *     1024 records);
 *   - wakeup_ms=0 wakes readers at every record.
 *
 * Writers do neither themselves: wake_up() and mod_timer() take locks a
 * probe may already be inside of, and wake_up()'s spinlock_t sleeps on
 * PREEMPT_RT. They queue an irq_work (safe from any context, and a no-op
 * while one is pending), which wakes or arms the timer. TS_WAKE_ARMED
 * (one bit, set by the writer that queues the arming, cleared by the
 * timer) keeps that to one irq_work per timer period.
 */
#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/irq_work.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/lockdep.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/timer.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#include "internal.h"

#define TS_GEN_BUSY	1ULL
#define TS_WAKE_BATCH_MAX	1024
#define TS_WAKE_ARMED	0	/* bit in ring.wake_flags */

/*
 * A slot as readers map it (struct tcpstates_slot), its gen atomic here.
 * The ring is one allocation: the header page readers map first, whose
 * head writers increment, then the slots.
 */
struct ts_slot {
	atomic64_t gen;
	struct tcpstates_record rec;
};

static struct {
	struct tcpstates_mmap_header *hdr;
	atomic64_t *head;		/* &hdr->head */
	struct ts_slot *slots;
	u64 mask;
	size_t map_size;
	u64 wake_batch;		/* a power of two */
	wait_queue_head_t wait;
	/* See "Waking readers" above. */
	unsigned long wake_flags;
	struct irq_work wake_work;	/* wake readers now */
	struct irq_work arm_work;	/* wake them in wakeup_ms */
	struct timer_list wake_timer;
	atomic64_t wakeups[TS_NR_WAKE_CAUSES];
} ring;

static inline u64 gen_of(u64 seq)
{
	return (seq + 1) << 1;
}

static void ts_ring_wake(struct irq_work *work)
{
	atomic64_inc(&ring.wakeups[TS_WAKE_NOW]);
	wake_up_interruptible_all(&ring.wait);
}

static void ts_ring_arm(struct irq_work *work)
{
	/* The earliest deadline wins: never postpones a wakeup. */
	timer_reduce(&ring.wake_timer,
		     jiffies + msecs_to_jiffies(ts_wakeup_ms_param()));
}

static void ts_ring_wake_timer(struct timer_list *t)
{
	clear_bit(TS_WAKE_ARMED, &ring.wake_flags);
	/* A record committed from here on arms the timer again. */
	smp_mb__after_atomic();
	atomic64_inc(&ring.wakeups[TS_WAKE_TIMER]);
	wake_up_interruptible_all(&ring.wait);
}

int ts_ring_init(u32 capacity)
{
	size_t size = PAGE_ALIGN(PAGE_SIZE +
				 array_size(capacity, sizeof(*ring.slots)));
	unsigned int i;

	BUILD_BUG_ON(sizeof(struct ts_slot) != sizeof(struct tcpstates_slot));
	BUILD_BUG_ON(offsetof(struct ts_slot, rec) !=
		     offsetof(struct tcpstates_slot, rec));
	BUILD_BUG_ON(sizeof(atomic64_t) != sizeof(ring.hdr->head));
	BUILD_BUG_ON(sizeof(*ring.hdr) > PAGE_SIZE);
	BUILD_BUG_ON(offsetof(struct tcpstates_mmap_header, head) != 64);

	/*
	 * Callers validate: a power of two, at least 64. The largest ring is
	 * 3 GiB: when memory is short, fail the load at once and quietly
	 * rather than retry, warn, or wake the OOM killer.
	 */
	ring.hdr = __vmalloc(size, GFP_KERNEL | __GFP_ZERO | __GFP_NORETRY |
			     __GFP_NOWARN);
	if (!ring.hdr)
		return -ENOMEM;
	ring.hdr->magic = TCPSTATES_MMAP_MAGIC;
	ring.hdr->abi_version = TCPSTATES_ABI_VERSION;
	ring.hdr->record_size = sizeof(struct tcpstates_record);
	ring.hdr->slot_size = sizeof(struct ts_slot);
	ring.hdr->capacity = capacity;
	ring.hdr->slots_offset = PAGE_SIZE;
	ring.hdr->map_size = size;
	ring.head = (atomic64_t *)&ring.hdr->head;
	ring.slots = (struct ts_slot *)((char *)ring.hdr + PAGE_SIZE);
	ring.map_size = size;
	ring.mask = capacity - 1;
	ring.wake_batch = min_t(u64, capacity / 4, TS_WAKE_BATCH_MAX);
	atomic64_set(ring.head, 0);
	init_waitqueue_head(&ring.wait);
	ring.wake_flags = 0;
	init_irq_work(&ring.wake_work, ts_ring_wake);
	init_irq_work(&ring.arm_work, ts_ring_arm);
	timer_setup(&ring.wake_timer, ts_ring_wake_timer, 0);
	for (i = 0; i < TS_NR_WAKE_CAUSES; i++)
		atomic64_set(&ring.wakeups[i], 0);
	return 0;
}

/*
 * Called once no writer can run any more (probes unregistered) and no
 * reader is left (the device is gone, and an open file pins the module).
 * The irq_works first: the arming one may start the timer.
 */
void ts_ring_exit(void)
{
	irq_work_sync(&ring.wake_work);
	irq_work_sync(&ring.arm_work);
	ts_timer_shutdown_sync(&ring.wake_timer);
	vfree(ring.hdr);
	ring.hdr = NULL;
	ring.head = NULL;
	ring.slots = NULL;
}

/*
 * Map the ring, or its first pages (the header alone, say), into @vma
 * from offset 0, read-only (the caller checked who asks and the flags).
 * vmalloc's pages are order-0 pages of their own: each is inserted, and
 * holds a page reference, until the mapping goes. The mapping holds the
 * file and so the module: ts_ring_exit() never runs under it.
 */
int ts_ring_map(struct vm_area_struct *vma)
{
	unsigned long len = vma->vm_end - vma->vm_start, off;
	int err;

	if (vma->vm_pgoff || len > ring.map_size)
		return -EINVAL;
	for (off = 0; off < len; off += PAGE_SIZE) {
		err = vm_insert_page(vma, vma->vm_start + off,
				     vmalloc_to_page((char *)ring.hdr + off));
		if (err)
			return err;
	}
	return 0;
}

u64 ts_ring_capacity(void)
{
	return ring.mask + 1;
}

u64 ts_ring_head(void)
{
	return atomic64_read(ring.head);
}

u64 ts_ring_oldest(void)
{
	u64 head = ts_ring_head();

	return head > ring.mask + 1 ? head - (ring.mask + 1) : 0;
}

u64 ts_ring_wakeups(enum ts_wake_cause cause)
{
	return atomic64_read(&ring.wakeups[cause]);
}

wait_queue_head_t *ts_ring_waitq(void)
{
	return &ring.wait;
}

/*
 * Claim the next record. Returns the slot's record, to be filled and then
 * published with ts_ring_commit(seq), or NULL if a newer writer already
 * owns the slot (the record is lost, and readers will count it).
 */
struct tcpstates_record *ts_ring_reserve(u64 *seq)
{
	u64 s = atomic64_fetch_inc(ring.head);
	struct ts_slot *slot = &ring.slots[s & ring.mask];
	s64 old = atomic64_read(&slot->gen);

	/* Writers do not nest on one CPU; see "Invariants". */
	lockdep_assert_irqs_disabled();

	for (;;) {
		if ((u64)old >> 1 > s)
			return NULL;	/* lapped before we got here */
		if (old & TS_GEN_BUSY) {
			/* An older writer is still copying; see invariants. */
			cpu_relax();
			old = atomic64_read(&slot->gen);
			continue;
		}
		if (atomic64_try_cmpxchg(&slot->gen, &old,
					 gen_of(s) | TS_GEN_BUSY))
			break;
	}
	*seq = s;
	return &slot->rec;
}

void ts_ring_commit(u64 seq)
{
	struct ts_slot *slot = &ring.slots[seq & ring.mask];

	atomic64_set_release(&slot->gen, gen_of(seq));
	/* Pairs with the barrier in prepare_to_wait() of a sleeping reader. */
	if (!wq_has_sleeper(&ring.wait))
		return;
	if (!((seq + 1) & (ring.wake_batch - 1)) || !ts_wakeup_ms_param())
		irq_work_queue(&ring.wake_work);
	else if (!test_and_set_bit(TS_WAKE_ARMED, &ring.wake_flags))
		irq_work_queue(&ring.arm_work);
}

/* The oldest seq a reader at @next may move to after being lapped. */
static u64 ts_ring_skip_to(u64 next)
{
	return max(next + 1, ts_ring_oldest());
}

/*
 * Copy record *next into *rec. On TS_FETCH_LOST, *next has moved to the
 * oldest record still held and *lost says how many were skipped. The
 * cursor belongs to the caller, who serialises its own use of it.
 */
enum ts_fetch ts_ring_fetch(u64 *next, struct tcpstates_record *rec,
			    u64 *lost)
{
	u64 r = *next;
	u64 head = atomic64_read_acquire(ring.head);
	struct ts_slot *slot;
	u64 g1, g2, to;

	if (r >= head)
		return TS_FETCH_EMPTY;
	if (head - r > ring.mask + 1)
		goto lapped;

	slot = &ring.slots[r & ring.mask];
	g1 = atomic64_read_acquire(&slot->gen);
	if ((g1 >> 1) > r + 1)
		goto lapped;
	if ((g1 >> 1) < r + 1 || (g1 & TS_GEN_BUSY))
		return TS_FETCH_EMPTY;	/* claimed, still being written */

	/*
	 * The intended race: a writer that laps us may be filling this slot
	 * while we copy it. The copy may then be torn, and the gen re-check
	 * below throws it away; data_race() tells KCSAN so.
	 */
	data_race(memcpy(rec, &slot->rec, sizeof(*rec)));
	smp_rmb();	/* copy before re-checking gen */
	g2 = atomic64_read(&slot->gen);
	if (g2 != g1)
		goto lapped;

	*next = r + 1;
	return TS_FETCH_OK;

lapped:
	to = ts_ring_skip_to(r);
	*lost = to - r;
	*next = to;
	return TS_FETCH_LOST;
}

/*
 * Like ts_ring_fetch(), for a record known to be claimed (below the head
 * when the caller looked): if its writer has not published it yet, wait
 * for it. The writer runs with preemption disabled on another CPU (it
 * cannot be on ours while we run in process context), so this is the time
 * of one record copy; the bound only covers a writer stalled by a
 * hypervisor. Lets a snapshot end at the head without gaps.
 */
enum ts_fetch ts_ring_fetch_claimed(u64 *next, struct tcpstates_record *rec,
				    u64 *lost)
{
	u64 deadline = ktime_get_mono_fast_ns() + 10 * NSEC_PER_MSEC;
	enum ts_fetch res;

	while ((res = ts_ring_fetch(next, rec, lost)) == TS_FETCH_EMPTY &&
	       ktime_get_mono_fast_ns() < deadline)
		cpu_relax();
	return res;
}

/* Would ts_ring_fetch(next) return anything but TS_FETCH_EMPTY? */
bool ts_ring_ready(u64 next)
{
	u64 head = atomic64_read_acquire(ring.head);
	u64 g;

	if (next >= head)
		return false;
	if (head - next > ring.mask + 1)
		return true;
	g = atomic64_read_acquire(&ring.slots[next & ring.mask].gen);
	return (g >> 1) > next + 1 ||
	       ((g >> 1) == next + 1 && !(g & TS_GEN_BUSY));
}
