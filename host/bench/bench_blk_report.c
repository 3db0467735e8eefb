// SPDX-License-Identifier: MIT
/* `pvkvm bench blk` output: the table, the JSON and the plot. */
#include "host/bench/bench_blk.h"
#include "host/bench/bench_meta.h"
#include "host/bench/bench_summary.h"
#include "host/platform/platform.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The targets, checked on the QD32 cases. */
#define TARGET_PV_OVER_HOST 0.90
#define TARGET_PV_OVER_FV 20.0
#define TARGET_PV_EXITS_PER_REQ 0.05

const char *blk_bench_mode_name(enum blk_bench_mode m)
{
	static const char *const names[BB_NR_MODES] = {
		[BB_HOST] = "host", [BB_FV] = "fv", [BB_FV_DMA] = "fv-dma",
		[BB_SYNC] = "sync", [BB_PV] = "pv", [BB_HOST_POLL] = "host-poll",
	};
	return (unsigned)m < BB_NR_MODES ? names[m] : "?";
}

double blk_bench_ratio(const struct blk_bench_result *a,
		       const struct blk_bench_result *b)
{
	if (!a->ok || !b->ok || b->iops <= 0)
		return 0;
	if (a->nr_rounds > 1 && a->nr_rounds == b->nr_rounds)
		return bench_paired_ratio(a->round_iops, b->round_iops, a->nr_rounds);
	return a->iops / b->iops;
}

/* ---- table --------------------------------------------------------------------- */

static void print_row(FILE *f, const char *name, enum blk_bench_mode m,
		      const struct blk_bench_result *r)
{
	if (r->skipped)
		return;
	if (!r->ok) {
		fprintf(f, "  %-18s %-9s  FAILED: %s\n", name, blk_bench_mode_name(m), r->error);
		return;
	}
	fprintf(f, "  %-18s %-9s %3u %10.0f %9.2f %9.1f %9.1f", name,
		blk_bench_mode_name(m), r->qd, r->iops, r->mbps, r->p50_us, r->p99_us);
	if (blk_bench_mode_is_host(m))
		fprintf(f, " %10s %10s\n", "-", "-");
	else
		fprintf(f, " %10.3f %10.3f\n", r->exits_per_req, r->kicks_per_req);
}

/* One ratio, or nothing when either side did not run. */
static void print_ratio(FILE *f, const char *label, const char *fmt,
			const struct blk_bench_result *a,
			const struct blk_bench_result *b, bool *any)
{
	if (!a->ok || !b->ok)
		return;
	if (!*any)
		fprintf(f, "  %-18s IOPS ratios:", "");
	fprintf(f, "   %s ", label);
	fprintf(f, fmt, blk_bench_ratio(a, b));
	*any = true;
}

static void print_ratios(FILE *f, const struct blk_bench_result *res)
{
	bool any = false;
	print_ratio(f, "pv/host", "%.2f", &res[BB_PV], &res[BB_HOST], &any);
	print_ratio(f, "pv/host-poll", "%.2f", &res[BB_PV], &res[BB_HOST_POLL], &any);
	print_ratio(f, "pv/fv", "%.1f", &res[BB_PV], &res[BB_FV], &any);
	print_ratio(f, "pv/fv-dma", "%.2f", &res[BB_PV], &res[BB_FV_DMA], &any);
	print_ratio(f, "fv-dma/fv", "%.1f", &res[BB_FV_DMA], &res[BB_FV], &any);
	print_ratio(f, "sync/fv", "%.1f", &res[BB_SYNC], &res[BB_FV], &any);
	if (any)
		fputc('\n', f);
}

static const char *verdict(const struct blk_bench_result *a,
			   const struct blk_bench_result *b, bool met)
{
	if (!a->ok || !b->ok)
		return "not run";
	return met ? "met" : "MISSED";
}

/* What PV gains beyond DMA emulation, beside a published figure (an
 * anchor, not a target: other hosts, other devices, other workloads). */
