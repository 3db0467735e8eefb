// SPDX-License-Identifier: MIT
/*
 * The guest's view of the shared services, driven through the hypercall
 * table exactly as a guest's hypercalls arrive (store, evtchn, grant), with
 * the self-test peer as the backend on the other side. The VM is a real KVM
 * VM fd (for the ioeventfds) with no vCPU: the test thread is the guest.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "host/testdev/dev_testpeer.h"
#include "host/services/evtchn.h"
#include "host/services/grant.h"
#include "host/core/hcall.h"
#include "host/services/store.h"
#include "host/core/vm.h"
#include "host/services/xenbus.h"
#include "hypercall/pvkvm_testif.h"

#define MEM (4u << 20)
#define GNT_TABLE 0x100000ull
#define CMD_PAGE 0x110000ull
#define RW_PAGE 0x111000ull
#define RO_PAGE 0x112000ull
#define STR_AREA 0x120000ull /* guest strings */
#define BUF_AREA 0x130000ull /* guest output buffers */

#include "tests/unit/hc_vm.h"

static struct device *peer;

static void setup(void)
{
	hc_vm_setup(MEM);
	peer = testpeer_create();
	cr_assert(peer);
	vm_add_device(&vm, peer);
	rcu_register_thread();
	for (struct device *d = vm.devices; d; d = d->next)
		if (d->start)
			cr_assert_eq(d->start(d, &vm), 0, "%s", d->name);
}

static void teardown(void)
{
	hc_vm_teardown();
}

TestSuite(peer, .init = setup, .fini = teardown, .timeout = 60);

/* ---- being the guest --------------------------------------------------------- */

static int64_t hc(unsigned int nr, uint64_t a0, uint64_t a1, uint64_t a2,
		  uint64_t a3)
{
	return hc_vm_call(NULL, nr, a0, a1, a2, a3);
}

static int64_t g_write(const char *path, const char *val)
{
	return hc(PVKVM_HC_STORE_WRITE, gstr(path), strlen(path), gstr(val),
		  strlen(val));
}

static void g_grant(uint32_t ref, uint64_t gpa, uint16_t extra)
{
	struct pvkvm_grant_entry *t =
		gmem_ptr(&vm.mem, GNT_TABLE, 8 * sizeof(*t));
	t[ref].frame = (uint32_t)(gpa >> 12);
	__atomic_store_n(&t[ref].flags, PVKVM_GTF_PERMIT | extra,
			 __ATOMIC_RELEASE);
}

static bool pending(unsigned int port)
{
	return __atomic_load_n(&vm.shared_info->evtchn_pending[port / 64],
			       __ATOMIC_SEQ_CST) & (1ull << (port % 64));
}

