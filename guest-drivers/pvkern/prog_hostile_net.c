// SPDX-License-Identifier: MIT
/*
 * hostilenet CASE: a network frontend that misbehaves on purpose, one case
 * per run, against PV NIC 0, spoken by hand (rings, grants and an event
 * channel of its own, no netfront core). NIC 1, on the same switch, is a
 * well-behaved netfront (net.h): it floods NIC 0 where a case needs
 * traffic from outside, and afterwards the two exchange frames both ways
 * (NIC 0 reconnected afresh), so both devices are shown to work.
 *
 * Each case prints "hostilenet: <case>: ok" when the backend answered as
 * docs/net.md says (ERROR for every slot of a bad frame, an rx ERROR for a
 * buffer it may not fill, a broken ring for an impossible index), and
 * "... FAILED (why)" otherwise; the exit status is the number of failures.
 * The pages NIC 0 grants read-only hold a known pattern, checked after
 * every case. The test (tests/e2e/test_hostile_net.c) checks the host side:
 * the VMM stays up, its memory stays bounded, the drop counters.
 */
#include "console.h"
#include "events.h"
#include "gnttab.h"
#include "hypercall.h"
#include "hypercall/pvkvm_netif.h"
#include "kernel.h"
#include "klib.h"
#include "mm.h"
#include "net.h"
#include "ring_wait.h"
#include "store.h"
#include "time.h"
#include "xenbus.h"

#define WAIT_NS (3 * NS_PER_SEC)
#define NR_TX_PAGES 16u
#define NR_RX_PAGES 128u
#define ETHERTYPE_TX 0x88b5u /* NIC 0's frames */
#define ETHERTYPE_RX 0x88b6u /* NIC 1's frames */

struct hnf {
	struct xb_front fe;
	struct netif_tx_sring *txs;
	struct netif_rx_sring *rxs;
	struct netif_tx_front tx;
	struct netif_rx_front rx;
	uint32_t tx_ref, rx_ref, port;
	uint8_t mac[NET_ETH_ALEN];
	uint8_t *tx_page[NR_TX_PAGES];
	uint32_t tx_gref[NR_TX_PAGES]; /* read-only */
	uint8_t *rx_page[NR_RX_PAGES];
	uint32_t rx_gref[NR_RX_PAGES]; /* writable */
};

static struct hnf h;
static struct net_dev *nic1;
static int failures;
static uint16_t next_id = 1;

static void fail(const char *c, const char *why, long v)
{
	printf("hostilenet: %s: FAILED (%s: %ld)\n", c, why, v);
	failures++;
}

static uint8_t tx_byte(unsigned int page, unsigned int i)
{
	return (uint8_t)(page * 37 + i * 7 + 1);
}

/* NIC 0's read-only pages: broadcast, NIC 0's MAC, ETHERTYPE_TX, pattern. */
static void fill_tx_page(unsigned int k)
{
	uint8_t *p = h.tx_page[k];

	for (unsigned int i = 0; i < PAGE_SIZE; i++)
		p[i] = tx_byte(k, i);
	memset(p, 0xff, NET_ETH_ALEN);
	memcpy(p + NET_ETH_ALEN, h.mac, NET_ETH_ALEN);
	p[12] = ETHERTYPE_TX >> 8;
	p[13] = ETHERTYPE_TX & 0xff;
}

static bool tx_pages_intact(void)
{
	for (unsigned int k = 0; k < NR_TX_PAGES; k++)
		for (unsigned int i = 14; i < PAGE_SIZE; i++)
			if (h.tx_page[k][i] != tx_byte(k, i))
				return false;
	return true;
}

/* ---- NIC 0 by hand ------------------------------------------------------------- */

static int read_mac(void)
{
	char path[192], val[32];

	snprintf(path, sizeof(path), "%s/mac", h.fe.backend);
	if (store_read(path, val, sizeof(val)) < 0 || !net_parse_mac(val, h.mac))
		return -PVKVM_EIO;
	return 0;
}

