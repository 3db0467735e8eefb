// SPDX-License-Identifier: MIT
/*
 * The host peer of the guest self-test (protocol: hypercall/pvkvm_testif.h).
 *
 * It is an ordinary PV backend: xenbus "test"/0, connected when the frontend
 * publishes a port and a page reference. While connected, one I/O thread
 * owns the command page: it sleeps in poll() on the port's eventfd and a
 * stop eventfd, and runs each new command once. The page is guest memory
 * the guest may scribble on at any time, so every field is read once,
 * after an acquire of seq, and every value is checked before use.
 */
#include "host/testdev/dev_testpeer.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "host/services/evtchn.h"
#include "host/services/grant.h"
#include "host/services/store.h"
#include "host/core/vm.h"
#include "host/services/xenbus.h"
#include "hypercall/pvkvm_testif.h"

#define VIRQ_LATER_MAX_MS 60000u

struct testpeer {
	struct device dev;
	struct vm *vm;
	struct xenbus_backend *xb;

	/* valid while connected */
	unsigned int port;
	int port_efd;
	unsigned int sink_port; /* 0: the frontend asked for none */
	int sink_efd;           /* bound, never polled: see pvkvm_testif.h */
	int stop_efd;
	struct grant_map page;
	pthread_t thread;

	/* I/O thread only */
	uint32_t last_seq;
	uint64_t virq_deadline_ns; /* 0 = none */
};

/* ---- one command ------------------------------------------------------------ */

struct command {
	uint32_t cmd;
	uint32_t seq;
	uint64_t arg;
};

struct outcome {
	int32_t status;
	uint64_t result;
};

static struct pvkvm_testif_page *cmd_page(struct testpeer *tp)
{
	return (struct pvkvm_testif_page *)(void *)tp->page.page;
}

/* False when there is nothing new. Reads each field exactly once. */
static bool fetch_command(struct testpeer *tp, struct command *c)
{
	struct pvkvm_testif_page *pg = cmd_page(tp);
	c->seq = __atomic_load_n(&pg->seq, __ATOMIC_ACQUIRE);
	if (c->seq == tp->last_seq)
		return false;
	c->cmd = __atomic_load_n(&pg->cmd, __ATOMIC_RELAXED);
	c->arg = __atomic_load_n(&pg->arg, __ATOMIC_RELAXED);
	return true;
}

static int32_t grant_ref_of(uint64_t arg, uint32_t *ref)
{
	if (arg > UINT32_MAX)
		return -PVKVM_ENOENT;
	*ref = (uint32_t)arg;
	return 0;
}

static struct outcome run_command(struct testpeer *tp, const struct command *c)
{
	struct outcome o = { 0, 0 };
	struct grant_table *gt = tp->vm->grants;
	uint32_t ref;
	switch (c->cmd) {
	case PVKVM_TESTIF_ECHO:
		o.result = c->arg + 1;
		break;
	case PVKVM_TESTIF_WRITE_GRANT:
		o.status = grant_ref_of(c->arg, &ref);
		if (!o.status)
			o.status = grant_copy_to(gt, ref, 0, "pvkvm-ok", 8);
		break;
	case PVKVM_TESTIF_READ_GRANT:
		o.status = grant_ref_of(c->arg, &ref);
		if (!o.status)
			o.status = grant_copy_from(gt, ref, 0, &o.result, 8);
		break;
	case PVKVM_TESTIF_VIRQ_LATER:
		if (c->arg > VIRQ_LATER_MAX_MS) {
			o.status = -PVKVM_EINVAL;
			break;
		}
		tp->virq_deadline_ns = vm_now_ns() + c->arg * 1000000ull + 1;
		break;
	default:
		o.status = -PVKVM_EINVAL;
		break;
	}
	return o;
}

static void answer(struct testpeer *tp, uint32_t seq, struct outcome o)
{
	struct pvkvm_testif_page *pg = cmd_page(tp);
	__atomic_store_n(&pg->status, o.status, __ATOMIC_RELAXED);
	__atomic_store_n(&pg->result, o.result, __ATOMIC_RELAXED);
	__atomic_store_n(&pg->ack_seq, seq, __ATOMIC_RELEASE);
	tp->last_seq = seq;
	evtchn_notify_guest(tp->vm->evtchn, tp->port);
}

static void serve_page(struct testpeer *tp)
{
	struct command c;
	if (!fetch_command(tp, &c))
		return;
	answer(tp, c.seq, run_command(tp, &c));
}

/* ---- the I/O thread --------------------------------------------------------- */

static int poll_timeout_ms(const struct testpeer *tp)
{
	if (!tp->virq_deadline_ns)
		return -1;
	uint64_t now = vm_now_ns();
	if (now >= tp->virq_deadline_ns)
		return 0;
	return (int)((tp->virq_deadline_ns - now + 999999) / 1000000);
}

static void fire_due_virq(struct testpeer *tp)
{
	if (tp->virq_deadline_ns && vm_now_ns() >= tp->virq_deadline_ns) {
		tp->virq_deadline_ns = 0;
		evtchn_raise_virq(tp->vm->evtchn, PVKVM_VIRQ_TEST);
	}
}

