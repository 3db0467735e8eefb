/* SPDX-License-Identifier: MIT */
/*
 * The VM the backend fuzz targets (fuzz_blkback.c, fuzz_netif.c) run their
 * backend in: a real KVM VM (event channels bind real ioeventfds), guest
 * RAM, grants at FUZZ_VM_GNT_GPA, event channels and the store, and the
 * fuzzing thread registered with RCU. No Criterion here: a failed step
 * aborts with one line, which libFuzzer reports as a crash. Include it
 * once, in the target's .c, after defining FUZZ_NAME.
 */
#ifndef PVKVM_FUZZ_VM_H
#define PVKVM_FUZZ_VM_H

#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <urcu.h>

#include "host/core/vm.h"
#include "host/mem/guest_mem.h"
#include "host/services/evtchn.h"
#include "host/services/grant.h"
#include "host/services/store.h"
#include "host/services/xenbus.h"

#define FUZZ_VM_MEM (8u << 20)
#define FUZZ_VM_GNT_GPA 0x100000u
#define FUZZ_VM_GNT_ENTRIES 256u

static struct vm vm;
static struct pvkvm_shared_info shinfo;

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "%s: %s\n", FUZZ_NAME, what);
		abort();
	}
}

static void fuzz_vm_init(void)
{
	vm.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	check(vm.kvm_fd >= 0, "/dev/kvm is needed (the event channel is a KVM ioeventfd)");
	vm.vm_fd = ioctl(vm.kvm_fd, KVM_CREATE_VM, 0);
	check(vm.vm_fd >= 0, "KVM_CREATE_VM");
	check(gmem_create(&vm.mem, FUZZ_VM_MEM) == 0, "guest RAM");
	pthread_mutex_init(&vm.event_lock, NULL);
	pthread_cond_init(&vm.event_cond, NULL);
	vm.shared_info = &shinfo;
	vm.grants = grant_table_new(&vm.mem);
	vm.evtchn = evtchn_table_new(&vm);
	vm.store = store_new();
	check(vm.grants && vm.evtchn && vm.store, "services");
	check(grant_table_setup(vm.grants, FUZZ_VM_GNT_GPA, FUZZ_VM_GNT_ENTRIES) == 0,
	      "grant table");
	rcu_register_thread();
}

/* The guest's grant entry ref: frame of gpa for the host (domid 0), flags
 * published last, as a guest would. */
static void set_grant(uint32_t ref, uint64_t gpa, uint16_t flags)
{
	struct pvkvm_grant_entry *e = gmem_ptr(&vm.mem,
		FUZZ_VM_GNT_GPA + (uint64_t)ref * sizeof(*e), sizeof(*e));
	e->domid = 0;
	e->frame = (uint32_t)(gpa / PVKVM_PAGE_SIZE);
	__atomic_store_n(&e->flags, flags, __ATOMIC_RELEASE);
}

/* The frontend at fe_dir leaves as a guest's would: Closing, Closed, and
 * its event channel port gone. */
static void fuzz_vm_close_frontend(const char *fe_dir, int port)
{
	xenbus_set_state(vm.store, fe_dir, PVKVM_XB_CLOSING);
	xenbus_set_state(vm.store, fe_dir, PVKVM_XB_CLOSED);
	evtchn_close(vm.evtchn, (unsigned int)port);
}

/* The n pages at pages were written with pattern and granted with
 * flags[i] (0: not granted): those the backend may not write still hold
 * it. */
static void fuzz_vm_check_unwritable(const uint8_t *pages, const uint8_t *pattern,
				     const uint16_t *flags, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		bool writable = (flags[i] & PVKVM_GTF_PERMIT) && !(flags[i] & PVKVM_GTF_READONLY);
		if (writable)
			continue;
		check(memcmp(pages + (size_t)i * PVKVM_PAGE_SIZE,
			     pattern + (size_t)i * PVKVM_PAGE_SIZE, PVKVM_PAGE_SIZE) == 0,
		      "a page not granted writable changed");
	}
}

#endif
