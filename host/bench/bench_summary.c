// SPDX-License-Identifier: MIT
/* Summary rows (see bench_summary.h). */
#include "host/bench/bench_summary.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>

int bench_summary_append(const char *dir, const struct bench_summary_row *r)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", dir, BENCH_SUMMARY_FILE) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	FILE *f = fopen(path, "a");
	if (!f)
		return -errno;
	fprintf(f, "%s\t%s\t%s\t%s\t%.6g\t%.4g\t%.4g\t%.6g\n", r->bench, r->name,
		r->mode, r->metric, r->value, r->spread, r->vs_host, r->exits_per_op);
	return fclose(f) ? -errno : 0;
}

double bench_spread(const double *v, unsigned int n, double median)
{
	if (n < 2 || median <= 0)
		return -1;
	double lo = v[0], hi = v[0];
	for (unsigned int i = 1; i < n; i++) {
		if (v[i] < lo)
			lo = v[i];
		if (v[i] > hi)
			hi = v[i];
	}
	return (hi - lo) / median;
}

double bench_paired_ratio(const double *x, const double *ref, unsigned int n)
{
	double r[64];
	unsigned int m = 0;
	for (unsigned int k = 0; k < n && m < sizeof(r) / sizeof(r[0]); k++) {
		if (x[k] <= 0 || ref[k] <= 0)
			continue;
		unsigned int j = m++;
		for (; j > 0 && r[j - 1] > x[k] / ref[k]; j--)
			r[j] = r[j - 1];
		r[j] = x[k] / ref[k];
	}
	if (!m)
		return 0;
	return m % 2 ? r[m / 2] : (r[m / 2 - 1] + r[m / 2]) / 2;
}
