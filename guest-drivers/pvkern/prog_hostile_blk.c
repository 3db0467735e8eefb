// SPDX-License-Identifier: MIT
/*
 * hostileblk CASE: a block frontend that misbehaves on purpose, one case
 * per run, against PV disk 0, spoken by hand (a ring, grants and an event
 * channel of its own, no blkfront core). Then it checks that PV disk 1
 * still works (write, flush, read back a pattern in its sectors 0..63).
 *
 * Each case prints "hostileblk: <case>: ok" when the backend answered as
 * docs/block.md says (ERROR, NOTSUPP, or a broken ring), and "... FAILED
 * (why)" otherwise; the exit status is the number of failures. The test
 * (tests/e2e/test_hostile_blk.c) checks the host side: the VMM stays up,
 * its memory stays bounded, the image changes only where it was addressed
 * (the cases write only inside disk 0's sectors 0..1023).
 */
#include "blk.h"
#include "blk_pattern.h"
#include "console.h"
#include "events.h"
#include "gnttab.h"
#include "hypercall.h"
#include "hypercall/pvkvm_blkif.h"
#include "kernel.h"
#include "klib.h"
#include "mm.h"
#include "ring_wait.h"
#include "store.h"
#include "time.h"
#include "xenbus.h"

#define WAIT_NS (3 * NS_PER_SEC)
#define WRITE_AREA 1024u /* sectors of disk 0 a case may write */

struct hfe {
	struct xb_front fe;
	struct blkif_sring *sring;
	struct blkif_front front;
	uint32_t ring_ref;
	uint32_t port;
	uint64_t sectors;
};

static struct hfe h;
static int failures;

static void fail(const char *c, const char *why, long v)
{
	printf("hostileblk: %s: FAILED (%s: %ld)\n", c, why, v);
	failures++;
}

/* ---- a frontend by hand ---------------------------------------------------- */

static int hfe_open(void)
{
	uint64_t deadline = now_ns() + WAIT_NS;
	int r = xb_front_init(&h.fe, "blk", 0);

	if (r < 0)
		return r;
	xb_front_set_state(&h.fe, PVKVM_XB_INITIALISING);
	r = xb_wait_backend_state(&h.fe, PVKVM_XB_INITWAIT, deadline);
	if (r < 0)
		return r;
	char path[192];
	snprintf(path, sizeof(path), "%s/sectors", h.fe.backend);
	store_read_u64(path, &h.sectors);
	if (!h.sring)
		h.sring = page_alloc(1);
	memset(h.sring, 0, PAGE_SIZE);
	blkif_sring_init(h.sring);
	blkif_front_init(&h.front, h.sring, PAGE_SIZE);
	h.ring_ref = (uint32_t)gnttab_grant(gpa_to_frame(h.sring), false);
	int64_t port = hc0(PVKVM_HC_EVTCHN_ALLOC);
	if (port <= 0)
		return -PVKVM_EIO;
	h.port = (uint32_t)port;
	xb_front_write_u64(&h.fe, "ring-ref", h.ring_ref);
	xb_front_write_u64(&h.fe, "event-channel", h.port);
	return xb_front_finish_connect(&h.fe, deadline);
}

/* Closing, then Closed once the backend let go; the ring's grant ends. */
static int hfe_close(void)
{
	int r = xb_front_close(&h.fe, now_ns() + WAIT_NS);
	gnttab_end_access(h.ring_ref);
	hc1(PVKVM_HC_EVTCHN_CLOSE, h.port);
	return r;
}

static struct pvkvm_blkif_request *slot(void)
{
	struct pvkvm_blkif_request *r = blkif_front_next_req(&h.front);

	if (r)
		memset(r, 0, sizeof(*r));
	return r;
}

static void push(void)
{
	if (blkif_front_push_reqs(&h.front))
		evtchn_send(h.port);
}

/* One response, or -1 after WAIT_NS (or a broken ring). */
static int take(struct pvkvm_blkif_response *rsp)
{
	return RING_TAKE_UNTIL(blkif_front_take_rsp, &h.front, rsp, now_ns() + WAIT_NS);
}

