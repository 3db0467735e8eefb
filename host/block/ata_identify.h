/* SPDX-License-Identifier: MIT */
/*
 * The 256-word IDENTIFY DEVICE page of the emulated ATA disk (ATA8-ACS).
 * Kept apart from the register model: it is pure data, and tests read it
 * word by word.
 */
#ifndef PVKVM_ATA_IDENTIFY_H
#define PVKVM_ATA_IDENTIFY_H

#include <stdbool.h>
#include <stdint.h>

#define ATA_IDENTIFY_WORDS 256u
#define ATA_MAX_MULTIPLE 16u /* sectors per DRQ block for READ/WRITE MULTIPLE */

/* Legacy CHS geometry reported for drivers that still translate. */
#define ATA_CHS_HEADS 16u
#define ATA_CHS_SPT 63u
#define ATA_CHS_MAX_CYLS 16383u

struct ata_identity {
	uint64_t sectors;
	uint8_t multiple;   /* current READ/WRITE MULTIPLE setting, 0 = off */
	const char *serial; /* <= 20 chars */
	const char *model;  /* <= 40 chars */
	const char *firmware; /* <= 8 chars */
	bool dma;           /* behind a bus-master controller: DMA modes */
	uint8_t dma_mode;   /* selected by SET FEATURES: 0x20|n MWDMA, 0x40|n UDMA */
};

/* Fills words[256], little-endian as they go out of the data port. */
void ata_identify_build(const struct ata_identity *id,
			uint16_t words[ATA_IDENTIFY_WORDS]);

/* An ATA string field: two characters per word, the first in the high byte,
 * padded with spaces. Exposed for tests that read the page back. */
void ata_string_put(uint16_t *words, unsigned int nwords, const char *s);
void ata_string_get(const uint16_t *words, unsigned int nwords, char *out);

#endif
