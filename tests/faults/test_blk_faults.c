// SPDX-License-Identifier: MIT
/*
 * Faults of the host, as the PV block backend meets them: EIO, ENOSPC,
 * short reads and writes, a failing fdatasync, injected through blk_aio's
 * fault hook into the real backend (its I/O thread, libaio, a real file),
 * driven by this thread playing the frontend. Each fault must reach the
 * guest as ERROR for exactly the requests it hit, every request must be
 * answered exactly once, none may hang, and a failed flush keeps failing.
 * Then the per-device rate limits (iops=, bw=) against a greedy frontend.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "host/block/blk_aio.h"
#include "host/block/blk_image.h"
#include "host/block/blkback.h"
#include "host/services/evtchn.h"
#include "host/services/grant.h"
#include "host/services/store.h"
#include "host/core/vm.h"
#include "host/services/xenbus.h"
#include "hypercall/pvkvm_blkif.h"
#include "tests/unit/fake_blkback.h"
#include "tests/unit/fake_vm.h"

#define GNT_ENTRIES 4096u
#define IMG_SECTORS (16u << 11) /* 16 MiB */
#define FE_DIR "device/blk/0"

static struct device *dev;
static char img_path[64];
static struct blkif_front front;
static void *ring_view;

/* ---- the fault plan -------------------------------------------------------- */

/* Which ops fail, by what they are and where they go. */
struct plan {
	int opcode;       /* IO_CMD_PWRITEV, IO_CMD_PREADV, IO_CMD_FDSYNC; -1 = any */
	uint64_t sector;  /* only ops starting at this sector (rw); ~0 = any */
	int64_t result;   /* -errno, or a short byte count */
	atomic_uint hits;
};
static struct plan plan;

static int64_t fault_hook(void *ctx, const struct iocb *io)
{
	struct plan *p = ctx;
	if (p->opcode >= 0 && io->aio_lio_opcode != p->opcode)
		return 0;
	if (p->sector != ~0ull && io->aio_lio_opcode != IO_CMD_FDSYNC &&
	    (uint64_t)io->u.c.offset != p->sector * 512)
		return 0;
	atomic_fetch_add(&p->hits, 1);
	return p->result;
}

static void inject(int opcode, uint64_t sector, int64_t result)
{
	plan.opcode = opcode;
	plan.sector = sector;
	plan.result = result;
	atomic_store(&plan.hits, 0);
	blk_aio_set_fault_hook(fault_hook, &plan);
}

/* ---- fixture ----------------------------------------------------------------- */

static void start(const struct blkback_config *cfg_in)
{
	fake_vm_setup(GNT_ENTRIES);
	strcpy(img_path, "/tmp/pvkvm-faults-XXXXXX");
	int fd = mkstemp(img_path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)IMG_SECTORS * 512), 0);
	close(fd);
	dev = fake_blkback_start(img_path, false, cfg_in);
}

static void setup(void)
{
	start(NULL);
}

static void teardown(void)
{
	blk_aio_set_fault_hook(NULL, NULL);
	if (vm.kvm_fd < 0)
		return;
	dev->stop(dev, &vm);
	vm.stats.groups = NULL;
	blkback_destroy(dev);
	if (ring_view)
		munmap(ring_view, PVKVM_PAGE_SIZE);
	ring_view = NULL;
	fake_vm_teardown();
	unlink(img_path);
}

TestSuite(faults, .init = setup, .fini = teardown, .timeout = 60);

