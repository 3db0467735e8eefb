// SPDX-License-Identifier: MIT
/*
 * The double-fetch detector: see dfetch.h. Signal-handler code: no locks,
 * no allocation; regions are set up while nothing runs on them.
 */
#include "tests/fuzz/dfetch.h"

#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ucontext.h>
#include <unistd.h>

#define MAX_REGIONS 8
#define PAGE 4096ul
#define TRAP_FLAG 0x100ull
#define PF_WRITE 0x2ull
#define MAX_OPEN 4 /* pages one instruction may touch */

/* The last read of a byte: its request, and who read it. */
struct last_read {
	uint32_t gen; /* 0 = never */
	uintptr_t sp, pc;
};

struct region {
	uint8_t *base;
	size_t len, skip;
	struct last_read *last; /* per byte */
	atomic_bool active; /* false: being unwatched, the page opens soon */
};

static struct region regions[MAX_REGIONS];
static atomic_int nr_regions;
static atomic_uint generation = 1;
static atomic_uint_fast64_t reads;
static struct sigaction old_segv;

/* Every range ever watched: a late fault there (a thread that closed a
 * page again just as it was being unwatched) is healed, not reported. */
#define HISTORY 64
static struct { uint8_t *base; size_t len; } history[HISTORY];
static atomic_uint nr_history;

static bool in_history(const uint8_t *a)
{
	unsigned int n = atomic_load(&nr_history);
	for (unsigned int i = 0; i < n && i < HISTORY; i++)
		if (a >= history[i].base && a < history[i].base + history[i].len)
			return true;
	return false;
}

/* Pages opened for the instruction this thread is stepping over. */
static __thread uint8_t *open_pages[MAX_OPEN];
static __thread int nr_open;

static struct region *find(const uint8_t *a)
{
	int n = atomic_load(&nr_regions);
	for (int i = 0; i < n; i++)
		if (a >= regions[i].base && a < regions[i].base + regions[i].len)
			return &regions[i];
	return NULL;
}

static void die(const char *msg, const uint8_t *a, const struct region *r)
{
	char line[160];
	int n = snprintf(line, sizeof(line),
			 "==dfetch== DOUBLE FETCH: %s at offset %zu of a watched region\n",
			 msg, (size_t)(a - r->base));
	if (write(2, line, (size_t)n) < 0) {
		/* nothing more to do */
	}
	abort();
}

static void chain(int sig, siginfo_t *si, void *uc)
{
	if (old_segv.sa_flags & SA_SIGINFO) {
		old_segv.sa_sigaction(sig, si, uc);
		return;
	}
	if (old_segv.sa_handler != SIG_DFL && old_segv.sa_handler != SIG_IGN) {
		old_segv.sa_handler(sig);
		return;
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	uint8_t *a = si->si_addr;
	struct region *r = find(a);
	uint8_t *page = (uint8_t *)((uintptr_t)a & ~(PAGE - 1));
	if ((!r || !atomic_load(&r->active)) && in_history(a) &&
	    mprotect(page, PAGE, PROT_READ | PROT_WRITE) == 0)
		return; /* no longer watched: now open again, retry */
	if (!r || nr_open >= MAX_OPEN) {
		chain(sig, si, ucv);
		return;
	}
	bool is_write = uc->uc_mcontext.gregs[REG_ERR] & PF_WRITE;
	size_t off = (size_t)(a - r->base);
	if (!is_write && off >= r->skip) {
		unsigned int g = atomic_load(&generation);
		uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
		uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
		struct last_read *l = &r->last[off];
		/* One memcpy may load a byte twice with two overlapping loads
		 * (its head and tail): same frame, other instruction. Anything
		 * else that reads the byte again looked twice. */
		if (l->gen == g && (l->sp != sp || l->pc == pc))
			die("a byte read twice in one request", a, r);
		*l = (struct last_read){ g, sp, pc };
		atomic_fetch_add(&reads, 1);
	}
	mprotect(page, PAGE, PROT_READ | PROT_WRITE);
	open_pages[nr_open++] = page;
	uc->uc_mcontext.gregs[REG_EFL] |= TRAP_FLAG;
}

static void on_trap(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	(void)si;
	ucontext_t *uc = ucv;
	uc->uc_mcontext.gregs[REG_EFL] &= ~TRAP_FLAG;
	for (int i = 0; i < nr_open; i++) {
		struct region *r = find(open_pages[i]);
		if (r && atomic_load(&r->active))
			mprotect(open_pages[i], PAGE, PROT_NONE);
	}
	nr_open = 0;
}

void dfetch_init(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sa.sa_sigaction = on_segv;
	sigaction(SIGSEGV, &sa, &old_segv);
	sa.sa_sigaction = on_trap;
	sigaction(SIGTRAP, &sa, NULL);
}

/* Forgets regions unwatched earlier (nothing can fault on them now: they
 * are open, or unmapped by their owner). */
static void reap_inactive(void)
{
	int n = atomic_load(&nr_regions);
	for (int i = 0; i < n; i++)
		if (atomic_load(&regions[i].active))
			return;
	atomic_store(&nr_regions, 0);
	for (int i = 0; i < n; i++) {
		free(regions[i].last);
		regions[i].last = NULL;
	}
}

void dfetch_watch(void *base, size_t len, size_t skip)
{
	reap_inactive();
	int n = atomic_load(&nr_regions);
	if (n >= MAX_REGIONS || ((uintptr_t)base | len) & (PAGE - 1))
		abort();
	struct region *r = &regions[n];
	r->base = base;
	r->len = len;
	r->skip = skip;
	r->last = calloc(len, sizeof(*r->last));
	if (!r->last)
		abort();
	atomic_store(&r->active, true);
	bool known = false;
	for (unsigned int i = 0; i < atomic_load(&nr_history) && i < HISTORY; i++)
		known |= history[i].base == (uint8_t *)base && history[i].len == len;
	if (!known) {
		/* Oldest first out: an unmapped old range fails mprotect above
		 * and is reported as the fault it is. */
		static unsigned int next;
		history[next % HISTORY].base = base;
		history[next % HISTORY].len = len;
		next++;
		if (atomic_load(&nr_history) < HISTORY)
			atomic_fetch_add(&nr_history, 1);
	}
	atomic_store(&nr_regions, n + 1);
	mprotect(base, len, PROT_NONE);
}

void dfetch_unwatch_all(void)
{
	int n = atomic_load(&nr_regions);
	for (int i = 0; i < n; i++) {
		atomic_store(&regions[i].active, false);
		mprotect(regions[i].base, regions[i].len, PROT_READ | PROT_WRITE);
	}
}

void dfetch_next_request(void)
{
	atomic_fetch_add(&generation, 1);
}

uint64_t dfetch_reads(void)
{
	return atomic_load(&reads);
}
