// SPDX-License-Identifier: MIT
/* The libaio engine and raw images, on real files under /tmp. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/block/blk_aio.h"
#include "host/block/blk_image.h"
#include "hypercall/pvkvm_blkif.h"

#define IMG_BYTES (8u << 20)
#define NOPS 64u
#define OP_BYTES 4096u

static char img_path[64];

static void make_image(void)
{
	strcpy(img_path, "/tmp/pvkvm-aio-XXXXXX");
	int fd = mkstemp(img_path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, IMG_BYTES), 0);
	close(fd);
}

static void drop_image(void)
{
	unlink(img_path);
}

TestSuite(blk_aio, .init = make_image, .fini = drop_image);
TestSuite(blk_image, .init = make_image, .fini = drop_image);

struct rec {
	struct blk_aio_op op;
	struct iovec iov;
	int64_t res;
	int completions;
	unsigned int order;
};

static unsigned int done_counter;

static void record_done(struct blk_aio_op *op, int64_t res)
{
	struct rec *r = op->cookie;
	r->res = res;
	r->completions++;
	r->order = done_counter++;
}

static void *page_buf(unsigned int bytes, uint8_t fill)
{
	/* aligned_alloc wants a size that is a multiple of the alignment. */
	void *p = aligned_alloc(4096, (bytes + 4095) & ~4095u);
	cr_assert_not_null(p);
	memset(p, fill, bytes);
	return p;
}

static void run_to_end(struct blk_aio *a)
{
	while (blk_aio_in_flight(a) > 0 || blk_aio_queued(a) > 0) {
		blk_aio_submit(a);
		struct pollfd pfd = { .fd = blk_aio_eventfd(a), .events = POLLIN };
		cr_assert_geq(poll(&pfd, 1, 10000), 1, "the eventfd signals completion");
		blk_aio_reap(a);
	}
}

/* Writes NOPS distinct pages with the given fd, all in flight at once. */
static void write_pattern(struct blk_aio *a, int fd, struct rec *recs, void **bufs)
{
	for (unsigned int i = 0; i < NOPS; i++) {
		bufs[i] = page_buf(OP_BYTES, (uint8_t)(i + 1));
		recs[i] = (struct rec){ .iov = { bufs[i], OP_BYTES } };
		recs[i].op.done = record_done;
		recs[i].op.cookie = &recs[i];
		/* Reverse, scattered offsets: nothing is sequential. */
		uint64_t off = (uint64_t)((NOPS - 1 - i) * 3 % NOPS) * OP_BYTES;
		blk_aio_prep_writev(&recs[i].op, fd, &recs[i].iov, 1, off);
		cr_assert_eq(blk_aio_queue(a, &recs[i].op), 0);
	}
	cr_assert_eq(blk_aio_submit(a), (int)NOPS, "one batch, one io_submit");
	run_to_end(a);
}

static void check_pattern(int fd, struct rec *recs)
{
	uint8_t *got = page_buf(OP_BYTES, 0);
	for (unsigned int i = 0; i < NOPS; i++) {
		cr_assert_eq(recs[i].completions, 1, "op %u completed once", i);
		cr_assert_eq(recs[i].res, OP_BYTES);
		uint64_t off = (uint64_t)((NOPS - 1 - i) * 3 % NOPS) * OP_BYTES;
		cr_assert_eq(pread(fd, got, OP_BYTES, (off_t)off), OP_BYTES);
		for (unsigned int b = 0; b < OP_BYTES; b++)
			cr_assert_eq(got[b], (uint8_t)(i + 1), "op %u byte %u", i, b);
	}
	free(got);
}

static void many_in_flight(bool direct)
{
	struct blk_image img;
	cr_assert_eq(blk_image_open(&img, img_path, false, direct), 0);
	if (direct)
		cr_assert_geq(img.direct_fd, 0, "ext4 under /tmp takes O_DIRECT");
	cr_assert_eq(img.sectors, IMG_BYTES / 512);
	struct blk_aio *a = blk_aio_new(NOPS);
	cr_assert_not_null(a);
	static struct rec recs[NOPS];
	void *bufs[NOPS];
	done_counter = 0;
	write_pattern(a, direct ? img.direct_fd : img.fd, recs, bufs);
	check_pattern(img.fd, recs);
	for (unsigned int i = 0; i < NOPS; i++)
		free(bufs[i]);
	blk_aio_free(a);
	blk_image_close(&img);
}

Test(blk_aio, many_buffered_writes_in_flight)
{
	many_in_flight(false);
}

Test(blk_aio, many_direct_writes_in_flight)
{
	many_in_flight(true);
}

