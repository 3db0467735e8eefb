/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of ring/pvkvm_ring.h, single-threaded: every operation, the
 * 2^32 wrap, full/empty, notification suppression, broken-peer detection and
 * slot-count derivation. The two-thread test is test_ring_stress.c.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ring/pvkvm_ring.h"

struct t_req {
	uint32_t id;
	uint32_t val;
};
struct t_rsp {
	uint32_t id;
	int32_t status;
};
PVKVM_RING_DEFINE(t, struct t_req, struct t_rsp)

struct blkish_req {
	uint8_t bytes[112];
};
PVKVM_RING_DEFINE(blkish, struct blkish_req, uint64_t)

/* Bytes of shared memory holding exactly nr slots of the test ring. */
#define RING_BYTES(nr) (PVKVM_RING_HDR_SIZE + (nr) * sizeof(union t_slot))

struct pair {
	struct t_sring *s;
	struct t_front f;
	struct t_back b;
	size_t bytes;
};

/* A ring of nr slots whose four indices all start at start. */
static struct pair *pair_new(uint32_t nr, uint32_t start)
{
	struct pair *p = calloc(1, sizeof(*p));

	cr_assert(p);
	p->bytes = RING_BYTES(nr);
	/* exact size, so ASan catches any access past the last slot */
	cr_assert_eq(posix_memalign((void **)&p->s, 64, p->bytes), 0);
	memset(p->s, 0xa5, p->bytes);
	t_sring_init(p->s);
	p->s->hdr.req_prod = p->s->hdr.rsp_prod = start;
	p->s->hdr.req_event = p->s->hdr.rsp_event = start + 1;
	cr_assert_eq(t_front_init(&p->f, p->s, p->bytes), 0);
	cr_assert_eq(t_back_init(&p->b, p->s, p->bytes), 0);
	cr_assert_eq(p->f.nr_slots, nr);
	return p;
}

static void pair_free(struct pair *p)
{
	free(p->s);
	free(p);
}

/* Frontend queues n requests with ids id0.. and pushes; returns notify. */
static bool send_reqs(struct pair *p, uint32_t id0, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct t_req *r = t_front_next_req(&p->f);

		cr_assert(r, "slot for request %u", id0 + i);
		r->id = id0 + i;
		r->val = (id0 + i) * 7u;
	}
	return t_front_push_reqs(&p->f);
}

/* Backend takes every request, checks ids from id0, answers each; returns
 * how many it served and whether the push asked for a notification. */
static uint32_t serve_all(struct pair *p, uint32_t id0, bool *notify)
{
	struct t_req req;
	uint32_t n = 0;
	int rc;

	while ((rc = t_back_take_req(&p->b, &req)) == 1) {
		struct t_rsp *rsp = t_back_next_rsp(&p->b);

		cr_assert_eq(req.id, id0 + n);
		cr_assert_eq(req.val, (id0 + n) * 7u);
		cr_assert(rsp);
		rsp->id = req.id;
		rsp->status = (int32_t)req.val;
		n++;
	}
	cr_assert_eq(rc, 0);
	*notify = t_back_push_rsps(&p->b);
	return n;
}

static uint32_t collect_all(struct pair *p, uint32_t id0)
{
	struct t_rsp rsp;
	uint32_t n = 0;
	int rc;

	while ((rc = t_front_take_rsp(&p->f, &rsp)) == 1) {
		cr_assert_eq(rsp.id, id0 + n);
		cr_assert_eq(rsp.status, (int32_t)((id0 + n) * 7u));
		n++;
	}
	cr_assert_eq(rc, 0);
	return n;
}

/* ------------------------------------------------------------- layout */

Test(ring_layout, header_offsets_and_slots_at_256)
{
	cr_assert_eq(sizeof(struct pvkvm_ring_hdr), 256);
	cr_assert_eq(offsetof(struct pvkvm_ring_hdr, req_prod), 0);
	cr_assert_eq(offsetof(struct pvkvm_ring_hdr, req_event), 64);
	cr_assert_eq(offsetof(struct pvkvm_ring_hdr, rsp_prod), 128);
	cr_assert_eq(offsetof(struct pvkvm_ring_hdr, rsp_event), 192);
	cr_assert_eq(offsetof(struct t_sring, slot), 256);
	cr_assert_eq(offsetof(struct blkish_sring, slot), 256);
	cr_assert_eq(PVKVM_RING_SUPPRESS, 0);
	cr_assert_eq(PVKVM_RING_ALWAYS, 1);
	cr_assert_eq(PVKVM_RING_PEER_POLLS, 2);
}

