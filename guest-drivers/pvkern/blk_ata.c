// SPDX-License-Identifier: MIT
/*
 * The full-virt disk driver: ATA PIO by polling, on the legacy primary
 * channel (0x1f0-0x1f7, 0x3f6), device 0. What a simple real-hardware
 * driver does, so every register access traps as it would for one:
 *   IDENTIFY DEVICE at open (capacity, LBA48, largest MULTIPLE block),
 *   SET MULTIPLE MODE, then READ/WRITE MULTIPLE (EXT) per request with
 *   LBA28 when the range fits in it (fewer register writes) and LBA48 only
 *   beyond, data moved by 32-bit `rep insl` / `rep outsl` one DRQ block at a
 *   time (as Linux's ata_sff_data_xfer32 does where the controller allows;
 *   KVM turns each element of a string `out` into its own exit, so 32-bit
 *   accesses halve a write's exits),
 *   FLUSH CACHE (EXT) for flush. Interrupts are masked (nIEN): we poll.
 * The ATA ports are open in our TSS I/O bitmap only when the VMM attached
 * the disk (mode=fv); touching them otherwise is a #GP.
 */
#include "blk.h"
#include "blk_ata.h"

#include "klib.h"
#include "time.h"

#define CMD_READ_MULTIPLE 0xc4
#define CMD_WRITE_MULTIPLE 0xc5
#define CMD_READ_MULTIPLE_EXT 0x29
#define CMD_WRITE_MULTIPLE_EXT 0x39
#define CMD_SET_MULTIPLE 0xc6
#define CMD_FLUSH_CACHE 0xe7
#define CMD_FLUSH_CACHE_EXT 0xea
#define CMD_IDENTIFY 0xec

#define ATA_TIMEOUT_NS (5 * NS_PER_SEC)

struct blk_ata {
	bool lba48;
	uint32_t multiple; /* sectors per DRQ block */
};

static struct blk_ata ata_state;

/* One trap per string (KVM hands the VMM the whole count it can). */
static inline void ata_rep_insw(uint16_t port, void *buf, size_t words)
{
	asm volatile("rep insw" : "+D"(buf), "+c"(words) : "d"(port) : "memory");
}

static inline void ata_rep_insl(uint16_t port, void *buf, size_t dwords)
{
	asm volatile("rep insl" : "+D"(buf), "+c"(dwords) : "d"(port) : "memory");
}

static inline void ata_rep_outsl(uint16_t port, const void *buf, size_t dwords)
{
	asm volatile("rep outsl" : "+S"(buf), "+c"(dwords) : "d"(port) : "memory");
}

int ata_wait_status(bool want_drq)
{
	uint64_t deadline = 0;

	for (;;) {
		uint8_t s = ata_inb(ATA_STATUS_CMD);

		if (!(s & ATA_SR_BSY)) {
			if (s & (ATA_SR_ERR | ATA_SR_DF))
				return s;
			if (!want_drq || (s & ATA_SR_DRQ))
				return s;
		}
		if (!deadline)
			deadline = now_ns() + ATA_TIMEOUT_NS;
		else if (now_ns() > deadline)
			return -PVKVM_ETIMEDOUT;
	}
}

int ata_error_of(int status)
{
	if (status < 0)
		return status;
	if (status & (ATA_SR_ERR | ATA_SR_DF))
		return (ata_inb(ATA_ERROR) & ATA_ER_IDNF) ? -PVKVM_ERANGE : -PVKVM_EIO;
	return 0;
}

/* ---- IDENTIFY ------------------------------------------------------------- */

static uint64_t ata_id_u32(const uint16_t *w, unsigned int i)
{
	return (uint64_t)w[i] | (uint64_t)w[i + 1] << 16;
}

static uint64_t ata_id_u64(const uint16_t *w, unsigned int i)
{
	return ata_id_u32(w, i) | ata_id_u32(w, i + 2) << 32;
}

int ata_identify_drive(uint8_t control, struct ata_ident *id)
{
	static uint16_t w[256];
	int s;

	ata_outb(ATA_CONTROL, control);
	ata_outb(ATA_DEVICE, ATA_DEV_OBSOLETE);
	ata_outb(ATA_STATUS_CMD, CMD_IDENTIFY);
	/* A floating bus or an absent device reads 0 (or 0xff). */
	s = ata_inb(ATA_STATUS_CMD);
	if (s == 0 || s == 0xff)
		return -PVKVM_ENOENT;
	s = ata_wait_status(true);
	if (s < 0 || (s & ATA_SR_ERR))
		return s < 0 ? s : -PVKVM_EIO;
	ata_rep_insw(ATA_DATA, w, 256);
	id->lba48 = w[83] & (1u << 10);
	id->sectors = id->lba48 ? ata_id_u64(w, 100) : ata_id_u32(w, 60);
	id->multiple = w[47] & 0xff;
	id->dma = w[49] & (1u << 8);
	return 0;
}

static int ata_identify(struct blk_dev *d, struct blk_ata *a)
{
	struct ata_ident id;
	int r = ata_identify_drive(ATA_CTL_NIEN, &id);

	if (r < 0)
		return r;
	a->lba48 = id.lba48;
	a->multiple = id.multiple;
	d->info.sectors = id.sectors;
	return 0;
}

static int ata_set_multiple(struct blk_ata *a)
{
	int s;

	if (a->multiple == 0) {
		a->multiple = 1; /* READ/WRITE MULTIPLE need it; fall back */
		return -PVKVM_EINVAL;
	}
	ata_outb(ATA_COUNT, (uint8_t)a->multiple);
	ata_outb(ATA_STATUS_CMD, CMD_SET_MULTIPLE);
	s = ata_wait_status(false);
	return ata_error_of(s);
}

