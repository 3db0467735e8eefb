// SPDX-License-Identifier: MIT
/*
 * The NE2000 model driven register by register through its pio_fn, in the
 * order Linux's ne.c (probe, reset) and 8390.c (init, receive, transmit)
 * drive a DP8390: PROM read, ring set-up, frames received into the ring and
 * read back by remote DMA across the ring's wrap, overflow, the address
 * filters, and transmit from device memory to a port.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "host/core/stats.h"
#include "host/net/dev_ne2000.h"
#include "hypercall/pvkvm_netif.h"
#include "tests/unit/net_loop_port.h"

#define BASE PVKVM_NE2000_IO_BASE
#define TX_START 0x40
#define RX_START 0x46
#define RX_STOP 0x80

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
static struct ne2000 *ne;
static struct loop_port *lp;

static void setup(void)
{
	lp = loop_port_new(1, false);
	ne = ne2000_new(MAC, &lp->port);
	cr_assert_not_null(ne);
}

static void teardown(void)
{
	ne2000_free(ne);
	loop_close(&lp->port);
}

TestSuite(ne2000, .init = setup, .fini = teardown, .timeout = 30);

static void outb(unsigned int off, uint8_t v)
{
	ne2000_pio(ne, (uint16_t)(BASE + off), true, &v, 1, 1);
}

static uint8_t inb(unsigned int off)
{
	uint8_t v = 0x5a;
	ne2000_pio(ne, (uint16_t)(BASE + off), false, &v, 1, 1);
	return v;
}

/* insw / outsw on the data port: a string PIO of 16-bit words. */
static void insw(void *buf, unsigned int words)
{
	ne2000_pio(ne, BASE + NE_DATA, false, buf, 2, words);
}

static void outsw(const void *buf, unsigned int words)
{
	ne2000_pio(ne, BASE + NE_DATA, true, (void *)buf, 2, words);
}

static uint64_t counter(const char *name)
{
	struct stats_group *g = ne2000_stats(ne);
	for (unsigned int i = 0; i < g->nr; i++)
		if (!strcmp(g->counters[i].name, name))
			return stat_get(&g->counters[i].value);
	cr_assert_fail("no counter %s", name);
	return 0;
}

static void remote(uint16_t addr, uint16_t count, uint8_t rd)
{
	outb(NE_P0_RBCR0, (uint8_t)count);
	outb(NE_P0_RBCR1, (uint8_t)(count >> 8));
	outb(NE_P0_CRDA0_RSAR0, (uint8_t)addr);
	outb(NE_P0_CRDA1_RSAR1, (uint8_t)(addr >> 8));
	outb(NE_CR, (uint8_t)(rd | NE_CR_STA));
}

/* NS8390_init, as 8390.c does it, word-wide (DCR 0x49 for an NE2000). */
static void init_nic(uint8_t rcr)
{
	outb(NE_CR, NE_CR_RD_ABORT | NE_CR_STP);
	outb(NE_P0_CNTR1_DCR, 0x49);
	outb(NE_P0_RBCR0, 0);
	outb(NE_P0_RBCR1, 0);
	outb(NE_P0_RSR_RCR, NE_RCR_MON);
	outb(NE_P0_CNTR0_TCR, 0x02);
	outb(NE_P0_TSR_TPSR, TX_START);
	outb(NE_P0_CLDA0_PSTART, RX_START);
	outb(NE_P0_BNRY, RX_STOP - 1);
	outb(NE_P0_CLDA1_PSTOP, RX_STOP);
	outb(NE_P0_ISR, 0xff);
	outb(NE_P0_CNTR2_IMR, 0);
	outb(NE_CR, NE_CR_RD_ABORT | NE_CR_STP | 0x40); /* page 1 */
	for (unsigned int i = 0; i < 6; i++)
		outb(NE_P1_PAR0 + i, MAC[i]);
	for (unsigned int i = 0; i < 8; i++)
		outb(NE_P1_MAR0 + i, 0);
	outb(NE_P1_CURR, RX_START);
	outb(NE_CR, NE_CR_RD_ABORT | NE_CR_STP);
	outb(NE_P0_BNRY, RX_START); /* 8390.c: BNRY = PSTART, CURR = PSTART + 1 */
	outb(NE_CR, NE_CR_RD_ABORT | NE_CR_STP | 0x40);
	outb(NE_P1_CURR, RX_START + 1);
	outb(NE_CR, NE_CR_RD_ABORT | NE_CR_STP);
	outb(NE_CR, NE_CR_RD_ABORT | NE_CR_STA);
	outb(NE_P0_ISR, 0xff);
	outb(NE_P0_CNTR0_TCR, 0);
	outb(NE_P0_RSR_RCR, rcr);
}

