// SPDX-License-Identifier: MIT
/*
 * The sync network hypercalls on a real guest_mem and the real switch: a
 * frame from guest RAM reaches another switch port, a frame from that port
 * is copied into guest RAM, and every bad argument gets its error.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/mem/guest_mem.h"
#include "host/net/net_port.h"
#include "host/net/net_switch.h"
#include "host/net/net_sync.h"
#include "hypercall/pvkvm_netif.h"

static struct guest_mem mem;
static struct net_port *port, *peer;
static struct net_sync ns;

static void setup(void)
{
	char name[64], err[256];
	snprintf(name, sizeof(name), "synctest-%d", (int)getpid());
	cr_assert_eq(gmem_create(&mem, 4u << 20), 0);
	/* as the CPL3 layout has it: the VMM's pages, and a read-only page */
	cr_assert_eq(gmem_set_access(&mem, 0, PVKVM_GUEST_LOAD_MIN, GMEM_NONE), 0);
	cr_assert_eq(gmem_set_access(&mem, 0x380000, 4096, GMEM_READ), 0);
	cr_assert_eq(net_switch_open(name, 1, &port, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(net_switch_open(name, 1, &peer, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(net_sync_init(&ns, port, PVKVM_NETIF_MTU_DEFAULT), 0);
}

static void teardown(void)
{
	net_sync_fini(&ns);
	net_port_close(port);
	net_port_close(peer);
	gmem_destroy(&mem);
}

TestSuite(net_sync, .init = setup, .fini = teardown, .timeout = 30);

static int64_t tx(uint64_t gpa, uint64_t len, uint64_t nic)
{
	const uint64_t a[HCALL_NARGS] = { gpa, len, nic, 0, 0 };
	return net_sync_tx(&ns, &mem, a);
}

static int64_t rx(uint64_t gpa, uint64_t len, uint64_t nic)
{
	const uint64_t a[HCALL_NARGS] = { gpa, len, nic, 0, 0 };
	return net_sync_rx(&ns, &mem, a);
}

static void frame(uint8_t *f, uint32_t len, const uint8_t *dst, const uint8_t *src)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (uint32_t i = 14; i < len; i++)
		f[i] = (uint8_t)(i ^ 0x5a);
}

static const uint8_t GUEST[6] = { 0x02, 0, 0, 0, 0, 1 };
static const uint8_t PEER[6] = { 0x02, 0, 0, 0, 0, 2 };

Test(net_sync, a_frame_each_way)
{
	uint8_t *g = gmem_ptr(&mem, 0x200000, 4096);
	frame(g, 1514, PEER, GUEST);
	cr_assert_eq(tx(0x200000, 1514, 0), 0);
	struct net_pkt *in = net_pkt_new(2048);
	cr_assert_eq(net_port_recv(peer, 0, in), 1514);
	cr_expect_eq(memcmp(in->data, g, 1514), 0);
	frame(gmem_ptr(&mem, 0x380000, 60), 60, PEER, GUEST);
	cr_assert_eq(tx(0x380000, 60, 0), 0, "a read-only page may be sent from");
	struct net_pkt *ro = net_pkt_new(2048);
	cr_assert_eq(net_port_recv(peer, 0, ro), 60);
	net_pkt_free(ro);
	cr_assert_eq(rx(0x300000, 2048, 0), -PVKVM_EAGAIN, "nothing queued");
	uint8_t f[100];
	frame(f, sizeof(f), GUEST, PEER);
	struct net_pkt out = { .len = sizeof(f), .cap = sizeof(f), .data = f };
	struct net_pkt *one[1] = { &out };
	cr_assert_eq(net_port_send(peer, one, 1), 1);
	cr_assert_eq(rx(0x300001, 2048, 0), (int64_t)sizeof(f), "no alignment rule");
	cr_expect_eq(memcmp(gmem_ptr(&mem, 0x300001, sizeof(f)), f, sizeof(f)), 0);
	/* too small a buffer: the frame is dropped, E2BIG */
	cr_assert_eq(net_port_send(peer, one, 1), 1);
	cr_expect_eq(rx(0x300000, 50, 0), -PVKVM_E2BIG);
	cr_expect_eq(rx(0x300000, 2048, 0), -PVKVM_EAGAIN);
	net_pkt_free(in);
}

Test(net_sync, bad_arguments)
{
	cr_expect_eq(tx(0x200000, 13, 0), -PVKVM_EINVAL, "shorter than a header");
	cr_expect_eq(tx(0x200000, 1515, 0), -PVKVM_EINVAL, "longer than mtu + 14");
	cr_expect_eq(tx(0x200000, 60, 1), -PVKVM_ENOENT, "only nic 0");
	cr_expect_eq(tx(0x80000, 60, 0), -PVKVM_EFAULT, "below 1 MiB: the VMM's tables");
	cr_expect_eq(tx((4u << 20) - 10, 60, 0), -PVKVM_EFAULT, "past the end of RAM");
	cr_expect_eq(tx(UINT64_MAX - 5, 60, 0), -PVKVM_EFAULT, "wraps");
	cr_expect_eq(rx(0x80000, 2048, 0), -PVKVM_EFAULT);
	cr_expect_eq(rx(0x200000, 0, 0), -PVKVM_EINVAL);
	cr_expect_eq(rx((4u << 20) - 100, 2048, 0), -PVKVM_EFAULT);
	cr_expect_eq(rx(0x200000, 2048, 3), -PVKVM_ENOENT);
	cr_expect_eq(rx(0x37f000, 8192, 0), -PVKVM_EFAULT, "a page it may only read");
	cr_expect_eq(stat_get(&ns.counters[NET_SYNC_C_ERRORS].value), 11);
}
