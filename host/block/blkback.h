/* SPDX-License-Identifier: MIT */
/*
 * The PV block backend (xenbus type "blk"): serves a frontend's blkif ring
 * (hypercall/pvkvm_blkif.h, docs/block.md) from a raw image with libaio, on
 * its own I/O thread.
 *
 * Per connection the I/O thread sleeps in poll() on three eventfds: the
 * event channel (the guest's send, through KVM's ioeventfd), libaio
 * completions, and stop. Before it sleeps it busy-polls the ring and the
 * completion queue for poll_us (every find restarts the clock), with the
 * frontend's kicks left off meanwhile: a refill that arrives in that
 * window is taken without a kick and without a thread wake-up. It copies each request out of the ring once,
 * validates the copy, holds the segments' grants, and submits one vectored
 * read or write per request (into the granted pages themselves, O_DIRECT
 * when aligned). Completions answer in any order; answers are pushed in
 * batches and the guest is notified only when the ring's rule says so.
 */
#ifndef PVKVM_BLKBACK_H
#define PVKVM_BLKBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "ring/pvkvm_ring.h"

struct blk_image;
struct device;

struct blkback_config {
	unsigned int id;                    /* backend/blk/<id>, device "blk<id>" */
	unsigned int max_ring_page_order;   /* advertised; <= 4 */
	unsigned int max_indirect_segments; /* advertised; 0 = no INDIRECT */
	bool flush;                         /* feature-flush-cache */
	bool discard;                       /* feature-discard */
	enum pvkvm_ring_notify notify;      /* SUPPRESS normally; ALWAYS to measure */
	unsigned int poll_us;               /* busy-poll this long before sleeping; 0: never */
	uint64_t iops;                      /* requests per second; 0 = no limit */
	uint64_t bw_bytes;                  /* bytes per second read + written; 0 = no limit */
	unsigned int batch;                 /* requests taken per io_submit; 0 or 1: each alone */
	bool copy;                          /* grant-copy each segment through a private
					     * bounce buffer instead of doing the I/O on
					     * the mapped guest page (Xen's grant copy
					     * against grant map) */
};

/* The default poll_us. A QD32 disk of this kind goes quiet for 50 us
 * often enough that a 50 us window slept 0.036 times per request and lost
 * ~10% to the wake-ups; at 1 ms the backend sleeps 0.001-0.002 times per
 * request. docs/benchmarks.md, "Block at the ceiling", has the runs. */
#define BLKBACK_DEFAULT_POLL_US 1000u
#define BLKBACK_MAX_POLL_US 1000000u /* tests; --disk caps it lower */

/* The defaults: order 4 (512 slots), 256 indirect segments (1 MiB),
 * flush and discard on, suppression on, BLKBACK_DEFAULT_POLL_US. */
void blkback_config_default(struct blkback_config *cfg, unsigned int id);

/* A new, unstarted device serving img (malloc'd; the device owns it from
 * now on). stop() disconnects; the counters stay readable until
 * blkback_destroy(), which the owner calls once the VM is gone. NULL on
 * allocation failure. */
struct device *blkback_create(struct blk_image *img,
			      const struct blkback_config *cfg);
void blkback_destroy(struct device *dev);

/* What a guest's send on the ring's event channel does: wakes the I/O
 * thread. For tests that play the frontend on a host thread. 0, or
 * -PVKVM_EINVAL when not connected. */
int blkback_kick(struct device *dev);

/* Whether the device stopped itself (a broken ring). */
bool blkback_is_broken(struct device *dev);

#endif
