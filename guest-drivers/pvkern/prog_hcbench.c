// SPDX-License-Identifier: MIT
/*
 * hcbench [N]: guest TSC cycles per operation, each averaged over N runs
 * after a warm-up of N/10 (the first touch of a page and cold host paths
 * would otherwise dominate):
 *   null_hypercall  PVKVM_HC_NULL: a full exit to the VMM and back
 *   evtchn_send       a send to a port the host bound to an ioeventfd and
 *                     nobody waits on: the notification mechanism alone
 *   evtchn_send_wake  a send to a port whose backend thread sleeps in poll:
 *                     the mechanism plus waking that thread
 *   pio_null        a bare `out` to PVKVM_PORT_NULL, answered without dispatch
 *   cpuid           an exit handled inside the host kernel
 */
#include "console.h"
#include "hypercall.h"
#include "kernel.h"
#include "klib.h"
#include "testdev.h"
#include "time.h"

#define DEFAULT_ITERS 10000

typedef void (*bench_op)(uint32_t arg);

static void op_null(uint32_t arg)
{
	(void)arg;
	hc0(PVKVM_HC_NULL);
}

static void op_send(uint32_t port)
{
	evtchn_send(port);
}

static void op_pio_null(uint32_t arg)
{
	asm volatile("outl %0, %1" ::"a"(arg), "i"(PVKVM_PORT_NULL) : "memory");
}

static void op_cpuid(uint32_t arg)
{
	(void)arg;
	(void)cpuid(PVKVM_CPUID_BASE);
}

static uint64_t cycles_per_op(bench_op op, uint32_t arg, uint64_t iters)
{
	uint64_t t0;

	for (uint64_t i = 0; i < iters / 10 + 1; i++)
		op(arg);
	t0 = rdtsc();
	for (uint64_t i = 0; i < iters; i++)
		op(arg);
	return (rdtsc() - t0) / iters;
}

static void report(const char *name, bench_op op, uint32_t arg, uint64_t iters)
{
	printf("hcbench: %s %llu\n", name,
	       (unsigned long long)cycles_per_op(op, arg, iters));
}

int prog_hcbench(int argc, char **argv)
{
	static struct testdev td;
	uint64_t iters = DEFAULT_ITERS;
	int r;

	if (argc > 0 && (!parse_u64(argv[0], &iters) || !iters)) {
		printf("hcbench: N must be a positive number, not '%s'\n", argv[0]);
		return 2;
	}
	printf("hcbench: iterations %llu\n", (unsigned long long)iters);
	printf("hcbench: tsc_khz %llu\n", (unsigned long long)tsc_khz());
	report("null_hypercall", op_null, 0, iters);
	r = testdev_connect(&td, 3 * NS_PER_SEC);
	if (r == 0) {
		report("evtchn_send", op_send, td.sink_port, iters);
		report("evtchn_send_wake", op_send, td.port, iters);
	} else {
		printf("hcbench: evtchn_send unavailable (test device: %d)\n", r);
	}
	report("pio_null", op_pio_null, 0, iters);
	report("cpuid", op_cpuid, 0, iters);
	return r == 0 ? 0 : 1;
}
