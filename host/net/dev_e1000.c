// SPDX-License-Identifier: MIT
/*
 * The e1000-style NIC: register file, the transmit ring (processed on the
 * vCPU thread that writes TDT) and the receive ring (filled by the I/O
 * thread). One lock covers the registers and both rings. See dev_e1000.h.
 */
#include "host/net/dev_e1000.h"

#include <endian.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "host/core/stats.h"
#include "host/mem/gmem_dma.h"
#include "host/mem/guest_mem.h"
#include "host/net/net_port.h"
#include "host/net/nic_rx.h"
#include "hypercall/pvkvm_abi.h"

enum e1000_counter {
	E1K_C_ACCESSES, /* I/O-window accesses: one trap each */
	E1K_C_TX_DOORBELLS,
	E1K_C_TX_FRAMES,
	E1K_C_TX_BYTES,
	E1K_C_TX_DROPPED, /* refused buffers, oversized or runt frames */
	E1K_C_RX_FRAMES,
	E1K_C_RX_BYTES,
	E1K_C_RX_NO_DESC, /* ring full (RDH == RDT) or disabled: dropped */
	E1K_C_RX_FILTERED,
	E1K_C_BAD_DMA,    /* rings or buffers refused */
	E1K_C_COUNT
};

static const char *const counter_names[E1K_C_COUNT] = {
	[E1K_C_ACCESSES] = "register_accesses",
	[E1K_C_TX_DOORBELLS] = "tx_doorbells",
	[E1K_C_TX_FRAMES] = "tx_frames",
	[E1K_C_TX_BYTES] = "tx_bytes",
	[E1K_C_TX_DROPPED] = "tx_dropped",
	[E1K_C_RX_FRAMES] = "rx_frames",
	[E1K_C_RX_BYTES] = "rx_bytes",
	[E1K_C_RX_NO_DESC] = "rx_no_descriptor",
	[E1K_C_RX_FILTERED] = "rx_filtered",
	[E1K_C_BAD_DMA] = "bad_dma",
};

#define DESC 16u
#define TX_FRAME_MAX 16384u /* legacy TX: no TSO, one frame <= 16 KiB */

struct ring {
	uint32_t bal, bah, len, head, tail;
};

struct e1000 {
	pthread_mutex_t lock;
	struct net_port *port;
	const struct guest_mem *mem;
	uint8_t mac[6];
	uint16_t eeprom[E1000_EEPROM_WORDS];

	uint32_t ioaddr;
	uint32_t ctrl, icr, ims, rctl, tctl, eerd;
	uint32_t ral, rah, mta[128];
	struct ring rx, tx;
	uint32_t gprc, gptc, tpr, tpt;

	struct net_pkt *tx_pkt; /* the frame being gathered, across doorbells */
	bool tx_bad;            /* a refused buffer: drop it at EOP */
	uint8_t rx_frame[TX_FRAME_MAX + 4];

	struct nic_rx receiver; /* the receive thread */

	struct stat_counter counters[E1K_C_COUNT];
	struct stats_group group;
};

static void count(struct e1000 *e, enum e1000_counter c, uint64_t n)
{
	stat_add(&e->counters[c].value, n);
}

/* ---- guest memory ------------------------------------------------------------ */

static uint64_t ring_base(const struct ring *r)
{
	return (uint64_t)r->bah << 32 | r->bal;
}

static uint32_t ring_slots(const struct ring *r)
{
	return r->len / DESC;
}

/* The ring's descriptors as a host pointer, or NULL when the ring is
 * empty, misplaced or its indices are outside it (then it is not used). */
static uint8_t *ring_ptr(struct e1000 *e, const struct ring *r)
{
	uint64_t base = ring_base(r);
	uint32_t n = ring_slots(r);
	if (n == 0 || r->head >= n || r->tail >= n)
		return NULL;
	/* The NIC reads descriptors and writes their status back: the guest
	 * must be able to do both itself. */
	uint8_t *p = gmem_dma_ptr(e->mem, base, (uint64_t)n * DESC, GMEM_RW);
	if (!p)
		count(e, E1K_C_BAD_DMA, 1);
	return p;
}

/* A buffer the NIC may read (GMEM_READ: transmit) or write (GMEM_WRITE:
 * receive), or NULL (host/mem/gmem_dma.h says what it may reach). */
