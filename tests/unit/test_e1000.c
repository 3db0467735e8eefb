// SPDX-License-Identifier: MIT
/*
 * The e1000-style NIC (--net ...,mode=fv-dma) driven through its I/O
 * window as a driver would: rings of legacy descriptors in a real guest RAM
 * (gmem), frames out to and in from a loopback frame port, ICR, and every
 * refusal a hostile ring can provoke.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "host/core/stats.h"
#include "host/mem/guest_mem.h"
#include "host/net/dev_e1000.h"
#include "host/net/net_opt.h"
#include "hypercall/pvkvm_abi.h"
#include "net_loop_port.h"

#define RAM (4u << 20)
#define TX_RING 0x200000u
#define RX_RING 0x201000u
#define BUFS 0x210000u
#define SLOTS 8u

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static struct guest_mem mem;
static struct loop_port *loop;
static struct e1000 *nic;

static void setup(void)
{
	cr_assert_eq(gmem_create(&mem, RAM), 0);
	loop = loop_port_new(1, false);
	nic = e1000_new(mac, &loop->port, &mem);
	cr_assert_not_null(nic);
}

static void teardown(void)
{
	e1000_free(nic);
	loop->port.ops->close(&loop->port);
	gmem_destroy(&mem);
}

TestSuite(e1000, .init = setup, .fini = teardown);

/* ---- the I/O window ------------------------------------------------------------- */

static void outl(unsigned int off, uint32_t v)
{
	e1000_pio(nic, (uint16_t)(E1000_IO_BASE + off), true, &v, 4, 1);
}

static uint32_t inl(unsigned int off)
{
	uint32_t v = 0x5a5a5a5a;
	e1000_pio(nic, (uint16_t)(E1000_IO_BASE + off), false, &v, 4, 1);
	return v;
}

static void wr(uint32_t reg, uint32_t v)
{
	outl(E1000_IOADDR, reg);
	outl(E1000_IODATA, v);
}

static uint32_t rd(uint32_t reg)
{
	outl(E1000_IOADDR, reg);
	return inl(E1000_IODATA);
}

static uint64_t counter(const char *name)
{
	struct stats_group *g = e1000_stats(nic);
	for (unsigned int i = 0; i < g->nr; i++)
		if (!strcmp(g->counters[i].name, name))
			return g->counters[i].value;
	cr_assert_fail("no counter %s", name);
	return 0;
}

static void *ram(uint64_t gpa)
{
	void *p = gmem_ptr(&mem, gpa, 1);
	cr_assert_not_null(p);
	return p;
}

/* ---- rings ------------------------------------------------------------------------ */

static void tx_ring(uint64_t base, uint32_t slots)
{
	wr(E1000_TDBAL, (uint32_t)base);
	wr(E1000_TDBAH, (uint32_t)(base >> 32));
	wr(E1000_TDLEN, slots * 16);
	wr(E1000_TDH, 0);
	wr(E1000_TDT, 0);
	wr(E1000_TCTL, E1000_TCTL_EN);
}

static struct e1000_tx_desc *txd(unsigned int i)
{
	return ram(TX_RING + i * 16);
}

static void put_tx(unsigned int i, uint64_t addr, uint16_t len, uint8_t cmd)
{
	*txd(i) = (struct e1000_tx_desc){ .addr = addr, .length = len, .cmd = cmd };
}

static void rx_ring(uint32_t slots, uint32_t rctl)
{
	for (unsigned int i = 0; i < slots; i++) {
		struct e1000_rx_desc *d = ram(RX_RING + i * 16);
		*d = (struct e1000_rx_desc){ .addr = BUFS + 0x1000u * i };
	}
	wr(E1000_RDBAL, RX_RING);
	wr(E1000_RDBAH, 0);
	wr(E1000_RDLEN, slots * 16);
	wr(E1000_RDH, 0);
	wr(E1000_RDT, slots - 1); /* one short: RDH == RDT means none */
	wr(E1000_RCTL, E1000_RCTL_EN | rctl);
}

static struct e1000_rx_desc *rxd(unsigned int i)
{
	return ram(RX_RING + i * 16);
}

static void frame(uint8_t *f, uint32_t len, const uint8_t dst[6], uint8_t seed)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x08, f[13] = 0x00;
	for (uint32_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seed + i);
}

