/* SPDX-License-Identifier: MIT */
/*
 * mode=fv-dma: the emulated ATA drive of dev_ata.h behind a PCI-IDE-style
 * bus-master DMA controller (SFF-8038i), the way full-virt guests really
 * drive an IDE disk (Linux's ata_piix/ata_bmdma paths): the driver builds a
 * table of Physical Region Descriptors in its memory, writes the table's
 * address to BMIDTP, the taskfile and a READ/WRITE DMA (EXT) command, then
 * START in BMICX; the controller moves the data and latches the drive's
 * interrupt in BMISX. So a request costs a dozen register traps, not one
 * per 16-bit word (or string chunk) as PIO does.
 *
 * The transfer runs on the vCPU thread that wrote START (or the command,
 * whichever completes the pair), inside that one trap: pvkern has no
 * interrupt line, so it polls BMISX; an engine on an I/O thread would only
 * make it spin on BMISX reads (one exit each), a count set by the disk's
 * latency, not by the device model. Done inside the trap, the first poll
 * sees the completion, as an interrupt-driven guest takes one interrupt.
 * Data moves by preadv/pwritev straight between the image and the guest's
 * regions, O_DIRECT when every region allows it (as the other modes do).
 *
 * Every PRD and every region goes through the checked guest-memory accessor;
 * anything below PVKVM_GUEST_LOAD_MIN (the VMM's page and descriptor
 * tables) or outside RAM is a bus error: BMISX.ERROR, the command ends with
 * ERR/ABRT, and no byte moves.
 *
 * The bus-master registers sit at ATA_BM_BASE (on PCI, BAR4 of the IDE
 * function; here announced under platform/ata-dma/0/ in the store).
 */
#ifndef PVKVM_DEV_ATA_DMA_H
#define PVKVM_DEV_ATA_DMA_H

#include <stdbool.h>
#include <stdint.h>

#include "host/block/dev_ata.h"

struct blk_image;
struct guest_mem;
struct stats_group;

#define ATA_BM_BASE 0xc040u /* the primary channel's 8 bus-master ports */
#define ATA_BM_PORTS 8u

/* Register offsets from ATA_BM_BASE */
#define ATA_BM_REG_CMD 0u    /* BMICX, 8 bits */
#define ATA_BM_REG_STATUS 2u /* BMISX, 8 bits */
#define ATA_BM_REG_PRDT 4u   /* BMIDTP, 32 bits, dword-aligned */

/* BMICX */
#define ATA_BM_CMD_START 0x01u     /* start/stop bus master */
#define ATA_BM_CMD_TO_MEMORY 0x08u /* RWCON: 1 = write memory (disk reads) */
/* BMISX */
#define ATA_BM_ST_ACTIVE 0x01u     /* read-only: transfer not finished */
#define ATA_BM_ST_ERROR 0x02u      /* write 1 to clear: bus (address) error */
#define ATA_BM_ST_INTR 0x04u       /* write 1 to clear: the drive's INTRQ */
#define ATA_BM_ST_DRV0_DMA 0x20u   /* read/write, for the driver's use */
#define ATA_BM_ST_DRV1_DMA 0x40u
#define ATA_BM_ST_SIMPLEX 0x80u    /* read-only, 0 */

/* A Physical Region Descriptor, little-endian in guest memory. */
struct ata_prd {
	uint32_t base;      /* physical address; bit 0 ignored (even) */
	uint32_t flags_len; /* bits 15:1 byte count (0 = 64 KiB), bit 31 EOT */
};
_Static_assert(sizeof(struct ata_prd) == 8, "PRD is 8 bytes");

#define ATA_PRD_EOT 0x80000000u
#define ATA_PRD_LEN_MASK 0xfffeu
#define ATA_PRD_MAX_BYTES 0x10000u
/* The table is dword-aligned and may not cross a 64 KiB boundary. */
#define ATA_PRD_TABLE_SPAN 0x10000u
#define ATA_PRD_MAX_ENTRIES (ATA_PRD_TABLE_SPAN / sizeof(struct ata_prd))

struct ata_dma;

/* img and mem stay the caller's and must outlive the device. NULL on
 * ENOMEM. */
struct ata_dma *ata_dma_new(const struct blk_image *img,
			    const struct guest_mem *mem, const char *serial);
void ata_dma_free(struct ata_dma *x);

/* The drive: its taskfile ports are ata_disk_pio() on it. */
struct ata_disk *ata_dma_disk(struct ata_dma *x);

/* The pio_fn of the bus-master ports (ctx: the struct ata_dma). */
void ata_dma_bm_pio(void *ctx, uint16_t port, bool is_write, void *data,
		    uint32_t len, uint32_t count);

/* Counters: bus-master accesses, DMA commands, PRDs, bytes, errors. */
struct stats_group *ata_dma_stats(struct ata_dma *x);

#endif
