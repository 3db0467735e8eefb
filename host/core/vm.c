// SPDX-License-Identifier: MIT
/*
 * One VM's life: create (KVM, RAM, the CPL3 machine, services, vCPUs), load
 * the guest, run until it stops, destroy. Also the VM-wide state every part
 * shares: stopping, the WAIT wake-up, the console.
 */
#include "host/core/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "host/loader/elf.h"
#include "host/util/errmsg.h"
#include "host/core/hc_core.h"
#include "host/core/hcall.h"
#include "host/x86/hypercall_page.h"
#include "host/core/msr.h"
#include "host/core/pio.h"
#include "host/core/vcpu.h"
#include "host/core/vm_module.h"
#include "host/platform/cpuid_probe.h"
#include "host/x86/x86_cpl3.h"

#define KVM_API_EXPECTED 12

uint64_t vm_now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

bool vm_running(const struct vm *vm)
{
	return atomic_load(&vm->state) == VM_RUNNING;
}

static bool claim_stop(struct vm *vm, enum vm_state why, int status)
{
	int expected = VM_RUNNING;
	pthread_mutex_lock(&vm->event_lock);
	bool won = atomic_compare_exchange_strong(&vm->state, &expected, (int)why);
	if (won)
		vm->exit_status = status;
	pthread_mutex_unlock(&vm->event_lock);
	return won;
}

static void wake_everyone(struct vm *vm)
{
	vm_kick_waiters(vm);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
}

void vm_stop(struct vm *vm, enum vm_state why, int status)
{
	if (claim_stop(vm, why, status))
		wake_everyone(vm);
}

void vm_stop_msg(struct vm *vm, enum vm_state why, int status,
		 const char *fmt, ...)
{
	if (!claim_stop(vm, why, status))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(vm->stop_msg, sizeof(vm->stop_msg), fmt, ap);
	va_end(ap);
	fflush(stdout); /* the guest's last words come before the verdict */
	fprintf(stderr, "pvkvm: %s\n", vm->stop_msg);
	wake_everyone(vm);
}

void vm_kick_waiters(struct vm *vm)
{
	pthread_mutex_lock(&vm->event_lock);
	vm->event_gen++;
	pthread_cond_broadcast(&vm->event_cond);
	pthread_mutex_unlock(&vm->event_lock);
}

void vm_add_device(struct vm *vm, struct device *dev)
{
	struct device **p = &vm->devices;
	while (*p)
		p = &(*p)->next;
	dev->next = NULL;
	*p = dev;
}

void vm_console_write(struct vm *vm, const char *buf, size_t len)
{
	if (vm->cfg.console) {
		vm->cfg.console(vm->cfg.console_ctx, buf, len);
		return;
	}
	fwrite(buf, 1, len, stdout);
	fflush(stdout);
}

/* --- creation ------------------------------------------------------------ */

static int open_kvm(struct vm *vm, char *err, size_t errlen)
{
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return errmsg(-errno, err, errlen, "/dev/kvm: %s (KVM is not available here)", strerror(errno));
	int api = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_EXPECTED)
		return errmsg(-EINVAL, err, errlen, "/dev/kvm speaks API %d, pvkvm needs %d", api, KVM_API_EXPECTED);
	int sync = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
	if (sync < 0 || !(sync & KVM_SYNC_X86_REGS))
		return errmsg(-ENOTSUP, err, errlen, "/dev/kvm lacks KVM_CAP_SYNC_REGS (one-exit hypercalls need it)");
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) <= 0)
		return errmsg(-ENOTSUP, err, errlen, "/dev/kvm lacks KVM_CAP_IMMEDIATE_EXIT");
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return errmsg(-errno, err, errlen, "KVM_CREATE_VM: %s", strerror(errno));
	return 0;
}

