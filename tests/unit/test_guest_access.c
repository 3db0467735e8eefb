// SPDX-License-Identifier: MIT
/*
 * Issue 8, hole 1: no hypercall reads or writes a page the guest could not
 * touch itself. The guest memory here is laid out by the real CPL3 builder
 * (cpl3_build_tables), and every hypercall that takes a buffer is aimed at
 * every page the VMM keeps for itself (page tables, GDT, IDT, fault stubs,
 * TSS, the page-table pool, page 0) and, for the writers, at the read-only
 * start-info and a write-protected text page. Each must return -EFAULT and
 * leave the page exactly as it was (checksummed). The VM is a real KVM VM
 * fd (the event channels need it) with no vCPU: the test thread is the
 * guest, as in test_testpeer.c.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <urcu.h>

#include "host/block/blk_image.h"
#include "host/block/blk_sync.h"
#include "host/core/hc_core.h"
#include "host/core/hcall.h"
#include "host/core/vm.h"
#include "host/mem/guest_mem.h"
#include "host/services/evtchn.h"
#include "host/services/grant.h"
#include "host/services/store.h"
#include "host/x86/x86_cpl3.h"
#include "hypercall/pvkvm_blkif.h"

#define MEM (4u << 20)
#define TEXT_PAGE 0x200000ull /* made r-x as the loader does for text */
#define STR_AREA 0x300000ull
#define BUF_AREA 0x310000ull

#include "tests/unit/hc_vm.h"

static struct vcpu cpu;

/* ---- the accessor on its own ------------------------------------------------ */

Test(gmem_access, rules)
{
	struct guest_mem m;
	cr_assert_eq(gmem_create(&m, 2u << 20), 0);
	cr_expect(gmem_guest_ok(&m, 0, 4096, GMEM_RW), "fresh RAM is the guest's");
	cr_assert_eq(gmem_set_access(&m, 0x1000, 0x2000, GMEM_NONE), 0);
	cr_assert_eq(gmem_set_access(&m, 0x5000, 1, GMEM_READ), 0);
	cr_expect(!gmem_guest_ok(&m, 0x1000, 1, GMEM_READ));
	cr_expect(!gmem_guest_ok(&m, 0x2fff, 1, GMEM_READ));
	cr_expect(gmem_guest_ok(&m, 0x3000, 1, GMEM_READ), "rounded to pages, no more");
	cr_expect(!gmem_guest_ok(&m, 0x0ff0, 0x20, GMEM_READ), "a range that only ends on one");
	cr_expect(gmem_guest_ok(&m, 0x5000, 4096, GMEM_READ));
	cr_expect(!gmem_guest_ok(&m, 0x5000, 4096, GMEM_WRITE), "read-only");
	cr_expect(!gmem_guest_ok(&m, 0x4ff8, 16, GMEM_WRITE), "straddling into read-only");
	cr_expect(gmem_guest_ok(&m, 0x1000, 0, GMEM_WRITE), "len 0 touches nothing");
	cr_expect(!gmem_guest_ok(&m, m.size - 8, 16, GMEM_READ), "past RAM");
	cr_expect(!gmem_guest_ok(&m, ~0ull - 7, 16, GMEM_READ), "wrapping 2^64");
	uint8_t b[8];
	cr_expect_eq(gmem_guest_read(&m, 0x1000, b, 8), -EFAULT);
	cr_expect_eq(gmem_guest_write(&m, 0x5000, b, 8), -EFAULT);
	cr_expect_eq(gmem_guest_read(&m, 0x5000, b, 8), 0);
	cr_expect_eq(gmem_ptr(&m, 0x1000, 8), m.host_base + 0x1000, "the VMM's own access");
	gmem_destroy(&m);
}

