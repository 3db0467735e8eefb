// SPDX-License-Identifier: MIT
/*
 * selftest: every hypercall of pvkvm_abi.h, then the self-test device over
 * xenbus (pvkvm_testif.h). One TAP-like line per check; the exit status is 0
 * only when all passed.
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

#define CHECK(cond, name, ...) tap_check(&T, (cond), (name), __VA_ARGS__)

static struct tap T;
static int64_t virq_test_port; /* bound in test_evtchn, used by the device */

static const uint64_t year_2020_ns = 1577836800ull * NS_PER_SEC;

/* --- discovery and trivial calls ----------------------------------------- */

#define PVKVM_FEAT_KNOWN                                                      \
	(PVKVM_FEAT_EVTCHN_IOEVENTFD | PVKVM_FEAT_GRANT_TABLE |               \
	 PVKVM_FEAT_STORE | PVKVM_FEAT_VCPU_UP)

static bool sig_is_pvkvm(const struct cpuid_regs *r)
{
	return r->ebx == PVKVM_CPUID_SIG_EBX && r->ecx == PVKVM_CPUID_SIG_ECX &&
	       r->edx == PVKVM_CPUID_SIG_EDX;
}

/* The CPUID leaves: checked where start-info says a CPL3 guest sees them. */
static void test_cpuid_leaves(int64_t v, int64_t f)
{
	struct cpuid_regs sig = cpuid(PVKVM_CPUID_BASE);
	struct cpuid_regs ver = cpuid(PVKVM_CPUID_VERSION);
	struct cpuid_regs hcl = cpuid(PVKVM_CPUID_HYPERCALL);

	CHECK(sig_is_pvkvm(&sig) && sig.eax >= PVKVM_CPUID_MAX,
	      "cpuid 0x40000000 signature and max leaf", "%08x %08x %08x max %x",
	      sig.ebx, sig.ecx, sig.edx, sig.eax);
	CHECK(hcl.ebx == PVKVM_PORT_HYPERCALL &&
		      hcl.ecx == PVKVM_PORT_EVTCHN_NOTIFY &&
		      hcl.eax == PVKVM_MSR_HYPERCALL_PAGE,
	      "cpuid 0x40000002 ports and msr", "msr %x hc port %x notify %x",
	      hcl.eax, hcl.ebx, hcl.ecx);
	CHECK(ver.eax == (uint32_t)v, "cpuid 0x40000001 version is VERSION's",
	      "cpuid %x, hypercall %llx", ver.eax, (long long)v);
	CHECK((uint32_t)f == ver.ebx, "cpuid 0x40000001 features are FEATURES'",
	      "cpuid %x, hypercall %lld", ver.ebx, (long long)f);
}

/* Where they are not visible: say why, and check that CPUID agrees. */
static void skip_cpuid_leaves(uint32_t flags)
{
	static const char *const names[] = {
		"cpuid 0x40000000 signature and max leaf",
		"cpuid 0x40000002 ports and msr",
		"cpuid 0x40000001 version is VERSION's",
		"cpuid 0x40000001 features are FEATURES'",
	};
	const char *why = flags & PVKVM_SIF_CPUID_HIDDEN ?
		"the VMM withholds its CPUID leaves (--hide-cpuid)" :
		"CPUID at CPL3 does not reach this KVM on this host (start-info flags)";
	struct cpuid_regs sig = cpuid(PVKVM_CPUID_BASE);

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		tap_skip(&T, names[i], why);
	CHECK(!sig_is_pvkvm(&sig), "cpuid 0x40000000 hides pvkvm as start-info says",
	      "flags %x, yet CPUID reads pvkvm's signature", flags);
}

