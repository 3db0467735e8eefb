// SPDX-License-Identifier: MIT
#include "store.h"

#include "console.h"
#include "hypercall.h"
#include "klib.h"

static uint32_t store_port;

void store_init(uint32_t evtchn)
{
	store_port = evtchn;
}

uint32_t store_evtchn(void)
{
	return store_port;
}

int store_read(const char *path, char *buf, size_t size)
{
	int64_t r;

	if (!size)
		return -PVKVM_EINVAL;
	r = hc4(PVKVM_HC_STORE_READ, path, strlen(path), buf, size - 1);
	if (r < 0)
		return (int)r;
	buf[(size_t)r < size - 1 ? (size_t)r : size - 1] = '\0';
	return (int)r;
}

bool store_has(const char *path)
{
	char v[16];

	return store_read(path, v, sizeof(v)) >= 0;
}

int store_read_u64(const char *path, uint64_t *out)
{
	char buf[32];
	int r = store_read(path, buf, sizeof(buf));

	if (r < 0)
		return r;
	if (r >= (int)sizeof(buf) || !parse_u64(buf, out))
		return -PVKVM_EINVAL;
	return 0;
}

int store_write(const char *path, const char *value)
{
	return (int)hc4(PVKVM_HC_STORE_WRITE, path, strlen(path), value,
			strlen(value));
}

int store_write_u64(const char *path, uint64_t value)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)value);
	return store_write(path, buf);
}

int store_list(const char *path, char *buf, size_t size)
{
	return (int)hc4(PVKVM_HC_STORE_LIST, path, strlen(path), buf, size);
}

int store_remove(const char *path)
{
	return (int)hc2(PVKVM_HC_STORE_REMOVE, path, strlen(path));
}

int store_watch(const char *path, uint64_t token)
{
	return (int)hc3(PVKVM_HC_STORE_WATCH, path, strlen(path), token);
}

int store_unwatch(const char *path, uint64_t token)
{
	return (int)hc3(PVKVM_HC_STORE_UNWATCH, path, strlen(path), token);
}

int store_next_event(struct pvkvm_watch_event *ev)
{
	return (int)hc1(PVKVM_HC_STORE_WATCH_EVENT, ev);
}
