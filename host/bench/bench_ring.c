// SPDX-License-Identifier: MIT
/*
 * `pvkvm bench ring`: the shared rings alone, no VM: build/ring-bench (the
 * ring's own benchmark, ring/bench/) on the cells docs/ring.md compares
 * with Linux's tools/virtio/ringtest: 32, 256 and 1024 slots with both
 * threads sleeping on eventfds, in both notification modes, and 256 slots
 * polling. It runs ring-bench --json, keeps its output as DIR/ring.json and
 * adds one summary row per cell. The side-by-side with Linux's own rings is
 * scripts/ringtest-compare.sh (it needs Debian's linux-source).
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

struct ring_opts {
	char out[PATH_MAX];
	bool quick;
};

struct ring_cell {
	const char *name;
	const char *args; /* ring-bench options besides --json --count --repeat */
};

static const struct ring_cell cells[] = {
	{"sleep-32", "--min-slots 32 --max-slots 32 --mode both"},
	{"sleep-256", "--min-slots 256 --max-slots 256 --mode both"},
	{"sleep-1024", "--min-slots 1024 --max-slots 1024 --mode both"},
	{"poll-256", "--min-slots 256 --max-slots 256 --poll --mode peer-polls"},
};

static int opt_out(void *st, const char *arg)
{
	snprintf(((struct ring_opts *)st)->out, PATH_MAX, "%s", arg);
	return 0;
}

static int opt_quick(void *st, const char *arg)
{
	(void)arg;
	((struct ring_opts *)st)->quick = true;
	return 0;
}

static const struct cli_option ring_options[] = {
	{"out", 'o', "DIR", "write DIR/ring.json and the rows of pvkvm bench's summary", opt_out},
	{"quick", 'q', NULL, "200k round trips per cell, one run each: for CI, not for figures", opt_quick},
	{NULL, 0, NULL, NULL, NULL},
};

static const char ring_usage[] =
	"usage: pvkvm bench ring [options]\n"
	"\n"
	"The shared rings alone (no VM): ring-bench's pipelined request/response\n"
	"round trips between two threads at 32, 256 and 1024 slots, sleeping on\n"
	"eventfds with event-index suppression and with a notification on every\n"
	"push, and at 256 slots polling. Prints million round trips per second\n"
	"(best of the runs) and notifications per message. The comparison with\n"
	"Linux's tools/virtio/ringtest is scripts/ringtest-compare.sh\n"
	"(docs/ring.md).\n";

/* build/ring-bench next to build/pvkvm. */
static int locate_ring_bench(char *buf, size_t len)
{
	char dir[PATH_MAX];
	if (bench_self_dir(dir, sizeof(dir)) || snprintf(buf, len, "%s/ring-bench", dir) >= (int)len)
		return -1;
	return access(buf, X_OK);
}

/* One result line of ring-bench --json: a summary row, and the line to
 * keep. */
static void take_result(const struct ring_opts *o, const char *cell, const char *line)
{
	char mode[24];
	double rate = 0, notif = 0, msgs = 0;
	double req = 0, rsp = 0;
	const char *m = strstr(line, "\"mode\": \"");
	const char *r = strstr(line, "\"msgs_per_s\": ");
	const char *q = strstr(line, "\"req_notifies\": ");
	const char *p = strstr(line, "\"rsp_notifies\": ");
	const char *n = strstr(line, "\"messages\": ");
	if (!m || !r || sscanf(m + 9, "%23[^\"]", mode) != 1 || sscanf(r + 14, "%lf", &rate) != 1)
		return;
	if (q && p && n && sscanf(q + 16, "%lf", &req) == 1 &&
	    sscanf(p + 16, "%lf", &rsp) == 1 && sscanf(n + 12, "%lf", &msgs) == 1 && msgs > 0)
		notif = (req + rsp) / msgs;
	printf("  %-11s %-11s %10.2f %12.4f\n", cell, mode, rate / 1e6, notif);
	if (!o->out[0])
		return;
	struct bench_summary_row row = {
		.bench = "ring", .name = cell, .mode = mode, .metric = "Mmsg/s",
		.value = rate / 1e6, .spread = -1, .vs_host = -1, .exits_per_op = -1,
	};
	bench_summary_append(o->out, &row);
}

/* Runs one cell; its result lines go to json (may be NULL). 0 or -1. */
static int run_cell(const struct ring_opts *o, const char *tool,
		    const struct ring_cell *c, FILE *json, bool *first)
{
	char cmd[PATH_MAX + 256], line[1024];
	snprintf(cmd, sizeof(cmd), "'%s' --json --count %s --repeat %s %s", tool,
		 o->quick ? "200000" : "2000000", o->quick ? "1" : "3", c->args);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		if (!strstr(line, "\"slots\""))
			continue;
		line[strcspn(line, "\n")] = '\0';
		char *end = line + strlen(line);
		while (end > line && (end[-1] == ',' || end[-1] == ' '))
			*--end = '\0';
		take_result(o, c->name, line);
		if (json) {
			fprintf(json, "%s\n    {\"cell\": \"%s\", \"result\": %s}", *first ? "" : ",",
				c->name, line + strspn(line, " "));
			*first = false;
		}
	}
	int st = pclose(p);
	return st == 0 ? 0 : -1;
}

int bench_ring_main(int argc, char **argv)
{
	struct ring_opts o = {0};
	int npos, r = cli_parse(argc, argv, ring_options, &o, ring_usage, &npos);
	if (r || npos) {
		if (npos && !r)
			fprintf(stderr, "pvkvm: unexpected argument '%s' (try --help)\n", argv[1]);
		return r > 0 ? 0 : 2;
	}
	char tool[PATH_MAX];
	if (locate_ring_bench(tool, sizeof(tool))) {
		fprintf(stderr, "pvkvm: ring-bench is not next to this pvkvm (build it with make)\n");
		return 1;
	}
	FILE *json = NULL;
	char path[PATH_MAX + 16];
	if (o.out[0]) {
		snprintf(path, sizeof(path), "%s/ring.json", o.out);
		json = fopen(path, "w");
		if (!json) {
			fprintf(stderr, "pvkvm: cannot write %s\n", path);
			return 1;
		}
		fprintf(json, "{\n");
		bench_meta_write_json(json, "  ");
		fprintf(json, ",\n  \"benchmark\": \"ring\",\n  \"quick\": %s,\n  \"cells\": [",
			o.quick ? "true" : "false");
	}
	printf("pvkvm bench ring: million round trips per second (best run), notifications per message\n");
	printf("  %-11s %-11s %10s %12s\n", "cell", "mode", "Mmsg/s", "notif/msg");
	bool first = true;
	int failed = 0;
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		fprintf(stderr, "bench ring: %s ...\n", cells[i].name);
		failed |= run_cell(&o, tool, &cells[i], json, &first);
	}
	if (json) {
		fprintf(json, "\n  ]\n}\n");
		if (fclose(json))
			failed = 1;
		else
			fprintf(stderr, "bench ring: wrote %s\n", path);
	}
	return failed ? 1 : 0;
}
