// SPDX-License-Identifier: MIT
/*
 * netfront for pvkern: the xenbus handshake with the "net" backend
 * (docs/net.md, one queue), and the glue between the network interface
 * (net.h) and the OS-independent core (guest-drivers/core/netfront_core.h).
 *
 * Waiting: for a received frame (or for tx space) the ring is first
 * polled for poll_spin_ns, with no exit, and only then is the final
 * check made and the vCPU put to sleep on the event channel. Under load
 * frames keep arriving while we poll, so the backend, seeing our
 * rsp_event behind, never has to notify, and we never have to WAIT.
 */
#include "net.h"

#include "console.h"
#include "events.h"
#include "front_ops.h"
#include "gnttab.h"
#include "guest-drivers/core/netfront_core.h"
#include "hypercall.h"
#include "klib.h"
#include "mm.h"
#include "store.h"
#include "time.h"
#include "xenbus.h"

#define HANDSHAKE_TIMEOUT_NS (5 * NS_PER_SEC)
/* Refill the rx ring once this many pages are back from the backend:
 * one publication per batch rather than per frame. */
#define RX_REFILL_BATCH 16u

struct net_pv {
	struct xb_front fe;
	uint32_t port;
	struct netfront_core core;
};

/* ---- ops for the core ---------------------------------------------------- */

static void pv_notify(void *ctx)
{
	struct net_pv *p = ctx;

	evtchn_send(p->port);
}

/* ---- handshake -------------------------------------------------------------- */

static int read_backend_info(struct net_dev *d, struct net_pv *p)
{
	char path[192], val[32];
	uint64_t mtu;

	snprintf(path, sizeof(path), "%s/mac", p->fe.backend);
	if (store_read(path, val, sizeof(val)) < 0 ||
	    !net_parse_mac(val, d->info.mac))
		return -PVKVM_EIO;
	snprintf(path, sizeof(path), "%s/mtu", p->fe.backend);
	if (store_read_u64(path, &mtu) == 0 && mtu >= 68 && mtu <= 1500)
		d->info.mtu = (uint32_t)mtu;
	return 0;
}

static int setup_rings(struct net_dev *d, struct net_pv *p)
{
	const struct netfront_ops ops = {
		.grant = front_op_grant, .notify = pv_notify,
		.alloc_pages = front_op_alloc_pages, .virt_to_frame = front_op_virt_to_frame,
		.ctx = p,
	};
	int64_t port = hc0(PVKVM_HC_EVTCHN_ALLOC);
	int r;

	if (port <= 0)
		return port < 0 ? (int)port : -PVKVM_EIO;
	p->port = (uint32_t)port;
	r = netfront_core_init(&p->core, &ops);
	if (r < 0)
		return r;
	d->info.tx_slots = p->core.nr_tx;
	/* Posting before Connected is allowed: the backend finds the rx ring
	 * stocked the moment it maps it. */
	netfront_core_rx_refill(&p->core);
	return 0;
}

static int publish(struct net_pv *p)
{
	int r = xb_front_write_u64(&p->fe, "tx-ring-ref", p->core.tx_ring_ref);

	if (!r)
		r = xb_front_write_u64(&p->fe, "rx-ring-ref", p->core.rx_ring_ref);
	if (!r)
		r = xb_front_write_u64(&p->fe, "event-channel", p->port);
	if (!r)
		r = xb_front_write_u64(&p->fe, "request-rx-copy", 1);
	/* No feature-sg / gso / csum-offload: every frame we receive is one
	 * page with complete checksums (docs/net.md's defaults). */
	if (!r)
		r = xb_front_set_state(&p->fe, PVKVM_XB_INITIALISED);
	return r;
}

