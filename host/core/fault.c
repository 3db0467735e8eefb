// SPDX-License-Identifier: MIT
/*
 * Reports of a guest's death, one line each, and the exit status that goes
 * with it (enum pvkvm_exit_status in vm.h).
 */
#include "host/core/fault.h"

#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <sys/ioctl.h>

#include "host/loader/elf.h"
#include "host/core/vm.h"
#include "host/x86/x86_cpl3.h"

/* What the stub pushed plus what the CPU pushed, from the stub's rsp up. */
struct fault_frame {
	uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

static void symbolize(const struct vm *vm, uint64_t rip, char *buf, size_t len)
{
	uint64_t off = 0;
	const char *name = vm->kernel ? elf_symbolize(vm->kernel, rip, &off) : NULL;
	if (name)
		snprintf(buf, len, " <%s+0x%" PRIx64 ">", name, off);
	else
		buf[0] = '\0';
}

static bool from_fault_stub(uint64_t rip)
{
	return rip >= CPL3_GPA_FAULT_STUBS &&
	       rip < CPL3_GPA_FAULT_STUBS + 256u * CPL3_FAULT_STUB_SIZE;
}

static int fault_status(uint64_t vector)
{
	return vector < 32 ? PVKVM_EXIT_FAULT_BASE + (int)vector
			   : PVKVM_EXIT_GUEST_BROKEN;
}

void fault_report_stub(struct vcpu *v, const struct kvm_regs *regs)
{
	struct vm *vm = v->vm;
	struct fault_frame f;
	/* The port is reachable from CPL3 (it shares a bitmap byte with the
	 * hypercall port): only the supervisor-only stubs are believed. */
	if (!from_fault_stub(regs->rip)) {
		vm_stop_msg(vm, VM_CRASHED, PVKVM_EXIT_GUEST_BROKEN,
			    "guest stopped: it wrote the fault port at rip 0x%llx, outside the VMM's fault stubs (vCPU %u)",
			    (unsigned long long)regs->rip, v->id);
		return;
	}
	if (gmem_read(&vm->mem, regs->rsp, &f, sizeof(f))) {
		vm_stop_msg(vm, VM_CRASHED, PVKVM_EXIT_GUEST_BROKEN,
			    "guest fault on vCPU %u with an unreadable frame at 0x%llx",
			    v->id, (unsigned long long)regs->rsp);
		return;
	}
	char sym[160], extra[48] = "";
	symbolize(vm, f.rip, sym, sizeof(sym));
	struct kvm_sregs s;
	if (f.vector == 14 && ioctl(v->fd, KVM_GET_SREGS, &s) == 0)
		snprintf(extra, sizeof(extra), ", cr2 0x%llx", (unsigned long long)s.cr2);
	vm_stop_msg(vm, VM_CRASHED, fault_status(f.vector),
		    "guest fault: %s (vector %llu) error 0x%llx at rip 0x%llx%s, rsp 0x%llx, cs 0x%llx, rflags 0x%llx%s (vCPU %u)",
		    cpl3_vector_name((unsigned int)(f.vector & 0xff)),
		    (unsigned long long)f.vector, (unsigned long long)f.error,
		    (unsigned long long)f.rip, sym, (unsigned long long)f.rsp,
		    (unsigned long long)f.cs, (unsigned long long)f.rflags, extra, v->id);
}

void fault_report_exit(struct vcpu *v)
{
	struct vm *vm = v->vm;
	const struct kvm_run *run = v->run;
	uint64_t rip = run->s.regs.regs.rip;
	char sym[160];
	symbolize(vm, rip, sym, sizeof(sym));
	switch (run->exit_reason) {
	case KVM_EXIT_SHUTDOWN:
		vm_stop_msg(vm, VM_CRASHED, PVKVM_EXIT_GUEST_BROKEN,
			    "guest stopped: triple fault (KVM_EXIT_SHUTDOWN) near rip 0x%llx%s (vCPU %u)",
			    (unsigned long long)rip, sym, v->id);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		vm_stop_msg(vm, VM_CRASHED, PVKVM_EXIT_GUEST_BROKEN,
			    "guest stopped: KVM internal error, suberror %u, at rip 0x%llx%s (vCPU %u)",
			    run->internal.suberror, (unsigned long long)rip, sym, v->id);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		vm_stop_msg(vm, VM_CRASHED, PVKVM_EXIT_GUEST_BROKEN,
			    "guest stopped: KVM could not enter the guest, hardware reason 0x%llx (vCPU %u)",
			    (unsigned long long)run->fail_entry.hardware_entry_failure_reason, v->id);
		break;
	case KVM_EXIT_MMIO:
		vm_stop_msg(vm, VM_CRASHED, PVKVM_EXIT_GUEST_BROKEN,
			    "guest stopped: %s of unmapped guest-physical 0x%llx at rip 0x%llx%s (vCPU %u)",
			    run->mmio.is_write ? "write" : "read",
			    (unsigned long long)run->mmio.phys_addr, (unsigned long long)rip, sym, v->id);
		break;
	default:
		vm_stop_msg(vm, VM_CRASHED, PVKVM_EXIT_GUEST_BROKEN,
			    "guest stopped: unexpected KVM exit %u at rip 0x%llx%s (vCPU %u)",
			    run->exit_reason, (unsigned long long)rip, sym, v->id);
		break;
	}
}