static void clear_pending(unsigned int port)
{
	__atomic_fetch_and(&vm.shared_info->evtchn_pending[port / 64],
			   ~(1ull << (port % 64)), __ATOMIC_SEQ_CST);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

static bool wait_for(bool (*cond)(void *), void *arg, int ms)
{
	for (int i = 0; i < ms; i++) {
		if (cond(arg))
			return true;
		sleep_ms(1);
	}
	return cond(arg);
}

static struct pvkvm_testif_page *page(void)
{
	return gmem_ptr(&vm.mem, CMD_PAGE, sizeof(struct pvkvm_testif_page));
}

static unsigned int port;

/* Frontend handshake: port, grant, keys, Initialised. */
static void connect_frontend(void)
{
	cr_assert_eq(hc(PVKVM_HC_GNTTAB_SETUP, GNT_TABLE, 8, 0, 0), 0);
	g_grant(1, CMD_PAGE, 0);
	g_grant(2, RW_PAGE, 0);
	g_grant(3, RO_PAGE, PVKVM_GTF_READONLY);
	int64_t p = hc(PVKVM_HC_EVTCHN_ALLOC, 0, 0, 0, 0);
	cr_assert_gt(p, 0);
	port = (unsigned int)p;
	char num[16];
	snprintf(num, sizeof(num), "%u", port);
	cr_assert_eq(g_write("device/test/0/evtchn", num), 0);
	cr_assert_eq(g_write("device/test/0/page-ref", "1"), 0);
	cr_assert_eq(g_write("device/test/0/state", "1"), 0);
	cr_assert_eq(g_write("device/test/0/state", "3"), 0);
	cr_assert_eq(xenbus_read_state(vm.store, "backend/test/0"),
		     PVKVM_XB_CONNECTED);
}

static bool port_pending(void *p)
{
	return pending(*(unsigned int *)p);
}

static bool acked(void *seq)
{
	return __atomic_load_n(&page()->ack_seq, __ATOMIC_ACQUIRE) ==
	       *(uint32_t *)seq;
}

/* One command, as the guest self-test sends it. */
static void command(uint32_t cmd, uint64_t arg, int32_t *status,
		    uint64_t *result)
{
	struct pvkvm_testif_page *pg = page();
	uint32_t seq = pg->seq + 1;
	pg->cmd = cmd;
	pg->arg = arg;
	__atomic_store_n(&pg->seq, seq, __ATOMIC_RELEASE);
	hc(PVKVM_HC_EVTCHN_SEND, port, 0, 0, 0);
	cr_assert(wait_for(acked, &seq, 5000), "no ack for cmd %u", cmd);
	/* The host writes ack_seq, then notifies: the bit may trail the ack
	 * by a moment (seen under TSan on a loaded machine), never go missing. */
	cr_assert(wait_for(port_pending, &port, 5000), "ack without a notification");
	clear_pending(port);
	*status = __atomic_load_n(&pg->status, __ATOMIC_RELAXED);
	*result = __atomic_load_n(&pg->result, __ATOMIC_RELAXED);
}

Test(peer, handshake_and_every_command)
{
	connect_frontend();
	int32_t st;
	uint64_t res;
	command(PVKVM_TESTIF_ECHO, 41, &st, &res);
	cr_assert_eq(st, 0);
	cr_assert_eq(res, 42);

	command(PVKVM_TESTIF_WRITE_GRANT, 2, &st, &res);
	cr_assert_eq(st, 0);
	cr_assert_eq(memcmp(gmem_ptr(&vm.mem, RW_PAGE, 8), "pvkvm-ok", 8), 0);
	command(PVKVM_TESTIF_WRITE_GRANT, 3, &st, &res);
	cr_assert_eq(st, -PVKVM_EACCES);

	memcpy(gmem_ptr(&vm.mem, RO_PAGE, 8), "12345678", 8);
	command(PVKVM_TESTIF_READ_GRANT, 3, &st, &res);
	cr_assert_eq(st, 0);
	cr_assert_eq(memcmp(&res, "12345678", 8), 0);

	/* revoked grant */
	struct pvkvm_grant_entry *t = gmem_ptr(&vm.mem, GNT_TABLE, 64);
	__atomic_store_n(&t[2].flags, 0, __ATOMIC_RELEASE);
	command(PVKVM_TESTIF_READ_GRANT, 2, &st, &res);
	cr_assert_eq(st, -PVKVM_ENOENT);
}

Test(peer, hostile_commands_get_errors)
{
	connect_frontend();
	int32_t st;
	uint64_t res;
	command(0xdeadbeef, 0, &st, &res);
	cr_assert_lt(st, 0);
	command(PVKVM_TESTIF_READ_GRANT, 1ull << 40, &st, &res);
	cr_assert_eq(st, -PVKVM_ENOENT);
	command(PVKVM_TESTIF_WRITE_GRANT, 0, &st, &res);
	cr_assert_eq(st, -PVKVM_ENOENT);
	command(PVKVM_TESTIF_WRITE_GRANT, 1, &st, &res); /* its own page, held */
	cr_assert_eq(st, -PVKVM_EBUSY);
	command(PVKVM_TESTIF_VIRQ_LATER, ~0ull, &st, &res);
	cr_assert_lt(st, 0);
	command(PVKVM_TESTIF_ECHO, 1, &st, &res);
	cr_assert_eq(res, 2, "peer unusable after garbage");
}

Test(peer, virq_later_arrives_later)
{
	connect_frontend();
	int64_t vp = hc(PVKVM_HC_EVTCHN_BIND_VIRQ, PVKVM_VIRQ_TEST, 0, 0, 0);
	cr_assert_gt(vp, 0);
	unsigned int vport = (unsigned int)vp;
	int32_t st;
	uint64_t res;
	uint64_t t0 = vm_now_ns();
	command(PVKVM_TESTIF_VIRQ_LATER, 30, &st, &res);
	cr_assert_eq(st, 0);
	cr_assert(wait_for(port_pending, &vport, 3000), "VIRQ_TEST never came");
	cr_assert_geq(vm_now_ns() - t0, 30 * 1000000ull, "came too early");
}

Test(peer, disconnect_releases_port_and_page_then_reconnects)
{
	connect_frontend();
	cr_assert_eq(g_write("device/test/0/state", "5"), 0);
	cr_assert_eq(xenbus_read_state(vm.store, "backend/test/0"),
		     PVKVM_XB_CLOSED);
	struct pvkvm_grant_entry *t = gmem_ptr(&vm.mem, GNT_TABLE, 64);
	cr_assert_eq(t[1].flags, PVKVM_GTF_PERMIT, "page still held");
	int efd;
	cr_assert_eq(evtchn_bind_host(vm.evtchn, port, &efd), 0,
		     "port still bound");
	cr_assert_eq(evtchn_unbind_host(vm.evtchn, port), 0);

	cr_assert_eq(g_write("device/test/0/state", "6"), 0);
	cr_assert_eq(g_write("device/test/0/state", "1"), 0);
	cr_assert_eq(xenbus_read_state(vm.store, "backend/test/0"),
		     PVKVM_XB_INITWAIT);
	cr_assert_eq(g_write("device/test/0/state", "3"), 0);
	cr_assert_eq(xenbus_read_state(vm.store, "backend/test/0"),
		     PVKVM_XB_CONNECTED);
	int32_t st;
	uint64_t res;
	command(PVKVM_TESTIF_ECHO, 7, &st, &res);
	cr_assert_eq(res, 8);
}

Test(peer, bad_frontend_keys_fail_connect)
{
	cr_assert_eq(g_write("device/test/0/evtchn", "99999"), 0);
	cr_assert_eq(g_write("device/test/0/page-ref", "1"), 0);
	cr_assert_eq(g_write("device/test/0/state", "1"), 0);
	cr_assert_eq(g_write("device/test/0/state", "3"), 0);
	cr_assert_eq(xenbus_read_state(vm.store, "backend/test/0"),
		     PVKVM_XB_CLOSED);
	cr_assert_gt(store_read(vm.store, "backend/test/0/error", NULL, 0), 0);
}

/* A sink port is bound but never served: its sends are only counted, when
 * the frontend disconnects. */
Test(peer, sink_port_is_bound_and_counts_sends)
{
	int64_t sink = hc(PVKVM_HC_EVTCHN_ALLOC, 0, 0, 0, 0);
	cr_assert_gt(sink, 0);
	char num[16];
	snprintf(num, sizeof(num), "%lld", (long long)sink);
	cr_assert_eq(g_write("device/test/0/sink-evtchn", num), 0);
	connect_frontend();
	uint64_t before = stat_get(&vm.stats.evtchn_guest_sends);
	uint64_t unbound = stat_get(&vm.stats.evtchn_unbound_sends);
	for (int i = 0; i < 5; i++)
		hc(PVKVM_HC_EVTCHN_SEND, (uint64_t)sink, 0, 0, 0);
	cr_assert_eq(stat_get(&vm.stats.evtchn_unbound_sends), unbound,
		     "a send to the bound sink counted as unbound");
	cr_assert_eq(g_write("device/test/0/state", "6"), 0);
	cr_assert_eq(stat_get(&vm.stats.evtchn_guest_sends) - before, 5);
	cr_assert_not(pending((unsigned int)sink), "the sink answered");
}

Test(peer, sink_port_equal_to_command_port_fails_connect)
{
	int64_t p = hc(PVKVM_HC_EVTCHN_ALLOC, 0, 0, 0, 0);
	cr_assert_gt(p, 0);
	char num[16];
	snprintf(num, sizeof(num), "%lld", (long long)p);
	cr_assert_eq(g_write("device/test/0/evtchn", num), 0);
	cr_assert_eq(g_write("device/test/0/sink-evtchn", num), 0);
	cr_assert_eq(g_write("device/test/0/page-ref", "1"), 0);
	cr_assert_eq(hc(PVKVM_HC_GNTTAB_SETUP, GNT_TABLE, 8, 0, 0), 0);
	g_grant(1, CMD_PAGE, 0);
	cr_assert_eq(g_write("device/test/0/state", "1"), 0);
	cr_assert_eq(g_write("device/test/0/state", "3"), 0);
	cr_assert_eq(xenbus_read_state(vm.store, "backend/test/0"),
		     PVKVM_XB_CLOSED);
}

/* ---- the store hypercalls on their own ------------------------------------- */

Test(peer, store_hypercalls_checks)
{
	char big[PVKVM_STORE_PATH_MAX + 8];
	memset(big, 'a', sizeof(big));
	/* lengths checked before any copy */
	cr_assert_eq(hc(PVKVM_HC_STORE_WRITE, STR_AREA, PVKVM_STORE_PATH_MAX + 1,
			STR_AREA, 1), -PVKVM_EINVAL);
	cr_assert_eq(hc(PVKVM_HC_STORE_WRITE, gstr("data/k"), 6, STR_AREA,
			PVKVM_STORE_VALUE_MAX + 1), -PVKVM_E2BIG);
	cr_assert_eq(hc(PVKVM_HC_STORE_WRITE, MEM - 1, 2, STR_AREA, 1),
		     -PVKVM_EFAULT);
	cr_assert_eq(hc(PVKVM_HC_STORE_WRITE, gstr("data/k"), 6, ~0ull - 2, 8),
		     -PVKVM_EFAULT);
	/* embedded NUL */
	gmem_write(&vm.mem, STR_AREA, "a\0b", 3);
	cr_assert_eq(hc(PVKVM_HC_STORE_WRITE, STR_AREA, 3, STR_AREA, 1),
		     -PVKVM_EINVAL);
	/* backend/ belongs to the host */
	cr_assert_eq(g_write("backend/test/0/state", "4"), -PVKVM_EACCES);
	cr_assert_eq(g_write("backend", "x"), -PVKVM_EACCES);
	cr_assert_eq(g_write("platform/ata/0/io-base", "0x80"), -PVKVM_EACCES);
	/* the guest writes below device/ and data/ only (abi.md section 8) */
	cr_assert_eq(g_write("platformer/x", "1"), -PVKVM_EACCES);
	cr_assert_eq(g_write("backendx/y", "x"), -PVKVM_EACCES);
	cr_assert_eq(g_write("datax/y", "x"), -PVKVM_EACCES);
	cr_assert_eq(hc(PVKVM_HC_STORE_REMOVE, gstr("backend/test"), 12, 0, 0),
		     -PVKVM_EACCES);
	cr_assert_eq(hc(PVKVM_HC_STORE_REMOVE, STR_AREA, 0, 0, 0), -PVKVM_EACCES);

	/* read, truncated, and list */
	cr_assert_eq(g_write("device/x/key", "hello"), 0);
	cr_assert_eq(hc(PVKVM_HC_STORE_READ, gstr("device/x/key"), 12, BUF_AREA,
			3), 5);
	cr_assert_eq(memcmp(gmem_ptr(&vm.mem, BUF_AREA, 3), "hel", 3), 0);
	cr_assert_eq(hc(PVKVM_HC_STORE_READ, gstr("device/x/none"), 13, BUF_AREA,
			3), -PVKVM_ENOENT);
	cr_assert_eq(hc(PVKVM_HC_STORE_READ, gstr("device/x/key"), 12, MEM - 2,
			5), -PVKVM_EFAULT);
	/* buf_len is checked as a range like every length: 2^64-1 is not */
	cr_assert_eq(hc(PVKVM_HC_STORE_LIST, gstr("device/x"), 8, BUF_AREA,
			~0ull), -PVKVM_EFAULT);
	cr_assert_eq(hc(PVKVM_HC_STORE_LIST, gstr("device/x"), 8, BUF_AREA,
			64), 4);
	cr_assert_eq(memcmp(gmem_ptr(&vm.mem, BUF_AREA, 4), "key", 4), 0);
	cr_assert_eq(hc(PVKVM_HC_STORE_REMOVE, gstr("device/x"), 8, 0, 0), 0);
	cr_assert_eq(hc(PVKVM_HC_STORE_REMOVE, gstr("device/x"), 8, 0, 0),
		     -PVKVM_ENOENT);
}

Test(peer, guest_watch_queues_events_and_raises_virq)
{
	int64_t sp = hc(PVKVM_HC_EVTCHN_BIND_VIRQ, PVKVM_VIRQ_STORE, 0, 0, 0);
	cr_assert_gt(sp, 0);
	cr_assert_eq(hc(PVKVM_HC_STORE_WATCH, gstr("device/w"), 8, 77, 0), 0);
	cr_assert(pending((unsigned)sp), "initial firing raised nothing");
	struct pvkvm_watch_event *e = gmem_ptr(&vm.mem, BUF_AREA, sizeof(*e));
	cr_assert_eq(hc(PVKVM_HC_STORE_WATCH_EVENT, BUF_AREA, 0, 0, 0), 1);
	cr_assert_eq(e->token, 77);
	cr_assert_str_eq(e->path, "device/w");
	cr_assert_eq(e->path_len, 8);
	cr_assert_eq(hc(PVKVM_HC_STORE_WATCH_EVENT, BUF_AREA, 0, 0, 0), 0);

	cr_assert_eq(g_write("device/w/a", "1"), 0);
	cr_assert_eq(g_write("device/wx", "1"), 0); /* not below device/w */
	cr_assert_eq(hc(PVKVM_HC_STORE_WATCH_EVENT, BUF_AREA, 0, 0, 0), 1);
	cr_assert_str_eq(e->path, "device/w/a");
	cr_assert_eq(hc(PVKVM_HC_STORE_WATCH_EVENT, BUF_AREA, 0, 0, 0), 0);
	cr_assert_eq(hc(PVKVM_HC_STORE_WATCH_EVENT, MEM - 8, 0, 0, 0),
		     -PVKVM_EFAULT);

	/* overflow drops, never grows */
	for (int i = 0; i < 500; i++)
		g_write("device/w/a", "1");
	int n = 0;
	while (hc(PVKVM_HC_STORE_WATCH_EVENT, BUF_AREA, 0, 0, 0) == 1)
		n++;
	cr_assert_lt(n, 500);
	cr_assert_gt(n, 0);

	cr_assert_eq(hc(PVKVM_HC_STORE_UNWATCH, gstr("device/w"), 8, 78, 0),
		     -PVKVM_ENOENT);
	cr_assert_eq(hc(PVKVM_HC_STORE_UNWATCH, gstr("device/w"), 8, 77, 0), 0);
	g_write("device/w/a", "1");
	cr_assert_eq(hc(PVKVM_HC_STORE_WATCH_EVENT, BUF_AREA, 0, 0, 0), 0);
	/* left registered on purpose: device stop must clean it up */
	cr_assert_eq(hc(PVKVM_HC_STORE_WATCH, gstr("device/z"), 8, 1, 0), 0);
	cr_assert_eq(hc(PVKVM_HC_STORE_WATCH, gstr("a//b"), 4, 1, 0),
		     -PVKVM_EINVAL);
}
