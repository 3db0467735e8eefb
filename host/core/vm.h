/* SPDX-License-Identifier: MIT */
/*
 * One virtual machine: KVM handles, guest RAM, vCPUs, and the services
 * (hypercalls, event channels, grants, store) that its devices share.
 *
 * Ownership: vm.c creates and destroys everything here. Devices hold a
 * struct vm * for their lifetime and are stopped before the VM goes away.
 */
#ifndef PVKVM_VM_H
#define PVKVM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/mem/guest_mem.h"
#include "host/core/stats.h"
#include "hypercall/pvkvm_abi.h"

struct kvm_run;
struct hcall_table;
struct evtchn_table;
struct grant_table;
struct store;
struct elf_image;
struct device;
struct vm_module;

/* Emulated port I/O (full-virt devices). data is len (1, 2, 4) * count
 * bytes; for string PIO count > 1. Runs on the vCPU thread. */
typedef void (*pio_fn)(void *ctx, uint16_t port, bool is_write, void *data,
		       uint32_t len, uint32_t count);

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	int run_size;
	pthread_t thread;
	atomic_bool thread_live; /* thread is valid: vm_stop may signal it */
	bool started;     /* vCPU 0 at boot, others after PVKVM_HC_VCPU_UP;
			   * under vm->event_lock */
	uint64_t tss_gpa; /* this vCPU's TSS (and its rsp0 fault stack) */
	/* Where the vCPU starts: set before started becomes true. */
	uint64_t boot_rip, boot_rsp, boot_rdi;
};

enum vm_state { VM_RUNNING, VM_SHUTDOWN, VM_CRASHED, VM_TIMEOUT };

/* pvkvm's exit status when the guest did not shut down by itself.
 * A SHUTDOWN hypercall exits with the guest's status & 0xff. */
enum pvkvm_exit_status {
	PVKVM_EXIT_VMM_ERROR = 1,     /* set-up failed: no KVM, bad ELF ... */
	PVKVM_EXIT_USAGE = 2,         /* bad command line */
	PVKVM_EXIT_GUEST_CRASH = 120, /* PVKVM_HC_CRASH */
	PVKVM_EXIT_GUEST_BROKEN = 121,/* triple fault, KVM error, bad exit */
	PVKVM_EXIT_TIMEOUT = 124,     /* --timeout, as timeout(1) */
	PVKVM_EXIT_FAULT_BASE = 128,  /* + vector (< 32) of a CPL3 fault */
};

/* Console output of the guest; the default writes to stdout. */
typedef void (*console_fn)(void *ctx, const char *buf, size_t len);

struct vm_config {
	uint64_t mem_size;     /* rounded up to 2 MiB */
	unsigned int nr_vcpus; /* 1..PVKVM_MAX_VCPUS */
	const char *cmdline;   /* start_info.cmdline; NULL = empty */
	bool stats;            /* sets PVKVM_SIF_STATS */
	bool cpl0;             /* vCPUs run at CPL0 (tests of the MSR path) */
	bool hide_cpuid;       /* withhold pvkvm's CPUID leaves (--hide-cpuid) */
	console_fn console;
	void *console_ctx;
};

#define VM_STACK_SIZE (64u * 1024u) /* the boot stack: top of RAM */
#define VM_MAX_PIO_RANGES 32u

struct pio_range {
	uint16_t base, count;
	pio_fn fn;
	void *ctx;
};

struct vm {
	int kvm_fd;
	int vm_fd;
	struct guest_mem mem;

	unsigned int nr_vcpus;
	struct vcpu *vcpus;

	struct hcall_table *hcalls;
	/* The PV services, set up by their modules (vm_module.h); NULL in a
	 * VM built by hand in a test that needs none. */
	struct evtchn_table *evtchn;
	struct grant_table *grants;
	struct store *store;
	/* A send on PVKVM_PORT_EVTCHN_NOTIFY that no ioeventfd matched
	 * (set by the event-channel module; NULL: ignored). */
	void (*unmatched_send)(struct vm *vm, uint32_t port);
	struct vm_module *modules_done; /* the last module set up */

