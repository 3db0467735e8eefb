// SPDX-License-Identifier: MIT
#include "events.h"

#include "hypercall.h"

static struct pvkvm_shared_info *shared;
static uint64_t stashed[PVKVM_EVTCHN_WORDS];

static inline uint64_t port_bit(uint32_t port)
{
	return 1ull << (port % 64);
}

void evt_init(struct pvkvm_shared_info *si)
{
	shared = si;
}

struct pvkvm_shared_info *evt_shared_info(void)
{
	return shared;
}

bool evt_test_and_clear(uint32_t port)
{
	uint32_t w = port / 64;
	uint64_t bit = port_bit(port);
	bool hit;

	if (port >= PVKVM_EVTCHN_MAX)
		return false;
	hit = __atomic_fetch_and(&stashed[w], ~bit, __ATOMIC_ACQ_REL) & bit;
	/* Clear the shared bit even after a stash hit: both stand for the
	 * same "look at your ring again", and one look covers both. */
	if (__atomic_fetch_and(&shared->evtchn_pending[w], ~bit,
			       __ATOMIC_ACQ_REL) & bit)
		hit = true;
	return hit;
}

bool evt_is_pending(uint32_t port)
{
	uint32_t w = port / 64;
	uint64_t bit = port_bit(port);

	if (port >= PVKVM_EVTCHN_MAX)
		return false;
	return (__atomic_load_n(&stashed[w], __ATOMIC_ACQUIRE) |
		__atomic_load_n(&shared->evtchn_pending[w], __ATOMIC_ACQUIRE)) &
	       bit;
}

void evt_mask(uint32_t port)
{
	if (port < PVKVM_EVTCHN_MAX)
		__atomic_fetch_or(&shared->evtchn_mask[port / 64],
				  port_bit(port), __ATOMIC_ACQ_REL);
}

void evt_unmask(uint32_t port)
{
	if (port < PVKVM_EVTCHN_MAX)
		__atomic_fetch_and(&shared->evtchn_mask[port / 64],
				   ~port_bit(port), __ATOMIC_ACQ_REL);
}

void evt_stash_pending(uint32_t keep_port)
{
	for (uint32_t w = 0; w < PVKVM_EVTCHN_WORDS; w++) {
		uint64_t keep = __atomic_load_n(&shared->evtchn_mask[w],
						__ATOMIC_ACQUIRE);
		uint64_t taken;

		if (keep_port && keep_port / 64 == w)
			keep |= port_bit(keep_port);
		if (!(__atomic_load_n(&shared->evtchn_pending[w],
				      __ATOMIC_ACQUIRE) & ~keep))
			continue;
		taken = __atomic_fetch_and(&shared->evtchn_pending[w], keep,
					   __ATOMIC_ACQ_REL) & ~keep;
		__atomic_fetch_or(&stashed[w], taken, __ATOMIC_ACQ_REL);
	}
}

int evt_wait_for(uint32_t port, uint64_t deadline_ns)
{
	for (;;) {
		int64_t r;

		evt_stash_pending(port);
		if (evt_test_and_clear(port))
			return 0;
		r = hc1(PVKVM_HC_WAIT, deadline_ns);
		if (r == -PVKVM_ETIMEDOUT)
			return evt_test_and_clear(port) ? 0 : -PVKVM_ETIMEDOUT;
		if (r < 0)
			return (int)r;
	}
}

int evt_sleep_until(uint64_t deadline_ns)
{
	for (;;) {
		int64_t r;

		evt_stash_pending(0);
		r = hc1(PVKVM_HC_WAIT, deadline_ns);
		if (r < 0)
			return (int)r;
	}
}
