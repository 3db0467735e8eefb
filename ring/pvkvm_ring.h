/* SPDX-License-Identifier: MIT */
/*
 * pvkvm_ring.h - Xen-style shared request/response rings.
 *
 * One page (or 2^order pages) of shared memory holds a 256-byte header of
 * free-running 32-bit indices and a power-of-two array of slots. A slot
 * carries a request from the frontend (the guest) and later the response to
 * it from the backend (the host). docs/ring.md explains the rules; in short:
 *
 *  - indices are free-running and wrap at 2^32; a slot is index & (n - 1);
 *  - a producer publishes with release and notifies only if the peer asked
 *    (its event index lies in (old, new]); a consumer about to sleep sets its
 *    event index and re-checks (final check): no wake-up is ever lost;
 *  - each request/response is copied out of shared memory once, into private
 *    memory, before anyone looks at it;
 *  - a peer's impossible producer index breaks the ring for good (-1).
 *
 * Use:
 *   PVKVM_RING_DEFINE(blk, struct blk_req, struct blk_rsp)
 * defines union blk_slot, struct blk_sring, struct blk_front, struct blk_back
 * and blk_* functions (see the macro at the end of this file).
 */
#ifndef PVKVM_RING_H
#define PVKVM_RING_H

#include "ring/pvkvm_ring_sys.h"

#define PVKVM_RING_HDR_SIZE 256u
#define PVKVM_RING_LINE 64u
/* Above this, free-running differences would be ambiguous. */
#define PVKVM_RING_MAX_SLOTS (1u << 31)

/*
 * The shared header. Each index has a 64-byte line to itself so the two
 * sides never write the same line (req_prod and rsp_event are the
 * frontend's, rsp_prod and req_event the backend's).
 */
struct pvkvm_ring_hdr {
	uint32_t req_prod;  /* frontend: requests published */
	uint8_t pad0[PVKVM_RING_LINE - 4];
	uint32_t req_event; /* backend: notify me when req_prod passes this */
	uint8_t pad1[PVKVM_RING_LINE - 4];
	uint32_t rsp_prod;  /* backend: responses published */
	uint8_t pad2[PVKVM_RING_LINE - 4];
	uint32_t rsp_event; /* frontend: notify me when rsp_prod passes this */
	uint8_t pad3[PVKVM_RING_LINE - 4];
};
PVKVM_RING_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_ring_hdr, req_prod) == 0,
			 "req_prod on line 0");
PVKVM_RING_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_ring_hdr, req_event) == 64,
			 "req_event on line 1");
PVKVM_RING_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_ring_hdr, rsp_prod) == 128,
			 "rsp_prod on line 2");
PVKVM_RING_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_ring_hdr, rsp_event) == 192,
			 "rsp_event on line 3");
PVKVM_RING_STATIC_ASSERT(sizeof(struct pvkvm_ring_hdr) == PVKVM_RING_HDR_SIZE,
			 "ring header is 4 cache lines");

enum pvkvm_ring_notify {
	PVKVM_RING_SUPPRESS = 0, /* notify only when the peer asked (event index) */
	PVKVM_RING_ALWAYS = 1,   /* notify on every push that published something */
	/* The peer busy-polls and never sleeps: publish with a release store
	 * only, never read its event index (no full barrier), never notify.
	 * A peer that does sleep on such a ring may never be woken. */
	PVKVM_RING_PEER_POLLS = 2,
};

/* ---------------------------------------------------------------------------
 * Type-independent helpers. The macro's functions are thin wrappers over
 * these, so the logic exists once.
 * ------------------------------------------------------------------------- */

/* Largest power of two n with 256 + n * slot_size <= bytes, or 0. */
static inline uint32_t pvkvm_ring_slots_for(size_t bytes, size_t slot_size)
{
	size_t fit;
	uint32_t n = 1;

	if (slot_size == 0 || bytes < PVKVM_RING_HDR_SIZE + slot_size)
		return 0;
	fit = (bytes - PVKVM_RING_HDR_SIZE) / slot_size;
	while (n < PVKVM_RING_MAX_SLOTS && (size_t)n * 2 <= fit)
		n *= 2;
	return n;
}

