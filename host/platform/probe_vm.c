// SPDX-License-Identifier: MIT
/* A throw-away VM for measuring the host (see probe_vm.h). */
#include "host/platform/probe_vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "hypercall/pvkvm_abi.h"
#include "host/util/errmsg.h"
#include "host/x86/cpuid.h"

#define PML4_GPA 0x1000u
#define PDPT_GPA 0x2000u
#define PD_GPA 0x3000u
#define PTE_PRESENT_RW_USER 0x7ull
#define PDE_LARGE 0x80ull
#define CR0_PE_MP_ET_NE_WP_AM_PG 0x80050033ull
#define CR4_PAE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define EFER_LME_LMA 0x500ull
#define RFLAGS_IOPL3 0x3000ull

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* 1 GiB identity map in 2 MiB pages, all user-accessible. */
static void build_page_tables(uint8_t *mem)
{
	uint64_t *pml4 = (uint64_t *)(mem + PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(mem + PDPT_GPA);
	uint64_t *pd = (uint64_t *)(mem + PD_GPA);
	pml4[0] = PDPT_GPA | PTE_PRESENT_RW_USER;
	pdpt[0] = PD_GPA | PTE_PRESENT_RW_USER;
	for (uint64_t i = 0; i < 512; i++)
		pd[i] = (i << 21) | PDE_LARGE | PTE_PRESENT_RW_USER;
}

static int set_sregs(struct probe_vm *p, const struct probe_setup *s)
{
	struct kvm_sregs sr;
	if (ioctl(p->vcpu_fd, KVM_GET_SREGS, &sr) < 0)
		return -errno;
	struct kvm_segment code = {
		.limit = 0xffffffff, .selector = (uint16_t)(8 | s->cpl), .present = 1,
		.type = 11, .dpl = (uint8_t)s->cpl, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = code;
	data.selector = (uint16_t)(16 | s->cpl);
	data.type = 3;
	data.l = 0;
	data.db = 1;
	sr.cs = code;
	sr.ds = sr.es = sr.fs = sr.gs = sr.ss = data;
	sr.cr3 = PML4_GPA;
	sr.cr4 = CR4_PAE | (s->osfxsr ? CR4_OSFXSR | CR4_OSXMMEXCPT : 0);
	sr.cr0 = CR0_PE_MP_ET_NE_WP_AM_PG;
	sr.efer = EFER_LME_LMA;
	return ioctl(p->vcpu_fd, KVM_SET_SREGS, &sr) < 0 ? -errno : 0;
}

static int add_ioeventfd(struct probe_vm *p)
{
	p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->efd < 0)
		return -errno;
	struct kvm_ioeventfd io = {.addr = PROBE_PORT_LOOP, .len = 1, .fd = p->efd,
				   .flags = KVM_IOEVENTFD_FLAG_PIO};
	return ioctl(p->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

static int create_vcpu(int kvm_fd, struct probe_vm *p, const struct probe_setup *s)
{
	p->vcpu_fd = ioctl(p->vm_fd, KVM_CREATE_VCPU, 0);
	if (p->vcpu_fd < 0)
		return -errno;
	int size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size <= 0)
		return -EINVAL;
	void *run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 p->vcpu_fd, 0);
	if (run == MAP_FAILED)
		return -errno;
	p->run = run;
	p->run_size = (size_t)size;
	if (s->pvkvm_cpuid) {
		int r = cpuid_setup_vcpu(kvm_fd, p->vcpu_fd, 0 /* the probe asks no feature */, false);
		if (r)
			return r;
	}
	return set_sregs(p, s);
}

static int create_ram(struct probe_vm *p, size_t size)
{
	void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		return -errno;
	p->mem = mem;
	p->mem_size = size;
	struct kvm_userspace_memory_region region = {
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)mem,
	};
	return ioctl(p->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0 ? -errno : 0;
}

int probe_vm_create(int kvm_fd, const struct probe_setup *s, const void *code,
		    size_t len, struct probe_vm *p, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->vm_fd = p->vcpu_fd = p->efd = -1;
	p->cpl = s->cpl;
	size_t size = s->mem_size < (4u << 20) ? (4u << 20) : s->mem_size;
	if (len > size - PROBE_CODE_GPA)
		return errmsg(-EINVAL, err, errlen, "probe code of %zu bytes does not fit", len);
	p->vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (p->vm_fd < 0)
		return errmsg(-errno, err, errlen, "KVM_CREATE_VM: %s", strerror(errno));
	int r = create_ram(p, size);
	if (r == 0) {
		build_page_tables(p->mem);
		memcpy(p->mem + PROBE_CODE_GPA, code, len);
	}
	if (r == 0 && s->ioeventfd)
		r = add_ioeventfd(p);
	if (r == 0)
		r = create_vcpu(kvm_fd, p, s);
	if (r) {
		probe_vm_destroy(p);
		return errmsg(r, err, errlen, "cannot set up the probe VM: %s", strerror(-r));
	}
	return 0;
}

static int set_start(struct probe_vm *p, uint64_t iters)
{
	struct kvm_regs g = {
		.rip = PROBE_CODE_GPA, .r8 = iters, .rsp = 0x200000,
		.rflags = 0x2 | (p->cpl ? RFLAGS_IOPL3 : 0),
	};
	return ioctl(p->vcpu_fd, KVM_SET_REGS, &g) < 0 ? -errno : 0;
}

/* One exit: true while the run goes on. */
static bool take_exit(struct probe_vm *p, struct probe_run *out)
{
	struct kvm_run *run = p->run;
	if (run->exit_reason == KVM_EXIT_MMIO) {
		out->exits++;
		return true;
	}
	if (run->exit_reason != KVM_EXIT_IO) {
		out->outcome = run->exit_reason == KVM_EXIT_SHUTDOWN ? PROBE_SHUTDOWN : PROBE_OTHER;
		return false;
	}
	uint16_t port = run->io.port;
	if (port == PROBE_PORT_END) {
		out->outcome = PROBE_ENDED;
		return false;
	}
	if (port >= PROBE_PORT_VALUE && port < PROBE_PORT_VALUE + PROBE_VALUES) {
		uint32_t v = 0;
		memcpy(&v, (uint8_t *)run + run->io.data_offset,
		       run->io.size < 4 ? run->io.size : 4);
		out->value[port - PROBE_PORT_VALUE] = v;
	} else {
		out->exits++;
	}
	return true;
}

int probe_vm_run(struct probe_vm *p, uint64_t iters, struct probe_run *out)
{
	memset(out, 0, sizeof(*out));
	out->outcome = PROBE_OTHER;
	int r = set_start(p, iters);
	if (r)
		return r;
	uint64_t t0 = now_ns();
	for (;;) {
		if (ioctl(p->vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			r = -errno;
			break;
		}
		if (!take_exit(p, out))
			break;
	}
	out->ns = now_ns() - t0;
	return r;
}

void probe_vm_destroy(struct probe_vm *p)
{
	if (p->run)
		munmap(p->run, p->run_size);
	if (p->vcpu_fd >= 0)
		close(p->vcpu_fd);
	if (p->efd >= 0)
		close(p->efd);
	if (p->vm_fd >= 0)
		close(p->vm_fd);
	if (p->mem)
		munmap(p->mem, p->mem_size);
	memset(p, 0, sizeof(*p));
	p->vm_fd = p->vcpu_fd = p->efd = -1;
}

#define TIMED_RUNS 3

double probe_loop_ns(int kvm_fd, const struct probe_setup *s, const void *code,
		     size_t len, uint64_t warmup, uint64_t iters)
{
	struct probe_vm p;
	struct probe_run run;
	char err[160];
	double ns[TIMED_RUNS];
	int r = probe_vm_create(kvm_fd, s, code, len, &p, err, sizeof(err));
	if (r)
		return r;
	r = probe_vm_run(&p, warmup ? warmup : 1, &run);
	for (unsigned int i = 0; i < TIMED_RUNS && !r && run.outcome == PROBE_ENDED; i++) {
		r = probe_vm_run(&p, iters ? iters : 1, &run);
		ns[i] = (double)run.ns / (double)(iters ? iters : 1);
	}
	probe_vm_destroy(&p);
	if (r)
		return r;
	if (run.outcome != PROBE_ENDED)
		return -1;
	/* The median of the timed runs: one preempted run does not count. */
	for (unsigned int i = 1; i < TIMED_RUNS; i++)
		for (unsigned int j = i; j > 0 && ns[j - 1] > ns[j]; j--) {
			double t = ns[j];
			ns[j] = ns[j - 1];
			ns[j - 1] = t;
		}
	return ns[TIMED_RUNS / 2];
}
