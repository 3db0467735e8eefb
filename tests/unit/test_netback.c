// SPDX-License-Identifier: MIT
/*
 * The PV network backend, driven by this thread playing the frontend: guest
 * RAM, the grant table and both rings live in a real guest_mem, the backend
 * runs its real I/O threads, and the event channels are real (KVM ioeventfd
 * bound; the "send" is netback_kick). The port is the test's loop port
 * (net_loop_port.h), so every frame and offload flag can be checked; one
 * test runs over the real built-in switch instead.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "host/core/vm.h"
#include "host/net/net_switch.h"
#include "host/net/netback.h"
#include "host/services/evtchn.h"
#include "host/services/grant.h"
#include "host/services/store.h"
#include "host/services/xenbus.h"
#include "hypercall/pvkvm_netif.h"
#include "tests/unit/net_loop_port.h"
#include "tests/unit/fake_vm.h"
#include "tests/unit/net_ns.h"

#define GNT_ENTRIES 8192u
#define FE_DIR "device/net/0"
#define BE_DIR "backend/net/0"
#define MAXQ 2u

static struct device *dev;
static struct loop_port *lp;
static struct net_port *sw_peer; /* the switch test's other port */

struct fe_queue {
	struct netif_tx_front tx;
	struct netif_rx_front rx;
	unsigned int port;
	unsigned int kicks;
};

static struct {
	struct fe_queue q[MAXQ];
} fe;

/* ---- fixture ------------------------------------------------------------------ */

static void setup_vm(void)
{
	fake_vm_setup(GNT_ENTRIES);
	memset(&fe, 0, sizeof(fe));
}

static void start_backend(struct net_port *port, unsigned int queues)
{
	struct netback_config cfg;
	netback_config_default(&cfg, 0);
	cfg.max_queues = queues;
	dev = netback_create(port, &cfg);
	cr_assert_not_null(dev);
	cr_assert_eq(dev->start(dev, &vm), 0);
}

static void setup(void)
{
	setup_vm();
	lp = loop_port_new(MAXQ, true);
	start_backend(&lp->port, 1);
}

static void setup_mq(void)
{
	setup_vm();
	lp = loop_port_new(MAXQ, true);
	start_backend(&lp->port, MAXQ);
}

static void teardown(void)
{
	if (vm.kvm_fd < 0)
		return;
	if (dev)
		dev->stop(dev, &vm);
	vm.stats.groups = NULL;
	netback_destroy(dev); /* closes the port */
	dev = NULL;
	lp = NULL;
	net_port_close(sw_peer);
	sw_peer = NULL;
	fake_vm_teardown();
}

TestSuite(netback, .init = setup, .fini = teardown, .timeout = 60);

/* ---- the frontend's grants and memory ------------------------------------------ */

static void write_key(const char *dir, const char *key, unsigned int v)
{
	char path[PVKVM_STORE_PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, key);
	cr_assert_eq(store_printf(vm.store, path, "%u", v), 0);
}

static void setup_queue(unsigned int i, const char *dir)
{
	struct fe_queue *q = &fe.q[i];
	uint64_t txg = FAKE_VM_RING_GPA + (uint64_t)i * 4 * PVKVM_PAGE_SIZE;
	uint64_t rxg = txg + 2 * PVKVM_PAGE_SIZE;
	netif_tx_sring_init((void *)fake_vm_page(txg));
	netif_rx_sring_init((void *)fake_vm_page(rxg));
	cr_assert_eq(netif_tx_front_init(&q->tx, (void *)fake_vm_page(txg), PVKVM_PAGE_SIZE), 0);
	cr_assert_eq(netif_rx_front_init(&q->rx, (void *)fake_vm_page(rxg), PVKVM_PAGE_SIZE), 0);
	write_key(dir, "tx-ring-ref", fake_vm_grant(txg, false));
	write_key(dir, "rx-ring-ref", fake_vm_grant(rxg, false));
	int port = evtchn_alloc_unbound(vm.evtchn);
	cr_assert_gt(port, 0);
	q->port = (unsigned int)port;
	write_key(dir, "event-channel", q->port);
}

/* features: "feature-sg" etc. set to 1, NULL-terminated */
static void connect_frontend(unsigned int nq, const char *const *features)
{
	cr_assert_eq(xenbus_read_state(vm.store, BE_DIR), PVKVM_XB_INITWAIT);
	if (nq == 1) {
		setup_queue(0, FE_DIR);
	} else {
		write_key(FE_DIR, "multi-queue-num-queues", nq);
		for (unsigned int i = 0; i < nq; i++) {
			char dir[64];
			snprintf(dir, sizeof(dir), FE_DIR "/queue-%u", i);
			setup_queue(i, dir);
		}
	}
	write_key(FE_DIR, "request-rx-copy", 1);
	for (unsigned int i = 0; features && features[i]; i++)
		write_key(FE_DIR, features[i], 1);
	cr_assert_eq(xenbus_set_state(vm.store, FE_DIR, PVKVM_XB_INITIALISING), 0);
	cr_assert_eq(xenbus_set_state(vm.store, FE_DIR, PVKVM_XB_INITIALISED), 0);
	cr_assert_eq(xenbus_read_state(vm.store, BE_DIR), PVKVM_XB_CONNECTED);
	cr_assert_eq(xenbus_set_state(vm.store, FE_DIR, PVKVM_XB_CONNECTED), 0);
}

