/* SPDX-License-Identifier: MIT */
/* The host's own facts for `pvkvm platform` (platform_host.c). */
#ifndef PVKVM_PLATFORM_HOST_H
#define PVKVM_PLATFORM_HOST_H

#include "host/platform/platform.h"

/* Fills vendor, model, kernel, kvm, nested and the evidence. */
void platform_read_host(struct platform_facts *f);

/* Fills cpuid_*, sse_ud_without_osfxsr and ns (needs f->kvm). */
void platform_run_probes(struct platform_facts *f);

#endif
