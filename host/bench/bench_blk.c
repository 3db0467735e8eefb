// SPDX-License-Identifier: MIT
/*
 * `pvkvm bench blk`: see bench_blk.h.
 *
 * Each guest configuration runs exactly as `pvkvm run --stats-json F --disk
 * IMG,mode=M pvkern.elf -- blkbench ...` would (launch_guest with the disk
 * set attached), inside this process so that the console can be watched
 * line by line: when the guest prints "blkbench: begin" and "blkbench: end"
 * (right before and after its measured window) the VMM's exit counters are
 * snapshotted, so exits per request count only the window: not the boot,
 * the xenbus handshake, the warm-up or the drain. The console line that
 * closes the window is one exit of its own and is subtracted.
 */
#include "host/bench/bench_blk.h"
#include "host/platform/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/bench/bench.h"
#include "host/bench/bench_hostdirect.h"
#include "host/util/cli.h"
#include "host/block/disk_attach.h"
#include "host/core/launch.h"
#include "host/core/stats.h"
#include "host/core/vm.h"

#define LINE_MAX_BYTES 512
#define DEFAULT_IMAGE_BYTES (256ull << 20)
#define QUICK_IMAGE_BYTES (64ull << 20)

static const struct blk_bench_case cases[] = {
	{ "randread-4k-qd1", "randread", 4096, 1 },
	{ "randread-4k-qd32", "randread", 4096, 32 },
	{ "randwrite-4k-qd1", "randwrite", 4096, 1 },
	{ "randwrite-4k-qd32", "randwrite", 4096, 32 },
	{ "read-1m-qd8", "read", 1u << 20, 8 },
};
#define NR_CASES (sizeof(cases) / sizeof(cases[0]))

struct bench_opts {
	struct bench_base_opts base; /* first: bench_opt_* take it; time_ms: all rounds together */
	char image[PATH_MAX];
	char pv_opts[256];          /* appended to the pv disk's --disk spec */
	char guest_opts[128];       /* appended to pv's blkbench command line */
	char sweep[256];            /* --sweep KNOB=v1,v2,...: "" = none */
	char run_tag[48];           /* sweeping: "-KNOB=V" in stats file names */
	bool pick_cases;            /* --case given: only those run */
	bool want_case[NR_CASES];
	unsigned int mode_mask;     /* bit per enum blk_bench_mode; 0 = all */
};

/* ---- one guest run ------------------------------------------------------------ */

struct guest_run {
	struct vm *vm;
	struct disk_set disks;
	struct bench_lines console;
	uint64_t exits_begin, exits_end;
	uint64_t sent_begin, sent_end, supp_begin, supp_end;
	bool begun, ended, got_result;
	char last_line[LINE_MAX_BYTES];
	struct blk_bench_result *res;
};

/* "key=value" fields of the guest's result line. */
static void parse_result(struct guest_run *g, const char *line)
{
	struct blk_bench_result *r = g->res;
	char copy[LINE_MAX_BYTES], *save = NULL;
	snprintf(copy, sizeof(copy), "%s", line);
	for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq)
			continue;
		*eq = '\0';
		const char *v = eq + 1;
		if (!strcmp(tok, "qd")) r->qd = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(tok, "ops")) r->ops = strtoull(v, NULL, 10);
		else if (!strcmp(tok, "bytes")) r->bytes = strtoull(v, NULL, 10);
		else if (!strcmp(tok, "elapsed_ns")) r->elapsed_ns = strtoull(v, NULL, 10);
		else if (!strcmp(tok, "p50_us")) r->p50_us = strtod(v, NULL);
		else if (!strcmp(tok, "p99_us")) r->p99_us = strtod(v, NULL);
		else if (!strcmp(tok, "kicks")) r->kicks = strtoull(v, NULL, 10);
		else if (!strcmp(tok, "sleeps")) r->sleeps = strtoull(v, NULL, 10);
	}
	g->got_result = true;
}