Test(ring_layout, slot_count_one_page)
{
	/* 8-byte slots: (4096 - 256) / 8 = 480 -> 256 */
	cr_assert_eq(t_ring_slots(4096), 256);
	/* 112-byte slots: 3840 / 112 = 34 -> 32 */
	cr_assert_eq(blkish_ring_slots(4096), 32);
}

Test(ring_layout, slot_count_multi_page)
{
	cr_assert_eq(t_ring_slots(4096u << 1), 512);  /* 7936 / 8 = 992 */
	cr_assert_eq(t_ring_slots(4096u << 4), 4096); /* 65280 / 8 = 8160 */
	cr_assert_eq(blkish_ring_slots(4096u << 2), 128); /* 16128 / 112 = 144 */
	cr_assert_eq(blkish_ring_slots(4096u << 8), 8192); /* 1048320/112 = 9360 */
}

Test(ring_layout, slot_count_edges)
{
	cr_assert_eq(t_ring_slots(0), 0);
	cr_assert_eq(t_ring_slots(256), 0);
	cr_assert_eq(t_ring_slots(256 + 7), 0);
	cr_assert_eq(t_ring_slots(256 + 8), 1);
	cr_assert_eq(t_ring_slots(256 + 8 * 3), 2);
	cr_assert_eq(t_ring_slots(256 + 8 * 4), 4);
	cr_assert_eq(t_ring_slots(256 + 8 * 4 - 1), 2);
	/* a huge mapping still gives a count the 32-bit indices can handle */
	cr_assert_eq(pvkvm_ring_slots_for((size_t)1 << 40, 1), PVKVM_RING_MAX_SLOTS);
}

/* ---------------------------------------------------------------- init */

Test(ring_init, sring_init_sets_indices_and_events)
{
	struct pair *p = pair_new(8, 12345);

	t_sring_init(p->s);
	cr_assert_eq(p->s->hdr.req_prod, 0);
	cr_assert_eq(p->s->hdr.rsp_prod, 0);
	cr_assert_eq(p->s->hdr.req_event, 1);
	cr_assert_eq(p->s->hdr.rsp_event, 1);
	pair_free(p);
}

Test(ring_init, too_small_is_refused)
{
	struct t_sring *s = aligned_alloc(64, 512);
	struct t_front f;
	struct t_back b;

	cr_assert(s);
	t_sring_init(s);
	cr_assert_eq(t_front_init(&f, s, 256 + 7), -1);
	cr_assert_eq(t_back_init(&b, s, 100), -1);
	cr_assert_eq(t_front_init(&f, s, 256 + 8), 0);
	cr_assert_eq(f.nr_slots, 1);
	cr_assert_eq(f.mode, PVKVM_RING_SUPPRESS);
	free(s);
}

Test(ring_init, back_attaches_to_rsp_prod_only)
{
	struct pair *p = pair_new(8, 0);

	/* a frontend left garbage in req_prod: the backend must not adopt it */
	p->s->hdr.rsp_prod = 1000;
	p->s->hdr.req_prod = 0xdeadbeef;
	cr_assert_eq(t_back_init(&p->b, p->s, p->bytes), 0);
	cr_assert_eq(p->b.req_cons, 1000);
	cr_assert_eq(p->b.rsp_prod_pvt, 1000);
	cr_assert_not(p->b.broken);
	/* ...and it notices the garbage as soon as it looks */
	struct t_req req;
	cr_assert_eq(t_back_take_req(&p->b, &req), -1);
	pair_free(p);
}

Test(ring_init, front_attach_with_impossible_indices_is_broken)
{
	struct pair *p = pair_new(8, 0);

	p->s->hdr.req_prod = 9; /* 9 outstanding on an 8-slot ring */
	cr_assert_eq(t_front_init(&p->f, p->s, p->bytes), 0);
	cr_assert(p->f.broken);
	cr_assert_null(t_front_next_req(&p->f));
	pair_free(p);
}

/* ---------------------------------------------------------- empty/full */

