/* SPDX-License-Identifier: MIT */
/*
 * A token bucket, as a block device's rate limit (--disk ...,iops=N,bw=N).
 *
 * The bucket holds up to one second of tokens and refills continuously at
 * `rate` per second. A request may start while the bucket holds at least
 * one token, and then takes what it costs, so the bucket can go into debt
 * by one request: a 1 MiB write against bw=64k waits ~16 s after it, not
 * forever before it. Averaged over time the rate is what was asked; a burst
 * is at most one second's worth plus one request.
 *
 * Not thread-safe: one bucket belongs to one I/O thread.
 */
#ifndef PVKVM_BLK_RATELIMIT_H
#define PVKVM_BLK_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct tbucket {
	uint64_t rate;   /* tokens per second; 0 = unlimited */
	int64_t tokens;  /* may be negative: the debt of the last request */
	uint64_t last_ns; /* refilled up to here */
};

/* A full bucket at now_ns. */
void tbucket_init(struct tbucket *b, uint64_t rate, uint64_t now_ns);
/* Refills up to now_ns; true when a request may start (or no limit). */
bool tbucket_ready(struct tbucket *b, uint64_t now_ns);
/* Charges n tokens (no-op without a limit). */
void tbucket_take(struct tbucket *b, uint64_t n);
/* Nanoseconds from the last refill until the bucket holds a token again:
 * 0 when it does already (or without a limit). */
uint64_t tbucket_wait_ns(const struct tbucket *b);

#endif
