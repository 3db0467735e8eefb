// SPDX-License-Identifier: MIT
/*
 * blkbench: block I/O for a fixed time through the block interface.
 *
 *   blkbench [rw=randread|randwrite|read|write] [bs=BYTES] [qd=1..64]
 *            [time_ms=MS] [warmup_ms=MS] [size=BYTES] [mode=auto|pv|fv|fv-dma|sync]
 *            [disk=N] [spin_us=US] [seed=N] [ring_pages=N]
 *            [notify=always|suppress]
 *
 * Defaults: rw=randread bs=4096 qd=1 time_ms=2000 warmup_ms=200, size =
 * the whole disk, mode=auto, spin_us=1000 (pv: how long to poll the ring
 * for completions before sleeping in WAIT: long enough to span a QD32
 * round trip of the disk, ~300-400 us here, so the guest is awake when the
 * answers land instead of paying a WAIT exit and a wake-up per round;
 * the price is a vCPU that spins while it has I/O in flight). bs is a multiple of 512 from 512 to 1 MiB.
 * fv and sync complete each request inside its submission: they run at
 * qd=1 whatever was asked, and the line says qd=1.
 *
 * Method: every buffer page is written once before anything is timed (the
 * first touch of a guest page costs ~8.5 us on the nested platform), then
 * the workload runs for warmup_ms unmeasured, then for time_ms measured;
 * QD requests stay in flight, each resubmitted as soon as it completes.
 * Latency is submit-to-completion in guest TSC time. Operations count if
 * they complete inside the window. Lines for the host (bench_blk.c):
 *   blkbench: begin             printed right before the window opens
 *   blkbench: end               printed right after it closes
 *   blkbench: mode=.. rw=.. bs=.. qd=.. ops=.. elapsed_ns=.. bytes=..
 *             iops=.. mbps=.. p50_us=.. p99_us=.. kicks=.. sleeps=.. errors=..
 * (the result line, one line; kicks and sleeps are counted in the window).
 */
#include "blk.h"
#include "blk_lathist.h"
#include "console.h"
#include "kernel.h"
#include "klib.h"
#include "mm.h"
#include "time.h"

#define MAX_QD 64u
#define MAX_BS (1u << 20)
#define MAX_BUFFER_BYTES (16u << 20)

enum rw_kind { RW_RANDREAD, RW_RANDWRITE, RW_READ, RW_WRITE };

static const char *const rw_names[] = {
	[RW_RANDREAD] = "randread", [RW_RANDWRITE] = "randwrite",
	[RW_READ] = "read", [RW_WRITE] = "write",
};

struct bench_cfg {
	enum rw_kind rw;
	uint64_t bs, qd, time_ms, warmup_ms, size, spin_us, seed, ring_pages;
	enum blk_mode mode;
	uint64_t disk;
};

struct bench_run {
	struct blk_dev *d;
	const struct bench_cfg *cfg;
	uint8_t *bufs;
	uint64_t blocks;      /* bs-sized blocks in the region */
	uint64_t next_block;  /* sequential position */
	uint64_t rng;
	struct blk_req req[MAX_QD];
	uint64_t t_submit[MAX_QD];
	uint32_t free_slot[MAX_QD];
	uint32_t nr_free;
	bool measuring;
	uint64_t window_end;
	uint64_t ops, bytes, errors;
	struct lat_hist hist;
};

static struct bench_run run;

/* ---- arguments -------------------------------------------------------------- */

static bool parse_kv(const char *s, const char *key, uint64_t *out)
{
	size_t n = strlen(key);

	return !strncmp(s, key, n) && s[n] == '=' && parse_u64(s + n + 1, out);
}

static bool parse_rw(const char *s, enum rw_kind *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(rw_names); i++)
		if (!strcmp(s, rw_names[i])) {
			*out = (enum rw_kind)i;
			return true;
		}
	return false;
}

static bool parse_one(const char *s, struct bench_cfg *c)
{
	if (!strncmp(s, "rw=", 3))
		return parse_rw(s + 3, &c->rw);
	if (!strncmp(s, "mode=", 5))
		return blk_mode_parse(s + 5, &c->mode);
	if (!strcmp(s, "notify=always") || !strcmp(s, "notify=suppress")) {
		blk_pv_notify_always = s[7] == 'a';
		return true;
	}
	return parse_kv(s, "ring_pages", &c->ring_pages) ||
	       parse_kv(s, "bs", &c->bs) || parse_kv(s, "qd", &c->qd) ||
	       parse_kv(s, "time_ms", &c->time_ms) ||
	       parse_kv(s, "warmup_ms", &c->warmup_ms) ||
	       parse_kv(s, "size", &c->size) || parse_kv(s, "disk", &c->disk) ||
	       parse_kv(s, "spin_us", &c->spin_us) || parse_kv(s, "seed", &c->seed);
}

