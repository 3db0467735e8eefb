// SPDX-License-Identifier: MIT
/*
 * blkfront_core (guest-drivers/core/) on the host: a fake grant table and
 * the ring's backend half stand in for the VMM, so what the core puts on the
 * wire (direct and INDIRECT requests, ids, grants) and what it does with
 * answers (out of order, unknown ids, a broken ring) can be checked exactly.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "guest-drivers/core/blkfront_core.c"

#define FAKE_REFS 4096

struct fake {
	struct { uint64_t frame; bool ro; bool live; } g[FAKE_REFS];
	uint32_t next;
	unsigned int notifies, live;
	bool fail_grants;
};

static int f_grant(void *ctx, uint64_t frame, bool ro)
{
	struct fake *f = ctx;
	if (f->fail_grants || f->next == FAKE_REFS)
		return -PVKVM_ENOSPC;
	uint32_t r = f->next++;
	f->g[r].frame = frame, f->g[r].ro = ro, f->g[r].live = true;
	f->live++;
	return (int)r;
}

static int f_ungrant(void *ctx, uint32_t ref)
{
	struct fake *f = ctx;
	cr_assert(ref < FAKE_REFS && f->g[ref].live, "revoking ref %u twice or never granted", ref);
	f->g[ref].live = false;
	f->live--;
	return 0;
}

static void f_notify(void *ctx) { ((struct fake *)ctx)->notifies++; }

/* The core keeps its memory for good (a guest never frees it); the fake
 * keeps the list, so a test that sets a second core up frees the first's. */
#define FAKE_ALLOCS 1024
static void *allocs[FAKE_ALLOCS];
static unsigned int nr_allocs;

static void *f_alloc(void *ctx, size_t n)
{
	(void)ctx;
	cr_assert(nr_allocs < FAKE_ALLOCS, "more allocations than the fake keeps");
	void *p = aligned_alloc(4096, n * 4096);
	cr_assert(p);
	memset(p, 0, n * 4096);
	allocs[nr_allocs++] = p;
	return p;
}

static void free_allocs(void)
{
	while (nr_allocs)
		free(allocs[--nr_allocs]);
}

static uint64_t f_frame(void *ctx, const void *va)
{
	(void)ctx;
	return (uint64_t)(uintptr_t)va / 4096;
}

static struct fake F;
static struct blkfront_core C;
static struct blkif_back B;

static void setup(uint32_t pages, uint32_t indirect, uint32_t inflight)
{
	free_allocs(); /* the previous core, if any, is done with */
	memset(&F, 0, sizeof(F));
	F.next = 1;
	struct blkfront_ops ops = { f_grant, f_ungrant, f_notify, f_alloc, f_frame, &F };
	struct blkfront_limits lim = { pages, indirect, inflight };
	cr_assert_eq(blkfront_core_init(&C, &ops, &lim), 0);
	cr_assert_eq(blkif_back_init(&B, C.sring, pages * 4096), 0);
}

TestSuite(blkfront_core, .fini = free_allocs);

struct done_log { uint64_t cookie[256]; int status[256]; int n; };

static void on_done(void *arg, uint64_t cookie, int status)
{
	struct done_log *l = arg;
	l->cookie[l->n] = cookie;
	l->status[l->n++] = status;
}

static void answer(uint64_t id, uint8_t op, int16_t status)
{
	struct pvkvm_blkif_response *rsp = blkif_back_next_rsp(&B);
	cr_assert(rsp);
	*rsp = (struct pvkvm_blkif_response){ .id = id, .operation = op, .status = status };
}

Test(blkfront_core, ring_is_granted_writable_and_sized)
{
	setup(4, 256, 64);
	cr_expect_eq(C.ring_pages, 4);
	for (int i = 0; i < 4; i++) {
		cr_expect(F.g[C.ring_refs[i]].live && !F.g[C.ring_refs[i]].ro);
		cr_expect_eq(F.g[C.ring_refs[i]].frame, f_frame(NULL, (uint8_t *)C.sring + i * 4096));
	}
	cr_expect_eq(C.nr_slots, 64, "in flight capped by max_inflight");
	cr_expect_eq(blkfront_core_max_segs(&C), 256);
}

Test(blkfront_core, direct_request_on_the_wire)
{
	setup(1, 0, 0);
	struct blkfront_seg segs[2] = { { 0x1234, 512, 1024 }, { 0x1235, 0, 4096 } };
	cr_assert_eq(blkfront_core_queue(&C, PVKVM_BLKIF_OP_WRITE, 100, segs, 2, 77), 0);
	cr_expect_eq(blkfront_core_push(&C), true, "the backend asked for the first request");
	cr_expect_eq(F.notifies, 1);
	struct pvkvm_blkif_request req = { 0 };
	cr_assert_eq(blkif_back_take_req(&B, &req), 1);
	cr_expect_eq(req.operation, PVKVM_BLKIF_OP_WRITE);
	cr_expect_eq(req.sector_number, 100);
	cr_expect_eq(req.nr_segments, 2);
	cr_expect_eq(req.u.seg[0].first_sect, 1);
	cr_expect_eq(req.u.seg[0].last_sect, 2);
	cr_expect_eq(req.u.seg[1].first_sect, 0);
	cr_expect_eq(req.u.seg[1].last_sect, 7);
	cr_expect(F.g[req.u.seg[0].gref].ro, "a page written to disk is granted read-only");
	cr_expect_eq(F.g[req.u.seg[1].gref].frame, 0x1235);
	unsigned int live = F.live;
	answer(req.id, req.operation, PVKVM_BLKIF_RSP_OKAY);
	blkif_back_push_rsps(&B);
	struct done_log log = { 0 };
	cr_expect_eq(blkfront_core_poll(&C, on_done, &log), 1);
	cr_expect_eq(log.cookie[0], 77);
	cr_expect_eq(log.status[0], 0);
	cr_expect_eq(F.live, live - 2, "both data grants revoked on completion");
}

