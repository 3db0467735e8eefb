/* SPDX-License-Identifier: MIT */
/*
 * pvkvm_blkif.h - the PV block device protocol ("blk"), in the spirit of
 * Xen's io/blkif.h. docs/block.md is the prose specification; the layouts
 * here are pinned by _Static_assert so a change that moves a field fails to
 * compile in the VMM, the guest kernel and the Linux module alike.
 *
 * Shape of the protocol
 *  - One shared ring per queue (1 << ring-page-order pages, granted by the
 *    frontend) of struct pvkvm_blkif_request / struct pvkvm_blkif_response.
 *  - Data never travels through the ring: a READ or WRITE names granted
 *    guest pages (segments), each with the first and last 512-byte sector
 *    used inside the page. Segments are consecutive on the disk.
 *  - A large request (up to feature-max-indirect-segments segments) uses
 *    the INDIRECT form: the ring slot names granted pages that hold the
 *    segment array.
 *  - Responses may come back in any order; id matches them to requests.
 *
 * Op numbers and status values equal Xen's, so a reader who knows blkif
 * finds no surprise.
 */
#ifndef PVKVM_BLKIF_H
#define PVKVM_BLKIF_H

#include "hypercall/pvkvm_abi.h"
#include "ring/pvkvm_ring.h"

/* Sectors are always 512 bytes on the wire, whatever the image's block size. */
#define PVKVM_BLKIF_SECTOR_SHIFT 9u
#define PVKVM_BLKIF_SECTOR_SIZE (1u << PVKVM_BLKIF_SECTOR_SHIFT)
#define PVKVM_BLKIF_SECTORS_PER_PAGE (PVKVM_PAGE_SIZE / PVKVM_BLKIF_SECTOR_SIZE)

enum pvkvm_blkif_op {
	PVKVM_BLKIF_OP_READ = 0,
	PVKVM_BLKIF_OP_WRITE = 1,
	/* 2 is Xen's WRITE_BARRIER: not supported, answered NOTSUPP. */
	/* Makes every write completed before this request was taken durable
	 * (fdatasync). nr_segments = 0. */
	PVKVM_BLKIF_OP_FLUSH = 3,
	/* Tells the backend the range's contents are no longer needed; it reads
	 * back as zeros afterwards (hole punch). nr_segments = 0. */
	PVKVM_BLKIF_OP_DISCARD = 5,
	/* READ or WRITE (indirect_op) with segments in granted pages. */
	PVKVM_BLKIF_OP_INDIRECT = 6,
};

/* Segments carried in the request slot itself (as Xen's 11). */
#define PVKVM_BLKIF_MAX_SEGMENTS 11u
/* Pages of segment arrays an INDIRECT request may name. */
#define PVKVM_BLKIF_MAX_INDIRECT_PAGES 8u

/* A granted page and the sectors [first_sect, last_sect] used inside it. */
struct pvkvm_blkif_segment {
	uint32_t gref;
	uint8_t first_sect; /* 0 .. 7 */
	uint8_t last_sect;  /* first_sect .. 7 */
	uint16_t reserved;  /* 0 */
};
PVKVM_STATIC_ASSERT(sizeof(struct pvkvm_blkif_segment) == 8, "blkif segment size");

#define PVKVM_BLKIF_SEGS_PER_INDIRECT_PAGE \
	(PVKVM_PAGE_SIZE / sizeof(struct pvkvm_blkif_segment))
/* The ABI's ceiling; a backend advertises its own, smaller or equal. */
#define PVKVM_BLKIF_MAX_INDIRECT_SEGMENTS \
	(PVKVM_BLKIF_MAX_INDIRECT_PAGES * PVKVM_BLKIF_SEGS_PER_INDIRECT_PAGE)

/*
 * One request slot (112 bytes, as Xen's on x86-64).
 *   READ/WRITE: nr_segments 1..PVKVM_BLKIF_MAX_SEGMENTS, u.seg[]
 *   FLUSH:      nr_segments 0
 *   DISCARD:    nr_segments 0, sector_number + u.discard.nr_sectors
 *   INDIRECT:   indirect_op READ or WRITE, nr_segments 1..advertised max,
 *               u.indirect_grefs[0 .. ceil(nr_segments / 512) - 1] name
 *               read-only-granted pages holding the segment array, 512
 *               segments per page, in order
 * Reserved fields must be 0.
 */
