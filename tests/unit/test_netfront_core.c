// SPDX-License-Identifier: MIT
/*
 * netfront_core (guest-drivers/core/) on the host: a fake grant table and
 * the rings' backend halves stand in for the VMM, so what the core puts
 * on the wire (tx slots, posted rx pages, grants) and what it does with
 * answers (unknown and duplicate ids, error slots, chains it never asked
 * for, a broken ring) can be checked exactly.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "guest-drivers/core/netfront_core.c"

#define FAKE_REFS 1024

struct fake {
	struct { uint64_t frame; bool ro; bool live; } g[FAKE_REFS];
	uint32_t next;
	unsigned int notifies;
};

static int f_grant(void *ctx, uint64_t frame, bool ro)
{
	struct fake *f = ctx;

	if (f->next == FAKE_REFS)
		return -PVKVM_ENOSPC;
	uint32_t r = f->next++;
	f->g[r].frame = frame, f->g[r].ro = ro, f->g[r].live = true;
	return (int)r;
}

static void f_notify(void *ctx) { ((struct fake *)ctx)->notifies++; }

static void *f_alloc(void *ctx, size_t n)
{
	(void)ctx;
	void *p = aligned_alloc(4096, n * 4096);
	memset(p, 0, n * 4096);
	return p; /* leaked: the core keeps its memory for good */
}

static uint64_t f_frame(void *ctx, const void *va)
{
	(void)ctx;
	return (uint64_t)(uintptr_t)va / 4096;
}

static struct fake F;
static struct netfront_core C;
static struct netif_tx_back TB;
static struct netif_rx_back RB;

/* The page a grant names, as the backend would map it. */
static uint8_t *page_of(uint32_t ref)
{
	cr_assert(ref > 0 && ref < FAKE_REFS && F.g[ref].live, "bad gref %u", ref);
	return (uint8_t *)(uintptr_t)(F.g[ref].frame * 4096);
}

static void setup(void)
{
	memset(&F, 0, sizeof(F));
	F.next = 1;
	struct netfront_ops ops = { f_grant, f_notify, f_alloc, f_frame, &F };
	cr_assert_eq(netfront_core_init(&C, &ops), 0);
	cr_assert_eq(netif_tx_back_init(&TB, C.tx_sring, 4096), 0);
	cr_assert_eq(netif_rx_back_init(&RB, C.rx_sring, 4096), 0);
}

TestSuite(netfront_core, .init = setup);

static void frame_of(uint8_t *f, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		f[i] = (uint8_t)(seed * 13 + i);
}

/* The backend answers every tx request with status. */
static int back_answer_tx(int16_t status, uint8_t *last, size_t *last_len)
{
	struct pvkvm_netif_tx_request req = { 0 };
	int n = 0;

	while (netif_tx_back_take_req(&TB, &req) == 1) {
		if (last) {
			memcpy(last, page_of(req.gref) + req.offset, req.size);
			*last_len = req.size;
		}
		struct pvkvm_netif_tx_response *rsp = netif_tx_back_next_rsp(&TB);
		rsp->id = req.id;
		rsp->status = status;
		rsp->reserved = 0;
		n++;
	}
	netif_tx_back_push_rsps(&TB);
	return n;
}

/* The backend delivers one frame into the next posted rx page. */
static void back_deliver(const void *data, int16_t len, uint16_t flags,
			 int id_override)
{
	struct pvkvm_netif_rx_request req = { 0 };

	cr_assert_eq(netif_rx_back_take_req(&RB, &req), 1, "no rx page posted");
	if (len > 0)
		memcpy(page_of(req.gref), data, (size_t)len);
	struct pvkvm_netif_rx_response *rsp = netif_rx_back_next_rsp(&RB);
	memset(rsp, 0, sizeof(*rsp));
	rsp->id = id_override >= 0 ? (uint16_t)id_override : req.id;
	rsp->status = len;
	rsp->flags = flags;
	rsp->total_len = len > 0 ? (uint16_t)len : 0;
	netif_rx_back_push_rsps(&RB);
}

