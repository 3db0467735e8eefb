/* SPDX-License-Identifier: MIT */
/*
 * The full-virt baseline disk: an ATA (IDE) drive in PIO mode on the legacy
 * primary channel, master position. Every register access is a trap to the
 * VMM, and every sector moves by pread/pwrite on the vCPU thread that
 * trapped: that is the cost model of emulated I/O the benchmark measures.
 *
 * Faithful to ATA8-ACS as a polling or interrupt-driven PIO driver sees it
 * (Linux's ata_piix/libata SFF paths): shadow registers with the LBA48 HOB
 * pairs, BSY/DRDY/DRQ/ERR, IDENTIFY, READ/WRITE SECTORS (EXT), READ/WRITE
 * MULTIPLE (EXT) with SET MULTIPLE MODE, FLUSH CACHE (EXT), READ VERIFY,
 * SET FEATURES, soft reset with the device signature. No slave: registers
 * read 0 while device 1 is selected, which is how drivers see it absent.
 * The same drive behind a bus-master DMA controller is dev_ata_dma.h; the
 * taskfile both share is ata_taskfile.h.
 */
#ifndef PVKVM_DEV_ATA_H
#define PVKVM_DEV_ATA_H

#include <stdbool.h>
#include <stdint.h>

struct blk_image;
struct stats_group;

#define ATA_CMD_BASE 0x1f0u  /* data .. status/command: 8 ports */
#define ATA_CMD_PORTS 8u
#define ATA_CTL_PORT 0x3f6u  /* alternate status / device control */

/* Status register */
#define ATA_SR_BSY 0x80u
#define ATA_SR_DRDY 0x40u
#define ATA_SR_DF 0x20u
#define ATA_SR_DSC 0x10u
#define ATA_SR_DRQ 0x08u
#define ATA_SR_ERR 0x01u
/* Error register */
#define ATA_ER_UNC 0x40u
#define ATA_ER_IDNF 0x10u
#define ATA_ER_ABRT 0x04u
/* Device control register */
#define ATA_CTL_NIEN 0x02u
#define ATA_CTL_SRST 0x04u
#define ATA_CTL_HOB 0x80u
/* Device register */
#define ATA_DEV_LBA 0x40u
#define ATA_DEV_DEV1 0x10u

/* Register offsets from ATA_CMD_BASE */
enum ata_reg {
	ATA_REG_DATA = 0,
	ATA_REG_ERROR_FEATURE = 1,
	ATA_REG_COUNT = 2,
	ATA_REG_LBA_LOW = 3,
	ATA_REG_LBA_MID = 4,
	ATA_REG_LBA_HIGH = 5,
	ATA_REG_DEVICE = 6,
	ATA_REG_STATUS_COMMAND = 7,
};

enum ata_command {
	ATA_CMD_READ_SECTORS = 0x20,
	ATA_CMD_READ_SECTORS_EXT = 0x24,
	ATA_CMD_READ_DMA_EXT = 0x25,    /* DMA commands: mode=fv-dma only */
	ATA_CMD_READ_MULTIPLE_EXT = 0x29,
	ATA_CMD_WRITE_SECTORS = 0x30,
	ATA_CMD_WRITE_SECTORS_EXT = 0x34,
	ATA_CMD_WRITE_DMA_EXT = 0x35,
	ATA_CMD_WRITE_MULTIPLE_EXT = 0x39,
	ATA_CMD_READ_VERIFY = 0x40,
	ATA_CMD_READ_VERIFY_EXT = 0x42,
	ATA_CMD_EXEC_DIAGNOSTIC = 0x90,
	ATA_CMD_INIT_PARAMS = 0x91,
	ATA_CMD_READ_MULTIPLE = 0xc4,
	ATA_CMD_WRITE_MULTIPLE = 0xc5,
	ATA_CMD_SET_MULTIPLE = 0xc6,
	ATA_CMD_READ_DMA = 0xc8,
	ATA_CMD_WRITE_DMA = 0xca,
	ATA_CMD_CHECK_POWER = 0xe5,
	ATA_CMD_FLUSH_CACHE = 0xe7,
	ATA_CMD_FLUSH_CACHE_EXT = 0xea,
	ATA_CMD_IDENTIFY = 0xec,
	ATA_CMD_SET_FEATURES = 0xef,
};

struct ata_disk;

/* The image stays the caller's; it must outlive the disk. NULL on ENOMEM. */
struct ata_disk *ata_disk_new(const struct blk_image *img, const char *serial);
void ata_disk_free(struct ata_disk *d);

/* The pio_fn for both port ranges (see vm.h). Thread-safe. */
void ata_disk_pio(void *ctx, uint16_t port, bool is_write, void *data,
		  uint32_t len, uint32_t count);

/* Counters: register accesses, commands, sectors, flushes, errors. */
struct stats_group *ata_disk_stats(struct ata_disk *d);

#endif
