// SPDX-License-Identifier: MIT
/* Xenbus state machine (skeleton: implementation follows). */
#include "host/xenbus.h"

#include <stddef.h>

bool xenbus_transition_ok(enum pvkvm_xenbus_state f, enum pvkvm_xenbus_state t) { (void)f; (void)t; return false; }
const char *xenbus_state_name(enum pvkvm_xenbus_state s) { (void)s; return "Unknown"; }
enum pvkvm_xenbus_state xenbus_read_state(struct store *s, const char *d) { (void)s; (void)d; return PVKVM_XB_UNKNOWN; }
int xenbus_set_state(struct store *s, const char *d, enum pvkvm_xenbus_state t) { (void)s; (void)d; (void)t; return -PVKVM_ENOSYS; }
struct xenbus_backend *xenbus_backend_new(struct store *s, const char *type, unsigned int id, const struct xenbus_backend_ops *ops, void *arg) { (void)s; (void)type; (void)id; (void)ops; (void)arg; return NULL; }
void xenbus_backend_free(struct xenbus_backend *b) { (void)b; }
const char *xenbus_backend_dir(const struct xenbus_backend *b) { (void)b; return ""; }
