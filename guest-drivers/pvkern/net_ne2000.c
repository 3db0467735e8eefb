// SPDX-License-Identifier: MIT
/*
 * The full-virt network driver: an NE2000 (DP8390 core) by polled port
 * I/O, driven the way Linux's ne.c and 8390.c drive one, so every register
 * access traps as it would for real hardware (docs/net.md, "mode=fv"):
 *   open:     reset through the reset port, wait for ISR.RST; read the
 *             station PROM by remote DMA in byte mode (each byte doubled,
 *             "WW" signature at 28..31); then the 8390 init sequence:
 *             word mode, receive ring PSTART..PSTOP, BNRY, CURR, PAR0-5,
 *             start, accept broadcast.
 *   transmit: remote DMA write of the frame to TPSR << 8 through the data
 *             port (one `rep outsw`), wait ISR.RDC, TBCR, CR.TXP; the
 *             next transmit first waits for ISR.PTX of this one.
 *   receive:  CURR (page 1) against BNRY + 1; the 4-byte ring header by
 *             remote DMA, then the frame (two reads when it wraps the
 *             ring end), then BNRY = next - 1; ISR.OVW recovers as
 *             8390.c's ei_rx_overrun does.
 * No interrupt is wired: ISR is polled. Every function that touches a
 * port is named ne2k_* (the image check in tests/e2e allows port I/O
 * there only): the ports are open in the TSS bitmap only with mode=fv.
 */
#include "net.h"

#include "hypercall/pvkvm_netif.h"
#include "console.h"
#include "klib.h"
#include "net_keys.h"
#include "store.h"
#include "time.h"

/* Page 0 registers (offsets from the I/O base). */
#define NE_CR 0x00
#define NE_PSTART 0x01
#define NE_PSTOP 0x02
#define NE_BNRY 0x03
#define NE_TPSR 0x04
#define NE_TSR 0x04
#define NE_TBCR0 0x05
#define NE_TBCR1 0x06
#define NE_ISR 0x07
#define NE_RSAR0 0x08
#define NE_RSAR1 0x09
#define NE_RBCR0 0x0a
#define NE_RBCR1 0x0b
#define NE_RCR 0x0c
#define NE_TCR 0x0d
#define NE_DCR 0x0e
#define NE_IMR 0x0f
/* Page 1. */
#define NE_PAR0 0x01
#define NE_CURR 0x07
#define NE_MAR0 0x08

#define CR_STP 0x01
#define CR_STA 0x02
#define CR_TXP 0x04
#define CR_RREAD 0x08
#define CR_RWRITE 0x10
#define CR_NODMA 0x20
#define CR_PAGE1 0x40

#define ISR_PRX 0x01
#define ISR_PTX 0x02
#define ISR_RXE 0x04
#define ISR_TXE 0x08
#define ISR_OVW 0x10
#define ISR_RDC 0x40
#define ISR_RST 0x80

#define DCR_WORD 0x49  /* word-wide, normal, FIFO threshold 8 bytes */
#define DCR_BYTE 0x48
#define RCR_AB 0x04    /* accept broadcast */
#define RCR_MON 0x20
#define TCR_LOOPBACK 0x02
#define TCR_NORMAL 0x00

/* Device memory: one 1536-byte transmit buffer (6 pages), the rest of
 * the 16 KiB the receive ring, as ne.c lays it out with one tx slot. */
#define NE_START_PG (PVKVM_NE2000_MEM_START >> 8)
#define NE_STOP_PG (PVKVM_NE2000_MEM_END >> 8)
#define NE_TX_PAGES 6
#define NE_RX_START_PG (NE_START_PG + NE_TX_PAGES)
#define NE_PROM_BYTES 32
#define NE_TIMEOUT_NS (1 * NS_PER_SEC)
#define NE_RING_HDR 4

struct ne2k {
	uint16_t base;
	uint8_t next_pkt;  /* the page where the next frame starts (BNRY + 1) */
	bool tx_busy;      /* a transmit was started and not yet seen done */
	bool rx_more;      /* the last look found a frame: CURR may be ahead */
	uint64_t overruns;
};

static struct ne2k ne2k_state;
/* Word transfers need an even count; frames are staged here, padded. */
static uint8_t ne2k_txbuf[NET_MAX_FRAME + 1] __attribute__((aligned(8)));
static uint8_t ne2k_rxbuf[NET_MAX_FRAME + 8] __attribute__((aligned(8)));

static inline void ne2k_outb(const struct ne2k *n, uint16_t reg, uint8_t v)
{
	uint16_t port = (uint16_t)(n->base + reg);

	asm volatile("outb %0, %1" : : "a"(v), "d"(port));
}

