// SPDX-License-Identifier: MIT
/*
 * The NE2000 model. See dev_ne2000.h. The register file, the 32 KiB
 * address space (PROM below 0x20, 16 KiB of RAM at 0x4000) and the remote
 * DMA engine are one state under one lock, taken by the trapping vCPU
 * thread and by the receive thread.
 */
#include "host/net/dev_ne2000.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "host/core/stats.h"
#include "host/net/net_port.h"
#include "host/net/nic_rx.h"
#include "hypercall/pvkvm_netif.h"

enum ne_counter {
	NE_C_ACCESSES, /* register accesses: one trap each */
	NE_C_TX_FRAMES,
	NE_C_TX_BYTES,
	NE_C_RX_FRAMES,
	NE_C_RX_BYTES,
	NE_C_RX_DROPPED, /* ring full, or the NIC stopped */
	NE_C_RX_FILTERED, /* not for us by RCR and the address filters */
	NE_C_COUNT
};

static const char *const counter_names[NE_C_COUNT] = {
	[NE_C_ACCESSES] = "register_accesses",
	[NE_C_TX_FRAMES] = "tx_frames",
	[NE_C_TX_BYTES] = "tx_bytes",
	[NE_C_RX_FRAMES] = "rx_frames",
	[NE_C_RX_BYTES] = "rx_bytes",
	[NE_C_RX_DROPPED] = "rx_dropped",
	[NE_C_RX_FILTERED] = "rx_filtered",
};

#define RAM_START PVKVM_NE2000_MEM_START
#define RAM_END PVKVM_NE2000_MEM_END
#define PAGE 256u

struct ne2000 {
	pthread_mutex_t lock;
	uint16_t base;
	struct net_port *port;

	uint8_t cr, isr, imr, dcr, tcr, rcr;
	uint8_t pstart, pstop, bnry, curr, tpsr;
	uint16_t tbcr, rsar, rbcr;
	uint8_t tsr, rsr;
	uint8_t par[6], mar[8];
	uint8_t mem[NE_MEM_SIZE]; /* PROM at 0, RAM at RAM_START */

	struct nic_rx receiver; /* the receive thread */
	struct net_pkt *tx_pkt;

	struct stat_counter counters[NE_C_COUNT];
	struct stats_group group;
};

static void count(struct ne2000 *ne, enum ne_counter c, uint64_t n)
{
	stat_add(&ne->counters[c].value, n);
}

/* ---- reset and the PROM ------------------------------------------------------ */

static void reset(struct ne2000 *ne)
{
	/* After a reset the core is stopped with remote DMA aborted, and
	 * ISR.RST tells the driver the reset completed (ne.c polls it). */
	ne->cr = NE_CR_STP | NE_CR_RD_ABORT;
	ne->isr = NE_ISR_RST;
	ne->imr = 0;
	ne->rbcr = 0;
	ne->tsr = ne->rsr = 0;
}

static void fill_prom(struct ne2000 *ne, const uint8_t mac[6])
{
	/* Each byte doubled, as an NE2000 wired for 16-bit transfers reads it
	 * byte-wide; 'W' 'W' at 28..31 is the signature ne.c looks for. */
	memset(ne->mem, 0, NE_PROM_SIZE);
	for (unsigned int i = 0; i < 6; i++)
		ne->mem[2 * i] = ne->mem[2 * i + 1] = mac[i];
	for (unsigned int i = 28; i < 32; i++)
		ne->mem[i] = 0x57;
}

/* ---- the address space ------------------------------------------------------------ */

static bool writable(uint32_t a)
{
	return a >= RAM_START && a < RAM_END;
}

static bool readable(uint32_t a)
{
	return a < NE_PROM_SIZE || writable(a);
}

static uint8_t mem_read(const struct ne2000 *ne, uint32_t a)
{
	return readable(a) ? ne->mem[a] : 0xff;
}

static void mem_write(struct ne2000 *ne, uint32_t a, uint8_t v)
{
	if (writable(a))
		ne->mem[a] = v;
}

