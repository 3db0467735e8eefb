/* SPDX-License-Identifier: MIT */
/*
 * A frontend's multi-page ring, made contiguous on the host.
 *
 * The frontend grants 2^order pages that need not be contiguous in its
 * RAM. Each is taken through the grant table (so only granted, writable
 * pages are ever touched, and the guest cannot revoke them while mapped),
 * then the same memfd frame is mapped again, MAP_FIXED, into one reserved
 * host range, page after page: the ring code sees one flat array.
 */
#ifndef PVKVM_BLKBACK_RING_H
#define PVKVM_BLKBACK_RING_H

#include <stddef.h>
#include <stdint.h>

#include "host/services/grant.h"
#include "hypercall/pvkvm_blkif.h"

struct guest_mem;

struct ring_pages {
	void *base;   /* contiguous host view, or NULL */
	size_t bytes;
	unsigned int nr;
	struct grant_map held[1u << PVKVM_BLKIF_MAX_RING_PAGE_ORDER];
};

/* Holds refs[0..nr) for writing and maps them in order. 0 or -PVKVM_E*;
 * on failure nothing stays held or mapped. */
int ring_pages_map(struct ring_pages *rp, struct grant_table *gt,
		   const struct guest_mem *mem, const uint32_t *refs,
		   unsigned int nr);
void ring_pages_unmap(struct ring_pages *rp);

#endif
