// SPDX-License-Identifier: MIT
/* The network programs' shared arguments and set-up (net_prog.h). */
#include "net_prog.h"

#include "console.h"
#include "klib.h"
#include "time.h"

static bool parse_kv(const char *s, const char *key, uint64_t *out)
{
	size_t n = strlen(key);

	return !strncmp(s, key, n) && s[n] == '=' && parse_u64(s + n + 1, out);
}

static bool parse_one(const char *s, struct net_prog_args *a)
{
	if (!strncmp(s, "mode=", 5))
		return net_mode_parse(s + 5, &a->mode);
	if (!strncmp(s, "ip=", 3)) {
		uint32_t ip, prefix;

		a->cidr = s + 3;
		return netstack_parse_ipv4(a->cidr, &ip, &prefix);
	}
	if (!strncmp(s, "peer=", 5))
		return netstack_parse_ipv4(s + 5, &a->peer, NULL);
	if (!strncmp(s, "dir=", 4)) {
		a->dir = s + 4;
		return !strcmp(a->dir, "tx") || !strcmp(a->dir, "rx");
	}
	return parse_kv(s, "nic", &a->nic) || parse_kv(s, "port", &a->port) ||
	       parse_kv(s, "time_ms", &a->time_ms) ||
	       parse_kv(s, "warmup_ms", &a->warmup_ms) ||
	       parse_kv(s, "count", &a->count) || parse_kv(s, "size", &a->size) ||
	       parse_kv(s, "spin_us", &a->spin_us);
}

bool net_prog_parse(const char *prog, int argc, char **argv,
		    struct net_prog_args *a)
{
	for (int i = 0; i < argc; i++)
		if (!parse_one(argv[i], a)) {
			printf("%s: bad argument '%s'\n", prog, argv[i]);
			return false;
		}
	return true;
}

int net_prog_open(const char *prog, const struct net_prog_args *a,
		  struct netstack *s)
{
	struct net_dev *d;
	int r = net_open(a->mode, (unsigned int)a->nic, &d);

	if (r < 0) {
		printf("%s: cannot open nic %llu (mode %s): error %d\n", prog,
		       (unsigned long long)a->nic, net_mode_name(a->mode), r);
		return r;
	}
	if (a->spin_us)
		d->poll_spin_ns = (uint32_t)(a->spin_us * 1000);
	r = netstack_init(s, d, a->cidr);
	if (r < 0)
		printf("%s: bad address %s\n", prog, a->cidr);
	return r;
}

const char *net_ip_str(uint32_t ip, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff,
		 (ip >> 8) & 0xff, ip & 0xff);
	return buf;
}

void net_prog_ready(const char *prog, const struct netstack *s)
{
	const uint8_t *m = s->mac;
	char ip[16];

	printf("%s: ready mode=%s mac=%02x:%02x:%02x:%02x:%02x:%02x ip=%s\n",
	       prog, net_mode_name(s->dev->info.mode), m[0], m[1], m[2], m[3],
	       m[4], m[5], net_ip_str(s->ip, ip));
}
