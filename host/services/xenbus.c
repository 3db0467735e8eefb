// SPDX-License-Identifier: MIT
/*
 * The xenbus state machine and the generic backend driver.
 *
 * The backend follows its frontend through a store watch on the frontend's
 * "state" key. The watch may fire on any thread that writes the store (a
 * vCPU in a STORE_WRITE hypercall, the main thread), so one mutex per
 * backend serialises the reactions; the device's connect/disconnect hooks
 * run under it and so never overlap.
 */
#include "host/services/xenbus.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/services/store.h"

#define XB_DIR_MAX 96

bool xenbus_transition_ok(enum pvkvm_xenbus_state from,
			  enum pvkvm_xenbus_state to)
{
	if ((unsigned)from > PVKVM_XB_CLOSED || (unsigned)to > PVKVM_XB_CLOSED)
		return false;
	if (from == to)
		return true;
	/* A half may always give up. */
	if (to == PVKVM_XB_CLOSING || to == PVKVM_XB_CLOSED)
		return true;
	/* Starting over is allowed only from nothing or from Closed. */
	if (to == PVKVM_XB_INITIALISING)
		return from == PVKVM_XB_UNKNOWN || from == PVKVM_XB_CLOSED;
	if (to == PVKVM_XB_UNKNOWN)
		return false;
	/* InitWait, Initialised, Connected: forward from Initialising on. */
	return from >= PVKVM_XB_INITIALISING && from < to &&
	       from < PVKVM_XB_CLOSING;
}

const char *xenbus_state_name(enum pvkvm_xenbus_state s)
{
	static const char *const names[] = {
		[PVKVM_XB_UNKNOWN] = "Unknown",
		[PVKVM_XB_INITIALISING] = "Initialising",
		[PVKVM_XB_INITWAIT] = "InitWait",
		[PVKVM_XB_INITIALISED] = "Initialised",
		[PVKVM_XB_CONNECTED] = "Connected",
		[PVKVM_XB_CLOSING] = "Closing",
		[PVKVM_XB_CLOSED] = "Closed",
	};
	if ((unsigned)s > PVKVM_XB_CLOSED)
		return "Invalid";
	return names[s];
}

static int state_path(char *buf, size_t n, const char *dir)
{
	int len = snprintf(buf, n, "%s/state", dir);
	return len < 0 || (size_t)len >= n ? -PVKVM_EINVAL : 0;
}

enum pvkvm_xenbus_state xenbus_read_state(struct store *s, const char *dir)
{
	char path[PVKVM_STORE_PATH_MAX];
	uint64_t v;
	if (state_path(path, sizeof(path), dir) < 0 ||
	    store_read_u64(s, path, &v) < 0 || v > PVKVM_XB_CLOSED)
		return PVKVM_XB_UNKNOWN;
	return (enum pvkvm_xenbus_state)v;
}

int xenbus_set_state(struct store *s, const char *dir,
		     enum pvkvm_xenbus_state to)
{
	char path[PVKVM_STORE_PATH_MAX];
	if (state_path(path, sizeof(path), dir) < 0)
		return -PVKVM_EINVAL;
	if (!xenbus_transition_ok(xenbus_read_state(s, dir), to))
		return -PVKVM_EINVAL;
	return store_printf(s, path, "%u", (unsigned)to);
}

/* ---- the backend driver ----------------------------------------------------- */

struct xenbus_backend {
	struct store *store;
	const struct xenbus_backend_ops *ops;
	void *arg;
	char dir[XB_DIR_MAX];    /* backend/<type>/<id> */
	char fe_dir[XB_DIR_MAX]; /* device/<type>/<id> */
	pthread_mutex_t lock;
	bool connected; /* ops->connect succeeded, disconnect not yet run */
	struct store_watch *watch;
};

static enum pvkvm_xenbus_state own_state(struct xenbus_backend *b)
{
	return xenbus_read_state(b->store, b->dir);
}

static void set_own(struct xenbus_backend *b, enum pvkvm_xenbus_state to)
{
	xenbus_set_state(b->store, b->dir, to);
}

static void offer(struct xenbus_backend *b)
{
	char path[PVKVM_STORE_PATH_MAX];
	snprintf(path, sizeof(path), "%s/error", b->dir);
	store_remove(b->store, path); /* a fresh attempt: forget the last error */
	set_own(b, PVKVM_XB_INITIALISING);
	set_own(b, PVKVM_XB_INITWAIT);
}

