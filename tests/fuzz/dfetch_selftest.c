// SPDX-License-Identifier: MIT
/*
 * The double-fetch detector must be able to fail: each case runs in a
 * child; those that read a watched byte twice in one request must die with
 * the detector's report, the others must live. Run by fuzz-smoke.sh before
 * the fuzzers. Prints "N passed, N failed".
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/fuzz/dfetch.h"

static uint8_t *page;
static volatile uint8_t sink; /* keeps the copies from being optimised away */

static __attribute__((noinline)) uint8_t load(const volatile uint8_t *p)
{
	return *p;
}

static void twice_same_instruction(void)
{
	(void)load(page + 100);
	(void)load(page + 100);
}

static __attribute__((noinline)) size_t length_of(const uint8_t *p, size_t max)
{
	size_t n = 0;
	while (n < max && p[n])
		n++;
	return n;
}

/* The classic: measure a guest string, then copy it (two looks). */
static void measure_then_copy(void)
{
	char copy[64];
	memset(page + 200, 'a', 16);
	page[216] = 0;
	dfetch_watch(page, 4096, 0);
	size_t n = length_of(page + 200, 32);
	memcpy(copy, page + 200, n);
	sink = (uint8_t)copy[n / 2];
}

static void once_per_request(void)
{
	for (int i = 0; i < 3; i++) {
		dfetch_next_request();
		(void)load(page + 300);
	}
}

static void small_memcpys(void)
{
	char out[32];
	for (size_t n = 1; n < 32; n++) {
		dfetch_next_request();
		memcpy(out, page + 400, n);
		sink = (uint8_t)out[n - 1];
	}
}

static void writes_then_read(void)
{
	for (int i = 0; i < 3; i++)
		page[500] = (uint8_t)i;
	(void)load(page + 500);
}

static int run(void (*fn)(void), int should_die, const char *name)
{
	pid_t pid = fork();
	if (pid == 0) {
		dfetch_init();
		if (fn != measure_then_copy)
			dfetch_watch(page, 4096, 0);
		fn();
		dfetch_unwatch_all();
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	int died = !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	int ok = died == should_die;
	printf("dfetch_selftest: %s: %s (%s)\n", name, ok ? "ok" : "FAILED",
	       died ? "aborted" : "lived");
	return ok;
}

int main(void)
{
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int pass = 0, fail = 0;
	struct { void (*fn)(void); int die; const char *name; } cases[] = {
		{ twice_same_instruction, 1, "a byte loaded twice" },
		{ measure_then_copy, 1, "measured, then copied" },
		{ once_per_request, 0, "once per request" },
		{ small_memcpys, 0, "memcpy's overlapping loads" },
		{ writes_then_read, 0, "writes, then one read" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (run(cases[i].fn, cases[i].die, cases[i].name))
			pass++;
		else
			fail++;
	}
	printf("%d passed, %d failed\n", pass, fail);
	return fail != 0;
}
