// SPDX-License-Identifier: MIT
/*
 * `pvkvm bench hypercall`: runs the guest kernel's `hcbench N` program and
 * sets its figures side by side. The guest measures in its own TSC cycles
 * and prints "hcbench: <name> <cycles_per_op>"; the host adds what only it
 * can see, the userspace exits each operation cost, by snapshotting its
 * counters as each line arrives.
 */
#include "host/bench/bench.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/bench/bench_meta.h"
#include "host/bench/bench_summary.h"
#include "host/util/cli.h"
#include "host/core/launch.h"
#include "host/core/stats.h"

#define BENCH_MAX_ROWS 16

struct bench_row {
	char name[48];
	uint64_t cycles;
	double exits_per_op;
};

struct bench_state {
	struct vm *vm;
	uint64_t iterations;
	uint64_t executed; /* per operation, warm-ups included (0: unknown) */
	uint64_t tsc_khz;
	struct bench_lines console;
	struct bench_row rows[BENCH_MAX_ROWS];
	unsigned int nr_rows;
	/* Counters when the previous line arrived. */
	uint64_t prev_total, prev_null_hc, prev_unbound, prev_pio_null;
	char guest[PATH_MAX];
	char out[PATH_MAX]; /* --out: hypercall.json and summary rows */
	unsigned int timeout_s;
};

/* How often the guest ran each operation, warm-ups included: it says so
 * ("executed"); older guests ran iters/10 + 1 warm-ups before the timed ones. */
static double ops_per_row(const struct bench_state *b)
{
	if (b->executed)
		return (double)b->executed;
	return (double)(b->iterations + b->iterations / 10 + 1);
}

/* Exits that belong to this row's operation: a category counter where one
 * exists, else everything since the last line but that line's own write.
 * The guest prints its rows together after interleaved rounds, so each
 * category keeps its own snapshot, advanced only by its own row (or by a
 * resynchronising line, name ""). Both evtchn_send rows share the unbound
 * counter: the first takes what both caused (0 when the ports are bound). */
static double row_exits(struct bench_state *b, const char *name)
{
	const struct vm_stats *s = &b->vm->stats;
	uint64_t total = stats_total_exits(s), null_hc = stat_get(&s->hypercalls[PVKVM_HC_NULL]);
	uint64_t unbound = stat_get(&s->evtchn_unbound_sends), pio = stat_get(&s->exits_pio_null);
	uint64_t n;
	bool resync = name[0] == '\0';
	if (strcmp(name, "null_hypercall") == 0)
		n = null_hc - b->prev_null_hc;
	else if (strncmp(name, "evtchn_send", 11) == 0)
		n = unbound - b->prev_unbound;
	else if (strcmp(name, "pio_null") == 0)
		n = pio - b->prev_pio_null;
	else
		n = resync ? 0 : total - b->prev_total - 1;
	if (resync || strcmp(name, "null_hypercall") == 0)
		b->prev_null_hc = null_hc;
	if (resync || strncmp(name, "evtchn_send", 11) == 0)
		b->prev_unbound = unbound;
	if (resync || strcmp(name, "pio_null") == 0)
		b->prev_pio_null = pio;
	b->prev_total = total;
	return (double)n / ops_per_row(b);
}

/* One console line of the guest (a bench_line_fn). */
static void take_line(void *ctx, const char *line)
{
	struct bench_state *b = ctx;
	char name[48];
	unsigned long long v;
	if (sscanf(line, "hcbench: %47s %llu", name, &v) != 2) {
		row_exits(b, ""); /* resynchronise the snapshots */
		return;
	}
	if (strcmp(name, "iterations") == 0) {
		b->iterations = v;
		row_exits(b, "");
	} else if (strcmp(name, "tsc_khz") == 0) {
		b->tsc_khz = v;
		row_exits(b, "");
	} else if (strcmp(name, "executed") == 0) {
		b->executed = v;
		row_exits(b, "");
	} else if (b->nr_rows < BENCH_MAX_ROWS) {
		struct bench_row *r = &b->rows[b->nr_rows++];
		snprintf(r->name, sizeof(r->name), "%s", name);
		r->cycles = v;
		r->exits_per_op = row_exits(b, name);
	}
}

