// SPDX-License-Identifier: MIT
/*
 * The PV block backend. See blkback.h for the shape; docs/block.md for the
 * protocol. Everything below "I/O thread" runs on that one thread, so the
 * ring, the request pool and the libaio engine need no lock.
 */
#include "host/block/blkback.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "host/util/ratelimit.h"

#include "host/block/blk_aio.h"
#include "host/block/blk_image.h"
#include "host/block/blk_ratelimit.h"
#include "host/block/blk_validate.h"
#include "host/block/blkback_ring.h"
#include "host/services/evtchn.h"
#include "host/services/grant.h"
#include "host/services/store.h"
#include "host/core/vm.h"
#include "host/services/xenbus.h"
#include "hypercall/pvkvm_blkif.h"

/* The most segments a request may carry that we accept from any frontend:
 * IOV_MAX bounds one vectored submission. */
#define BLKBACK_MAX_SEGMENTS 1024u

enum bb_counter {
	BB_C_REQUESTS,
	BB_C_READS,
	BB_C_WRITES,
	BB_C_FLUSHES,
	BB_C_DISCARDS,
	BB_C_INDIRECT,
	BB_C_BYTES_READ,
	BB_C_BYTES_WRITTEN,
	BB_C_ERRORS,   /* every non-OKAY response */
	BB_C_INVALID,  /* of which: rejected by validation or grants */
	BB_C_NOTIFY_SENT,
	BB_C_NOTIFY_SUPPRESSED,
	BB_C_GUEST_KICKS,
	BB_C_DIRECT_IOS,
	BB_C_BUFFERED_IOS,
	BB_C_POLL_HITS,   /* busy-poll rounds that found work */
	BB_C_POLL_MISSES, /* busy-poll windows that ran out: then it slept */
	BB_C_THROTTLED,   /* times the rate limit held requests back */
	BB_C_FLUSH_LATCHED, /* flushes failed because an earlier one did */
	BB_C_COPIED_BYTES,  /* data=copy: bytes grant-copied in and out */
	BB_C_COUNT
};

static const char *const counter_names[BB_C_COUNT] = {
	[BB_C_REQUESTS] = "requests",
	[BB_C_READS] = "reads",
	[BB_C_WRITES] = "writes",
	[BB_C_FLUSHES] = "flushes",
	[BB_C_DISCARDS] = "discards",
	[BB_C_INDIRECT] = "indirect_requests",
	[BB_C_BYTES_READ] = "bytes_read",
	[BB_C_BYTES_WRITTEN] = "bytes_written",
	[BB_C_ERRORS] = "error_responses",
	[BB_C_INVALID] = "invalid_requests",
	[BB_C_NOTIFY_SENT] = "notifications_sent",
	[BB_C_NOTIFY_SUPPRESSED] = "notifications_suppressed",
	[BB_C_GUEST_KICKS] = "guest_kicks",
	[BB_C_DIRECT_IOS] = "direct_ios",
	[BB_C_BUFFERED_IOS] = "buffered_ios",
	[BB_C_POLL_HITS] = "polls_found_work",
	[BB_C_POLL_MISSES] = "polls_found_nothing",
	[BB_C_THROTTLED] = "throttled",
	[BB_C_FLUSH_LATCHED] = "flushes_failed_latched",
	[BB_C_COPIED_BYTES] = "copied_bytes",
};

/* Counters outlive the connection and stop(): the VMM prints them after
 * stopping devices; blkback_destroy frees them once the VM is gone. */
struct bb_stats {
	char name[16];
	struct stat_counter c[BB_C_COUNT];
	struct stats_group group;
};

/* One request between its copy out of the ring and its response. */
struct blkreq {
	struct blkback *bb;
	struct blk_aio_op op;
	uint64_t id;
	uint8_t operation;
	bool is_write;
	uint16_t nr_maps;
	uint64_t bytes;
	struct grant_map *maps; /* max_segs */
	struct iovec *iov;      /* max_segs */
	/* data=copy: the segments to copy back after a read, and the
	 * page-aligned buffer the I/O uses instead of the guest's pages
	 * (grown on demand: an INDIRECT request may need 256 pages). */
	struct pvkvm_blkif_segment *copy_segs; /* max_segs */
	uint16_t nr_copy_segs;
	uint8_t *bounce;
	size_t bounce_pages;
	struct blkreq *next_free;
};

struct blkback {
	struct device dev;
	struct vm *vm;
	struct blk_image *img;
	struct blkback_config cfg;
	struct blk_limits limits;
	struct xenbus_backend *xb;
	struct bb_stats *stats;
	unsigned int max_segs;

	/* A connection: set up by connect, torn down by disconnect. */
	unsigned int port;
	int port_efd;
	int stop_efd;
	pthread_t thread;
	bool thread_started;
	struct ring_pages ring;
	struct blkif_back back;
	struct blk_aio *aio;
	struct blkreq *pool;
	struct blkreq *free_reqs;
	struct pvkvm_blkif_segment *segs; /* indirect segments, copied out */

	/* A failed fdatasync may have lost writes the guest was told were
	 * done, and the kernel reports such an error once: every later flush
	 * of this image fails too (the guest must not believe it durable). */
	atomic_bool flush_failed;