struct pvkvm_blkif_request {
	uint8_t operation;      /* enum pvkvm_blkif_op */
	uint8_t indirect_op;    /* INDIRECT only: READ or WRITE; else 0 */
	uint16_t nr_segments;
	uint32_t reserved;
	uint64_t id;            /* opaque to the backend, echoed back */
	uint64_t sector_number; /* first 512-byte sector on the disk */
	union {
		struct pvkvm_blkif_segment seg[PVKVM_BLKIF_MAX_SEGMENTS];
		struct {
			uint64_t nr_sectors;
		} discard;
		uint32_t indirect_grefs[PVKVM_BLKIF_MAX_INDIRECT_PAGES];
	} u;
};
PVKVM_STATIC_ASSERT(sizeof(struct pvkvm_blkif_request) == 112, "blkif request size");
PVKVM_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_blkif_request, id) == 8,
		    "blkif request id offset");
PVKVM_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_blkif_request, u) == 24,
		    "blkif request segment offset");

enum pvkvm_blkif_status {
	PVKVM_BLKIF_RSP_OKAY = 0,
	PVKVM_BLKIF_RSP_ERROR = -1,   /* invalid request, I/O error, read-only */
	PVKVM_BLKIF_RSP_NOTSUPP = -2, /* operation not offered by this backend */
};

struct pvkvm_blkif_response {
	uint64_t id;       /* the request's id */
	uint8_t operation; /* the request's operation */
	uint8_t reserved;
	int16_t status;    /* enum pvkvm_blkif_status */
	uint32_t reserved2;
};
PVKVM_STATIC_ASSERT(sizeof(struct pvkvm_blkif_response) == 16, "blkif response size");

/*
 * The ring: struct blkif_sring, struct blkif_front / blkif_back and the
 * blkif_* functions of ring/pvkvm_ring.h. A ring of 2^order pages holds
 * blkif_ring_slots(pages * 4096) slots: 32 for one page, 512 for 16.
 */
PVKVM_RING_DEFINE(blkif, struct pvkvm_blkif_request, struct pvkvm_blkif_response)

/* Bits of the backend's "info" key (Xen's VDISK_* values). */
#define PVKVM_BLKIF_INFO_READONLY (1u << 2)

/* The largest ring a backend may offer: 1 << 4 = 16 pages. */
#define PVKVM_BLKIF_MAX_RING_PAGE_ORDER 4u

/* ------------------------------------------------------------------------
 * mode=sync: one synchronous hypercall per I/O (PVKVM_HC_BLK_SYNC).
 *   (op, sector, gpa buf, nr_sectors, disk = 0) -> 0 or -PVKVM_E*
 *   READ / WRITE: nr_sectors 1..PVKVM_BLK_SYNC_MAX_SECTORS, buf in pages
 *                 the guest may itself write (READ) or read (WRITE), no
 *                 alignment rule
 *   FLUSH:        sector, buf, nr_sectors ignored
 *   INFO:         writes struct pvkvm_blk_sync_info at buf
 * ------------------------------------------------------------------------ */
enum pvkvm_blk_sync_op {
	PVKVM_BLK_SYNC_READ = 0,
	PVKVM_BLK_SYNC_WRITE = 1,
	PVKVM_BLK_SYNC_FLUSH = 3,
	PVKVM_BLK_SYNC_INFO = 7,
};
#define PVKVM_BLK_SYNC_MAX_SECTORS 2048u /* 1 MiB per call */

struct pvkvm_blk_sync_info {
	uint64_t sectors;     /* capacity in 512-byte sectors */
	uint32_t sector_size; /* 512 */
	uint32_t info;        /* PVKVM_BLKIF_INFO_* */
};
PVKVM_STATIC_ASSERT(sizeof(struct pvkvm_blk_sync_info) == 16, "blk sync info size");

#endif /* PVKVM_BLKIF_H */
