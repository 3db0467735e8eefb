/* SPDX-License-Identifier: MIT */
/*
 * Memory: whole pages from a bitmap over [free_start, stack_base), and a
 * bump heap for small objects that live as long as the kernel (this kernel
 * runs one program and shuts down, so it never needs to free those).
 * Pointers are gpas: the VMM identity-maps all RAM.
 */
#ifndef PVKERN_MM_H
#define PVKERN_MM_H

#include <stddef.h>
#include <stdint.h>

#include "hypercall/pvkvm_abi.h"

#define PAGE_SIZE PVKVM_PAGE_SIZE

void mm_init(uint64_t free_start, uint64_t free_end);
/* n contiguous zeroed pages, or NULL. */
void *page_alloc(size_t n);
void page_free(void *p, size_t n);
size_t pages_free_count(void);
/* 16-byte aligned, zeroed, never freed; NULL when out of memory. */
void *kmalloc(size_t size);

static inline uint64_t gpa_to_frame(const void *p)
{
	return (uint64_t)(uintptr_t)p / PAGE_SIZE;
}

#endif