	/* Rate limits (cfg.iops, cfg.bw_bytes): the I/O thread's buckets and
	 * the timer that wakes it when they hold tokens again. */
	struct tbucket ops_bucket, bytes_bucket;
	int throttle_fd;
	bool throttled;

	/* I/O thread only */
	unsigned int writes_in_flight;
	struct blkreq *flush_waiting; /* a FLUSH held until earlier writes end */
	bool rsp_unpushed;

	atomic_bool broken;
	atomic_bool stopping; /* disconnect asked: cut a busy-poll short */
};

static void count(struct blkback *bb, enum bb_counter c, uint64_t n)
{
	stat_add(&bb->stats->c[c].value, n);
}

/* ---- request pool ------------------------------------------------------------ */

static struct blkreq *req_get(struct blkback *bb)
{
	struct blkreq *r = bb->free_reqs;
	if (r)
		bb->free_reqs = r->next_free;
	return r;
}

static void req_put(struct blkback *bb, struct blkreq *r)
{
	r->next_free = bb->free_reqs;
	bb->free_reqs = r;
}

static void pool_free(struct blkback *bb, unsigned int n)
{
	if (bb->pool) {
		for (unsigned int i = 0; i < n; i++) {
			free(bb->pool[i].maps);
			free(bb->pool[i].iov);
			free(bb->pool[i].copy_segs);
			free(bb->pool[i].bounce);
		}
	}
	free(bb->pool);
	free(bb->segs);
	bb->pool = NULL;
	bb->segs = NULL;
	bb->free_reqs = NULL;
}

static int pool_alloc(struct blkback *bb, unsigned int n)
{
	bb->pool = calloc(n, sizeof(*bb->pool));
	bb->segs = calloc(bb->max_segs, sizeof(*bb->segs));
	if (!bb->pool || !bb->segs)
		goto fail;
	for (unsigned int i = 0; i < n; i++) {
		struct blkreq *r = &bb->pool[i];
		r->bb = bb;
		r->maps = calloc(bb->max_segs, sizeof(*r->maps));
		r->iov = calloc(bb->max_segs, sizeof(*r->iov));
		r->copy_segs = bb->cfg.copy ? calloc(bb->max_segs, sizeof(*r->copy_segs)) : NULL;
		if (!r->maps || !r->iov || (bb->cfg.copy && !r->copy_segs))
			goto fail;
		req_put(bb, r);
	}
	return 0;
fail:
	pool_free(bb, n);
	return -PVKVM_ENOMEM;
}

/* ---- responses ---------------------------------------------------------------- */

static void respond(struct blkback *bb, uint64_t id, uint8_t op, int16_t status)
{
	if (status != PVKVM_BLKIF_RSP_OKAY)
		count(bb, BB_C_ERRORS, 1);
	struct pvkvm_blkif_response *rsp = blkif_back_next_rsp(&bb->back);
	if (!rsp)
		return; /* broken ring: nobody to answer */
	*rsp = (struct pvkvm_blkif_response){ .id = id, .operation = op,
					      .status = status };
	bb->rsp_unpushed = true;
}

/* Publishes every response written so far, notifying only if asked to. */
static void push_responses(struct blkback *bb)
{
	if (!bb->rsp_unpushed)
		return;
	bb->rsp_unpushed = false;
	if (blkif_back_push_rsps(&bb->back)) {
		evtchn_notify_guest(bb->vm->evtchn, bb->port);
		count(bb, BB_C_NOTIFY_SENT, 1);
	} else {
		count(bb, BB_C_NOTIFY_SUPPRESSED, 1);
	}
}

static void release_maps(struct blkreq *r)
{
	for (unsigned int i = 0; i < r->nr_maps; i++)
		grant_unmap(&r->maps[i]);
	r->nr_maps = 0;
}

static void finish(struct blkreq *r, int16_t status)
{
	struct blkback *bb = r->bb;
	release_maps(r);
	respond(bb, r->id, r->operation, status);
	req_put(bb, r);
}

/* ---- flush ---------------------------------------------------------------------- */

static void flush_done(struct blk_aio_op *op, int64_t res)
{
	struct blkreq *r = op->cookie;
	if (res != 0)
		atomic_store(&r->bb->flush_failed, true);
	finish(r, res == 0 ? PVKVM_BLKIF_RSP_OKAY : PVKVM_BLKIF_RSP_ERROR);
}

static void submit_flush(struct blkback *bb, struct blkreq *r)
{
	r->op.done = flush_done;
	r->op.cookie = r;
	blk_aio_prep_fdsync(&r->op, bb->img->fd);
	if (blk_aio_queue(bb->aio, &r->op) < 0)
		finish(r, PVKVM_BLKIF_RSP_ERROR); /* cannot happen: depth = pool */
}

/* A flush covers what was acknowledged before it, and, more strictly, every
 * write taken before it: it waits for writes still in flight, and no new
 * request is taken meanwhile, so none can slip in ahead of it. */
