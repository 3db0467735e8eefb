// SPDX-License-Identifier: MIT
/* The hypercall page's bytes (layout: hypercall/pvkvm_abi.h). */
#include "host/x86/hypercall_page.h"

#include <errno.h>
#include <string.h>

#include "host/mem/guest_mem.h"
#include "hypercall/pvkvm_abi.h"

/* mov $nr,%eax; out %eax,$PVKVM_PORT_HYPERCALL; ret */
static void write_port_stub(uint8_t *s, uint32_t nr)
{
	s[0] = 0xb8;
	s[1] = (uint8_t)nr;
	s[2] = (uint8_t)(nr >> 8);
	s[3] = (uint8_t)(nr >> 16);
	s[4] = (uint8_t)(nr >> 24);
	s[5] = 0xe7;
	s[6] = (uint8_t)PVKVM_PORT_HYPERCALL;
	s[7] = 0xc3;
}

/* mov %edi,%eax; out %eax,$PVKVM_PORT_EVTCHN_NOTIFY; ret: the port number is
 * the ioeventfd's datamatch, so a bound send never reaches userspace. */
static void write_evtchn_send_stub(uint8_t *s)
{
	s[0] = 0x89;
	s[1] = 0xf8;
	s[2] = 0xe7;
	s[3] = (uint8_t)PVKVM_PORT_EVTCHN_NOTIFY;
	s[4] = 0xc3;
}

void hypercall_page_fill(uint8_t *page)
{
	memset(page, 0xcc, PVKVM_PAGE_SIZE);
	for (uint32_t nr = 0; nr < PVKVM_HYPERCALL_MAX; nr++) {
		uint8_t *s = page + nr * PVKVM_HYPERCALL_STUB_SIZE;
		if (nr == PVKVM_HC_EVTCHN_SEND)
			write_evtchn_send_stub(s);
		else
			write_port_stub(s, nr);
	}
}

int hypercall_page_install(struct guest_mem *mem, uint64_t gpa)
{
	if (gpa % PVKVM_PAGE_SIZE)
		return -EINVAL;
	uint8_t *page = gmem_ptr(mem, gpa, PVKVM_PAGE_SIZE);
	if (!page)
		return -EFAULT;
	hypercall_page_fill(page);
	return 0;
}
