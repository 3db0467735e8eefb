// SPDX-License-Identifier: MIT
/*
 * The full-virt DMA network driver: an e1000 (Intel 8254x, legacy
 * descriptors), programmed the way Linux's e1000 driver programs one
 * (docs/net.md, "mode=fv-dma"), polled, with no interrupt line:
 *   open:     CTRL.RST; STATUS must say link up; the MAC from EERD words
 *             0-2 (words 0..0x3F must sum to 0xBABA); the transmit and
 *             receive rings and their buffers in pages of our own (above
 *             1 MiB, as all pvkern memory is); TCTL.EN; RCTL.EN with
 *             broadcast, 2048-byte buffers, CRC stripped; IMC masks all.
 *   transmit: net_send() copies the frame into the next descriptor's
 *             buffer (EOP | IFCS | RS); net_flush() writes TDT once for
 *             the whole batch: the one exit a burst costs. The NIC sends
 *             the frames and writes DD back before that write returns;
 *             DD is reclaimed from memory, without an exit.
 *   receive:  the DD bit of the next descriptor is polled in memory (no
 *             exit); used buffers go back to the NIC by one RDT write per
 *             E1K_RX_BATCH frames. net_wait() spins on DD for
 *             poll_spin_ns, then naps E1K_IDLE_NAP_NS in PVKVM_HC_WAIT
 *             with a deadline (no interrupt line can wake it earlier).
 * Registers are reached through the I/O window (IOADDR +0, IODATA +4).
 * IOADDR is left on TDT, so a transmit doorbell is one exit, as an MMIO
 * write would be; any other register costs a second exit to select it.
 * Every function that touches a port is named e1000_* (the image check in
 * tests/e2e allows port I/O there only): the window is open in the TSS
 * bitmap only with mode=fv-dma.
 */
#include "net.h"

#include "console.h"
#include "hypercall/pvkvm_abi.h"
#include "klib.h"
#include "mm.h"
#include "net_keys.h"
#include "events.h"
#include "store.h"
#include "time.h"

/* The I/O window's two dwords. */
#define E1K_IOADDR 0u
#define E1K_IODATA 4u

/* Register offsets (8254x manual, legacy). */
#define E1K_CTRL 0x0000u
#define E1K_STATUS 0x0008u
#define E1K_EERD 0x0014u
#define E1K_ICR 0x00c0u
#define E1K_IMC 0x00d8u
#define E1K_RCTL 0x0100u
#define E1K_TCTL 0x0400u
#define E1K_RDBAL 0x2800u
#define E1K_RDBAH 0x2804u
#define E1K_RDLEN 0x2808u
#define E1K_RDH 0x2810u
#define E1K_RDT 0x2818u
#define E1K_TDBAL 0x3800u
#define E1K_TDBAH 0x3804u
#define E1K_TDLEN 0x3808u
#define E1K_TDH 0x3810u
#define E1K_TDT 0x3818u

#define E1K_CTRL_SLU (1u << 6)
#define E1K_CTRL_RST (1u << 26)
#define E1K_STATUS_LU (1u << 1)
#define E1K_EERD_START (1u << 0)
#define E1K_EERD_DONE (1u << 4)
#define E1K_RCTL_EN (1u << 1)
#define E1K_RCTL_BAM (1u << 15)
#define E1K_RCTL_SECRC (1u << 26)
#define E1K_TCTL_EN (1u << 1)

#define E1K_EEPROM_WORDS 64u
#define E1K_EEPROM_SUM 0xbabau

/* Legacy descriptors, as the NIC reads and writes them in our memory. */
struct e1k_tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t cso;
	uint8_t cmd;
	uint8_t status;
	uint8_t css;
	uint16_t special;
};
_Static_assert(sizeof(struct e1k_tx_desc) == 16, "legacy TX descriptor");
#define E1K_TXD_CMD_EOP (1u << 0)
#define E1K_TXD_CMD_IFCS (1u << 1)
#define E1K_TXD_CMD_RS (1u << 3)
#define E1K_TXD_STAT_DD (1u << 0)

struct e1k_rx_desc {
	uint64_t addr;
	uint16_t length;
	uint16_t csum;
	uint8_t status;
	uint8_t errors;
	uint16_t special;
};
_Static_assert(sizeof(struct e1k_rx_desc) == 16, "legacy RX descriptor");
#define E1K_RXD_STAT_DD (1u << 0)
#define E1K_RXD_STAT_EOP (1u << 1)

