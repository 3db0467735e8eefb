// SPDX-License-Identifier: MIT
/*
 * The core hypercalls (numbers 0-8 of pvkvm_abi.h). Every guest-supplied
 * address goes through gmem_guest_read/write (range, overflow, and the
 * guest's own rights on each page: no hypercall reads or writes a page the
 * guest could not itself); every length is bounded before anything is
 * copied.
 */
#include "host/core/hc_core.h"

#include <ctype.h>
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "host/core/hcall.h"
#include "host/core/vm.h"

#define MSR_IA32_TSC 0x10u
#define CRASH_MSG_MAX 512u

static int64_t hc_version(struct vcpu *v, void *ctx, const uint64_t a[HCALL_NARGS])
{
	(void)v, (void)ctx, (void)a;
	return PVKVM_ABI_VERSION;
}

static int64_t hc_features(struct vcpu *v, void *ctx, const uint64_t a[HCALL_NARGS])
{
	(void)v, (void)ctx, (void)a;
	return HC_CORE_FEATURES;
}

static int64_t hc_null(struct vcpu *v, void *ctx, const uint64_t a[HCALL_NARGS])
{
	(void)v, (void)ctx, (void)a;
	return 0;
}

/*
 * The console is the operator's terminal: the guest's bytes reach it as
 * text. Printable ASCII, newline and tab pass; a carriage return passes
 * (line-oriented guests use it); every other byte, ESC (the start of every
 * terminal escape sequence) and anything >= 0x7f included, becomes '?', as
 * CRASH messages do. The length is unchanged, so the guest's count holds.
 */
size_t console_sanitise(char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (!(isprint(c) || c == '\n' || c == '\t' || c == '\r') || c >= 0x7f)
			buf[i] = '?';
	}
	return len;
}

static int64_t hc_console_write(struct vcpu *v, void *ctx, const uint64_t a[HCALL_NARGS])
{
	(void)ctx;
	uint64_t gpa = a[0], len = a[1];
	char buf[PVKVM_CONSOLE_WRITE_MAX];
	if (len > sizeof(buf))
		return -PVKVM_EINVAL;
	/* Copied first: the guest may change its buffer while we write it. */
	if (gmem_guest_read(&v->vm->mem, gpa, buf, len))
		return -PVKVM_EFAULT;
	vm_console_write(v->vm, buf, console_sanitise(buf, len));
	return (int64_t)len;
}

/* The guest's own TSC (KVM may offset and scale it from the host's). */
static uint64_t guest_tsc(struct vcpu *v)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = {.hdr.nmsrs = 1, .e.index = MSR_IA32_TSC};
	if (ioctl(v->fd, KVM_GET_MSRS, &m) != 1)
		return 0;
	return m.e.data;
}

static int64_t hc_time(struct vcpu *v, void *ctx, const uint64_t a[HCALL_NARGS])
{
	(void)ctx;
	struct timespec wall;
	struct pvkvm_time t;
	t.monotonic_ns = vm_now_ns();
	t.tsc = guest_tsc(v);
	clock_gettime(CLOCK_REALTIME, &wall);
	t.wall_ns = (uint64_t)wall.tv_sec * 1000000000ull + (uint64_t)wall.tv_nsec;
	t.tsc_khz = v->vm->tsc_khz;
	return gmem_guest_write(&v->vm->mem, a[0], &t, sizeof(t)) ? -PVKVM_EFAULT : 0;
}

static int64_t hc_shutdown(struct vcpu *v, void *ctx, const uint64_t a[HCALL_NARGS])
{
	(void)ctx;
	vm_stop(v->vm, VM_SHUTDOWN, (int)(a[0] & 0xff));
	return 0;
}

static int64_t hc_crash(struct vcpu *v, void *ctx, const uint64_t a[HCALL_NARGS])
{
	(void)ctx;
	char msg[CRASH_MSG_MAX + 1];
	uint64_t len = a[1] < CRASH_MSG_MAX ? a[1] : CRASH_MSG_MAX;
	if (gmem_guest_read(&v->vm->mem, a[0], msg, len))
		len = (uint64_t)snprintf(msg, sizeof(msg), "(message at 0x%llx is not guest-readable memory)",
					 (unsigned long long)a[0]);
	msg[len] = '\0';
	/* One line, and nothing that could drive the terminal. */
	for (uint64_t i = 0; i < len; i++)
		if (!isprint((unsigned char)msg[i]))
			msg[i] = msg[i] == '\n' && i + 1 == len ? '\0' : '?';
	vm_stop_msg(v->vm, VM_CRASHED, PVKVM_EXIT_GUEST_CRASH,
		    "guest crashed on vCPU %u: %s", v->id, msg);
	return 0;
}

