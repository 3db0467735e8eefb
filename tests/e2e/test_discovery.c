// SPDX-License-Identifier: MIT
/*
 * End-to-end: how the guest kernel finds pvkvm on any host, and counters
 * that do not depend on timing.
 *
 * CPUID at CPL3 reaches this KVM on some hosts and not on others (and never
 * when pvkvm withholds its leaves: --hide-cpuid, or PVKVM_HIDE_CPUID=1 as in
 * make check's second e2e group). The start-info flags say which; selftest
 * must check the CPUID leaves exactly where they say so, and skip them with
 * the reason elsewhere.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hypercall/pvkvm_abi.h"
#include "pvkvm_run.h"

#define LIMIT_S 30
#define CPUID_CHECKS 4 /* selftest's checks of the CPUID leaves */
#define RUNS 4

static char *temp_json(void)
{
	char *path = strdup("/tmp/pvkvm-e2e-stats-XXXXXX");
	int fd = mkstemp(path);

	cr_assert(fd >= 0, "mkstemp");
	close(fd);
	return path;
}

static unsigned int count(const char *text, const char *needle)
{
	unsigned int n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* pvkvm run --stats-json J [extra] pvkern.elf -- prog [arg]; flags out. */
static struct run *run_with_stats(const char *extra, const char *prog,
				  const char *arg, const char *json)
{
	char *argv[12];
	int i = 0;

	argv[i++] = PVKVM;
	argv[i++] = "run";
	argv[i++] = "--stats-json";
	argv[i++] = (char *)json;
	if (extra)
		argv[i++] = (char *)extra;
	argv[i++] = PVKERN;
	argv[i++] = "--";
	argv[i++] = (char *)prog;
	if (arg)
		argv[i++] = (char *)arg;
	argv[i] = NULL;
	return run_argv(argv, LIMIT_S);
}

static unsigned long long flags_of(const char *json)
{
	unsigned long long f = 0;

	cr_assert(json_file_u64(json, "start_info_flags", &f),
		  "no start_info_flags in %s", json);
	return f;
}

/* selftest's CPUID checks ran, or were all skipped with why. */
static void expect_cpuid_checks(const struct run *r, unsigned long long flags,
				const char *why)
{
	unsigned int skipped = count(r->out, why);

	cr_expect_eq(r->status, 0, "selftest exited %d:\n%s", r->status, r->out);
	cr_expect_null(strstr(r->out, "not ok"), "a check failed:\n%s", r->out);
	if (flags & PVKVM_SIF_CPUID_CPL3) {
		cr_expect_null(strstr(r->out, "cpuid 0x40000000 signature and max leaf # SKIP"),
			       "flags 0x%llx say visible, yet selftest skipped:\n%s", flags, r->out);
		cr_expect(strstr(r->out, "- cpuid 0x40000000 signature and max leaf\n"),
			  "the CPUID check did not run:\n%s", r->out);
	} else {
		cr_expect_eq(skipped, CPUID_CHECKS,
			     "flags 0x%llx: %u of %d CPUID checks skipped with '%s':\n%s",
			     flags, skipped, CPUID_CHECKS, why, r->out);
	}
}

TestSuite(discovery, .init = require_platform, .timeout = 120);

Test(discovery, selftest_checks_cpuid_as_start_info_says)
{
	char *json = temp_json();
	struct run *r = run_with_stats(NULL, "selftest", NULL, json);
	unsigned long long flags = flags_of(json);
	bool hidden = e2e_cpuid_hidden();

	cr_expect_eq(!!(flags & PVKVM_SIF_CPUID_HIDDEN), hidden,
		     "flags 0x%llx, PVKVM_HIDE_CPUID %s", flags, hidden ? "set" : "unset");
	if (hidden)
		cr_expect(!(flags & PVKVM_SIF_CPUID_CPL3), "hidden, yet flags 0x%llx", flags);
	expect_cpuid_checks(r, flags, hidden ? "# SKIP the VMM withholds its CPUID leaves"
					     : "# SKIP CPUID at CPL3 does not reach this KVM");
	unlink(json);
	free(json);
	free(r);
}

Test(discovery, hide_cpuid_withholds_the_leaves)
{
	char *json = temp_json();
	struct run *r = run_with_stats("--hide-cpuid", "selftest", NULL, json);
	unsigned long long flags = flags_of(json);

	cr_expect(flags & PVKVM_SIF_CPUID_HIDDEN, "flags 0x%llx", flags);
	cr_expect(!(flags & PVKVM_SIF_CPUID_CPL3), "flags 0x%llx", flags);
	expect_cpuid_checks(r, flags, "# SKIP the VMM withholds its CPUID leaves");
	unlink(json);
	free(json);
	free(r);
}

Test(discovery, hcbench_says_what_its_cpuid_figure_is)
{
	char *json = temp_json();
	struct run *r = run_with_stats(NULL, "hcbench", "90", json);
	unsigned long long flags = flags_of(json);
	const char *want = flags & PVKVM_SIF_CPUID_CPL3_EXITS ? "(an exit handled by this KVM)"
							     : "(an exit handled by an outer hypervisor";

	cr_expect_eq(r->status, 0, "hcbench exited %d:\n%s", r->status, r->out);
	cr_expect(strstr(r->out, want), "flags 0x%llx, no '%s' in:\n%s", flags, want, r->out);
	unlink(json);
	free(json);
	free(r);
}

/* Runs prog RUNS times; every run's evtchn_guest_sends must be the same. */
static unsigned long long same_sends_every_run(const char *prog, const char *arg)
{
	unsigned long long first = 0;

	for (int i = 0; i < RUNS; i++) {
		char *json = temp_json();
		struct run *r = run_with_stats(NULL, prog, arg, json);
		unsigned long long sends = 0;

		cr_assert_eq(r->status, 0, "%s exited %d:\n%s", prog, r->status, r->out);
		cr_assert(json_file_u64(json, "evtchn_guest_sends", &sends), "no counter");
		if (i == 0)
			first = sends;
		cr_expect_eq(sends, first, "%s run %d: evtchn_guest_sends %llu, run 0: %llu",
			     prog, i, sends, first);
		unlink(json);
		free(json);
		free(r);
	}
	return first;
}

/*
 * hcbench sends a known number of times to host ends: "executed" sends on
 * each of the sink port and the woken backend's port. Every one must be
 * counted, in every run, whether or not the backend read it before the
 * guest shut down.
 */
Test(discovery, evtchn_guest_sends_counts_every_send)
{
	unsigned long long sends = same_sends_every_run("hcbench", "90");
	char *json = temp_json();
	struct run *r = run_with_stats(NULL, "hcbench", "90", json);
	const char *p = strstr(r->out, "hcbench: executed ");
	unsigned long long executed = 0;

	cr_assert(p && sscanf(p, "hcbench: executed %llu", &executed) == 1,
		  "no executed line:\n%s", r->out);
	cr_expect_eq(sends, 2 * executed, "evtchn_guest_sends %llu, hcbench sent %llu",
		     sends, 2 * executed);
	unlink(json);
	free(json);
	free(r);
	cr_expect_gt(same_sends_every_run("selftest", NULL), 0, "selftest sends");
}

/* --- pvkvm platform ------------------------------------------------------- */

#define PLATFORM(...) \
	run_argv((char *const[]){ PVKVM, "platform", __VA_ARGS__, NULL }, LIMIT_S)

Test(discovery, platform_table_json_and_summary)
{
	static const char *const keys[] = {
		"\"vendor\": ", "\"host_kernel\": ", "\"nested\": ", "\"nested_evidence\": [",
		"\"sse_ud_without_osfxsr\": ", "\"insn_cpl0\": ", "\"insn_cpl3\": ",
		"\"pio_exit_cpl3\": ", "\"ioeventfd_cpl3\": ", "\"mmio_exit_cpl3\": ",
		"\"first_touch_page\": ",
	};
	struct run *t = PLATFORM("--help");

	cr_expect_eq(t->status, 0);
	free(t);
	t = run_argv((char *const[]){ PVKVM, "platform", NULL }, LIMIT_S);
	cr_expect_eq(t->status, 0, "platform exited %d:\n%s", t->status, t->out);
	cr_expect(strstr(t->out, "CPUID 0x40000000") && strstr(t->out, "PIO exit to userspace") &&
			  strstr(t->out, "first write to a 4 KiB page"),
		  "the table lacks rows:\n%s", t->out);
	free(t);

	struct run *j = PLATFORM("--json");

	cr_expect_eq(j->status, 0, "platform --json exited %d", j->status);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_expect(strstr(j->out, keys[i]), "no %s in:\n%s", keys[i], j->out);
	cr_expect(strstr(j->out, "\"cpl0\": {\"reaches\": \"this-kvm\""),
		  "CPUID at CPL0 must always reach this KVM:\n%s", j->out);
	cr_expect(j->secs < 10, "platform took %.1f s", j->secs);
	free(j);

	struct run *s = PLATFORM("--summary");

	cr_expect(s->status == 0 && strncmp(s->out, "platform: ", 10) == 0 &&
			  strchr(s->out, '\n') == s->out + strlen(s->out) - 1,
		  "not one 'platform: ' line:\n%s", s->out);
	free(s);
}

/* The VMM's start probe and `pvkvm platform` must agree on CPUID at CPL3. */
Test(discovery, platform_agrees_with_start_info)
{
	char *json = temp_json();
	struct run *r = run_with_stats(NULL, "hcbench", "9", json);
	unsigned long long flags = flags_of(json);
	struct run *p = PLATFORM("--json");
	const char *want = flags & PVKVM_SIF_CPUID_CPL3_EXITS
				   ? "\"cpl3\": {\"reaches\": \"this-kvm\""
				   : "\"cpl3\": {\"reaches\": \"outer\"";

	cr_expect(strstr(p->out, want), "start-info flags 0x%llx, platform says:\n%s", flags,
		  p->out);
	unlink(json);
	free(json);
	free(r);
	free(p);
}