/* ---- remote DMA -------------------------------------------------------------------- */

static bool rdma_active(const struct ne2000 *ne)
{
	uint8_t rd = ne->cr & NE_CR_RD_MASK;
	return (rd == NE_CR_RD_READ || rd == NE_CR_RD_WRITE) && ne->rbcr > 0;
}

static void rdma_step(struct ne2000 *ne)
{
	ne->rsar++;
	/* A read that runs into PSTOP continues at PSTART, as the ring does. */
	if (ne->pstop && ne->rsar == (uint16_t)(ne->pstop * PAGE))
		ne->rsar = (uint16_t)(ne->pstart * PAGE);
	if (--ne->rbcr == 0) {
		ne->isr |= NE_ISR_RDC;
		ne->cr = (uint8_t)((ne->cr & ~NE_CR_RD_MASK) | NE_CR_RD_ABORT);
	}
}

/* Moves one byte through the data port. */
static void data_byte(struct ne2000 *ne, bool is_write, uint8_t *b)
{
	if (!rdma_active(ne)) {
		if (!is_write)
			*b = 0xff;
		return;
	}
	if ((ne->cr & NE_CR_RD_MASK) == NE_CR_RD_READ) {
		if (!is_write)
			*b = mem_read(ne, ne->rsar);
	} else if (is_write) {
		mem_write(ne, ne->rsar, *b);
	} else {
		*b = 0xff;
	}
	rdma_step(ne);
}

/* One access of len bytes to the data port. In word mode (DCR.WTS) the
 * driver moves 16 bits per access, low byte first; byte mode moves one. */
static void data_port(struct ne2000 *ne, bool is_write, uint8_t *p, uint32_t len)
{
	uint32_t width = (ne->dcr & NE_DCR_WTS) ? 2 : 1;
	if (!is_write)
		memset(p, 0xff, len);
	uint32_t n = len < width ? len : width;
	for (uint32_t i = 0; i < n; i++)
		data_byte(ne, is_write, &p[i]);
}

/* ---- transmit ------------------------------------------------------------------------ */

static void transmit(struct ne2000 *ne)
{
	uint32_t start = (uint32_t)ne->tpsr * PAGE, len = ne->tbcr;
	if (len > NET_FRAME_MAX_NOGSO)
		len = NET_FRAME_MAX_NOGSO; /* the chip sends what fits its FIFO logic */
	struct net_pkt *pkt = ne->tx_pkt;
	for (uint32_t i = 0; i < len; i++)
		pkt->data[i] = mem_read(ne, start + i);
	pkt->len = len;
	pkt->vh = (struct net_vhdr){ 0 };
	if (ne->port && len >= PVKVM_NETIF_ETH_HLEN) {
		struct net_pkt *one[1] = { pkt };
		if (net_port_send(ne->port, one, 1) == 1) {
			count(ne, NE_C_TX_FRAMES, 1);
			count(ne, NE_C_TX_BYTES, len);
		}
	}
	/* Done before the OUT returns: TXP clears, PTX in TSR and ISR. */
	ne->cr &= (uint8_t)~NE_CR_TXP;
	ne->tsr = NE_TSR_PTX;
	ne->isr |= NE_ISR_PTX;
}

/* ---- the command register -------------------------------------------------------------- */

static void write_cr(struct ne2000 *ne, uint8_t v)
{
	uint8_t rd = v & NE_CR_RD_MASK;
	if (!rd)
		rd = ne->cr & NE_CR_RD_MASK;
	uint8_t run = v & (NE_CR_STP | NE_CR_STA);
	if (!run)
		run = ne->cr & (NE_CR_STP | NE_CR_STA);
	if (run & NE_CR_STP)
		run = NE_CR_STP; /* STP wins over STA */
	ne->cr = (uint8_t)((v & 0xc0) | rd | run | (ne->cr & NE_CR_TXP));
	if (run == NE_CR_STA)
		ne->isr &= (uint8_t)~NE_ISR_RST;
	else
		ne->isr |= NE_ISR_RST;
	/* A remote DMA with nothing to move completes at once. */
	if ((rd == NE_CR_RD_READ || rd == NE_CR_RD_WRITE) && ne->rbcr == 0)
		ne->isr |= NE_ISR_RDC;
	if ((v & NE_CR_TXP) && run == NE_CR_STA)
		transmit(ne);
}