static inline uint8_t ne2k_inb(const struct ne2k *n, uint16_t reg)
{
	uint16_t port = (uint16_t)(n->base + reg);
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "d"(port));
	return v;
}

/* One trap per string: KVM hands the VMM the whole count it can. */
static inline void ne2k_insw(const struct ne2k *n, void *buf, size_t words)
{
	uint16_t port = (uint16_t)(n->base + PVKVM_NE2000_DATA_PORT);

	asm volatile("rep insw" : "+D"(buf), "+c"(words) : "d"(port) : "memory");
}

static inline void ne2k_outsw(const struct ne2k *n, const void *buf,
			      size_t words)
{
	uint16_t port = (uint16_t)(n->base + PVKVM_NE2000_DATA_PORT);

	asm volatile("rep outsw" : "+S"(buf), "+c"(words) : "d"(port) : "memory");
}

static inline void ne2k_insb(const struct ne2k *n, void *buf, size_t bytes)
{
	uint16_t port = (uint16_t)(n->base + PVKVM_NE2000_DATA_PORT);

	asm volatile("rep insb" : "+D"(buf), "+c"(bytes) : "d"(port) : "memory");
}

/* Polls ISR until one of bits is set: the ISR, or -PVKVM_ETIMEDOUT. */
static int ne2k_wait_isr(const struct ne2k *n, uint8_t bits)
{
	uint64_t deadline = 0;

	for (;;) {
		uint8_t isr = ne2k_inb(n, NE_ISR);

		if (isr & bits)
			return isr;
		if (!deadline)
			deadline = now_ns() + NE_TIMEOUT_NS;
		else if (now_ns() > deadline)
			return -PVKVM_ETIMEDOUT;
	}
}

/* Programs a remote DMA of count bytes at addr; cmd is CR_RREAD/RWRITE. */
static void ne2k_remote_dma(const struct ne2k *n, uint16_t addr,
			    uint16_t count, uint8_t cmd)
{
	ne2k_outb(n, NE_CR, CR_NODMA | CR_STA);
	ne2k_outb(n, NE_RBCR0, (uint8_t)count);
	ne2k_outb(n, NE_RBCR1, (uint8_t)(count >> 8));
	ne2k_outb(n, NE_RSAR0, (uint8_t)addr);
	ne2k_outb(n, NE_RSAR1, (uint8_t)(addr >> 8));
	ne2k_outb(n, NE_CR, cmd | CR_STA);
}

/* Reads count bytes (even) of device memory at addr, word mode. */
static void ne2k_block_input(const struct ne2k *n, uint16_t addr, void *buf,
			     uint16_t count)
{
	ne2k_remote_dma(n, addr, count, CR_RREAD);
	ne2k_insw(n, buf, count / 2u);
	ne2k_outb(n, NE_ISR, ISR_RDC);
}

/* ---- open --------------------------------------------------------------------- */

static int ne2k_reset(const struct ne2k *n)
{
	(void)ne2k_inb(n, PVKVM_NE2000_RESET_PORT);
	if (ne2k_wait_isr(n, ISR_RST) < 0)
		return -PVKVM_EIO;
	ne2k_outb(n, NE_ISR, 0xff);
	return 0;
}

/* The station PROM, as ne.c's probe reads it: byte mode, 32 bytes. */
static int ne2k_read_prom(const struct ne2k *n, uint8_t mac[NET_ETH_ALEN])
{
	uint8_t prom[NE_PROM_BYTES];

	ne2k_outb(n, NE_CR, CR_NODMA | CR_STP);
	ne2k_outb(n, NE_DCR, DCR_BYTE);
	ne2k_outb(n, NE_RBCR0, 0);
	ne2k_outb(n, NE_RBCR1, 0);
	ne2k_outb(n, NE_IMR, 0);
	ne2k_outb(n, NE_ISR, 0xff);
	ne2k_outb(n, NE_RCR, RCR_MON);
	ne2k_outb(n, NE_TCR, TCR_LOOPBACK);
	ne2k_remote_dma(n, 0, NE_PROM_BYTES, CR_RREAD);
	ne2k_insb(n, prom, NE_PROM_BYTES);
	ne2k_outb(n, NE_ISR, ISR_RDC);
	/* A word-mode card doubles every byte; 'W' 'W' marks an NE2000. */
	for (int i = 0; i < NE_PROM_BYTES; i += 2)
		if (prom[i] != prom[i + 1])
			return -PVKVM_EIO;
	if (prom[28] != 0x57 || prom[30] != 0x57)
		return -PVKVM_EIO;
	for (int i = 0; i < NET_ETH_ALEN; i++)
		mac[i] = prom[2 * i];
	return 0;
}