static void test_discovery(void)
{
	int64_t v = hc0(PVKVM_HC_VERSION), f = hc0(PVKVM_HC_FEATURES);
	uint32_t flags = start_info->flags;
	bool visible = flags & PVKVM_SIF_CPUID_CPL3;

	CHECK(start_info->magic == PVKVM_START_INFO_MAGIC &&
		      start_info->abi_version == PVKVM_ABI_VERSION,
	      "start-info magic and ABI version", "magic %llx abi %x",
	      (unsigned long long)start_info->magic, start_info->abi_version);
	CHECK(v == PVKVM_ABI_VERSION, "hypercall VERSION", "got %llx, built for %x",
	      (long long)v, PVKVM_ABI_VERSION);
	CHECK(f >= 0 && (f & ~(int64_t)PVKVM_FEAT_KNOWN) == 0 &&
		      (f & PVKVM_FEAT_EVTCHN_IOEVENTFD),
	      "hypercall FEATURES", "got %lld", (long long)f);
	CHECK(!visible || ((flags & PVKVM_SIF_CPUID_CPL3_EXITS) &&
			   !(flags & PVKVM_SIF_CPUID_HIDDEN)),
	      "start-info CPUID flags agree", "flags %x", flags);
	if (visible)
		test_cpuid_leaves(v, f);
	else
		skip_cpuid_leaves(flags);
	CHECK(hc0(PVKVM_HC_NULL) == 0, "hypercall NULL", "non-zero result");
	CHECK(hc0(PVKVM_HC_COUNT - 2) == -PVKVM_ENOSYS,
	      "unregistered hypercall returns ENOSYS", "number %d",
	      PVKVM_HC_COUNT - 2);
}

static void test_console(void)
{
	static const char msg[] = "selftest: a raw CONSOLE_WRITE line\n";
	int64_t r = hc2(PVKVM_HC_CONSOLE_WRITE, msg, sizeof(msg) - 1);

	CHECK(r == (int64_t)sizeof(msg) - 1, "CONSOLE_WRITE returns the length",
	      "got %lld", (long long)r);
}

/* --- time ---------------------------------------------------------------- */

static void spin_ms(uint64_t ms)
{
	uint64_t end = rdtsc() + ms * tsc_khz();

	while (rdtsc() < end)
		cpu_relax();
}

static void test_time(void)
{
	struct pvkvm_time a, b;
	int64_t ra = hc1(PVKVM_HC_TIME, &a), rb;
	int64_t skew;

	spin_ms(2);
	rb = hc1(PVKVM_HC_TIME, &b);
	CHECK(ra == 0 && rb == 0 && b.monotonic_ns > a.monotonic_ns &&
		      b.monotonic_ns - a.monotonic_ns >= NS_PER_MS,
	      "TIME monotonic advances", "r %lld/%lld, %llu -> %llu",
	      (long long)ra, (long long)rb,
	      (unsigned long long)a.monotonic_ns,
	      (unsigned long long)b.monotonic_ns);
	CHECK(a.tsc_khz >= 100000 && a.tsc_khz <= 10000000 &&
		      a.tsc_khz == start_info->tsc_khz,
	      "TIME tsc_khz sane and equal to start-info", "%llu vs %llu",
	      (unsigned long long)a.tsc_khz,
	      (unsigned long long)start_info->tsc_khz);
	CHECK(b.tsc > a.tsc && b.wall_ns > year_2020_ns, "TIME tsc and wall clock",
	      "tsc %llu -> %llu, wall %llu", (unsigned long long)a.tsc,
	      (unsigned long long)b.tsc, (unsigned long long)b.wall_ns);
	skew = (int64_t)(now_ns() - host_now_ns());
	CHECK(skew > -50 * (int64_t)NS_PER_MS && skew < 50 * (int64_t)NS_PER_MS,
	      "TSC clock tracks the VMM's monotonic clock", "skew %lld ns",
	      (long long)skew);
}

/* --- event channels and WAIT ------------------------------------------------ */

