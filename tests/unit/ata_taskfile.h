/* SPDX-License-Identifier: MIT */
/*
 * The ATA tests' side of the taskfile (host/block/dev_ata.c), driven
 * register by register as a PIO driver would: test_ata.c for the PIO disk,
 * test_ata_dma.c for the bus-master one. Set ata_tf_disk in the test's
 * setup. Images are filled with pattern(sector, byte), so any sector read
 * back can be checked where it came from.
 */
#ifndef PVKVM_TEST_ATA_TASKFILE_H
#define PVKVM_TEST_ATA_TASKFILE_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <unistd.h>

#include "host/block/dev_ata.h"

static struct ata_disk *ata_tf_disk; /* the disk under test */

static inline uint8_t pattern(uint64_t sector, unsigned int i)
{
	return (uint8_t)(sector * 37 + i * 7 + 1);
}

/* Sectors [0, sectors) of the image behind fd, filled with the pattern. */
static inline void write_pattern(int fd, uint64_t sectors)
{
	uint8_t buf[512];

	for (uint64_t s = 0; s < sectors; s++) {
		for (unsigned int i = 0; i < 512; i++)
			buf[i] = pattern(s, i);
		cr_assert_eq(pwrite(fd, buf, 512, (off_t)(s * 512)), 512);
	}
}

static inline void check_sectors(const uint8_t *buf, uint64_t sector, unsigned int n)
{
	for (unsigned int s = 0; s < n; s++)
		for (unsigned int i = 0; i < 512; i++)
			cr_assert_eq(buf[s * 512 + i], pattern(sector + s, i),
				     "sector %lu byte %u", (unsigned long)(sector + s), i);
}

static inline void outb(uint16_t port, uint8_t v)
{
	ata_disk_pio(ata_tf_disk, port, true, &v, 1, 1);
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v = 0x5a;
	ata_disk_pio(ata_tf_disk, port, false, &v, 1, 1);
	return v;
}

static inline uint8_t status(void)
{
	return inb(ATA_CMD_BASE + ATA_REG_STATUS_COMMAND);
}

static inline uint8_t error_reg(void)
{
	return inb(ATA_CMD_BASE + ATA_REG_ERROR_FEATURE);
}

static inline void command(uint8_t cmd)
{
	outb(ATA_CMD_BASE + ATA_REG_STATUS_COMMAND, cmd);
}

static inline void set_lba28(uint32_t lba, uint8_t count)
{
	outb(ATA_CMD_BASE + ATA_REG_DEVICE, (uint8_t)(0xe0 | ((lba >> 24) & 0x0f)));
	outb(ATA_CMD_BASE + ATA_REG_COUNT, count);
	outb(ATA_CMD_BASE + ATA_REG_LBA_LOW, (uint8_t)lba);
	outb(ATA_CMD_BASE + ATA_REG_LBA_MID, (uint8_t)(lba >> 8));
	outb(ATA_CMD_BASE + ATA_REG_LBA_HIGH, (uint8_t)(lba >> 16));
}

/* The LBA48 order: high-order bytes first, each register written twice. */
static inline void set_lba48(uint64_t lba, uint16_t count)
{
	outb(ATA_CMD_BASE + ATA_REG_DEVICE, 0x40);
	outb(ATA_CMD_BASE + ATA_REG_COUNT, (uint8_t)(count >> 8));
	outb(ATA_CMD_BASE + ATA_REG_LBA_LOW, (uint8_t)(lba >> 24));
	outb(ATA_CMD_BASE + ATA_REG_LBA_MID, (uint8_t)(lba >> 32));
	outb(ATA_CMD_BASE + ATA_REG_LBA_HIGH, (uint8_t)(lba >> 40));
	outb(ATA_CMD_BASE + ATA_REG_COUNT, (uint8_t)count);
	outb(ATA_CMD_BASE + ATA_REG_LBA_LOW, (uint8_t)lba);
	outb(ATA_CMD_BASE + ATA_REG_LBA_MID, (uint8_t)(lba >> 8));
	outb(ATA_CMD_BASE + ATA_REG_LBA_HIGH, (uint8_t)(lba >> 16));
}

#endif