/* 8390.c's NS8390_init with startp: stopped, ring set up, then started. */
static void ne2k_init_8390(struct ne2k *n, const uint8_t mac[NET_ETH_ALEN])
{
	ne2k_outb(n, NE_CR, CR_NODMA | CR_STP);
	ne2k_outb(n, NE_DCR, DCR_WORD);
	ne2k_outb(n, NE_RBCR0, 0);
	ne2k_outb(n, NE_RBCR1, 0);
	ne2k_outb(n, NE_RCR, RCR_MON);
	ne2k_outb(n, NE_TCR, TCR_LOOPBACK);
	ne2k_outb(n, NE_TPSR, NE_START_PG);
	ne2k_outb(n, NE_PSTART, NE_RX_START_PG);
	ne2k_outb(n, NE_BNRY, NE_STOP_PG - 1);
	ne2k_outb(n, NE_PSTOP, NE_STOP_PG);
	ne2k_outb(n, NE_ISR, 0xff);
	ne2k_outb(n, NE_IMR, 0); /* no interrupt line: we poll */
	ne2k_outb(n, NE_CR, CR_PAGE1 | CR_NODMA | CR_STP);
	for (int i = 0; i < NET_ETH_ALEN; i++)
		ne2k_outb(n, (uint16_t)(NE_PAR0 + i), mac[i]);
	for (int i = 0; i < 8; i++)
		ne2k_outb(n, (uint16_t)(NE_MAR0 + i), 0);
	ne2k_outb(n, NE_CURR, NE_RX_START_PG);
	ne2k_outb(n, NE_CR, CR_NODMA | CR_STP);
	n->next_pkt = NE_RX_START_PG;
	n->tx_busy = false;
	n->rx_more = false;
	ne2k_outb(n, NE_ISR, 0xff);
	ne2k_outb(n, NE_CR, CR_NODMA | CR_STA);
	ne2k_outb(n, NE_TCR, TCR_NORMAL);
	ne2k_outb(n, NE_RCR, RCR_AB);
}

static int ne2k_open(struct net_dev *d, unsigned int index)
{
	struct ne2k *n = &ne2k_state;
	char path[64], val[24];
	int r;

	snprintf(path, sizeof(path), NET_KEY_NE2000_IO_BASE, index);
	if (store_read(path, val, sizeof(val)) < 0)
		return -PVKVM_ENOENT; /* ports closed: never touch them */
	if (!parse_hex_u16(val, &n->base) || !n->base)
		return -PVKVM_EINVAL;
	d->priv = n;
	r = ne2k_reset(n);
	if (r < 0)
		return r;
	r = ne2k_read_prom(n, d->info.mac);
	if (r < 0)
		return r;
	ne2k_init_8390(n, d->info.mac);
	d->info.tx_slots = 1;
	return 0;
}

/* ---- transmit ------------------------------------------------------------------- */

/* The previous transmit must be done before its buffer is overwritten. */
static int ne2k_tx_wait_done(struct ne2k *n)
{
	int isr;

	if (!n->tx_busy)
		return 0;
	isr = ne2k_wait_isr(n, ISR_PTX | ISR_TXE);
	if (isr < 0)
		return isr;
	ne2k_outb(n, NE_ISR, ISR_PTX | ISR_TXE);
	n->tx_busy = false;
	return (isr & ISR_TXE) ? -PVKVM_EIO : 0;
}

static int ne2k_send(struct net_dev *d, const void *frame, size_t len)
{
	struct ne2k *n = d->priv;
	size_t send_len = len < NET_ETH_ZLEN ? NET_ETH_ZLEN : len;
	size_t words = (send_len + 1) / 2;
	int r = ne2k_tx_wait_done(n);

	if (r < 0 && r != -PVKVM_EIO)
		return r;
	memcpy(ne2k_txbuf, frame, len);
	memset(ne2k_txbuf + len, 0, words * 2 - len);
	ne2k_outb(n, NE_ISR, ISR_RDC);
	ne2k_remote_dma(n, NE_START_PG << 8, (uint16_t)(words * 2), CR_RWRITE);
	ne2k_outsw(n, ne2k_txbuf, words);
	if (ne2k_wait_isr(n, ISR_RDC) < 0)
		return -PVKVM_EIO;
	ne2k_outb(n, NE_ISR, ISR_RDC);
	ne2k_outb(n, NE_TBCR0, (uint8_t)send_len);
	ne2k_outb(n, NE_TBCR1, (uint8_t)(send_len >> 8));
	ne2k_outb(n, NE_TPSR, NE_START_PG);
	ne2k_outb(n, NE_CR, CR_NODMA | CR_TXP | CR_STA);
	n->tx_busy = true;
	return 0;
}