static void start_flush(struct blkback *bb, struct blkreq *r)
{
	count(bb, BB_C_FLUSHES, 1);
	if (atomic_load(&bb->flush_failed)) {
		count(bb, BB_C_FLUSH_LATCHED, 1);
		finish(r, PVKVM_BLKIF_RSP_ERROR);
	} else if (bb->img->read_only) {
		finish(r, PVKVM_BLKIF_RSP_OKAY); /* nothing of ours is dirty */
	} else if (bb->writes_in_flight > 0) {
		bb->flush_waiting = r;
	} else {
		submit_flush(bb, r);
	}
}

/* ---- reads and writes ----------------------------------------------------------- */

/* data=copy, a read done: the bounce buffer's sectors into each granted
 * page. A page whose grant went away meanwhile fails the request. */
static int copy_out(struct blkback *bb, struct blkreq *r)
{
	for (unsigned int i = 0; i < r->nr_copy_segs; i++) {
		const struct iovec *v = &r->iov[i];
		int rc = grant_copy_to(bb->vm->grants, r->copy_segs[i].gref,
				       (uint32_t)r->copy_segs[i].first_sect * PVKVM_BLKIF_SECTOR_SIZE,
				       v->iov_base, (uint32_t)v->iov_len);
		if (rc)
			return rc;
		count(bb, BB_C_COPIED_BYTES, v->iov_len);
	}
	return 0;
}

static void rw_done(struct blk_aio_op *op, int64_t res)
{
	struct blkreq *r = op->cookie;
	struct blkback *bb = r->bb;
	bool ok = res >= 0 && (uint64_t)res == r->bytes;
	if (ok)
		count(bb, r->is_write ? BB_C_BYTES_WRITTEN : BB_C_BYTES_READ, r->bytes);
	if (r->is_write && --bb->writes_in_flight == 0 && bb->flush_waiting) {
		struct blkreq *f = bb->flush_waiting;
		bb->flush_waiting = NULL;
		submit_flush(bb, f);
	}
	if (ok && r->nr_copy_segs) /* a data=copy read */
		ok = copy_out(bb, r) == 0;
	finish(r, ok ? PVKVM_BLKIF_RSP_OKAY : PVKVM_BLKIF_RSP_ERROR);
}

/* Copies an INDIRECT request's segment array out of its granted pages,
 * once, into private memory. */
static int fetch_indirect(struct blkback *bb, const struct pvkvm_blkif_request *req,
			  const struct blk_shape *shape)
{
	unsigned int left = shape->nr_segments;
	for (unsigned int p = 0; p < shape->nr_indirect_pages; p++) {
		unsigned int n = left < PVKVM_BLKIF_SEGS_PER_INDIRECT_PAGE
					 ? left : PVKVM_BLKIF_SEGS_PER_INDIRECT_PAGE;
		int rc = grant_copy_from(bb->vm->grants, req->u.indirect_grefs[p], 0,
					 &bb->segs[p * PVKVM_BLKIF_SEGS_PER_INDIRECT_PAGE],
					 n * (uint32_t)sizeof(struct pvkvm_blkif_segment));
		if (rc)
			return rc;
		left -= n;
	}
	return 0;
}

/* Holds every segment's page (for writing into it when the disk is read)
 * and builds the iovec over the sectors used. */
static int map_segments(struct blkback *bb, struct blkreq *r,
			const struct pvkvm_blkif_segment *seg, unsigned int n)
{
	enum grant_access acc = r->is_write ? GRANT_READ : GRANT_WRITE;
	for (unsigned int i = 0; i < n; i++) {
		int rc = grant_map(bb->vm->grants, seg[i].gref, acc, &r->maps[i]);
		if (rc) {
			release_maps(r);
			return rc;
		}
		r->nr_maps = (uint16_t)(i + 1);
		uint32_t off = (uint32_t)seg[i].first_sect * PVKVM_BLKIF_SECTOR_SIZE;
		uint32_t len = ((uint32_t)seg[i].last_sect - seg[i].first_sect + 1) *
			       PVKVM_BLKIF_SECTOR_SIZE;
		r->iov[i] = (struct iovec){ r->maps[i].page + off, len };
	}
	return 0;
}

/* A bounce buffer of at least n pages, page-aligned so O_DIRECT still
 * fits; kept for the request's next use. */
static int bounce_reserve(struct blkreq *r, unsigned int n)
{
	if (r->bounce_pages >= n)
		return 0;
	void *p = NULL;
	if (posix_memalign(&p, PVKVM_PAGE_SIZE, (size_t)n * PVKVM_PAGE_SIZE))
		return -PVKVM_ENOMEM;
	free(r->bounce);
	r->bounce = p;
	r->bounce_pages = n;
	return 0;
}

/* data=copy: the iovec over the bounce buffer, each segment at its own
 * page and offset; a write's data grant-copied in now, a read's copied out
 * by copy_out() when the disk is done. No guest page is held during I/O. */