/* A counter of the pv backend (blk0), 0 where there is none. */
static uint64_t blk0_counter(const struct vm *vm, const char *name)
{
	for (const struct stats_group *g = vm->stats.groups; g; g = g->next)
		for (unsigned int i = 0; i < g->nr; i++)
			if (!strcmp(g->name, "blk0") && !strcmp(g->counters[i].name, name))
				return stat_get(&g->counters[i].value);
	return 0;
}

/* One console line of the guest (a bench_line_fn). */
static void take_line(void *ctx, const char *line)
{
	struct guest_run *g = ctx;
	if (!strcmp(line, "blkbench: begin")) {
		g->exits_begin = stats_total_exits(&g->vm->stats);
		g->sent_begin = blk0_counter(g->vm, "notifications_sent");
		g->supp_begin = blk0_counter(g->vm, "notifications_suppressed");
		g->begun = true;
	} else if (!strcmp(line, "blkbench: end")) {
		g->exits_end = stats_total_exits(&g->vm->stats);
		g->sent_end = blk0_counter(g->vm, "notifications_sent");
		g->supp_end = blk0_counter(g->vm, "notifications_suppressed");
		g->ended = true;
	} else if (!strncmp(line, "blkbench: mode=", 15)) {
		parse_result(g, line);
	} else if (line[0]) {
		snprintf(g->last_line, sizeof(g->last_line), "%s", line);
	}
}

/* Runs on the vCPU thread, inside CONSOLE_WRITE. */
static void guest_console(void *ctx, const char *buf, size_t len)
{
	struct guest_run *g = ctx;
	bench_lines_feed(&g->console, buf, len, take_line, g);
}

static int guest_attach(struct vm *vm, void *ctx)
{
	struct guest_run *g = ctx;
	char err[512];
	g->vm = vm;
	if (disk_set_attach(vm, &g->disks, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "pvkvm: %s\n", err);
	return -1;
}

static void finish_guest_result(struct guest_run *g, int status)
{
	struct blk_bench_result *r = g->res;
	if (status != 0 || !g->got_result || !g->begun || !g->ended || !r->ops) {
		snprintf(r->error, sizeof(r->error), "guest exit %d%s%.120s", status,
			 g->last_line[0] ? ": " : "", g->last_line);
		return;
	}
	/* The "end" line's own CONSOLE_WRITE is inside the snapshot. */
	r->exits = g->exits_end - g->exits_begin - 1;
	r->notify_sent = g->sent_end - g->sent_begin;
	r->notify_suppressed = g->supp_end - g->supp_begin;
	r->ok = true;
}

/* Each round gets its share of the measured time. */
static uint64_t round_ms(const struct bench_opts *o)
{
	uint64_t ms = o->base.time_ms / o->base.rounds;
	return ms < 100 ? 100 : ms;
}

static void guest_cmdline(char *buf, size_t n, const struct blk_bench_case *c,
			  enum blk_bench_mode m, const struct bench_opts *o)
{
	snprintf(buf, n, "blkbench mode=%s rw=%s bs=%u qd=%u time_ms=%llu warmup_ms=%llu%s%.100s",
		 blk_bench_mode_name(m), c->rw, c->bs, c->qd,
		 (unsigned long long)round_ms(o), (unsigned long long)o->base.warmup_ms,
		 m == BB_PV && o->guest_opts[0] ? " " : "", m == BB_PV ? o->guest_opts : "");
}

static void run_guest(const struct bench_opts *o, const struct blk_bench_case *c,
		      enum blk_bench_mode m, struct blk_bench_result *res)
{
	struct guest_run *g = calloc(1, sizeof(*g));
	char spec[PATH_MAX + 256], cmdline[256], stats_path[PATH_MAX + 64], err[512];
	if (!g) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		return;
	}
	g->res = res;
	snprintf(spec, sizeof(spec), "%s,mode=%s%s%.200s", o->image, blk_bench_mode_name(m),
		 m == BB_PV && o->pv_opts[0] ? "," : "", m == BB_PV ? o->pv_opts : "");
	if (disk_set_add(&g->disks, spec, err, sizeof(err))) {
		snprintf(res->error, sizeof(res->error), "%.150s", err);
		free(g);
		return;
	}
	guest_cmdline(cmdline, sizeof(cmdline), c, m, o);
	snprintf(stats_path, sizeof(stats_path), "%s/stats/%s%s-%s-r%u.json", o->base.out, c->name,
		 o->run_tag, blk_bench_mode_name(m), o->base.round);
	struct launch l = {
		.guest = o->base.guest, .cmdline = cmdline, .mem_size = 64ull << 20,
		.nr_vcpus = 1,
		.timeout_s = (unsigned int)((round_ms(o) + o->base.warmup_ms) / 1000 + 60),
		.stats_json = o->base.out[0] ? stats_path : NULL,
		.console = guest_console, .console_ctx = g,
		.attach = guest_attach, .ctx = g,
	};
	int status = launch_guest(&l);
	disk_set_release(&g->disks);
	finish_guest_result(g, status);
	free(g);
}