static void test_evtchn(void)
{
	int64_t p1 = hc0(PVKVM_HC_EVTCHN_ALLOC), p2 = hc0(PVKVM_HC_EVTCHN_ALLOC);

	CHECK(p1 > 0 && p2 > 0 && p1 != p2 && p1 < PVKVM_EVTCHN_MAX &&
		      p2 < PVKVM_EVTCHN_MAX,
	      "EVTCHN_ALLOC gives distinct ports", "%lld %lld", (long long)p1,
	      (long long)p2);
	virq_test_port = hc1(PVKVM_HC_EVTCHN_BIND_VIRQ, PVKVM_VIRQ_TEST);
	CHECK(virq_test_port > 0 && virq_test_port != p1 && virq_test_port != p2,
	      "EVTCHN_BIND_VIRQ(TEST)", "got %lld", (long long)virq_test_port);
	CHECK(hc1(PVKVM_HC_EVTCHN_BIND_VIRQ, PVKVM_VIRQ_COUNT) < 0,
	      "EVTCHN_BIND_VIRQ rejects an unknown virq", "accepted");
	/* p1 has no host end: the VMM counts the send and drops it. */
	evtchn_send((uint32_t)p1);
	CHECK(hc0(PVKVM_HC_NULL) == 0, "EVTCHN_SEND to an unbound port is dropped",
	      "VMM misbehaved after the send");
	CHECK(hc1(PVKVM_HC_EVTCHN_CLOSE, p2) == 0, "EVTCHN_CLOSE", "failed");
	CHECK(hc1(PVKVM_HC_EVTCHN_CLOSE, p2) < 0, "EVTCHN_CLOSE of a closed port fails",
	      "succeeded");
	CHECK(hc1(PVKVM_HC_EVTCHN_CLOSE, p1) == 0, "EVTCHN_CLOSE of a sent-to port",
	      "failed");
}

/* WAIT until deadline, re-blocking if an unrelated event wakes it early. */
static int64_t wait_quiet_until(uint64_t deadline)
{
	int64_t r;

	do {
		evt_stash_pending(0);
		r = hc1(PVKVM_HC_WAIT, deadline);
	} while (r == 0 && host_now_ns() < deadline);
	return r;
}

static void test_wait(void)
{
	uint64_t t0 = host_now_ns(), deadline = t0 + 20 * NS_PER_MS, t1;
	int64_t r = wait_quiet_until(deadline);

	t1 = host_now_ns();
	CHECK(r == -PVKVM_ETIMEDOUT, "WAIT with a deadline times out", "got %lld",
	      (long long)r);
	CHECK(t1 >= deadline, "WAIT slept until its deadline", "woke %lld ns early",
	      (long long)(deadline - t1));
	CHECK(t1 - t0 < 2 * NS_PER_SEC, "WAIT returned soon after its deadline",
	      "took %llu ms", (unsigned long long)((t1 - t0) / NS_PER_MS));
	t0 = host_now_ns();
	r = wait_quiet_until(t0 - 1);
	CHECK(r == -PVKVM_ETIMEDOUT && host_now_ns() - t0 < NS_PER_SEC,
	      "WAIT with a past deadline returns at once", "got %lld",
	      (long long)r);
}

/* --- grants ---------------------------------------------------------------- */

static void test_gnttab(void)
{
	void *page = page_alloc(1);
	const struct pvkvm_grant_entry *e;
	int ref;

	CHECK(gnttab_size() > 0, "GNTTAB_SETUP at boot", "no table");
	CHECK(hc2(PVKVM_HC_GNTTAB_SETUP, (uintptr_t)page + 8, 4) == -PVKVM_EINVAL,
	      "GNTTAB_SETUP rejects an unaligned table", "accepted");
	ref = gnttab_grant(gpa_to_frame(page), true);
	e = gnttab_entry((uint32_t)ref);
	CHECK(ref > 0 && e && e->flags == (PVKVM_GTF_PERMIT | PVKVM_GTF_READONLY) &&
		      e->frame == gpa_to_frame(page),
	      "grant writes frame and flags", "ref %d", ref);
	CHECK(gnttab_end_access((uint32_t)ref) == 0 && e && e->flags == 0,
	      "end_access revokes an idle grant", "ref %d", ref);
	CHECK(gnttab_end_access((uint32_t)ref) == -PVKVM_EINVAL,
	      "end_access of a revoked grant fails", "ref %d", ref);
	page_free(page, 1);
}

/* --- store ------------------------------------------------------------------ */