static uint8_t read_curr(void)
{
	outb(NE_CR, NE_CR_RD_ABORT | NE_CR_STA | 0x40);
	uint8_t c = inb(NE_P1_CURR);
	outb(NE_CR, NE_CR_RD_ABORT | NE_CR_STA);
	return c;
}

static void make_frame(uint8_t *f, const uint8_t *dst, uint32_t len, uint8_t salt)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, (uint8_t[6]){ 0x02, 1, 2, 3, 4, 5 }, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (uint32_t i = 14; i < len; i++)
		f[i] = (uint8_t)(i * 3 + salt);
}

/* ei_receive's loop body for one frame: header at BNRY + 1, then the data
 * (read in two pieces where it wraps, as ei_block_input does), then
 * BNRY = next - 1. Returns the length, or -1 if the ring is empty. */
static int read_frame(uint8_t *out)
{
	uint8_t bnry = inb(NE_P0_BNRY);
	uint8_t this = (uint8_t)(bnry + 1);
	if (this >= RX_STOP)
		this = RX_START;
	if (this == read_curr())
		return -1;
	uint8_t hdr[4];
	remote((uint16_t)(this << 8), 4, NE_CR_RD_READ);
	insw(hdr, 2);
	cr_assert(inb(NE_P0_ISR) & NE_ISR_RDC);
	outb(NE_P0_ISR, NE_ISR_RDC);
	cr_assert(hdr[0] & NE_RSR_PRX);
	int len = (hdr[2] | hdr[3] << 8) - 4;
	uint32_t addr = (uint32_t)(this << 8) + 4;
	uint32_t first = len;
	if (addr + (uint32_t)len > RX_STOP * 256u)
		first = RX_STOP * 256u - addr;
	remote((uint16_t)addr, (uint16_t)((first + 1) & ~1u), NE_CR_RD_READ);
	insw(out, (first + 1) / 2);
	if (first < (uint32_t)len) {
		uint32_t rest = len - first;
		remote(RX_START << 8, (uint16_t)((rest + 1) & ~1u), NE_CR_RD_READ);
		insw(out + first, (rest + 1) / 2);
	}
	uint8_t next = hdr[1];
	cr_assert(next >= RX_START && next < RX_STOP);
	outb(NE_P0_BNRY, next == RX_START ? RX_STOP - 1 : (uint8_t)(next - 1));
	return len;
}

Test(ne2000, reset_then_prom_as_ne_probe_reads_it)
{
	(void)inb(NE_RESET); /* outb(inb(RESET), RESET) in ne.c */
	outb(NE_RESET, 0);
	cr_expect(inb(NE_P0_ISR) & NE_ISR_RST);
	cr_expect_eq(inb(NE_CR), NE_CR_RD_ABORT | NE_CR_STP);
	outb(NE_P0_ISR, NE_ISR_RST);
	outb(NE_CR, NE_CR_RD_ABORT | NE_CR_STP);
	outb(NE_P0_CNTR1_DCR, 0x48); /* byte-wide */
	outb(NE_P0_RBCR0, 0);
	outb(NE_P0_RBCR1, 0);
	outb(NE_P0_CNTR2_IMR, 0);
	outb(NE_P0_ISR, 0xff);
	outb(NE_P0_RSR_RCR, NE_RCR_MON);
	outb(NE_P0_CNTR0_TCR, 0x02);
	remote(0, 32, NE_CR_RD_READ);
	uint8_t prom[32];
	for (int i = 0; i < 32; i++)
		prom[i] = inb(NE_DATA);
	for (int i = 0; i < 6; i++) {
		cr_expect_eq(prom[2 * i], MAC[i]);
		cr_expect_eq(prom[2 * i + 1], MAC[i], "each byte doubled");
	}
	cr_expect_eq(prom[28], 0x57);
	cr_expect_eq(prom[30], 0x57, "the NE2000 signature");
	cr_expect(inb(NE_P0_ISR) & NE_ISR_RDC, "remote DMA complete");
	cr_expect_eq(inb(NE_DATA), 0xff, "nothing past the count");
}

