// SPDX-License-Identifier: MIT
/*
 * Builds the CPL3 guest's machine (layout in x86_cpl3.h). Every descriptor is
 * one a VT-x or AMD-V host accepts as it is: nothing here relies on the
 * leniency of the nested hypervisor these machines develop on.
 */
#include "host/x86/x86_cpl3.h"

#include <cpuid.h>
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>

#include "host/mem/guest_mem.h"

/* Page-table entry bits. */
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7)
#define PTE_XD (1ull << 63)

/* Code and data segment types (S = 1), accessed bit set as VT-x requires. */
#define SEG_TYPE_CODE_XR_A 0xbu
#define SEG_TYPE_DATA_RW_A 0x3u
#define SEG_TYPE_TSS64_BUSY 0xbu
#define SEG_TYPE_TSS64_AVAIL 0x9u
#define GATE_TYPE_INTR64 0xeu

#define GDT_ENTRIES_FIXED 5u /* null, kernel cs/ds, user ds/cs */
#define IDT_VECTORS 256u

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

void cpl3_io_allow_range(struct cpl3_io_allow *a, uint16_t base,
			 uint32_t count)
{
	for (uint32_t p = base; p < (uint32_t)base + count && p < CPL3_IO_PORTS; p++)
		a->bits[p / 8] |= (uint8_t)(1u << (p % 8));
}

bool cpl3_io_allowed(const struct cpl3_io_allow *a, uint16_t port)
{
	return a->bits[port / 8] & (1u << (port % 8));
}

/* --- page tables --------------------------------------------------------- */

/*
 * The guest's rights on each page come from guest_mem's access map (the same
 * map every hypercall buffer and grant is checked against): below
 * PVKVM_GUEST_LOAD_MIN cpl3_build_tables() sets it, above it the loader does
 * from the ELF's segment flags. The leaves here only translate it.
 */

/* NX: the host CPU has it (CPUID 0x80000001 EDX bit 20), so KVM offers it
 * to the guest, and EFER.NXE may be set. Without it PTE bit 63 is reserved:
 * data stays executable and docs/abi.md says so. */
bool cpl3_nx_supported(void)
{
	unsigned int a, b, c, d;
	if (!__get_cpuid(0x80000001u, &a, &b, &c, &d))
		return false;
	return d & (1u << 20);
}

static uint64_t leaf_bits(unsigned int acc, bool nx)
{
	if (acc == GMEM_NONE)
		return PTE_P | PTE_RW; /* the VMM's own: supervisor-only */
	uint64_t e = PTE_P | PTE_US;
	if (acc & GMEM_WRITE)
		e |= PTE_RW;
	if (nx && !(acc & GMEM_EXEC))
		e |= PTE_XD;
	return e;
}

static uint64_t low_pte(const struct guest_mem *mem, uint64_t gpa, bool nx)
{
	if (gpa == 0)
		return 0; /* unmapped: a NULL dereference faults */
	return gpa | leaf_bits(gmem_page_access(mem, gpa), nx);
}

/* The rights of every page in the 2 MiB at gpa if they agree, or -1. */
static int uniform_access(const struct guest_mem *mem, uint64_t gpa)
{
	unsigned int acc = gmem_page_access(mem, gpa);
	for (uint64_t off = PVKVM_PAGE_SIZE; off < CPL3_MEM_ALIGN; off += PVKVM_PAGE_SIZE)
		if (gmem_page_access(mem, gpa + off) != acc)
			return -1;
	return (int)acc;
}

/* The PDE for the 2 MiB at gpa: one large page when its pages agree, else
 * a 4 KiB table from the pool. -ENOSPC when the pool is used up. */
static int region_pde(struct guest_mem *mem, uint64_t gpa, bool nx,
		      unsigned int *pool_used, uint64_t *pde)
{
	int acc = uniform_access(mem, gpa);
	if (acc >= 0) {
		*pde = gpa | leaf_bits((unsigned int)acc, nx) | PTE_PS;
		return 0;
	}
	if (*pool_used == CPL3_PT_POOL_PAGES)
		return -ENOSPC;
	uint64_t pt_gpa = CPL3_GPA_PT_POOL + (uint64_t)(*pool_used)++ * PVKVM_PAGE_SIZE;
	uint64_t *pt = gmem_ptr(mem, pt_gpa, PVKVM_PAGE_SIZE);
	if (!pt)
		return -EINVAL;
	for (uint64_t i = 0; i < 512; i++) {
		uint64_t page = gpa + i * PVKVM_PAGE_SIZE;
		pt[i] = page | leaf_bits(gmem_page_access(mem, page), nx);
	}
	*pde = pt_gpa | PTE_P | PTE_RW | PTE_US;
	return 0;
}

