/* SPDX-License-Identifier: MIT */
/*
 * Grant-table client: lets the host reach one page of ours, read-only or
 * read-write, until we end access. Reference 0 is never handed out.
 */
#ifndef PVKERN_GNTTAB_H
#define PVKERN_GNTTAB_H

#include <stdbool.h>
#include <stdint.h>

#include "hypercall/pvkvm_abi.h"

/* Allocates a table of nr_entries and registers it: 0 or a PVKVM_E*. */
int gnttab_init(uint32_t nr_entries);
/* A reference (> 0) for frame, or -PVKVM_ENOSPC. */
int gnttab_grant(uint64_t frame, bool readonly);
/* Revokes ref: 0, -PVKVM_EBUSY while the host holds it (try again later),
 * -PVKVM_EINVAL for a reference we did not grant. */
int gnttab_end_access(uint32_t ref);
/* The live entry, for tests that look at the flags the host sets. */
const struct pvkvm_grant_entry *gnttab_entry(uint32_t ref);
uint32_t gnttab_size(void);

#endif