/* Runs on the vCPU thread, inside CONSOLE_WRITE. */
static void bench_console(void *ctx, const char *buf, size_t len)
{
	struct bench_state *b = ctx;
	fwrite(buf, 1, len, stdout);
	bench_lines_feed(&b->console, buf, len, take_line, b);
}

static int bench_attach(struct vm *vm, void *ctx)
{
	((struct bench_state *)ctx)->vm = vm;
	return 0;
}

static const struct bench_row *find_row(const struct bench_state *b,
					const char *name)
{
	for (unsigned int i = 0; i < b->nr_rows; i++)
		if (strcmp(b->rows[i].name, name) == 0)
			return &b->rows[i];
	return NULL;
}

/* One target line: the measured ratio, the bound, and whether it holds. */
static void print_target(const char *what, const struct bench_row *r,
			 const struct bench_row *base, double bound, bool at_most)
{
	if (!r || !base || !base->cycles) {
		printf("  target %-44s not measured\n", what);
		return;
	}
	double ratio = (double)r->cycles / (double)base->cycles;
	bool met = at_most ? ratio <= bound : ratio >= bound;
	printf("  target %-44s %.2f (%s %.2f): %s\n", what, ratio,
	       at_most ? "<=" : ">=", bound, met ? "met" : "MISSED");
}

/* The targets, as ratios to the plain userspace exit. */
static void print_targets(const struct bench_state *b,
			  const struct bench_row *base)
{
	printf("\n");
	print_target("null_hypercall / pio_null", find_row(b, "null_hypercall"),
		     base, 1.10, true);
	print_target("evtchn_send / pio_null", find_row(b, "evtchn_send"), base,
		     0.50, true);
}

static void print_table(const struct bench_state *b)
{
	const struct bench_row *base = find_row(b, "pio_null");
	printf("\npvkvm bench hypercall: %llu iterations, guest TSC cycles per operation (TSC %llu kHz)\n",
	       (unsigned long long)b->iterations, (unsigned long long)b->tsc_khz);
	printf("  %-18s %14s %14s %20s\n", "operation", "cycles/op", "vs pio_null", "userspace exits/op");
	for (unsigned int i = 0; i < b->nr_rows; i++) {
		const struct bench_row *r = &b->rows[i];
		char ratio[32] = "-";
		if (base && base->cycles)
			snprintf(ratio, sizeof(ratio), "%.2f", (double)r->cycles / (double)base->cycles);
		printf("  %-18s %14llu %14s %20.2f\n", r->name, (unsigned long long)r->cycles,
		       ratio, r->exits_per_op);
	}
	if (!base)
		printf("  (no pio_null figure from the guest: ratios unavailable)\n");
	if (!find_row(b, "evtchn_send"))
		printf("  (no evtchn_send figure: the guest could not connect its test device)\n");
	print_targets(b, base);
}

static int opt_iterations(void *st, const char *arg)
{
	struct bench_state *b = st;
	return cli_parse_uint("--iterations", arg, 1, 1000000000ull, &b->iterations);
}

static int opt_guest(void *st, const char *arg)
{
	struct bench_state *b = st;
	snprintf(b->guest, sizeof(b->guest), "%s", arg);
	return 0;
}

static int opt_bench_timeout(void *st, const char *arg)
{
	uint64_t n;
	if (cli_parse_uint("--timeout", arg, 1, 1000000, &n))
		return -1;
	((struct bench_state *)st)->timeout_s = (unsigned int)n;
	return 0;
}

static int opt_out(void *st, const char *arg)
{
	snprintf(((struct bench_state *)st)->out, PATH_MAX, "%s", arg);
	return 0;
}

