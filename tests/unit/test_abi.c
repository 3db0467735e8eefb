// SPDX-License-Identifier: MIT
/*
 * Pins the guest-visible layouts: the ABI structs, the CPUID signature, and
 * the machine the VMM builds for a CPL3 guest (descriptors, gates, page
 * permissions). A change here is an ABI change and must be deliberate.
 */
#include <criterion/criterion.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <string.h>

#include "host/mem/guest_mem.h"
#include "host/x86/x86_cpl3.h"
#include "hypercall/pvkvm_abi.h"

Test(abi, start_info_offsets)
{
	cr_expect_eq(offsetof(struct pvkvm_start_info, magic), 0);
	cr_expect_eq(offsetof(struct pvkvm_start_info, abi_version), 8);
	cr_expect_eq(offsetof(struct pvkvm_start_info, nr_vcpus), 12);
	cr_expect_eq(offsetof(struct pvkvm_start_info, mem_size), 16);
	cr_expect_eq(offsetof(struct pvkvm_start_info, free_start), 24);
	cr_expect_eq(offsetof(struct pvkvm_start_info, stack_base), 32);
	cr_expect_eq(offsetof(struct pvkvm_start_info, shared_info_gpa), 40);
	cr_expect_eq(offsetof(struct pvkvm_start_info, hypercall_page_gpa), 48);
	cr_expect_eq(offsetof(struct pvkvm_start_info, tsc_khz), 56);
	cr_expect_eq(offsetof(struct pvkvm_start_info, store_evtchn), 64);
	cr_expect_eq(offsetof(struct pvkvm_start_info, console_evtchn), 68);
	cr_expect_eq(offsetof(struct pvkvm_start_info, flags), 72);
	cr_expect_eq(offsetof(struct pvkvm_start_info, cmdline_len), 76);
	cr_expect_eq(offsetof(struct pvkvm_start_info, cmdline), 80);
	cr_expect_eq(sizeof(struct pvkvm_start_info), 1104);
}

Test(abi, shared_info_and_time)
{
	cr_expect_eq(offsetof(struct pvkvm_shared_info, evtchn_pending), 0);
	cr_expect_eq(offsetof(struct pvkvm_shared_info, evtchn_mask), 128);
	cr_expect_eq(offsetof(struct pvkvm_shared_info, vcpu), 256);
	cr_expect_eq(sizeof(struct pvkvm_vcpu_info), 64);
	cr_expect_eq(offsetof(struct pvkvm_time, tsc), 16);
	cr_expect_eq(sizeof(struct pvkvm_grant_entry), 8);
	cr_expect_eq(offsetof(struct pvkvm_watch_event, path), 16);
}

Test(abi, cpuid_signature_spells_pvkvm_hv_abi)
{
	uint32_t regs[3] = {PVKVM_CPUID_SIG_EBX, PVKVM_CPUID_SIG_ECX, PVKVM_CPUID_SIG_EDX};
	char sig[13] = {0};
	memcpy(sig, regs, 12);
	cr_expect_str_eq(sig, "pvkvm-hv-abi");
	cr_expect(PVKVM_MSR_HYPERCALL_PAGE >= 0x40000000u && PVKVM_MSR_HYPERCALL_PAGE <= 0x4fffffffu);
}

Test(abi, ports_and_selectors)
{
	cr_expect_eq(PVKVM_PORT_HYPERCALL, 0xe4);
	cr_expect_eq(PVKVM_PORT_NULL, 0xe5);
	cr_expect_eq(PVKVM_PORT_FAULT, 0xe6);
	cr_expect_eq(PVKVM_PORT_EVTCHN_NOTIFY, 0xe8);
	cr_expect_eq(PVKVM_SEL_USER_CS, 0x23);
	cr_expect_eq(PVKVM_SEL_USER_DS, 0x1b);
	cr_expect_eq(PVKVM_SEL_TSS(1), 0x38);
	cr_expect_eq(offsetof(struct cpl3_tss, rsp), 4);
	cr_expect_eq(offsetof(struct cpl3_tss, ist), 36);
	cr_expect_eq(offsetof(struct cpl3_tss, iopb_offset), 102);
}

