// SPDX-License-Identifier: MIT
/*
 * The CPL3 machine on the real /dev/kvm: tiny guests that run natively at
 * CPL3 make hypercalls, read CPUID and start-info, and fault in the ways a
 * guest kernel can; each fault must come back as one line and 128 + vector.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "host/platform/cpuid_probe.h"
#include "tests/unit/tiny_guest.h"

static bool run(struct tg *g, const uint8_t *code, size_t n, unsigned int timeout,
		char *why, size_t len)
{
	return tg_run(g, code, n, false, true, timeout, why, len);
}

static bool hypercall_round_trip(char *why, size_t len)
{
	static const uint8_t code[] = {
		0x48, 0xc7, 0xc7, 0x11, 0, 0, 0, /* mov $0x11, %rdi */
		0x48, 0xc7, 0xc6, 0x22, 0, 0, 0, /* mov $0x22, %rsi */
		0x48, 0xc7, 0xc2, 0x33, 0, 0, 0, /* mov $0x33, %rdx */
		0x49, 0xc7, 0xc2, 0x44, 0, 0, 0, /* mov $0x44, %r10 */
		0x49, 0xc7, 0xc0, 0x55, 0, 0, 0, /* mov $0x55, %r8 */
		TG_CALL(TG_RECORD), TG_SHUTDOWN_WITH_RAX};
	struct tg g;
	if (!run(&g, code, sizeof(code), 30, why, len))
		return false;
	TG_CHECK(g.status == (TG_RECORD_RESULT & 0xff), "exit %d (%s)", g.status, g.vm->stop_msg);
	TG_CHECK(g.calls == 1, "record called %d times", g.calls);
	for (unsigned int i = 0; i < HCALL_NARGS; i++)
		TG_CHECK(g.args[i] == 0x11 * (i + 1), "arg %u is 0x%llx", i, (unsigned long long)g.args[i]);
	TG_CHECK(stat_get(&g.vm->stats.exits_pio_hypercall) == 2, "expected one exit per hypercall");
	TG_CHECK(stat_get(&g.vm->stats.hypercalls[TG_RECORD]) == 1, "not counted");
	tg_free(&g);
	return true;
}

/* CPUID 0x40000000 and the start-info magic, as the guest sees them:
 * TG_RECORD(ebx, ecx, edx, eax, magic). */
static const uint8_t cpuid_code[] = {
	0x49, 0x89, 0xf8,             /* mov %rdi, %r8 (start-info) */
	0xb8, 0, 0, 0, 0x40,          /* mov $0x40000000, %eax */
	0x0f, 0xa2,                   /* cpuid */
	0x48, 0x89, 0xdf,             /* mov %rbx, %rdi */
	0x48, 0x89, 0xce,             /* mov %rcx, %rsi */
	0x49, 0x89, 0xc2,             /* mov %rax, %r10 */
	0x4d, 0x8b, 0x00,             /* mov (%r8), %r8: the magic */
	TG_CALL(TG_RECORD),
	0x31, 0xc0, TG_SHUTDOWN_WITH_RAX};

static bool shows_pvkvm(const struct tg *g)
{
	return g->args[0] == PVKVM_CPUID_SIG_EBX && g->args[1] == PVKVM_CPUID_SIG_ECX &&
	       g->args[2] == PVKVM_CPUID_SIG_EDX && g->args[3] == PVKVM_CPUID_MAX;
}

static bool run_cpuid_guest(struct tg *g, bool cpl0, bool hide, char *why, size_t len)
{
	struct vm_config cfg = {.cpl0 = cpl0, .hide_cpuid = hide};
	if (!tg_run_cfg(g, &cfg, cpuid_code, sizeof(cpuid_code), true, 60, why, len))
		return false;
	if (g->status != 0 || g->calls != 1 || g->args[4] != PVKVM_START_INFO_MAGIC) {
		snprintf(why, len, "exit %d, %d records, magic 0x%llx (%s)", g->status, g->calls,
			 (unsigned long long)g->args[4], g->vm->stop_msg);
		tg_free(g);
		return false;
	}
	return true;
}

