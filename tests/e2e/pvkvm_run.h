/* SPDX-License-Identifier: MIT */
/*
 * What every end-to-end test needs: the built pvkvm and guest kernel, a skip
 * when the platform cannot run them, and a way to run pvkvm as a child with
 * its own time limit so a hung guest fails one test, not the whole file.
 */
#ifndef PVKVM_E2E_RUN_H
#define PVKVM_E2E_RUN_H

#include <stdbool.h>
#include <stddef.h>

#ifndef PVKVM_BUILD_DIR
#define PVKVM_BUILD_DIR "build"
#endif

#define PVKVM PVKVM_BUILD_DIR "/pvkvm"
#define PVKERN PVKVM_BUILD_DIR "/guest/pvkern.elf"

#define RUN_OUT_MAX (256 * 1024)

struct run {
	int status;            /* exit status, or 128 + signal */
	double secs;           /* wall time of the run */
	char out[RUN_OUT_MAX]; /* stdout and stderr, interleaved */
};

/* Skips the calling test (cr_skip_test) without a usable /dev/kvm, or when
 * pvkvm or the guest kernel is not built. */
void require_platform(void);

/* True when this run of the suite has pvkvm withhold its CPUID leaves
 * (PVKVM_HIDE_CPUID=1, inherited by every pvkvm the tests start). */
bool e2e_cpuid_hidden(void);

/* The unsigned number after "key": in a --stats-json file; false when the
 * file or the key is missing. */
bool json_file_u64(const char *path, const char *key, unsigned long long *out);

/* Runs argv (argv[0] a path, NULL-terminated) and collects its output; the
 * child is killed after limit_s seconds. Asserts on fork/pipe failure. */
struct run *run_argv(char *const argv[], unsigned int limit_s);

#endif
