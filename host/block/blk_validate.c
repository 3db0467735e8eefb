// SPDX-License-Identifier: MIT
/*
 * Block request validation. Arithmetic is done in u64 on values that are
 * each bounded first, so no sum here can wrap.
 */
#include "host/block/blk_validate.h"

bool blk_range_ok(uint64_t start, uint64_t nr, uint64_t capacity)
{
	return start <= capacity && nr <= capacity - start;
}

static enum blk_check check_segment(const struct pvkvm_blkif_segment *s)
{
	if (s->reserved != 0)
		return BLK_BAD_RESERVED;
	if (s->first_sect > s->last_sect ||
	    s->last_sect >= PVKVM_BLKIF_SECTORS_PER_PAGE)
		return BLK_BAD_SEGMENT;
	return BLK_OK;
}

enum blk_check blk_check_segments(const struct pvkvm_blkif_segment *seg,
				  unsigned int nr, uint64_t start,
				  const struct blk_limits *lim,
				  uint64_t *total_sectors)
{
	/* nr <= 65535 and each segment adds <= 8: total stays far from
	 * overflow, so it can be summed before the range check. */
	uint64_t total = 0;
	for (unsigned int i = 0; i < nr; i++) {
		enum blk_check c = check_segment(&seg[i]);
		if (c != BLK_OK)
			return c;
		total += (uint64_t)(seg[i].last_sect - seg[i].first_sect) + 1;
	}
	if (!blk_range_ok(start, total, lim->sectors))
		return BLK_OUT_OF_RANGE;
	*total_sectors = total;
	return BLK_OK;
}

static bool is_rw(uint8_t op)
{
	return op == PVKVM_BLKIF_OP_READ || op == PVKVM_BLKIF_OP_WRITE;
}

static enum blk_check check_inline_rw(const struct pvkvm_blkif_request *req,
				      const struct blk_limits *lim,
				      struct blk_shape *shape)
{
	if (req->indirect_op != 0)
		return BLK_BAD_RESERVED;
	if (req->nr_segments == 0 || req->nr_segments > PVKVM_BLKIF_MAX_SEGMENTS)
		return BLK_BAD_NR_SEGMENTS;
	shape->is_write = req->operation == PVKVM_BLKIF_OP_WRITE;
	if (shape->is_write && lim->read_only)
		return BLK_READ_ONLY;
	shape->nr_segments = req->nr_segments;
	return BLK_OK;
}

static unsigned int indirect_pages_for(unsigned int nr_segments)
{
	return (nr_segments + PVKVM_BLKIF_SEGS_PER_INDIRECT_PAGE - 1) /
	       PVKVM_BLKIF_SEGS_PER_INDIRECT_PAGE;
}

static enum blk_check check_indirect(const struct pvkvm_blkif_request *req,
				     const struct blk_limits *lim,
				     struct blk_shape *shape)
{
	if (lim->max_indirect_segments == 0)
		return BLK_NOTSUPP_OP;
	if (!is_rw(req->indirect_op))
		return BLK_BAD_OP;
	if (req->nr_segments == 0 || req->nr_segments > lim->max_indirect_segments ||
	    req->nr_segments > PVKVM_BLKIF_MAX_INDIRECT_SEGMENTS)
		return BLK_BAD_NR_SEGMENTS;
	shape->is_write = req->indirect_op == PVKVM_BLKIF_OP_WRITE;
	if (shape->is_write && lim->read_only)
		return BLK_READ_ONLY;
	shape->nr_segments = req->nr_segments;
	shape->nr_indirect_pages = (uint8_t)indirect_pages_for(req->nr_segments);
	return BLK_OK;
}

static enum blk_check check_discard(const struct pvkvm_blkif_request *req,
				    const struct blk_limits *lim)
{
	if (!lim->discard)
		return BLK_NOTSUPP_OP;
	if (req->nr_segments != 0 || req->indirect_op != 0)
		return BLK_BAD_RESERVED;
	if (lim->read_only)
		return BLK_READ_ONLY;
	if (!blk_range_ok(req->sector_number, req->u.discard.nr_sectors,
			  lim->sectors))
		return BLK_OUT_OF_RANGE;
	return BLK_OK;
}

static enum blk_check check_flush(const struct pvkvm_blkif_request *req,
				  const struct blk_limits *lim)
{
	if (!lim->flush)
		return BLK_NOTSUPP_OP;
	if (req->nr_segments != 0 || req->indirect_op != 0)
		return BLK_BAD_RESERVED;
	return BLK_OK;
}

enum blk_check blk_check_request(const struct pvkvm_blkif_request *req,
				 const struct blk_limits *lim,
				 struct blk_shape *shape)
{
	*shape = (struct blk_shape){ 0 };
	if (req->reserved != 0)
		return BLK_BAD_RESERVED;
	switch (req->operation) {
	case PVKVM_BLKIF_OP_READ:
	case PVKVM_BLKIF_OP_WRITE:
		return check_inline_rw(req, lim, shape);
	case PVKVM_BLKIF_OP_INDIRECT:
		return check_indirect(req, lim, shape);
	case PVKVM_BLKIF_OP_FLUSH:
		return check_flush(req, lim);
	case PVKVM_BLKIF_OP_DISCARD:
		return check_discard(req, lim);
	case 2: /* Xen's WRITE_BARRIER: known, never offered */
		return BLK_NOTSUPP_OP;
	default:
		return BLK_BAD_OP;
	}
}

int16_t blk_check_status(enum blk_check c)
{
	switch (c) {
	case BLK_OK:
		return PVKVM_BLKIF_RSP_OKAY;
	case BLK_NOTSUPP_OP:
		return PVKVM_BLKIF_RSP_NOTSUPP;
	default:
		return PVKVM_BLKIF_RSP_ERROR;
	}
}

const char *blk_check_name(enum blk_check c)
{
	static const char *const names[] = {
		[BLK_OK] = "ok",
		[BLK_BAD_OP] = "unknown operation",
		[BLK_NOTSUPP_OP] = "operation not supported",
		[BLK_READ_ONLY] = "write to a read-only disk",
		[BLK_BAD_NR_SEGMENTS] = "bad segment count",
		[BLK_BAD_SEGMENT] = "segment outside its page",
		[BLK_OUT_OF_RANGE] = "sector range outside the disk",
		[BLK_BAD_RESERVED] = "reserved field not zero",
	};
	if ((unsigned int)c < sizeof(names) / sizeof(names[0]) && names[c])
		return names[c];
	return "?";
}
