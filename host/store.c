// SPDX-License-Identifier: MIT
/* Config store (skeleton: implementation follows). */
#include "host/store.h"

#include <stdarg.h>

#include "hypercall/pvkvm_abi.h"

struct store *store_new(void) { return NULL; }
void store_free(struct store *s) { (void)s; }
int store_write(struct store *s, const char *p, const void *v, size_t l) { (void)s; (void)p; (void)v; (void)l; return -PVKVM_ENOSYS; }
int store_printf(struct store *s, const char *p, const char *fmt, ...) { (void)s; (void)p; (void)fmt; return -PVKVM_ENOSYS; }
ssize_t store_read(struct store *s, const char *p, void *b, size_t l) { (void)s; (void)p; (void)b; (void)l; return -PVKVM_ENOSYS; }
int store_read_u64(struct store *s, const char *p, uint64_t *o) { (void)s; (void)p; (void)o; return -PVKVM_ENOSYS; }
ssize_t store_list(struct store *s, const char *p, char *b, size_t l) { (void)s; (void)p; (void)b; (void)l; return -PVKVM_ENOSYS; }
int store_remove(struct store *s, const char *p) { (void)s; (void)p; return -PVKVM_ENOSYS; }
struct store_watch *store_watch_add(struct store *s, const char *p, uint64_t t, store_watch_fn fn, void *a) { (void)s; (void)p; (void)t; (void)fn; (void)a; return NULL; }
void store_watch_remove(struct store *s, struct store_watch *w) { (void)s; (void)w; }
