// SPDX-License-Identifier: MIT
/*
 * The CPL0 path to the hypercall page: a tiny guest running privileged
 * writes gpa | 1 to PVKVM_MSR_HYPERCALL_PAGE and calls a stub in that page
 * at once: the VMM must have trapped the write and filled it. CPL0 code is
 * emulated on the development hosts (~1 us an instruction): keep it short.
 */
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/tiny_guest.h"

/* mov $PVKVM_MSR_HYPERCALL_PAGE, %ecx; mov $value, %eax; xor %edx, %edx; wrmsr */
#define WRMSR_HC_PAGE(value)                                              \
	0xb9, 0x00, 0xff, 0xff, 0x4f, 0xb8, (uint8_t)((value) & 0xff),      \
		(uint8_t)(((value) >> 8) & 0xff), (uint8_t)(((value) >> 16) & 0xff), \
		(uint8_t)(((value) >> 24) & 0xff), 0x31, 0xd2, 0x0f, 0x30

static bool msr_write_fills_the_page(char *why, size_t len)
{
	static const uint8_t code[] = {
		WRMSR_HC_PAGE(TG_HCPAGE | 1),
		0x48, 0xc7, 0xc7, 0x77, 0, 0, 0, /* mov $0x77, %rdi */
		TG_CALL(TG_RECORD), TG_SHUTDOWN_WITH_RAX};
	struct tg g;
	if (!tg_run(&g, code, sizeof(code), true, false, 60, why, len))
		return false;
	TG_CHECK(g.status == (TG_RECORD_RESULT & 0xff), "exit %d (%s)", g.status, g.vm->stop_msg);
	TG_CHECK(g.calls == 1 && g.args[0] == 0x77, "the stub did not reach the hypercall");
	uint8_t want[PVKVM_PAGE_SIZE];
	hypercall_page_fill(want);
	const uint8_t *page = gmem_ptr(&g.vm->mem, TG_HCPAGE, PVKVM_PAGE_SIZE);
	TG_CHECK(page && memcmp(page, want, sizeof(want)) == 0, "page differs from the ELF-path stubs");
	TG_CHECK(atomic_load(&g.vm->msr_hypercall_page) == (TG_HCPAGE | 1), "MSR value not kept");
	TG_CHECK(stat_get(&g.vm->stats.exits[KVM_EXIT_X86_WRMSR]) == 1, "the write did not exit");
	tg_free(&g);
	return true;
}

static bool msr_write_without_enable_is_gp(char *why, size_t len)
{
	static const uint8_t code[] = {WRMSR_HC_PAGE(TG_HCPAGE)};
	struct tg g;
	if (!tg_run(&g, code, sizeof(code), true, false, 60, why, len))
		return false;
	TG_CHECK(g.status == 128 + 13, "exit %d (%s)", g.status, g.vm->stop_msg);
	TG_CHECK(strstr(g.vm->stop_msg, "#GP"), "'%s'", g.vm->stop_msg);
	tg_free(&g);
	return true;
}

Test(msr_hypercall_page, msr_write_fills_the_page, .timeout = 120) { tg_check(msr_write_fills_the_page); }
Test(msr_hypercall_page, msr_write_without_enable_is_gp, .timeout = 120) { tg_check(msr_write_without_enable_is_gp); }
