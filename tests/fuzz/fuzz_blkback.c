// SPDX-License-Identifier: MIT
/*
 * The PV block backend's request path (host/block/blkback.c) over a ring
 * the input fills: the real device, its real I/O thread and libaio, a real
 * grant table, on an image in /dev/shm. Each input is one connection: the
 * harness, as a hostile frontend, lays out the ring (any rsp_prod, any
 * req_prod up to a ring and a bit ahead, any slot contents), the grant
 * entries of 32 data pages and 8 indirect pages (any flags), and the
 * indirect pages' contents; connects; publishes req_prod; and waits for
 * every request to be answered or the ring to be marked broken (5 s, or
 * the run fails as a hang). A connection lasts across inputs until it
 * breaks (see flags below). Then it checks:
 *  - every answer is OKAY, ERROR or NOTSUPP, answers come one per request;
 *  - pages not granted, or granted read-only, did not change;
 *  - the image did not grow, and a read-only disk did not change at all;
 *  - the ring slots, read through the backend's own mapping of the ring,
 *    are each read once (the double-fetch detector).
 *
 * Input: [order (fresh connections only)][rsp_prod u32 (likewise)][ahead u8][flags u8][grant flags 40 x u8]
 *        [slots: 112 bytes each][indirect pages: the rest, 4 KiB each]
 * flags bits 0, 4, 5 all set: raw ahead (a wild req_prod = rsp_prod + ahead * 2^24)
 * flags bits 1-3 all set: a fresh connection (else the last one goes on, as long as
 *              it is not broken: a reconnect costs ~15 ms, the KVM
 *              ioeventfd's removal)
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "host/block/blk_image.h"
#include "host/block/blkback.h"
#include "host/core/vm.h"
#include "host/mem/guest_mem.h"
#include "host/services/evtchn.h"
#include "host/services/grant.h"
#include "host/services/store.h"
#include "host/services/xenbus.h"
#include "hypercall/pvkvm_blkif.h"
#include "tests/fuzz/dfetch.h"

#define FUZZ_NAME "fuzz_blkback"
#include "tests/fuzz/fuzz_vm.h"

#define MEM FUZZ_VM_MEM
#define GNT_GPA FUZZ_VM_GNT_GPA
#define GNT_ENTRIES FUZZ_VM_GNT_ENTRIES
#define RING_GPA 0x200000u /* 4 pages */
#define DATA_GPA 0x300000u /* 32 pages */
#define IND_GPA 0x340000u  /* 8 pages */
#define NR_DATA 32u
#define NR_IND 8u
#define REF_RING 1u   /* 1..4 */
#define REF_DATA 8u   /* 8..39 */
#define REF_IND 40u   /* 40..47 */
#define SECTORS 256u
#define FE_DIR "device/blk/0"
#define BE_DIR "backend/blk/0"
#define DATA_BYTE(i, b) ((uint8_t)((i) * 31 + (b) + 1))

static struct device *dev;
static struct blk_image *img;
static bool read_only;
static uint8_t image_copy[SECTORS * 512];
static uint8_t data_pattern[NR_DATA * PVKVM_PAGE_SIZE];