static uint32_t grant_page(void *p, bool ro)
{
	return (uint32_t)gnttab_grant(gpa_to_frame(p), ro);
}

/* Sends one prepared request, expects one answer with status want. */
static void expect(const char *c, const struct pvkvm_blkif_request *req, int want)
{
	struct pvkvm_blkif_request *r = slot();
	struct pvkvm_blkif_response rsp;

	if (!r) {
		fail(c, "ring full", 0);
		return;
	}
	*r = *req;
	push();
	if (take(&rsp) < 0)
		fail(c, "no answer", 0);
	else if (rsp.id != req->id)
		fail(c, "answer for another id", (long)rsp.id);
	else if (rsp.status != want)
		fail(c, "status", rsp.status);
}

static bool backend_broke(void)
{
	uint64_t deadline = now_ns() + WAIT_NS;
	char path[192], err[128];

	while (now_ns() < deadline) {
		if (xb_backend_state(&h.fe) == PVKVM_XB_CLOSING ||
		    xb_backend_state(&h.fe) == PVKVM_XB_CLOSED) {
			snprintf(path, sizeof(path), "%s/error", h.fe.backend);
			return store_read(path, err, sizeof(err)) > 0 &&
			       !strncmp(err, "ring broken", 11);
		}
		cpu_relax();
	}
	return false;
}

static struct pvkvm_blkif_request rw_req(uint8_t op, uint64_t id, uint64_t sector,
					 uint32_t gref)
{
	struct pvkvm_blkif_request r = { .operation = op, .id = id,
					 .sector_number = sector, .nr_segments = 1 };

	r.u.seg[0] = (struct pvkvm_blkif_segment){ gref, 0, 7, 0 };
	return r;
}

static bool page_is(const uint8_t *p, uint8_t v)
{
	for (unsigned int i = 0; i < PAGE_SIZE; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* ---- the cases ------------------------------------------------------------- */

static void case_prod_impossible(const char *c)
{
	__atomic_store_n(&h.sring->hdr.req_prod, h.front.req_prod_pvt + 1000, __ATOMIC_RELEASE);
	evtchn_send(h.port);
	if (!backend_broke())
		fail(c, "ring not marked broken", 0);
}

static void case_prod_past(const char *c)
{
	uint8_t *p = page_alloc(1);
	struct pvkvm_blkif_request req = rw_req(PVKVM_BLKIF_OP_READ, 1, 0, grant_page(p, false));

	expect(c, &req, PVKVM_BLKIF_RSP_OKAY);
	expect(c, &req, PVKVM_BLKIF_RSP_OKAY);
	__atomic_store_n(&h.sring->hdr.req_prod, h.front.req_prod_pvt - 5, __ATOMIC_RELEASE);
	evtchn_send(h.port);
	if (!backend_broke())
		fail(c, "ring not marked broken", 0);
}

static void case_grants(const char *c)
{
	uint8_t *p = page_alloc(1);
	struct pvkvm_blkif_request req;

	req = rw_req(PVKVM_BLKIF_OP_READ, 2, 0, 0xffffff);
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR); /* out of range */
	req = rw_req(PVKVM_BLKIF_OP_READ, 3, 0, 0);
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR); /* ref 0 */
	uint32_t ref = grant_page(p, false);
	gnttab_end_access(ref);
	req = rw_req(PVKVM_BLKIF_OP_READ, 4, 0, ref);
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR); /* revoked */
	memset(p, 0x5a, PAGE_SIZE);
	req = rw_req(PVKVM_BLKIF_OP_READ, 5, 0, grant_page(p, true));
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR); /* read into a read-only grant */
	if (!page_is(p, 0x5a))
		fail(c, "a page granted read-only changed", 0);
	/* The same reference twice in one request: the second use is busy. */
	uint8_t *q = page_alloc(1);
	memset(q, 0x33, PAGE_SIZE);
	uint32_t rq = grant_page(q, false);
	req = rw_req(PVKVM_BLKIF_OP_READ, 6, 0, rq);
	req.nr_segments = 2;
	req.u.seg[1] = req.u.seg[0];
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR);
}

