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
#include <stdint.h>

#include "host/guest_mem.h"
#include "host/stats.h"
#include "hypercall/pvkvm_abi.h"

struct kvm_run;
struct hcall_table;
struct evtchn_table;
struct grant_table;
struct store;
struct elf_image;
struct device;

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
	bool started;     /* vCPU 0 at boot, others after PVKVM_HC_VCPU_UP */
	uint64_t tss_gpa; /* this vCPU's TSS (and its rsp0 fault stack) */
};

enum vm_state { VM_RUNNING, VM_SHUTDOWN, VM_CRASHED, VM_TIMEOUT };

struct vm {
	int kvm_fd;
	int vm_fd;
	struct guest_mem mem;

	unsigned int nr_vcpus;
	struct vcpu *vcpus;

	struct hcall_table *hcalls;
	struct evtchn_table *evtchn;
	struct grant_table *grants;
	struct store *store;

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
};

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

#endif
