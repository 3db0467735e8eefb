// SPDX-License-Identifier: MIT
/*
 * netverify: sends datagrams of many sizes to an echo server (udpecho in
 * another guest on the switch, or any RFC 862 peer) and checks that each
 * comes back byte for byte.
 *
 *   netverify peer=A.B.C.D [ip=A.B.C.D/N] [port=N] [count=N]
 *             [mode=auto|pv|fv|fv-dma|sync] [nic=N] [echo_nic=N]
 *
 * Defaults: ip=10.0.0.2/24 port=7 count=200. Datagram i carries
 * NETVERIFY_HDR bytes of header (magic, i) then (i * 31 + j) bytes, its
 * size cycling through 1..1472 so both tiny frames and full 1514-byte
 * frames go out. A lost datagram is sent again (up to 5 times, 300 ms
 * each): a switch may drop, it may not corrupt.
 * echo_nic=N: this guest is its own peer: a second stack on NIC N, with
 * the peer address, echoes what the first sends (two NICs of one VM on
 * one switch); both stacks are polled, neither sleeps. Lines:
 *   netverify: ready ...
 *   netverify: sent=N verified=N retries=N corrupt=N lost=N
 *   netverify: N passed, N failed  (one check per datagram + ARP)
 */
#include "console.h"
#include "kernel.h"
#include "klib.h"
#include "net_prog.h"
#include "tap.h"
#include "time.h"

#define NETVERIFY_MAGIC 0x6e657476u /* "netv" */
#define NETVERIFY_HDR 8u
#define NETVERIFY_TRIES 5
#define NETVERIFY_WAIT_NS (300 * NS_PER_MS)
#define NETVERIFY_SRC_PORT 40007

struct verify_state {
	uint8_t want[NETSTACK_UDP_MAX_PAYLOAD];
	size_t want_len;
	uint32_t peer;
	uint16_t peer_port;
	bool got, match;
	uint64_t corrupt;
};

static size_t size_of(uint64_t i)
{
	static const size_t fixed[] = { NETVERIFY_HDR, NETSTACK_UDP_MAX_PAYLOAD,
					18, 64, 1000, 1471 };

	if (i < ARRAY_SIZE(fixed))
		return fixed[i];
	return NETVERIFY_HDR + (size_t)((i * 997) % (NETSTACK_UDP_MAX_PAYLOAD -
						       NETVERIFY_HDR + 1));
}

static void fill(uint8_t *p, uint64_t i, size_t len)
{
	uint32_t magic = NETVERIFY_MAGIC, seq = (uint32_t)i;

	memcpy(p, &magic, 4);
	memcpy(p + 4, &seq, 4);
	for (size_t j = NETVERIFY_HDR; j < len; j++)
		p[j] = (uint8_t)(i * 31 + j);
}

static void on_udp(struct netstack *s, uint32_t src_ip, uint16_t src_port,
		   uint16_t dst_port, const uint8_t *data, size_t len, void *arg)
{
	struct verify_state *v = arg;

	(void)s;
	if (src_ip != v->peer || src_port != v->peer_port ||
	    dst_port != NETVERIFY_SRC_PORT || len < NETVERIFY_HDR)
		return;
	/* A late echo of an earlier datagram is not this one's answer. */
	if (memcmp(data, v->want, NETVERIFY_HDR))
		return;
	v->got = true;
	v->match = len == v->want_len && !memcmp(data, v->want, len);
	if (!v->match)
		v->corrupt++;
}

/* Sends datagram i until its echo is in: tries used, or 0 when lost. */
static int exchange(struct netstack *s, struct verify_state *v, uint64_t i)
{
	v->want_len = size_of(i);
	fill(v->want, i, v->want_len);
	for (int t = 1; t <= NETVERIFY_TRIES; t++) {
		uint64_t until = now_ns() + NETVERIFY_WAIT_NS;

		v->got = false;
		if (netstack_udp_send(s, v->peer, NETVERIFY_SRC_PORT, v->peer_port,
				      v->want, v->want_len, until) < 0)
			continue;
		while (!v->got && now_ns() < until)
			if (netstack_poll(s) == 0)
				netstack_idle(s, until);
		if (v->got)
			return t;
	}
	return 0;
}

/* ---- echo_nic: the peer inside this guest ------------------------------------ */

static struct netstack echo_stack;
static uint16_t echo_port;