Test(blkfront_core, large_request_goes_indirect)
{
	setup(1, 256, 0);
	struct blkfront_seg segs[256];
	for (int i = 0; i < 256; i++)
		segs[i] = (struct blkfront_seg){ 0x2000 + (uint64_t)i, 0, 4096 };
	cr_assert_eq(blkfront_core_queue(&C, PVKVM_BLKIF_OP_READ, 8, segs, 256, 5), 0);
	blkfront_core_push(&C);
	struct pvkvm_blkif_request req = { 0 };
	cr_assert_eq(blkif_back_take_req(&B, &req), 1);
	cr_expect_eq(req.operation, PVKVM_BLKIF_OP_INDIRECT);
	cr_expect_eq(req.indirect_op, PVKVM_BLKIF_OP_READ);
	cr_expect_eq(req.nr_segments, 256);
	uint32_t ind = req.u.indirect_grefs[0];
	cr_expect(F.g[ind].ro, "the segment page is granted read-only");
	struct pvkvm_blkif_segment *arr = (void *)(uintptr_t)(F.g[ind].frame * 4096);
	for (int i = 0; i < 256; i++) {
		cr_expect_eq(F.g[arr[i].gref].frame, 0x2000 + (uint64_t)i);
		cr_expect(!F.g[arr[i].gref].ro, "a page read into is writable");
	}
	struct blkfront_seg too_many[257];
	memcpy(too_many, segs, sizeof(segs));
	too_many[256] = segs[0];
	cr_expect_eq(blkfront_core_queue(&C, PVKVM_BLKIF_OP_READ, 8, too_many, 257, 6),
		     -PVKVM_EINVAL);
}

Test(blkfront_core, out_of_order_answers_and_unknown_ids)
{
	setup(1, 0, 0);
	struct blkfront_seg s = { 0x3000, 0, 4096 };
	for (uint64_t c = 0; c < 3; c++)
		cr_assert_eq(blkfront_core_queue(&C, PVKVM_BLKIF_OP_READ, c * 8, &s, 1, 100 + c), 0);
	blkfront_core_push(&C);
	struct pvkvm_blkif_request r[3] = { 0 };
	for (int i = 0; i < 3; i++)
		cr_assert_eq(blkif_back_take_req(&B, &r[i]), 1);
	answer(r[2].id, 0, PVKVM_BLKIF_RSP_ERROR);
	answer(999, 0, PVKVM_BLKIF_RSP_OKAY); /* never sent: ignored */
	answer(r[0].id, 0, PVKVM_BLKIF_RSP_NOTSUPP);
	blkif_back_push_rsps(&B);
	struct done_log log = { 0 };
	cr_expect_eq(blkfront_core_poll(&C, on_done, &log), 2);
	cr_expect_eq(log.cookie[0], 102);
	cr_expect_eq(log.status[0], -PVKVM_EIO);
	cr_expect_eq(log.cookie[1], 100);
	cr_expect_eq(log.status[1], -PVKVM_ENOSYS);
	cr_expect_eq(C.in_flight, 1);
}

Test(blkfront_core, full_queue_and_failed_grants_leave_nothing_behind)
{
	setup(1, 0, 4);
	struct blkfront_seg s = { 0x4000, 0, 4096 };
	for (int i = 0; i < 4; i++)
		cr_assert_eq(blkfront_core_queue(&C, PVKVM_BLKIF_OP_READ, 0, &s, 1, (uint64_t)i), 0);
	cr_expect_eq(blkfront_core_queue(&C, PVKVM_BLKIF_OP_READ, 0, &s, 1, 9), -PVKVM_EAGAIN);
	setup(1, 0, 4);
	unsigned int live = F.live;
	F.fail_grants = true;
	cr_expect_eq(blkfront_core_queue(&C, PVKVM_BLKIF_OP_READ, 0, &s, 1, 1), -PVKVM_ENOSPC);
	cr_expect_eq(F.live, live);
	cr_expect_eq(blkfront_core_free(&C), 4, "the id went back to the free list");
	struct blkfront_seg bad = { 0x4000, 100, 512 };
	F.fail_grants = false;
	cr_expect_eq(blkfront_core_queue(&C, PVKVM_BLKIF_OP_READ, 0, &bad, 1, 1), -PVKVM_EINVAL);
	cr_expect_eq(blkfront_core_queue(&C, PVKVM_BLKIF_OP_FLUSH, 0, NULL, 0, 2), 0);
}

Test(blkfront_core, impossible_rsp_prod_breaks_the_ring)
{
	setup(1, 0, 0);
	struct blkfront_seg s = { 0x5000, 0, 4096 };
	cr_assert_eq(blkfront_core_queue(&C, PVKVM_BLKIF_OP_READ, 0, &s, 1, 1), 0);
	blkfront_core_push(&C);
	C.sring->hdr.rsp_prod = 1000;
	struct done_log log = { 0 };
	cr_expect_eq(blkfront_core_poll(&C, on_done, &log), -PVKVM_EIO);
	cr_expect_eq(log.n, 0);
}
