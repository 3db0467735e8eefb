// SPDX-License-Identifier: MIT
/*
 * The full-virt DMA disk driver: the ATA drive behind a PCI-IDE-style
 * bus-master controller (SFF-8038i), the way Linux's ata_bmdma code or
 * FreeBSD's ata-dma drive one, one request at a time:
 *   open:    IDENTIFY (the drive must offer DMA), SET FEATURES to Ultra
 *            DMA mode 5, BMIDTP pointed once at our PRD table (a register
 *            keeps its value; Linux rewrites it per command, we need not);
 *   request: PRDs for the buffer, split at page boundaries as a
 *            scatter-gather list of pages would be (never across 64 KiB);
 *            the taskfile with READ/WRITE DMA (LBA28) when the range fits,
 *            READ/WRITE DMA EXT beyond; START with the direction in the
 *            same BMICX write (as FreeBSD does); poll BMISX for the
 *            interrupt bit; stop; read the drive status (acknowledging
 *            INTRQ); write BMISX back to clear its latches.
 * No interrupt line reaches pvkern, so the drive's interrupts stay enabled
 * (nIEN clear) and we poll the bit the controller latches them in. A 4 KiB
 * request costs 11 register traps: 6 taskfile writes, START, one BMISX
 * poll (the VMM finishes the transfer inside the START trap), stop, status
 * and the BMISX clear.
 * The bus-master ports come from the VMM's platform/ata-dma/0/bm-base (on
 * PCI: BAR4 of the IDE function). Every function that does port I/O is
 * named ata_*: the guest image test allows port I/O only there.
 */
#include "blk.h"
#include "blk_ata.h"

#include "klib.h"
#include "mm.h"
#include "store.h"
#include "time.h"

#define CMD_READ_DMA 0xc8
#define CMD_WRITE_DMA 0xca
#define CMD_READ_DMA_EXT 0x25
#define CMD_WRITE_DMA_EXT 0x35
#define CMD_FLUSH_CACHE 0xe7
#define CMD_FLUSH_CACHE_EXT 0xea
#define CMD_SET_FEATURES 0xef
#define FEATURE_XFER_MODE 0x03
#define XFER_UDMA_5 0x45

/* Bus-master registers (offsets) and bits */
#define BM_CMD 0
#define BM_STATUS 2
#define BM_PRDT 4
#define BM_CMD_START 0x01
#define BM_CMD_TO_MEMORY 0x08
#define BM_ST_ACTIVE 0x01
#define BM_ST_ERROR 0x02
#define BM_ST_INTR 0x04

#define PRD_EOT 0x80000000u
#define DMA_MAX_SECTORS 2048u /* 1 MiB: at most 257 page-sized PRDs */
#define DMA_TIMEOUT_NS (5 * NS_PER_SEC)

struct prd {
	uint32_t base;
	uint32_t flags_len;
};

/* One page, page-aligned: it never crosses a 64 KiB boundary, and static
 * keeps it above the supervisor frames the controller refuses. */
static struct prd prd_table[PAGE_SIZE / sizeof(struct prd)]
	__attribute__((aligned(PAGE_SIZE)));

struct blk_ata_dma {
	struct ata_ident id;
	uint16_t bm; /* bus-master base port */
};

static struct blk_ata_dma dma_state;

static inline void ata_bm_outl(uint16_t port, uint32_t v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

/* "0x..." from the store: the port, or 0. */
static uint16_t ata_dma_read_hex_port(const char *path)
{
	char buf[16];
	uint32_t v = 0;
	int r = store_read(path, buf, sizeof(buf));

	if (r < 3 || r >= (int)sizeof(buf) || buf[0] != '0' || buf[1] != 'x')
		return 0;
	for (const char *p = buf + 2; *p; p++) {
		unsigned int d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned int)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned int)(*p - 'a' + 10);
		else
			return 0;
		v = v * 16 + d;
		if (v > 0xffff)
			return 0;
	}
	return (uint16_t)v;
}

/* ---- open ------------------------------------------------------------------- */

static int ata_dma_set_udma(void)
{
	ata_outb(ATA_FEATURE, FEATURE_XFER_MODE);
	ata_outb(ATA_COUNT, XFER_UDMA_5);
	ata_outb(ATA_STATUS_CMD, CMD_SET_FEATURES);
	return ata_error_of(ata_wait_status(false));
}

/* Clears BMISX's interrupt and error latches (write 1 to clear), keeping
 * the drive-0-DMA-capable bit set. */
static void ata_dma_bm_clear(const struct blk_ata_dma *a, uint8_t st)
{
	ata_outb(a->bm + BM_STATUS, st | 0x20);
}

