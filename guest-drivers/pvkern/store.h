/* SPDX-License-Identifier: MIT */
/*
 * Config-store client (the xenstore role). Paths are C strings; the
 * hypercalls take (gpa, length) and no terminator.
 */
#ifndef PVKERN_STORE_H
#define PVKERN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hypercall/pvkvm_abi.h"

/* Copies the value NUL-terminated into buf (truncated to size-1) and returns
 * its full length, or a PVKVM_E*. */
int store_read(const char *path, char *buf, size_t size);
/* Whether the key is there (readable): how drivers find what the VMM
 * attached without touching its ports. */
bool store_has(const char *path);
/* Parses a decimal value; 0, -PVKVM_ENOENT or -PVKVM_EINVAL. */
int store_read_u64(const char *path, uint64_t *out);
int store_write(const char *path, const char *value);
int store_write_u64(const char *path, uint64_t value);
/* Children's names, each NUL-terminated, packed into buf; returns the full
 * length (may exceed size, as with read). */
int store_list(const char *path, char *buf, size_t size);
int store_remove(const char *path);
int store_watch(const char *path, uint64_t token);
int store_unwatch(const char *path, uint64_t token);
/* 1 and *ev filled, 0 when the queue is empty, or a PVKVM_E*. */
int store_next_event(struct pvkvm_watch_event *ev);

/* The port the VMM raises PVKVM_VIRQ_STORE on (from start-info). */
void store_init(uint32_t evtchn);
uint32_t store_evtchn(void);

#endif