static uint8_t *buffer_ptr(struct e1000 *e, uint64_t gpa, uint64_t len,
			   unsigned int acc)
{
	uint8_t *p = gmem_dma_ptr(e->mem, gpa, len, acc);
	if (!p)
		count(e, E1K_C_BAD_DMA, 1);
	return p;
}

/* ---- transmit ---------------------------------------------------------------- */

static void tx_frame_done(struct e1000 *e)
{
	struct net_pkt *pkt = e->tx_pkt;
	if (e->tx_bad || pkt->len < 14) {
		count(e, E1K_C_TX_DROPPED, 1);
	} else {
		struct net_pkt *const one[1] = { pkt };
		memset(&pkt->vh, 0, sizeof(pkt->vh));
		if (!e->port || net_port_send(e->port, one, 1) == 1) {
			count(e, E1K_C_TX_FRAMES, 1);
			count(e, E1K_C_TX_BYTES, pkt->len);
			e->gptc++;
			e->tpt++;
		} else {
			count(e, E1K_C_TX_DROPPED, 1);
		}
	}
	pkt->len = 0;
	e->tx_bad = false;
}

/* One descriptor: gather its buffer into the frame. */
static void tx_one(struct e1000 *e, struct e1000_tx_desc *d)
{
	uint16_t len = le16toh(d->length);
	if (d->cmd & E1000_TXD_CMD_DEXT) {
		e->tx_bad = true; /* context/data descriptors are not offered */
	} else if (len > 0 && !e->tx_bad) {
		const uint8_t *src = buffer_ptr(e, le64toh(d->addr), len, GMEM_READ);
		if (!src || len > e->tx_pkt->cap - e->tx_pkt->len) {
			e->tx_bad = true;
		} else {
			memcpy(e->tx_pkt->data + e->tx_pkt->len, src, len);
			e->tx_pkt->len += len;
		}
	}
	if (d->cmd & E1000_TXD_CMD_EOP)
		tx_frame_done(e);
	if (d->cmd & E1000_TXD_CMD_RS) {
		__atomic_store_n(&d->status, (uint8_t)(d->status | E1000_TXD_STAT_DD),
				 __ATOMIC_RELEASE);
		e->icr |= E1000_ICR_TXDW;
	}
}

/* TDT was written: everything from TDH up to it goes out now. */
static void tx_process(struct e1000 *e)
{
	count(e, E1K_C_TX_DOORBELLS, 1);
	if (!(e->tctl & E1000_TCTL_EN) || e->tx.head == e->tx.tail)
		return;
	uint8_t *ring = ring_ptr(e, &e->tx);
	if (!ring)
		return;
	uint32_t n = ring_slots(&e->tx);
	while (e->tx.head != e->tx.tail) {
		tx_one(e, (struct e1000_tx_desc *)(ring + (size_t)e->tx.head * DESC));
		e->tx.head = (e->tx.head + 1) % n;
	}
	e->icr |= E1000_ICR_TXQE;
}

/* ---- receive ----------------------------------------------------------------- */

static uint32_t rx_buffer_size(const struct e1000 *e)
{
	static const uint32_t sizes[2][4] = { { 2048, 1024, 512, 256 },
					      { 2048, 16384, 8192, 4096 } };
	return sizes[!!(e->rctl & E1000_RCTL_BSEX)][(e->rctl >> E1000_RCTL_BSIZE_SHIFT) & 3];
}

/* The MTA hash of RCTL.MO = 00: destination bits 47:36. */
static bool mta_hit(const struct e1000 *e, const uint8_t *dst)
{
	uint32_t h = ((uint32_t)dst[4] >> 4 | (uint32_t)dst[5] << 4) & 0xfff;
	return e->mta[h >> 5] & (1u << (h & 31));
}

static bool rx_accepted(const struct e1000 *e, const uint8_t *dst)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	if (!memcmp(dst, bcast, 6))
		return e->rctl & (E1000_RCTL_BAM | E1000_RCTL_MPE | E1000_RCTL_UPE);
	if (dst[0] & 1)
		return (e->rctl & (E1000_RCTL_MPE | E1000_RCTL_UPE)) || mta_hit(e, dst);
	if (e->rctl & E1000_RCTL_UPE)
		return true;
	uint8_t ra[6] = { (uint8_t)e->ral, (uint8_t)(e->ral >> 8), (uint8_t)(e->ral >> 16),
			  (uint8_t)(e->ral >> 24), (uint8_t)e->rah, (uint8_t)(e->rah >> 8) };
	return (e->rah & E1000_RAH_AV) && !memcmp(dst, ra, 6);
}

