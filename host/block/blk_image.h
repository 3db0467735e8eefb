/* SPDX-License-Identifier: MIT */
/*
 * A raw disk image: a regular file (or a block device) seen as an array of
 * 512-byte sectors. Every disk mode (pv, fv, sync) reads and writes the same
 * image through this, so the benchmark compares devices, not files.
 *
 * Two descriptors: a buffered one that always works, and an O_DIRECT one
 * when the file system allows it, used only for I/O that meets its
 * alignment (dio_align). Mixing both is coherent: the kernel writes back and
 * invalidates the page cache around every direct I/O.
 */
#ifndef PVKVM_BLK_IMAGE_H
#define PVKVM_BLK_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct blk_image {
	int fd;             /* buffered, always valid while open */
	int direct_fd;      /* O_DIRECT, or -1 */
	uint32_t dio_align; /* offset/length/address alignment for direct_fd */
	uint64_t sectors;   /* capacity in 512-byte sectors (size rounded down) */
	bool read_only;
	bool discard_ok;    /* hole punching works on this file */
};

/* 0 or -errno. want_direct asks for O_DIRECT; silently off when refused. */
int blk_image_open(struct blk_image *img, const char *path, bool read_only,
		   bool want_direct);
void blk_image_close(struct blk_image *img);

/* True when [off, off+len) and every iov meets the direct alignment. */
bool blk_image_direct_fits(const struct blk_image *img, uint64_t off,
			   const struct iovec *iov, unsigned int iovcnt);

/* Synchronous sector I/O (fv and sync modes). 0 or -errno; a short transfer
 * is -EIO. The caller has checked the range. */
int blk_image_pread(const struct blk_image *img, void *buf, uint64_t sector,
		    uint32_t nr_sectors);
int blk_image_pwrite(const struct blk_image *img, const void *buf,
		     uint64_t sector, uint32_t nr_sectors);
int blk_image_flush(const struct blk_image *img);
/* Deallocates the range (it reads back as zeros). 0 or -errno. */
int blk_image_discard(const struct blk_image *img, uint64_t sector,
		      uint64_t nr_sectors);

#endif