static int pv_open(struct net_dev *d, unsigned int index)
{
	uint64_t deadline = now_ns() + HANDSHAKE_TIMEOUT_NS;
	struct net_pv *p = page_alloc(ALIGN_UP(sizeof(*p), PAGE_SIZE) / PAGE_SIZE);
	int r;

	if (!p)
		return -PVKVM_ENOMEM;
	d->priv = p;
	r = xb_front_init(&p->fe, "net", index);
	if (r < 0)
		return r;
	xb_front_set_state(&p->fe, PVKVM_XB_INITIALISING);
	r = xb_wait_backend_state(&p->fe, PVKVM_XB_INITWAIT, deadline);
	if (!r)
		r = read_backend_info(d, p);
	if (!r)
		r = setup_rings(d, p);
	if (!r)
		r = publish(p);
	if (!r)
		r = xb_wait_backend_state(&p->fe, PVKVM_XB_CONNECTED, deadline);
	if (!r)
		r = xb_front_set_state(&p->fe, PVKVM_XB_CONNECTED);
	return r;
}

/* ---- frames -------------------------------------------------------------------- */

static int pv_send(struct net_dev *d, const void *frame, size_t len)
{
	struct net_pv *p = d->priv;
	int r = netfront_core_tx_queue(&p->core, frame, len);

	if (r == -PVKVM_EAGAIN && netfront_core_tx_reap(&p->core) > 0)
		r = netfront_core_tx_queue(&p->core, frame, len);
	return r;
}

static void pv_flush(struct net_dev *d)
{
	struct net_pv *p = d->priv;

	if (netfront_core_tx_push(&p->core))
		d->counters.kicks++;
}

static int pv_recv(struct net_dev *d, void *buf, size_t cap)
{
	struct net_pv *p = d->priv;
	uint16_t flags;
	int r = netfront_core_rx_take(&p->core, buf, cap, &flags);

	if (p->core.nr_rx_idle >= RX_REFILL_BATCH &&
	    netfront_core_rx_refill(&p->core))
		d->counters.kicks++;
	d->rx_flags = ((flags & PVKVM_NETIF_F_DATA_VALIDATED) ? NET_RX_CSUM_VALID : 0) |
		      ((flags & PVKVM_NETIF_F_CSUM_BLANK) ? NET_RX_CSUM_BLANK : 0);
	return r;
}

static bool rx_ready(struct net_pv *p)
{
	return __atomic_load_n(&p->core.rx.sring->hdr.rsp_prod, __ATOMIC_ACQUIRE) !=
		       p->core.rx.rsp_cons ||
	       p->core.broken;
}

static bool tx_blocked(struct net_pv *p)
{
	return netfront_core_tx_free(&p->core) == 0;
}

/* Waits until a frame is in (or, when the tx ring is full, until space
 * came back): spinning first, then sleeping. */
static int pv_wait(struct net_dev *d, uint64_t deadline_ns)
{
	struct net_pv *p = d->priv;
	uint64_t until = now_ns() + d->poll_spin_ns;
	bool want_tx = tx_blocked(p);

	for (;;) {
		if (rx_ready(p))
			return 0;
		if (want_tx && netfront_core_tx_reap(&p->core) != 0)
			return 0;
		if (now_ns() >= until)
			break;
		cpu_relax();
	}
	for (;;) {
		bool ready = want_tx ? netfront_core_tx_prepare_sleep(&p->core) : false;

		ready |= netfront_core_prepare_sleep(&p->core);
		if (ready)
			return 0;
		d->counters.sleeps++;
		if (evt_wait_for(p->port, deadline_ns) == -PVKVM_ETIMEDOUT)
			return rx_ready(p) ? 0 : -PVKVM_ETIMEDOUT;
		if (rx_ready(p) || (want_tx && netfront_core_tx_reap(&p->core)))
			return 0;
	}
}

const struct net_driver net_pv_driver = {
	.name = "pv",
	.open = pv_open,
	.send = pv_send,
	.flush = pv_flush,
	.recv = pv_recv,
	.wait = pv_wait,
};
