/* SPDX-License-Identifier: MIT */
/*
 * The xenbus state machine, shared by every PV device.
 *
 * Each half of a device keeps its state in its store directory ("state").
 * The backend half is driven here: it watches the frontend's state and calls
 * the device's hooks as the frontend moves, so each backend only says how to
 * connect and how to disconnect.
 *
 *   backend:  Initialising -> InitWait ------------------> Connected -> Closing -> Closed
 *   frontend: Initialising ----------> Initialised/Connected ------> Closing -> Closed
 */
#ifndef PVKVM_XENBUS_H
#define PVKVM_XENBUS_H

#include <stdbool.h>

#include "hypercall/pvkvm_abi.h"

struct store;
struct vm;

bool xenbus_transition_ok(enum pvkvm_xenbus_state from,
			  enum pvkvm_xenbus_state to);
const char *xenbus_state_name(enum pvkvm_xenbus_state s);

/* Reads "<dir>/state"; PVKVM_XB_UNKNOWN when absent or malformed. */
enum pvkvm_xenbus_state xenbus_read_state(struct store *s, const char *dir);
/* Writes "<dir>/state" if the transition from the current one is allowed.
 * 0 or -PVKVM_EINVAL. */
int xenbus_set_state(struct store *s, const char *dir,
		     enum pvkvm_xenbus_state to);

struct xenbus_backend_ops {
	/* The frontend is Initialised (its ring refs and ports are in its
	 * directory): map them and start. 0 -> backend goes Connected. */
	int (*connect)(void *arg, const char *frontend_dir);
	/* The frontend is Closing or gone: stop using its memory. */
	void (*disconnect)(void *arg);
};

struct xenbus_backend;

/* Creates backend/<type>/<id> (state InitWait, plus "frontend" key) and
 * device/<type>/<id>/backend, and follows the frontend. */
struct xenbus_backend *xenbus_backend_new(struct store *s, const char *type,
					  unsigned int id,
					  const struct xenbus_backend_ops *ops,
					  void *arg);
void xenbus_backend_free(struct xenbus_backend *b);
const char *xenbus_backend_dir(const struct xenbus_backend *b);

#endif