Test(netfront_core, grants_rings_rw_tx_pages_ro_rx_pages_rw)
{
	cr_assert_eq(C.nr_tx, PVKVM_NETIF_RING_SLOTS);
	cr_assert_eq(C.nr_rx, PVKVM_NETIF_RING_SLOTS);
	cr_assert_not(F.g[C.tx_ring_ref].ro);
	cr_assert_not(F.g[C.rx_ring_ref].ro);
	for (uint32_t i = 0; i < C.nr_tx; i++)
		cr_assert(F.g[C.tx_grefs[i]].ro, "tx page %u granted writable", i);
	for (uint32_t i = 0; i < C.nr_rx; i++)
		cr_assert_not(F.g[C.rx_grefs[i]].ro, "rx page %u read-only", i);
	/* Two rings + one grant per buffer, nothing more. */
	cr_assert_eq(F.next - 1, 2 + C.nr_tx + C.nr_rx);
}

Test(netfront_core, a_frame_goes_out_as_one_slot_and_is_reaped)
{
	uint8_t f[1514], seen[4096];
	size_t seen_len = 0;

	frame_of(f, sizeof(f), 1);
	cr_assert_eq(netfront_core_tx_queue(&C, f, sizeof(f)), 0);
	/* Not visible before push. */
	cr_assert_eq(C.tx_sring->hdr.req_prod, 0);
	cr_assert(netfront_core_tx_push(&C), "the first push must kick (req_event 1)");
	cr_assert_eq(F.notifies, 1);

	struct pvkvm_netif_tx_request *req = &C.tx_sring->slot[0].req;
	cr_assert_eq(req->size, sizeof(f));
	cr_assert_eq(req->total_len, sizeof(f));
	cr_assert_eq(req->offset, 0);
	cr_assert_eq(req->flags, 0);
	cr_assert_eq(req->gso_type, 0);
	cr_assert_eq(req->reserved0 | req->reserved1, 0);

	cr_assert_eq(back_answer_tx(PVKVM_NETIF_RSP_OKAY, seen, &seen_len), 1);
	cr_assert_eq(seen_len, sizeof(f));
	cr_assert_arr_eq(seen, f, sizeof(f));
	cr_assert_eq(netfront_core_tx_free(&C), C.nr_tx - 1);
	cr_assert_eq(netfront_core_tx_reap(&C), 1);
	cr_assert_eq(netfront_core_tx_free(&C), C.nr_tx);
	cr_assert_eq(C.counters.tx_done, 1);
}

Test(netfront_core, a_full_ring_says_eagain_until_reaped)
{
	uint8_t f[60];

	frame_of(f, sizeof(f), 2);
	for (uint32_t i = 0; i < C.nr_tx; i++)
		cr_assert_eq(netfront_core_tx_queue(&C, f, sizeof(f)), 0, "frame %u", i);
	cr_assert_eq(netfront_core_tx_queue(&C, f, sizeof(f)), -PVKVM_EAGAIN);
	netfront_core_tx_push(&C);
	cr_assert_eq(back_answer_tx(PVKVM_NETIF_RSP_OKAY, NULL, NULL), (int)C.nr_tx);
	cr_assert_eq(netfront_core_tx_reap(&C), (int)C.nr_tx);
	cr_assert_eq(netfront_core_tx_queue(&C, f, sizeof(f)), 0);
}

Test(netfront_core, bad_lengths_are_refused)
{
	uint8_t f[4097] = { 0 };

	cr_assert_eq(netfront_core_tx_queue(&C, f, 13), -PVKVM_EINVAL);
	cr_assert_eq(netfront_core_tx_queue(&C, f, 4097), -PVKVM_EINVAL);
	cr_assert_eq(netfront_core_tx_queue(&C, f, 14), 0);
}

