/* SPDX-License-Identifier: MIT */
/*
 * A throw-away VM for measuring the host: a few bytes of long-mode code,
 * identity-mapped over its first GiB with 2 MiB user pages, no IDT (a fault
 * ends it with KVM_EXIT_SHUTDOWN), at CPL0 or CPL3 (IOPL 3, so `out` needs
 * no TSS bitmap). Nothing of the real VMM is involved except the CPUID leaves
 * (host/x86/cpuid.c), so a probe sees the platform, not pvkvm.
 *
 * Conventions of probe code: r8 is the iteration count; ports
 * PROBE_PORT_VALUE + i (i < PROBE_VALUES) report a 32-bit value; a write
 * to PROBE_PORT_END ends the run.
 */
#ifndef PVKVM_PROBE_VM_H
#define PVKVM_PROBE_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROBE_CODE_GPA 0x10000u
#define PROBE_TOUCH_GPA 0x400000u  /* first page a touch loop writes */
#define PROBE_MMIO_GPA 0x10000000u /* mapped by the page tables, no RAM */
#define PROBE_PORT_LOOP 0x500u     /* the exit loops write here */
#define PROBE_PORT_VALUE 0x501u
#define PROBE_PORT_END 0x600u
#define PROBE_VALUES 4u

struct probe_setup {
	unsigned int cpl;  /* 0 or 3 */
	bool osfxsr;       /* CR4.OSFXSR (and OSXMMEXCPT) */
	bool ioeventfd;    /* PROBE_PORT_LOOP is a KVM ioeventfd */
	bool pvkvm_cpuid;  /* the vCPU gets the VMM's CPUID (cpuid_setup_vcpu) */
	size_t mem_size;   /* bytes of RAM, at least 4 MiB */
};

enum probe_outcome {
	PROBE_ENDED,    /* reached PROBE_PORT_END */
	PROBE_SHUTDOWN, /* faulted (no IDT: triple fault) */
	PROBE_OTHER,    /* another exit, or KVM_RUN failed */
};

struct probe_run {
	enum probe_outcome outcome;
	uint64_t ns;     /* wall time from the first KVM_RUN to the end */
	uint64_t exits;  /* userspace exits on the loop port or MMIO */
	uint32_t value[PROBE_VALUES];
};

struct probe_vm {
	int vm_fd, vcpu_fd, efd;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *mem;
	size_t mem_size;
	unsigned int cpl;
};

/* Creates the VM with code at PROBE_CODE_GPA. 0, or -errno with one line
 * in err. */
int probe_vm_create(int kvm_fd, const struct probe_setup *s, const void *code,
		    size_t len, struct probe_vm *p, char *err, size_t errlen);
/* Runs the code from its start with r8 = iters (again and again if wanted:
 * the second run of a loop is the warm one). 0, or -errno. */
int probe_vm_run(struct probe_vm *p, uint64_t iters, struct probe_run *out);
void probe_vm_destroy(struct probe_vm *p);

/* One timed loop: creates, runs warmup iterations, then iters timed ones
 * three times, destroys. The median ns per iteration, or a negative -errno /
 * -1 when the guest did not end normally. */
double probe_loop_ns(int kvm_fd, const struct probe_setup *s, const void *code,
		     size_t len, uint64_t warmup, uint64_t iters);

#endif