/*
 * Did the producer move past the consumer's event index? True iff
 * old < event <= new in wrapping arithmetic: all three are compared as
 * distances back from new, which stays correct across the 2^32 wrap.
 */
static inline bool pvkvm_ring_crossed_event(uint32_t old, uint32_t new_prod,
					    uint32_t event)
{
	return (uint32_t)(new_prod - event) < (uint32_t)(new_prod - old);
}

static inline void pvkvm_ring_hdr_init(struct pvkvm_ring_hdr *h)
{
	PVKVM_RING_STORE(&h->req_prod, 0u);
	PVKVM_RING_STORE(&h->rsp_prod, 0u);
	/* 1: the first item published wakes a consumer that never ran. */
	PVKVM_RING_STORE(&h->req_event, 1u);
	PVKVM_RING_STORE(&h->rsp_event, 1u);
}

/*
 * Publish a producer index and decide whether to notify. *published is the
 * producer's private copy of what it last published, so the shared index is
 * only ever written here, never read back (a read would pull the line back
 * from the consumer that is polling it).
 * The full store->load ordering is what makes this race-free: either the
 * consumer's later re-check sees new_prod, or we see its new event index.
 */
static inline bool pvkvm_ring_publish(uint32_t *prod, const uint32_t *event,
				      uint32_t *published, uint32_t new_prod,
				      enum pvkvm_ring_notify mode)
{
	uint32_t old = *published;

	if (old == new_prod)
		return false;
	*published = new_prod;
	if (mode == PVKVM_RING_PEER_POLLS) {
		PVKVM_RING_STORE_RELEASE(prod, new_prod);
		return false;
	}
	PVKVM_RING_STORE_SYNC(prod, new_prod);
	if (mode == PVKVM_RING_ALWAYS)
		return true;
	return pvkvm_ring_crossed_event(old, new_prod, PVKVM_RING_LOAD_SYNC(event));
}

/*
 * Consumer side of the same rule: before sleeping, ask to be woken when the
 * producer index reaches cons + wait (wait >= 1; 1: the very next item),
 * then look once more. True: at least `wait` items are there (or the index
 * is bogus and the caller's take will say so): do not sleep. The re-check
 * asks for as many items as the event does, so either it sees them or the
 * producer's push that reaches them sees the event (docs/ring.md).
 */
static inline bool pvkvm_ring_final_check(uint32_t *event, const uint32_t *prod,
					  uint32_t cons, uint32_t wait)
{
	if ((uint32_t)(PVKVM_RING_LOAD_ACQUIRE(prod) - cons) >= wait)
		return true;
	PVKVM_RING_STORE_SYNC(event, cons + wait);
	return (uint32_t)(PVKVM_RING_LOAD_SYNC(prod) - cons) >= wait;
}

/*
 * Backend: how many requests may be taken now, or -1 if the frontend's
 * req_prod is impossible. A sane req_prod lies in [req_cons, rsp_prod_pvt +
 * nr]: never behind what we consumed, and never more than a ring ahead of the
 * responses we produced (the frontend can't reuse slots we have not answered).
 */
static inline int64_t pvkvm_ring_reqs_ready(uint32_t req_prod, uint32_t req_cons,
					    uint32_t rsp_prod_pvt, uint32_t nr)
{
	uint32_t ahead_of_rsp = req_prod - rsp_prod_pvt;
	uint32_t taken = req_cons - rsp_prod_pvt;

	if (ahead_of_rsp > nr || ahead_of_rsp < taken)
		return -1;
	return ahead_of_rsp - taken;
}

/*
 * Frontend: how many responses may be taken now, or -1 if the backend's
 * rsp_prod is impossible: behind rsp_cons or beyond the requests we made
 * (which are never more than nr ahead of rsp_cons).
 */
