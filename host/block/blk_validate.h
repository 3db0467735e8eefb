/* SPDX-License-Identifier: MIT */
/*
 * Checks of a block request the backend has already copied out of the
 * ring: pure functions of the copy and the device's limits, so they can be
 * tested without KVM, and so nothing here ever reads shared memory again.
 *
 * Every check that can fail says which rule failed (enum blk_check), so the
 * backend can count and log the reason while the guest only sees ERROR or
 * NOTSUPP.
 */
#ifndef PVKVM_BLK_VALIDATE_H
#define PVKVM_BLK_VALIDATE_H

#include <stdbool.h>
#include <stdint.h>

#include "hypercall/pvkvm_blkif.h"

struct blk_limits {
	uint64_t sectors;               /* image capacity */
	uint32_t max_indirect_segments; /* advertised; 0 = no INDIRECT */
	bool read_only;
	bool flush;                     /* feature-flush-cache */
	bool discard;                   /* feature-discard */
};

enum blk_check {
	BLK_OK = 0,
	BLK_BAD_OP,          /* unknown operation or indirect_op */
	BLK_NOTSUPP_OP,      /* known, but not offered (barrier, flush, discard) */
	BLK_READ_ONLY,       /* a write or discard to a read-only disk */
	BLK_BAD_NR_SEGMENTS, /* 0, or above the limit for the form */
	BLK_BAD_SEGMENT,     /* first > last, last beyond the page, reserved */
	BLK_OUT_OF_RANGE,    /* sector range outside the image or overflowing */
	BLK_BAD_RESERVED,    /* a reserved field is not zero */
};

/* What a valid READ/WRITE (inline or indirect) amounts to. */
struct blk_shape {
	bool is_write;
	uint16_t nr_segments;
	uint8_t nr_indirect_pages; /* INDIRECT: pages to fetch, else 0 */
};

/*
 * The request header: operation, reserved fields, segment counts, and for
 * FLUSH/DISCARD the whole request. For an inline READ/WRITE the segments
 * still need blk_check_segments(); for an INDIRECT one, the segment array
 * must first be copied from its pages, then checked the same way.
 */
enum blk_check blk_check_request(const struct pvkvm_blkif_request *req,
				 const struct blk_limits *lim,
				 struct blk_shape *shape);

/* Each segment in its page, and [start, start + total) inside the image.
 * *total_sectors gets the sum of the segments' sectors. */
enum blk_check blk_check_segments(const struct pvkvm_blkif_segment *seg,
				  unsigned int nr, uint64_t start,
				  const struct blk_limits *lim,
				  uint64_t *total_sectors);

/* [start, start + nr) inside a disk of `capacity` sectors, no overflow. */
bool blk_range_ok(uint64_t start, uint64_t nr, uint64_t capacity);

/* The wire status for a check result. */
int16_t blk_check_status(enum blk_check c);
const char *blk_check_name(enum blk_check c);

#endif