static void print_anchor(const struct blk_bench_report *r, FILE *f)
{
	bool any = false;
	for (unsigned int i = 0; i < r->nr_cases; i++) {
		const struct blk_bench_result *res = r->res[i];
		if (!res[BB_PV].ok || !res[BB_FV_DMA].ok)
			continue;
		if (!any)
			fprintf(f, "\npv over fv-dma (KubeVirt measured virtio at 5.9x emulated SATA):\n");
		any = true;
		fprintf(f, "  %-18s pv/fv-dma %.2f   exits/req pv %.3f fv-dma %.3f fv %.1f\n",
			r->cases[i].name, blk_bench_ratio(&res[BB_PV], &res[BB_FV_DMA]),
			res[BB_PV].exits_per_req, res[BB_FV_DMA].exits_per_req,
			res[BB_FV].ok ? res[BB_FV].exits_per_req : 0.0);
	}
}

/* pv's backend polls where host sleeps; host-poll is the ceiling that
 * does not pay the wake-ups pv avoids. No target: a figure to read. */
static void print_poll_ceiling(const struct blk_bench_report *r, FILE *f)
{
	bool any = false;
	for (unsigned int i = 0; i < r->nr_cases; i++) {
		const struct blk_bench_result *res = r->res[i];
		if (r->cases[i].qd != 32 || !res[BB_PV].ok || !res[BB_HOST_POLL].ok)
			continue;
		if (!any)
			fprintf(f, "\nagainst the polling ceiling (no target):\n");
		any = true;
		fprintf(f, "  %-18s pv/host-poll %.2f   host-poll/host %.2f\n", r->cases[i].name,
			blk_bench_ratio(&res[BB_PV], &res[BB_HOST_POLL]),
			blk_bench_ratio(&res[BB_HOST_POLL], &res[BB_HOST]));
	}
}

static void print_targets(const struct blk_bench_report *r, FILE *f)
{
	fprintf(f, "\ntargets at QD32 (pv/host >= %.2f, pv/fv >= %.0f, pv exits/req <= %.2f):\n",
		TARGET_PV_OVER_HOST, TARGET_PV_OVER_FV, TARGET_PV_EXITS_PER_REQ);
	for (unsigned int i = 0; i < r->nr_cases; i++) {
		const struct blk_bench_result *res = r->res[i];
		if (r->cases[i].qd != 32 || res[BB_PV].skipped)
			continue;
		double ph = blk_bench_ratio(&res[BB_PV], &res[BB_HOST]);
		double pf = blk_bench_ratio(&res[BB_PV], &res[BB_FV]);
		double ex = res[BB_PV].exits_per_req;
		fprintf(f, "  %-18s pv/host %.2f %s   pv/fv %.1f %s   exits/req %.3f %s\n",
			r->cases[i].name,
			ph, verdict(&res[BB_PV], &res[BB_HOST], ph >= TARGET_PV_OVER_HOST),
			pf, verdict(&res[BB_PV], &res[BB_FV], pf >= TARGET_PV_OVER_FV),
			ex, verdict(&res[BB_PV], &res[BB_PV], ex <= TARGET_PV_EXITS_PER_REQ));
	}
	print_poll_ceiling(r, f);
	print_anchor(r, f);
}

void blk_bench_print_table(const struct blk_bench_report *r, FILE *f)
{
	fprintf(f, "\npvkvm bench blk: image %s (%llu MiB%s), %u interleaved round%s of %llu ms after %llu ms warm-up;\n"
		   "  each mode shows its median round%s\n",
		r->image, (unsigned long long)(r->image_bytes >> 20),
		r->image_created ? ", created for this run" : "", r->rounds,
		r->rounds == 1 ? "" : "s",
		(unsigned long long)r->time_ms, (unsigned long long)r->warmup_ms,
		r->quick ? " (--quick: not for figures)" : "");
	static const enum blk_bench_mode order[BB_NR_MODES] = {
		BB_HOST, BB_HOST_POLL, BB_FV, BB_FV_DMA, BB_SYNC, BB_PV,
	};
	fprintf(f, "  %-18s %-9s %3s %10s %9s %9s %9s %10s %10s\n", "case", "mode", "qd",
		"IOPS", "MB/s", "p50 us", "p99 us", "exits/req", "kicks/req");
	for (unsigned int i = 0; i < r->nr_cases; i++) {
		for (int k = 0; k < BB_NR_MODES; k++)
			print_row(f, r->cases[i].name, order[k], &r->res[i][order[k]]);
		print_ratios(f, r->res[i]);
	}
	fprintf(f, "  exits/req: VMM exits inside the measured window per request; kicks/req: the\n"
		   "  guest's event-channel sends (ioeventfd: a VM exit handled in the host kernel)\n");
	print_targets(r, f);
}

