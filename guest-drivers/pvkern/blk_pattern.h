/* SPDX-License-Identifier: MIT */
/*
 * The verification pattern blkverify writes and checks, and the host-side
 * tests reproduce byte for byte (tests/e2e/test_block.c). Sector s of a
 * pattern with seed k holds:
 *   bytes 0..7    s, little-endian
 *   bytes 8..15   k, little-endian
 *   byte i >= 16  (uint8_t)(s * 7 + k * 13 + i)
 * so a sector written to the wrong place, a stale sector and a sector of
 * another run all fail the check.
 */
#ifndef PVKERN_BLK_PATTERN_H
#define PVKERN_BLK_PATTERN_H

#include <stdbool.h>
#include <stdint.h>

#define BLK_PATTERN_SECTOR 512u

static inline void blk_pattern_fill(uint8_t *sec, uint64_t s, uint64_t k)
{
	for (unsigned int i = 0; i < 8; i++) {
		sec[i] = (uint8_t)(s >> (8 * i));
		sec[8 + i] = (uint8_t)(k >> (8 * i));
	}
	for (unsigned int i = 16; i < BLK_PATTERN_SECTOR; i++)
		sec[i] = (uint8_t)(s * 7 + k * 13 + i);
}

/* The first byte that differs, or -1 when the sector is right. */
static inline int blk_pattern_check(const uint8_t *sec, uint64_t s, uint64_t k)
{
	uint8_t want[BLK_PATTERN_SECTOR];

	blk_pattern_fill(want, s, k);
	for (unsigned int i = 0; i < BLK_PATTERN_SECTOR; i++)
		if (sec[i] != want[i])
			return (int)i;
	return -1;
}

#endif
