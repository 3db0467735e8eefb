// SPDX-License-Identifier: MIT
/*
 * IDENTIFY DEVICE data. Word numbers follow ATA8-ACS section 7.16; only the
 * words a driver consults are filled, the rest stay zero (not reported).
 */
#include "host/block/ata_identify.h"

#include <string.h>

void ata_string_put(uint16_t *words, unsigned int nwords, const char *s)
{
	size_t len = strlen(s);
	for (unsigned int i = 0; i < nwords; i++) {
		unsigned int a = 2 * i, b = 2 * i + 1;
		uint8_t hi = a < len ? (uint8_t)s[a] : ' ';
		uint8_t lo = b < len ? (uint8_t)s[b] : ' ';
		words[i] = (uint16_t)(hi << 8 | lo);
	}
}

void ata_string_get(const uint16_t *words, unsigned int nwords, char *out)
{
	for (unsigned int i = 0; i < nwords; i++) {
		out[2 * i] = (char)(words[i] >> 8);
		out[2 * i + 1] = (char)(words[i] & 0xff);
	}
	unsigned int n = 2 * nwords;
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

static void put_geometry(uint16_t *w, uint64_t sectors)
{
	uint64_t cyls = sectors / (ATA_CHS_HEADS * ATA_CHS_SPT);
	if (cyls > ATA_CHS_MAX_CYLS)
		cyls = ATA_CHS_MAX_CYLS;
	uint32_t chs_capacity = (uint32_t)cyls * ATA_CHS_HEADS * ATA_CHS_SPT;
	w[1] = (uint16_t)cyls;
	w[3] = ATA_CHS_HEADS;
	w[6] = ATA_CHS_SPT;
	w[54] = (uint16_t)cyls; /* current translation = default */
	w[55] = ATA_CHS_HEADS;
	w[56] = ATA_CHS_SPT;
	w[57] = (uint16_t)chs_capacity;
	w[58] = (uint16_t)(chs_capacity >> 16);
}

static void put_capacity(uint16_t *w, uint64_t sectors)
{
	/* LBA28 can name 2^28 - 1 sectors; a bigger disk says so and lets
	 * the 48-bit words carry the truth. */
	uint32_t lba28 = sectors > 0x0fffffffu ? 0x0fffffffu : (uint32_t)sectors;
	w[60] = (uint16_t)lba28;
	w[61] = (uint16_t)(lba28 >> 16);
	for (unsigned int i = 0; i < 4; i++)
		w[100 + i] = (uint16_t)(sectors >> (16 * i));
}

static void put_features(uint16_t *w)
{
	w[49] = 1u << 9;               /* LBA supported (DMA: put_dma) */
	w[50] = 1u << 14;              /* "shall be one" */
	w[53] = 1u << 1;               /* words 64-70 valid */
	w[64] = 0x0003;                /* PIO modes 3 and 4 */
	w[65] = w[66] = w[67] = w[68] = 120; /* cycle times, ns */
	w[80] = 0x01f0;                /* ATA/ATAPI-4 .. ATA8-ACS */
	w[82] = 1u << 5;               /* volatile write cache */
	w[83] = 1u << 14 | 1u << 13 | 1u << 12 | 1u << 10; /* FLUSH (EXT), LBA48 */
	w[84] = 1u << 14;
	w[85] = 1u << 5;               /* write cache enabled: flushes matter */
	w[86] = 1u << 13 | 1u << 12 | 1u << 10;
	w[87] = 1u << 14;
	w[106] = 1u << 14;             /* word valid; 512-byte logical sectors */
}

/* The DMA words (ATA/ATAPI-6 words 49, 53, 63, 88, 93): what a driver reads
 * before it programs a bus-master transfer. Supported modes in the low
 * byte, the one SET FEATURES selected in the high byte. */
static void put_dma(uint16_t *w, const struct ata_identity *id)
{
	if (!id->dma)
		return;
	w[49] |= 1u << 8;              /* DMA supported */
	w[53] |= 1u << 2;              /* word 88 valid */
	w[63] = 0x0007;                /* multiword DMA modes 0-2 */
	w[88] = 0x003f;                /* Ultra DMA modes 0-5 */
	if ((id->dma_mode & 0xf8) == 0x20)
		w[63] |= (uint16_t)(1u << (8 + (id->dma_mode & 7)));
	else if ((id->dma_mode & 0xf8) == 0x40)
		w[88] |= (uint16_t)(1u << (8 + (id->dma_mode & 7)));
	/* Hardware reset result: device 0 passed, 80-conductor cable (CBLID
	 * above ViH), which Ultra DMA modes above 2 require. */
	w[93] = 1u << 14 | 1u << 13 | 1u << 3 | 1u << 1 | 1u;
}

/* Word 255: signature A5h and a checksum byte making all 512 bytes sum to 0. */
static void put_integrity(uint16_t *w)
{
	w[255] = 0x00a5;
	uint8_t sum = 0;
	for (unsigned int i = 0; i < ATA_IDENTIFY_WORDS; i++)
		sum = (uint8_t)(sum + (w[i] & 0xff) + (w[i] >> 8));
	w[255] = (uint16_t)((uint8_t)(-sum) << 8 | 0xa5);
}

void ata_identify_build(const struct ata_identity *id,
			uint16_t words[ATA_IDENTIFY_WORDS])
{
	memset(words, 0, ATA_IDENTIFY_WORDS * sizeof(words[0]));
	words[0] = 0x0040; /* ATA device, fixed media */
	put_geometry(words, id->sectors);
	ata_string_put(&words[10], 10, id->serial);
	ata_string_put(&words[23], 4, id->firmware);
	ata_string_put(&words[27], 20, id->model);
	words[47] = 0x8000 | ATA_MAX_MULTIPLE;
	words[59] = (uint16_t)((id->multiple ? 1u << 8 : 0) | id->multiple);
	put_features(words);
	put_dma(words, id);
	put_capacity(words, id->sectors);
	put_integrity(words);
}