int cpl3_build_page_tables(struct guest_mem *mem)
{
	uint64_t nr_2m = mem->size / CPL3_MEM_ALIGN;
	uint64_t nr_pds = (nr_2m + 511) / 512;
	uint64_t *pml4 = gmem_ptr(mem, CPL3_GPA_PML4, PVKVM_PAGE_SIZE);
	uint64_t *pdpt = gmem_ptr(mem, CPL3_GPA_PDPT, PVKVM_PAGE_SIZE);
	uint64_t *pt = gmem_ptr(mem, CPL3_GPA_PT_LOW, PVKVM_PAGE_SIZE);
	uint64_t *pds = gmem_ptr(mem, CPL3_GPA_PD, nr_pds * PVKVM_PAGE_SIZE);
	if (!pml4 || !pdpt || !pt || !pds || nr_pds > CPL3_MAX_PDS)
		return -EINVAL;
	bool nx = cpl3_nx_supported();
	/* Upper levels allow everything; the leaf decides (rights are ANDed). */
	const uint64_t dir = PTE_P | PTE_RW | PTE_US;
	memset(pml4, 0, PVKVM_PAGE_SIZE);
	memset(pdpt, 0, PVKVM_PAGE_SIZE);
	memset(pds, 0, nr_pds * PVKVM_PAGE_SIZE);
	pml4[0] = CPL3_GPA_PDPT | dir;
	for (uint64_t i = 0; i < nr_pds; i++)
		pdpt[i] = (CPL3_GPA_PD + i * PVKVM_PAGE_SIZE) | dir;
	for (uint64_t i = 0; i < 512; i++)
		pt[i] = low_pte(mem, i * PVKVM_PAGE_SIZE, nx);
	pds[0] = CPL3_GPA_PT_LOW | dir;
	unsigned int pool_used = 0;
	for (uint64_t i = 1; i < nr_2m; i++) {
		int r = region_pde(mem, i * CPL3_MEM_ALIGN, nx, &pool_used, &pds[i]);
		if (r)
			return r;
	}
	return 0;
}

/* The guest's rights below PVKVM_GUEST_LOAD_MIN: none, except the two
 * pages it shares with the VMM. */
static int set_low_access(struct guest_mem *mem)
{
	int r = gmem_set_access(mem, 0, PVKVM_GUEST_LOAD_MIN, GMEM_NONE);
	if (!r)
		r = gmem_set_access(mem, PVKVM_GPA_START_INFO, PVKVM_PAGE_SIZE, GMEM_READ);
	if (!r)
		r = gmem_set_access(mem, PVKVM_GPA_SHARED_INFO, PVKVM_PAGE_SIZE, GMEM_RW);
	return r;
}

/* --- GDT ----------------------------------------------------------------- */

struct seg {
	uint8_t type, dpl;
	bool s, l, db, g;
	uint32_t limit;
	uint64_t base;
};

static uint64_t seg_desc_low(const struct seg *d)
{
	uint64_t access = (uint64_t)d->type | ((uint64_t)d->s << 4) |
			  ((uint64_t)d->dpl << 5) | (1ull << 7);
	uint64_t flags = ((uint64_t)d->l << 1) | ((uint64_t)d->db << 2) |
			 ((uint64_t)d->g << 3);
	return (d->limit & 0xffffull) | ((d->base & 0xffffffull) << 16) |
	       (access << 40) | ((uint64_t)((d->limit >> 16) & 0xf) << 48) |
	       (flags << 52) | (((d->base >> 24) & 0xffull) << 56);
}

static const struct seg kernel_cs = {SEG_TYPE_CODE_XR_A, 0, true, true, false, true, 0xfffff, 0};
static const struct seg kernel_ds = {SEG_TYPE_DATA_RW_A, 0, true, false, true, true, 0xfffff, 0};
static const struct seg user_ds = {SEG_TYPE_DATA_RW_A, 3, true, false, true, true, 0xfffff, 0};
static const struct seg user_cs = {SEG_TYPE_CODE_XR_A, 3, true, true, false, true, 0xfffff, 0};

static struct seg tss_seg(unsigned int cpu)
{
	struct seg t = {SEG_TYPE_TSS64_BUSY, 0, false, false, false, false,
			CPL3_TSS_LIMIT, cpl3_vcpu_area(cpu)};
	return t;
}

