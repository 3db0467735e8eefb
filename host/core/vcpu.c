// SPDX-License-Identifier: MIT
/*
 * vCPU threads and the exit loop. A hypercall is one KVM_EXIT_IO on
 * PVKVM_PORT_HYPERCALL: the arguments come from the register file KVM
 * already copied into the run page (KVM_CAP_SYNC_REGS) and the result goes
 * back the same way, so the round trip costs that exit and no other ioctl.
 */
#include "host/core/vcpu.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <urcu.h>

#include "host/x86/cpuid.h"
#include "host/core/fault.h"
#include "host/core/hc_core.h"
#include "host/core/hcall.h"
#include "host/core/msr.h"
#include "host/core/pio.h"
#include "host/core/vm.h"
#include "host/x86/x86_cpl3.h"

/* Interrupts KVM_RUN; the handler does nothing, EINTR is the point. */
#define VCPU_KICK_SIGNAL SIGUSR1

static void kick_handler(int sig)
{
	(void)sig;
}

void vcpu_install_kick_handler(void)
{
	struct sigaction sa = {.sa_handler = kick_handler};
	sigemptyset(&sa.sa_mask);
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL); /* no SA_RESTART: KVM_RUN returns */
}

void vcpu_kick(struct vcpu *v)
{
	if (!v->run)
		return;
	/* Covers the window between the loop's vm_running() and KVM_RUN. */
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (atomic_load(&v->thread_live))
		pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

int vcpu_create(struct vm *vm, unsigned int id, char *err, size_t errlen)
{
	struct vcpu *v = &vm->vcpus[id];
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0) {
		snprintf(err, errlen, "KVM_CREATE_VCPU %u: %s", id, strerror(errno));
		return -errno;
	}
	v->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	void *run = v->run_size > 0 ? mmap(NULL, (size_t)v->run_size, PROT_READ | PROT_WRITE,
					   MAP_SHARED, v->fd, 0) : MAP_FAILED;
	int r = 0;
	if (run == MAP_FAILED) {
		r = -errno;
		snprintf(err, errlen, "cannot map vCPU %u's run page: %s", id, strerror(errno));
	} else {
		v->run = run;
		r = cpuid_setup_vcpu(vm->kvm_fd, v->fd, HC_CORE_FEATURES,
				     vm->cfg.hide_cpuid);
		if (r)
			snprintf(err, errlen, "KVM_SET_CPUID2 on vCPU %u: %s", id, strerror(-r));
	}
	if (r)
		vcpu_destroy(v);
	return r;
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, (size_t)v->run_size);
	if (v->fd > 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}

/* --- start --------------------------------------------------------------- */

static bool wait_until_started(struct vcpu *v)
{
	struct vm *vm = v->vm;
	pthread_mutex_lock(&vm->event_lock);
	while (!v->started && vm_running(vm))
		pthread_cond_wait(&vm->event_cond, &vm->event_lock);
	bool go = v->started && vm_running(vm);
	pthread_mutex_unlock(&vm->event_lock);
	return go;
}