static inline int64_t pvkvm_ring_rsps_ready(uint32_t rsp_prod, uint32_t rsp_cons,
					    uint32_t req_prod_pvt, uint32_t nr)
{
	uint32_t ready = rsp_prod - rsp_cons;

	if (ready > nr || ready > (uint32_t)(req_prod_pvt - rsp_cons))
		return -1;
	return ready;
}

/*
 * Copies one slot out of shared memory into private memory with a single
 * read of every byte: the volatile source keeps the compiler from dropping
 * the copy and reading the slot again later (a double fetch the peer could
 * race: check one value, use another). Xen's RING_COPY_REQUEST after
 * XSA-155 does the same. The copy compiles to the same loads as a plain
 * assignment; docs/ring.md has the measured cost.
 */
#define PVKVM_RING_COPY_ONCE_(dst, src) \
	(*(dst) = *(const volatile __typeof__(*(src)) *)(src))

/* ---------------------------------------------------------------------------
 * PVKVM_RING_DEFINE(name, req_type, rsp_type)
 *
 * Frontend:                               Backend:
 *   name_sring_init(s)                      name_back_init(b, s, bytes)
 *   name_front_init(f, s, bytes)            name_back_take_req(b, &req)  1/0/-1
 *   name_front_free_slots(f)                name_back_next_rsp(b)        slot|NULL
 *   name_front_next_req(f)  slot|NULL       name_back_push_rsps(b)       notify?
 *   name_front_push_reqs(f) notify?         name_back_final_check_reqs(b)
 *   name_front_take_rsp(f, &rsp) 1/0/-1
 *   name_front_final_check_rsps(f)
 *   name_front_final_check_rsps_batch(f, n)
 *
 * f->mode / b->mode: PVKVM_RING_SUPPRESS (default), _ALWAYS, _PEER_POLLS.
 * The peer's producer index is read when everything seen at the last read
 * has been taken (once per batch, not once per item) and checked each time.
 * ------------------------------------------------------------------------- */
#define PVKVM_RING_DEFINE(name, req_type, rsp_type)                            \
	union name##_slot {                                                    \
		req_type req;                                                  \
		rsp_type rsp;                                                  \
	};                                                                     \
	struct name##_sring {                                                  \
		struct pvkvm_ring_hdr hdr;                                     \
		union name##_slot slot[];                                      \
	};                                                                     \
	PVKVM_RING_STATIC_ASSERT(__builtin_offsetof(struct name##_sring, slot) \
					 == PVKVM_RING_HDR_SIZE,               \
				 #name ": slots start at byte 256");           \
	struct name##_front {                                                  \
		struct name##_sring *sring;                                    \
		uint32_t nr_slots;                                             \
		uint32_t req_prod_pvt; /* next request slot to fill */         \
		uint32_t rsp_cons;     /* next response to take */             \
		uint32_t req_prod_pub; /* req_prod as we last published it */  \
		uint32_t rsp_prod_seen; /* rsp_prod as last read and checked */ \
		bool broken;                                                   \
		enum pvkvm_ring_notify mode;                                   \
	};                                                                     \
	struct name##_back {                                                   \
		struct name##_sring *sring;                                    \
		uint32_t nr_slots;                                             \
		uint32_t rsp_prod_pvt; /* next response slot to fill */        \
		uint32_t req_cons;     /* next request to take */              \
		uint32_t rsp_prod_pub; /* rsp_prod as we last published it */  \
		uint32_t req_prod_seen; /* req_prod as last read and checked */ \
		bool broken;                                                   \
		enum pvkvm_ring_notify mode;                                   \
	};                                                                     \
	PVKVM_RING_DEFINE_COMMON_(name)                                        \
	PVKVM_RING_DEFINE_FRONT_(name, req_type, rsp_type)                     \
	PVKVM_RING_DEFINE_BACK_(name, req_type, rsp_type)