Test(ne2000, register_pages_read_back)
{
	init_nic(NE_RCR_AB);
	outb(NE_P0_CNTR2_IMR, 0x3f);
	outb(NE_CR, NE_CR_RD_ABORT | NE_CR_STA | 0x80); /* page 2 */
	cr_expect_eq(inb(0x01), RX_START);
	cr_expect_eq(inb(0x02), RX_STOP);
	cr_expect_eq(inb(0x04), TX_START);
	cr_expect_eq(inb(0x0c), NE_RCR_AB);
	cr_expect_eq(inb(0x0d), 0);
	cr_expect_eq(inb(0x0e), 0x49);
	cr_expect_eq(inb(0x0f), 0x3f);
	outb(NE_CR, NE_CR_RD_ABORT | NE_CR_STA | 0x40); /* page 1 */
	for (unsigned int i = 0; i < 6; i++)
		cr_expect_eq(inb(NE_P1_PAR0 + i), MAC[i]);
	cr_expect_eq(inb(NE_P1_CURR), RX_START + 1);
	outb(NE_CR, NE_CR_RD_ABORT | NE_CR_STA);
	cr_expect_eq(inb(NE_P0_BNRY), RX_START);
	cr_expect_eq(inb(NE_P0_ISR) & NE_ISR_RST, 0, "started: not in reset");
}

Test(ne2000, receives_into_the_ring_and_reads_back_across_the_wrap)
{
	init_nic(NE_RCR_AB);
	static uint8_t f[1514], got[1600];
	unsigned int ring_pages = RX_STOP - RX_START;
	/* 6 pages per 1514-byte frame: 40 frames wrap the 58-page ring 4 times */
	for (unsigned int i = 0; i < 40; i++) {
		uint32_t len = i % 3 == 0 ? 60 : (i % 3 == 1 ? 1514 : 1000 + i);
		make_frame(f, MAC, len, (uint8_t)i);
		uint8_t before = read_curr();
		cr_assert(ne2000_receive(ne, f, len), "frame %u stored", i);
		cr_assert(inb(NE_P0_ISR) & NE_ISR_PRX);
		outb(NE_P0_ISR, NE_ISR_PRX);
		unsigned int used = (read_curr() + ring_pages - before) % ring_pages;
		cr_expect_eq(used, (len + 8 + 255) / 256, "frame %u pages", i);
		int n = read_frame(got);
		cr_assert_eq(n, (int)len, "frame %u length", i);
		cr_assert_eq(memcmp(got, f, len), 0, "frame %u bytes", i);
		cr_assert_eq(read_frame(got), -1, "ring empty again");
	}
	cr_expect_eq(counter("rx_frames"), 40);
}

Test(ne2000, a_full_ring_overflows_and_drops)
{
	init_nic(NE_RCR_AB);
	static uint8_t f[1514];
	make_frame(f, MAC, sizeof(f), 1);
	unsigned int stored = 0;
	while (ne2000_receive(ne, f, sizeof(f)))
		stored++;
	/* 58 pages, 6 per frame, never filling the page BNRY sits on */
	cr_expect_eq(stored, 9);
	cr_expect(inb(NE_P0_ISR) & NE_ISR_OVW);
	cr_expect_eq(counter("rx_dropped"), 1);
	uint8_t got[1600];
	cr_expect_eq(read_frame(got), (int)sizeof(f));
	cr_expect(ne2000_receive(ne, f, sizeof(f)), "room again after BNRY moved");
}

Test(ne2000, address_filters_follow_rcr_and_mar)
{
	static const uint8_t other[6] = { 0x52, 0x54, 0, 0, 0, 1 };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	uint8_t f[60];
	init_nic(0);
	make_frame(f, bcast, 60, 0);
	cr_expect_not(ne2000_receive(ne, f, 60), "broadcast needs AB");
	make_frame(f, other, 60, 0);
	cr_expect_not(ne2000_receive(ne, f, 60), "not our address");
	make_frame(f, MAC, 60, 0);
	cr_expect(ne2000_receive(ne, f, 60), "our address always");
	outb(NE_P0_RSR_RCR, NE_RCR_AB);
	make_frame(f, bcast, 60, 0);
	cr_expect(ne2000_receive(ne, f, 60));
	cr_expect(inb(NE_P0_RSR_RCR) & NE_RSR_PHY);
	outb(NE_P0_RSR_RCR, NE_RCR_AM);
	make_frame(f, mcast, 60, 0);
	cr_expect_not(ne2000_receive(ne, f, 60), "hash bit not set");
	outb(NE_CR, NE_CR_RD_ABORT | NE_CR_STA | 0x40);
	for (unsigned int i = 0; i < 8; i++)
		outb(NE_P1_MAR0 + i, 0xff); /* as 8390.c does for all-multicast */
	outb(NE_CR, NE_CR_RD_ABORT | NE_CR_STA);
	cr_expect(ne2000_receive(ne, f, 60));
	outb(NE_P0_RSR_RCR, NE_RCR_PRO);
	make_frame(f, other, 60, 0);
	cr_expect(ne2000_receive(ne, f, 60), "promiscuous takes all");
	outb(NE_CR, NE_CR_RD_ABORT | NE_CR_STP);
	make_frame(f, MAC, 60, 0);
	cr_expect_not(ne2000_receive(ne, f, 60), "a stopped NIC receives nothing");
	cr_expect_eq(counter("rx_filtered"), 3);
}

