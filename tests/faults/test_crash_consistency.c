// SPDX-License-Identifier: MIT
/*
 * Crash consistency: a guest (pvkern hostileblk durable SEED) writes
 * generation after generation to its PV disk, flushes after each, and says
 * "durable: g" only once the flush is acknowledged. The host SIGKILLs the
 * VMM at a random moment (from during boot to well into the writes), many
 * times, each with a new seed, and checks the image: every generation the
 * guest was told is durable must be on disk, byte for byte.
 *
 * PVKVM_CRASH_ITERATIONS sets the number of kills (default 200, ~1 minute).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest-drivers/pvkern/blk_pattern.h"
#include "tests/e2e/pvkvm_run.h"

#define IMG_BYTES (16u << 20)

static char img[64];

static void setup(void)
{
	require_platform();
	snprintf(img, sizeof(img), "/tmp/pvkvm-crash-XXXXXX");
	int fd = mkstemp(img);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, IMG_BYTES), 0);
	close(fd);
}

static void teardown(void)
{
	unlink(img);
}

TestSuite(crash, .init = setup, .fini = teardown, .timeout = 600);

/* Runs the writer, kills it after delay_us, returns the last generation it
 * said was durable (a whole line), or -1. */
static long run_and_kill(unsigned long seed, unsigned int delay_us, char *out, size_t outlen)
{
	char seed_s[32], disk[96];
	snprintf(seed_s, sizeof(seed_s), "%lu", seed);
	snprintf(disk, sizeof(disk), "%s", img);
	char *argv[] = { PVKVM, "run", "--disk", disk, PVKERN, "--", "hostileblk",
			 "durable", seed_s, NULL };
	int pipefd[2];
	cr_assert_eq(pipe(pipefd), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		close(pipefd[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	usleep(delay_us);
	kill(pid, SIGKILL);
	size_t len = 0;
	ssize_t n;
	while ((n = read(pipefd[0], out + len, outlen - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(pipefd[0]);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	long last = -1;
	for (char *p = out; (p = strstr(p, "durable: ")); p++) {
		char *end;
		long g = strtol(p + 9, &end, 10);
		if (end != p + 9 && *end == '\n')
			last = g; /* only whole lines count */
	}
	return last;
}

static void check_durable(unsigned long seed, long last, unsigned int iter)
{
	int fd = open(img, O_RDONLY);
	cr_assert_geq(fd, 0);
	uint8_t buf[8 * 512];
	for (long g = 0; g <= last; g++) {
		cr_assert_eq(pread(fd, buf, sizeof(buf), (off_t)g * sizeof(buf)),
			     (ssize_t)sizeof(buf));
		for (unsigned int k = 0; k < 8; k++) {
			int bad = blk_pattern_check(buf + k * 512, (uint64_t)g * 8 + k,
						    ((uint64_t)seed << 20) + (uint64_t)g);
			if (bad >= 0) {
				close(fd);
				cr_assert_fail("kill %u: generation %ld of %ld acknowledged "
					       "durable, sector %u byte %d is not on disk",
					       iter, g, last, k, bad);
			}
		}
	}
	close(fd);
}

Test(crash, every_acknowledged_flush_survives_sigkill)
{
	const char *env = getenv("PVKVM_CRASH_ITERATIONS");
	unsigned int iters = env ? (unsigned int)strtoul(env, NULL, 10) : 200;
	static char out[1 << 20];
	unsigned int seeded = (unsigned int)time(NULL) ^ (unsigned int)getpid();
	srand(seeded);
	unsigned int with_acks = 0;
	long most = -1;
	unsigned long total_acked = 0;
	for (unsigned int i = 0; i < iters; i++) {
		unsigned long seed = (unsigned long)(rand() & 0xfffff) + 1;
		/* Boot takes ~0.1 s: some kills land before any write. */
		unsigned int delay_us = 20000 + (unsigned int)rand() % 330000;
		long last = run_and_kill(seed, delay_us, out, sizeof(out));
		check_durable(seed, last, i);
		if (last >= 0) {
			with_acks++;
			total_acked += (unsigned long)last + 1;
		}
		if (last > most)
			most = last;
	}
	cr_log_info("%u kills (srand %u): %u after at least one acknowledged flush, "
		    "%lu acknowledged generations checked, at most %ld in one run",
		    iters, seeded, with_acks, total_acked, most + 1);
	cr_assert_gt(with_acks, iters / 4, "most kills came before any flush: "
		     "the test checked little (%u of %u)", with_acks, iters);
}
