// SPDX-License-Identifier: MIT
/* Does a guest's CPUID reach this KVM (see cpuid_probe.h)? */
#include "host/platform/cpuid_probe.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "host/platform/probe_code.h"
#include "host/platform/probe_vm.h"
#include "hypercall/pvkvm_abi.h"

static uint64_t mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void printable_signature(const uint32_t regs[3], char out[13])
{
	memcpy(out, regs, 12);
	out[12] = '\0';
	size_t n = 12;
	while (n && out[n - 1] == '\0') /* "KVMKVMKVM\0\0\0" */
		n--;
	for (size_t i = 0; i < n; i++)
		if (out[i] < 32 || out[i] > 126)
			out[i] = '.';
}

static void judge(const struct probe_run *run, struct cpuid_probe *out)
{
	const uint32_t *v = run->value; /* ebx, ecx, edx, eax */
	out->max_leaf = v[3];
	printable_signature(v, out->signature);
	bool ours = v[0] == PVKVM_CPUID_SIG_EBX && v[1] == PVKVM_CPUID_SIG_ECX &&
		    v[2] == PVKVM_CPUID_SIG_EDX && v[3] == PVKVM_CPUID_MAX;
	out->reach = ours ? CPUID_REACH_THIS_KVM : CPUID_REACH_OUTER;
}

void cpuid_probe_run(int kvm_fd, unsigned int cpl, struct cpuid_probe *out)
{
	memset(out, 0, sizeof(*out));
	uint64_t t0 = mono_ns();
	struct probe_setup s = {.cpl = cpl, .pvkvm_cpuid = true};
	struct probe_vm p;
	struct probe_run run;
	int r = probe_vm_create(kvm_fd, &s, probe_code_cpuid_sig,
				sizeof(probe_code_cpuid_sig), &p, out->why, sizeof(out->why));
	if (r == 0) {
		r = probe_vm_run(&p, 1, &run);
		probe_vm_destroy(&p);
		if (r)
			snprintf(out->why, sizeof(out->why), "KVM_RUN of the probe failed: %s",
				 strerror(-r));
		else if (run.outcome != PROBE_ENDED)
			snprintf(out->why, sizeof(out->why), "the probe guest did not finish (%s)",
				 run.outcome == PROBE_SHUTDOWN ? "shutdown" : "unexpected exit");
		else
			judge(&run, out);
	}
	out->ns = mono_ns() - t0;
}

static pthread_mutex_t cached_lock = PTHREAD_MUTEX_INITIALIZER;
static bool cached_done;
static struct cpuid_probe cached;

const struct cpuid_probe *cpuid_probe_cpl3(int kvm_fd)
{
	pthread_mutex_lock(&cached_lock);
	if (!cached_done) {
		cpuid_probe_run(kvm_fd, 3, &cached);
		cached_done = true;
	}
	pthread_mutex_unlock(&cached_lock);
	return &cached;
}

const char *cpuid_reach_name(enum cpuid_reach r)
{
	switch (r) {
	case CPUID_REACH_THIS_KVM: return "this-kvm";
	case CPUID_REACH_OUTER: return "outer";
	default: return "unknown";
	}
}