static void case_segments(const char *c)
{
	uint8_t *p = page_alloc(1);
	uint32_t ref = grant_page(p, false);
	struct pvkvm_blkif_request req = rw_req(PVKVM_BLKIF_OP_READ, 7, 0, ref);

	req.u.seg[0].first_sect = 3;
	req.u.seg[0].last_sect = 8;
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR);
	req.u.seg[0].first_sect = 5;
	req.u.seg[0].last_sect = 2;
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR);
	req.u.seg[0] = (struct pvkvm_blkif_segment){ ref, 0, 255, 0 };
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR);
	req.u.seg[0] = (struct pvkvm_blkif_segment){ ref, 0, 7, 1 };
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR); /* reserved */
}

static void case_sectors(const char *c)
{
	uint8_t *p = page_alloc(1);
	uint32_t ref = grant_page(p, false);
	struct pvkvm_blkif_request req;

	req = rw_req(PVKVM_BLKIF_OP_READ, 8, h.sectors - 4, ref);
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR); /* past the end */
	req = rw_req(PVKVM_BLKIF_OP_WRITE, 9, h.sectors, ref);
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR);
	req = rw_req(PVKVM_BLKIF_OP_READ, 10, ~0ull - 3, ref);
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR); /* overflows 64 bits */
	req = (struct pvkvm_blkif_request){ .operation = PVKVM_BLKIF_OP_DISCARD, .id = 11,
					    .sector_number = 8 };
	req.u.discard.nr_sectors = ~0ull - 4;
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR);
	req = rw_req(PVKVM_BLKIF_OP_READ, 12, h.sectors - 8, ref);
	expect(c, &req, PVKVM_BLKIF_RSP_OKAY); /* the last page is fine */
}

static void case_nsegs(const char *c)
{
	uint8_t *p = page_alloc(1);
	struct pvkvm_blkif_request req = rw_req(PVKVM_BLKIF_OP_READ, 13, 0, grant_page(p, false));

	req.nr_segments = 0;
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR);
	req.nr_segments = 12;
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR);
	req.nr_segments = 65535;
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR);
	req = (struct pvkvm_blkif_request){ .operation = PVKVM_BLKIF_OP_FLUSH, .id = 14,
					    .nr_segments = 3 };
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR);
}

static void case_indirect(const char *c)
{
	struct pvkvm_blkif_segment *ind = page_alloc(1);
	uint8_t *p = page_alloc(1);
	uint32_t data = grant_page(p, false);
	struct pvkvm_blkif_request req = { .operation = PVKVM_BLKIF_OP_INDIRECT,
					   .indirect_op = PVKVM_BLKIF_OP_READ, .id = 15 };

	for (unsigned int i = 0; i < 512; i++)
		ind[i] = (struct pvkvm_blkif_segment){ data, 0, 7, 0 };
	uint32_t iref = grant_page(ind, true);
	req.u.indirect_grefs[0] = iref;
	req.nr_segments = 0;
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR);
	req.nr_segments = 4000; /* above the advertised 256 */
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR);
	req.nr_segments = 65535;
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR);
	req.nr_segments = 1;
	req.u.indirect_grefs[0] = 0xfffff0; /* a bad indirect grant */
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR);
	req.u.indirect_grefs[0] = iref;
	req.indirect_op = 9;
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR);
	req.indirect_op = PVKVM_BLKIF_OP_READ;
	ind[0].last_sect = 9; /* a bad segment inside the indirect page */
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR);
	ind[0].last_sect = 7;
	expect(c, &req, PVKVM_BLKIF_RSP_OKAY);
}

static void case_ops(const char *c)
{
	struct pvkvm_blkif_request req = { .operation = 7, .id = 16 };

	expect(c, &req, PVKVM_BLKIF_RSP_ERROR);
	req.operation = 200;
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR);
	req.operation = 2; /* Xen's WRITE_BARRIER */
	expect(c, &req, PVKVM_BLKIF_RSP_NOTSUPP);
	req.operation = PVKVM_BLKIF_OP_FLUSH;
	req.reserved = 1;
	expect(c, &req, PVKVM_BLKIF_RSP_ERROR);
}

