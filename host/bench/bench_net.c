// SPDX-License-Identifier: MIT
/*
 * `pvkvm bench net`: see bench_net.h.
 *
 * A guest run is `pvkvm run --net tap=TAP,mode=M,mac=.. pvkern.elf --
 * netbench ...` inside this process (launch_guest with the NIC set
 * attached), so that its console is watched line by line: at "netbench:
 * begin" and "netbench: end" (its measured window) the VMM's exit counters
 * are snapshotted and the host's sink opens and closes, at "netbench:
 * ready" the host's generator starts. Exits per packet = (VMM exits in the
 * window, less the "end" line's own, + the guest's ioeventfd kicks in the
 * window, which exit into the host kernel, not to us) / the guest's
 * frames in the window.
 *
 * Guest to guest: the receiver is a second pvkvm process (pvkvm runs one VM
 * per process) joined through the switch's UNIX socket; the sender runs
 * here. The figure is what the receiver counted; exits are the sender's.
 *
 * The whole benchmark runs in a namespace it creates (and removes, also on
 * failure): this thread enters it, so the TAP, the sink and the generator
 * live there.
 */
#include "host/bench/bench_net.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/bench/bench.h"
#include "host/core/launch.h"
#include "host/core/stats.h"
#include "host/core/vm.h"
#include "host/net/net_attach.h"
#include "host/util/cli.h"

#define G2G_TX_IP "10.0.3.2"
#define G2G_RX_IP "10.0.3.3"
#define G2G_RX_MAC "52:54:00:12:34:57"

static const struct net_bench_case cases[] = {
	{ "g2h-64", NB_G2H, 64 },
	{ "g2h-1514", NB_G2H, 1514 },
	{ "h2g-64", NB_H2G, 64 },
	{ "h2g-1514", NB_H2G, 1514 },
	{ "g2g-64", NB_G2G, 64 },
	{ "g2g-1514", NB_G2G, 1514 },
};
#define NR_CASES (sizeof(cases) / sizeof(cases[0]))

struct bench_opts {
	struct bench_base_opts base; /* first: bench_opt_* take it */
	char switch_dir[64];
	bool pick_cases, want_case[NR_CASES];
	unsigned int mode_mask;
	char guest_opts[128];       /* appended to netbench's command line */
	struct nb_ns ns;
};

static const char *const mode_names[NB_NR_MODES] = { "host", "fv", "fv-dma", "sync", "pv" };

const char *net_bench_mode_name(enum net_bench_mode m)
{
	return (unsigned)m < NB_NR_MODES ? mode_names[m] : "?";
}

/* ---- one guest run ---------------------------------------------------------------- */

struct guest_run {
	struct vm *vm;
	struct net_set nics;
	struct bench_lines console;
	const struct net_bench_case *c;
	uint64_t exits_begin, exits_end;
	bool begun, ended, got_result;
	uint64_t g_frames, g_elapsed, g_kicks, g_sleeps;
	char last_line[BENCH_LINE_MAX];
	struct nb_sink *sink;
	struct nb_gen *gen;
};

static uint64_t field(const char *line, const char *key)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	return p ? strtoull(p + strlen(pat), NULL, 10) : 0;
}

static void take_line(void *ctx, const char *line)
{
	struct guest_run *g = ctx;

	if (!strncmp(line, "netbench: ready", 15)) {
		if (g->c->dir == NB_H2G && !g->gen)
			g->gen = nb_gen_start(g->c->size);
	} else if (!strcmp(line, "netbench: begin")) {
		g->exits_begin = stats_total_exits(&g->vm->stats);
		g->begun = true;
		if (g->sink)
			nb_sink_window(g->sink, true);
		if (g->gen)
			nb_gen_window(g->gen, true);
	} else if (!strcmp(line, "netbench: end")) {
		g->exits_end = stats_total_exits(&g->vm->stats);
		g->ended = true;
		if (g->sink)
			nb_sink_window(g->sink, false);
		if (g->gen)
			nb_gen_window(g->gen, false);
	} else if (!strncmp(line, "netbench: mode=", 15)) {
		g->g_frames = field(line, "frames");
		g->g_elapsed = field(line, "elapsed_ns");
		g->g_kicks = field(line, "kicks");
		g->g_sleeps = field(line, "sleeps");
		g->got_result = true;
	} else if (line[0]) {
		snprintf(g->last_line, sizeof(g->last_line), "%s", line);
	}
}

