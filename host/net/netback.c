// SPDX-License-Identifier: MIT
/*
 * The PV network backend. See netback.h for the shape; docs/net.md for the
 * protocol. Everything under "I/O thread" runs on that queue's thread, so a
 * queue's rings, packet pools and receive queue need no lock; the port's
 * send may be called from every queue's thread at once.
 */
#include "host/net/netback.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <urcu.h>

#include "host/core/vm.h"
#include "host/net/net_port.h"
#include "host/services/evtchn.h"
#include "host/services/grant.h"
#include "host/services/store.h"
#include "host/services/xenbus.h"
#include "host/util/ratelimit.h"
#include "hypercall/pvkvm_netif.h"

enum nb_counter {
	NB_C_TX_FRAMES,
	NB_C_TX_BYTES,
	NB_C_TX_ERRORS,   /* frames answered ERROR (bad slot, chain, grant) */
	NB_C_TX_DROPPED,  /* valid frames the port did not take */
	NB_C_TX_BATCHES,  /* port sends (several frames each under load) */
	NB_C_RX_FRAMES,
	NB_C_RX_BYTES,
	NB_C_RX_NO_BUFFER, /* dropped: the queue was full, the guest posted too few */
	NB_C_RX_TOO_BIG,   /* dropped: longer than the frontend accepts */
	NB_C_RX_ERRORS,    /* dropped: a posted page was not granted writable */
	NB_C_CSUM_FILLED,  /* blank checksums filled in for the frontend */
	NB_C_NOTIFY_SENT,
	NB_C_NOTIFY_SUPPRESSED,
	NB_C_GUEST_KICKS,
	NB_C_COUNT
};

static const char *const counter_names[NB_C_COUNT] = {
	[NB_C_TX_FRAMES] = "tx_frames",
	[NB_C_TX_BYTES] = "tx_bytes",
	[NB_C_TX_ERRORS] = "tx_errors",
	[NB_C_TX_DROPPED] = "tx_dropped",
	[NB_C_TX_BATCHES] = "tx_batches",
	[NB_C_RX_FRAMES] = "rx_frames",
	[NB_C_RX_BYTES] = "rx_bytes",
	[NB_C_RX_NO_BUFFER] = "rx_dropped_no_buffer",
	[NB_C_RX_TOO_BIG] = "rx_dropped_too_big",
	[NB_C_RX_ERRORS] = "rx_errors",
	[NB_C_CSUM_FILLED] = "checksums_filled",
	[NB_C_NOTIFY_SENT] = "notifications_sent",
	[NB_C_NOTIFY_SUPPRESSED] = "notifications_suppressed",
	[NB_C_GUEST_KICKS] = "guest_kicks",
};

/* Counters outlive the connection: the VMM prints them after stop. */
struct nb_stats {
	char name[16];
	struct stat_counter c[NB_C_COUNT];
	struct stats_group group;
};

#define MAX_SLOTS PVKVM_NETIF_MAX_SLOTS_PER_FRAME

/* A frame staged for the port, with the ids its slots answer to. */
struct tx_staged {
	struct net_pkt *pkt;
	uint8_t nr_ids;
	uint16_t ids[MAX_SLOTS];
};

struct netback;

struct nb_queue {
	struct netback *nb;
	unsigned int idx;
	unsigned int evport;
	int port_efd;
	pthread_t thread;
	bool thread_started;
	struct grant_map tx_map, rx_map;
	struct netif_tx_back tx;
	struct netif_rx_back rx;
	bool tx_unpushed, rx_unpushed;

	/* transmit: the chain being taken (it may span wake-ups) */
	struct pvkvm_netif_tx_request chain[MAX_SLOTS];
	unsigned int nchain;
	bool skipping; /* an over-long chain: answer its slots until its end */
	struct tx_staged staged[NETBACK_TX_BATCH];
	unsigned int nstaged;

	/* receive: the bounded queue, and posted pages taken but not filled */
	struct net_pkt *rxq[NETBACK_RXQ_LEN];
	unsigned int rxq_head, rxq_count;
	struct net_pkt *scratch;
	struct pvkvm_netif_rx_request rxreq[MAX_SLOTS];
	unsigned int nrxreq;
	bool need_buffers;
};

struct netback {
	struct device dev;
	struct vm *vm;
	struct net_port *port;
	struct netback_config cfg;
	struct xenbus_backend *xb;
	struct nb_stats *stats;

	/* The frontend's features, read at connect. */
	bool fe_sg, fe_gso, fe_csum;
	uint32_t rx_cap;  /* receive buffer size: the longest frame + 1 */
	unsigned int nr_queues; /* connected */
	int stop_efd;
	struct nb_queue q[PVKVM_NETIF_MAX_QUEUES];

