/* SPDX-License-Identifier: MIT */
/*
 * What an emulated DMA device (the ATA bus master, the e1000) may reach.
 * Real bus masters reach any RAM; these reach only what the guest could
 * itself touch the same way (gmem_guest_ptr's rights: GMEM_WRITE where
 * data lands, GMEM_READ where it comes from), and nothing starting below
 * PVKVM_GUEST_LOAD_MIN, where the VMM keeps the CPL3 guest's page
 * tables, descriptor tables, start-info and shared-info. So a guest
 * cannot have the VMM DMA onto its own read-only pages or the VMM's.
 */
#ifndef PVKVM_GMEM_DMA_H
#define PVKVM_GMEM_DMA_H

#include <stdint.h>
#include <string.h>

#include "host/mem/guest_mem.h"
#include "hypercall/pvkvm_abi.h"

/* Host pointer for a device's access acc to [gpa, gpa + len), or NULL. */
static inline void *gmem_dma_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len,
				 unsigned int acc)
{
	if (gpa < PVKVM_GUEST_LOAD_MIN)
		return NULL;
	return gmem_guest_ptr(m, gpa, len, acc);
}

/* Copies what a device reads from the guest, as gmem_dma_ptr(GMEM_READ). */
static inline int gmem_dma_read(const struct guest_mem *m, uint64_t gpa, void *dst,
				size_t len)
{
	const void *src = gmem_dma_ptr(m, gpa, len, GMEM_READ);
	if (!src)
		return -1;
	memcpy(dst, src, len);
	return 0;
}

#endif