static bool parse_args(int argc, char **argv, struct bench_cfg *c)
{
	*c = (struct bench_cfg){ .rw = RW_RANDREAD, .bs = 4096, .qd = 1,
				 .time_ms = 2000, .warmup_ms = 200,
				 .spin_us = 1000, .seed = 1, .mode = BLK_MODE_AUTO };
	for (int i = 0; i < argc; i++)
		if (!parse_one(argv[i], c))
			return false;
	return c->bs >= BLK_SECTOR_SIZE && c->bs <= MAX_BS &&
	       c->bs % BLK_SECTOR_SIZE == 0 && c->qd >= 1 && c->qd <= MAX_QD &&
	       c->ring_pages <= 16 && !(c->ring_pages & (c->ring_pages - 1));
}

/* ---- the workload ------------------------------------------------------------- */

static uint64_t next_random(uint64_t *s)
{
	/* xorshift64*: cheap, and good enough to scatter blocks. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static uint64_t pick_block(struct bench_run *b)
{
	if (b->cfg->rw == RW_RANDREAD || b->cfg->rw == RW_RANDWRITE)
		return next_random(&b->rng) % b->blocks;
	if (b->next_block >= b->blocks)
		b->next_block = 0;
	return b->next_block++;
}

static void on_done(struct blk_req *r)
{
	struct bench_run *b = &run;
	uint32_t slot = (uint32_t)(uintptr_t)r->priv;
	uint64_t now = rdtsc();

	b->free_slot[b->nr_free++] = slot;
	if (!b->measuring)
		return;
	if (now_ns() > b->window_end)
		return; /* finished after the window: not counted */
	if (r->status) {
		b->errors++;
		return;
	}
	b->ops++;
	b->bytes += b->cfg->bs;
	lat_hist_add(&b->hist, tsc_to_ns(now - b->t_submit[slot]));
}

/* Fills the queue up to qd: how many were submitted. Bounded by qd, since
 * with fv and sync each request completes (and frees its slot) inside its
 * own submission. */
static int fill_queue(struct bench_run *b)
{
	bool write = b->cfg->rw == RW_RANDWRITE || b->cfg->rw == RW_WRITE;
	int n = 0;

	while (b->nr_free && (uint64_t)n < b->cfg->qd) {
		uint32_t slot = b->free_slot[--b->nr_free];
		struct blk_req *r = &b->req[slot];
		int rc;

		*r = (struct blk_req){
			.op = write ? BLK_OP_WRITE : BLK_OP_READ,
			.sector = pick_block(b) * (b->cfg->bs / BLK_SECTOR_SIZE),
			.nr_sectors = (uint32_t)(b->cfg->bs / BLK_SECTOR_SIZE),
			.buf = b->bufs + (uint64_t)slot * b->cfg->bs,
			.on_done = on_done,
			.priv = (void *)(uintptr_t)slot,
		};
		b->t_submit[slot] = rdtsc();
		rc = blk_submit(b->d, r);
		if (rc < 0) {
			b->free_slot[b->nr_free++] = slot;
			if (rc != -PVKVM_EAGAIN)
				b->errors++;
			return rc == -PVKVM_EAGAIN ? n : rc;
		}
		n++;
	}
	return n;
}

/* Keeps the queue full until `until` (monotonic ns). 0 or an error. */
static int run_until(struct bench_run *b, uint64_t until)
{
	while (now_ns() < until) {
		int r = fill_queue(b);

		if (r < 0)
			return r;
		blk_kick(b->d);
		r = blk_wait(b->d, until + 10 * NS_PER_SEC);
		if (r < 0)
			return r;
	}
	return 0;
}

