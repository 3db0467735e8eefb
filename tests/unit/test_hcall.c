// SPDX-License-Identifier: MIT
/*
 * The dispatch table: basic contract, a blocking handler that unregister
 * must wait for, and register/unregister racing with dispatching threads
 * (run under TSan and ASan by `make check`: a handler running on freed state
 * would show up there).
 *
 * Each test is a function returning pass/fail plus why, so the threads it
 * starts never call into the test framework.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <urcu.h>

#include "host/core/hcall.h"
#include "hypercall/pvkvm_abi.h"

#define CHECK(cond, ...)                                  \
	do {                                              \
		if (!(cond)) {                            \
			snprintf(why, len, __VA_ARGS__);  \
			return false;                     \
		}                                         \
	} while (0)

static int64_t add_args(struct vcpu *v, void *ctx, const uint64_t a[HCALL_NARGS])
{
	(void)v;
	return (int64_t)(a[0] + a[1] + a[2] + a[3] + a[4]) + (intptr_t)ctx;
}

static bool basic_contract(char *why, size_t len)
{
	rcu_register_thread();
	struct hcall_table *t = hcall_table_new();
	const uint64_t args[HCALL_NARGS] = {1, 2, 3, 4, 5};
	bool ok = false;
	do {
		if (hcall_dispatch(t, NULL, 40, args) != -PVKVM_ENOSYS) { snprintf(why, len, "empty slot did not give ENOSYS"); break; }
		if (hcall_register(t, 40, "add", add_args, (void *)100) != 0) { snprintf(why, len, "register failed"); break; }
		if (hcall_register(t, 40, "add", add_args, NULL) != -EEXIST) { snprintf(why, len, "double register not EEXIST"); break; }
		if (hcall_register(t, PVKVM_HYPERCALL_MAX, "x", add_args, NULL) != -EINVAL) { snprintf(why, len, "nr out of range not EINVAL"); break; }
		if (hcall_dispatch(t, NULL, 40, args) != 115) { snprintf(why, len, "handler result or args wrong"); break; }
		if (hcall_dispatch(t, NULL, 100000, args) != -PVKVM_ENOSYS) { snprintf(why, len, "huge nr not ENOSYS"); break; }
		if (!hcall_name(t, 40) || strcmp(hcall_name(t, 40), "add") || hcall_name(t, 41)) { snprintf(why, len, "names wrong"); break; }
		if (hcall_unregister(t, 40) != 0 || hcall_unregister(t, 40) != -ENOENT) { snprintf(why, len, "unregister results wrong"); break; }
		if (hcall_dispatch(t, NULL, 40, args) != -PVKVM_ENOSYS) { snprintf(why, len, "unregistered call still dispatched"); break; }
		if (!hcall_name(t, 40)) { snprintf(why, len, "name not kept for the statistics"); break; }
		ok = true;
	} while (0);
	hcall_table_free(t);
	rcu_unregister_thread();
	return ok;
}

/* --- a handler that blocks --------------------------------------------- */

struct slow {
	atomic_int inside;
	atomic_int finished;
};

static int64_t slow_handler(struct vcpu *v, void *ctx, const uint64_t a[HCALL_NARGS])
{
	(void)v, (void)a;
	struct slow *s = ctx;
	atomic_store(&s->inside, 1);
	struct timespec d = {.tv_nsec = 100 * 1000 * 1000};
	nanosleep(&d, NULL);
	atomic_store(&s->finished, 1);
	return 7;
}

struct slow_call {
	struct hcall_table *t;
	int64_t ret;
};

static void *call_slow(void *arg)
{
	struct slow_call *c = arg;
	const uint64_t args[HCALL_NARGS] = {0};
	rcu_register_thread();
	c->ret = hcall_dispatch(c->t, NULL, 7, args);
	rcu_unregister_thread();
	return NULL;
}

