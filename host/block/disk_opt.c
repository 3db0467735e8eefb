// SPDX-License-Identifier: MIT
/* Parsing of one --disk specification. */
#include "host/block/disk_opt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/util/errmsg.h"

static bool token_is(const char *tok, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(tok, word, len) == 0;
}

/* "key=value" where value is one of the choices: its index, or -1. */
static int choice(const char *tok, size_t len, const char *key,
		  const char *const *choices)
{
	size_t klen = strlen(key);
	if (len <= klen || memcmp(tok, key, klen) != 0 || tok[klen] != '=')
		return -2; /* not this key */
	const char *val = tok + klen + 1;
	size_t vlen = len - klen - 1;
	for (int i = 0; choices[i]; i++)
		if (token_is(val, vlen, choices[i]))
			return i;
	return -1;
}

/* "poll_us=N": 1 if the token was it (and valid), 0 if it was another
 * key, -1 if its value is bad. */
static int poll_us_opt(struct disk_opt *o, const char *tok, size_t len)
{
	static const char key[] = "poll_us=";
	size_t klen = sizeof(key) - 1;
	if (len <= klen || memcmp(tok, key, klen) != 0)
		return 0;
	unsigned long v = 0;
	for (size_t i = klen; i < len; i++) {
		if (tok[i] < '0' || tok[i] > '9' || v > DISK_MAX_POLL_US)
			return -1;
		v = v * 10 + (unsigned long)(tok[i] - '0');
	}
	if (v > DISK_MAX_POLL_US)
		return -1;
	o->poll_us = (int)v;
	return 1;
}

/* "key=N", N in 1..max: 1 if the token was it and valid, 0 if another
 * key, -1 if its value is bad. */
static int small_opt(const char *tok, size_t len, const char *key,
		     unsigned int max, unsigned int *out)
{
	size_t klen = strlen(key);
	if (len <= klen || memcmp(tok, key, klen) != 0 || tok[klen] != '=')
		return 0;
	if (len == klen + 1)
		return -1;
	unsigned long v = 0;
	for (size_t i = klen + 1; i < len; i++) {
		if (tok[i] < '0' || tok[i] > '9' || v > max)
			return -1;
		v = v * 10 + (unsigned long)(tok[i] - '0');
	}
	if (v == 0 || v > max)
		return -1;
	*out = (unsigned int)v;
	return 1;
}

/* notify=, ring_pages=, batch=, data=: 0 applied, 1 not one of them, -1
 * bad (err said why). */
static int apply_ring_knob(struct disk_opt *o, const char *tok, size_t len,
			   char *err, size_t errlen)
{
	static const char *const notify[] = { "suppress", "always", NULL };
	static const char *const data[] = { "map", "copy", NULL };
	int c = choice(tok, len, "data", data);
	if (c >= 0) {
		o->data = c;
		return 0;
	}
	if (c == -1)
		return errmsg(-1, err, errlen, "--disk: data= takes map or copy, not '%.*s'",
			    (int)len, tok);
	c = choice(tok, len, "notify", notify);
	if (c >= 0) {
		o->notify = c;
		return 0;
	}
	if (c == -1)
		return errmsg(-1, err, errlen, "--disk: notify= takes always or suppress, not '%.*s'",
			    (int)len, tok);
	int p = small_opt(tok, len, "ring_pages", 16, &o->ring_pages);
	if (p > 0 && (o->ring_pages & (o->ring_pages - 1)) == 0)
		return 0;
	if (p != 0)
		return errmsg(-1, err, errlen, "--disk: ring_pages= takes 1, 2, 4, 8 or 16, not '%.*s'",
			    (int)len, tok);
	p = small_opt(tok, len, "batch", DISK_MAX_BATCH, &o->batch);
	if (p > 0)
		return 0;
	if (p < 0)
		return errmsg(-1, err, errlen, "--disk: batch= takes 1..%d, not '%.*s'",
			    DISK_MAX_BATCH, (int)len, tok);
	return 1;
}

/* "key=N" with an optional k, m or g (powers of 1024): 1 if the token was
 * it and valid, 0 if another key, -1 if its value is bad (0 is bad too: a
 * limit of nothing; leave the option out for no limit). */
