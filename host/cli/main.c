// SPDX-License-Identifier: MIT
/*
 * pvkvm's command line. Subcommands and their options are tables: adding
 * `--disk` or `bench blk` is adding a row, not another if.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/bench/bench.h"
#include "host/bench/bench_blk.h"
#include "host/bench/bench_all.h"
#include "host/bench/bench_meta.h"
#include "host/bench/bench_net.h"
#include "host/util/cli.h"
#include "host/block/disk_attach.h"
#include "host/net/net_attach.h"
#include "host/core/launch.h"
#include "host/core/vm.h"
#include "host/platform/platform.h"
#include "host/serve/serve.h"
#include "hypercall/pvkvm_abi.h"

#define PVKVM_VERSION_STRING "0.1"

/* --- pvkvm run ----------------------------------------------------------- */

static int opt_mem(void *st, const char *arg)
{
	struct launch *l = st;
	return cli_parse_size("--mem", arg, &l->mem_size);
}

static int opt_cpus(void *st, const char *arg)
{
	struct launch *l = st;
	uint64_t n;
	if (cli_parse_uint("--cpus", arg, 1, PVKVM_MAX_VCPUS, &n))
		return -1;
	l->nr_vcpus = (unsigned int)n;
	return 0;
}

static int opt_timeout(void *st, const char *arg)
{
	struct launch *l = st;
	uint64_t n;
	if (cli_parse_uint("--timeout", arg, 1, 1000000, &n))
		return -1;
	l->timeout_s = (unsigned int)n;
	return 0;
}

static int opt_stats(void *st, const char *arg)
{
	(void)arg;
	((struct launch *)st)->stats = true;
	return 0;
}

static int opt_stats_json(void *st, const char *arg)
{
	((struct launch *)st)->stats_json = arg;
	return 0;
}

static int opt_hide_cpuid(void *st, const char *arg)
{
	(void)arg;
	((struct launch *)st)->hide_cpuid = true;
	return 0;
}

/* --disk is repeatable: the set lives for the whole run, and is freed only
 * after the VM (its devices' counters are printed after they stop). */
static struct disk_set run_disks;

/* --net likewise. */
static struct net_set run_nets;

