/* SPDX-License-Identifier: MIT */
/*
 * The one-table summary of `pvkvm bench` (no arguments): every benchmark
 * appends its headline figures as rows to OUT/summary.tsv, and the matrix
 * run (bench_all.c) prints them as one table, writes report.md from them
 * and gathers each benchmark's JSON into results.json.
 */
#ifndef PVKVM_BENCH_SUMMARY_H
#define PVKVM_BENCH_SUMMARY_H

#define BENCH_SUMMARY_FILE "summary.tsv"

struct bench_summary_row {
	const char *bench;  /* "blk" */
	const char *name;   /* the case: "randread-4k-qd32" */
	const char *mode;   /* "host", "fv", "fv-dma", "sync", "pv" */
	const char *metric; /* "IOPS", "pps", "cycles" */
	double value;       /* the median round's */
	double spread;      /* (max - min) / median of the rounds; < 0: one round */
	double vs_host;     /* value / host's value; < 0: no host figure */
	double exits_per_op;/* userspace exits per operation; < 0: not counted */
};

/* Appends r to DIR/summary.tsv: 0 or -errno. */
int bench_summary_append(const char *dir, const struct bench_summary_row *r);

/* (max - min) / median of n values (the median given): the spread a row
 * reports; -1 when n < 2. */
double bench_spread(const double *v, unsigned int n, double median);

/* The median over rounds k of x[k] / ref[k], skipping rounds where either
 * is not positive: two modes' ratio paired round by round, so that the
 * disk's drift between rounds (a round of the same work can differ 3x on
 * these virtual disks) cancels in each pair instead of landing in one
 * median and not the other. 0 when no round pairs. */
double bench_paired_ratio(const double *x, const double *ref, unsigned int n);

#endif
