/* SPDX-License-Identifier: MIT */
/*
 * The start every vCPU-less test VM shares (fake_vm.h, hc_vm.h): a real
 * KVM VM, so event channels bind real ioeventfds, its event lock and
 * condition, and guest RAM. Skips the test where /dev/kvm is missing.
 */
#ifndef PVKVM_TEST_VM_OPEN_H
#define PVKVM_TEST_VM_OPEN_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>

#include "host/core/vm.h"
#include "host/mem/guest_mem.h"

static inline void test_vm_open(struct vm *v, size_t mem_size)
{
	memset(v, 0, sizeof(*v));
	v->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v->kvm_fd < 0)
		cr_skip_test("/dev/kvm is not available here: %s", strerror(errno));
	v->vm_fd = ioctl(v->kvm_fd, KVM_CREATE_VM, 0);
	cr_assert_geq(v->vm_fd, 0);
	pthread_mutex_init(&v->event_lock, NULL);
	pthread_cond_init(&v->event_cond, NULL);
	cr_assert_eq(gmem_create(&v->mem, mem_size), 0);
}

#endif