	atomic_bool broken;
	atomic_bool reported;
	/* serve() calls of queue 0 begun and ended (netback_passes) */
	atomic_uint_fast64_t passes_begun, passes_done;
};

static void count(struct netback *nb, enum nb_counter c, uint64_t n)
{
	stat_add(&nb->stats->c[c].value, n);
}

/* ---- a broken ring ------------------------------------------------------------ */

/* One line per device and connection, however many queues see it, and at
 * most one per 10 s for all devices: a guest that breaks and reconnects
 * its rings forever must not flood the log (the error key and the state
 * still record each one). */
static void mark_broken(struct nb_queue *q, const char *ring, uint32_t prod,
			uint32_t cons, uint32_t answered)
{
	static struct ratelimit lines = RATELIMIT_INIT(10ull * 1000000000ull);
	uint64_t held = 0;
	char more[64] = "";
	if (atomic_exchange(&q->nb->broken, true) ||
	    !ratelimit_allow(&lines, vm_now_ns(), &held))
		return;
	if (held)
		snprintf(more, sizeof(more), " (%llu similar lines held back)",
			 (unsigned long long)held);
	fprintf(stderr,
		"pvkvm: %s: queue %u %s ring broken: frontend req_prod %u is "
		"impossible (consumed %u, answered %u, %u slots); device stopped%s\n",
		q->nb->dev.name, q->idx, ring, prod, cons, answered,
		PVKVM_NETIF_RING_SLOTS, more);
}

static void tx_broken(struct nb_queue *q)
{
	mark_broken(q, "tx", __atomic_load_n(&q->tx.sring->hdr.req_prod, __ATOMIC_RELAXED),
		    q->tx.req_cons, q->tx.rsp_prod_pvt);
}

static void rx_broken(struct nb_queue *q)
{
	mark_broken(q, "rx", __atomic_load_n(&q->rx.sring->hdr.req_prod, __ATOMIC_RELAXED),
		    q->rx.req_cons, q->rx.rsp_prod_pvt);
}

static bool is_broken(struct netback *nb)
{
	return atomic_load_explicit(&nb->broken, memory_order_relaxed);
}

/* ---- responses ------------------------------------------------------------------- */

static void tx_respond(struct nb_queue *q, uint16_t id, int16_t status)
{
	struct pvkvm_netif_tx_response *r = netif_tx_back_next_rsp(&q->tx);
	if (!r)
		return; /* broken: nobody to answer */
	*r = (struct pvkvm_netif_tx_response){ .id = id, .status = status };
	q->tx_unpushed = true;
}

/* Publishes both rings' responses; one notification if either asks. */
static void push_responses(struct nb_queue *q)
{
	bool notify = false, any = q->tx_unpushed || q->rx_unpushed;
	if (q->tx_unpushed)
		notify |= netif_tx_back_push_rsps(&q->tx);
	if (q->rx_unpushed)
		notify |= netif_rx_back_push_rsps(&q->rx);
	q->tx_unpushed = q->rx_unpushed = false;
	if (!any)
		return;
	if (notify) {
		evtchn_notify_guest(q->nb->vm->evtchn, q->evport);
		count(q->nb, NB_C_NOTIFY_SENT, 1);
	} else {
		count(q->nb, NB_C_NOTIFY_SUPPRESSED, 1);
	}
}

/* ---- transmit ------------------------------------------------------------------------- */

static uint32_t max_frame(const struct netback *nb, bool gso)
{
	return gso ? PVKVM_NETIF_FRAME_MAX : nb->cfg.mtu + PVKVM_NETIF_ETH_HLEN;
}

static bool slot_ok(const struct pvkvm_netif_tx_request *s, bool first)
{
	if (s->size == 0 || (uint32_t)s->offset + s->size > PVKVM_PAGE_SIZE)
		return false;
	if ((s->flags & ~PVKVM_NETIF_F_ALL) || s->reserved0 || s->reserved1)
		return false;
	if (!first && (s->total_len || s->csum_start || s->csum_offset ||
		       s->gso_size || s->gso_type ||
		       (s->flags & ~PVKVM_NETIF_F_MORE_DATA)))
		return false;
	return true;
}

