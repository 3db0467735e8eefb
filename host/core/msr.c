// SPDX-License-Identifier: MIT
/*
 * PVKVM_MSR_HYPERCALL_PAGE for CPL0 guests. KVM does not know the MSR; an
 * MSR filter that denies it, with user-space MSR exits enabled for filtered
 * (and unknown) MSRs, makes every access exit to us. A write of gpa | 1 fills
 * that page with the same stubs the ELF path writes.
 */
#include "host/core/msr.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "host/x86/hypercall_page.h"
#include "host/core/vm.h"

int msr_setup(struct vm *vm, char *err, size_t errlen)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X86_USER_SPACE_MSR,
		.args = {KVM_MSR_EXIT_REASON_FILTER | KVM_MSR_EXIT_REASON_UNKNOWN},
	};
	if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
		snprintf(err, errlen, "KVM_CAP_X86_USER_SPACE_MSR: %s", strerror(errno));
		return -errno;
	}
	static uint8_t deny_one; /* one MSR, its bit 0: denied */
	struct kvm_msr_filter filter = {.flags = KVM_MSR_FILTER_DEFAULT_ALLOW};
	filter.ranges[0] = (struct kvm_msr_filter_range){
		.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
		.nmsrs = 1,
		.base = PVKVM_MSR_HYPERCALL_PAGE,
		.bitmap = &deny_one,
	};
	if (ioctl(vm->vm_fd, KVM_X86_SET_MSR_FILTER, &filter) < 0) {
		snprintf(err, errlen, "KVM_X86_SET_MSR_FILTER: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* 0, or non-zero for a #GP (not enabled, not page-aligned, outside RAM). */
static int write_hypercall_msr(struct vm *vm, uint64_t value)
{
	uint64_t gpa = value & ~(uint64_t)(PVKVM_PAGE_SIZE - 1);
	if (!(value & PVKVM_MSR_HYPERCALL_ENABLE) ||
	    (value & (PVKVM_PAGE_SIZE - 1)) != PVKVM_MSR_HYPERCALL_ENABLE)
		return 1;
	if (hypercall_page_install(&vm->mem, gpa))
		return 1;
	atomic_store(&vm->msr_hypercall_page, value);
	return 0;
}

void msr_handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	bool ours = run->msr.index == PVKVM_MSR_HYPERCALL_PAGE;
	if (!ours) {
		run->msr.error = 1; /* what KVM does for an MSR it does not know */
		return;
	}
	if (run->exit_reason == KVM_EXIT_X86_RDMSR) {
		run->msr.data = atomic_load(&v->vm->msr_hypercall_page);
		run->msr.error = 0;
		return;
	}
	run->msr.error = write_hypercall_msr(v->vm, run->msr.data) ? 1 : 0;
}