Test(ring_ops, empty_ring)
{
	struct pair *p = pair_new(8, 0);
	struct t_req req;
	struct t_rsp rsp;

	cr_assert_eq(t_front_free_slots(&p->f), 8);
	cr_assert_eq(t_back_take_req(&p->b, &req), 0);
	cr_assert_eq(t_front_take_rsp(&p->f, &rsp), 0);
	cr_assert_null(t_back_next_rsp(&p->b), "no response without a request");
	cr_assert_not(t_front_push_reqs(&p->f), "nothing published, no notify");
	cr_assert_not(t_back_push_rsps(&p->b));
	pair_free(p);
}

Test(ring_ops, full_ring)
{
	struct pair *p = pair_new(8, 0);
	struct t_rsp rsp;
	bool notify;

	send_reqs(p, 0, 8);
	cr_assert_eq(t_front_free_slots(&p->f), 0);
	cr_assert_null(t_front_next_req(&p->f));
	cr_assert_eq(p->f.req_prod_pvt, 8, "a failed next_req must not advance");
	cr_assert_eq(serve_all(p, 0, &notify), 8);
	/* responses pending still occupy slots */
	cr_assert_eq(t_front_free_slots(&p->f), 0);
	cr_assert_eq(t_front_take_rsp(&p->f, &rsp), 1);
	cr_assert_eq(t_front_free_slots(&p->f), 1);
	cr_assert_eq(collect_all(p, 1), 7);
	cr_assert_eq(t_front_free_slots(&p->f), 8);
	pair_free(p);
}

Test(ring_ops, responses_only_for_taken_requests)
{
	struct pair *p = pair_new(4, 0);
	struct t_req req;

	send_reqs(p, 0, 3);
	cr_assert_eq(t_back_take_req(&p->b, &req), 1);
	cr_assert_eq(t_back_take_req(&p->b, &req), 1);
	cr_assert_not_null(t_back_next_rsp(&p->b));
	cr_assert_not_null(t_back_next_rsp(&p->b));
	cr_assert_null(t_back_next_rsp(&p->b));
	pair_free(p);
}

Test(ring_ops, back_takes_no_more_than_ring_holds)
{
	struct pair *p = pair_new(4, 0);
	struct t_req req;

	send_reqs(p, 0, 4);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(t_back_take_req(&p->b, &req), 1);
	cr_assert_eq(t_back_take_req(&p->b, &req), 0);
	/* a frontend that publishes a 5th request while 4 are unanswered
	 * would overwrite a slot the backend still needs for its response */
	p->s->hdr.req_prod = 5;
	cr_assert_eq(t_back_take_req(&p->b, &req), -1);
	pair_free(p);
}

Test(ring_ops, request_is_copied_out_once)
{
	struct pair *p = pair_new(4, 0);
	struct t_req req = { .id = UINT32_MAX, .val = UINT32_MAX };

	send_reqs(p, 0, 1);
	cr_assert_eq(t_back_take_req(&p->b, &req), 1);
	/* the frontend scribbles on the slot after the backend took it */
	p->s->slot[0].req.id = 999;
	p->s->slot[0].req.val = 999;
	cr_assert_eq(req.id, 0);
	cr_assert_eq(req.val, 0);
	pair_free(p);
}

/* ------------------------------------------------------------ wrapping */

static void run_through(uint32_t nr, uint32_t start, uint32_t rounds)
{
	struct pair *p = pair_new(nr, start);
	uint32_t id = 0;
	bool notify;

	for (uint32_t r = 0; r < rounds; r++) {
		uint32_t n = 1 + r % nr; /* vary the batch to hit every offset */

		send_reqs(p, id, n);
		cr_assert_eq(serve_all(p, id, &notify), n);
		cr_assert_eq(collect_all(p, id), n);
		id += n;
	}
	cr_assert_eq(p->f.req_prod_pvt, start + id);
	cr_assert_eq(p->s->hdr.req_prod, start + id);
	cr_assert_eq(p->s->hdr.rsp_prod, start + id);
	cr_assert_eq(p->b.req_cons, start + id);
	pair_free(p);
}

Test(ring_wrap, indices_wrap_at_2_32)
{
	uint32_t start = UINT32_MAX - 5;

	run_through(8, start, 20);
	/* the run must really have crossed zero */
	cr_assert_lt(start + (uint32_t)(20 * 4), start);
}