/* The chain's shape and offload fields; fills the virtio-net header. */
static bool chain_ok(const struct netback *nb, const struct pvkvm_netif_tx_request *c,
		     unsigned int n, struct net_vhdr *vh)
{
	const struct pvkvm_netif_tx_request *f = &c[0];
	bool gso = f->flags & PVKVM_NETIF_F_GSO;
	uint32_t sum = 0;
	for (unsigned int i = 0; i < n; i++) {
		if (!slot_ok(&c[i], i == 0))
			return false;
		sum += c[i].size;
	}
	if (sum != f->total_len || sum < PVKVM_NETIF_FRAME_MIN || sum > max_frame(nb, gso))
		return false;
	*vh = (struct net_vhdr){ 0 };
	if (f->flags & PVKVM_NETIF_F_CSUM_BLANK) {
		if ((uint32_t)f->csum_start + f->csum_offset + 2 > sum)
			return false;
		vh->flags |= NET_VHDR_F_NEEDS_CSUM;
		vh->csum_start = f->csum_start;
		vh->csum_offset = f->csum_offset;
	} else if (f->csum_start || f->csum_offset) {
		return false;
	}
	if (f->flags & PVKVM_NETIF_F_DATA_VALIDATED)
		vh->flags |= NET_VHDR_F_DATA_VALID;
	if (gso) {
		if (!nb->port->gso_ok || f->gso_type != PVKVM_NETIF_GSO_TCPV4 ||
		    f->gso_size == 0 || !(f->flags & PVKVM_NETIF_F_CSUM_BLANK))
			return false;
		vh->gso_type = NET_VHDR_GSO_TCPV4;
		vh->gso_size = f->gso_size;
	} else if (f->gso_type || f->gso_size) {
		return false;
	}
	return true;
}

/* Copies the chain's bytes once, from the granted pages into pkt. */
static bool copy_chain(struct netback *nb, const struct pvkvm_netif_tx_request *c,
		       unsigned int n, struct net_pkt *pkt)
{
	uint32_t pos = 0;
	for (unsigned int i = 0; i < n; i++) {
		if (grant_copy_from(nb->vm->grants, c[i].gref, c[i].offset,
				    pkt->data + pos, c[i].size))
			return false;
		pos += c[i].size;
	}
	pkt->len = pos;
	return true;
}

static void tx_reject(struct nb_queue *q, const struct pvkvm_netif_tx_request *c,
		      unsigned int n)
{
	count(q->nb, NB_C_TX_ERRORS, 1);
	for (unsigned int i = 0; i < n; i++)
		tx_respond(q, c[i].id, PVKVM_NETIF_RSP_ERROR);
}

/* Hands the staged frames to the port and answers their slots. */
static void tx_flush(struct nb_queue *q)
{
	struct netback *nb = q->nb;
	if (q->nstaged == 0)
		return;
	struct net_pkt *pkts[NETBACK_TX_BATCH];
	for (unsigned int i = 0; i < q->nstaged; i++)
		pkts[i] = q->staged[i].pkt;
	unsigned int sent = net_port_send(nb->port, pkts, q->nstaged);
	count(nb, NB_C_TX_BATCHES, 1);
	for (unsigned int i = 0; i < q->nstaged; i++) {
		struct tx_staged *s = &q->staged[i];
		int16_t st = i < sent ? PVKVM_NETIF_RSP_OKAY : PVKVM_NETIF_RSP_DROPPED;
		if (i < sent) {
			count(nb, NB_C_TX_FRAMES, 1);
			count(nb, NB_C_TX_BYTES, s->pkt->len);
		} else {
			count(nb, NB_C_TX_DROPPED, 1);
		}
		for (unsigned int k = 0; k < s->nr_ids; k++)
			tx_respond(q, s->ids[k], st);
	}
	q->nstaged = 0;
}

/* A complete chain in q->chain: validate, copy, stage. */
static void tx_frame(struct nb_queue *q)
{
	struct netback *nb = q->nb;
	unsigned int n = q->nchain;
	q->nchain = 0;
	struct tx_staged *s = &q->staged[q->nstaged];
	if (!chain_ok(nb, q->chain, n, &s->pkt->vh) ||
	    !copy_chain(nb, q->chain, n, s->pkt)) {
		tx_reject(q, q->chain, n);
		return;
	}
	s->nr_ids = (uint8_t)n;
	for (unsigned int i = 0; i < n; i++)
		s->ids[i] = q->chain[i].id;
	if (++q->nstaged == NETBACK_TX_BATCH)
		tx_flush(q);
}