/* DIR/hypercall.json, and one summary row per operation. */
static int write_results(const struct bench_state *b)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/hypercall.json", b->out);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "{\n");
	bench_meta_write_json(f, "  ");
	fprintf(f, ",\n  \"benchmark\": \"hypercall\",\n  \"iterations\": %llu,\n"
		   "  \"tsc_khz\": %llu,\n  \"unit\": \"guest TSC cycles per operation\",\n  \"operations\": [",
		(unsigned long long)b->iterations, (unsigned long long)b->tsc_khz);
	const struct bench_row *base = find_row(b, "pio_null");
	for (unsigned int i = 0; i < b->nr_rows; i++) {
		const struct bench_row *r = &b->rows[i];
		double ratio = base && base->cycles ? (double)r->cycles / (double)base->cycles : -1;
		fprintf(f, "%s\n    {\"name\": \"%s\", \"cycles\": %llu, \"vs_pio_null\": %.4f, "
			   "\"exits_per_op\": %.4f}", i ? "," : "", r->name,
			(unsigned long long)r->cycles, ratio, r->exits_per_op);
		struct bench_summary_row row = {
			.bench = "hypercall", .name = r->name, .mode = "-", .metric = "cycles",
			.value = (double)r->cycles, .spread = -1, .vs_host = -1,
			.exits_per_op = r->exits_per_op,
		};
		bench_summary_append(b->out, &row);
	}
	fprintf(f, "\n  ]\n}\n");
	return fclose(f) ? -1 : 0;
}

static const struct cli_option bench_options[] = {
	{"iterations", 'n', "N", "timed operations per measurement (default 10000)", opt_iterations},
	{"guest", 'g', "PATH", "guest kernel (default: guest/pvkern.elf next to the pvkvm binary)", opt_guest},
	{"timeout", 0, "SECONDS", "give up after SECONDS (default 600)", opt_bench_timeout},
	{"out", 'o', "DIR", "also write DIR/hypercall.json and the rows of pvkvm bench's summary", opt_out},
	{NULL, 0, NULL, NULL, NULL},
};

static const char bench_usage[] =
	"usage: pvkvm bench hypercall [options]\n"
	"\n"
	"Runs the guest kernel's hcbench program and prints guest cycles per\n"
	"null hypercall, event-channel send (ioeventfd), `out` to the null port\n"
	"and cpuid, with ratios to the plain `out` and userspace exits per op.\n";

int bench_hypercall_main(int argc, char **argv)
{
	struct bench_state *b = calloc(1, sizeof(*b));
	if (!b)
		return PVKVM_EXIT_VMM_ERROR;
	b->iterations = 10000;
	b->timeout_s = 600;
	int npos, r = cli_parse(argc, argv, bench_options, b, bench_usage, &npos);
	if (r || npos) {
		if (npos && !r)
			fprintf(stderr, "pvkvm: unexpected argument '%s' (try --help)\n", argv[1]);
		free(b);
		return r > 0 ? 0 : PVKVM_EXIT_USAGE;
	}
	if (!b->guest[0] && bench_default_guest(b->guest, sizeof(b->guest))) {
		fprintf(stderr, "pvkvm: cannot locate the default guest; use --guest PATH\n");
		free(b);
		return PVKVM_EXIT_VMM_ERROR;
	}
	char cmdline[64];
	snprintf(cmdline, sizeof(cmdline), "hcbench %llu", (unsigned long long)b->iterations);
	struct launch l = {
		.guest = b->guest, .cmdline = cmdline, .mem_size = 64ull << 20,
		.nr_vcpus = 1, .timeout_s = b->timeout_s, .console = bench_console,
		.console_ctx = b, .attach = bench_attach, .ctx = b,
	};
	int status = launch_guest(&l);
	fflush(stdout);
	if (b->nr_rows)
		print_table(b);
	if (b->out[0] && b->nr_rows && write_results(b)) {
		fprintf(stderr, "pvkvm: cannot write %s/hypercall.json\n", b->out);
		status = status ? status : PVKVM_EXIT_VMM_ERROR;
	}
	free(b);
	return status;
}