static int copy_segments(struct blkback *bb, struct blkreq *r,
			 const struct pvkvm_blkif_segment *seg, unsigned int n)
{
	if (bounce_reserve(r, n))
		return -PVKVM_ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		uint32_t off = (uint32_t)seg[i].first_sect * PVKVM_BLKIF_SECTOR_SIZE;
		uint32_t len = ((uint32_t)seg[i].last_sect - seg[i].first_sect + 1) *
			       PVKVM_BLKIF_SECTOR_SIZE;
		uint8_t *at = r->bounce + (size_t)i * PVKVM_PAGE_SIZE + off;
		r->iov[i] = (struct iovec){ at, len };
		if (r->is_write) {
			int rc = grant_copy_from(bb->vm->grants, seg[i].gref, off, at, len);
			if (rc)
				return rc;
			count(bb, BB_C_COPIED_BYTES, len);
		} else {
			/* Checked when copied out: a page the guest cannot
			 * receive into fails the request then. */
			r->copy_segs[i] = seg[i];
		}
	}
	r->nr_copy_segs = r->is_write ? 0 : (uint16_t)n;
	return 0;
}

static void submit_rw(struct blkback *bb, struct blkreq *r, uint64_t sector,
		      unsigned int nr_segs)
{
	uint64_t off = sector << PVKVM_BLKIF_SECTOR_SHIFT;
	bool direct = blk_image_direct_fits(bb->img, off, r->iov, nr_segs);
	int fd = direct ? bb->img->direct_fd : bb->img->fd;
	count(bb, direct ? BB_C_DIRECT_IOS : BB_C_BUFFERED_IOS, 1);
	r->op.done = rw_done;
	r->op.cookie = r;
	if (r->is_write) {
		blk_aio_prep_writev(&r->op, fd, r->iov, nr_segs, off);
		bb->writes_in_flight++;
	} else {
		blk_aio_prep_readv(&r->op, fd, r->iov, nr_segs, off);
	}
	if (blk_aio_queue(bb->aio, &r->op) < 0) {
		if (r->is_write)
			bb->writes_in_flight--;
		finish(r, PVKVM_BLKIF_RSP_ERROR);
	}
}

static void reject(struct blkback *bb, struct blkreq *r, const char *why)
{
	(void)why; /* counted, not logged: a guest could flood the log */
	count(bb, BB_C_INVALID, 1);
	finish(r, PVKVM_BLKIF_RSP_ERROR);
}

static void start_rw(struct blkback *bb, struct blkreq *r,
		     const struct pvkvm_blkif_request *req,
		     const struct blk_shape *shape)
{
	const struct pvkvm_blkif_segment *seg = req->u.seg;
	r->is_write = shape->is_write;
	count(bb, r->is_write ? BB_C_WRITES : BB_C_READS, 1);
	if (req->operation == PVKVM_BLKIF_OP_INDIRECT) {
		count(bb, BB_C_INDIRECT, 1);
		if (fetch_indirect(bb, req, shape)) {
			reject(bb, r, "indirect page not granted");
			return;
		}
		seg = bb->segs;
	}
	uint64_t sectors;
	enum blk_check c = blk_check_segments(seg, shape->nr_segments,
					      req->sector_number, &bb->limits,
					      &sectors);
	if (c != BLK_OK) {
		reject(bb, r, blk_check_name(c));
		return;
	}
	r->nr_copy_segs = 0;
	if ((bb->cfg.copy ? copy_segments : map_segments)(bb, r, seg, shape->nr_segments)) {
		reject(bb, r, "segment not granted");
		return;
	}
	r->bytes = sectors << PVKVM_BLKIF_SECTOR_SHIFT;
	tbucket_take(&bb->bytes_bucket, r->bytes);
	submit_rw(bb, r, req->sector_number, shape->nr_segments);
}

static void do_discard(struct blkback *bb, struct blkreq *r,
		       const struct pvkvm_blkif_request *req)
{
	count(bb, BB_C_DISCARDS, 1);
	/* A hole punch is a metadata change: quick enough to do inline. */
	int rc = blk_image_discard(bb->img, req->sector_number,
				   req->u.discard.nr_sectors);
	finish(r, rc == 0 ? PVKVM_BLKIF_RSP_OKAY : PVKVM_BLKIF_RSP_ERROR);
}

/* One request, already copied out of the ring into *req. */
static void handle(struct blkback *bb, struct blkreq *r,
		   const struct pvkvm_blkif_request *req)
{
	count(bb, BB_C_REQUESTS, 1);
	r->id = req->id;
	r->operation = req->operation;
	r->nr_maps = 0;
	r->bytes = 0;
	struct blk_shape shape;
	enum blk_check c = blk_check_request(req, &bb->limits, &shape);
	if (c != BLK_OK) {
		if (c != BLK_NOTSUPP_OP)
			count(bb, BB_C_INVALID, 1);
		finish(r, blk_check_status(c));
		return;
	}
	switch (req->operation) {
	case PVKVM_BLKIF_OP_FLUSH:
		start_flush(bb, r);
		break;
	case PVKVM_BLKIF_OP_DISCARD:
		do_discard(bb, r, req);
		break;
	default:
		start_rw(bb, r, req, &shape);
		break;
	}
}

/* ---- the ring -------------------------------------------------------------------- */

static uint64_t mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t); /* vDSO: no system call */
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void drain_counter(int fd, uint64_t *n)
{
	*n = 0;
	if (read(fd, n, sizeof(*n)) != sizeof(*n))
		*n = 0;
}