static void connect(void)
{
	ring_view = mmap(NULL, PVKVM_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 vm.mem.memfd, FAKE_VM_RING_GPA);
	cr_assert_neq(ring_view, MAP_FAILED);
	store_printf(vm.store, FE_DIR "/ring-ref", "%u", fake_vm_grant(FAKE_VM_RING_GPA, false));
	blkif_sring_init(ring_view);
	cr_assert_eq(blkif_front_init(&front, ring_view, PVKVM_PAGE_SIZE), 0);
	int port = evtchn_alloc_unbound(vm.evtchn);
	cr_assert_gt(port, 0);
	store_printf(vm.store, FE_DIR "/event-channel", "%d", port);
	xenbus_set_state(vm.store, FE_DIR, PVKVM_XB_INITIALISING);
	xenbus_set_state(vm.store, FE_DIR, PVKVM_XB_INITIALISED);
	cr_assert_eq(xenbus_read_state(vm.store, "backend/blk/0"), PVKVM_XB_CONNECTED);
}

/* One request of nsect (8 * k) sectors at sector, in fresh pages. */
static void queue_rw(uint8_t op, uint64_t id, uint64_t sector, unsigned int pages)
{
	struct pvkvm_blkif_request *r = blkif_front_next_req(&front);
	cr_assert_not_null(r);
	memset(r, 0, sizeof(*r));
	r->operation = op;
	r->id = id;
	r->sector_number = sector;
	r->nr_segments = (uint16_t)pages;
	uint64_t gpa = fake_vm_alloc_pages(pages);
	for (unsigned int i = 0; i < pages; i++)
		r->u.seg[i] = (struct pvkvm_blkif_segment){
			fake_vm_grant(gpa + (uint64_t)i * PVKVM_PAGE_SIZE, op == PVKVM_BLKIF_OP_WRITE), 0, 7, 0 };
}

static void queue_flush(uint64_t id)
{
	struct pvkvm_blkif_request *r = blkif_front_next_req(&front);
	cr_assert_not_null(r);
	memset(r, 0, sizeof(*r));
	r->operation = PVKVM_BLKIF_OP_FLUSH;
	r->id = id;
}

static void push(void)
{
	if (blkif_front_push_reqs(&front))
		cr_assert_eq(blkback_kick(dev), 0);
}

