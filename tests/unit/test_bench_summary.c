// SPDX-License-Identifier: MIT
/* The figures every benchmark row derives from its rounds. */
#include <criterion/criterion.h>
#include <math.h>

#include "host/bench/bench_summary.h"

/* The TSan runner (tests/tsan) has no cr_assert_float_eq. */
static bool near(double a, double b)
{
	return fabs(a - b) < 1e-12;
}

Test(bench_summary, paired_ratio_cancels_drift_that_medians_keep)
{
	/* The disk slows to half in rounds 1 and 2, but pv's round 2 ran
	 * while it was fast again: two pairs say 0.9, the medians say 1.8. */
	double host[3] = { 1000, 500, 500 }, pv[3] = { 900, 450, 900 };
	cr_assert(near(bench_paired_ratio(pv, host, 3), 0.9));
}

Test(bench_summary, paired_ratio_median_of_an_even_count)
{
	double ref[4] = { 1, 1, 1, 1 }, x[4] = { 4, 1, 3, 2 };
	cr_assert(near(bench_paired_ratio(x, ref, 4), 2.5));
}

Test(bench_summary, paired_ratio_skips_failed_rounds)
{
	double ref[3] = { 10, 0, 10 }, x[3] = { 5, 7, 0 };
	cr_assert(near(bench_paired_ratio(x, ref, 3), 0.5), "only round 0 has both sides");
	double none[2] = { 0, 0 };
	cr_assert_eq(bench_paired_ratio(none, ref, 2), 0, "no pair: 0, never NaN");
}

Test(bench_summary, spread_is_range_over_median)
{
	double v[3] = { 8, 10, 12 };
	cr_assert(near(bench_spread(v, 3, 10), 0.4));
	cr_assert_eq(bench_spread(v, 1, 10), -1, "one round has no spread");
}
