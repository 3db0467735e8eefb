// SPDX-License-Identifier: MIT
/*
 * hostile: bad arguments to every hypercall. Each must come back as an error
 * (and the VMM must stay up to answer the next one). A guest is the VMM's
 * adversary: this is the cheapest place to prove its argument checks.
 */
#include "console.h"
#include "events.h"
#include "gnttab.h"
#include "hypercall.h"
#include "kernel.h"
#include "klib.h"
#include "mm.h"
#include "store.h"
#include "tap.h"
#include "testdev.h"
#include "time.h"

#define EXPECT_ERR(expr, name)                                                \
	do {                                                                  \
		int64_t r_ = (expr);                                          \
		tap_check(&T, r_ < 0 && hc0(PVKVM_HC_NULL) == 0, (name),      \
			  "returned %lld", (long long)r_);                    \
	} while (0)

static struct tap T;
static uint64_t ram_end;      /* first gpa past RAM */
static const uint64_t wrap = ~0ull - 15; /* gpa + len wraps past 2^64 */

static void hostile_console(char *buf)
{
	EXPECT_ERR(hc2(PVKVM_HC_CONSOLE_WRITE, ram_end, 8), "CONSOLE_WRITE gpa beyond RAM");
	EXPECT_ERR(hc2(PVKVM_HC_CONSOLE_WRITE, ram_end - 4, 8),
		   "CONSOLE_WRITE range straddling the end of RAM");
	EXPECT_ERR(hc2(PVKVM_HC_CONSOLE_WRITE, wrap, 64), "CONSOLE_WRITE gpa+len overflows");
	EXPECT_ERR(hc2(PVKVM_HC_CONSOLE_WRITE, buf, 1ull << 40), "CONSOLE_WRITE huge length");
	EXPECT_ERR(hc2(PVKVM_HC_CONSOLE_WRITE, buf, PVKVM_CONSOLE_WRITE_MAX + 1),
		   "CONSOLE_WRITE length above the maximum");
}

static void hostile_time_wait(void)
{
	EXPECT_ERR(hc1(PVKVM_HC_TIME, ram_end), "TIME gpa beyond RAM");
	EXPECT_ERR(hc1(PVKVM_HC_TIME, ram_end - 8), "TIME struct straddling the end of RAM");
	EXPECT_ERR(hc1(PVKVM_HC_TIME, wrap + 8), "TIME gpa wrapping 2^64");
	/* Not an error, but it must not block: a deadline long past. WAIT
	 * would return 0 for a pending port, so park those first. */
	evt_stash_pending(0);
	EXPECT_ERR(hc1(PVKVM_HC_WAIT, 1), "WAIT with a deadline in the distant past");
}

static void hostile_vcpu(void)
{
	EXPECT_ERR(hc4(PVKVM_HC_VCPU_UP, 0, 0x200000, 0x300000, 0), "VCPU_UP of the running vCPU 0");
	EXPECT_ERR(hc4(PVKVM_HC_VCPU_UP, PVKVM_MAX_VCPUS, 0x200000, 0x300000, 0),
		   "VCPU_UP of cpu 32");
	EXPECT_ERR(hc4(PVKVM_HC_VCPU_UP, ~0ull, 0x200000, 0x300000, 0), "VCPU_UP of cpu 2^64-1");
	EXPECT_ERR(hc4(PVKVM_HC_VCPU_UP, start_info->nr_vcpus, 0x200000, 0x300000, 0),
		   "VCPU_UP of cpu nr_vcpus");
}

