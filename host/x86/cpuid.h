/* SPDX-License-Identifier: MIT */
/*
 * The vCPUs' CPUID: what KVM supports, with the hypervisor range
 * 0x40000000.. replaced by pvkvm's discovery leaves (pvkvm_abi.h).
 */
#ifndef PVKVM_CPUID_H
#define PVKVM_CPUID_H

#include <stdbool.h>
#include <stdint.h>

struct kvm_cpuid2;

/* Replaces every 0x40000000-0x4fffffff entry of c with pvkvm's leaves. c has
 * room for max entries. 0, or -ENOSPC. */
int cpuid_merge_pvkvm(struct kvm_cpuid2 *c, uint32_t max, uint32_t features);

/* KVM_GET_SUPPORTED_CPUID from kvm_fd, merged, set on vcpu_fd; with hide,
 * pvkvm's leaves are withheld (run --hide-cpuid) and KVM's own hypervisor
 * leaves stay. 0 or -errno. */
int cpuid_setup_vcpu(int kvm_fd, int vcpu_fd, uint32_t features, bool hide);

#endif
