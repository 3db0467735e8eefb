// SPDX-License-Identifier: MIT
/*
 * The ATA drive's status transitions and addressing, shared by the PIO and
 * the DMA disk (see ata_taskfile.h). Callers hold d->lock.
 */
#include "host/block/ata_taskfile.h"

#include "host/block/blk_image.h"
#include "host/block/blk_validate.h"

void ata_count(struct ata_disk *d, enum ata_counter c, uint64_t n)
{
	stat_add(&d->counters[c].value, n);
}

/* ---- status transitions ------------------------------------------------ */

void ata_raise_irq(struct ata_disk *d)
{
	/* No interrupt line reaches the CPU (the guest polls); the pending
	 * bit still follows the spec so a status read acknowledges it, and a
	 * bus-master controller latches it in its own status register. */
	if (d->control & ATA_CTL_NIEN)
		return;
	d->intrq = true;
	if (d->hooks && d->hooks->irq)
		d->hooks->irq(d->hooks_ctx);
}

void ata_go_idle(struct ata_disk *d)
{
	d->xfer = XFER_NONE;
	d->status = ATA_SR_DRDY | ATA_SR_DSC;
}

void ata_complete_ok(struct ata_disk *d)
{
	ata_go_idle(d);
	ata_raise_irq(d);
}

void ata_complete_error(struct ata_disk *d, uint8_t error)
{
	d->xfer = XFER_NONE;
	d->error = error;
	d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_ERR;
	ata_count(d, ATA_C_ERRORS, 1);
	ata_raise_irq(d);
}

void ata_set_signature(struct ata_disk *d)
{
	/* The ATA device signature drivers classify after reset/diagnostics. */
	d->count.cur = 1;
	d->lba_low.cur = 1;
	d->lba_mid.cur = 0;
	d->lba_high.cur = 0;
	d->device = 0;
	d->error = 0x01; /* diagnostic: device 0 passed, no device 1 */
}

/* ---- addressing --------------------------------------------------------- */

static bool lba28_address(const struct ata_disk *d, uint64_t *lba)
{
	if (d->device & ATA_DEV_LBA) {
		*lba = (uint64_t)(d->device & 0x0f) << 24 |
		       (uint64_t)d->lba_high.cur << 16 |
		       (uint64_t)d->lba_mid.cur << 8 | d->lba_low.cur;
		return true;
	}
	/* CHS, in the geometry IDENTIFY reports. Sector numbers start at 1. */
	uint32_t cyl = (uint32_t)d->lba_high.cur << 8 | d->lba_mid.cur;
	uint32_t head = d->device & 0x0f, sect = d->lba_low.cur;
	if (sect == 0 || sect > ATA_CHS_SPT)
		return false;
	*lba = ((uint64_t)cyl * ATA_CHS_HEADS + head) * ATA_CHS_SPT + sect - 1;
	return true;
}

static uint64_t lba48_address(const struct ata_disk *d)
{
	return (uint64_t)d->lba_high.prev << 40 | (uint64_t)d->lba_mid.prev << 32 |
	       (uint64_t)d->lba_low.prev << 24 | (uint64_t)d->lba_high.cur << 16 |
	       (uint64_t)d->lba_mid.cur << 8 | d->lba_low.cur;
}

static uint32_t sector_count(const struct ata_disk *d, bool ext)
{
	if (ext) {
		uint32_t n = (uint32_t)d->count.prev << 8 | d->count.cur;
		return n ? n : 65536;
	}
	return d->count.cur ? d->count.cur : 256;
}

bool ata_command_range(struct ata_disk *d, bool ext, uint64_t *lba,
		       uint32_t *n)
{
	*n = sector_count(d, ext);
	if (ext)
		*lba = lba48_address(d);
	else if (!lba28_address(d, lba)) {
		ata_complete_error(d, ATA_ER_IDNF | ATA_ER_ABRT);
		return false;
	}
	if (!blk_range_ok(*lba, *n, d->img->sectors)) {
		ata_complete_error(d, ATA_ER_IDNF);
		return false;
	}
	return true;
}
