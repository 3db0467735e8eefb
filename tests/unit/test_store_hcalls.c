// SPDX-License-Identifier: MIT
/*
 * The store as the guest reaches it: the STORE_* hypercalls, driven through
 * the hypercall table on plain guest memory (no KVM needed: the store needs
 * no event channel until a watch fires). Pins what docs/abi.md section 8
 * says about short buffers, the watch-event record, the keys a guest may
 * create and its quota, and the STORE_LIST heap leak of issue 8.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <urcu.h>

#include "host/core/hcall.h"
#include "host/core/vm.h"
#include "host/mem/guest_mem.h"
#include "host/services/store.h"
#include "hypercall/pvkvm_abi.h"

#define MEM (2u << 20)
#define STR_AREA 0x100000ull
#define BUF_AREA 0x110000ull
#define BUF2_AREA 0x120000ull

static struct vm vm;

static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	cr_assert_eq(gmem_create(&vm.mem, MEM), 0);
	vm.hcalls = hcall_table_new();
	vm.store = store_new();
	cr_assert(vm.hcalls && vm.store);
	cr_assert_eq(store_register_hypercalls(&vm), 0);
	rcu_register_thread();
}

static void teardown(void)
{
	vm_stop_devices(&vm);
	rcu_unregister_thread();
	store_free(vm.store);
	hcall_table_free(vm.hcalls);
	gmem_destroy(&vm.mem);
}

TestSuite(store_hc, .init = setup, .fini = teardown, .timeout = 60);

static int64_t hc(unsigned int nr, uint64_t a0, uint64_t a1, uint64_t a2,
		  uint64_t a3)
{
	uint64_t args[HCALL_NARGS] = { a0, a1, a2, a3, 0 };
	return hcall_dispatch(vm.hcalls, NULL, nr, args);
}

/* A guest string at a fixed gpa per slot (thread-safe: one slot each). */
static uint64_t gstr_at(unsigned int slot, const char *s)
{
	uint64_t gpa = STR_AREA + slot * 0x1000ull;
	gmem_write(&vm.mem, gpa, s, strlen(s));
	return gpa;
}

static int64_t g_write(const char *path, const char *val)
{
	return hc(PVKVM_HC_STORE_WRITE, gstr_at(0, path), strlen(path),
		  gstr_at(1, val), strlen(val));
}

static uint8_t *gbuf(uint64_t gpa, size_t len, uint8_t fill)
{
	uint8_t *p = gmem_ptr(&vm.mem, gpa, len);
	memset(p, fill, len);
	return p;
}

/* ---- short buffers (abi.md section 8) ---------------------------------------- */

Test(store_hc, read_copies_min_of_lengths_writes_no_nul_returns_full_length)
{
	cr_assert_eq(g_write("data/k", "abcdef"), 0);
	uint8_t *b = gbuf(BUF_AREA, 16, 0xee);
	cr_assert_eq(hc(PVKVM_HC_STORE_READ, gstr_at(0, "data/k"), 6, BUF_AREA, 3), 6);
	cr_expect_eq(memcmp(b, "abc", 3), 0);
	cr_expect_eq(b[3], 0xee, "nothing past buf_len");
	b = gbuf(BUF_AREA, 16, 0xee);
	cr_assert_eq(hc(PVKVM_HC_STORE_READ, gstr_at(0, "data/k"), 6, BUF_AREA, 16), 6);
	cr_expect_eq(memcmp(b, "abcdef", 6), 0);
	cr_expect_eq(b[6], 0xee, "no NUL is written after the value");
	cr_assert_eq(hc(PVKVM_HC_STORE_READ, gstr_at(0, "data/k"), 6, BUF_AREA, 0), 6,
		     "buf_len 0 asks for the length only");
}

Test(store_hc, list_is_nul_separated_truncated_to_buf_len_returns_full_length)
{
	cr_assert_eq(g_write("data/d/b", "1"), 0);
	cr_assert_eq(g_write("data/d/a", "1"), 0);
	uint8_t *b = gbuf(BUF_AREA, 16, 0xee);
	cr_assert_eq(hc(PVKVM_HC_STORE_LIST, gstr_at(0, "data/d"), 6, BUF_AREA, 16), 4);
	cr_expect_eq(memcmp(b, "a\0b\0", 4), 0, "sorted, each name NUL-terminated");
	cr_expect_eq(b[4], 0xee);
	b = gbuf(BUF_AREA, 16, 0xee);
	cr_assert_eq(hc(PVKVM_HC_STORE_LIST, gstr_at(0, "data/d"), 6, BUF_AREA, 3), 4);
	cr_expect_eq(memcmp(b, "a\0b", 3), 0, "the first buf_len bytes; the last name cut");
	cr_expect_eq(b[3], 0xee);
}

/* ---- STORE_LIST heap leak (issue 8, hole 2) ------------------------------------ */

static atomic_int stop_churn;

/* Adds and removes a 200-byte name under the listed directory, so listings
 * shrink from 204 bytes to 2 between any two looks at the store. */
static void *churn(void *arg)
{
	(void)arg;
	char name[220] = "data/l/";
	memset(name + 7, 'n', 200);
	name[207] = '\0';
	rcu_register_thread();
	while (!atomic_load(&stop_churn)) {
		hc(PVKVM_HC_STORE_WRITE, gstr_at(2, name), strlen(name), gstr_at(3, "v"), 1);
		hc(PVKVM_HC_STORE_REMOVE, gstr_at(2, name), strlen(name), 0, 0);
	}
	rcu_unregister_thread();
	return NULL;
}

