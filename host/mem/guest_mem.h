/* SPDX-License-Identifier: MIT */
/*
 * Guest RAM as the VMM sees it, and the only checked way in.
 *
 * Every host access to guest memory goes through gmem_ptr() (or a grant,
 * see grant.h, which ends in gmem_ptr()). No other file adds a guest-supplied
 * number to a host pointer: one place checks range and overflow.
 */
#ifndef PVKVM_GUEST_MEM_H
#define PVKVM_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_mem {
	uint8_t *host_base; /* mmap of the memfd, MAP_SHARED */
	uint64_t size;      /* bytes, a multiple of 2 MiB */
	int memfd;          /* shareable with another process (ivshmem) */
};

/* Allocates size bytes of zeroed, memfd-backed RAM. 0 or -errno. */
int gmem_create(struct guest_mem *m, uint64_t size);
void gmem_destroy(struct guest_mem *m);

/*
 * Host pointer for guest-physical [gpa, gpa + len), or NULL when any byte of
 * it lies outside guest RAM or gpa + len overflows. len 0 is valid for any
 * gpa <= size.
 */
void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Copies, checked as gmem_ptr(). 0, or -EFAULT and nothing copied. */
int gmem_read(const struct guest_mem *m, uint64_t gpa, void *dst, size_t len);
int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src,
	       size_t len);

static inline bool gmem_range_ok(const struct guest_mem *m, uint64_t gpa,
				 uint64_t len)
{
	return gpa <= m->size && len <= m->size - gpa;
}

#endif
