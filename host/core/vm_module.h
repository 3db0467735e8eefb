/* SPDX-License-Identifier: MIT */
/*
 * Parts of the VMM that set themselves up in every VM: the PV services
 * (event channels, grants, the store) and the built-in test device. Each
 * registers itself at program start, as kvmtool's device_init() and Solo5's
 * tender modules do, so the VM core runs them without naming them and no
 * call goes from the core into a service that calls back into the core.
 *
 * vm_create() calls every module's init in rising order once the VM's RAM,
 * start-info and vCPUs exist; vm_destroy() calls fini, in falling order, for
 * each module whose init succeeded. Both run on the main thread.
 *
 * The objects of libpvkvm are linked whole (host/host.mk), so a module's
 * constructor runs even when nothing else refers to its file.
 */
#ifndef PVKVM_VM_MODULE_H
#define PVKVM_VM_MODULE_H

#include <stddef.h>

struct vm;

/* Init order: services a later module uses come first. */
enum vm_module_order {
	VM_ORDER_EVTCHN = 10, /* every other service binds ports */
	VM_ORDER_GRANT = 20,
	VM_ORDER_STORE = 30,  /* binds VIRQ_STORE */
	VM_ORDER_DEVICE = 100,
};

struct vm_module {
	const char *name;
	int order;
	/* 0, or -errno with one line in err. */
	int (*init)(struct vm *vm, char *err, size_t errlen);
	void (*fini)(struct vm *vm); /* optional */
	struct vm_module *next;      /* the registry's */
};

void vm_module_register(struct vm_module *m);

/* Runs init of every module in order; on failure, fini of those done. */
int vm_modules_init(struct vm *vm, char *err, size_t errlen);
/* fini of every module that vm_modules_init set up, in reverse. */
void vm_modules_fini(struct vm *vm);

#define VM_MODULE(ident, ...)                                              \
	static struct vm_module ident = { __VA_ARGS__ };                   \
	__attribute__((constructor)) static void ident##_register(void)    \
	{                                                                  \
		vm_module_register(&ident);                                \
	}

#endif
