// SPDX-License-Identifier: MIT
/* The config store: tree operations, path rules and watch semantics. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host/services/store.h"
#include "hypercall/pvkvm_abi.h"

static struct store *s;

static void setup(void) { s = store_new(); cr_assert(s); }
static void teardown(void) { store_free(s); }

TestSuite(store, .init = setup, .fini = teardown);

static void assert_value(const char *path, const char *want)
{
	char buf[64] = { 0 };
	ssize_t n = store_read(s, path, buf, sizeof(buf) - 1);
	cr_assert_eq(n, (ssize_t)strlen(want), "%s: length %zd", path, n);
	cr_assert_str_eq(buf, want);
}

Test(store, write_read_overwrite)
{
	cr_assert_eq(store_write(s, "a/b/c", "one", 3), 0);
	assert_value("a/b/c", "one");
	cr_assert_eq(store_printf(s, "a/b/c", "%d", 42), 0);
	assert_value("a/b/c", "42");
	uint64_t v = 0;
	cr_assert_eq(store_read_u64(s, "a/b/c", &v), 0);
	cr_assert_eq(v, 42);
	/* the parents exist, empty */
	cr_assert_eq(store_read(s, "a/b", NULL, 0), 0);
	cr_assert_eq(store_read(s, "a/x", NULL, 0), -PVKVM_ENOENT);
}

Test(store, read_truncates_but_reports_full_length)
{
	cr_assert_eq(store_write(s, "k", "abcdef", 6), 0);
	char buf[3];
	cr_assert_eq(store_read(s, "k", buf, sizeof(buf)), 6);
	cr_assert_eq(memcmp(buf, "abc", 3), 0);
}

Test(store, read_u64_rejects_garbage)
{
	uint64_t v;
	store_write(s, "n", "12x", 3);
	cr_assert_eq(store_read_u64(s, "n", &v), -PVKVM_EINVAL);
	store_write(s, "n", "", 0);
	cr_assert_eq(store_read_u64(s, "n", &v), -PVKVM_EINVAL);
	store_write(s, "n", "18446744073709551616", 20); /* 2^64 */
	cr_assert_eq(store_read_u64(s, "n", &v), -PVKVM_EINVAL);
	store_write(s, "n", "18446744073709551615", 20);
	cr_assert_eq(store_read_u64(s, "n", &v), 0);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(store_read_u64(s, "none", &v), -PVKVM_ENOENT);
}

Test(store, list_children_sorted_and_truncated)
{
	store_write(s, "d/b", "", 0);
	store_write(s, "d/a", "", 0);
	store_write(s, "d/c/deep", "", 0);
	char buf[16];
	ssize_t n = store_list(s, "d", buf, sizeof(buf));
	cr_assert_eq(n, 6);
	cr_assert_eq(memcmp(buf, "a\0b\0c\0", 6), 0);
	cr_assert_eq(store_list(s, "d", buf, 3), 6);
	cr_assert_eq(memcmp(buf, "a\0b", 3), 0);
	cr_assert_eq(store_list(s, "", buf, sizeof(buf)), 2); /* "d\0" */
	cr_assert_eq(store_list(s, "nope", buf, sizeof(buf)), -PVKVM_ENOENT);
}

Test(store, remove_subtree)
{
	store_write(s, "x/y/z", "1", 1);
	store_write(s, "x/y2", "2", 1);
	cr_assert_eq(store_remove(s, "x/y"), 0);
	cr_assert_eq(store_read(s, "x/y/z", NULL, 0), -PVKVM_ENOENT);
	cr_assert_eq(store_read(s, "x/y", NULL, 0), -PVKVM_ENOENT);
	assert_value("x/y2", "2");
	cr_assert_eq(store_remove(s, "x/y"), -PVKVM_ENOENT);
}

