/* SPDX-License-Identifier: MIT */
/* One vCPU: its KVM handles, its thread and its exit loop (vcpu.c). */
#ifndef PVKVM_VCPU_H
#define PVKVM_VCPU_H

#include <stddef.h>

struct vm;
struct vcpu;

/* Creates vCPU id: fd, run page, CPUID. 0 or -errno (err says why). */
int vcpu_create(struct vm *vm, unsigned int id, char *err, size_t errlen);
void vcpu_destroy(struct vcpu *v);

/* Thread body: parks until started, then runs the guest until the VM stops. */
void *vcpu_thread(void *arg);

/* Makes the vCPU leave KVM_RUN (or never enter it) so it sees the VM stop. */
void vcpu_kick(struct vcpu *v);

/* The kick signal's handler; installed once per process. */
void vcpu_install_kick_handler(void);

#endif
