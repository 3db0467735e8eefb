// SPDX-License-Identifier: MIT
/*
 * The ring (ring/pvkvm_ring.h) under an adversarial peer. Two rings share
 * one memfd-backed buffer with the harness, which plays the hostile side
 * through its own mapping:
 *  - ring A: our backend consumes requests a hostile frontend produces
 *    (any req_prod, any slot contents, rewritten between takes);
 *  - ring B: our frontend consumes responses a hostile backend produces.
 * The consumers read through a second mapping watched by the double-fetch
 * detector: a slot byte read twice while taking one item fails the run.
 * A guard page after each ring catches reads past its last slot.
 *
 * Input: byte 0 = ring order (0..2); then ops, one byte each plus operands:
 *   0 req_prod = u32     1 write A slot[u8] = 112 bytes   2 back take
 *   3 back respond       4 back push                       5 back final check
 *   6 rsp_prod = u32     7 write B slot[u8] = 16 bytes     8 front take
 *   9 front next req + push    10 front final check
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hypercall/pvkvm_blkif.h"
#include "tests/fuzz/dfetch.h"

#define PAGE 4096u
#define MAX_RING (4u * PAGE)
#define SPAN (MAX_RING + PAGE) /* ring + guard */

static uint8_t *hostile_a, *hostile_b; /* the peer's view */
static uint8_t *ours_a, *ours_b;       /* the consumer's view (watched) */

static void check(int cond)
{
	if (!cond)
		abort();
}

static void map_ring(int fd, off_t off, uint8_t **hostile, uint8_t **ours)
{
	*hostile = mmap(NULL, MAX_RING, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	uint8_t *span = mmap(NULL, SPAN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(*hostile != MAP_FAILED && span != MAP_FAILED);
	*ours = mmap(span, MAX_RING, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, off);
	check(*ours == span);
}

static void init(void)
{
	int fd = memfd_create("fuzz-ring", MFD_CLOEXEC);
	check(fd >= 0 && ftruncate(fd, 2 * MAX_RING) == 0);
	map_ring(fd, 0, &hostile_a, &ours_a);
	map_ring(fd, MAX_RING, &hostile_b, &ours_b);
	dfetch_init();
}

struct input {
	const uint8_t *p;
	size_t n;
};

static int take(struct input *in, void *dst, size_t len)
{
	if (in->n < len)
		return -1;
	memcpy(dst, in->p, len);
	in->p += len;
	in->n -= len;
	return 0;
}

static void back_invariants(const struct blkif_back *b)
{
	check((uint32_t)(b->req_cons - b->rsp_prod_pvt) <= b->nr_slots);
	check((uint32_t)(b->req_prod_seen - b->req_cons) <= b->nr_slots);
}

static void front_invariants(const struct blkif_front *f)
{
	check((uint32_t)(f->req_prod_pvt - f->rsp_cons) <= f->nr_slots);
	check((uint32_t)(f->rsp_prod_seen - f->rsp_cons) <= f->nr_slots);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!hostile_a)
		init();
	struct input in = { data, size };
	uint8_t order;
	if (take(&in, &order, 1))
		return 0;
	size_t bytes = (size_t)PAGE << (order % 3);
	memset(hostile_a, 0, MAX_RING);
	memset(hostile_b, 0, MAX_RING);
	/* The ring ends at the guard page. */
	uint8_t *a = ours_a + MAX_RING - bytes, *ha = hostile_a + MAX_RING - bytes;
	uint8_t *b = ours_b + MAX_RING - bytes, *hb = hostile_b + MAX_RING - bytes;
	blkif_sring_init((struct blkif_sring *)ha);
	blkif_sring_init((struct blkif_sring *)hb);
	struct blkif_back back;
	struct blkif_front front;
	check(blkif_back_init(&back, (struct blkif_sring *)a, bytes) == 0);
	check(blkif_front_init(&front, (struct blkif_sring *)b, bytes) == 0);
	uint32_t nr = back.nr_slots;
	struct pvkvm_ring_hdr *hhdr_a = (struct pvkvm_ring_hdr *)ha;
	struct pvkvm_ring_hdr *hhdr_b = (struct pvkvm_ring_hdr *)hb;
	dfetch_watch(a, bytes, PVKVM_RING_HDR_SIZE);
	dfetch_watch(b, bytes, PVKVM_RING_HDR_SIZE);

	bool back_broken = false, front_broken = false;
	uint8_t op;
	while (take(&in, &op, 1) == 0) {
		uint32_t v;
		uint8_t idx;
		switch (op % 11) {
		case 0:
			if (take(&in, &v, 4) == 0)
				__atomic_store_n(&hhdr_a->req_prod, v, __ATOMIC_RELEASE);
			break;
		case 1:
			if (take(&in, &idx, 1) == 0) {
				uint8_t *slot = ha + PVKVM_RING_HDR_SIZE +
						(size_t)(idx % nr) * sizeof(union blkif_slot);
				size_t have = in.n < 112 ? in.n : 112;
				take(&in, slot, have);
			}
			break;
		case 2: {
			struct pvkvm_blkif_request req;
			uint32_t cons = back.req_cons;
			dfetch_next_request();
			int r = blkif_back_take_req(&back, &req);
			check(!back_broken || r == -1);
			if (r < 0)
				back_broken = true;
			if (r == 1) {
				/* Taken from a batch whose req_prod was sane when
				 * read (it is read once per batch, then trusted). */
				uint32_t prod = back.req_prod_seen;
				check(back.req_cons == cons + 1);
				check((uint32_t)(prod - cons) <= nr && prod != cons);
			} else {
				check(back.req_cons == cons);
			}
			back_invariants(&back);
			break;
		}
		case 3: {
			struct pvkvm_blkif_response *rsp = blkif_back_next_rsp(&back);
			if (rsp)
				*rsp = (struct pvkvm_blkif_response){ .id = back.rsp_prod_pvt };
			back_invariants(&back);
			break;
		}
		case 4:
			(void)blkif_back_push_rsps(&back);
			break;
		case 5:
			(void)blkif_back_final_check_reqs(&back);
			break;
		case 6:
			if (take(&in, &v, 4) == 0)
				__atomic_store_n(&hhdr_b->rsp_prod, v, __ATOMIC_RELEASE);
			break;
		case 7:
			if (take(&in, &idx, 1) == 0) {
				uint8_t *slot = hb + PVKVM_RING_HDR_SIZE +
						(size_t)(idx % nr) * sizeof(union blkif_slot);
				size_t have = in.n < 16 ? in.n : 16;
				take(&in, slot, have);
			}
			break;
		case 8: {
			struct pvkvm_blkif_response rsp;
			uint32_t cons = front.rsp_cons;
			dfetch_next_request();
			int r = blkif_front_take_rsp(&front, &rsp);
			check(!front_broken || r == -1);
			if (r < 0)
				front_broken = true;
			check(front.rsp_cons == cons + (r == 1));
			front_invariants(&front);
			break;
		}
		case 9: {
			struct pvkvm_blkif_request *req = blkif_front_next_req(&front);
			if (req)
				memset(req, 0, sizeof(*req));
			(void)blkif_front_push_reqs(&front);
			front_invariants(&front);
			break;
		}
		case 10:
			(void)blkif_front_final_check_rsps(&front);
			break;
		}
	}
	dfetch_unwatch_all();
	return 0;
}
