/* SPDX-License-Identifier: MIT */
/* The core hypercalls: VERSION .. VCPU_UP (hc_core.c). */
#ifndef PVKVM_HC_CORE_H
#define PVKVM_HC_CORE_H

#include <stddef.h>

struct vm;

/* PVKVM_FEAT_* this VMM offers. */
#define HC_CORE_FEATURES (PVKVM_FEAT_EVTCHN_IOEVENTFD | PVKVM_FEAT_GRANT_TABLE | \
			  PVKVM_FEAT_STORE | PVKVM_FEAT_VCPU_UP)

int hc_core_register(struct vm *vm);

/* Replaces, in place, every byte of a guest's console output that could
 * drive the operator's terminal (ESC, other controls, non-ASCII) with '?'.
 * Returns len. */
size_t console_sanitise(char *buf, size_t len);

#endif