static void alloc_pages_once(void)
{
	if (h.txs)
		return;
	h.txs = page_alloc(1);
	h.rxs = page_alloc(1);
	for (unsigned int k = 0; k < NR_TX_PAGES; k++) {
		h.tx_page[k] = page_alloc(1);
		fill_tx_page(k);
		h.tx_gref[k] = (uint32_t)gnttab_grant(gpa_to_frame(h.tx_page[k]), true);
	}
	for (unsigned int k = 0; k < NR_RX_PAGES; k++) {
		h.rx_page[k] = page_alloc(1);
		h.rx_gref[k] = (uint32_t)gnttab_grant(gpa_to_frame(h.rx_page[k]), false);
	}
}

static int hn_open(void)
{
	uint64_t deadline = now_ns() + WAIT_NS;
	int r = xb_front_init(&h.fe, "net", 0);

	if (r < 0)
		return r;
	xb_front_set_state(&h.fe, PVKVM_XB_INITIALISING);
	r = xb_wait_backend_state(&h.fe, PVKVM_XB_INITWAIT, deadline);
	if (r < 0 || (r = read_mac()) < 0)
		return r;
	alloc_pages_once();
	memset(h.txs, 0, PAGE_SIZE);
	memset(h.rxs, 0, PAGE_SIZE);
	netif_tx_sring_init(h.txs);
	netif_rx_sring_init(h.rxs);
	netif_tx_front_init(&h.tx, h.txs, PAGE_SIZE);
	netif_rx_front_init(&h.rx, h.rxs, PAGE_SIZE);
	h.tx_ref = (uint32_t)gnttab_grant(gpa_to_frame(h.txs), false);
	h.rx_ref = (uint32_t)gnttab_grant(gpa_to_frame(h.rxs), false);
	int64_t port = hc0(PVKVM_HC_EVTCHN_ALLOC);
	if (port <= 0)
		return -PVKVM_EIO;
	h.port = (uint32_t)port;
	xb_front_write_u64(&h.fe, "tx-ring-ref", h.tx_ref);
	xb_front_write_u64(&h.fe, "rx-ring-ref", h.rx_ref);
	xb_front_write_u64(&h.fe, "event-channel", h.port);
	xb_front_write_u64(&h.fe, "request-rx-copy", 1);
	return xb_front_finish_connect(&h.fe, deadline);
}

static int hn_close(void)
{
	int r = xb_front_close(&h.fe, now_ns() + WAIT_NS);

	gnttab_end_access(h.tx_ref);
	gnttab_end_access(h.rx_ref);
	hc1(PVKVM_HC_EVTCHN_CLOSE, h.port);
	return r;
}

static struct pvkvm_netif_tx_request *tx_slot(void)
{
	struct pvkvm_netif_tx_request *r = netif_tx_front_next_req(&h.tx);

	if (r)
		memset(r, 0, sizeof(*r));
	return r;
}

static void tx_push(void)
{
	if (netif_tx_front_push_reqs(&h.tx))
		evtchn_send(h.port);
}

static int tx_take(struct pvkvm_netif_tx_response *rsp)
{
	return RING_TAKE_UNTIL(netif_tx_front_take_rsp, &h.tx, rsp, now_ns() + WAIT_NS);
}

static void rx_post(uint32_t gref)
{
	struct pvkvm_netif_rx_request *r = netif_rx_front_next_req(&h.rx);

	if (!r)
		return;
	*r = (struct pvkvm_netif_rx_request){ .id = next_id++, .gref = gref };
	if (netif_rx_front_push_reqs(&h.rx))
		evtchn_send(h.port);
}

/* One rx answer within ms milliseconds, or -1. */
static int rx_take(struct pvkvm_netif_rx_response *rsp, uint64_t ms)
{
	return RING_TAKE_UNTIL(netif_rx_front_take_rsp, &h.rx, rsp,
			       now_ns() + ms * 1000000ull);
}

