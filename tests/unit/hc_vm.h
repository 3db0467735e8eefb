/* SPDX-License-Identifier: MIT */
/*
 * A VM without vCPUs whose guest the test plays by calling hypercalls
 * through the table (hcall_dispatch), as test_guest_access.c and
 * test_testpeer.c do: a real KVM VM, guest RAM, shared-info in it, event
 * channels, grants and the store with their hypercalls registered, and
 * the test thread registered with RCU. Guest strings go to [STR_AREA,
 * BUF_AREA), which the test defines.
 *
 * Include it once, in the test's .c: it defines the test's `vm`.
 */
#ifndef PVKVM_TEST_HC_VM_H
#define PVKVM_TEST_HC_VM_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <urcu.h>

#include "host/core/hcall.h"
#include "host/core/vm.h"
#include "host/mem/guest_mem.h"
#include "host/services/evtchn.h"
#include "host/services/grant.h"
#include "host/services/store.h"
#include "hypercall/pvkvm_abi.h"
#include "test_vm_open.h"

static struct vm vm;

/* Up to the services' hypercalls; the test adds its own devices and
 * registrations, then calls rcu_register_thread() (hc_vm_teardown
 * unregisters). Skips the test where /dev/kvm is missing. */
static inline void hc_vm_setup(size_t mem_size)
{
	test_vm_open(&vm, mem_size);
	vm.shared_info = gmem_ptr(&vm.mem, PVKVM_GPA_SHARED_INFO, PVKVM_PAGE_SIZE);
	vm.hcalls = hcall_table_new();
	vm.evtchn = evtchn_table_new(&vm);
	vm.grants = grant_table_new(&vm.mem);
	vm.store = store_new();
	cr_assert(vm.hcalls && vm.evtchn && vm.grants && vm.store);
	cr_assert_eq(evtchn_register_hypercalls(&vm), 0);
	cr_assert_eq(grant_register_hypercalls(&vm), 0);
	cr_assert_eq(store_register_hypercalls(&vm), 0);
}

static inline void hc_vm_teardown(void)
{
	if (vm.kvm_fd < 0)
		return;
	vm_stop_devices(&vm);
	rcu_unregister_thread();
	store_free(vm.store);
	grant_table_free(vm.grants);
	evtchn_table_free(vm.evtchn);
	hcall_table_free(vm.hcalls);
	gmem_destroy(&vm.mem);
	close(vm.vm_fd);
	close(vm.kvm_fd);
}

/* The guest's hypercall nr from vCPU cpu (NULL: none). */
static inline int64_t hc_vm_call(struct vcpu *cpu, unsigned int nr, uint64_t a0,
				 uint64_t a1, uint64_t a2, uint64_t a3)
{
	uint64_t args[HCALL_NARGS] = { a0, a1, a2, a3, 0 };
	return hcall_dispatch(vm.hcalls, cpu, nr, args);
}

/* s in guest RAM (not NUL-terminated: the calls take a length), at the
 * next place in [STR_AREA, BUF_AREA), wrapping round. */
static inline uint64_t gstr(const char *s)
{
	static uint64_t next = STR_AREA;
	if (next + PVKVM_STORE_PATH_MAX + 64 > BUF_AREA)
		next = STR_AREA;
	uint64_t gpa = next;
	gmem_write(&vm.mem, gpa, s, strlen(s));
	next += strlen(s) + 1;
	return gpa;
}

#endif
