// SPDX-License-Identifier: MIT
/* The grant table against a hostile or careless guest. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdatomic.h>
#include <string.h>
#include <urcu.h>

#include "host/services/grant.h"
#include "host/mem/guest_mem.h"
#include "hypercall/pvkvm_abi.h"

#define MEM_SIZE (2ull << 20)
#define TABLE_GPA 0x100000ull /* the lowest gpa the guest may use */
#define NR 16u
#define PAGE(n) (0x110000ull + (n) * PVKVM_PAGE_SIZE)

static struct guest_mem mem;
static struct grant_table *gt;
static struct pvkvm_grant_entry *table; /* the guest's view */

static void setup(void)
{
	cr_assert_eq(gmem_create(&mem, MEM_SIZE), 0);
	/* the CPL3 layout: the VMM's pages below 1 MiB (x86_cpl3.c) */
	cr_assert_eq(gmem_set_access(&mem, 0, PVKVM_GUEST_LOAD_MIN, GMEM_NONE), 0);
	rcu_register_thread(); /* grant_map reads under RCU, and checks it */
	gt = grant_table_new(&mem);
	cr_assert(gt);
	table = gmem_ptr(&mem, TABLE_GPA, NR * sizeof(*table));
	cr_assert_eq(grant_table_setup(gt, TABLE_GPA, NR), 0);
}

static void teardown(void)
{
	grant_table_free(gt);
	gmem_destroy(&mem);
	rcu_unregister_thread();
}

TestSuite(grant, .init = setup, .fini = teardown);

/* What a frontend does: frame first, then flags with release. */
static void guest_grant(uint32_t ref, uint64_t gpa, uint16_t extra)
{
	table[ref].frame = (uint32_t)(gpa / PVKVM_PAGE_SIZE);
	__atomic_store_n(&table[ref].flags, PVKVM_GTF_PERMIT | extra,
			 __ATOMIC_RELEASE);
}

