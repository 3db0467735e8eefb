// SPDX-License-Identifier: MIT
/*
 * The PV network backend's slot parsing (host/net/netback.c: transmit
 * chains, posted receive buffers, frames delivered into them) over rings
 * the input fills: the real device and its real I/O thread, a real grant
 * table, a real KVM ioeventfd as the event channel; the frame port is the
 * harness's own (it takes or drops what is sent, and hands the device the
 * frames the input describes). Each input is one connection's next step
 * (a connection lasts across inputs until it breaks or the input asks for
 * a fresh one): the harness, as a hostile frontend, writes any tx slots
 * and rx slots, grants 16 data pages with any flags (or wild frames),
 * queues up to 8 frames of any length and offload header on the port,
 * publishes both producer indices, kicks, and waits for a pass of the I/O
 * thread begun after the kick (netback_passes; 5 s, or the run fails as a
 * hang). Then it checks:
 *  - tx: exactly the slots the protocol says are answered (every slot of
 *    every complete chain, every slot of an over-long one; a chain whose
 *    end is not posted yet waits), each OKAY, ERROR or DROPPED;
 *  - rx: never more answers than posted buffers, each answer in its
 *    buffer's slot with its id, a length of 1..4096 or ERROR;
 *  - a broken device only for an impossible producer index (and always
 *    for an impossible tx one);
 *  - pages not granted writable, and the first MiB (the VMM's own pages,
 *    as on the CPL3 machine; wild frames point there), did not change;
 *  - both rings' slots are read once each (the double-fetch detector;
 *    netback reaches its rings through guest RAM's mapping, so the pages
 *    watched are those the harness wrote).
 *
 * Input: [flags u8][tx ahead u8][rx ahead u8][frames u8][start u32][grant flags 16 x u8]
 *        [frames: 12 bytes each (virtio-net header, length u16)]
 *        [tx slots: 24 bytes each][rx slots: 8 bytes each]
 * flags bits 0-2 all set: a fresh connection; 3, 4, 5: feature-sg,
 *   feature-gso-tcpv4, feature-csum-offload; 6: the port drops every
 *   frame sent; 7: a wild tx req_prod (ahead * 2^24).
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "host/core/vm.h"
#include "host/mem/guest_mem.h"
#include "host/net/net_port.h"
#include "host/net/netback.h"
#include "host/services/evtchn.h"
#include "host/services/grant.h"
#include "host/services/store.h"
#include "host/services/xenbus.h"
#include "hypercall/pvkvm_netif.h"
#include "tests/fuzz/dfetch.h"
#include "tests/unit/net_loop_port.h"

#define FUZZ_NAME "fuzz_netif"
#include "tests/fuzz/fuzz_vm.h"

#define MEM FUZZ_VM_MEM
#define LOW (1u << 20)
#define GNT_GPA FUZZ_VM_GNT_GPA
#define GNT_ENTRIES FUZZ_VM_GNT_ENTRIES
#define TX_GPA 0x200000u
#define RX_GPA 0x201000u
#define DATA_GPA 0x300000u
#define NR_DATA 16u
#define REF_TX 1u
#define REF_RX 2u
#define REF_DATA 8u /* 8..23 */
#define NSLOTS PVKVM_NETIF_RING_SLOTS
#define MAX_FRAMES 8u
#define FE_DIR "device/net/0"
#define BE_DIR "backend/net/0"

static struct device *dev;
static uint8_t data_pattern[NR_DATA * PVKVM_PAGE_SIZE];
static uint8_t low_pattern[LOW];


/* ---- the harness's frame port ------------------------------------------------ */

/* net_loop_port.h's receive queue, under a send that checks each frame
 * and keeps none. */
static struct loop_port *fp;
static bool drop_all;

static unsigned int fz_send(struct net_port *p, struct net_pkt *const *pkts, unsigned int n)
{
	(void)p;
	for (unsigned int i = 0; i < n; i++)
		check(pkts[i]->len >= PVKVM_NETIF_FRAME_MIN && pkts[i]->len <= PVKVM_NETIF_FRAME_MAX,
		      "a frame sent with an impossible length");
	return drop_all ? 0 : n;
}

static void fz_close(struct net_port *p)
{
	(void)p; /* lives as long as the process */
}