/* --- WAIT ---------------------------------------------------------------- */

static bool unmasked_event_pending(const struct pvkvm_shared_info *si)
{
	for (unsigned int i = 0; i < PVKVM_EVTCHN_WORDS; i++) {
		uint64_t p = __atomic_load_n(&si->evtchn_pending[i], __ATOMIC_ACQUIRE);
		uint64_t m = __atomic_load_n(&si->evtchn_mask[i], __ATOMIC_RELAXED);
		if (p & ~m)
			return true;
	}
	return false;
}

static struct timespec ns_to_timespec(uint64_t ns)
{
	struct timespec t = {.tv_sec = (time_t)(ns / 1000000000ull),
			     .tv_nsec = (long)(ns % 1000000000ull)};
	return t;
}

/* Sleeps until an unmasked event, the deadline or the VM's end. The event
 * code sets pending bits before vm_kick_waiters() takes event_lock, and we
 * check them under it, so no wake-up falls between check and sleep. */
static int64_t wait_for_event(struct vcpu *v, uint64_t deadline)
{
	struct vm *vm = v->vm;
	struct timespec until = ns_to_timespec(deadline);
	int64_t ret = 0;
	bool slept = false;
	pthread_mutex_lock(&vm->event_lock);
	for (;;) {
		if (unmasked_event_pending(vm->shared_info)) {
			ret = 0;
			break;
		}
		if (!vm_running(vm) || (deadline && vm_now_ns() >= deadline)) {
			ret = -PVKVM_ETIMEDOUT;
			break;
		}
		slept = true;
		if (deadline)
			pthread_cond_timedwait(&vm->event_cond, &vm->event_lock, &until);
		else
			pthread_cond_wait(&vm->event_cond, &vm->event_lock);
	}
	pthread_mutex_unlock(&vm->event_lock);
	if (ret == 0 && slept) {
		stat_inc(&vm->stats.wait_wakeups);
		__atomic_fetch_add(&vm->shared_info->vcpu[v->id].wakeups, 1, __ATOMIC_RELAXED);
	}
	if (ret != 0)
		stat_inc(&vm->stats.wait_timeouts);
	return ret;
}

static int64_t hc_wait(struct vcpu *v, void *ctx, const uint64_t a[HCALL_NARGS])
{
	(void)ctx;
	stat_inc(&v->vm->stats.wait_calls);
	return wait_for_event(v, a[0]);
}

/* --- VCPU_UP ------------------------------------------------------------- */

static int64_t hc_vcpu_up(struct vcpu *v, void *ctx, const uint64_t a[HCALL_NARGS])
{
	(void)ctx;
	struct vm *vm = v->vm;
	uint64_t cpu = a[0], rip = a[1], rsp = a[2], arg = a[3];
	if (cpu >= vm->nr_vcpus || rip >= vm->mem.size || rsp > vm->mem.size)
		return -PVKVM_EINVAL;
	struct vcpu *t = &vm->vcpus[cpu];
	int64_t ret = 0;
	pthread_mutex_lock(&vm->event_lock);
	if (t->started) {
		ret = -PVKVM_EBUSY;
	} else {
		t->boot_rip = rip;
		t->boot_rsp = rsp;
		t->boot_rdi = arg;
		t->started = true;
		pthread_cond_broadcast(&vm->event_cond);
	}
	pthread_mutex_unlock(&vm->event_lock);
	return ret;
}

int hc_core_register(struct vm *vm)
{
	static const struct {
		unsigned int nr;
		const char *name;
		hcall_fn fn;
	} calls[] = {
		{PVKVM_HC_VERSION, "version", hc_version},
		{PVKVM_HC_FEATURES, "features", hc_features},
		{PVKVM_HC_NULL, "null", hc_null},
		{PVKVM_HC_CONSOLE_WRITE, "console_write", hc_console_write},
		{PVKVM_HC_TIME, "time", hc_time},
		{PVKVM_HC_SHUTDOWN, "shutdown", hc_shutdown},
		{PVKVM_HC_CRASH, "crash", hc_crash},
		{PVKVM_HC_WAIT, "wait", hc_wait},
		{PVKVM_HC_VCPU_UP, "vcpu_up", hc_vcpu_up},
	};
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		int r = hcall_register(vm->hcalls, calls[i].nr, calls[i].name,
				       calls[i].fn, NULL);
		if (r)
			return r;
	}
	return 0;
}