Test(ring_wrap, full_ring_across_the_wrap)
{
	struct pair *p = pair_new(8, UINT32_MAX - 3);
	bool notify;

	send_reqs(p, 0, 8);
	cr_assert_null(t_front_next_req(&p->f));
	cr_assert_eq(p->s->hdr.req_prod, 4u);
	cr_assert_eq(serve_all(p, 0, &notify), 8);
	cr_assert_eq(collect_all(p, 0), 8);
	cr_assert_eq(t_front_free_slots(&p->f), 8);
	pair_free(p);
}

Test(ring_wrap, one_slot_ring)
{
	run_through(1, UINT32_MAX - 2, 10);
}

/* -------------------------------------------------------- notification */

Test(ring_notify, crossed_event_rule)
{
	/* old < event <= new */
	cr_assert(pvkvm_ring_crossed_event(0, 1, 1));
	cr_assert(pvkvm_ring_crossed_event(0, 5, 3));
	cr_assert(pvkvm_ring_crossed_event(0, 5, 5));
	cr_assert_not(pvkvm_ring_crossed_event(0, 5, 0));
	cr_assert_not(pvkvm_ring_crossed_event(0, 5, 6));
	cr_assert_not(pvkvm_ring_crossed_event(5, 5, 5));
	/* the same across the wrap */
	cr_assert(pvkvm_ring_crossed_event(UINT32_MAX - 1, 1, 0));
	cr_assert(pvkvm_ring_crossed_event(UINT32_MAX - 1, 1, UINT32_MAX));
	cr_assert(pvkvm_ring_crossed_event(UINT32_MAX - 1, 1, 1));
	cr_assert_not(pvkvm_ring_crossed_event(UINT32_MAX - 1, 1, 2));
	cr_assert_not(pvkvm_ring_crossed_event(UINT32_MAX - 1, 1, UINT32_MAX - 1));
}

Test(ring_notify, first_push_wakes_a_fresh_backend)
{
	struct pair *p = pair_new(8, 0);

	cr_assert(send_reqs(p, 0, 1), "req_event starts at 1");
	cr_assert_not(send_reqs(p, 1, 1), "backend has not re-armed");
	pair_free(p);
}

/*
 * n single-request round trips. A consumer that re-arms (final check)
 * after draining must be notified every time; one that never re-arms only
 * once; ALWAYS mode notifies every push either way.
 */
static void count_notifications(enum pvkvm_ring_notify mode, bool rearm,
				uint32_t n, uint32_t want_req, uint32_t want_rsp)
{
	struct pair *p = pair_new(8, UINT32_MAX - 10);
	uint32_t req_notifies = 0, rsp_notifies = 0;
	bool rsp_notify;

	p->f.mode = mode;
	p->b.mode = mode;
	for (uint32_t i = 0; i < n; i++) {
		req_notifies += send_reqs(p, i, 1);
		cr_assert_eq(serve_all(p, i, &rsp_notify), 1);
		rsp_notifies += rsp_notify;
		if (rearm)
			cr_assert_not(t_back_final_check_reqs(&p->b));
		cr_assert_eq(collect_all(p, i), 1);
		if (rearm)
			cr_assert_not(t_front_final_check_rsps(&p->f));
	}
	cr_assert_eq(req_notifies, want_req);
	cr_assert_eq(rsp_notifies, want_rsp);
	pair_free(p);
}

Test(ring_notify, suppress_with_rearm_notifies_every_time)
{
	count_notifications(PVKVM_RING_SUPPRESS, true, 100, 100, 100);
}

Test(ring_notify, suppress_without_rearm_notifies_once)
{
	count_notifications(PVKVM_RING_SUPPRESS, false, 100, 1, 1);
}

Test(ring_notify, always_mode_notifies_every_push)
{
	count_notifications(PVKVM_RING_ALWAYS, false, 100, 100, 100);
}

/* The peer polls: pushes publish (it sees every item) but never notify,
 * even right after it armed its event index. */
