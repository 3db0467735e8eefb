// SPDX-License-Identifier: MIT
/*
 * blkfront_core: request ids, grants and INDIRECT segment pages of a PV
 * block frontend. See blkfront_core.h.
 *
 * Every request in flight owns a slot, indexed by the id sent to the
 * backend. The slot remembers the grants the request holds so they can be
 * revoked when its response arrives: the backend releases its holds before
 * it answers, so a revocation that fails then means a broken backend, and
 * the reference is abandoned rather than reused while the host may still
 * write through it.
 */
#include "guest-drivers/core/blkfront_core.h"

#define PAGE_BYTES PVKVM_PAGE_SIZE
#define SECTOR_BYTES PVKVM_BLKIF_SECTOR_SIZE

struct blkfront_slot {
	uint64_t cookie;
	uint32_t *grefs;   /* data grants, max_segs of them */
	uint32_t nr_grefs;
	struct pvkvm_blkif_segment *ind; /* INDIRECT pages, contiguous here */
	uint32_t ind_refs[PVKVM_BLKIF_MAX_INDIRECT_PAGES];
	uint32_t nr_ind_refs;
	bool in_use;
};

static void zero(void *p, size_t n)
{
	volatile uint8_t *b = p;

	while (n--)
		*b++ = 0;
}

static size_t pages_for(size_t bytes)
{
	return (bytes + PAGE_BYTES - 1) / PAGE_BYTES;
}

static uint32_t indirect_pages_for(uint32_t nr_segs)
{
	return (nr_segs + PVKVM_BLKIF_SEGS_PER_INDIRECT_PAGE - 1) /
	       PVKVM_BLKIF_SEGS_PER_INDIRECT_PAGE;
}

/* ---- init ----------------------------------------------------------------- */

static int grant_ring(struct blkfront_core *c)
{
	uint8_t *base = (uint8_t *)c->sring;

	for (uint32_t i = 0; i < c->ring_pages; i++) {
		int ref = c->ops.grant(c->ops.ctx,
				       c->ops.virt_to_frame(c->ops.ctx,
							    base + i * PAGE_BYTES),
				       false);
		if (ref < 0)
			return ref;
		c->ring_refs[i] = (uint32_t)ref;
	}
	return 0;
}

static int alloc_ring(struct blkfront_core *c, uint32_t pages)
{
	if (pages == 0 || pages > (1u << PVKVM_BLKIF_MAX_RING_PAGE_ORDER) ||
	    (pages & (pages - 1)))
		return -PVKVM_EINVAL;
	c->ring_pages = pages;
	c->sring = c->ops.alloc_pages(c->ops.ctx, pages);
	if (!c->sring)
		return -PVKVM_ENOMEM;
	blkif_sring_init(c->sring);
	if (blkif_front_init(&c->front, c->sring, (size_t)pages * PAGE_BYTES) < 0)
		return -PVKVM_EINVAL;
	return grant_ring(c);
}

/* One slot's private memory: its grant list and its INDIRECT pages. */
static int alloc_slot(struct blkfront_core *c, struct blkfront_slot *s,
		      uint32_t **gref_pool)
{
	s->grefs = *gref_pool;
	*gref_pool += c->max_segs;
	if (c->max_segs > PVKVM_BLKIF_MAX_SEGMENTS) {
		s->ind = c->ops.alloc_pages(c->ops.ctx,
					    indirect_pages_for(c->max_segs));
		if (!s->ind)
			return -PVKVM_ENOMEM;
	}
	return 0;
}

static int alloc_slots(struct blkfront_core *c)
{
	size_t slot_bytes = (size_t)c->nr_slots * sizeof(struct blkfront_slot);
	size_t id_bytes = (size_t)c->nr_slots * sizeof(uint32_t);
	size_t gref_bytes = (size_t)c->nr_slots * c->max_segs * sizeof(uint32_t);
	uint8_t *mem = c->ops.alloc_pages(
		c->ops.ctx, pages_for(slot_bytes + id_bytes + gref_bytes));
	uint32_t *gref_pool;

	if (!mem)
		return -PVKVM_ENOMEM;
	c->slots = (struct blkfront_slot *)mem;
	c->free_ids = (uint32_t *)(mem + slot_bytes);
	gref_pool = (uint32_t *)(mem + slot_bytes + id_bytes);
	for (uint32_t i = 0; i < c->nr_slots; i++) {
		int r = alloc_slot(c, &c->slots[i], &gref_pool);

		if (r < 0)
			return r;
		/* Lowest ids on top: easier to read in a trace. */
		c->free_ids[i] = c->nr_slots - 1 - i;
	}
	c->nr_free = c->nr_slots;
	return 0;
}

