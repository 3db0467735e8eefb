// SPDX-License-Identifier: MIT
/*
 * blkfront for pvkern: the xenbus handshake with the "blk" backend, and the
 * glue between the block interface (blk.h) and the OS-independent request
 * core (guest-drivers/core/blkfront_core.h).
 *
 * Waiting: a completion is first looked for by polling the ring for
 * poll_spin_ns (no exit; the backend, seeing our rsp_event behind, does not
 * notify), and only then by the final check + WAIT on the event channel.
 * At a deep queue the ring almost never runs dry, so the guest almost never
 * sleeps, and the backend almost never has to wake it.
 */
#include "blk.h"

#include "console.h"
#include "events.h"
#include "front_ops.h"
#include "gnttab.h"
#include "guest-drivers/core/blkfront_core.h"
#include "hypercall.h"
#include "klib.h"
#include "mm.h"
#include "store.h"
#include "time.h"
#include "xenbus.h"

#define HANDSHAKE_TIMEOUT_NS (5 * NS_PER_SEC)
/* 4 pages = 128 slots: more than the deepest queue we keep, and a
 * multi-page ring exercises the backend's page stitching. */
#define WANT_RING_ORDER 2u
#define MAX_IN_FLIGHT 128u

unsigned int blk_pv_want_ring_pages;
bool blk_pv_notify_always;

struct blk_pv {
	struct xb_front fe;
	uint32_t port;
	struct blkfront_core core;
	struct blkfront_seg segs[PVKVM_BLKIF_MAX_INDIRECT_SEGMENTS];
};

/* ---- ops for the core ---------------------------------------------------- */

static void pv_notify(void *ctx)
{
	struct blk_pv *p = ctx;

	evtchn_send(p->port);
}

/* ---- handshake -------------------------------------------------------------- */

static uint64_t backend_u64(const struct blk_pv *p, const char *key,
			    uint64_t dflt)
{
	char path[192];
	uint64_t v;

	snprintf(path, sizeof(path), "%s/%s", p->fe.backend, key);
	return store_read_u64(path, &v) == 0 ? v : dflt;
}

static void read_features(struct blk_dev *d, struct blk_pv *p,
			  struct blkfront_limits *lim)
{
	uint64_t order = backend_u64(p, "max-ring-page-order", 0);
	uint64_t want = WANT_RING_ORDER;

	if (blk_pv_want_ring_pages) {
		want = 0;
		while ((2u << want) <= blk_pv_want_ring_pages)
			want++;
	}
	if (order > want)
		order = want;
	lim->ring_pages = 1u << order;
	lim->max_indirect = (uint32_t)backend_u64(p, "feature-max-indirect-segments", 0);
	lim->max_inflight = MAX_IN_FLIGHT;
	d->info.sectors = backend_u64(p, "sectors", 0);
	d->info.sector_size = (uint32_t)backend_u64(p, "sector-size", BLK_SECTOR_SIZE);
	d->info.read_only = backend_u64(p, "info", 0) & PVKVM_BLKIF_INFO_READONLY;
	d->info.flush = backend_u64(p, "feature-flush-cache", 0) != 0;
}

static int publish_ring(struct blk_pv *p)
{
	char key[32];
	int r = 0;

	if (p->core.ring_pages == 1) {
		r = xb_front_write_u64(&p->fe, "ring-ref", p->core.ring_refs[0]);
	} else {
		uint32_t order = 0;

		while ((1u << order) < p->core.ring_pages)
			order++;
		r = xb_front_write_u64(&p->fe, "ring-page-order", order);
		for (uint32_t i = 0; !r && i < p->core.ring_pages; i++) {
			snprintf(key, sizeof(key), "ring-ref%u", i);
			r = xb_front_write_u64(&p->fe, key, p->core.ring_refs[i]);
		}
	}
	if (!r)
		r = xb_front_write_u64(&p->fe, "event-channel", p->port);
	if (!r)
		r = xb_front_set_state(&p->fe, PVKVM_XB_INITIALISED);
	return r;
}

static int setup_ring(struct blk_dev *d, struct blk_pv *p)
{
	const struct blkfront_ops ops = {
		.grant = front_op_grant, .ungrant = front_op_ungrant, .notify = pv_notify,
		.alloc_pages = front_op_alloc_pages, .virt_to_frame = front_op_virt_to_frame,
		.ctx = p,
	};
	struct blkfront_limits lim;
	int64_t port;
	int r;

	read_features(d, p, &lim);
	port = hc0(PVKVM_HC_EVTCHN_ALLOC);
	if (port <= 0)
		return port < 0 ? (int)port : -PVKVM_EIO;
	p->port = (uint32_t)port;
	r = blkfront_core_init(&p->core, &ops, &lim);
	if (r < 0)
		return r;
	if (blk_pv_notify_always)
		p->core.front.mode = PVKVM_RING_ALWAYS;
	d->info.max_sectors = blkfront_core_max_segs(&p->core) *
			      (PAGE_SIZE / BLK_SECTOR_SIZE);
	d->info.max_in_flight = p->core.nr_slots;
	return 0;
}

