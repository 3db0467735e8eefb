// SPDX-License-Identifier: MIT
/*
 * The sync-hypercall disk driver: one PVKVM_HC_BLK_SYNC per request, which
 * returns when the VMM has done the I/O. No ring, no grants (the VMM reads
 * and writes the buffer in place), one exit per request.
 */
#include "blk.h"

#include "hypercall.h"
#include "hypercall/pvkvm_blkif.h"
#include "klib.h"
#include "mm.h"

static int sync_open(struct blk_dev *d, unsigned int index)
{
	/* The VMM writes the answer here; static keeps it out of the
	 * supervisor-only low pages, where it would be refused. */
	static struct pvkvm_blk_sync_info info;
	int64_t r;

	r = hc5(PVKVM_HC_BLK_SYNC, PVKVM_BLK_SYNC_INFO, 0, &info, 0, index);
	if (r < 0)
		return r == -PVKVM_ENOSYS ? -PVKVM_ENOENT : (int)r;
	d->info.sectors = info.sectors;
	d->info.sector_size = info.sector_size;
	d->info.read_only = info.info & PVKVM_BLKIF_INFO_READONLY;
	d->info.flush = true;
	d->info.max_sectors = PVKVM_BLK_SYNC_MAX_SECTORS;
	d->info.max_in_flight = 1;
	d->priv = (void *)(uintptr_t)index;
	return 0;
}

static const uint64_t sync_op[] = {
	[BLK_OP_READ] = PVKVM_BLK_SYNC_READ,
	[BLK_OP_WRITE] = PVKVM_BLK_SYNC_WRITE,
	[BLK_OP_FLUSH] = PVKVM_BLK_SYNC_FLUSH,
};

static int sync_submit(struct blk_dev *d, struct blk_req *r)
{
	uint64_t disk = (uint64_t)(uintptr_t)d->priv;
	int64_t st;

	if ((unsigned)r->op >= ARRAY_SIZE(sync_op))
		return -PVKVM_EINVAL;
	st = hc5(PVKVM_HC_BLK_SYNC, sync_op[r->op], r->sector, r->buf,
		 r->nr_sectors, disk);
	blk_complete(d, r, (int)st);
	return 0;
}

const struct blk_driver blk_sync_driver = {
	.name = "sync",
	.open = sync_open,
	.submit = sync_submit,
};