/* Takes every request the ring holds; false if it turned out broken. */
static bool tx_take(struct nb_queue *q)
{
	for (;;) {
		struct pvkvm_netif_tx_request req;
		int got = netif_tx_back_take_req(&q->tx, &req);
		if (got < 0) {
			tx_broken(q);
			return false;
		}
		if (got == 0) {
			if (q->nstaged == 0)
				return true;
			tx_flush(q); /* frees response slots: maybe more to take */
			continue;
		}
		if (q->skipping) {
			tx_respond(q, req.id, PVKVM_NETIF_RSP_ERROR);
			q->skipping = req.flags & PVKVM_NETIF_F_MORE_DATA;
			continue;
		}
		q->chain[q->nchain++] = req;
		if (!(req.flags & PVKVM_NETIF_F_MORE_DATA)) {
			tx_frame(q);
		} else if (q->nchain == MAX_SLOTS) {
			tx_reject(q, q->chain, q->nchain);
			q->nchain = 0;
			q->skipping = true; /* the rest of it is answered ERROR too */
		}
	}
}

/* ---- receive --------------------------------------------------------------------------- */

/* Makes a queued frame one the frontend accepts; false: drop it. */
static bool rx_fit(struct nb_queue *q, struct net_pkt *pkt)
{
	struct netback *nb = q->nb;
	if (pkt->vh.gso_type != NET_VHDR_GSO_NONE && !(nb->fe_gso && nb->fe_sg)) {
		count(nb, NB_C_RX_TOO_BIG, 1);
		return false;
	}
	if ((pkt->vh.flags & NET_VHDR_F_NEEDS_CSUM) && !nb->fe_csum) {
		if (!net_pkt_complete_csum(pkt)) {
			count(nb, NB_C_RX_ERRORS, 1);
			return false;
		}
		count(nb, NB_C_CSUM_FILLED, 1);
	}
	if (pkt->len > PVKVM_PAGE_SIZE && !nb->fe_sg) {
		count(nb, NB_C_RX_TOO_BIG, 1);
		return false;
	}
	return true;
}

/* Takes posted pages until n are in hand: 1 yes, 0 too few posted, -1 broken. */
static int rx_buffers(struct nb_queue *q, unsigned int n)
{
	while (q->nrxreq < n) {
		int got = netif_rx_back_take_req(&q->rx, &q->rxreq[q->nrxreq]);
		if (got < 0) {
			rx_broken(q);
			return -1;
		}
		if (got == 0)
			return 0;
		q->nrxreq++;
	}
	return 1;
}

static void rx_respond(struct nb_queue *q, const struct pvkvm_netif_rx_response *r)
{
	struct pvkvm_netif_rx_response *slot = netif_rx_back_next_rsp(&q->rx);
	if (!slot)
		return;
	*slot = *r;
	q->rx_unpushed = true;
}

/* Answers the first n pages in hand as empty errors. */
static void rx_fail_pages(struct nb_queue *q, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		rx_respond(q, &(struct pvkvm_netif_rx_response){
				      .id = q->rxreq[i].id,
				      .status = PVKVM_NETIF_RSP_ERROR });
}