/* ---- JSON ---------------------------------------------------------------------- */

static void json_result(FILE *f, const struct blk_bench_result *r, enum blk_bench_mode m)
{
	fprintf(f, "        \"%s\": {\"ok\": %s", blk_bench_mode_name(m), r->ok ? "true" : "false");
	if (!r->ok) {
		fprintf(f, ", \"error\": \"");
		for (const char *p = r->error; *p; p++)
			fprintf(f, (*p == '"' || *p == '\\') ? "\\%c" : (*p < 0x20 ? "?" : "%c"), *p);
		fprintf(f, "\"}");
		return;
	}
	fprintf(f, ", \"qd\": %u, \"ops\": %llu, \"bytes\": %llu, \"elapsed_ns\": %llu, "
		   "\"iops\": %.1f, \"mbps\": %.3f, \"p50_us\": %.3f, \"p99_us\": %.3f",
		r->qd, (unsigned long long)r->ops, (unsigned long long)r->bytes,
		(unsigned long long)r->elapsed_ns, r->iops, r->mbps, r->p50_us, r->p99_us);
	if (!blk_bench_mode_is_host(m))
		fprintf(f, ", \"exits\": %llu, \"exits_per_req\": %.5f, \"kicks\": %llu, "
			   "\"kicks_per_req\": %.5f, \"sleeps\": %llu",
			(unsigned long long)r->exits, r->exits_per_req,
			(unsigned long long)r->kicks, r->kicks_per_req,
			(unsigned long long)r->sleeps);
	fprintf(f, ", \"round_iops\": [");
	for (unsigned int k = 0; k < r->nr_rounds; k++)
		fprintf(f, "%s%.1f", k ? ", " : "", r->round_iops[k]);
	fprintf(f, "]}");
}

static void json_case(FILE *f, const struct blk_bench_case *c,
		      const struct blk_bench_result *res, bool last)
{
	fprintf(f, "    {\"name\": \"%s\", \"rw\": \"%s\", \"bs\": %u, \"qd\": %u,\n"
		   "      \"results\": {\n", c->name, c->rw, c->bs, c->qd);
	for (int m = 0; m < BB_NR_MODES; m++) {
		json_result(f, &res[m], (enum blk_bench_mode)m);
		fprintf(f, "%s\n", m + 1 < BB_NR_MODES ? "," : "");
	}
	fprintf(f, "      },\n      \"ratios\": {\"pv_over_host\": %.4f, \"pv_over_host_poll\": %.4f, "
		   "\"host_poll_over_host\": %.4f, \"pv_over_fv\": %.4f, "
		   "\"pv_over_fv_dma\": %.4f, \"fv_dma_over_fv\": %.4f, "
		   "\"sync_over_fv\": %.4f}}%s\n",
		blk_bench_ratio(&res[BB_PV], &res[BB_HOST]),
		blk_bench_ratio(&res[BB_PV], &res[BB_HOST_POLL]),
		blk_bench_ratio(&res[BB_HOST_POLL], &res[BB_HOST]),
		blk_bench_ratio(&res[BB_PV], &res[BB_FV]),
		blk_bench_ratio(&res[BB_PV], &res[BB_FV_DMA]),
		blk_bench_ratio(&res[BB_FV_DMA], &res[BB_FV]),
		blk_bench_ratio(&res[BB_SYNC], &res[BB_FV]), last ? "" : ",");
}

