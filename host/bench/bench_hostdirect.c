// SPDX-License-Identifier: MIT
/* Host-direct block I/O with libaio + O_DIRECT: see bench_hostdirect.h. */
#include "host/bench/bench_hostdirect.h"

#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host/util/errmsg.h"

#define HD_MAX_QD 256u

struct hd_state {
	const struct hostdirect_cfg *cfg;
	int fd;
	io_context_t ctx;
	uint8_t *bufs;
	uint64_t blocks;
	uint64_t next_block;
	uint64_t rng;
	struct iocb iocb[HD_MAX_QD];
	uint64_t t_submit[HD_MAX_QD];
	unsigned int in_flight;
	/* Latency samples of the window (grown as needed). */
	uint64_t *lat;
	size_t nr_lat, cap_lat;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The same generator as the guest's blkbench, so "random" means the same
 * kind of spread. */
static uint64_t next_random(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static uint64_t pick_block(struct hd_state *st)
{
	if (st->cfg->random)
		return next_random(&st->rng) % st->blocks;
	if (st->next_block >= st->blocks)
		st->next_block = 0;
	return st->next_block++;
}

static int submit_slot(struct hd_state *st, unsigned int slot)
{
	const struct hostdirect_cfg *c = st->cfg;
	struct iocb *cb = &st->iocb[slot];
	void *buf = st->bufs + (size_t)slot * c->bs;
	long long off = (long long)(pick_block(st) * c->bs);
	if (c->write)
		io_prep_pwrite(cb, st->fd, buf, c->bs, off);
	else
		io_prep_pread(cb, st->fd, buf, c->bs, off);
	cb->data = (void *)(uintptr_t)slot;
	st->t_submit[slot] = mono_ns();
	struct iocb *list[1] = { cb };
	if (io_submit(st->ctx, 1, list) != 1)
		return -1;
	st->in_flight++;
	return 0;
}

static void record(struct hd_state *st, uint64_t ns)
{
	if (st->nr_lat == st->cap_lat) {
		size_t cap = st->cap_lat ? st->cap_lat * 2 : 65536;
		uint64_t *p = realloc(st->lat, cap * sizeof(*p));
		if (!p)
			return; /* percentiles from what we have */
		st->lat = p;
		st->cap_lat = cap;
	}
	st->lat[st->nr_lat++] = ns;
}

/* At least one completion, asleep or (cfg->poll) by polling: a zero
 * timeout makes libaio look at its ring in user memory, with no system
 * call while it is empty. */
static int reap(struct hd_state *st, struct io_event *ev)
{
	struct timespec zero = { 0, 0 };
	if (!st->cfg->poll)
		return io_getevents(st->ctx, 1, st->cfg->qd, ev, NULL);
	for (;;) {
		int n = io_getevents(st->ctx, 0, st->cfg->qd, ev, &zero);
		if (n != 0)
			return n;
		sched_yield();
	}
}

/* Keeps qd in flight until `until`; counts completions inside
 * [counting_from, until) into res. -1 on an I/O error. */
static int run_until(struct hd_state *st, uint64_t counting_from, uint64_t until,
		     struct hostdirect_result *res)
{
	struct io_event ev[HD_MAX_QD];
	for (;;) {
		int n = reap(st, ev);
		if (n < 0)
			return n == -EINTR ? 0 : -1;
		uint64_t now = mono_ns();
		for (int i = 0; i < n; i++) {
			unsigned int slot = (unsigned int)(uintptr_t)ev[i].data;
			st->in_flight--;
			if ((long)ev[i].res != (long)st->cfg->bs)
				return -1;
			if (counting_from && now >= counting_from && now < until) {
				res->ops++;
				res->bytes += st->cfg->bs;
				record(st, now - st->t_submit[slot]);
			}
			if (now < until && submit_slot(st, slot))
				return -1;
		}
		if (now >= until)
			return 0;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t percentile(const uint64_t *v, size_t n, unsigned int permille)
{
	if (!n)
		return 0;
	size_t i = (n * permille + 999) / 1000;
	return v[i ? i - 1 : 0];
}

/* Waits for every I/O still in flight, so buffers can be freed. */
static void drain(struct hd_state *st)
{
	struct io_event ev[HD_MAX_QD];
	while (st->in_flight > 0) {
		int n = io_getevents(st->ctx, 1, (long)st->in_flight, ev, NULL);
		if (n <= 0 && n != -EINTR)
			break;
		if (n > 0)
			st->in_flight -= (unsigned int)n;
	}
}

static int open_image(struct hd_state *st, char *err, size_t errlen)
{
	const struct hostdirect_cfg *c = st->cfg;
	struct stat sb;
	st->fd = open(c->path, (c->write ? O_RDWR : O_RDONLY) | O_DIRECT | O_CLOEXEC);
	if (st->fd < 0)
		return errmsg(-1, err, errlen, "%s: %s (O_DIRECT)", c->path, strerror(errno));
	if (fstat(st->fd, &sb) < 0 || sb.st_size < (off_t)c->bs)
		return errmsg(-1, err, errlen, "%s: too small", c->path);
	st->blocks = (uint64_t)sb.st_size / c->bs;
	return 0;
}

static int setup(struct hd_state *st, char *err, size_t errlen)
{
	const struct hostdirect_cfg *c = st->cfg;
	if (c->qd < 1 || c->qd > HD_MAX_QD || c->bs == 0 || c->bs % 4096)
		return errmsg(-1, err, errlen, "host-direct: bad qd %u or bs %u", c->qd, c->bs);
	if (open_image(st, err, errlen))
		return -1;
	if (posix_memalign((void **)&st->bufs, 4096, (size_t)c->qd * c->bs))
		return errmsg(-1, err, errlen, "host-direct: out of memory");
	memset(st->bufs, 0x5a, (size_t)c->qd * c->bs);
	int r = io_setup((int)c->qd, &st->ctx);
	if (r < 0)
		return errmsg(-1, err, errlen, "io_setup: %s", strerror(-r));
	st->rng = c->seed * 0x9e3779b97f4a7c15ull + 1;
	return 0;
}

static void teardown(struct hd_state *st)
{
	if (st->ctx)
		io_destroy(st->ctx);
	if (st->fd >= 0)
		close(st->fd);
	free(st->bufs);
	free(st->lat);
}

int hostdirect_run(const struct hostdirect_cfg *cfg, struct hostdirect_result *res,
		   char *err, size_t errlen)
{
	struct hd_state st = { .cfg = cfg, .fd = -1 };
	memset(res, 0, sizeof(*res));
	int rc = setup(&st, err, errlen);
	if (rc == 0) {
		for (unsigned int i = 0; i < cfg->qd && rc == 0; i++)
			rc = submit_slot(&st, i);
		uint64_t start = mono_ns() + cfg->warmup_ms * 1000000ull;
		uint64_t end = start + cfg->time_ms * 1000000ull;
		if (rc == 0)
			rc = run_until(&st, start, end, res);
		drain(&st);
		if (rc)
			errmsg(-1, err, errlen, "host-direct I/O failed on %s", cfg->path);
		res->elapsed_ns = end - start;
	}
	if (rc == 0) {
		qsort(st.lat, st.nr_lat, sizeof(*st.lat), cmp_u64);
		res->p50_ns = percentile(st.lat, st.nr_lat, 500);
		res->p99_ns = percentile(st.lat, st.nr_lat, 990);
	}
	teardown(&st);
	return rc;
}