/* ---- register pages ---------------------------------------------------------------------- */

static uint8_t read_page0(struct ne2000 *ne, unsigned int r)
{
	switch (r) {
	case NE_P0_CLDA0_PSTART: return 0;
	case NE_P0_CLDA1_PSTOP: return 0;
	case NE_P0_BNRY: return ne->bnry;
	case NE_P0_TSR_TPSR: return ne->tsr;
	case NE_P0_NCR_TBCR0: return 0;
	case NE_P0_FIFO_TBCR1: return 0;
	case NE_P0_ISR: return ne->isr;
	case NE_P0_CRDA0_RSAR0: return (uint8_t)ne->rsar;
	case NE_P0_CRDA1_RSAR1: return (uint8_t)(ne->rsar >> 8);
	case NE_P0_RSR_RCR: return ne->rsr;
	default: return 0; /* 0x0a/0x0b reserved; tally counters stay 0 */
	}
}

static void write_page0(struct ne2000 *ne, unsigned int r, uint8_t v)
{
	switch (r) {
	case NE_P0_CLDA0_PSTART: ne->pstart = v; break;
	case NE_P0_CLDA1_PSTOP: ne->pstop = v; break;
	case NE_P0_BNRY: ne->bnry = v; break;
	case NE_P0_TSR_TPSR: ne->tpsr = v; break;
	case NE_P0_NCR_TBCR0: ne->tbcr = (uint16_t)((ne->tbcr & 0xff00) | v); break;
	case NE_P0_FIFO_TBCR1: ne->tbcr = (uint16_t)((ne->tbcr & 0xff) | v << 8); break;
	case NE_P0_ISR: ne->isr &= (uint8_t)~v; break; /* write 1 to clear */
	case NE_P0_CRDA0_RSAR0: ne->rsar = (uint16_t)((ne->rsar & 0xff00) | v); break;
	case NE_P0_CRDA1_RSAR1: ne->rsar = (uint16_t)((ne->rsar & 0xff) | v << 8); break;
	case NE_P0_RBCR0: ne->rbcr = (uint16_t)((ne->rbcr & 0xff00) | v); break;
	case NE_P0_RBCR1: ne->rbcr = (uint16_t)((ne->rbcr & 0xff) | v << 8); break;
	case NE_P0_RSR_RCR: ne->rcr = v; break;
	case NE_P0_CNTR0_TCR: ne->tcr = v; break;
	case NE_P0_CNTR1_DCR: ne->dcr = v; break;
	case NE_P0_CNTR2_IMR: ne->imr = v & 0x7f; break;
	default: break;
	}
}

static uint8_t *page1_reg(struct ne2000 *ne, unsigned int r)
{
	if (r >= NE_P1_PAR0 && r < NE_P1_PAR0 + 6)
		return &ne->par[r - NE_P1_PAR0];
	if (r == NE_P1_CURR)
		return &ne->curr;
	return &ne->mar[r - NE_P1_MAR0];
}

static uint8_t read_page2(struct ne2000 *ne, unsigned int r)
{
	switch (r) {
	case 0x01: return ne->pstart;
	case 0x02: return ne->pstop;
	case 0x04: return ne->tpsr;
	case 0x0c: return ne->rcr;
	case 0x0d: return ne->tcr;
	case 0x0e: return ne->dcr;
	case 0x0f: return ne->imr;
	default: return 0; /* RNPP, LNPP, ACU, ACL: not kept */
	}
}

