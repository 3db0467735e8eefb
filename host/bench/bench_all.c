// SPDX-License-Identifier: MIT
/*
 * `pvkvm bench` with no benchmark named: the whole matrix, one benchmark
 * after another, each in its own pvkvm process (so one that crashes or is
 * killed leaves the others' results), then one summary table from their
 * rows (bench_summary.h), OUT/results.json gathering every benchmark's JSON
 * beside the run's provenance and platform, and OUT/report.md for
 * docs/benchmarks.md to embed.
 *
 * Ctrl-C reaches the running benchmark too (same process group): it cleans
 * up what it made, and the matrix stops there instead of starting the next.
 */
#include "host/bench/bench_all.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host/bench/bench.h"
#include "host/bench/bench_blk.h"
#include "host/bench/bench_meta.h"
#include "host/bench/bench_summary.h"
#include "host/platform/platform.h"
#include "host/util/cli.h"

/* The matrix, in the order it runs; the arguments each gets besides
 * --out DIR (and --quick where quick_arg says so). */
struct matrix_entry {
	const char *name;
	const char *full_args[4];
	const char *quick_args[4];
};

static const struct matrix_entry matrix[] = {
	{"hypercall", {NULL}, {"-n", "9000", NULL}},
	{"blk", {NULL}, {"--quick", NULL}},
	{"net", {NULL}, {"--quick", NULL}},
	{"linux", {NULL}, {"--quick", NULL}},
	{"ring", {NULL}, {"--quick", NULL}},
};
#define MATRIX_LEN (sizeof(matrix) / sizeof(matrix[0]))

struct all_opts {
	char out[PATH_MAX];
	bool quick;
	const char *only; /* comma list, or NULL */
};

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int opt_out(void *st, const char *arg)
{
	snprintf(((struct all_opts *)st)->out, PATH_MAX, "%s", arg);
	return 0;
}

static int opt_quick(void *st, const char *arg)
{
	(void)arg;
	((struct all_opts *)st)->quick = true;
	return 0;
}

static int opt_only(void *st, const char *arg)
{
	((struct all_opts *)st)->only = arg;
	return 0;
}

static const struct cli_option all_options[] = {
	{"out", 'o', "DIR", "write every benchmark's results, results.json, report.md and the plots to DIR (default build/bench next to the binary, or ./pvkvm-bench)", opt_out},
	{"quick", 'q', NULL, "a CI-sized run of every benchmark: for checking that it works, not for figures", opt_quick},
	{"only", 0, "LIST", "run only these benchmarks, e.g. blk,net", opt_only},
	{NULL, 0, NULL, NULL, NULL},
};

static const char all_usage[] =
	"usage: pvkvm bench [options]\n"
	"       pvkvm bench BENCHMARK [options]\n"
	"       pvkvm bench --sweep KNOB=V1,V2,... [bench blk's options]\n"
	"                            (= pvkvm bench blk --sweep: see its --help)\n"
	"\n"
	"With no BENCHMARK: the whole PV vs full-virt matrix on the built-in\n"
	"defaults, every benchmark below in turn (each in its own process), then\n"
	"one summary table (medians of interleaved rounds, the ratio to the host\n"
	"doing the same work directly, userspace exits per operation),\n"
	"DIR/results.json, DIR/report.md and each benchmark's plots. Progress goes\n"
	"to stderr. Ctrl-C stops the running benchmark, which removes what it\n"
	"created, and the matrix with it.\n";

static bool wanted(const struct all_opts *o, const char *name)
{
	if (!o->only)
		return true;
	size_t n = strlen(name);
	for (const char *p = o->only; *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p += len + (comma != NULL);
	}
	return false;
}

/* Runs `pvkvm bench NAME --out DIR [args]` and waits: its exit status, or
 * -1 when it could not start, 130 when interrupted. */