/* n answers, within 20 s: a hang fails here. */
static void collect(struct pvkvm_blkif_response *out, unsigned int n)
{
	unsigned int got = 0;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (got < n) {
		int r = blkif_front_take_rsp(&front, &out[got]);
		cr_assert_geq(r, 0);
		if (r == 1) {
			got++;
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		cr_assert_lt(t.tv_sec - t0.tv_sec, 20, "hang: %u of %u answers", got, n);
		usleep(200);
	}
}

/* Exactly one answer per id, and its status. */
static int16_t status_of(const struct pvkvm_blkif_response *rsp, unsigned int n, uint64_t id)
{
	int found = 0;
	int16_t st = 0;
	for (unsigned int i = 0; i < n; i++)
		if (rsp[i].id == id) {
			found++;
			st = rsp[i].status;
		}
	cr_assert_eq(found, 1, "id %lu answered %d times", (unsigned long)id, found);
	return st;
}

static uint64_t counter(const char *name)
{
	return fake_vm_counter("blk0", name);
}

/* 16 requests of op; the one at sector 8 * 5 meets result. */
static void one_of_sixteen(uint8_t op, int opcode, int64_t result)
{
	connect();
	inject(opcode, 8 * 5, result);
	for (unsigned int i = 0; i < 16; i++)
		queue_rw(op, 100 + i, (uint64_t)i * 8, 1);
	push();
	struct pvkvm_blkif_response rsp[16];
	collect(rsp, 16);
	cr_assert_eq(atomic_load(&plan.hits), 1);
	for (unsigned int i = 0; i < 16; i++)
		cr_assert_eq(status_of(rsp, 16, 100 + i),
			     i == 5 ? PVKVM_BLKIF_RSP_ERROR : PVKVM_BLKIF_RSP_OKAY,
			     "request %u", i);
	/* Nothing more comes: no second answer to anything. */
	usleep(20000);
	struct pvkvm_blkif_response extra;
	cr_assert_eq(blkif_front_take_rsp(&front, &extra), 0);
	cr_assert_eq(counter("error_responses"), 1);
}

Test(faults, write_eio_fails_exactly_that_write)
{
	one_of_sixteen(PVKVM_BLKIF_OP_WRITE, IO_CMD_PWRITEV, -EIO);
}

Test(faults, write_enospc_fails_exactly_that_write)
{
	one_of_sixteen(PVKVM_BLKIF_OP_WRITE, IO_CMD_PWRITEV, -ENOSPC);
}

Test(faults, read_eio_fails_exactly_that_read)
{
	one_of_sixteen(PVKVM_BLKIF_OP_READ, IO_CMD_PREADV, -EIO);
}

Test(faults, short_write_is_an_error)
{
	one_of_sixteen(PVKVM_BLKIF_OP_WRITE, IO_CMD_PWRITEV, 2048);
}

Test(faults, short_read_is_an_error)
{
	one_of_sixteen(PVKVM_BLKIF_OP_READ, IO_CMD_PREADV, 512);
}

/* A flush whose fdatasync fails says ERROR; the kernel would report that
 * error once, so every later flush must fail too, even with the disk well. */
Test(faults, failed_flush_keeps_failing)
{
	connect();
	struct pvkvm_blkif_response rsp[4];
	queue_rw(PVKVM_BLKIF_OP_WRITE, 1, 0, 1);
	queue_flush(2);
	push();
	collect(rsp, 2);
	cr_assert_eq(status_of(rsp, 2, 2), PVKVM_BLKIF_RSP_OKAY, "a healthy flush");

	inject(IO_CMD_FDSYNC, ~0ull, -EIO);
	queue_rw(PVKVM_BLKIF_OP_WRITE, 3, 8, 1);
	queue_flush(4);
	push();
	collect(rsp, 2);
	cr_assert_eq(status_of(rsp, 2, 3), PVKVM_BLKIF_RSP_OKAY);
	cr_assert_eq(status_of(rsp, 2, 4), PVKVM_BLKIF_RSP_ERROR);
	cr_assert_eq(atomic_load(&plan.hits), 1);

	blk_aio_set_fault_hook(NULL, NULL); /* the disk is well again */
	for (unsigned int round = 0; round < 3; round++) {
		queue_rw(PVKVM_BLKIF_OP_WRITE, 10 + round, 16, 1);
		queue_flush(20 + round);
		push();
		collect(rsp, 2);
		cr_assert_eq(status_of(rsp, 2, 10 + round), PVKVM_BLKIF_RSP_OKAY);
		cr_assert_eq(status_of(rsp, 2, 20 + round), PVKVM_BLKIF_RSP_ERROR,
			     "flush after a failed one, round %u", round);
	}
	cr_assert_eq(counter("flushes_failed_latched"), 3);
}

/* Every write fails while a flush waits behind them: the flush still
 * completes (with the writes' fate its own business), nothing hangs. */
Test(faults, all_writes_fail_under_a_waiting_flush)
{
	connect();
	inject(IO_CMD_PWRITEV, ~0ull, -EIO);
	for (unsigned int i = 0; i < 20; i++)
		queue_rw(PVKVM_BLKIF_OP_WRITE, i, (uint64_t)i * 8, 2);
	queue_flush(99);
	for (unsigned int i = 0; i < 8; i++)
		queue_rw(PVKVM_BLKIF_OP_READ, 200 + i, 0, 1);
	push();
	struct pvkvm_blkif_response rsp[29];
	collect(rsp, 29);
	for (unsigned int i = 0; i < 20; i++)
		cr_assert_eq(status_of(rsp, 29, i), PVKVM_BLKIF_RSP_ERROR);
	cr_assert_eq(status_of(rsp, 29, 99), PVKVM_BLKIF_RSP_OKAY);
	for (unsigned int i = 0; i < 8; i++)
		cr_assert_eq(status_of(rsp, 29, 200 + i), PVKVM_BLKIF_RSP_OKAY);
}

/* ---- rate limits ---------------------------------------------------------------- */

static double secs_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void restart_with(uint64_t iops, uint64_t bw)
{
	teardown();
	struct blkback_config cfg;
	blkback_config_default(&cfg, 0);
	cfg.iops = iops;
	cfg.bw_bytes = bw;
	start(&cfg);
	connect();
}

/* A greedy frontend: keeps the ring full with n requests of op (the i-th
 * at sector i * stride, pages pages each) until all are answered OKAY.
 * The seconds that took. */
static double greedy_run(uint8_t op, unsigned int n, uint64_t stride, unsigned int pages)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	unsigned int sent = 0, got = 0;
	struct pvkvm_blkif_response rsp;
	while (got < n) {
		while (sent < n && blkif_front_free_slots(&front) > 0) {
			queue_rw(op, sent, (uint64_t)sent * stride, pages);
			sent++;
		}
		push();
		int r = blkif_front_take_rsp(&front, &rsp);
		cr_assert_geq(r, 0);
		if (r == 1) {
			cr_assert_eq(rsp.status, PVKVM_BLKIF_RSP_OKAY);
			got++;
		} else {
			usleep(500);
		}
		cr_assert_lt(secs_since(&t0), 20.0, "hang under the limit");
	}
	return secs_since(&t0);
}