Test(gmem_access, cpl3_layout)
{
	struct guest_mem m;
	cr_assert_eq(gmem_create(&m, MEM), 0);
	cr_assert_eq(cpl3_build_tables(&m, 2), 0);
	cr_expect_eq(gmem_page_access(&m, 0), GMEM_NONE);
	cr_expect_eq(gmem_page_access(&m, CPL3_GPA_PML4), GMEM_NONE);
	cr_expect_eq(gmem_page_access(&m, CPL3_GPA_GDT), GMEM_NONE);
	cr_expect_eq(gmem_page_access(&m, PVKVM_GPA_START_INFO), GMEM_READ);
	cr_expect_eq(gmem_page_access(&m, PVKVM_GPA_SHARED_INFO), GMEM_RW,
		     "shared-info is the guest's to write, by design");
	cr_expect_eq(gmem_page_access(&m, PVKVM_GUEST_LOAD_MIN - 1), GMEM_NONE);
	cr_expect_eq(gmem_page_access(&m, PVKVM_GUEST_LOAD_MIN), GMEM_RWX);
	gmem_destroy(&m);
}

/* ---- a VM without vCPUs ------------------------------------------------------ */

static void setup(void)
{
	hc_vm_setup(MEM);
	atomic_init(&vm.state, VM_RUNNING);
	cr_assert_eq(cpl3_build_tables(&vm.mem, 1), 0);
	cr_assert_eq(gmem_set_access(&vm.mem, TEXT_PAGE, PVKVM_PAGE_SIZE, GMEM_RX), 0);
	vm.start_info = gmem_ptr(&vm.mem, PVKVM_GPA_START_INFO, PVKVM_PAGE_SIZE);
	cr_assert_eq(hc_core_register(&vm), 0);
	cpu.vm = &vm;
	cpu.fd = -1;
	rcu_register_thread();
}

static void teardown(void)
{
	hc_vm_teardown();
}

TestSuite(hc_buffers, .init = setup, .fini = teardown, .timeout = 60);

static int64_t hc(unsigned int nr, uint64_t a0, uint64_t a1, uint64_t a2,
		  uint64_t a3)
{
	return hc_vm_call(&cpu, nr, a0, a1, a2, a3);
}

/* Every page below 1 MiB the VMM keeps for itself, and what it holds. */
static const struct {
	uint64_t gpa;
	const char *what;
} supervisor[] = {
	{ 0, "page 0" },
	{ CPL3_GPA_PML4, "PML4" },
	{ CPL3_GPA_PDPT, "PDPT" },
	{ CPL3_GPA_PT_LOW, "the page table of the low 2 MiB" },
	{ CPL3_GPA_PD, "page directory" },
	{ CPL3_GPA_GDT, "GDT" },
	{ CPL3_GPA_IDT, "IDT" },
	{ CPL3_GPA_FAULT_STUBS, "fault stubs" },
	{ CPL3_GPA_VCPU_AREA, "vCPU 0's TSS" },
	{ CPL3_GPA_VCPU_AREA + CPL3_VCPU_STRIDE - 64, "vCPU 0's fault stack" },
	{ CPL3_GPA_PT_POOL, "page-table pool" },
	{ PVKVM_GUEST_LOAD_MIN - PVKVM_PAGE_SIZE, "the last page below 1 MiB" },
};
#define NR_SUPERVISOR (sizeof(supervisor) / sizeof(supervisor[0]))

/* Targets a writer must not write: the supervisor pages, the read-only
 * start-info and a write-protected text page. */
static unsigned int write_targets(uint64_t *out, const char **what)
{
	unsigned int n = 0;
	for (unsigned int i = 0; i < NR_SUPERVISOR; i++) {
		what[n] = supervisor[i].what;
		out[n++] = supervisor[i].gpa;
	}
	what[n] = "start-info";
	out[n++] = PVKVM_GPA_START_INFO;
	what[n] = "write-protected text";
	out[n++] = TEXT_PAGE;
	return n;
}

