// SPDX-License-Identifier: MIT
/*
 * The grant table: a backend reaches guest memory only through a reference
 * the guest granted, checked here.
 *
 * The table's location (gpa, size) is a small descriptor published under
 * RCU: a re-setup swaps it while maps are in flight, and frees the old one
 * after a grace period. A held map remembers its own entry, so an unmap
 * after a re-setup still releases the entry it took. The entries themselves
 * live in guest RAM and the guest changes them at any time: each is read
 * once, and the in-use bit is taken with the guest's own compare-and-swap
 * protocol (pvkvm_abi.h), so a revoke and a map can never both succeed.
 */
#include "host/services/grant.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <urcu.h>

#include "host/mem/guest_mem.h"
#include "host/core/hcall.h"
#include "host/core/vm.h"
#include "host/util/rcu_reader.h"
#include "hypercall/pvkvm_abi.h"

/*
 * liburcu 0.13 is not instrumented for ThreadSanitizer, so TSan cannot see
 * that a grace period orders a reader's last access before the free. These
 * two annotations tell it exactly that, and nothing more.
 */
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
static char grace_period_token;
#define TSAN_READER_DONE() __tsan_release(&grace_period_token)
#define TSAN_GRACE_PERIOD_DONE() __tsan_acquire(&grace_period_token)
#else
#define TSAN_READER_DONE() ((void)0)
#define TSAN_GRACE_PERIOD_DONE() ((void)0)
#endif

struct grant_desc {
	uint64_t gpa;
	uint32_t nr_entries;
};

struct grant_table {
	const struct guest_mem *mem;
	_Atomic(struct grant_desc *) desc; /* NULL until the guest sets up */
	pthread_mutex_t setup_lock;        /* orders re-setups */
};

struct grant_table *grant_table_new(const struct guest_mem *m)
{
	struct grant_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->mem = m;
	pthread_mutex_init(&t->setup_lock, NULL);
	return t;
}

void grant_table_free(struct grant_table *t)
{
	if (!t)
		return;
	free(atomic_load(&t->desc)); /* no reader is left at teardown */
	pthread_mutex_destroy(&t->setup_lock);
	free(t);
}

int grant_table_setup(struct grant_table *t, uint64_t gpa, uint32_t nr_entries)
{
	if (nr_entries == 0 || nr_entries > PVKVM_GRANT_MAX_ENTRIES)
		return -PVKVM_EINVAL;
	if (gpa % PVKVM_PAGE_SIZE)
		return -PVKVM_EINVAL;
	uint64_t bytes = (uint64_t)nr_entries * sizeof(struct pvkvm_grant_entry);
	/* The guest writes its entries and we write their flags: the table must
	 * be memory the guest may read and write itself. */
	if (!gmem_guest_ok(t->mem, gpa, bytes, GMEM_RW))
		return -PVKVM_EFAULT;

	struct grant_desc *d = malloc(sizeof(*d));
	if (!d)
		return -PVKVM_ENOMEM;
	d->gpa = gpa;
	d->nr_entries = nr_entries;

	pthread_mutex_lock(&t->setup_lock);
	struct grant_desc *old = atomic_exchange_explicit(&t->desc, d,
							  memory_order_acq_rel);
	pthread_mutex_unlock(&t->setup_lock);
	if (old) {
		synchronize_rcu();
		TSAN_GRACE_PERIOD_DONE();
		free(old);
	}
	return 0;
}

/* The flags word of entry ref in guest RAM, or NULL when ref is not valid. */
static uint16_t *entry_flags_of(struct grant_table *t, uint32_t ref)
{
	uint16_t *flags = NULL;
	rcu_reader_assert("grant_map");
	rcu_read_lock();
	struct grant_desc *d = atomic_load_explicit(&t->desc,
						    memory_order_acquire);
	if (d && ref != 0 && ref < d->nr_entries) {
		uint64_t off = (uint64_t)ref * sizeof(struct pvkvm_grant_entry);
		flags = gmem_ptr(t->mem, d->gpa + off,
				 sizeof(struct pvkvm_grant_entry));
	}
	TSAN_READER_DONE();
	rcu_read_unlock();
	return flags;
}

static uint32_t entry_frame(const uint16_t *flags)
{
	const uint32_t *frame = (const uint32_t *)(const void *)(flags + 2);
	return __atomic_load_n(frame, __ATOMIC_RELAXED);
}

static uint16_t entry_domid(const uint16_t *flags)
{
	return __atomic_load_n(flags + 1, __ATOMIC_RELAXED);
}

