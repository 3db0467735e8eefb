// SPDX-License-Identifier: MIT
/*
 * blkbench: a small fio-like load for `pvkvm bench linux`, built static
 * (libaio) so it runs in the benchmark guest's busybox initramfs: O_DIRECT
 * I/O on a block device, QD requests kept in flight with io_submit, for a
 * fixed time, then one line of results.
 *
 *   blkbench DEVICE randread|randwrite|read BLOCK_BYTES QD SECONDS [SPAN_MIB]
 *
 * Prints "BENCH <device> <mode> <bs> <qd> <ios> <seconds> <iops> <MB/s>".
 * Offsets: random (a fixed-seed generator, the same for every device) or
 * sequential, within the first SPAN_MIB (default 256) of the device.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <libaio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <time.h>
#include <unistd.h>

#define MAX_QD 256

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr, "usage: blkbench DEVICE randread|randwrite|read BS QD SECONDS [SPAN_MIB]\n");
		return 2;
	}
	const char *dev = argv[1], *mode = argv[2];
	long bs = atol(argv[3]), qd = atol(argv[4]);
	double secs = atof(argv[5]);
	uint64_t span = (uint64_t)(argc > 6 ? atol(argv[6]) : 256) << 20;
	int wr = strcmp(mode, "randwrite") == 0, rnd = strncmp(mode, "rand", 4) == 0;
	if (bs < 512 || bs % 512 || qd < 1 || qd > MAX_QD || secs <= 0)
		return 2;
	int fd = open(dev, (wr ? O_RDWR : O_RDONLY) | O_DIRECT);
	uint64_t size = 0;
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) < 0) {
		perror(dev);
		return 1;
	}
	if (span > size)
		span = size;
	uint64_t blocks = span / (uint64_t)bs, next = 0, seed = 12345;
	io_context_t ctx = 0;
	if (blocks == 0 || io_setup((int)qd, &ctx) < 0)
		return 1;
	struct iocb cbs[MAX_QD], *ptrs[MAX_QD];
	struct io_event ev[MAX_QD];
	void *bufs[MAX_QD];
	for (long i = 0; i < qd; i++) {
		if (posix_memalign(&bufs[i], 4096, (size_t)bs))
			return 1;
		memset(bufs[i], 0x5a, (size_t)bs);
	}
	uint64_t ios = 0;
	double start = now(), end = start + secs;
	for (long i = 0; i < qd; i++) {
		uint64_t blk;
		if (rnd) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			blk = (seed >> 33) % blocks;
		} else {
			blk = next++ % blocks;
		}
		if (wr)
			io_prep_pwrite(&cbs[i], fd, bufs[i], (size_t)bs, (long long)(blk * (uint64_t)bs));
		else
			io_prep_pread(&cbs[i], fd, bufs[i], (size_t)bs, (long long)(blk * (uint64_t)bs));
		ptrs[i] = &cbs[i];
	}
	if (io_submit(ctx, qd, ptrs) != qd) {
		perror("io_submit");
		return 1;
	}
	long inflight = qd;
	while (inflight > 0) {
		int n = io_getevents(ctx, 1, inflight, ev, NULL);
		if (n < 0)
			return 1;
		inflight -= n;
		int resubmit = 0;
		for (int k = 0; k < n; k++) {
			if ((long)ev[k].res != bs) {
				fprintf(stderr, "%s: I/O failed (%ld)\n", dev, (long)ev[k].res);
				return 1;
			}
			ios++;
			if (now() >= end)
				continue;
			struct iocb *cb = ev[k].obj;
			uint64_t blk;
			if (rnd) {
				seed = seed * 6364136223846793005ull + 1442695040888963407ull;
				blk = (seed >> 33) % blocks;
			} else {
				blk = next++ % blocks;
			}
			cb->u.c.offset = (long long)(blk * (uint64_t)bs);
			ptrs[resubmit++] = cb;
		}
		if (resubmit) {
			if (io_submit(ctx, resubmit, ptrs) != resubmit) {
				perror("io_submit");
				return 1;
			}
			inflight += resubmit;
		}
	}
	double el = now() - start;
	printf("BENCH %s %s %ld %ld %llu %.2f %.0f %.1f\n", dev, mode, bs, qd,
	       (unsigned long long)ios, el, (double)ios / el,
	       (double)ios * (double)bs / el / 1e6);
	io_destroy(ctx);
	return 0;
}