static int rate_opt(const char *tok, size_t len, const char *key, uint64_t *out)
{
	size_t klen = strlen(key);
	if (len <= klen + 1 || memcmp(tok, key, klen) != 0 || tok[klen] != '=')
		return 0;
	uint64_t v = 0, mult = 1;
	size_t end = len;
	switch (tok[len - 1]) {
	case 'k': case 'K': mult = 1ull << 10; end--; break;
	case 'm': case 'M': mult = 1ull << 20; end--; break;
	case 'g': case 'G': mult = 1ull << 30; end--; break;
	}
	if (end == klen + 1)
		return -1;
	for (size_t i = klen + 1; i < end; i++) {
		if (tok[i] < '0' || tok[i] > '9' || v > DISK_MAX_RATE / 10)
			return -1;
		v = v * 10 + (uint64_t)(tok[i] - '0');
	}
	if (v == 0 || v > DISK_MAX_RATE / mult)
		return -1;
	*out = v * mult;
	return 1;
}

static int apply_flag(struct disk_opt *o, const char *tok, size_t len,
		      char *err, size_t errlen)
{
	static const char *const onoff[] = { "off", "on", NULL };
	/* In enum disk_mode order. */
	static const char *const modes[] = { "pv", "fv", "sync", "fv-dma", NULL };
	if (token_is(tok, len, "ro") || token_is(tok, len, "rw")) {
		o->read_only = tok[1] == 'o';
		return 0;
	}
	int c = choice(tok, len, "direct", onoff);
	if (c >= 0) {
		o->direct = c == 1;
		return 0;
	}
	if (c == -1)
		return errmsg(-1, err, errlen, "--disk: direct= takes on or off, not '%.*s'",
			    (int)len, tok);
	c = choice(tok, len, "mode", modes);
	if (c >= 0) {
		o->mode = (enum disk_mode)c;
		return 0;
	}
	if (c == -1)
		return errmsg(-1, err, errlen, "--disk: mode= takes pv, fv, fv-dma or sync, not '%.*s'",
			    (int)len, tok);
	int p = rate_opt(tok, len, "iops", &o->iops);
	if (p == 0)
		p = rate_opt(tok, len, "bw", &o->bw);
	if (p > 0)
		return 0;
	if (p < 0)
		return errmsg(-1, err, errlen,
			    "--disk: iops= and bw= take 1..2^50, with an optional k, m or g, not '%.*s'",
			    (int)len, tok);
	p = poll_us_opt(o, tok, len);
	if (p > 0)
		return 0;
	if (p < 0)
		return errmsg(-1, err, errlen, "--disk: poll_us= takes 0..%d (microseconds), not '%.*s'",
			    DISK_MAX_POLL_US, (int)len, tok);
	p = apply_ring_knob(o, tok, len, err, errlen);
	if (p <= 0)
		return p;
	return errmsg(-1, err, errlen,
		    "--disk: unknown option '%.*s' (ro, rw, direct=, mode=, poll_us=, iops=, bw=, "
		    "notify=, ring_pages=, batch=, data=)",
		    (int)len, tok);
}

int disk_opt_parse(const char *spec, struct disk_opt *out, char *err,
		   size_t errlen)
{
	*out = (struct disk_opt){ .direct = true, .mode = DISK_MODE_PV, .poll_us = -1, .data = -1,
				  .notify = -1 };
	const char *comma = strchr(spec, ',');
	size_t plen = comma ? (size_t)(comma - spec) : strlen(spec);
	if (plen == 0)
		return errmsg(-1, err, errlen, "--disk: no image path in '%s'", spec);
	if (plen >= sizeof(out->path))
		return errmsg(-1, err, errlen, "--disk: image path too long");
	memcpy(out->path, spec, plen);
	out->path[plen] = '\0';
	while (comma) {
		const char *tok = comma + 1;
		comma = strchr(tok, ',');
		size_t len = comma ? (size_t)(comma - tok) : strlen(tok);
		if (len == 0)
			return errmsg(-1, err, errlen, "--disk: empty option in '%s'", spec);
		if (apply_flag(out, tok, len, err, errlen))
			return -1;
	}
	if (out->poll_us >= 0 && out->mode != DISK_MODE_PV)
		return errmsg(-1, err, errlen, "--disk: poll_us= is for mode=pv only");
	if ((out->iops || out->bw) && out->mode != DISK_MODE_PV)
		return errmsg(-1, err, errlen, "--disk: iops= and bw= are for mode=pv only");
	if ((out->notify >= 0 || out->ring_pages || out->batch || out->data >= 0) &&
	    out->mode != DISK_MODE_PV)
		return errmsg(-1, err, errlen,
			    "--disk: notify=, ring_pages=, batch= and data= are for mode=pv only");
	return 0;
}

const char *disk_mode_name(enum disk_mode m)
{
	switch (m) {
	case DISK_MODE_PV: return "pv";
	case DISK_MODE_FV: return "fv";
	case DISK_MODE_SYNC: return "sync";
	case DISK_MODE_FV_DMA: return "fv-dma";
	}
	return "?";
}