Test(netfront_core, tx_errors_and_drops_are_counted_and_free_the_buffer)
{
	uint8_t f[100] = { 0 };

	netfront_core_tx_queue(&C, f, sizeof(f));
	netfront_core_tx_queue(&C, f, sizeof(f));
	netfront_core_tx_push(&C);
	struct pvkvm_netif_tx_request req = { 0 };
	cr_assert_eq(netif_tx_back_take_req(&TB, &req), 1);
	*netif_tx_back_next_rsp(&TB) = (struct pvkvm_netif_tx_response){ req.id, PVKVM_NETIF_RSP_ERROR, 0 };
	cr_assert_eq(netif_tx_back_take_req(&TB, &req), 1);
	*netif_tx_back_next_rsp(&TB) = (struct pvkvm_netif_tx_response){ req.id, PVKVM_NETIF_RSP_DROPPED, 0 };
	netif_tx_back_push_rsps(&TB);
	cr_assert_eq(netfront_core_tx_reap(&C), 2);
	cr_assert_eq(C.counters.tx_errors, 1);
	cr_assert_eq(C.counters.tx_dropped, 1);
	cr_assert_eq(netfront_core_tx_free(&C), C.nr_tx);
}

Test(netfront_core, unknown_and_duplicate_tx_ids_free_nothing)
{
	uint8_t f[100] = { 0 };

	netfront_core_tx_queue(&C, f, sizeof(f));
	netfront_core_tx_push(&C);
	struct pvkvm_netif_tx_request req = { 0 };
	cr_assert_eq(netif_tx_back_take_req(&TB, &req), 1);
	*netif_tx_back_next_rsp(&TB) = (struct pvkvm_netif_tx_response){ req.id, 0, 0 };
	netif_tx_back_push_rsps(&TB);
	cr_assert_eq(netfront_core_tx_reap(&C), 1);
	/* The same id again, and one we never used: ignored. We may only
	 * answer requests taken, so queue two more to have the slots. */
	netfront_core_tx_queue(&C, f, sizeof(f));
	netfront_core_tx_queue(&C, f, sizeof(f));
	netfront_core_tx_push(&C);
	cr_assert_eq(netif_tx_back_take_req(&TB, &req), 1);
	cr_assert_eq(netif_tx_back_take_req(&TB, &req), 1);
	*netif_tx_back_next_rsp(&TB) = (struct pvkvm_netif_tx_response){ 9999, 0, 0 };
	*netif_tx_back_next_rsp(&TB) = (struct pvkvm_netif_tx_response){ (uint16_t)(req.id + 1), 0, 0 };
	netif_tx_back_push_rsps(&TB);
	cr_assert_eq(netfront_core_tx_reap(&C), 0);
	cr_assert_eq(C.nr_tx_free, C.nr_tx - 2);
}

Test(netfront_core, rx_pages_are_posted_filled_and_reposted)
{
	uint8_t f[1514], got[1514];
	uint16_t flags;

	cr_assert(netfront_core_rx_refill(&C), "first rx push kicks (req_event 1)");
	cr_assert_eq(C.rx_sring->hdr.req_prod, C.nr_rx);
	cr_assert_eq(C.nr_rx_idle, 0);
	frame_of(f, sizeof(f), 3);
	back_deliver(f, (int16_t)sizeof(f), PVKVM_NETIF_F_DATA_VALIDATED, -1);
	cr_assert_eq(netfront_core_rx_take(&C, got, sizeof(got), &flags), (int)sizeof(f));
	cr_assert_arr_eq(got, f, sizeof(f));
	cr_assert_eq(flags, PVKVM_NETIF_F_DATA_VALIDATED);
	cr_assert_eq(netfront_core_rx_take(&C, got, sizeof(got), &flags), 0);
	cr_assert_eq(C.nr_rx_idle, 1);
	netfront_core_rx_refill(&C);
	cr_assert_eq(C.rx_sring->hdr.req_prod, C.nr_rx + 1);
	cr_assert_eq(C.counters.rx_frames, 1);
}

