// SPDX-License-Identifier: MIT
/*
 * Event channels.
 *
 * The port table is a fixed array of PVKVM_EVTCHN_MAX slots allocated with
 * the table and never freed while the VM lives. Hot readers (notify from an
 * I/O thread, raise_virq, the unmatched-send exit) see a slot's state with
 * one atomic load and take no lock; the control path (alloc, bind, close,
 * host bind/unbind) changes slots under `lock`. Because no slot memory ever
 * goes away, readers need no RCU grace period, and a guest close running in
 * a hypercall never has to wait for one.
 *
 * A host end's eventfd belongs to the host: a guest close only disarms the
 * ioeventfd (its sends stop arriving); the fd stays open until the backend
 * unbinds, so a backend polling it can never see the number reused under it.
 * Until then the port number is not handed out again.
 */
#include "host/services/evtchn.h"

#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "host/core/hcall.h"
#include "host/core/vm.h"
#include "hypercall/pvkvm_abi.h"

enum port_state {
	PORT_FREE = 0,
	PORT_UNBOUND,  /* the guest allocated it; a host end may bind */
	PORT_VIRQ,     /* bound to a virtual interrupt */
	PORT_CLOSED,   /* closed by the guest, host end not yet unbound */
};

struct evtchn_port {
	atomic_int state;   /* enum port_state */
	atomic_uint virq;   /* PORT_VIRQ; atomic: a stale reader may race a reuse */
	int host_efd;       /* -1 when no host end */
	bool ioeventfd_on;  /* KVM delivers sends to host_efd */
};

struct evtchn_table {
	struct vm *vm;
	pthread_mutex_t lock; /* control path */
	struct evtchn_port port[PVKVM_EVTCHN_MAX];
};

static bool port_in_range(unsigned int port)
{
	return port >= 1 && port < PVKVM_EVTCHN_MAX;
}

static int port_state(struct evtchn_table *t, unsigned int port)
{
	return atomic_load_explicit(&t->port[port].state, memory_order_acquire);
}

static void set_state(struct evtchn_port *p, enum port_state s)
{
	atomic_store_explicit(&p->state, s, memory_order_release);
}

struct evtchn_table *evtchn_table_new(struct vm *vm)
{
	struct evtchn_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->vm = vm;
	pthread_mutex_init(&t->lock, NULL);
	for (unsigned int i = 0; i < PVKVM_EVTCHN_MAX; i++)
		t->port[i].host_efd = -1;
	return t;
}

/* ---- the KVM ioeventfd of a host end --------------------------------------- */

