// SPDX-License-Identifier: MIT
/* `pvkvm bench net` output: the table, the JSON and the plot. */
#include "host/bench/bench_net.h"
#include "host/bench/bench_summary.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Issue 9's targets. */
#define TARGET_PV_OVER_FV_64 30.0
#define TARGET_PV_OVER_HOST_TX 0.85
#define TARGET_PV_OVER_HOST_RX 0.70
#define TARGET_PV_EXITS_PER_PKT 0.02

double net_bench_ratio(const struct net_bench_result *a,
		       const struct net_bench_result *b)
{
	if (!a->ok || !b->ok || b->pps <= 0)
		return 0;
	if (a->nr_rounds > 1 && a->nr_rounds == b->nr_rounds)
		return bench_paired_ratio(a->round_pps, b->round_pps, a->nr_rounds);
	return a->pps / b->pps;
}

/* ---- table ------------------------------------------------------------------------ */

static void print_row(FILE *f, const char *name, enum net_bench_mode m,
		      const struct net_bench_result *r)
{
	if (r->skipped)
		return;
	if (!r->ok) {
		fprintf(f, "  %-9s %-6s  FAILED: %s\n", name, net_bench_mode_name(m), r->error);
		return;
	}
	fprintf(f, "  %-9s %-6s %11.0f %9.2f %11llu %11llu", name, net_bench_mode_name(m),
		r->pps, r->mbps, (unsigned long long)r->sent, (unsigned long long)r->frames);
	if (m == NB_HOST)
		fprintf(f, " %10s\n", "-");
	else
		fprintf(f, " %10.4f\n", r->exits_per_pkt);
}

static void print_ratios(FILE *f, const struct net_bench_result *res)
{
	fprintf(f, "  %-9s        ratios:", "");
	if (res[NB_HOST].ok && res[NB_PV].ok)
		fprintf(f, "  pv/host %.2f", net_bench_ratio(&res[NB_PV], &res[NB_HOST]));
	if (res[NB_FV].ok && res[NB_PV].ok)
		fprintf(f, "  pv/fv %.1f", net_bench_ratio(&res[NB_PV], &res[NB_FV]));
	if (res[NB_FV_DMA].ok && res[NB_PV].ok)
		fprintf(f, "  pv/fv-dma %.1f", net_bench_ratio(&res[NB_PV], &res[NB_FV_DMA]));
	if (res[NB_FV].ok && res[NB_FV_DMA].ok)
		fprintf(f, "  fv-dma/fv %.1f", net_bench_ratio(&res[NB_FV_DMA], &res[NB_FV]));
	if (res[NB_FV].ok && res[NB_SYNC].ok)
		fprintf(f, "  sync/fv %.1f", net_bench_ratio(&res[NB_SYNC], &res[NB_FV]));
	if (res[NB_SYNC].ok && res[NB_PV].ok)
		fprintf(f, "  pv/sync %.1f", net_bench_ratio(&res[NB_PV], &res[NB_SYNC]));
	fputc('\n', f);
}

static const char *met(bool ok, bool known)
{
	return !known ? "not measured" : ok ? "met" : "MISSED";
}

static void print_targets(const struct net_bench_report *r, FILE *f)
{
	fprintf(f, "\ntargets (issue 9):\n");
	for (unsigned int i = 0; i < r->nr_cases; i++) {
		const struct net_bench_case *c = &r->cases[i];
		const struct net_bench_result *res = r->res[i];
		double pf = net_bench_ratio(&res[NB_PV], &res[NB_FV]);
		double ph = net_bench_ratio(&res[NB_PV], &res[NB_HOST]);

		if (c->size == 64)
			fprintf(f, "  %-9s pv >= %.0fx fv pps:         %6.1fx  %s\n", c->name,
				TARGET_PV_OVER_FV_64, pf, met(pf >= TARGET_PV_OVER_FV_64, pf > 0));
		if (c->dir == NB_G2H)
			fprintf(f, "  %-9s pv >= %.0f%% of host (tx):   %6.0f%%  %s\n", c->name,
				TARGET_PV_OVER_HOST_TX * 100, ph * 100,
				met(ph >= TARGET_PV_OVER_HOST_TX, ph > 0));
		if (c->dir == NB_H2G)
			fprintf(f, "  %-9s pv >= %.0f%% of host (rx):   %6.0f%%  %s\n", c->name,
				TARGET_PV_OVER_HOST_RX * 100, ph * 100,
				met(ph >= TARGET_PV_OVER_HOST_RX, ph > 0));
		if (res[NB_PV].ok)
			fprintf(f, "  %-9s pv exits/packet <= %.2f:   %8.4f  %s\n", c->name,
				TARGET_PV_EXITS_PER_PKT, res[NB_PV].exits_per_pkt,
				met(res[NB_PV].exits_per_pkt <= TARGET_PV_EXITS_PER_PKT, true));
	}
}

