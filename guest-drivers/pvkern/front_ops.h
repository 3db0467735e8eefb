/* SPDX-License-Identifier: MIT */
/*
 * pvkern's side of the OS-independent frontend cores' ops
 * (guest-drivers/core/): grants, pages and frames are the same for
 * blkfront and netfront, and need no context (ctx is ignored). Each driver
 * keeps its own notify, which knows its event channel.
 */
#ifndef PVKERN_FRONT_OPS_H
#define PVKERN_FRONT_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int front_op_grant(void *ctx, uint64_t frame, bool readonly);
int front_op_ungrant(void *ctx, uint32_t ref);
void *front_op_alloc_pages(void *ctx, size_t n);
uint64_t front_op_virt_to_frame(void *ctx, const void *va);

#endif