/* Ring sizes: lengths are multiples of 128 bytes (8 descriptors). */
#define E1K_TX_SLOTS 64u
#define E1K_RX_SLOTS 128u
#define E1K_BUF_SIZE 2048u /* RCTL.BSIZE 00; one frame per buffer */
/* Buffers handed back per RDT write: the NIC keeps at least
 * E1K_RX_SLOTS - 1 - E1K_RX_BATCH of them, so it never starves. */
#define E1K_RX_BATCH 16u
/* With no interrupt line, an idle wait naps this long on the timer (as an
 * idle OS halts until its next tick) after spinning poll_spin_ns: the
 * vCPU then leaves the core to the NIC's receive thread. */
#define E1K_IDLE_NAP_NS (100 * 1000u)

struct e1k {
	uint16_t base;
	uint32_t ioaddr;          /* what IOADDR holds now */
	struct e1k_tx_desc *tx;
	uint8_t *tx_bufs;
	uint32_t tx_tail;         /* next descriptor to fill (TDT when flushed) */
	uint32_t tx_clean;        /* oldest descriptor not yet seen done */
	uint32_t tx_queued;       /* filled since the last TDT write */
	struct e1k_rx_desc *rx;
	uint8_t *rx_bufs;
	uint32_t rx_next;         /* next descriptor the NIC fills */
	uint32_t rx_used;         /* taken since the last RDT write */
};

static struct e1k e1k_state;

static inline void e1000_outl(const struct e1k *n, uint16_t off, uint32_t v)
{
	uint16_t port = (uint16_t)(n->base + off);

	asm volatile("outl %0, %1" : : "a"(v), "d"(port));
}

static inline uint32_t e1000_inl(const struct e1k *n, uint16_t off)
{
	uint16_t port = (uint16_t)(n->base + off);
	uint32_t v;

	asm volatile("inl %1, %0" : "=a"(v) : "d"(port));
	return v;
}

/* Points IOADDR at reg unless it is there already. */
static void e1000_select(struct e1k *n, uint32_t reg)
{
	if (n->ioaddr == reg)
		return;
	e1000_outl(n, E1K_IOADDR, reg);
	n->ioaddr = reg;
}

static void e1000_wr(struct e1k *n, uint32_t reg, uint32_t v)
{
	e1000_select(n, reg);
	e1000_outl(n, E1K_IODATA, v);
}

static uint32_t e1000_rd(struct e1k *n, uint32_t reg)
{
	e1000_select(n, reg);
	return e1000_inl(n, E1K_IODATA);
}

/* ---- open --------------------------------------------------------------------- */

static int e1000_eeprom_word(struct e1k *n, uint32_t addr, uint16_t *out)
{
	uint32_t v;

	e1000_wr(n, E1K_EERD, addr << 8 | E1K_EERD_START);
	for (int tries = 0; tries < 1000; tries++) {
		v = e1000_rd(n, E1K_EERD);
		if (v & E1K_EERD_DONE) {
			*out = (uint16_t)(v >> 16);
			return 0;
		}
	}
	return -PVKVM_EIO;
}

/* The station address from EEPROM words 0-2, once the checksum holds. */
static int e1000_read_mac(struct e1k *n, uint8_t mac[NET_ETH_ALEN])
{
	uint16_t sum = 0, w;

	for (uint32_t i = 0; i < E1K_EEPROM_WORDS; i++) {
		if (e1000_eeprom_word(n, i, &w) < 0)
			return -PVKVM_EIO;
		sum = (uint16_t)(sum + w);
		if (i < 3) {
			mac[2 * i] = (uint8_t)w;
			mac[2 * i + 1] = (uint8_t)(w >> 8);
		}
	}
	return sum == E1K_EEPROM_SUM ? 0 : -PVKVM_EIO;
}

static int e1k_alloc_rings(struct e1k *n)
{
	n->tx = page_alloc(1);
	n->rx = page_alloc(1);
	n->tx_bufs = page_alloc(E1K_TX_SLOTS * E1K_BUF_SIZE / PAGE_SIZE);
	n->rx_bufs = page_alloc(E1K_RX_SLOTS * E1K_BUF_SIZE / PAGE_SIZE);
	if (!n->tx || !n->rx || !n->tx_bufs || !n->rx_bufs)
		return -PVKVM_ENOMEM;
	for (uint32_t i = 0; i < E1K_TX_SLOTS; i++)
		n->tx[i].addr = (uint64_t)(uintptr_t)(n->tx_bufs + i * E1K_BUF_SIZE);
	for (uint32_t i = 0; i < E1K_RX_SLOTS; i++)
		n->rx[i].addr = (uint64_t)(uintptr_t)(n->rx_bufs + i * E1K_BUF_SIZE);
	return 0;
}

