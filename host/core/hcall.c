// SPDX-License-Identifier: MIT
/*
 * The hypercall dispatch table: one RCU-protected pointer per number.
 *
 * Handlers may block (WAIT sleeps until an event), and a vCPU must never sit
 * in an RCU read-side section while it sleeps or every grace period would
 * wait for it. So a lookup only pins the entry (a reference count taken
 * inside the read-side section) and calls the handler outside it.
 * Unregistering unpublishes the entry, waits a grace period (after which no
 * new reference can be taken), then waits for the references to drain.
 *
 * The slots are C11 atomics rather than rcu_dereference(): the ordering is
 * the same, and ThreadSanitizer understands it.
 */
#include "host/core/hcall.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <urcu.h>

#include "host/util/rcu_reader.h"

#include "hypercall/pvkvm_abi.h"

struct hcall_entry {
	hcall_fn fn;
	void *ctx;
	atomic_long refs; /* callers inside fn right now */
};

struct hcall_table {
	_Atomic(struct hcall_entry *) slots[PVKVM_HYPERCALL_MAX];
	/* Kept after unregister, for the statistics printed at exit. */
	_Atomic(const char *) names[PVKVM_HYPERCALL_MAX];
	pthread_mutex_t update_lock; /* serialises register/unregister */
};

struct hcall_table *hcall_table_new(void)
{
	struct hcall_table *t = calloc(1, sizeof(*t));
	if (t)
		pthread_mutex_init(&t->update_lock, NULL);
	return t;
}

void hcall_table_free(struct hcall_table *t)
{
	if (!t)
		return;
	for (unsigned int nr = 0; nr < PVKVM_HYPERCALL_MAX; nr++)
		free(atomic_load(&t->slots[nr]));
	pthread_mutex_destroy(&t->update_lock);
	free(t);
}

int hcall_register(struct hcall_table *t, unsigned int nr, const char *name,
		   hcall_fn fn, void *ctx)
{
	if (nr >= PVKVM_HYPERCALL_MAX || !fn)
		return -EINVAL;
	struct hcall_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->fn = fn;
	e->ctx = ctx;
	pthread_mutex_lock(&t->update_lock);
	int r = 0;
	if (atomic_load_explicit(&t->slots[nr], memory_order_relaxed)) {
		r = -EEXIST;
		free(e);
	} else {
		atomic_store_explicit(&t->names[nr], name, memory_order_release);
		atomic_store_explicit(&t->slots[nr], e, memory_order_release);
	}
	pthread_mutex_unlock(&t->update_lock);
	return r;
}

static void wait_for_callers(struct hcall_entry *e)
{
	const struct timespec nap = {.tv_nsec = 100 * 1000};
	while (atomic_load_explicit(&e->refs, memory_order_acquire) != 0)
		nanosleep(&nap, NULL);
}

int hcall_unregister(struct hcall_table *t, unsigned int nr)
{
	if (nr >= PVKVM_HYPERCALL_MAX)
		return -ENOENT;
	pthread_mutex_lock(&t->update_lock);
	struct hcall_entry *e = atomic_exchange_explicit(&t->slots[nr], NULL,
							 memory_order_acq_rel);
	pthread_mutex_unlock(&t->update_lock);
	if (!e)
		return -ENOENT;
	synchronize_rcu(); /* no reader can still be about to pin e */
	wait_for_callers(e);
	free(e);
	return 0;
}

static struct hcall_entry *pin_entry(struct hcall_table *t, unsigned int nr)
{
	rcu_reader_assert("hcall_dispatch");
	rcu_read_lock();
	struct hcall_entry *e =
		atomic_load_explicit(&t->slots[nr], memory_order_acquire);
	if (e)
		atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
	rcu_read_unlock();
	return e;
}

int64_t hcall_dispatch(struct hcall_table *t, struct vcpu *v, unsigned int nr,
		       const uint64_t args[HCALL_NARGS])
{
	if (nr >= PVKVM_HYPERCALL_MAX)
		return -PVKVM_ENOSYS;
	struct hcall_entry *e = pin_entry(t, nr);
	if (!e)
		return -PVKVM_ENOSYS;
	int64_t ret = e->fn(v, e->ctx, args);
	atomic_fetch_sub_explicit(&e->refs, 1, memory_order_release);
	return ret;
}

const char *hcall_name(struct hcall_table *t, unsigned int nr)
{
	if (nr >= PVKVM_HYPERCALL_MAX)
		return NULL;
	return atomic_load_explicit(&t->names[nr], memory_order_acquire);
}
