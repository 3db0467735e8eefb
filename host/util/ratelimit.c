// SPDX-License-Identifier: MIT
#include "host/util/ratelimit.h"

bool ratelimit_allow(struct ratelimit *r, uint64_t now_ns, uint64_t *held_back)
{
	uint64_t next = atomic_load(&r->next_ns);
	/* One thread wins the slot; the others are counted. */
	if ((next != 0 && now_ns < next) ||
	    !atomic_compare_exchange_strong(&r->next_ns, &next, now_ns + r->interval_ns)) {
		atomic_fetch_add(&r->suppressed, 1);
		return false;
	}
	*held_back = atomic_exchange(&r->suppressed, 0);
	return true;
}