/* ---- the host-direct ceiling --------------------------------------------------- */

static void run_host(const struct bench_opts *o, const struct blk_bench_case *c,
		     bool poll, struct blk_bench_result *res)
{
	struct hostdirect_cfg cfg = {
		.path = o->image, .write = strstr(c->rw, "write") != NULL,
		.random = strncmp(c->rw, "rand", 4) == 0, .bs = c->bs, .qd = c->qd,
		.warmup_ms = o->base.warmup_ms, .time_ms = round_ms(o), .seed = 1,
		.poll = poll,
	};
	struct hostdirect_result hr;
	if (hostdirect_run(&cfg, &hr, res->error, sizeof(res->error)))
		return;
	*res = (struct blk_bench_result){
		.ok = hr.ops > 0, .qd = c->qd, .ops = hr.ops, .bytes = hr.bytes,
		.elapsed_ns = hr.elapsed_ns, .p50_us = (double)hr.p50_ns / 1e3,
		.p99_us = (double)hr.p99_ns / 1e3,
	};
	if (!res->ok)
		snprintf(res->error, sizeof(res->error), "no I/O completed");
}

/* ---- cases ----------------------------------------------------------------------- */

/* Each run starts from a cold page cache for the image, so a buffered mode
 * (fv, fv-dma, sync) cannot read what an earlier run left in memory. */
