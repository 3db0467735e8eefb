// SPDX-License-Identifier: MIT
/*
 * The store, as the guest reaches it: the STORE_* hypercalls.
 *
 * Every guest string is copied into VMM memory (length checked before the
 * copy) and validated as a host caller's would be; the guest may not write
 * under "backend/", which belongs to the host's backends. Guest watches
 * become store watches whose callback queues a pvkvm_watch_event and raises
 * PVKVM_VIRQ_STORE; the queue is bounded, and events beyond it are dropped
 * and counted (the guest re-reads what it watches after each event anyway).
 *
 * The per-VM state lives in a device, so the VM's ordinary device stop
 * removes the guest's watches before the store is freed.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/services/evtchn.h"
#include "host/mem/guest_mem.h"
#include "host/core/hcall.h"
#include "host/services/store.h"
#include "host/core/vm.h"
#include "hypercall/pvkvm_abi.h"

#define GUEST_WATCH_MAX 128u
#define EVENT_QUEUE_LEN 64u

struct guest_watch {
	struct store_watch *w;
	char path[PVKVM_STORE_PATH_MAX + 1];
	uint64_t token;
	struct guest_watch *next;
};

struct guest_store;

/* A STORE_* call whose first two arguments are a guest path: it runs with
 * the path copied into VMM memory and checked (path_hcall). */
typedef int64_t (*path_hcall_fn)(struct guest_store *gs, const char *path,
				 const uint64_t a[HCALL_NARGS]);

struct path_call {
	unsigned int nr;
	const char *name;
	path_hcall_fn fn;
	bool changes; /* writes or removes: only where the guest may */
};

/* What path_hcall gets as its ctx: the call and the VM's store state. */
struct bound_path_call {
	const struct path_call *call;
	struct guest_store *gs;
};

#define NR_PATH_CALLS 6u

struct guest_store {
	struct device dev;
	struct vm *vm;
	struct bound_path_call bound[NR_PATH_CALLS];

	pthread_mutex_t watch_lock; /* the watch list (vCPU threads) */
	struct guest_watch *watches;
	unsigned int nr_watches;

	pthread_mutex_t queue_lock; /* the event ring (any store writer) */
	struct pvkvm_watch_event queue[EVENT_QUEUE_LEN];
	unsigned int head, count;
	atomic_uint_fast64_t dropped;
};

/* ---- guest strings ---------------------------------------------------------- */

/* Copies a guest path into buf (PVKVM_STORE_PATH_MAX + 1 bytes), NUL-ended. */
static int copy_path(struct guest_store *gs, uint64_t gpa, uint64_t len,
		     char *buf)
{
	if (len > PVKVM_STORE_PATH_MAX)
		return -PVKVM_EINVAL;
	if (gmem_guest_read(&gs->vm->mem, gpa, buf, (size_t)len) < 0)
		return -PVKVM_EFAULT;
	buf[len] = '\0';
	if (memchr(buf, '\0', (size_t)len))
		return -PVKVM_EINVAL;
	return 0;
}

/*
 * Where a guest may write and remove: below "device/" (its frontends'
 * directories) and "data/" (its own keys), never the two directories
 * themselves. Everything else is the host's word, read-only to the guest:
 * "backend/" (PV backends), "platform/" (the VMM's description of the
 * emulated hardware), and any other top-level key the host may add later,
 * so a guest cannot squat a name before the host defines it.
 */
static bool strictly_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && path[n] == '/' && path[n + 1];
}

static bool host_only(const char *path)
{
	return !strictly_under(path, "device") && !strictly_under(path, "data");
}

/* Every path-taking call goes through here: one place copies the path and
 * enforces where the guest may change the store. */
static int64_t path_hcall(struct vcpu *v, void *ctx, const uint64_t a[HCALL_NARGS])
{
	(void)v;
	const struct bound_path_call *b = ctx;
	char path[PVKVM_STORE_PATH_MAX + 1];
	int rc = copy_path(b->gs, a[0], a[1], path);
	if (rc)
		return rc;
	if (b->call->changes && host_only(path))
		return -PVKVM_EACCES;
	return b->call->fn(b->gs, path, a);
}

/* ---- read, write, list, remove ---------------------------------------------- */