static void hostile_evtchn(void)
{
	EXPECT_ERR(hc1(PVKVM_HC_EVTCHN_BIND_VIRQ, PVKVM_VIRQ_COUNT), "BIND_VIRQ unknown virq");
	EXPECT_ERR(hc1(PVKVM_HC_EVTCHN_BIND_VIRQ, 1ull << 40), "BIND_VIRQ huge virq");
	EXPECT_ERR(hc1(PVKVM_HC_EVTCHN_CLOSE, 0), "EVTCHN_CLOSE port 0");
	EXPECT_ERR(hc1(PVKVM_HC_EVTCHN_CLOSE, PVKVM_EVTCHN_MAX), "EVTCHN_CLOSE port 1024");
	EXPECT_ERR(hc1(PVKVM_HC_EVTCHN_CLOSE, ~0ull), "EVTCHN_CLOSE port 2^64-1");
	EXPECT_ERR(hc1(PVKVM_HC_EVTCHN_CLOSE, PVKVM_EVTCHN_MAX - 1),
		   "EVTCHN_CLOSE of a port never allocated");
	/* Sends return nothing: the VMM just has to survive them. */
	evtchn_send(0);
	evtchn_send(PVKVM_EVTCHN_MAX);
	evtchn_send(0xffffffffu);
	tap_check(&T, hc0(PVKVM_HC_NULL) == 0, "EVTCHN_SEND to ports 0, 1024, 2^32-1",
		  "VMM misbehaved");
}

static void hostile_gnttab(void)
{
	uint64_t page = (uint64_t)(uintptr_t)page_alloc(1);

	EXPECT_ERR(hc2(PVKVM_HC_GNTTAB_SETUP, page + 8, 4), "GNTTAB_SETUP unaligned table");
	EXPECT_ERR(hc2(PVKVM_HC_GNTTAB_SETUP, ram_end, 4), "GNTTAB_SETUP table beyond RAM");
	EXPECT_ERR(hc2(PVKVM_HC_GNTTAB_SETUP, ram_end - PAGE_SIZE, 1024),
		   "GNTTAB_SETUP table running past RAM");
	EXPECT_ERR(hc2(PVKVM_HC_GNTTAB_SETUP, ~0ull & ~0xfffull, 2), "GNTTAB_SETUP gpa wrapping 2^64");
	EXPECT_ERR(hc2(PVKVM_HC_GNTTAB_SETUP, page, PVKVM_GRANT_MAX_ENTRIES + 1),
		   "GNTTAB_SETUP too many entries");
	EXPECT_ERR(hc2(PVKVM_HC_GNTTAB_SETUP, page, 1ull << 40), "GNTTAB_SETUP 2^40 entries");
}

static void hostile_store_paths(char *buf)
{
	static const char nul_path[] = "data/a\0b";
	static char long_path[PVKVM_STORE_PATH_MAX + 8];

	memset(long_path, 'a', sizeof(long_path));
	EXPECT_ERR(hc4(PVKVM_HC_STORE_READ, ram_end, 4, buf, 64), "STORE_READ path beyond RAM");
	EXPECT_ERR(hc4(PVKVM_HC_STORE_READ, wrap, 64, buf, 64), "STORE_READ path wrapping 2^64");
	EXPECT_ERR(hc4(PVKVM_HC_STORE_READ, "data", 1ull << 40, buf, 64), "STORE_READ huge path length");
	EXPECT_ERR(hc4(PVKVM_HC_STORE_READ, nul_path, sizeof(nul_path) - 1, buf, 64),
		   "STORE_READ path with a NUL");
	EXPECT_ERR(hc4(PVKVM_HC_STORE_WRITE, nul_path, sizeof(nul_path) - 1, "v", 1),
		   "STORE_WRITE path with a NUL");
	EXPECT_ERR(hc4(PVKVM_HC_STORE_WRITE, long_path, sizeof(long_path), "v", 1),
		   "STORE_WRITE path longer than 256");
	EXPECT_ERR(hc4(PVKVM_HC_STORE_WRITE, long_path, PVKVM_STORE_PATH_MAX, "v", 1),
		   "STORE_WRITE path of 256 bytes (no room for a NUL)");
	EXPECT_ERR(hc4(PVKVM_HC_STORE_WRITE, "data//x", 7, "v", 1), "STORE_WRITE empty component");
	EXPECT_ERR(hc4(PVKVM_HC_STORE_WRITE, "", 0, "v", 1), "STORE_WRITE empty path");
	EXPECT_ERR(hc2(PVKVM_HC_STORE_REMOVE, nul_path, sizeof(nul_path) - 1),
		   "STORE_REMOVE path with a NUL");
	EXPECT_ERR(hc2(PVKVM_HC_STORE_REMOVE, "backend", 7), "STORE_REMOVE of backend/");
	EXPECT_ERR(hc3(PVKVM_HC_STORE_WATCH, long_path, sizeof(long_path), 1),
		   "STORE_WATCH path longer than 256");
	EXPECT_ERR(hc3(PVKVM_HC_STORE_WATCH, ram_end, 8, 1), "STORE_WATCH path beyond RAM");
}