static void drop_cache(const char *image)
{
	int fd = open(image, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	fdatasync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
}

static void derive(struct blk_bench_result *r)
{
	if (!r->ok || !r->elapsed_ns)
		return;
	double secs = (double)r->elapsed_ns / 1e9;
	r->iops = (double)r->ops / secs;
	r->mbps = (double)r->bytes / secs / 1e6;
	r->exits_per_req = (double)r->exits / (double)r->ops;
	r->kicks_per_req = (double)r->kicks / (double)r->ops;
}

static void progress(const struct bench_opts *o, const struct blk_bench_case *c,
		     enum blk_bench_mode m, const struct blk_bench_result *r,
		     unsigned int n, unsigned int total)
{
	if (r->ok)
		fprintf(stderr, "bench blk [%3u/%u] %-18s %-9s round %u/%u qd=%-2u %10.0f IOPS %9.2f MB/s  exits/req %.3f\n",
			n, total, c->name, blk_bench_mode_name(m), o->base.round + 1, o->base.rounds,
			r->qd, r->iops, r->mbps, r->exits_per_req);
	else
		fprintf(stderr, "bench blk [%3u/%u] %-18s %-9s round %u/%u FAILED: %s\n", n, total,
			c->name, blk_bench_mode_name(m), o->base.round + 1, o->base.rounds, r->error);
}

static bool selected(const struct bench_opts *o, unsigned int i, int m)
{
	return (!o->pick_cases || o->want_case[i]) &&
	       (!o->mode_mask || (o->mode_mask & (1u << m)));
}

static void run_one(const struct bench_opts *o, unsigned int i, int m,
		    struct blk_bench_result *r)
{
	drop_cache(o->image);
	if (blk_bench_mode_is_host((enum blk_bench_mode)m))
		run_host(o, &cases[i], m == BB_HOST_POLL, r);
	else
		run_guest(o, &cases[i], (enum blk_bench_mode)m, r);
	derive(r);
}

/* The mode is reported by its median round (bench_median_round); every
 * round's IOPS is kept beside it. */
static void keep_median(struct blk_bench_result *out,
			const struct blk_bench_result *rounds, unsigned int n)
{
	double iops[BENCH_MAX_ROUNDS];
	bool ok[BENCH_MAX_ROUNDS];

	_Static_assert(BLK_BENCH_MAX_ROUNDS == BENCH_MAX_ROUNDS, "--rounds bound");
	for (unsigned int k = 0; k < n; k++) {
		iops[k] = rounds[k].iops;
		ok[k] = rounds[k].ok;
	}
	*out = rounds[bench_median_round(iops, ok, n)];
	out->nr_rounds = n;
	for (unsigned int k = 0; k < n; k++)
		out->round_iops[k] = rounds[k].ok ? rounds[k].iops : 0;
}

/*
 * Every case runs its modes in rounds, the order rotated each round
 * (bench_round_mode): the disk drifts ±10-20% over minutes on these
 * virtual disks.
 */
static void run_case(struct bench_opts *o, unsigned int i,
		     struct blk_bench_result *res, unsigned int *n, unsigned int total)
{
	static struct blk_bench_result rounds[BB_NR_MODES][BLK_BENCH_MAX_ROUNDS];
	memset(rounds, 0, sizeof(rounds));
	for (o->base.round = 0; o->base.round < o->base.rounds; o->base.round++) {
		for (int k = 0; k < BB_NR_MODES; k++) {
			int m = bench_round_mode(o->base.round, k, BB_NR_MODES);
			if (!selected(o, i, m))
				continue;
			run_one(o, i, m, &rounds[m][o->base.round]);
			progress(o, &cases[i], (enum blk_bench_mode)m, &rounds[m][o->base.round],
				 ++*n, total);
		}
	}
	for (int m = 0; m < BB_NR_MODES; m++) {
		if (!selected(o, i, m)) {
			res[m].skipped = true;
			snprintf(res[m].error, sizeof(res[m].error), "not run (--case/--modes)");
			continue;
		}
		keep_median(&res[m], rounds[m], o->base.rounds);
	}
}

static void run_cases(struct bench_opts *o, struct blk_bench_result (*res)[BB_NR_MODES])
{
	unsigned int n = 0, total = 0;
	for (unsigned int i = 0; i < NR_CASES; i++)
		for (int m = 0; m < BB_NR_MODES; m++)
			total += selected(o, i, m) * o->base.rounds;
	for (unsigned int i = 0; i < NR_CASES; i++)
		run_case(o, i, res[i], &n, total);
}

/* ---- --sweep KNOB=v1,v2,... --------------------------------------------------------- */

/* What a knob's value sets: the pv disk's option, blkbench's, or both
 * (then the two sides agree: a ring both offer and ask for, a policy both
 * follow). */
struct sweep_knob {
	const char *name;
	const char *disk_key;  /* --disk KEY=v, or NULL */
	const char *guest_key; /* blkbench KEY=v, or NULL */
	const char *applies;
};

static const struct sweep_knob sweep_knobs[] = {
	{ "notify", "notify", "notify",
	  "--disk notify= (responses) and blkbench notify= (requests)" },
	{ "poll_us", "poll_us", NULL, "--disk poll_us= (backend busy-poll)" },
	{ "ring_pages", "ring_pages", "ring_pages",
	  "--disk ring_pages= (offered) and blkbench ring_pages= (asked)" },
	{ "batch", "batch", NULL, "--disk batch= (requests per io_submit)" },
	{ "data", "data", NULL, "--disk data= (map the guest's pages or copy through a buffer)" },
	{ "spin_us", NULL, "spin_us", "blkbench spin_us= (guest polls responses)" },
	{ "backend_notify", "notify", NULL, "--disk notify= only (responses)" },
	{ "guest_notify", NULL, "notify", "blkbench notify= only (requests)" },
};
#define NR_SWEEP_KNOBS (sizeof(sweep_knobs) / sizeof(sweep_knobs[0]))

struct sweep_plan {
	const struct sweep_knob *knob;
	char values[BLK_SWEEP_MAX_VALUES][32];
	unsigned int nr;
};

static int parse_sweep(const char *spec, struct sweep_plan *p)
{
	const char *eq = strchr(spec, '=');
	*p = (struct sweep_plan){ 0 };
	for (unsigned int i = 0; eq && i < NR_SWEEP_KNOBS; i++)
		if (strlen(sweep_knobs[i].name) == (size_t)(eq - spec) &&
		    !strncmp(spec, sweep_knobs[i].name, (size_t)(eq - spec)))
			p->knob = &sweep_knobs[i];
	if (!p->knob) {
		fprintf(stderr, "pvkvm: --sweep: '%s' is not KNOB=v1,v2,... with KNOB one of "
			"notify, poll_us, ring_pages, batch, data, spin_us, backend_notify, guest_notify\n", spec);
		return -1;
	}
	char copy[256], *save = NULL;
	snprintf(copy, sizeof(copy), "%s", eq + 1);
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (p->nr == BLK_SWEEP_MAX_VALUES || strlen(t) >= sizeof(p->values[0]) ||
		    strpbrk(t, " =")) {
			fprintf(stderr, "pvkvm: --sweep: at most %u values of up to 31 characters, "
				"no spaces or '='\n", BLK_SWEEP_MAX_VALUES);
			return -1;
		}
		snprintf(p->values[p->nr++], sizeof(p->values[0]), "%s", t);
	}
	if (!p->nr) {
		fprintf(stderr, "pvkvm: --sweep %s: no values\n", spec);
		return -1;
	}
	return 0;
}

