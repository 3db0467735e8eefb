/* SPDX-License-Identifier: MIT */
/*
 * ring_duo.h - a frontend thread and a backend thread talking through one
 * ring, each sleeping on an eventfd (its "event channel") when idle, exactly
 * as a real frontend/backend pair would. Shared by the stress test
 * (tests/unit/test_ring_stress.c), which cares that every message arrives in
 * order and intact and that nobody sleeps forever, and by build/ring-bench,
 * which cares how fast.
 *
 * The workload is pipelined round trips: the frontend keeps the ring as full
 * of requests as it can; the backend answers each request with one
 * response. `count` requests go one way and `count` responses come back.
 *
 * Host userspace only (threads, eventfd).
 */
#ifndef PVKVM_RING_DUO_H
#define PVKVM_RING_DUO_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ring/pvkvm_ring.h"

struct duo_req {
	uint64_t seq;
	uint64_t sum; /* a function of seq: catches torn or stale slots */
};
struct duo_rsp {
	uint64_t seq;
	uint64_t sum; /* a different function of seq than the request's */
};
PVKVM_RING_DEFINE(duo, struct duo_req, struct duo_rsp)

static inline uint64_t duo_req_sum(uint64_t seq)
{
	return seq * 0x9e3779b97f4a7c15ull ^ 0x5555aaaa5555aaaaull;
}

static inline uint64_t duo_rsp_sum(uint64_t seq)
{
	return ~duo_req_sum(seq) + 1;
}

struct duo_cfg {
	uint32_t nr_slots;
	enum pvkvm_ring_notify mode;
	uint64_t count;     /* messages each way */
	uint32_t spin;      /* polls before the final check and sleep; 0 = none */
	uint32_t batch;     /* push (and maybe notify) every `batch` messages;
			       0 = only once nothing more can be queued */
	uint32_t start;     /* initial value of all four indices */
	double timeout_s;   /* watchdog: 0 = none */
	bool rsp_wake_half; /* frontend sleeps until half of those in flight
			       are answered (default: until the next one) */
	bool single;        /* one thread plays both sides in turn: the CPU
			       cost of the ring operations alone, without
			       cache-line transfers, sleeps or a scheduler */
	bool pin;           /* pin the threads to front_cpu and back_cpu */
	int front_cpu, back_cpu;
};

struct duo_result {
	bool ok;
	bool timed_out;
	char err[192];
	double seconds;
	uint64_t req_notifies;  /* frontend -> backend */
	uint64_t rsp_notifies;  /* backend -> frontend */
	uint64_t front_sleeps;
	uint64_t back_sleeps;
	/* Diagnostics (timing-dependent, for understanding a run, not for
	 * asserting on): notifications sent while the peer was not in its
	 * idle path (final check + sleep), so it was busy and did not need
	 * one; final checks that found work and did not sleep; blocking
	 * reads (voluntary context switches of each thread). */
	uint64_t req_notifies_busy, rsp_notifies_busy;
	uint64_t front_rechecks, back_rechecks;
	uint64_t front_blocks, back_blocks;
	uint64_t reqs_done;     /* requests the backend took */
	uint64_t rsps_done;     /* responses the frontend took */
};

/*
 * What both threads share. Each thread's private state (its end of the
 * ring, its counters, its progress) sits on cache lines of its own, as a
 * real frontend and backend in different address spaces would: a shared
 * line adds a transfer per message that no real ring user pays, which
 * made polling runs (ring-bench --poll) several times slower.
 */
#define DUO_LINE 64
struct duo {
	struct duo_cfg cfg;
	struct duo_sring *sring;
	int front_evt; /* wakes the frontend */
	int back_evt;  /* wakes the backend */
	_Atomic bool stop;
	_Atomic int failed;
	char err[192];

	_Alignas(DUO_LINE) struct duo_front front;
	uint64_t req_notifies, front_sleeps, req_notifies_busy, front_rechecks;
	_Atomic uint64_t rsps_done;
	_Atomic uint64_t front_blocks;
	_Atomic bool front_idle; /* in its final check or asleep */

