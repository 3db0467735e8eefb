/* SPDX-License-Identifier: MIT */
/*
 * The config store: a small hierarchical key-value tree with watches, in the
 * role of xenstore. Paths are '/'-separated, relative ("device/blk/0/state").
 * Writing a key creates its parents. Thread-safe.
 *
 * A watch on P fires for a change at P or below, once when it is added, and
 * after the change is complete: callbacks run outside the store's lock and may
 * read and write the store.
 */
#ifndef PVKVM_STORE_H
#define PVKVM_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct store;
struct store_watch;
struct vm;

typedef void (*store_watch_fn)(void *arg, const char *path, uint64_t token);

struct store *store_new(void);
void store_free(struct store *s);

/* The host's write: 0, -PVKVM_EINVAL (bad path), -PVKVM_E2BIG (value too
 * long), -PVKVM_ENOMEM. Never limited by what the guest holds. */
int store_write(struct store *s, const char *path, const void *val, size_t len);
/* The guest's write (STORE_WRITE): as store_write, charged to the guest's
 * quota (store.c: bytes of names, values and per-node overhead);
 * -PVKVM_ENOSPC, with nothing changed, when it would exceed it. */
int store_write_guest(struct store *s, const char *path, const void *val,
		      size_t len);
/* The guest's quota in bytes (default 1 MiB), and what it holds now. */
void store_set_guest_quota(struct store *s, size_t bytes);
size_t store_guest_bytes(struct store *s);
int store_printf(struct store *s, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Full value length (copies min(len, buflen)), or -PVKVM_ENOENT */
ssize_t store_read(struct store *s, const char *path, void *buf, size_t buflen);
/* Parses a decimal value. 0, -PVKVM_ENOENT, -PVKVM_EINVAL */
int store_read_u64(struct store *s, const char *path, uint64_t *out);
/* Children names, each NUL-terminated; returns the full length. */
ssize_t store_list(struct store *s, const char *path, char *buf, size_t buflen);
int store_remove(struct store *s, const char *path);

struct store_watch *store_watch_add(struct store *s, const char *path,
				    uint64_t token, store_watch_fn fn,
				    void *arg);
/* Returns when the callback is no longer running. */
void store_watch_remove(struct store *s, struct store_watch *w);

/* Guest access: the store hypercalls, with "backend/" read-only to the guest,
 * guest watches queued as pvkvm_watch_event and raising PVKVM_VIRQ_STORE. */
int store_register_hypercalls(struct vm *vm);

#endif
