// SPDX-License-Identifier: GPL-2.0
/*
 * The live device's ring, mapped: records copied in place from the
 * module's own memory, no read() per batch (uapi/tcpstates.h, "The mapped
 * ring", is the protocol this follows step by step).
 *
 * Only a reader that sees every namespace may map the ring; any other gets
 * EPERM and keeps read(), where the module filters and translates for it.
 * tt_mapped_open() says whether the mapping worked; the caller falls back
 * to read() when it did not. Either way the records, lost markers
 * included, are the ones read() would have returned, so a capture written
 * from a mapping is the same file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

struct tt_mapped {
	const struct tcpstates_mmap_header *hdr;
	const unsigned char *slots;
	size_t size;
	uint64_t mask;
	uint64_t next; /* the next seq this reader wants */
	int fd;
};

/* NULL, errno set, when the ring cannot be mapped for this reader. */
struct tt_mapped *tt_mapped_open(int fd, uint64_t start)
{
	long pg = sysconf(_SC_PAGESIZE);
	const struct tcpstates_mmap_header *h;
	struct tt_mapped *m;
	size_t size;
	void *p;

	h = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		return NULL;
	size = h->map_size;
	if (h->magic != TCPSTATES_MMAP_MAGIC ||
	    h->abi_version != TCPSTATES_ABI_VERSION ||
	    h->record_size != sizeof(struct tcpstates_record) ||
	    h->slot_size != sizeof(struct tcpstates_slot) || !h->capacity ||
	    h->capacity & (h->capacity - 1)) {
		munmap((void *)h, pg);
		errno = EPROTO;
		return NULL;
	}
	munmap((void *)h, pg);
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		free(m);
		return NULL;
	}
	m->hdr = p;
	m->slots = (const unsigned char *)p + m->hdr->slots_offset;
	m->size = size;
	m->mask = m->hdr->capacity - 1;
	m->next = start;
	m->fd = fd;
	return m;
}

void tt_mapped_close(struct tt_mapped *m)
{
	if (!m)
		return;
	munmap((void *)m->hdr, m->size);
	free(m);
}

static uint64_t head_of(const struct tt_mapped *m)
{
	return __atomic_load_n(&m->hdr->head, __ATOMIC_ACQUIRE);
}

bool tt_mapped_ready(const struct tt_mapped *m)
{
	return head_of(m) > m->next;
}

/* As the module marks a lapped read(): the first lost seq, and how many. */
static void lost_marker(struct tcpstates_record *r, uint64_t first,
			uint64_t lost)
{
	struct timespec t;

	memset(r, 0, sizeof(*r));
	clock_gettime(CLOCK_MONOTONIC, &t); /* the records' clock */
	r->seq = first;
	r->ts_ns = (uint64_t)t.tv_sec * 1000000000 + t.tv_nsec;
	r->kind = TCPSTATES_EV_LOST;
	r->aux = lost;
}

/*
 * A lapped reader at m->next: one lost marker in *r, counting every record
 * up to the oldest one the ring still holds, where the reader goes on.
 */
static void lapped(struct tt_mapped *m, struct tcpstates_record *r)
{
	uint64_t seq = m->next, head = head_of(m), to;

	to = head > m->mask + 1 ? head - (m->mask + 1) : 0;
	if (to < seq + 1)
		to = seq + 1;
	lost_marker(r, seq, to - seq);
	m->next = to;
}

/*
 * read() on the mapping: whole records into @buf, as many as fit and are
 * there; -1 with EAGAIN when none is. The head is read once a batch. A
 * slot holds record seq, committed, when its generation is exactly
 * (seq + 1) << 1 (uapi); an older one is not there yet (the batch ends),
 * a newer one, or one that changed during the copy, is a lap. A lap ends
 * the batch before it; alone, it is one lost marker. It stays a lap (a
 * generation only grows), so the next call finds it again.
 */
ssize_t tt_mapped_read(struct tt_mapped *m, void *buf, size_t len)
{
	struct tcpstates_record *out = buf;
	size_t n = 0, max = len / sizeof(*out);
	uint64_t seq = m->next, head = head_of(m);
	bool lap = head > seq && head - seq > m->mask + 1;

	for (; !lap && n < max && seq < head; n++, seq++) {
		const struct tcpstates_slot *slot =
			(const void *)(m->slots +
				       (seq & m->mask) * sizeof(*slot));
		uint64_t g = __atomic_load_n(&slot->gen, __ATOMIC_ACQUIRE);

		if (g != (seq + 1) << 1) {
			lap = g >> 1 > seq + 1;
			break;
		}
		memcpy(&out[n], (const void *)&slot->rec, sizeof(*out));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		/* overwritten during the copy: never decoded */
		lap = __atomic_load_n(&slot->gen, __ATOMIC_RELAXED) != g;
		if (lap)
			break;
	}
	m->next = seq;
	if (!n && lap) {
		lapped(m, out);
		n = 1;
	}
	if (!n) {
		errno = EAGAIN;
		return -1;
	}
	return n * sizeof(*out);
}

/* Before poll(): the module wakes this file for record m->next. */
int tt_mapped_before_poll(const struct tt_mapped *m)
{
	uint64_t seq = m->next;

	return ioctl(m->fd, TCPSTATES_IOC_SEEK, &seq);
}
