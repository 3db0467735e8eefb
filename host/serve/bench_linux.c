// SPDX-License-Identifier: MIT
/*
 * `pvkvm bench linux`: runs scripts/bench-linux.sh of the source tree this
 * pvkvm was built in (build/pvkvm -> ../scripts/). The benchmark drives
 * QEMU, a kernel build and an initramfs, which is a shell's job; this entry
 * point only finds it and hands over the arguments.
 */
#include "host/serve/serve.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/core/vm.h"

int serve_bench_linux_main(int argc, char **argv)
{
	char exe[PATH_MAX], script[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0) {
		perror("pvkvm bench linux: /proc/self/exe");
		return PVKVM_EXIT_VMM_ERROR;
	}
	exe[n] = '\0';
	snprintf(script, sizeof(script), "%s/../scripts/bench-linux.sh", dirname(exe));
	if (access(script, X_OK) != 0) {
		fprintf(stderr, "pvkvm bench linux: needs the source tree's scripts/bench-linux.sh (%s: %s)\n",
			script, strerror(errno));
		return PVKVM_EXIT_VMM_ERROR;
	}
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	if (!args)
		return PVKVM_EXIT_VMM_ERROR;
	args[0] = script;
	for (int i = 1; i < argc; i++)
		args[i] = argv[i];
	execv(script, args);
	fprintf(stderr, "pvkvm bench linux: %s: %s\n", script, strerror(errno));
	free(args);
	return PVKVM_EXIT_VMM_ERROR;
}