	/* Host views of the two pages the guest shares with the VMM. */
	struct pvkvm_start_info *start_info;
	struct pvkvm_shared_info *shared_info;

	struct vm_stats stats;
	struct device *devices; /* singly linked, attach order */

	/* Wakes vCPUs blocked in PVKVM_HC_WAIT. event_gen counts wake-ups so
	 * a waiter never sleeps through one that raced its check. */
	pthread_mutex_t event_lock;
	pthread_cond_t event_cond;
	uint64_t event_gen;

	atomic_int state;     /* enum vm_state */
	int exit_status;      /* valid once state != VM_RUNNING */

	const struct elf_image *kernel; /* for symbolising faults */

	/* Added by the core (vm.c, vcpu.c, pio.c, msr.c). */
	struct vm_config cfg;
	uint64_t entry;       /* vCPU 0's first rip */
	uint64_t tsc_khz;
	struct pio_range pio[VM_MAX_PIO_RANGES]; /* fixed once vCPUs run */
	unsigned int nr_pio;
	bool vcpus_running;   /* vm_register_pio is refused after this */
	atomic_uint_fast64_t msr_hypercall_page; /* last value written */
	char stop_msg[256];   /* the line printed when the VM stopped */
};

/*
 * Life cycle, on the main thread: vm_create, vm_load_elf (or vm_load_code
 * in tests), vm_add_device..., vm_run, vm_destroy. Errors come back as
 * -errno with one line in err.
 */
int vm_create(const struct vm_config *cfg, struct vm **out, char *err,
	      size_t errlen);
int vm_load_elf(struct vm *vm, const char *path, char *err, size_t errlen);
/* Copies raw code to gpa and makes entry vCPU 0's start (tests). */
int vm_load_code(struct vm *vm, uint64_t gpa, const void *code, size_t len,
		 uint64_t entry);
/* Starts devices and vCPUs; returns the exit status once the VM stopped
 * (timeout_s 0 = none). */
int vm_run(struct vm *vm, unsigned int timeout_s);
void vm_destroy(struct vm *vm);

/* vm_stop with a reason: the first stopper prints "pvkvm: <msg>" on stderr
 * and keeps it in vm->stop_msg. */
void vm_stop_msg(struct vm *vm, enum vm_state why, int status,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The guest's console output (CONSOLE_WRITE). */
void vm_console_write(struct vm *vm, const char *buf, size_t len);

/* Sets the VM's final state (first caller wins) and stops every vCPU. */
void vm_stop(struct vm *vm, enum vm_state why, int status);
bool vm_running(const struct vm *vm);

/* Wakes every vCPU blocked in PVKVM_HC_WAIT; they re-check pending bits. */
void vm_kick_waiters(struct vm *vm);

/* CLOCK_MONOTONIC in ns: the clock of PVKVM_HC_TIME and WAIT deadlines. */
uint64_t vm_now_ns(void);

/*
 * Claims ports [base, base + count) for an emulated device. Must be called
 * before the vCPUs start: the TSS I/O bitmap of a CPL3 guest opens exactly
 * the claimed ports. 0, or -EBUSY when a port is taken.
 */
int vm_register_pio(struct vm *vm, uint16_t base, uint16_t count, pio_fn fn,
		    void *ctx);

/*
 * A device attached to the VM (PV backend or emulated). start runs after
 * guest RAM and services exist and before the vCPUs run; stop runs after
 * they have all stopped. Both on the main thread.
 */
struct device {
	const char *name; /* "blk0", "echo", ... */
	void *priv;
	int (*start)(struct device *dev, struct vm *vm);
	void (*stop)(struct device *dev, struct vm *vm);
	struct device *next;
};

void vm_add_device(struct vm *vm, struct device *dev);
/* Detaches every device and stops each, in attach order (stop may free
 * it): what the VM does at its end, and what a test without vm_run does. */
void vm_stop_devices(struct vm *vm);

#endif
