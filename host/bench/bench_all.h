/* SPDX-License-Identifier: MIT */
/* `pvkvm bench` with no benchmark named: the whole matrix (bench_all.c). */
#ifndef PVKVM_BENCH_ALL_H
#define PVKVM_BENCH_ALL_H

#include <stdbool.h>

/* argv[0] is "bench"; exists(name) says whether `pvkvm bench NAME` is
 * built in. Exit status. */
int bench_all_main(int argc, char **argv, bool (*exists)(const char *name));

#endif