static uint64_t checksum_low(void)
{
	/* FNV-1a over the first MiB and the text page */
	uint64_t h = 1469598103934665603ull;
	const uint8_t *p = gmem_ptr(&vm.mem, 0, PVKVM_GUEST_LOAD_MIN);
	for (uint64_t i = 0; i < PVKVM_GUEST_LOAD_MIN; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	p = gmem_ptr(&vm.mem, TEXT_PAGE, PVKVM_PAGE_SIZE);
	for (uint64_t i = 0; i < PVKVM_PAGE_SIZE; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* A PTE-looking value with the user bit set: what the confirmed exploit
 * wrote over the IDT's page-table entry. */
static const char pte_value[8] = { 0x07, 0x30, 0x01, 0, 0, 0, 0, 0 };

Test(hc_buffers, writers_never_write_a_page_the_guest_cannot)
{
	uint64_t gpa[NR_SUPERVISOR + 2];
	const char *what[NR_SUPERVISOR + 2];
	unsigned int n = write_targets(gpa, what);
	cr_assert_eq(hc(PVKVM_HC_STORE_WRITE, gstr("data/pte"), 8, gstr("x"), 1), 0);
	cr_assert_eq(hc(PVKVM_HC_STORE_WRITE, gstr("data/pte"), 8,
			gstr(pte_value), sizeof(pte_value)), 0);
	cr_assert_eq(hc(PVKVM_HC_STORE_WRITE, gstr("data/pte/child"), 14, gstr("y"), 1), 0);
	uint64_t before = checksum_low();
	for (unsigned int i = 0; i < n; i++) {
		/* an offset inside the page as well as its start */
		for (uint64_t off = 0; off < PVKVM_PAGE_SIZE; off += 0x7f8) {
			uint64_t g = gpa[i] + off;
			cr_expect_eq(hc(PVKVM_HC_STORE_READ, gstr("data/pte"), 8, g, 8),
				     -PVKVM_EFAULT, "STORE_READ onto %s", what[i]);
			cr_expect_eq(hc(PVKVM_HC_STORE_LIST, gstr("data/pte"), 8, g, 64),
				     -PVKVM_EFAULT, "STORE_LIST onto %s", what[i]);
			cr_expect_eq(hc(PVKVM_HC_TIME, g, 0, 0, 0), -PVKVM_EFAULT,
				     "TIME onto %s", what[i]);
			cr_expect_eq(hc(PVKVM_HC_GNTTAB_SETUP, gpa[i] & ~0xfffull, 8, 0, 0),
				     -PVKVM_EFAULT, "GNTTAB_SETUP onto %s", what[i]);
		}
		/* a buffer that starts in guest memory and ends in this page */
		if (gpa[i] >= PVKVM_PAGE_SIZE && gmem_page_access(&vm.mem, gpa[i] - 1) & GMEM_WRITE)
			cr_expect_eq(hc(PVKVM_HC_STORE_READ, gstr("data/pte"), 8,
					gpa[i] - 4, 8), -PVKVM_EFAULT,
				     "STORE_READ straddling into %s", what[i]);
	}
	cr_expect_eq(checksum_low(), before, "a protected page changed");
}

Test(hc_buffers, watch_event_is_not_written_to_a_protected_page)
{
	uint64_t gpa[NR_SUPERVISOR + 2];
	const char *what[NR_SUPERVISOR + 2];
	unsigned int n = write_targets(gpa, what);
	cr_assert_eq(hc(PVKVM_HC_STORE_WATCH, gstr("data/w"), 6, 42, 0), 0);
	uint64_t before = checksum_low();
	for (unsigned int i = 0; i < n; i++)
		cr_expect_eq(hc(PVKVM_HC_STORE_WATCH_EVENT, gpa[i], 0, 0, 0),
			     -PVKVM_EFAULT, "STORE_WATCH_EVENT onto %s", what[i]);
	cr_expect_eq(checksum_low(), before, "a protected page changed");
	/* the event was not lost by the refusals */
	cr_assert_eq(hc(PVKVM_HC_STORE_WATCH_EVENT, BUF_AREA, 0, 0, 0), 1);
	struct pvkvm_watch_event *e = gmem_ptr(&vm.mem, BUF_AREA, sizeof(*e));
	cr_expect_eq(e->token, 42);
	cr_expect_eq(e->path_len, 6);
	cr_expect_str_eq(e->path, "data/w");
}

/* The readers must not read what the guest cannot: the VMM's pages would
 * otherwise leak into the store, the console or the crash line. */
Test(hc_buffers, readers_never_read_a_page_the_guest_cannot)
{
	memcpy(gmem_ptr(&vm.mem, CPL3_GPA_GDT, 8), "GDTBYTES", 8);
	for (unsigned int i = 0; i < NR_SUPERVISOR; i++) {
		uint64_t g = supervisor[i].gpa;
		const char *w = supervisor[i].what;
		cr_expect_eq(hc(PVKVM_HC_CONSOLE_WRITE, g, 16, 0, 0), -PVKVM_EFAULT,
			     "CONSOLE_WRITE from %s", w);
		cr_expect_eq(hc(PVKVM_HC_STORE_WRITE, gstr("data/v"), 6, g, 16),
			     -PVKVM_EFAULT, "STORE_WRITE value from %s", w);
		cr_expect_eq(hc(PVKVM_HC_STORE_WRITE, g, 6, gstr("v"), 1),
			     -PVKVM_EFAULT, "STORE_WRITE path from %s", w);
		cr_expect_eq(hc(PVKVM_HC_STORE_READ, g, 6, BUF_AREA, 16),
			     -PVKVM_EFAULT, "STORE_READ path from %s", w);
		cr_expect_eq(hc(PVKVM_HC_STORE_LIST, g, 6, BUF_AREA, 16),
			     -PVKVM_EFAULT, "STORE_LIST path from %s", w);
		cr_expect_eq(hc(PVKVM_HC_STORE_WATCH, g, 6, 1, 0),
			     -PVKVM_EFAULT, "STORE_WATCH path from %s", w);
		cr_expect_eq(hc(PVKVM_HC_STORE_UNWATCH, g, 6, 1, 0),
			     -PVKVM_EFAULT, "STORE_UNWATCH path from %s", w);
		cr_expect_eq(hc(PVKVM_HC_STORE_REMOVE, g, 6, 0, 0),
			     -PVKVM_EFAULT, "STORE_REMOVE path from %s", w);
	}
	char buf[64];
	cr_expect_eq(store_read(vm.store, "data/v", buf, sizeof(buf)), -PVKVM_ENOENT,
		     "nothing was stored");
	/* start-info is the guest's to read: these are allowed */
	cr_expect_eq(hc(PVKVM_HC_STORE_WRITE, gstr("data/si"), 7,
			PVKVM_GPA_START_INFO, 8), 0);
}

Test(hc_buffers, crash_does_not_print_a_protected_page)
{
	memcpy(gmem_ptr(&vm.mem, CPL3_GPA_GDT, 8), "GDTBYTES", 8);
	hc(PVKVM_HC_CRASH, CPL3_GPA_GDT, 8, 0, 0);
	cr_expect_eq(atomic_load(&vm.state), VM_CRASHED);
	cr_expect(strstr(vm.stop_msg, "GDTBYTES") == NULL, "leaked: %s", vm.stop_msg);
	cr_expect(strstr(vm.stop_msg, "not guest-readable") != NULL, "%s", vm.stop_msg);
}

Test(hc_buffers, blk_sync_never_touches_a_protected_page)
{
	char path[] = "/tmp/pvkvm-gaccess-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	static uint8_t disk[64 * 512];
	memset(disk, 0xa5, sizeof(disk));
	cr_assert_eq(write(fd, disk, sizeof(disk)), (ssize_t)sizeof(disk));
	close(fd);
	struct blk_image img;
	cr_assert_eq(blk_image_open(&img, path, false, false), 0);
	struct blk_sync bs;
	blk_sync_init(&bs, &img);
	uint64_t gpa[NR_SUPERVISOR + 2];
	const char *what[NR_SUPERVISOR + 2];
	unsigned int n = write_targets(gpa, what);
	uint64_t before = checksum_low();
	for (unsigned int i = 0; i < n; i++) {
		uint64_t rd[HCALL_NARGS] = { PVKVM_BLK_SYNC_READ, 0, gpa[i], 1, 0 };
		uint64_t info[HCALL_NARGS] = { PVKVM_BLK_SYNC_INFO, 0, gpa[i], 0, 0 };
		cr_expect_eq(blk_sync_call(&bs, &vm.mem, rd), -PVKVM_EFAULT, "disk read onto %s", what[i]);
		cr_expect_eq(blk_sync_call(&bs, &vm.mem, info), -PVKVM_EFAULT, "INFO onto %s", what[i]);
	}
	for (unsigned int i = 0; i < NR_SUPERVISOR; i++) {
		uint64_t wr[HCALL_NARGS] = { PVKVM_BLK_SYNC_WRITE, 1, supervisor[i].gpa, 1, 0 };
		cr_expect_eq(blk_sync_call(&bs, &vm.mem, wr), -PVKVM_EFAULT,
			     "disk write from %s", supervisor[i].what);
	}
	cr_expect_eq(checksum_low(), before, "a protected page changed");
	blk_image_close(&img);
	unlink(path);
}

/* ---- CONSOLE_WRITE reaches the operator's terminal as text ------------------ */

static char captured[256];
static size_t captured_len;

static void capture(void *ctx, const char *buf, size_t len)
{
	(void)ctx;
	if (len > sizeof(captured))
		len = sizeof(captured);
	memcpy(captured, buf, len);
	captured_len = len;
}

Test(hc_buffers, console_write_neutralises_escape_sequences)
{
	/* an OSC title change, a CSI clear-screen, a bell, a DEL, a UTF-8
	 * C1 CSI (0xc2 0x9b) and plain text with its newline and tab */
	static const char in[] = "\x1b]0;pwned\x07\x1b[2Jok\tline\r\n\x7f\xc2\x9bX";
	static const char out[] = "?]0;pwned??[2Jok\tline\r\n???X";
	vm.cfg.console = capture;
	uint64_t g = gstr(in);
	cr_assert_eq(hc(PVKVM_HC_CONSOLE_WRITE, g, sizeof(in) - 1, 0, 0),
		     (int64_t)(sizeof(in) - 1), "the guest's count is kept");
	cr_assert_eq(captured_len, sizeof(out) - 1);
	cr_assert_eq(memcmp(captured, out, captured_len), 0, "got '%.*s'",
		     (int)captured_len, captured);
	cr_assert_eq(memcmp(gmem_ptr(&vm.mem, g, 4), "\x1b]0;", 4), 0,
		     "the guest's buffer is left alone");
}

/* ---- WAIT's deadline is absolute (docs/abi.md section 3) -------------------- */

Test(hc_buffers, wait_deadline_is_absolute)
{
	/* 50 ms as a timeout would block; as a time on CLOCK_MONOTONIC it is
	 * long past (the host has been up longer than that) */
	uint64_t t0 = vm_now_ns();
	cr_assert_gt(t0, 1000000000ull, "uptime under a second?");
	cr_assert_eq(hc(PVKVM_HC_WAIT, 50000000ull, 0, 0, 0), -PVKVM_ETIMEDOUT);
	cr_expect_lt(vm_now_ns() - t0, 20000000ull, "a past deadline returns at once");
	/* now + 30 ms waits until then */
	t0 = vm_now_ns();
	cr_assert_eq(hc(PVKVM_HC_WAIT, t0 + 30000000ull, 0, 0, 0), -PVKVM_ETIMEDOUT);
	cr_expect_geq(vm_now_ns() - t0, 30000000ull, "returned before its deadline");
}
