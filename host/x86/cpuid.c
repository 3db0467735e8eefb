// SPDX-License-Identifier: MIT
/* CPUID for the vCPUs: KVM's supported set plus pvkvm's discovery leaves. */
#include "host/x86/cpuid.h"

#include <errno.h>
#include <stdbool.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hypercall/pvkvm_abi.h"

#define HV_RANGE_FIRST 0x40000000u
#define HV_RANGE_LAST 0x4fffffffu
#define CPUID_MAX_ENTRIES 256u

static bool in_hv_range(uint32_t fn)
{
	return fn >= HV_RANGE_FIRST && fn <= HV_RANGE_LAST;
}

static void drop_hv_range(struct kvm_cpuid2 *c)
{
	uint32_t out = 0;
	for (uint32_t i = 0; i < c->nent; i++)
		if (!in_hv_range(c->entries[i].function))
			c->entries[out++] = c->entries[i];
	c->nent = out;
}

static void add_leaf(struct kvm_cpuid2 *c, uint32_t fn, uint32_t a,
		     uint32_t b, uint32_t cx, uint32_t d)
{
	struct kvm_cpuid_entry2 e = {.function = fn, .eax = a, .ebx = b,
				     .ecx = cx, .edx = d};
	c->entries[c->nent++] = e;
}

int cpuid_merge_pvkvm(struct kvm_cpuid2 *c, uint32_t max, uint32_t features)
{
	drop_hv_range(c);
	if (c->nent + 3 > max)
		return -ENOSPC;
	add_leaf(c, PVKVM_CPUID_BASE, PVKVM_CPUID_MAX, PVKVM_CPUID_SIG_EBX,
		 PVKVM_CPUID_SIG_ECX, PVKVM_CPUID_SIG_EDX);
	add_leaf(c, PVKVM_CPUID_VERSION, PVKVM_ABI_VERSION, features, 0, 0);
	add_leaf(c, PVKVM_CPUID_HYPERCALL, PVKVM_MSR_HYPERCALL_PAGE,
		 PVKVM_PORT_HYPERCALL, PVKVM_PORT_EVTCHN_NOTIFY, PVKVM_HC_COUNT);
	return 0;
}

int cpuid_setup_vcpu(int kvm_fd, int vcpu_fd, uint32_t features, bool hide)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + CPUID_MAX_ENTRIES *
						       sizeof(c->entries[0]));
	if (!c)
		return -ENOMEM;
	c->nent = CPUID_MAX_ENTRIES;
	int r = 0;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0)
		r = -errno;
	/* Withheld, the hypervisor range stays what KVM itself reports
	 * (KVMKVMKVM): what a CPL3 guest reads where CPUID at CPL3 is
	 * answered by an outer KVM. */
	if (r == 0 && !hide)
		r = cpuid_merge_pvkvm(c, CPUID_MAX_ENTRIES, features);
	if (r == 0 && ioctl(vcpu_fd, KVM_SET_CPUID2, c) < 0)
		r = -errno;
	free(c);
	return r;
}
