/* SPDX-License-Identifier: MIT */
/* `pvkvm bench ...` subcommands. */
#ifndef PVKVM_BENCH_H
#define PVKVM_BENCH_H

#include <stddef.h>

/* `pvkvm bench hypercall [options]`: argv[0] is "hypercall". Exit status. */
int bench_hypercall_main(int argc, char **argv);

/* build/guest/pvkern.elf next to the running pvkvm binary (build/pvkvm).
 * 0, or -1 when it cannot be worked out. */
int bench_default_guest(char *buf, size_t len);

#endif