/* 16 writes in flight, all id 7: 16 answers, all id 7, all done. */
static void case_dup_ids(const char *c)
{
	struct pvkvm_blkif_response rsp;

	for (unsigned int i = 0; i < 16; i++) {
		uint8_t *p = page_alloc(1);
		for (unsigned int s = 0; s < 8; s++)
			blk_pattern_fill(p + s * 512, i * 8 + s, 77);
		*slot() = rw_req(PVKVM_BLKIF_OP_WRITE, 7, i * 8, grant_page(p, true));
	}
	push();
	for (unsigned int i = 0; i < 16; i++) {
		if (take(&rsp) < 0) {
			fail(c, "answers", i);
			return;
		}
		if (rsp.id != 7 || rsp.status != PVKVM_BLKIF_RSP_OKAY)
			fail(c, "answer", rsp.status);
	}
}

/* A slot rewritten again and again while the backend takes it: the backend
 * answers whichever version it copied; it never sees a mix it acts on
 * (its copy is checked after it is made). */
static void case_rewrite(const char *c)
{
	uint8_t *p = page_alloc(1);
	uint32_t ref = grant_page(p, false);
	struct pvkvm_blkif_response rsp;

	for (unsigned int round = 0; round < 200; round++) {
		struct pvkvm_blkif_request *r = slot();
		struct pvkvm_blkif_request good = rw_req(PVKVM_BLKIF_OP_READ, 100 + round, 0, ref);
		struct pvkvm_blkif_request bad = good;

		bad.u.seg[0].last_sect = 200;
		bad.sector_number = ~0ull;
		*r = good;
		push();
		/* Only bytes past the first 16: those hold the answer later, and
		 * rewriting them would be corrupting our own response. */
		for (unsigned int k = 0; k < 2000; k++) {
			__atomic_store_n(&r->sector_number, k & 1 ? bad.sector_number : 0,
					 __ATOMIC_RELAXED);
			__atomic_store_n(&r->u.seg[0].last_sect,
					 k & 1 ? bad.u.seg[0].last_sect : 7, __ATOMIC_RELAXED);
		}
		if (take(&rsp) < 0) {
			fail(c, "no answer in round", round);
			return;
		}
		/* The slot now holds the response: the id must be ours. */
		if (rsp.id != 100 + round)
			fail(c, "id", (long)rsp.id);
	}
}

/* The ring filled again and again without reading answers until it is
 * full of them: in flight never exceeds the ring. */
static void case_flood(const char *c)
{
	uint8_t *p = page_alloc(1);
	uint32_t ref = grant_page(p, false);
	struct pvkvm_blkif_response rsp;

	for (unsigned int round = 0; round < 50; round++) {
		struct pvkvm_blkif_request *r;
		unsigned int n = 0;

		while ((r = slot())) {
			*r = rw_req(PVKVM_BLKIF_OP_READ, n, (n * 8) % 1024, ref);
			n++;
		}
		push();
		for (unsigned int i = 0; i < n; i++)
			if (take(&rsp) < 0) {
				fail(c, "answers", i);
				return;
			}
	}
}

static void case_notify_storm(const char *c)
{
	for (unsigned int i = 0; i < 200000; i++)
		evtchn_send(h.port);
	uint8_t *p = page_alloc(1);
	struct pvkvm_blkif_request req = rw_req(PVKVM_BLKIF_OP_READ, 17, 0, grant_page(p, false));
	expect(c, &req, PVKVM_BLKIF_RSP_OKAY);
}

/* Close with the ring full of writes in flight, then open anew and work. */
static void case_reopen(const char *c)
{
	for (unsigned int round = 0; round < 5; round++) {
		struct pvkvm_blkif_request *r;
		unsigned int n = 0;

		while ((r = slot())) {
			uint8_t *p = page_alloc(1);
			for (unsigned int s = 0; s < 8; s++)
				blk_pattern_fill(p + s * 512, n * 8 + s, 5);
			*r = rw_req(PVKVM_BLKIF_OP_WRITE, n, n * 8, grant_page(p, true));
			n++;
		}
		push();
		if (hfe_close() < 0)
			fail(c, "backend did not close", round);
		if (hfe_open() < 0) {
			fail(c, "reopen", round);
			return;
		}
	}
	uint8_t *q = page_alloc(1);
	struct pvkvm_blkif_request req = rw_req(PVKVM_BLKIF_OP_READ, 18, 0, grant_page(q, false));
	expect(c, &req, PVKVM_BLKIF_RSP_OKAY);
}

