// SPDX-License-Identifier: MIT
/*
 * The emulated ATA PIO disk: register file, command decoding and the PIO
 * data phases. Runs on whichever vCPU thread trapped, under one lock.
 */
#include "host/block/dev_ata.h"

#include <stdlib.h>
#include <string.h>

#include "host/block/ata_identify.h"
#include "host/block/ata_taskfile.h"
#include "host/block/blk_image.h"
#include "host/core/stats.h"

#define SECTOR ATA_SECTOR

/* ---- PIO data phases ---------------------------------------------------- */

static uint32_t next_block(const struct ata_disk *d)
{
	return d->sectors_left < d->block_sectors ? d->sectors_left
						  : d->block_sectors;
}

/* PIO-in: fetch the next DRQ block from the image and offer it. */
static void load_in_block(struct ata_disk *d)
{
	uint32_t n = next_block(d);
	if (blk_image_pread(d->img, d->buf, d->next_lba, n) < 0) {
		ata_complete_error(d, ATA_ER_UNC);
		return;
	}
	ata_count(d, ATA_C_SECTORS_READ, n);
	d->next_lba += n;
	d->sectors_left -= n;
	d->buf_len = n * SECTOR;
	d->buf_pos = 0;
	d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
	ata_raise_irq(d);
}

/* PIO-out: ask for the next DRQ block. The first block raises no interrupt
 * (the driver writes it right after the command), later ones do. */
static void want_out_block(struct ata_disk *d, bool first)
{
	d->buf_len = next_block(d) * SECTOR;
	d->buf_pos = 0;
	d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
	if (!first)
		ata_raise_irq(d);
}

static void store_out_block(struct ata_disk *d)
{
	uint32_t n = d->buf_len / SECTOR;
	if (blk_image_pwrite(d->img, d->buf, d->next_lba, n) < 0) {
		ata_complete_error(d, ATA_ER_ABRT);
		return;
	}
	ata_count(d, ATA_C_SECTORS_WRITTEN, n);
	d->next_lba += n;
	d->sectors_left -= n;
	if (d->sectors_left > 0)
		want_out_block(d, false);
	else
		ata_complete_ok(d);
}

/* The buffer of the current block has been fully read or written. */
static void block_done(struct ata_disk *d)
{
	if (d->xfer == XFER_OUT) {
		store_out_block(d);
	} else if (d->xfer_is_disk && d->sectors_left > 0) {
		load_in_block(d);
	} else {
		ata_go_idle(d); /* the last read block raises no interrupt */
	}
}

static void start_in(struct ata_disk *d, uint64_t lba, uint32_t n,
		     uint32_t block)
{
	d->xfer = XFER_IN;
	d->xfer_is_disk = true;
	d->next_lba = lba;
	d->sectors_left = n;
	d->block_sectors = block;
	load_in_block(d);
}

static void start_out(struct ata_disk *d, uint64_t lba, uint32_t n,
		      uint32_t block)
{
	d->xfer = XFER_OUT;
	d->xfer_is_disk = true;
	d->next_lba = lba;
	d->sectors_left = n;
	d->block_sectors = block;
	want_out_block(d, true);
}

/* Moves up to len bytes between the guest and the current block, crossing
 * into following blocks as a string PIO spanning them would. Bytes beyond
 * the data phase read as ones and are dropped on write. */
static void data_transfer(struct ata_disk *d, bool is_write, uint8_t *data,
			  uint32_t len)
{
	while (len > 0) {
		if (d->xfer == XFER_NONE || (d->xfer == XFER_OUT) != is_write) {
			if (!is_write)
				memset(data, 0xff, len);
			return;
		}
		uint32_t n = d->buf_len - d->buf_pos;
		if (n > len)
			n = len;
		if (is_write)
			memcpy(d->buf + d->buf_pos, data, n);
		else
			memcpy(data, d->buf + d->buf_pos, n);
		d->buf_pos += n;
		data += n;
		len -= n;
		if (d->buf_pos == d->buf_len)
			block_done(d);
	}
}

/* ---- commands ------------------------------------------------------------ */

