/* SPDX-License-Identifier: MIT */
/* `pvkvm bench ...` subcommands. */
#ifndef PVKVM_BENCH_H
#define PVKVM_BENCH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* `pvkvm bench hypercall [options]`: argv[0] is "hypercall". Exit status. */
int bench_hypercall_main(int argc, char **argv);

/* `pvkvm bench ring [options]` (bench_ring.c). Exit status. */
int bench_ring_main(int argc, char **argv);

/* build/guest/pvkern.elf next to the running pvkvm binary (build/pvkvm),
 * or share/pvkvm/pvkern.elf beside bin/ when installed.
 * 0, or -1 when it cannot be worked out. */
int bench_default_guest(char *buf, size_t len);

/* The directory of the running pvkvm binary: 0, or -1. */
int bench_self_dir(char *buf, size_t len);

/*
 * The options the guest benchmarks (blk, net) share, the first member of
 * each one's options struct: the cli handlers below take that struct as
 * their state.
 */
struct bench_base_opts {
	char out[PATH_MAX];         /* --out DIR, "" = none */
	char guest[PATH_MAX];       /* --guest, or the default guest */
	char plot_script[PATH_MAX];
	bool quick, no_plot;
	uint64_t time_ms, warmup_ms;
	unsigned int rounds;        /* --rounds */
	unsigned int round;         /* the one running (stats file names) */
};

/* cli_option handlers for --out, --guest, --quick, --no-plot and --rounds
 * (1..BENCH_MAX_ROUNDS), on a state whose first member is a
 * struct bench_base_opts. */
int bench_opt_out(void *st, const char *arg);
int bench_opt_guest(void *st, const char *arg);
int bench_opt_quick(void *st, const char *arg);
int bench_opt_no_plot(void *st, const char *arg);
int bench_opt_rounds(void *st, const char *arg);

/* A blk/net-style benchmark's --out DIR: DIR and DIR/stats/ (per-run
 * counters), either may exist already. OUT "" (no --out) creates nothing.
 * 0, or -1 said on stderr. */
int bench_make_out_dirs(const char *out);

/* scripts/NAME (e.g. "plot-blk.gp"), found from build/pvkvm as ../scripts/;
 * BUF is left as it is when the build tree cannot be worked out. */
void bench_locate_plot_script(char *buf, size_t len, const char *name);

/* What every benchmark checks after cli_parse: no positional arguments
 * (NPOS of them, argv[1] the first), and GUEST "" becomes the default
 * guest. 0, or -1 said on stderr. */
int bench_check_args(int npos, char **argv, char *guest, size_t len);

/* Says "bench TAG: wrote PATH", or why not, after a report writer returned
 * R (0 or -errno) for PATH. 0, or -1. */
int bench_report_written(const char *tag, const char *path, int r);

/*
 * Modes run in rounds, the order rotated each round, so that drift over the
 * minutes of a run (the disk's, other load on the machine) falls on every
 * mode alike instead of on whichever ran last: the K-th mode of ROUND.
 */
static inline int bench_round_mode(unsigned int round, int k, int nr_modes)
{
	return (int)((round + (unsigned int)k) % (unsigned int)nr_modes);
}

/* The most rounds a benchmark runs a mode (--rounds). */
#define BENCH_MAX_ROUNDS 9u

/* The round a mode is reported by, of N with VALUE[k] (IOPS, packets/s)
 * and OK[k]: the median by value, but a failed round wins (a failure must
 * show). */
unsigned int bench_median_round(const double *value, const bool *ok, unsigned int n);

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