static void close_down(struct xenbus_backend *b)
{
	if (b->connected) {
		b->ops->disconnect(b->arg);
		b->connected = false;
	}
	set_own(b, PVKVM_XB_CLOSING);
	set_own(b, PVKVM_XB_CLOSED);
}

static void try_connect(struct xenbus_backend *b)
{
	int rc = b->ops->connect(b->arg, b->fe_dir);
	if (rc == 0) {
		b->connected = true;
		set_own(b, PVKVM_XB_CONNECTED);
		return;
	}
	char path[PVKVM_STORE_PATH_MAX];
	snprintf(path, sizeof(path), "%s/error", b->dir);
	store_printf(b->store, path, "connect failed: %d", rc);
	close_down(b);
}

/* The reaction table: what the backend does when the frontend reaches fe. */
static void follow_frontend(struct xenbus_backend *b,
			    enum pvkvm_xenbus_state fe)
{
	enum pvkvm_xenbus_state me = own_state(b);
	switch (fe) {
	case PVKVM_XB_INITIALISED:
	case PVKVM_XB_CONNECTED:
		if (me == PVKVM_XB_INITWAIT)
			try_connect(b);
		break;
	case PVKVM_XB_CLOSING:
	case PVKVM_XB_CLOSED:
		if (me != PVKVM_XB_CLOSED)
			close_down(b);
		break;
	case PVKVM_XB_INITIALISING:
	case PVKVM_XB_UNKNOWN:
		/* The frontend vanished or starts over. Tear down what it
		 * left; once it announces itself again, offer anew. */
		if (b->connected || me == PVKVM_XB_CONNECTED)
			close_down(b);
		if (fe == PVKVM_XB_INITIALISING && own_state(b) == PVKVM_XB_CLOSED)
			offer(b);
		break;
	case PVKVM_XB_INITWAIT:
		break; /* a frontend has no use for InitWait */
	}
}

static void on_frontend_state(void *arg, const char *path, uint64_t token)
{
	(void)path;
	(void)token;
	struct xenbus_backend *b = arg;
	pthread_mutex_lock(&b->lock);
	follow_frontend(b, xenbus_read_state(b->store, b->fe_dir));
	pthread_mutex_unlock(&b->lock);
}

static int publish(struct xenbus_backend *b)
{
	char path[PVKVM_STORE_PATH_MAX];
	snprintf(path, sizeof(path), "%s/frontend", b->dir);
	int rc = store_printf(b->store, path, "%s", b->fe_dir);
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/backend", b->fe_dir);
		rc = store_printf(b->store, path, "%s", b->dir);
	}
	if (rc == 0)
		rc = xenbus_set_state(b->store, b->dir, PVKVM_XB_INITIALISING);
	if (rc == 0)
		rc = xenbus_set_state(b->store, b->dir, PVKVM_XB_INITWAIT);
	return rc;
}

struct xenbus_backend *xenbus_backend_new(struct store *s, const char *type,
					  unsigned int id,
					  const struct xenbus_backend_ops *ops,
					  void *arg)
{
	if (!s || !type || !ops || !ops->connect || !ops->disconnect)
		return NULL;
	struct xenbus_backend *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->store = s;
	b->ops = ops;
	b->arg = arg;
	int n1 = snprintf(b->dir, sizeof(b->dir), "backend/%s/%u", type, id);
	int n2 = snprintf(b->fe_dir, sizeof(b->fe_dir), "device/%s/%u", type, id);
	pthread_mutex_init(&b->lock, NULL);
	if (n1 < 0 || (size_t)n1 >= sizeof(b->dir) || n2 < 0 ||
	    (size_t)n2 >= sizeof(b->fe_dir) || publish(b) != 0)
		goto fail;

	char path[PVKVM_STORE_PATH_MAX];
	snprintf(path, sizeof(path), "%s/state", b->fe_dir);
	b->watch = store_watch_add(s, path, 0, on_frontend_state, b);
	if (!b->watch)
		goto fail;
	return b;
fail:
	store_remove(s, b->dir);
	pthread_mutex_destroy(&b->lock);
	free(b);
	return NULL;
}

void xenbus_backend_free(struct xenbus_backend *b)
{
	if (!b)
		return;
	store_watch_remove(b->store, b->watch);
	pthread_mutex_lock(&b->lock);
	close_down(b);
	pthread_mutex_unlock(&b->lock);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

const char *xenbus_backend_dir(const struct xenbus_backend *b)
{
	return b->dir;
}
