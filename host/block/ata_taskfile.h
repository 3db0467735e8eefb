/* SPDX-License-Identifier: MIT */
/*
 * The ATA drive's taskfile model, shared by the two emulated disks: the PIO
 * disk (dev_ata.c, mode=fv) and the same drive behind a bus-master DMA
 * controller (dev_ata_dma.c, mode=fv-dma). Internal to those files: the
 * public interfaces are dev_ata.h and dev_ata_dma.h.
 *
 * The drive is one struct with its shadow registers, status and PIO data
 * phase; what the DMA controller adds (the bus-master registers, the DMA
 * commands) plugs in through ata_disk_hooks, under the drive's lock, so one
 * lock orders every register access of both.
 */
#ifndef PVKVM_ATA_TASKFILE_H
#define PVKVM_ATA_TASKFILE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "host/block/ata_identify.h"
#include "host/block/dev_ata.h"
#include "host/core/stats.h"
#include "hypercall/pvkvm_blkif.h"

#define ATA_SECTOR PVKVM_BLKIF_SECTOR_SIZE

enum ata_counter {
	ATA_C_ACCESSES, /* register accesses: one trap each */
	ATA_C_COMMANDS,
	ATA_C_SECTORS_READ,
	ATA_C_SECTORS_WRITTEN,
	ATA_C_FLUSHES,
	ATA_C_ERRORS,
	ATA_C_COUNT
};

enum ata_xfer { XFER_NONE, XFER_IN, XFER_OUT };

/* A shadow register with its "previous content" for LBA48 (HOB). */
struct ata_fifo2 {
	uint8_t cur, prev;
};

/* What a controller adds to the drive. Every hook runs under d->lock. */
struct ata_disk_hooks {
	/* A command was written: true if the hook took it (a DMA command);
	 * false lets the drive run it (and must drop any pending DMA). */
	bool (*command)(void *ctx, struct ata_disk *d, uint8_t cmd);
	/* The drive asserted INTRQ (nIEN clear). */
	void (*irq)(void *ctx);
	/* SRST was asserted: any command in progress is gone. */
	void (*reset)(void *ctx);
};

struct ata_disk {
	pthread_mutex_t lock;
	const struct blk_image *img;
	char serial[21];
	const char *model;
	const struct ata_disk_hooks *hooks; /* NULL: a PIO-only drive */
	void *hooks_ctx;
	uint8_t dma_mode; /* SET FEATURES transfer mode: 0x20|n, 0x40|n, 0 none */

	struct ata_fifo2 feature, count, lba_low, lba_mid, lba_high;
	uint8_t device, control, status, error;
	bool intrq;      /* pending interrupt, cleared by reading status */
	bool in_reset;   /* SRST held */
	uint8_t multiple;

	/* PIO data phase */
	enum ata_xfer xfer;
	bool xfer_is_disk; /* false: IDENTIFY (nothing to write back) */
	uint64_t next_lba;
	uint32_t sectors_left;   /* not yet moved through buf */
	uint32_t block_sectors;  /* per DRQ block for this command */
	uint32_t buf_len, buf_pos;
	/* Page-aligned so sector transfers can use the image's O_DIRECT path,
	 * the same one the other disk modes take. */
	uint8_t buf[ATA_MAX_MULTIPLE * ATA_SECTOR] __attribute__((aligned(4096)));

	struct stat_counter counters[ATA_C_COUNT];
	struct stats_group group;
};

/* A drive with a controller's hooks (hooks NULL: as ata_disk_new). */
struct ata_disk *ata_disk_new_hooked(const struct blk_image *img,
				     const char *serial, const char *model,
				     const struct ata_disk_hooks *hooks,
				     void *hooks_ctx);

void ata_count(struct ata_disk *d, enum ata_counter c, uint64_t n);

/* Status transitions */
void ata_raise_irq(struct ata_disk *d);
void ata_go_idle(struct ata_disk *d);
void ata_complete_ok(struct ata_disk *d);
void ata_complete_error(struct ata_disk *d, uint8_t error);
void ata_set_signature(struct ata_disk *d);

/* Decodes the command's range from the shadow registers (LBA48 when ext,
 * else LBA28 or CHS); false (and the command failed with IDNF/ABRT) if the
 * address cannot be formed or leaves the disk. */
bool ata_command_range(struct ata_disk *d, bool ext, uint64_t *lba,
		       uint32_t *n);

#endif