/* The rings to the NIC (pointers are gpas: RAM is identity-mapped). */
static void e1000_init_rings(struct e1k *n)
{
	uint64_t tx = (uint64_t)(uintptr_t)n->tx, rx = (uint64_t)(uintptr_t)n->rx;

	e1000_wr(n, E1K_IMC, 0xffffffffu); /* no interrupt line: we poll */
	(void)e1000_rd(n, E1K_ICR);
	e1000_wr(n, E1K_TDBAL, (uint32_t)tx);
	e1000_wr(n, E1K_TDBAH, (uint32_t)(tx >> 32));
	e1000_wr(n, E1K_TDLEN, E1K_TX_SLOTS * sizeof(struct e1k_tx_desc));
	e1000_wr(n, E1K_TDH, 0);
	e1000_wr(n, E1K_TDT, 0);
	e1000_wr(n, E1K_TCTL, E1K_TCTL_EN);
	e1000_wr(n, E1K_RDBAL, (uint32_t)rx);
	e1000_wr(n, E1K_RDBAH, (uint32_t)(rx >> 32));
	e1000_wr(n, E1K_RDLEN, E1K_RX_SLOTS * sizeof(struct e1k_rx_desc));
	e1000_wr(n, E1K_RDH, 0);
	/* All buffers but one: RDH == RDT would mean the NIC owns none. */
	e1000_wr(n, E1K_RDT, E1K_RX_SLOTS - 1);
	e1000_wr(n, E1K_RCTL, E1K_RCTL_EN | E1K_RCTL_BAM | E1K_RCTL_SECRC);
	/* Park IOADDR on TDT: a transmit doorbell is then one exit. */
	e1000_select(n, E1K_TDT);
	n->tx_tail = n->tx_clean = n->tx_queued = 0;
	n->rx_next = n->rx_used = 0;
}

static int e1000_reset(struct e1k *n)
{
	/* IOADDR is unknown after the VMM's reset: select it for real. */
	n->ioaddr = ~0u;
	e1000_wr(n, E1K_CTRL, E1K_CTRL_RST);
	e1000_wr(n, E1K_CTRL, E1K_CTRL_SLU);
	if (!(e1000_rd(n, E1K_STATUS) & E1K_STATUS_LU))
		return -PVKVM_EIO;
	return 0;
}

static int e1000_open(struct net_dev *d, unsigned int index)
{
	struct e1k *n = &e1k_state;
	char path[64], val[24];
	int r;

	snprintf(path, sizeof(path), NET_KEY_E1000_IO_BASE, index);
	if (store_read(path, val, sizeof(val)) < 0)
		return -PVKVM_ENOENT; /* window closed: never touch it */
	if (!parse_hex_u16(val, &n->base) || !n->base)
		return -PVKVM_EINVAL;
	r = e1k_alloc_rings(n);
	if (r < 0)
		return r;
	d->priv = n;
	r = e1000_reset(n);
	if (r < 0)
		return r;
	r = e1000_read_mac(n, d->info.mac);
	if (r < 0)
		return r;
	e1000_init_rings(n);
	d->info.tx_slots = E1K_TX_SLOTS - 1;
	return 0;
}

/* ---- transmit ------------------------------------------------------------------- */

/* Frees the descriptors the NIC wrote DD back into (memory only). */
static void e1k_tx_reclaim(struct e1k *n)
{
	while (n->tx_clean != n->tx_tail) {
		struct e1k_tx_desc *t = &n->tx[n->tx_clean];

		if (!(__atomic_load_n(&t->status, __ATOMIC_ACQUIRE) &
		      E1K_TXD_STAT_DD))
			break;
		n->tx_clean = (n->tx_clean + 1) % E1K_TX_SLOTS;
	}
}