static int set_boot_state(struct vcpu *v)
{
	struct kvm_sregs sregs;
	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	cpl3_fill_sregs(&sregs, v->id, v->vm->cfg.cpl0);
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	struct kvm_regs regs = {
		.rip = v->boot_rip,
		.rsp = v->boot_rsp,
		.rdi = v->boot_rdi,
		.rflags = 0x2, /* bit 1 is reserved-one; interrupts off */
	};
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

/* --- I/O exits ----------------------------------------------------------- */

static void do_hypercall(struct vcpu *v, uint32_t nr)
{
	struct vm *vm = v->vm;
	struct kvm_regs *regs = &v->run->s.regs.regs;
	const uint64_t args[HCALL_NARGS] = {regs->rdi, regs->rsi, regs->rdx,
					    regs->r10, regs->r8};
	stat_inc(&vm->stats.exits_pio_hypercall);
	if (nr < PVKVM_HYPERCALL_MAX)
		stat_inc(&vm->stats.hypercalls[nr]);
	int64_t ret = hcall_dispatch(vm->hcalls, v, nr, args);
	regs->rax = (uint64_t)ret;
	v->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
}

static void unexpected_io(struct vcpu *v, const struct kvm_run *run)
{
	vm_stop_msg(v->vm, VM_CRASHED, PVKVM_EXIT_GUEST_BROKEN,
		    "guest stopped: unexpected %s of %u byte(s) on I/O port 0x%x near rip 0x%llx (vCPU %u)",
		    run->io.direction == KVM_EXIT_IO_OUT ? "write" : "read",
		    run->io.size, run->io.port,
		    (unsigned long long)run->s.regs.regs.rip, v->id);
}

static bool is_dword_out(const struct kvm_run *run)
{
	return run->io.direction == KVM_EXIT_IO_OUT && run->io.size == 4 &&
	       run->io.count == 1;
}

static void handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct vm *vm = v->vm;
	uint64_t bytes = (uint64_t)run->io.size * run->io.count;
	if (run->io.data_offset > (uint64_t)v->run_size ||
	    bytes > (uint64_t)v->run_size - run->io.data_offset)
		return unexpected_io(v, run);
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint32_t word = 0;
	memcpy(&word, data, bytes < 4 ? bytes : 4);

	switch (run->io.port) {
	case PVKVM_PORT_HYPERCALL:
		if (!is_dword_out(run))
			return unexpected_io(v, run);
		return do_hypercall(v, word);
	case PVKVM_PORT_NULL:
		stat_inc(&vm->stats.exits_pio_null);
		if (run->io.direction == KVM_EXIT_IO_IN)
			memset(data, 0, bytes);
		return;
	case PVKVM_PORT_FAULT:
		return fault_report_stub(v, &run->s.regs.regs);
	case PVKVM_PORT_EVTCHN_NOTIFY:
		if (!is_dword_out(run))
			return unexpected_io(v, run);
		if (vm->unmatched_send) /* counts it in evtchn_unbound_sends */
			vm->unmatched_send(vm, word);
		return;
	default:
		if (pio_dispatch(vm, run->io.port, run->io.direction == KVM_EXIT_IO_OUT,
				 data, run->io.size, run->io.count)) {
			stat_inc(&vm->stats.exits_pio_device);
			return;
		}
		return unexpected_io(v, run);
	}
}

static void handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint32_t reason = run->exit_reason;
	stat_inc(&v->vm->stats.exits[reason < STATS_EXIT_REASONS ? reason : 0]);
	switch (reason) {
	case KVM_EXIT_IO:
		return handle_io(v);
	case KVM_EXIT_X86_RDMSR:
	case KVM_EXIT_X86_WRMSR:
		return msr_handle_exit(v);
	case KVM_EXIT_INTR:
		return;
	default:
		return fault_report_exit(v);
	}
}

static void run_loop(struct vcpu *v)
{
	struct vm *vm = v->vm;
	while (vm_running(vm)) {
		v->run->kvm_valid_regs = KVM_SYNC_X86_REGS;
		int r = ioctl(v->fd, KVM_RUN, 0);
		v->run->kvm_dirty_regs = 0;
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue; /* a kick: the loop re-checks the VM */
			vm_stop_msg(vm, VM_CRASHED, PVKVM_EXIT_GUEST_BROKEN,
				    "KVM_RUN on vCPU %u failed: %s", v->id, strerror(errno));
			return;
		}
		handle_exit(v);
	}
}

void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	rcu_register_thread();
	if (wait_until_started(v)) {
		int r = set_boot_state(v);
		if (r)
			vm_stop_msg(v->vm, VM_CRASHED, PVKVM_EXIT_VMM_ERROR,
				    "cannot set vCPU %u's registers: %s", v->id, strerror(-r));
		else
			run_loop(v);
	}
	rcu_unregister_thread();
	return NULL;
}
