// SPDX-License-Identifier: MIT
/* Event channels (skeleton: implementation follows). */
#include "host/evtchn.h"

#include <stddef.h>

#include "hypercall/pvkvm_abi.h"

struct evtchn_table *evtchn_table_new(struct vm *vm) { (void)vm; return NULL; }
void evtchn_table_free(struct evtchn_table *t) { (void)t; }
int evtchn_alloc_unbound(struct evtchn_table *t) { (void)t; return -PVKVM_ENOSYS; }
int evtchn_bind_virq(struct evtchn_table *t, unsigned int virq) { (void)t; (void)virq; return -PVKVM_ENOSYS; }
int evtchn_close(struct evtchn_table *t, unsigned int port) { (void)t; (void)port; return -PVKVM_ENOSYS; }
int evtchn_bind_host(struct evtchn_table *t, unsigned int port, int *efd) { (void)t; (void)port; *efd = -1; return -PVKVM_ENOSYS; }
int evtchn_unbind_host(struct evtchn_table *t, unsigned int port) { (void)t; (void)port; return -PVKVM_ENOSYS; }
int evtchn_notify_guest(struct evtchn_table *t, unsigned int port) { (void)t; (void)port; return -PVKVM_ENOSYS; }
void evtchn_raise_virq(struct evtchn_table *t, unsigned int virq) { (void)t; (void)virq; }
void evtchn_unmatched_send(struct evtchn_table *t, uint32_t port) { (void)t; (void)port; }
int evtchn_register_hypercalls(struct vm *vm) { (void)vm; return 0; }