/* ---- the other disk ----------------------------------------------------------- */

static void check_other_disk(void)
{
	struct blk_dev *d;
	uint8_t *buf = page_alloc(8);

	if (blk_open(BLK_MODE_PV, 1, &d) < 0) {
		fail("disk1", "open", 0);
		return;
	}
	for (unsigned int s = 0; s < 64; s += 8) {
		for (unsigned int k = 0; k < 8; k++)
			blk_pattern_fill(buf + k * 512, s + k, 9);
		if (blk_rw(d, BLK_OP_WRITE, s, 8, buf) < 0)
			fail("disk1", "write", s);
	}
	if (blk_rw(d, BLK_OP_FLUSH, 0, 0, NULL) < 0)
		fail("disk1", "flush", 0);
	for (unsigned int s = 0; s < 64; s += 8) {
		memset(buf, 0, 8 * 512);
		if (blk_rw(d, BLK_OP_READ, s, 8, buf) < 0)
			fail("disk1", "read", s);
		for (unsigned int k = 0; k < 8; k++)
			if (blk_pattern_check(buf + k * 512, s + k, 9) >= 0)
				fail("disk1", "data", s + k);
	}
	if (!failures)
		printf("hostileblk: disk1: ok\n");
}

/* Not an attack: the writer the crash-consistency test kills at random.
 * Generation g writes sectors [8g, 8g + 8) with the pattern of seed
 * (seed << 20) + g, flushes, and only when the flush is acknowledged says
 * "durable: g". Whatever the host kills, every g said must be on disk. */
static int durable(const char *arg)
{
	struct blk_dev *d;
	uint64_t seed = 0;
	uint8_t *buf = page_alloc(1);

	parse_u64(arg, &seed);
	if (blk_open(BLK_MODE_PV, 0, &d) < 0)
		return 1;
	uint64_t gens = d->info.sectors / 8;
	for (uint64_t g = 0; g < gens; g++) {
		for (unsigned int k = 0; k < 8; k++)
			blk_pattern_fill(buf + k * 512, g * 8 + k, (seed << 20) + g);
		if (blk_rw(d, BLK_OP_WRITE, g * 8, 8, buf) < 0 ||
		    blk_rw(d, BLK_OP_FLUSH, 0, 0, NULL) < 0) {
			printf("durable: I/O error at %lu\n", (unsigned long)g);
			return 1;
		}
		printf("durable: %lu\n", (unsigned long)g);
		console_flush();
	}
	return 0;
}

static const struct {
	const char *name;
	void (*run)(const char *c);
} cases[] = {
	{ "prod-impossible", case_prod_impossible },
	{ "prod-past", case_prod_past },
	{ "grants", case_grants },
	{ "segments", case_segments },
	{ "sectors", case_sectors },
	{ "nsegs", case_nsegs },
	{ "indirect", case_indirect },
	{ "ops", case_ops },
	{ "dup-ids", case_dup_ids },
	{ "rewrite", case_rewrite },
	{ "flood", case_flood },
	{ "notify-storm", case_notify_storm },
	{ "reopen", case_reopen },
};

int prog_hostile_blk(int argc, char **argv)
{
	if (argc < 1) {
		printf("hostileblk: which case?");
		for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
			printf(" %s", cases[i].name);
		printf("\n");
		return 1;
	}
	if (!strcmp(argv[0], "durable"))
		return durable(argc > 1 ? argv[1] : "0");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (strcmp(cases[i].name, argv[0]))
			continue;
		if (hfe_open() < 0) {
			fail(argv[0], "open disk 0", 0);
			return failures;
		}
		cases[i].run(argv[0]);
		if (!failures)
			printf("hostileblk: %s: ok\n", argv[0]);
		check_other_disk();
		return failures;
	}
	printf("hostileblk: unknown case %s\n", argv[0]);
	return 1;
}