static void hostile_store_values(char *buf)
{
	store_write("data/hostile", "value");
	EXPECT_ERR(hc4(PVKVM_HC_STORE_READ, "data/hostile", 12, ram_end, 64),
		   "STORE_READ buffer beyond RAM");
	EXPECT_ERR(hc4(PVKVM_HC_STORE_READ, "data/hostile", 12, wrap, 64),
		   "STORE_READ buffer wrapping 2^64");
	EXPECT_ERR(hc4(PVKVM_HC_STORE_WRITE, "data/hostile", 12, buf, PVKVM_STORE_VALUE_MAX + 1),
		   "STORE_WRITE value longer than 4096");
	EXPECT_ERR(hc4(PVKVM_HC_STORE_WRITE, "data/hostile", 12, ram_end - 2, 8),
		   "STORE_WRITE value straddling the end of RAM");
	EXPECT_ERR(hc4(PVKVM_HC_STORE_WRITE, "data/hostile", 12, buf, 1ull << 40),
		   "STORE_WRITE huge value length");
	EXPECT_ERR(hc4(PVKVM_HC_STORE_LIST, "data", 4, ram_end, 64), "STORE_LIST buffer beyond RAM");
	EXPECT_ERR(hc4(PVKVM_HC_STORE_WRITE, "backend/x", 9, "v", 1), "STORE_WRITE under backend/");
	EXPECT_ERR(hc3(PVKVM_HC_STORE_UNWATCH, "data/never-watched", 18, 77),
		   "STORE_UNWATCH of a watch never set");
	store_remove("data/hostile");
}

/* WATCH_EVENT may only be judged with an event queued: on an empty queue it
 * has nothing to write and may rightly return 0. */
static void hostile_watch_event(void)
{
	struct pvkvm_watch_event ev;

	while (store_next_event(&ev) == 1)
		;
	store_watch("data/hostile-w", 9); /* fires once now: queues an event */
	EXPECT_ERR(hc1(PVKVM_HC_STORE_WATCH_EVENT, ram_end), "STORE_WATCH_EVENT buffer beyond RAM");
	EXPECT_ERR(hc1(PVKVM_HC_STORE_WATCH_EVENT, ram_end - 100),
		   "STORE_WATCH_EVENT buffer straddling the end of RAM");
	EXPECT_ERR(hc1(PVKVM_HC_STORE_WATCH_EVENT, wrap), "STORE_WATCH_EVENT buffer wrapping 2^64");
	store_unwatch("data/hostile-w", 9);
	while (store_next_event(&ev) == 1)
		;
}

static void hostile_unknown(void)
{
	EXPECT_ERR(hc0(PVKVM_HC_COUNT), "hypercall number past the table");
	EXPECT_ERR(hc0(PVKVM_HYPERCALL_MAX - 1), "last stub of the page");
	EXPECT_ERR(hc0(PVKVM_HC_BLK_SYNC), "BLK_SYNC with no disk in sync mode");
}

/* Grants of frames that are not the guest's to give: the VMM's own pages
 * below PVKVM_GUEST_LOAD_MIN and frames past the end of RAM refuse both
 * directions; the read-only start-info and the write-protected text refuse
 * a write but may be read (the guest reads them itself). */
