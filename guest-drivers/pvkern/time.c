// SPDX-License-Identifier: MIT
#include "time.h"

#include "hypercall.h"
#include "klib.h"

static struct pvkvm_time ref;

int time_init(void)
{
	int64_t r = hc1(PVKVM_HC_TIME, &ref);

	if (r < 0)
		return (int)r;
	return ref.tsc_khz ? 0 : -PVKVM_EINVAL;
}

uint64_t tsc_khz(void)
{
	return ref.tsc_khz;
}

/* Split so cycles * 10^6 cannot overflow: the quotient part is exact and the
 * remainder is below tsc_khz (< 2^32), times 10^6 stays below 2^52. */
uint64_t tsc_to_ns(uint64_t cycles)
{
	uint64_t khz = ref.tsc_khz;

	return cycles / khz * NS_PER_MS + cycles % khz * NS_PER_MS / khz;
}

uint64_t now_ns(void)
{
	uint64_t tsc = rdtsc();

	/* A TSC read on another vCPU may be a little behind the reference. */
	if (tsc < ref.tsc)
		return ref.monotonic_ns;
	return ref.monotonic_ns + tsc_to_ns(tsc - ref.tsc);
}

uint64_t host_now_ns(void)
{
	struct pvkvm_time t;

	if (hc1(PVKVM_HC_TIME, &t) < 0)
		return now_ns();
	return t.monotonic_ns;
}
