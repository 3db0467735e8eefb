// SPDX-License-Identifier: MIT
/*
 * The test device is in every VM, idle until a guest connects to it
 * (guest-drivers/pvkern/testdev.c): it registers itself as a module so the
 * VM core does not name it.
 */
#include <errno.h>

#include "host/core/vm.h"
#include "host/core/vm_module.h"
#include "host/testdev/dev_testpeer.h"
#include "host/util/errmsg.h"

static int testdev_module_init(struct vm *vm, char *err, size_t errlen)
{
	struct device *peer = testpeer_create();
	if (!peer)
		return errmsg(-ENOMEM, err, errlen, "out of memory");
	vm_add_device(vm, peer);
	return 0;
}

VM_MODULE(testdev_module, .name = "testdev", .order = VM_ORDER_DEVICE,
	  .init = testdev_module_init)