static bool unregister_waits(char *why, size_t len)
{
	struct hcall_table *t = hcall_table_new();
	struct slow s = {0};
	struct slow_call c = {t, 0};
	CHECK(hcall_register(t, 7, "slow", slow_handler, &s) == 0, "register failed");
	pthread_t th;
	pthread_create(&th, NULL, call_slow, &c);
	while (!atomic_load(&s.inside))
		sched_yield();
	/* The handler sleeps outside the RCU read-side section, so this grace
	 * period does not wait for it; the reference count does. */
	int r = hcall_unregister(t, 7);
	int finished = atomic_load(&s.finished);
	pthread_join(th, NULL);
	hcall_table_free(t);
	CHECK(r == 0, "unregister failed");
	CHECK(finished == 1, "unregister returned while the handler ran");
	CHECK(c.ret == 7, "handler result lost");
	return true;
}

/* --- racing ------------------------------------------------------------- */

#define RACE_NRS 4
#define RACE_READERS 3
#define RACE_ROUNDS 300
#define ALIVE 0x5a5a5a5au

struct state {
	unsigned int magic; /* ALIVE until unregister returned */
	atomic_ulong calls;
};

static int64_t checked_handler(struct vcpu *v, void *ctx, const uint64_t a[HCALL_NARGS])
{
	(void)v, (void)a;
	struct state *s = ctx;
	if (s->magic != ALIVE)
		return -1000; /* ran after its state died */
	atomic_fetch_add(&s->calls, 1);
	return 1;
}

struct race {
	struct hcall_table *t;
	atomic_bool stop;
	atomic_ulong bad, hits;
};

static void *reader(void *arg)
{
	struct race *r = arg;
	const uint64_t args[HCALL_NARGS] = {0};
	rcu_register_thread();
	for (unsigned int i = 0; !atomic_load(&r->stop); i++) {
		int64_t v = hcall_dispatch(r->t, NULL, i % RACE_NRS, args);
		if (v == 1)
			atomic_fetch_add(&r->hits, 1);
		else if (v != -PVKVM_ENOSYS)
			atomic_fetch_add(&r->bad, 1);
	}
	rcu_unregister_thread();
	return NULL;
}

static bool race_register_unregister(char *why, size_t len)
{
	struct race r = {.t = hcall_table_new()};
	pthread_t th[RACE_READERS];
	bool ok = true;
	for (int i = 0; i < RACE_READERS; i++)
		pthread_create(&th[i], NULL, reader, &r);
	for (unsigned int round = 0; round < RACE_ROUNDS && ok; round++) {
		unsigned int nr = round % RACE_NRS;
		struct state *s = calloc(1, sizeof(*s));
		s->magic = ALIVE;
		ok = hcall_register(r.t, nr, "race", checked_handler, s) == 0;
		struct timespec d = {.tv_nsec = 20 * 1000};
		nanosleep(&d, NULL);
		ok = hcall_unregister(r.t, nr) == 0 && ok;
		s->magic = 0; /* a handler still running would see this */
		free(s);
	}
	atomic_store(&r.stop, true);
	for (int i = 0; i < RACE_READERS; i++)
		pthread_join(th[i], NULL);
	hcall_table_free(r.t);
	CHECK(ok, "register or unregister failed");
	CHECK(atomic_load(&r.bad) == 0, "a handler ran on freed state");
	CHECK(atomic_load(&r.hits) > 0, "dispatch never reached a handler");
	return true;
}

typedef bool (*scenario_fn)(char *why, size_t len);

#include <criterion/criterion.h>

static void check(scenario_fn fn)
{
	char why[256];
	cr_assert(fn(why, sizeof(why)), "%s", why);
}

Test(hcall, register_dispatch_unregister) { check(basic_contract); }
Test(hcall, unregister_waits_for_a_blocked_handler) { check(unregister_waits); }
Test(hcall, register_unregister_while_dispatching, .timeout = 120) { check(race_register_unregister); }