/* Copies pkt into the first n pages in hand and answers them. */
static void rx_copy(struct nb_queue *q, const struct net_pkt *pkt, unsigned int n)
{
	struct netback *nb = q->nb;
	for (unsigned int i = 0; i < n; i++) {
		uint32_t off = i * PVKVM_PAGE_SIZE;
		uint32_t len = pkt->len - off < PVKVM_PAGE_SIZE ? pkt->len - off
								: PVKVM_PAGE_SIZE;
		if (grant_copy_to(nb->vm->grants, q->rxreq[i].gref, 0, pkt->data + off, len)) {
			count(nb, NB_C_RX_ERRORS, 1);
			rx_fail_pages(q, n);
			return;
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		uint32_t off = i * PVKVM_PAGE_SIZE;
		uint32_t len = pkt->len - off < PVKVM_PAGE_SIZE ? pkt->len - off
								: PVKVM_PAGE_SIZE;
		struct pvkvm_netif_rx_response r = {
			.id = q->rxreq[i].id,
			.status = (int16_t)len,
			.flags = i + 1 < n ? PVKVM_NETIF_F_MORE_DATA : 0,
		};
		if (i == 0) {
			r.total_len = (uint16_t)pkt->len;
			if (pkt->vh.flags & NET_VHDR_F_NEEDS_CSUM) {
				r.flags |= PVKVM_NETIF_F_CSUM_BLANK;
				r.csum_start = pkt->vh.csum_start;
				r.csum_offset = pkt->vh.csum_offset;
			}
			if (pkt->vh.flags & NET_VHDR_F_DATA_VALID)
				r.flags |= PVKVM_NETIF_F_DATA_VALIDATED;
			if (pkt->vh.gso_type == NET_VHDR_GSO_TCPV4) {
				r.flags |= PVKVM_NETIF_F_GSO;
				r.gso_type = PVKVM_NETIF_GSO_TCPV4;
				r.gso_size = pkt->vh.gso_size;
			}
		}
		rx_respond(q, &r);
	}
	count(nb, NB_C_RX_FRAMES, 1);
	count(nb, NB_C_RX_BYTES, pkt->len);
}

/* Moves queued frames into posted pages; false if the ring broke. Sets
 * need_buffers when frames are left waiting for pages. */
static bool rx_deliver(struct nb_queue *q)
{
	q->need_buffers = false;
	while (q->rxq_count > 0) {
		struct net_pkt *pkt = q->rxq[q->rxq_head];
		if (rx_fit(q, pkt)) {
			unsigned int n = (pkt->len + PVKVM_PAGE_SIZE - 1) / PVKVM_PAGE_SIZE;
			int ok = rx_buffers(q, n);
			if (ok < 0)
				return false;
			if (ok == 0) {
				q->need_buffers = true;
				return true;
			}
			rx_copy(q, pkt, n);
			q->nrxreq -= n;
			memmove(q->rxreq, q->rxreq + n, q->nrxreq * sizeof(q->rxreq[0]));
		}
		q->rxq_head = (q->rxq_head + 1) % NETBACK_RXQ_LEN;
		q->rxq_count--;
	}
	return true;
}

/* Drains the port's queues this thread serves into the bounded queue;
 * what does not fit is read anyway and dropped, so the port never backs
 * up behind a silent guest. True if any frame arrived. */
static bool rx_fill(struct nb_queue *q)
{
	struct netback *nb = q->nb;
	bool any = false;
	for (unsigned int pq = q->idx; pq < nb->port->nr_queues; pq += nb->nr_queues) {
		for (unsigned int budget = 0; budget < NETBACK_RXQ_LEN; budget++) {
			bool room = q->rxq_count < NETBACK_RXQ_LEN;
			struct net_pkt *pkt = room
				? q->rxq[(q->rxq_head + q->rxq_count) % NETBACK_RXQ_LEN]
				: q->scratch;
			pkt->cap = nb->rx_cap;
			int r = net_port_recv(nb->port, pq, pkt);
			if (r == 0)
				break;
			any = true;
			if (r < 0)
				count(nb, NB_C_RX_TOO_BIG, 1);
			else if (!room)
				count(nb, NB_C_RX_NO_BUFFER, 1);
			else
				q->rxq_count++;
		}
	}
	return any;
}

/* ---- the I/O thread ------------------------------------------------------------------------ */

/* Serves both rings until there is nothing to do and both final checks
 * say the frontend will kick for the next piece of work. */
static void serve_all(struct nb_queue *q)
{
	for (;;) {
		if (!tx_take(q) || !rx_deliver(q))
			break;
		bool got = rx_fill(q);
		if (!rx_deliver(q))
			break;
		push_responses(q);
		if (got)
			continue;
		bool more = netif_tx_back_final_check_reqs(&q->tx);
		if (q->need_buffers)
			more |= netif_rx_back_final_check_reqs(&q->rx);
		if (!more || is_broken(q->nb))
			break;
	}
	push_responses(q);
}

static void serve(struct nb_queue *q)
{
	if (q->idx == 0)
		atomic_fetch_add(&q->nb->passes_begun, 1);
	serve_all(q);
	if (q->idx == 0)
		atomic_fetch_add(&q->nb->passes_done, 1);
}

static void on_guest_kick(struct nb_queue *q)
{
	uint64_t n = 0;
	if (read(q->port_efd, &n, sizeof(n)) != sizeof(n))
		n = 0;
	count(q->nb, NB_C_GUEST_KICKS, n);
	stat_add(&q->nb->vm->stats.evtchn_guest_sends, n);
}

static void report_broken(struct netback *nb)
{
	if (atomic_exchange(&nb->reported, true))
		return;
	const char *dir = xenbus_backend_dir(nb->xb);
	char path[PVKVM_STORE_PATH_MAX];
	snprintf(path, sizeof(path), "%s/error", dir);
	store_printf(nb->vm->store, path, "ring broken: impossible req_prod");
	xenbus_set_state(nb->vm->store, dir, PVKVM_XB_CLOSING);
}

static void *io_thread(void *arg)
{
	struct nb_queue *q = arg;
	struct netback *nb = q->nb;
	rcu_register_thread(); /* grant lookups read under RCU */
	struct pollfd fds[2 + PVKVM_NETIF_MAX_QUEUES];
	unsigned int n = 0;
	fds[n++] = (struct pollfd){ .fd = q->port_efd, .events = POLLIN };
	fds[n++] = (struct pollfd){ .fd = nb->stop_efd, .events = POLLIN };
	for (unsigned int pq = q->idx; pq < nb->port->nr_queues; pq += nb->nr_queues)
		fds[n++] = (struct pollfd){ .fd = net_port_rx_fd(nb->port, pq),
					    .events = POLLIN };
	serve(q); /* requests may predate the connection */
	while (!is_broken(nb)) {
		if (poll(fds, n, -1) < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			break;
		if (fds[0].revents & POLLIN)
			on_guest_kick(q);
		serve(q);
	}
	if (is_broken(nb))
		report_broken(nb);
	rcu_unregister_thread();
	return NULL;
}

/* ---- xenbus: connect and disconnect ------------------------------------------------------- */

static int read_u64(struct netback *nb, const char *dir, const char *key,
		    uint64_t max, uint64_t *out)
{
	char path[PVKVM_STORE_PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, key);
	if (store_read_u64(nb->vm->store, path, out) < 0 || *out > max)
		return -PVKVM_EINVAL;
	return 0;
}

/* A flag key: absent is 0; present must be 0 or 1. */
static int read_flag(struct netback *nb, const char *dir, const char *key, bool *out)
{
	char path[PVKVM_STORE_PATH_MAX];
	uint64_t v;
	snprintf(path, sizeof(path), "%s/%s", dir, key);
	if (store_read(nb->vm->store, path, NULL, 0) < 0) {
		*out = false;
		return 0;
	}
	if (store_read_u64(nb->vm->store, path, &v) < 0 || v > 1)
		return -PVKVM_EINVAL;
	*out = v == 1;
	return 0;
}

static void queue_free_bufs(struct nb_queue *q)
{
	for (unsigned int i = 0; i < NETBACK_TX_BATCH; i++) {
		net_pkt_free(q->staged[i].pkt);
		q->staged[i].pkt = NULL;
	}
	for (unsigned int i = 0; i < NETBACK_RXQ_LEN; i++) {
		net_pkt_free(q->rxq[i]);
		q->rxq[i] = NULL;
	}
	net_pkt_free(q->scratch);
	q->scratch = NULL;
}

static int queue_alloc_bufs(struct nb_queue *q)
{
	struct netback *nb = q->nb;
	uint32_t tx_cap = max_frame(nb, nb->port->gso_ok);
	for (unsigned int i = 0; i < NETBACK_TX_BATCH; i++)
		if (!(q->staged[i].pkt = net_pkt_new(tx_cap)))
			return -PVKVM_ENOMEM;
	for (unsigned int i = 0; i < NETBACK_RXQ_LEN; i++)
		if (!(q->rxq[i] = net_pkt_new(nb->rx_cap)))
			return -PVKVM_ENOMEM;
	q->scratch = net_pkt_new(nb->rx_cap);
	return q->scratch ? 0 : -PVKVM_ENOMEM;
}

static void queue_close(struct nb_queue *q)
{
	if (q->port_efd >= 0)
		evtchn_unbind_host(q->nb->vm->evtchn, q->evport);
	q->port_efd = -1;
	if (q->tx_map.page)
		grant_unmap(&q->tx_map);
	if (q->rx_map.page)
		grant_unmap(&q->rx_map);
	memset(&q->tx_map, 0, sizeof(q->tx_map));
	memset(&q->rx_map, 0, sizeof(q->rx_map));
	queue_free_bufs(q);
}

/* Maps queue i's rings and binds its port, from the keys in dir. */
static int queue_open(struct nb_queue *q, const char *dir)
{
	struct netback *nb = q->nb;
	uint64_t txref, rxref, port;
	if (read_u64(nb, dir, "tx-ring-ref", UINT32_MAX, &txref) ||
	    read_u64(nb, dir, "rx-ring-ref", UINT32_MAX, &rxref) ||
	    read_u64(nb, dir, "event-channel", PVKVM_EVTCHN_MAX - 1, &port))
		return -PVKVM_EINVAL;
	q->port_efd = -1;
	q->nchain = q->nstaged = q->nrxreq = 0;
	q->rxq_head = q->rxq_count = 0;
	q->skipping = q->need_buffers = q->tx_unpushed = q->rx_unpushed = false;
	int rc = grant_map(nb->vm->grants, (uint32_t)txref, GRANT_WRITE, &q->tx_map);
	if (!rc)
		rc = grant_map(nb->vm->grants, (uint32_t)rxref, GRANT_WRITE, &q->rx_map);
	if (!rc && (netif_tx_back_init(&q->tx, (void *)q->tx_map.page, PVKVM_PAGE_SIZE) ||
		    netif_rx_back_init(&q->rx, (void *)q->rx_map.page, PVKVM_PAGE_SIZE)))
		rc = -PVKVM_EINVAL;
	if (!rc)
		rc = queue_alloc_bufs(q);
	if (!rc) {
		q->evport = (unsigned int)port;
		rc = evtchn_bind_host(nb->vm->evtchn, q->evport, &q->port_efd);
		if (rc)
			q->port_efd = -1;
	}
	if (rc) {
		queue_close(q);
		return rc;
	}
	q->tx.mode = q->rx.mode = nb->cfg.notify;
	return 0;
}

static int read_features(struct netback *nb, const char *fe_dir)
{
	uint64_t nq = 1;
	char path[PVKVM_STORE_PATH_MAX];
	snprintf(path, sizeof(path), "%s/multi-queue-num-queues", fe_dir);
	if (store_read(nb->vm->store, path, NULL, 0) >= 0 &&
	    (read_u64(nb, fe_dir, "multi-queue-num-queues", nb->cfg.max_queues, &nq) ||
	     nq == 0))
		return -PVKVM_EINVAL;
	nb->nr_queues = (unsigned int)nq;
	if (read_flag(nb, fe_dir, "feature-sg", &nb->fe_sg) ||
	    read_flag(nb, fe_dir, "feature-gso-tcpv4", &nb->fe_gso) ||
	    read_flag(nb, fe_dir, "feature-csum-offload", &nb->fe_csum))
		return -PVKVM_EINVAL;
	bool gso = nb->fe_gso && nb->fe_sg && nb->port->gso_ok;
	nb->rx_cap = max_frame(nb, gso) + 1;
	if (nb->rx_cap < NET_FRAME_MAX_NOGSO + 1)
		nb->rx_cap = NET_FRAME_MAX_NOGSO + 1;
	nb->port->ops->set_offload(nb->port, nb->fe_csum, gso);
	return 0;
}

static void stop_threads(struct netback *nb)
{
	uint64_t one = 1;
	if (write(nb->stop_efd, &one, sizeof(one)) != sizeof(one))
		perror("pvkvm: netback stop");
	for (unsigned int i = 0; i < nb->nr_queues; i++) {
		struct nb_queue *q = &nb->q[i];
		if (!q->thread_started)
			continue;
		/* A host-side frontend answering our Closing from inside the
		 * store watch may land here on an I/O thread: it lets itself go. */
		if (pthread_equal(pthread_self(), q->thread))
			pthread_detach(q->thread);
		else
			pthread_join(q->thread, NULL);
		q->thread_started = false;
	}
	uint64_t v;
	if (read(nb->stop_efd, &v, sizeof(v)) != sizeof(v))
		perror("pvkvm: netback stop reset");
}

static void nb_disconnect(void *arg)
{
	struct netback *nb = arg;
	stop_threads(nb);
	for (unsigned int i = 0; i < nb->nr_queues; i++)
		queue_close(&nb->q[i]);
	nb->nr_queues = 0;
}

static int nb_connect(void *arg, const char *fe_dir)
{
	struct netback *nb = arg;
	int rc = read_features(nb, fe_dir);
	if (rc)
		return rc;
	atomic_store(&nb->broken, false);
	atomic_store(&nb->reported, false);
	unsigned int opened = 0;
	for (; opened < nb->nr_queues; opened++) {
		char dir[PVKVM_STORE_PATH_MAX];
		if (nb->nr_queues == 1)
			snprintf(dir, sizeof(dir), "%s", fe_dir);
		else
			snprintf(dir, sizeof(dir), "%s/queue-%u", fe_dir, opened);
		rc = queue_open(&nb->q[opened], dir);
		if (rc)
			goto fail;
	}
	for (unsigned int i = 0; i < nb->nr_queues; i++) {
		if (pthread_create(&nb->q[i].thread, NULL, io_thread, &nb->q[i]) != 0) {
			rc = -PVKVM_ENOMEM;
			goto fail;
		}
		nb->q[i].thread_started = true;
	}
	return 0;
fail:
	stop_threads(nb);
	for (unsigned int i = 0; i < opened; i++)
		queue_close(&nb->q[i]);
	nb->nr_queues = 0;
	return rc;
}

static const struct xenbus_backend_ops nb_ops = {
	.connect = nb_connect,
	.disconnect = nb_disconnect,
};

/* ---- the device ---------------------------------------------------------------------------- */

static int publish_features(struct netback *nb)
{
	struct store *s = nb->vm->store;
	char dir[64], path[PVKVM_STORE_PATH_MAX], mac[18];
	snprintf(dir, sizeof(dir), "backend/net/%u", nb->cfg.id);
	const struct { const char *key; uint64_t val; } keys[] = {
		{ "mtu", nb->cfg.mtu },
		{ "feature-rx-copy", 1 },
		{ "feature-rx-flip", 0 },
		{ "feature-sg", 1 },
		{ "feature-csum-offload", 1 },
		{ "feature-gso-tcpv4", nb->port->gso_ok },
		{ "multi-queue-max-queues", nb->cfg.max_queues },
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, keys[i].key);
		int rc = store_printf(s, path, "%llu", (unsigned long long)keys[i].val);
		if (rc)
			return rc;
	}
	net_format_mac(nb->cfg.mac, mac);
	snprintf(path, sizeof(path), "%s/mac", dir);
	return store_printf(s, path, "%s", mac);
}

static int nb_start(struct device *dev, struct vm *vm)
{
	struct netback *nb = dev->priv;
	nb->vm = vm;
	int rc = publish_features(nb); /* before InitWait: all there when seen */
	if (rc)
		return rc;
	stats_register_group(&vm->stats, &nb->stats->group);
	nb->xb = xenbus_backend_new(vm->store, "net", nb->cfg.id, &nb_ops, nb);
	return nb->xb ? 0 : -ENOMEM;
}

static void nb_stop(struct device *dev, struct vm *vm)
{
	(void)vm;
	struct netback *nb = dev->priv;
	xenbus_backend_free(nb->xb); /* disconnects if connected */
	nb->xb = NULL;
}

void netback_destroy(struct device *dev)
{
	if (!dev)
		return;
	struct netback *nb = dev->priv;
	if (nb->xb)
		nb_stop(dev, nb->vm);
	net_port_close(nb->port);
	if (nb->stop_efd >= 0)
		close(nb->stop_efd);
	free(nb->stats);
	free(nb);
}

void netback_config_default(struct netback_config *cfg, unsigned int id)
{
	*cfg = (struct netback_config){
		.id = id,
		.max_queues = 1,
		.mac = { 0x52, 0x54, 0x00, 0x12, 0x34, (uint8_t)(0x56 + id) },
		.mtu = PVKVM_NETIF_MTU_DEFAULT,
		.notify = PVKVM_RING_SUPPRESS,
	};
}

static struct nb_stats *stats_new(unsigned int id)
{
	struct nb_stats *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	snprintf(st->name, sizeof(st->name), "net%u", id);
	for (unsigned int i = 0; i < NB_C_COUNT; i++)
		st->c[i].name = counter_names[i];
	st->group = (struct stats_group){ .name = st->name, .counters = st->c,
					  .nr = NB_C_COUNT };
	return st;
}

struct device *netback_create(struct net_port *port, const struct netback_config *cfg)
{
	if (cfg->max_queues == 0 || cfg->max_queues > port->nr_queues ||
	    cfg->mtu < 68 || cfg->mtu > 9000)
		return NULL;
	struct netback *nb = calloc(1, sizeof(*nb));
	if (!nb)
		return NULL;
	nb->stats = stats_new(cfg->id);
	nb->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!nb->stats || nb->stop_efd < 0) {
		if (nb->stop_efd >= 0)
			close(nb->stop_efd);
		free(nb->stats);
		free(nb);
		return NULL;
	}
	nb->port = port;
	nb->cfg = *cfg;
	for (unsigned int i = 0; i < PVKVM_NETIF_MAX_QUEUES; i++) {
		nb->q[i].nb = nb;
		nb->q[i].idx = i;
		nb->q[i].port_efd = -1;
	}
	nb->dev.name = nb->stats->name;
	nb->dev.priv = nb;
	nb->dev.start = nb_start;
	nb->dev.stop = nb_stop;
	return &nb->dev;
}

int netback_kick(struct device *dev, unsigned int q)
{
	struct netback *nb = dev->priv;
	uint64_t one = 1;
	if (q >= nb->nr_queues || nb->q[q].port_efd < 0)
		return -PVKVM_EINVAL;
	return write(nb->q[q].port_efd, &one, sizeof(one)) == sizeof(one) ? 0 : -PVKVM_EIO;
}

bool netback_is_broken(struct device *dev)
{
	return atomic_load(&((struct netback *)dev->priv)->broken);
}

void netback_passes(struct device *dev, uint64_t *begun, uint64_t *done)
{
	struct netback *nb = dev->priv;
	*done = atomic_load(&nb->passes_done);
	*begun = atomic_load(&nb->passes_begun);
}