Test(netfront_core, rx_errors_unknown_ids_and_chains_are_dropped)
{
	uint8_t f[200], got[2048];
	uint16_t flags;

	frame_of(f, sizeof(f), 4);
	netfront_core_rx_refill(&C);
	back_deliver(NULL, PVKVM_NETIF_RSP_ERROR, 0, -1);   /* error slot */
	back_deliver(f, 100, 0, 4000);                      /* id we never posted */
	back_deliver(f, 100, PVKVM_NETIF_F_MORE_DATA, -1);  /* a chain ... */
	back_deliver(f, 100, 0, -1);                        /* ... its tail */
	back_deliver(f, (int16_t)sizeof(f), 0, -1);         /* a good frame */
	cr_assert_eq(netfront_core_rx_take(&C, got, sizeof(got), &flags), (int)sizeof(f));
	cr_assert_arr_eq(got, f, sizeof(f));
	cr_assert_eq(C.counters.rx_errors, 1);
	cr_assert_eq(C.counters.rx_chains_dropped, 1);
	cr_assert_eq(C.counters.rx_frames, 1);
	/* Error page, both chain pages and the good one are back; the page
	 * the unknown id stood for is still the backend's (never answered). */
	cr_assert_eq(C.nr_rx_idle, 4);
}

Test(netfront_core, rx_too_big_for_the_callers_buffer_is_reported_not_copied)
{
	uint8_t f[1000], got[100];
	uint16_t flags;

	memset(got, 0xee, sizeof(got));
	frame_of(f, sizeof(f), 5);
	netfront_core_rx_refill(&C);
	back_deliver(f, (int16_t)sizeof(f), 0, -1);
	cr_assert_eq(netfront_core_rx_take(&C, got, sizeof(got), &flags), (int)sizeof(f));
	cr_assert_eq(got[0], 0xee);
	cr_assert_eq(C.counters.rx_too_big, 1);
}

Test(netfront_core, an_impossible_rsp_prod_breaks_the_queue_for_good)
{
	uint8_t f[100] = { 0 }, got[2048];
	uint16_t flags;

	netfront_core_rx_refill(&C);
	C.rx_sring->hdr.rsp_prod = 5000; /* beyond anything posted */
	cr_assert_eq(netfront_core_rx_take(&C, got, sizeof(got), &flags), -PVKVM_EIO);
	cr_assert(C.broken);
	cr_assert_eq(netfront_core_tx_queue(&C, f, sizeof(f)), -PVKVM_EIO);
	cr_assert(netfront_core_prepare_sleep(&C), "a broken queue must not sleep");
}

Test(netfront_core, a_bogus_tx_rsp_prod_breaks_the_queue)
{
	C.tx_sring->hdr.rsp_prod = 7; /* nothing was sent */
	cr_assert_eq(netfront_core_tx_reap(&C), -PVKVM_EIO);
	cr_assert_eq(netfront_core_tx_free(&C), 0);
}

Test(netfront_core, prepare_sleep_asks_for_the_next_rx_response)
{
	uint8_t f[100] = { 0 }, got[2048];
	uint16_t flags;

	netfront_core_rx_refill(&C);
	cr_assert_not(netfront_core_prepare_sleep(&C));
	cr_assert_eq(C.rx_sring->hdr.rsp_event, C.rx.rsp_cons + 1);
	back_deliver(f, sizeof(f), 0, -1);
	cr_assert(netfront_core_prepare_sleep(&C), "a response is there: do not sleep");
	cr_assert_eq(netfront_core_rx_take(&C, got, sizeof(got), &flags), (int)sizeof(f));
}

Test(netfront_core, tx_prepare_sleep_asks_to_be_woken_at_half_the_frames_out)
{
	uint8_t f[60] = { 0 };

	for (int i = 0; i < 64; i++)
		netfront_core_tx_queue(&C, f, sizeof(f));
	netfront_core_tx_push(&C);
	cr_assert_not(netfront_core_tx_prepare_sleep(&C));
	cr_assert_eq(C.tx_sring->hdr.rsp_event, 33u);
	back_answer_tx(0, NULL, NULL);
	cr_assert(netfront_core_tx_prepare_sleep(&C));
}

Test(netfront_core, suppressed_backend_gets_no_kick)
{
	uint8_t f[60] = { 0 };

	netfront_core_tx_queue(&C, f, sizeof(f));
	cr_assert(netfront_core_tx_push(&C));
	/* The backend is busy (req_event not moved): further pushes stay quiet. */
	for (int i = 0; i < 10; i++) {
		netfront_core_tx_queue(&C, f, sizeof(f));
		cr_assert_not(netfront_core_tx_push(&C));
	}
	cr_assert_eq(F.notifies, 1);
}