static void cmd_identify(struct ata_disk *d)
{
	uint16_t words[ATA_IDENTIFY_WORDS];
	struct ata_identity id = {
		.sectors = d->img->sectors,
		.multiple = d->multiple,
		.serial = d->serial,
		.model = d->model,
		.firmware = "1.0",
		.dma = d->hooks != NULL,
		.dma_mode = d->dma_mode,
	};
	ata_identify_build(&id, words);
	for (unsigned int i = 0; i < ATA_IDENTIFY_WORDS; i++) {
		d->buf[2 * i] = (uint8_t)words[i];
		d->buf[2 * i + 1] = (uint8_t)(words[i] >> 8);
	}
	d->xfer = XFER_IN;
	d->xfer_is_disk = false;
	d->sectors_left = 0;
	d->buf_len = SECTOR;
	d->buf_pos = 0;
	d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
	ata_raise_irq(d);
}

static void cmd_rw(struct ata_disk *d, bool write, bool ext, bool multiple)
{
	if (multiple && d->multiple == 0) {
		ata_complete_error(d, ATA_ER_ABRT); /* multiple mode not enabled */
		return;
	}
	if (write && d->img->read_only) {
		ata_complete_error(d, ATA_ER_ABRT);
		return;
	}
	uint64_t lba;
	uint32_t n;
	if (!ata_command_range(d, ext, &lba, &n))
		return;
	uint32_t block = multiple ? d->multiple : 1;
	if (write)
		start_out(d, lba, n, block);
	else
		start_in(d, lba, n, block);
}

static void cmd_verify(struct ata_disk *d, bool ext)
{
	uint64_t lba;
	uint32_t n;
	if (ata_command_range(d, ext, &lba, &n))
		ata_complete_ok(d);
}

static void cmd_flush(struct ata_disk *d)
{
	ata_count(d, ATA_C_FLUSHES, 1);
	if (blk_image_flush(d->img) < 0)
		ata_complete_error(d, ATA_ER_ABRT);
	else
		ata_complete_ok(d);
}

static void cmd_set_multiple(struct ata_disk *d)
{
	uint8_t n = d->count.cur;
	/* 0 turns multiple mode off; otherwise a power of two up to the max. */
	if (n > ATA_MAX_MULTIPLE || (n & (n - 1)) != 0) {
		ata_complete_error(d, ATA_ER_ABRT);
		return;
	}
	d->multiple = n;
	ata_complete_ok(d);
}

/* SET FEATURES 03h's count: a PIO mode always; a multiword or Ultra DMA
 * mode only when a bus-master controller is there to move the data. */
static bool set_transfer_mode(struct ata_disk *d, uint8_t mode)
{
	bool dma = d->hooks != NULL;
	switch (mode >> 3) {
	case 0: return mode <= 1;            /* PIO default (IORDY on/off) */
	case 1: return (mode & 7) <= 4;      /* PIO flow control modes 0-4 */
	case 4:                              /* multiword DMA modes 0-2 */
	case 8:                              /* Ultra DMA modes 0-5 */
		if (!dma || (mode & 7) > (mode >> 3 == 4 ? 2 : 5))
			return false;
		d->dma_mode = mode;
		return true;
	default: return false;
	}
}

static void cmd_set_features(struct ata_disk *d)
{
	switch (d->feature.cur) {
	case 0x03: /* set transfer mode: only what IDENTIFY offers */
		if (set_transfer_mode(d, d->count.cur))
			ata_complete_ok(d);
		else
			ata_complete_error(d, ATA_ER_ABRT);
		return;
	case 0x02: /* enable write cache */
	case 0x82: /* disable write cache: we keep flushing on FLUSH CACHE */
	case 0x55: /* disable read look-ahead */
	case 0xaa: /* enable read look-ahead */
		ata_complete_ok(d);
		return;
	default:
		ata_complete_error(d, ATA_ER_ABRT);
	}
}