/* A guest can break its ring and reconnect forever: the line about it is
 * printed at most once every 10 s, for all devices together, and says how
 * many it held back (the error key and the counters record each one). */
static void mark_broken(struct blkback *bb)
{
	static struct ratelimit lines = RATELIMIT_INIT(10ull * 1000000000ull);
	struct pvkvm_ring_hdr *h = &bb->back.sring->hdr;
	uint64_t held = 0;
	char more[64] = "";
	if (!ratelimit_allow(&lines, vm_now_ns(), &held)) {
		atomic_store(&bb->broken, true);
		return;
	}
	if (held)
		snprintf(more, sizeof(more), " (%llu similar lines held back)",
			 (unsigned long long)held);
	fprintf(stderr,
		"pvkvm: %s: ring broken: frontend req_prod %u is impossible "
		"(consumed %u, answered %u, %u slots); device stopped%s\n",
		bb->dev.name, __atomic_load_n(&h->req_prod, __ATOMIC_RELAXED),
		bb->back.req_cons, bb->back.rsp_prod_pvt, bb->back.nr_slots, more);
	atomic_store(&bb->broken, true);
}

/* Whether the buckets let another request start; if not, arms the timer
 * for when they will and holds the ring until it fires. */
static bool rate_allows(struct blkback *bb)
{
	if (bb->throttled)
		return false;
	if (!bb->cfg.iops && !bb->cfg.bw_bytes)
		return true; /* no limit: not even a clock read */
	uint64_t now = mono_ns();
	bool ops = tbucket_ready(&bb->ops_bucket, now);
	bool bytes = tbucket_ready(&bb->bytes_bucket, now);
	if (ops && bytes)
		return true;
	uint64_t wait = tbucket_wait_ns(&bb->ops_bucket);
	uint64_t wb = tbucket_wait_ns(&bb->bytes_bucket);
	if (wb > wait)
		wait = wb;
	if (wait == 0)
		wait = 1;
	struct itimerspec its = {
		.it_value = { .tv_sec = (time_t)(wait / 1000000000u),
			      .tv_nsec = (long)(wait % 1000000000u) },
	};
	timerfd_settime(bb->throttle_fd, 0, &its, NULL);
	bb->throttled = true;
	count(bb, BB_C_THROTTLED, 1);
	return false;
}

static void on_throttle_timer(struct blkback *bb)
{
	uint64_t n;
	drain_counter(bb->throttle_fd, &n);
	bb->throttled = false;
}

/* Takes requests while there is room; false when the ring turned out
 * broken. Each is submitted as soon as it is taken: one io_submit costs
 * ~2 us per request here whether it carries one or 32, so batching saves
 * nothing, while a batch of 32 keeps the disk idle for ~60 us until the
 * last one is ready. cfg.batch (the --disk batch= knob) groups up to that
 * many per io_submit, to measure exactly that. */
static bool take_requests(struct blkback *bb)
{
	if (atomic_load(&bb->broken))
		return false; /* said once, in mark_broken */
	unsigned int batch = bb->cfg.batch ? bb->cfg.batch : 1, taken = 0;
	while (!bb->flush_waiting && bb->free_reqs) {
		struct pvkvm_blkif_request req;
		if (!rate_allows(bb))
			break;
		int got = blkif_back_take_req(&bb->back, &req);
		if (got < 0) {
			blk_aio_submit(bb->aio); /* what was taken still lands */
			mark_broken(bb);
			return false;
		}
		if (got == 0)
			break;
		tbucket_take(&bb->ops_bucket, 1);
		handle(bb, req_get(bb), &req);
		if (++taken >= batch) {
			blk_aio_submit(bb->aio);
			taken = 0;
		}
	}
	blk_aio_submit(bb->aio);
	return true;
}

/* Takes what the ring holds, submits it, and publishes the answers so far,
 * without asking the frontend for a kick. */
static void serve_once(struct blkback *bb)
{
	if (!take_requests(bb))
		return; /* broken: let what is in flight land, take nothing */
	blk_aio_submit(bb->aio);
	push_responses(bb);
}

/* Serves the ring until it is empty and the frontend has been asked to
 * notify on its next request (or until no more can be taken for now: then
 * a completion brings us back here). */
static void serve(struct blkback *bb)
{
	for (;;) {
		serve_once(bb);
		if (atomic_load(&bb->broken) || bb->flush_waiting || !bb->free_reqs ||
		    bb->throttled)
			return;
		if (!blkif_back_final_check_reqs(&bb->back))
			return;
	}
}

/* ---- busy-poll ----------------------------------------------------------------- */


/* Requests we could take now. A peek: req_event is left as it is. */
static bool reqs_waiting(struct blkback *bb)
{
	if (bb->flush_waiting || !bb->free_reqs || bb->throttled)
		return false;
	return __atomic_load_n(&bb->back.sring->hdr.req_prod, __ATOMIC_ACQUIRE) !=
	       bb->back.req_cons;
}

/* While we poll, a kick would only cost the guest an exit: move req_event
 * back to what we consumed, where no push can cross it. The final check
 * before sleeping moves it forward again (and then looks once more). */
static void stop_kicks(struct blkback *bb)
{
	__atomic_store_n(&bb->back.sring->hdr.req_event, bb->back.req_cons,
			 __ATOMIC_RELAXED);
}