static int run_child(const struct all_opts *o, const struct matrix_entry *e)
{
	const char *argv[16] = {"pvkvm", "bench", e->name, "--out", o->out};
	int argc = 5;
	const char *const *extra = o->quick ? e->quick_args : e->full_args;
	for (int i = 0; extra[i] && argc < 15; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		execv("/proc/self/exe", (char *const *)argv);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* build/bench in a build tree (build/pvkvm beside build/guest/), else
 * ./pvkvm-bench. */
static void default_out(char *buf, size_t len)
{
	char dir[PATH_MAX], guest[PATH_MAX + 8];
	if (bench_self_dir(dir, sizeof(dir)) == 0) {
		snprintf(guest, sizeof(guest), "%s/guest", dir);
		if (access(guest, F_OK) == 0 && snprintf(buf, len, "%s/bench", dir) < (int)len)
			return;
	}
	snprintf(buf, len, "pvkvm-bench");
}

/* ---- the summary --------------------------------------------------------- */

#define MAX_ROWS 512

struct row_text {
	char bench[16], name[48], mode[12], metric[12];
	double value, spread, vs_host, exits;
};

static int read_rows(const char *dir, struct row_text *rows, int max)
{
	char path[PATH_MAX + 32], line[512];
	snprintf(path, sizeof(path), "%s/%s", dir, BENCH_SUMMARY_FILE);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	int n = 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		struct row_text *r = &rows[n];
		if (sscanf(line, "%15[^\t]\t%47[^\t]\t%11[^\t]\t%11[^\t]\t%lf\t%lf\t%lf\t%lf",
			   r->bench, r->name, r->mode, r->metric, &r->value, &r->spread,
			   &r->vs_host, &r->exits) == 8)
			n++;
	}
	fclose(f);
	return n;
}

static void fmt_ratio(char *buf, size_t len, double v, const char *suffix)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.3g%s", v, suffix);
}

static void print_summary(FILE *f, const struct row_text *rows, int n, bool md)
{
	const char *head[] = {"benchmark", "case", "mode", "metric", "median", "spread", "x host", "exits/op"};
	if (md) {
		fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s |\n|---|---|---|---|---:|---:|---:|---:|\n",
			head[0], head[1], head[2], head[3], head[4], head[5], head[6], head[7]);
	} else {
		fprintf(f, "%-10s %-22s %-10s %-7s %12s %7s %7s %9s\n", head[0], head[1],
			head[2], head[3], head[4], head[5], head[6], head[7]);
	}
	for (int i = 0; i < n; i++) {
		const struct row_text *r = &rows[i];
		char spread[16], vs[16], ex[16];
		if (r->spread < 0)
			snprintf(spread, sizeof(spread), "-");
		else
			snprintf(spread, sizeof(spread), "%.0f%%", r->spread * 100);
		fmt_ratio(vs, sizeof(vs), r->vs_host, "");
		fmt_ratio(ex, sizeof(ex), r->exits, "");
		if (md)
			fprintf(f, "| %s | %s | %s | %s | %.4g | %s | %s | %s |\n", r->bench,
				r->name, r->mode, r->metric, r->value, spread, vs, ex);
		else
			fprintf(f, "%-10s %-22s %-10s %-7s %12.4g %7s %7s %9s\n", r->bench,
				r->name, r->mode, r->metric, r->value, spread, vs, ex);
	}
}

static void json_rows(FILE *f, const struct row_text *rows, int n)
{
	fprintf(f, "  \"summary\": [");
	for (int i = 0; i < n; i++) {
		const struct row_text *r = &rows[i];
		fprintf(f, "%s\n    {\"benchmark\": ", i ? "," : "");
		bench_json_string(f, r->bench);
		fprintf(f, ", \"case\": ");
		bench_json_string(f, r->name);
		fprintf(f, ", \"mode\": ");
		bench_json_string(f, r->mode);
		fprintf(f, ", \"metric\": ");
		bench_json_string(f, r->metric);
		fprintf(f, ", \"median\": %.6g, \"spread\": %.4g, \"vs_host\": %.4g, \"exits_per_op\": %.6g}",
			r->value, r->spread, r->vs_host, r->exits);
	}
	fprintf(f, "\n  ]");
}

/* Copies DIR/NAME.json into f as the value of "NAME" (false: none). */
static bool embed_json(FILE *f, const char *dir, const char *name, bool first)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/%s.json", dir, name);
	FILE *in = fopen(path, "r");
	if (!in)
		return false;
	fprintf(f, "%s\n    \"%s\": ", first ? "" : ",", name);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, f);
	fclose(in);
	return true;
}

static int write_results_json(const struct all_opts *o, const struct row_text *rows,
			      int n, const int *status)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/results.json", o->out);
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "{\n");
	bench_meta_write_json(f, "  ");
	fprintf(f, ",\n  \"quick\": %s,\n  \"platform\": ", o->quick ? "true" : "false");
	platform_write_json(platform_facts_cached(), f, "  ");
	fprintf(f, ",\n  \"status\": {");
	bool first = true;
	for (size_t i = 0; i < MATRIX_LEN; i++) {
		if (status[i] == INT_MIN)
			continue;
		fprintf(f, "%s\"%s\": %d", first ? "" : ", ", matrix[i].name, status[i]);
		first = false;
	}
	fprintf(f, "},\n");
	json_rows(f, rows, n);
	fprintf(f, ",\n  \"benchmarks\": {");
	first = true;
	for (size_t i = 0; i < MATRIX_LEN; i++)
		if (embed_json(f, o->out, matrix[i].name, first))
			first = false;
	fprintf(f, "\n  }\n}\n");
	return fclose(f) ? -errno : 0;
}