int blkfront_core_init(struct blkfront_core *c, const struct blkfront_ops *ops,
		       const struct blkfront_limits *limits)
{
	uint32_t ring_slots;
	int r;

	zero(c, sizeof(*c));
	c->ops = *ops;
	r = alloc_ring(c, limits->ring_pages);
	if (r < 0)
		return r;
	ring_slots = c->front.nr_slots;
	c->nr_slots = limits->max_inflight && limits->max_inflight < ring_slots
			      ? limits->max_inflight : ring_slots;
	c->max_segs = PVKVM_BLKIF_MAX_SEGMENTS;
	if (limits->max_indirect > c->max_segs)
		c->max_segs = limits->max_indirect < PVKVM_BLKIF_MAX_INDIRECT_SEGMENTS
				      ? limits->max_indirect
				      : PVKVM_BLKIF_MAX_INDIRECT_SEGMENTS;
	return alloc_slots(c);
}

uint32_t blkfront_core_free(const struct blkfront_core *c)
{
	uint32_t ring_free = blkif_front_free_slots(&c->front);

	return c->nr_free < ring_free ? c->nr_free : ring_free;
}

/* ---- grants of one request --------------------------------------------------- */

static void revoke(struct blkfront_core *c, uint32_t ref)
{
	/* The backend answers only after dropping its holds; a short retry
	 * covers a host that clears the bit a moment late. */
	for (int tries = 0; tries < 1000; tries++)
		if (c->ops.ungrant(c->ops.ctx, ref) != -PVKVM_EBUSY)
			return;
	c->stuck_grants++;
}

static void release_grants(struct blkfront_core *c, struct blkfront_slot *s)
{
	for (uint32_t i = 0; i < s->nr_grefs; i++)
		revoke(c, s->grefs[i]);
	for (uint32_t i = 0; i < s->nr_ind_refs; i++)
		revoke(c, s->ind_refs[i]);
	s->nr_grefs = 0;
	s->nr_ind_refs = 0;
}

static bool seg_ok(const struct blkfront_seg *g)
{
	return g->len && !(g->offset % SECTOR_BYTES) && !(g->len % SECTOR_BYTES) &&
	       (uint32_t)g->offset + g->len <= PAGE_BYTES;
}

/* Grants each data page and writes the wire segments into out[]. */
static int grant_segments(struct blkfront_core *c, struct blkfront_slot *s,
			  bool is_write, const struct blkfront_seg *segs,
			  uint32_t n, struct pvkvm_blkif_segment *out)
{
	for (uint32_t i = 0; i < n; i++) {
		/* The backend only reads a page we write to disk. */
		int ref = c->ops.grant(c->ops.ctx, segs[i].frame, is_write);

		if (ref < 0)
			return ref;
		s->grefs[s->nr_grefs++] = (uint32_t)ref;
		out[i] = (struct pvkvm_blkif_segment){
			.gref = (uint32_t)ref,
			.first_sect = (uint8_t)(segs[i].offset / SECTOR_BYTES),
			.last_sect = (uint8_t)((segs[i].offset + segs[i].len) /
						       SECTOR_BYTES - 1),
		};
	}
	return 0;
}

static int grant_indirect_pages(struct blkfront_core *c,
				struct blkfront_slot *s, uint32_t nr_segs,
				struct pvkvm_blkif_request *req)
{
	uint32_t pages = indirect_pages_for(nr_segs);

	for (uint32_t p = 0; p < pages; p++) {
		const uint8_t *va = (const uint8_t *)s->ind + p * PAGE_BYTES;
		int ref = c->ops.grant(c->ops.ctx,
				       c->ops.virt_to_frame(c->ops.ctx, va), true);

		if (ref < 0)
			return ref;
		s->ind_refs[s->nr_ind_refs++] = (uint32_t)ref;
		req->u.indirect_grefs[p] = (uint32_t)ref;
	}
	return 0;
}

