// SPDX-License-Identifier: MIT
/*
 * Device port I/O. Ranges are claimed before the vCPUs start (the CPL3
 * guest's TSS bitmap is built from them then) and never change afterwards,
 * so the exit path reads them without a lock.
 */
#include "host/core/pio.h"

#include <errno.h>

#include "host/core/vm.h"
#include "host/x86/x86_cpl3.h"

/* pvkvm's own ports: the hypercall and notify stubs do 4-byte `out`s, and
 * the CPU checks one bitmap bit per byte accessed. */
#define PV_PORTS_BASE PVKVM_PORT_HYPERCALL
#define PV_PORTS_END (PVKVM_PORT_EVTCHN_NOTIFY + 4u)

static bool overlaps(uint32_t a, uint32_t an, uint32_t b, uint32_t bn)
{
	return a < b + bn && b < a + an;
}

int vm_register_pio(struct vm *vm, uint16_t base, uint16_t count, pio_fn fn,
		    void *ctx)
{
	if (count == 0 || (uint32_t)base + count > CPL3_IO_PORTS || !fn ||
	    vm->vcpus_running)
		return -EINVAL;
	if (overlaps(base, count, PV_PORTS_BASE, PV_PORTS_END - PV_PORTS_BASE))
		return -EBUSY;
	for (unsigned int i = 0; i < vm->nr_pio; i++)
		if (overlaps(base, count, vm->pio[i].base, vm->pio[i].count))
			return -EBUSY;
	if (vm->nr_pio == VM_MAX_PIO_RANGES)
		return -ENOSPC;
	vm->pio[vm->nr_pio++] = (struct pio_range){base, count, fn, ctx};
	return 0;
}

bool pio_dispatch(struct vm *vm, uint16_t port, bool is_write, void *data,
		  uint32_t len, uint32_t count)
{
	for (unsigned int i = 0; i < vm->nr_pio; i++) {
		const struct pio_range *r = &vm->pio[i];
		if (port >= r->base && port - r->base < r->count) {
			r->fn(r->ctx, port, is_write, data, len, count);
			return true;
		}
	}
	return false;
}

void pio_fill_io_allow(const struct vm *vm, struct cpl3_io_allow *allow)
{
	cpl3_io_allow_range(allow, PV_PORTS_BASE, PV_PORTS_END - PV_PORTS_BASE);
	for (unsigned int i = 0; i < vm->nr_pio; i++)
		cpl3_io_allow_range(allow, vm->pio[i].base, vm->pio[i].count);
}
