/* SPDX-License-Identifier: MIT */
/*
 * The key lists of a device's config page (hypercall/pvkvm_ivshmem.h):
 * "key=value\n" text under a sequence count. Reading takes a consistent
 * copy out of shared memory, once, then parses only the copy; a list that
 * breaks a rule is refused whole, so the guest's garbage never reaches the
 * store.
 */
#ifndef PVKVM_SERVE_KV_H
#define PVKVM_SERVE_KV_H

#include <stdbool.h>
#include <stddef.h>

#include "hypercall/pvkvm_ivshmem.h"

#define KV_MAX_PAIRS 64

struct kv_pair {
	char key[PVKVM_IVSHMEM_KEY_MAX + 1];
	char val[PVKVM_IVSHMEM_VALUE_MAX + 1];
};

struct kv_list {
	unsigned int n;
	struct kv_pair pair[KV_MAX_PAIRS];
};

/* Parses text[0..len). 0, or -1 with the reason in *why (a static string):
 * a line without '=', a bad key or value, a repeated key, too many keys. */
int kv_parse(const char *text, size_t len, struct kv_list *out, const char **why);

/* Copies a list out of shared memory: text (PVKVM_IVSHMEM_KV_TEXT bytes)
 * under kv's seq. Length copied, or -1 when the writer kept it changing
 * (or its len was impossible) for every try. buf holds KV_TEXT bytes. */
int kv_snapshot(const struct pvkvm_ivshmem_kv *kv, const char *text, char *buf);

/* Publishes buf[0..len) (len <= KV_TEXT) as the list at kv/text. */
void kv_publish(struct pvkvm_ivshmem_kv *kv, char *text, const char *buf,
		size_t len);

/* Appends "key=value\n" to buf (cap bytes, *len used). false: no room or
 * not a valid key/value. */
bool kv_append(char *buf, size_t cap, size_t *len, const char *key,
	       const char *val);

/* The value of key, or NULL. */
const char *kv_get(const struct kv_list *l, const char *key);

#endif
