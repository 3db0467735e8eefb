/* SPDX-License-Identifier: MIT */
/*
 * A double-fetch detector for the fuzz harnesses.
 *
 * Shared memory the harness wants watched is made PROT_NONE. Every access to
 * it faults; the handler records a read (the fault's error code says read or
 * write), opens the page for exactly one instruction (the trap flag), and
 * closes it again on the debug trap. A second read of the same byte address
 * within one "request" (a generation the harness advances) aborts the run:
 * the host looked twice at something the guest may change in between.
 *
 * Only accesses from user space are seen: a system call handed a watched
 * page gets EFAULT, so data pages the kernel reads or writes (preadv into a
 * granted page) must not be watched. Writes are allowed and not recorded.
 */
#ifndef PVKVM_FUZZ_DFETCH_H
#define PVKVM_FUZZ_DFETCH_H

#include <stddef.h>
#include <stdint.h>

/* Installs the fault and trap handlers (chaining to the sanitizer's for
 * faults outside watched memory). Call from inside the first test input:
 * libFuzzer installs its own handlers after LLVMFuzzerInitialize. */
void dfetch_init(void);

/* Watches [base, base + len) (page-aligned) from now on; reads of
 * [base + skip, base + len) are recorded, the first skip bytes (indices a
 * consumer legitimately re-reads) are only let through. Up to 8 regions. */
void dfetch_watch(void *base, size_t len, size_t skip);
/* Stops watching every region (pages become read-write again). */
void dfetch_unwatch_all(void);

/* A new request: reads recorded before no longer count. */
void dfetch_next_request(void);

/* Reads recorded since dfetch_watch (statistics for the harness). */
uint64_t dfetch_reads(void);

#endif