static int ioeventfd_set(struct evtchn_table *t, unsigned int port, int efd,
			 bool assign)
{
	struct kvm_ioeventfd io = {
		.datamatch = port,
		.addr = PVKVM_PORT_EVTCHN_NOTIFY,
		.len = 4,
		.fd = efd,
		.flags = KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DATAMATCH |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};
	return ioctl(t->vm->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

static void host_end_disarm_locked(struct evtchn_table *t, unsigned int port)
{
	struct evtchn_port *p = &t->port[port];
	if (p->ioeventfd_on)
		ioeventfd_set(t, port, p->host_efd, false);
	p->ioeventfd_on = false;
}

/*
 * evtchn_guest_sends counts every send that reached a host end: the
 * backend adds what it reads from the eventfd, and what is still in it when
 * the host end goes away is added here, so a send the backend never got to
 * read (the guest sent and shut down) is counted all the same.
 */
static void count_unread_sends(struct evtchn_table *t, int efd)
{
	uint64_t n;
	if (read(efd, &n, sizeof(n)) == sizeof(n)) /* EFD_NONBLOCK: 0 unread */
		stat_add(&t->vm->stats.evtchn_guest_sends, n);
}

static void host_end_release_locked(struct evtchn_table *t, unsigned int port)
{
	struct evtchn_port *p = &t->port[port];
	host_end_disarm_locked(t, port);
	if (p->host_efd >= 0) {
		count_unread_sends(t, p->host_efd);
		close(p->host_efd);
	}
	p->host_efd = -1;
}

void evtchn_table_free(struct evtchn_table *t)
{
	if (!t)
		return;
	for (unsigned int i = 1; i < PVKVM_EVTCHN_MAX; i++)
		host_end_release_locked(t, i);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* ---- guest side ------------------------------------------------------------- */

static int alloc_locked(struct evtchn_table *t, enum port_state s,
			unsigned int virq)
{
	for (unsigned int i = 1; i < PVKVM_EVTCHN_MAX; i++) {
		if (port_state(t, i) != PORT_FREE)
			continue;
		atomic_store_explicit(&t->port[i].virq, virq,
				      memory_order_relaxed);
		set_state(&t->port[i], s);
		return (int)i;
	}
	return -PVKVM_ENOSPC;
}

int evtchn_alloc_unbound(struct evtchn_table *t)
{
	pthread_mutex_lock(&t->lock);
	int rc = alloc_locked(t, PORT_UNBOUND, 0);
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int evtchn_bind_virq(struct evtchn_table *t, unsigned int virq)
{
	if (virq >= PVKVM_VIRQ_COUNT)
		return -PVKVM_EINVAL;
	pthread_mutex_lock(&t->lock);
	int rc = alloc_locked(t, PORT_VIRQ, virq);
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int evtchn_close(struct evtchn_table *t, unsigned int port)
{
	if (!port_in_range(port))
		return -PVKVM_EINVAL;
	pthread_mutex_lock(&t->lock);
	int rc = 0;
	struct evtchn_port *p = &t->port[port];
	int s = port_state(t, port);
	if (s == PORT_FREE || s == PORT_CLOSED) {
		rc = -PVKVM_EINVAL;
	} else if (p->host_efd >= 0) {
		host_end_disarm_locked(t, port);
		set_state(p, PORT_CLOSED);
	} else {
		set_state(p, PORT_FREE);
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

/* ---- host side -------------------------------------------------------------- */

int evtchn_bind_host(struct evtchn_table *t, unsigned int port, int *efd)
{
	*efd = -1;
	if (!port_in_range(port))
		return -PVKVM_EINVAL;
	pthread_mutex_lock(&t->lock);
	struct evtchn_port *p = &t->port[port];
	int rc = 0;
	if (port_state(t, port) != PORT_UNBOUND) {
		rc = -PVKVM_EINVAL;
	} else if (p->host_efd >= 0) {
		rc = -PVKVM_EBUSY;
	} else {
		int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fd < 0) {
			rc = -PVKVM_ENOMEM;
		} else if (ioeventfd_set(t, port, fd, true) < 0) {
			close(fd);
			rc = -PVKVM_EIO;
		} else {
			p->host_efd = fd;
			p->ioeventfd_on = true;
			*efd = fd;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int evtchn_unbind_host(struct evtchn_table *t, unsigned int port)
{
	if (!port_in_range(port))
		return -PVKVM_EINVAL;
	pthread_mutex_lock(&t->lock);
	struct evtchn_port *p = &t->port[port];
	int rc = 0;
	if (p->host_efd < 0) {
		rc = -PVKVM_EINVAL;
	} else {
		host_end_release_locked(t, port);
		if (port_state(t, port) == PORT_CLOSED)
			set_state(p, PORT_FREE);
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

/* ---- delivery --------------------------------------------------------------- */

static void mark_pending(struct evtchn_table *t, unsigned int port)
{
	struct vm *vm = t->vm;
	__atomic_fetch_or(&vm->shared_info->evtchn_pending[port / 64],
			  1ull << (port % 64), __ATOMIC_SEQ_CST);
	stat_inc(&vm->stats.evtchn_host_notifies);
	vm_kick_waiters(vm);
}

int evtchn_notify_guest(struct evtchn_table *t, unsigned int port)
{
	if (!port_in_range(port))
		return -PVKVM_EINVAL;
	int s = port_state(t, port);
	if (s != PORT_UNBOUND && s != PORT_VIRQ)
		return -PVKVM_EINVAL;
	if (!t->vm->shared_info)
		return -PVKVM_EAGAIN; /* the guest has no shared-info page yet */
	mark_pending(t, port);
	return 0;
}

void evtchn_raise_virq(struct evtchn_table *t, unsigned int virq)
{
	if (virq >= PVKVM_VIRQ_COUNT || !t->vm->shared_info)
		return;
	for (unsigned int i = 1; i < PVKVM_EVTCHN_MAX; i++) {
		if (port_state(t, i) == PORT_VIRQ &&
		    atomic_load_explicit(&t->port[i].virq,
					 memory_order_relaxed) == virq)
			mark_pending(t, i);
	}
}

void evtchn_unmatched_send(struct evtchn_table *t, uint32_t port)
{
	(void)port; /* no host end: nothing to wake */
	stat_inc(&t->vm->stats.evtchn_unbound_sends);
}

/* ---- hypercalls ------------------------------------------------------------- */

static int64_t hc_alloc(struct vcpu *v, void *ctx, const uint64_t a[HCALL_NARGS])
{
	(void)v;
	(void)a;
	return evtchn_alloc_unbound(ctx);
}

static int64_t hc_bind_virq(struct vcpu *v, void *ctx,
			    const uint64_t a[HCALL_NARGS])
{
	(void)v;
	if (a[0] >= PVKVM_VIRQ_COUNT)
		return -PVKVM_EINVAL;
	return evtchn_bind_virq(ctx, (unsigned int)a[0]);
}

static int64_t hc_close(struct vcpu *v, void *ctx, const uint64_t a[HCALL_NARGS])
{
	(void)v;
	if (a[0] >= PVKVM_EVTCHN_MAX)
		return -PVKVM_EINVAL;
	return evtchn_close(ctx, (unsigned int)a[0]);
}

/*
 * A send through the generic hypercall path (a guest that did not use the
 * notify stub): behave as the ioeventfd would, under the lock so the host
 * end cannot be closed while we signal it.
 */
static int64_t hc_send(struct vcpu *v, void *ctx, const uint64_t a[HCALL_NARGS])
{
	(void)v;
	struct evtchn_table *t = ctx;
	unsigned int port = a[0] < PVKVM_EVTCHN_MAX ? (unsigned int)a[0] : 0;
	bool delivered = false;
	pthread_mutex_lock(&t->lock);
	if (port_in_range(port) && t->port[port].ioeventfd_on) {
		uint64_t one = 1;
		delivered = write(t->port[port].host_efd, &one, sizeof(one)) ==
			    sizeof(one);
	}
	pthread_mutex_unlock(&t->lock);
	if (!delivered)
		evtchn_unmatched_send(t, (uint32_t)a[0]);
	return 0;
}

int evtchn_register_hypercalls(struct vm *vm)
{
	static const struct {
		unsigned int nr;
		const char *name;
		hcall_fn fn;
	} calls[] = {
		{ PVKVM_HC_EVTCHN_ALLOC, "evtchn_alloc", hc_alloc },
		{ PVKVM_HC_EVTCHN_BIND_VIRQ, "evtchn_bind_virq", hc_bind_virq },
		{ PVKVM_HC_EVTCHN_SEND, "evtchn_send", hc_send },
		{ PVKVM_HC_EVTCHN_CLOSE, "evtchn_close", hc_close },
	};
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		int rc = hcall_register(vm->hcalls, calls[i].nr, calls[i].name,
					calls[i].fn, vm->evtchn);
		if (rc)
			return rc;
	}
	return 0;
}
