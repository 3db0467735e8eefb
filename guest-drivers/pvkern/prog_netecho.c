// SPDX-License-Identifier: MIT
/*
 * udpecho: a UDP echo server (RFC 862) on the network stack, which also
 * answers ARP and ping.
 *
 *   udpecho [ip=A.B.C.D/N] [port=N] [mode=auto|pv|fv|fv-dma|sync] [nic=N]
 *           [time_ms=MS] [count=N]
 *
 * Defaults: ip=10.0.0.2/24 port=7 time_ms=60000, count=0 (no limit).
 * Every datagram to the port goes back to its sender, byte for byte. It
 * stops after time_ms, after count echoes, or after echoing a datagram
 * that is exactly "quit". Lines:
 *   udpecho: ready mode=.. mac=.. ip=..
 *   udpecho: echoed=N udp_rx=N arp_answered=N ping_replied=N bad_checksum=N
 */
#include "console.h"
#include "kernel.h"
#include "klib.h"
#include "net_prog.h"
#include "time.h"

struct echo_state {
	uint16_t port;
	uint64_t echoed, failed;
	bool quit;
};

static void on_udp(struct netstack *s, uint32_t src_ip, uint16_t src_port,
		   uint16_t dst_port, const uint8_t *data, size_t len, void *arg)
{
	struct echo_state *e = arg;

	if (dst_port != e->port)
		return;
	if (netstack_udp_send(s, src_ip, dst_port, src_port, data, len,
			      now_ns() + NS_PER_SEC) == 0)
		e->echoed++;
	else
		e->failed++;
	if (len == 4 && !memcmp(data, "quit", 4))
		e->quit = true;
}

int prog_udpecho(int argc, char **argv)
{
	static struct netstack s;
	struct net_prog_args a = { .mode = NET_MODE_AUTO, .cidr = "10.0.0.2/24",
				   .port = 7, .time_ms = 60000 };
	struct echo_state e = { 0 };
	uint64_t end;

	if (!net_prog_parse("udpecho", argc, argv, &a) || !a.port || a.port > 65535)
		return 2;
	if (net_prog_open("udpecho", &a, &s) < 0)
		return 1;
	e.port = (uint16_t)a.port;
	netstack_on_udp(&s, on_udp, &e);
	net_prog_ready("udpecho", &s);
	end = now_ns() + a.time_ms * NS_PER_MS;
	while (!e.quit && (!a.count || e.echoed < a.count) && now_ns() < end)
		if (netstack_poll(&s) == 0)
			net_wait(s.dev, end);
	printf("udpecho: echoed=%llu failed=%llu udp_rx=%llu arp_answered=%llu "
	       "ping_replied=%llu bad_checksum=%llu malformed=%llu\n",
	       (unsigned long long)e.echoed, (unsigned long long)e.failed,
	       (unsigned long long)s.counters.udp_received,
	       (unsigned long long)s.counters.arp_requests_answered,
	       (unsigned long long)s.counters.icmp_echo_replied,
	       (unsigned long long)s.counters.bad_checksum,
	       (unsigned long long)s.counters.malformed);
	return e.failed ? 1 : 0;
}