/* --- the built machine ---------------------------------------------------- */

static struct guest_mem mem;

static void setup_mem(void)
{
	cr_assert_eq(gmem_create(&mem, 8u << 20), 0);
	cr_assert_eq(cpl3_build_tables(&mem, 2), 0);
}

static void teardown_mem(void)
{
	gmem_destroy(&mem);
}

static uint64_t q(uint64_t gpa)
{
	uint64_t v;
	cr_assert_eq(gmem_read(&mem, gpa, &v, 8), 0);
	return v;
}

/* The leaf entry that maps gpa (4 KiB below 2 MiB, 2 MiB above). */
static uint64_t leaf(uint64_t gpa)
{
	if (gpa < (2u << 20))
		return q(CPL3_GPA_PT_LOW + (gpa >> 12) * 8);
	return q(CPL3_GPA_PD + (gpa >> 21) * 8);
}

#define P 1u
#define RW 2u
#define US 4u

Test(cpl3, page_permissions, .init = setup_mem, .fini = teardown_mem)
{
	cr_expect_eq(leaf(0) & P, 0, "page 0 unmapped");
	cr_expect_eq(leaf(CPL3_GPA_PML4) & (P | US), P, "page tables supervisor-only");
	cr_expect_eq(leaf(CPL3_GPA_GDT) & (P | US), P);
	cr_expect_eq(leaf(CPL3_GPA_IDT) & (P | US), P);
	cr_expect_eq(leaf(CPL3_GPA_FAULT_STUBS) & (P | US), P);
	cr_expect_eq(leaf(cpl3_vcpu_area(1)) & (P | US), P);
	cr_expect_eq(leaf(PVKVM_GPA_START_INFO) & (P | RW | US), P | US, "start-info read-only");
	cr_expect_eq(leaf(PVKVM_GPA_SHARED_INFO) & (P | RW | US), P | RW | US);
	cr_expect_eq(leaf(PVKVM_GUEST_LOAD_MIN) & (P | RW | US), P | RW | US);
	cr_expect_eq(leaf(6u << 20) & 0x87, 0x87, "2 MiB user page");
	cr_expect_eq(leaf(6u << 20) & ~0xfffull, 6u << 20);
	cr_expect_eq(q(CPL3_GPA_PD + 4 * 8), 0, "nothing mapped past RAM");
}

Test(cpl3, gdt_descriptors, .init = setup_mem, .fini = teardown_mem)
{
	uint64_t ucs = q(CPL3_GPA_GDT + PVKVM_SEL_USER_CS / 8 * 8);
	uint64_t uds = q(CPL3_GPA_GDT + (PVKVM_SEL_USER_DS & ~3u));
	cr_expect_eq((ucs >> 40) & 0xff, 0xfb, "present, DPL3, code exec/read accessed");
	cr_expect_eq((ucs >> 53) & 1, 1, "L");
	cr_expect_eq((uds >> 40) & 0xff, 0xf3, "present, DPL3, data rw accessed");
	uint64_t tss_lo = q(CPL3_GPA_GDT + PVKVM_SEL_TSS(1));
	uint64_t tss_hi = q(CPL3_GPA_GDT + PVKVM_SEL_TSS(1) + 8);
	uint64_t base = ((tss_lo >> 16) & 0xffffff) | (((tss_lo >> 56) & 0xff) << 24) | (tss_hi << 32);
	cr_expect_eq((tss_lo >> 40) & 0xff, 0x8b, "present 64-bit busy TSS");
	cr_expect_eq(base, cpl3_vcpu_area(1));
	cr_expect_eq(tss_lo & 0xffff, CPL3_TSS_LIMIT);
}

