// SPDX-License-Identifier: MIT
/*
 * The measured half of `pvkvm platform`: each figure is the median of three
 * timed loops in a throw-away probe VM, after a warm-up. CPL0 code is
 * emulated one instruction at a time on hosts of the nested kind (~1 us an
 * instruction), so CPL0 loops are short; CPL3 loops are long enough to
 * time native code.
 */
#include "host/platform/platform_host.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "host/platform/probe_code.h"
#include "host/platform/probe_vm.h"

#define TOUCH_PAGES 1024u /* 4 MiB above PROBE_TOUCH_GPA */
#define TOUCH_MEM (PROBE_TOUCH_GPA + TOUCH_PAGES * 4096u)

struct loop {
	const uint8_t *code;
	size_t len;
	bool ioeventfd;
	uint64_t iters_cpl0, iters_cpl3;
	double *cpl0, *cpl3;
	double per; /* divide ns per iteration by this */
};

static void time_loop(int kvm, const struct loop *l)
{
	for (unsigned int cpl = 0; cpl <= 3; cpl += 3) {
		struct probe_setup s = {.cpl = cpl, .ioeventfd = l->ioeventfd};
		uint64_t n = cpl ? l->iters_cpl3 : l->iters_cpl0;
		double ns = probe_loop_ns(kvm, &s, l->code, l->len, n / 10 + 1, n);
		*(cpl ? l->cpl3 : l->cpl0) = ns < 0 ? -1 : ns / l->per;
	}
}

static void time_loops(int kvm, struct platform_costs *c)
{
	const struct loop loops[] = {
		{probe_code_nops, sizeof(probe_code_nops), false, 100, 100000,
		 &c->insn_cpl0, &c->insn_cpl3, PROBE_NOPS_PER_ITER},
		{probe_code_cpuid, sizeof(probe_code_cpuid), false, 200, 1000,
		 &c->cpuid_cpl0, &c->cpuid_cpl3, 1},
		{probe_code_pio, sizeof(probe_code_pio), false, 200, 500,
		 &c->pio_exit_cpl0, &c->pio_exit_cpl3, 1},
		{probe_code_pio, sizeof(probe_code_pio), true, 200, 1000,
		 &c->ioeventfd_cpl0, &c->ioeventfd_cpl3, 1},
		{probe_code_mmio, sizeof(probe_code_mmio), false, 200, 500,
		 &c->mmio_exit_cpl0, &c->mmio_exit_cpl3, 1},
	};
	for (size_t i = 0; i < sizeof(loops) / sizeof(loops[0]); i++)
		time_loop(kvm, &loops[i]);
}

/* The first write to each of TOUCH_PAGES fresh pages, then the same again. */
static void time_touch(int kvm, struct platform_costs *c)
{
	struct probe_setup s = {.cpl = 3, .mem_size = TOUCH_MEM};
	struct probe_vm p;
	struct probe_run cold, warm;
	char err[160];
	c->first_touch_page = c->warm_touch_page = -1;
	if (probe_vm_create(kvm, &s, probe_code_touch, sizeof(probe_code_touch), &p, err,
			    sizeof(err)))
		return;
	/* The code page is touched by the first run; it is one page of 1024. */
	if (!probe_vm_run(&p, TOUCH_PAGES, &cold) && cold.outcome == PROBE_ENDED &&
	    !probe_vm_run(&p, TOUCH_PAGES, &warm) && warm.outcome == PROBE_ENDED) {
		c->first_touch_page = (double)cold.ns / TOUCH_PAGES;
		c->warm_touch_page = (double)warm.ns / TOUCH_PAGES;
	}
	probe_vm_destroy(&p);
}

/* xorps at CPL3 with CR4.OSFXSR clear; the control run with it set must
 * finish, or the answer is unknown. */
static enum tristate sse_ud(int kvm)
{
	struct probe_setup s = {.cpl = 3, .osfxsr = true};
	struct probe_vm p;
	struct probe_run run;
	char err[160];
	enum probe_outcome o[2];
	for (int clear = 0; clear <= 1; clear++) {
		s.osfxsr = !clear;
		if (probe_vm_create(kvm, &s, probe_code_sse, sizeof(probe_code_sse), &p, err,
				    sizeof(err)))
			return TRI_UNKNOWN;
		int r = probe_vm_run(&p, 1, &run);
		probe_vm_destroy(&p);
		if (r)
			return TRI_UNKNOWN;
		o[clear] = run.outcome;
	}
	if (o[0] != PROBE_ENDED)
		return TRI_UNKNOWN;
	return o[1] == PROBE_SHUTDOWN ? TRI_YES : o[1] == PROBE_ENDED ? TRI_NO : TRI_UNKNOWN;
}

void platform_run_probes(struct platform_facts *f)
{
	memset(&f->ns, 0, sizeof(f->ns));
	f->sse_ud_without_osfxsr = TRI_UNKNOWN;
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return;
	cpuid_probe_run(kvm, 0, &f->cpuid_cpl0);
	cpuid_probe_run(kvm, 3, &f->cpuid_cpl3);
	f->sse_ud_without_osfxsr = sse_ud(kvm);
	time_loops(kvm, &f->ns);
	time_touch(kvm, &f->ns);
	close(kvm);
}