static int build_gdt(struct guest_mem *mem, unsigned int nr_vcpus)
{
	uint64_t *gdt = gmem_ptr(mem, CPL3_GPA_GDT, PVKVM_PAGE_SIZE);
	if (!gdt || PVKVM_SEL_TSS(nr_vcpus) > PVKVM_PAGE_SIZE)
		return -EINVAL;
	memset(gdt, 0, PVKVM_PAGE_SIZE);
	gdt[PVKVM_SEL_KERNEL_CS / 8] = seg_desc_low(&kernel_cs);
	gdt[PVKVM_SEL_KERNEL_DS / 8] = seg_desc_low(&kernel_ds);
	gdt[PVKVM_SEL_USER_DS / 8] = seg_desc_low(&user_ds);
	gdt[PVKVM_SEL_USER_CS / 8] = seg_desc_low(&user_cs);
	for (unsigned int cpu = 0; cpu < nr_vcpus; cpu++) {
		struct seg t = tss_seg(cpu);
		unsigned int i = PVKVM_SEL_TSS(cpu) / 8;
		gdt[i] = seg_desc_low(&t);
		gdt[i + 1] = t.base >> 32; /* a system descriptor is 16 bytes */
	}
	return 0;
}

/* --- IDT and fault stubs ------------------------------------------------- */

bool cpl3_vector_has_error_code(unsigned int vector)
{
	switch (vector) {
	case 8: case 10: case 11: case 12: case 13: case 14: case 17: case 21:
	case 29: case 30:
		return true;
	default:
		return false;
	}
}

const char *cpl3_vector_name(unsigned int vector)
{
	static const char *const names[32] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
		"#DF", "vector", "#TS", "#NP", "#SS", "#GP", "#PF", "vector",
		"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "vector", "vector",
		"vector", "vector", "vector", "vector", "#HV", "#VC", "#SX", "vector"};
	return vector < 32 ? names[vector] : "interrupt";
}

/*
 * One stub per vector, as few instructions as possible (CPL0 code is
 * emulated on the development hosts): make the frame uniform, then tell the
 * VMM, which reads [vector, error, rip, cs, rflags, rsp, ss] at the stub's rsp.
 *     6a 00            push $0          (vectors without an error code)
 *     68 <vec:le32>    push $vector
 *     e6 e6            out  %al, $PVKVM_PORT_FAULT
 *     f4               hlt
 *     eb fd            jmp  .-1         (never resumes)
 */
static void write_fault_stub(uint8_t *p, unsigned int vector)
{
	unsigned int n = 0;
	memset(p, 0xcc, CPL3_FAULT_STUB_SIZE);
	if (!cpl3_vector_has_error_code(vector)) {
		p[n++] = 0x6a;
		p[n++] = 0x00;
	}
	p[n++] = 0x68;
	p[n++] = (uint8_t)vector;
	p[n++] = 0;
	p[n++] = 0;
	p[n++] = 0;
	p[n++] = 0xe6;
	p[n++] = (uint8_t)PVKVM_PORT_FAULT;
	p[n++] = 0xf4;
	p[n++] = 0xeb;
	p[n++] = 0xfd;
}

static void write_gate(uint64_t gate[2], uint64_t handler)
{
	uint64_t attr = GATE_TYPE_INTR64 | (1u << 7); /* DPL 0, present */
	gate[0] = (handler & 0xffff) | ((uint64_t)PVKVM_SEL_KERNEL_CS << 16) |
		  (attr << 40) | (((handler >> 16) & 0xffff) << 48);
	gate[1] = handler >> 32;
}

static int build_idt(struct guest_mem *mem)
{
	uint64_t *idt = gmem_ptr(mem, CPL3_GPA_IDT, IDT_VECTORS * 16);
	uint8_t *stubs = gmem_ptr(mem, CPL3_GPA_FAULT_STUBS,
				  IDT_VECTORS * CPL3_FAULT_STUB_SIZE);
	if (!idt || !stubs)
		return -EINVAL;
	for (unsigned int v = 0; v < IDT_VECTORS; v++) {
		uint64_t stub = CPL3_GPA_FAULT_STUBS + v * CPL3_FAULT_STUB_SIZE;
		write_fault_stub(stubs + v * CPL3_FAULT_STUB_SIZE, v);
		write_gate(&idt[2 * v], stub);
	}
	return 0;
}

int cpl3_build_tables(struct guest_mem *mem, unsigned int nr_vcpus)
{
	if (mem->size % CPL3_MEM_ALIGN || mem->size < CPL3_MEM_ALIGN ||
	    mem->size > CPL3_MAX_MEM || nr_vcpus == 0 ||
	    nr_vcpus > PVKVM_MAX_VCPUS)
		return -EINVAL;
	int r = set_low_access(mem);
	if (r == 0)
		r = cpl3_build_page_tables(mem);
	if (r == 0)
		r = build_gdt(mem, nr_vcpus);
	if (r == 0)
		r = build_idt(mem);
	return r;
}