/* Polls the ring and the completion queue until neither has had work for
 * poll_us. req_event is not re-armed in here, so the frontend does not
 * kick while we look; the caller's final check re-arms it before sleeping.
 * Each empty look yields the CPU: when nothing else wants it, sched_yield
 * returns at once; when the vCPU thread or another task does, it runs
 * instead of waiting for our window to close (KVM's halt-poll stops for
 * the same reason when its CPU has another runnable task). */
static void busy_poll(struct blkback *bb)
{
	stop_kicks(bb);
	uint64_t window = (uint64_t)bb->cfg.poll_us * 1000u;
	uint64_t until = mono_ns() + window;
	while (!atomic_load_explicit(&bb->stopping, memory_order_relaxed) &&
	       !atomic_load_explicit(&bb->broken, memory_order_relaxed)) {
		int done = blk_aio_poll(bb->aio);
		if (done > 0 || reqs_waiting(bb)) {
			count(bb, BB_C_POLL_HITS, 1);
			serve_once(bb);
			until = mono_ns() + window;
			continue;
		}
		if (mono_ns() >= until) {
			count(bb, BB_C_POLL_MISSES, 1);
			return;
		}
		sched_yield();
	}
}

/* ---- the I/O thread --------------------------------------------------------------- */


static void on_guest_kick(struct blkback *bb)
{
	uint64_t n;
	drain_counter(bb->port_efd, &n);
	count(bb, BB_C_GUEST_KICKS, n);
	stat_add(&bb->vm->stats.evtchn_guest_sends, n);
}

static void report_broken(struct blkback *bb)
{
	const char *dir = xenbus_backend_dir(bb->xb);
	char path[PVKVM_STORE_PATH_MAX];
	snprintf(path, sizeof(path), "%s/error", dir);
	store_printf(bb->vm->store, path, "ring broken: impossible req_prod");
	xenbus_set_state(bb->vm->store, dir, PVKVM_XB_CLOSING);
}

/* Work found on waking is served, then polled for more, before the
 * eventfd is drained and the final check re-arms req_event: whatever
 * lands after that raises an eventfd, so no wake-up is lost. */
static void before_sleep(struct blkback *bb)
{
	if (bb->cfg.poll_us) {
		serve_once(bb);
		busy_poll(bb);
		blk_aio_reap(bb->aio);
	}
	serve(bb);
}

static void *io_thread(void *arg)
{
	struct blkback *bb = arg;
	rcu_register_thread(); /* grant lookups read under RCU */
	struct pollfd fds[4] = {
		{ .fd = bb->port_efd, .events = POLLIN },
		{ .fd = blk_aio_eventfd(bb->aio), .events = POLLIN },
		{ .fd = bb->stop_efd, .events = POLLIN },
		{ .fd = bb->throttle_fd, .events = POLLIN },
	};
	before_sleep(bb); /* requests may predate the connection */
	while (!atomic_load(&bb->broken)) {
		if (poll(fds, 4, -1) < 0 && errno != EINTR)
			break;
		if (fds[2].revents)
			break;
		if (fds[0].revents & POLLIN)
			on_guest_kick(bb);
		if (fds[1].revents & POLLIN)
			blk_aio_reap(bb->aio);
		if (fds[3].revents & POLLIN)
			on_throttle_timer(bb);
		before_sleep(bb);
	}
	/* Let every I/O in flight land before its pages are released. */
	while (blk_aio_in_flight(bb->aio) > 0)
		blk_aio_wait(bb->aio);
	if (atomic_load(&bb->broken))
		report_broken(bb);
	rcu_unregister_thread();
	return NULL;
}

/* ---- xenbus: connect and disconnect ------------------------------------------------ */