/* Sets the pv disk's and the guest's options for one value; the disk
 * options of --pv-opts and blkbench's of --guest-opts stay in front. */
static void apply_value(struct bench_opts *o, const char *base_pv, const char *base_guest,
			const struct sweep_knob *k, const char *v)
{
	snprintf(o->pv_opts, sizeof(o->pv_opts), "%.150s%s%s%s%.31s", base_pv,
		 base_pv[0] && k->disk_key ? "," : "", k->disk_key ? k->disk_key : "",
		 k->disk_key ? "=" : "", k->disk_key ? v : "");
	snprintf(o->guest_opts, sizeof(o->guest_opts), "%.60s%s%s%s%.31s", base_guest,
		 base_guest[0] && k->guest_key ? " " : "", k->guest_key ? k->guest_key : "",
		 k->guest_key ? "=" : "", k->guest_key ? v : "");
}

/* One case (--case, default randread-4k-qd32), host and pv in interleaved
 * rounds for every value. A bad value (one --disk refuses) fails its
 * point with the parser's message, not the sweep. */
static int run_sweep(struct bench_opts *o, const struct platform_facts *platform)
{
	struct sweep_plan plan;
	if (parse_sweep(o->sweep, &plan))
		return PVKVM_EXIT_USAGE;
	unsigned int ci = 1; /* randread-4k-qd32 */
	for (unsigned int i = NR_CASES; i-- > 0;)
		if (o->pick_cases && o->want_case[i])
			ci = i;
	memset(o->want_case, 0, sizeof(o->want_case));
	o->want_case[ci] = o->pick_cases = true;
	o->mode_mask = (1u << BB_HOST) | (1u << BB_PV);
	char base_pv[256], base_guest[128];
	snprintf(base_pv, sizeof(base_pv), "%s", o->pv_opts);
	snprintf(base_guest, sizeof(base_guest), "%s", o->guest_opts);
	struct blk_sweep_point *pts = calloc(plan.nr, sizeof(*pts));
	if (!pts)
		return PVKVM_EXIT_VMM_ERROR;
	struct blk_bench_result res[BB_NR_MODES];
	unsigned int n = 0, total = plan.nr * 2 * o->base.rounds;
	bool ok = true;
	for (unsigned int v = 0; v < plan.nr; v++) {
		apply_value(o, base_pv, base_guest, plan.knob, plan.values[v]);
		snprintf(o->run_tag, sizeof(o->run_tag), "-%.14s=%.31s", plan.knob->name,
			 plan.values[v]);
		fprintf(stderr, "bench blk: sweep %s=%s: --disk ...,%s; blkbench ... %s\n",
			plan.knob->name, plan.values[v], o->pv_opts, o->guest_opts);
		memset(res, 0, sizeof(res));
		run_case(o, ci, res, &n, total);
		snprintf(pts[v].value, sizeof(pts[v].value), "%s", plan.values[v]);
		pts[v].host = res[BB_HOST];
		pts[v].pv = res[BB_PV];
		ok = ok && res[BB_HOST].ok && res[BB_PV].ok;
	}
	struct blk_sweep_report rep = {
		.knob = plan.knob->name, .applies = plan.knob->applies,
		.case_name = cases[ci].name, .rounds = o->base.rounds, .time_ms = round_ms(o),
		.warmup_ms = o->base.warmup_ms, .pts = pts, .nr_pts = plan.nr, .platform = platform,
	};
	blk_sweep_print_table(&rep, stdout);
	fflush(stdout);
	if (o->base.out[0]) {
		if (blk_sweep_write_json(&rep, o->base.out))
			ok = false;
		char *slash = strrchr(o->base.plot_script, '/');
		if (slash)
			snprintf(slash + 1, sizeof(o->base.plot_script) - (size_t)(slash + 1 - o->base.plot_script),
				 "plot-sweep.gp");
		if (!o->base.no_plot && blk_sweep_plot(&rep, o->base.out, o->base.plot_script) < 0)
			ok = false;
	}
	free(pts);
	return ok ? 0 : 1;
}