Test(blk_aio, vectored_read_and_mixed_sizes_complete_independently)
{
	struct blk_image img;
	cr_assert_eq(blk_image_open(&img, img_path, false, true), 0);
	uint8_t *src = page_buf(1 << 20, 0);
	for (unsigned int i = 0; i < (1u << 20); i++)
		src[i] = (uint8_t)(i * 7 + 3);
	cr_assert_eq(pwrite(img.fd, src, 1 << 20, 0), 1 << 20);

	struct blk_aio *a = blk_aio_new(8);
	/* One 1 MiB read as 256 scattered pages, then three small ones: the
	 * engine must match every completion to its own op. */
	static struct iovec big_iov[256];
	uint8_t *big = page_buf(1 << 20, 0);
	for (unsigned int i = 0; i < 256; i++)
		big_iov[i] = (struct iovec){ big + (255 - i) * 4096, 4096 };
	struct rec recs[4] = { 0 };
	uint8_t *small[3];
	for (unsigned int i = 0; i < 4; i++) {
		recs[i].op.done = record_done;
		recs[i].op.cookie = &recs[i];
	}
	blk_aio_prep_readv(&recs[0].op, img.direct_fd, big_iov, 256, 0);
	cr_assert_eq(blk_aio_queue(a, &recs[0].op), 0);
	for (unsigned int i = 0; i < 3; i++) {
		small[i] = page_buf(512, 0);
		recs[i + 1].iov = (struct iovec){ small[i], 512 };
		blk_aio_prep_readv(&recs[i + 1].op, img.fd, &recs[i + 1].iov, 1,
				   (uint64_t)(i + 1) * 512 + 4096);
		cr_assert_eq(blk_aio_queue(a, &recs[i + 1].op), 0);
	}
	run_to_end(a);
	cr_assert_eq(recs[0].res, 1 << 20);
	for (unsigned int i = 0; i < 256; i++)
		cr_assert_eq(memcmp(big_iov[i].iov_base, src + i * 4096, 4096), 0);
	for (unsigned int i = 0; i < 3; i++) {
		cr_assert_eq(recs[i + 1].completions, 1);
		cr_assert_eq(recs[i + 1].res, 512);
		cr_assert_eq(memcmp(small[i], src + (i + 1) * 512 + 4096, 512), 0);
		free(small[i]);
	}
	free(big);
	free(src);
	blk_aio_free(a);
	blk_image_close(&img);
}

Test(blk_aio, depth_is_enforced)
{
	struct blk_aio *a = blk_aio_new(2);
	struct rec recs[3] = { 0 };
	uint8_t *buf = page_buf(4096, 0);
	int fd = open(img_path, O_RDONLY);
	for (unsigned int i = 0; i < 3; i++) {
		recs[i].iov = (struct iovec){ buf, 512 };
		recs[i].op.done = record_done;
		recs[i].op.cookie = &recs[i];
		blk_aio_prep_readv(&recs[i].op, fd, &recs[i].iov, 1, 0);
	}
	cr_assert_eq(blk_aio_queue(a, &recs[0].op), 0);
	cr_assert_eq(blk_aio_queue(a, &recs[1].op), 0);
	cr_assert_eq(blk_aio_queue(a, &recs[2].op), -EAGAIN);
	run_to_end(a);
	cr_assert_eq(blk_aio_queue(a, &recs[2].op), 0, "room again after reaping");
	run_to_end(a);
	for (unsigned int i = 0; i < 3; i++)
		cr_assert_eq(recs[i].completions, 1);
	close(fd);
	free(buf);
	blk_aio_free(a);
}

Test(blk_aio, refused_op_completes_with_its_error)
{
	struct blk_aio *a = blk_aio_new(4);
	uint8_t *buf = page_buf(4096, 0);
	int fd = open(img_path, O_RDONLY);
	struct rec good = { .iov = { buf, 512 } }, bad = { .iov = { buf, 512 } };
	good.op.done = bad.op.done = record_done;
	good.op.cookie = &good;
	bad.op.cookie = &bad;
	blk_aio_prep_readv(&bad.op, 9999, &bad.iov, 1, 0); /* no such fd */
	blk_aio_prep_readv(&good.op, fd, &good.iov, 1, 0);
	cr_assert_eq(blk_aio_queue(a, &bad.op), 0);
	cr_assert_eq(blk_aio_queue(a, &good.op), 0);
	cr_assert_eq(blk_aio_submit(a), 1);
	cr_assert_eq(bad.completions, 1);
	cr_assert_eq(bad.res, -EBADF);
	run_to_end(a);
	cr_assert_eq(good.completions, 1);
	cr_assert_eq(good.res, 512);
	close(fd);
	free(buf);
	blk_aio_free(a);
}