static int64_t hc_read(struct guest_store *gs, const char *path,
		       const uint64_t a[HCALL_NARGS])
{
	/* Checked before the store is asked: a bad buffer changes nothing and
	 * costs the VMM nothing. The copy is bounded by buf_len, whatever the
	 * value's length. */
	uint64_t room = a[3] < PVKVM_STORE_VALUE_MAX ? a[3] : PVKVM_STORE_VALUE_MAX;
	if (!gmem_guest_ok(&gs->vm->mem, a[2], a[3], GMEM_WRITE))
		return -PVKVM_EFAULT;
	uint8_t val[PVKVM_STORE_VALUE_MAX];
	ssize_t len = store_read(gs->vm->store, path, val, (size_t)room);
	if (len < 0)
		return len;
	size_t copy = (uint64_t)len < room ? (size_t)len : (size_t)room;
	if (gmem_guest_write(&gs->vm->mem, a[2], val, copy) < 0)
		return -PVKVM_EFAULT;
	return len;
}

static int64_t hc_write(struct guest_store *gs, const char *path,
			const uint64_t a[HCALL_NARGS])
{
	if (a[3] > PVKVM_STORE_VALUE_MAX)
		return -PVKVM_E2BIG;
	uint8_t val[PVKVM_STORE_VALUE_MAX];
	if (gmem_guest_read(&gs->vm->mem, a[2], val, (size_t)a[3]) < 0)
		return -PVKVM_EFAULT;
	return store_write_guest(gs->vm->store, path, val, (size_t)a[3]);
}

/* A listing is at most this long: the guest's buffer bounds the copy, this
 * bounds the VMM's allocation whatever the guest's buf_len says. */
#define LIST_MAX (64u * 1024u)

/*
 * One store_list call into a zeroed buffer of min(buf_len, LIST_MAX) bytes,
 * and only the bytes that call produced are copied out. (Sizing with one
 * call and filling with a second let a concurrent remove shrink the listing
 * in between, and the unfilled tail of an unzeroed buffer went to the guest:
 * VMM heap, the XSA-216 class.)
 */
static int64_t hc_list(struct guest_store *gs, const char *path,
		       const uint64_t a[HCALL_NARGS])
{
	if (!gmem_guest_ok(&gs->vm->mem, a[2], a[3], GMEM_WRITE))
		return -PVKVM_EFAULT;
	size_t room = a[3] < LIST_MAX ? (size_t)a[3] : LIST_MAX;
	char *buf = calloc(1, room ? room : 1);
	if (!buf)
		return -PVKVM_ENOMEM;
	ssize_t total = store_list(gs->vm->store, path, buf, room);
	if (total > (ssize_t)room && a[3] > room)
		total = -PVKVM_E2BIG; /* the guest's buffer would hold it, ours not */
	if (total >= 0) {
		size_t produced = (size_t)total < room ? (size_t)total : room;
		if (gmem_guest_write(&gs->vm->mem, a[2], buf, produced) < 0)
			total = -PVKVM_EFAULT;
	}
	free(buf);
	return total;
}

static int64_t hc_remove(struct guest_store *gs, const char *path,
			 const uint64_t a[HCALL_NARGS])
{
	(void)a;
	return store_remove(gs->vm->store, path);
}

/* ---- watches ---------------------------------------------------------------- */

static void queue_event(struct guest_store *gs, const char *path,
			uint64_t token)
{
	pthread_mutex_lock(&gs->queue_lock);
	bool full = gs->count == EVENT_QUEUE_LEN;
	if (!full) {
		struct pvkvm_watch_event *e =
			&gs->queue[(gs->head + gs->count) % EVENT_QUEUE_LEN];
		memset(e, 0, sizeof(*e));
		e->token = token;
		e->path_len = (uint32_t)strnlen(path, sizeof(e->path) - 1);
		memcpy(e->path, path, e->path_len);
		gs->count++;
	}
	pthread_mutex_unlock(&gs->queue_lock);
	if (full)
		stat_inc(&gs->dropped);
	evtchn_raise_virq(gs->vm->evtchn, PVKVM_VIRQ_STORE);
}

static void fire_to_guest(void *arg, const char *path, uint64_t token)
{
	queue_event(arg, path, token);
}

static bool reserve_watch_slot(struct guest_store *gs)
{
	pthread_mutex_lock(&gs->watch_lock);
	bool ok = gs->nr_watches < GUEST_WATCH_MAX;
	gs->nr_watches += ok;
	pthread_mutex_unlock(&gs->watch_lock);
	return ok;
}

static int64_t hc_watch(struct guest_store *gs, const char *path,
			const uint64_t a[HCALL_NARGS])
{
	struct guest_watch *gw = calloc(1, sizeof(*gw));
	if (!gw)
		return -PVKVM_ENOMEM;
	if (!reserve_watch_slot(gs)) {
		free(gw);
		return -PVKVM_ENOSPC;
	}
	snprintf(gw->path, sizeof(gw->path), "%s", path);
	gw->token = a[2];
	/* Outside watch_lock: the initial firing runs inside store_watch_add. */
	gw->w = store_watch_add(gs->vm->store, path, gw->token, fire_to_guest, gs);
	pthread_mutex_lock(&gs->watch_lock);
	if (gw->w) {
		gw->next = gs->watches;
		gs->watches = gw;
	} else {
		gs->nr_watches--;
	}
	pthread_mutex_unlock(&gs->watch_lock);
	if (!gw->w) {
		free(gw);
		return -PVKVM_EINVAL; /* the store refused the path */
	}
	return 0;
}