static void execute(struct ata_disk *d, uint8_t cmd)
{
	ata_count(d, ATA_C_COMMANDS, 1);
	d->error = 0;
	if (d->hooks && d->hooks->command(d->hooks_ctx, d, cmd))
		return; /* the controller's (DMA) */
	switch (cmd) {
	case ATA_CMD_IDENTIFY: cmd_identify(d); break;
	case ATA_CMD_READ_SECTORS:
	case ATA_CMD_READ_SECTORS + 1: /* obsolete "without retry" */
		cmd_rw(d, false, false, false); break;
	case ATA_CMD_READ_SECTORS_EXT: cmd_rw(d, false, true, false); break;
	case ATA_CMD_READ_MULTIPLE: cmd_rw(d, false, false, true); break;
	case ATA_CMD_READ_MULTIPLE_EXT: cmd_rw(d, false, true, true); break;
	case ATA_CMD_WRITE_SECTORS:
	case ATA_CMD_WRITE_SECTORS + 1:
		cmd_rw(d, true, false, false); break;
	case ATA_CMD_WRITE_SECTORS_EXT: cmd_rw(d, true, true, false); break;
	case ATA_CMD_WRITE_MULTIPLE: cmd_rw(d, true, false, true); break;
	case ATA_CMD_WRITE_MULTIPLE_EXT: cmd_rw(d, true, true, true); break;
	case ATA_CMD_READ_VERIFY:
	case ATA_CMD_READ_VERIFY + 1:
		cmd_verify(d, false); break;
	case ATA_CMD_READ_VERIFY_EXT: cmd_verify(d, true); break;
	case ATA_CMD_FLUSH_CACHE:
	case ATA_CMD_FLUSH_CACHE_EXT: cmd_flush(d); break;
	case ATA_CMD_SET_MULTIPLE: cmd_set_multiple(d); break;
	case ATA_CMD_SET_FEATURES: cmd_set_features(d); break;
	case ATA_CMD_INIT_PARAMS: ata_complete_ok(d); break; /* fixed geometry */
	case ATA_CMD_CHECK_POWER:
		d->count.cur = 0xff; /* active or idle */
		ata_complete_ok(d);
		break;
	case ATA_CMD_EXEC_DIAGNOSTIC:
		ata_set_signature(d);
		ata_complete_ok(d);
		break;
	default:
		ata_complete_error(d, ATA_ER_ABRT);
	}
}

/* ---- registers ----------------------------------------------------------- */

static bool dev1_selected(const struct ata_disk *d)
{
	return d->device & ATA_DEV_DEV1;
}

static uint8_t fifo_read(const struct ata_disk *d, const struct ata_fifo2 *f)
{
	return (d->control & ATA_CTL_HOB) ? f->prev : f->cur;
}

static void fifo_write(struct ata_disk *d, struct ata_fifo2 *f, uint8_t v)
{
	f->prev = f->cur;
	f->cur = v;
	d->control &= (uint8_t)~ATA_CTL_HOB; /* any shadow write clears HOB */
}

static uint8_t status_for_read(const struct ata_disk *d)
{
	return d->in_reset ? ATA_SR_BSY : d->status;
}

static uint8_t reg_read(struct ata_disk *d, unsigned int reg)
{
	if (dev1_selected(d))
		return 0; /* no device 1: nothing drives the bus */
	switch (reg) {
	case ATA_REG_ERROR_FEATURE: return d->error;
	case ATA_REG_COUNT: return fifo_read(d, &d->count);
	case ATA_REG_LBA_LOW: return fifo_read(d, &d->lba_low);
	case ATA_REG_LBA_MID: return fifo_read(d, &d->lba_mid);
	case ATA_REG_LBA_HIGH: return fifo_read(d, &d->lba_high);
	case ATA_REG_DEVICE: return d->device | 0xa0; /* obsolete bits read 1 */
	case ATA_REG_STATUS_COMMAND:
		d->intrq = false; /* reading status acknowledges the interrupt */
		return status_for_read(d);
	default: return 0xff;
	}
}

static void reg_write(struct ata_disk *d, unsigned int reg, uint8_t v)
{
	switch (reg) {
	case ATA_REG_ERROR_FEATURE: fifo_write(d, &d->feature, v); break;
	case ATA_REG_COUNT: fifo_write(d, &d->count, v); break;
	case ATA_REG_LBA_LOW: fifo_write(d, &d->lba_low, v); break;
	case ATA_REG_LBA_MID: fifo_write(d, &d->lba_mid, v); break;
	case ATA_REG_LBA_HIGH: fifo_write(d, &d->lba_high, v); break;
	case ATA_REG_DEVICE:
		d->device = v & 0x5f; /* keep LBA, DEV and head bits */
		d->control &= (uint8_t)~ATA_CTL_HOB;
		break;
	case ATA_REG_STATUS_COMMAND:
		if (!dev1_selected(d) && !d->in_reset)
			execute(d, v);
		break;
	default: break;
	}
}