static int setup_ram(struct vm *vm, char *err, size_t errlen)
{
	int r = gmem_create(&vm->mem, vm->cfg.mem_size);
	if (r)
		return errmsg(r, err, errlen, "cannot allocate %llu MiB of guest RAM: %s",
			       (unsigned long long)(vm->cfg.mem_size >> 20), strerror(-r));
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = vm->mem.size,
		.userspace_addr = (uint64_t)(uintptr_t)vm->mem.host_base,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return errmsg(-errno, err, errlen, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
	if (cpl3_build_tables(&vm->mem, vm->cfg.nr_vcpus))
		return errmsg(-EINVAL, err, errlen, "cannot build the guest's page tables and descriptors");
	vm->start_info = gmem_ptr(&vm->mem, PVKVM_GPA_START_INFO, sizeof(*vm->start_info));
	vm->shared_info = gmem_ptr(&vm->mem, PVKVM_GPA_SHARED_INFO, sizeof(*vm->shared_info));
	return 0;
}

/* What the guest may learn by CPUID at CPL3: the probe (run once per
 * process) says whether CPUID there reaches this KVM at all. */
static uint32_t discovery_flags(struct vm *vm)
{
	const struct cpuid_probe *p = cpuid_probe_cpl3(vm->kvm_fd);
	uint32_t f = vm->cfg.hide_cpuid ? PVKVM_SIF_CPUID_HIDDEN : 0;
	if (p->reach == CPUID_REACH_UNKNOWN)
		fprintf(stderr, "pvkvm: warning: cannot tell whether CPUID at CPL3 reaches KVM: %s\n", p->why);
	if (p->reach == CPUID_REACH_THIS_KVM) {
		f |= PVKVM_SIF_CPUID_CPL3_EXITS;
		if (!vm->cfg.hide_cpuid)
			f |= PVKVM_SIF_CPUID_CPL3;
	}
	return f;
}

static void fill_start_info(struct vm *vm)
{
	struct pvkvm_start_info *si = vm->start_info;
	const char *cmd = vm->cfg.cmdline ? vm->cfg.cmdline : "";
	size_t n = strnlen(cmd, PVKVM_CMDLINE_MAX - 1);
	si->magic = PVKVM_START_INFO_MAGIC;
	si->abi_version = PVKVM_ABI_VERSION;
	si->nr_vcpus = vm->nr_vcpus;
	si->mem_size = vm->mem.size;
	si->stack_base = vm->mem.size - VM_STACK_SIZE;
	si->free_start = PVKVM_GUEST_LOAD_MIN;
	si->shared_info_gpa = PVKVM_GPA_SHARED_INFO;
	si->tsc_khz = vm->tsc_khz;
	si->flags = (vm->cfg.stats ? PVKVM_SIF_STATS : 0) | discovery_flags(vm);
	vm->stats.start_info_flags = si->flags;
	si->cmdline_len = (uint32_t)n;
	memcpy(si->cmdline, cmd, n);
	si->cmdline[n] = '\0';
}

static int setup_hypercalls(struct vm *vm, char *err, size_t errlen)
{
	vm->hcalls = hcall_table_new();
	if (!vm->hcalls)
		return errmsg(-ENOMEM, err, errlen, "out of memory");
	int r = hc_core_register(vm);
	if (r)
		return errmsg(r, err, errlen, "cannot register the core hypercalls (%d)", r);
	return 0;
}

static int setup_vcpus(struct vm *vm, char *err, size_t errlen)
{
	vm->vcpus = calloc(vm->cfg.nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return errmsg(-ENOMEM, err, errlen, "out of memory");
	for (unsigned int i = 0; i < vm->cfg.nr_vcpus; i++) {
		int r = vcpu_create(vm, i, err, errlen);
		if (r)
			return r;
		vm->nr_vcpus++;
	}
	int khz = ioctl(vm->vcpus[0].fd, KVM_GET_TSC_KHZ, 0);
	vm->tsc_khz = khz > 0 ? (uint64_t)khz : 0;
	return 0;
}

static int check_config(const struct vm_config *cfg, char *err, size_t errlen)
{
	if (cfg->nr_vcpus == 0 || cfg->nr_vcpus > PVKVM_MAX_VCPUS)
		return errmsg(-EINVAL, err, errlen, "%u vCPUs: pvkvm runs 1 to %u", cfg->nr_vcpus, PVKVM_MAX_VCPUS);
	if (cfg->mem_size < PVKVM_GUEST_LOAD_MIN + CPL3_MEM_ALIGN / 2 ||
	    cfg->mem_size > CPL3_MAX_MEM)
		return errmsg(-EINVAL, err, errlen, "%llu bytes of guest RAM: pvkvm runs 2 MiB to %llu GiB",
			       (unsigned long long)cfg->mem_size, (unsigned long long)(CPL3_MAX_MEM >> 30));
	if (cfg->cmdline && strlen(cfg->cmdline) >= PVKVM_CMDLINE_MAX)
		return errmsg(-EINVAL, err, errlen, "guest command line is %zu bytes; at most %u fit",
			       strlen(cfg->cmdline), PVKVM_CMDLINE_MAX - 1);
	return 0;
}

static void init_sync(struct vm *vm)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	/* WAIT deadlines are CLOCK_MONOTONIC, like PVKVM_HC_TIME. */
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&vm->event_cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&vm->event_lock, NULL);
	atomic_init(&vm->state, VM_RUNNING);
}

