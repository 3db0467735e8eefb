// SPDX-License-Identifier: MIT
/*
 * The PV block backend, driven by this thread playing the frontend: guest
 * RAM, a grant table and the ring live in a real guest_mem, the backend runs
 * its real I/O thread with libaio on a real file under /tmp, and the event
 * channel is real (KVM ioeventfd bound; the "send" is blkback_kick).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "host/block/blk_image.h"
#include "host/block/blkback.h"
#include "host/block/disk_attach.h"
#include "host/services/evtchn.h"
#include "host/services/grant.h"
#include "host/services/store.h"
#include "host/core/vm.h"
#include "host/services/xenbus.h"
#include "hypercall/pvkvm_blkif.h"
#include "tests/unit/fake_blkback.h"
#include "tests/unit/fake_vm.h"

#define GNT_ENTRIES 4096u
#define IMG_SECTORS (64u << 11) /* 64 MiB */
#define FE_DIR "device/blk/0"
#define BE_DIR "backend/blk/0"

static struct device *dev;
static char img_path[64];
static int img_fd = -1; /* the test's own view of the file */

struct frontend {
	struct blkif_front front;
	void *ring_view;  /* contiguous, as the guest's page tables would give */
	size_t ring_bytes;
	unsigned int port;
};
static struct frontend fe;

/* ---- fixture ---------------------------------------------------------------- */

static void make_image(void)
{
	strcpy(img_path, "/tmp/pvkvm-blkback-XXXXXX");
	img_fd = mkstemp(img_path);
	cr_assert_geq(img_fd, 0);
	cr_assert_eq(ftruncate(img_fd, (off_t)IMG_SECTORS * 512), 0);
}

static void start_backend(bool read_only, const struct blkback_config *cfg_in)
{
	dev = fake_blkback_start(img_path, read_only, cfg_in);
}

/* For a test that restarts the backend with other settings. */
static void stop_backend(void)
{
	dev->stop(dev, &vm);
	vm.stats.groups = NULL;
	blkback_destroy(dev);
	store_remove(vm.store, BE_DIR);
}

static void setup_vm(void)
{
	fake_vm_setup(GNT_ENTRIES);
	memset(&fe, 0, sizeof(fe));
	make_image();
}

static void setup(void)
{
	setup_vm();
	start_backend(false, NULL);
}

static void teardown(void)
{
	if (vm.kvm_fd < 0)
		return;
	if (dev)
		dev->stop(dev, &vm);
	/* As the VMM: counters stay readable after stop, freed after the VM. */
	vm.stats.groups = NULL;
	blkback_destroy(dev);
	dev = NULL;
	if (fe.ring_view)
		munmap(fe.ring_view, fe.ring_bytes);
	fake_vm_teardown();
	close(img_fd);
	unlink(img_path);
}

TestSuite(blkback, .init = setup, .fini = teardown, .timeout = 60);

/* ---- the frontend's side of grants and memory ---------------------------------- */

