// SPDX-License-Identifier: MIT
/*
 * The platform probes on the real /dev/kvm: each loop must cost what its
 * name says (one userspace exit per iteration for PIO and MMIO, none for the
 * ioeventfd), so the figures `pvkvm platform` prints are of the right thing.
 */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "host/platform/cpuid_probe.h"
#include "host/platform/platform.h"
#include "host/platform/probe_code.h"
#include "host/platform/probe_vm.h"

#define ITERS 50u

static int kvm = -1;

static void open_kvm(void)
{
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		cr_skip_test("/dev/kvm is not available");
}

static void close_kvm(void)
{
	if (kvm >= 0)
		close(kvm);
}

TestSuite(platform, .init = open_kvm, .fini = close_kvm, .timeout = 60);

/* RAM covers the touch loop's pages: its writes must not be MMIO. */
#define MEM (PROBE_TOUCH_GPA + 256u * 4096u)

static struct probe_run run_once(unsigned int cpl, bool ioeventfd, const uint8_t *code,
				 size_t len, uint64_t iters)
{
	struct probe_setup s = {.cpl = cpl, .ioeventfd = ioeventfd, .osfxsr = true,
				.mem_size = MEM};
	struct probe_vm p;
	struct probe_run run;
	char err[160];
	cr_assert_eq(probe_vm_create(kvm, &s, code, len, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(probe_vm_run(&p, iters, &run), 0);
	probe_vm_destroy(&p);
	return run;
}

Test(platform, exit_loops_exit_once_per_iteration)
{
	for (unsigned int cpl = 0; cpl <= 3; cpl += 3) {
		struct probe_run pio = run_once(cpl, false, probe_code_pio, sizeof(probe_code_pio), ITERS);
		struct probe_run efd = run_once(cpl, true, probe_code_pio, sizeof(probe_code_pio), ITERS);
		struct probe_run mmio = run_once(cpl, false, probe_code_mmio, sizeof(probe_code_mmio), ITERS);
		cr_expect_eq(pio.outcome, PROBE_ENDED, "CPL%u pio", cpl);
		cr_expect_eq(pio.exits, ITERS, "CPL%u: %llu PIO exits", cpl, (unsigned long long)pio.exits);
		cr_expect_eq(efd.outcome, PROBE_ENDED, "CPL%u ioeventfd", cpl);
		cr_expect_eq(efd.exits, 0, "CPL%u: the ioeventfd loop exited %llu times", cpl,
			     (unsigned long long)efd.exits);
		cr_expect_eq(mmio.outcome, PROBE_ENDED, "CPL%u mmio", cpl);
		cr_expect_eq(mmio.exits, ITERS, "CPL%u: %llu MMIO exits", cpl,
			     (unsigned long long)mmio.exits);
	}
}

Test(platform, code_loops_end_without_exits)
{
	struct probe_run nops = run_once(3, false, probe_code_nops, sizeof(probe_code_nops), 1000);
	struct probe_run cpuid = run_once(3, false, probe_code_cpuid, sizeof(probe_code_cpuid), ITERS);
	struct probe_run touch = run_once(3, false, probe_code_touch, sizeof(probe_code_touch), 256);
	struct probe_run sse = run_once(3, false, probe_code_sse, sizeof(probe_code_sse), 1);
	cr_expect(nops.outcome == PROBE_ENDED && nops.exits == 0);
	cr_expect(cpuid.outcome == PROBE_ENDED && cpuid.exits == 0);
	cr_expect(touch.outcome == PROBE_ENDED && touch.exits == 0, "touch: outcome %d, %llu exits",
		  touch.outcome, (unsigned long long)touch.exits);
	cr_expect_eq(sse.outcome, PROBE_ENDED, "SSE with OSFXSR set must run");
}

Test(platform, cpuid_at_cpl0_reaches_this_kvm)
{
	struct cpuid_probe p;
	cpuid_probe_run(kvm, 0, &p);
	cr_expect_eq(p.reach, CPUID_REACH_THIS_KVM, "CPL0 saw \"%s\" max 0x%x (%s)", p.signature,
		     p.max_leaf, p.why);
	cr_expect_str_eq(p.signature, "pvkvm-hv-abi");
	cpuid_probe_run(kvm, 3, &p);
	cr_expect_neq(p.reach, CPUID_REACH_UNKNOWN, "CPL3 probe: %s", p.why);
	cr_expect_eq(p.reach, cpuid_probe_cpl3(kvm)->reach, "the cached probe disagrees");
}

Test(platform, measure_fills_every_figure)
{
	struct platform_facts f;
	platform_measure(&f);
	cr_assert(f.kvm, "%s", f.kvm_why);
	cr_expect(f.vendor[0] && f.kernel[0]);
	const double *v = (const double *)&f.ns;
	for (size_t i = 0; i < sizeof(f.ns) / sizeof(double); i++)
		cr_expect_gt(v[i], 0, "figure %zu not measured", i);
	cr_expect_neq(f.sse_ud_without_osfxsr, TRI_UNKNOWN);
	cr_expect_neq(f.nested, TRI_UNKNOWN);
	cr_expect_lt(f.probe_ms, 10000, "measuring took %.0f ms", f.probe_ms);
}