static const struct net_port_ops fz_ops = {
	.send = fz_send, .recv = loop_recv, .rx_fd = loop_rx_fd,
	.set_offload = loop_set_offload, .close = fz_close,
};

/* A port never hands out an empty frame (recv's 0 means "none"). */
static void fz_inject(const struct net_vhdr *vh, uint32_t len)
{
	static uint8_t frame[UINT16_MAX + 1];
	if (len == 0)
		len = 1;
	check(len <= sizeof(frame), "frame");
	for (uint32_t i = 0; i < len; i++)
		frame[i] = (uint8_t)(i * 7 + len);
	/* Only the device takes frames out meanwhile: the count can only fall. */
	check(loop_inbound(fp) < MAX_FRAMES * 2, "port queue");
	loop_inject(fp, vh, frame, len);
}

/* ---- the VM --------------------------------------------------------------------- */

static void init(void)
{
	fuzz_vm_init();
	for (unsigned int i = 0; i < sizeof(data_pattern); i++)
		data_pattern[i] = (uint8_t)(i * 31 + i / PVKVM_PAGE_SIZE + 1);
	for (unsigned int i = 0; i < LOW; i++)
		low_pattern[i] = (uint8_t)(i * 13 + 5);
	memcpy(gmem_ptr(&vm.mem, 0, LOW), low_pattern, LOW);
	/* As the CPL3 machine makes them: the VMM's pages (page tables,
	 * descriptor tables, start-info live below 1 MiB), never granted. */
	check(gmem_set_access(&vm.mem, 0, LOW, GMEM_NONE) == 0, "low pages");

	fp = loop_port_new(1, true);
	check(fp->efd >= 0, "port");
	fp->port.ops = &fz_ops;
	fp->port.kind = "fuzz";
	struct netback_config cfg;
	netback_config_default(&cfg, 0);
	dev = netback_create(&fp->port, &cfg);
	check(dev && dev->start(dev, &vm) == 0, "netback");
	dfetch_init();
}

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* ---- the connection and what the protocol lets us expect ------------------------- */

static bool connected;
static int port = -1;
static uint32_t tx_prod, tx_answered; /* what we published, what must be answered */
static unsigned int sim_nchain;       /* slots of a chain still open */
static bool sim_skipping;             /* the rest of an over-long chain */
static uint32_t rx_prod;
static uint16_t rx_ids[NSLOTS];       /* the id posted at each rx slot */

static void disconnect(void)
{
	if (!connected)
		return;
	fuzz_vm_close_frontend(FE_DIR, port);
	connected = false;
}

static void write_key(const char *key, unsigned int v)
{
	char path[PVKVM_STORE_PATH_MAX];
	snprintf(path, sizeof(path), FE_DIR "/%s", key);
	store_printf(vm.store, path, "%u", v);
}

static bool connect(uint8_t flags)
{
	set_grant(REF_TX, TX_GPA, PVKVM_GTF_PERMIT);
	set_grant(REF_RX, RX_GPA, PVKVM_GTF_PERMIT);
	port = evtchn_alloc_unbound(vm.evtchn);
	check(port > 0, "port");
	write_key("tx-ring-ref", REF_TX);
	write_key("rx-ring-ref", REF_RX);
	write_key("event-channel", (unsigned int)port);
	write_key("request-rx-copy", 1);
	write_key("feature-sg", !!(flags & 0x08));
	write_key("feature-gso-tcpv4", !!(flags & 0x10));
	write_key("feature-csum-offload", !!(flags & 0x20));
	xenbus_set_state(vm.store, FE_DIR, PVKVM_XB_INITIALISING);
	xenbus_set_state(vm.store, FE_DIR, PVKVM_XB_INITIALISED);
	check(xenbus_read_state(vm.store, BE_DIR) == PVKVM_XB_CONNECTED, "connected");
	xenbus_set_state(vm.store, FE_DIR, PVKVM_XB_CONNECTED);
	connected = true;
	return true;
}

