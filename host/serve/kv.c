// SPDX-License-Identifier: MIT
/*
 * Config key lists: parse, snapshot, publish. See kv.h.
 */
#include "host/serve/kv.h"

#include <stdatomic.h>
#include <string.h>

/* Bounded: a guest that keeps seq odd costs us this much, no more. */
#define KV_SNAPSHOT_TRIES 64

static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static bool valid_key(const char *k, size_t n)
{
	if (n == 0 || n > PVKVM_IVSHMEM_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!key_char(k[i]))
			return false;
	return true;
}

static bool valid_value(const char *v, size_t n)
{
	if (n > PVKVM_IVSHMEM_VALUE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] > 0x7e)
			return false;
	return true;
}

static int parse_line(const char *line, size_t n, struct kv_list *out,
		      const char **why)
{
	const char *eq = memchr(line, '=', n);
	if (!eq) {
		*why = "a line without '='";
		return -1;
	}
	size_t klen = (size_t)(eq - line), vlen = n - klen - 1;
	if (!valid_key(line, klen)) {
		*why = "a bad key";
		return -1;
	}
	if (!valid_value(eq + 1, vlen)) {
		*why = "a bad value";
		return -1;
	}
	if (out->n == KV_MAX_PAIRS) {
		*why = "too many keys";
		return -1;
	}
	struct kv_pair *p = &out->pair[out->n];
	memcpy(p->key, line, klen);
	p->key[klen] = '\0';
	if (kv_get(out, p->key)) {
		*why = "a repeated key";
		return -1;
	}
	memcpy(p->val, eq + 1, vlen);
	p->val[vlen] = '\0';
	out->n++;
	return 0;
}

int kv_parse(const char *text, size_t len, struct kv_list *out, const char **why)
{
	out->n = 0;
	size_t pos = 0;
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		if (!nl) {
			*why = "a last line without '\\n'";
			return -1;
		}
		size_t n = (size_t)(nl - line);
		if (n > 0 && parse_line(line, n, out, why) < 0)
			return -1;
		pos += n + 1;
	}
	return 0;
}

const char *kv_get(const struct kv_list *l, const char *key)
{
	for (unsigned int i = 0; i < l->n; i++)
		if (strcmp(l->pair[i].key, key) == 0)
			return l->pair[i].val;
	return NULL;
}

static _Atomic uint32_t *seq_of(const struct pvkvm_ivshmem_kv *kv)
{
	return (_Atomic uint32_t *)(uintptr_t)&kv->seq;
}

int kv_snapshot(const struct pvkvm_ivshmem_kv *kv, const char *text, char *buf)
{
	for (int t = 0; t < KV_SNAPSHOT_TRIES; t++) {
		uint32_t s1 = atomic_load_explicit(seq_of(kv), memory_order_acquire);
		uint32_t len = __atomic_load_n(&kv->len, __ATOMIC_RELAXED);
		if ((s1 & 1) || len > PVKVM_IVSHMEM_KV_TEXT)
			continue;
		/* The guest may change the text under us: byte copies of
		 * shared memory, checked by the second seq read. Acquire
		 * loads keep that read after them (no fence: TSan does not
		 * model fences). */
		for (uint32_t i = 0; i < len; i++)
			buf[i] = __atomic_load_n(&text[i], __ATOMIC_ACQUIRE);
		if (atomic_load_explicit(seq_of(kv), memory_order_relaxed) == s1)
			return (int)len;
	}
	return -1;
}

void kv_publish(struct pvkvm_ivshmem_kv *kv, char *text, const char *buf,
		size_t len)
{
	uint32_t seq = atomic_load_explicit(seq_of(kv), memory_order_relaxed) | 1u;
	atomic_store_explicit(seq_of(kv), seq, memory_order_relaxed);
	/* Release stores: none moves before the odd seq above. */
	for (size_t i = 0; i < len; i++)
		__atomic_store_n(&text[i], buf[i], __ATOMIC_RELEASE);
	__atomic_store_n(&kv->len, (uint32_t)len, __ATOMIC_RELEASE);
	atomic_store_explicit(seq_of(kv), seq + 1, memory_order_release);
}

bool kv_append(char *buf, size_t cap, size_t *len, const char *key,
	       const char *val)
{
	size_t kl = strlen(key), vl = strlen(val);
	if (!valid_key(key, kl) || !valid_value(val, vl))
		return false;
	if (*len + kl + vl + 2 > cap)
		return false;
	memcpy(buf + *len, key, kl);
	buf[*len + kl] = '=';
	memcpy(buf + *len + kl + 1, val, vl);
	buf[*len + kl + 1 + vl] = '\n';
	*len += kl + vl + 2;
	return true;
}
