// SPDX-License-Identifier: MIT
/* Block request validation: every rule, and the arithmetic at its edges. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "host/block/blk_validate.h"

static const struct blk_limits lim = {
	.sectors = 1000,
	.max_indirect_segments = 256,
	.flush = true,
	.discard = true,
};

static struct pvkvm_blkif_request rw(uint8_t op, uint16_t nseg, uint64_t sector)
{
	struct pvkvm_blkif_request r = { .operation = op, .nr_segments = nseg,
					 .id = 7, .sector_number = sector };
	for (unsigned int i = 0; i < nseg && i < PVKVM_BLKIF_MAX_SEGMENTS; i++)
		r.u.seg[i] = (struct pvkvm_blkif_segment){ .gref = i + 1,
							   .first_sect = 0,
							   .last_sect = 7 };
	return r;
}

static enum blk_check full_check(const struct pvkvm_blkif_request *r,
				 const struct blk_limits *l, uint64_t *total)
{
	struct blk_shape shape;
	enum blk_check c = blk_check_request(r, l, &shape);
	if (c != BLK_OK)
		return c;
	return blk_check_segments(r->u.seg, shape.nr_segments, r->sector_number,
				  l, total);
}

Test(blk_validate, plain_read_and_write)
{
	uint64_t total = 0;
	struct pvkvm_blkif_request r = rw(PVKVM_BLKIF_OP_READ, 11, 0);
	cr_assert_eq(full_check(&r, &lim, &total), BLK_OK);
	cr_assert_eq(total, 88);
	r = rw(PVKVM_BLKIF_OP_WRITE, 1, 992);
	cr_assert_eq(full_check(&r, &lim, &total), BLK_OK);
	cr_assert_eq(total, 8);
}

Test(blk_validate, segment_counts)
{
	uint64_t total;
	struct pvkvm_blkif_request r = rw(PVKVM_BLKIF_OP_READ, 0, 0);
	cr_assert_eq(full_check(&r, &lim, &total), BLK_BAD_NR_SEGMENTS);
	r = rw(PVKVM_BLKIF_OP_READ, 12, 0);
	cr_assert_eq(full_check(&r, &lim, &total), BLK_BAD_NR_SEGMENTS);
	r.nr_segments = 0xffff;
	cr_assert_eq(full_check(&r, &lim, &total), BLK_BAD_NR_SEGMENTS);
}

Test(blk_validate, segment_inside_page)
{
	uint64_t total;
	struct pvkvm_blkif_request r = rw(PVKVM_BLKIF_OP_READ, 2, 0);
	r.u.seg[1].first_sect = 5;
	r.u.seg[1].last_sect = 4;
	cr_assert_eq(full_check(&r, &lim, &total), BLK_BAD_SEGMENT);
	r.u.seg[1].first_sect = 0;
	r.u.seg[1].last_sect = 8;
	cr_assert_eq(full_check(&r, &lim, &total), BLK_BAD_SEGMENT);
	r.u.seg[1].last_sect = 255;
	cr_assert_eq(full_check(&r, &lim, &total), BLK_BAD_SEGMENT);
	r.u.seg[1].last_sect = 7;
	r.u.seg[1].first_sect = 7;
	cr_assert_eq(full_check(&r, &lim, &total), BLK_OK);
	cr_assert_eq(total, 9);
	r.u.seg[0].reserved = 1;
	cr_assert_eq(full_check(&r, &lim, &total), BLK_BAD_RESERVED);
}

Test(blk_validate, range_edges_and_overflow)
{
	uint64_t total;
	struct pvkvm_blkif_request r = rw(PVKVM_BLKIF_OP_READ, 1, 993);
	cr_assert_eq(full_check(&r, &lim, &total), BLK_OUT_OF_RANGE);
	r.sector_number = 1000;
	cr_assert_eq(full_check(&r, &lim, &total), BLK_OUT_OF_RANGE);
	r.sector_number = UINT64_MAX - 3;
	cr_assert_eq(full_check(&r, &lim, &total), BLK_OUT_OF_RANGE);
	r.sector_number = UINT64_MAX;
	cr_assert_eq(full_check(&r, &lim, &total), BLK_OUT_OF_RANGE);

	cr_assert(blk_range_ok(0, 0, 0));
	cr_assert(blk_range_ok(1000, 0, 1000));
	cr_assert_not(blk_range_ok(1001, 0, 1000));
	cr_assert_not(blk_range_ok(1, UINT64_MAX, UINT64_MAX));
	cr_assert(blk_range_ok(0, UINT64_MAX, UINT64_MAX));
}

Test(blk_validate, read_only_refuses_writes_not_reads)
{
	struct blk_limits ro = lim;
	ro.read_only = true;
	uint64_t total;
	struct pvkvm_blkif_request r = rw(PVKVM_BLKIF_OP_WRITE, 1, 0);
	cr_assert_eq(full_check(&r, &ro, &total), BLK_READ_ONLY);
	r.operation = PVKVM_BLKIF_OP_READ;
	cr_assert_eq(full_check(&r, &ro, &total), BLK_OK);
	struct pvkvm_blkif_request d = { .operation = PVKVM_BLKIF_OP_DISCARD,
					 .u.discard.nr_sectors = 8 };
	struct blk_shape s;
	cr_assert_eq(blk_check_request(&d, &ro, &s), BLK_READ_ONLY);
	struct pvkvm_blkif_request ind = { .operation = PVKVM_BLKIF_OP_INDIRECT,
					   .indirect_op = PVKVM_BLKIF_OP_WRITE,
					   .nr_segments = 20 };
	cr_assert_eq(blk_check_request(&ind, &ro, &s), BLK_READ_ONLY);
	cr_assert_eq(blk_check_status(BLK_READ_ONLY), PVKVM_BLKIF_RSP_ERROR);
}

Test(blk_validate, unknown_and_unsupported_ops)
{
	struct blk_shape s;
	struct pvkvm_blkif_request r = { .operation = 2 };
	cr_assert_eq(blk_check_request(&r, &lim, &s), BLK_NOTSUPP_OP);
	cr_assert_eq(blk_check_status(BLK_NOTSUPP_OP), PVKVM_BLKIF_RSP_NOTSUPP);
	r.operation = 4;
	cr_assert_eq(blk_check_request(&r, &lim, &s), BLK_BAD_OP);
	r.operation = 0xff;
	cr_assert_eq(blk_check_request(&r, &lim, &s), BLK_BAD_OP);

	struct blk_limits bare = { .sectors = 10 };
	r = (struct pvkvm_blkif_request){ .operation = PVKVM_BLKIF_OP_FLUSH };
	cr_assert_eq(blk_check_request(&r, &bare, &s), BLK_NOTSUPP_OP);
	r.operation = PVKVM_BLKIF_OP_DISCARD;
	cr_assert_eq(blk_check_request(&r, &bare, &s), BLK_NOTSUPP_OP);
	r.operation = PVKVM_BLKIF_OP_INDIRECT;
	r.indirect_op = PVKVM_BLKIF_OP_READ;
	r.nr_segments = 1;
	cr_assert_eq(blk_check_request(&r, &bare, &s), BLK_NOTSUPP_OP);
}

Test(blk_validate, reserved_fields)
{
	struct blk_shape s;
	struct pvkvm_blkif_request r = rw(PVKVM_BLKIF_OP_READ, 1, 0);
	r.reserved = 1;
	cr_assert_eq(blk_check_request(&r, &lim, &s), BLK_BAD_RESERVED);
	r = rw(PVKVM_BLKIF_OP_READ, 1, 0);
	r.indirect_op = PVKVM_BLKIF_OP_WRITE;
	cr_assert_eq(blk_check_request(&r, &lim, &s), BLK_BAD_RESERVED);
	r = (struct pvkvm_blkif_request){ .operation = PVKVM_BLKIF_OP_FLUSH,
					  .nr_segments = 1 };
	cr_assert_eq(blk_check_request(&r, &lim, &s), BLK_BAD_RESERVED);
}

Test(blk_validate, flush_and_discard)
{
	struct blk_shape s;
	struct pvkvm_blkif_request r = { .operation = PVKVM_BLKIF_OP_FLUSH,
					 .sector_number = UINT64_MAX };
	cr_assert_eq(blk_check_request(&r, &lim, &s), BLK_OK,
		     "a flush ignores its sector");
	r = (struct pvkvm_blkif_request){ .operation = PVKVM_BLKIF_OP_DISCARD,
					  .sector_number = 500,
					  .u.discard.nr_sectors = 500 };
	cr_assert_eq(blk_check_request(&r, &lim, &s), BLK_OK);
	r.u.discard.nr_sectors = 501;
	cr_assert_eq(blk_check_request(&r, &lim, &s), BLK_OUT_OF_RANGE);
	r.sector_number = 2;
	r.u.discard.nr_sectors = UINT64_MAX;
	cr_assert_eq(blk_check_request(&r, &lim, &s), BLK_OUT_OF_RANGE);
}

Test(blk_validate, indirect_shape)
{
	struct blk_shape s;
	struct pvkvm_blkif_request r = { .operation = PVKVM_BLKIF_OP_INDIRECT,
					 .indirect_op = PVKVM_BLKIF_OP_WRITE,
					 .nr_segments = 256 };
	cr_assert_eq(blk_check_request(&r, &lim, &s), BLK_OK);
	cr_assert(s.is_write);
	cr_assert_eq(s.nr_segments, 256);
	cr_assert_eq(s.nr_indirect_pages, 1);
	r.nr_segments = 257;
	cr_assert_eq(blk_check_request(&r, &lim, &s), BLK_BAD_NR_SEGMENTS);
	r.nr_segments = 0;
	cr_assert_eq(blk_check_request(&r, &lim, &s), BLK_BAD_NR_SEGMENTS);
	r.nr_segments = 1;
	r.indirect_op = PVKVM_BLKIF_OP_FLUSH;
	cr_assert_eq(blk_check_request(&r, &lim, &s), BLK_BAD_OP);
	r.indirect_op = PVKVM_BLKIF_OP_INDIRECT;
	cr_assert_eq(blk_check_request(&r, &lim, &s), BLK_BAD_OP);

	struct blk_limits big = lim;
	big.max_indirect_segments = 100000; /* above the ABI's own ceiling */
	r.indirect_op = PVKVM_BLKIF_OP_READ;
	r.nr_segments = PVKVM_BLKIF_MAX_INDIRECT_SEGMENTS;
	cr_assert_eq(blk_check_request(&r, &big, &s), BLK_OK);
	cr_assert_eq(s.nr_indirect_pages, PVKVM_BLKIF_MAX_INDIRECT_PAGES);
	r.nr_segments = PVKVM_BLKIF_MAX_INDIRECT_SEGMENTS + 1;
	cr_assert_eq(blk_check_request(&r, &big, &s), BLK_BAD_NR_SEGMENTS);
	r.nr_segments = 513;
	cr_assert_eq(blk_check_request(&r, &big, &s), BLK_OK);
	cr_assert_eq(s.nr_indirect_pages, 2);
}

Test(blk_validate, many_segments_sum_without_overflow)
{
	static struct pvkvm_blkif_segment seg[PVKVM_BLKIF_MAX_INDIRECT_SEGMENTS];
	for (unsigned int i = 0; i < PVKVM_BLKIF_MAX_INDIRECT_SEGMENTS; i++)
		seg[i] = (struct pvkvm_blkif_segment){ .gref = 1, .last_sect = 7 };
	struct blk_limits l = lim;
	l.sectors = UINT64_MAX;
	uint64_t total;
	cr_assert_eq(blk_check_segments(seg, PVKVM_BLKIF_MAX_INDIRECT_SEGMENTS,
					UINT64_MAX - 32768, &l, &total), BLK_OK);
	cr_assert_eq(total, 32768);
	cr_assert_eq(blk_check_segments(seg, PVKVM_BLKIF_MAX_INDIRECT_SEGMENTS,
					UINT64_MAX - 32767, &l, &total),
		     BLK_OUT_OF_RANGE);
}

Test(blk_validate, names)
{
	cr_assert_str_eq(blk_check_name(BLK_OK), "ok");
	cr_assert_str_eq(blk_check_name((enum blk_check)999), "?");
}