/* n slots of one chain (prepared in s[]), each answered with status want. */
static void expect_chain(const char *c, const struct pvkvm_netif_tx_request *s,
			 unsigned int n, int want)
{
	struct pvkvm_netif_tx_response rsp;

	for (unsigned int i = 0; i < n; i++) {
		struct pvkvm_netif_tx_request *r = tx_slot();

		if (!r) {
			fail(c, "tx ring full", i);
			return;
		}
		*r = s[i];
		r->id = next_id++;
	}
	tx_push();
	for (unsigned int i = 0; i < n; i++) {
		if (tx_take(&rsp) < 0) {
			fail(c, "no tx answer for slot", i);
			return;
		}
		if (rsp.status != want)
			fail(c, "tx status", rsp.status);
	}
}

static struct pvkvm_netif_tx_request one_slot(uint32_t gref, uint16_t off, uint16_t size)
{
	return (struct pvkvm_netif_tx_request){ .gref = gref, .offset = off, .size = size,
						.total_len = size };
}

static void tx_good(const char *c)
{
	struct pvkvm_netif_tx_request s = one_slot(h.tx_gref[0], 0, 60);

	expect_chain(c, &s, 1, PVKVM_NETIF_RSP_OKAY);
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

/* ---- NIC 1 ----------------------------------------------------------------------- */

static uint8_t rx_byte(unsigned int seq, unsigned int i)
{
	return (uint8_t)(seq * 11 + i * 3 + 5);
}

/* A broadcast frame from NIC 1: ETHERTYPE_RX, seq at byte 14, pattern. */
static int nic1_send(unsigned int seq, uint32_t len)
{
	static uint8_t f[NET_MAX_FRAME];

	for (uint32_t i = 0; i < len; i++)
		f[i] = rx_byte(seq, i);
	memset(f, 0xff, NET_ETH_ALEN);
	memcpy(f + NET_ETH_ALEN, nic1->info.mac, NET_ETH_ALEN);
	f[12] = ETHERTYPE_RX >> 8;
	f[13] = ETHERTYPE_RX & 0xff;
	f[14] = (uint8_t)seq;
	return net_send_now(nic1, f, len, now_ns() + WAIT_NS);
}

static bool rx_frame_ok(const uint8_t *p, unsigned int seq, uint32_t len)
{
	if (p[12] != (ETHERTYPE_RX >> 8) || p[13] != (ETHERTYPE_RX & 0xff) ||
	    p[14] != (uint8_t)seq)
		return false;
	for (uint32_t i = 15; i < len; i++)
		if (p[i] != rx_byte(seq, i))
			return false;
	return true;
}

/* Frames NIC 1 has waiting (NIC 0's good frames of the cases). */
static void nic1_drain(void)
{
	static uint8_t buf[NET_MAX_FRAME];

	while (net_wait(nic1, now_ns() + 50000000ull) == 0)
		while (net_recv(nic1, buf, sizeof(buf)) > 0)
			;
}

/* The page of rx id: ids are handed out in order; we track the last posts. */
static uint8_t *rx_page_of(const uint32_t *ids, uint16_t id)
{
	for (unsigned int k = 0; k < NR_RX_PAGES; k++)
		if (ids[k] == id)
			return h.rx_page[k];
	return NULL;
}

/* ---- the cases -------------------------------------------------------------------- */

/* No rx buffers while NIC 1 sends 2000 frames: the backend's queue holds
 * what it can (NETBACK_RXQ_LEN), drops the rest and counts them; once
 * buffers come, at most that many frames arrive, each intact. */
static void case_rx_flood(const char *c)
{
	for (unsigned int i = 0; i < 2000; i++)
		if (nic1_send(i, 1000) < 0) {
			fail(c, "nic1 send", i);
			return;
		}
	for (uint64_t until = now_ns() + 200000000ull; now_ns() < until;)
		cpu_relax(); /* let the backend drain the switch */
	uint32_t ids[NR_RX_PAGES];
	for (unsigned int k = 0; k < NR_RX_PAGES; k++) {
		ids[k] = next_id;
		rx_post(h.rx_gref[k]);
	}
	unsigned int got = 0;
	struct pvkvm_netif_rx_response rsp;
	while (rx_take(&rsp, 300) == 0) {
		uint8_t *p = rx_page_of(ids, rsp.id);

		if (!p || rsp.status != 1000 || p[12] != (ETHERTYPE_RX >> 8)) {
			fail(c, "rx answer", rsp.status);
			return;
		}
		if (!rx_frame_ok(p, p[14], 1000))
			fail(c, "rx data", got);
		got++;
		/* post the page again under a new id */
		for (unsigned int k = 0; k < NR_RX_PAGES; k++)
			if (h.rx_page[k] == p) {
				ids[k] = next_id;
				rx_post(h.rx_gref[k]);
			}
	}
	printf("hostilenet: %s: %u of 2000 frames queued for late buffers\n", c, got);
	if (got == 0 || got > 256 + 64)
		fail(c, "frames held for a guest without buffers", got);
}

/* MORE_DATA on every slot, 600 slots, the ring wrapped ~5 times: the first
 * 18 (the most one frame may use) answered ERROR, then every further slot
 * as taken, until a slot ends the chain; then a good frame goes. */
static void case_endless_chain(const char *c)
{
	struct pvkvm_netif_tx_request s[PVKVM_NETIF_MAX_SLOTS_PER_FRAME];

	for (unsigned int i = 0; i < PVKVM_NETIF_MAX_SLOTS_PER_FRAME; i++) {
		s[i] = one_slot(h.tx_gref[i % NR_TX_PAGES], 0, 64);
		s[i].flags = PVKVM_NETIF_F_MORE_DATA;
		s[i].total_len = i == 0 ? 64 * 600 % 65536 : 0;
	}
	expect_chain(c, s, PVKVM_NETIF_MAX_SLOTS_PER_FRAME, PVKVM_NETIF_RSP_ERROR);
	unsigned int sent = PVKVM_NETIF_MAX_SLOTS_PER_FRAME;
	while (sent < 600) {
		unsigned int n = 0;
		struct pvkvm_netif_tx_request *r;
		struct pvkvm_netif_tx_response rsp;

		while (sent + n < 600 && (r = tx_slot())) {
			*r = one_slot(h.tx_gref[n % NR_TX_PAGES], 0, 64);
			r->flags = PVKVM_NETIF_F_MORE_DATA;
			r->total_len = 0;
			r->id = next_id++;
			n++;
		}
		tx_push();
		for (unsigned int i = 0; i < n; i++) {
			if (tx_take(&rsp) < 0) {
				fail(c, "no answer after slot", sent + i);
				return;
			}
			if (rsp.status != PVKVM_NETIF_RSP_ERROR)
				fail(c, "status", rsp.status);
		}
		sent += n;
	}
	struct pvkvm_netif_tx_request end = one_slot(h.tx_gref[0], 0, 64);
	end.total_len = 0;
	expect_chain(c, &end, 1, PVKVM_NETIF_RSP_ERROR); /* still the bad frame */
	tx_good(c);
}

static void case_zero_length(const char *c)
{
	struct pvkvm_netif_tx_request s[2];

	s[0] = one_slot(h.tx_gref[0], 0, 0);
	expect_chain(c, s, 1, PVKVM_NETIF_RSP_ERROR);
	s[0] = one_slot(h.tx_gref[0], 100, 0);
	s[0].total_len = 60;
	expect_chain(c, s, 1, PVKVM_NETIF_RSP_ERROR);
	s[0] = one_slot(h.tx_gref[0], 0, 13); /* shorter than an Ethernet header */
	expect_chain(c, s, 1, PVKVM_NETIF_RSP_ERROR);
	s[0] = one_slot(h.tx_gref[0], 0, 60);
	s[0].flags = PVKVM_NETIF_F_MORE_DATA;
	s[1] = one_slot(h.tx_gref[1], 0, 0); /* an empty slot inside a chain */
	s[1].total_len = 0;
	expect_chain(c, s, 2, PVKVM_NETIF_RSP_ERROR);
	tx_good(c);
}

static void case_oversized(const char *c)
{
	struct pvkvm_netif_tx_request s[PVKVM_NETIF_MAX_SLOTS_PER_FRAME + 1];

	/* mtu + 14 + 1 in one chain of two slots */
	s[0] = one_slot(h.tx_gref[0], 0, 1000);
	s[0].flags = PVKVM_NETIF_F_MORE_DATA;
	s[0].total_len = 1515;
	s[1] = one_slot(h.tx_gref[1], 0, 515);
	s[1].total_len = 0;
	expect_chain(c, s, 2, PVKVM_NETIF_RSP_ERROR);
	/* 17 full pages: 69632 bytes, more than any frame (total_len wraps) */
	for (unsigned int i = 0; i < 17; i++) {
		s[i] = one_slot(h.tx_gref[i % NR_TX_PAGES], 0, PAGE_SIZE);
		s[i].flags = i < 16 ? PVKVM_NETIF_F_MORE_DATA : 0;
		s[i].total_len = i == 0 ? (uint16_t)(17 * PAGE_SIZE) : 0;
	}
	expect_chain(c, s, 17, PVKVM_NETIF_RSP_ERROR);
	/* the same, claiming 65535 with GSO (which this port may not take) */
	s[0].total_len = 65535;
	s[0].flags |= PVKVM_NETIF_F_GSO | PVKVM_NETIF_F_CSUM_BLANK;
	s[0].gso_type = PVKVM_NETIF_GSO_TCPV4;
	s[0].gso_size = 1448;
	s[0].csum_start = 34;
	s[0].csum_offset = 16;
	expect_chain(c, s, 17, PVKVM_NETIF_RSP_ERROR);
	/* 19 small slots: more than a frame may use */
	for (unsigned int i = 0; i < 19; i++) {
		s[i < 18 ? i : 18] = one_slot(h.tx_gref[0], 0, 64);
		s[i < 18 ? i : 18].flags = i < 18 ? PVKVM_NETIF_F_MORE_DATA : 0;
		s[i < 18 ? i : 18].total_len = i == 0 ? 19 * 64 : 0;
	}
	expect_chain(c, s, 19, PVKVM_NETIF_RSP_ERROR);
	tx_good(c);
}

static void case_slot_past_page(const char *c)
{
	struct pvkvm_netif_tx_request s;

	s = one_slot(h.tx_gref[0], 4000, 200);
	expect_chain(c, &s, 1, PVKVM_NETIF_RSP_ERROR);
	s = one_slot(h.tx_gref[0], 4096, 60);
	expect_chain(c, &s, 1, PVKVM_NETIF_RSP_ERROR);
	s = one_slot(h.tx_gref[0], 65535, 65535);
	expect_chain(c, &s, 1, PVKVM_NETIF_RSP_ERROR);
	s = one_slot(h.tx_gref[0], 4036, 60); /* the page's last 60 bytes: fine */
	expect_chain(c, &s, 1, PVKVM_NETIF_RSP_OKAY);
}

/* One frame from NIC 1 into a buffer posted under gref: the answer. */
static int rx_one(const char *c, uint32_t gref, unsigned int seq,
		  struct pvkvm_netif_rx_response *rsp)
{
	uint16_t id = next_id;

	rx_post(gref);
	if (nic1_send(seq, 200) < 0) {
		fail(c, "nic1 send", seq);
		return -1;
	}
	if (rx_take(rsp, 3000) < 0) {
		fail(c, "no rx answer", seq);
		return -1;
	}
	if (rsp->id != id) {
		fail(c, "rx answer for another id", rsp->id);
		return -1;
	}
	return 0;
}

static void case_grants(const char *c)
{
	struct pvkvm_netif_tx_request s;
	struct pvkvm_netif_rx_response rsp;

	s = one_slot(0xffffff, 0, 60);
	expect_chain(c, &s, 1, PVKVM_NETIF_RSP_ERROR); /* out of range */
	s = one_slot(0, 0, 60);
	expect_chain(c, &s, 1, PVKVM_NETIF_RSP_ERROR); /* ref 0 */
	uint8_t *p = page_alloc(1);
	uint32_t ref = (uint32_t)gnttab_grant(gpa_to_frame(p), true);
	gnttab_end_access(ref);
	s = one_slot(ref, 0, 60);
	expect_chain(c, &s, 1, PVKVM_NETIF_RSP_ERROR); /* revoked */

	/* rx into a page granted read-only: ERROR, the page unchanged */
	uint8_t *ro = page_alloc(1);
	memset(ro, 0x5a, PAGE_SIZE);
	uint32_t ro_ref = (uint32_t)gnttab_grant(gpa_to_frame(ro), true);
	if (rx_one(c, ro_ref, 1, &rsp) == 0 && rsp.status != PVKVM_NETIF_RSP_ERROR)
		fail(c, "rx into a read-only grant", rsp.status);
	for (unsigned int i = 0; i < PAGE_SIZE; i++)
		if (ro[i] != 0x5a) {
			fail(c, "a page granted read-only changed at", i);
			break;
		}
	if (rx_one(c, 0xffffff, 2, &rsp) == 0 && rsp.status != PVKVM_NETIF_RSP_ERROR)
		fail(c, "rx into an out-of-range grant", rsp.status);
	uint32_t gone = (uint32_t)gnttab_grant(gpa_to_frame(p), false);
	gnttab_end_access(gone);
	if (rx_one(c, gone, 3, &rsp) == 0 && rsp.status != PVKVM_NETIF_RSP_ERROR)
		fail(c, "rx into a revoked grant", rsp.status);
	if (rx_one(c, h.rx_gref[0], 4, &rsp) == 0 &&
	    (rsp.status != 200 || !rx_frame_ok(h.rx_page[0], 4, 200)))
		fail(c, "rx into a good page", rsp.status);
}

static void case_prod_impossible(const char *c)
{
	__atomic_store_n(&h.txs->hdr.req_prod, h.tx.req_prod_pvt + 1000, __ATOMIC_RELEASE);
	evtchn_send(h.port);
	if (!backend_broke())
		fail(c, "ring not marked broken", 0);
}

/* The rx ring's index: seen when a frame needs a buffer. */
static void case_rx_prod_impossible(const char *c)
{
	__atomic_store_n(&h.rxs->hdr.req_prod, h.rx.req_prod_pvt + 1000, __ATOMIC_RELEASE);
	evtchn_send(h.port);
	if (nic1_send(1, 100) < 0)
		fail(c, "nic1 send", 0);
	if (!backend_broke())
		fail(c, "ring not marked broken", 0);
}

/* Break the ring, reconnect, 20 times: each is recorded in the store, the
 * log gets one line (mark_broken's rate limit). */
static void case_break_loop(const char *c)
{
	for (unsigned int round = 0; round < 20; round++) {
		__atomic_store_n(&h.txs->hdr.req_prod, h.tx.req_prod_pvt + 1000,
				 __ATOMIC_RELEASE);
		evtchn_send(h.port);
		if (!backend_broke()) {
			fail(c, "ring not marked broken in round", round);
			return;
		}
		hn_close();
		if (hn_open() < 0) {
			fail(c, "reopen", round);
			return;
		}
	}
	tx_good(c);
}

static void case_notify_storm(const char *c)
{
	for (unsigned int i = 0; i < 200000; i++)
		evtchn_send(h.port);
	tx_good(c);
}

/* Close with the tx ring full of frames and rx traffic queued; reopen. */
static void case_reopen(const char *c)
{
	for (unsigned int round = 0; round < 5; round++) {
		struct pvkvm_netif_tx_request *r;

		for (unsigned int k = 0; k < 64; k++)
			rx_post(h.rx_gref[k]);
		for (unsigned int i = 0; i < 100; i++)
			nic1_send(i, 300);
		unsigned int n = 0;
		while ((r = tx_slot())) {
			*r = one_slot(h.tx_gref[n % NR_TX_PAGES], 0, 60 + n);
			r->id = next_id++;
			n++;
		}
		tx_push();
		if (hn_close() < 0)
			fail(c, "backend did not close", round);
		if (hn_open() < 0) {
			fail(c, "reopen", round);
			return;
		}
	}
	tx_good(c);
}

/* ---- afterwards: NIC 0 afresh and NIC 1, frames both ways ------------------------- */

static void check_both_vifs(void)
{
	const char *c = "vif1";
	int bad = failures;

	hn_close();
	if (hn_open() < 0) {
		fail(c, "reopen nic0", 0);
		return;
	}
	nic1_drain();
	uint32_t ids[NR_RX_PAGES];
	for (unsigned int k = 0; k < 32; k++) {
		ids[k] = next_id;
		rx_post(h.rx_gref[k]);
	}
	for (unsigned int k = 32; k < NR_RX_PAGES; k++)
		ids[k] = 0;
	/* NIC 1 -> NIC 0 (frames the cases left in the switch may come first:
	 * other lengths, skipped, their pages posted again) */
	for (unsigned int i = 0; i < 20; i++) {
		uint32_t len = 500 + i;
		bool ok = false;

		if (nic1_send(i, len) < 0) {
			fail(c, "nic1 send", i);
			return;
		}
		for (unsigned int skip = 0; !ok && skip < 400; skip++) {
			struct pvkvm_netif_rx_response rsp;

			if (rx_take(&rsp, 3000) < 0)
				break;
			uint8_t *p = rx_page_of(ids, rsp.id);
			if (!p) {
				fail(c, "rx answer for an id not posted", rsp.id);
				return;
			}
			if (rsp.status == (int)len) {
				if (!rx_frame_ok(p, i, len))
					fail(c, "nic0 received data", i);
				ok = true;
			}
			for (unsigned int k = 0; k < NR_RX_PAGES; k++)
				if (h.rx_page[k] == p) {
					ids[k] = next_id;
					rx_post(h.rx_gref[k]);
				}
		}
		if (!ok) {
			fail(c, "nic1 -> nic0 frame", i);
			return;
		}
	}
	/* NIC 0 -> NIC 1 */
	for (unsigned int i = 0; i < 20; i++) {
		struct pvkvm_netif_tx_request s = one_slot(h.tx_gref[i % NR_TX_PAGES], 0, 100 + i);
		static uint8_t buf[NET_MAX_FRAME];
		int len = 0;

		expect_chain(c, &s, 1, PVKVM_NETIF_RSP_OKAY);
		uint64_t deadline = now_ns() + WAIT_NS;
		while (len != (int)(100 + i) && now_ns() < deadline) {
			len = net_recv(nic1, buf, sizeof(buf));
			if (len <= 0)
				net_wait(nic1, deadline);
		}
		if (len != (int)(100 + i) || memcmp(buf, h.tx_page[i % NR_TX_PAGES], (size_t)len)) {
			fail(c, "nic1 received", len);
			return;
		}
	}
	if (!tx_pages_intact())
		fail(c, "a page granted read-only changed", 0);
	if (failures == bad)
		printf("hostilenet: vif1: ok\n");
}

static const struct {
	const char *name;
	void (*run)(const char *c);
} cases[] = {
	{ "rx-flood", case_rx_flood },
	{ "endless-chain", case_endless_chain },
	{ "zero-length", case_zero_length },
	{ "oversized", case_oversized },
	{ "slot-past-page", case_slot_past_page },
	{ "grants", case_grants },
	{ "prod-impossible", case_prod_impossible },
	{ "rx-prod-impossible", case_rx_prod_impossible },
	{ "break-loop", case_break_loop },
	{ "notify-storm", case_notify_storm },
	{ "reopen", case_reopen },
};

int prog_hostile_net(int argc, char **argv)
{
	if (argc < 1) {
		printf("hostilenet: which case?");
		for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
			printf(" %s", cases[i].name);
		printf("\n");
		return 1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (strcmp(cases[i].name, argv[0]))
			continue;
		if (net_open(NET_MODE_PV, 1, &nic1) < 0) {
			fail(argv[0], "open nic 1", 0);
			return failures;
		}
		if (hn_open() < 0) {
			fail(argv[0], "open nic 0", 0);
			return failures;
		}
		cases[i].run(argv[0]);
		if (!tx_pages_intact())
			fail(argv[0], "a page granted read-only changed", 0);
		if (!failures)
			printf("hostilenet: %s: ok\n", argv[0]);
		check_both_vifs();
		return failures;
	}
	printf("hostilenet: unknown case %s\n", argv[0]);
	return 1;
}