Test(ne2000, transmits_from_device_memory)
{
	init_nic(NE_RCR_AB);
	static uint8_t f[1514];
	make_frame(f, (uint8_t[6]){ 0x02, 9, 9, 9, 9, 9 }, sizeof(f), 7);
	/* ne_block_output: remote write of the frame to TX_START, word-wide */
	remote(TX_START << 8, sizeof(f), NE_CR_RD_WRITE);
	outsw(f, sizeof(f) / 2);
	cr_expect(inb(NE_P0_ISR) & NE_ISR_RDC);
	outb(NE_P0_ISR, NE_ISR_RDC);
	/* NS8390_trigger_send */
	outb(NE_CR, NE_CR_RD_ABORT | NE_CR_STA);
	outb(NE_P0_NCR_TBCR0, sizeof(f) & 0xff);
	outb(NE_P0_FIFO_TBCR1, sizeof(f) >> 8);
	outb(NE_P0_TSR_TPSR, TX_START);
	outb(NE_CR, NE_CR_RD_ABORT | NE_CR_TXP | NE_CR_STA);
	cr_expect(inb(NE_P0_ISR) & NE_ISR_PTX);
	cr_expect_eq(inb(NE_P0_TSR_TPSR) & NE_TSR_PTX, NE_TSR_PTX);
	cr_expect_eq(inb(NE_CR) & NE_CR_TXP, 0, "TXP clears when sent");
	cr_assert_eq(loop_nsent(lp), 1);
	cr_assert_eq(lp->sent[0]->len, sizeof(f));
	cr_expect_eq(memcmp(lp->sent[0]->data, f, sizeof(f)), 0);
	cr_expect_eq(counter("tx_frames"), 1);
	cr_expect_gt(counter("register_accesses"), 20);
}

Test(ne2000, frames_from_the_port_arrive_through_the_rx_thread)
{
	init_nic(NE_RCR_AB);
	cr_assert_eq(ne2000_start_rx(ne), 0);
	static uint8_t f[300], got[400];
	make_frame(f, MAC, sizeof(f), 3);
	loop_inject(lp, NULL, f, sizeof(f));
	int i = 0;
	while (!(inb(NE_P0_ISR) & NE_ISR_PRX) && i++ < 5000)
		usleep(1000);
	cr_assert(inb(NE_P0_ISR) & NE_ISR_PRX, "polled ISR shows the frame");
	cr_assert_eq(read_frame(got), (int)sizeof(f));
	cr_expect_eq(memcmp(got, f, sizeof(f)), 0);
	ne2000_stop_rx(ne);
}

/* A driver gone wrong (or hostile): random accesses to every port with
 * every width, strings included, interleaved with frames arriving. The
 * model must stay inside its memory (ASan/UBSan builds check) and keep
 * answering. The sequence is fixed (seeded) so a failure reproduces. */
Test(ne2000, random_accesses_never_leave_the_device)
{
	uint32_t x = 12345;
	uint8_t buf[256], f[1514];
	make_frame(f, MAC, sizeof(f), 1);
	for (int i = 0; i < 200000; i++) {
		x = x * 1103515245u + 12345u;
		unsigned int off = (x >> 8) % PVKVM_NE2000_IO_SIZE;
		uint32_t len = 1u << ((x >> 16) % 3);
		uint32_t count = (x >> 20) % 4 == 0 ? 1 + (x >> 24) % 64 : 1;
		bool wr = (x >> 30) & 1;
		for (unsigned int k = 0; k < sizeof(buf); k++)
			buf[k] = (uint8_t)(x >> (k % 24));
		ne2000_pio(ne, (uint16_t)(BASE + off), wr, buf, len, count);
		if (i % 97 == 0)
			ne2000_receive(ne, f, 14 + (x >> 4) % 1500);
	}
	(void)inb(NE_RESET);
	cr_expect(inb(NE_P0_ISR) & NE_ISR_RST, "still answering after it all");
}