static void guest_console(void *ctx, const char *buf, size_t len)
{
	bench_lines_feed(&((struct guest_run *)ctx)->console, buf, len, take_line, ctx);
}

static int guest_attach(struct vm *vm, void *ctx)
{
	struct guest_run *g = ctx;
	char err[512];

	g->vm = vm;
	if (net_set_attach(vm, &g->nics, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "pvkvm: %s\n", err);
	return -1;
}

static uint64_t round_ms(const struct bench_opts *o)
{
	return o->base.time_ms;
}

static void guest_cmdline(char *buf, size_t n, const struct bench_opts *o,
			  const struct net_bench_case *c, enum net_bench_mode m)
{
	bool tx = c->dir != NB_H2G;
	const char *ip = c->dir == NB_G2G ? G2G_TX_IP "/24" : NB_GUEST_IP "/24";
	const char *peer = c->dir == NB_G2G ? G2G_RX_IP : NB_HOST_IP;
	/* The g2g sender outlasts the receiver's window, which opens a
	 * warm-up after its first frame. */
	uint64_t t = round_ms(o) + (c->dir == NB_G2G ? o->base.warmup_ms + 300 : 0);

	snprintf(buf, n, "netbench dir=%s mode=%s size=%u time_ms=%llu warmup_ms=%llu ip=%s%s%s%s%s",
		 tx ? "tx" : "rx", net_bench_mode_name(m), c->size, (unsigned long long)t,
		 (unsigned long long)o->base.warmup_ms, ip, tx ? " peer=" : "", tx ? peer : "",
		 o->guest_opts[0] ? " " : "", o->guest_opts);
}

/* ---- the g2g receiver: a second pvkvm ------------------------------------------------ */

struct peer {
	pid_t pid;
	int out;
	char buf[8192];
	size_t len;
};

static bool peer_read_until(struct peer *p, const char *what, int timeout_ms)
{
	uint64_t end = nb_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	while (!strstr(p->buf, what) && nb_now_ns() < end) {
		struct pollfd pf = { p->out, POLLIN, 0 };
		if (poll(&pf, 1, 50) <= 0)
			continue;
		ssize_t n = read(p->out, p->buf + p->len, sizeof(p->buf) - 1 - p->len);
		if (n <= 0)
			break;
		p->len += (size_t)n;
		p->buf[p->len] = '\0';
	}
	return strstr(p->buf, what) != NULL;
}

static int peer_start(struct peer *p, const struct bench_opts *o,
		      const struct net_bench_case *c, enum net_bench_mode m)
{
	char self[PATH_MAX], net[128], cmd[256];
	int fds[2];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0 || pipe2(fds, O_CLOEXEC))
		return -1;
	self[n] = '\0';
	snprintf(net, sizeof(net), "switch=bench%d,mode=%s,mac=%s", (int)getpid(),
		 net_bench_mode_name(m), G2G_RX_MAC);
	snprintf(cmd, sizeof(cmd), "time_ms=%llu", (unsigned long long)round_ms(o));
	char warm[48], size[32];
	snprintf(warm, sizeof(warm), "warmup_ms=%llu", (unsigned long long)o->base.warmup_ms);
	snprintf(size, sizeof(size), "size=%u", c->size);
	memset(p, 0, sizeof(*p));
	p->pid = fork();
	if (p->pid < 0)
		return -1;
	if (p->pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		execl(self, self, "run", "--net", net, o->base.guest, "--", "netbench", "dir=rx",
		      "ip=" G2G_RX_IP "/24", cmd, warm, size, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	p->out = fds[0];
	return peer_read_until(p, "netbench: ready", 10000) ? 0 : -1;
}

static void peer_finish(struct peer *p, struct net_bench_result *r)
{
	int st = 0;

	if (p->pid <= 0)
		return;
	peer_read_until(p, "netbench: mode=", (int)(5000));
	kill(p->pid, SIGTERM);
	waitpid(p->pid, &st, 0);
	close(p->out);
	const char *line = strstr(p->buf, "netbench: mode=");
	if (line) {
		r->frames = field(line, "frames");
		r->elapsed_ns = field(line, "elapsed_ns");
	} else {
		snprintf(r->error, sizeof(r->error), "receiver: %.140s", p->buf);
	}
}

/* ---- runs ------------------------------------------------------------------------------ */

static void finish_guest(struct guest_run *g, int status, struct net_bench_result *r)
{
	if (status != 0 || !g->got_result || !g->begun || !g->ended || !g->g_frames) {
		snprintf(r->error, sizeof(r->error), "guest exit %d%s%.120s", status,
			 g->last_line[0] ? ": " : "", g->last_line);
		return;
	}
	r->kicks = g->g_kicks;
	r->sleeps = g->g_sleeps;
	r->exits = g->exits_end - g->exits_begin - 1 + g->g_kicks;
	r->exits_per_pkt = (double)r->exits / (double)g->g_frames;
	r->ok = true;
}

static void run_guest(struct bench_opts *o, const struct net_bench_case *c,
		      enum net_bench_mode m, struct net_bench_result *r)
{
	struct guest_run *g = calloc(1, sizeof(*g));
	char spec[128], cmdline[256], err[256], stats_path[PATH_MAX + 64];
	struct peer peer = { 0 };
	uint64_t bytes;

	if (!g) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		return;
	}
	g->c = c;
	if (c->dir == NB_G2G)
		snprintf(spec, sizeof(spec), "switch=bench%d,mode=%s,mac=%s", (int)getpid(),
			 net_bench_mode_name(m), NB_GUEST_MAC);
	else
		snprintf(spec, sizeof(spec), "tap=%s,mode=%s,mac=%s", o->ns.tap,
			 net_bench_mode_name(m), NB_GUEST_MAC);
	if (net_set_add(&g->nics, spec, err, sizeof(err))) {
		snprintf(r->error, sizeof(r->error), "%.150s", err);
		free(g);
		return;
	}
	if (c->dir == NB_G2G && peer_start(&peer, o, c, m)) {
		snprintf(r->error, sizeof(r->error), "receiver did not start: %.120s", peer.buf);
		peer_finish(&peer, r);
		net_set_release(&g->nics);
		free(g);
		return;
	}
	if (c->dir == NB_G2H)
		g->sink = nb_sink_start();
	guest_cmdline(cmdline, sizeof(cmdline), o, c, m);
	snprintf(stats_path, sizeof(stats_path), "%s/stats/%s-%s-r%u.json", o->base.out, c->name,
		 net_bench_mode_name(m), o->base.round);
	struct launch l = {
		.guest = o->base.guest, .cmdline = cmdline, .mem_size = 64ull << 20,
		.nr_vcpus = 1, .timeout_s = (unsigned int)((round_ms(o) + o->base.warmup_ms) / 1000 + 30),
		.stats_json = o->base.out[0] ? stats_path : NULL,
		.console = guest_console, .console_ctx = g,
		.attach = guest_attach, .ctx = g,
	};
	int status = launch_guest(&l);
	finish_guest(g, status, r);
	if (g->gen)
		r->sent = nb_gen_stop(g->gen);
	if (g->sink)
		nb_sink_stop(g->sink, &r->frames, &bytes, &r->elapsed_ns);
	if (c->dir == NB_H2G) {
		r->frames = g->g_frames;
		r->elapsed_ns = g->g_elapsed;
	} else {
		r->sent = g->g_frames;
	}
	if (c->dir == NB_G2G)
		peer_finish(&peer, r);
	if (r->ok && !r->frames) {
		r->ok = false;
		snprintf(r->error, sizeof(r->error), "nothing arrived at the receiver");
	}
	net_set_release(&g->nics);
	free(g);
}

static void derive(struct net_bench_result *r, const struct net_bench_case *c)
{
	if (!r->ok || !r->elapsed_ns)
		return;
	double secs = (double)r->elapsed_ns / 1e9;

	r->pps = (double)r->frames / secs;
	r->mbps = r->pps * c->size * 8 / 1e6;
}

static void progress(const struct bench_opts *o, const struct net_bench_case *c,
		     enum net_bench_mode m, const struct net_bench_result *r,
		     unsigned int n, unsigned int total)
{
	if (r->ok)
		fprintf(stderr, "bench net [%3u/%u] %-9s %-4s round %u/%u %11.0f pps %9.2f Mbit/s  exits/pkt %.4f\n",
			n, total, c->name, net_bench_mode_name(m), o->base.round + 1, o->base.rounds,
			r->pps, r->mbps, r->exits_per_pkt);
	else
		fprintf(stderr, "bench net [%3u/%u] %-9s %-6s round %u/%u FAILED: %s\n", n, total,
			c->name, net_bench_mode_name(m), o->base.round + 1, o->base.rounds, r->error);
}

static bool selected(const struct bench_opts *o, unsigned int i, int m)
{
	if (cases[i].dir == NB_G2G && m == NB_HOST)
		return false; /* no TAP between two guests: no host ceiling */
	return (!o->pick_cases || o->want_case[i]) &&
	       (!o->mode_mask || (o->mode_mask & (1u << m)));
}

static void run_one(struct bench_opts *o, unsigned int i, int m, struct net_bench_result *r)
{
	const struct net_bench_case *c = &cases[i];

	if (m == NB_HOST)
		nb_hostdirect(&o->ns, c->dir == NB_G2H, c->size, o->base.warmup_ms, round_ms(o), r);
	else
		run_guest(o, c, (enum net_bench_mode)m, r);
	derive(r, c);
}

/* The mode is reported by its median round (bench_median_round); every
 * round's packets/s is kept beside it. */
static void keep_median(struct net_bench_result *out, const struct net_bench_result *rounds,
			unsigned int n)
{
	double pps[BENCH_MAX_ROUNDS];
	bool ok[BENCH_MAX_ROUNDS];

	_Static_assert(NET_BENCH_MAX_ROUNDS == BENCH_MAX_ROUNDS, "--rounds bound");
	for (unsigned int k = 0; k < n; k++) {
		pps[k] = rounds[k].pps;
		ok[k] = rounds[k].ok;
	}
	*out = rounds[bench_median_round(pps, ok, n)];
	out->nr_rounds = n;
	for (unsigned int k = 0; k < n; k++)
		out->round_pps[k] = rounds[k].ok ? rounds[k].pps : 0;
}

/* Modes run in rounds, the order rotated each round (bench_round_mode). */
static void run_case(struct bench_opts *o, unsigned int i, struct net_bench_result *res,
		     unsigned int *n, unsigned int total)
{
	static struct net_bench_result rounds[NB_NR_MODES][NET_BENCH_MAX_ROUNDS];

	memset(rounds, 0, sizeof(rounds));
	for (o->base.round = 0; o->base.round < o->base.rounds; o->base.round++)
		for (int k = 0; k < NB_NR_MODES; k++) {
			int m = bench_round_mode(o->base.round, k, NB_NR_MODES);
			if (!selected(o, i, m))
				continue;
			run_one(o, i, m, &rounds[m][o->base.round]);
			progress(o, &cases[i], (enum net_bench_mode)m, &rounds[m][o->base.round],
				 ++*n, total);
		}
	for (int m = 0; m < NB_NR_MODES; m++) {
		if (!selected(o, i, m)) {
			res[m].skipped = true;
			snprintf(res[m].error, sizeof(res[m].error), "not run");
			continue;
		}
		keep_median(&res[m], rounds[m], o->base.rounds);
	}
}

/* ---- options ---------------------------------------------------------------------------- */

static int opt_time(void *st, const char *arg)
{
	return cli_parse_uint("--time-ms", arg, 50, 600000, &((struct bench_opts *)st)->base.time_ms);
}

static int opt_case(void *st, const char *arg)
{
	struct bench_opts *o = st;

	for (unsigned int i = 0; i < NR_CASES; i++)
		if (!strcmp(arg, cases[i].name)) {
			o->pick_cases = o->want_case[i] = true;
			return 0;
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
		while (m < NB_NR_MODES && strcmp(t, mode_names[m]))
			m++;
		if (m == NB_NR_MODES) {
			fprintf(stderr, "pvkvm: --modes: no mode '%s' (host, fv, fv-dma, sync, pv)\n", t);
			return -1;
		}
		o->mode_mask |= 1u << m;
	}
	return 0;
}

static int opt_guest_opts(void *st, const char *arg)
{
	snprintf(((struct bench_opts *)st)->guest_opts, 128, "%s", arg);
	return 0;
}

static const struct cli_option net_options[] = {
	{"out", 'o', "DIR", "write DIR/net.json, DIR/net.dat, DIR/net.png, DIR/net.svg and per-run counters in DIR/stats/", bench_opt_out},
	{"quick", 'q', NULL, "short runs (300 ms each, 1 round): for CI, not for figures", bench_opt_quick},
	{"time-ms", 't', "MS", "measured time of each run (default 1000; --quick 300)", opt_time},
	{"rounds", 'r', "N", "run each case's modes N times, interleaved, and report each mode's median round (default 3; --quick 1)", bench_opt_rounds},
	{"no-plot", 0, NULL, "do not run gnuplot", bench_opt_no_plot},
	{"guest", 'g', "PATH", "guest kernel (default: guest/pvkern.elf next to the pvkvm binary)", bench_opt_guest},
	{"case", 'c', "NAME", "run only this case (repeatable), e.g. g2h-64: for experiments", opt_case},
	{"modes", 'm', "LIST", "run only these modes, e.g. host,pv: for experiments", opt_modes},
	{"guest-opts", 0, "OPTS", "append OPTS to the guest's netbench command line, e.g. spin_us=0: for experiments", opt_guest_opts},
	{NULL, 0, NULL, NULL, NULL},
};

static const char net_usage[] =
	"usage: pvkvm bench net [options]\n"
	"\n"
	"PV vs full-virt networking, beside the host writing and reading the same\n"
	"frames on the same TAP directly. Needs root: it creates a network namespace\n"
	"with a TAP (10.0.0.1/24; the guest is 10.0.0.2) and removes both at the end.\n"
	"Cases: guest-to-host (the guest sends UDP into a sink in the namespace),\n"
	"host-to-guest (a generator in the namespace sends, the guest counts), and\n"
	"guest-to-guest over the built-in switch (a second pvkvm process receives);\n"
	"64- and 1514-byte frames. Modes: host (the ceiling), fv (NE2000 by polled\n"
	"PIO), fv-dma (e1000 descriptor rings, one doorbell per burst), sync (one\n"
	"hypercall per frame), pv (netif rings). Prints packets/s\n"
	"delivered, Mbit/s and exits per packet, a table with ratios, and one progress\n"
	"line per run on stderr. See docs/benchmarks.md.\n";

static int parse_opts(int argc, char **argv, struct bench_opts *o)
{
	int npos, r = cli_parse(argc, argv, net_options, o, net_usage, &npos);

	if (r)
		return r > 0 ? 1 : -1;
	if (bench_check_args(npos, argv, o->base.guest, sizeof(o->base.guest)))
		return -1;
	if (!o->base.time_ms)
		o->base.time_ms = o->base.quick ? 300 : 1000;
	if (!o->base.rounds)
		o->base.rounds = o->base.quick ? 1 : 3;
	o->base.warmup_ms = o->base.quick ? 100 : 200;
	return 0;
}

static int make_dirs(struct bench_opts *o)
{
	snprintf(o->switch_dir, sizeof(o->switch_dir), "/tmp/pvkvm-bench-net-XXXXXX");
	if (!mkdtemp(o->switch_dir)) {
		fprintf(stderr, "pvkvm: cannot create a switch directory: %s\n", strerror(errno));
		return -1;
	}
	setenv("PVKVM_SWITCH_DIR", o->switch_dir, 1);
	return bench_make_out_dirs(o->base.out);
}

static int report(const struct bench_opts *o, struct net_bench_report *rep)
{
	char path[PATH_MAX + 16];

	net_bench_print_table(rep, stdout);
	fflush(stdout);
	if (!o->base.out[0])
		return 0;
	snprintf(path, sizeof(path), "%s/net.json", o->base.out);
	if (bench_report_written("net", path, net_bench_write_json(rep, path)))
		return -1;
	net_bench_write_summary(rep, o->base.out);
	if (!o->base.no_plot && net_bench_plot(rep, o->base.out, o->base.plot_script) < 0)
		return -1;
	return 0;
}

static bool all_ok(const struct bench_opts *o, struct net_bench_result (*res)[NB_NR_MODES])
{
	for (unsigned int i = 0; i < NR_CASES; i++)
		for (int m = 0; m < NB_NR_MODES; m++)
			if (selected(o, i, m) && !res[i][m].ok)
				return false;
	return true;
}

int bench_net_main(int argc, char **argv)
{
	struct bench_opts *o = calloc(1, sizeof(*o));
	struct net_bench_result (*res)[NB_NR_MODES] = calloc(NR_CASES, sizeof(*res));
	int status = PVKVM_EXIT_VMM_ERROR;
	unsigned int n = 0, total = 0;

	if (!o || !res)
		goto out;
	o->ns.home_fd = o->ns.ns_fd = -1;
	int r = parse_opts(argc, argv, o);
	if (r) {
		status = r > 0 ? 0 : PVKVM_EXIT_USAGE;
		goto out;
	}
	bench_locate_plot_script(o->base.plot_script, sizeof(o->base.plot_script), "plot-net.gp");
	if (make_dirs(o) || nb_ns_setup(&o->ns))
		goto out;
	/* A guest that dies mid-run closes its pipe: not our death. */
	signal(SIGPIPE, SIG_IGN);
	for (unsigned int i = 0; i < NR_CASES; i++)
		for (int m = 0; m < NB_NR_MODES; m++)
			total += selected(o, i, m) * o->base.rounds;
	for (unsigned int i = 0; i < NR_CASES; i++)
		run_case(o, i, res[i], &n, total);
	nb_ns_teardown(&o->ns);
	struct net_bench_report rep = {
		.quick = o->base.quick, .time_ms = round_ms(o), .warmup_ms = o->base.warmup_ms,
		.rounds = o->base.rounds, .cases = cases, .nr_cases = NR_CASES, .res = res,
	};
	status = report(o, &rep) == 0 && all_ok(o, res) ? 0 : 1;
out:
	if (o) {
		nb_ns_teardown(&o->ns);
		if (o->switch_dir[0])
			rmdir(o->switch_dir);
	}
	free(o);
	free(res);
	return status;
}