/* 2^order ring pages at descending, non-adjacent frames, viewed contiguously. */
static void connect_frontend(unsigned int order)
{
	unsigned int nr = 1u << order;
	fe.ring_bytes = (size_t)nr * PVKVM_PAGE_SIZE;
	fe.ring_view = mmap(NULL, fe.ring_bytes, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(fe.ring_view, MAP_FAILED);
	char key[64];
	for (unsigned int i = 0; i < nr; i++) {
		uint64_t gpa = FAKE_VM_RING_GPA + (uint64_t)(nr - 1 - i) * 2 * PVKVM_PAGE_SIZE;
		void *want = (uint8_t *)fe.ring_view + (size_t)i * PVKVM_PAGE_SIZE;
		cr_assert_eq(mmap(want, PVKVM_PAGE_SIZE, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_FIXED, vm.mem.memfd, (off_t)gpa), want);
		uint32_t ref = fake_vm_grant(gpa, false);
		if (order == 0)
			snprintf(key, sizeof(key), FE_DIR "/ring-ref");
		else
			snprintf(key, sizeof(key), FE_DIR "/ring-ref%u", i);
		cr_assert_eq(store_printf(vm.store, key, "%u", ref), 0);
	}
	blkif_sring_init(fe.ring_view);
	cr_assert_eq(blkif_front_init(&fe.front, fe.ring_view, fe.ring_bytes), 0);
	if (order)
		store_printf(vm.store, FE_DIR "/ring-page-order", "%u", order);
	int port = evtchn_alloc_unbound(vm.evtchn);
	cr_assert_gt(port, 0);
	fe.port = (unsigned int)port;
	store_printf(vm.store, FE_DIR "/event-channel", "%u", fe.port);
	cr_assert_eq(xenbus_set_state(vm.store, FE_DIR, PVKVM_XB_INITIALISING), 0);
	cr_assert_eq(xenbus_set_state(vm.store, FE_DIR, PVKVM_XB_INITIALISED), 0);
	cr_assert_eq(xenbus_read_state(vm.store, BE_DIR), PVKVM_XB_CONNECTED);
	cr_assert_eq(xenbus_set_state(vm.store, FE_DIR, PVKVM_XB_CONNECTED), 0);
}

/* ---- requests and responses --------------------------------------------------------- */

static struct pvkvm_blkif_request *next_req(void)
{
	struct pvkvm_blkif_request *r = blkif_front_next_req(&fe.front);
	cr_assert_not_null(r, "a free request slot");
	memset(r, 0, sizeof(*r));
	return r;
}

static unsigned int kicks;

static void push(void)
{
	if (blkif_front_push_reqs(&fe.front)) {
		kicks++;
		cr_assert_eq(blkback_kick(dev), 0);
	}
}

static bool port_pending_clear(void)
{
	uint64_t bit = 1ull << (fe.port % 64);
	uint64_t old = __atomic_fetch_and(&shinfo.evtchn_pending[fe.port / 64],
					  ~bit, __ATOMIC_SEQ_CST);
	return old & bit;
}

/* Takes n responses, sleeping on the event channel like a guest. */
static void collect(struct pvkvm_blkif_response *out, unsigned int n)
{
	unsigned int got = 0;
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 20;
	while (got < n) {
		int r = blkif_front_take_rsp(&fe.front, &out[got]);
		cr_assert_geq(r, 0, "the backend's rsp_prod is sane");
		if (r == 1) {
			got++;
			continue;
		}
		pthread_mutex_lock(&vm.event_lock);
		uint64_t gen = vm.event_gen;
		pthread_mutex_unlock(&vm.event_lock);
		port_pending_clear();
		if (blkif_front_final_check_rsps(&fe.front))
			continue;
		pthread_mutex_lock(&vm.event_lock);
		while (vm.event_gen == gen) {
			int rc = pthread_cond_timedwait(&vm.event_cond, &vm.event_lock,
							&deadline);
			cr_assert_neq(rc, ETIMEDOUT, "%u of %u responses", got, n);
		}
		pthread_mutex_unlock(&vm.event_lock);
	}
}

static const struct pvkvm_blkif_response *find_rsp(
	const struct pvkvm_blkif_response *rsp, unsigned int n, uint64_t id)
{
	const struct pvkvm_blkif_response *hit = NULL;
	for (unsigned int i = 0; i < n; i++) {
		if (rsp[i].id == id) {
			cr_assert_null(hit, "id %lu answered twice", (unsigned long)id);
			hit = &rsp[i];
		}
	}
	cr_assert_not_null(hit, "id %lu answered", (unsigned long)id);
	return hit;
}

static int16_t one_request_status(void)
{
	push();
	struct pvkvm_blkif_response rsp;
	collect(&rsp, 1);
	return rsp.status;
}

static uint8_t pat(uint64_t sector, unsigned int byte, unsigned int salt)
{
	return (uint8_t)(sector * 13 + byte * 3 + salt);
}

static void fill_sectors(uint8_t *p, uint64_t sector, unsigned int nsect,
			 unsigned int salt)
{
	for (unsigned int s = 0; s < nsect; s++)
		for (unsigned int b = 0; b < 512; b++)
			p[s * 512 + b] = pat(sector + s, b, salt);
}

static void check_file(uint64_t sector, unsigned int nsect, unsigned int salt)
{
	uint8_t *buf = malloc((size_t)nsect * 512);
	cr_assert_eq(pread(img_fd, buf, (size_t)nsect * 512, (off_t)sector * 512),
		     (ssize_t)nsect * 512);
	for (unsigned int s = 0; s < nsect; s++)
		for (unsigned int b = 0; b < 512; b++)
			cr_assert_eq(buf[s * 512 + b], pat(sector + s, b, salt),
				     "sector %lu byte %u", (unsigned long)(sector + s), b);
	free(buf);
}

static uint64_t counter(const char *name)
{
	return fake_vm_counter("blk0", name);
}

static uint64_t counter_reaching(const char *name, uint64_t want)
{
	return fake_vm_counter_reaching("blk0", name, want, 2000);
}

/* ---- tests --------------------------------------------------------------------------- */

Test(blkback, publishes_features_and_connects)
{
	uint64_t v;
	cr_assert_eq(store_read_u64(vm.store, BE_DIR "/sectors", &v), 0);
	cr_assert_eq(v, IMG_SECTORS);
	cr_assert_eq(store_read_u64(vm.store, BE_DIR "/sector-size", &v), 0);
	cr_assert_eq(v, 512);
	cr_assert_eq(store_read_u64(vm.store, BE_DIR "/feature-flush-cache", &v), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(store_read_u64(vm.store, BE_DIR "/feature-discard", &v), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(store_read_u64(vm.store, BE_DIR "/feature-max-indirect-segments", &v), 0);
	cr_assert_eq(v, 256);
	cr_assert_eq(store_read_u64(vm.store, BE_DIR "/max-ring-page-order", &v), 0);
	cr_assert_eq(v, PVKVM_BLKIF_MAX_RING_PAGE_ORDER);
	cr_assert_eq(store_read_u64(vm.store, BE_DIR "/info", &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(xenbus_read_state(vm.store, BE_DIR), PVKVM_XB_INITWAIT);
	connect_frontend(0);
	cr_assert_eq(fe.front.nr_slots, 32);
}

/* A full one-page ring of single-page writes, then of reads, all in flight. */
Test(blkback, full_ring_of_writes_then_reads)
{
	connect_frontend(0);
	const unsigned int n = 32;
	uint64_t gpa[32];
	for (unsigned int i = 0; i < n; i++) {
		gpa[i] = fake_vm_alloc_pages(1);
		uint64_t sector = (uint64_t)(n - 1 - i) * 8 + 1000;
		fill_sectors(fake_vm_page(gpa[i]), sector, 8, 1);
		struct pvkvm_blkif_request *r = next_req();
		r->operation = PVKVM_BLKIF_OP_WRITE;
		r->id = 0xabc00000u + i;
		r->sector_number = sector;
		r->nr_segments = 1;
		r->u.seg[0] = (struct pvkvm_blkif_segment){ fake_vm_grant(gpa[i], true), 0, 7, 0 };
	}
	cr_assert_null(blkif_front_next_req(&fe.front), "the ring is full");
	push();
	struct pvkvm_blkif_response rsp[32];
	collect(rsp, n);
	for (unsigned int i = 0; i < n; i++) {
		const struct pvkvm_blkif_response *x = find_rsp(rsp, n, 0xabc00000u + i);
		cr_assert_eq(x->status, PVKVM_BLKIF_RSP_OKAY);
		cr_assert_eq(x->operation, PVKVM_BLKIF_OP_WRITE);
	}
	check_file(1000, n * 8, 1);

	for (unsigned int i = 0; i < n; i++) {
		uint64_t g = fake_vm_alloc_pages(1);
		memset(fake_vm_page(g), 0, PVKVM_PAGE_SIZE);
		gpa[i] = g;
		struct pvkvm_blkif_request *r = next_req();
		r->operation = PVKVM_BLKIF_OP_READ;
		r->id = 0xdef00000u + i;
		r->sector_number = 1000 + (uint64_t)i * 8;
		r->nr_segments = 1;
		r->u.seg[0] = (struct pvkvm_blkif_segment){ fake_vm_grant(g, false), 0, 7, 0 };
	}
	push();
	collect(rsp, n);
	for (unsigned int i = 0; i < n; i++) {
		cr_assert_eq(find_rsp(rsp, n, 0xdef00000u + i)->status, PVKVM_BLKIF_RSP_OKAY);
		const uint8_t *p = fake_vm_page(gpa[i]);
		for (unsigned int b = 0; b < PVKVM_PAGE_SIZE; b++)
			cr_assert_eq(p[b], pat(1000 + (uint64_t)i * 8 + b / 512, b % 512, 1));
	}
	cr_assert_eq(counter("requests"), 2 * n);
	cr_assert_eq(counter("bytes_written"), n * 4096);
	cr_assert_eq(counter("bytes_read"), n * 4096);
	cr_assert_gt(counter("direct_ios"), 0, "granted pages go straight to O_DIRECT");
}

/* A 4-page ring (128 slots) on scattered frames; multi-segment requests with
 * partial pages; a big request next to small ones. */
Test(blkback, multi_page_ring_and_partial_segments)
{
	connect_frontend(2);
	cr_assert_eq(fe.front.nr_slots, 128);
	const unsigned int n = 128;
	static uint64_t gpa[128][3];
	/* Segment shapes: sectors 2..7 of page 0, all of page 1, 0..3 of page 2:
	 * 6 + 8 + 4 = 18 consecutive disk sectors. */
	for (unsigned int i = 0; i < n; i++) {
		uint64_t sector = 20000 + (uint64_t)i * 18;
		struct pvkvm_blkif_request *r = next_req();
		r->operation = PVKVM_BLKIF_OP_WRITE;
		r->id = i;
		r->sector_number = sector;
		r->nr_segments = 3;
		static const uint8_t first[3] = { 2, 0, 0 }, last[3] = { 7, 7, 3 };
		uint64_t s = sector;
		for (unsigned int k = 0; k < 3; k++) {
			gpa[i][k] = fake_vm_alloc_pages(1);
			unsigned int ns = last[k] - first[k] + 1u;
			fill_sectors(fake_vm_page(gpa[i][k]) + first[k] * 512, s, ns, 2);
			s += ns;
			r->u.seg[k] = (struct pvkvm_blkif_segment){
				fake_vm_grant(gpa[i][k], true), first[k], last[k], 0 };
		}
	}
	push();
	static struct pvkvm_blkif_response rsp[128];
	collect(rsp, n);
	for (unsigned int i = 0; i < n; i++)
		cr_assert_eq(find_rsp(rsp, n, i)->status, PVKVM_BLKIF_RSP_OKAY);
	check_file(20000, n * 18, 2);
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int k = 0; k < 3; k++)
			cr_assert_eq(fake_vm_grant_flags((uint32_t)(5 + i * 3 + k)) &
				     (PVKVM_GTF_READING | PVKVM_GTF_WRITING), 0,
				     "every segment grant released");
}

/* n new pages for one request from sector on, page i holding sectors
 * sector + 8i .. + 7 in pattern tag. */
static void alloc_pattern_pages(uint64_t *pages, unsigned int n, uint64_t sector,
				unsigned int tag)
{
	for (unsigned int i = 0; i < n; i++) {
		pages[i] = fake_vm_alloc_pages(1);
		fill_sectors(fake_vm_page(pages[i]), sector + i * 8, 8, tag);
	}
}

static void zero_pages(const uint64_t *pages, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		memset(fake_vm_page(pages[i]), 0, PVKVM_PAGE_SIZE);
}

static void indirect_rw(uint8_t op, uint64_t sector, uint64_t *pages,
			unsigned int nseg, uint64_t id)
{
	uint64_t ind = fake_vm_alloc_pages(1);
	struct pvkvm_blkif_segment *segs = (void *)fake_vm_page(ind);
	for (unsigned int i = 0; i < nseg; i++)
		segs[i] = (struct pvkvm_blkif_segment){
			fake_vm_grant(pages[i], op == PVKVM_BLKIF_OP_WRITE), 0, 7, 0 };
	struct pvkvm_blkif_request *r = next_req();
	r->operation = PVKVM_BLKIF_OP_INDIRECT;
	r->indirect_op = op;
	r->id = id;
	r->sector_number = sector;
	r->nr_segments = (uint16_t)nseg;
	r->u.indirect_grefs[0] = fake_vm_grant(ind, true);
}

Test(blkback, indirect_one_mib_write_and_read_beside_small_ones)
{
	connect_frontend(0);
	static uint64_t pages[256];
	const uint64_t sector = 40000;
	alloc_pattern_pages(pages, 256, sector, 3);
	indirect_rw(PVKVM_BLKIF_OP_WRITE, sector, pages, 256, 77);
	cr_assert_eq(one_request_status(), PVKVM_BLKIF_RSP_OKAY);
	check_file(sector, 2048, 3);

	zero_pages(pages, 256);
	indirect_rw(PVKVM_BLKIF_OP_READ, sector, pages, 256, 78);
	/* Small reads queued behind the big one may well finish first. */
	uint64_t small[4];
	for (unsigned int i = 0; i < 4; i++) {
		small[i] = fake_vm_alloc_pages(1);
		struct pvkvm_blkif_request *r = next_req();
		r->operation = PVKVM_BLKIF_OP_READ;
		r->id = 100 + i;
		r->sector_number = sector + i;
		r->nr_segments = 1;
		r->u.seg[0] = (struct pvkvm_blkif_segment){ fake_vm_grant(small[i], false), 0, 0, 0 };
	}
	push();
	struct pvkvm_blkif_response rsp[5];
	collect(rsp, 5);
	cr_assert_eq(find_rsp(rsp, 5, 78)->status, PVKVM_BLKIF_RSP_OKAY);
	for (unsigned int i = 0; i < 4; i++) {
		cr_assert_eq(find_rsp(rsp, 5, 100 + i)->status, PVKVM_BLKIF_RSP_OKAY);
		for (unsigned int b = 0; b < 512; b++)
			cr_assert_eq(fake_vm_page(small[i])[b], pat(sector + i, b, 3));
	}
	for (unsigned int i = 0; i < 256; i++)
		for (unsigned int b = 0; b < PVKVM_PAGE_SIZE; b += 97)
			cr_assert_eq(fake_vm_page(pages[i])[b],
				     pat(sector + i * 8 + b / 512, b % 512, 3));
	cr_assert_eq(counter("indirect_requests"), 2);
}

Test(blkback, flush_answers_after_every_earlier_write)
{
	connect_frontend(0);
	/* 20 writes, a flush, 5 more writes, all in one push. */
	for (unsigned int i = 0; i < 26; i++) {
		struct pvkvm_blkif_request *r = next_req();
		r->id = i;
		if (i == 20) {
			r->operation = PVKVM_BLKIF_OP_FLUSH;
			continue;
		}
		uint64_t g = fake_vm_alloc_pages(1);
		fill_sectors(fake_vm_page(g), 3000 + (uint64_t)i * 8, 8, 4);
		r->operation = PVKVM_BLKIF_OP_WRITE;
		r->sector_number = 3000 + (uint64_t)i * 8;
		r->nr_segments = 1;
		r->u.seg[0] = (struct pvkvm_blkif_segment){ fake_vm_grant(g, true), 0, 7, 0 };
	}
	push();
	struct pvkvm_blkif_response rsp[26];
	collect(rsp, 26);
	unsigned int flush_at = 26;
	for (unsigned int i = 0; i < 26; i++)
		if (rsp[i].id == 20)
			flush_at = i;
	cr_assert_lt(flush_at, 26);
	cr_assert_eq(rsp[flush_at].status, PVKVM_BLKIF_RSP_OKAY);
	cr_assert_eq(rsp[flush_at].operation, PVKVM_BLKIF_OP_FLUSH);
	for (unsigned int id = 0; id < 20; id++) {
		const struct pvkvm_blkif_response *w = find_rsp(rsp, 26, id);
		cr_assert_lt((unsigned int)(w - rsp), flush_at,
			     "write %u answered before the flush", id);
	}
	check_file(3000, 20 * 8, 4);
	check_file(3000 + 21 * 8, 5 * 8, 4); /* id 20, the flush, wrote nothing */
}

Test(blkback, discard_punches_a_hole)
{
	connect_frontend(0);
	uint8_t buf[64 * 512];
	memset(buf, 0x66, sizeof(buf));
	cr_assert_eq(pwrite(img_fd, buf, sizeof(buf), 5000 * 512), (ssize_t)sizeof(buf));
	struct pvkvm_blkif_request *r = next_req();
	r->operation = PVKVM_BLKIF_OP_DISCARD;
	r->id = 9;
	r->sector_number = 5008;
	r->u.discard.nr_sectors = 40;
	cr_assert_eq(one_request_status(), PVKVM_BLKIF_RSP_OKAY);
	cr_assert_eq(pread(img_fd, buf, sizeof(buf), 5000 * 512), (ssize_t)sizeof(buf));
	for (unsigned int i = 0; i < sizeof(buf); i++) {
		unsigned int s = 5000 + i / 512;
		cr_assert_eq(buf[i], (s >= 5008 && s < 5048) ? 0 : 0x66, "byte %u", i);
	}
	cr_assert_eq(counter("discards"), 1);
}

Test(blkback, invalid_requests_get_error_responses)
{
	connect_frontend(0);
	uint64_t g = fake_vm_alloc_pages(1);
	uint32_t rw_ref = fake_vm_grant(g, false), ro_ref = fake_vm_grant(fake_vm_alloc_pages(1), true);
	struct {
		struct pvkvm_blkif_request req;
		int16_t want;
	} cases[] = {
		{ { .operation = PVKVM_BLKIF_OP_READ, .nr_segments = 1,
		    .sector_number = IMG_SECTORS - 4, .u.seg = { { rw_ref, 0, 7, 0 } } },
		  PVKVM_BLKIF_RSP_ERROR }, /* runs off the end */
		{ { .operation = PVKVM_BLKIF_OP_READ, .nr_segments = 1,
		    .u.seg = { { rw_ref, 3, 2, 0 } } },
		  PVKVM_BLKIF_RSP_ERROR }, /* first > last */
		{ { .operation = PVKVM_BLKIF_OP_READ, .nr_segments = 12 },
		  PVKVM_BLKIF_RSP_ERROR }, /* too many inline segments */
		{ { .operation = PVKVM_BLKIF_OP_READ, .nr_segments = 1,
		    .u.seg = { { 3000, 0, 7, 0 } } },
		  PVKVM_BLKIF_RSP_ERROR }, /* never granted */
		{ { .operation = PVKVM_BLKIF_OP_READ, .nr_segments = 1,
		    .u.seg = { { GNT_ENTRIES + 5, 0, 7, 0 } } },
		  PVKVM_BLKIF_RSP_ERROR }, /* beyond the table */
		{ { .operation = PVKVM_BLKIF_OP_READ, .nr_segments = 1,
		    .u.seg = { { ro_ref, 0, 7, 0 } } },
		  PVKVM_BLKIF_RSP_ERROR }, /* a disk read must write the page */
		{ { .operation = 2 }, PVKVM_BLKIF_RSP_NOTSUPP }, /* barrier */
		{ { .operation = 77 }, PVKVM_BLKIF_RSP_ERROR },
		{ { .operation = PVKVM_BLKIF_OP_INDIRECT, .indirect_op = PVKVM_BLKIF_OP_READ,
		    .nr_segments = 4, .u.indirect_grefs = { 2999 } },
		  PVKVM_BLKIF_RSP_ERROR }, /* indirect page not granted */
		{ { .operation = PVKVM_BLKIF_OP_DISCARD, .sector_number = 1,
		    .u.discard.nr_sectors = UINT64_MAX },
		  PVKVM_BLKIF_RSP_ERROR },
	};
	const unsigned int n = sizeof(cases) / sizeof(cases[0]);
	for (unsigned int i = 0; i < n; i++) {
		struct pvkvm_blkif_request *r = next_req();
		*r = cases[i].req;
		r->id = 500 + i;
	}
	push();
	struct pvkvm_blkif_response rsp[16];
	collect(rsp, n);
	for (unsigned int i = 0; i < n; i++)
		cr_assert_eq(find_rsp(rsp, n, 500 + i)->status, cases[i].want, "case %u", i);
	cr_assert_eq(fake_vm_grant_flags(rw_ref) & (PVKVM_GTF_READING | PVKVM_GTF_WRITING), 0);
	cr_assert_eq(counter("invalid_requests"), n - 1);

	/* The device still serves good requests. */
	struct pvkvm_blkif_request *r = next_req();
	r->operation = PVKVM_BLKIF_OP_READ;
	r->id = 1;
	r->nr_segments = 1;
	r->u.seg[0] = (struct pvkvm_blkif_segment){ rw_ref, 0, 7, 0 };
	cr_assert_eq(one_request_status(), PVKVM_BLKIF_RSP_OKAY);
}

Test(blkback, read_only_disk_refuses_writes)
{
	stop_backend();
	start_backend(true, NULL);
	uint64_t v;
	cr_assert_eq(store_read_u64(vm.store, BE_DIR "/info", &v), 0);
	cr_assert_eq(v, PVKVM_BLKIF_INFO_READONLY);
	connect_frontend(0);
	uint64_t g = fake_vm_alloc_pages(1);
	memset(fake_vm_page(g), 0x99, PVKVM_PAGE_SIZE);
	struct pvkvm_blkif_request *r = next_req();
	r->operation = PVKVM_BLKIF_OP_WRITE;
	r->id = 1;
	r->nr_segments = 1;
	r->u.seg[0] = (struct pvkvm_blkif_segment){ fake_vm_grant(g, true), 0, 7, 0 };
	cr_assert_eq(one_request_status(), PVKVM_BLKIF_RSP_ERROR);
	uint8_t buf[4096];
	cr_assert_eq(pread(img_fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	for (unsigned int i = 0; i < sizeof(buf); i++)
		cr_assert_eq(buf[i], 0, "nothing written");
	r = next_req();
	r->operation = PVKVM_BLKIF_OP_READ;
	r->id = 2;
	r->nr_segments = 1;
	r->u.seg[0] = (struct pvkvm_blkif_segment){ fake_vm_grant(g, false), 0, 7, 0 };
	cr_assert_eq(one_request_status(), PVKVM_BLKIF_RSP_OKAY);
	cr_assert_eq(fake_vm_page(g)[100], 0);
}

Test(blkback, impossible_producer_index_stops_the_device)
{
	connect_frontend(0);
	struct blkif_sring *s = fe.ring_view;
	__atomic_store_n(&s->hdr.req_prod, 33u + 5u, __ATOMIC_RELEASE);
	cr_assert_eq(blkback_kick(dev), 0);
	for (int i = 0; i < 2000 && xenbus_read_state(vm.store, BE_DIR) != PVKVM_XB_CLOSING; i++)
		usleep(1000);
	cr_assert(blkback_is_broken(dev));
	cr_assert_eq(xenbus_read_state(vm.store, BE_DIR), PVKVM_XB_CLOSING);
	char err[128] = { 0 };
	cr_assert_gt(store_read(vm.store, BE_DIR "/error", err, sizeof(err) - 1), 0);
	cr_assert(strstr(err, "ring broken"));
	/* The frontend closes; the backend lets go of the ring. */
	cr_assert_eq(xenbus_set_state(vm.store, FE_DIR, PVKVM_XB_CLOSING), 0);
	cr_assert_eq(xenbus_read_state(vm.store, BE_DIR), PVKVM_XB_CLOSED);
	cr_assert_eq(fake_vm_grant_flags(1) & PVKVM_GTF_WRITING, 0, "ring page released");
}

/* Rounds of 8 reads, each pushed at once and then polled for without ever
 * re-arming rsp_event: a suppressing backend notifies once (the initial
 * rsp_event), an always-notifying one on each push that published. */
static void polling_rounds(unsigned int rounds)
{
	for (unsigned int round = 0; round < rounds; round++) {
		for (unsigned int i = 0; i < 8; i++) {
			struct pvkvm_blkif_request *r = next_req();
			r->operation = PVKVM_BLKIF_OP_READ;
			r->id = round * 8 + i;
			r->sector_number = i * 8;
			r->nr_segments = 1;
			r->u.seg[0] = (struct pvkvm_blkif_segment){
				fake_vm_grant(fake_vm_alloc_pages(1), false), 0, 7, 0 };
		}
		push();
		unsigned int got = 0;
		for (int spins = 0; got < 8 && spins < 20000; spins++) {
			struct pvkvm_blkif_response rsp;
			int r = blkif_front_take_rsp(&fe.front, &rsp);
			cr_assert_geq(r, 0);
			if (r == 1) {
				cr_assert_eq(rsp.status, PVKVM_BLKIF_RSP_OKAY);
				got++;
			} else {
				usleep(500);
			}
		}
		cr_assert_eq(got, 8);
	}
}

/* A frontend that polls and never re-arms rsp_event is notified once (the
 * initial rsp_event = 1), however many batches the backend pushes. */
Test(blkback, a_polling_frontend_is_not_notified_again)
{
	connect_frontend(0);
	polling_rounds(4);
	cr_assert_geq(counter_reaching("notifications_suppressed", 3), 3);
	cr_assert_eq(counter("notifications_sent"), 1);
}

Test(blkback, always_notify_mode_notifies_every_push)
{
	stop_backend();
	struct blkback_config cfg;
	blkback_config_default(&cfg, 0);
	cfg.notify = PVKVM_RING_ALWAYS;
	cfg.discard = false;
	start_backend(false, &cfg);
	uint64_t v;
	cr_assert_eq(store_read_u64(vm.store, BE_DIR "/feature-discard", &v), 0);
	cr_assert_eq(v, 0);
	connect_frontend(0);
	struct pvkvm_blkif_request *r = next_req();
	r->operation = PVKVM_BLKIF_OP_DISCARD;
	r->id = 3;
	r->u.discard.nr_sectors = 8;
	cr_assert_eq(one_request_status(), PVKVM_BLKIF_RSP_NOTSUPP);
	cr_assert_geq(counter_reaching("notifications_sent", 1), 1);
	cr_assert_eq(counter("notifications_suppressed"), 0);
}

/* ---- the --disk knobs (notify=, batch=, ring_pages=) ------------------------------------ */

static void restart_backend_with(const char *disk_spec)
{
	struct disk_opt o;
	char err[256];
	cr_assert_eq(disk_opt_parse(disk_spec, &o, err, sizeof(err)), 0, "%s", err);
	stop_backend();
	store_remove(vm.store, FE_DIR); /* a second connection starts afresh */
	struct blkback_config cfg;
	disk_opt_blkback_config(&o, 0, &cfg);
	start_backend(false, &cfg);
}

static uint64_t notifications_for(const char *disk_spec, unsigned int rounds)
{
	restart_backend_with(disk_spec);
	connect_frontend(0);
	polling_rounds(rounds);
	/* Every request answered: the counts settle once the last push is counted. */
	uint64_t sent = counter_reaching("notifications_sent", rounds);
	usleep(20000);
	uint64_t later = counter("notifications_sent");
	cr_assert_eq(sent, later, "notifications still counted after the rounds");
	return sent;
}

Test(blkback, notify_always_sends_more_notifications_than_suppress)
{
	uint64_t suppress = notifications_for("x,notify=suppress", 6);
	uint64_t always = notifications_for("x,notify=always", 6);
	cr_assert_eq(suppress, 1, "suppress sent %lu", (unsigned long)suppress);
	cr_assert_geq(always, 6, "always sent %lu", (unsigned long)always);
	cr_assert_gt(always, suppress);
}

Test(blkback, batch_knob_serves_every_request)
{
	restart_backend_with("x,batch=4,poll_us=0");
	connect_frontend(0);
	polling_rounds(5);
	cr_assert_eq(counter("requests"), 40);
}

/* data=copy: the same bytes reach the file and the guest as with mapped
 * pages, through the backend's own buffer (INDIRECT included, which grows
 * it), sectors outside a segment stay untouched, and a read into a page
 * granted read-only fails without changing it. */
Test(blkback, data_copy_moves_the_same_bytes)
{
	restart_backend_with("x,data=copy");
	connect_frontend(0);
	static uint64_t pages[64];
	const uint64_t sector = 20000;
	alloc_pattern_pages(pages, 64, sector, 5);
	indirect_rw(PVKVM_BLKIF_OP_WRITE, sector, pages, 64, 1);
	cr_assert_eq(one_request_status(), PVKVM_BLKIF_RSP_OKAY);
	check_file(sector, 64 * 8, 5);
	zero_pages(pages, 64);
	indirect_rw(PVKVM_BLKIF_OP_READ, sector, pages, 64, 2);
	cr_assert_eq(one_request_status(), PVKVM_BLKIF_RSP_OKAY);
	for (unsigned int i = 0; i < 64; i++)
		for (unsigned int b = 0; b < PVKVM_PAGE_SIZE; b += 61)
			cr_assert_eq(fake_vm_page(pages[i])[b],
				     pat(sector + i * 8 + b / 512, b % 512, 5));

	/* Sectors 2..5 of one page: the rest of the page is not written. */
	uint64_t g = fake_vm_alloc_pages(1);
	memset(fake_vm_page(g), 0xee, PVKVM_PAGE_SIZE);
	struct pvkvm_blkif_request *r = next_req();
	*r = (struct pvkvm_blkif_request){ .operation = PVKVM_BLKIF_OP_READ, .id = 3,
		.sector_number = sector, .nr_segments = 1 };
	r->u.seg[0] = (struct pvkvm_blkif_segment){ fake_vm_grant(g, false), 2, 5, 0 };
	cr_assert_eq(one_request_status(), PVKVM_BLKIF_RSP_OKAY);
	for (unsigned int b = 0; b < PVKVM_PAGE_SIZE; b++)
		cr_assert_eq(fake_vm_page(g)[b],
			     b < 1024 || b >= 3072 ? 0xee : pat(sector + (b - 1024) / 512, b % 512, 5),
			     "byte %u", b);

	uint64_t ro = fake_vm_alloc_pages(1);
	memset(fake_vm_page(ro), 0x5a, PVKVM_PAGE_SIZE);
	r = next_req();
	*r = (struct pvkvm_blkif_request){ .operation = PVKVM_BLKIF_OP_READ, .id = 4,
		.sector_number = sector, .nr_segments = 1 };
	r->u.seg[0] = (struct pvkvm_blkif_segment){ fake_vm_grant(ro, true), 0, 7, 0 };
	cr_assert_eq(one_request_status(), PVKVM_BLKIF_RSP_ERROR);
	for (unsigned int b = 0; b < PVKVM_PAGE_SIZE; b++)
		cr_assert_eq(fake_vm_page(ro)[b], 0x5a, "a read-only page changed at %u", b);
	cr_assert_eq(counter("copied_bytes"), 2 * 64 * 4096 + 2048);
	cr_assert_gt(counter("direct_ios"), 0, "the bounce buffer is page-aligned: O_DIRECT");
}

Test(blkback, ring_pages_knob_caps_the_offered_order)
{
	restart_backend_with("x,ring_pages=2");
	uint64_t v;
	cr_assert_eq(store_read_u64(vm.store, BE_DIR "/max-ring-page-order", &v), 0);
	cr_assert_eq(v, 1);
	connect_frontend(1);
	polling_rounds(2);
}

/* ---- busy-poll ------------------------------------------------------------------------ */

static void restart_backend_polling(unsigned int poll_us)
{
	stop_backend();
	struct blkback_config cfg;
	blkback_config_default(&cfg, 0);
	cfg.poll_us = poll_us;
	start_backend(false, &cfg);
	connect_frontend(0);
}

static void queue_read(uint32_t gref, uint64_t id)
{
	struct pvkvm_blkif_request *r = next_req();
	r->operation = PVKVM_BLKIF_OP_READ;
	r->id = id;
	r->sector_number = (id % 64) * 8;
	r->nr_segments = 1;
	r->u.seg[0] = (struct pvkvm_blkif_segment){ gref, 0, 7, 0 };
}

/* Takes one response by polling the ring only (no sleeping, no re-arming
 * of rsp_event): the backend never has to notify us. */
static void poll_one_response(uint64_t id)
{
	struct pvkvm_blkif_response rsp;
	for (long spins = 0; spins < 20L * 1000 * 1000; spins++) {
		int r = blkif_front_take_rsp(&fe.front, &rsp);
		cr_assert_geq(r, 0);
		if (r == 1) {
			cr_assert_eq(rsp.id, id);
			cr_assert_eq(rsp.status, PVKVM_BLKIF_RSP_OKAY);
			return;
		}
		if (spins % 1024 == 1023)
			usleep(10);
	}
	cr_assert_fail("request %lu never answered", (unsigned long)id);
}

/* With a window far longer than the test takes to answer, the backend is
 * still polling when each next request lands: it finds them without
 * having asked for a kick (req_event stays behind), so at most the very
 * first push kicks. */
Test(blkback, a_request_in_the_poll_window_needs_no_kick)
{
	restart_backend_polling(BLKBACK_MAX_POLL_US);
	uint32_t gref = fake_vm_grant(fake_vm_alloc_pages(1), false);
	kicks = 0;
	for (uint64_t id = 0; id < 16; id++) {
		queue_read(gref, id);
		push();
		poll_one_response(id);
	}
	/* The first push kicks only if it beats the new I/O thread to its
	 * first poll (the ring starts with req_event armed). */
	cr_assert_leq(kicks, 1, "no request after the first kicks");
	/* That kick may still sit unread in the eventfd: the poll found the
	 * request first. */
	cr_assert_leq(counter("guest_kicks"), 1);
	cr_assert_geq(counter("polls_found_work"), 15);
}

/* A window of 1 us makes the backend go to sleep constantly, so requests
 * land at every point of the poll -> re-arm -> sleep sequence; with 0 it
 * never polls. Each request is pushed by the protocol (kick only when
 * asked) and answered: none is lost in between. */
static void no_request_is_lost(unsigned int poll_us)
{
	restart_backend_polling(poll_us);
	uint32_t gref = fake_vm_grant(fake_vm_alloc_pages(1), false);
	uint64_t x = 12345;
	for (uint64_t id = 0; id < 3000; id++) {
		queue_read(gref, id);
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		struct timespec t0, t;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		long delay_ns = (long)(x % 40000); /* land anywhere in 0..40 us */
		do
			clock_gettime(CLOCK_MONOTONIC, &t);
		while ((t.tv_sec - t0.tv_sec) * 1000000000L + t.tv_nsec - t0.tv_nsec < delay_ns);
		push();
		poll_one_response(id);
	}
	cr_assert_eq(counter("requests"), 3000);
	if (poll_us)
		cr_assert_gt(counter("polls_found_nothing"), 0, "it did go to sleep");
	else
		cr_assert_eq(counter("polls_found_work") + counter("polls_found_nothing"), 0);
}

Test(blkback, no_request_is_lost_around_a_short_poll)
{
	no_request_is_lost(1);
}

Test(blkback, no_request_is_lost_without_polling)
{
	no_request_is_lost(0);
}