static void test_store_rw(void)
{
	char buf[64];
	int r;

	CHECK(store_write("data/selftest/key", "hello") == 0, "STORE_WRITE", "failed");
	r = store_read("data/selftest/key", buf, sizeof(buf));
	CHECK(r == 5 && !strcmp(buf, "hello"), "STORE_READ returns the value",
	      "r %d '%s'", r, r >= 0 ? buf : "");
	memset(buf, 'X', sizeof(buf));
	r = (int)hc4(PVKVM_HC_STORE_READ, "data/selftest/key", 17, buf, 2);
	CHECK(r == 5 && buf[0] == 'h' && buf[1] == 'e' && buf[2] == 'X',
	      "STORE_READ truncates and returns the full length", "r %d", r);
	r = store_list("data/selftest", buf, sizeof(buf));
	CHECK(r == 4 && !memcmp(buf, "key", 4), "STORE_LIST", "r %d", r);
	r = store_write("backend/test/0/selftest", "x");
	CHECK(r == -PVKVM_EACCES, "STORE_WRITE under backend/ is refused", "r %d", r);
	r = store_remove("backend/selftest");
	CHECK(r == -PVKVM_EACCES, "STORE_REMOVE under backend/ is refused", "r %d", r);
	CHECK(store_remove("data/selftest") == 0, "STORE_REMOVE", "failed");
	r = store_read("data/selftest/key", buf, sizeof(buf));
	CHECK(r == -PVKVM_ENOENT, "STORE_READ after REMOVE is ENOENT", "r %d", r);
}

/* 1 when an event with token arrived before deadline (others discarded). */
static int wait_watch_event(uint64_t token, struct pvkvm_watch_event *ev,
			    uint64_t deadline)
{
	for (;;) {
		while (store_next_event(ev) == 1)
			if (ev->token == token)
				return 1;
		if (evt_wait_for(store_evtchn(), deadline) < 0) {
			while (store_next_event(ev) == 1)
				if (ev->token == token)
					return 1;
			return 0;
		}
	}
}

static void test_store_watch(void)
{
	const uint64_t token = 0x5e1f7e57;
	struct pvkvm_watch_event ev;
	int got;

	CHECK(store_watch("data/selftest-w", token) == 0, "STORE_WATCH", "failed");
	got = wait_watch_event(token, &ev, now_ns() + NS_PER_SEC);
	CHECK(got, "STORE_WATCH fires once when set", "no event in 1 s");
	store_write("data/selftest-w/x", "1");
	got = wait_watch_event(token, &ev, now_ns() + NS_PER_SEC);
	CHECK(got && !strncmp(ev.path, "data/selftest-w", 15) &&
		      ev.path_len == strlen(ev.path),
	      "STORE_WATCH_EVENT reports a change below the path", "got %d '%s'",
	      got, got ? ev.path : "");
	CHECK(store_unwatch("data/selftest-w", token) == 0, "STORE_UNWATCH", "failed");
	store_write("data/selftest-w/x", "2");
	got = wait_watch_event(token, &ev, now_ns() + 50 * NS_PER_MS);
	CHECK(!got, "no event after STORE_UNWATCH", "event for '%s'", ev.path);
	CHECK(store_next_event(&ev) == 0, "STORE_WATCH_EVENT on an empty queue is 0",
	      "queue not empty");
	store_remove("data/selftest-w");
}

/* --- CPU ---------------------------------------------------------------------- */

/* One SSE2 instruction on purpose: a VMM that forgot CR4.OSFXSR gets #UD on
 * a real VT-x/AMD-V host (this platform's nested hypervisor would not). */
static void test_sse(void)
{
	uint64_t a[2] = { 1, 0xffffffffull }, b[2] = { 2, 1 }, out[2];

	asm volatile("movdqu %1, %%xmm0\n\t"
		     "movdqu %2, %%xmm1\n\t"
		     "paddq %%xmm1, %%xmm0\n\t"
		     "movdqu %%xmm0, %0"
		     : "=m"(out)
		     : "m"(a), "m"(b)
		     : "xmm0", "xmm1");
	CHECK(out[0] == 3 && out[1] == 0x100000000ull, "SSE2 paddq (CR4.OSFXSR set)",
	      "got %llx %llx", (unsigned long long)out[0],
	      (unsigned long long)out[1]);
}