/* netback's chain rule, mirrored: how many slots one more request answers. */
static uint32_t sim_take(uint16_t flags)
{
	bool more = flags & PVKVM_NETIF_F_MORE_DATA;
	if (sim_skipping) {
		sim_skipping = more;
		return 1;
	}
	sim_nchain++;
	if (!more) {
		uint32_t n = sim_nchain;
		sim_nchain = 0;
		return n;
	}
	if (sim_nchain == PVKVM_NETIF_MAX_SLOTS_PER_FRAME) {
		sim_nchain = 0;
		sim_skipping = true;
		return PVKVM_NETIF_MAX_SLOTS_PER_FRAME;
	}
	return 0;
}

static void take(const uint8_t **data, size_t *size, void *out, size_t n)
{
	size_t k = *size < n ? *size : n;
	memset(out, 0, n);
	memcpy(out, *data, k);
	*data += k;
	*size -= k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dev)
		init();
	uint8_t hdr[8 + NR_DATA];
	take(&data, &size, hdr, sizeof(hdr));
	uint8_t flags = hdr[0];
	bool fresh = !connected || (flags & 7) == 7;
	bool wild = flags & 0x80;
	uint32_t tx_ahead = wild ? (uint32_t)hdr[1] << 24 : hdr[1] % (NSLOTS + 3);
	uint32_t rx_ahead = hdr[2] % (NSLOTS + 3);
	unsigned int nframes = hdr[3] % (MAX_FRAMES + 1);
	const uint8_t *gflags = hdr + 8;

	uint8_t *tx_page = gmem_ptr(&vm.mem, TX_GPA, PVKVM_PAGE_SIZE);
	uint8_t *rx_page = gmem_ptr(&vm.mem, RX_GPA, PVKVM_PAGE_SIZE);
	struct netif_tx_sring *txs = (void *)tx_page;
	struct netif_rx_sring *rxs = (void *)rx_page;
	if (fresh) {
		disconnect();
		loop_drop_inbound(fp);
		uint32_t start;
		memcpy(&start, hdr + 4, 4);
		memset(tx_page, 0, PVKVM_PAGE_SIZE);
		memset(rx_page, 0, PVKVM_PAGE_SIZE);
		txs->hdr.req_prod = txs->hdr.rsp_prod = start;
		txs->hdr.req_event = txs->hdr.rsp_event = start + 1;
		rxs->hdr.req_prod = rxs->hdr.rsp_prod = start;
		rxs->hdr.req_event = rxs->hdr.rsp_event = start + 1;
		tx_prod = tx_answered = rx_prod = start;
		sim_nchain = 0;
		sim_skipping = false;
	}
	drop_all = flags & 0x40;

	/* Frames for the port to hand the device. */
	struct { struct net_vhdr vh; uint16_t len; } fr[MAX_FRAMES];
	for (unsigned int i = 0; i < nframes; i++) {
		uint8_t b[12];
		take(&data, &size, b, sizeof(b));
		memcpy(&fr[i].vh, b, sizeof(fr[i].vh));
		memcpy(&fr[i].len, b + 10, 2);
	}

	/* Slots: tx requests (the chain rule decides what gets answered). */
	uint32_t tx_rsp0 = __atomic_load_n(&txs->hdr.rsp_prod, __ATOMIC_ACQUIRE);
	uint32_t tx_new = wild ? 0 : tx_ahead;
	uint32_t expect = tx_answered;
	bool tx_impossible = (uint32_t)(tx_prod + tx_ahead - tx_answered) > NSLOTS;
	for (uint32_t i = 0; i < tx_new && i < NSLOTS; i++) {
		struct pvkvm_netif_tx_request r;
		take(&data, &size, &r, sizeof(r));
		txs->slot[(tx_prod + i) % NSLOTS].req = r;
		if (!tx_impossible)
			expect += sim_take(r.flags);
	}
	uint32_t rx_rsp0 = __atomic_load_n(&rxs->hdr.rsp_prod, __ATOMIC_ACQUIRE);
	bool rx_impossible = (uint32_t)(rx_prod + rx_ahead - rx_rsp0) > NSLOTS;
	for (uint32_t i = 0; i < rx_ahead && i < NSLOTS; i++) {
		struct pvkvm_netif_rx_request r;
		take(&data, &size, &r, sizeof(r));
		rxs->slot[(rx_prod + i) % NSLOTS].req = r;
		rx_ids[(rx_prod + i) % NSLOTS] = r.id;
	}

	/* Data pages with a known pattern, granted as the input says. */
	uint8_t *dpages = gmem_ptr(&vm.mem, DATA_GPA, sizeof(data_pattern));
	memcpy(dpages, data_pattern, sizeof(data_pattern));
	uint16_t used_flags[NR_DATA];
	for (unsigned int i = 0; i < NR_DATA; i++) {
		uint16_t f = (gflags[i] & 1 ? PVKVM_GTF_PERMIT : 0) |
			     (gflags[i] & 2 ? PVKVM_GTF_READONLY : 0);
		uint64_t gpa = DATA_GPA + (uint64_t)i * PVKVM_PAGE_SIZE;
		if (gflags[i] & 4)
			gpa = (uint64_t)gflags[i] << 12; /* a wild frame: low pages */
		set_grant(REF_DATA + i, gpa, f);
		used_flags[i] = (gflags[i] & 4) ? 0 : f;
	}
	if (fresh)
		connect(flags);

	/* Watch the backend's view of both rings, then publish and kick. */
	/* (netback reaches its rings through guest RAM's own mapping) */
	dfetch_watch(tx_page, PVKVM_PAGE_SIZE, PVKVM_RING_HDR_SIZE);
	dfetch_watch(rx_page, PVKVM_PAGE_SIZE, PVKVM_RING_HDR_SIZE);
	for (unsigned int i = 0; i < nframes; i++)
		fz_inject(&fr[i].vh, fr[i].len);
	__atomic_store_n(&rxs->hdr.req_prod, rx_prod + rx_ahead, __ATOMIC_SEQ_CST);
	__atomic_store_n(&txs->hdr.req_prod, tx_prod + tx_ahead, __ATOMIC_SEQ_CST);
	uint64_t begun, done;
	netback_passes(dev, &begun, &done);
	check(netback_kick(dev, 0) == 0, "kick");
	uint64_t deadline = now_ms() + 5000;
	for (;;) {
		uint64_t now_begun;
		bool gone = netback_is_broken(dev); /* then the thread ends its pass and stops */
		netback_passes(dev, &now_begun, &done);
		if (done > begun || (gone && done == now_begun))
			break;
		check(now_ms() < deadline, "hang: no pass of the I/O thread in 5 s");
		usleep(20);
	}
	dfetch_unwatch_all();

	bool broken = netback_is_broken(dev);
	check(!tx_impossible || broken, "an impossible tx req_prod not marked broken");
	check(!broken || tx_impossible || rx_impossible, "a sane ring marked broken");
	if (broken) {
		disconnect();
	} else {
		tx_prod += tx_ahead;
		rx_prod += rx_ahead;
		tx_answered = expect;
		uint32_t tx_rsp = __atomic_load_n(&txs->hdr.rsp_prod, __ATOMIC_ACQUIRE);
		check(tx_rsp == expect, "tx answers are not the slots the chain rule answers");
		for (uint32_t i = tx_rsp0; i != tx_rsp; i++) {
			int16_t st = txs->slot[i % NSLOTS].rsp.status;
			check(st == PVKVM_NETIF_RSP_OKAY || st == PVKVM_NETIF_RSP_ERROR ||
			      st == PVKVM_NETIF_RSP_DROPPED, "a tx status outside the protocol");
		}
		uint32_t rx_rsp = __atomic_load_n(&rxs->hdr.rsp_prod, __ATOMIC_ACQUIRE);
		check((uint32_t)(rx_rsp - rx_rsp0) <= (uint32_t)(rx_prod - rx_rsp0),
		      "more rx answers than buffers posted");
		for (uint32_t i = rx_rsp0; i != rx_rsp; i++) {
			const struct pvkvm_netif_rx_response *r = &rxs->slot[i % NSLOTS].rsp;
			check(r->id == rx_ids[i % NSLOTS], "an rx answer for another buffer");
			check((r->status > 0 && r->status <= (int)PVKVM_PAGE_SIZE) ||
			      r->status == PVKVM_NETIF_RSP_ERROR, "an rx status outside the protocol");
		}
	}

	/* Pages the backend could not write must be as we left them. */
	fuzz_vm_check_unwritable(dpages, data_pattern, used_flags, NR_DATA);
	check(memcmp(gmem_ptr(&vm.mem, 0, LOW), low_pattern, LOW) == 0,
	      "the first MiB changed");
	return 0;
}
