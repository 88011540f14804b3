/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tests/lib/mapped.h - the mapped ring's consumer protocol, step by step as
 * uapi/tcpstates.h ("The mapped ring") writes it, for the test programs
 * (devtest, stress). tcptimeline has its own (tools/cli/mapped.c), written
 * apart: the device suite holds the two against each other and against
 * read(). Include after <tcpstates.h>, <string.h>, <sys/mman.h>, <unistd.h>
 * and <errno.h>.
 */
#ifndef TCPSTATES_TESTS_MAPPED_H
#define TCPSTATES_TESTS_MAPPED_H

struct mapped {
	const struct tcpstates_mmap_header *hdr;
	const unsigned char *slots;
	size_t size;
	__u64 next;	/* the next seq this reader wants */
};

enum { M_EMPTY, M_OK, M_LOST };

/* Map the header page, then the whole ring. Returns 0 or an errno. */
static int map_ring(int fd, struct mapped *m)
{
	long pg = sysconf(_SC_PAGESIZE);
	const struct tcpstates_mmap_header *h;
	void *p;

	memset(m, 0, sizeof(*m));
	h = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		return errno;
	m->size = h->map_size;
	munmap((void *)h, pg);
	p = mmap(NULL, m->size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return errno;
	m->hdr = p;
	m->slots = (const unsigned char *)p + m->hdr->slots_offset;
	return 0;
}

static __u64 mapped_head(const struct mapped *m)
{
	return __atomic_load_n(&m->hdr->head, __ATOMIC_ACQUIRE);
}

/*
 * One step of the protocol: M_OK with record m->next in *rec, M_EMPTY, or
 * M_LOST with how many records the reader skipped in *lost.
 */
static int mapped_fetch(struct mapped *m, struct tcpstates_record *rec,
			__u64 *lost)
{
	__u64 seq = m->next, cap = m->hdr->capacity, head, g1, g2, to;
	const struct tcpstates_slot *slot;

	head = mapped_head(m);
	if (seq >= head)
		return M_EMPTY;
	if (head - seq > cap)
		goto lapped;
	slot = (const void *)(m->slots + (seq & (cap - 1)) * m->hdr->slot_size);
	g1 = __atomic_load_n(&slot->gen, __ATOMIC_ACQUIRE);
	if ((g1 >> 1) > seq + 1)
		goto lapped;
	if ((g1 >> 1) < seq + 1 || (g1 & 1))
		return M_EMPTY;
	memcpy(rec, (const void *)&slot->rec, sizeof(*rec));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	g2 = __atomic_load_n(&slot->gen, __ATOMIC_RELAXED);
	if (g2 != g1)
		goto lapped;
	m->next = seq + 1;
	return M_OK;
lapped:
	head = mapped_head(m);
	to = head > cap ? head - cap : 0;
	if (to < seq + 1)
		to = seq + 1;
	*lost = to - seq;
	m->next = to;
	return M_LOST;
}

#endif