static int pv_open(struct blk_dev *d, unsigned int index)
{
	uint64_t deadline = now_ns() + HANDSHAKE_TIMEOUT_NS;
	struct blk_pv *p = page_alloc(ALIGN_UP(sizeof(*p), PAGE_SIZE) / PAGE_SIZE);
	int r;

	if (!p)
		return -PVKVM_ENOMEM;
	d->priv = p;
	r = xb_front_init(&p->fe, "blk", index);
	if (r < 0)
		return r;
	xb_front_set_state(&p->fe, PVKVM_XB_INITIALISING);
	/* Features are complete once the backend says InitWait. */
	r = xb_wait_backend_state(&p->fe, PVKVM_XB_INITWAIT, deadline);
	if (r < 0)
		return r;
	r = setup_ring(d, p);
	if (!r)
		r = publish_ring(p);
	if (!r)
		r = xb_wait_backend_state(&p->fe, PVKVM_XB_CONNECTED, deadline);
	if (!r)
		r = xb_front_set_state(&p->fe, PVKVM_XB_CONNECTED);
	return r;
}

/* ---- requests ----------------------------------------------------------------- */

/* Cuts [buf, buf + bytes) at page boundaries. The number of segments, or
 * -PVKVM_EINVAL when they would not fit. */
static int to_segments(struct blk_pv *p, void *buf, uint64_t bytes)
{
	uint64_t addr = (uint64_t)(uintptr_t)buf;
	uint32_t n = 0, max = blkfront_core_max_segs(&p->core);

	while (bytes) {
		uint64_t off = addr % PAGE_SIZE;
		uint64_t len = PAGE_SIZE - off < bytes ? PAGE_SIZE - off : bytes;

		if (n == max)
			return -PVKVM_EINVAL;
		p->segs[n++] = (struct blkfront_seg){
			.frame = addr / PAGE_SIZE,
			.offset = (uint16_t)off,
			.len = (uint16_t)len,
		};
		addr += len;
		bytes -= len;
	}
	return (int)n;
}

static const uint8_t wire_op[] = {
	[BLK_OP_READ] = PVKVM_BLKIF_OP_READ,
	[BLK_OP_WRITE] = PVKVM_BLKIF_OP_WRITE,
	[BLK_OP_FLUSH] = PVKVM_BLKIF_OP_FLUSH,
};

static int pv_submit(struct blk_dev *d, struct blk_req *r)
{
	struct blk_pv *p = d->priv;
	int nseg = 0;

	if ((unsigned)r->op >= ARRAY_SIZE(wire_op))
		return -PVKVM_EINVAL;
	if (r->op != BLK_OP_FLUSH) {
		if ((uintptr_t)r->buf % BLK_SECTOR_SIZE || !r->nr_sectors)
			return -PVKVM_EINVAL;
		nseg = to_segments(p, r->buf,
				   (uint64_t)r->nr_sectors * BLK_SECTOR_SIZE);
		if (nseg < 0)
			return nseg;
	}
	return blkfront_core_queue(&p->core, wire_op[r->op], r->sector, p->segs,
				   (uint32_t)nseg, (uint64_t)(uintptr_t)r);
}

static void pv_kick(struct blk_dev *d)
{
	struct blk_pv *p = d->priv;

	if (blkfront_core_push(&p->core))
		d->counters.kicks++;
}

static void pv_done(void *arg, uint64_t cookie, int status)
{
	blk_complete(arg, (struct blk_req *)(uintptr_t)cookie, status);
}

static int pv_poll(struct blk_dev *d)
{
	struct blk_pv *p = d->priv;

	return blkfront_core_poll(&p->core, pv_done, d);
}

static int spin_for_completions(struct blk_dev *d)
{
	uint64_t until = now_ns() + d->poll_spin_ns;
	int n;

	do {
		n = pv_poll(d);
		if (n)
			return n;
		cpu_relax();
	} while (now_ns() < until);
	return 0;
}

static int pv_wait(struct blk_dev *d, uint64_t deadline_ns)
{
	struct blk_pv *p = d->priv;
	int n = spin_for_completions(d);

	while (n == 0) {
		if (!blkfront_core_prepare_sleep(&p->core)) {
			d->counters.sleeps++;
			if (evt_wait_for(p->port, deadline_ns) == -PVKVM_ETIMEDOUT) {
				n = pv_poll(d);
				return n ? n : -PVKVM_ETIMEDOUT;
			}
		}
		n = pv_poll(d);
	}
	return n;
}

const struct blk_driver blk_pv_driver = {
	.name = "pv",
	.open = pv_open,
	.submit = pv_submit,
	.kick = pv_kick,
	.poll = pv_poll,
	.wait = pv_wait,
};