static void init(void)
{
	fuzz_vm_init();

	for (unsigned int i = 0; i < NR_DATA; i++)
		for (unsigned int b = 0; b < PVKVM_PAGE_SIZE; b++)
			data_pattern[i * PVKVM_PAGE_SIZE + b] = DATA_BYTE(i, b);
	read_only = getenv("FUZZ_BLKBACK_RO") != NULL;
	char path[64];
	snprintf(path, sizeof(path), "/dev/shm/pvkvm-fuzz-blkback-%d", (int)getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	check(fd >= 0, "image");
	for (unsigned int i = 0; i < sizeof(image_copy); i++)
		image_copy[i] = (uint8_t)(i * 13 + i / 512);
	check(write(fd, image_copy, sizeof(image_copy)) == (ssize_t)sizeof(image_copy),
	      "image write");
	close(fd);
	img = malloc(sizeof(*img));
	check(img && blk_image_open(img, path, read_only, false) == 0, "image open");
	unlink(path);
	struct blkback_config cfg;
	blkback_config_default(&cfg, 0);
	cfg.poll_us = 0; /* sleep at once: the harness kicks */
	dev = blkback_create(img, &cfg);
	check(dev && dev->start(dev, &vm) == 0, "blkback");
	dfetch_init();
}

/* The backend's mapping of the ring: a memfd alias other than guest RAM's. */
static uint8_t *find_ring_alias(size_t bytes)
{
	FILE *f = fopen("/proc/self/maps", "r");
	check(f != NULL, "/proc/self/maps");
	char line[512];
	uint8_t *found = NULL;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (!strstr(line, "pvkvm-guest-ram") || sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		if ((uint8_t *)lo == vm.mem.host_base)
			continue;
		/* Pages of one alias may be listed one per line: take the run. */
		if (!found)
			found = (uint8_t *)lo;
		if ((uint8_t *)hi >= found + bytes)
			break;
	}
	fclose(f);
	return found;
}

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static bool connected;
static unsigned int cur_order;
static int port = -1;

static void disconnect(void)
{
	if (!connected)
		return;
	fuzz_vm_close_frontend(FE_DIR, port);
	connected = false;
}

/* The ring header is already in place (the backend starts where rsp_prod
 * says); the ring's grants are the first entries. */
static void connect(unsigned int order)
{
	for (unsigned int i = 0; i < (1u << order); i++)
		set_grant(REF_RING + i, RING_GPA + (uint64_t)i * PVKVM_PAGE_SIZE, PVKVM_GTF_PERMIT);
	port = evtchn_alloc_unbound(vm.evtchn);
	check(port > 0, "port");
	if (order == 0) {
		store_printf(vm.store, FE_DIR "/ring-ref", "%u", REF_RING);
		store_remove(vm.store, FE_DIR "/ring-page-order");
	} else {
		store_remove(vm.store, FE_DIR "/ring-ref");
		store_printf(vm.store, FE_DIR "/ring-page-order", "%u", order);
		for (unsigned int i = 0; i < (1u << order); i++) {
			char key[64];
			snprintf(key, sizeof(key), FE_DIR "/ring-ref%u", i);
			store_printf(vm.store, key, "%u", REF_RING + i);
		}
	}
	store_printf(vm.store, FE_DIR "/event-channel", "%d", port);
	xenbus_set_state(vm.store, FE_DIR, PVKVM_XB_INITIALISING);
	xenbus_set_state(vm.store, FE_DIR, PVKVM_XB_INITIALISED);
	check(xenbus_read_state(vm.store, BE_DIR) == PVKVM_XB_CONNECTED, "connected");
	connected = true;
	cur_order = order;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dev)
		init();
	enum { HDR = 1 + 4 + 1 + 1 + REF_IND + NR_IND - REF_DATA };
	uint8_t hdr[HDR] = { 0 };
	memcpy(hdr, data, size < HDR ? size : HDR);
	data += size < HDR ? size : HDR;
	size -= size < HDR ? size : HDR;

	/* A new order needs a new connection: only when the input asks. */
	bool fresh = !connected || (hdr[6] & 0x0e) == 0x0e;
	unsigned int order = fresh ? hdr[0] % 3u : cur_order;
	size_t bytes = (size_t)PVKVM_PAGE_SIZE << order;
	uint32_t rsp_prod;
	memcpy(&rsp_prod, hdr + 1, 4);
	uint32_t nr = blkif_ring_slots(bytes);
	uint32_t ahead = (hdr[6] & 0x31) == 0x31 ? (uint32_t)hdr[5] << 24 : hdr[5] % (nr + 3);
	const uint8_t *gflags = hdr + 7;

	if (fresh) {
		disconnect();
		uint8_t *r0 = gmem_ptr(&vm.mem, RING_GPA, bytes);
		memset(r0, 0, bytes);
		struct pvkvm_ring_hdr *h0 = (struct pvkvm_ring_hdr *)r0;
		h0->rsp_prod = h0->req_prod = rsp_prod;
		h0->req_event = h0->rsp_event = rsp_prod + 1;
	}
	uint8_t *ring = gmem_ptr(&vm.mem, RING_GPA, bytes);
	struct pvkvm_ring_hdr *rh = (struct pvkvm_ring_hdr *)ring;
	rsp_prod = __atomic_load_n(&rh->rsp_prod, __ATOMIC_ACQUIRE);

	/* Guest memory: slots, data pages with a known pattern, indirect pages. */
	for (uint32_t i = 0; i < nr && size >= 112; i++) {
		memcpy(ring + PVKVM_RING_HDR_SIZE + (size_t)((rsp_prod + i) & (nr - 1)) *
			       sizeof(union blkif_slot), data, 112);
		data += 112;
		size -= 112;
	}
	uint8_t *dpages = gmem_ptr(&vm.mem, DATA_GPA, NR_DATA * PVKVM_PAGE_SIZE);
	memcpy(dpages, data_pattern, sizeof(data_pattern));
	uint8_t *ipages = gmem_ptr(&vm.mem, IND_GPA, NR_IND * PVKVM_PAGE_SIZE);
	memset(ipages, 0, NR_IND * PVKVM_PAGE_SIZE);
	memcpy(ipages, data, size < NR_IND * PVKVM_PAGE_SIZE ? size : NR_IND * PVKVM_PAGE_SIZE);

	/* Grants: the ring read-write; data and indirect pages as the input says. */
	memset(gmem_ptr(&vm.mem, GNT_GPA + REF_DATA * sizeof(struct pvkvm_grant_entry),
			(GNT_ENTRIES - REF_DATA) * sizeof(struct pvkvm_grant_entry)),
	       0, (GNT_ENTRIES - REF_DATA) * sizeof(struct pvkvm_grant_entry));
	uint16_t used_flags[NR_DATA];
	for (unsigned int i = 0; i < NR_DATA + NR_IND; i++) {
		uint16_t f = (gflags[i] & 1 ? PVKVM_GTF_PERMIT : 0) |
			     (gflags[i] & 2 ? PVKVM_GTF_READONLY : 0);
		uint64_t gpa = i < NR_DATA ? DATA_GPA + (uint64_t)i * PVKVM_PAGE_SIZE
					   : IND_GPA + (uint64_t)(i - NR_DATA) * PVKVM_PAGE_SIZE;
		if (gflags[i] & 4)
			gpa = (uint64_t)gflags[i] << 12; /* a wild frame: low pages too */
		set_grant(REF_DATA + i, gpa, f);
		if (i < NR_DATA)
			used_flags[i] = (gflags[i] & 4) ? 0 : f;
	}
	if (fresh)
		connect(order);

	/* Watch the backend's view of the ring, then publish. */
	uint8_t *alias = find_ring_alias(bytes);
	check(alias != NULL, "the backend's ring mapping");
	dfetch_watch(alias, bytes, PVKVM_RING_HDR_SIZE);
	__atomic_store_n(&rh->req_prod, rsp_prod + ahead, __ATOMIC_SEQ_CST);
	check(blkback_kick(dev) == 0, "kick");
	bool want_broken = ahead > nr;
	uint64_t deadline = now_ms() + 5000;
	for (;;) {
		uint32_t rp = __atomic_load_n(&rh->rsp_prod, __ATOMIC_ACQUIRE);
		if (want_broken ? blkback_is_broken(dev) : rp == rsp_prod + ahead)
			break;
		check(!blkback_is_broken(dev), "a sane ring marked broken");
		check((uint32_t)(rp - rsp_prod) <= ahead, "more answers than requests");
		check(now_ms() < deadline, "hang: requests not answered in 5 s");
		usleep(20);
	}
	dfetch_unwatch_all();

	/* Answers: sane statuses, one per slot taken. */
	if (want_broken) {
		disconnect();
	} else {
		for (uint32_t i = 0; i < ahead; i++) {
			const struct pvkvm_blkif_response *r =
				(const void *)(ring + PVKVM_RING_HDR_SIZE +
					       (size_t)((rsp_prod + i) & (nr - 1)) *
						       sizeof(union blkif_slot));
			check(r->status == 0 || r->status == -1 || r->status == -2,
			      "a status outside the protocol");
		}
		/* Nothing may stay held: a later input reuses the references. */
	}

	/* Pages the backend could not write must be as we left them. */
	fuzz_vm_check_unwritable(dpages, data_pattern, used_flags, NR_DATA);
	struct stat st;
	check(fstat(img->fd, &st) == 0 && st.st_size == (off_t)sizeof(image_copy),
	      "the image changed size");
	if (read_only) {
		static uint8_t now[SECTORS * 512];
		check(pread(img->fd, now, sizeof(now), 0) == (ssize_t)sizeof(now), "pread");
		check(memcmp(now, image_copy, sizeof(now)) == 0, "a read-only image changed");
	}
	return 0;
}
