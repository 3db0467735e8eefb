/* SPDX-License-Identifier: MIT */
/*
 * Hypercalls: a `call` into the stub the VMM wrote at hypercall_page + nr*32.
 * Arguments in rdi, rsi, rdx, r10, r8, result in rax (negative PVKVM_E* on
 * failure). The stubs promise to preserve every other register; the argument
 * registers are still declared as outputs so a VMM that broke that promise
 * could not silently corrupt the caller.
 *
 * Macros rather than functions: the stub offset must be an assemble-time
 * constant ("i") whatever the optimisation level.
 */
#ifndef PVKERN_HYPERCALL_H
#define PVKERN_HYPERCALL_H

#include <stdint.h>

#include "hypercall/pvkvm_abi.h"

extern char hypercall_page[];

#define hc5(nr, a1, a2, a3, a4, a5)                                           \
	({                                                                    \
		/* Evaluate every argument first: an argument that is itself \
		 * a call (strlen) would clobber an already-loaded register   \
		 * variable. */                                               \
		uint64_t hc_a1_ = (uint64_t)(a1), hc_a2_ = (uint64_t)(a2);   \
		uint64_t hc_a3_ = (uint64_t)(a3), hc_a4_ = (uint64_t)(a4);   \
		uint64_t hc_a5_ = (uint64_t)(a5);                             \
		register uint64_t hc_rdi_ asm("rdi") = hc_a1_;               \
		register uint64_t hc_rsi_ asm("rsi") = hc_a2_;               \
		register uint64_t hc_rdx_ asm("rdx") = hc_a3_;               \
		register uint64_t hc_r10_ asm("r10") = hc_a4_;               \
		register uint64_t hc_r8_ asm("r8") = hc_a5_;                 \
		int64_t hc_ret_;                                              \
		asm volatile("call hypercall_page + %c[off]"                  \
			     : "=a"(hc_ret_), "+r"(hc_rdi_), "+r"(hc_rsi_),   \
			       "+r"(hc_rdx_), "+r"(hc_r10_), "+r"(hc_r8_)     \
			     : [off] "i"((nr) * PVKVM_HYPERCALL_STUB_SIZE)    \
			     : "memory", "cc");                               \
		hc_ret_;                                                      \
	})
#define hc4(nr, a1, a2, a3, a4) hc5(nr, a1, a2, a3, a4, 0)
#define hc3(nr, a1, a2, a3) hc5(nr, a1, a2, a3, 0, 0)
#define hc2(nr, a1, a2) hc5(nr, a1, a2, 0, 0, 0)
#define hc1(nr, a1) hc5(nr, a1, 0, 0, 0, 0)
#define hc0(nr) hc5(nr, 0, 0, 0, 0, 0)

/* The hot path: a send goes through its own stub to the ioeventfd port and
 * returns nothing, so there is no result to check. */
static inline void evtchn_send(uint32_t port)
{
	(void)hc1(PVKVM_HC_EVTCHN_SEND, port);
}

#endif
