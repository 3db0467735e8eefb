// SPDX-License-Identifier: MIT
/* What every `pvkvm bench` subcommand needs: see bench.h. */
#include "host/bench/bench.h"

#include "host/util/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int bench_self_dir(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return snprintf(buf, len, "%s", self) < (int)len ? 0 : -1;
}

/* Next to the binary in a build tree (build/pvkvm, build/guest/), or in
 * share/ beside bin/ once installed (make install). */
int bench_default_guest(char *buf, size_t len)
{
	static const char *const places[] = {
		"%s/guest/pvkern.elf",
		"%s/../share/pvkvm/pvkern.elf",
	};
	char self[PATH_MAX];
	if (bench_self_dir(self, sizeof(self)))
		return -1;
	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		if (snprintf(buf, len, places[i], self) >= (int)len)
			return -1;
		if (access(buf, R_OK) == 0)
			return 0;
	}
	/* Neither exists: name the build-tree place in the error. */
	return snprintf(buf, len, places[0], self) < (int)len ? 0 : -1;
}

void bench_lines_feed(struct bench_lines *l, const char *buf, size_t len,
		      bench_line_fn take, void *ctx)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n') {
			if (l->len < BENCH_LINE_MAX - 1)
				l->line[l->len++] = buf[i];
			continue;
		}
		l->line[l->len] = '\0';
		take(ctx, l->line);
		l->len = 0;
	}
}

int bench_make_out_dirs(const char *out)
{
	char stats[PATH_MAX + 8];

	if (!out[0])
		return 0;
	snprintf(stats, sizeof(stats), "%s/stats", out);
	if ((mkdir(out, 0755) && errno != EEXIST) || (mkdir(stats, 0755) && errno != EEXIST)) {
		fprintf(stderr, "pvkvm: cannot create %s: %s\n", stats, strerror(errno));
		return -1;
	}
	return 0;
}

void bench_locate_plot_script(char *buf, size_t len, const char *name)
{
	char dir[PATH_MAX];

	if (bench_default_guest(dir, sizeof(dir)))
		return;
	/* .../build/guest/pvkern.elf -> .../build */
	for (int i = 0; i < 2; i++) {
		char *slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
	}
	snprintf(buf, len, "%.*s/../scripts/%s", PATH_MAX - 32, dir, name);
}

int bench_check_args(int npos, char **argv, char *guest, size_t len)
{
	if (npos) {
		fprintf(stderr, "pvkvm: unexpected argument '%s' (try --help)\n", argv[1]);
		return -1;
	}
	if (!guest[0] && bench_default_guest(guest, len)) {
		fprintf(stderr, "pvkvm: cannot locate the default guest; use --guest PATH\n");
		return -1;
	}
	return 0;
}

int bench_report_written(const char *tag, const char *path, int r)
{
	if (r) {
		fprintf(stderr, "pvkvm: cannot write %s: %s\n", path, strerror(-r));
		return -1;
	}
	fprintf(stderr, "bench %s: wrote %s\n", tag, path);
	return 0;
}

unsigned int bench_median_round(const double *value, const bool *ok, unsigned int n)
{
	unsigned int idx[BENCH_MAX_ROUNDS] = { 0 };

	if (n > BENCH_MAX_ROUNDS)
		n = BENCH_MAX_ROUNDS;
	/* Insertion sort of the round numbers by value: stable, so equal
	 * values keep their round order. */
	for (unsigned int k = 0; k < n; k++) {
		idx[k] = k;
		for (unsigned int j = k; j > 0 && value[idx[j - 1]] > value[idx[j]]; j--) {
			unsigned int t = idx[j];
			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	}
	unsigned int pick = idx[n / 2];
	for (unsigned int k = 0; k < n; k++)
		if (!ok[k])
			pick = k;
	return pick;
}

int bench_opt_out(void *st, const char *arg)
{
	struct bench_base_opts *b = st;
	snprintf(b->out, sizeof(b->out), "%s", arg);
	return 0;
}

int bench_opt_guest(void *st, const char *arg)
{
	struct bench_base_opts *b = st;
	snprintf(b->guest, sizeof(b->guest), "%s", arg);
	return 0;
}

int bench_opt_quick(void *st, const char *arg)
{
	(void)arg;
	((struct bench_base_opts *)st)->quick = true;
	return 0;
}

int bench_opt_no_plot(void *st, const char *arg)
{
	(void)arg;
	((struct bench_base_opts *)st)->no_plot = true;
	return 0;
}

int bench_opt_rounds(void *st, const char *arg)
{
	uint64_t n;
	if (cli_parse_uint("--rounds", arg, 1, BENCH_MAX_ROUNDS, &n))
		return -1;
	((struct bench_base_opts *)st)->rounds = (unsigned int)n;
	return 0;
}
