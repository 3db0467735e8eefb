/* SPDX-License-Identifier: MIT */
/*
 * blkfront_core: the OS-independent half of a PV block frontend
 * (hypercall/pvkvm_blkif.h, docs/block.md).
 *
 * It owns the request bookkeeping and nothing else: which ring slot ids are
 * in flight, which grants each one holds, building direct or INDIRECT
 * requests from a list of page segments, and taking responses back. It
 * never sleeps, never talks to the config store and never allocates after
 * init: the OS glue (pvkern's blk_pv.c, later a Linux blk-mq driver) does
 * the xenbus handshake, the waiting and the memory, and hands the core an
 * ops table for the four things that differ between kernels.
 *
 * Freestanding C: no libc, no OS headers beyond the ring/ABI headers.
 * Not thread-safe: one caller at a time (the glue's lock, or one vCPU).
 */
#ifndef PVKVM_BLKFRONT_CORE_H
#define PVKVM_BLKFRONT_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hypercall/pvkvm_blkif.h"

struct blkfront_ops {
	/* A grant reference (> 0) of frame for the backend, read-only or
	 * writable, or a negative PVKVM_E*. */
	int (*grant)(void *ctx, uint64_t frame, bool readonly);
	/* Revokes a grant: 0, or -PVKVM_EBUSY while the backend still holds
	 * it (the core retries at the next completion). */
	int (*ungrant)(void *ctx, uint32_t ref);
	/* Kicks the backend's event channel. */
	void (*notify)(void *ctx);
	/* Zeroed, page-aligned memory of n pages that stays ours for good, and
	 * its first frame (pages must be physically contiguous only for the
	 * caller's own use: the core grants page by page). NULL: no memory. */
	void *(*alloc_pages)(void *ctx, size_t n);
	uint64_t (*virt_to_frame)(void *ctx, const void *va);
	void *ctx;
};

/* One piece of a request's data: bytes [offset, offset + len) of a page,
 * both multiples of 512, inside the page. */
struct blkfront_seg {
	uint64_t frame;
	uint16_t offset;
	uint16_t len;
};

/* What the backend offered, read by the glue from the store. */
struct blkfront_limits {
	uint32_t ring_pages;      /* 1 << ring-page-order actually used */
	uint32_t max_indirect;    /* feature-max-indirect-segments; 0 = none */
	uint32_t max_inflight;    /* how many requests we keep at most */
};

/* A completed request: the cookie given at submit and 0, -PVKVM_EIO (the
 * backend's ERROR) or -PVKVM_ENOSYS (NOTSUPP). */
typedef void (*blkfront_done_fn)(void *arg, uint64_t cookie, int status);

struct blkfront_slot; /* private */

struct blkfront_core {
	struct blkfront_ops ops;
	struct blkif_sring *sring;
	struct blkif_front front;
	uint32_t ring_refs[1u << PVKVM_BLKIF_MAX_RING_PAGE_ORDER];
	uint32_t ring_pages;
	uint32_t max_segs;      /* per request: 11, or max_indirect */
	uint32_t nr_slots;
	uint32_t in_flight;
	struct blkfront_slot *slots;
	uint32_t *free_ids;     /* stack of free slot ids */
	uint32_t nr_free;
	uint32_t stuck_grants;  /* revocations that failed and were dropped */
	uint64_t notifies, pushes; /* kicks sent / pushes that published */
};

/* Allocates and grants the ring (limits->ring_pages pages) and the
 * bookkeeping. The glue then publishes c->ring_refs. 0 or -PVKVM_E*. */
int blkfront_core_init(struct blkfront_core *c, const struct blkfront_ops *ops,
		       const struct blkfront_limits *limits);

/* Largest number of segments one request may carry. */
static inline uint32_t blkfront_core_max_segs(const struct blkfront_core *c)
{
	return c->max_segs;
}

/* Requests that can be queued right now. */
uint32_t blkfront_core_free(const struct blkfront_core *c);

/*
 * Queues one request in the ring (not yet visible: see push).
 *   op: PVKVM_BLKIF_OP_READ / WRITE (with segs) or FLUSH (nr_segs 0).
 * 0, -PVKVM_EAGAIN (no free slot: poll first), -PVKVM_EINVAL (bad
 * segments or too many), -PVKVM_ENOSPC (out of grant references).
 */
int blkfront_core_queue(struct blkfront_core *c, uint8_t op, uint64_t sector,
			const struct blkfront_seg *segs, uint32_t nr_segs,
			uint64_t cookie);

/* Publishes queued requests; kicks the backend only if it asked.
 * True if it kicked. */
bool blkfront_core_push(struct blkfront_core *c);

/* Takes every response there is, calling done for each: the number taken,
 * or -PVKVM_EIO when the backend's producer index is impossible (the ring
 * is broken for good). */
int blkfront_core_poll(struct blkfront_core *c, blkfront_done_fn done,
		       void *arg);

/* Before sleeping: asks for a notification at the next response and looks
 * once more. True: responses are there, do not sleep. */
bool blkfront_core_prepare_sleep(struct blkfront_core *c);

#endif