static int drain(struct bench_run *b)
{
	uint64_t deadline = now_ns() + 10 * NS_PER_SEC;

	while (b->d->in_flight) {
		int r = blk_wait(b->d, deadline);

		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- set-up and report ------------------------------------------------------------ */

static int setup(struct bench_run *b, const struct bench_cfg *c)
{
	uint64_t region, bytes;

	b->d->poll_spin_ns = c->spin_us * 1000;
	region = c->size && c->size < b->d->info.sectors * BLK_SECTOR_SIZE
			 ? c->size : b->d->info.sectors * BLK_SECTOR_SIZE;
	b->blocks = region / c->bs;
	if (!b->blocks || c->bs / BLK_SECTOR_SIZE > b->d->info.max_sectors)
		return -PVKVM_EINVAL;
	bytes = c->qd * c->bs;
	if (bytes > MAX_BUFFER_BYTES)
		return -PVKVM_ENOMEM;
	b->bufs = page_alloc(ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE);
	if (!b->bufs)
		return -PVKVM_ENOMEM;
	/* The first touch of each page is the expensive one: pay it now. */
	memset(b->bufs, 0x5a, bytes);
	for (uint32_t i = 0; i < c->qd; i++)
		b->free_slot[b->nr_free++] = (uint32_t)(c->qd - 1 - i);
	b->rng = c->seed * 0x9e3779b97f4a7c15ull + 1;
	return 0;
}

static void report(const struct bench_run *b, uint64_t elapsed_ns,
		   const struct blk_counters *win)
{
	uint64_t iops = elapsed_ns ? b->ops * NS_PER_SEC / elapsed_ns : 0;
	/* MB/s (10^6 bytes) in hundredths, printed as x.yy. */
	uint64_t mbps100 = elapsed_ns ? b->bytes * 100000ull / elapsed_ns : 0;
	uint64_t p50 = lat_hist_percentile(&b->hist, 500);
	uint64_t p99 = lat_hist_percentile(&b->hist, 990);

	printf("blkbench: mode=%s rw=%s bs=%llu qd=%llu ops=%llu elapsed_ns=%llu "
	       "bytes=%llu iops=%llu mbps=%llu.%02llu p50_us=%llu.%03llu "
	       "p99_us=%llu.%03llu kicks=%llu sleeps=%llu errors=%llu\n",
	       blk_mode_name(b->d->info.mode), rw_names[b->cfg->rw],
	       (unsigned long long)b->cfg->bs, (unsigned long long)b->cfg->qd,
	       (unsigned long long)b->ops, (unsigned long long)elapsed_ns,
	       (unsigned long long)b->bytes, (unsigned long long)iops,
	       (unsigned long long)(mbps100 / 100), (unsigned long long)(mbps100 % 100),
	       (unsigned long long)(p50 / 1000), (unsigned long long)(p50 % 1000),
	       (unsigned long long)(p99 / 1000), (unsigned long long)(p99 % 1000),
	       (unsigned long long)win->kicks, (unsigned long long)win->sleeps,
	       (unsigned long long)b->errors);
}

static int measure(struct bench_run *b, const struct bench_cfg *c)
{
	struct blk_counters before, win;
	uint64_t start, end;
	int r;

	r = run_until(b, now_ns() + c->warmup_ms * NS_PER_MS);
	if (r < 0)
		return r;
	lat_hist_reset(&b->hist);
	printf("blkbench: begin\n");
	before = b->d->counters;
	start = now_ns();
	b->window_end = start + c->time_ms * NS_PER_MS;
	b->measuring = true;
	r = run_until(b, b->window_end);
	end = now_ns();
	win = b->d->counters;
	printf("blkbench: end\n");
	b->measuring = false;
	if (r < 0)
		return r;
	win.kicks -= before.kicks;
	win.sleeps -= before.sleeps;
	r = drain(b);
	report(b, (end < b->window_end ? end : b->window_end) - start, &win);
	return r;
}

int prog_blkbench(int argc, char **argv)
{
	static struct bench_cfg cfg;
	int r;

	if (!parse_args(argc, argv, &cfg)) {
		printf("usage: blkbench [rw=randread|randwrite|read|write] [bs=512..1048576] "
		       "[qd=1..64] [time_ms=MS] [warmup_ms=MS] [size=BYTES] "
		       "[mode=auto|pv|fv|fv-dma|sync] [disk=N] [spin_us=US] [seed=N] "
		       "[ring_pages=1|2|4|8|16] [notify=always|suppress]\n");
		return 2;
	}
	run.cfg = &cfg;
	blk_pv_want_ring_pages = (unsigned int)cfg.ring_pages;
	r = blk_open(cfg.mode, (unsigned int)cfg.disk, &run.d);
	if (r < 0) {
		printf("blkbench: cannot open disk %llu (mode %s): error %d\n",
		       (unsigned long long)cfg.disk, blk_mode_name(cfg.mode), r);
		return 1;
	}
	if (cfg.qd > run.d->info.max_in_flight)
		cfg.qd = run.d->info.max_in_flight; /* fv, fv-dma, sync: inherently 1 */
	r = setup(&run, &cfg);
	if (!r)
		r = measure(&run, &cfg);
	if (r < 0) {
		printf("blkbench: failed: error %d\n", r);
		return 1;
	}
	return run.errors ? 1 : 0;
}
