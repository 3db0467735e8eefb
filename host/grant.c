// SPDX-License-Identifier: MIT
/* Grant table (skeleton: implementation follows). */
#include "host/grant.h"

#include <stddef.h>

#include "hypercall/pvkvm_abi.h"

struct grant_table *grant_table_new(const struct guest_mem *m) { (void)m; return NULL; }
void grant_table_free(struct grant_table *t) { (void)t; }
int grant_table_setup(struct grant_table *t, uint64_t gpa, uint32_t n) { (void)t; (void)gpa; (void)n; return -PVKVM_ENOSYS; }
int grant_map(struct grant_table *t, uint32_t ref, enum grant_access acc, struct grant_map *out) { (void)t; (void)ref; (void)acc; (void)out; return -PVKVM_ENOSYS; }
void grant_unmap(struct grant_map *map) { (void)map; }
int grant_copy_from(struct grant_table *t, uint32_t ref, uint32_t off, void *dst, uint32_t len) { (void)t; (void)ref; (void)off; (void)dst; (void)len; return -PVKVM_ENOSYS; }
int grant_copy_to(struct grant_table *t, uint32_t ref, uint32_t off, const void *src, uint32_t len) { (void)t; (void)ref; (void)off; (void)src; (void)len; return -PVKVM_ENOSYS; }
int grant_register_hypercalls(struct vm *vm) { (void)vm; return 0; }