Test(store, bad_paths_rejected)
{
	const char *bad[] = { "", "/a", "a/", "a//b", "a/../b", "..", "a/.",
			      "sp ace", "tab\tx", "\x7f" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(store_write(s, bad[i], "v", 1), -PVKVM_EINVAL,
			     "path '%s'", bad[i]);
		cr_assert_eq(store_remove(s, bad[i]), -PVKVM_EINVAL);
	}
	char longp[PVKVM_STORE_PATH_MAX + 1];
	memset(longp, 'p', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = 0;
	cr_assert_eq(store_write(s, longp, "v", 1), -PVKVM_EINVAL);
	longp[PVKVM_STORE_PATH_MAX - 1] = 0; /* 255 bytes: fits an event */
	cr_assert_eq(store_write(s, longp, "v", 1), 0);
}

Test(store, value_too_long)
{
	static char big[PVKVM_STORE_VALUE_MAX + 1];
	cr_assert_eq(store_write(s, "v", big, sizeof(big)), -PVKVM_E2BIG);
	cr_assert_eq(store_write(s, "v", big, sizeof(big) - 1), 0);
}

/* ---- watches ------------------------------------------------------------- */

struct rec {
	int count;
	char last[PVKVM_STORE_PATH_MAX];
	uint64_t token;
};

static void record(void *arg, const char *path, uint64_t token)
{
	struct rec *r = arg;
	r->count++;
	snprintf(r->last, sizeof(r->last), "%s", path);
	r->token = token;
}

Test(store, watch_fires_once_on_add_then_at_or_below)
{
	struct rec r = { 0 };
	struct store_watch *w = store_watch_add(s, "a/b", 7, record, &r);
	cr_assert(w);
	cr_assert_eq(r.count, 1);
	cr_assert_str_eq(r.last, "a/b");
	cr_assert_eq(r.token, 7);

	store_write(s, "a/b", "1", 1);
	cr_assert_eq(r.count, 2);
	store_write(s, "a/b/c", "1", 1);
	cr_assert_eq(r.count, 3);
	cr_assert_str_eq(r.last, "a/b/c");

	/* component-wise: neither a sibling with the same prefix nor a parent */
	store_write(s, "a/bc", "1", 1);
	store_write(s, "a", "1", 1);
	cr_assert_eq(r.count, 3);

	/* removing an ancestor takes the watched node with it */
	store_remove(s, "a");
	cr_assert_eq(r.count, 4);
	cr_assert_str_eq(r.last, "a");

	store_watch_remove(s, w);
	store_write(s, "a/b", "1", 1);
	cr_assert_eq(r.count, 4);
}

Test(store, root_watch_sees_everything)
{
	struct rec r = { 0 };
	struct store_watch *w = store_watch_add(s, "", 1, record, &r);
	store_write(s, "q", "1", 1);
	store_write(s, "z/y", "1", 1);
	cr_assert_eq(r.count, 3);
	store_watch_remove(s, w);
}

/* A callback that writes the store and removes its own watch. */
struct reentrant {
	struct store_watch *w;
	int calls;
};

static void reenter(void *arg, const char *path, uint64_t token)
{
	(void)path;
	(void)token;
	struct reentrant *re = arg;
	re->calls++;
	char buf[8];
	store_read(s, "r/k", buf, sizeof(buf));
	store_write(s, "elsewhere", "1", 1);
	if (re->calls == 2)
		store_watch_remove(s, re->w);
}

Test(store, reentrant_callback_may_write_and_remove_itself)
{
	struct reentrant re = { 0 };
	re.w = store_watch_add(s, "r", 0, reenter, &re);
	cr_assert(re.w);
	cr_assert_eq(re.calls, 1);
	store_write(s, "r/k", "1", 1); /* call 2 removes the watch */
	store_write(s, "r/k", "2", 1);
	cr_assert_eq(re.calls, 2);
}

/* store_watch_remove() must wait for a callback running on another thread. */
struct slow {
	atomic_int inside;
	atomic_int finished;
};

static void slow_cb(void *arg, const char *path, uint64_t token)
{
	(void)token;
	struct slow *sl = arg;
	if (strcmp(path, "w/go") != 0)
		return;
	atomic_store(&sl->inside, 1);
	usleep(100 * 1000);
	atomic_store(&sl->finished, 1);
}

static void *writer(void *arg)
{
	(void)arg;
	store_write(s, "w/go", "1", 1);
	return NULL;
}

Test(store, remove_waits_for_running_callback)
{
	struct slow sl = { 0 };
	struct store_watch *w = store_watch_add(s, "w", 0, slow_cb, &sl);
	pthread_t t;
	pthread_create(&t, NULL, writer, NULL);
	while (!atomic_load(&sl.inside))
		usleep(1000);
	store_watch_remove(s, w);
	cr_assert_eq(atomic_load(&sl.finished), 1,
		     "remove returned while the callback still ran");
	pthread_join(t, NULL);
}

/* Many threads writing while watches come and go: no crash, no race. */
static void count_cb(void *arg, const char *path, uint64_t token)
{
	(void)path;
	(void)token;
	atomic_fetch_add((atomic_int *)arg, 1);
}

static void *churn(void *arg)
{
	(void)arg;
	for (int i = 0; i < 300; i++)
		store_printf(s, "c/k", "%d", i);
	return NULL;
}

Test(store, concurrent_writes_and_watch_churn)
{
	atomic_int hits = 0;
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, churn, NULL);
	for (int i = 0; i < 100; i++) {
		struct store_watch *w = store_watch_add(s, "c", 0, count_cb, &hits);
		store_watch_remove(s, w);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	cr_assert_geq(atomic_load(&hits), 100);
}

/* The guest's quota is its own: a guest at its limit, even a limit of 0,
 * never makes a host write fail (issue 8). */
Test(store, guest_quota_never_limits_the_host)
{
	store_set_guest_quota(s, 0);
	cr_assert_eq(store_write_guest(s, "data/x", "1", 1), -PVKVM_ENOSPC);
	cr_assert_eq(store_read(s, "data", NULL, 0), -PVKVM_ENOENT, "nothing half-made");
	cr_assert_eq(store_guest_bytes(s), 0);
	char path[32];
	/* more nodes than the old cap (16384) that host and guest shared */
	for (int i = 0; i < 17000; i++) { /* two levels: sorted inserts stay short */
		snprintf(path, sizeof(path), "backend/many/%d/%d", i / 100, i % 100);
		cr_assert_eq(store_write(s, path, "", 0), 0, "host key %d", i);
	}
	/* a host overwrite of a guest value takes it over: refunded */
	store_set_guest_quota(s, 4096);
	cr_assert_eq(store_write_guest(s, "data/v", "0123456789", 10), 0);
	size_t with_value = store_guest_bytes(s);
	cr_assert_eq(store_write(s, "data/v", "host", 4), 0);
	cr_assert_eq(store_guest_bytes(s), with_value - 10);
}