static int attach_disks(struct vm *vm, void *ctx)
{
	char err[512];
	(void)ctx;
	if (disk_set_attach(vm, &run_disks, err, sizeof(err)) == 0 &&
	    net_set_attach(vm, &run_nets, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "pvkvm: %s\n", err);
	return -1;
}

static int opt_net(void *st, const char *arg)
{
	struct launch *l = st;
	char err[512];
	if (net_set_add(&run_nets, arg, err, sizeof(err))) {
		fprintf(stderr, "pvkvm: %s\n", err);
		return -1;
	}
	l->attach = attach_disks;
	return 0;
}

static int opt_disk(void *st, const char *arg)
{
	struct launch *l = st;
	char err[512];
	if (disk_set_add(&run_disks, arg, err, sizeof(err))) {
		fprintf(stderr, "pvkvm: %s\n", err);
		return -1;
	}
	l->attach = attach_disks;
	l->ctx = &run_disks;
	return 0;
}

static const struct cli_option run_options[] = {
	{"mem", 'm', "SIZE", "guest RAM, bytes or with a K, M or G suffix (default 64M; rounded up to 2M)", opt_mem},
	{"cpus", 'c', "N", "vCPUs, 1 to 32 (default 1); vCPU 0 boots, the others wait for VCPU_UP", opt_cpus},
	{"timeout", 0, "SECONDS", "stop the guest after SECONDS and exit 124", opt_timeout},
	{"stats", 0, NULL, "print exit, hypercall and device counters to stderr at exit", opt_stats},
	{"stats-json", 0, "FILE", "write the same counters to FILE as JSON", opt_stats_json},
	{"hide-cpuid", 0, NULL, "withhold pvkvm's CPUID leaves (the guest reads KVM's own, as CPL3 does on hosts where CPUID at CPL3 never reaches this KVM) and clear the start-info CPUID flags; env PVKVM_HIDE_CPUID=1 does the same", opt_hide_cpuid},
	{"disk", 0, "PATH[,ro][,direct=on|off][,mode=M][,poll_us=N][,iops=N][,bw=N][,notify=always|suppress][,ring_pages=N][,batch=N][,data=map|copy]", "attach a raw disk image (repeatable): mode pv = blkif rings, fv = emulated ATA PIO, fv-dma = emulated ATA bus-master DMA, sync = one hypercall per I/O; poll_us (pv): the backend busy-polls this long before sleeping, yielding the CPU to any other task that wants it (default 1000, 0 = never); iops, bw (pv): rate limits, requests and bytes a second (k, m, g suffixes); notify (pv): answer notifications on every push or only when the guest asked (default suppress); ring_pages (pv): most ring pages offered, 1, 2, 4, 8 or 16 (default 16); batch (pv): requests taken per io_submit, 1..512 (default 1); data (pv): map = the I/O goes straight to and from the granted guest pages, copy = each segment is grant-copied through a private buffer (default map)", opt_disk},
	{"net", 0, "tap=T|switch=S[,mac=M][,mode=M][,queues=N]", "attach a NIC (repeatable) on TAP T or the built-in switch S (shared by the VMs of this process, and across processes through $PVKVM_SWITCH_DIR/pvkvm-switch-S.sock, default /tmp): mode pv = netif rings, fv = emulated NE2000 at 0x300, fv-dma = emulated e1000-style NIC (descriptor rings), sync = one hypercall per frame; queues (pv): 1-8", opt_net},
	{NULL, 0, NULL, NULL, NULL},
};

static const char run_usage[] =
	"usage: pvkvm run [options] GUEST.elf [-- guest arguments]\n"
	"\n"
	"Runs GUEST.elf, a pvkvm guest kernel, deprivileged at CPL3 on KVM. The\n"
	"guest arguments, joined by spaces, become its command line. pvkvm exits\n"
	"with the guest's shutdown status; 120 if the guest crashed, 121 if it\n"
	"stopped in a way it should not (triple fault, bad exit), 124 on\n"
	"--timeout, 128 + vector on a CPU fault, 1 if it could not start, 2 on a\n"
	"bad command line.\n";

/* Splits argv at the first "--": what follows is the guest's. */
static int split_guest_args(int argc, char **argv, int *guest_first)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			*guest_first = i + 1;
			return i;
		}
	*guest_first = argc;
	return argc;
}

static int cmd_run(int argc, char **argv)
{
	struct launch l = {.mem_size = 64ull << 20, .nr_vcpus = 1};
	int guest_first, npos;
	int own_argc = split_guest_args(argc, argv, &guest_first);
	int r = cli_parse(own_argc, argv, run_options, &l, run_usage, &npos);
	if (r)
		return r > 0 ? 0 : PVKVM_EXIT_USAGE;
	if (npos != 1) {
		fprintf(stderr, npos ? "pvkvm: unexpected argument '%s' (guest arguments go after --)\n"
				     : "pvkvm: run needs a GUEST.elf (try --help)\n", argv[2]);
		return PVKVM_EXIT_USAGE;
	}
	l.guest = argv[1];
	char *cmdline = cli_join(argc - guest_first, argv + guest_first);
	if (!cmdline)
		return PVKVM_EXIT_VMM_ERROR;
	l.cmdline = cmdline;
	int status = launch_guest(&l);
	disk_set_release(&run_disks);
	net_set_release(&run_nets);
	free(cmdline);
	return status;
}

/* --- pvkvm bench --------------------------------------------------------- */

struct subcommand {
	const char *name;
	int (*main)(int argc, char **argv); /* argv[0] is the name */
	const char *summary;
};

