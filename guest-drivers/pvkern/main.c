// SPDX-License-Identifier: MIT
/*
 * Boot: check that we run on the hypervisor and ABI we were built for, set
 * up time, memory, events, grants and the store, then run the program the
 * command line names.
 */
#include "console.h"
#include "events.h"
#include "gnttab.h"
#include "hypercall.h"
#include "kernel.h"
#include "klib.h"
#include "mm.h"
#include "store.h"
#include "time.h"

#define MAX_ARGS 16
/* 8 pages of entries: enough for blkfront to keep several 1 MiB requests
 * (256 data grants + 1 indirect page each) in flight. */
#define GRANT_ENTRIES 4096
#define AP_STACK_PAGES 4

const struct pvkvm_start_info *start_info;

static const struct program programs[] = {
	{ "selftest", "exercise every hypercall and the test device", prog_selftest },
	{ "hostile", "bad arguments to every hypercall", prog_hostile },
	{ "hcbench", "[N] cycles per hypercall, evtchn send, pio, cpuid", prog_hcbench },
	{ "divzero", "divide by zero (the VMM reports #DE)", prog_divzero },
	{ "spin", "loop forever (for --timeout)", prog_spin },
	{ "crash", "[message] PVKVM_HC_CRASH", prog_crash },
	{ "blkverify", "[all|write S|check S|ro|range] [mode=..] disk data checks", prog_blkverify },
	{ "blkbench", "[rw=..] [bs=..] [qd=..] [time_ms=..] [mode=..] block I/O for a fixed time", prog_blkbench },
	{ "hostileblk", "CASE: a block frontend that misbehaves (tests/e2e/test_hostile_blk.c)", prog_hostile_blk },
	{ "hostilenet", "CASE: a network frontend that misbehaves (tests/e2e/test_hostile_net.c)", prog_hostile_net },
	{ "udpecho", "[ip=..] [port=N] [mode=..] UDP echo server; answers ARP and ping", prog_udpecho },
	{ "netverify", "peer=.. [count=N] datagrams echoed back intact", prog_netverify },
	{ "netbench", "dir=tx|rx [size=..] [time_ms=..] [peer=..] packets for a fixed time", prog_netbench },
};

/*
 * A CPL3 kernel knows its hypervisor from start-info and asks the rest by
 * hypercall, as Xen PV guests do: CPUID at CPL3 does not reach pvkvm on
 * every host (docs/abi.md, "Discovery").
 */
static void check_hypervisor(const struct pvkvm_start_info *si)
{
	int64_t ver;

	if (si->magic != PVKVM_START_INFO_MAGIC)
		panic("pvkern: not running on pvkvm (start-info magic %llx at %p)",
		      (unsigned long long)si->magic, (const void *)si);
	ver = hc0(PVKVM_HC_VERSION);
	if (ver < 0 || (uint64_t)ver >> 16 != PVKVM_ABI_VERSION_MAJOR)
		panic("pvkern: built for ABI %u.%u, the VMM speaks %llx",
		      PVKVM_ABI_VERSION_MAJOR, PVKVM_ABI_VERSION_MINOR,
		      (unsigned long long)ver);
}

static void check_start_info(const struct pvkvm_start_info *si)
{
	if (si->abi_version >> 16 != PVKVM_ABI_VERSION_MAJOR)
		panic("pvkern: start-info ABI %x, expected major %u",
		      si->abi_version, PVKVM_ABI_VERSION_MAJOR);
	if (si->hypercall_page_gpa != (uint64_t)hypercall_page)
		panic("pvkern: hypercall page at %llx, ours is %p",
		      (unsigned long long)si->hypercall_page_gpa,
		      (void *)hypercall_page);
}

static void init_services(const struct pvkvm_start_info *si)
{
	int r;

	r = time_init();
	if (r < 0)
		panic("pvkern: PVKVM_HC_TIME failed (%d)", r);
	mm_init(si->free_start, si->stack_base);
	evt_init((struct pvkvm_shared_info *)(uintptr_t)si->shared_info_gpa);
	store_init(si->store_evtchn);
	r = gnttab_init(GRANT_ENTRIES);
	if (r < 0)
		panic("pvkern: grant table setup failed (%d)", r);
}

/* Splits the command line (copied: start-info is read-only) on spaces. */
static int split_cmdline(const struct pvkvm_start_info *si, char *buf,
			 size_t size, char **argv)
{
	int argc = 0;
	char *p = buf;

	strlcpy(buf, si->cmdline, size);
	while (*p && argc < MAX_ARGS) {
		while (*p == ' ')
			*p++ = '\0';
		if (!*p)
			break;
		argv[argc++] = p;
		while (*p && *p != ' ')
			p++;
	}
	return argc;
}

static void print_programs(void)
{
	printf("programs (pvkvm run pvkern.elf -- PROGRAM [ARGS]):\n");
	for (size_t i = 0; i < ARRAY_SIZE(programs); i++)
		printf("  %-9s %s\n", programs[i].name, programs[i].help);
}

static const struct program *find_program(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(programs); i++)
		if (!strcmp(programs[i].name, name))
			return &programs[i];
	return NULL;
}

NORETURN void kernel_main(const struct pvkvm_start_info *si);

void kernel_main(const struct pvkvm_start_info *si)
{
	static char cmdline[PVKVM_CMDLINE_MAX];
	char *argv[MAX_ARGS];
	const struct program *prog;
	int argc;

	check_hypervisor(si);
	check_start_info(si);
	start_info = si;
	init_services(si);
	argc = split_cmdline(si, cmdline, sizeof(cmdline), argv);
	prog = argc ? find_program(argv[0]) : NULL;
	if (!prog) {
		printf("pvkern: %s%s\n", argc ? "unknown program " : "no program given",
		       argc ? argv[0] : "");
		print_programs();
		shutdown(2);
	}
	shutdown(prog->run(argc - 1, argv + 1));
}

/* --- secondary vCPUs ------------------------------------------------------ */

struct ap_start {
	ap_fn fn;
	void *arg;
};

extern char ap_entry[];
NORETURN void ap_main(struct ap_start *start);

void ap_main(struct ap_start *start)
{
	start->fn(start->arg);
	ap_park();
}

void ap_park(void)
{
	/* WAIT returns at once while anything is pending, and only vCPU 0
	 * consumes events; so sleep in slices and yield the core in between
	 * rather than spin on hypercalls. */
	for (;;) {
		if (hc1(PVKVM_HC_WAIT, now_ns() + 100 * NS_PER_MS) == 0)
			for (int i = 0; i < 100000; i++)
				cpu_relax();
	}
}

int vcpu_start(unsigned int cpu, ap_fn fn, void *arg)
{
	uint8_t *stack = page_alloc(AP_STACK_PAGES);
	struct ap_start *start = kmalloc(sizeof(*start));
	int64_t r;

	if (!stack || !start)
		return -PVKVM_ENOMEM;
	start->fn = fn;
	start->arg = arg;
	/* The top of the stack is 16-byte aligned, as at _start. */
	r = hc4(PVKVM_HC_VCPU_UP, cpu, ap_entry,
		stack + AP_STACK_PAGES * PAGE_SIZE, start);
	if (r < 0)
		page_free(stack, AP_STACK_PAGES);
	return (int)r;
}
