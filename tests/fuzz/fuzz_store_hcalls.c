// SPDX-License-Identifier: MIT
/*
 * Every store hypercall (host/services/store_hcalls.c), reached as a vCPU
 * reaches it: hcall_dispatch with the guest's arguments, over guest RAM
 * whose contents come from the input. The guest's buffer area is watched
 * by the double-fetch detector, one request per hypercall: the VMM must
 * copy a guest string or value once and work on its copy.
 *
 * Input: records of [op] + operands
 *   op % 9 = 0..6: a hypercall (READ WRITE LIST WATCH UNWATCH WATCH_EVENT
 *                  REMOVE) with four u16 arguments; an argument >= 0xfff0
 *                  picks a wild value (0, the end of RAM, ~0, a low page ...),
 *                  gpa arguments are otherwise offsets into the buffer area
 *   7: the guest pokes its buffer area: u16 offset, u8 length, bytes
 *   8: the host writes one of a few keys (fires the guest's watches)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <urcu.h>

#include "host/core/hcall.h"
#include "host/core/vm.h"
#include "host/mem/guest_mem.h"
#include "host/services/evtchn.h"
#include "host/services/grant.h"
#include "host/services/store.h"
#include "hypercall/pvkvm_abi.h"
#include "tests/fuzz/dfetch.h"

#define MEM (4u << 20)
#define AREA_GPA (2u << 20)
#define AREA_LEN (24u << 10)
/* Paths in the first 8 KiB, values and answers from 8 KiB on: two buffers
 * the guest names in one call never overlap, so a byte read twice is one
 * buffer read twice, not two aliased buffers read once each. */
#define VALUE_OFF (8u << 10)

int store_register_hypercalls(struct vm *vm);

static struct vm vm;
static struct pvkvm_shared_info shinfo;
static uint8_t *guest_view; /* the guest's own mapping of RAM: not watched */

static void check(int cond)
{
	if (!cond)
		abort();
}

static void init(void)
{
	check(gmem_create(&vm.mem, MEM) == 0);
	guest_view = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_SHARED, vm.mem.memfd, 0);
	check(guest_view != MAP_FAILED);
	pthread_mutex_init(&vm.event_lock, NULL);
	pthread_cond_init(&vm.event_cond, NULL);
	vm.shared_info = &shinfo;
	vm.evtchn = evtchn_table_new(&vm);
	vm.grants = grant_table_new(&vm.mem);
	check(vm.evtchn && vm.grants);
	rcu_register_thread();
	dfetch_init();
}

static uint64_t wild(uint16_t v)
{
	static const uint64_t w[16] = {
		0, 1, 0x1000, 0xff000, MEM - 1, MEM, MEM + 1, UINT64_MAX,
		UINT64_MAX - 0xfff, 1ull << 63, AREA_GPA - 1, AREA_GPA + AREA_LEN - 1,
		PVKVM_STORE_PATH_MAX, PVKVM_STORE_PATH_MAX - 1, PVKVM_STORE_VALUE_MAX,
		PVKVM_STORE_VALUE_MAX + 1,
	};
	return w[v & 15];
}

/* A path's gpa: in the first part of the area, or wild (never inside the
 * value part). */
static uint64_t path_arg(uint16_t v)
{
	if (v < 0xfff0)
		return AREA_GPA + (v % 4096u);
	uint64_t w = wild(v);
	return w == AREA_GPA + AREA_LEN - 1 ? AREA_GPA - 1 : w;
}

static uint64_t value_arg(uint16_t v)
{
	if (v < 0xfff0)
		return AREA_GPA + VALUE_OFF + (v % 4096u);
	uint64_t w = wild(v);
	return w == AREA_GPA - 1 ? MEM - 1 : w;
}

static uint64_t len_arg(uint16_t v)
{
	return v >= 0xfff0 ? wild(v) : (v & 0x3ff);
}

static const unsigned int calls[7] = {
	PVKVM_HC_STORE_READ, PVKVM_HC_STORE_WRITE, PVKVM_HC_STORE_LIST,
	PVKVM_HC_STORE_WATCH, PVKVM_HC_STORE_UNWATCH, PVKVM_HC_STORE_WATCH_EVENT,
	PVKVM_HC_STORE_REMOVE,
};

static void stop_devices(void)
{
	while (vm.devices) {
		struct device *d = vm.devices;
		vm.devices = d->next;
		if (d->stop)
			d->stop(d, &vm);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!guest_view)
		init();
	memset(guest_view + AREA_GPA, 0, AREA_LEN);
	vm.hcalls = hcall_table_new();
	vm.store = store_new();
	check(vm.hcalls && vm.store);
	check(store_register_hypercalls(&vm) == 0);
	store_printf(vm.store, "device/blk/0/state", "1");
	store_printf(vm.store, "backend/blk/0/state", "2");
	dfetch_watch(vm.mem.host_base + AREA_GPA, AREA_LEN, 0);

	size_t i = 0;
	while (i < size) {
		uint8_t op = data[i++] % 9;
		if (op < 7) {
			uint16_t v[4] = { 0 };
			size_t n = size - i < 8 ? size - i : 8;
			memcpy(v, data + i, n);
			i += n;
			uint64_t a[HCALL_NARGS] = { path_arg(v[0]), len_arg(v[1]), 0, 0, 0 };
			if (calls[op] == PVKVM_HC_STORE_WATCH ||
			    calls[op] == PVKVM_HC_STORE_UNWATCH)
				a[2] = v[2];
			else
				a[2] = value_arg(v[2]);
			a[3] = len_arg(v[3]);
			if (calls[op] == PVKVM_HC_STORE_WATCH_EVENT)
				a[0] = value_arg(v[0]);
			dfetch_next_request();
			int64_t r = hcall_dispatch(vm.hcalls, NULL, calls[op], a);
			check(r >= -255);
		} else if (op == 7) {
			if (size - i < 3)
				break;
			uint16_t off;
			memcpy(&off, data + i, 2);
			size_t len = data[i + 2];
			i += 3;
			if (len > size - i)
				len = size - i;
			off %= AREA_LEN;
			if (len > AREA_LEN - off)
				len = AREA_LEN - off;
			memcpy(guest_view + AREA_GPA + off, data + i, len);
			i += len;
		} else {
			static const char *const keys[] = { "device/blk/0/state", "a",
							    "device/x", "backend/blk/0/state" };
			if (i < size) {
				const char *key = keys[data[i] & 3];
				i++;
				store_printf(vm.store, key, "%u", (unsigned)i);
			}
		}
	}
	dfetch_unwatch_all();
	stop_devices();
	store_free(vm.store);
	hcall_table_free(vm.hcalls);
	vm.store = NULL;
	vm.hcalls = NULL;
	return 0;
}