/* ---- transmit ------------------------------------------------------------------------ */

static struct pvkvm_netif_tx_request *tx_slot(unsigned int qi)
{
	struct pvkvm_netif_tx_request *r = netif_tx_front_next_req(&fe.q[qi].tx);
	cr_assert_not_null(r, "a free tx slot");
	memset(r, 0, sizeof(*r));
	return r;
}

static void push_tx(unsigned int qi)
{
	if (netif_tx_front_push_reqs(&fe.q[qi].tx)) {
		fe.q[qi].kicks++;
		cr_assert_eq(netback_kick(dev, qi), 0);
	}
}

static void push_rx(unsigned int qi)
{
	if (netif_rx_front_push_reqs(&fe.q[qi].rx)) {
		fe.q[qi].kicks++;
		cr_assert_eq(netback_kick(dev, qi), 0);
	}
}

/* Polls for n tx responses (a polling frontend: no sleep on the port). */
static void tx_collect(unsigned int qi, struct pvkvm_netif_tx_response *out, unsigned int n)
{
	unsigned int got = 0;
	for (int spin = 0; got < n; spin++) {
		int r = netif_tx_front_take_rsp(&fe.q[qi].tx, &out[got]);
		cr_assert_geq(r, 0);
		if (r == 1) {
			got++;
			continue;
		}
		cr_assert_lt(spin, 200000, "%u of %u tx responses", got, n);
		usleep(20);
	}
}

static void rx_collect(unsigned int qi, struct pvkvm_netif_rx_response *out, unsigned int n)
{
	unsigned int got = 0;
	for (int spin = 0; got < n; spin++) {
		int r = netif_rx_front_take_rsp(&fe.q[qi].rx, &out[got]);
		cr_assert_geq(r, 0);
		if (r == 1) {
			got++;
			continue;
		}
		cr_assert_lt(spin, 200000, "%u of %u rx responses", got, n);
		usleep(20);
	}
}

static uint8_t pat(unsigned int frame, unsigned int i)
{
	return (uint8_t)(frame * 31 + i * 7 + 3);
}