int vm_create(const struct vm_config *cfg, struct vm **out, char *err,
	      size_t errlen)
{
	*out = NULL;
	int r = check_config(cfg, err, errlen);
	if (r)
		return r;
	struct vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return errmsg(-ENOMEM, err, errlen, "out of memory");
	vm->kvm_fd = vm->vm_fd = -1;
	vm->mem.memfd = -1;
	vm->cfg = *cfg;
	vm->cfg.mem_size = (cfg->mem_size + CPL3_MEM_ALIGN - 1) & ~(CPL3_MEM_ALIGN - 1);
	init_sync(vm);
	vcpu_install_kick_handler();
	r = open_kvm(vm, err, errlen);
	if (!r)
		r = setup_ram(vm, err, errlen);
	if (!r)
		r = setup_hypercalls(vm, err, errlen);
	if (!r)
		r = msr_setup(vm, err, errlen);
	if (!r)
		r = setup_vcpus(vm, err, errlen);
	if (!r) {
		fill_start_info(vm);
		r = vm_modules_init(vm, err, errlen);
	}
	if (r) {
		vm_destroy(vm);
		return r;
	}
	*out = vm;
	return 0;
}

/* --- loading ------------------------------------------------------------- */

static uint64_t stack_base(const struct vm *vm)
{
	return vm->mem.size - VM_STACK_SIZE;
}

static int check_fits(struct vm *vm, const struct elf_image *img, char *err,
		      size_t errlen)
{
	if (img->image_end <= stack_base(vm))
		return 0;
	uint64_t need = img->image_end + VM_STACK_SIZE;
	need = (need + CPL3_MEM_ALIGN - 1) & ~(CPL3_MEM_ALIGN - 1);
	return errmsg(-ENOMEM, err, errlen,
		       "%llu MiB of guest RAM is too small: the image ends at 0x%llx and the %u KiB stack needs to sit above it; use --mem %lluM or more",
		       (unsigned long long)(vm->mem.size >> 20), (unsigned long long)img->image_end,
		       VM_STACK_SIZE / 1024, (unsigned long long)(need >> 20));
}

static int install_image(struct vm *vm, struct elf_image *img, const void *file,
			 size_t len, char *err, size_t errlen)
{
	if (elf_load(img, file, len, &vm->mem))
		return errmsg(-EFAULT, err, errlen, "cannot copy the image into guest RAM");
	if (img->hypercall_page && hypercall_page_install(&vm->mem, img->hypercall_page))
		return errmsg(-EFAULT, err, errlen, "cannot fill the hypercall page");
	/* The guest's MMU and every hypercall check see the segments' rights. */
	if (elf_apply_access(img, &vm->mem, PVKVM_GUEST_LOAD_MIN) ||
	    cpl3_build_page_tables(&vm->mem))
		return errmsg(-EINVAL, err, errlen, "cannot map the image with its segments' permissions (more than %u 2 MiB regions mix them)",
			       CPL3_PT_POOL_PAGES);
	vm->entry = img->entry;
	vm->start_info->free_start = img->image_end;
	vm->start_info->hypercall_page_gpa = img->hypercall_page;
	return 0;
}

int vm_load_elf(struct vm *vm, const char *path, char *err, size_t errlen)
{
	void *file = NULL;
	size_t len = 0;
	int r = elf_read_file(path, &file, &len, err, errlen);
	if (r)
		return r;
	struct elf_image *img = calloc(1, sizeof(*img));
	char why[200];
	/* Parse against all of RAM first, so a too-small --mem gets its own
	 * message instead of "segment outside the load area". */
	struct elf_limits lim = {PVKVM_GUEST_LOAD_MIN, CPL3_MAX_MEM, vm->mem.size};
	if (!img)
		r = errmsg(-ENOMEM, err, errlen, "out of memory");
	else if (elf_parse(file, len, &lim, img, why, sizeof(why)))
		r = errmsg(-EINVAL, err, errlen, "%s: bad ELF: %s", path, why);
	else if (!(r = check_fits(vm, img, err, errlen)))
		r = install_image(vm, img, file, len, err, errlen);
	free(file);
	if (r == 0) {
		vm->kernel = img;
		return 0;
	}
	if (img)
		elf_image_free(img);
	free(img);
	return r;
}

