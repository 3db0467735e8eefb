/* SPDX-License-Identifier: MIT */
/*
 * The hypercall page: one 32-byte stub per hypercall number, exactly as
 * hypercall/pvkvm_abi.h documents. The same bytes go to a CPL3 guest (at the
 * page its ELF note names, while loading) and to a CPL0 guest (when it writes
 * PVKVM_MSR_HYPERCALL_PAGE).
 */
#ifndef PVKVM_HYPERCALL_PAGE_H
#define PVKVM_HYPERCALL_PAGE_H

#include <stdint.h>

struct guest_mem;

/* Fills a PVKVM_PAGE_SIZE buffer with every stub. */
void hypercall_page_fill(uint8_t *page);

/* Fills the guest page at gpa. 0, -EINVAL (not page-aligned) or -EFAULT. */
int hypercall_page_install(struct guest_mem *mem, uint64_t gpa);

#endif
