/* SPDX-License-Identifier: MIT */
/*
 * Counters every part of the VMM keeps: exits by reason, hypercalls by
 * number, event-channel traffic, and named per-device groups. Counters are
 * relaxed atomics: vCPU and I/O threads bump them without a lock.
 * `pvkvm --stats` prints them at exit; `--stats-json FILE` writes them.
 */
#ifndef PVKVM_STATS_H
#define PVKVM_STATS_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "hypercall/pvkvm_abi.h"

#define STATS_EXIT_REASONS 64 /* KVM_EXIT_* values are below this */

struct stat_counter {
	const char *name;
	atomic_uint_fast64_t value;
};

/* A device's counters. Register once; the group must outlive the VM. */
struct stats_group {
	const char *name;
	struct stat_counter *counters;
	unsigned int nr;
	struct stats_group *next;
};

struct vm_stats {
	atomic_uint_fast64_t exits[STATS_EXIT_REASONS];
	atomic_uint_fast64_t exits_pio_hypercall;
	atomic_uint_fast64_t exits_pio_null;
	atomic_uint_fast64_t exits_pio_device;
	atomic_uint_fast64_t hypercalls[PVKVM_HYPERCALL_MAX];
	/* Every send that reached a host end's eventfd (ioeventfd or the
	 * EVTCHN_SEND hypercall): counted by the backend's reads plus what is
	 * still in the eventfd when the host end goes away (evtchn.c). */
	atomic_uint_fast64_t evtchn_guest_sends;
	atomic_uint_fast64_t evtchn_unbound_sends; /* sends that exited */
	atomic_uint_fast64_t evtchn_host_notifies;
	atomic_uint_fast64_t wait_calls;
	atomic_uint_fast64_t wait_wakeups;
	atomic_uint_fast64_t wait_timeouts;
	struct stats_group *groups;
	uint32_t start_info_flags; /* PVKVM_SIF_*, as the guest got them */
};

static inline void stat_inc(atomic_uint_fast64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static inline void stat_add(atomic_uint_fast64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static inline uint64_t stat_get(const atomic_uint_fast64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

struct hcall_table;

/* The name of KVM exit reason r ("io", "shutdown"...), or NULL. */
const char *stats_exit_name(unsigned int r);

/* Every KVM_RUN return, whatever its reason. */
uint64_t stats_total_exits(const struct vm_stats *s);

void stats_register_group(struct vm_stats *s, struct stats_group *g);
void stats_print(const struct vm_stats *s, struct hcall_table *names, FILE *f);
/* 0 or -errno */
int stats_write_json(const struct vm_stats *s, struct hcall_table *names,
		     const char *path);

#endif