static void echo_on_udp(struct netstack *s, uint32_t src_ip, uint16_t src_port,
			uint16_t dst_port, const uint8_t *data, size_t len,
			void *arg)
{
	(void)arg;
	if (dst_port == echo_port)
		netstack_udp_send(s, src_ip, dst_port, src_port, data, len,
				  now_ns() + NS_PER_SEC);
}

/* The first stack's idle time drives the echo stack: busy-polled, since
 * a WAIT on one NIC's port would sleep through the other's events. */
static void poll_echo(struct netstack *s, uint64_t deadline_ns)
{
	(void)s;
	(void)deadline_ns;
	netstack_poll(&echo_stack);
	cpu_relax();
}

static void echo_idle(struct netstack *s, uint64_t deadline_ns)
{
	(void)deadline_ns;
	netstack_poll(s->idle_arg);
	cpu_relax();
}

static int open_echo_nic(const struct net_prog_args *a, uint64_t nic,
			 struct netstack *main)
{
	struct net_prog_args e = *a;
	char cidr[24], ip[16];

	snprintf(cidr, sizeof(cidr), "%s/24", net_ip_str(a->peer, ip));
	e.nic = nic;
	e.cidr = cidr;
	if (net_prog_open("netverify", &e, &echo_stack) < 0)
		return -1;
	echo_port = (uint16_t)a->port;
	netstack_on_udp(&echo_stack, echo_on_udp, NULL);
	/* The echo stack resolves the first one's address while the first
	 * waits: each one's idle time polls the other. */
	echo_stack.on_idle = echo_idle;
	echo_stack.idle_arg = main;
	main->on_idle = poll_echo;
	return 0;
}

int prog_netverify(int argc, char **argv)
{
	static struct netstack s;
	static struct verify_state v;
	struct net_prog_args a = { .mode = NET_MODE_AUTO, .cidr = "10.0.0.2/24",
				   .port = 7, .count = 200 };
	uint64_t verified = 0, retries = 0, lost = 0;
	uint8_t mac[NET_ETH_ALEN];
	uint64_t echo_nic = 0;
	struct tap t;
	int nargs = 0;
	char *args[16];

	/* echo_nic= is ours alone; the rest are the common arguments. */
	for (int i = 0; i < argc && nargs < 16; i++)
		if (strncmp(argv[i], "echo_nic=", 9))
			args[nargs++] = argv[i];
		else if (!parse_u64(argv[i] + 9, &echo_nic) || echo_nic == 0)
			return 2;
	if (!net_prog_parse("netverify", nargs, args, &a) || !a.peer ||
	    !a.port || a.port > 65535) {
		printf("usage: netverify peer=A.B.C.D [ip=A.B.C.D/N] [port=N] [count=N] [mode=..]\n");
		return 2;
	}
	if (net_prog_open("netverify", &a, &s) < 0)
		return 1;
	if (echo_nic && open_echo_nic(&a, echo_nic, &s) < 0)
		return 1;
	v.peer = a.peer;
	v.peer_port = (uint16_t)a.port;
	netstack_on_udp(&s, on_udp, &v);
	net_prog_ready("netverify", &s);
	tap_begin(&t, "netverify");
	if (!tap_check(&t, netstack_resolve(&s, a.peer, mac, now_ns() + 10 * NS_PER_SEC) == 0,
		       "arp resolves the peer", "no ARP reply in 10 s"))
		return tap_end(&t);
	for (uint64_t i = 0; i < a.count; i++) {
		int tries = exchange(&s, &v, i);

		if (tries && v.match)
			verified++;
		if (tries > 1)
			retries += (uint64_t)tries - 1;
		if (!tries)
			lost++;
		if (!tries || !v.match)
			tap_check(&t, false, "datagram echoed intact",
				  "datagram %llu (%zu bytes): %s",
				  (unsigned long long)i, v.want_len,
				  tries ? "corrupt" : "lost");
	}
	tap_check(&t, verified == a.count, "every datagram echoed intact",
		  "%llu of %llu", (unsigned long long)verified,
		  (unsigned long long)a.count);
	printf("netverify: sent=%llu verified=%llu retries=%llu corrupt=%llu lost=%llu\n",
	       (unsigned long long)a.count, (unsigned long long)verified,
	       (unsigned long long)retries, (unsigned long long)v.corrupt,
	       (unsigned long long)lost);
	return tap_end(&t);
}
