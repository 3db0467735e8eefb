// SPDX-License-Identifier: MIT
#include "xenbus.h"

#include "console.h"
#include "events.h"
#include "klib.h"
#include "store.h"

/* Watch tokens only need to tell our watches apart from other watches. */
#define XB_WATCH_TOKEN 0x78627374ull /* "xbst" */

int xb_front_init(struct xb_front *f, const char *type, unsigned int id)
{
	char key[96], probe[16];
	int r;

	snprintf(f->dir, sizeof(f->dir), "device/%s/%u", type, id);
	snprintf(key, sizeof(key), "%s/backend", f->dir);
	r = store_read(key, f->backend, sizeof(f->backend));
	if (r == -PVKVM_ENOENT) {
		/* A host that did not link the directories still follows the
		 * naming rule. */
		snprintf(f->backend, sizeof(f->backend), "backend/%s/%u", type,
			 id);
		snprintf(key, sizeof(key), "%s/state", f->backend);
		r = store_read(key, probe, sizeof(probe));
	}
	if (r < 0)
		return r;
	return r >= (int)sizeof(f->backend) ? -PVKVM_E2BIG : 0;
}

int xb_front_write(const struct xb_front *f, const char *key, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", f->dir, key);
	return store_write(path, val);
}

int xb_front_write_u64(const struct xb_front *f, const char *key,
		       uint64_t val)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)val);
	return xb_front_write(f, key, buf);
}

int xb_front_set_state(const struct xb_front *f, enum pvkvm_xenbus_state s)
{
	return xb_front_write_u64(f, "state", s);
}

enum pvkvm_xenbus_state xb_backend_state(const struct xb_front *f)
{
	char path[160];
	uint64_t v;

	snprintf(path, sizeof(path), "%s/state", f->backend);
	if (store_read_u64(path, &v) < 0 || v > PVKVM_XB_CLOSED)
		return PVKVM_XB_UNKNOWN;
	return (enum pvkvm_xenbus_state)v;
}

/* Events of any watch land in one queue; we re-read the state after each
 * wake anyway, so draining them all is enough. */
static void drain_watch_events(void)
{
	struct pvkvm_watch_event ev;

	while (store_next_event(&ev) == 1)
		;
}

static bool gave_up(enum pvkvm_xenbus_state s, enum pvkvm_xenbus_state want)
{
	return want < PVKVM_XB_CLOSING &&
	       (s == PVKVM_XB_CLOSING || s == PVKVM_XB_CLOSED);
}

int xb_wait_backend_state(const struct xb_front *f,
			  enum pvkvm_xenbus_state want, uint64_t deadline_ns)
{
	char path[160];
	int r;

	snprintf(path, sizeof(path), "%s/state", f->backend);
	r = store_watch(path, XB_WATCH_TOKEN);
	if (r < 0)
		return r;
	for (;;) {
		/* Drain before reading: a change after the read re-raises the
		 * event, so the wait below cannot sleep through it. */
		evt_test_and_clear(store_evtchn());
		drain_watch_events();
		enum pvkvm_xenbus_state s = xb_backend_state(f);

		if (s == want) {
			r = 0;
			break;
		}
		if (gave_up(s, want)) {
			r = -PVKVM_EIO;
			break;
		}
		r = evt_wait_for(store_evtchn(), deadline_ns);
		if (r < 0) {
			r = xb_backend_state(f) == want ? 0 : r;
			break;
		}
		/* evt_wait_for consumed the event; go round to re-read. */
	}
	store_unwatch(path, XB_WATCH_TOKEN);
	return r;
}

int xb_front_finish_connect(const struct xb_front *f, uint64_t deadline_ns)
{
	int r = xb_front_set_state(f, PVKVM_XB_INITIALISED);
	if (r == 0)
		r = xb_wait_backend_state(f, PVKVM_XB_CONNECTED, deadline_ns);
	if (r == 0)
		r = xb_front_set_state(f, PVKVM_XB_CONNECTED);
	return r;
}

int xb_front_close(const struct xb_front *f, uint64_t deadline_ns)
{
	xb_front_set_state(f, PVKVM_XB_CLOSING);
	int r = xb_wait_backend_state(f, PVKVM_XB_CLOSED, deadline_ns);
	xb_front_set_state(f, PVKVM_XB_CLOSED);
	return r;
}
