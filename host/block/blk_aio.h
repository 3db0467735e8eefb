/* SPDX-License-Identifier: MIT */
/*
 * A libaio engine for one I/O thread: ops are queued, submitted in batches
 * (one io_submit for many), and completed through an eventfd that the
 * thread polls next to its other sources. Each op carries its own
 * completion callback, so completions may arrive in any order.
 *
 * Single-threaded by design: every call, and every callback, runs on the
 * thread that owns the engine. The caller owns each op's memory until its
 * callback has run.
 */
#ifndef PVKVM_BLK_AIO_H
#define PVKVM_BLK_AIO_H

#include <libaio.h>
#include <stdint.h>
#include <sys/uio.h>

struct blk_aio;
struct blk_aio_op;

/* res: bytes transferred (>= 0) or -errno. */
typedef void (*blk_aio_done_fn)(struct blk_aio_op *op, int64_t res);

struct blk_aio_op {
	struct iocb iocb;
	blk_aio_done_fn done;
	void *cookie; /* the caller's */
	int64_t fault_cap; /* private: a fault hook's short transfer, or -1 */
};

/* depth: the most ops queued + in flight at once. NULL on failure (errno). */
struct blk_aio *blk_aio_new(unsigned int depth);
/* Waits for every op in flight (their callbacks run), then frees. */
void blk_aio_free(struct blk_aio *a);

/* Readable when completions are waiting: poll it, then blk_aio_reap(). */
int blk_aio_eventfd(const struct blk_aio *a);

void blk_aio_prep_readv(struct blk_aio_op *op, int fd, const struct iovec *iov,
			unsigned int iovcnt, uint64_t offset);
void blk_aio_prep_writev(struct blk_aio_op *op, int fd, const struct iovec *iov,
			 unsigned int iovcnt, uint64_t offset);
void blk_aio_prep_fdsync(struct blk_aio_op *op, int fd);

/* Adds a prepared op to the next batch. 0, or -EAGAIN when depth is reached
 * (reap, then retry). */
int blk_aio_queue(struct blk_aio *a, struct blk_aio_op *op);
/* Submits the batch. An op the kernel refuses is completed at once through
 * its callback with the error, so every queued op completes exactly once.
 * Returns the number handed to the kernel. */
int blk_aio_submit(struct blk_aio *a);
/* Runs the callbacks of every finished op without blocking; returns how
 * many ran. */
int blk_aio_reap(struct blk_aio *a);
/* Like reap, but leaves the eventfd alone: for a busy-poll loop, where
 * libaio peeks at the completion ring in user memory and makes no system
 * call when it is empty. Reap (which drains the eventfd) before sleeping
 * on the eventfd again. */
int blk_aio_poll(struct blk_aio *a);
/* Like reap, but waits until at least one op completes if any is in flight. */
int blk_aio_wait(struct blk_aio *a);

/*
 * Test hook: host faults on demand. Before an op is handed to the kernel,
 * fn sees it and answers 0 (run it), -errno (do not run it: it completes
 * with that error, as a failing disk's would: EIO, ENOSPC ...), or a byte
 * count n > 0 (run it, then report at most n bytes done: a short read or
 * write). One hook for the process, NULL to remove it; fn runs on the
 * engine's thread.
 */
typedef int64_t (*blk_aio_fault_fn)(void *ctx, const struct iocb *iocb);
void blk_aio_set_fault_hook(blk_aio_fault_fn fn, void *ctx);

unsigned int blk_aio_in_flight(const struct blk_aio *a);
unsigned int blk_aio_queued(const struct blk_aio *a);

#endif
