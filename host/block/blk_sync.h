/* SPDX-License-Identifier: MIT */
/*
 * mode=sync: the disk as one synchronous hypercall per I/O (as Solo5's hvt
 * does), between full emulation and PV rings. The vCPU that calls waits
 * while its own thread does the pread/pwrite/fdatasync: one exit per
 * request, no rings, no I/O thread. See PVKVM_HC_BLK_SYNC in
 * hypercall/pvkvm_blkif.h for the guest's view.
 */
#ifndef PVKVM_BLK_SYNC_H
#define PVKVM_BLK_SYNC_H

#include <stdint.h>

#include "host/core/hcall.h"
#include "host/core/stats.h"

struct blk_image;
struct guest_mem;

enum blk_sync_counter {
	BLK_SYNC_C_CALLS,
	BLK_SYNC_C_SECTORS_READ,
	BLK_SYNC_C_SECTORS_WRITTEN,
	BLK_SYNC_C_FLUSHES,
	BLK_SYNC_C_ERRORS,
	BLK_SYNC_C_COUNT
};

struct blk_sync {
	const struct blk_image *img;      /* the caller's; outlives this */
	struct stat_counter counters[BLK_SYNC_C_COUNT];
	struct stats_group group;
};

/* Buffers are checked as every hypercall buffer (gmem_guest_ptr): a page
 * the guest may not itself write (the VMM's page tables and descriptor
 * tables, start-info, its write-protected text) is never a disk read's
 * target, one it may not read never a disk write's source. */
void blk_sync_init(struct blk_sync *s, const struct blk_image *img);

/* The hypercall body on explicit guest memory (testable without a vCPU):
 * args as PVKVM_HC_BLK_SYNC. 0 or -PVKVM_E*. */
int64_t blk_sync_call(struct blk_sync *s, const struct guest_mem *m,
		      const uint64_t args[HCALL_NARGS]);

#endif