static int read_key(struct blkback *bb, const char *fe_dir, const char *key,
		    uint64_t max, uint64_t *out)
{
	char path[PVKVM_STORE_PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", fe_dir, key);
	if (store_read_u64(bb->vm->store, path, out) < 0 || *out > max)
		return -PVKVM_EINVAL;
	return 0;
}

/* ring-ref (order 0) or ring-page-order + ring-ref0..N-1, as Xen's. */
static int read_ring_refs(struct blkback *bb, const char *fe_dir,
			  uint32_t *refs, unsigned int *nr)
{
	uint64_t order = 0, v;
	char key[32];
	if (read_key(bb, fe_dir, "ring-page-order", bb->cfg.max_ring_page_order,
		     &order) < 0) {
		char path[PVKVM_STORE_PATH_MAX];
		snprintf(path, sizeof(path), "%s/ring-page-order", fe_dir);
		if (store_read(bb->vm->store, path, NULL, 0) >= 0)
			return -PVKVM_EINVAL; /* present but bad */
		order = 0;
	}
	*nr = 1u << order;
	if (order == 0 && read_key(bb, fe_dir, "ring-ref", UINT32_MAX, &v) == 0) {
		refs[0] = (uint32_t)v;
		return 0;
	}
	for (unsigned int i = 0; i < *nr; i++) {
		snprintf(key, sizeof(key), "ring-ref%u", i);
		if (read_key(bb, fe_dir, key, UINT32_MAX, &v) < 0)
			return -PVKVM_EINVAL;
		refs[i] = (uint32_t)v;
	}
	return 0;
}

static int open_ring(struct blkback *bb, const char *fe_dir)
{
	uint32_t refs[1u << PVKVM_BLKIF_MAX_RING_PAGE_ORDER];
	unsigned int nr;
	int rc = read_ring_refs(bb, fe_dir, refs, &nr);
	if (rc)
		return rc;
	rc = ring_pages_map(&bb->ring, bb->vm->grants, &bb->vm->mem, refs, nr);
	if (rc)
		return rc;
	if (blkif_back_init(&bb->back, bb->ring.base, bb->ring.bytes) < 0) {
		ring_pages_unmap(&bb->ring);
		return -PVKVM_EINVAL;
	}
	bb->back.mode = bb->cfg.notify;
	return 0;
}

static int start_engine(struct blkback *bb)
{
	unsigned int slots = bb->back.nr_slots;
	if (pool_alloc(bb, slots))
		return -PVKVM_ENOMEM;
	bb->aio = blk_aio_new(slots);
	if (!bb->aio) {
		pool_free(bb, slots);
		return -PVKVM_ENOMEM;
	}
	bb->throttle_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (bb->throttle_fd < 0) {
		blk_aio_free(bb->aio);
		bb->aio = NULL;
		pool_free(bb, slots);
		return -PVKVM_ENOMEM;
	}
	bb->throttled = false;
	tbucket_init(&bb->ops_bucket, bb->cfg.iops, mono_ns());
	tbucket_init(&bb->bytes_bucket, bb->cfg.bw_bytes, mono_ns());
	bb->writes_in_flight = 0;
	bb->flush_waiting = NULL;
	bb->rsp_unpushed = false;
	atomic_store(&bb->broken, false);
	atomic_store(&bb->stopping, false);
	return 0;
}

static void stop_engine(struct blkback *bb)
{
	close(bb->throttle_fd);
	bb->throttle_fd = -1;
	blk_aio_free(bb->aio);
	bb->aio = NULL;
	pool_free(bb, bb->back.nr_slots);
}

static int bind_port(struct blkback *bb, const char *fe_dir)
{
	uint64_t v;
	if (read_key(bb, fe_dir, "event-channel", PVKVM_EVTCHN_MAX - 1, &v) < 0)
		return -PVKVM_EINVAL;
	bb->port = (unsigned int)v;
	int rc = evtchn_bind_host(bb->vm->evtchn, bb->port, &bb->port_efd);
	if (rc)
		return rc;
	bb->stop_efd = eventfd(0, EFD_CLOEXEC);
	if (bb->stop_efd < 0) {
		evtchn_unbind_host(bb->vm->evtchn, bb->port);
		bb->port_efd = -1;
		return -PVKVM_ENOMEM;
	}
	return 0;
}

static void unbind_port(struct blkback *bb)
{
	close(bb->stop_efd);
	evtchn_unbind_host(bb->vm->evtchn, bb->port);
	bb->stop_efd = bb->port_efd = -1;
}

static int bb_connect(void *arg, const char *fe_dir)
{
	struct blkback *bb = arg;
	int rc = open_ring(bb, fe_dir);
	if (rc)
		return rc;
	rc = start_engine(bb);
	if (rc)
		goto unmap;
	rc = bind_port(bb, fe_dir);
	if (rc)
		goto engine;
	if (pthread_create(&bb->thread, NULL, io_thread, bb) != 0) {
		rc = -PVKVM_ENOMEM;
		goto unbind;
	}
	bb->thread_started = true;
	return 0;
unbind:
	unbind_port(bb);
engine:
	stop_engine(bb);
unmap:
	ring_pages_unmap(&bb->ring);
	return rc;
}

static void bb_disconnect(void *arg)
{
	struct blkback *bb = arg;
	if (!bb->thread_started)
		return;
	uint64_t one = 1;
	atomic_store(&bb->stopping, true);
	if (write(bb->stop_efd, &one, sizeof(one)) != sizeof(one))
		perror("pvkvm: blkback stop");
	/* A host-side frontend that answers our Closing from inside the store
	 * watch lands here on the I/O thread itself, after its last use of
	 * the engine: it cannot join itself, so it lets itself go. */
	if (pthread_equal(pthread_self(), bb->thread))
		pthread_detach(bb->thread);
	else
		pthread_join(bb->thread, NULL);
	bb->thread_started = false;
	unbind_port(bb);
	stop_engine(bb);
	ring_pages_unmap(&bb->ring);
}

static const struct xenbus_backend_ops bb_ops = {
	.connect = bb_connect,
	.disconnect = bb_disconnect,
};

/* ---- the device ------------------------------------------------------------------------ */

static int publish_features(struct blkback *bb)
{
	struct store *s = bb->vm->store;
	char dir[64], path[PVKVM_STORE_PATH_MAX];
	snprintf(dir, sizeof(dir), "backend/blk/%u", bb->cfg.id);
	const struct { const char *key; uint64_t val; } keys[] = {
		{ "sectors", bb->img->sectors },
		{ "sector-size", PVKVM_BLKIF_SECTOR_SIZE },
		{ "physical-sector-size",
		  bb->img->direct_fd >= 0 ? bb->img->dio_align : PVKVM_BLKIF_SECTOR_SIZE },
		{ "info", bb->img->read_only ? PVKVM_BLKIF_INFO_READONLY : 0 },
		{ "feature-flush-cache", bb->limits.flush },
		{ "feature-discard", bb->limits.discard },
		{ "discard-granularity", PVKVM_BLKIF_SECTOR_SIZE },
		{ "discard-alignment", 0 },
		{ "feature-max-indirect-segments", bb->limits.max_indirect_segments },
		{ "max-ring-page-order", bb->cfg.max_ring_page_order },
		{ "multi-queue-max-queues", 1 },
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, keys[i].key);
		int rc = store_printf(s, path, "%llu", (unsigned long long)keys[i].val);
		if (rc)
			return rc;
	}
	snprintf(path, sizeof(path), "%s/mode", dir);
	return store_printf(s, path, "%s", bb->img->read_only ? "r" : "w");
}

