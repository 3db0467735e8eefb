// SPDX-License-Identifier: MIT
/*
 * The libaio engine: batched io_submit, completion through an eventfd,
 * non-blocking io_getevents drain, per-op callbacks.
 */
#include "host/block/blk_aio.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct blk_aio {
	io_context_t ctx;
	int efd;
	unsigned int depth;
	unsigned int in_flight;
	unsigned int nqueued;
	struct iocb **batch;      /* queued, not yet submitted: depth slots */
	struct io_event *events;  /* depth slots */
};

struct blk_aio *blk_aio_new(unsigned int depth)
{
	if (depth == 0) {
		errno = EINVAL;
		return NULL;
	}
	struct blk_aio *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->depth = depth;
	a->efd = -1;
	a->batch = calloc(depth, sizeof(*a->batch));
	a->events = calloc(depth, sizeof(*a->events));
	if (!a->batch || !a->events)
		goto fail;
	a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (a->efd < 0)
		goto fail;
	int r = io_setup((int)depth, &a->ctx);
	if (r < 0) {
		errno = -r;
		goto fail;
	}
	return a;
fail:;
	int e = errno;
	if (a->efd >= 0)
		close(a->efd);
	free(a->batch);
	free(a->events);
	free(a);
	errno = e;
	return NULL;
}

static void complete(struct blk_aio_op *op, int64_t res)
{
	if (op->fault_cap >= 0 && res > op->fault_cap)
		res = op->fault_cap;
	op->done(op, res);
}

/* ---- the fault hook (tests) ---- */

static _Atomic(blk_aio_fault_fn) fault_fn;
static void *_Atomic fault_ctx;

void blk_aio_set_fault_hook(blk_aio_fault_fn fn, void *ctx)
{
	atomic_store(&fault_ctx, ctx);
	atomic_store(&fault_fn, fn);
}

/* Asks the hook about every queued op; those it fails leave the batch and
 * complete with the error (after the batch went, as a refused op would). */
static unsigned int apply_faults(struct blk_aio *a, struct blk_aio_op **failed,
				 int64_t *errs)
{
	blk_aio_fault_fn fn = atomic_load(&fault_fn);
	unsigned int nfail = 0, keep = 0;
	if (!fn)
		return 0;
	for (unsigned int i = 0; i < a->nqueued; i++) {
		struct blk_aio_op *op = a->batch[i]->data;
		int64_t r = fn(atomic_load(&fault_ctx), &op->iocb);
		if (r < 0) {
			failed[nfail] = op;
			errs[nfail++] = r;
			continue;
		}
		if (r > 0)
			op->fault_cap = r;
		a->batch[keep++] = a->batch[i];
	}
	a->nqueued = keep;
	return nfail;
}

/* Removes the first n queued iocbs, keeping the order of the rest. */
static void drop_front(struct blk_aio *a, unsigned int n)
{
	a->nqueued -= n;
	memmove(a->batch, a->batch + n, a->nqueued * sizeof(*a->batch));
}

void blk_aio_free(struct blk_aio *a)
{
	if (!a)
		return;
	while (a->nqueued > 0) {
		struct blk_aio_op *op = a->batch[0]->data;
		drop_front(a, 1);
		complete(op, -ECANCELED);
	}
	while (a->in_flight > 0)
		blk_aio_wait(a);
	io_destroy(a->ctx);
	close(a->efd);
	free(a->batch);
	free(a->events);
	free(a);
}

int blk_aio_eventfd(const struct blk_aio *a)
{
	return a->efd;
}

void blk_aio_prep_readv(struct blk_aio_op *op, int fd, const struct iovec *iov,
			unsigned int iovcnt, uint64_t offset)
{
	io_prep_preadv(&op->iocb, fd, iov, (int)iovcnt, (long long)offset);
}

void blk_aio_prep_writev(struct blk_aio_op *op, int fd, const struct iovec *iov,
			 unsigned int iovcnt, uint64_t offset)
{
	io_prep_pwritev(&op->iocb, fd, iov, (int)iovcnt, (long long)offset);
}