static const struct subcommand bench_commands[] = {
	{"hypercall", bench_hypercall_main, "hypercall vs plain exit vs ioeventfd notify, in guest cycles"},
	{"blk", bench_blk_main, "block I/O: fv vs sync vs pv vs the host directly (IOPS, MB/s, exits/request)"},
	{"net", bench_net_main, "network: fv vs sync vs pv vs the host on the same TAP (pps, Mbit/s, exits/packet)"},
	{"linux", serve_bench_linux_main, "a Linux guest under QEMU: pvblk vs virtio-blk vs IDE, pvnet vs virtio-net vs e1000"},
	{"ring", bench_ring_main, "the shared rings alone: round trips per second, notifications per message"},
	{NULL, NULL, NULL},
};

static void list_subcommands(FILE *f, const struct subcommand *c)
{
	for (; c->name; c++)
		fprintf(f, "  %-12s %s\n", c->name, c->summary);
}

static int dispatch(const struct subcommand *cmds, int argc, char **argv,
		    const char *what)
{
	for (const struct subcommand *c = cmds; c->name; c++)
		if (strcmp(c->name, argv[0]) == 0)
			return c->main(argc, argv);
	fprintf(stderr, "pvkvm: unknown %s '%s' (try pvkvm --help)\n", what, argv[0]);
	return PVKVM_EXIT_USAGE;
}

static bool bench_exists(const char *name)
{
	for (const struct subcommand *c = bench_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return true;
	return false;
}

static bool asks_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

static int cmd_bench(int argc, char **argv)
{
	/* scripts/bench.sh asks which benchmarks exist: one name per line. */
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (const struct subcommand *c = bench_commands; c->name; c++)
			printf("%s\n", c->name);
		return 0;
	}
	if (!asks_help(argc, argv))
		bench_meta_warn_if_busy(stderr, "pvkvm bench");
	/* No benchmark named: the whole matrix (options only). */
	if (argc < 2 || argv[1][0] == '-') {
		int r = bench_all_main(argc, argv, bench_exists);
		if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
			printf("\nbenchmarks (pvkvm bench BENCHMARK --help):\n");
			list_subcommands(stdout, bench_commands);
		}
		return r;
	}
	return dispatch(bench_commands, argc - 1, argv + 1, "benchmark");
}

/* --- pvkvm --------------------------------------------------------------- */

static const struct subcommand commands[] = {
	{"run", cmd_run, "run a guest kernel (pvkvm run --help)"},
	{"bench", cmd_bench, "measure (pvkvm bench --help)"},
	{"platform", platform_main, "measure and print the host's facts (pvkvm platform --help)"},
	{"serve", serve_main, "serve PV devices to a Linux guest under QEMU, via ivshmem (pvkvm serve --help)"},
	{NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: pvkvm COMMAND [options]\n"
		   "       pvkvm GUEST.elf [options] [-- guest arguments]   (same as run)\n"
		   "\nXen-style paravirtualization on KVM.\n\ncommands:\n");
	list_subcommands(f, commands);
	fprintf(f, "\n  -h, --help     show this help\n  -V, --version  show the version\n");
}

int main(int argc, char **argv)
{
	bench_meta_set_argv(argc, argv); /* every results JSON names its command */
	if (argc < 2) {
		usage(stderr);
		return PVKVM_EXIT_USAGE;
	}
	const char *a = argv[1];
	if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
		printf("pvkvm %s (guest ABI %u.%u)\n", PVKVM_VERSION_STRING,
		       PVKVM_ABI_VERSION_MAJOR, PVKVM_ABI_VERSION_MINOR);
		return 0;
	}
	for (const struct subcommand *c = commands; c->name; c++)
		if (strcmp(c->name, a) == 0)
			return c->main(argc - 1, argv + 1);
	if (a[0] != '-' && strstr(a, ".elf"))
		return cmd_run(argc, argv); /* pvkvm GUEST.elf ... */
	fprintf(stderr, "pvkvm: unknown command '%s' (try pvkvm --help)\n", a);
	return PVKVM_EXIT_USAGE;
}
