/* SPDX-License-Identifier: MIT */
/*
 * Does a guest's CPUID reach this KVM? On some hosts of the nested kind
 * (AMD), CPUID at CPL3 is answered by an outer hypervisor whatever
 * KVM_SET_CPUID2 set; at CPL0 it always reaches this KVM. The probe runs
 * CPUID 0x40000000 in a throw-away VM that has exactly the vCPU CPUID the
 * VMM gives its guests (host/x86/cpuid.c) and compares what the guest read
 * with pvkvm's signature.
 */
#ifndef PVKVM_CPUID_PROBE_H
#define PVKVM_CPUID_PROBE_H

#include <stdbool.h>
#include <stdint.h>

enum cpuid_reach {
	CPUID_REACH_UNKNOWN = 0, /* the probe could not run */
	CPUID_REACH_THIS_KVM,    /* the guest read pvkvm's leaves */
	CPUID_REACH_OUTER,       /* the guest read another hypervisor's */
};

struct cpuid_probe {
	enum cpuid_reach reach;
	uint32_t max_leaf;      /* eax of 0x40000000 as the guest saw it */
	char signature[13];     /* ebx, ecx, edx, printable (others as '.') */
	uint64_t ns;            /* what the probe cost, VM set-up included */
	char why[160];          /* CPUID_REACH_UNKNOWN: what went wrong */
};

/* One probe at cpl (0 or 3), not cached. */
void cpuid_probe_run(int kvm_fd, unsigned int cpl, struct cpuid_probe *out);

/* The CPL3 probe, run once per process (thread-safe) on kvm_fd. */
const struct cpuid_probe *cpuid_probe_cpl3(int kvm_fd);

const char *cpuid_reach_name(enum cpuid_reach r); /* "this-kvm", "outer", "unknown" */

#endif
