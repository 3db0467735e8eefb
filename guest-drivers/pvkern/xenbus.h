/* SPDX-License-Identifier: MIT */
/*
 * Xenbus frontend helper: one device's directory "device/<type>/<id>", its
 * state key, and waiting for the backend's state through a store watch.
 */
#ifndef PVKERN_XENBUS_H
#define PVKERN_XENBUS_H

#include <stdint.h>

#include "hypercall/pvkvm_abi.h"

struct xb_front {
	char dir[64];      /* device/<type>/<id> */
	char backend[128]; /* backend/<type>/<id>, from our "backend" key */
};

/* Finds the backend the host published for this device: 0, or -PVKVM_ENOENT
 * when the host has no such device. */
int xb_front_init(struct xb_front *f, const char *type, unsigned int id);
int xb_front_write(const struct xb_front *f, const char *key, const char *val);
int xb_front_write_u64(const struct xb_front *f, const char *key,
		       uint64_t val);
int xb_front_set_state(const struct xb_front *f, enum pvkvm_xenbus_state s);
enum pvkvm_xenbus_state xb_backend_state(const struct xb_front *f);
/* 0 once the backend's state is want, -PVKVM_ETIMEDOUT at deadline_ns,
 * -PVKVM_EIO if the backend closes instead. */
int xb_wait_backend_state(const struct xb_front *f,
			  enum pvkvm_xenbus_state want, uint64_t deadline_ns);
/* The frontend's keys are written: Initialised, wait for the backend's
 * Connected, then Connected. 0 or what the wait returned. */
int xb_front_finish_connect(const struct xb_front *f, uint64_t deadline_ns);
/* Closing, wait for the backend's Closed, then Closed (also after a
 * timeout: the frontend leaves either way). 0 or what the wait returned. */
int xb_front_close(const struct xb_front *f, uint64_t deadline_ns);

#endif
