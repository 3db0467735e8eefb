// SPDX-License-Identifier: MIT
/*
 * Multi-page rings through grants: hold each page, then alias the memfd
 * frames side by side in one host range.
 */
#include "host/block/blkback_ring.h"

#include <string.h>
#include <sys/mman.h>

#include "host/mem/guest_mem.h"

static void release_held(struct ring_pages *rp)
{
	for (unsigned int i = 0; i < rp->nr; i++)
		grant_unmap(&rp->held[i]);
	rp->nr = 0;
}

/* The memfd offset of a held page: grant_map already checked it lies in
 * guest RAM, so the subtraction cannot leave it. */
static off_t memfd_offset(const struct guest_mem *mem, const struct grant_map *m)
{
	return (off_t)(m->page - mem->host_base);
}

static int alias_pages(struct ring_pages *rp, const struct guest_mem *mem)
{
	void *base = mmap(NULL, rp->bytes, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -PVKVM_ENOMEM;
	for (unsigned int i = 0; i < rp->nr; i++) {
		uint8_t *want = (uint8_t *)base + (size_t)i * PVKVM_PAGE_SIZE;
		void *got = mmap(want, PVKVM_PAGE_SIZE, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED, mem->memfd,
				 memfd_offset(mem, &rp->held[i]));
		if (got != want) {
			munmap(base, rp->bytes);
			return -PVKVM_ENOMEM;
		}
	}
	rp->base = base;
	return 0;
}

int ring_pages_map(struct ring_pages *rp, struct grant_table *gt,
		   const struct guest_mem *mem, const uint32_t *refs,
		   unsigned int nr)
{
	memset(rp, 0, sizeof(*rp));
	if (nr == 0 || nr > (1u << PVKVM_BLKIF_MAX_RING_PAGE_ORDER) ||
	    mem->memfd < 0)
		return -PVKVM_EINVAL;
	for (unsigned int i = 0; i < nr; i++) {
		int rc = grant_map(gt, refs[i], GRANT_WRITE, &rp->held[i]);
		if (rc) {
			release_held(rp);
			return rc;
		}
		rp->nr = i + 1;
	}
	rp->bytes = (size_t)nr * PVKVM_PAGE_SIZE;
	int rc = alias_pages(rp, mem);
	if (rc)
		release_held(rp);
	return rc;
}

void ring_pages_unmap(struct ring_pages *rp)
{
	if (rp->base)
		munmap(rp->base, rp->bytes);
	rp->base = NULL;
	release_held(rp);
}
