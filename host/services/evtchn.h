/* SPDX-License-Identifier: MIT */
/*
 * Event channels: numbered ports of one VM.
 *
 * Guest -> host: the guest's send is an `out` to PVKVM_PORT_EVTCHN_NOTIFY that
 * KVM matches against an ioeventfd registered per bound port (datamatch =
 * port), so it signals the host end's eventfd without leaving the kernel.
 * Host -> guest: evtchn_notify_guest() sets the port's pending bit in the
 * shared-info page and wakes vCPUs blocked in PVKVM_HC_WAIT.
 *
 * The port table is read under RCU by vCPU and I/O threads and changed by the
 * control path (alloc, bind, close).
 */
#ifndef PVKVM_EVTCHN_H
#define PVKVM_EVTCHN_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct evtchn_table;

struct evtchn_table *evtchn_table_new(struct vm *vm);
void evtchn_table_free(struct evtchn_table *t);

/* Guest side: what the hypercalls do. Ports are >= 1; port 0 is invalid. */
int evtchn_alloc_unbound(struct evtchn_table *t);             /* port */
int evtchn_bind_virq(struct evtchn_table *t, unsigned int virq); /* port */
int evtchn_close(struct evtchn_table *t, unsigned int port);

/*
 * Host side. Binds the host end of a port the guest allocated: returns (in
 * *efd) an eventfd, owned by the table, that becomes readable whenever the
 * guest sends on the port. Reading it returns how many sends arrived. 0,
 * -PVKVM_EINVAL (no such port), -PVKVM_EBUSY (already bound).
 */
int evtchn_bind_host(struct evtchn_table *t, unsigned int port, int *efd);
int evtchn_unbind_host(struct evtchn_table *t, unsigned int port);

/* Marks the port pending and wakes the guest. 0, -PVKVM_EINVAL (not an open
 * port), -PVKVM_EAGAIN (the VM has no shared-info page yet). */
int evtchn_notify_guest(struct evtchn_table *t, unsigned int port);
/* Notifies every port bound to virq. */
void evtchn_raise_virq(struct evtchn_table *t, unsigned int virq);

/*
 * Another way to reach the guest, for a VM that is not a KVM guest of this
 * process (`pvkvm serve`: a QEMU guest through ivshmem). With a delivery
 * set, a host end's eventfd is armed by arm() instead of a KVM ioeventfd
 * (on: make efd readable on the guest's sends on port; off: stop that), and
 * evtchn_notify_guest() calls notify() instead of marking the port pending
 * in the shared-info page. Set before any port is bound; NULL: KVM.
 */
struct evtchn_delivery {
	int (*arm)(void *ctx, unsigned int port, int efd, bool on); /* 0 or -errno */
	void (*notify)(void *ctx, unsigned int port);
	void *ctx;
};
void evtchn_set_delivery(struct evtchn_table *t,
			 const struct evtchn_delivery *d);

/* A guest send that KVM did not match (the port has no host end): counted
 * and dropped. Called by the vCPU loop on an exit to the notify port. */
void evtchn_unmatched_send(struct evtchn_table *t, uint32_t port);

/* Registers the evtchn hypercalls (alloc, bind_virq, close, send). */
int evtchn_register_hypercalls(struct vm *vm);

#endif
