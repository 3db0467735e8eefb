/* SPDX-License-Identifier: MIT */
/*
 * The ATA taskfile as both ATA drivers drive it: the PIO one (blk_ata.c,
 * mode=fv) and the bus-master DMA one (blk_ata_dma.c, mode=fv-dma), on the
 * legacy primary channel (0x1f0-0x1f7, 0x3f6), device 0.
 */
#ifndef PVKERN_BLK_ATA_H
#define PVKERN_BLK_ATA_H

#include <stdbool.h>
#include <stdint.h>

#define ATA_DATA 0x1f0
#define ATA_ERROR 0x1f1
#define ATA_FEATURE 0x1f1
#define ATA_COUNT 0x1f2
#define ATA_LBA_LOW 0x1f3
#define ATA_LBA_MID 0x1f4
#define ATA_LBA_HIGH 0x1f5
#define ATA_DEVICE 0x1f6
#define ATA_STATUS_CMD 0x1f7
#define ATA_CONTROL 0x3f6

#define ATA_SR_BSY 0x80
#define ATA_SR_DF 0x20
#define ATA_SR_DRQ 0x08
#define ATA_SR_ERR 0x01
#define ATA_ER_IDNF 0x10
#define ATA_CTL_NIEN 0x02
#define ATA_DEV_LBA 0x40
#define ATA_DEV_OBSOLETE 0xa0

#define ATA_LBA28_LIMIT (1ull << 28)

static inline void ata_outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t ata_inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* What IDENTIFY DEVICE told us. */
struct ata_ident {
	uint64_t sectors;
	bool lba48;
	bool dma;          /* word 49 bit 8 */
	uint32_t multiple; /* largest READ/WRITE MULTIPLE block, 0 = none */
};

/* Writes the device control register (nIEN or not), then IDENTIFY. 0 or
 * -PVKVM_ENOENT (no drive) / -PVKVM_EIO / -PVKVM_ETIMEDOUT. */
int ata_identify_drive(uint8_t control, struct ata_ident *id);
/* Polls until BSY clears and (want_drq) DRQ is set: the status byte, or
 * -PVKVM_ETIMEDOUT. ERR/DF end the wait early. */
int ata_wait_status(bool want_drq);
/* A status byte (or a negative error) as 0 or a PVKVM_E*. */
int ata_error_of(int status);
/* The taskfile of a command on [lba, lba + n) and the command itself. */
void ata_issue_lba28(uint64_t lba, uint32_t n, uint8_t cmd);
void ata_issue_lba48(uint64_t lba, uint32_t n, uint8_t cmd);

#endif