static void grant_frame_check(struct testdev *td, uint64_t frame, bool may_read,
			      const char *what)
{
	struct testdev_reply rep;
	char name[96];
	int ref = gnttab_grant(frame, false);
	int r = ref > 0 ? testdev_cmd(td, PVKVM_TESTIF_WRITE_GRANT, (uint64_t)ref,
				      &rep, 2 * NS_PER_SEC) : ref;

	snprintf(name, sizeof(name), "WRITE_GRANT of frame 0x%llx (%s) is refused",
		 (unsigned long long)frame, what);
	tap_check(&T, r == 0 && rep.status < 0, name, "r %d status %d", r,
		  r == 0 ? rep.status : 0);
	if (ref > 0)
		gnttab_end_access((uint32_t)ref);
	ref = gnttab_grant(frame, true);
	r = ref > 0 ? testdev_cmd(td, PVKVM_TESTIF_READ_GRANT, (uint64_t)ref, &rep,
				  2 * NS_PER_SEC) : ref;
	snprintf(name, sizeof(name), "READ_GRANT of frame 0x%llx (%s) is %s",
		 (unsigned long long)frame, what, may_read ? "served" : "refused");
	tap_check(&T, r == 0 && (may_read ? rep.status == 0 : rep.status < 0), name,
		  "r %d status %d", r, r == 0 ? rep.status : 0);
	if (ref > 0)
		gnttab_end_access((uint32_t)ref);
}

static void hostile_grant_frames(struct testdev *td)
{
	static const struct {
		uint64_t gpa;
		const char *what;
	} vmm[] = {
		{ 0x1000, "PML4" }, { 0x3000, "low page table" },
		{ 0x4000, "page directory" }, { 0x12000, "GDT" },
		{ 0x13000, "IDT" }, { 0x14000, "fault stubs" },
		{ 0x20000, "TSS" }, { 0xe0000, "page-table pool" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(vmm); i++)
		grant_frame_check(td, vmm[i].gpa / PAGE_SIZE, false, vmm[i].what);
	grant_frame_check(td, ram_end / PAGE_SIZE, false, "past RAM");
	grant_frame_check(td, ram_end / PAGE_SIZE + 12345, false, "far past RAM");
	grant_frame_check(td, PVKVM_GPA_START_INFO / PAGE_SIZE, true, "start-info");
	grant_frame_check(td, start_info->hypercall_page_gpa / PAGE_SIZE, true,
			  "hypercall page");
}

/*
 * Issue 8, hole 1: every hypercall that takes a buffer, aimed at every page
 * the VMM keeps for itself, and the writers also at the read-only
 * start-info and the write-protected hypercall page. All must fail, and
 * the pages the guest can see (start-info, the hypercall page) must not
 * change.
 */
static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static uint64_t visible_checksum(void)
{
	uint64_t h = fnv(start_info, PAGE_SIZE, 1469598103934665603ull);

	return fnv((const void *)(uintptr_t)start_info->hypercall_page_gpa,
		   PAGE_SIZE, h);
}

static void hostile_supervisor_buffers(void)
{
	static const uint64_t vmm[] = { 0, 0x1000, 0x2000, 0x3000, 0x4000,
		0x12000, 0x13000, 0x14000, 0x20000, 0x25fc0, 0xe0000, 0xff000 };
	uint64_t writable_not[ARRAY_SIZE(vmm) + 2];
	struct pvkvm_watch_event ev;
	uint64_t before = visible_checksum();
	bool queued = false;
	char name[96];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(vmm); i++)
		writable_not[n++] = vmm[i];
	writable_not[n++] = PVKVM_GPA_START_INFO;
	writable_not[n++] = start_info->hypercall_page_gpa;
	store_write("data/hostile-pte", "\x07\x30\x01");
	store_watch("data/hostile-pte", 5); /* queues one event to misdeliver */
	for (size_t i = 0; i < n; i++) {
		uint64_t g = writable_not[i];

		snprintf(name, sizeof(name), "STORE_READ into 0x%llx", (unsigned long long)g);
		EXPECT_ERR(hc4(PVKVM_HC_STORE_READ, "data/hostile-pte", 16, g, 8), name);
		snprintf(name, sizeof(name), "STORE_LIST into 0x%llx", (unsigned long long)g);
		EXPECT_ERR(hc4(PVKVM_HC_STORE_LIST, "data", 4, g, 64), name);
		snprintf(name, sizeof(name), "STORE_WATCH_EVENT into 0x%llx", (unsigned long long)g);
		EXPECT_ERR(hc1(PVKVM_HC_STORE_WATCH_EVENT, g), name);
		snprintf(name, sizeof(name), "TIME into 0x%llx", (unsigned long long)g);
		EXPECT_ERR(hc1(PVKVM_HC_TIME, g), name);
		snprintf(name, sizeof(name), "GNTTAB_SETUP at 0x%llx", (unsigned long long)g);
		EXPECT_ERR(hc2(PVKVM_HC_GNTTAB_SETUP, g & ~0xfffull, 4), name);
	}
	for (size_t i = 0; i < ARRAY_SIZE(vmm); i++) {
		uint64_t g = vmm[i];

		snprintf(name, sizeof(name), "CONSOLE_WRITE from 0x%llx", (unsigned long long)g);
		EXPECT_ERR(hc2(PVKVM_HC_CONSOLE_WRITE, g, 16), name);
		snprintf(name, sizeof(name), "STORE_WRITE value from 0x%llx", (unsigned long long)g);
		EXPECT_ERR(hc4(PVKVM_HC_STORE_WRITE, "data/hostile-v", 14, g, 16), name);
		snprintf(name, sizeof(name), "STORE_WRITE path from 0x%llx", (unsigned long long)g);
		EXPECT_ERR(hc4(PVKVM_HC_STORE_WRITE, g, 8, "v", 1), name);
		snprintf(name, sizeof(name), "STORE_WATCH path from 0x%llx", (unsigned long long)g);
		EXPECT_ERR(hc3(PVKVM_HC_STORE_WATCH, g, 8, 1), name);
		snprintf(name, sizeof(name), "STORE_REMOVE path from 0x%llx", (unsigned long long)g);
		EXPECT_ERR(hc2(PVKVM_HC_STORE_REMOVE, g, 8), name);
	}
	tap_check(&T, visible_checksum() == before,
		  "start-info and the hypercall page are unchanged", "they changed");
	while (store_next_event(&ev) == 1)
		queued |= ev.token == 5;
	tap_check(&T, queued, "the refused watch event is still queued", "lost");
	store_unwatch("data/hostile-pte", 5);
	store_remove("data/hostile-pte");
}

