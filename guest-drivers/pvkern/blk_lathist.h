/* SPDX-License-Identifier: MIT */
/*
 * A latency histogram for percentiles without storing samples: buckets
 * exact below 32 ns, then 32 per power of two (at most ~3% wide), up to
 * 2^41 ns (~37 minutes). Fixed size, no allocation.
 */
#ifndef PVKERN_BLK_LATHIST_H
#define PVKERN_BLK_LATHIST_H

#include <stdint.h>

#define LAT_SUB_BITS 5u
#define LAT_SUB (1u << LAT_SUB_BITS)
#define LAT_MAX_EXP 41u
#define LAT_BUCKETS (LAT_SUB + (LAT_MAX_EXP - LAT_SUB_BITS + 1) * LAT_SUB)

struct lat_hist {
	uint64_t count;
	uint32_t bucket[LAT_BUCKETS];
};

void lat_hist_reset(struct lat_hist *h);
void lat_hist_add(struct lat_hist *h, uint64_t ns);
/* The value below which `permille`/1000 of the samples lie (bucket lower
 * bound), or 0 with no samples. */
uint64_t lat_hist_percentile(const struct lat_hist *h, unsigned int permille);

#endif