static void reg_access(struct ne2000 *ne, unsigned int off, bool is_write, uint8_t *b)
{
	if (off == NE_CR) {
		if (is_write)
			write_cr(ne, *b);
		else
			*b = ne->cr;
		return;
	}
	switch (ne->cr >> NE_CR_PS_SHIFT) {
	case 0:
		if (is_write)
			write_page0(ne, off, *b);
		else
			*b = read_page0(ne, off);
		break;
	case 1:
		if (is_write)
			*page1_reg(ne, off) = *b;
		else
			*b = *page1_reg(ne, off);
		break;
	case 2:
		if (!is_write)
			*b = read_page2(ne, off);
		break; /* page 2 is for diagnostics: writes ignored */
	default:
		if (!is_write)
			*b = 0xff;
		break;
	}
}

void ne2000_pio(void *ctx, uint16_t port, bool is_write, void *data,
		uint32_t len, uint32_t n)
{
	struct ne2000 *ne = ctx;
	uint8_t *p = data;
	unsigned int off = (uint16_t)(port - ne->base);
	pthread_mutex_lock(&ne->lock);
	count(ne, NE_C_ACCESSES, 1);
	for (uint32_t i = 0; i < n; i++, p += len) {
		if (off >= NE_DATA && off < NE_DATA + 8) {
			data_port(ne, is_write, p, len);
		} else if (off >= NE_DATA + 8) {
			/* The reset port: any access resets the NIC. */
			if (!is_write)
				memset(p, 0, len);
			reset(ne);
		} else {
			if (!is_write)
				memset(p, 0, len);
			reg_access(ne, off, is_write, p); /* the low byte only */
		}
	}
	pthread_mutex_unlock(&ne->lock);
}

void ne2000_set_base(struct ne2000 *ne, uint16_t base)
{
	ne->base = base;
}

/* ---- receive ------------------------------------------------------------------------------- */

/* The Ethernet CRC the multicast hash uses (big-endian bit order, as
 * Linux's ether_crc): its top 6 bits index MAR0..7. */
static uint32_t ether_crc(const uint8_t *addr)
{
	uint32_t crc = 0xffffffffu;
	for (int i = 0; i < 6; i++) {
		uint8_t b = addr[i];
		for (int bit = 0; bit < 8; bit++, b >>= 1) {
			uint32_t top = crc >> 31;
			crc <<= 1;
			if (top ^ (b & 1))
				crc ^= 0x04c11db7u;
		}
	}
	return crc;
}

static bool accepted(const struct ne2000 *ne, const uint8_t *dst, uint8_t *rsr)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	*rsr = NE_RSR_PRX;
	if (ne->rcr & NE_RCR_MON)
		return false; /* monitor mode: counted, not stored */
	if (memcmp(dst, bcast, 6) == 0) {
		*rsr |= NE_RSR_PHY;
		return (ne->rcr & (NE_RCR_AB | NE_RCR_PRO)) != 0;
	}
	if (dst[0] & 1) {
		*rsr |= NE_RSR_PHY;
		if (ne->rcr & NE_RCR_PRO)
			return true;
		unsigned int h = ether_crc(dst) >> 26;
		return (ne->rcr & NE_RCR_AM) && (ne->mar[h >> 3] & (1u << (h & 7)));
	}
	return (ne->rcr & NE_RCR_PRO) || memcmp(dst, ne->par, 6) == 0;
}

/* Pages free between CURR and BNRY (the driver's read pointer). */
static unsigned int ring_room(const struct ne2000 *ne)
{
	unsigned int pages = (unsigned int)(ne->pstop - ne->pstart);
	if (ne->bnry > ne->curr)
		return (unsigned int)(ne->bnry - ne->curr);
	return pages - (unsigned int)(ne->curr - ne->bnry);
}

static bool ring_sane(const struct ne2000 *ne)
{
	return ne->pstart >= RAM_START / PAGE && ne->pstop <= RAM_END / PAGE &&
	       ne->pstart < ne->pstop && ne->curr >= ne->pstart && ne->curr < ne->pstop &&
	       ne->bnry >= ne->pstart && ne->bnry < ne->pstop;
}

