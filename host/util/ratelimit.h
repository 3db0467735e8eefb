/* SPDX-License-Identifier: MIT */
/*
 * A log line a guest can trigger at will (a ring it breaks and reconnects
 * forever) must not let it flood the operator's log: at most one line per
 * interval, and the next line that gets out says how many were held back.
 */
#ifndef PVKVM_RATELIMIT_H
#define PVKVM_RATELIMIT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct ratelimit {
	uint64_t interval_ns;
	_Atomic uint64_t next_ns;            /* 0: nothing printed yet */
	atomic_uint_fast64_t suppressed;     /* since the last line printed */
};

#define RATELIMIT_INIT(interval) { (interval), 0, 0 }

/* True when a line may be printed at now_ns (then *held_back is the number
 * of lines suppressed since the previous one); false, and counted, when
 * not. Thread-safe. */
bool ratelimit_allow(struct ratelimit *r, uint64_t now_ns, uint64_t *held_back);

#endif
