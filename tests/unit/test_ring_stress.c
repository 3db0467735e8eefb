/* SPDX-License-Identifier: MIT */
/*
 * Two threads, one small ring, suppression on: the frontend sends
 * STRESS_COUNT requests, the backend answers each, and both check the order
 * and content of every message (ring/bench/ring_duo.h). Each side sleeps on
 * an eventfd when idle and follows the final-check rule, so a lost wake-up
 * leaves both asleep: the watchdog then FAILS the test (and Criterion's
 * .timeout backs it up).
 *
 * Counts: 10 million each way in the plain and ASan builds (~1.5 s and ~3 s
 * on 2 cores); under TSan, which slows the threads ~10x, 2 million each way
 * (docs/ring.md says so too). -DSTRESS_COUNT=... overrides.
 */
#include <stdio.h>

#include "ring/bench/ring_duo.h"

#ifndef STRESS_COUNT
#if defined(__SANITIZE_THREAD__)
#define STRESS_COUNT 2000000ull
#else
#define STRESS_COUNT 10000000ull
#endif
#endif
#ifndef STRESS_TIMEOUT_S
#define STRESS_TIMEOUT_S 120.0
#endif

struct scenario {
	const char *name;
	struct duo_cfg cfg;
};

static const struct scenario scenarios[] = {
	/* the main one: a 16-slot ring crossing the 2^32 wrap early on,
	 * threads poll briefly before the final check and sleep */
	{ "suppress_16_slots_wrap",
	  { .nr_slots = 16, .mode = PVKVM_RING_SUPPRESS, .count = STRESS_COUNT,
	    .spin = 64, .start = UINT32_MAX - 1000, .timeout_s = STRESS_TIMEOUT_S } },
	/* no polling and a push per message: nearly every idle moment ends in
	 * final check + sleep, and every push asks "notify?", the window a
	 * lost wake-up needs */
	{ "suppress_8_slots_sleep_always",
	  { .nr_slots = 8, .mode = PVKVM_RING_SUPPRESS, .count = STRESS_COUNT / 20,
	    .spin = 0, .batch = 1, .start = UINT32_MAX - 100, .timeout_s = STRESS_TIMEOUT_S } },
	/* both sides poll and push without the notification check (no full
	 * barrier): release/acquire alone must still carry every message */
	{ "peer_polls_256_slots",
	  { .nr_slots = 256, .mode = PVKVM_RING_PEER_POLLS, .count = STRESS_COUNT / 10,
	    .spin = UINT32_MAX, .batch = 1, .start = UINT32_MAX - 300,
	    .timeout_s = STRESS_TIMEOUT_S } },
	/* a one-slot ring: strict ping-pong */
	{ "suppress_1_slot_ping_pong",
	  { .nr_slots = 1, .mode = PVKVM_RING_SUPPRESS, .count = STRESS_COUNT / 50,
	    .spin = 0, .start = 0, .timeout_s = STRESS_TIMEOUT_S } },
};

/* Runs one scenario; on failure fills why and returns false. */
static bool run_scenario(const struct scenario *sc, char *why, size_t len)
{
	struct duo_result r;
	bool ok = duo_run(&sc->cfg, &r);

	printf("%s: %llu each way in %.2f s (%.2f M round trips/s), "
	       "notifications req %llu rsp %llu, sleeps front %llu back %llu\n",
	       sc->name, (unsigned long long)sc->cfg.count, r.seconds,
	       (double)r.rsps_done / r.seconds / 1e6,
	       (unsigned long long)r.req_notifies, (unsigned long long)r.rsp_notifies,
	       (unsigned long long)r.front_sleeps, (unsigned long long)r.back_sleeps);
	fflush(stdout);
	if (!ok)
		snprintf(why, len, "%s: %s", sc->name, r.err);
	/* suppression must have saved notifications, or the test tests nothing */
	else if (sc->cfg.nr_slots > 1 && r.req_notifies + r.rsp_notifies >= 2 * sc->cfg.count)
		snprintf(why, len, "%s: no notification was suppressed", sc->name), ok = false;
	return ok;
}

#include <criterion/criterion.h>

static void check_scenario(size_t i)
{
	char why[256];

	cr_assert(run_scenario(&scenarios[i], why, sizeof(why)), "%s", why);
}

Test(ring_stress, suppress_16_slots_wrap, .timeout = 2 * STRESS_TIMEOUT_S)
{
	check_scenario(0);
}

Test(ring_stress, suppress_8_slots_sleep_always, .timeout = 2 * STRESS_TIMEOUT_S)
{
	check_scenario(1);
}

Test(ring_stress, peer_polls_256_slots, .timeout = 2 * STRESS_TIMEOUT_S)
{
	check_scenario(2);
}

Test(ring_stress, suppress_1_slot_ping_pong, .timeout = 2 * STRESS_TIMEOUT_S)
{
	check_scenario(3);
}