#define PVKVM_RING_DEFINE_COMMON_(name)                                        \
	static inline uint32_t name##_ring_slots(size_t bytes)                 \
	{                                                                      \
		return pvkvm_ring_slots_for(bytes, sizeof(union name##_slot)); \
	}                                                                      \
	static inline void name##_sring_init(struct name##_sring *s)           \
	{                                                                      \
		pvkvm_ring_hdr_init(&s->hdr);                                  \
	}                                                                      \
	static inline union name##_slot *name##_slot_at_(                      \
		struct name##_sring *s, uint32_t nr, uint32_t idx)             \
	{                                                                      \
		return &s->slot[idx & (nr - 1)];                               \
	}

#define PVKVM_RING_DEFINE_FRONT_(name, req_type, rsp_type)                     \
	/* Attaches to the indices found (sring_init first for a new ring). */ \
	static inline int name##_front_init(struct name##_front *f,            \
					    struct name##_sring *s,            \
					    size_t bytes)                      \
	{                                                                      \
		uint32_t nr = name##_ring_slots(bytes);                        \
		if (nr == 0)                                                   \
			return -1;                                             \
		f->sring = s;                                                  \
		f->nr_slots = nr;                                              \
		f->req_prod_pvt = PVKVM_RING_LOAD(&s->hdr.req_prod);           \
		f->rsp_cons = PVKVM_RING_LOAD(&s->hdr.rsp_prod);               \
		f->req_prod_pub = f->req_prod_pvt;                             \
		f->rsp_prod_seen = f->rsp_cons;                                \
		f->broken = (uint32_t)(f->req_prod_pvt - f->rsp_cons) > nr;    \
		f->mode = PVKVM_RING_SUPPRESS;                                 \
		return 0;                                                      \
	}                                                                      \
	static inline uint32_t name##_front_free_slots(                        \
		const struct name##_front *f)                                  \
	{                                                                      \
		uint32_t used = f->req_prod_pvt - f->rsp_cons;                 \
		return f->broken || used > f->nr_slots ? 0 : f->nr_slots - used; \
	}                                                                      \
	static inline req_type *name##_front_next_req(struct name##_front *f)  \
	{                                                                      \
		if (name##_front_free_slots(f) == 0)                           \
			return NULL;                                           \
		return &name##_slot_at_(f->sring, f->nr_slots,                 \
					f->req_prod_pvt++)->req;               \
	}                                                                      \
	static inline bool name##_front_push_reqs(struct name##_front *f)      \
	{                                                                      \
		if (f->broken)                                                 \
			return false;                                          \
		return pvkvm_ring_publish(&f->sring->hdr.req_prod,             \
					  &f->sring->hdr.req_event,            \
					  &f->req_prod_pub, f->req_prod_pvt,   \
					  f->mode);                            \
	}                                                                      \
	static inline int name##_front_take_rsp(struct name##_front *f,        \
						rsp_type *out)                 \
	{                                                                      \
		if (f->broken)                                                 \
			return -1;                                             \
		if (f->rsp_cons == f->rsp_prod_seen) {      \
			uint32_t prod =                                        \
				PVKVM_RING_LOAD_ACQUIRE(&f->sring->hdr.rsp_prod); \
			int64_t ready = pvkvm_ring_rsps_ready(                 \
				prod, f->rsp_cons, f->req_prod_pvt, f->nr_slots); \
			if (ready < 0) {                                       \
				f->broken = true;                              \
				return -1;                                     \
			}                                                      \
			if (ready == 0)                                        \
				return 0;                                      \
			f->rsp_prod_seen = prod;                               \
		}                                                              \
		PVKVM_RING_COPY_ONCE_(out, &name##_slot_at_(f->sring, f->nr_slots, \
						      f->rsp_cons)->rsp);      \
		f->rsp_cons++;                                                 \
		return 1;                                                      \
	}                                                                      \
	static inline bool name##_front_final_check_rsps(struct name##_front *f) \
	{                                                                      \
		return f->broken ||                                            \
		       pvkvm_ring_final_check(&f->sring->hdr.rsp_event,        \
					      &f->sring->hdr.rsp_prod,         \
					      f->rsp_cons, 1);                 \
	}                                                                      \
	/* Like final_check_rsps, but asks to be woken only once `wait`      \
	 * responses are there, at most as many as requests are published    \
	 * and unanswered (at least 1): one wake-up per batch of completions. \
	 * Xen's netfront (half of those in flight) and virtio's             \
	 * enable_cb_delayed (three quarters) do the same. */                \
	static inline bool name##_front_final_check_rsps_batch(                \
		struct name##_front *f, uint32_t wait)                         \
	{                                                                      \
		uint32_t in_flight = f->req_prod_pub - f->rsp_cons;            \
		if (wait > in_flight)                                          \
			wait = in_flight;                                      \
		return f->broken ||                                            \
		       pvkvm_ring_final_check(&f->sring->hdr.rsp_event,        \
					      &f->sring->hdr.rsp_prod,         \
					      f->rsp_cons, wait ? wait : 1);   \
	}