/* The Ethernet FCS (CRC-32, reflected), appended unless SECRC strips it. */
static uint32_t ether_fcs(const uint8_t *p, uint32_t len)
{
	uint32_t crc = 0xffffffffu;
	for (uint32_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static uint32_t rx_free_slots(const struct ring *r)
{
	uint32_t n = ring_slots(r);
	return (r->tail + n - r->head) % n;
}

/* Writes one descriptor's buffer and status; DD last, so a driver polling
 * the descriptor sees the data once it sees DD. */
static void rx_fill(struct e1000 *e, struct e1000_rx_desc *d, const uint8_t *data,
		    uint32_t len, bool eop, bool *bad)
{
	uint8_t *dst = *bad ? NULL : buffer_ptr(e, le64toh(d->addr), len, GMEM_WRITE);
	uint8_t status = E1000_RXD_STAT_DD | E1000_RXD_STAT_IXSM;
	if (dst)
		memcpy(dst, data, len);
	else
		*bad = true;
	d->length = htole16((uint16_t)(dst ? len : 0));
	d->csum = 0;
	d->errors = *bad ? E1000_RXD_ERR_RXE : 0;
	if (eop || *bad)
		status |= E1000_RXD_STAT_EOP;
	__atomic_store_n(&d->status, status, __ATOMIC_RELEASE);
}

static bool receive_locked(struct e1000 *e, const uint8_t *frame, uint32_t len)
{
	uint32_t total = len + ((e->rctl & E1000_RCTL_SECRC) ? 0 : 4);
	uint32_t bsize = rx_buffer_size(e);
	uint8_t *ring = (e->rctl & E1000_RCTL_EN) ? ring_ptr(e, &e->rx) : NULL;
	if (len < 14 || len > TX_FRAME_MAX ||
	    (!(e->rctl & E1000_RCTL_LPE) && total > 1522)) {
		count(e, E1K_C_RX_FILTERED, 1);
		return false;
	}
	if (!rx_accepted(e, frame)) {
		count(e, E1K_C_RX_FILTERED, 1);
		return false;
	}
	if (!ring || rx_free_slots(&e->rx) < (total + bsize - 1) / bsize) {
		e->icr |= E1000_ICR_RXO;
		count(e, E1K_C_RX_NO_DESC, 1);
		return false;
	}
	memcpy(e->rx_frame, frame, len);
	if (total > len) {
		uint32_t fcs = htole32(ether_fcs(frame, len));
		memcpy(e->rx_frame + len, &fcs, 4);
	}
	uint32_t n = ring_slots(&e->rx);
	bool bad = false;
	for (uint32_t off = 0; off < total && !bad; off += bsize) {
		uint32_t chunk = total - off < bsize ? total - off : bsize;
		rx_fill(e, (struct e1000_rx_desc *)(ring + (size_t)e->rx.head * DESC),
			e->rx_frame + off, chunk, off + chunk == total, &bad);
		e->rx.head = (e->rx.head + 1) % n;
	}
	e->icr |= E1000_ICR_RXT0;
	if (rx_free_slots(&e->rx) <= n / 2) /* RCTL.RDMTS = 00: half */
		e->icr |= E1000_ICR_RXDMT0;
	if (bad)
		return false;
	count(e, E1K_C_RX_FRAMES, 1);
	count(e, E1K_C_RX_BYTES, len);
	e->gprc++;
	e->tpr++;
	return true;
}

bool e1000_receive(struct e1000 *e, const uint8_t *frame, uint32_t len)
{
	pthread_mutex_lock(&e->lock);
	bool ok = receive_locked(e, frame, len);
	pthread_mutex_unlock(&e->lock);
	return ok;
}

/* ---- registers --------------------------------------------------------------- */

static void load_eeprom(struct e1000 *e)
{
	memset(e->eeprom, 0, sizeof(e->eeprom));
	for (unsigned int i = 0; i < 3; i++)
		e->eeprom[i] = (uint16_t)(e->mac[2 * i] | e->mac[2 * i + 1] << 8);
	/* Words 0..0x3f sum to 0xBABA: the checksum drivers verify. */
	uint16_t sum = 0;
	for (unsigned int i = 0; i < E1000_EEPROM_WORDS - 1; i++)
		sum = (uint16_t)(sum + e->eeprom[i]);
	e->eeprom[E1000_EEPROM_WORDS - 1] = (uint16_t)(0xbaba - sum);
}

static void reset(struct e1000 *e)
{
	e->ctrl = E1000_CTRL_SLU;
	e->icr = e->ims = e->rctl = e->tctl = e->eerd = 0;
	memset(&e->rx, 0, sizeof(e->rx));
	memset(&e->tx, 0, sizeof(e->tx));
	memset(e->mta, 0, sizeof(e->mta));
	e->gprc = e->gptc = e->tpr = e->tpt = 0;
	/* As the EEPROM load after reset: RAL0/RAH0 hold the station address. */
	e->ral = (uint32_t)e->mac[0] | (uint32_t)e->mac[1] << 8 |
		 (uint32_t)e->mac[2] << 16 | (uint32_t)e->mac[3] << 24;
	e->rah = (uint32_t)e->mac[4] | (uint32_t)e->mac[5] << 8 | E1000_RAH_AV;
	e->tx_pkt->len = 0;
	e->tx_bad = false;
}

static uint32_t read_clear(uint32_t *r)
{
	uint32_t v = *r;
	*r = 0;
	return v;
}

static uint32_t reg_read_locked(struct e1000 *e, uint32_t off)
{
	switch (off) {
	case E1000_CTRL: return e->ctrl;
	case E1000_STATUS:
		return E1000_STATUS_FD | E1000_STATUS_LU | E1000_STATUS_SPEED_1000;
	case E1000_EERD: return e->eerd;
	case E1000_ICR: return read_clear(&e->icr); /* reading acknowledges */
	case E1000_IMS: return e->ims;
	case E1000_RCTL: return e->rctl;
	case E1000_TCTL: return e->tctl;
	case E1000_RDBAL: return e->rx.bal;
	case E1000_RDBAH: return e->rx.bah;
	case E1000_RDLEN: return e->rx.len;
	case E1000_RDH: return e->rx.head;
	case E1000_RDT: return e->rx.tail;
	case E1000_TDBAL: return e->tx.bal;
	case E1000_TDBAH: return e->tx.bah;
	case E1000_TDLEN: return e->tx.len;
	case E1000_TDH: return e->tx.head;
	case E1000_TDT: return e->tx.tail;
	case E1000_GPRC: return read_clear(&e->gprc);
	case E1000_GPTC: return read_clear(&e->gptc);
	case E1000_TPR: return read_clear(&e->tpr);
	case E1000_TPT: return read_clear(&e->tpt);
	case E1000_RAL0: return e->ral;
	case E1000_RAH0: return e->rah;
	default:
		if (off >= E1000_MTA && off < E1000_MTA + sizeof(e->mta))
			return e->mta[(off - E1000_MTA) / 4];
		return 0;
	}
}

static void eerd_write(struct e1000 *e, uint32_t v)
{
	if (!(v & E1000_EERD_START))
		return;
	uint32_t addr = (v >> E1000_EERD_ADDR_SHIFT) & 0xff;
	uint32_t data = addr < E1000_EEPROM_WORDS ? e->eeprom[addr] : 0xffff;
	e->eerd = (addr << E1000_EERD_ADDR_SHIFT) | E1000_EERD_DONE |
		  data << E1000_EERD_DATA_SHIFT;
}

/* Ring lengths are multiples of 128 bytes; heads and tails 16 bits. */
static void reg_write_locked(struct e1000 *e, uint32_t off, uint32_t v)
{
	switch (off) {
	case E1000_CTRL:
		if (v & E1000_CTRL_RST)
			reset(e); /* self-clearing */
		else
			e->ctrl = v;
		break;
	case E1000_EERD: eerd_write(e, v); break;
	case E1000_ICR: e->icr &= ~v; break; /* write 1 to clear, too */
	case E1000_ICS: e->icr |= v; break;
	case E1000_IMS: e->ims |= v; break;
	case E1000_IMC: e->ims &= ~v; break;
	case E1000_RCTL: e->rctl = v; break;
	case E1000_TCTL: e->tctl = v; break;
	case E1000_RDBAL: e->rx.bal = v & ~0xfu; break;
	case E1000_RDBAH: e->rx.bah = v; break;
	case E1000_RDLEN: e->rx.len = v & 0xfff80u; break;
	case E1000_RDH: e->rx.head = v & 0xffff; break;
	case E1000_RDT: e->rx.tail = v & 0xffff; break;
	case E1000_TDBAL: e->tx.bal = v & ~0xfu; break;
	case E1000_TDBAH: e->tx.bah = v; break;
	case E1000_TDLEN: e->tx.len = v & 0xfff80u; break;
	case E1000_TDH: e->tx.head = v & 0xffff; break;
	case E1000_TDT:
		e->tx.tail = v & 0xffff;
		tx_process(e);
		break;
	case E1000_RAL0: e->ral = v; break;
	case E1000_RAH0: e->rah = v; break;
	default:
		if (off >= E1000_MTA && off < E1000_MTA + sizeof(e->mta))
			e->mta[(off - E1000_MTA) / 4] = v;
		break;
	}
}

uint32_t e1000_reg_read(struct e1000 *e, uint32_t off)
{
	pthread_mutex_lock(&e->lock);
	uint32_t v = reg_read_locked(e, off & ~3u);
	pthread_mutex_unlock(&e->lock);
	return v;
}

void e1000_reg_write(struct e1000 *e, uint32_t off, uint32_t v)
{
	pthread_mutex_lock(&e->lock);
	reg_write_locked(e, off & ~3u, v);
	pthread_mutex_unlock(&e->lock);
}

/* The I/O window takes 32-bit accesses only (8254x SDM); others read as
 * ones and are dropped. */
void e1000_pio(void *ctx, uint16_t port, bool is_write, void *data,
	       uint32_t len, uint32_t count_)
{
	struct e1000 *e = ctx;
	uint32_t *p = data;
	uint32_t off = (uint32_t)port - E1000_IO_BASE;
	pthread_mutex_lock(&e->lock);
	count(e, E1K_C_ACCESSES, 1);
	for (uint32_t i = 0; i < count_; i++) {
		if (len != 4 || (off != E1000_IOADDR && off != E1000_IODATA)) {
			if (!is_write)
				memset((uint8_t *)data + (size_t)i * len, 0xff, len);
			continue;
		}
		uint32_t v;
		memcpy(&v, p + i, 4);
		if (off == E1000_IOADDR) {
			if (is_write)
				e->ioaddr = v & (E1000_REG_SPACE - 4);
			else
				v = e->ioaddr;
		} else if (is_write) {
			reg_write_locked(e, e->ioaddr, v);
		} else {
			v = reg_read_locked(e, e->ioaddr);
		}
		if (!is_write)
			memcpy(p + i, &v, 4);
	}
	pthread_mutex_unlock(&e->lock);
}

/* ---- the receive thread ---------------------------------------------------------- */

static bool rx_deliver(void *ctx, const uint8_t *frame, uint32_t len)
{
	return e1000_receive(ctx, frame, len);
}

int e1000_start_rx(struct e1000 *e)
{
	return nic_rx_start(&e->receiver);
}

void e1000_stop_rx(struct e1000 *e)
{
	nic_rx_stop(&e->receiver);
}

/* ---- life cycle ---------------------------------------------------------------- */

struct e1000 *e1000_new(const uint8_t mac[6], struct net_port *port,
			const struct guest_mem *mem)
{
	struct e1000 *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->tx_pkt = net_pkt_new(TX_FRAME_MAX);
	int rx = nic_rx_init(&e->receiver, port, TX_FRAME_MAX, rx_deliver, e,
			     &e->counters[E1K_C_RX_FILTERED].value);
	if (!e->tx_pkt || rx) {
		e1000_free(e);
		return NULL;
	}
	pthread_mutex_init(&e->lock, NULL);
	e->port = port;
	e->mem = mem;
	memcpy(e->mac, mac, 6);
	load_eeprom(e);
	reset(e);
	for (unsigned int i = 0; i < E1K_C_COUNT; i++)
		e->counters[i].name = counter_names[i];
	e->group = (struct stats_group){ .name = "e1000", .counters = e->counters,
					 .nr = E1K_C_COUNT };
	return e;
}

void e1000_free(struct e1000 *e)
{
	if (!e)
		return;
	nic_rx_destroy(&e->receiver);
	net_pkt_free(e->tx_pkt);
	free(e);
}

struct stats_group *e1000_stats(struct e1000 *e)
{
	return &e->group;
}
