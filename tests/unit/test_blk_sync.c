// SPDX-License-Identifier: MIT
/* The synchronous block hypercall body, on real guest memory and a real file. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/block/blk_image.h"
#include "host/block/blk_sync.h"
#include "host/mem/guest_mem.h"
#include "hypercall/pvkvm_blkif.h"

#define SECTORS 256u
#define BUF_GPA 0x200000u

static char path[64];
static struct blk_image img;
static struct guest_mem mem;
static struct blk_sync bs;

static void setup_rw(bool ro)
{
	strcpy(path, "/tmp/pvkvm-sync-XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	uint8_t buf[SECTORS * 512];
	for (unsigned int i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i / 512 + i);
	cr_assert_eq(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(fd);
	cr_assert_eq(blk_image_open(&img, path, ro, false), 0);
	cr_assert_eq(gmem_create(&mem, 4u << 20), 0);
	/* the CPL3 layout: the VMM's pages below 1 MiB (x86_cpl3.c) */
	cr_assert_eq(gmem_set_access(&mem, 0, PVKVM_GUEST_LOAD_MIN, GMEM_NONE), 0);
	blk_sync_init(&bs, &img);
}

static void setup(void)
{
	setup_rw(false);
}

static void teardown(void)
{
	gmem_destroy(&mem);
	blk_image_close(&img);
	unlink(path);
}

TestSuite(blk_sync, .init = setup, .fini = teardown);

static int64_t call(uint64_t op, uint64_t sector, uint64_t gpa, uint64_t n)
{
	const uint64_t a[HCALL_NARGS] = { op, sector, gpa, n, 0 };
	return blk_sync_call(&bs, &mem, a);
}

Test(blk_sync, read_write_flush_info)
{
	uint8_t *g = gmem_ptr(&mem, BUF_GPA, 4096);
	cr_assert_eq(call(PVKVM_BLK_SYNC_READ, 3, BUF_GPA, 2), 0);
	for (unsigned int i = 0; i < 1024; i++)
		cr_assert_eq(g[i], (uint8_t)((3 * 512 + i) / 512 + 3 * 512 + i));
	memset(g, 0xee, 1024);
	cr_assert_eq(call(PVKVM_BLK_SYNC_WRITE, 10, BUF_GPA + 1, 1), 0,
		     "no alignment rule for the buffer");
	cr_assert_eq(call(PVKVM_BLK_SYNC_FLUSH, 0, 0, 0), 0);
	uint8_t got[512];
	cr_assert_eq(pread(img.fd, got, 512, 10 * 512), 512);
	for (unsigned int i = 0; i < 512; i++)
		cr_assert_eq(got[i], 0xee);

	cr_assert_eq(call(PVKVM_BLK_SYNC_INFO, 0, BUF_GPA, 0), 0);
	struct pvkvm_blk_sync_info info;
	memcpy(&info, g, sizeof(info));
	cr_assert_eq(info.sectors, SECTORS);
	cr_assert_eq(info.sector_size, 512);
	cr_assert_eq(info.info, 0);
}

Test(blk_sync, bad_arguments)
{
	cr_assert_eq(call(PVKVM_BLK_SYNC_READ, SECTORS, BUF_GPA, 1), -PVKVM_ERANGE);
	cr_assert_eq(call(PVKVM_BLK_SYNC_READ, SECTORS - 1, BUF_GPA, 2), -PVKVM_ERANGE);
	cr_assert_eq(call(PVKVM_BLK_SYNC_READ, UINT64_MAX, BUF_GPA, 2), -PVKVM_ERANGE);
	cr_assert_eq(call(PVKVM_BLK_SYNC_READ, 0, BUF_GPA, 0), -PVKVM_EINVAL);
	cr_assert_eq(call(PVKVM_BLK_SYNC_READ, 0, BUF_GPA,
			  PVKVM_BLK_SYNC_MAX_SECTORS + 1), -PVKVM_EINVAL);
	cr_assert_eq(call(PVKVM_BLK_SYNC_READ, 0, mem.size - 511, 1), -PVKVM_EFAULT);
	cr_assert_eq(call(PVKVM_BLK_SYNC_READ, 0, UINT64_MAX - 100, 1), -PVKVM_EFAULT);
	cr_assert_eq(call(PVKVM_BLK_SYNC_READ, 0, 0x1000, 1), -PVKVM_EFAULT,
		     "the VMM's low pages are never a buffer");
	cr_assert_eq(call(PVKVM_BLK_SYNC_INFO, 0, mem.size - 8, 0), -PVKVM_EFAULT);
	cr_assert_eq(call(99, 0, BUF_GPA, 1), -PVKVM_EINVAL);
	const uint64_t a[HCALL_NARGS] = { PVKVM_BLK_SYNC_READ, 0, BUF_GPA, 1, 1 };
	cr_assert_eq(blk_sync_call(&bs, &mem, a), -PVKVM_ENOENT);
	cr_assert_eq(bs.counters[BLK_SYNC_C_ERRORS].value, 11);
}

Test(blk_sync, read_only_refuses_writes)
{
	teardown();
	setup_rw(true);
	uint8_t *g = gmem_ptr(&mem, BUF_GPA, 512);
	memset(g, 0x11, 512);
	cr_assert_eq(call(PVKVM_BLK_SYNC_WRITE, 0, BUF_GPA, 1), -PVKVM_EROFS);
	uint8_t got[512];
	cr_assert_eq(pread(img.fd, got, 512, 0), 512);
	cr_assert_neq(got[1], 0x11);
	cr_assert_eq(call(PVKVM_BLK_SYNC_READ, 0, BUF_GPA, 1), 0);
	cr_assert_eq(call(PVKVM_BLK_SYNC_FLUSH, 0, 0, 0), 0);
	cr_assert_eq(call(PVKVM_BLK_SYNC_INFO, 0, BUF_GPA, 0), 0);
	struct pvkvm_blk_sync_info info;
	memcpy(&info, g, sizeof(info));
	cr_assert_eq(info.info, PVKVM_BLKIF_INFO_READONLY);
}
