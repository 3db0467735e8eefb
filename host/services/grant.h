/* SPDX-License-Identifier: MIT */
/*
 * The grant table: the only way a backend reaches guest memory.
 *
 * The guest keeps the table in its own RAM (PVKVM_HC_GNTTAB_SETUP). Every
 * access names a grant reference; the entry is read from shared memory once,
 * checked (PERMIT, READONLY against the access, grantee, frame a page the
 * guest may itself touch that way, offset and length inside the page
 * without overflow), and marked in use (READING /
 * WRITING, by compare-and-swap) for as long as the backend holds it, so the
 * guest cannot revoke a page under an I/O in flight.
 */
#ifndef PVKVM_GRANT_H
#define PVKVM_GRANT_H

#include <stdbool.h>
#include <stdint.h>

struct guest_mem;
struct grant_table;
struct vm;

enum grant_access { GRANT_READ = 1, GRANT_WRITE = 2 };

/* A page held by the backend. */
struct grant_map {
	uint8_t *page;       /* host address of the granted 4 KiB page */
	uint32_t ref;
	uint16_t in_use;     /* PVKVM_GTF_READING or PVKVM_GTF_WRITING */
	struct grant_table *table;
	/* private: the held entry's flags, in the table it was mapped from
	 * (a re-setup must not move the unmap to another entry) */
	uint16_t *entry_flags;
};

struct grant_table *grant_table_new(const struct guest_mem *m);
void grant_table_free(struct grant_table *t);

/* The hypercall: 0, -PVKVM_EINVAL (size, alignment), -PVKVM_EFAULT (range). */
int grant_table_setup(struct grant_table *t, uint64_t gpa, uint32_t nr_entries);

/*
 * Holds ref for acc. 0, or -PVKVM_ENOENT (no table, ref out of range or 0,
 * not PERMIT), -PVKVM_EACCES (write to a READONLY grant), -PVKVM_EPERM
 * (the entry's domid is not PVKVM_GRANT_DOMID_HOST), -PVKVM_EFAULT (frame
 * outside RAM, or a page the guest may not itself access that way:
 * guest_mem.h), -PVKVM_EBUSY (already held: one holder per reference).
 * The calling thread must be an RCU reader (rcu_reader.h); it is checked.
 */
int grant_map(struct grant_table *t, uint32_t ref, enum grant_access acc,
	      struct grant_map *out);
void grant_unmap(struct grant_map *map);

/* One-shot copies: map, check offset + len <= page, copy, unmap. */
int grant_copy_from(struct grant_table *t, uint32_t ref, uint32_t offset,
		    void *dst, uint32_t len);
int grant_copy_to(struct grant_table *t, uint32_t ref, uint32_t offset,
		  const void *src, uint32_t len);

int grant_register_hypercalls(struct vm *vm);

#endif
