/* SPDX-License-Identifier: MIT */
/*
 * The host peer of the guest self-test device ("test", id 0); protocol in
 * hypercall/pvkvm_testif.h. Attach with vm_add_device(vm, testpeer_create()).
 */
#ifndef PVKVM_DEV_TESTPEER_H
#define PVKVM_DEV_TESTPEER_H

struct device;

/* A new, unstarted device; NULL on allocation failure. Its stop() frees it. */
struct device *testpeer_create(void);

#endif