	_Alignas(DUO_LINE) struct duo_back back;
	uint64_t rsp_notifies, back_sleeps, rsp_notifies_busy, back_rechecks;
	_Atomic uint64_t reqs_done;
	_Atomic uint64_t back_blocks;
	_Atomic bool back_idle;
};

static inline void duo_fail(struct duo *d, const char *who, uint64_t at,
			    const char *what)
{
	int expected = 0;

	if (atomic_compare_exchange_strong(&d->failed, &expected, 1))
		snprintf(d->err, sizeof(d->err), "%s at message %llu: %s", who,
			 (unsigned long long)at, what);
	atomic_store(&d->stop, true);
}

static inline void duo_notify(int evt)
{
	uint64_t one = 1;

	while (write(evt, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

static inline void duo_sleep(int evt)
{
	uint64_t v;

	while (read(evt, &v, sizeof(v)) < 0 && errno == EINTR)
		;
}

/* Pins the calling thread to one CPU, if the configuration says so. */
static inline void duo_pin(const struct duo_cfg *cfg, int cpu)
{
	cpu_set_t set;

	if (!cfg->pin)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* Voluntary context switches of the calling thread so far: its blocking
 * eventfd reads (a read of an already-signalled eventfd does not block). */
static inline uint64_t duo_thread_blocks(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_THREAD, &ru) ? 0 : (uint64_t)ru.ru_nvcsw;
}

static inline double duo_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void duo_front_publish(struct duo *d)
{
	if (duo_front_push_reqs(&d->front)) {
		d->req_notifies++;
		d->req_notifies_busy +=
			!atomic_load_explicit(&d->back_idle, memory_order_relaxed);
		duo_notify(d->back_evt);
	}
}

/* Fills every free slot (up to the total), publishing every cfg.batch
 * requests and at the end; true if it sent any. */
static inline bool duo_front_send(struct duo *d, uint64_t *sent)
{
	struct duo_req *r;
	uint64_t first = *sent;
	uint32_t to_push = d->cfg.batch; /* a countdown: no division per message */

	while (*sent < d->cfg.count && (r = duo_front_next_req(&d->front))) {
		r->seq = *sent;
		r->sum = duo_req_sum(*sent);
		(*sent)++;
		if (to_push && --to_push == 0) {
			duo_front_publish(d);
			to_push = d->cfg.batch;
		}
	}
	if (*sent == first)
		return false;
	duo_front_publish(d); /* a no-op if the batch rule already did */
	return true;
}

/* Takes every response there is; true if it took any. */
static inline bool duo_front_collect(struct duo *d, uint64_t *got)
{
	struct duo_rsp rsp;
	uint64_t first = *got;
	int rc;

	while ((rc = duo_front_take_rsp(&d->front, &rsp)) == 1) {
		if (rsp.seq != *got || rsp.sum != duo_rsp_sum(*got)) {
			duo_fail(d, "frontend", *got, "response out of order or corrupt");
			return false;
		}
		(*got)++;
	}
	if (rc < 0)
		duo_fail(d, "frontend", *got, "ring reported broken");
	if (*got == first)
		return false; /* storing progress on every idle poll costs a miss */
	atomic_store_explicit(&d->rsps_done, *got, memory_order_relaxed);
	return true;
}

static inline void *duo_front_main(void *arg)
{
	struct duo *d = arg;
	uint64_t sent = 0, got = 0;
	uint32_t idle = 0;

	duo_pin(&d->cfg, d->cfg.front_cpu);
	while (got < d->cfg.count && !atomic_load(&d->stop)) {
		bool busy = duo_front_send(d, &sent);

		busy |= duo_front_collect(d, &got);
		if (busy || got == d->cfg.count) {
			idle = 0;
			continue;
		}
		if (++idle <= d->cfg.spin)
			continue;
		/* The rule: arm rsp_event, re-check, and only then sleep. */
		atomic_store_explicit(&d->front_idle, true, memory_order_relaxed);
		if (!(d->cfg.rsp_wake_half
			      ? duo_front_final_check_rsps_batch(
					&d->front, (d->front.req_prod_pvt - d->front.rsp_cons) / 2)
			      : duo_front_final_check_rsps(&d->front))) {
			d->front_sleeps++;
			duo_sleep(d->front_evt);
		} else {
			d->front_rechecks++;
		}
		atomic_store_explicit(&d->front_idle, false, memory_order_relaxed);
		idle = 0;
	}
	atomic_store(&d->front_blocks, duo_thread_blocks());
	return NULL;
}

static inline void duo_back_publish(struct duo *d)
{
	if (duo_back_push_rsps(&d->back)) {
		d->rsp_notifies++;
		d->rsp_notifies_busy +=
			!atomic_load_explicit(&d->front_idle, memory_order_relaxed);
		duo_notify(d->front_evt);
	}
}

/* Takes and answers every request there is, publishing every cfg.batch
 * responses and at the end; true if it served any. */
static inline bool duo_back_serve(struct duo *d, uint64_t *taken)
{
	struct duo_req req;
	uint64_t first = *taken;
	uint32_t to_push = d->cfg.batch;
	int rc;

	while ((rc = duo_back_take_req(&d->back, &req)) == 1) {
		struct duo_rsp *rsp = duo_back_next_rsp(&d->back);

		if (req.seq != *taken || req.sum != duo_req_sum(*taken) || !rsp) {
			duo_fail(d, "backend", *taken, "request out of order or corrupt");
			return false;
		}
		rsp->seq = req.seq;
		rsp->sum = duo_rsp_sum(req.seq);
		(*taken)++;
		if (to_push && --to_push == 0) {
			duo_back_publish(d);
			to_push = d->cfg.batch;
		}
	}
	if (rc < 0)
		duo_fail(d, "backend", *taken, "ring reported broken");
	if (*taken == first)
		return false;
	atomic_store_explicit(&d->reqs_done, *taken, memory_order_relaxed);
	duo_back_publish(d);
	return true;
}

static inline void *duo_back_main(void *arg)
{
	struct duo *d = arg;
	uint64_t taken = 0;
	uint32_t idle = 0;

	duo_pin(&d->cfg, d->cfg.back_cpu);
	while (taken < d->cfg.count && !atomic_load(&d->stop)) {
		if (duo_back_serve(d, &taken)) {
			idle = 0;
			continue;
		}
		if (++idle <= d->cfg.spin)
			continue;
		atomic_store_explicit(&d->back_idle, true, memory_order_relaxed);
		if (!duo_back_final_check_reqs(&d->back)) {
			d->back_sleeps++;
			duo_sleep(d->back_evt);
		} else {
			d->back_rechecks++;
		}
		atomic_store_explicit(&d->back_idle, false, memory_order_relaxed);
		idle = 0;
	}
	atomic_store(&d->back_blocks, duo_thread_blocks());
	return NULL;
}

/* cfg.single: fill the ring, answer everything, collect everything, again. */
static inline void duo_single(struct duo *d)
{
	uint64_t sent = 0, taken = 0, got = 0;

	duo_pin(&d->cfg, d->cfg.front_cpu);
	while (got < d->cfg.count && !atomic_load(&d->stop)) {
		duo_front_send(d, &sent);
		duo_back_serve(d, &taken);
		duo_front_collect(d, &got);
	}
}

static inline bool duo_setup(struct duo *d, const struct duo_cfg *cfg)
{
	size_t bytes = PVKVM_RING_HDR_SIZE + cfg->nr_slots * sizeof(union duo_slot);

	memset(d, 0, sizeof(*d));
	d->cfg = *cfg;
	if (posix_memalign((void **)&d->sring, 4096, bytes))
		return false;
	duo_sring_init(d->sring);
	/* start anywhere, e.g. just below 2^32 so the run crosses the wrap */
	d->sring->hdr.req_prod = d->sring->hdr.rsp_prod = cfg->start;
	d->sring->hdr.req_event = d->sring->hdr.rsp_event = cfg->start + 1;
	if (duo_front_init(&d->front, d->sring, bytes) ||
	    duo_back_init(&d->back, d->sring, bytes) ||
	    d->front.nr_slots != cfg->nr_slots)
		return false;
	d->front.mode = d->back.mode = cfg->mode;
	d->front_evt = eventfd(0, EFD_CLOEXEC);
	d->back_evt = eventfd(0, EFD_CLOEXEC);
	return d->front_evt >= 0 && d->back_evt >= 0;
}

/*
 * Joins the frontend (it ends last: it takes the final response), or gives
 * up at the watchdog's deadline. On a timeout the threads are stopped (flag
 * + a kick on both eventfds) so they can be joined; a lost wake-up therefore
 * shows as a failure, not a hang. The main thread sleeps in the join rather
 * than waking up to look: with two CPUs, periodic wake-ups preempt one of
 * the two ring threads (polling runs got up to ~3x slower with a 2 ms tick).
 */
static inline bool duo_wait(struct duo *d, pthread_t front)
{
	time_t whole = (time_t)d->cfg.timeout_s;
	struct timespec until;

	if (d->cfg.timeout_s <= 0)
		return pthread_join(front, NULL) == 0;
	clock_gettime(CLOCK_REALTIME, &until); /* the clock timedjoin uses */
	until.tv_nsec += (long)((d->cfg.timeout_s - (double)whole) * 1e9);
	until.tv_sec += whole + until.tv_nsec / 1000000000;
	until.tv_nsec %= 1000000000;
	if (pthread_timedjoin_np(front, NULL, &until) == 0)
		return true;
	atomic_store(&d->stop, true);
	duo_notify(d->front_evt);
	duo_notify(d->back_evt);
	pthread_join(front, NULL);
	return false;
}

static inline bool duo_run(const struct duo_cfg *cfg, struct duo_result *res)
{
	struct duo *d = aligned_alloc(DUO_LINE, sizeof(*d)); /* duo_setup zeroes it */
	pthread_t front, back;
	double t0;

	memset(res, 0, sizeof(*res));
	if (!d || !duo_setup(d, cfg)) {
		snprintf(res->err, sizeof(res->err), "set-up failed (memory, eventfd or ring size)");
		free(d);
		return false;
	}
	t0 = duo_now();
	if (cfg->single) {
		duo_single(d);
	} else {
		pthread_create(&back, NULL, duo_back_main, d);
		pthread_create(&front, NULL, duo_front_main, d);
		res->timed_out = !duo_wait(d, front);
		pthread_join(back, NULL);
	}
	res->seconds = duo_now() - t0;

	res->reqs_done = atomic_load(&d->reqs_done);
	res->rsps_done = atomic_load(&d->rsps_done);
	res->req_notifies = d->req_notifies;
	res->rsp_notifies = d->rsp_notifies;
	res->front_sleeps = d->front_sleeps;
	res->back_sleeps = d->back_sleeps;
	res->req_notifies_busy = d->req_notifies_busy;
	res->rsp_notifies_busy = d->rsp_notifies_busy;
	res->front_rechecks = d->front_rechecks;
	res->back_rechecks = d->back_rechecks;
	res->front_blocks = atomic_load(&d->front_blocks);
	res->back_blocks = atomic_load(&d->back_blocks);
	if (atomic_load(&d->failed))
		snprintf(res->err, sizeof(res->err), "%s", d->err);
	else if (res->timed_out)
		snprintf(res->err, sizeof(res->err),
			 "timed out after %.0f s: backend took %llu, frontend got %llu of %llu"
			 " (a lost wake-up leaves both asleep)",
			 cfg->timeout_s, (unsigned long long)res->reqs_done,
			 (unsigned long long)res->rsps_done,
			 (unsigned long long)cfg->count);
	res->ok = !atomic_load(&d->failed) && !res->timed_out &&
		  res->reqs_done == cfg->count && res->rsps_done == cfg->count;
	close(d->front_evt);
	close(d->back_evt);
	free(d->sring);
	free(d);
	return res->ok;
}

#endif /* PVKVM_RING_DUO_H */