static void control_write(struct ata_disk *d, uint8_t v)
{
	bool srst = v & ATA_CTL_SRST;
	if (srst && !d->in_reset) {
		d->in_reset = true;
		d->xfer = XFER_NONE;
		if (d->hooks && d->hooks->reset)
			d->hooks->reset(d->hooks_ctx);
	} else if (!srst && d->in_reset) {
		d->in_reset = false;
		ata_set_signature(d);
		ata_go_idle(d);
	}
	d->control = v & (ATA_CTL_NIEN | ATA_CTL_SRST | ATA_CTL_HOB);
}

static void one_access(struct ata_disk *d, uint16_t port, bool is_write,
		       uint8_t *v)
{
	if (port == ATA_CTL_PORT) {
		if (is_write)
			control_write(d, *v);
		else
			*v = dev1_selected(d) ? 0 : status_for_read(d);
		return;
	}
	unsigned int reg = port - ATA_CMD_BASE;
	if (is_write)
		reg_write(d, reg, *v);
	else
		*v = reg_read(d, reg);
}

void ata_disk_pio(void *ctx, uint16_t port, bool is_write, void *data,
		  uint32_t len, uint32_t count_)
{
	struct ata_disk *d = ctx;
	pthread_mutex_lock(&d->lock);
	ata_count(d, ATA_C_ACCESSES, 1);
	uint8_t *p = data;
	if (port == ATA_CMD_BASE + ATA_REG_DATA) {
		/* 16- or 32-bit accesses, possibly a string: one byte stream. */
		if (dev1_selected(d) && !is_write)
			memset(p, 0xff, (size_t)len * count_);
		else if (!dev1_selected(d))
			data_transfer(d, is_write, p, len * count_);
	} else {
		/* Only the low byte of a wider access reaches an 8-bit register. */
		for (uint32_t i = 0; i < count_; i++, p += len) {
			if (!is_write)
				memset(p, 0, len);
			one_access(d, port, is_write, p);
		}
	}
	pthread_mutex_unlock(&d->lock);
}

/* ---- life cycle ---------------------------------------------------------- */

static const char *const counter_names[ATA_C_COUNT] = {
	[ATA_C_ACCESSES] = "register_accesses",
	[ATA_C_COMMANDS] = "commands",
	[ATA_C_SECTORS_READ] = "sectors_read",
	[ATA_C_SECTORS_WRITTEN] = "sectors_written",
	[ATA_C_FLUSHES] = "flushes",
	[ATA_C_ERRORS] = "errors",
};

struct ata_disk *ata_disk_new_hooked(const struct blk_image *img,
				     const char *serial, const char *model,
				     const struct ata_disk_hooks *hooks,
				     void *hooks_ctx)
{
	struct ata_disk *d = aligned_alloc(_Alignof(struct ata_disk), sizeof(*d));
	if (!d)
		return NULL;
	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	d->img = img;
	d->model = model;
	d->hooks = hooks;
	d->hooks_ctx = hooks_ctx;
	d->dma_mode = hooks ? 0x45 : 0; /* power-on default: Ultra DMA 5 */
	strncpy(d->serial, serial ? serial : "PVKVM0000", sizeof(d->serial) - 1);
	for (unsigned int i = 0; i < ATA_C_COUNT; i++)
		d->counters[i].name = counter_names[i];
	d->group = (struct stats_group){ .name = "ata", .counters = d->counters,
					 .nr = ATA_C_COUNT };
	ata_set_signature(d);
	ata_go_idle(d);
	return d;
}

struct ata_disk *ata_disk_new(const struct blk_image *img, const char *serial)
{
	return ata_disk_new_hooked(img, serial, "pvkvm ATA disk", NULL, NULL);
}

void ata_disk_free(struct ata_disk *d)
{
	if (!d)
		return;
	pthread_mutex_destroy(&d->lock);
	free(d);
}

struct stats_group *ata_disk_stats(struct ata_disk *d)
{
	return &d->group;
}
