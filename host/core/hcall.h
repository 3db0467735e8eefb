/* SPDX-License-Identifier: MIT */
/*
 * The hypercall dispatch table.
 *
 * vCPU threads look handlers up under liburcu RCU on every hypercall exit;
 * the control path registers and removes handlers while the guest runs.
 * hcall_unregister() returns only when no vCPU can still be inside the old
 * handler, so a device may free its state right after it.
 */
#ifndef PVKVM_HCALL_H
#define PVKVM_HCALL_H

#include <stdint.h>

struct vcpu;

#define HCALL_NARGS 5

/* Returns the value for the guest's rax (>= 0, or -PVKVM_E*). */
typedef int64_t (*hcall_fn)(struct vcpu *v, void *ctx,
			    const uint64_t args[HCALL_NARGS]);

struct hcall_table;

struct hcall_table *hcall_table_new(void);
void hcall_table_free(struct hcall_table *t);

/* 0, -EINVAL (nr out of range), -EEXIST (already registered) */
int hcall_register(struct hcall_table *t, unsigned int nr, const char *name,
		   hcall_fn fn, void *ctx);
/* 0 or -ENOENT. Waits for a grace period and for in-flight calls. */
int hcall_unregister(struct hcall_table *t, unsigned int nr);

/* Calls handler nr; -PVKVM_ENOSYS when there is none. The calling thread
 * must be an RCU reader (rcu_register_thread()). */
int64_t hcall_dispatch(struct hcall_table *t, struct vcpu *v, unsigned int nr,
		       const uint64_t args[HCALL_NARGS]);

/* The name registered for nr, or NULL (for statistics). */
const char *hcall_name(struct hcall_table *t, unsigned int nr);

#endif