static bool receive_locked(struct ne2000 *ne, const uint8_t *frame, uint32_t len)
{
	uint8_t rsr;
	if (!(ne->cr & NE_CR_STA) || (ne->cr & NE_CR_STP) || !ring_sane(ne) ||
	    len < PVKVM_NETIF_ETH_HLEN || len > NET_FRAME_MAX_NOGSO) {
		count(ne, NE_C_RX_DROPPED, 1);
		return false;
	}
	if (!accepted(ne, frame, &rsr)) {
		count(ne, NE_C_RX_FILTERED, 1);
		return false;
	}
	/* Header (4 bytes) + data, rounded up to pages, plus room for the FCS
	 * the chip would also store: never let CURR land on BNRY. */
	uint32_t total = len + 4;
	unsigned int need = (total + 4 + PAGE - 1) / PAGE;
	if (need >= ring_room(ne)) {
		ne->isr |= NE_ISR_OVW;
		count(ne, NE_C_RX_DROPPED, 1);
		return false;
	}
	unsigned int next = ne->curr + need;
	if (next >= ne->pstop)
		next -= (unsigned int)(ne->pstop - ne->pstart);
	uint32_t a = (uint32_t)ne->curr * PAGE;
	uint32_t wrap = (uint32_t)ne->pstop * PAGE, back = (uint32_t)ne->pstart * PAGE;
	uint8_t hdr[4] = { rsr, (uint8_t)next, (uint8_t)total, (uint8_t)(total >> 8) };
	for (uint32_t i = 0; i < total; i++) {
		ne->mem[a] = i < 4 ? hdr[i] : frame[i - 4];
		if (++a == wrap)
			a = back;
	}
	ne->curr = (uint8_t)next;
	ne->rsr = rsr;
	ne->isr |= NE_ISR_PRX;
	count(ne, NE_C_RX_FRAMES, 1);
	count(ne, NE_C_RX_BYTES, len);
	return true;
}

bool ne2000_receive(struct ne2000 *ne, const uint8_t *frame, uint32_t len)
{
	pthread_mutex_lock(&ne->lock);
	bool ok = receive_locked(ne, frame, len);
	pthread_mutex_unlock(&ne->lock);
	return ok;
}

static bool rx_deliver(void *ctx, const uint8_t *frame, uint32_t len)
{
	return ne2000_receive(ctx, frame, len);
}

int ne2000_start_rx(struct ne2000 *ne)
{
	return nic_rx_start(&ne->receiver);
}

void ne2000_stop_rx(struct ne2000 *ne)
{
	nic_rx_stop(&ne->receiver);
}

/* ---- life cycle ----------------------------------------------------------------------------- */

struct ne2000 *ne2000_new(const uint8_t mac[6], struct net_port *port)
{
	struct ne2000 *ne = calloc(1, sizeof(*ne));
	if (!ne)
		return NULL;
	int rx = nic_rx_init(&ne->receiver, port, NET_FRAME_MAX_NOGSO + 1, rx_deliver, ne,
			     &ne->counters[NE_C_RX_DROPPED].value);
	ne->tx_pkt = net_pkt_new(NET_FRAME_MAX_NOGSO + 1);
	if (rx || !ne->tx_pkt) {
		ne2000_free(ne);
		return NULL;
	}
	pthread_mutex_init(&ne->lock, NULL);
	ne->base = PVKVM_NE2000_IO_BASE;
	ne->port = port;
	memcpy(ne->par, mac, 6);
	fill_prom(ne, mac);
	reset(ne);
	for (unsigned int i = 0; i < NE_C_COUNT; i++)
		ne->counters[i].name = counter_names[i];
	ne->group = (struct stats_group){ .name = "ne2000", .counters = ne->counters,
					  .nr = NE_C_COUNT };
	return ne;
}

void ne2000_free(struct ne2000 *ne)
{
	if (!ne)
		return;
	nic_rx_destroy(&ne->receiver);
	net_pkt_free(ne->tx_pkt);
	free(ne);
}

struct stats_group *ne2000_stats(struct ne2000 *ne)
{
	return &ne->group;
}