int blk_bench_write_json(const struct blk_bench_report *r, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "{\n");
	bench_meta_write_json(f, "  ");
	fprintf(f, ",\n  \"benchmark\": \"blk\",\n  \"image_bytes\": %llu,\n"
		   "  \"image_created\": %s,\n  \"quick\": %s,\n  \"rounds\": %u,\n"
		   "  \"time_ms\": %llu,\n  \"warmup_ms\": %llu,\n  \"nproc\": %ld,\n"
		   "  \"modes\": [\"host\", \"fv\", \"fv-dma\", \"sync\", \"pv\", \"host-poll\"],\n",
		(unsigned long long)r->image_bytes, r->image_created ? "true" : "false",
		r->quick ? "true" : "false", r->rounds, (unsigned long long)r->time_ms,
		(unsigned long long)r->warmup_ms, sysconf(_SC_NPROCESSORS_ONLN));
	if (r->platform) { /* what the figures mean depends on it */
		fprintf(f, "  \"platform\": ");
		platform_write_json(r->platform, f, "  ");
		fprintf(f, ",\n");
	}
	fprintf(f, "  \"cases\": [\n");
	for (unsigned int i = 0; i < r->nr_cases; i++)
		json_case(f, &r->cases[i], r->res[i], i + 1 == r->nr_cases);
	fprintf(f, "  ]\n}\n");
	return fclose(f) ? -errno : 0;
}

/* ---- plot ------------------------------------------------------------------------ */

static int write_dat(const struct blk_bench_report *r, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	/* Block 0: IOPS; block 1: exits per request (host has none). Failed
	 * runs are "?" (missing) so gnuplot leaves a gap rather than a zero. */
	for (int block = 0; block < 2; block++) {
		fprintf(f, "# %s\ncase host fv fv-dma sync pv host-poll\n",
			block ? "exits per request" : "IOPS");
		for (unsigned int i = 0; i < r->nr_cases; i++) {
			fprintf(f, "%s", r->cases[i].name);
			for (int m = 0; m < BB_NR_MODES; m++) {
				const struct blk_bench_result *x = &r->res[i][m];
				if (!x->ok || (block && blk_bench_mode_is_host((enum blk_bench_mode)m)))
					fprintf(f, " ?");
				else
					fprintf(f, " %g", block ? x->exits_per_req : x->iops);
			}
			fprintf(f, "\n");
		}
		fprintf(f, "\n\n");
	}
	return fclose(f) ? -1 : 0;
}

static bool have_gnuplot(void)
{
	return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

int blk_bench_plot(const struct blk_bench_report *r, const char *dir, const char *script)
{
	char dat[PATH_MAX], cmd[3 * PATH_MAX + 64];
	snprintf(dat, sizeof(dat), "%.*s/blk.dat", PATH_MAX - 16, dir);
	if (write_dat(r, dat)) {
		fprintf(stderr, "pvkvm: cannot write %s\n", dat);
		return -1;
	}
	if (!have_gnuplot()) {
		fprintf(stderr, "bench blk: gnuplot not installed: no plot (scripts/deps.sh --bench installs it)\n");
		return 1;
	}
	if (access(script, R_OK)) {
		fprintf(stderr, "pvkvm: plot script %s not found\n", script);
		return -1;
	}
	/* Paths are ours (mkstemp/--out), but quote them for gnuplot anyway. */
	snprintf(cmd, sizeof(cmd), "gnuplot -e \"datafile='%.*s'; outdir='%.*s'\" '%.*s'",
		 PATH_MAX, dat, PATH_MAX, dir, PATH_MAX, script);
	int st = system(cmd);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "pvkvm: gnuplot failed (%s)\n", cmd);
		return -1;
	}
	fprintf(stderr, "bench blk: wrote %s/blk.png and %s/blk.svg\n", dir, dir);
	return 0;
}

/* ---- summary rows (pvkvm bench's matrix table) ----------------------------- */

void blk_bench_write_summary(const struct blk_bench_report *r, const char *dir)
{
	for (unsigned int i = 0; i < r->nr_cases; i++) {
		const struct blk_bench_result *host = &r->res[i][BB_HOST];
		for (int m = 0; m < BB_NR_MODES; m++) {
			const struct blk_bench_result *x = &r->res[i][m];
			if (!x->ok)
				continue;
			struct bench_summary_row row = {
				.bench = "blk", .name = r->cases[i].name,
				.mode = blk_bench_mode_name((enum blk_bench_mode)m),
				.metric = "IOPS", .value = x->iops,
				.spread = bench_spread(x->round_iops, x->nr_rounds, x->iops),
				.vs_host = host->ok && host->iops > 0 ? blk_bench_ratio(x, host) : -1,
				.exits_per_op = blk_bench_mode_is_host((enum blk_bench_mode)m) ?
					-1 : x->exits_per_req,
			};
			bench_summary_append(dir, &row);
		}
	}
}