/* Grant references the host must refuse, through the test device. */
static void hostile_grant_refs(void)
{
	static struct testdev td;
	const uint64_t refs[] = { 0, 511, 512, 65536, 1ull << 32, ~0ull };
	struct testdev_reply rep;
	char name[64];

	if (testdev_connect(&td, 2 * NS_PER_SEC) < 0) {
		tap_skip(&T, "bad grant refs", "no test device");
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(refs); i++) {
		int r = testdev_cmd(&td, PVKVM_TESTIF_READ_GRANT, refs[i], &rep,
				    2 * NS_PER_SEC);

		snprintf(name, sizeof(name), "READ_GRANT of ref %llu",
			 (unsigned long long)refs[i]);
		tap_check(&T, r == 0 && rep.status < 0, name, "r %d status %d", r,
			  rep.status);
	}
	hostile_grant_frames(&td);
}

int prog_hostile(int argc, char **argv)
{
	char *buf = page_alloc(2); /* room for a value of 4097 bytes */

	(void)argc, (void)argv;
	tap_begin(&T, "hostile");
	ram_end = start_info->mem_size;
	hostile_console(buf);
	hostile_time_wait();
	hostile_vcpu();
	hostile_evtchn();
	hostile_gnttab();
	hostile_store_paths(buf);
	hostile_store_values(buf);
	hostile_watch_event();
	hostile_supervisor_buffers();
	hostile_unknown();
	hostile_grant_refs();
	return tap_end(&T);
}