static int ata_open(struct blk_dev *d, unsigned int index)
{
	struct blk_ata *a = &ata_state;
	int r;

	if (index != 0)
		return -PVKVM_ENOENT; /* primary master only */
	d->priv = a;
	r = ata_identify(d, a);
	if (r < 0)
		return r;
	r = ata_set_multiple(a);
	if (r < 0)
		return r;
	d->info.sector_size = BLK_SECTOR_SIZE;
	d->info.read_only = false; /* ATA has no way to say; writes fail */
	d->info.flush = true;
	d->info.max_sectors = a->lba48 ? 65536 : 256;
	d->info.max_in_flight = 1;
	return 0;
}

/* ---- commands --------------------------------------------------------------- */

void ata_issue_lba28(uint64_t lba, uint32_t n, uint8_t cmd)
{
	ata_outb(ATA_DEVICE, ATA_DEV_OBSOLETE | ATA_DEV_LBA | ((lba >> 24) & 0x0f));
	ata_outb(ATA_COUNT, (uint8_t)n); /* 256 is written as 0 */
	ata_outb(ATA_LBA_LOW, (uint8_t)lba);
	ata_outb(ATA_LBA_MID, (uint8_t)(lba >> 8));
	ata_outb(ATA_LBA_HIGH, (uint8_t)(lba >> 16));
	ata_outb(ATA_STATUS_CMD, cmd);
}

void ata_issue_lba48(uint64_t lba, uint32_t n, uint8_t cmd)
{
	ata_outb(ATA_DEVICE, ATA_DEV_LBA);
	/* High-order bytes first: each write pushes the previous value into
	 * the register's "previous content" (HOB) half. */
	ata_outb(ATA_COUNT, (uint8_t)(n >> 8));
	ata_outb(ATA_LBA_LOW, (uint8_t)(lba >> 24));
	ata_outb(ATA_LBA_MID, (uint8_t)(lba >> 32));
	ata_outb(ATA_LBA_HIGH, (uint8_t)(lba >> 40));
	ata_outb(ATA_COUNT, (uint8_t)n);
	ata_outb(ATA_LBA_LOW, (uint8_t)lba);
	ata_outb(ATA_LBA_MID, (uint8_t)(lba >> 8));
	ata_outb(ATA_LBA_HIGH, (uint8_t)(lba >> 16));
	ata_outb(ATA_STATUS_CMD, cmd);
}

static void ata_issue_rw(const struct blk_ata *a, bool write, uint64_t lba,
		     uint32_t n)
{
	if (lba + n <= ATA_LBA28_LIMIT && n <= 256)
		ata_issue_lba28(lba, n, write ? CMD_WRITE_MULTIPLE : CMD_READ_MULTIPLE);
	else if (a->lba48)
		ata_issue_lba48(lba, n, write ? CMD_WRITE_MULTIPLE_EXT
					  : CMD_READ_MULTIPLE_EXT);
	else /* no LBA48: let the drive refuse the address */
		ata_issue_lba28(lba, n, write ? CMD_WRITE_MULTIPLE : CMD_READ_MULTIPLE);
}

/* The data phase: one DRQ block of `multiple` sectors at a time. */
static int ata_transfer(const struct blk_ata *a, bool write, uint8_t *buf,
		    uint32_t n)
{
	while (n) {
		uint32_t blk = n < a->multiple ? n : a->multiple;
		int s = ata_wait_status(true);

		if (s < 0 || (s & (ATA_SR_ERR | ATA_SR_DF)) || !(s & ATA_SR_DRQ))
			return s < 0 ? s : (ata_error_of(s) ? ata_error_of(s) : -PVKVM_EIO);
		if (write)
			ata_rep_outsl(ATA_DATA, buf, blk * BLK_SECTOR_SIZE / 4);
		else
			ata_rep_insl(ATA_DATA, buf, blk * BLK_SECTOR_SIZE / 4);
		buf += blk * BLK_SECTOR_SIZE;
		n -= blk;
	}
	/* After the last block the drive goes idle, or reports a write error. */
	return ata_error_of(ata_wait_status(false));
}

static int ata_do_rw(const struct blk_ata *a, bool write, uint64_t lba,
		 uint32_t n, uint8_t *buf)
{
	int r;

	if (n == 0 || n > (a->lba48 ? 65536u : 256u))
		return -PVKVM_EINVAL;
	ata_issue_rw(a, write, lba, n);
	r = ata_transfer(a, write, buf, n);
	return r;
}

static int ata_do_flush(const struct blk_ata *a)
{
	ata_outb(ATA_STATUS_CMD, a->lba48 ? CMD_FLUSH_CACHE_EXT : CMD_FLUSH_CACHE);
	return ata_error_of(ata_wait_status(false));
}

static int ata_submit(struct blk_dev *d, struct blk_req *r)
{
	const struct blk_ata *a = d->priv;
	int st;

	switch (r->op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		st = ata_do_rw(a, r->op == BLK_OP_WRITE, r->sector, r->nr_sectors,
			   r->buf);
		if (st == -PVKVM_EINVAL)
			return st;
		break;
	case BLK_OP_FLUSH:
		st = ata_do_flush(a);
		break;
	default:
		return -PVKVM_EINVAL;
	}
	blk_complete(d, r, st);
	return 0;
}

const struct blk_driver blk_ata_driver = {
	.name = "fv",
	.open = ata_open,
	.submit = ata_submit,
};