void net_bench_print_table(const struct net_bench_report *r, FILE *f)
{
	fprintf(f, "pvkvm bench net: %u round(s) of %llu ms (+%llu ms warm-up) per case and mode, median round%s\n",
		r->rounds, (unsigned long long)r->time_ms, (unsigned long long)r->warmup_ms,
		r->quick ? " (--quick: not for figures)" : "");
	fprintf(f, "  pps = frames delivered to the receiver per second of its window; exits/pkt =\n"
		   "  (VMM exits + ioeventfd kicks in the guest's window) / the guest's frames\n\n");
	fprintf(f, "  %-9s %-6s %11s %9s %11s %11s %10s\n", "case", "mode", "pps", "Mbit/s",
		"sent", "delivered", "exits/pkt");
	for (unsigned int i = 0; i < r->nr_cases; i++) {
		bool any = false;

		for (int m = 0; m < NB_NR_MODES; m++) {
			print_row(f, r->cases[i].name, (enum net_bench_mode)m, &r->res[i][m]);
			any |= !r->res[i][m].skipped;
		}
		if (any)
			print_ratios(f, r->res[i]);
	}
	print_targets(r, f);
}

/* ---- JSON ----------------------------------------------------------------------------- */

static void json_result(FILE *f, const struct net_bench_result *r)
{
	fprintf(f, "{\"ok\": %s", r->ok ? "true" : "false");
	if (!r->ok) {
		fprintf(f, ", \"error\": \"");
		for (const char *p = r->error; *p; p++)
			fputc(*p == '"' || *p == '\\' ? '\'' : (*p < 32 ? ' ' : *p), f);
		fprintf(f, "\"}");
		return;
	}
	fprintf(f, ", \"pps\": %.1f, \"mbps\": %.3f, \"sent\": %llu, \"delivered\": %llu, "
		   "\"elapsed_ns\": %llu, \"exits\": %llu, \"kicks\": %llu, \"sleeps\": %llu, "
		   "\"exits_per_packet\": %.5f, \"round_pps\": [",
		r->pps, r->mbps, (unsigned long long)r->sent, (unsigned long long)r->frames,
		(unsigned long long)r->elapsed_ns, (unsigned long long)r->exits,
		(unsigned long long)r->kicks, (unsigned long long)r->sleeps, r->exits_per_pkt);
	for (unsigned int k = 0; k < r->nr_rounds; k++)
		fprintf(f, "%s%.1f", k ? ", " : "", r->round_pps[k]);
	fprintf(f, "]}");
}

