/* SPDX-License-Identifier: MIT */
/*
 * Where a benchmark figure came from, written into every results JSON so a
 * reader can reproduce it: the exact command line, the commit pvkvm was
 * built from, the host kernel, the CPU, the time of the run and the load
 * average at its start and end.
 */
#ifndef PVKVM_BENCH_META_H
#define PVKVM_BENCH_META_H

#include <stdio.h>

/* Keeps the command line and the load average (main() calls this first). */
void bench_meta_set_argv(int argc, char **argv);

/* One warning line on f, prefixed by what, when the load average at start
 * says more than half the CPUs were already busy. */
void bench_meta_warn_if_busy(FILE *f, const char *what);

/* Writes `"provenance": {...}` (no trailing comma), each line prefixed by
 * indent. */
void bench_meta_write_json(FILE *f, const char *indent);

/* Writes s as a JSON string, quotes included. */
void bench_json_string(FILE *f, const char *s);

#endif