/* ---- the image ------------------------------------------------------------------- */

/* Real data everywhere: a sparse file would read holes, which no disk
 * does, at memory speed. */
static int fill_image(int fd, uint64_t bytes)
{
	size_t chunk = 1u << 20;
	uint64_t *buf = malloc(chunk), x = 0x9e3779b97f4a7c15ull;
	if (!buf)
		return -ENOMEM;
	for (uint64_t off = 0; off < bytes; off += chunk) {
		for (size_t i = 0; i < chunk / 8; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			buf[i] = x;
		}
		if (pwrite(fd, buf, chunk, (off_t)off) != (ssize_t)chunk) {
			free(buf);
			return -EIO;
		}
	}
	free(buf);
	return fsync(fd) ? -errno : 0;
}

static int create_image(struct bench_opts *o, uint64_t bytes)
{
	snprintf(o->image, sizeof(o->image), "%s/pvkvm-bench-blk-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	int fd = mkstemp(o->image);
	if (fd < 0)
		return -errno;
	fprintf(stderr, "bench blk: creating a %llu MiB image %s\n",
		(unsigned long long)(bytes >> 20), o->image);
	int r = fill_image(fd, bytes);
	close(fd);
	if (r)
		unlink(o->image);
	return r;
}

static uint64_t file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

/* ---- options ---------------------------------------------------------------------- */

static int opt_image(void *st, const char *arg)
{
	snprintf(((struct bench_opts *)st)->image, PATH_MAX, "%s", arg);
	return 0;
}

static int opt_time(void *st, const char *arg)
{
	return cli_parse_uint("--time-ms", arg, 10, 600000, &((struct bench_opts *)st)->base.time_ms);
}

static int opt_case(void *st, const char *arg)
{
	struct bench_opts *o = st;
	for (unsigned int i = 0; i < NR_CASES; i++) {
		if (!strcmp(arg, cases[i].name)) {
			o->pick_cases = true;
			o->want_case[i] = true;
			return 0;
		}
	}
	fprintf(stderr, "pvkvm: --case: no case '%s'\n", arg);
	return -1;
}

static int opt_modes(void *st, const char *arg)
{
	struct bench_opts *o = st;
	char copy[64], *save = NULL;
	snprintf(copy, sizeof(copy), "%s", arg);
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int m = 0;
		while (m < BB_NR_MODES && strcmp(t, blk_bench_mode_name((enum blk_bench_mode)m)))
			m++;
		if (m == BB_NR_MODES) {
			fprintf(stderr, "pvkvm: --modes: no mode '%s' (host, host-poll, fv, fv-dma, sync, pv)\n", t);
			return -1;
		}
		o->mode_mask |= 1u << m;
	}
	return 0;
}