/* A greedy frontend that keeps the ring full gets iops=50: a second's
 * burst (50), then 50 a second. 100 requests take about a second. */
Test(faults, iops_limit_holds_a_greedy_guest)
{
	restart_with(50, 0);
	double s = greedy_run(PVKVM_BLKIF_OP_READ, 100, 0, 1);
	cr_assert_geq(s, 0.9, "100 requests at 50/s after a 50 burst took %.2f s", s);
	cr_assert_lt(s, 3.0, "100 requests at 50/s took %.2f s: too slow", s);
	cr_assert_gt(counter("throttled"), 0);
}

/* bw=1m against 32 KiB writes: 1 MiB of burst, then 1 MiB/s: 2 MiB take
 * about a second. */
Test(faults, bandwidth_limit_holds_a_greedy_guest)
{
	restart_with(0, 1u << 20);
	double s = greedy_run(PVKVM_BLKIF_OP_WRITE, 64, 64, 8); /* 64 x 32 KiB = 2 MiB */
	cr_assert_geq(s, 0.85, "2 MiB at 1 MiB/s after a 1 MiB burst took %.2f s", s);
	cr_assert_lt(s, 3.0, "2 MiB at 1 MiB/s took %.2f s: too slow", s);
	cr_assert_gt(counter("throttled"), 0);
}

/* ---- the options --------------------------------------------------------------- */

#include "host/block/disk_opt.h"

Test(rate_options, parsed_and_refused)
{
	struct disk_opt o;
	char err[256];
	cr_assert_eq(disk_opt_parse("x.img,iops=500,bw=64m", &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(o.iops, 500);
	cr_assert_eq(o.bw, 64ull << 20);
	cr_assert_eq(disk_opt_parse("x.img,bw=1000", &o, err, sizeof(err)), 0);
	cr_assert_eq(o.bw, 1000);
	cr_assert_eq(o.iops, 0, "no limit unless asked");
	const char *bad[] = { "x.img,iops=0", "x.img,iops=", "x.img,bw=k", "x.img,bw=12x",
			      "x.img,iops=99999999999999999999", "x.img,bw=2000000g",
			      "x.img,mode=fv,iops=10", "x.img,mode=sync,bw=1m" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(disk_opt_parse(bad[i], &o, err, sizeof(err)), -1, "%s", bad[i]);
		cr_assert_neq(err[0], '\0', "a reason for %s", bad[i]);
		cr_assert_null(strchr(err, '\n'), "one line");
	}
}
