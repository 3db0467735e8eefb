/* SPDX-License-Identifier: MIT */
/*
 * Running one guest end to end (create, attach devices, load, run, report,
 * destroy): what `pvkvm run` does, shared with the benchmarks.
 */
#ifndef PVKVM_LAUNCH_H
#define PVKVM_LAUNCH_H

#include <stdbool.h>
#include <stdint.h>

#include "host/core/vm.h"

struct launch {
	const char *guest;      /* ELF path */
	const char *cmdline;    /* start_info.cmdline */
	uint64_t mem_size;
	unsigned int nr_vcpus;
	unsigned int timeout_s; /* 0: none */
	bool stats;             /* print counters to stderr at exit */
	const char *stats_json; /* NULL: none */
	bool hide_cpuid;        /* withhold pvkvm's CPUID leaves */
	console_fn console;     /* NULL: stdout */
	void *console_ctx;
	/* Attaches devices (disks, NICs) after the VM exists; 0 or -1 after
	 * printing one line. */
	int (*attach)(struct vm *vm, void *ctx);
	/* Sees the stopped VM (its counters) before it is destroyed. */
	void (*after)(struct vm *vm, void *ctx);
	void *ctx;
};

/* The guest's exit status, or PVKVM_EXIT_VMM_ERROR after one line on
 * stderr saying why it could not run. */
int launch_guest(const struct launch *l);

#endif