static int opt_pv_opts(void *st, const char *arg)
{
	snprintf(((struct bench_opts *)st)->pv_opts, 256, "%s", arg);
	return 0;
}

static int opt_guest_opts(void *st, const char *arg)
{
	struct bench_opts *o = st;
	if (strlen(arg) >= 60) {
		fprintf(stderr, "pvkvm: --guest-opts: at most 59 characters\n");
		return -1;
	}
	snprintf(o->guest_opts, sizeof(o->guest_opts), "%s", arg);
	return 0;
}

static int opt_sweep(void *st, const char *arg)
{
	struct sweep_plan check;
	if (strlen(arg) >= 256 || parse_sweep(arg, &check))
		return -1;
	snprintf(((struct bench_opts *)st)->sweep, 256, "%s", arg);
	return 0;
}

static const struct cli_option blk_options[] = {
	{"out", 'o', "DIR", "write DIR/blk.json, DIR/blk.dat, DIR/blk.png, DIR/blk.svg and per-run counters in DIR/stats/", bench_opt_out},
	{"image", 'i', "PATH", "use this raw image (its data is OVERWRITTEN by the write cases); default: a new temporary 256 MiB file, removed at the end", opt_image},
	{"quick", 'q', NULL, "short runs (300 ms each, 64 MiB image): for CI, not for figures", bench_opt_quick},
	{"time-ms", 't', "MS", "measured time per case and mode, split over the rounds (default 2500; --quick 300)", opt_time},
	{"rounds", 'r', "N", "run each case's modes N times, interleaved, and report each mode's median round (default 5; --quick 1)", bench_opt_rounds},
	{"no-plot", 0, NULL, "do not run gnuplot", bench_opt_no_plot},
	{"guest", 'g', "PATH", "guest kernel (default: guest/pvkern.elf next to the pvkvm binary)", bench_opt_guest},
	{"case", 'c', "NAME", "run only this case (repeatable), e.g. randread-4k-qd32: for experiments, not for the table", opt_case},
	{"modes", 'm', "LIST", "run only these modes, e.g. host,pv: for experiments, not for the table", opt_modes},
	{"pv-opts", 0, "OPTS", "append OPTS to the pv disk's --disk spec, e.g. poll_us=0: for experiments", opt_pv_opts},
	{"guest-opts", 0, "ARGS", "append ARGS to the pv guest's blkbench command, e.g. 'spin_us=0 notify=always'", opt_guest_opts},
	{"sweep", 's', "KNOB=V1,V2,...", "for each value, run one case (--case, default randread-4k-qd32) on host and pv in interleaved rounds; KNOB: notify (both sides), poll_us, ring_pages (both sides), batch, data, spin_us (guest), backend_notify, guest_notify; writes DIR/sweep-KNOB.json, .dat, .png, .svg", opt_sweep},
	{NULL, 0, NULL, NULL, NULL},
};