Test(ring_notify, peer_polls_mode_publishes_and_never_notifies)
{
	struct pair *p = pair_new(8, UINT32_MAX - 3);
	uint32_t published = p->s->hdr.req_prod;

	p->f.mode = PVKVM_RING_PEER_POLLS;
	p->b.mode = PVKVM_RING_PEER_POLLS;
	count_notifications(PVKVM_RING_PEER_POLLS, true, 20, 0, 0);
	cr_assert_not(t_back_final_check_reqs(&p->b)); /* armed: req_event = cons + 1 */
	cr_assert_not(send_reqs(p, 0, 3));
	cr_assert_eq(p->s->hdr.req_prod, published + 3);
	pair_free(p);
}

/* A frontend with 6 in flight asks to sleep until 3 are answered: the
 * event is cons + 3, the check says "sleep" below that, the backend's push
 * notifies exactly when it reaches the third, and a wait beyond what is in
 * flight is cut to what is in flight. */
Test(ring_notify, final_check_rsps_batch_wakes_after_n)
{
	struct pair *p = pair_new(8, UINT32_MAX - 1);
	struct t_req req = { 0 };
	bool notify;

	send_reqs(p, 0, 6);
	cr_assert_not(t_front_final_check_rsps_batch(&p->f, 3));
	cr_assert_eq(p->s->hdr.rsp_event, p->f.rsp_cons + 3);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(t_back_take_req(&p->b, &req), 1);
		struct t_rsp *rsp = t_back_next_rsp(&p->b);

		rsp->id = req.id;
		rsp->status = (int32_t)req.val;
		notify = t_back_push_rsps(&p->b);
		cr_assert_eq(notify, i == 2, "response %d: notify %d", i, notify);
		if (i < 2)
			cr_assert_not(t_front_final_check_rsps_batch(&p->f, 3));
	}
	cr_assert(t_front_final_check_rsps_batch(&p->f, 3));
	cr_assert_eq(collect_all(p, 0), 3);
	/* 3 in flight, none answered: a wait of 100 becomes 3 */
	cr_assert_not(t_front_final_check_rsps_batch(&p->f, 100));
	cr_assert_eq(p->s->hdr.rsp_event, p->f.rsp_cons + 3);
	/* 0 means the next one, like final_check_rsps */
	cr_assert_not(t_front_final_check_rsps_batch(&p->f, 0));
	cr_assert_eq(p->s->hdr.rsp_event, p->f.rsp_cons + 1);
	pair_free(p);
}

Test(ring_notify, batch_gets_one_notification)
{
	struct pair *p = pair_new(16, 0);
	bool notify;

	cr_assert(send_reqs(p, 0, 10));
	cr_assert_eq(serve_all(p, 0, &notify), 10);
	cr_assert(notify);
	pair_free(p);
}

Test(ring_notify, final_check_arms_event_and_sees_late_items)
{
	struct pair *p = pair_new(8, UINT32_MAX);
	bool notify;

	/* empty: arms event = cons + 1 (wrapping to 0) and says "sleep" */
	p->s->hdr.req_event = 42;
	cr_assert_not(t_back_final_check_reqs(&p->b));
	cr_assert_eq(p->s->hdr.req_event, 0u);
	/* a request published after arming must notify */
	cr_assert(send_reqs(p, 0, 1));
	/* pending items: the final check says "don't sleep" */
	cr_assert(t_back_final_check_reqs(&p->b));
	cr_assert_eq(serve_all(p, 0, &notify), 1);
	cr_assert(t_front_final_check_rsps(&p->f));
	cr_assert_eq(collect_all(p, 0), 1);
	cr_assert_not(t_front_final_check_rsps(&p->f));
	cr_assert_eq(p->s->hdr.rsp_event, p->f.rsp_cons + 1);
	pair_free(p);
}

/* ------------------------------------------------------- broken peers */

Test(ring_broken, request_producer_too_far_ahead)
{
	struct pair *p = pair_new(8, UINT32_MAX - 2);
	struct t_req req;

	p->s->hdr.req_prod = p->b.req_cons + 8; /* exactly full: fine */
	for (int i = 0; i < 8; i++)
		cr_assert_eq(t_back_take_req(&p->b, &req), 1);
	/* all 8 taken, none answered: a 9th would reuse an unanswered slot */
	p->s->hdr.req_prod = p->b.rsp_prod_pvt + 9;
	cr_assert_eq(t_back_take_req(&p->b, &req), -1);
	cr_assert(p->b.broken);
	/* and stays broken even if the frontend puts things right */
	p->s->hdr.req_prod = p->b.req_cons;
	cr_assert_eq(t_back_take_req(&p->b, &req), -1);
	cr_assert_null(t_back_next_rsp(&p->b));
	cr_assert_not(t_back_push_rsps(&p->b));
	cr_assert(t_back_final_check_reqs(&p->b), "broken: never sleep on it");
	pair_free(p);
}