/* Builds the request's wire form in *req (private memory). */
static int build(struct blkfront_core *c, struct blkfront_slot *s, uint8_t op,
		 const struct blkfront_seg *segs, uint32_t nr_segs,
		 struct pvkvm_blkif_request *req)
{
	bool is_write = op == PVKVM_BLKIF_OP_WRITE;

	if (op == PVKVM_BLKIF_OP_FLUSH)
		return 0;
	if (nr_segs <= PVKVM_BLKIF_MAX_SEGMENTS) {
		req->operation = op;
		req->nr_segments = (uint16_t)nr_segs;
		return grant_segments(c, s, is_write, segs, nr_segs, req->u.seg);
	}
	req->operation = PVKVM_BLKIF_OP_INDIRECT;
	req->indirect_op = op;
	req->nr_segments = (uint16_t)nr_segs;
	int r = grant_segments(c, s, is_write, segs, nr_segs, s->ind);
	return r < 0 ? r : grant_indirect_pages(c, s, nr_segs, req);
}

static int check_request(const struct blkfront_core *c, uint8_t op,
			 const struct blkfront_seg *segs, uint32_t nr_segs)
{
	if (op == PVKVM_BLKIF_OP_FLUSH)
		return nr_segs == 0 ? 0 : -PVKVM_EINVAL;
	if (op != PVKVM_BLKIF_OP_READ && op != PVKVM_BLKIF_OP_WRITE)
		return -PVKVM_EINVAL;
	if (nr_segs == 0 || nr_segs > c->max_segs)
		return -PVKVM_EINVAL;
	for (uint32_t i = 0; i < nr_segs; i++)
		if (!seg_ok(&segs[i]))
			return -PVKVM_EINVAL;
	return 0;
}

int blkfront_core_queue(struct blkfront_core *c, uint8_t op, uint64_t sector,
			const struct blkfront_seg *segs, uint32_t nr_segs,
			uint64_t cookie)
{
	struct pvkvm_blkif_request req;
	struct blkfront_slot *s;
	uint32_t id;
	int r = check_request(c, op, segs, nr_segs);

	if (r < 0)
		return r;
	if (blkfront_core_free(c) == 0)
		return -PVKVM_EAGAIN;
	id = c->free_ids[--c->nr_free];
	s = &c->slots[id];
	zero(&req, sizeof(req));
	req.operation = op;
	req.id = id;
	req.sector_number = sector;
	r = build(c, s, op, segs, nr_segs, &req);
	if (r < 0) {
		release_grants(c, s);
		c->free_ids[c->nr_free++] = id;
		return r;
	}
	s->cookie = cookie;
	s->in_use = true;
	c->in_flight++;
	*blkif_front_next_req(&c->front) = req;
	return 0;
}

bool blkfront_core_push(struct blkfront_core *c)
{
	uint32_t before = c->front.sring->hdr.req_prod;
	bool kick = blkif_front_push_reqs(&c->front);

	if (before != c->front.req_prod_pvt)
		c->pushes++;
	if (kick) {
		c->notifies++;
		c->ops.notify(c->ops.ctx);
	}
	return kick;
}

/* ---- completions ---------------------------------------------------------------- */

static int status_of(int16_t wire)
{
	switch (wire) {
	case PVKVM_BLKIF_RSP_OKAY:
		return 0;
	case PVKVM_BLKIF_RSP_NOTSUPP:
		return -PVKVM_ENOSYS;
	default:
		return -PVKVM_EIO;
	}
}

int blkfront_core_poll(struct blkfront_core *c, blkfront_done_fn done,
		       void *arg)
{
	struct pvkvm_blkif_response rsp;
	int n = 0, got;

	while ((got = blkif_front_take_rsp(&c->front, &rsp)) == 1) {
		struct blkfront_slot *s;

		/* An id we did not send (or already answered) is the
		 * backend's bug: nothing of ours to complete. */
		if (rsp.id >= c->nr_slots || !c->slots[rsp.id].in_use)
			continue;
		s = &c->slots[rsp.id];
		release_grants(c, s);
		s->in_use = false;
		c->in_flight--;
		c->free_ids[c->nr_free++] = (uint32_t)rsp.id;
		done(arg, s->cookie, status_of(rsp.status));
		n++;
	}
	return got < 0 ? -PVKVM_EIO : n;
}

bool blkfront_core_prepare_sleep(struct blkfront_core *c)
{
	return blkif_front_final_check_rsps(&c->front);
}
