// SPDX-License-Identifier: MIT
/*
 * hcbench [N]: guest TSC cycles per operation: the median of 9 interleaved
 * rounds of N/9 operations each, every round after a warm-up of a tenth of
 * its count (the first touch of a page and cold host paths would otherwise
 * dominate):
 *   null_hypercall    PVKVM_HC_NULL: a full exit to the VMM and back
 *   pio_null          a bare `out` to PVKVM_PORT_NULL, answered without dispatch
 *   cpuid             CPUID 0x40000000: an exit handled inside this KVM, or,
 *                     where CPUID at CPL3 never reaches it (start-info
 *                     flags), by an outer hypervisor; the line says which
 *   evtchn_send       a send to a port the host bound to an ioeventfd and
 *                     nobody waits on: the notification mechanism alone
 *   evtchn_send_wake  a send to a port whose backend thread sleeps in poll:
 *                     the mechanism plus waking that thread
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

/* What the cpuid figure is, from the VMM's probe (start-info flags). */
static const char *cpuid_measured(void)
{
	if (start_info->flags & PVKVM_SIF_CPUID_CPL3_EXITS)
		return " (an exit handled by this KVM)";
	return " (an exit handled by an outer hypervisor: CPUID at CPL3 does not reach this KVM)";
}

/* Timed in ROUNDS interleaved rounds, each operation's figure the median of
 * its rounds: load on the host drifts over a run, and interleaving makes
 * every operation see the same drift, so their ratios hold. */
#define ROUNDS 9

struct bench_case {
	const char *name;
	bench_op op;
	uint32_t arg;
	uint64_t cycles[ROUNDS];
};

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

static uint64_t median(uint64_t *v, unsigned int n)
{
	for (unsigned int i = 1; i < n; i++)
		for (unsigned int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v[n / 2];
}

static void run_rounds(struct bench_case *c, unsigned int n, uint64_t per_round)
{
	for (unsigned int r = 0; r < ROUNDS; r++)
		for (unsigned int i = 0; i < n; i++)
			c[i].cycles[r] = cycles_per_op(c[i].op, c[i].arg, per_round);
}

int prog_hcbench(int argc, char **argv)
{
	static struct testdev td;
	struct bench_case cases[] = {
		{ "null_hypercall", op_null, 0, { 0 } },
		{ "pio_null", op_pio_null, 0, { 0 } },
		{ "cpuid", op_cpuid, 0, { 0 } },
		{ "evtchn_send", op_send, 0, { 0 } },
		{ "evtchn_send_wake", op_send, 0, { 0 } },
	};
	unsigned int n = 3;
	uint64_t iters = DEFAULT_ITERS, per_round;
	int r;

	if (argc > 0 && (!parse_u64(argv[0], &iters) || !iters)) {
		printf("hcbench: N must be a positive number, not '%s'\n", argv[0]);
		return 2;
	}
	r = testdev_connect(&td, 3 * NS_PER_SEC);
	if (r == 0) {
		cases[3].arg = td.sink_port;
		cases[4].arg = td.port;
		n = 5;
	} else {
		printf("hcbench: evtchn_send unavailable (test device: %d)\n", r);
	}
	per_round = iters / ROUNDS ? iters / ROUNDS : 1;
	printf("hcbench: iterations %llu\n", (unsigned long long)(per_round * ROUNDS));
	printf("hcbench: tsc_khz %llu\n", (unsigned long long)tsc_khz());
	printf("hcbench: executed %llu\n",
	       (unsigned long long)(ROUNDS * (per_round + per_round / 10 + 1)));
	run_rounds(cases, n, per_round);
	for (unsigned int i = 0; i < n; i++)
		printf("hcbench: %s %llu%s\n", cases[i].name,
		       (unsigned long long)median(cases[i].cycles, ROUNDS),
		       cases[i].op == op_cpuid ? cpuid_measured() : "");
	return r == 0 ? 0 : 1;
}