static const char blk_usage[] =
	"usage: pvkvm bench blk [options]\n"
	"\n"
	"PV vs full-virt block I/O on one image, beside the host doing the same I/O\n"
	"directly (libaio, O_DIRECT). Workloads: 4 KiB random read and random write\n"
	"at queue depth 1 and 32, 1 MiB sequential read at queue depth 8. Modes: host\n"
	"(the ceiling, asleep in io_getevents between completions), host-poll (the\n"
	"same, polling libaio's ring as pv's backend polls), fv (emulated ATA PIO),\n"
	"fv-dma (emulated ATA bus-master DMA), sync (one hypercall per I/O), pv\n"
	"(blkif rings). fv, fv-dma and sync complete each request before the next:\n"
	"they run at queue depth 1. Prints IOPS, MB/s, p50/p99 latency and exits per\n"
	"request (VMM exits inside the measured window / requests), a table with\n"
	"ratios, and one progress line per run on stderr. See docs/benchmarks.md.\n";

static int parse_opts(int argc, char **argv, struct bench_opts *o)
{
	int npos, r = cli_parse(argc, argv, blk_options, o, blk_usage, &npos);
	if (r)
		return r > 0 ? 1 : -1;
	if (bench_check_args(npos, argv, o->base.guest, sizeof(o->base.guest)))
		return -1;
	if (!o->base.time_ms)
		o->base.time_ms = o->base.quick ? 300 : 2500;
	if (!o->base.rounds)
		o->base.rounds = o->base.quick ? 1 : 5;
	o->base.warmup_ms = o->base.quick ? 50 : 200;
	return 0;
}

static int report(const struct bench_opts *o, struct blk_bench_report *rep)
{
	char path[PATH_MAX + 16];
	blk_bench_print_table(rep, stdout);
	fflush(stdout);
	if (!o->base.out[0])
		return 0;
	snprintf(path, sizeof(path), "%s/blk.json", o->base.out);
	if (bench_report_written("blk", path, blk_bench_write_json(rep, path)))
		return -1;
	blk_bench_write_summary(rep, o->base.out);
	if (!o->base.no_plot && blk_bench_plot(rep, o->base.out, o->base.plot_script) < 0)
		return -1;
	return 0;
}

static bool all_ok(const struct bench_opts *o, struct blk_bench_result (*res)[BB_NR_MODES])
{
	for (unsigned int i = 0; i < NR_CASES; i++)
		for (int m = 0; m < BB_NR_MODES; m++)
			if (selected(o, i, m) && !res[i][m].ok)
				return false;
	return true;
}

int bench_blk_main(int argc, char **argv)
{
	struct bench_opts *o = calloc(1, sizeof(*o));
	struct blk_bench_result (*res)[BB_NR_MODES] = calloc(NR_CASES, sizeof(*res));
	int status = PVKVM_EXIT_VMM_ERROR;
	if (!o || !res)
		goto out;
	int r = parse_opts(argc, argv, o);
	if (r) {
		status = r > 0 ? 0 : PVKVM_EXIT_USAGE;
		goto out;
	}
	bench_locate_plot_script(o->base.plot_script, sizeof(o->base.plot_script), "plot-blk.gp");
	if (bench_make_out_dirs(o->base.out))
		goto out;
	bool created = !o->image[0];
	if (created && create_image(o, o->base.quick ? QUICK_IMAGE_BYTES : DEFAULT_IMAGE_BYTES)) {
		fprintf(stderr, "pvkvm: cannot create the benchmark image: %s\n", strerror(errno));
		goto out;
	}
	/* Before the benchmark, so neither disturbs the other's timing. */
	const struct platform_facts *platform = platform_facts_cached();
	fprintf(stderr, "bench blk: ");
	platform_print_summary(platform, stderr);
	if (o->sweep[0]) {
		status = run_sweep(o, platform);
		if (created)
			unlink(o->image);
		goto out;
	}
	run_cases(o, res);
	struct blk_bench_report rep = {
		.platform = platform,
		.image = o->image, .image_bytes = file_size(o->image),
		.image_created = created, .quick = o->base.quick, .time_ms = round_ms(o),
		.rounds = o->base.rounds,
		.warmup_ms = o->base.warmup_ms, .cases = cases, .nr_cases = NR_CASES, .res = res,
	};
	status = report(o, &rep) == 0 && all_ok(o, res) ? 0 : 1;
	if (created)
		unlink(o->image);
out:
	free(o);
	free(res);
	return status;
}