static int bb_start(struct device *dev, struct vm *vm)
{
	struct blkback *bb = dev->priv;
	bb->vm = vm;
	/* Features first: a frontend that sees InitWait finds them all. */
	int rc = publish_features(bb);
	if (rc)
		return rc;
	stats_register_group(&vm->stats, &bb->stats->group);
	bb->xb = xenbus_backend_new(vm->store, "blk", bb->cfg.id, &bb_ops, bb);
	return bb->xb ? 0 : -ENOMEM;
}

static void bb_stop(struct device *dev, struct vm *vm)
{
	(void)vm;
	struct blkback *bb = dev->priv;
	xenbus_backend_free(bb->xb); /* disconnects if connected */
	bb->xb = NULL;
}

void blkback_destroy(struct device *dev)
{
	if (!dev)
		return;
	struct blkback *bb = dev->priv;
	if (bb->xb)
		bb_stop(dev, bb->vm);
	blk_image_close(bb->img);
	free(bb->img);
	free(bb->stats);
	free(bb);
}

void blkback_config_default(struct blkback_config *cfg, unsigned int id)
{
	*cfg = (struct blkback_config){
		.id = id,
		.max_ring_page_order = PVKVM_BLKIF_MAX_RING_PAGE_ORDER,
		.max_indirect_segments = 256,
		.flush = true,
		.discard = true,
		.notify = PVKVM_RING_SUPPRESS,
		.poll_us = BLKBACK_DEFAULT_POLL_US,
	};
}

static struct bb_stats *stats_new(unsigned int id)
{
	struct bb_stats *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	snprintf(st->name, sizeof(st->name), "blk%u", id);
	for (unsigned int i = 0; i < BB_C_COUNT; i++)
		st->c[i].name = counter_names[i];
	st->group = (struct stats_group){ .name = st->name, .counters = st->c,
					  .nr = BB_C_COUNT };
	return st;
}

static void apply_limits(struct blkback *bb, const struct blkback_config *cfg)
{
	bb->cfg = *cfg;
	if (bb->cfg.poll_us > BLKBACK_MAX_POLL_US)
		bb->cfg.poll_us = BLKBACK_MAX_POLL_US;
	if (bb->cfg.max_ring_page_order > PVKVM_BLKIF_MAX_RING_PAGE_ORDER)
		bb->cfg.max_ring_page_order = PVKVM_BLKIF_MAX_RING_PAGE_ORDER;
	uint32_t ind = cfg->max_indirect_segments;
	if (ind > BLKBACK_MAX_SEGMENTS)
		ind = BLKBACK_MAX_SEGMENTS;
	bb->limits = (struct blk_limits){
		.sectors = bb->img->sectors,
		.max_indirect_segments = ind,
		.read_only = bb->img->read_only,
		.flush = cfg->flush,
		.discard = cfg->discard && bb->img->discard_ok,
	};
	bb->max_segs = ind > PVKVM_BLKIF_MAX_SEGMENTS ? ind : PVKVM_BLKIF_MAX_SEGMENTS;
}

struct device *blkback_create(struct blk_image *img,
			      const struct blkback_config *cfg)
{
	struct blkback *bb = calloc(1, sizeof(*bb));
	if (!bb)
		return NULL;
	bb->stats = stats_new(cfg->id);
	if (!bb->stats) {
		free(bb);
		return NULL;
	}
	bb->img = img;
	apply_limits(bb, cfg);
	bb->port_efd = bb->stop_efd = bb->throttle_fd = -1;
	bb->dev.name = bb->stats->name;
	bb->dev.priv = bb;
	bb->dev.start = bb_start;
	bb->dev.stop = bb_stop;
	return &bb->dev;
}

int blkback_kick(struct device *dev)
{
	struct blkback *bb = dev->priv;
	uint64_t one = 1;
	if (bb->port_efd < 0)
		return -PVKVM_EINVAL;
	return write(bb->port_efd, &one, sizeof(one)) == sizeof(one) ? 0 : -PVKVM_EIO;
}

bool blkback_is_broken(struct device *dev)
{
	struct blkback *bb = dev->priv;
	return atomic_load(&bb->broken);
}