Test(store_hc, list_never_returns_bytes_it_did_not_produce)
{
	cr_assert_eq(g_write("data/l/a", "1"), 0);
	pthread_t t;
	atomic_store(&stop_churn, 0);
	pthread_create(&t, NULL, churn, NULL);
	uint64_t path = gstr_at(4, "data/l");
	int bad = 0, calls = 0, shrunk = 0;
	/* ~35k calls find the old double-listing's leak here; allow 500k, or
	 * 5 s under the sanitizers */
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (; calls < 500000 && !bad; calls++) {
		if (calls % 4096 == 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - t0.tv_sec >= 5)
				break;
		}
		uint8_t *b = gbuf(BUF2_AREA, 512, 0xee);
		int64_t n = hc(PVKVM_HC_STORE_LIST, path, 6, BUF2_AREA, 512);
		cr_assert(n == 2 || n == 203, "listing of %lld bytes", (long long)n);
		shrunk += n == 2;
		for (int64_t i = n; i < 512; i++)
			bad += b[i] != 0xee;
		if (n == 2)
			bad += memcmp(b, "a", 2) != 0;
	}
	atomic_store(&stop_churn, 1);
	pthread_join(t, NULL);
	cr_assert_eq(bad, 0, "after %d calls a listing came back with %d bytes it did not produce",
		     calls, bad);
	cr_assert_gt(shrunk, 0, "the race was never exercised");
}

/* ---- the watch-event record, field by field ----------------------------------- */

Test(store_hc, watch_event_record_layout)
{
	cr_assert_eq(sizeof(struct pvkvm_watch_event), 272);
	cr_assert_eq(offsetof(struct pvkvm_watch_event, token), 0);
	cr_assert_eq(offsetof(struct pvkvm_watch_event, path_len), 8);
	cr_assert_eq(offsetof(struct pvkvm_watch_event, reserved), 12);
	cr_assert_eq(offsetof(struct pvkvm_watch_event, path), 16);
}

/* ---- which keys the guest may create ------------------------------------------- */

Test(store_hc, guest_writes_only_under_device_and_data)
{
	cr_expect_eq(g_write("device/x/0/state", "1"), 0);
	cr_expect_eq(g_write("data/anything", "1"), 0);
	cr_expect_eq(g_write("backend/x/0/state", "4"), -PVKVM_EACCES);
	cr_expect_eq(g_write("platform/ata/0/io-base", "0"), -PVKVM_EACCES);
	cr_expect_eq(g_write("control/shutdown", "1"), -PVKVM_EACCES, "no new top-level key");
	cr_expect_eq(g_write("device", "1"), -PVKVM_EACCES, "not the top-level node itself");
	cr_expect_eq(g_write("devicex/y", "1"), -PVKVM_EACCES, "component-wise");
	cr_expect_eq(hc(PVKVM_HC_STORE_REMOVE, gstr_at(0, "backend"), 7, 0, 0), -PVKVM_EACCES);
	cr_expect_eq(hc(PVKVM_HC_STORE_REMOVE, gstr_at(0, "data"), 4, 0, 0), -PVKVM_EACCES,
		     "the top-level directories stay");
	cr_expect_eq(hc(PVKVM_HC_STORE_REMOVE, gstr_at(0, "data/anything"), 13, 0, 0), 0);
}

/* ---- the guest's quota ----------------------------------------------------------- */

Test(store_hc, a_guest_filling_its_quota_never_fails_a_host_key)
{
	store_set_guest_quota(vm.store, 64 * 1024);
	cr_assert_eq(g_write("data/seed", ""), 0);
	size_t base = store_guest_bytes(vm.store);
	cr_assert_gt(base, 0, "the guest's nodes are charged");
	char path[64], val[1024];
	memset(val, 'v', sizeof(val));
	val[sizeof(val) - 1] = '\0';
	int i, rc = 0;
	for (i = 0; i < 1000; i++) {
		snprintf(path, sizeof(path), "data/fill/%d", i);
		rc = (int)g_write(path, val);
		if (rc)
			break;
	}
	cr_assert_eq(rc, -PVKVM_ENOSPC, "the quota never bit (%d keys)", i);
	cr_expect_leq(store_guest_bytes(vm.store), 64 * 1024);
	cr_expect_geq(i, 50, "64 KiB holds at least 50 keys of 1 KiB");
	/* a refused write changed nothing */
	cr_expect_eq(store_read(vm.store, path, NULL, 0), -PVKVM_ENOENT);
	/* the host's own keys still go in, big or many */
	for (int k = 0; k < 200; k++) {
		snprintf(path, sizeof(path), "backend/blk/0/err%d", k);
		cr_assert_eq(store_write(vm.store, path, val, strlen(val)), 0, "host key %d", k);
	}
	/* removing gives the bytes back */
	cr_assert_eq(hc(PVKVM_HC_STORE_REMOVE, gstr_at(0, "data/fill"), 9, 0, 0), 0);
	cr_expect_eq(store_guest_bytes(vm.store), base, "all refunded");
	cr_expect_eq(g_write("data/again", val), 0);
}

Test(store_hc, quota_counts_bytes_not_nodes)
{
	store_set_guest_quota(vm.store, 4096);
	char val[2000];
	memset(val, 'v', sizeof(val));
	val[sizeof(val) - 1] = '\0';
	cr_assert_eq(g_write("data/a", val), 0);
	cr_assert_eq(g_write("data/b", val), -PVKVM_ENOSPC, "two 2 KB values do not fit 4 KiB");
	cr_assert_eq(g_write("data/b", "small"), 0, "but a small one does");
	/* overwriting with a shorter value refunds the difference */
	cr_assert_eq(g_write("data/a", "x"), 0);
	cr_assert_eq(g_write("data/c", val), 0);
}