/* ---- reset, EEPROM ------------------------------------------------------------------ */

Test(e1000, reset_state_and_eeprom)
{
	uint32_t st = rd(E1000_STATUS);
	cr_assert(st & E1000_STATUS_LU, "link up");
	cr_assert(st & E1000_STATUS_FD);
	cr_assert_eq(rd(E1000_RAL0), 0x12005452u);
	cr_assert_eq(rd(E1000_RAH0), 0x5634u | E1000_RAH_AV);
	uint16_t sum = 0;
	for (uint32_t a = 0; a < E1000_EEPROM_WORDS; a++) {
		wr(E1000_EERD, a << E1000_EERD_ADDR_SHIFT | E1000_EERD_START);
		uint32_t v = rd(E1000_EERD);
		cr_assert(v & E1000_EERD_DONE);
		uint16_t w = (uint16_t)(v >> E1000_EERD_DATA_SHIFT);
		if (a < 3)
			cr_assert_eq(w, mac[2 * a] | mac[2 * a + 1] << 8, "word %u", a);
		sum = (uint16_t)(sum + w);
	}
	cr_assert_eq(sum, 0xbaba, "EEPROM checksum");
	/* IOADDR reads back; narrow accesses to the window do nothing. */
	outl(E1000_IOADDR, E1000_TDT);
	cr_assert_eq(inl(E1000_IOADDR), E1000_TDT);
	uint16_t w = 0;
	e1000_pio(nic, E1000_IO_BASE + E1000_IODATA, false, &w, 2, 1);
	cr_assert_eq(w, 0xffff);
	wr(E1000_ICS, E1000_ICR_LSC);
	cr_assert_eq(rd(E1000_ICR), E1000_ICR_LSC);
	cr_assert_eq(rd(E1000_ICR), 0, "ICR clears on read");
	wr(E1000_RDLEN, 0x12345);
	cr_assert_eq(rd(E1000_RDLEN), 0x12300u, "128-byte multiples");
	wr(E1000_CTRL, E1000_CTRL_RST);
	cr_assert_eq(rd(E1000_RDLEN), 0, "reset clears the rings");
}

/* ---- transmit ---------------------------------------------------------------------- */