static void ap_increment(void *arg)
{
	__atomic_fetch_add((uint64_t *)arg, 1, __ATOMIC_SEQ_CST);
}

static void test_vcpu_up(void)
{
	static uint64_t counter;
	uint64_t deadline;
	int r;

	r = vcpu_start(start_info->nr_vcpus, ap_increment, &counter);
	CHECK(r < 0, "VCPU_UP rejects a cpu beyond nr_vcpus", "r %d", r);
	if (start_info->nr_vcpus < 2) {
		tap_skip(&T, "VCPU_UP starts vCPU 1", "one vCPU (run with -c 2)");
		return;
	}
	r = vcpu_start(1, ap_increment, &counter);
	deadline = now_ns() + 2 * NS_PER_SEC;
	while (!__atomic_load_n(&counter, __ATOMIC_SEQ_CST) && now_ns() < deadline)
		evt_sleep_until(now_ns() + NS_PER_MS);
	CHECK(r == 0 && __atomic_load_n(&counter, __ATOMIC_SEQ_CST) == 1,
	      "VCPU_UP starts vCPU 1 (it increments a shared counter)",
	      "r %d counter %llu", r, (unsigned long long)counter);
	r = vcpu_start(1, ap_increment, &counter);
	CHECK(r < 0, "VCPU_UP of a running vCPU fails", "r %d", r);
}

/* --- the self-test device ---------------------------------------------------- */

#define CMD_TIMEOUT (2 * NS_PER_SEC)

static struct testdev td;

static bool run_cmd(enum pvkvm_testif_cmd cmd, uint64_t arg,
		    struct testdev_reply *rep)
{
	int r = testdev_cmd(&td, cmd, arg, rep, CMD_TIMEOUT);

	if (r < 0)
		*rep = (struct testdev_reply){ .status = r, .result = 0 };
	return r == 0;
}

static void test_dev_echo(void)
{
	struct testdev_reply rep;
	bool ok = run_cmd(PVKVM_TESTIF_ECHO, 41, &rep);

	CHECK(ok && rep.status == 0 && rep.result == 42, "test ECHO round trip",
	      "ok %d status %d result %llu", ok, rep.status,
	      (unsigned long long)rep.result);
}

static void test_dev_write_grant(void)
{
	uint8_t *rw = page_alloc(1), *ro = page_alloc(1);
	int ref_rw = gnttab_grant(gpa_to_frame(rw), false);
	int ref_ro = gnttab_grant(gpa_to_frame(ro), true);
	struct testdev_reply rep;
	bool ok;

	memset(ro, 0x5a, PAGE_SIZE);
	ok = run_cmd(PVKVM_TESTIF_WRITE_GRANT, (uint64_t)ref_rw, &rep);
	CHECK(ok && rep.status == 0 && !memcmp(rw, "pvkvm-ok", 8),
	      "test WRITE_GRANT into a RW grant", "status %d first bytes %02x %02x",
	      rep.status, rw[0], rw[1]);
	ok = run_cmd(PVKVM_TESTIF_WRITE_GRANT, (uint64_t)ref_ro, &rep);
	CHECK(ok && rep.status == -PVKVM_EACCES && ro[0] == 0x5a && ro[7] == 0x5a,
	      "test WRITE_GRANT into a RO grant is refused",
	      "status %d first byte %x", rep.status, ro[0]);
	CHECK(gnttab_end_access((uint32_t)ref_rw) == 0 &&
		      gnttab_end_access((uint32_t)ref_ro) == 0,
	      "end_access after the host released the grants", "busy");
	page_free(rw, 1);
	page_free(ro, 1);
}

