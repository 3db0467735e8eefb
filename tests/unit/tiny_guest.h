/* SPDX-License-Identifier: MIT */
/*
 * Tiny guests for the KVM unit tests: a few bytes of machine code run on the
 * real VMM (vm_create .. vm_run), with a hypercall page at TG_HCPAGE and a
 * test hypercall TG_RECORD that records its arguments and returns 0x1234.
 */
#ifndef PVKVM_TINY_GUEST_H
#define PVKVM_TINY_GUEST_H

#include <criterion/criterion.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host/core/hcall.h"
#include "host/x86/hypercall_page.h"
#include "host/core/vm.h"

#define TG_MEM (4u << 20)
#define TG_CODE 0x100000u
#define TG_HCPAGE 0x101000u
#define TG_RECORD 40u
#define TG_RECORD_RESULT 0x1234

/* mov $(TG_HCPAGE + nr * 32), %eax; call *%rax */
#define TG_CALL(nr)                                                       \
	0xb8, (uint8_t)((TG_HCPAGE + (nr) * 32) & 0xff),                   \
		(uint8_t)(((TG_HCPAGE + (nr) * 32) >> 8) & 0xff),          \
		(uint8_t)(((TG_HCPAGE + (nr) * 32) >> 16) & 0xff), 0x00,   \
		0xff, 0xd0
/* mov %rax, %rdi; then SHUTDOWN(rdi) */
#define TG_SHUTDOWN_WITH_RAX 0x48, 0x89, 0xc7, TG_CALL(PVKVM_HC_SHUTDOWN)

struct tg {
	struct vm *vm;
	uint64_t args[HCALL_NARGS];
	int calls;
	int status;
};

static inline bool tg_kvm_available(void)
{
	return access("/dev/kvm", R_OK | W_OK) == 0;
}

static int64_t tg_record(struct vcpu *v, void *ctx, const uint64_t a[HCALL_NARGS])
{
	(void)v;
	struct tg *g = ctx;
	memcpy(g->args, a, sizeof(g->args));
	g->calls++;
	return TG_RECORD_RESULT;
}

/* Runs code at TG_CODE in a VM made from cfg (mem_size, nr_vcpus and the
 * command line are the tiny guest's own); fills g (g->vm stays for
 * inspection: tg_free). */
static inline bool tg_run_cfg(struct tg *g, const struct vm_config *base,
			      const uint8_t *code, size_t len, bool page,
			      unsigned int timeout_s, char *why, size_t whylen)
{
	struct vm_config cfg = *base;
	cfg.mem_size = TG_MEM;
	cfg.nr_vcpus = 1;
	cfg.cmdline = "tiny";
	memset(g, 0, sizeof(*g));
	if (vm_create(&cfg, &g->vm, why, whylen))
		return false;
	if (hcall_register(g->vm->hcalls, TG_RECORD, "record", tg_record, g) ||
	    vm_load_code(g->vm, TG_CODE, code, len, TG_CODE) ||
	    (page && hypercall_page_install(&g->vm->mem, TG_HCPAGE))) {
		snprintf(why, whylen, "cannot set the tiny guest up");
		return false;
	}
	g->status = vm_run(g->vm, timeout_s);
	return true;
}

static inline bool tg_run(struct tg *g, const uint8_t *code, size_t len,
			  bool cpl0, bool page, unsigned int timeout_s,
			  char *why, size_t whylen)
{
	struct vm_config cfg = {.cpl0 = cpl0};
	return tg_run_cfg(g, &cfg, code, len, page, timeout_s, why, whylen);
}

static inline void tg_free(struct tg *g)
{
	vm_destroy(g->vm);
	g->vm = NULL;
}

/* In a scenario with its tiny guest in g: fills why and frees the guest
 * when cond does not hold. */
#define TG_CHECK(cond, ...)                              \
	do {                                             \
		if (!(cond)) {                           \
			snprintf(why, len, __VA_ARGS__); \
			tg_free(&g);                     \
			return false;                    \
		}                                        \
	} while (0)

/* A scenario returns false with why filled in when the guest misbehaved. */
typedef bool (*tg_scenario)(char *why, size_t len);

/* Runs one scenario as a test: skipped without /dev/kvm, failed with its
 * own explanation. */
static inline void tg_check(tg_scenario fn)
{
	char why[512];
	if (!tg_kvm_available())
		cr_skip_test("/dev/kvm is not available");
	cr_assert(fn(why, sizeof(why)), "%s", why);
}

#endif
