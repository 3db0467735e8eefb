// SPDX-License-Identifier: MIT
#include "gnttab.h"

#include "hypercall.h"
#include "klib.h"
#include "mm.h"

static struct pvkvm_grant_entry *table;
static uint32_t nr_entries;
static uint32_t next_hint = 1;
static struct spinlock grant_lock;

int gnttab_init(uint32_t n)
{
	size_t pages;
	int64_t r;

	if (n < 2 || n > PVKVM_GRANT_MAX_ENTRIES)
		return -PVKVM_EINVAL;
	pages = ALIGN_UP(n * sizeof(*table), PAGE_SIZE) / PAGE_SIZE;
	table = page_alloc(pages);
	if (!table)
		return -PVKVM_ENOMEM;
	r = hc2(PVKVM_HC_GNTTAB_SETUP, table, n);
	if (r < 0) {
		page_free(table, pages);
		table = NULL;
		return (int)r;
	}
	nr_entries = n;
	return 0;
}

uint32_t gnttab_size(void)
{
	return nr_entries;
}

const struct pvkvm_grant_entry *gnttab_entry(uint32_t ref)
{
	return ref && ref < nr_entries ? &table[ref] : NULL;
}

/* A free entry has flags 0 and frame 0; a granted one never has frame 0
 * here, because page 0 is the VMM's and is never granted. We still keep the
 * claim under the lock: flags alone cannot tell "free" from "being filled". */
static int claim_free_ref(void)
{
	for (uint32_t i = 0; i < nr_entries - 1; i++) {
		uint32_t ref = 1 + (next_hint - 1 + i) % (nr_entries - 1);

		if (!table[ref].frame &&
		    !__atomic_load_n(&table[ref].flags, __ATOMIC_ACQUIRE)) {
			next_hint = ref + 1 < nr_entries ? ref + 1 : 1;
			return (int)ref;
		}
	}
	return -PVKVM_ENOSPC;
}

int gnttab_grant(uint64_t frame, bool readonly)
{
	uint16_t flags = PVKVM_GTF_PERMIT | (readonly ? PVKVM_GTF_READONLY : 0);
	int ref;

	if (!frame || frame > UINT32_MAX)
		return -PVKVM_EINVAL;
	spin_lock(&grant_lock);
	ref = claim_free_ref();
	if (ref > 0) {
		table[ref].domid = 0;
		table[ref].frame = (uint32_t)frame;
		/* The host must never see PERMIT before the frame. */
		__atomic_store_n(&table[ref].flags, flags, __ATOMIC_RELEASE);
	}
	spin_unlock(&grant_lock);
	return ref;
}

int gnttab_end_access(uint32_t ref)
{
	uint16_t flags;

	if (!ref || ref >= nr_entries)
		return -PVKVM_EINVAL;
	flags = __atomic_load_n(&table[ref].flags, __ATOMIC_ACQUIRE);
	if (!(flags & PVKVM_GTF_PERMIT))
		return -PVKVM_EINVAL;
	if (flags & (PVKVM_GTF_READING | PVKVM_GTF_WRITING))
		return -PVKVM_EBUSY;
	/* Fails if the host set READING/WRITING since the load above. */
	if (!__atomic_compare_exchange_n(&table[ref].flags, &flags, 0, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return -PVKVM_EBUSY;
	spin_lock(&grant_lock);
	table[ref].frame = 0;
	spin_unlock(&grant_lock);
	return 0;
}
