/* SPDX-License-Identifier: MIT */
/*
 * The ceiling of the block benchmark: the host itself doing the guest's
 * I/O pattern on the same image, with libaio and O_DIRECT (what the PV
 * backend uses underneath), the same block size, queue depth, warm-up and
 * duration, and the same way of counting (operations completed inside
 * the window, submit-to-completion latency). It waits for completions
 * either asleep in io_getevents (fio's libaio default) or, with poll, by
 * looking at libaio's completion ring in user space and yielding the CPU
 * when it is empty (fio's userspace_reap): what pv's backend does within
 * its poll_us window, so the ceiling does not pay wake-ups pv avoids.
 */
#ifndef PVKVM_BENCH_HOSTDIRECT_H
#define PVKVM_BENCH_HOSTDIRECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hostdirect_cfg {
	const char *path;
	bool write;
	bool random;
	uint32_t bs;       /* bytes, a multiple of 4096 */
	uint32_t qd;       /* 1..256 */
	uint64_t warmup_ms;
	uint64_t time_ms;
	uint64_t seed;
	bool poll;         /* reap by polling, never sleep */
};

struct hostdirect_result {
	uint64_t ops;
	uint64_t bytes;
	uint64_t elapsed_ns;
	uint64_t p50_ns, p99_ns;
};

/* 0, or -1 with a one-line reason in err. */
int hostdirect_run(const struct hostdirect_cfg *cfg, struct hostdirect_result *res,
		   char *err, size_t errlen);

#endif
