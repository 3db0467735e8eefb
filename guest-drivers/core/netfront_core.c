// SPDX-License-Identifier: MIT
/*
 * netfront_core: rings, persistently granted frame pages and the copies
 * in and out of them for one queue of a PV network frontend. See
 * netfront_core.h.
 *
 * Buffer ids are the ring ids: tx request id i names tx page i, rx
 * request id i names rx page i. A response whose id we do not have out
 * is the backend's bug and is skipped, never trusted to index anything.
 */
#include "guest-drivers/core/netfront_core.h"

#define PAGE_BYTES PVKVM_PAGE_SIZE

static void zero(void *p, size_t n)
{
	volatile uint8_t *b = p;

	while (n--)
		*b++ = 0;
}

static void copy(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	/* Eight bytes at a time: frames are copied on the hot path. */
	while (n >= 8) {
		uint64_t v;

		__builtin_memcpy(&v, s, 8);
		__builtin_memcpy(d, &v, 8);
		d += 8;
		s += 8;
		n -= 8;
	}
	while (n--)
		*d++ = *s++;
}

/* ---- init ----------------------------------------------------------------- */

static int grant_page(struct netfront_core *c, const void *va, bool ro,
		      uint32_t *ref)
{
	int r = c->ops.grant(c->ops.ctx, c->ops.virt_to_frame(c->ops.ctx, va), ro);

	if (r < 0)
		return r;
	*ref = (uint32_t)r;
	return 0;
}

static int init_rings(struct netfront_core *c)
{
	c->tx_sring = c->ops.alloc_pages(c->ops.ctx, 1);
	c->rx_sring = c->ops.alloc_pages(c->ops.ctx, 1);
	if (!c->tx_sring || !c->rx_sring)
		return -PVKVM_ENOMEM;
	netif_tx_sring_init(c->tx_sring);
	netif_rx_sring_init(c->rx_sring);
	if (netif_tx_front_init(&c->tx, c->tx_sring, PAGE_BYTES) < 0 ||
	    netif_rx_front_init(&c->rx, c->rx_sring, PAGE_BYTES) < 0)
		return -PVKVM_EINVAL;
	c->nr_tx = c->tx.nr_slots;
	c->nr_rx = c->rx.nr_slots;
	/* Both rings are read-write for the backend: it writes responses. */
	if (grant_page(c, c->tx_sring, false, &c->tx_ring_ref) < 0 ||
	    grant_page(c, c->rx_sring, false, &c->rx_ring_ref) < 0)
		return -PVKVM_ENOSPC;
	return 0;
}

static int init_buffers(struct netfront_core *c)
{
	size_t book = c->nr_tx * (sizeof(uint32_t) + sizeof(uint16_t) + 1) +
		      c->nr_rx * (sizeof(uint32_t) + sizeof(uint16_t) + 1);
	uint8_t *mem = c->ops.alloc_pages(c->ops.ctx,
					  (book + PAGE_BYTES - 1) / PAGE_BYTES);

	c->tx_pages = c->ops.alloc_pages(c->ops.ctx, c->nr_tx);
	c->rx_pages = c->ops.alloc_pages(c->ops.ctx, c->nr_rx);
	if (!mem || !c->tx_pages || !c->rx_pages)
		return -PVKVM_ENOMEM;
	c->tx_grefs = (uint32_t *)mem;
	c->rx_grefs = c->tx_grefs + c->nr_tx;
	c->tx_free = (uint16_t *)(c->rx_grefs + c->nr_rx);
	c->rx_idle = c->tx_free + c->nr_tx;
	c->tx_out = (uint8_t *)(c->rx_idle + c->nr_rx);
	c->rx_out = c->tx_out + c->nr_tx;
	for (uint32_t i = 0; i < c->nr_tx; i++) {
		/* The backend only reads what we send. */
		if (grant_page(c, c->tx_pages + (size_t)i * PAGE_BYTES, true,
			       &c->tx_grefs[i]) < 0)
			return -PVKVM_ENOSPC;
		c->tx_free[i] = (uint16_t)(c->nr_tx - 1 - i);
	}
	for (uint32_t i = 0; i < c->nr_rx; i++) {
		if (grant_page(c, c->rx_pages + (size_t)i * PAGE_BYTES, false,
			       &c->rx_grefs[i]) < 0)
			return -PVKVM_ENOSPC;
		c->rx_idle[i] = (uint16_t)(c->nr_rx - 1 - i);
	}
	c->nr_tx_free = c->nr_tx;
	c->nr_rx_idle = c->nr_rx;
	return 0;
}

int netfront_core_init(struct netfront_core *c, const struct netfront_ops *ops)
{
	int r;

	zero(c, sizeof(*c));
	c->ops = *ops;
	r = init_rings(c);
	return r < 0 ? r : init_buffers(c);
}

/* ---- transmit ---------------------------------------------------------------- */

uint32_t netfront_core_tx_free(const struct netfront_core *c)
{
	uint32_t ring = netif_tx_front_free_slots(&c->tx);

	return c->broken ? 0 : (c->nr_tx_free < ring ? c->nr_tx_free : ring);
}