static int e1k_send(struct net_dev *d, const void *frame, size_t len)
{
	struct e1k *n = d->priv;
	uint32_t next = (n->tx_tail + 1) % E1K_TX_SLOTS;
	size_t send_len = len < NET_ETH_ZLEN ? NET_ETH_ZLEN : len;
	struct e1k_tx_desc *t;
	uint8_t *buf;

	if (next == n->tx_clean)
		e1k_tx_reclaim(n);
	if (next == n->tx_clean)
		return -PVKVM_EAGAIN; /* full: the caller flushes */
	t = &n->tx[n->tx_tail];
	buf = n->tx_bufs + n->tx_tail * E1K_BUF_SIZE;
	memcpy(buf, frame, len);
	/* TCTL.PSP's padding, done here: the NIC sends what it is given. */
	memset(buf + len, 0, send_len - len);
	t->length = (uint16_t)send_len;
	t->cso = 0;
	t->css = 0;
	t->special = 0;
	t->status = 0;
	t->cmd = E1K_TXD_CMD_EOP | E1K_TXD_CMD_IFCS | E1K_TXD_CMD_RS;
	n->tx_tail = next;
	n->tx_queued++;
	return 0;
}

/* One doorbell for everything queued since the last. */
static void e1000_flush(struct net_dev *d)
{
	struct e1k *n = d->priv;

	if (!n->tx_queued)
		return;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	e1000_wr(n, E1K_TDT, n->tx_tail);
	n->tx_queued = 0;
	/* Not counted in d->counters.kicks: those are ioeventfd kicks that
	 * `pvkvm bench net` adds to the VMM's exits; this doorbell is a port
	 * write the VMM already counts as an exit. */
}

/* ---- receive --------------------------------------------------------------------- */

/* Hands the used buffers back: RDT stops one short of the next
 * descriptor we read, so RDH == RDT never means "all ours". */
static void e1000_rx_refill(struct e1k *n)
{
	e1000_wr(n, E1K_RDT, (n->rx_next + E1K_RX_SLOTS - 1) % E1K_RX_SLOTS);
	e1000_select(n, E1K_TDT);
	n->rx_used = 0;
}

static int e1000_recv(struct net_dev *d, void *buf, size_t cap)
{
	struct e1k *n = d->priv;
	struct e1k_rx_desc *r = &n->rx[n->rx_next];
	uint8_t status = __atomic_load_n(&r->status, __ATOMIC_ACQUIRE);
	int len;

	d->rx_flags = 0;
	if (!(status & E1K_RXD_STAT_DD))
		return 0;
	len = r->length;
	if (!(status & E1K_RXD_STAT_EOP) || r->errors ||
	    len < (int)NET_MIN_FRAME || len > (int)NET_MAX_FRAME) {
		/* One frame per buffer, so this is a refused buffer or a
		 * frame we could not take: drop the descriptor. */
		len = -PVKVM_EIO;
	} else if ((size_t)len <= cap) {
		memcpy(buf, n->rx_bufs + n->rx_next * E1K_BUF_SIZE, (size_t)len);
	}
	r->status = 0;
	n->rx_next = (n->rx_next + 1) % E1K_RX_SLOTS;
	if (++n->rx_used >= E1K_RX_BATCH)
		e1000_rx_refill(n);
	return len;
}

static bool e1k_rx_ready(const struct e1k *n)
{
	return __atomic_load_n(&n->rx[n->rx_next].status, __ATOMIC_ACQUIRE) &
	       E1K_RXD_STAT_DD;
}

/* Until a frame is in or (a full tx ring) room came back: spinning on DD
 * first, then one nap; the caller looks again either way. */
static int e1k_wait(struct net_dev *d, uint64_t deadline_ns)
{
	struct e1k *n = d->priv;
	bool tx_full = (n->tx_tail + 1) % E1K_TX_SLOTS == n->tx_clean;
	uint64_t now = now_ns(), until = now + d->poll_spin_ns, nap;

	if (tx_full) {
		e1k_tx_reclaim(n); /* flushed frames are done: no wait needed */
		if ((n->tx_tail + 1) % E1K_TX_SLOTS != n->tx_clean)
			return 0;
	}
	while (now < until) {
		if (e1k_rx_ready(n))
			return 0;
		cpu_relax();
		now = now_ns();
	}
	if (deadline_ns && now >= deadline_ns)
		return -PVKVM_ETIMEDOUT;
	nap = now + E1K_IDLE_NAP_NS;
	if (deadline_ns && deadline_ns < nap)
		nap = deadline_ns;
	d->counters.sleeps++;
	evt_sleep_until(nap);
	return 0;
}

const struct net_driver net_e1000_driver = {
	.name = "fv-dma",
	.open = e1000_open,
	.send = e1k_send,
	.flush = e1000_flush,
	.recv = e1000_recv,
	.wait = e1k_wait,
};
