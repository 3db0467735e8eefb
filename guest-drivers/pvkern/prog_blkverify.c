// SPDX-License-Identifier: MIT
/*
 * blkverify: data checks of a disk through the block interface (blk.h).
 *
 *   blkverify [ACTION [SEED]] [mode=auto|pv|fv|fv-dma|sync] [disk=N]
 *             [mib=N | kib=N]
 *
 * ACTION
 *   all (default)  write the pattern (blk_pattern.h) with SEED over the
 *                  first N MiB (or KiB) with requests of many sizes in flight at
 *                  once, flush, read back and check; out-of-range and
 *                  straddling requests must fail; the disk still works.
 *   write SEED     write the pattern and flush (the host checks the file)
 *   check SEED     read and check a pattern the host wrote
 *   ro             a write must be refused (and reads still work)
 *   range          requests beyond the end must fail
 * Prints TAP-like lines and "blkverify: N passed, N failed"; exit 0 only
 * if every check passed.
 */
#include "blk.h"
#include "blk_pattern.h"
#include "console.h"
#include "kernel.h"
#include "klib.h"
#include "mm.h"
#include "tap.h"
#include "time.h"

#define MAX_BATCH 256
#define IO_TIMEOUT_NS (30 * NS_PER_SEC)

static struct tap T;

struct verify_args {
	const char *action;
	uint64_t seed;
	enum blk_mode mode;
	unsigned int disk;
	uint64_t kib; /* the region: mib=N or kib=N (fv tests write less: a
		       * PIO write costs ~1050 exits per 4 KiB) */
};

/* ---- batches of requests ------------------------------------------------------ */

/* Runs reqs[0..n) keeping as many in flight as the device takes: how many
 * failed (a request that never completes counts as failed). */
static int run_batch(struct blk_dev *d, struct blk_req *reqs, uint32_t n)
{
	uint64_t deadline = now_ns() + IO_TIMEOUT_NS;
	uint32_t next = 0;
	int failed = 0;

	while (next < n || d->in_flight) {
		while (next < n) {
			int r = blk_submit(d, &reqs[next]);

			if (r == -PVKVM_EAGAIN)
				break;
			if (r < 0) {
				reqs[next].status = r;
				reqs[next].done = true;
			}
			next++;
		}
		blk_kick(d);
		if (d->in_flight && blk_wait(d, deadline) < 0)
			break;
	}
	for (uint32_t i = 0; i < n; i++)
		if (!reqs[i].done || reqs[i].status)
			failed++;
	return failed;
}

/* Cuts [first, first + count) into requests whose sizes cycle through
 * small, page-sized, multi-page and (for pv) indirect sizes. */
static uint32_t plan(struct blk_dev *d, enum blk_op op, uint8_t *buf,
		     uint64_t first, uint64_t count, struct blk_req *reqs)
{
	static const uint32_t sizes[] = { 1, 8, 7, 64, 256, 2048, 24, 512 };
	uint32_t n = 0;
	uint64_t done = 0;

	while (done < count && n < MAX_BATCH) {
		uint64_t len = sizes[n % ARRAY_SIZE(sizes)];

		if (len > d->info.max_sectors)
			len = d->info.max_sectors;
		if (len > count - done)
			len = count - done;
		reqs[n++] = (struct blk_req){
			.op = op, .sector = first + done,
			.nr_sectors = (uint32_t)len,
			.buf = buf + done * BLK_SECTOR_SIZE,
		};
		done += len;
	}
	return done == count ? n : 0;
}

static void fill_pattern(uint8_t *buf, uint64_t first, uint64_t count,
			 uint64_t seed)
{
	for (uint64_t s = 0; s < count; s++)
		blk_pattern_fill(buf + s * BLK_SECTOR_SIZE, first + s, seed);
}

/* The first sector that does not hold the pattern, or -1. */
static int64_t first_bad_sector(const uint8_t *buf, uint64_t first,
				uint64_t count, uint64_t seed)
{
	for (uint64_t s = 0; s < count; s++)
		if (blk_pattern_check(buf + s * BLK_SECTOR_SIZE, first + s, seed) >= 0)
			return (int64_t)(first + s);
	return -1;
}

/* ---- checks ---------------------------------------------------------------------- */

static uint8_t *region_buffer(uint64_t sectors)
{
	return page_alloc(ALIGN_UP(sectors * BLK_SECTOR_SIZE, PAGE_SIZE) / PAGE_SIZE);
}

static struct blk_req reqs[MAX_BATCH];

static bool write_pattern(struct blk_dev *d, uint8_t *buf, uint64_t count,
			  uint64_t seed)
{
	uint32_t n;
	int failed;

	fill_pattern(buf, 0, count, seed);
	n = plan(d, BLK_OP_WRITE, buf, 0, count, reqs);
	failed = n ? run_batch(d, reqs, n) : -1;
	return tap_check(&T, failed == 0, "write the pattern",
			 "%d of %u requests failed (first status %d)", failed, n,
			 n ? reqs[0].status : 0);
}

static bool check_pattern(struct blk_dev *d, uint8_t *buf, uint64_t count,
			  uint64_t seed)
{
	uint32_t n;
	int failed;
	int64_t bad;

	memset(buf, 0xa5, count * BLK_SECTOR_SIZE);
	n = plan(d, BLK_OP_READ, buf, 0, count, reqs);
	failed = n ? run_batch(d, reqs, n) : -1;
	if (!tap_check(&T, failed == 0, "read the region back",
		       "%d of %u requests failed", failed, n))
		return false;
	bad = first_bad_sector(buf, 0, count, seed);
	return tap_check(&T, bad < 0, "every sector holds the pattern",
			 "sector %lld differs", (long long)bad);
}

