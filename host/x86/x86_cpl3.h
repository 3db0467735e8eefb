/* SPDX-License-Identifier: MIT */
/*
 * The machine a deprivileged (CPL3) guest runs on: page tables, GDT, IDT,
 * CPL0 fault stubs and one TSS per vCPU, all built by the VMM in guest RAM
 * below PVKVM_GUEST_LOAD_MIN and mapped supervisor-only, so the guest can
 * neither read nor change them.
 *
 * Guest-physical layout below 1 MiB (page 0 is left unmapped so a NULL
 * dereference faults):
 *
 *   0x01000  PML4
 *   0x02000  PDPT
 *   0x03000  page table of the first 2 MiB (4 KiB pages)
 *   0x04000  page directories, one per GiB of RAM (CPL3_MAX_PDS)
 *   0x10000  start-info (user, read-only)      PVKVM_GPA_START_INFO
 *   0x11000  shared-info (user, read-write)    PVKVM_GPA_SHARED_INFO
 *   0x12000  GDT
 *   0x13000  IDT (256 gates)
 *   0x14000  fault stubs, 16 bytes per vector
 *   0x20000  per-vCPU area, CPL3_VCPU_STRIDE each: TSS + I/O bitmap at +0,
 *            the CPL0 fault stack below +CPL3_VCPU_STRIDE (TSS.rsp0)
 *   0xe0000  page-table pool: 4 KiB tables for the 2 MiB regions above the
 *            first whose pages do not all have the same rights
 *
 * From PVKVM_GUEST_LOAD_MIN to the top of RAM each page is mapped with the
 * rights guest_mem's access map gives it: user read-write-execute until a
 * loader narrows it (elf_apply_access: r-x text, r-- rodata and the
 * hypercall page, rw- NX data and free memory).
 */
#ifndef PVKVM_X86_CPL3_H
#define PVKVM_X86_CPL3_H

#include <stdbool.h>
#include <stdint.h>

#include "hypercall/pvkvm_abi.h"

struct guest_mem;
struct kvm_sregs;

#define CPL3_GPA_PML4 0x1000u
#define CPL3_GPA_PDPT 0x2000u
#define CPL3_GPA_PT_LOW 0x3000u
#define CPL3_GPA_PD 0x4000u
#define CPL3_MAX_PDS 8u
#define CPL3_GPA_GDT 0x12000u
#define CPL3_GPA_IDT 0x13000u
#define CPL3_GPA_FAULT_STUBS 0x14000u
#define CPL3_FAULT_STUB_SIZE 16u
#define CPL3_GPA_VCPU_AREA 0x20000u
#define CPL3_VCPU_STRIDE 0x6000u
#define CPL3_GPA_PT_POOL 0xe0000u
#define CPL3_PT_POOL_PAGES 32u

/* RAM the page directories can map. */
#define CPL3_MAX_MEM ((uint64_t)CPL3_MAX_PDS << 30)
/* RAM is mapped in 2 MiB pages above the first 2 MiB. */
#define CPL3_MEM_ALIGN (2ull << 20)

/* 64-bit TSS (Intel SDM vol. 3 fig. 8-11 / AMD APM vol. 2 fig. 12-8). */
struct cpl3_tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iopb_offset;
} __attribute__((packed));
_Static_assert(sizeof(struct cpl3_tss) == 0x68, "64-bit TSS is 104 bytes");

#define CPL3_IO_PORTS 65536u
#define CPL3_IOPB_BYTES (CPL3_IO_PORTS / 8u)
/* The TSS, the I/O bitmap and the all-ones byte the CPU may read past it. */
#define CPL3_TSS_LIMIT (sizeof(struct cpl3_tss) + CPL3_IOPB_BYTES)

_Static_assert(CPL3_GPA_VCPU_AREA + PVKVM_MAX_VCPUS * CPL3_VCPU_STRIDE <=
		       PVKVM_GUEST_LOAD_MIN,
	       "per-vCPU areas stay below the guest's load area");
_Static_assert(CPL3_GPA_VCPU_AREA + PVKVM_MAX_VCPUS * CPL3_VCPU_STRIDE <=
		       CPL3_GPA_PT_POOL &&
		       CPL3_GPA_PT_POOL + CPL3_PT_POOL_PAGES * PVKVM_PAGE_SIZE <=
		       PVKVM_GUEST_LOAD_MIN,
	       "the page-table pool sits between the vCPU areas and the load area");
_Static_assert(CPL3_TSS_LIMIT + 1 <= CPL3_VCPU_STRIDE / 2,
	       "the fault stack has room above the TSS");

/* Ports a CPL3 guest may use: one bit per port, set = allowed. */
struct cpl3_io_allow {
	uint8_t bits[CPL3_IOPB_BYTES];
};
void cpl3_io_allow_range(struct cpl3_io_allow *a, uint16_t base,
			 uint32_t count);
bool cpl3_io_allowed(const struct cpl3_io_allow *a, uint16_t port);

static inline uint64_t cpl3_vcpu_area(unsigned int cpu)
{
	return CPL3_GPA_VCPU_AREA + (uint64_t)cpu * CPL3_VCPU_STRIDE;
}

/* Writes page tables, GDT (with nr_vcpus TSS descriptors), IDT and fault
 * stubs into guest RAM, and makes every page below PVKVM_GUEST_LOAD_MIN
 * supervisor-only in mem's access map except start-info (read) and
 * shared-info (read-write). mem->size must be a multiple of CPL3_MEM_ALIGN
 * and at most CPL3_MAX_MEM. 0 or -EINVAL. */
int cpl3_build_tables(struct guest_mem *mem, unsigned int nr_vcpus);

/* Rebuilds the page tables from mem's access map (after a loader changed
 * it; before any vCPU runs). 0, -EINVAL, or -ENOSPC when more than
 * CPL3_PT_POOL_PAGES 2 MiB regions mix rights. */
int cpl3_build_page_tables(struct guest_mem *mem);

/* Whether data pages are mapped no-execute (EFER.NXE set, PTE bit 63). */
bool cpl3_nx_supported(void);

/* Writes vCPU cpu's TSS: rsp0 on its fault stack, the I/O bitmap closed
 * except for the ports in allow. 0 or -EFAULT. */
int cpl3_build_tss(struct guest_mem *mem, unsigned int cpu,
		   const struct cpl3_io_allow *allow);

/* Fills sregs for long mode on the VMM's tables: user (CPL3) segments, or
 * kernel (CPL0) ones when cpl0 (a test guest that runs privileged). */
void cpl3_fill_sregs(struct kvm_sregs *s, unsigned int cpu, bool cpl0);

/* TR type for KVM_SET_SREGS: 11 (busy), or 9 on AMD hosts (x86_cpl3.c). The
 * descriptor in the GDT is always busy, as an LTR would leave it. */
uint8_t cpl3_tr_type(void);

/* Whether the fault stubs' vector pushes an error code. */
bool cpl3_vector_has_error_code(unsigned int vector);
/* "#DE", "#GP", ... or "vector" for the unnamed ones. */
const char *cpl3_vector_name(unsigned int vector);

#endif
