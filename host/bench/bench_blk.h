/* SPDX-License-Identifier: MIT */
/*
 * `pvkvm bench blk`: the block half of the main job. One image; for each
 * workload (case), the host doing the I/O directly (libaio, O_DIRECT; host
 * sleeps for completions, host-poll polls for them as pv's backend does) and
 * the guest kernel's blkbench through each disk mode (fv, fv-dma, sync, pv), with
 * IOPS, MB/s, latency and exits per request. bench_blk.c runs it;
 * bench_blk_report.c prints the table, writes JSON and draws the plot.
 */
#ifndef PVKVM_BENCH_BLK_H
#define PVKVM_BENCH_BLK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Last added last, so blk.dat's columns keep their places. */
enum blk_bench_mode { BB_HOST, BB_FV, BB_FV_DMA, BB_SYNC, BB_PV, BB_HOST_POLL, BB_NR_MODES };

/* host and host-poll: no guest, so no exits to count. */
static inline bool blk_bench_mode_is_host(enum blk_bench_mode m)
{
	return m == BB_HOST || m == BB_HOST_POLL;
}

struct blk_bench_case {
	const char *name; /* "randread-4k-qd32" */
	const char *rw;   /* blkbench's rw= */
	uint32_t bs;
	uint32_t qd;      /* asked for; fv, fv-dma and sync run at 1 */
};

#define BLK_BENCH_MAX_ROUNDS 9u

struct blk_bench_result {
	bool ok;
	bool skipped;      /* left out by --case / --modes: not a failure */
	char error[160];
	uint32_t qd;       /* what actually ran */
	uint64_t ops, bytes, elapsed_ns;
	double iops, mbps, p50_us, p99_us;
	uint64_t exits;    /* VMM (userspace) exits inside the window */
	uint64_t kicks;    /* guest event-channel sends (ioeventfd: in-kernel exits) */
	uint64_t sleeps;   /* guest WAITs while waiting for completions */
	double exits_per_req, kicks_per_req;
	/* pv: the backend's answer notifications inside the window (blk0's
	 * notifications_sent / notifications_suppressed counters). */
	uint64_t notify_sent, notify_suppressed;
	/* Every round's IOPS; the fields above are the median round's. */
	unsigned int nr_rounds;
	double round_iops[BLK_BENCH_MAX_ROUNDS];
};

struct platform_facts;

struct blk_bench_report {
	const char *image;
	uint64_t image_bytes;
	bool image_created;
	bool quick;
	uint64_t time_ms, warmup_ms; /* per round */
	unsigned int rounds;
	const struct blk_bench_case *cases;
	unsigned int nr_cases;
	struct blk_bench_result (*res)[BB_NR_MODES]; /* [case][mode] */
	const struct platform_facts *platform;       /* NULL: not measured */
};

const char *blk_bench_mode_name(enum blk_bench_mode m);

/* a / b IOPS of one case, e.g. pv / fv-dma (0 when either is unknown). */
double blk_bench_ratio(const struct blk_bench_result *a,
		       const struct blk_bench_result *b);

void blk_bench_print_table(const struct blk_bench_report *r, FILE *f);
/* 0 or -errno. */
int blk_bench_write_json(const struct blk_bench_report *r, const char *path);
/* Writes DIR/blk.dat and runs gnuplot on script: 0, or -1 after a line
 * saying why (gnuplot missing is reported, not an error: returns 1). */
int blk_bench_plot(const struct blk_bench_report *r, const char *dir,
		   const char *script);

/* Appends one row per case and mode to DIR's summary (bench_summary.h). */
void blk_bench_write_summary(const struct blk_bench_report *r, const char *dir);

/* `pvkvm bench blk --sweep KNOB=v1,v2,...`: one case, host and pv in
 * interleaved rounds per value (bench_blk_sweep.c prints and plots it). */
#define BLK_SWEEP_MAX_VALUES 12u

struct blk_sweep_point {
	char value[32];
	struct blk_bench_result host, pv; /* medians of the rounds */
};

struct blk_sweep_report {
	const char *knob;      /* "poll_us" */
	const char *applies;   /* what the value sets, e.g. "--disk poll_us= and blkbench ..." */
	const char *case_name;
	unsigned int rounds;
	uint64_t time_ms, warmup_ms; /* per round */
	const struct blk_sweep_point *pts;
	unsigned int nr_pts;
	const struct platform_facts *platform;
};

void blk_sweep_print_table(const struct blk_sweep_report *r, FILE *f);
/* DIR/sweep-KNOB.json: 0 or -errno. */
int blk_sweep_write_json(const struct blk_sweep_report *r, const char *dir);
/* DIR/sweep-KNOB.dat and, with gnuplot, .png and .svg: as blk_bench_plot. */
int blk_sweep_plot(const struct blk_sweep_report *r, const char *dir, const char *script);

/* `pvkvm bench blk [options]`. Exit status. */
int bench_blk_main(int argc, char **argv);

#endif