Test(e1000, transmit_frames_with_one_doorbell)
{
	uint8_t f1[60], f2[1514];
	frame(f1, sizeof(f1), mac, 1);
	frame(f2, sizeof(f2), mac, 2);
	memcpy(ram(BUFS), f1, sizeof(f1));
	memcpy(ram(BUFS + 0x1000), f2, 1000); /* f2 over two buffers */
	memcpy(ram(BUFS + 0x3000), f2 + 1000, 514);
	tx_ring(TX_RING, SLOTS);
	put_tx(0, BUFS, 60, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS | E1000_TXD_CMD_IFCS);
	put_tx(1, BUFS + 0x1000, 1000, 0);
	put_tx(2, BUFS + 0x3000, 514, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
	wr(E1000_TDT, 3);
	cr_assert_eq(loop_nsent(loop), 2);
	cr_assert_eq(loop->sent[0]->len, 60);
	cr_assert_eq(memcmp(loop->sent[0]->data, f1, 60), 0);
	cr_assert_eq(loop->sent[1]->len, 1514);
	cr_assert_eq(memcmp(loop->sent[1]->data, f2, 1514), 0);
	cr_assert_eq(rd(E1000_TDH), 3);
	cr_assert(txd(0)->status & E1000_TXD_STAT_DD);
	cr_assert_eq(txd(1)->status & E1000_TXD_STAT_DD, 0, "no RS: no write-back");
	cr_assert(txd(2)->status & E1000_TXD_STAT_DD);
	cr_assert_eq(rd(E1000_ICR), E1000_ICR_TXDW | E1000_ICR_TXQE);
	cr_assert_eq(rd(E1000_GPTC), 2);
	cr_assert_eq(rd(E1000_GPTC), 0, "statistics clear on read");
	cr_assert_eq(counter("tx_doorbells"), 2, "the set-up's TDT write, then ours");

	/* The ring wraps: slots 3..7 and 0. */
	for (unsigned int i = 3; i < 3 + 6; i++)
		put_tx(i % SLOTS, BUFS, 60, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
	wr(E1000_TDT, 1);
	cr_assert_eq(loop_nsent(loop), 8);
	cr_assert_eq(rd(E1000_TDH), 1);
}

Test(e1000, transmit_disabled_or_ring_misplaced_moves_nothing)
{
	put_tx(0, BUFS, 60, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
	tx_ring(TX_RING, SLOTS);
	wr(E1000_TCTL, 0);
	wr(E1000_TDT, 1);
	cr_assert_eq(loop_nsent(loop), 0);
	cr_assert_eq(rd(E1000_TDH), 0);
	static const uint64_t bad[] = { 0x1000, RAM - 64, RAM, 1ull << 40 };
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tx_ring(bad[i], SLOTS);
		wr(E1000_TDT, 1);
		cr_assert_eq(rd(E1000_TDH), 0, "ring at %#llx", (unsigned long long)bad[i]);
	}
	cr_assert_eq(counter("bad_dma"), 4);
	/* A tail beyond the ring: not processed either. */
	tx_ring(TX_RING, SLOTS);
	wr(E1000_TDT, SLOTS + 3);
	cr_assert_eq(rd(E1000_TDH), 0);
	cr_assert_eq(loop_nsent(loop), 0);
}

Test(e1000, transmit_buffers_below_1mib_or_outside_ram_are_dropped)
{
	uint8_t *low = ram(0);
	memset(low, 0xa5, 4096);
	tx_ring(TX_RING, SLOTS);
	put_tx(0, 0x0, 60, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);       /* VMM pages */
	put_tx(1, RAM - 30, 60, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);  /* past RAM */
	put_tx(2, BUFS, 30, 0);                                         /* good half */
	put_tx(3, 0xff000, 30, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);  /* bad half */
	put_tx(4, BUFS, 60, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS | E1000_TXD_CMD_DEXT);
	frame(ram(BUFS + 0x2000), 60, mac, 9);
	put_tx(5, BUFS + 0x2000, 60, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
	wr(E1000_TDT, 6);
	cr_assert_eq(loop_nsent(loop), 1, "only the good frame");
	cr_assert_eq(loop->sent[0]->data[20], (uint8_t)(9 + 20));
	for (unsigned int i = 0; i < 6; i++)
		if (i != 2)
			cr_assert(txd(i)->status & E1000_TXD_STAT_DD, "slot %u written back", i);
	cr_assert_eq(rd(E1000_TDH), 6);
	cr_assert_eq(counter("tx_dropped"), 4);
	for (unsigned int i = 0; i < 4096; i++)
		cr_assert_eq(low[i], 0xa5);
}

Test(e1000, a_frame_may_span_doorbells)
{
	uint8_t f[100];
	frame(f, sizeof(f), mac, 4);
	memcpy(ram(BUFS), f, 100);
	tx_ring(TX_RING, SLOTS);
	put_tx(0, BUFS, 50, 0);
	wr(E1000_TDT, 1);
	cr_assert_eq(loop_nsent(loop), 0, "no EOP yet");
	put_tx(1, BUFS + 50, 50, E1000_TXD_CMD_EOP);
	wr(E1000_TDT, 2);
	cr_assert_eq(loop_nsent(loop), 1);
	cr_assert_eq(memcmp(loop->sent[0]->data, f, 100), 0);
}

/* ---- receive ------------------------------------------------------------------------ */

Test(e1000, receive_into_the_ring)
{
	uint8_t f[200];
	frame(f, sizeof(f), mac, 5);
	rx_ring(8, E1000_RCTL_SECRC); /* RDLEN: multiples of 8 descriptors */
	cr_assert(e1000_receive(nic, f, sizeof(f)));
	struct e1000_rx_desc *d = rxd(0);
	cr_assert_eq(d->status & (E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP),
		     E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP);
	cr_assert_eq(d->length, 200);
	cr_assert_eq(d->errors, 0);
	cr_assert_eq(memcmp(ram(BUFS), f, 200), 0);
	cr_assert_eq(rd(E1000_RDH), 1);
	cr_assert(rd(E1000_ICR) & E1000_ICR_RXT0);
	/* Six more fill the ring up to RDT; the next finds RDH == RDT. */
	for (int i = 0; i < 6; i++)
		cr_assert(e1000_receive(nic, f, sizeof(f)));
	cr_assert_not(e1000_receive(nic, f, sizeof(f)));
	cr_assert(rd(E1000_ICR) & E1000_ICR_RXO);
	cr_assert_eq(counter("rx_no_descriptor"), 1);
	/* The driver returns descriptors by moving RDT. */
	wr(E1000_RDT, 1);
	cr_assert(e1000_receive(nic, f, sizeof(f)));
	cr_assert_eq(rd(E1000_RDH), 0, "wrapped");
	cr_assert_eq(rd(E1000_GPRC), 8);
}

Test(e1000, the_fcs_unless_secrc_and_frames_over_buffers)
{
	uint8_t f[600];
	frame(f, sizeof(f), mac, 6);
	rx_ring(8, 3u << E1000_RCTL_BSIZE_SHIFT); /* 256-byte buffers, FCS kept */
	cr_assert(e1000_receive(nic, f, sizeof(f)));
	/* 604 bytes: 256 + 256 + 92, EOP on the third. */
	cr_assert_eq(rxd(0)->length, 256);
	cr_assert_eq(rxd(1)->length, 256);
	cr_assert_eq(rxd(2)->length, 92);
	cr_assert_eq(rxd(0)->status & E1000_RXD_STAT_EOP, 0);
	cr_assert_eq(rxd(1)->status & E1000_RXD_STAT_EOP, 0);
	cr_assert(rxd(2)->status & E1000_RXD_STAT_EOP);
	uint8_t got[604];
	memcpy(got, ram(BUFS), 256);
	memcpy(got + 256, ram(BUFS + 0x1000), 256);
	memcpy(got + 512, ram(BUFS + 0x2000), 92);
	cr_assert_eq(memcmp(got, f, 600), 0);
	/* CRC-32 of the frame, little-endian: its residue check. */
	uint32_t crc = 0xffffffffu;
	for (unsigned int i = 0; i < 604; i++) {
		crc ^= got[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	cr_assert_eq(crc, 0xdebb20e3u, "FCS residue");
	cr_assert_eq(rd(E1000_RDH), 3);
}

Test(e1000, receive_filters)
{
	uint8_t f[64];
	static const uint8_t other[6] = { 0x52, 0x54, 0x00, 0x99, 0x99, 0x99 };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	rx_ring(8, E1000_RCTL_SECRC);
	frame(f, sizeof(f), other, 1);
	cr_assert_not(e1000_receive(nic, f, sizeof(f)), "another station's");
	frame(f, sizeof(f), bcast, 1);
	cr_assert_not(e1000_receive(nic, f, sizeof(f)), "broadcast without BAM");
	frame(f, sizeof(f), mcast, 1);
	cr_assert_not(e1000_receive(nic, f, sizeof(f)), "multicast not in the MTA");
	uint32_t h = ((uint32_t)mcast[4] >> 4 | (uint32_t)mcast[5] << 4) & 0xfff;
	wr(E1000_MTA + (h >> 5) * 4, 1u << (h & 31));
	cr_assert(e1000_receive(nic, f, sizeof(f)), "multicast in the MTA");
	wr(E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_SECRC | E1000_RCTL_BAM);
	frame(f, sizeof(f), bcast, 1);
	cr_assert(e1000_receive(nic, f, sizeof(f)));
	wr(E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_SECRC | E1000_RCTL_UPE);
	frame(f, sizeof(f), other, 1);
	cr_assert(e1000_receive(nic, f, sizeof(f)), "promiscuous");
	cr_assert_eq(counter("rx_filtered"), 3);
	/* Too long without LPE, too short always. */
	static uint8_t big[1600];
	frame(big, sizeof(big), mac, 1);
	cr_assert_not(e1000_receive(nic, big, sizeof(big)));
	cr_assert_not(e1000_receive(nic, big, 10));
}

Test(e1000, receive_buffers_below_1mib_or_outside_ram_are_refused)
{
	uint8_t f[100];
	uint8_t *low = ram(0x2000);
	memset(low, 0xa5, 4096);
	frame(f, sizeof(f), mac, 7);
	rx_ring(8, E1000_RCTL_SECRC);
	rxd(0)->addr = 0x2000;
	rxd(1)->addr = RAM - 50;
	cr_assert_not(e1000_receive(nic, f, sizeof(f)));
	cr_assert_not(e1000_receive(nic, f, sizeof(f)));
	for (unsigned int i = 0; i < 2; i++) {
		cr_assert_eq(rxd(i)->status & (E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP),
			     E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP, "slot %u completes", i);
		cr_assert_eq(rxd(i)->errors, E1000_RXD_ERR_RXE);
		cr_assert_eq(rxd(i)->length, 0);
	}
	for (unsigned int i = 0; i < 4096; i++)
		cr_assert_eq(low[i], 0xa5);
	cr_assert(e1000_receive(nic, f, sizeof(f)), "the next good buffer works");
	cr_assert_eq(counter("bad_dma"), 2);
	/* A ring in the VMM's pages is not used at all. */
	wr(E1000_RDBAL, 0x3000);
	wr(E1000_RDH, 0);
	wr(E1000_RDT, 3);
	cr_assert_not(e1000_receive(nic, f, sizeof(f)));
	cr_assert_eq(rd(E1000_RDH), 0);
}

/* The NIC reaches memory only as the guest itself may: a received frame
 * may not land on a page the guest cannot write, a frame is not sent from
 * one it cannot read, and a ring must be readable and writable. */
Test(e1000, dma_needs_the_guests_own_rights)
{
	uint8_t f[100];
	frame(f, sizeof(f), mac, 3);
	rx_ring(8, E1000_RCTL_SECRC);
	memset(ram(BUFS), 0x5c, 4096);
	gmem_set_access(&mem, BUFS, 4096, GMEM_RX);
	cr_assert_not(e1000_receive(nic, f, sizeof(f)), "slot 0's buffer is read-only");
	cr_assert_eq(rxd(0)->errors, E1000_RXD_ERR_RXE);
	for (unsigned int i = 0; i < 4096; i++)
		cr_assert_eq(((uint8_t *)ram(BUFS))[i], 0x5c, "byte %u changed", i);
	cr_assert(e1000_receive(nic, f, sizeof(f)), "slot 1's buffer is writable");

	frame(ram(BUFS), 60, mac, 8); /* readable: a fine source */
	tx_ring(TX_RING, SLOTS);
	put_tx(0, BUFS, 60, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
	wr(E1000_TDT, 1);
	cr_assert_eq(loop_nsent(loop), 1);
	gmem_set_access(&mem, BUFS, 4096, GMEM_NONE);
	put_tx(1, BUFS, 60, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
	wr(E1000_TDT, 2);
	cr_assert_eq(loop_nsent(loop), 1, "nothing from a page the guest cannot read");

	gmem_set_access(&mem, TX_RING, 4096, GMEM_RX);
	put_tx(2, BUFS + 0x2000, 60, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
	wr(E1000_TDT, 3);
	cr_assert_eq(rd(E1000_TDH), 2, "a read-only ring is not used");
	cr_assert_eq(txd(2)->status & E1000_TXD_STAT_DD, 0, "nor written back");
	cr_assert_eq(counter("bad_dma"), 3);
}

Test(e1000, the_receive_thread_moves_frames_from_the_port)
{
	uint8_t f[80];
	frame(f, sizeof(f), mac, 8);
	rx_ring(8, E1000_RCTL_SECRC);
	cr_assert_eq(e1000_start_rx(nic), 0);
	for (int i = 0; i < 3; i++)
		loop_inject(loop, NULL, f, sizeof(f));
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (__atomic_load_n(&rxd(2)->status, __ATOMIC_ACQUIRE) & E1000_RXD_STAT_DD)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		cr_assert_lt(now.tv_sec - t0.tv_sec, 10, "frames never arrived");
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
	cr_assert_eq(memcmp(ram(BUFS + 0x2000), f, sizeof(f)), 0);
	e1000_stop_rx(nic);
	cr_assert_eq(counter("rx_frames"), 3);
}

Test(e1000_opt, mode_fv_dma_parses)
{
	struct net_opt o;
	char err[256];
	cr_assert_eq(net_opt_parse("switch=s0,mode=fv-dma", &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(o.mode, NET_MODE_FV_DMA);
	cr_assert_str_eq(net_mode_name(NET_MODE_FV_DMA), "fv-dma");
	cr_assert_eq(net_opt_parse("switch=s0,mode=fv-dma,queues=2", &o, err, sizeof(err)), -1);
	cr_assert_eq(net_opt_parse("switch=s0,mode=e1000", &o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "fv-dma"), "%s", err);
}