int net_bench_write_json(const struct net_bench_report *r, const char *path)
{
	static const char *const dirs[] = { "guest-to-host", "host-to-guest", "guest-to-guest" };
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "{\n  \"benchmark\": \"net\",\n  \"quick\": %s,\n  \"time_ms\": %llu,\n"
		   "  \"warmup_ms\": %llu,\n  \"rounds\": %u,\n  \"cases\": [\n",
		r->quick ? "true" : "false", (unsigned long long)r->time_ms,
		(unsigned long long)r->warmup_ms, r->rounds);
	for (unsigned int i = 0; i < r->nr_cases; i++) {
		const struct net_bench_case *c = &r->cases[i];

		fprintf(f, "    {\"name\": \"%s\", \"direction\": \"%s\", \"frame_bytes\": %u, \"modes\": {",
			c->name, dirs[c->dir], c->size);
		bool first = true;
		for (int m = 0; m < NB_NR_MODES; m++) {
			if (r->res[i][m].skipped)
				continue;
			fprintf(f, "%s\n      \"%s\": ", first ? "" : ",", net_bench_mode_name((enum net_bench_mode)m));
			json_result(f, &r->res[i][m]);
			first = false;
		}
		fprintf(f, "},\n      \"ratios\": {\"pv_over_host\": %.4f, \"pv_over_fv\": %.3f, "
			   "\"pv_over_fv_dma\": %.3f, \"fv_dma_over_fv\": %.3f, \"sync_over_fv\": %.3f}}%s\n",
			net_bench_ratio(&r->res[i][NB_PV], &r->res[i][NB_HOST]),
			net_bench_ratio(&r->res[i][NB_PV], &r->res[i][NB_FV]),
			net_bench_ratio(&r->res[i][NB_PV], &r->res[i][NB_FV_DMA]),
			net_bench_ratio(&r->res[i][NB_FV_DMA], &r->res[i][NB_FV]),
			net_bench_ratio(&r->res[i][NB_SYNC], &r->res[i][NB_FV]),
			i + 1 < r->nr_cases ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	return fclose(f) ? -errno : 0;
}

/* ---- plot --------------------------------------------------------------------------------- */

static void dat_block(FILE *f, const struct net_bench_report *r, bool exits)
{
	fprintf(f, "case host fv fv-dma sync pv\n");
	for (unsigned int i = 0; i < r->nr_cases; i++) {
		fprintf(f, "%s", r->cases[i].name);
		for (int m = 0; m < NB_NR_MODES; m++) {
			const struct net_bench_result *x = &r->res[i][m];
			if (!x->ok || (exits && m == NB_HOST))
				fprintf(f, " ?");
			else
				fprintf(f, " %.6g", exits ? (x->exits_per_pkt > 0 ? x->exits_per_pkt : 1e-4)
							  : x->pps);
		}
		fputc('\n', f);
	}
}

int net_bench_plot(const struct net_bench_report *r, const char *dir, const char *script)
{
	char dat[PATH_MAX + 16], cmd[3 * PATH_MAX + 128];

	snprintf(dat, sizeof(dat), "%s/net.dat", dir);
	FILE *f = fopen(dat, "w");
	if (!f) {
		fprintf(stderr, "pvkvm: cannot write %s: %s\n", dat, strerror(errno));
		return -1;
	}
	dat_block(f, r, false);
	fprintf(f, "\n\n");
	dat_block(f, r, true);
	fclose(f);
	if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
		fprintf(stderr, "bench net: gnuplot not installed (scripts/deps.sh --bench): no plot\n");
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "gnuplot -e \"datafile='%s'; outdir='%s'\" '%s'", dat, dir, script);
	int st = system(cmd);
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "pvkvm: gnuplot failed on %s\n", script);
		return -1;
	}
	fprintf(stderr, "bench net: wrote %s/net.png and %s/net.svg\n", dir, dir);
	return 0;
}

/* ---- summary rows (pvkvm bench's matrix table) ----------------------------- */

void net_bench_write_summary(const struct net_bench_report *r, const char *dir)
{
	for (unsigned int i = 0; i < r->nr_cases; i++) {
		const struct net_bench_result *host = &r->res[i][NB_HOST];
		for (int m = 0; m < NB_NR_MODES; m++) {
			const struct net_bench_result *x = &r->res[i][m];
			if (!x->ok)
				continue;
			struct bench_summary_row row = {
				.bench = "net", .name = r->cases[i].name,
				.mode = net_bench_mode_name((enum net_bench_mode)m),
				.metric = "pps", .value = x->pps,
				.spread = bench_spread(x->round_pps, x->nr_rounds, x->pps),
				.vs_host = host->ok && host->pps > 0 ? net_bench_ratio(x, host) : -1,
				.exits_per_op = m == NB_HOST ? -1 : x->exits_per_pkt,
			};
			bench_summary_append(dir, &row);
		}
	}
}
