/* SPDX-License-Identifier: MIT */
/*
 * Time: the VMM's CLOCK_MONOTONIC (the clock of WAIT deadlines), extended
 * between hypercalls with the TSC, so reading the time costs no exit.
 */
#ifndef PVKERN_TIME_H
#define PVKERN_TIME_H

#include <stdint.h>

#include "hypercall/pvkvm_abi.h"

#define NS_PER_MS 1000000ull
#define NS_PER_SEC 1000000000ull

/* Takes a reference point from PVKVM_HC_TIME; 0 or its error. */
int time_init(void);
/* Monotonic ns from the TSC and the reference point. */
uint64_t now_ns(void);
/* Monotonic ns straight from the VMM (one exit): for checking deadlines
 * against the very clock the VMM used. */
uint64_t host_now_ns(void);
uint64_t tsc_khz(void);
/* TSC cycles -> ns, without 128-bit arithmetic. */
uint64_t tsc_to_ns(uint64_t cycles);

#endif