/* ---- receive --------------------------------------------------------------------- */

static uint8_t ne2k_read_curr(const struct ne2k *n)
{
	uint8_t curr;

	ne2k_outb(n, NE_CR, CR_PAGE1 | CR_NODMA | CR_STA);
	curr = ne2k_inb(n, NE_CURR);
	ne2k_outb(n, NE_CR, CR_NODMA | CR_STA);
	return curr;
}

/* Reads count bytes of the ring at addr, in two parts if it wraps. */
static void ne2k_ring_input(const struct ne2k *n, uint16_t addr, uint8_t *buf,
			    uint16_t count)
{
	uint16_t ring_end = NE_STOP_PG << 8;

	if ((uint32_t)addr + count > ring_end) {
		uint16_t first = (uint16_t)(ring_end - addr);

		ne2k_block_input(n, addr, buf, first);
		buf += first;
		count = (uint16_t)(count - first);
		addr = NE_RX_START_PG << 8;
	}
	ne2k_block_input(n, addr, buf, (uint16_t)ALIGN_UP(count, 2));
}

static void ne2k_set_boundary(struct ne2k *n, uint8_t next)
{
	n->next_pkt = next;
	ne2k_outb(n, NE_BNRY, next == NE_RX_START_PG ? NE_STOP_PG - 1
						       : (uint8_t)(next - 1));
}

/* 8390.c's ei_rx_overrun: stop, let the chip settle, drain, restart. */
static void ne2k_overrun(struct net_dev *d, struct ne2k *n)
{
	n->overruns++;
	d->counters.rx_dropped++;
	ne2k_outb(n, NE_CR, CR_NODMA | CR_STP);
	ne2k_outb(n, NE_RBCR0, 0);
	ne2k_outb(n, NE_RBCR1, 0);
	ne2k_outb(n, NE_TCR, TCR_LOOPBACK);
	ne2k_outb(n, NE_CR, CR_NODMA | CR_STA);
	/* The frames already in the ring are still good: the caller drains
	 * them; only then is OVW acknowledged and normal mode restored. */
}

/* One frame from the ring: its length, 0 when the ring is empty, or an
 * error after resynchronising on a corrupt header. */
static int ne2k_ring_take(struct ne2k *n, void *buf,
			  size_t cap)
{
	uint8_t hdr[NE_RING_HDR];
	uint8_t page = n->next_pkt;
	uint16_t count, len;

	if (page >= NE_STOP_PG || page < NE_RX_START_PG)
		page = NE_RX_START_PG;
	if (page == ne2k_read_curr(n))
		return 0;
	ne2k_block_input(n, (uint16_t)(page << 8), hdr, NE_RING_HDR);
	count = (uint16_t)(hdr[2] | hdr[3] << 8);
	len = (uint16_t)(count - NE_RING_HDR);
	if (count < NE_RING_HDR + NET_MIN_FRAME || len > NET_MAX_FRAME ||
	    hdr[1] < NE_RX_START_PG || hdr[1] >= NE_STOP_PG) {
		/* 8390.c gives up on the ring: skip to where the chip is. */
		ne2k_set_boundary(n, ne2k_read_curr(n));
		return -PVKVM_EIO;
	}
	ne2k_ring_input(n, (uint16_t)((page << 8) + NE_RING_HDR), ne2k_rxbuf, len);
	ne2k_set_boundary(n, hdr[1]);
	if (len <= cap)
		memcpy(buf, ne2k_rxbuf, len);
	return len;
}

static int ne2k_recv(struct net_dev *d, void *buf, size_t cap)
{
	struct ne2k *n = d->priv;
	uint8_t isr = ne2k_inb(n, NE_ISR);
	int r;

	d->rx_flags = 0;
	/* An empty poll costs one exit: CURR is read only when ISR says a
	 * frame arrived since the last acknowledgement, or the last look
	 * found one (the ring may hold more). */
	if (!(isr & (ISR_PRX | ISR_RXE | ISR_OVW)) && !n->rx_more)
		return 0;
	if (isr & ISR_OVW)
		ne2k_overrun(d, n);
	if (isr & (ISR_PRX | ISR_RXE))
		ne2k_outb(n, NE_ISR, isr & (ISR_PRX | ISR_RXE));
	r = ne2k_ring_take(n, buf, cap);
	n->rx_more = r != 0;
	if (r == 0 && (isr & ISR_OVW)) {
		ne2k_outb(n, NE_ISR, ISR_OVW);
		ne2k_outb(n, NE_TCR, TCR_NORMAL);
	}
	return r;
}

const struct net_driver net_ne2000_driver = {
	.name = "fv",
	.open = ne2k_open,
	.send = ne2k_send,
	.recv = ne2k_recv,
};
