/* SPDX-License-Identifier: MIT */
/* One clear line for each way a guest can die (fault.c). */
#ifndef PVKVM_FAULT_H
#define PVKVM_FAULT_H

struct vcpu;
struct kvm_regs;

/* The VMM's CPL0 fault stub wrote PVKVM_PORT_FAULT: report and stop. */
void fault_report_stub(struct vcpu *v, const struct kvm_regs *regs);

/* KVM_EXIT_SHUTDOWN, INTERNAL_ERROR, FAIL_ENTRY or any exit the VMM does not
 * expect: report and stop. */
void fault_report_exit(struct vcpu *v);

#endif
