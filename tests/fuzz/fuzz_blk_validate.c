// SPDX-License-Identifier: MIT
/*
 * Block request validation (host/block/blk_validate.c). The input is a
 * request slot, the device's limits and, for INDIRECT, the segment array;
 * whatever the checks accept must really be inside the rules, which are
 * re-derived here the slow way (in 128-bit arithmetic) and compared.
 *
 * No shared memory here: blk_validate works on the backend's private copy
 * by contract (blkback copies the slot and the indirect pages once); the
 * ring and blkback harnesses watch that copy for double fetches.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/block/blk_validate.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

/* The rules of docs/block.md, independently: [start, start + total) in the
 * disk and every segment inside its page. */
static int segments_really_ok(const struct pvkvm_blkif_segment *seg, unsigned int nr,
			      uint64_t start, uint64_t cap)
{
	unsigned __int128 total = 0;
	for (unsigned int i = 0; i < nr; i++) {
		if (seg[i].reserved || seg[i].first_sect > seg[i].last_sect ||
		    seg[i].last_sect > 7)
			return 0;
		total += seg[i].last_sect - seg[i].first_sect + 1u;
	}
	return (unsigned __int128)start + total <= cap;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pvkvm_blkif_request req;
	struct blk_limits lim;
	uint8_t limbytes[12];
	if (size < sizeof(req) + sizeof(limbytes))
		return 0;
	memcpy(&req, data, sizeof(req));
	memcpy(limbytes, data + sizeof(req), sizeof(limbytes));
	data += sizeof(req) + sizeof(limbytes);
	size -= sizeof(req) + sizeof(limbytes);

	uint64_t cap;
	memcpy(&cap, limbytes, 8);
	if (limbytes[8] & 0x80)
		cap &= 0xfffff; /* small disks too, so ranges can fit */
	lim = (struct blk_limits){
		.sectors = cap,
		.max_indirect_segments = (uint32_t)(limbytes[9] | (limbytes[10] & 7) << 8),
		.read_only = limbytes[11] & 1,
		.flush = limbytes[11] & 2,
		.discard = limbytes[11] & 4,
	};

	struct blk_shape shape;
	enum blk_check c = blk_check_request(&req, &lim, &shape);
	check(blk_check_name(c) != NULL);
	int16_t st = blk_check_status(c);
	check(c == BLK_OK ? st == 0 : st < 0);
	if (c != BLK_OK)
		return 0;
	check(req.reserved == 0);
	switch (req.operation) {
	case PVKVM_BLKIF_OP_FLUSH:
		check(lim.flush && req.nr_segments == 0);
		return 0;
	case PVKVM_BLKIF_OP_DISCARD:
		check(lim.discard && !lim.read_only);
		check((unsigned __int128)req.sector_number + req.u.discard.nr_sectors <= cap);
		return 0;
	case PVKVM_BLKIF_OP_READ:
	case PVKVM_BLKIF_OP_WRITE:
		check(shape.nr_segments >= 1 && shape.nr_segments <= PVKVM_BLKIF_MAX_SEGMENTS);
		check(shape.nr_indirect_pages == 0);
		break;
	case PVKVM_BLKIF_OP_INDIRECT:
		check(lim.max_indirect_segments > 0);
		check(shape.nr_segments >= 1 && shape.nr_segments <= lim.max_indirect_segments &&
		      shape.nr_segments <= PVKVM_BLKIF_MAX_INDIRECT_SEGMENTS);
		check(shape.nr_indirect_pages >= 1 &&
		      shape.nr_indirect_pages <= PVKVM_BLKIF_MAX_INDIRECT_PAGES);
		check((unsigned int)shape.nr_indirect_pages * PVKVM_BLKIF_SEGS_PER_INDIRECT_PAGE >=
		      shape.nr_segments);
		break;
	default:
		check(0);
	}
	check(!(shape.is_write && lim.read_only));

	/* The segments: inline, or the indirect array from the rest of the input. */
	const struct pvkvm_blkif_segment *seg = req.u.seg;
	struct pvkvm_blkif_segment *ind = NULL;
	if (req.operation == PVKVM_BLKIF_OP_INDIRECT) {
		ind = calloc(shape.nr_segments, sizeof(*ind));
		if (!ind)
			return 0;
		memcpy(ind, data, size < shape.nr_segments * sizeof(*ind)
					  ? size : shape.nr_segments * sizeof(*ind));
		seg = ind;
	}
	uint64_t total = 0;
	enum blk_check s = blk_check_segments(seg, shape.nr_segments, req.sector_number,
					      &lim, &total);
	int really = segments_really_ok(seg, shape.nr_segments, req.sector_number, cap);
	check((s == BLK_OK) == really);
	if (s == BLK_OK) {
		check(total >= shape.nr_segments && total <= 8u * shape.nr_segments);
		check((unsigned __int128)req.sector_number + total <= cap);
	}
	free(ind);
	return 0;
}