int cpl3_build_tss(struct guest_mem *mem, unsigned int cpu,
		   const struct cpl3_io_allow *allow)
{
	uint64_t base = cpl3_vcpu_area(cpu);
	uint8_t *area = gmem_ptr(mem, base, CPL3_VCPU_STRIDE);
	if (!area || cpu >= PVKVM_MAX_VCPUS)
		return -EFAULT;
	struct cpl3_tss tss = {0};
	tss.rsp[0] = base + CPL3_VCPU_STRIDE;
	tss.iopb_offset = sizeof(tss);
	memset(area, 0, CPL3_VCPU_STRIDE);
	memcpy(area, &tss, sizeof(tss));
	/* In the TSS bitmap a set bit denies the port: invert the allow set. */
	uint8_t *iopb = area + sizeof(tss);
	for (unsigned int i = 0; i < CPL3_IOPB_BYTES; i++)
		iopb[i] = (uint8_t)~allow->bits[i];
	iopb[CPL3_IOPB_BYTES] = 0xff;
	return 0;
}

/* --- registers ----------------------------------------------------------- */

static struct kvm_segment kvm_seg(const struct seg *d, uint16_t selector)
{
	struct kvm_segment k = {
		.base = d->base,
		.limit = d->g ? (d->limit << 12) | 0xfff : d->limit,
		.selector = selector,
		.type = d->type,
		.present = 1,
		.dpl = d->dpl,
		.db = d->db,
		.s = d->s,
		.l = d->l,
		.g = d->g,
	};
	return k;
}

static bool host_is_amd(void)
{
	unsigned int max, ebx, ecx, edx;
	if (!__get_cpuid(0, &max, &ebx, &ecx, &edx))
		return false;
	/* "AuthenticAMD" and "HygonGenuine": both SVM */
	return (ebx == 0x68747541u && edx == 0x69746e65u && ecx == 0x444d4163u) ||
	       (ebx == 0x6f677948u && edx == 0x6e65476eu && ecx == 0x656e6975u);
}

/*
 * The type of the TR KVM loads. VT-x refuses to enter a 64-bit guest unless
 * it is 11 (busy). SVM does not check it, and the I/O-bitmap check of real
 * AMD CPUs uses only base and limit, but QEMU's SVM model (the strict AMD-V
 * host these machines have, docs/testing-amdv.md) takes the bitmap into
 * account only for type 9, which is what its own LTR caches. So: 9 on AMD.
 */
uint8_t cpl3_tr_type(void)
{
	return host_is_amd() ? SEG_TYPE_TSS64_AVAIL : SEG_TYPE_TSS64_BUSY;
}

void cpl3_fill_sregs(struct kvm_sregs *s, unsigned int cpu, bool cpl0)
{
	struct kvm_segment cs = cpl0 ? kvm_seg(&kernel_cs, PVKVM_SEL_KERNEL_CS)
				     : kvm_seg(&user_cs, PVKVM_SEL_USER_CS);
	struct kvm_segment ds = cpl0 ? kvm_seg(&kernel_ds, PVKVM_SEL_KERNEL_DS)
				     : kvm_seg(&user_ds, PVKVM_SEL_USER_DS);
	struct seg t = tss_seg(cpu);
	s->cs = cs;
	s->ds = s->es = s->fs = s->gs = s->ss = ds;
	s->tr = kvm_seg(&t, (uint16_t)PVKVM_SEL_TSS(cpu));
	s->tr.type = cpl3_tr_type();
	memset(&s->ldt, 0, sizeof(s->ldt));
	s->ldt.type = 2; /* an LDT, but unusable: selector 0 */
	s->ldt.unusable = 1;
	s->gdt.base = CPL3_GPA_GDT;
	s->gdt.limit = (uint16_t)(PVKVM_PAGE_SIZE - 1);
	s->idt.base = CPL3_GPA_IDT;
	s->idt.limit = IDT_VECTORS * 16 - 1;
	s->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	s->cr3 = CPL3_GPA_PML4;
	s->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	s->efer = EFER_LME | EFER_LMA | (cpl3_nx_supported() ? EFER_NXE : 0);
	s->cr2 = 0;
	s->cr8 = 0;
	memset(s->interrupt_bitmap, 0, sizeof(s->interrupt_bitmap));
}