/* What a frontend does to revoke: CAS PERMIT[|RO] -> 0. */
static bool guest_revoke(uint32_t ref)
{
	uint16_t cur = __atomic_load_n(&table[ref].flags, __ATOMIC_ACQUIRE);
	if (cur & (PVKVM_GTF_READING | PVKVM_GTF_WRITING))
		return false;
	return __atomic_compare_exchange_n(&table[ref].flags, &cur, 0, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

Test(grant, map_write_read_roundtrip)
{
	guest_grant(1, PAGE(0), 0);
	struct grant_map m;
	cr_assert_eq(grant_map(gt, 1, GRANT_WRITE, &m), 0);
	cr_assert_eq(m.page, gmem_ptr(&mem, PAGE(0), PVKVM_PAGE_SIZE));
	cr_assert_eq(table[1].flags, PVKVM_GTF_PERMIT | PVKVM_GTF_WRITING);
	grant_unmap(&m);
	cr_assert_eq(table[1].flags, PVKVM_GTF_PERMIT);

	cr_assert_eq(grant_copy_to(gt, 1, 4088, "pvkvm-ok", 8), 0);
	char back[8];
	cr_assert_eq(grant_copy_from(gt, 1, 4088, back, 8), 0);
	cr_assert_eq(memcmp(back, "pvkvm-ok", 8), 0);
	cr_assert_eq(memcmp((char *)gmem_ptr(&mem, PAGE(0) + 4088, 8),
			    "pvkvm-ok", 8), 0);
	cr_assert_eq(table[1].flags, PVKVM_GTF_PERMIT);
}

Test(grant, no_table_yet)
{
	struct grant_table *fresh = grant_table_new(&mem);
	struct grant_map m;
	guest_grant(1, PAGE(0), 0);
	cr_assert_eq(grant_map(fresh, 1, GRANT_READ, &m), -PVKVM_ENOENT);
	grant_table_free(fresh);
}

Test(grant, ref_zero_and_out_of_range)
{
	guest_grant(0, PAGE(0), 0);
	struct grant_map m;
	cr_assert_eq(grant_map(gt, 0, GRANT_READ, &m), -PVKVM_ENOENT);
	cr_assert_eq(grant_map(gt, NR, GRANT_READ, &m), -PVKVM_ENOENT);
	cr_assert_eq(grant_map(gt, UINT32_MAX, GRANT_READ, &m), -PVKVM_ENOENT);
	cr_assert_eq(table[0].flags, PVKVM_GTF_PERMIT, "ref 0 touched");
}

Test(grant, not_permitted)
{
	table[2].frame = PAGE(0) / PVKVM_PAGE_SIZE;
	struct grant_map m;
	cr_assert_eq(grant_map(gt, 2, GRANT_READ, &m), -PVKVM_ENOENT);
	cr_assert_eq(table[2].flags, 0);
}

Test(grant, write_to_readonly_denied_read_allowed)
{
	guest_grant(3, PAGE(1), PVKVM_GTF_READONLY);
	struct grant_map m;
	cr_assert_eq(grant_map(gt, 3, GRANT_WRITE, &m), -PVKVM_EACCES);
	cr_assert_eq(grant_copy_to(gt, 3, 0, "x", 1), -PVKVM_EACCES);
	cr_assert_eq(grant_map(gt, 3, GRANT_READ, &m), 0);
	cr_assert_eq(table[3].flags,
		     PVKVM_GTF_PERMIT | PVKVM_GTF_READONLY | PVKVM_GTF_READING);
	grant_unmap(&m);
}

Test(grant, revoke_fails_while_held_succeeds_after)
{
	guest_grant(4, PAGE(2), 0);
	struct grant_map m;
	cr_assert_eq(grant_map(gt, 4, GRANT_READ, &m), 0);
	cr_assert_not(guest_revoke(4), "revoked a page under an I/O");
	struct grant_map m2;
	cr_assert_eq(grant_map(gt, 4, GRANT_WRITE, &m2), -PVKVM_EBUSY);
	grant_unmap(&m);
	cr_assert(guest_revoke(4));
	cr_assert_eq(grant_map(gt, 4, GRANT_READ, &m), -PVKVM_ENOENT);
	cr_assert_eq(grant_copy_from(gt, 4, 0, &m, 1), -PVKVM_ENOENT);
}

Test(grant, offset_length_overflow)
{
	guest_grant(5, PAGE(3), 0);
	char buf[16];
	cr_assert_eq(grant_copy_from(gt, 5, 4090, buf, 7), -PVKVM_EINVAL);
	cr_assert_eq(grant_copy_from(gt, 5, 4097, buf, 0), -PVKVM_EINVAL);
	cr_assert_eq(grant_copy_from(gt, 5, UINT32_MAX, buf, 2), -PVKVM_EINVAL);
	cr_assert_eq(grant_copy_to(gt, 5, 2, buf, UINT32_MAX), -PVKVM_EINVAL);
	cr_assert_eq(grant_copy_from(gt, 5, 4096, buf, 0), 0);
	cr_assert_eq(table[5].flags, PVKVM_GTF_PERMIT);
}

Test(grant, frame_outside_ram_or_protected)
{
	struct grant_map m;
	guest_grant(6, MEM_SIZE, 0);
	cr_assert_eq(grant_map(gt, 6, GRANT_READ, &m), -PVKVM_EFAULT);
	cr_assert_eq(table[6].flags, PVKVM_GTF_PERMIT, "in-use bit left set");
	table[6].frame = UINT32_MAX;
	cr_assert_eq(grant_map(gt, 6, GRANT_READ, &m), -PVKVM_EFAULT);
	/* the VMM's page tables live below PVKVM_GUEST_LOAD_MIN */
	guest_grant(7, 0x1000, 0);
	cr_assert_eq(grant_map(gt, 7, GRANT_WRITE, &m), -PVKVM_EFAULT);
	cr_assert_eq(table[7].flags, PVKVM_GTF_PERMIT, "in-use bit left set");
	/* a page the guest owns (a CPL0 guest's low memory) can be granted */
	cr_assert_eq(gmem_set_access(&mem, 0x1000, PVKVM_PAGE_SIZE, GMEM_RW), 0);
	cr_assert_eq(grant_map(gt, 7, GRANT_WRITE, &m), 0);
	grant_unmap(&m);
}

Test(grant, setup_validation)
{
	cr_assert_eq(grant_table_setup(gt, TABLE_GPA + 8, NR), -PVKVM_EINVAL);
	cr_assert_eq(grant_table_setup(gt, TABLE_GPA, 0), -PVKVM_EINVAL);
	cr_assert_eq(grant_table_setup(gt, TABLE_GPA,
				       PVKVM_GRANT_MAX_ENTRIES + 1),
		     -PVKVM_EINVAL);
	/* partly outside RAM */
	cr_assert_eq(grant_table_setup(gt, MEM_SIZE - PVKVM_PAGE_SIZE, 513),
		     -PVKVM_EFAULT);
	cr_assert_eq(grant_table_setup(gt, MEM_SIZE - PVKVM_PAGE_SIZE, 512), 0);
	/* wholly outside, and where gpa + size would wrap */
	cr_assert_eq(grant_table_setup(gt, MEM_SIZE, 1), -PVKVM_EFAULT);
	cr_assert_eq(grant_table_setup(gt, 0xfffffffffffff000ull, 2),
		     -PVKVM_EFAULT);
	/* on top of the VMM's own pages */
	cr_assert_eq(grant_table_setup(gt, 0x1000, 2), -PVKVM_EFAULT);
}

Test(grant, resetup_keeps_inflight_map_on_old_table)
{
	guest_grant(1, PAGE(0), 0);
	struct grant_map m;
	cr_assert_eq(grant_map(gt, 1, GRANT_WRITE, &m), 0);

	uint64_t new_gpa = TABLE_GPA + PVKVM_PAGE_SIZE;
	struct pvkvm_grant_entry *t2 = gmem_ptr(&mem, new_gpa, 4 * sizeof(*t2));
	t2[1].frame = PAGE(5) / PVKVM_PAGE_SIZE;
	__atomic_store_n(&t2[1].flags, PVKVM_GTF_PERMIT, __ATOMIC_RELEASE);
	cr_assert_eq(grant_table_setup(gt, new_gpa, 4), 0);

	/* new lookups use the new table, the old holder releases the old */
	struct grant_map m2;
	cr_assert_eq(grant_map(gt, 1, GRANT_WRITE, &m2), 0);
	cr_assert_eq(m2.page, gmem_ptr(&mem, PAGE(5), PVKVM_PAGE_SIZE));
	struct grant_map m3; /* beyond the new, smaller table */
	cr_assert_eq(grant_map(gt, 5, GRANT_READ, &m3), -PVKVM_ENOENT);
	grant_unmap(&m);
	cr_assert_eq(table[1].flags, PVKVM_GTF_PERMIT);
	cr_assert_eq(t2[1].flags, PVKVM_GTF_PERMIT | PVKVM_GTF_WRITING);
}

/* Maps on one thread while another re-sets the table up: no race, no crash. */
static atomic_int stop;

static void *mapper(void *arg)
{
	(void)arg;
	rcu_register_thread();
	while (!atomic_load(&stop)) {
		struct grant_map m;
		if (grant_map(gt, 1, GRANT_READ, &m) == 0)
			grant_unmap(&m);
	}
	rcu_unregister_thread();
	return NULL;
}

Test(grant, resetup_races_maps)
{
	guest_grant(1, PAGE(0), 0);
	struct pvkvm_grant_entry *t2 =
		gmem_ptr(&mem, TABLE_GPA + PVKVM_PAGE_SIZE, 2 * sizeof(*t2));
	t2[1] = table[1];
	atomic_store(&stop, 0);
	pthread_t th;
	pthread_create(&th, NULL, mapper, NULL);
	for (int i = 0; i < 200; i++)
		cr_assert_eq(grant_table_setup(gt, TABLE_GPA +
					       (i & 1) * PVKVM_PAGE_SIZE, 2), 0);
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	cr_assert_eq(table[1].flags, PVKVM_GTF_PERMIT);
	cr_assert_eq(t2[1].flags, PVKVM_GTF_PERMIT);
}

/* The grantee is the VMM's backends (domid 0): any other domid is refused,
 * and the entry is left as the guest wrote it. */
Test(grant, entry_for_another_grantee_is_refused)
{
	struct grant_map m;
	guest_grant(2, PAGE(2), 0);
	table[2].domid = 7;
	cr_assert_eq(grant_map(gt, 2, GRANT_READ, &m), -PVKVM_EPERM);
	cr_assert_eq(table[2].flags, PVKVM_GTF_PERMIT, "in-use bit left set");
	uint8_t b[8];
	cr_assert_eq(grant_copy_from(gt, 2, 0, b, 8), -PVKVM_EPERM);
	table[2].domid = PVKVM_GRANT_DOMID_HOST;
	cr_assert_eq(grant_map(gt, 2, GRANT_READ, &m), 0);
	grant_unmap(&m);
}

/* A grant the guest cannot write itself (its r-x text) is never written
 * through a grant, though it may be read. */
Test(grant, frame_the_guest_may_only_read)
{
	struct grant_map m;
	cr_assert_eq(gmem_set_access(&mem, PAGE(3), PVKVM_PAGE_SIZE, GMEM_RX), 0);
	guest_grant(3, PAGE(3), 0);
	cr_assert_eq(grant_map(gt, 3, GRANT_WRITE, &m), -PVKVM_EFAULT);
	cr_assert_eq(grant_map(gt, 3, GRANT_READ, &m), 0);
	grant_unmap(&m);
	/* and the table must be memory the guest may write */
	cr_assert_eq(grant_table_setup(gt, PAGE(3), NR), -PVKVM_EFAULT);
}

/* Issue 8, hole 3: a thread that maps grants without being an RCU reader
 * is not waited for by a re-setup's grace period. It must not get that far. */
static void *unregistered_mapper(void *arg)
{
	(void)arg;
	struct grant_map m;
	grant_map(gt, 1, GRANT_READ, &m);
	return NULL;
}

/* Runs in a child of its own (every runner, the TSan shim included, then
 * sees the same thing): the child must die of SIGABRT at its first map. */
Test(grant, a_thread_that_is_not_an_rcu_reader_is_caught)
{
	guest_grant(1, PAGE(0), 0);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		pthread_t th;
		pthread_create(&th, NULL, unregistered_mapper, NULL);
		pthread_join(th, NULL);
		_exit(0); /* reached only if the map was let through */
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
		  "an unregistered reader mapped a grant (status 0x%x)", status);
	cr_assert_eq(table[1].flags, PVKVM_GTF_PERMIT, "nothing was taken");
}