#define PVKVM_RING_DEFINE_BACK_(name, req_type, rsp_type)                      \
	/* Trusts nothing shared but rsp_prod, read once: whatever the        \
	 * frontend left there, we start where our last response ended. */     \
	static inline int name##_back_init(struct name##_back *b,              \
					   struct name##_sring *s,             \
					   size_t bytes)                       \
	{                                                                      \
		uint32_t nr = name##_ring_slots(bytes);                        \
		if (nr == 0)                                                   \
			return -1;                                             \
		b->sring = s;                                                  \
		b->nr_slots = nr;                                              \
		b->rsp_prod_pvt = PVKVM_RING_LOAD(&s->hdr.rsp_prod);           \
		b->req_cons = b->rsp_prod_pvt;                                 \
		b->rsp_prod_pub = b->rsp_prod_pvt;                             \
		b->req_prod_seen = b->req_cons;                                \
		b->broken = false;                                             \
		b->mode = PVKVM_RING_SUPPRESS;                                 \
		return 0;                                                      \
	}                                                                      \
	static inline int name##_back_take_req(struct name##_back *b,          \
					       req_type *out)                  \
	{                                                                      \
		if (b->broken)                                                 \
			return -1;                                             \
		if (b->req_cons == b->req_prod_seen) {      \
			uint32_t prod =                                        \
				PVKVM_RING_LOAD_ACQUIRE(&b->sring->hdr.req_prod); \
			int64_t ready = pvkvm_ring_reqs_ready(                 \
				prod, b->req_cons, b->rsp_prod_pvt, b->nr_slots); \
			if (ready < 0) {                                       \
				b->broken = true;                              \
				return -1;                                     \
			}                                                      \
			if (ready == 0)                                        \
				return 0;                                      \
			b->req_prod_seen = prod;                               \
		}                                                              \
		PVKVM_RING_COPY_ONCE_(out, &name##_slot_at_(b->sring, b->nr_slots, \
						      b->req_cons)->req);      \
		b->req_cons++;                                                 \
		return 1;                                                      \
	}                                                                      \
	/* A response goes into the slot of a request already taken. */       \
	static inline rsp_type *name##_back_next_rsp(struct name##_back *b)    \
	{                                                                      \
		if (b->broken || b->rsp_prod_pvt == b->req_cons)               \
			return NULL;                                           \
		return &name##_slot_at_(b->sring, b->nr_slots,                 \
					b->rsp_prod_pvt++)->rsp;               \
	}                                                                      \
	static inline bool name##_back_push_rsps(struct name##_back *b)        \
	{                                                                      \
		if (b->broken)                                                 \
			return false;                                          \
		return pvkvm_ring_publish(&b->sring->hdr.rsp_prod,             \
					  &b->sring->hdr.rsp_event,            \
					  &b->rsp_prod_pub, b->rsp_prod_pvt,   \
					  b->mode);                            \
	}                                                                      \
	static inline bool name##_back_final_check_reqs(struct name##_back *b) \
	{                                                                      \
		return b->broken ||                                            \
		       pvkvm_ring_final_check(&b->sring->hdr.req_event,        \
					      &b->sring->hdr.req_prod,         \
					      b->req_cons, 1);                 \
	}

#endif /* PVKVM_RING_H */