Test(ring_broken, request_producer_moved_backwards)
{
	struct pair *p = pair_new(8, 5);
	struct t_req req;

	send_reqs(p, 0, 3);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(t_back_take_req(&p->b, &req), 1);
	p->s->hdr.req_prod = p->b.req_cons - 1;
	cr_assert_eq(t_back_take_req(&p->b, &req), -1);
	pair_free(p);
}

/*
 * The peer's producer index is read once per batch: when everything seen at
 * the last read is taken. What the frontend writes there in between is
 * checked at the next read, and nothing taken before that lay outside the
 * range checked when it was read.
 */
Test(ring_broken, producer_index_checked_at_each_read)
{
	struct pair *p = pair_new(8, UINT32_MAX - 1);
	struct t_req req = { 0 };

	send_reqs(p, 0, 3);
	cr_assert_eq(t_back_take_req(&p->b, &req), 1);
	cr_assert_eq(req.id, 0);
	p->s->hdr.req_prod = p->b.req_cons + 100; /* bogus, while 2 are seen */
	cr_assert_eq(t_back_take_req(&p->b, &req), 1);
	cr_assert_eq(req.id, 1);
	cr_assert_eq(t_back_take_req(&p->b, &req), 1);
	cr_assert_eq(req.id, 2);
	cr_assert_not(p->b.broken);
	cr_assert_eq(t_back_take_req(&p->b, &req), -1, "the next read sees it");
	cr_assert(p->b.broken);
	pair_free(p);
}

Test(ring_broken, response_index_checked_at_each_read)
{
	struct pair *p = pair_new(8, 7);
	struct t_rsp rsp = { 0 };
	bool notify;

	send_reqs(p, 0, 2);
	serve_all(p, 0, &notify);
	cr_assert_eq(t_front_take_rsp(&p->f, &rsp), 1);
	p->s->hdr.rsp_prod = p->f.rsp_cons + 50;
	cr_assert_eq(t_front_take_rsp(&p->f, &rsp), 1);
	cr_assert_eq(rsp.id, 1);
	cr_assert_eq(t_front_take_rsp(&p->f, &rsp), -1);
	cr_assert(p->f.broken);
	pair_free(p);
}

Test(ring_broken, response_producer_beyond_requests)
{
	struct pair *p = pair_new(8, UINT32_MAX - 1);
	struct t_rsp rsp;

	send_reqs(p, 0, 3);
	/* 3 requests made; a 4th response is impossible even though the
	 * ring has room for 8 */
	p->s->hdr.rsp_prod = p->f.rsp_cons + 4;
	cr_assert_eq(t_front_take_rsp(&p->f, &rsp), -1);
	cr_assert(p->f.broken);
	p->s->hdr.rsp_prod = p->f.rsp_cons;
	cr_assert_eq(t_front_take_rsp(&p->f, &rsp), -1, "broken for good");
	cr_assert_null(t_front_next_req(&p->f));
	cr_assert_eq(t_front_free_slots(&p->f), 0);
	cr_assert(t_front_final_check_rsps(&p->f));
	pair_free(p);
}

Test(ring_broken, response_producer_moved_backwards)
{
	struct pair *p = pair_new(8, 0);
	struct t_rsp rsp;
	bool notify;

	send_reqs(p, 0, 2);
	serve_all(p, 0, &notify);
	cr_assert_eq(collect_all(p, 0), 2);
	p->s->hdr.rsp_prod = p->f.rsp_cons - 1;
	cr_assert_eq(t_front_take_rsp(&p->f, &rsp), -1);
	pair_free(p);
}

Test(ring_broken, response_producer_exactly_at_requests_is_fine)
{
	struct pair *p = pair_new(8, 0);
	struct t_rsp rsp;

	send_reqs(p, 0, 3);
	p->s->hdr.rsp_prod = p->f.rsp_cons + 3;
	cr_assert_eq(t_front_take_rsp(&p->f, &rsp), 1);
	pair_free(p);
}
