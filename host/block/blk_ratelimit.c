// SPDX-License-Identifier: MIT
/*
 * Token buckets. The refill is computed in 128 bits (rate * elapsed can
 * pass 2^64 at 10 GB/s after two seconds) and advances last_ns only by
 * the time the tokens it added stand for, so no fraction of a token is
 * ever lost to rounding.
 */
#include "host/block/blk_ratelimit.h"

#define NS_PER_S 1000000000ull

static int64_t burst(const struct tbucket *b)
{
	return b->rate > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)b->rate;
}

void tbucket_init(struct tbucket *b, uint64_t rate, uint64_t now_ns)
{
	b->rate = rate;
	b->tokens = burst(b);
	b->last_ns = now_ns;
}

static void refill(struct tbucket *b, uint64_t now_ns)
{
	if (now_ns <= b->last_ns)
		return;
	if (b->tokens >= burst(b)) {
		b->last_ns = now_ns; /* full: idle time earns nothing */
		return;
	}
	unsigned __int128 add = (unsigned __int128)(now_ns - b->last_ns) * b->rate / NS_PER_S;
	unsigned __int128 room = (unsigned __int128)(burst(b) - b->tokens);
	if (add >= room) {
		b->tokens = burst(b);
		b->last_ns = now_ns;
		return;
	}
	b->tokens += (int64_t)add;
	b->last_ns += (uint64_t)(add * NS_PER_S / b->rate);
}

bool tbucket_ready(struct tbucket *b, uint64_t now_ns)
{
	if (b->rate == 0)
		return true;
	refill(b, now_ns);
	return b->tokens > 0;
}

void tbucket_take(struct tbucket *b, uint64_t n)
{
	if (b->rate == 0)
		return;
	/* Debt is capped at a day's worth, far beyond any one request. */
	int64_t floor = -(int64_t)(b->rate > (uint64_t)INT64_MAX / 86400 ? INT64_MAX / 2
									: b->rate * 86400);
	int64_t take = n > (uint64_t)INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)n;
	b->tokens = b->tokens - take < floor ? floor : b->tokens - take;
}

uint64_t tbucket_wait_ns(const struct tbucket *b)
{
	if (b->rate == 0 || b->tokens > 0)
		return 0;
	/* Tokens needed to reach 1, at rate per second, rounded up. */
	unsigned __int128 need = (unsigned __int128)(1 - b->tokens) * NS_PER_S;
	return (uint64_t)((need + b->rate - 1) / b->rate);
}