Test(cpl3, idt_gates_point_at_stubs, .init = setup_mem, .fini = teardown_mem)
{
	for (unsigned int v = 0; v < 256; v += 13) {
		uint64_t lo = q(CPL3_GPA_IDT + v * 16), hi = q(CPL3_GPA_IDT + v * 16 + 8);
		uint64_t off = (lo & 0xffff) | (((lo >> 48) & 0xffff) << 16) | (hi << 32);
		cr_expect_eq(off, CPL3_GPA_FAULT_STUBS + v * CPL3_FAULT_STUB_SIZE);
		cr_expect_eq((lo >> 16) & 0xffff, PVKVM_SEL_KERNEL_CS);
		cr_expect_eq((lo >> 40) & 0xff, 0x8e, "present, DPL0, interrupt gate");
	}
	uint8_t de[16], gp[16];
	gmem_read(&mem, CPL3_GPA_FAULT_STUBS, de, 16);
	gmem_read(&mem, CPL3_GPA_FAULT_STUBS + 13 * 16, gp, 16);
	const uint8_t de_want[] = {0x6a, 0, 0x68, 0, 0, 0, 0, 0xe6, 0xe6, 0xf4, 0xeb, 0xfd};
	const uint8_t gp_want[] = {0x68, 13, 0, 0, 0, 0xe6, 0xe6, 0xf4, 0xeb, 0xfd};
	cr_expect_arr_eq(de, de_want, sizeof(de_want), "#DE pushes a zero error code");
	cr_expect_arr_eq(gp, gp_want, sizeof(gp_want), "#GP has its own error code");
}

Test(cpl3, tss_io_bitmap, .init = setup_mem, .fini = teardown_mem)
{
	struct cpl3_io_allow allow = {0};
	cpl3_io_allow_range(&allow, 0xe4, 8);
	cr_assert_eq(cpl3_build_tss(&mem, 1, &allow), 0);
	struct cpl3_tss tss;
	gmem_read(&mem, cpl3_vcpu_area(1), &tss, sizeof(tss));
	cr_expect_eq(tss.rsp[0], cpl3_vcpu_area(1) + CPL3_VCPU_STRIDE);
	cr_expect_eq(tss.iopb_offset, sizeof(tss));
	uint8_t b[2];
	gmem_read(&mem, cpl3_vcpu_area(1) + sizeof(tss) + 0xe4 / 8, b, 2);
	cr_expect_eq(b[0], 0x0f, "0xe4-0xe7 open, 0xe0-0xe3 closed");
	cr_expect_eq(b[1], 0xf0, "0xe8-0xeb open");
	uint8_t end;
	gmem_read(&mem, cpl3_vcpu_area(1) + sizeof(tss) + CPL3_IOPB_BYTES, &end, 1);
	cr_expect_eq(end, 0xff);
}

Test(cpl3, sregs_are_long_mode_cpl3)
{
	struct kvm_sregs s = {0};
	cpl3_fill_sregs(&s, 3, false);
	cr_expect_eq(s.cs.selector, 0x23);
	cr_expect_eq(s.cs.dpl, 3);
	cr_expect_eq(s.cs.l, 1);
	cr_expect_eq(s.ss.dpl, 3, "SVM takes CPL from SS.DPL");
	cr_expect_eq(s.tr.selector, PVKVM_SEL_TSS(3));
	cr_expect(s.tr.type == 0xb || s.tr.type == 0x9, "a 64-bit TSS");
	cr_expect_eq(s.tr.type, cpl3_tr_type());
	cr_expect_eq(s.ldt.unusable, 1);
	cr_expect_eq(s.cr0 & (1u << 2), 0, "EM clear");
	cr_expect_eq(s.cr0 & 0x80010033u, 0x80010033u, "PE MP ET NE WP PG");
	cr_expect_eq(s.cr4, (1u << 5) | (1u << 9) | (1u << 10), "PAE OSFXSR OSXMMEXCPT");
	cr_expect_eq(s.efer, 0x500 | (cpl3_nx_supported() ? 0x800 : 0),
		     "LME LMA, and NXE where the CPU has NX");
}
