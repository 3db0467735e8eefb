// SPDX-License-Identifier: MIT
/* One guest, start to finish (see launch.h). */
#include "host/core/launch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/core/stats.h"

static void report_stats(const struct launch *l, struct vm *vm)
{
	if (l->stats)
		stats_print(&vm->stats, vm->hcalls, stderr);
	if (l->stats_json) {
		int r = stats_write_json(&vm->stats, vm->hcalls, l->stats_json);
		if (r)
			fprintf(stderr, "pvkvm: cannot write %s: %s\n", l->stats_json, strerror(-r));
	}
}

/* PVKVM_HIDE_CPUID=1 in the environment is --hide-cpuid for every guest a
 * process launches: how `make check` runs the end-to-end suite once more as
 * the guest sees a host where CPUID at CPL3 never reaches this KVM. */
static bool hide_cpuid_from_env(void)
{
	const char *e = getenv("PVKVM_HIDE_CPUID");
	return e && strcmp(e, "1") == 0;
}

int launch_guest(const struct launch *l)
{
	struct vm_config cfg = {
		.mem_size = l->mem_size,
		.nr_vcpus = l->nr_vcpus,
		.cmdline = l->cmdline,
		.stats = l->stats || l->stats_json,
		.hide_cpuid = l->hide_cpuid || hide_cpuid_from_env(),
		.console = l->console,
		.console_ctx = l->console_ctx,
	};
	char err[512];
	struct vm *vm;
	if (vm_create(&cfg, &vm, err, sizeof(err))) {
		fprintf(stderr, "pvkvm: %s\n", err);
		return PVKVM_EXIT_VMM_ERROR;
	}
	int status = PVKVM_EXIT_VMM_ERROR;
	if (l->attach && l->attach(vm, l->ctx)) {
		/* attach printed why */
	} else if (vm_load_elf(vm, l->guest, err, sizeof(err))) {
		fprintf(stderr, "pvkvm: %s\n", err);
	} else {
		status = vm_run(vm, l->timeout_s);
		report_stats(l, vm);
		if (l->after)
			l->after(vm, l->ctx);
	}
	vm_destroy(vm);
	return status;
}
