// SPDX-License-Identifier: MIT
/*
 * `pvkvm bench blk --sweep`'s output: the table, DIR/sweep-KNOB.json and
 * the plot (scripts/plot-sweep.gp). bench_blk.c runs the sweep.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/bench/bench_blk.h"
#include "host/bench/bench_meta.h"
#include "host/platform/platform.h"

static double per_req(uint64_t n, const struct blk_bench_result *r)
{
	return r->ops ? (double)n / (double)r->ops : 0;
}

void blk_sweep_print_table(const struct blk_sweep_report *r, FILE *f)
{
	fprintf(f, "\nsweep %s (%s), case %s, median of %u interleaved rounds of %llu ms\n",
		r->knob, r->applies, r->case_name, r->rounds, (unsigned long long)r->time_ms);
	fprintf(f, "%-10s %10s %10s %8s %9s %9s %9s %9s\n", r->knob, "pv IOPS", "host IOPS",
		"pv/host", "exits/req", "kicks/req", "notif/req", "suppr/req");
	for (unsigned int i = 0; i < r->nr_pts; i++) {
		const struct blk_sweep_point *p = &r->pts[i];
		if (!p->pv.ok) {
			fprintf(f, "%-10s pv FAILED: %s\n", p->value, p->pv.error);
			continue;
		}
		fprintf(f, "%-10s %10.0f %10.0f %8.2f %9.3f %9.3f %9.3f %9.3f\n", p->value,
			p->pv.iops, p->host.ok ? p->host.iops : 0,
			blk_bench_ratio(&p->pv, &p->host), p->pv.exits_per_req,
			p->pv.kicks_per_req, per_req(p->pv.notify_sent, &p->pv),
			per_req(p->pv.notify_suppressed, &p->pv));
	}
}

static void json_rounds(FILE *f, const struct blk_bench_result *x)
{
	fprintf(f, "[");
	for (unsigned int k = 0; k < x->nr_rounds; k++)
		fprintf(f, "%s%.1f", k ? ", " : "", x->round_iops[k]);
	fprintf(f, "]");
}

static void json_point(FILE *f, const struct blk_sweep_point *p, bool last)
{
	const struct blk_bench_result *v = &p->pv, *h = &p->host;
	fprintf(f, "    {\"value\": ");
	bench_json_string(f, p->value);
	fprintf(f, ", \"ok\": %s, \"pv_iops\": %.1f, \"host_iops\": %.1f, \"pv_over_host\": %.4f,"
		   " \"exits_per_req\": %.4f, \"kicks_per_req\": %.4f,"
		   " \"notifications_sent_per_req\": %.4f, \"notifications_suppressed_per_req\": %.4f,"
		   " \"pv_p50_us\": %.1f, \"pv_p99_us\": %.1f, \"pv_round_iops\": ",
		v->ok && h->ok ? "true" : "false", v->iops, h->iops, blk_bench_ratio(v, h),
		v->exits_per_req, v->kicks_per_req, per_req(v->notify_sent, v),
		per_req(v->notify_suppressed, v), v->p50_us, v->p99_us);
	json_rounds(f, v);
	fprintf(f, ", \"host_round_iops\": ");
	json_rounds(f, h);
	if (!v->ok) {
		fprintf(f, ", \"error\": ");
		bench_json_string(f, v->error);
	}
	fprintf(f, "}%s\n", last ? "" : ",");
}

int blk_sweep_write_json(const struct blk_sweep_report *r, const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%.*s/sweep-%s.json", PATH_MAX - 64, dir, r->knob);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "{\n");
	bench_meta_write_json(f, "  ");
	fprintf(f, ",\n  \"benchmark\": \"blk-sweep\",\n  \"knob\": ");
	bench_json_string(f, r->knob);
	fprintf(f, ",\n  \"applies\": ");
	bench_json_string(f, r->applies);
	fprintf(f, ",\n  \"case\": ");
	bench_json_string(f, r->case_name);
	fprintf(f, ",\n  \"rounds\": %u,\n  \"time_ms\": %llu,\n  \"warmup_ms\": %llu,\n"
		   "  \"nproc\": %ld,\n", r->rounds, (unsigned long long)r->time_ms,
		(unsigned long long)r->warmup_ms, sysconf(_SC_NPROCESSORS_ONLN));
	if (r->platform) {
		fprintf(f, "  \"platform\": ");
		platform_write_json(r->platform, f, "  ");
		fprintf(f, ",\n");
	}
	fprintf(f, "  \"points\": [\n");
	for (unsigned int i = 0; i < r->nr_pts; i++)
		json_point(f, &r->pts[i], i + 1 == r->nr_pts);
	fprintf(f, "  ]\n}\n");
	if (fclose(f))
		return -1;
	fprintf(stderr, "bench blk: wrote %s\n", path);
	return 0;
}

static int write_dat(const struct blk_sweep_report *r, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "# value pv_iops pv_over_host exits_per_req kicks_per_req notif_per_req\n");
	for (unsigned int i = 0; i < r->nr_pts; i++) {
		const struct blk_bench_result *v = &r->pts[i].pv;
		if (!v->ok) {
			fprintf(f, "%s ? ? ? ? ?\n", r->pts[i].value);
			continue;
		}
		fprintf(f, "%s %g %g %g %g %g\n", r->pts[i].value, v->iops,
			blk_bench_ratio(v, &r->pts[i].host), v->exits_per_req, v->kicks_per_req,
			per_req(v->notify_sent, v));
	}
	return fclose(f) ? -1 : 0;
}

int blk_sweep_plot(const struct blk_sweep_report *r, const char *dir, const char *script)
{
	char dat[PATH_MAX], cmd[3 * PATH_MAX + 128];
	snprintf(dat, sizeof(dat), "%.*s/sweep-%s.dat", PATH_MAX - 64, dir, r->knob);
	if (write_dat(r, dat)) {
		fprintf(stderr, "pvkvm: cannot write %s\n", dat);
		return -1;
	}
	if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
		fprintf(stderr, "bench blk: gnuplot not installed: no plot (scripts/deps.sh --bench installs it)\n");
		return 1;
	}
	if (access(script, R_OK)) {
		fprintf(stderr, "pvkvm: plot script %s not found\n", script);
		return -1;
	}
	snprintf(cmd, sizeof(cmd),
		 "gnuplot -e \"datafile='%.*s'; outbase='%.*s/sweep-%s'; knob='%s'; what='%s'\" '%.*s'",
		 PATH_MAX, dat, PATH_MAX, dir, r->knob, r->knob, r->case_name, PATH_MAX, script);
	int st = system(cmd);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "pvkvm: gnuplot failed (%s)\n", cmd);
		return -1;
	}
	fprintf(stderr, "bench blk: wrote %s/sweep-%s.png and .svg\n", dir, r->knob);
	return 0;
}
