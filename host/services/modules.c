// SPDX-License-Identifier: MIT
/*
 * The PV services every VM has: event channels, the grant table and the
 * config store, each set up by its own module (host/core/vm_module.h) so
 * the VM core never names them.
 */
#include <errno.h>

#include "host/core/vm.h"
#include "host/core/vm_module.h"
#include "host/services/evtchn.h"
#include "host/services/grant.h"
#include "host/services/store.h"
#include "host/util/errmsg.h"

static void evtchn_unmatched(struct vm *vm, uint32_t port)
{
	evtchn_unmatched_send(vm->evtchn, port);
}

static int evtchn_module_init(struct vm *vm, char *err, size_t errlen)
{
	vm->evtchn = evtchn_table_new(vm);
	if (!vm->evtchn)
		return errmsg(-ENOMEM, err, errlen, "out of memory");
	vm->unmatched_send = evtchn_unmatched;
	int r = evtchn_register_hypercalls(vm);
	if (r)
		return errmsg(r, err, errlen, "cannot register the event-channel hypercalls (%d)", r);
	return 0;
}

static void evtchn_module_fini(struct vm *vm)
{
	vm->unmatched_send = NULL;
	evtchn_table_free(vm->evtchn);
	vm->evtchn = NULL;
}

VM_MODULE(evtchn_module, .name = "evtchn", .order = VM_ORDER_EVTCHN,
	  .init = evtchn_module_init, .fini = evtchn_module_fini)

static int grant_module_init(struct vm *vm, char *err, size_t errlen)
{
	vm->grants = grant_table_new(&vm->mem);
	if (!vm->grants)
		return errmsg(-ENOMEM, err, errlen, "out of memory");
	int r = grant_register_hypercalls(vm);
	if (r)
		return errmsg(r, err, errlen, "cannot register the grant-table hypercall (%d)", r);
	return 0;
}

static void grant_module_fini(struct vm *vm)
{
	grant_table_free(vm->grants);
	vm->grants = NULL;
}

VM_MODULE(grant_module, .name = "gnttab", .order = VM_ORDER_GRANT,
	  .init = grant_module_init, .fini = grant_module_fini)

static int store_module_init(struct vm *vm, char *err, size_t errlen)
{
	vm->store = store_new();
	if (!vm->store)
		return errmsg(-ENOMEM, err, errlen, "out of memory");
	int r = store_register_hypercalls(vm);
	if (r)
		return errmsg(r, err, errlen, "cannot register the store hypercalls (%d)", r);
	int port = evtchn_bind_virq(vm->evtchn, PVKVM_VIRQ_STORE);
	if (port <= 0)
		return errmsg(port ? port : -EIO, err, errlen, "cannot bind the store's event channel (%d)", port);
	vm->start_info->store_evtchn = (uint32_t)port;
	return 0;
}

static void store_module_fini(struct vm *vm)
{
	store_free(vm->store);
	vm->store = NULL;
}

VM_MODULE(store_module, .name = "store", .order = VM_ORDER_STORE,
	  .init = store_module_init, .fini = store_module_fini)
