/* SPDX-License-Identifier: MIT */
/*
 * Waiting for one answer on a ring with a deadline, for the programs that
 * drive a ring by hand (the hostile frontends). A macro because every ring
 * type has its own take function (ring/pvkvm_ring.h generates them).
 */
#ifndef PVKERN_RING_WAIT_H
#define PVKERN_RING_WAIT_H

#include "klib.h"
#include "time.h"

/* take_fn(ring, rsp) until it answers or deadline_ns passes: 0 when it
 * took one, -1 on a broken ring or at the deadline. */
#define RING_TAKE_UNTIL(take_fn, ring, rsp, deadline_ns)                   \
	({                                                                  \
		uint64_t dl_ = (deadline_ns);                               \
		int r_;                                                     \
		while ((r_ = take_fn(ring, rsp)) == 0 && now_ns() <= dl_)   \
			cpu_relax();                                        \
		r_ == 1 ? 0 : -1;                                           \
	})

#endif
