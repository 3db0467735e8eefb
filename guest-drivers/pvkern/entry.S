/* SPDX-License-Identifier: MIT */
/*
 * Entry points. The VMM starts vCPU 0 at _start (CPL3, rdi = start-info,
 * rsp 16-byte aligned at the top of RAM) and other vCPUs at the rip given to
 * PVKVM_HC_VCPU_UP (rdi = its arg). Both only need the C calling convention:
 * the `call` leaves rsp 8 mod 16, as a C function expects on entry.
 */
	.section .text.entry, "ax"
	.globl _start
	.type _start, @function
_start:
	xor %ebp, %ebp		/* ends frame-pointer walks */
	call kernel_main	/* rdi (start-info) is its first argument */
	/* kernel_main shuts the VM down; reaching here is a bug, and ud2 makes
	 * the VMM report it with this rip instead of running on. */
	ud2
	.size _start, . - _start

	.globl ap_entry
	.type ap_entry, @function
ap_entry:
	xor %ebp, %ebp
	call ap_main
	ud2
	.size ap_entry, . - ap_entry

/*
 * The hypercall page: int3 until the VMM overwrites it with one 32-byte stub
 * per hypercall at load time, so a call into a page the VMM failed to fill
 * traps at once instead of running off into zeroes.
 */
	.section .hypercall_page, "ax"
	.balign 4096
	.globl hypercall_page
	.type hypercall_page, @object
hypercall_page:
	.fill 4096, 1, 0xcc
	.size hypercall_page, 4096

	.section .note.GNU-stack, "", @progbits
