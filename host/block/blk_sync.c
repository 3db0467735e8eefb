// SPDX-License-Identifier: MIT
/*
 * The synchronous block hypercall: checked guest buffer, pread/pwrite on
 * the calling vCPU thread.
 */
#include "host/block/blk_sync.h"

#include <errno.h>
#include <string.h>

#include "host/block/blk_image.h"
#include "host/block/blk_validate.h"
#include "host/mem/guest_mem.h"
#include "hypercall/pvkvm_blkif.h"

static const char *const counter_names[BLK_SYNC_C_COUNT] = {
	[BLK_SYNC_C_CALLS] = "calls",
	[BLK_SYNC_C_SECTORS_READ] = "sectors_read",
	[BLK_SYNC_C_SECTORS_WRITTEN] = "sectors_written",
	[BLK_SYNC_C_FLUSHES] = "flushes",
	[BLK_SYNC_C_ERRORS] = "errors",
};

void blk_sync_init(struct blk_sync *s, const struct blk_image *img)
{
	s->img = img;
	for (unsigned int i = 0; i < BLK_SYNC_C_COUNT; i++) {
		s->counters[i].name = counter_names[i];
		atomic_init(&s->counters[i].value, 0);
	}
	s->group = (struct stats_group){ .name = "blk_sync",
					 .counters = s->counters,
					 .nr = BLK_SYNC_C_COUNT };
}

/* The guest buffer [gpa, gpa + len) as a host pointer, or NULL: the same
 * check as every hypercall buffer (guest_mem.h), with the access the guest
 * would need itself (a disk read writes its buffer). */
static void *guest_buffer(const struct guest_mem *m, uint64_t gpa,
			  uint64_t len, unsigned int acc)
{
	return gmem_guest_ptr(m, gpa, len, acc);
}

/* An I/O error from the file as the guest sees it. */
static int64_t io_result(int r)
{
	if (r == 0)
		return 0;
	return r == -EROFS ? -PVKVM_EROFS : -PVKVM_EIO;
}

static int64_t do_rw(struct blk_sync *s, const struct guest_mem *m, bool write,
		     uint64_t sector, uint64_t gpa, uint64_t nr)
{
	if (nr == 0 || nr > PVKVM_BLK_SYNC_MAX_SECTORS)
		return -PVKVM_EINVAL;
	if (write && s->img->read_only)
		return -PVKVM_EROFS;
	if (!blk_range_ok(sector, nr, s->img->sectors))
		return -PVKVM_ERANGE;
	void *buf = guest_buffer(m, gpa, nr << PVKVM_BLKIF_SECTOR_SHIFT,
				 write ? GMEM_READ : GMEM_WRITE);
	if (!buf)
		return -PVKVM_EFAULT;
	int r = write ? blk_image_pwrite(s->img, buf, sector, (uint32_t)nr)
		      : blk_image_pread(s->img, buf, sector, (uint32_t)nr);
	if (r == 0)
		stat_add(&s->counters[write ? BLK_SYNC_C_SECTORS_WRITTEN
					    : BLK_SYNC_C_SECTORS_READ].value, nr);
	return io_result(r);
}

static int64_t do_info(struct blk_sync *s, const struct guest_mem *m,
		       uint64_t gpa)
{
	struct pvkvm_blk_sync_info info = {
		.sectors = s->img->sectors,
		.sector_size = PVKVM_BLKIF_SECTOR_SIZE,
		.info = s->img->read_only ? PVKVM_BLKIF_INFO_READONLY : 0,
	};
	void *dst = guest_buffer(m, gpa, sizeof(info), GMEM_WRITE);
	if (!dst)
		return -PVKVM_EFAULT;
	memcpy(dst, &info, sizeof(info));
	return 0;
}

static int64_t dispatch(struct blk_sync *s, const struct guest_mem *m,
			const uint64_t a[HCALL_NARGS])
{
	if (a[4] != 0)
		return -PVKVM_ENOENT; /* one sync disk per VM: number 0 */
	switch (a[0]) {
	case PVKVM_BLK_SYNC_READ:
		return do_rw(s, m, false, a[1], a[2], a[3]);
	case PVKVM_BLK_SYNC_WRITE:
		return do_rw(s, m, true, a[1], a[2], a[3]);
	case PVKVM_BLK_SYNC_FLUSH:
		stat_inc(&s->counters[BLK_SYNC_C_FLUSHES].value);
		return io_result(blk_image_flush(s->img));
	case PVKVM_BLK_SYNC_INFO:
		return do_info(s, m, a[2]);
	default:
		return -PVKVM_EINVAL;
	}
}

int64_t blk_sync_call(struct blk_sync *s, const struct guest_mem *m,
		      const uint64_t args[HCALL_NARGS])
{
	stat_inc(&s->counters[BLK_SYNC_C_CALLS].value);
	int64_t r = dispatch(s, m, args);
	if (r < 0)
		stat_inc(&s->counters[BLK_SYNC_C_ERRORS].value);
	return r;
}
