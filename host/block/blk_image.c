// SPDX-License-Identifier: MIT
/*
 * Raw images: open, size, direct-I/O probing, synchronous sector I/O,
 * flush and hole punching.
 */
#include "host/block/blk_image.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hypercall/pvkvm_blkif.h"

static int image_size_bytes(int fd, uint64_t *bytes)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		*bytes = (uint64_t)st.st_size;
		return 0;
	}
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, bytes) < 0 ? -errno : 0;
	return -EINVAL;
}

/* Whether one aligned read of `align` bytes at offset 0 goes through. The
 * file system's direct-I/O granularity is not reliably queryable on this
 * kernel, so ask it by doing. */
static bool direct_read_works(int fd, uint32_t align)
{
	void *buf = aligned_alloc(PVKVM_PAGE_SIZE, PVKVM_PAGE_SIZE);
	if (!buf)
		return false;
	ssize_t n = pread(fd, buf, align, 0);
	free(buf);
	return n == (ssize_t)align;
}

static void probe_direct(struct blk_image *img, const char *path)
{
	uint64_t bytes = img->sectors << PVKVM_BLKIF_SECTOR_SHIFT;
	int fd = open(path, (img->read_only ? O_RDONLY : O_RDWR) | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		return; /* tmpfs and friends: buffered only */
	static const uint32_t aligns[] = { PVKVM_BLKIF_SECTOR_SIZE, PVKVM_PAGE_SIZE };
	for (unsigned int i = 0; i < 2; i++) {
		if (bytes >= aligns[i] && direct_read_works(fd, aligns[i])) {
			img->direct_fd = fd;
			img->dio_align = aligns[i];
			return;
		}
	}
	close(fd);
}

int blk_image_open(struct blk_image *img, const char *path, bool read_only,
		   bool want_direct)
{
	memset(img, 0, sizeof(*img));
	img->fd = -1;
	img->direct_fd = -1;
	img->read_only = read_only;
	int fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	uint64_t bytes;
	int r = image_size_bytes(fd, &bytes);
	if (r < 0) {
		close(fd);
		return r;
	}
	img->fd = fd;
	/* A trailing partial sector cannot be addressed: leave it out. */
	img->sectors = bytes >> PVKVM_BLKIF_SECTOR_SHIFT;
	img->discard_ok = !read_only;
	if (want_direct)
		probe_direct(img, path);
	return 0;
}

void blk_image_close(struct blk_image *img)
{
	if (img->direct_fd >= 0)
		close(img->direct_fd);
	if (img->fd >= 0)
		close(img->fd);
	img->fd = img->direct_fd = -1;
}

static bool aligned(uint64_t v, uint32_t align)
{
	return (v & (align - 1)) == 0;
}

bool blk_image_direct_fits(const struct blk_image *img, uint64_t off,
			   const struct iovec *iov, unsigned int iovcnt)
{
	if (img->direct_fd < 0 || !aligned(off, img->dio_align))
		return false;
	for (unsigned int i = 0; i < iovcnt; i++) {
		if (!aligned((uintptr_t)iov[i].iov_base, img->dio_align) ||
		    !aligned(iov[i].iov_len, img->dio_align))
			return false;
	}
	return true;
}

static uint64_t sector_offset(uint64_t sector)
{
	return sector << PVKVM_BLKIF_SECTOR_SHIFT;
}

/*
 * Synchronous I/O goes direct whenever the buffer allows, like the PV
 * backend's: otherwise fv and sync would be measured against the page cache
 * while pv and host-direct reach the disk, and the benchmark would compare
 * caches, not devices.
 */
static int sync_fd(const struct blk_image *img, const void *buf, uint64_t off,
		   size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	return blk_image_direct_fits(img, off, &iov, 1) ? img->direct_fd : img->fd;
}

/* The whole transfer, across short reads/writes and signals; a transfer
 * that makes no progress (end of file) is -EIO. */
static int transfer_all(const struct blk_image *img, void *buf, uint64_t sector,
			uint32_t nr_sectors, bool write)
{
	size_t left = (size_t)nr_sectors << PVKVM_BLKIF_SECTOR_SHIFT;
	uint64_t off = sector_offset(sector);
	uint8_t *p = buf;
	int fd = sync_fd(img, buf, off, left);
	while (left > 0) {
		ssize_t n = write ? pwrite(fd, p, left, (off_t)off)
				  : pread(fd, p, left, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		off += (uint64_t)n;
		left -= (size_t)n;
	}
	return 0;
}

int blk_image_pread(const struct blk_image *img, void *buf, uint64_t sector,
		    uint32_t nr_sectors)
{
	return transfer_all(img, buf, sector, nr_sectors, false);
}

int blk_image_pwrite(const struct blk_image *img, const void *buf,
		     uint64_t sector, uint32_t nr_sectors)
{
	if (img->read_only)
		return -EROFS;
	/* pwrite only reads the buffer: shedding const here is safe. */
	return transfer_all(img, (void *)buf, sector, nr_sectors, true);
}

int blk_image_flush(const struct blk_image *img)
{
	if (img->read_only)
		return 0; /* nothing of ours can be dirty */
	return fdatasync(img->fd) < 0 ? -errno : 0;
}

int blk_image_discard(const struct blk_image *img, uint64_t sector,
		      uint64_t nr_sectors)
{
	if (img->read_only)
		return -EROFS;
	if (!img->discard_ok)
		return -EOPNOTSUPP;
	if (nr_sectors == 0)
		return 0;
	int r = fallocate(img->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  (off_t)sector_offset(sector),
			  (off_t)sector_offset(nr_sectors));
	return r < 0 ? -errno : 0;
}