/*
 * At CPL3 the guest sees pvkvm's leaves exactly where the VMM's probe says
 * CPUID at CPL3 reaches this KVM (Intel hosts, real hardware); elsewhere
 * (AMD hosts of the nested kind) the flags must say it does not, and the
 * guest must indeed read another hypervisor's leaves.
 */
static bool cpuid_and_start_info(char *why, size_t len)
{
	struct tg g;
	if (!run_cpuid_guest(&g, false, false, why, len))
		return false;
	const struct cpuid_probe *p = cpuid_probe_cpl3(g.vm->kvm_fd);
	uint32_t flags = g.vm->start_info->flags;
	uint32_t cpuid_flags = PVKVM_SIF_CPUID_CPL3 | PVKVM_SIF_CPUID_CPL3_EXITS;
	TG_CHECK(p->reach != CPUID_REACH_UNKNOWN, "the probe could not run: %s", p->why);
	TG_CHECK(!(flags & PVKVM_SIF_CPUID_HIDDEN), "flags 0x%x: hidden without --hide-cpuid", flags);
	if (p->reach == CPUID_REACH_THIS_KVM) {
		TG_CHECK((flags & cpuid_flags) == cpuid_flags, "probe: reachable; flags 0x%x", flags);
		TG_CHECK(shows_pvkvm(&g), "probe: reachable, yet the guest read %08llx %08llx %08llx max 0x%llx",
		      (unsigned long long)g.args[0], (unsigned long long)g.args[1],
		      (unsigned long long)g.args[2], (unsigned long long)g.args[3]);
	} else {
		TG_CHECK(!(flags & cpuid_flags), "probe: not reachable; flags 0x%x", flags);
		TG_CHECK(!shows_pvkvm(&g), "probe: not reachable, yet the guest read pvkvm's leaves");
	}
	tg_free(&g);
	return true;
}

/* CPUID at CPL0 always reaches this KVM: the discovery path of CPL0 guests. */
static bool cpuid_at_cpl0_shows_pvkvm(char *why, size_t len)
{
	struct tg g;
	if (!run_cpuid_guest(&g, true, false, why, len))
		return false;
	TG_CHECK(shows_pvkvm(&g), "CPL0 guest read %08llx %08llx %08llx max 0x%llx",
	      (unsigned long long)g.args[0], (unsigned long long)g.args[1],
	      (unsigned long long)g.args[2], (unsigned long long)g.args[3]);
	tg_free(&g);
	return true;
}

/* --hide-cpuid: no pvkvm leaves at either level, and the flags say so. */
static bool hidden_cpuid_is_withheld(char *why, size_t len)
{
	for (int cpl0 = 0; cpl0 <= 1; cpl0++) {
		struct tg g;
		if (!run_cpuid_guest(&g, cpl0, true, why, len))
			return false;
		uint32_t flags = g.vm->start_info->flags;
		TG_CHECK(!shows_pvkvm(&g), "CPL%d guest read pvkvm's leaves with hide_cpuid", cpl0 ? 0 : 3);
		TG_CHECK((flags & PVKVM_SIF_CPUID_HIDDEN) && !(flags & PVKVM_SIF_CPUID_CPL3),
		      "flags 0x%x with hide_cpuid", flags);
		tg_free(&g);
	}
	return true;
}

/* Runs code, expects exit status and a stop line containing each needle. */
static bool expect_stop(const uint8_t *code, size_t n, unsigned int timeout,
			int status, const char *n1, const char *n2, char *why, size_t len)
{
	struct tg g;
	if (!run(&g, code, n, timeout, why, len))
		return false;
	TG_CHECK(g.status == status, "exit %d, expected %d (%s)", g.status, status, g.vm->stop_msg);
	TG_CHECK(strstr(g.vm->stop_msg, n1), "'%s' lacks '%s'", g.vm->stop_msg, n1);
	TG_CHECK(!n2 || strstr(g.vm->stop_msg, n2), "'%s' lacks '%s'", g.vm->stop_msg, n2);
	tg_free(&g);
	return true;
}