int vm_load_code(struct vm *vm, uint64_t gpa, const void *code, size_t len,
		 uint64_t entry)
{
	if (gpa < PVKVM_GUEST_LOAD_MIN || gmem_write(&vm->mem, gpa, code, len))
		return -EFAULT;
	vm->entry = entry;
	uint64_t end = (gpa + len + PVKVM_PAGE_SIZE - 1) & ~(uint64_t)(PVKVM_PAGE_SIZE - 1);
	if (end > vm->start_info->free_start)
		vm->start_info->free_start = end;
	return 0;
}

/* --- running ------------------------------------------------------------- */

static int start_devices(struct vm *vm)
{
	for (struct device *d = vm->devices; d; d = d->next) {
		int r = d->start ? d->start(d, vm) : 0;
		if (r) {
			fprintf(stderr, "pvkvm: device %s failed to start (%d)\n", d->name, r);
			return r;
		}
	}
	return 0;
}

void vm_stop_devices(struct vm *vm)
{
	struct device *d = vm->devices;
	vm->devices = NULL;
	while (d) {
		struct device *next = d->next;
		if (d->stop)
			d->stop(d, vm); /* may free d */
		d = next;
	}
}

static int build_tsses(struct vm *vm)
{
	struct cpl3_io_allow *allow = calloc(1, sizeof(*allow));
	if (!allow)
		return -ENOMEM;
	pio_fill_io_allow(vm, allow);
	int r = 0;
	for (unsigned int i = 0; i < vm->nr_vcpus && !r; i++) {
		r = cpl3_build_tss(&vm->mem, i, allow);
		vm->vcpus[i].tss_gpa = cpl3_vcpu_area(i);
	}
	free(allow);
	return r;
}

static void start_threads(struct vm *vm)
{
	struct vcpu *boot = &vm->vcpus[0];
	boot->boot_rip = vm->entry;
	boot->boot_rsp = vm->mem.size;
	boot->boot_rdi = PVKVM_GPA_START_INFO;
	pthread_mutex_lock(&vm->event_lock);
	boot->started = true;
	pthread_mutex_unlock(&vm->event_lock);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		int e = pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (e) {
			vm_stop_msg(vm, VM_CRASHED, PVKVM_EXIT_VMM_ERROR,
				    "cannot start vCPU %u's thread: %s", i, strerror(e));
			break;
		}
		atomic_store(&v->thread_live, true);
	}
}

static void wait_until_stopped(struct vm *vm, unsigned int timeout_s)
{
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_s;
	bool timed_out = false;
	pthread_mutex_lock(&vm->event_lock);
	while (vm_running(vm) && !timed_out) {
		if (timeout_s == 0)
			pthread_cond_wait(&vm->event_cond, &vm->event_lock);
		else if (pthread_cond_timedwait(&vm->event_cond, &vm->event_lock,
						&deadline) == ETIMEDOUT)
			timed_out = true;
	}
	pthread_mutex_unlock(&vm->event_lock);
	if (timed_out)
		vm_stop_msg(vm, VM_TIMEOUT, PVKVM_EXIT_TIMEOUT,
			    "guest stopped: timed out after %u s", timeout_s);
}

int vm_run(struct vm *vm, unsigned int timeout_s)
{
	int r = start_devices(vm);
	if (!r)
		r = build_tsses(vm);
	if (r) {
		vm_stop_devices(vm);
		return PVKVM_EXIT_VMM_ERROR;
	}
	vm->vcpus_running = true;
	start_threads(vm);
	wait_until_stopped(vm, timeout_s);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		if (atomic_load(&vm->vcpus[i].thread_live))
			pthread_join(vm->vcpus[i].thread, NULL);
	vm_stop_devices(vm);
	return vm->exit_status;
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	vm_modules_fini(vm);
	hcall_table_free(vm->hcalls);
	if (vm->kernel) {
		elf_image_free((struct elf_image *)vm->kernel);
		free((void *)vm->kernel);
	}
	gmem_destroy(&vm->mem);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	pthread_cond_destroy(&vm->event_cond);
	pthread_mutex_destroy(&vm->event_lock);
	free(vm);
}
