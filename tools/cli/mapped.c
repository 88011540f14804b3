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
 * Copy record m->next into *r: 1, or 0 when it is not there yet (not
 * claimed, or claimed and still being written). A lap is a lost marker.
 */
static int fetch(struct tt_mapped *m, struct tcpstates_record *r)
{
	uint64_t seq = m->next, head = head_of(m), g1, to;
	const struct tcpstates_slot *slot;

	if (seq >= head)
		return 0;
	if (head - seq > m->mask + 1)
		goto lapped;
	slot = (const void *)(m->slots + (seq & m->mask) * sizeof(*slot));
	g1 = __atomic_load_n(&slot->gen, __ATOMIC_ACQUIRE);
	if (g1 >> 1 > seq + 1)
		goto lapped;
	if (g1 >> 1 < seq + 1 || g1 & 1)
		return 0;
	memcpy(r, (const void *)&slot->rec, sizeof(*r));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&slot->gen, __ATOMIC_RELAXED) != g1)
		goto lapped; /* overwritten during the copy: never decoded */
	m->next = seq + 1;
	return 1;
lapped:
	head = head_of(m);
	to = head > m->mask + 1 ? head - (m->mask + 1) : 0;
	if (to < seq + 1)
		to = seq + 1;
	lost_marker(r, seq, to - seq);
	m->next = to;
	return 1;
}

/*
 * read() on the mapping: whole records into @buf, as many as fit and are
 * there; -1 with EAGAIN when none is.
 */
ssize_t tt_mapped_read(struct tt_mapped *m, void *buf, size_t len)
{
	struct tcpstates_record *out = buf;
	size_t n = 0, max = len / sizeof(*out);

	while (n < max && fetch(m, &out[n]))
		n++;
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