static void check_flush(struct blk_dev *d)
{
	int r = blk_rw(d, BLK_OP_FLUSH, 0, 0, NULL);

	tap_check(&T, r == 0, "flush succeeds", "status %d", r);
}

/* A request wholly or partly beyond the end must fail. */
static void check_range(struct blk_dev *d, uint8_t *buf)
{
	uint64_t end = d->info.sectors;
	int r;

	r = blk_rw(d, BLK_OP_READ, end, 1, buf);
	tap_check(&T, r < 0, "read at the first sector past the end fails",
		  "status %d", r);
	r = blk_rw(d, BLK_OP_READ, end - 1, 2, buf);
	tap_check(&T, r < 0, "read straddling the end fails", "status %d", r);
	r = blk_rw(d, BLK_OP_READ, end + 1000000, 8, buf);
	tap_check(&T, r < 0, "read far past the end fails", "status %d", r);
	if (!d->info.read_only) {
		r = blk_rw(d, BLK_OP_WRITE, end, 1, buf);
		tap_check(&T, r < 0, "write past the end fails", "status %d", r);
	}
	r = blk_rw(d, BLK_OP_READ, end - 1, 1, buf);
	tap_check(&T, r == 0, "the last sector still reads after the errors",
		  "status %d", r);
}

static void check_read_only(struct blk_dev *d, uint8_t *buf)
{
	int r;

	/* The ATA disk has no way to say it is read-only; pv and sync do. */
	if (d->info.mode != BLK_MODE_FV && d->info.mode != BLK_MODE_FV_DMA)
		tap_check(&T, d->info.read_only, "the disk says it is read-only",
			  "info.read_only is false");
	fill_pattern(buf, 0, 8, 0xdead);
	r = blk_rw(d, BLK_OP_WRITE, 0, 8, buf);
	tap_check(&T, r < 0, "a write to the read-only disk is refused",
		  "status %d", r);
	r = blk_rw(d, BLK_OP_READ, 0, 8, buf);
	tap_check(&T, r == 0, "reads still work", "status %d", r);
}

/* ---- arguments and driver -------------------------------------------------------- */

static bool parse_args(int argc, char **argv, struct verify_args *a)
{
	*a = (struct verify_args){ .action = "all", .seed = 1,
				   .mode = BLK_MODE_AUTO, .kib = 4096 };
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];

		if (!strncmp(s, "mode=", 5)) {
			if (!blk_mode_parse(s + 5, &a->mode))
				return false;
		} else if (!strncmp(s, "disk=", 5)) {
			uint64_t v;

			if (!parse_u64(s + 5, &v))
				return false;
			a->disk = (unsigned int)v;
		} else if (!strncmp(s, "mib=", 4)) {
			if (!parse_u64(s + 4, &a->kib) || !a->kib || a->kib > 16)
				return false;
			a->kib <<= 10;
		} else if (!strncmp(s, "kib=", 4)) {
			if (!parse_u64(s + 4, &a->kib) || !a->kib || a->kib > 16u << 10)
				return false;
		} else if (i == 0) {
			a->action = s;
		} else if (i == 1 && parse_u64(s, &a->seed)) {
			/* the SEED of write/check/all */
		} else {
			return false;
		}
	}
	return true;
}

static void run_action(struct blk_dev *d, const struct verify_args *a)
{
	uint64_t count = a->kib << 10 >> 9;
	uint8_t *buf;

	if (count > d->info.sectors)
		count = d->info.sectors;
	buf = region_buffer(count < 2048 ? 2048 : count);
	if (!tap_check(&T, buf != NULL, "buffer", "out of memory"))
		return;
	if (!strcmp(a->action, "write")) {
		if (write_pattern(d, buf, count, a->seed))
			check_flush(d);
	} else if (!strcmp(a->action, "check")) {
		check_pattern(d, buf, count, a->seed);
	} else if (!strcmp(a->action, "ro")) {
		check_read_only(d, buf);
	} else if (!strcmp(a->action, "range")) {
		check_range(d, buf);
	} else {
		if (write_pattern(d, buf, count, a->seed))
			check_flush(d);
		check_pattern(d, buf, count, a->seed);
		check_range(d, buf);
	}
}

static bool known_action(const char *s)
{
	static const char *const actions[] = { "all", "write", "check", "ro", "range" };

	for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
		if (!strcmp(s, actions[i]))
			return true;
	return false;
}

int prog_blkverify(int argc, char **argv)
{
	struct verify_args a;
	struct blk_dev *d;
	int r;

	if (!parse_args(argc, argv, &a) || !known_action(a.action)) {
		printf("usage: blkverify [all|write SEED|check SEED|ro|range] "
		       "[mode=auto|pv|fv|fv-dma|sync] [disk=N] [mib=1..16 | kib=1..16384]\n");
		return 2;
	}
	tap_begin(&T, "blkverify");
	r = blk_open(a.mode, a.disk, &d);
	if (!tap_check(&T, r == 0, "open the disk", "mode %s disk %u: error %d",
		       blk_mode_name(a.mode), a.disk, r))
		return tap_end(&T);
	printf("blkverify: mode=%s sectors=%llu ro=%d max_sectors=%u "
	       "max_in_flight=%u\n", blk_mode_name(d->info.mode),
	       (unsigned long long)d->info.sectors, d->info.read_only,
	       d->info.max_sectors, d->info.max_in_flight);
	run_action(d, &a);
	return tap_end(&T);
}