void blk_aio_prep_fdsync(struct blk_aio_op *op, int fd)
{
	io_prep_fdsync(&op->iocb, fd);
}

int blk_aio_queue(struct blk_aio *a, struct blk_aio_op *op)
{
	if (a->nqueued + a->in_flight >= a->depth)
		return -EAGAIN;
	op->iocb.data = op;
	op->fault_cap = -1;
	io_set_eventfd(&op->iocb, a->efd);
	a->batch[a->nqueued++] = &op->iocb;
	return 0;
}

/* Kernels before 4.18 have no asynchronous fsync: do it here instead. */
static void fail_or_fallback(struct blk_aio_op *op, int err)
{
	if (err == -EINVAL && op->iocb.aio_lio_opcode == IO_CMD_FDSYNC) {
		int r = fdatasync(op->iocb.aio_fildes);
		complete(op, r < 0 ? -errno : 0);
		return;
	}
	complete(op, err);
}

int blk_aio_submit(struct blk_aio *a)
{
	int submitted = 0;
	struct blk_aio_op *failed[64];
	int64_t errs[64];
	unsigned int nfail = 0;
	if (atomic_load(&fault_fn)) {
		/* At most 64 looked at per call: the rest waits for the next. */
		unsigned int rest = a->nqueued > 64 ? a->nqueued - 64 : 0;
		a->nqueued -= rest;
		nfail = apply_faults(a, failed, errs);
		memmove(a->batch + a->nqueued, a->batch + a->nqueued + nfail,
			rest * sizeof(*a->batch));
		a->nqueued += rest;
	}
	while (a->nqueued > 0) {
		int r = io_submit(a->ctx, (long)a->nqueued, a->batch);
		if (r > 0) {
			drop_front(a, (unsigned int)r);
			a->in_flight += (unsigned int)r;
			submitted += r;
			continue;
		}
		if (r == -EAGAIN || r == 0)
			break; /* kernel out of room: the rest stays queued */
		if (r == -EINTR)
			continue;
		/* The first queued op is the one refused. */
		struct blk_aio_op *op = a->batch[0]->data;
		drop_front(a, 1);
		fail_or_fallback(op, r);
	}
	for (unsigned int i = 0; i < nfail; i++)
		complete(failed[i], errs[i]);
	return submitted;
}

static void drain_eventfd(struct blk_aio *a)
{
	uint64_t n;
	/* Read before io_getevents, so a completion that lands after the
	 * drain raises the eventfd again and is never slept through. */
	if (read(a->efd, &n, sizeof(n)) < 0) {
		/* EAGAIN: nothing signalled; completions may still be ready. */
	}
}

static int collect(struct blk_aio *a, long min_nr)
{
	int total = 0;
	while (a->in_flight > 0) {
		struct timespec zero = { 0, 0 };
		int r = io_getevents(a->ctx, min_nr, (long)a->depth, a->events,
				     min_nr ? NULL : &zero);
		if (r == -EINTR)
			continue;
		if (r <= 0)
			break;
		a->in_flight -= (unsigned int)r;
		for (int i = 0; i < r; i++) {
			struct blk_aio_op *op = a->events[i].data;
			complete(op, (int64_t)(long)a->events[i].res);
		}
		total += r;
		min_nr = 0;
	}
	return total;
}

int blk_aio_reap(struct blk_aio *a)
{
	drain_eventfd(a);
	return collect(a, 0);
}

int blk_aio_poll(struct blk_aio *a)
{
	return collect(a, 0);
}

int blk_aio_wait(struct blk_aio *a)
{
	drain_eventfd(a);
	return collect(a, 1);
}

unsigned int blk_aio_in_flight(const struct blk_aio *a)
{
	return a->in_flight;
}

unsigned int blk_aio_queued(const struct blk_aio *a)
{
	return a->nqueued;
}