static void *io_thread(void *arg)
{
	struct testpeer *tp = arg;
	struct pollfd fds[2] = {
		{ .fd = tp->port_efd, .events = POLLIN },
		{ .fd = tp->stop_efd, .events = POLLIN },
	};
	/* Commands map grants, which read the table descriptor under RCU: a
	 * GNTTAB_SETUP's grace period must wait for this thread. */
	rcu_register_thread();
	/* A command may already wait: the guest could send before we ran. */
	serve_page(tp);
	for (;;) {
		int n = poll(fds, 2, poll_timeout_ms(tp));
		if (n < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			break;
		if (fds[0].revents & POLLIN) {
			uint64_t sends;
			if (read(tp->port_efd, &sends, sizeof(sends)) ==
			    sizeof(sends))
				stat_add(&tp->vm->stats.evtchn_guest_sends, sends);
			serve_page(tp);
		}
		fire_due_virq(tp);
	}
	rcu_unregister_thread();
	return NULL;
}

/* ---- xenbus hooks ----------------------------------------------------------- */

static int read_frontend(struct testpeer *tp, const char *fe_dir,
			 unsigned int *port, uint32_t *ref)
{
	char path[PVKVM_STORE_PATH_MAX];
	uint64_t v;
	snprintf(path, sizeof(path), "%s/evtchn", fe_dir);
	if (store_read_u64(tp->vm->store, path, &v) < 0 || v >= PVKVM_EVTCHN_MAX)
		return -PVKVM_EINVAL;
	*port = (unsigned int)v;
	snprintf(path, sizeof(path), "%s/page-ref", fe_dir);
	if (store_read_u64(tp->vm->store, path, &v) < 0 || v > UINT32_MAX)
		return -PVKVM_EINVAL;
	*ref = (uint32_t)v;
	return 0;
}

/* The optional sink port: absent is fine, malformed is an error. */
static int bind_sink(struct testpeer *tp, const char *fe_dir)
{
	char path[PVKVM_STORE_PATH_MAX];
	uint64_t v;
	tp->sink_port = 0;
	snprintf(path, sizeof(path), "%s/sink-evtchn", fe_dir);
	int rc = store_read_u64(tp->vm->store, path, &v);
	if (rc == -PVKVM_ENOENT)
		return 0;
	if (rc < 0 || v == 0 || v >= PVKVM_EVTCHN_MAX || v == tp->port)
		return -PVKVM_EINVAL;
	rc = evtchn_bind_host(tp->vm->evtchn, (unsigned int)v, &tp->sink_efd);
	if (rc == 0)
		tp->sink_port = (unsigned int)v;
	return rc;
}

/* Nobody read the sink's eventfd: its counter is the number of sends. */
static void unbind_sink(struct testpeer *tp)
{
	uint64_t sends;
	if (!tp->sink_port)
		return;
	if (read(tp->sink_efd, &sends, sizeof(sends)) == sizeof(sends))
		stat_add(&tp->vm->stats.evtchn_guest_sends, sends);
	evtchn_unbind_host(tp->vm->evtchn, tp->sink_port);
	tp->sink_port = 0;
}

static int tp_connect(void *arg, const char *fe_dir)
{
	struct testpeer *tp = arg;
	uint32_t ref;
	int rc = read_frontend(tp, fe_dir, &tp->port, &ref);
	if (rc)
		return rc;
	rc = grant_map(tp->vm->grants, ref, GRANT_WRITE, &tp->page);
	if (rc)
		return rc;
	rc = evtchn_bind_host(tp->vm->evtchn, tp->port, &tp->port_efd);
	if (rc)
		goto unmap;
	rc = bind_sink(tp, fe_dir);
	if (rc)
		goto unbind;
	tp->stop_efd = eventfd(0, EFD_CLOEXEC);
	if (tp->stop_efd < 0) {
		rc = -PVKVM_ENOMEM;
		goto unbind;
	}
	/* The guest's seq starts wherever it left it: acknowledge only news. */
	tp->last_seq = __atomic_load_n(&cmd_page(tp)->ack_seq, __ATOMIC_RELAXED);
	tp->virq_deadline_ns = 0;
	if (pthread_create(&tp->thread, NULL, io_thread, tp) != 0) {
		rc = -PVKVM_ENOMEM;
		close(tp->stop_efd);
		goto unbind;
	}
	return 0;
unbind:
	unbind_sink(tp);
	evtchn_unbind_host(tp->vm->evtchn, tp->port);
unmap:
	grant_unmap(&tp->page);
	return rc;
}

static void tp_disconnect(void *arg)
{
	struct testpeer *tp = arg;
	uint64_t one = 1;
	if (write(tp->stop_efd, &one, sizeof(one)) != sizeof(one))
		perror("pvkvm: testpeer stop");
	pthread_join(tp->thread, NULL);
	close(tp->stop_efd);
	unbind_sink(tp);
	evtchn_unbind_host(tp->vm->evtchn, tp->port);
	grant_unmap(&tp->page);
}

static const struct xenbus_backend_ops tp_ops = {
	.connect = tp_connect,
	.disconnect = tp_disconnect,
};

/* ---- device ----------------------------------------------------------------- */

static int tp_start(struct device *dev, struct vm *vm)
{
	struct testpeer *tp = dev->priv;
	tp->vm = vm;
	tp->xb = xenbus_backend_new(vm->store, "test", 0, &tp_ops, tp);
	return tp->xb ? 0 : -ENOMEM;
}

static void tp_stop(struct device *dev, struct vm *vm)
{
	(void)vm;
	struct testpeer *tp = dev->priv;
	xenbus_backend_free(tp->xb); /* disconnects if connected */
	free(tp);
}

struct device *testpeer_create(void)
{
	struct testpeer *tp = calloc(1, sizeof(*tp));
	if (!tp)
		return NULL;
	tp->dev.name = "testpeer";
	tp->dev.priv = tp;
	tp->dev.start = tp_start;
	tp->dev.stop = tp_stop;
	tp->port_efd = -1;
	tp->stop_efd = -1;
	return &tp->dev;
}