static void test_dev_read_grant(void)
{
	uint64_t *page = page_alloc(1);
	int ref = gnttab_grant(gpa_to_frame(page), true);
	struct testdev_reply rep;
	bool ok;

	page[0] = 0x6b63616264616572ull; /* "readback" */
	ok = run_cmd(PVKVM_TESTIF_READ_GRANT, (uint64_t)ref, &rep);
	CHECK(ok && rep.status == 0 && rep.result == page[0],
	      "test READ_GRANT of a RO grant", "status %d result %llx",
	      rep.status, (unsigned long long)rep.result);
	gnttab_end_access((uint32_t)ref);
	ok = run_cmd(PVKVM_TESTIF_READ_GRANT, (uint64_t)ref, &rep);
	CHECK(ok && rep.status == -PVKVM_ENOENT, "test READ_GRANT of a revoked grant",
	      "status %d", rep.status);
	ok = run_cmd(PVKVM_TESTIF_READ_GRANT, 0, &rep);
	CHECK(ok && rep.status == -PVKVM_ENOENT, "test READ_GRANT of ref 0",
	      "status %d", rep.status);
	page_free(page, 1);
}

static void test_dev_virq_later(void)
{
	uint32_t port = (uint32_t)virq_test_port;
	struct pvkvm_vcpu_info *vi = &evt_shared_info()->vcpu[0];
	uint64_t wakeups = vi->wakeups, t0, t1;
	struct testdev_reply rep;
	bool ok;
	int r;

	evt_test_and_clear(port);
	t0 = host_now_ns();
	ok = run_cmd(PVKVM_TESTIF_VIRQ_LATER, 50, &rep);
	r = evt_wait_for(port, t0 + 5 * NS_PER_SEC);
	t1 = host_now_ns();
	CHECK(ok && r == 0, "test VIRQ_LATER wakes WAIT before the deadline",
	      "ok %d r %d", ok, r);
	CHECK(t1 - t0 >= 45 * NS_PER_MS, "the wake-up came after the 50 ms delay",
	      "after %llu ms", (unsigned long long)((t1 - t0) / NS_PER_MS));
	CHECK(vi->wakeups > wakeups, "vcpu_info.wakeups counts the wake-up",
	      "%llu -> %llu", (unsigned long long)wakeups,
	      (unsigned long long)vi->wakeups);
}

/* A masked port must not wake WAIT, yet stays pending for later. */
static void test_dev_masked(void)
{
	uint32_t port = (uint32_t)virq_test_port;
	struct testdev_reply rep;
	int64_t r;

	evt_test_and_clear(port);
	evt_mask(port);
	run_cmd(PVKVM_TESTIF_VIRQ_LATER, 10, &rep);
	r = wait_quiet_until(host_now_ns() + 200 * NS_PER_MS);
	CHECK(r == -PVKVM_ETIMEDOUT && evt_is_pending(port),
	      "a masked port does not wake WAIT but stays pending",
	      "r %lld pending %d", (long long)r, evt_is_pending(port));
	evt_unmask(port);
	CHECK(evt_wait_for(port, now_ns() + 10 * NS_PER_MS) == 0,
	      "unmasking delivers the held event", "lost");
}

static void test_device(void)
{
	int r = testdev_connect(&td, 3 * NS_PER_SEC);

	if (!CHECK(r == 0, "test device connects over xenbus", "error %d", r))
		return; /* the device checks below count as not run */
	test_dev_echo();
	test_dev_write_grant();
	test_dev_read_grant();
	test_dev_virq_later();
	test_dev_masked();
}

int prog_selftest(int argc, char **argv)
{
	(void)argc, (void)argv;
	tap_begin(&T, "selftest");
	printf("selftest: %u vCPU(s), %llu MiB, tsc %llu kHz\n",
	       start_info->nr_vcpus,
	       (unsigned long long)(start_info->mem_size >> 20),
	       (unsigned long long)start_info->tsc_khz);
	test_discovery();
	test_console();
	test_time();
	test_evtchn();
	test_wait();
	test_gnttab();
	test_store_rw();
	test_store_watch();
	test_sse();
	test_device();
	/* Last: a second vCPU parks in WAIT slices from now on. */
	test_vcpu_up();
	return tap_end(&T);
}