/* A frame of len bytes: dst, src MACs, ethertype 0x88b5, then the pattern. */
static void make_frame(uint8_t *f, uint32_t len, unsigned int salt)
{
	static const uint8_t dst[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };
	static const uint8_t src[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (uint32_t i = 14; i < len; i++)
		f[i] = pat(salt, i);
}

/* Puts frame bytes into fresh granted pages at offset off, one slot per
 * page-piece; returns the number of slots used. */
static unsigned int tx_frame(unsigned int qi, const uint8_t *f, uint32_t len,
			     uint16_t off, uint16_t first_id)
{
	unsigned int n = 0;
	uint32_t pos = 0;
	while (pos < len) {
		uint64_t g = fake_vm_alloc_pages(1);
		uint16_t o = n == 0 ? off : 0;
		uint32_t chunk = len - pos < PVKVM_PAGE_SIZE - o ? len - pos : PVKVM_PAGE_SIZE - o;
		memcpy(fake_vm_page(g) + o, f + pos, chunk);
		struct pvkvm_netif_tx_request *r = tx_slot(qi);
		r->gref = fake_vm_grant(g, true);
		r->offset = o;
		r->size = (uint16_t)chunk;
		r->id = (uint16_t)(first_id + n);
		if (n == 0)
			r->total_len = (uint16_t)len;
		pos += chunk;
		if (pos < len)
			r->flags |= PVKVM_NETIF_F_MORE_DATA;
		n++;
	}
	return n;
}

static struct net_pkt *sent(unsigned int i)
{
	for (int spin = 0; loop_nsent(lp) <= i; spin++) {
		cr_assert_lt(spin, 100000, "frame %u reached the port", i);
		usleep(20);
	}
	return lp->sent[i];
}

static uint64_t counter(const char *name)
{
	return fake_vm_counter("net0", name);
}

static uint64_t counter_reaching(const char *name, uint64_t want)
{
	return fake_vm_counter_reaching("net0", name, want, 5000);
}

/* ---- tests -------------------------------------------------------------------------- */

static const char *read_str(const char *path, char *buf, size_t len)
{
	ssize_t n = store_read(vm.store, path, buf, len - 1);
	cr_assert_geq(n, 0, "%s exists", path);
	buf[n] = '\0';
	return buf;
}

Test(netback, publishes_features_and_connects)
{
	char b[64];
	cr_expect_str_eq(read_str(BE_DIR "/mac", b, sizeof(b)), "52:54:00:12:34:56");
	cr_expect_str_eq(read_str(BE_DIR "/mtu", b, sizeof(b)), "1500");
	cr_expect_str_eq(read_str(BE_DIR "/feature-sg", b, sizeof(b)), "1");
	cr_expect_str_eq(read_str(BE_DIR "/feature-rx-copy", b, sizeof(b)), "1");
	cr_expect_str_eq(read_str(BE_DIR "/feature-gso-tcpv4", b, sizeof(b)), "1");
	cr_expect_str_eq(read_str(BE_DIR "/multi-queue-max-queues", b, sizeof(b)), "1");
	connect_frontend(1, NULL);
	cr_expect_not(lp->csum, "no receive offload without feature-csum-offload");
}

Test(netback, transmits_single_slot_and_chained_frames)
{
	connect_frontend(1, NULL);
	static uint8_t small[60], big[1514];
	make_frame(small, sizeof(small), 1);
	make_frame(big, sizeof(big), 2);
	unsigned int n1 = tx_frame(0, small, sizeof(small), 100, 10);
	/* 1514 bytes from offset 3000: a chain of two slots across pages */
	unsigned int n2 = tx_frame(0, big, sizeof(big), 3000, 20);
	cr_assert_eq(n1, 1);
	cr_assert_eq(n2, 2);
	push_tx(0);
	struct pvkvm_netif_tx_response rsp[3];
	tx_collect(0, rsp, 3);
	uint16_t want[3] = { 10, 20, 21 };
	for (int i = 0; i < 3; i++) {
		cr_expect_eq(rsp[i].id, want[i]);
		cr_expect_eq(rsp[i].status, PVKVM_NETIF_RSP_OKAY);
	}
	cr_assert_eq(sent(0)->len, sizeof(small));
	cr_assert_eq(memcmp(sent(0)->data, small, sizeof(small)), 0);
	cr_assert_eq(sent(1)->len, sizeof(big));
	cr_assert_eq(memcmp(sent(1)->data, big, sizeof(big)), 0);
	cr_expect_eq(sent(1)->vh.flags, 0);
	cr_expect_eq(counter("tx_frames"), 2);
	cr_expect_eq(counter("tx_bytes"), sizeof(small) + sizeof(big));
}

Test(netback, many_frames_go_to_the_port_in_batches)
{
	connect_frontend(1, NULL);
	static uint8_t f[64];
	/* 100 frames published with one push: the backend takes them in
	 * batches of NETBACK_TX_BATCH, not one send per wake-up. */
	for (unsigned int i = 0; i < 100; i++) {
		make_frame(f, sizeof(f), i);
		tx_frame(0, f, sizeof(f), 0, (uint16_t)i);
	}
	push_tx(0);
	struct pvkvm_netif_tx_response rsp[100];
	tx_collect(0, rsp, 100);
	for (unsigned int i = 0; i < 100; i++) {
		make_frame(f, sizeof(f), i);
		cr_assert_eq(memcmp(sent(i)->data, f, sizeof(f)), 0, "frame %u in order", i);
	}
	cr_expect_leq(counter("tx_batches"), 100 / NETBACK_TX_BATCH + 1);
	cr_expect_eq(fe.q[0].kicks, 1);
}

Test(netback, transmit_offload_flags_reach_the_virtio_header)
{
	connect_frontend(1, NULL);
	static uint8_t f[9000];
	make_frame(f, sizeof(f), 5);
	unsigned int n = tx_frame(0, f, sizeof(f), 0, 1);
	struct pvkvm_netif_tx_request *first =
		&((struct netif_tx_sring *)fe.q[0].tx.sring)->slot[0].req;
	first->flags |= PVKVM_NETIF_F_CSUM_BLANK | PVKVM_NETIF_F_GSO;
	first->csum_start = 34;
	first->csum_offset = 16;
	first->gso_type = PVKVM_NETIF_GSO_TCPV4;
	first->gso_size = 1448;
	push_tx(0);
	struct pvkvm_netif_tx_response rsp[4];
	tx_collect(0, rsp, n);
	for (unsigned int i = 0; i < n; i++)
		cr_expect_eq(rsp[i].status, PVKVM_NETIF_RSP_OKAY);
	struct net_pkt *p = sent(0);
	cr_assert_eq(p->len, sizeof(f));
	cr_expect_eq(p->vh.flags, NET_VHDR_F_NEEDS_CSUM);
	cr_expect_eq(p->vh.csum_start, 34);
	cr_expect_eq(p->vh.csum_offset, 16);
	cr_expect_eq(p->vh.gso_type, NET_VHDR_GSO_TCPV4);
	cr_expect_eq(p->vh.gso_size, 1448);
	cr_expect_eq(memcmp(p->data, f, sizeof(f)), 0);
}

/* Each bad frame gets ERROR on every slot; the good frame after them is sent. */
Test(netback, bad_slots_get_error_and_the_ring_goes_on)
{
	connect_frontend(1, NULL);
	static uint8_t f[200];
	make_frame(f, sizeof(f), 9);
	struct pvkvm_netif_tx_request *r;
	uint64_t g = fake_vm_alloc_pages(1);
	memcpy(fake_vm_page(g), f, sizeof(f));
	uint32_t ref = fake_vm_grant(g, true);
	const struct { uint16_t off, size, total, flags, cs, co; uint32_t gref; } bad[] = {
		{ 0, 0, 0, 0, 0, 0, 0 },               /* size 0 */
		{ 4000, 200, 200, 0, 0, 0, 0 },        /* crosses its page */
		{ 0, 200, 200, 0x80, 0, 0, 0 },        /* unknown flag */
		{ 0, 200, 150, 0, 0, 0, 0 },           /* total_len does not match */
		{ 0, 10, 10, 0, 0, 0, 0 },             /* shorter than a header */
		{ 0, 200, 200, PVKVM_NETIF_F_CSUM_BLANK, 190, 10, 0 }, /* csum outside */
		{ 0, 200, 200, 0, 0, 0, 4000 },        /* gref not granted */
		{ 0, 200, 200, PVKVM_NETIF_F_GSO, 0, 0, 0 }, /* GSO without type/csum */
	};
	unsigned int nbad = sizeof(bad) / sizeof(bad[0]);
	for (unsigned int i = 0; i < nbad; i++) {
		r = tx_slot(0);
		r->gref = bad[i].gref ? bad[i].gref : ref;
		r->offset = bad[i].off;
		r->size = bad[i].size;
		r->total_len = bad[i].total;
		r->flags = bad[i].flags;
		r->csum_start = bad[i].cs;
		r->csum_offset = bad[i].co;
		r->id = (uint16_t)i;
	}
	/* over-long chain: 19 slots of 14 bytes */
	for (unsigned int i = 0; i < 19; i++) {
		r = tx_slot(0);
		r->gref = ref;
		r->size = 14;
		r->total_len = i == 0 ? 19 * 14 : 0;
		r->flags = i < 18 ? PVKVM_NETIF_F_MORE_DATA : 0;
		r->id = (uint16_t)(100 + i);
	}
	tx_frame(0, f, sizeof(f), 0, 500);
	push_tx(0);
	unsigned int total = nbad + 19 + 1;
	struct pvkvm_netif_tx_response rsp[64];
	tx_collect(0, rsp, total);
	for (unsigned int i = 0; i < total - 1; i++)
		cr_expect_eq(rsp[i].status, PVKVM_NETIF_RSP_ERROR, "response %u (id %u)", i,
			     rsp[i].id);
	cr_expect_eq(rsp[total - 1].id, 500);
	cr_expect_eq(rsp[total - 1].status, PVKVM_NETIF_RSP_OKAY);
	cr_assert_eq(sent(0)->len, sizeof(f));
	cr_expect_eq(loop_nsent(lp), 1);
	cr_expect_eq(counter("tx_errors"), nbad + 1);
	cr_expect_not(netback_is_broken(dev));
}

static void post_rx(unsigned int qi, unsigned int n, uint64_t *gpas, uint16_t first_id)
{
	for (unsigned int i = 0; i < n; i++) {
		uint64_t g = fake_vm_alloc_pages(1);
		memset(fake_vm_page(g), 0xee, PVKVM_PAGE_SIZE);
		if (gpas)
			gpas[i] = g;
		struct pvkvm_netif_rx_request *r = netif_rx_front_next_req(&fe.q[qi].rx);
		cr_assert_not_null(r);
		*r = (struct pvkvm_netif_rx_request){ .id = (uint16_t)(first_id + i),
						      .gref = fake_vm_grant(g, false) };
	}
	push_rx(qi);
}

Test(netback, receives_into_posted_buffers)
{
	connect_frontend(1, NULL);
	uint64_t g[4];
	post_rx(0, 4, g, 0);
	static uint8_t f[3][1514];
	uint32_t lens[3] = { 60, 1514, 333 };
	for (unsigned int i = 0; i < 3; i++) {
		make_frame(f[i], lens[i], 40 + i);
		loop_inject(lp, NULL, f[i], lens[i]);
	}
	struct pvkvm_netif_rx_response rsp[3];
	rx_collect(0, rsp, 3);
	for (unsigned int i = 0; i < 3; i++) {
		cr_expect_eq(rsp[i].id, i);
		cr_expect_eq(rsp[i].status, (int16_t)lens[i]);
		cr_expect_eq(rsp[i].total_len, lens[i]);
		cr_expect_eq(rsp[i].flags, 0);
		cr_expect_eq(memcmp(fake_vm_page(g[i]), f[i], lens[i]), 0, "frame %u's bytes", i);
	}
	cr_expect_eq(fake_vm_page(g[3])[0], 0xee, "the fourth page untouched");
	cr_expect_eq(counter_reaching("rx_frames", 3), 3);
}

Test(netback, a_guest_without_buffers_loses_frames_beyond_the_queue)
{
	connect_frontend(1, NULL);
	static uint8_t f[64];
	unsigned int n = NETBACK_RXQ_LEN + 44;
	for (unsigned int i = 0; i < n; i++) {
		make_frame(f, sizeof(f), i);
		loop_inject(lp, NULL, f, sizeof(f));
	}
	/* Nothing posted: the queue fills, the rest are read and dropped. */
	cr_assert_eq(counter_reaching("rx_dropped_no_buffer", 44), 44);
	usleep(20000);
	cr_expect_eq(counter("rx_dropped_no_buffer"), 44);
	pthread_mutex_lock(&lp->lock);
	unsigned int left = lp->in_count;
	pthread_mutex_unlock(&lp->lock);
	cr_expect_eq(left, 0, "the port was drained");
	/* Buffers now: exactly the queued frames arrive, the first ones. */
	uint64_t g[PVKVM_NETIF_RING_SLOTS];
	post_rx(0, PVKVM_NETIF_RING_SLOTS, g, 0);
	struct pvkvm_netif_rx_response rsp[PVKVM_NETIF_RING_SLOTS];
	rx_collect(0, rsp, PVKVM_NETIF_RING_SLOTS);
	for (unsigned int i = 0; i < PVKVM_NETIF_RING_SLOTS; i++) {
		make_frame(f, sizeof(f), i);
		cr_assert_eq(memcmp(fake_vm_page(g[rsp[i].id]), f, sizeof(f)), 0, "frame %u", i);
	}
	cr_expect_eq(counter_reaching("rx_frames", PVKVM_NETIF_RING_SLOTS),
		     PVKVM_NETIF_RING_SLOTS);
}

Test(netback, a_long_gso_frame_fills_a_chain_with_its_flags)
{
	static const char *const feats[] = { "feature-sg", "feature-gso-tcpv4",
					     "feature-csum-offload", NULL };
	connect_frontend(1, feats);
	cr_expect(lp->csum && lp->tso4, "the port was asked for receive offload");
	uint64_t g[3];
	post_rx(0, 3, g, 7);
	static uint8_t f[10000];
	make_frame(f, sizeof(f), 77);
	struct net_vhdr vh = { .flags = NET_VHDR_F_NEEDS_CSUM, .gso_type = NET_VHDR_GSO_TCPV4,
			       .gso_size = 1448, .csum_start = 34, .csum_offset = 16 };
	loop_inject(lp, &vh, f, sizeof(f));
	struct pvkvm_netif_rx_response rsp[3];
	rx_collect(0, rsp, 3);
	cr_expect_eq(rsp[0].flags, PVKVM_NETIF_F_MORE_DATA | PVKVM_NETIF_F_CSUM_BLANK |
					   PVKVM_NETIF_F_GSO);
	cr_expect_eq(rsp[0].total_len, 10000);
	cr_expect_eq(rsp[0].gso_type, PVKVM_NETIF_GSO_TCPV4);
	cr_expect_eq(rsp[0].gso_size, 1448);
	cr_expect_eq(rsp[0].csum_start, 34);
	cr_expect_eq(rsp[0].csum_offset, 16);
	cr_expect_eq(rsp[1].flags, PVKVM_NETIF_F_MORE_DATA);
	cr_expect_eq(rsp[2].flags, 0);
	cr_expect_eq(rsp[0].status, 4096);
	cr_expect_eq(rsp[1].status, 4096);
	cr_expect_eq(rsp[2].status, 10000 - 8192);
	for (unsigned int i = 0; i < 3; i++)
		cr_assert_eq(memcmp(fake_vm_page(g[rsp[i].id - 7]), f + i * 4096,
				    (size_t)rsp[i].status), 0, "page %u", i);
}

/* A UDP/IPv4 frame whose checksum the sender left blank (pseudo-header sum
 * in the field), delivered to a frontend that did not ask for offload. */
Test(netback, blank_checksums_are_filled_for_a_frontend_without_offload)
{
	connect_frontend(1, NULL);
	uint64_t g[1];
	post_rx(0, 1, g, 0);
	uint8_t f[14 + 20 + 8 + 6];
	make_frame(f, sizeof(f), 0);
	f[12] = 0x08;
	f[13] = 0x00;
	uint8_t *ip = f + 14, *udp = ip + 20;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[9] = 17;
	memcpy(ip + 12, (uint8_t[]){ 10, 0, 0, 1 }, 4);
	memcpy(ip + 16, (uint8_t[]){ 10, 0, 0, 2 }, 4);
	uint16_t ulen = 8 + 6;
	udp[0] = 0x12; udp[1] = 0x34; udp[2] = 0x00; udp[3] = 0x07;
	udp[4] = 0; udp[5] = (uint8_t)ulen;
	memcpy(udp + 8, "hello!", 6);
	/* pseudo-header sum: src + dst + proto + length */
	uint32_t ps = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + ulen;
	while (ps >> 16)
		ps = (ps & 0xffff) + (ps >> 16);
	udp[6] = (uint8_t)(ps >> 8);
	udp[7] = (uint8_t)ps;
	struct net_vhdr vh = { .flags = NET_VHDR_F_NEEDS_CSUM, .csum_start = 34,
			       .csum_offset = 6 };
	loop_inject(lp, &vh, f, sizeof(f));
	struct pvkvm_netif_rx_response rsp;
	rx_collect(0, &rsp, 1);
	cr_expect_eq(rsp.flags & PVKVM_NETIF_F_CSUM_BLANK, 0);
	cr_expect_eq(rsp.flags & PVKVM_NETIF_F_DATA_VALIDATED, PVKVM_NETIF_F_DATA_VALIDATED);
	/* A receiver verifies: pseudo-header + UDP header and data sum to 0xffff. */
	const uint8_t *u = fake_vm_page(g[0]) + 34;
	uint32_t sum = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + ulen;
	for (unsigned int i = 0; i < ulen; i += 2)
		sum += (uint32_t)u[i] << 8 | (i + 1 < ulen ? u[i + 1] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	cr_expect_eq(sum, 0xffff, "the UDP checksum verifies");
	cr_expect_eq(counter("checksums_filled"), 1);
}

Test(netback, impossible_producer_index_stops_the_device)
{
	connect_frontend(1, NULL);
	struct netif_tx_sring *s = fe.q[0].tx.sring;
	__atomic_store_n(&s->hdr.req_prod, PVKVM_NETIF_RING_SLOTS + 9u, __ATOMIC_RELEASE);
	cr_assert_eq(netback_kick(dev, 0), 0);
	for (int i = 0; i < 2000 && xenbus_read_state(vm.store, BE_DIR) != PVKVM_XB_CLOSING; i++)
		usleep(1000);
	cr_assert(netback_is_broken(dev));
	cr_assert_eq(xenbus_read_state(vm.store, BE_DIR), PVKVM_XB_CLOSING);
	char err[128] = { 0 };
	cr_assert_gt(store_read(vm.store, BE_DIR "/error", err, sizeof(err) - 1), 0);
	cr_assert(strstr(err, "ring broken"));
	/* A frame from the wire now is not delivered anywhere; nothing crashes. */
	uint8_t f[64];
	make_frame(f, sizeof(f), 1);
	loop_inject(lp, NULL, f, sizeof(f));
	cr_assert_eq(xenbus_set_state(vm.store, FE_DIR, PVKVM_XB_CLOSING), 0);
	cr_assert_eq(xenbus_read_state(vm.store, BE_DIR), PVKVM_XB_CLOSED);
}

/* A frontend that polls and never re-arms rsp_event is notified once. */
Test(netback, a_polling_frontend_is_not_notified_again)
{
	connect_frontend(1, NULL);
	static uint8_t f[64];
	for (unsigned int round = 0; round < 10; round++) {
		make_frame(f, sizeof(f), round);
		tx_frame(0, f, sizeof(f), 0, (uint16_t)round);
		push_tx(0);
		struct pvkvm_netif_tx_response rsp;
		tx_collect(0, &rsp, 1);
	}
	cr_expect_eq(counter("notifications_sent"), 1);
	cr_expect_eq(counter_reaching("notifications_suppressed", 9), 9);
}

Test(netback, unwritable_pages_and_unwanted_gso_are_refused)
{
	connect_frontend(1, NULL);
	/* a page granted read-only: the backend may not write it */
	uint64_t g = fake_vm_alloc_pages(1);
	struct pvkvm_netif_rx_request *r = netif_rx_front_next_req(&fe.q[0].rx);
	*r = (struct pvkvm_netif_rx_request){ .id = 1, .gref = fake_vm_grant(g, true) };
	push_rx(0);
	static uint8_t f[10000];
	make_frame(f, 100, 1);
	loop_inject(lp, NULL, f, 100);
	struct pvkvm_netif_rx_response rsp;
	rx_collect(0, &rsp, 1);
	cr_expect_eq(rsp.id, 1);
	cr_expect_eq(rsp.status, PVKVM_NETIF_RSP_ERROR);
	cr_expect_eq(counter_reaching("rx_errors", 1), 1);
	/* GSO and a 10000-byte frame to a frontend without feature-sg/gso */
	struct net_vhdr vh = { .flags = NET_VHDR_F_NEEDS_CSUM, .gso_type = NET_VHDR_GSO_TCPV4,
			       .gso_size = 1448, .csum_start = 34, .csum_offset = 16 };
	make_frame(f, sizeof(f), 2);
	loop_inject(lp, &vh, f, sizeof(f));
	loop_inject(lp, NULL, f, sizeof(f));
	cr_expect_eq(counter_reaching("rx_dropped_too_big", 2), 2);
	/* and the next ordinary frame still arrives */
	uint64_t g2[1];
	post_rx(0, 1, g2, 9);
	make_frame(f, 60, 3);
	loop_inject(lp, NULL, f, 60);
	rx_collect(0, &rsp, 1);
	cr_expect_eq(rsp.id, 9);
	cr_expect_eq(rsp.status, 60);
	cr_expect_eq(memcmp(fake_vm_page(g2[0]), f, 60), 0);
}

/* A hostile frontend: slots full of random bytes (the ring indices sane).
 * Every slot is answered exactly once, nothing crashes (ASan/UBSan builds
 * check), the device is not broken, and a good frame afterwards is sent. */
Test(netback, random_slots_are_each_answered)
{
	connect_frontend(1, NULL);
	uint64_t g = fake_vm_alloc_pages(1);
	memset(fake_vm_page(g), 0x42, PVKVM_PAGE_SIZE);
	fake_vm_grant(g, true); /* ref 3: random grefs sometimes hit a real grant */
	uint32_t x = 777;
	unsigned int total = 0;
	for (unsigned int round = 0; round < 20; round++) {
		unsigned int n = 1 + round * 5 % 100;
		for (unsigned int i = 0; i < n; i++) {
			struct pvkvm_netif_tx_request *r = tx_slot(0);
			uint8_t *b = (uint8_t *)r;
			for (unsigned int k = 0; k < sizeof(*r); k++) {
				x = x * 1103515245u + 12345u;
				b[k] = (uint8_t)(x >> 16);
			}
			if (i % 3 == 0)
				r->gref = 1 + (x >> 8) % 4;
			if (i + 1 == n)
				r->flags &= (uint16_t)~PVKVM_NETIF_F_MORE_DATA; /* end the chain */
			r->id = (uint16_t)(total + i);
		}
		push_tx(0);
		struct pvkvm_netif_tx_response rsp[128];
		tx_collect(0, rsp, n);
		for (unsigned int i = 0; i < n; i++)
			cr_assert_eq(rsp[i].id, total + i, "each slot answered once, in order");
		total += n;
	}
	cr_expect_not(netback_is_broken(dev));
	static uint8_t f[100];
	make_frame(f, sizeof(f), 1);
	unsigned int before = loop_nsent(lp);
	tx_frame(0, f, sizeof(f), 0, 9999);
	push_tx(0);
	struct pvkvm_netif_tx_response rsp;
	tx_collect(0, &rsp, 1);
	cr_expect_eq(rsp.status, PVKVM_NETIF_RSP_OKAY);
	cr_assert_eq(memcmp(sent(before)->data, f, sizeof(f)), 0);
}

TestSuite(netback_mq, .init = setup_mq, .fini = teardown, .timeout = 60);

Test(netback_mq, two_queues_each_with_its_thread)
{
	cr_assert_eq(counter("tx_frames"), 0);
	connect_frontend(MAXQ, NULL);
	static uint8_t f[2][100];
	for (unsigned int q = 0; q < MAXQ; q++) {
		make_frame(f[q], sizeof(f[q]), 60 + q);
		tx_frame(q, f[q], sizeof(f[q]), 0, (uint16_t)q);
		push_tx(q);
		struct pvkvm_netif_tx_response rsp;
		tx_collect(q, &rsp, 1);
		cr_expect_eq(rsp.status, PVKVM_NETIF_RSP_OKAY);
	}
	cr_assert_eq(counter_reaching("tx_frames", 2), 2);
	bool seen[2] = { false, false };
	for (unsigned int i = 0; i < 2; i++)
		for (unsigned int q = 0; q < MAXQ; q++)
			if (!memcmp(sent(i)->data, f[q], sizeof(f[q])))
				seen[q] = true;
	cr_expect(seen[0] && seen[1]);
}

/* Over the real switch: the frontend's frames reach another port, and that
 * port's frames to the frontend's MAC come back. */
static void setup_switch(void)
{
	setup_vm();
	char name[64], err[256];
	snprintf(name, sizeof(name), "nbtest-%d", (int)getpid());
	struct net_port *p;
	cr_assert_eq(net_switch_open(name, 1, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(net_switch_open(name, 1, &sw_peer, err, sizeof(err)), 0, "%s", err);
	start_backend(p, 1);
}

TestSuite(netback_switch, .init = setup_switch, .fini = teardown, .timeout = 60);

Test(netback_switch, frames_cross_the_switch_both_ways)
{
	cr_assert_eq(counter("tx_frames"), 0);
	connect_frontend(1, NULL);
	char b[32];
	cr_expect_str_eq(read_str(BE_DIR "/feature-gso-tcpv4", b, sizeof(b)), "0");
	uint64_t g[1];
	post_rx(0, 1, g, 0);
	static uint8_t f[200];
	make_frame(f, sizeof(f), 3); /* from 52:54:00:12:34:56, to ...:aa:bb:cc */
	tx_frame(0, f, sizeof(f), 0, 1);
	push_tx(0);
	struct net_pkt *in = net_pkt_new(2048);
	int r = 0;
	for (int spin = 0; r == 0 && spin < 100000; spin++) {
		r = net_port_recv(sw_peer, 0, in);
		if (r == 0)
			usleep(20);
	}
	cr_assert_eq(r, (int)sizeof(f));
	cr_assert_eq(memcmp(in->data, f, sizeof(f)), 0);
	/* The reply, addressed to the frontend's MAC (learned by now). */
	uint8_t reply[100];
	make_frame(reply, sizeof(reply), 4);
	memcpy(reply, f + 6, 6);
	memcpy(reply + 6, f, 6);
	struct net_pkt out = { .len = sizeof(reply), .cap = sizeof(reply), .data = reply };
	struct net_pkt *one[1] = { &out };
	cr_assert_eq(net_port_send(sw_peer, one, 1), 1);
	struct pvkvm_netif_rx_response rsp;
	rx_collect(0, &rsp, 1);
	cr_expect_eq(rsp.status, (int16_t)sizeof(reply));
	cr_expect_eq(memcmp(fake_vm_page(g[0]), reply, sizeof(reply)), 0);
	net_pkt_free(in);
}

/* ---- over a real TAP, with the kernel's stack in a namespace as the peer ---- */

static void setup_tap(void)
{
	setup_vm();
	struct net_port *p;
	net_ns_setup(1, &p);
	start_backend(p, 1);
}

static void teardown_tap(void)
{
	teardown(); /* closes the TAP */
	net_ns_cleanup();
}

TestSuite(netback_tap, .init = setup_tap, .fini = teardown_tap, .timeout = 60);

/* Takes rx responses (re-posting their pages) until one holds a frame
 * for which want() holds; the kernel's own traffic is skipped. */
static bool rx_until(uint64_t *g, unsigned int nposted, bool (*want)(const uint8_t *, int),
		     uint8_t *out)
{
	for (unsigned int seen = 0; seen < 200; seen++) {
		struct pvkvm_netif_rx_response rsp;
		rx_collect(0, &rsp, 1);
		cr_assert_lt(rsp.id, nposted);
		cr_assert_gt(rsp.status, 0);
		const uint8_t *f = fake_vm_page(g[rsp.id]);
		if (want(f, rsp.status)) {
			memcpy(out, f, (size_t)rsp.status);
			return true;
		}
		struct pvkvm_netif_rx_request *r = netif_rx_front_next_req(&fe.q[0].rx);
		cr_assert_not_null(r);
		*r = (struct pvkvm_netif_rx_request){ .id = rsp.id, .gref = fake_vm_grant(g[rsp.id], false) };
		push_rx(0);
	}
	return false;
}

static bool is_arp_reply(const uint8_t *f, int len)
{
	return len >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 2;
}

Test(netback_tap, the_kernel_answers_an_arp_sent_through_the_rings)
{
	connect_frontend(1, NULL);
	uint64_t g[32];
	post_rx(0, 32, g, 0);
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	uint8_t f[42];
	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	memcpy(f + 12, (uint8_t[]){ 0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1 }, 10);
	memcpy(f + 22, mac, 6);
	memcpy(f + 28, (uint8_t[]){ 10, 77, 0, 2 }, 4);
	memset(f + 32, 0, 6);
	memcpy(f + 38, (uint8_t[]){ 10, 77, 0, 1 }, 4);
	tx_frame(0, f, sizeof(f), 0, 1);
	push_tx(0);
	struct pvkvm_netif_tx_response trsp;
	tx_collect(0, &trsp, 1);
	cr_assert_eq(trsp.status, PVKVM_NETIF_RSP_OKAY);
	uint8_t got[4096];
	cr_assert(rx_until(g, 32, is_arp_reply, got), "an ARP reply came through the rx ring");
	cr_expect_eq(memcmp(got, mac, 6), 0, "to our MAC");
	cr_expect_eq(memcmp(got + 28, (uint8_t[]){ 10, 77, 0, 1 }, 4), 0, "from 10.77.0.1");
	cr_expect_geq(counter("rx_frames"), 1);
	cr_expect_eq(counter("tx_frames"), 1);
}
