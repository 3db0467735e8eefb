// SPDX-License-Identifier: MIT
/* The rate limit of guest-triggered log lines (blkback's mark_broken). */
#include <criterion/criterion.h>
#include <pthread.h>

#include "host/util/ratelimit.h"

#define S 1000000000ull

Test(ratelimit, one_line_per_interval_and_the_count_of_the_rest)
{
	struct ratelimit r = RATELIMIT_INIT(10 * S);
	uint64_t held = 99;
	cr_assert(ratelimit_allow(&r, 5 * S, &held), "the first line gets out");
	cr_assert_eq(held, 0);
	for (int i = 0; i < 1000; i++)
		cr_assert_not(ratelimit_allow(&r, 5 * S + (uint64_t)i * 1000000, &held),
			      "a flood inside the interval is held back (%d)", i);
	cr_assert_not(ratelimit_allow(&r, 15 * S - 1, &held));
	cr_assert(ratelimit_allow(&r, 15 * S, &held), "the next interval");
	cr_assert_eq(held, 1001, "and it says how many were held back");
	cr_assert(ratelimit_allow(&r, 100 * S, &held));
	cr_assert_eq(held, 0);
}

/* A guest breaking rings on many threads still gets one line through. */
static struct ratelimit shared = RATELIMIT_INIT(3600 * S);
static atomic_int printed;

static void *flood(void *arg)
{
	(void)arg;
	uint64_t held;
	for (int i = 0; i < 10000; i++)
		if (ratelimit_allow(&shared, 1 * S, &held))
			atomic_fetch_add(&printed, 1);
	return NULL;
}

Test(ratelimit, concurrent_callers_print_once)
{
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, flood, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(atomic_load(&printed), 1);
	cr_assert_eq(atomic_load(&shared.suppressed), 4 * 10000 - 1);
}
