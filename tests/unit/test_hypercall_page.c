// SPDX-License-Identifier: MIT
/* The stub bytes, exactly as pvkvm_abi.h documents them. */
#include <criterion/criterion.h>
#include <errno.h>

#include "host/mem/guest_mem.h"
#include "host/x86/hypercall_page.h"
#include "hypercall/pvkvm_abi.h"

Test(hypercall_page, every_stub_is_mov_out_ret_int3)
{
	uint8_t page[PVKVM_PAGE_SIZE];
	hypercall_page_fill(page);
	for (uint32_t nr = 0; nr < PVKVM_HYPERCALL_MAX; nr++) {
		const uint8_t *s = page + nr * 32;
		if (nr == PVKVM_HC_EVTCHN_SEND)
			continue;
		const uint8_t want[8] = {0xb8, (uint8_t)nr, 0, 0, 0, 0xe7, 0xe4, 0xc3};
		cr_assert_arr_eq(s, want, 8, "stub %u", nr);
		for (unsigned int i = 8; i < 32; i++)
			cr_assert_eq(s[i], 0xcc, "stub %u padding byte %u", nr, i);
	}
}

Test(hypercall_page, evtchn_send_goes_to_the_notify_port)
{
	uint8_t page[PVKVM_PAGE_SIZE];
	hypercall_page_fill(page);
	const uint8_t *s = page + PVKVM_HC_EVTCHN_SEND * 32;
	const uint8_t want[5] = {0x89, 0xf8, 0xe7, 0xe8, 0xc3};
	cr_expect_arr_eq(s, want, 5);
	for (unsigned int i = 5; i < 32; i++)
		cr_expect_eq(s[i], 0xcc);
}

Test(hypercall_page, install_checks_alignment_and_range)
{
	struct guest_mem m;
	cr_assert_eq(gmem_create(&m, 2u << 20), 0);
	cr_expect_eq(hypercall_page_install(&m, 0x1000 + 8), -EINVAL);
	cr_expect_eq(hypercall_page_install(&m, 2u << 20), -EFAULT);
	cr_expect_eq(hypercall_page_install(&m, ~0ull & ~0xfffull), -EFAULT);
	cr_expect_eq(hypercall_page_install(&m, (2u << 20) - 4096), 0);
	uint8_t b;
	gmem_read(&m, (2u << 20) - 4096 + 5, &b, 1);
	cr_expect_eq(b, 0xe7);
	gmem_destroy(&m);
}
