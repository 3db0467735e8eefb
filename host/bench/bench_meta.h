/* SPDX-License-Identifier: MIT */
/*
 * Where a benchmark figure came from, written into every results JSON so a
 * reader can reproduce it: the exact command line, the commit pvkvm was
 * built from, the host kernel, the CPU and the time of the run.
 */
#ifndef PVKVM_BENCH_META_H
#define PVKVM_BENCH_META_H

#include <stdio.h>

/* Keeps the command line (main() calls this first). */
void bench_meta_set_argv(int argc, char **argv);

/* Writes `"provenance": {...}` (no trailing comma), each line prefixed by
 * indent. */
void bench_meta_write_json(FILE *f, const char *indent);

/* Writes s as a JSON string, quotes included. */
void bench_json_string(FILE *f, const char *s);

#endif