/*
 * Sets `bit` on the guest's flags if the grant allows acc. The guest may
 * change the word between our read and the CAS; a failed CAS re-reads and
 * re-checks, a bounded number of times so a guest flipping bits in a loop
 * cannot keep a backend thread here.
 */
static int take_entry(uint16_t *flags, enum grant_access acc, uint16_t bit)
{
	uint16_t cur = __atomic_load_n(flags, __ATOMIC_ACQUIRE);
	for (int tries = 0; tries < 16; tries++) {
		if (!(cur & PVKVM_GTF_PERMIT))
			return -PVKVM_ENOENT;
		if (acc == GRANT_WRITE && (cur & PVKVM_GTF_READONLY))
			return -PVKVM_EACCES;
		if (cur & (PVKVM_GTF_READING | PVKVM_GTF_WRITING))
			return -PVKVM_EBUSY;
		if (__atomic_compare_exchange_n(flags, &cur, cur | bit, false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return 0;
	}
	return -PVKVM_EBUSY;
}

static void release_entry(uint16_t *flags, uint16_t bit)
{
	__atomic_fetch_and(flags, (uint16_t)~bit, __ATOMIC_RELEASE);
}

int grant_map(struct grant_table *t, uint32_t ref, enum grant_access acc,
	      struct grant_map *out)
{
	memset(out, 0, sizeof(*out));
	if (acc != GRANT_READ && acc != GRANT_WRITE)
		return -PVKVM_EINVAL;
	uint16_t *flags = entry_flags_of(t, ref);
	if (!flags)
		return -PVKVM_ENOENT;
	uint16_t bit = acc == GRANT_WRITE ? PVKVM_GTF_WRITING : PVKVM_GTF_READING;
	int rc = take_entry(flags, acc, bit);
	if (rc)
		return rc;

	/* Held: the frontend can no longer revoke, so this is the entry it
	 * granted. Read grantee and frame once each. The grantee must be the
	 * VMM's backends (PVKVM_GRANT_DOMID_HOST); the frame a page the guest
	 * may itself access as the backend will (gmem_guest_ptr: never the
	 * VMM's supervisor pages, start-info, or write-protected text for a
	 * write). */
	if (entry_domid(flags) != PVKVM_GRANT_DOMID_HOST) {
		release_entry(flags, bit);
		return -PVKVM_EPERM;
	}
	uint64_t gpa = (uint64_t)entry_frame(flags) * PVKVM_PAGE_SIZE;
	uint8_t *page = gmem_guest_ptr(t->mem, gpa, PVKVM_PAGE_SIZE,
				       acc == GRANT_WRITE ? GMEM_WRITE : GMEM_READ);
	if (!page) {
		release_entry(flags, bit);
		return -PVKVM_EFAULT;
	}
	out->page = page;
	out->ref = ref;
	out->in_use = bit;
	out->table = t;
	out->entry_flags = flags;
	return 0;
}

void grant_unmap(struct grant_map *map)
{
	if (!map->entry_flags)
		return;
	release_entry(map->entry_flags, map->in_use);
	memset(map, 0, sizeof(*map));
}

static bool page_span_ok(uint32_t offset, uint32_t len)
{
	return offset <= PVKVM_PAGE_SIZE && len <= PVKVM_PAGE_SIZE - offset;
}

int grant_copy_from(struct grant_table *t, uint32_t ref, uint32_t offset,
		    void *dst, uint32_t len)
{
	if (!page_span_ok(offset, len))
		return -PVKVM_EINVAL;
	struct grant_map m;
	int rc = grant_map(t, ref, GRANT_READ, &m);
	if (rc)
		return rc;
	memcpy(dst, m.page + offset, len);
	grant_unmap(&m);
	return 0;
}

int grant_copy_to(struct grant_table *t, uint32_t ref, uint32_t offset,
		  const void *src, uint32_t len)
{
	if (!page_span_ok(offset, len))
		return -PVKVM_EINVAL;
	struct grant_map m;
	int rc = grant_map(t, ref, GRANT_WRITE, &m);
	if (rc)
		return rc;
	memcpy(m.page + offset, src, len);
	grant_unmap(&m);
	return 0;
}

static int64_t hc_gnttab_setup(struct vcpu *v, void *ctx,
			       const uint64_t args[HCALL_NARGS])
{
	(void)v;
	if (args[1] > PVKVM_GRANT_MAX_ENTRIES)
		return -PVKVM_EINVAL;
	return grant_table_setup(ctx, args[0], (uint32_t)args[1]);
}

int grant_register_hypercalls(struct vm *vm)
{
	return hcall_register(vm->hcalls, PVKVM_HC_GNTTAB_SETUP, "gnttab_setup",
			      hc_gnttab_setup, vm->grants);
}
