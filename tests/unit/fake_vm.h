/* SPDX-License-Identifier: MIT */
/*
 * A VM without vCPUs for the in-process tests of the PV backends (blkback,
 * netback, the block fault tests): a real KVM VM (so event channels bind
 * real ioeventfds), guest RAM in a real guest_mem, a grant table at
 * FAKE_VM_GNT_GPA, event channels and the store. The test thread plays the
 * frontend: it grants pages from FAKE_VM_DATA_GPA up and is registered
 * with RCU, because the backend's connect runs inside its store writes.
 *
 * Include it once, in the test's .c: it defines the test's `vm` and
 * `shinfo`.
 */
#ifndef PVKVM_TEST_FAKE_VM_H
#define PVKVM_TEST_FAKE_VM_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <urcu.h>

#include "host/core/stats.h"
#include "host/core/vm.h"
#include "host/services/evtchn.h"
#include "host/services/grant.h"
#include "host/services/store.h"
#include "hypercall/pvkvm_abi.h"
#include "test_vm_open.h"

#define FAKE_VM_MEM_SIZE (32u << 20)
#define FAKE_VM_GNT_GPA 0x100000u
#define FAKE_VM_RING_GPA 0x180000u  /* ring pages, below FAKE_VM_DATA_GPA */
#define FAKE_VM_DATA_GPA 0x400000u

static struct vm vm;
static struct pvkvm_shared_info shinfo;

static struct {
	uint32_t gnt_entries;
	uint32_t next_gref;
	uint64_t next_gpa;
} fake_vm_fe;

/* Skips the test where /dev/kvm is missing. */
static inline void fake_vm_setup(uint32_t gnt_entries)
{
	memset(&shinfo, 0, sizeof(shinfo));
	test_vm_open(&vm, FAKE_VM_MEM_SIZE);
	vm.shared_info = &shinfo;
	vm.grants = grant_table_new(&vm.mem);
	vm.evtchn = evtchn_table_new(&vm);
	vm.store = store_new();
	cr_assert(vm.grants && vm.evtchn && vm.store);
	cr_assert_eq(grant_table_setup(vm.grants, FAKE_VM_GNT_GPA, gnt_entries), 0);
	rcu_register_thread();
	fake_vm_fe.gnt_entries = gnt_entries;
	fake_vm_fe.next_gref = 1;
	fake_vm_fe.next_gpa = FAKE_VM_DATA_GPA;
}

/* After the test has stopped and freed its backend. */
static inline void fake_vm_teardown(void)
{
	store_free(vm.store);
	evtchn_table_free(vm.evtchn);
	grant_table_free(vm.grants);
	gmem_destroy(&vm.mem);
	close(vm.vm_fd);
	close(vm.kvm_fd);
	rcu_unregister_thread();
}

/* N fresh pages of guest RAM: their guest-physical address. */
static inline uint64_t fake_vm_alloc_pages(unsigned int n)
{
	uint64_t gpa = fake_vm_fe.next_gpa;
	fake_vm_fe.next_gpa += (uint64_t)n * PVKVM_PAGE_SIZE;
	cr_assert_leq(fake_vm_fe.next_gpa, FAKE_VM_MEM_SIZE);
	return gpa;
}

static inline uint8_t *fake_vm_page(uint64_t gpa)
{
	return gmem_ptr(&vm.mem, gpa, PVKVM_PAGE_SIZE);
}

static inline struct pvkvm_grant_entry *fake_vm_grant_entry(uint32_t ref)
{
	struct pvkvm_grant_entry *e;
	return gmem_ptr(&vm.mem, FAKE_VM_GNT_GPA + (uint64_t)ref * sizeof(*e), sizeof(*e));
}

/* Grants gpa's page in a fresh reference; fill it before granting, so the
 * grant's release store orders the contents before the backend's use. */
static inline uint32_t fake_vm_grant(uint64_t gpa, bool readonly)
{
	uint32_t ref = fake_vm_fe.next_gref++;
	cr_assert_lt(ref, fake_vm_fe.gnt_entries);
	struct pvkvm_grant_entry *e = fake_vm_grant_entry(ref);
	e->domid = 0;
	e->frame = (uint32_t)(gpa / PVKVM_PAGE_SIZE);
	__atomic_store_n(&e->flags,
			 (uint16_t)(PVKVM_GTF_PERMIT | (readonly ? PVKVM_GTF_READONLY : 0)),
			 __ATOMIC_RELEASE);
	return ref;
}

static inline uint16_t fake_vm_grant_flags(uint32_t ref)
{
	return __atomic_load_n(&fake_vm_grant_entry(ref)->flags, __ATOMIC_ACQUIRE);
}

/* A counter of the backend's stats group (e.g. "blk0"); the test fails
 * if there is none. */
static inline uint64_t fake_vm_counter(const char *group, const char *name)
{
	for (struct stats_group *g = vm.stats.groups; g; g = g->next)
		for (unsigned int i = 0; i < g->nr; i++)
			if (!strcmp(g->name, group) && !strcmp(g->counters[i].name, name))
				return stat_get(&g->counters[i].value);
	cr_assert_fail("no counter %s", name);
	return 0;
}

/* The backend's I/O thread counts a notification just after publishing
 * what it stands for, so the frontend may see that first: waits up to
 * max_ms for the count to reach want, and returns it. */
static inline uint64_t fake_vm_counter_reaching(const char *group, const char *name,
						uint64_t want, int max_ms)
{
	uint64_t v = fake_vm_counter(group, name);
	for (int i = 0; i < max_ms && v < want; i++) {
		usleep(1000);
		v = fake_vm_counter(group, name);
	}
	return v;
}

#endif