int netfront_core_tx_queue(struct netfront_core *c, const void *frame,
			   size_t len)
{
	struct pvkvm_netif_tx_request *req;
	uint16_t id;

	if (c->broken)
		return -PVKVM_EIO;
	if (len < PVKVM_NETIF_FRAME_MIN || len > NETFRONT_MAX_FRAME)
		return -PVKVM_EINVAL;
	if (netfront_core_tx_free(c) == 0)
		return -PVKVM_EAGAIN;
	id = c->tx_free[--c->nr_tx_free];
	c->tx_out[id] = 1;
	copy(c->tx_pages + (size_t)id * PAGE_BYTES, frame, len);
	req = netif_tx_front_next_req(&c->tx);
	zero(req, sizeof(*req));
	req->gref = c->tx_grefs[id];
	req->offset = 0;
	req->size = (uint16_t)len;
	req->id = id;
	req->flags = 0;
	req->total_len = (uint16_t)len;
	c->counters.tx_queued++;
	return 0;
}

bool netfront_core_tx_push(struct netfront_core *c)
{
	bool kick = netif_tx_front_push_reqs(&c->tx);

	if (kick) {
		c->counters.notifies++;
		c->ops.notify(c->ops.ctx);
	}
	return kick;
}


int netfront_core_tx_reap(struct netfront_core *c)
{
	struct pvkvm_netif_tx_response rsp;
	int n = 0, got;

	while ((got = netif_tx_front_take_rsp(&c->tx, &rsp)) == 1) {
		/* An id we do not have out (or a second answer for one)
		 * must not free a buffer twice. */
		if (rsp.id >= c->nr_tx || !c->tx_out[rsp.id])
			continue;
		c->tx_out[rsp.id] = 0;
		c->tx_free[c->nr_tx_free++] = rsp.id;
		if (rsp.status == PVKVM_NETIF_RSP_OKAY)
			c->counters.tx_done++;
		else if (rsp.status == PVKVM_NETIF_RSP_DROPPED)
			c->counters.tx_dropped++;
		else
			c->counters.tx_errors++;
		n++;
	}
	if (got < 0) {
		c->broken = true;
		return -PVKVM_EIO;
	}
	return n;
}

/* ---- receive ------------------------------------------------------------------ */

bool netfront_core_rx_refill(struct netfront_core *c)
{
	bool kick;

	if (c->broken)
		return false;
	while (c->nr_rx_idle && netif_rx_front_free_slots(&c->rx)) {
		struct pvkvm_netif_rx_request *req = netif_rx_front_next_req(&c->rx);
		uint16_t id = c->rx_idle[--c->nr_rx_idle];

		req->id = id;
		req->reserved = 0;
		req->gref = c->rx_grefs[id];
		c->rx_out[id] = 1;
		c->counters.rx_posted++;
	}
	kick = netif_rx_front_push_reqs(&c->rx);
	if (kick) {
		c->counters.notifies++;
		c->ops.notify(c->ops.ctx);
	}
	return kick;
}


/* What one response means: the length to hand over, or 0 (nothing for
 * the caller: an error slot, or part of a chain we do not take). */
static int rx_consume(struct netfront_core *c,
		      const struct pvkvm_netif_rx_response *rsp, void *buf,
		      size_t cap, uint16_t *flags)
{
	bool more = rsp->flags & PVKVM_NETIF_F_MORE_DATA;
	const uint8_t *page = c->rx_pages + (size_t)rsp->id * PAGE_BYTES;
	size_t len;

	if (c->rx_in_chain || more) {
		/* We offered no scatter-gather: a chain is the backend's
		 * mistake. Drop it whole, page by page. */
		if (!c->rx_in_chain)
			c->counters.rx_chains_dropped++;
		c->rx_in_chain = more;
		return 0;
	}
	if (rsp->status <= 0) {
		c->counters.rx_errors++;
		return 0;
	}
	len = (size_t)rsp->status;
	if (rsp->offset >= PAGE_BYTES || len > PAGE_BYTES - rsp->offset) {
		c->counters.rx_errors++;
		return 0;
	}
	c->counters.rx_frames++;
	*flags = rsp->flags;
	if (len > cap) {
		c->counters.rx_too_big++;
		return (int)len;
	}
	copy(buf, page + rsp->offset, len);
	return (int)len;
}

int netfront_core_rx_take(struct netfront_core *c, void *buf, size_t cap,
			  uint16_t *flags)
{
	struct pvkvm_netif_rx_response rsp;
	int got;

	*flags = 0;
	while ((got = netif_rx_front_take_rsp(&c->rx, &rsp)) == 1) {
		int len;

		if (rsp.id >= c->nr_rx || !c->rx_out[rsp.id])
			continue;
		c->rx_out[rsp.id] = 0;
		len = rx_consume(c, &rsp, buf, cap, flags);
		/* Copied out (or dropped): the page may be posted again. */
		c->rx_idle[c->nr_rx_idle++] = rsp.id;
		if (len > 0)
			return len;
	}
	if (got < 0) {
		c->broken = true;
		return -PVKVM_EIO;
	}
	return 0;
}

bool netfront_core_prepare_sleep(struct netfront_core *c)
{
	netfront_core_rx_refill(c);
	return netif_rx_front_final_check_rsps(&c->rx);
}

bool netfront_core_tx_prepare_sleep(struct netfront_core *c)
{
	uint32_t cons = c->tx.rsp_cons;
	uint32_t out = c->tx.req_prod_pvt - cons;

	if (c->broken)
		return true;
	if (PVKVM_RING_LOAD_ACQUIRE(&c->tx_sring->hdr.rsp_prod) != cons)
		return true;
	/* Woken when half of what is out has been answered, as Xen's
	 * netfront asks: one wake-up per half ring, not per frame. */
	PVKVM_RING_STORE_SYNC(&c->tx_sring->hdr.rsp_event, cons + out / 2 + 1);
	return PVKVM_RING_LOAD_SYNC(&c->tx_sring->hdr.rsp_prod) != cons;
}
