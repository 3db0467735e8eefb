/* SPDX-License-Identifier: MIT */
/*
 * Guest RAM as the VMM sees it, and the only checked ways in.
 *
 * Two kinds of access, two functions:
 *  - The VMM's own use of its structures (page tables, descriptor tables,
 *    start-info, loading the image): gmem_ptr(), which checks only that the
 *    range is RAM.
 *  - Anything a guest names (a hypercall buffer, a grant's frame, the grant
 *    table itself): gmem_guest_ptr() and its copies, which also check that
 *    the guest may touch every page of the range itself, with that access.
 *    A guest must not get the VMM to read or write what its own page tables
 *    forbid it: the VMM's supervisor pages, its read-only start-info, its
 *    write-protected text and hypercall page.
 *
 * The per-page rights live here (one byte per 4 KiB page) and are the single
 * source for both the checks and the CPL3 page tables (x86_cpl3.c builds its
 * leaves from them), so what the guest's MMU enforces and what a hypercall
 * enforces cannot drift apart. No other file adds a guest-supplied number to
 * a host pointer.
 */
#ifndef PVKVM_GUEST_MEM_H
#define PVKVM_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the guest may do with a page itself. */
enum gmem_access {
	GMEM_NONE = 0,   /* supervisor-only: the VMM's */
	GMEM_READ = 1u << 0,
	GMEM_WRITE = 1u << 1,
	GMEM_EXEC = 1u << 2,
	GMEM_RW = GMEM_READ | GMEM_WRITE,
	GMEM_RX = GMEM_READ | GMEM_EXEC,
	GMEM_RWX = GMEM_READ | GMEM_WRITE | GMEM_EXEC,
};

struct guest_mem {
	uint8_t *host_base; /* mmap of the memfd, MAP_SHARED */
	uint64_t size;      /* bytes, a multiple of 2 MiB */
	int memfd;          /* shareable with another process (ivshmem) */
	uint8_t *access;    /* enum gmem_access per 4 KiB page */
};

/* Allocates size bytes of zeroed, memfd-backed RAM. Every page starts
 * GMEM_RWX (a guest that owns all its RAM); the CPL3 machine narrows it.
 * 0 or -errno. */
int gmem_create(struct guest_mem *m, uint64_t size);
void gmem_destroy(struct guest_mem *m);

/*
 * The VMM's own access: host pointer for guest-physical [gpa, gpa + len), or
 * NULL when any byte of it lies outside guest RAM or gpa + len overflows.
 * len 0 is valid for any gpa <= size. Never with a guest-supplied address.
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

/* Sets the guest's rights on the pages of [gpa, gpa + len) (rounded out to
 * whole pages). Set-up time only, before vCPUs run. 0 or -EFAULT. */
int gmem_set_access(struct guest_mem *m, uint64_t gpa, uint64_t len,
		    unsigned int acc);
/* The guest's rights on the page holding gpa (GMEM_NONE outside RAM). */
unsigned int gmem_page_access(const struct guest_mem *m, uint64_t gpa);

/*
 * For a guest-named range: as gmem_ptr(), and NULL as well unless every page
 * of [gpa, gpa + len) grants the guest all of acc (GMEM_READ for a buffer the
 * VMM reads, GMEM_WRITE for one it writes). len 0 needs only gpa <= size.
 */
void *gmem_guest_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len,
		     unsigned int acc);
bool gmem_guest_ok(const struct guest_mem *m, uint64_t gpa, uint64_t len,
		   unsigned int acc);

/* Copies from / to a guest-named buffer, checked as gmem_guest_ptr() with
 * GMEM_READ / GMEM_WRITE. 0, or -EFAULT and nothing copied. */
int gmem_guest_read(const struct guest_mem *m, uint64_t gpa, void *dst,
		    size_t len);
int gmem_guest_write(const struct guest_mem *m, uint64_t gpa,
		     const void *src, size_t len);

#endif