Test(blk_aio, fdsync_completes)
{
	struct blk_image img;
	cr_assert_eq(blk_image_open(&img, img_path, false, false), 0);
	struct blk_aio *a = blk_aio_new(4);
	struct rec w = { 0 }, s = { 0 };
	uint8_t *buf = page_buf(4096, 0x5a);
	w.iov = (struct iovec){ buf, 4096 };
	w.op.done = s.op.done = record_done;
	w.op.cookie = &w;
	s.op.cookie = &s;
	blk_aio_prep_writev(&w.op, img.fd, &w.iov, 1, 8192);
	blk_aio_queue(a, &w.op);
	run_to_end(a);
	blk_aio_prep_fdsync(&s.op, img.fd);
	blk_aio_queue(a, &s.op);
	run_to_end(a);
	cr_assert_eq(s.completions, 1);
	cr_assert_eq(s.res, 0);
	cr_assert_eq(blk_image_flush(&img), 0);
	free(buf);
	blk_aio_free(a);
	blk_image_close(&img);
}

Test(blk_aio, free_waits_for_in_flight_ops)
{
	struct blk_aio *a = blk_aio_new(16);
	int fd = open(img_path, O_RDONLY);
	uint8_t *buf = page_buf(16 * 4096, 0);
	struct rec recs[16] = { 0 };
	for (unsigned int i = 0; i < 16; i++) {
		recs[i].iov = (struct iovec){ buf + i * 4096, 4096 };
		recs[i].op.done = record_done;
		recs[i].op.cookie = &recs[i];
		blk_aio_prep_readv(&recs[i].op, fd, &recs[i].iov, 1, i * 4096);
		blk_aio_queue(a, &recs[i].op);
	}
	blk_aio_submit(a);
	blk_aio_free(a);
	for (unsigned int i = 0; i < 16; i++)
		cr_assert_eq(recs[i].completions, 1);
	close(fd);
	free(buf);
}

Test(blk_image, punch_hole_reads_back_zeros)
{
	struct blk_image img;
	cr_assert_eq(blk_image_open(&img, img_path, false, true), 0);
	uint8_t *buf = page_buf(65536, 0xab);
	cr_assert_eq(blk_image_pwrite(&img, buf, 0, 128), 0);
	cr_assert_eq(blk_image_discard(&img, 8, 16), 0);
	memset(buf, 0x11, 65536);
	cr_assert_eq(blk_image_pread(&img, buf, 0, 128), 0);
	for (unsigned int i = 0; i < 65536; i++) {
		uint8_t want = (i >= 8 * 512 && i < 24 * 512) ? 0 : 0xab;
		cr_assert_eq(buf[i], want, "byte %u", i);
	}
	struct stat st;
	cr_assert_eq(stat(img_path, &st), 0);
	cr_assert_eq(st.st_size, IMG_BYTES, "KEEP_SIZE");
	free(buf);
	blk_image_close(&img);
}

Test(blk_image, read_only_and_sizes)
{
	cr_assert_eq(truncate(img_path, 4096 + 100), 0);
	struct blk_image img;
	cr_assert_eq(blk_image_open(&img, img_path, true, true), 0);
	cr_assert_eq(img.sectors, 8, "a partial trailing sector is left out");
	uint8_t buf[512] = { 0 };
	cr_assert_eq(blk_image_pwrite(&img, buf, 0, 1), -EROFS);
	cr_assert_eq(blk_image_discard(&img, 0, 1), -EROFS);
	cr_assert_eq(blk_image_pread(&img, buf, 7, 1), 0);
	cr_assert_eq(blk_image_pread(&img, buf, 9, 1), -EIO, "past EOF is short");
	blk_image_close(&img);
	cr_assert_eq(blk_image_open(&img, "/nonexistent/x", false, false), -ENOENT);
}

Test(blk_image, direct_alignment_rules)
{
	struct blk_image img;
	cr_assert_eq(blk_image_open(&img, img_path, false, true), 0);
	cr_assert_geq(img.direct_fd, 0);
	uint8_t *buf = page_buf(8192, 0);
	struct iovec ok = { buf, 4096 }, odd_addr = { buf + 1, 4096 },
		     odd_len = { buf, 100 };
	cr_assert(blk_image_direct_fits(&img, 4096, &ok, 1));
	cr_assert_not(blk_image_direct_fits(&img, 4096, &odd_addr, 1));
	cr_assert_not(blk_image_direct_fits(&img, 4096, &odd_len, 1));
	cr_assert_not(blk_image_direct_fits(&img, 4097, &ok, 1));
	free(buf);
	blk_image_close(&img);
	cr_assert_eq(blk_image_open(&img, img_path, false, false), 0);
	cr_assert_eq(img.direct_fd, -1);
	cr_assert_not(blk_image_direct_fits(&img, 0, &ok, 1));
	blk_image_close(&img);
}
