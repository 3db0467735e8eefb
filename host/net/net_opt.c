// SPDX-License-Identifier: MIT
/* Parsing of one --net specification. */
#include "host/net/net_opt.h"

#include <stdio.h>
#include <string.h>

#include "host/net/net_port.h"
#include "host/util/errmsg.h"
#include "hypercall/pvkvm_netif.h"

/* The value of "key=value" in tok, or NULL if tok is another key. */
static const char *value_of(const char *tok, size_t len, const char *key, size_t *vlen)
{
	size_t klen = strlen(key);
	if (len <= klen || memcmp(tok, key, klen) != 0 || tok[klen] != '=')
		return NULL;
	*vlen = len - klen - 1;
	return tok + klen + 1;
}

static bool is(const char *v, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(v, word, n) == 0;
}

static int parse_link(struct net_opt *o, const char *tok, size_t len,
		      char *err, size_t errlen)
{
	size_t n;
	const char *v = value_of(tok, len, "tap", &n);
	o->link = NET_LINK_TAP;
	if (!v) {
		v = value_of(tok, len, "switch", &n);
		o->link = NET_LINK_SWITCH;
	}
	if (!v)
		return errmsg(-1, err, errlen,
			      "--net: start with tap=NAME or switch=NAME, not '%.*s'",
			      (int)len, tok);
	if (n == 0 || n >= sizeof(o->name))
		return errmsg(-1, err, errlen, "--net: %s name of 1 to %zu characters",
			      o->link == NET_LINK_TAP ? "tap" : "switch",
			      sizeof(o->name) - 1);
	memcpy(o->name, v, n);
	o->name[n] = '\0';
	return 0;
}

static int parse_queues(struct net_opt *o, const char *v, size_t n)
{
	unsigned int q = 0;
	if (n == 0 || n > 2)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		q = q * 10 + (unsigned int)(v[i] - '0');
	}
	if (q == 0 || q > PVKVM_NETIF_MAX_QUEUES)
		return -1;
	o->queues = q;
	return 0;
}

static int apply_option(struct net_opt *o, const char *tok, size_t len,
			char *err, size_t errlen)
{
	size_t n;
	const char *v;
	if ((v = value_of(tok, len, "mac", &n))) {
		if (net_parse_mac(v, n, o->mac) || (o->mac[0] & 1))
			return errmsg(-1, err, errlen,
				      "--net: mac= takes a unicast XX:XX:XX:XX:XX:XX, not '%.*s'",
				      (int)n, v);
		o->has_mac = true;
		return 0;
	}
	if ((v = value_of(tok, len, "mode", &n))) {
		if (is(v, n, "pv"))
			o->mode = NET_MODE_PV;
		else if (is(v, n, "fv"))
			o->mode = NET_MODE_FV;
		else if (is(v, n, "sync"))
			o->mode = NET_MODE_SYNC;
		else if (is(v, n, "fv-dma"))
			o->mode = NET_MODE_FV_DMA;
		else
			return errmsg(-1, err, errlen,
				      "--net: mode= takes pv, fv, fv-dma or sync, not '%.*s'", (int)n, v);
		return 0;
	}
	if ((v = value_of(tok, len, "queues", &n))) {
		if (parse_queues(o, v, n))
			return errmsg(-1, err, errlen, "--net: queues= takes 1..%u, not '%.*s'",
				      PVKVM_NETIF_MAX_QUEUES, (int)n, v);
		return 0;
	}
	return errmsg(-1, err, errlen,
		      "--net: unknown option '%.*s' (mac=, mode=, queues=)", (int)len, tok);
}

int net_opt_parse(const char *spec, struct net_opt *out, char *err, size_t errlen)
{
	*out = (struct net_opt){ .mode = NET_MODE_PV, .queues = 1 };
	const char *comma = strchr(spec, ',');
	size_t len = comma ? (size_t)(comma - spec) : strlen(spec);
	if (parse_link(out, spec, len, err, errlen))
		return -1;
	bool queues_given = false;
	while (comma) {
		const char *tok = comma + 1;
		comma = strchr(tok, ',');
		len = comma ? (size_t)(comma - tok) : strlen(tok);
		if (len == 0)
			return errmsg(-1, err, errlen, "--net: empty option in '%s'", spec);
		if (apply_option(out, tok, len, err, errlen))
			return -1;
		queues_given |= len > 7 && memcmp(tok, "queues=", 7) == 0;
	}
	if (queues_given && out->mode != NET_MODE_PV)
		return errmsg(-1, err, errlen, "--net: queues= is for mode=pv only");
	return 0;
}

const char *net_mode_name(enum net_mode m)
{
	switch (m) {
	case NET_MODE_PV: return "pv";
	case NET_MODE_FV: return "fv";
	case NET_MODE_SYNC: return "sync";
	case NET_MODE_FV_DMA: return "fv-dma";
	}
	return "?";
}
