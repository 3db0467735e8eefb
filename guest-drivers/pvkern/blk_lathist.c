// SPDX-License-Identifier: MIT
#include "blk_lathist.h"

#include "klib.h"

void lat_hist_reset(struct lat_hist *h)
{
	memset(h, 0, sizeof(*h));
}

static unsigned int bucket_of(uint64_t ns)
{
	unsigned int e, shift;

	if (ns < LAT_SUB)
		return (unsigned int)ns;
	e = 63u - (unsigned int)__builtin_clzll(ns);
	if (e > LAT_MAX_EXP)
		return LAT_BUCKETS - 1;
	shift = e - LAT_SUB_BITS;
	/* (ns >> shift) lies in [LAT_SUB, 2 * LAT_SUB). */
	return LAT_SUB + shift * LAT_SUB + (unsigned int)((ns >> shift) - LAT_SUB);
}

static uint64_t bucket_floor(unsigned int b)
{
	unsigned int shift;

	if (b < LAT_SUB)
		return b;
	shift = (b - LAT_SUB) / LAT_SUB;
	return (uint64_t)(LAT_SUB + (b - LAT_SUB) % LAT_SUB) << shift;
}

void lat_hist_add(struct lat_hist *h, uint64_t ns)
{
	h->bucket[bucket_of(ns)]++;
	h->count++;
}

uint64_t lat_hist_percentile(const struct lat_hist *h, unsigned int permille)
{
	uint64_t want, seen = 0;

	if (!h->count)
		return 0;
	/* The smallest bucket with at least ceil(count * p) samples at or
	 * below it. */
	want = (h->count * permille + 999) / 1000;
	if (!want)
		want = 1;
	for (unsigned int b = 0; b < LAT_BUCKETS; b++) {
		seen += h->bucket[b];
		if (seen >= want)
			return bucket_floor(b);
	}
	return bucket_floor(LAT_BUCKETS - 1);
}
