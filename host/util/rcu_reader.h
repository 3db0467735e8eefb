/* SPDX-License-Identifier: MIT */
/*
 * RCU readers that are not registered are not waited for: synchronize_rcu()
 * returns under them and the memory they read is freed (issue 8, hole 3:
 * the test device's I/O thread). Every thread that takes rcu_read_lock()
 * must call rcu_register_thread() first; the read paths of the services
 * call rcu_reader_assert() so that a thread that does not fails loudly, in
 * every build, at its first read instead of as a rare use-after-free.
 */
#ifndef PVKVM_RCU_READER_H
#define PVKVM_RCU_READER_H

#include <stdbool.h>

/* Whether the calling thread is a registered liburcu reader. */
bool rcu_reader_registered(void);

/* Aborts with one line naming `where` when the calling thread is not a
 * registered reader: a programming error of the VMM, never the guest's. */
void rcu_reader_assert(const char *where);

#endif