static int write_report(const struct all_opts *o, const struct row_text *rows, int n)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/report.md", o->out);
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	const struct platform_facts *pf = platform_facts_cached();
	fprintf(f, "### pvkvm bench%s\n\n", o->quick ? " --quick (a CI-sized run: not for figures)" : "");
	platform_print_summary(pf, f);
	fprintf(f, "\nEach figure is the median of interleaved rounds; spread is (max - min) / median "
		   "of the rounds; x host is the median over rounds of the mode's figure over the "
		   "host doing the same work directly in the same round; exits/op counts exits to the VMM in userspace per operation.\n\n");
	print_summary(f, rows, n, true);
	static const char *const plots[] = {"blk.png", "net.png", "linux.png", "ring.png"};
	for (size_t i = 0; i < sizeof(plots) / sizeof(plots[0]); i++) {
		char p[PATH_MAX + 32];
		snprintf(p, sizeof(p), "%s/%s", o->out, plots[i]);
		if (access(p, R_OK) == 0)
			fprintf(f, "\n![%s](%s)\n", plots[i], plots[i]);
	}
	return fclose(f) ? -errno : 0;
}

static int report(const struct all_opts *o, const int *status)
{
	static struct row_text rows[MAX_ROWS];
	int n = read_rows(o->out, rows, MAX_ROWS);
	printf("\npvkvm bench: the matrix (medians; x host = median of per-round mode / host-direct on the same work)\n");
	print_summary(stdout, rows, n, false);
	int r = write_results_json(o, rows, n, status);
	if (!r)
		r = write_report(o, rows, n);
	if (r) {
		fprintf(stderr, "pvkvm: cannot write the results in %s: %s\n", o->out, strerror(-r));
		return -1;
	}
	printf("bench: wrote %s/results.json, %s/report.md\n", o->out, o->out);
	return 0;
}

/* ---- running ------------------------------------------------------------- */

static int prepare_out(const struct all_opts *o)
{
	if (mkdir(o->out, 0755) && errno != EEXIST) {
		fprintf(stderr, "pvkvm: cannot create %s: %s\n", o->out, strerror(errno));
		return -1;
	}
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/%s", o->out, BENCH_SUMMARY_FILE);
	if (unlink(path) && errno != ENOENT) {
		fprintf(stderr, "pvkvm: cannot remove %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int run_matrix(const struct all_opts *o, bool (*exists)(const char *),
		      int *status)
{
	int failed = 0;
	for (size_t i = 0; i < MATRIX_LEN && !interrupted; i++) {
		status[i] = INT_MIN;
		if (!wanted(o, matrix[i].name))
			continue;
		if (!exists(matrix[i].name)) {
			fprintf(stderr, "bench: %s is not built into this pvkvm: left out\n", matrix[i].name);
			continue;
		}
		double t0 = now_s();
		fprintf(stderr, "bench: [%zu/%zu] %s ...\n", i + 1, MATRIX_LEN, matrix[i].name);
		status[i] = run_child(o, &matrix[i]);
		fprintf(stderr, "bench: [%zu/%zu] %s %s in %.0f s\n", i + 1, MATRIX_LEN,
			matrix[i].name, status[i] == 0 ? "done" : "FAILED", now_s() - t0);
		if (status[i] == 130 || status[i] == 128 + SIGINT)
			interrupted = 1;
		failed |= status[i] != 0;
	}
	return failed;
}

int bench_all_main(int argc, char **argv, bool (*exists)(const char *))
{
	/* `pvkvm bench --sweep KNOB=...` is bench blk's sweep (its options). */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--sweep") || !strncmp(argv[i], "--sweep=", 8))
			return bench_blk_main(argc, argv);
	struct all_opts o = {0};
	int npos, r = cli_parse(argc, argv, all_options, &o, all_usage, &npos);
	if (r)
		return r > 0 ? 0 : 2;
	if (npos) {
		fprintf(stderr, "pvkvm: unknown benchmark '%s' (try pvkvm bench --help)\n", argv[1]);
		return 2;
	}
	if (!o.out[0])
		default_out(o.out, sizeof(o.out));
	if (prepare_out(&o))
		return 1;
	struct sigaction sa = {.sa_handler = on_interrupt};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	platform_print_summary(platform_facts_cached(), stderr);
	int status[MATRIX_LEN];
	int failed = run_matrix(&o, exists, status);
	if (interrupted) {
		fprintf(stderr, "bench: interrupted: no summary written\n");
		return 130;
	}
	if (report(&o, status))
		return 1;
	return failed ? 1 : 0;
}