static int ata_dma_open(struct blk_dev *d, unsigned int index)
{
	struct blk_ata_dma *a = &dma_state;
	int r;

	if (index != 0)
		return -PVKVM_ENOENT; /* primary master only */
	a->bm = ata_dma_read_hex_port("platform/ata-dma/0/bm-base");
	if (!a->bm)
		return -PVKVM_ENOENT;
	r = ata_identify_drive(0, &a->id); /* nIEN clear: INTRQ latches */
	if (r < 0)
		return r;
	if (!a->id.dma)
		return -PVKVM_ENOENT;
	r = ata_dma_set_udma();
	if (r < 0)
		return r;
	ata_bm_outl(a->bm + BM_PRDT, (uint32_t)(uintptr_t)prd_table);
	ata_dma_bm_clear(a, BM_ST_INTR | BM_ST_ERROR);
	d->priv = a;
	d->info.sectors = a->id.sectors;
	d->info.sector_size = BLK_SECTOR_SIZE;
	d->info.read_only = false; /* ATA has no way to say; writes fail */
	d->info.flush = true;
	d->info.max_sectors = DMA_MAX_SECTORS;
	d->info.max_in_flight = 1;
	return 0;
}

/* ---- requests ------------------------------------------------------------- */

/* The buffer as page-sized PRDs (pointers are gpas: RAM is identity-mapped).
 * Its number of entries. */
static unsigned int ata_dma_fill_prds(uintptr_t buf, uint32_t bytes)
{
	unsigned int n = 0;

	while (bytes) {
		uint32_t room = PAGE_SIZE - (uint32_t)(buf & (PAGE_SIZE - 1));
		uint32_t len = bytes < room ? bytes : room;

		prd_table[n].base = (uint32_t)buf;
		prd_table[n].flags_len = len; /* <= 4 KiB: never 0 = 64 KiB */
		n++;
		buf += len;
		bytes -= len;
	}
	prd_table[n - 1].flags_len |= PRD_EOT;
	return n;
}

static void ata_dma_issue(const struct blk_ata_dma *a, bool write,
			  uint64_t lba, uint32_t n)
{
	if (lba + n <= ATA_LBA28_LIMIT && n <= 256)
		ata_issue_lba28(lba, n, write ? CMD_WRITE_DMA : CMD_READ_DMA);
	else if (a->id.lba48)
		ata_issue_lba48(lba, n, write ? CMD_WRITE_DMA_EXT : CMD_READ_DMA_EXT);
	else /* no LBA48: let the drive refuse the address */
		ata_issue_lba28(lba, n, write ? CMD_WRITE_DMA : CMD_READ_DMA);
}

/* Polls BMISX for the drive's interrupt: BMISX, or -PVKVM_ETIMEDOUT. */
static int ata_dma_wait(const struct blk_ata_dma *a)
{
	uint64_t deadline = 0;

	for (;;) {
		uint8_t st = ata_inb(a->bm + BM_STATUS);

		if (st & BM_ST_INTR)
			return st;
		if (!deadline)
			deadline = now_ns() + DMA_TIMEOUT_NS;
		else if (now_ns() > deadline)
			return -PVKVM_ETIMEDOUT;
	}
}

static int ata_dma_rw(const struct blk_ata_dma *a, bool write, uint64_t lba,
		      uint32_t n, void *buf)
{
	uint8_t dir = write ? 0 : BM_CMD_TO_MEMORY;
	int bm, st;

	if (n == 0 || n > DMA_MAX_SECTORS || ((uintptr_t)buf & 1))
		return -PVKVM_EINVAL; /* PRD addresses are even */
	ata_dma_fill_prds((uintptr_t)buf, n * BLK_SECTOR_SIZE);
	ata_dma_issue(a, write, lba, n);
	ata_outb(a->bm + BM_CMD, dir | BM_CMD_START);
	bm = ata_dma_wait(a);
	ata_outb(a->bm + BM_CMD, dir); /* stop */
	st = ata_inb(ATA_STATUS_CMD);
	if (bm < 0)
		return bm;
	ata_dma_bm_clear(a, (uint8_t)bm);
	if (bm & BM_ST_ERROR)
		return -PVKVM_EFAULT; /* the controller refused our table */
	return ata_error_of(st);
}

static int ata_dma_flush(const struct blk_ata_dma *a)
{
	int r;

	ata_outb(ATA_STATUS_CMD, a->id.lba48 ? CMD_FLUSH_CACHE_EXT : CMD_FLUSH_CACHE);
	r = ata_error_of(ata_wait_status(false));
	/* Its completion interrupt latched too: clear it for the next poll. */
	ata_dma_bm_clear(a, BM_ST_INTR);
	return r;
}

static int ata_dma_submit(struct blk_dev *d, struct blk_req *r)
{
	const struct blk_ata_dma *a = d->priv;
	int st;

	switch (r->op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		st = ata_dma_rw(a, r->op == BLK_OP_WRITE, r->sector,
				r->nr_sectors, r->buf);
		if (st == -PVKVM_EINVAL)
			return st;
		break;
	case BLK_OP_FLUSH:
		st = ata_dma_flush(a);
		break;
	default:
		return -PVKVM_EINVAL;
	}
	blk_complete(d, r, st);
	return 0;
}

const struct blk_driver blk_ata_dma_driver = {
	.name = "fv-dma",
	.open = ata_dma_open,
	.submit = ata_dma_submit,
};
