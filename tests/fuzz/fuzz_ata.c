// SPDX-License-Identifier: MIT
/*
 * The ATA register model (host/block/dev_ata.c): the input is a sequence of
 * port accesses as the vCPU's PIO exits would deliver them (port, direction,
 * width, string count, the data written). The model must never touch the
 * data buffer beyond width * count (it is malloc'd to exactly that, for
 * ASan), never grow the image, and never change a read-only image.
 *
 * Input: byte 0 bit 0 = read-only disk; then records of
 *   [port index (0..7 = 0x1f0.., 8 = 0x3f6)] [bit 0 write, bits 1-2 width]
 *   [count - 1 (0..63)] [data: width * count bytes, writes only]
 * The kvm_run data area is the VMM's, not the guest's: no double-fetch
 * watch here.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/block/blk_image.h"
#include "host/block/dev_ata.h"

#define SECTORS 64u
#define BYTES (SECTORS * 512u)

static struct blk_image rw_img, ro_img;
static uint8_t pattern[BYTES];
static char rw_path[64], ro_path[64];

static void check(int cond)
{
	if (!cond)
		abort();
}

static void make_image(char *path, const char *tag, struct blk_image *img, bool ro)
{
	snprintf(path, 64, "/dev/shm/pvkvm-fuzz-ata-%s-%d", tag, (int)getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	check(fd >= 0);
	check(write(fd, pattern, BYTES) == BYTES);
	close(fd);
	check(blk_image_open(img, path, ro, false) == 0);
	unlink(path); /* the descriptors keep it */
}

static void init(void)
{
	for (unsigned int i = 0; i < BYTES; i++)
		pattern[i] = (uint8_t)(i * 7 + i / 512);
	make_image(rw_path, "rw", &rw_img, false);
	make_image(ro_path, "ro", &ro_img, true);
}

static const uint16_t ports[9] = { 0x1f0, 0x1f1, 0x1f2, 0x1f3, 0x1f4,
				   0x1f5, 0x1f6, 0x1f7, 0x3f6 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!rw_img.sectors)
		init();
	if (size < 1)
		return 0;
	bool ro = data[0] & 1;
	struct blk_image *img = ro ? &ro_img : &rw_img;
	struct ata_disk *d = ata_disk_new(img, "FUZZ");
	check(d != NULL);
	size_t i = 1;
	while (i + 3 <= size) {
		uint16_t port = ports[data[i] % 9];
		bool is_write = data[i + 1] & 1;
		uint32_t width = 1u << ((data[i + 1] >> 1) % 3);
		uint32_t count = (data[i + 2] & 63u) + 1u;
		i += 3;
		size_t n = (size_t)width * count;
		uint8_t *buf = malloc(n);
		check(buf != NULL);
		if (is_write) {
			size_t have = size - i < n ? size - i : n;
			memcpy(buf, data + i, have);
			memset(buf + have, 0, n - have);
			i += have;
		}
		ata_disk_pio(d, port, is_write, buf, width, count);
		free(buf);
	}
	ata_disk_free(d);

	struct stat st;
	check(fstat(img->fd, &st) == 0 && st.st_size == BYTES);
	if (ro) {
		static uint8_t now[BYTES];
		check(pread(img->fd, now, BYTES, 0) == BYTES);
		check(memcmp(now, pattern, BYTES) == 0);
	}
	return 0;
}
