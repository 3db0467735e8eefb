/* SPDX-License-Identifier: MIT */
/*
 * The hypercall-page MSR of a CPL0 guest: KVM is told (user-space MSR exits
 * plus an MSR filter) to send reads and writes of PVKVM_MSR_HYPERCALL_PAGE
 * to the VMM, which fills the page named by the write.
 */
#ifndef PVKVM_MSR_H
#define PVKVM_MSR_H

#include <stddef.h>

struct vm;
struct vcpu;

/* 0 or -errno (err says why). */
int msr_setup(struct vm *vm, char *err, size_t errlen);

/* Handles KVM_EXIT_X86_RDMSR / KVM_EXIT_X86_WRMSR. */
void msr_handle_exit(struct vcpu *v);

#endif