static struct guest_watch *unlink_watch(struct guest_store *gs,
					const char *path, uint64_t token)
{
	pthread_mutex_lock(&gs->watch_lock);
	struct guest_watch **pp = &gs->watches;
	while (*pp && !((*pp)->token == token &&
			strcmp((*pp)->path, path) == 0))
		pp = &(*pp)->next;
	struct guest_watch *gw = *pp;
	if (gw) {
		*pp = gw->next;
		gs->nr_watches--;
	}
	pthread_mutex_unlock(&gs->watch_lock);
	return gw;
}

static int64_t hc_unwatch(struct guest_store *gs, const char *path,
			  const uint64_t a[HCALL_NARGS])
{
	struct guest_watch *gw = unlink_watch(gs, path, a[2]);
	if (!gw)
		return -PVKVM_ENOENT;
	store_watch_remove(gs->vm->store, gw->w);
	free(gw);
	return 0;
}

static int64_t hc_watch_event(struct vcpu *v, void *ctx,
			      const uint64_t a[HCALL_NARGS])
{
	(void)v;
	struct guest_store *gs = ctx;
	/* Checked first: an event is dequeued only when it can be delivered. */
	if (!gmem_guest_ok(&gs->vm->mem, a[0], sizeof(struct pvkvm_watch_event),
			   GMEM_WRITE))
		return -PVKVM_EFAULT;
	struct pvkvm_watch_event e;
	pthread_mutex_lock(&gs->queue_lock);
	bool have = gs->count > 0;
	if (have) {
		e = gs->queue[gs->head];
		gs->head = (gs->head + 1) % EVENT_QUEUE_LEN;
		gs->count--;
	}
	pthread_mutex_unlock(&gs->queue_lock);
	if (!have)
		return 0;
	if (gmem_guest_write(&gs->vm->mem, a[0], &e, sizeof(e)) < 0)
		return -PVKVM_EFAULT; /* not reached: checked above, fixed at set-up */
	return 1;
}

/* ---- lifetime ---------------------------------------------------------------- */

static void guest_store_stop(struct device *dev, struct vm *vm)
{
	(void)vm;
	struct guest_store *gs = dev->priv;
	while (gs->watches) {
		struct guest_watch *gw = gs->watches;
		gs->watches = gw->next;
		store_watch_remove(gs->vm->store, gw->w);
		free(gw);
	}
	if (stat_get(&gs->dropped))
		fprintf(stderr, "pvkvm: %llu store watch events dropped\n",
			(unsigned long long)stat_get(&gs->dropped));
	pthread_mutex_destroy(&gs->watch_lock);
	pthread_mutex_destroy(&gs->queue_lock);
	free(gs);
}

static const struct path_call path_calls[NR_PATH_CALLS] = {
	{ PVKVM_HC_STORE_READ, "store_read", hc_read, false },
	{ PVKVM_HC_STORE_WRITE, "store_write", hc_write, true },
	{ PVKVM_HC_STORE_LIST, "store_list", hc_list, false },
	{ PVKVM_HC_STORE_WATCH, "store_watch", hc_watch, false },
	{ PVKVM_HC_STORE_UNWATCH, "store_unwatch", hc_unwatch, false },
	{ PVKVM_HC_STORE_REMOVE, "store_remove", hc_remove, true },
};

int store_register_hypercalls(struct vm *vm)
{
	struct guest_store *gs = calloc(1, sizeof(*gs));
	if (!gs)
		return -PVKVM_ENOMEM;
	gs->vm = vm;
	gs->dev.name = "store";
	gs->dev.priv = gs;
	gs->dev.stop = guest_store_stop;
	pthread_mutex_init(&gs->watch_lock, NULL);
	pthread_mutex_init(&gs->queue_lock, NULL);
	vm_add_device(vm, &gs->dev);
	for (unsigned int i = 0; i < NR_PATH_CALLS; i++) {
		gs->bound[i] = (struct bound_path_call){ &path_calls[i], gs };
		int rc = hcall_register(vm->hcalls, path_calls[i].nr, path_calls[i].name,
					path_hcall, &gs->bound[i]);
		if (rc)
			return rc;
	}
	return hcall_register(vm->hcalls, PVKVM_HC_STORE_WATCH_EVENT, "store_watch_event",
			      hc_watch_event, gs);
}