static bool out_to_closed_port_is_gp(char *why, size_t len)
{
	static const uint8_t code[] = {0x90, 0xe6, 0x80}; /* nop; out %al, $0x80 */
	return expect_stop(code, sizeof(code), 30, 128 + 13, "#GP (vector 13)",
			   "at rip 0x100001", why, len);
}

static bool divide_by_zero_is_de(char *why, size_t len)
{
	static const uint8_t code[] = {0x31, 0xc9, 0xf7, 0xf1}; /* xor %ecx,%ecx; div %ecx */
	return expect_stop(code, sizeof(code), 30, 128, "#DE (vector 0) error 0x0",
			   "at rip 0x100002", why, len);
}

static bool vmm_pages_are_supervisor_only(char *why, size_t len)
{
	static const uint8_t code[] = {0x8b, 0x04, 0x25, 0x00, 0x20, 0x01, 0x00}; /* mov 0x12000,%eax */
	return expect_stop(code, sizeof(code), 30, 128 + 14, "#PF (vector 14) error 0x5",
			   "cr2 0x12000", why, len);
}

static bool start_info_is_read_only(char *why, size_t len)
{
	static const uint8_t code[] = {0x89, 0x07}; /* mov %eax, (%rdi) */
	return expect_stop(code, sizeof(code), 30, 128 + 14, "#PF (vector 14) error 0x7",
			   NULL, why, len);
}

static bool fault_port_from_cpl3_is_refused(char *why, size_t len)
{
	static const uint8_t code[] = {0xe6, 0xe6}; /* out %al, $PVKVM_PORT_FAULT */
	return expect_stop(code, sizeof(code), 30, PVKVM_EXIT_GUEST_BROKEN,
			   "outside the VMM's fault stubs", NULL, why, len);
}

static bool unclaimed_open_port_stops(char *why, size_t len)
{
	static const uint8_t code[] = {0xe6, 0xe7}; /* out %al, $0xe7 */
	return expect_stop(code, sizeof(code), 30, PVKVM_EXIT_GUEST_BROKEN,
			   "unexpected write", "port 0xe7", why, len);
}

static bool timeout_stops_a_spinning_guest(char *why, size_t len)
{
	static const uint8_t code[] = {0xeb, 0xfe}; /* jmp . */
	return expect_stop(code, sizeof(code), 1, PVKVM_EXIT_TIMEOUT, "timed out", NULL,
			   why, len);
}

TestSuite(cpl3, .timeout = 60);
Test(cpl3, hypercall_round_trip) { tg_check(hypercall_round_trip); }
Test(cpl3, cpuid_and_start_info) { tg_check(cpuid_and_start_info); }
Test(cpl3, cpuid_at_cpl0_shows_pvkvm) { tg_check(cpuid_at_cpl0_shows_pvkvm); }
Test(cpl3, hidden_cpuid_is_withheld) { tg_check(hidden_cpuid_is_withheld); }
Test(cpl3, out_to_closed_port_is_gp) { tg_check(out_to_closed_port_is_gp); }
Test(cpl3, divide_by_zero_is_de) { tg_check(divide_by_zero_is_de); }
Test(cpl3, vmm_pages_are_supervisor_only) { tg_check(vmm_pages_are_supervisor_only); }
Test(cpl3, start_info_is_read_only) { tg_check(start_info_is_read_only); }
Test(cpl3, fault_port_from_cpl3_is_refused) { tg_check(fault_port_from_cpl3_is_refused); }
Test(cpl3, unclaimed_open_port_stops) { tg_check(unclaimed_open_port_stops); }
Test(cpl3, timeout_stops_a_spinning_guest) { tg_check(timeout_stops_a_spinning_guest); }
