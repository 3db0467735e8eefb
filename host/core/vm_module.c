// SPDX-License-Identifier: MIT
/*
 * The module registry (see vm_module.h). Constructors fill it before main()
 * and nothing changes it afterwards, so VMs read it without a lock.
 */
#include "host/core/vm_module.h"

#include "host/core/vm.h"

static struct vm_module *modules; /* sorted by order, stable */

void vm_module_register(struct vm_module *m)
{
	struct vm_module **p = &modules;
	while (*p && (*p)->order <= m->order)
		p = &(*p)->next;
	m->next = *p;
	*p = m;
}

int vm_modules_init(struct vm *vm, char *err, size_t errlen)
{
	for (struct vm_module *m = modules; m; m = m->next) {
		int r = m->init ? m->init(vm, err, errlen) : 0;
		if (r) {
			vm_modules_fini(vm);
			return r;
		}
		vm->modules_done = m;
	}
	return 0;
}

static void fini_upto(struct vm *vm, struct vm_module *m, struct vm_module *last)
{
	if (!m)
		return;
	if (m != last)
		fini_upto(vm, m->next, last);
	if (m->fini)
		m->fini(vm);
}

void vm_modules_fini(struct vm *vm)
{
	struct vm_module *last = vm->modules_done;
	vm->modules_done = NULL;
	if (last)
		fini_upto(vm, modules, last);
}
