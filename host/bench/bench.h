/* SPDX-License-Identifier: MIT */
/* `pvkvm bench ...` subcommands. */
#ifndef PVKVM_BENCH_H
#define PVKVM_BENCH_H

#include <stddef.h>

/* `pvkvm bench hypercall [options]`: argv[0] is "hypercall". Exit status. */
int bench_hypercall_main(int argc, char **argv);

/* build/guest/pvkern.elf next to the running pvkvm binary (build/pvkvm),
 * or share/pvkvm/pvkern.elf beside bin/ when installed.
 * 0, or -1 when it cannot be worked out. */
int bench_default_guest(char *buf, size_t len);

/*
 * The guest's console, reassembled into lines for a benchmark to parse as
 * they arrive (console writes need not end at a newline). A line longer than
 * BENCH_LINE_MAX - 1 bytes is cut there.
 */
#define BENCH_LINE_MAX 512

struct bench_lines {
	char line[BENCH_LINE_MAX];
	size_t len;
};

typedef void (*bench_line_fn)(void *ctx, const char *line);

/* Feeds console bytes; calls take(ctx, line) for each line they complete. */
void bench_lines_feed(struct bench_lines *l, const char *buf, size_t len,
		      bench_line_fn take, void *ctx);

#endif
