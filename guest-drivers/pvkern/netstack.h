/* SPDX-License-Identifier: MIT */
/*
 * A small IPv4 stack over one network interface (net.h): Ethernet, ARP
 * (answers requests for our address, resolves others into a small cache),
 * IPv4 without fragments or options, ICMP echo reply, UDP send and
 * receive with checksums. One static address and prefix, no routing
 * beyond the local subnet (a gateway, if given, takes everything else).
 *
 * Addresses are in host byte order in this API; frames in network order.
 * Not thread-safe: one vCPU drives a stack.
 */
#ifndef PVKERN_NETSTACK_H
#define PVKERN_NETSTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"

#define NETSTACK_ARP_ENTRIES 16
#define NETSTACK_UDP_HDRS (NET_ETH_HLEN + 20 + 8) /* eth + ip + udp: 42 */
#define NETSTACK_UDP_MAX_PAYLOAD (NET_MAX_FRAME - NETSTACK_UDP_HDRS)

struct netstack;

/* A UDP datagram for us, checksum verified: src/dst in host order. */
typedef void (*netstack_udp_fn)(struct netstack *s, uint32_t src_ip,
				uint16_t src_port, uint16_t dst_port,
				const uint8_t *data, size_t len, void *arg);

struct netstack_counters {
	uint64_t arp_requests_answered, arp_replies_learned, arp_requests_sent;
	uint64_t icmp_echo_replied;
	uint64_t udp_received, udp_sent;
	uint64_t bad_checksum, malformed, not_for_us;
};

struct netstack_arp_entry {
	uint32_t ip;
	uint8_t mac[NET_ETH_ALEN];
	bool valid;
};

struct netstack {
	struct net_dev *dev;
	uint8_t mac[NET_ETH_ALEN];
	uint32_t ip, mask, gateway;
	struct netstack_arp_entry arp[NETSTACK_ARP_ENTRIES];
	uint32_t arp_next; /* round-robin replacement */
	netstack_udp_fn on_udp;
	void *udp_arg;
	/* Called instead of net_wait() when the stack has nothing to do
	 * (a program driving two stacks polls the other one there). */
	void (*on_idle)(struct netstack *s, uint64_t deadline_ns);
	void *idle_arg;
	struct netstack_counters counters;
	uint8_t rx[NET_MAX_FRAME];
	uint8_t tx[NET_MAX_FRAME];
};

/* "a.b.c.d" -> ip; "a.b.c.d/len" also sets *prefix (32 without one). */
bool netstack_parse_ipv4(const char *s, uint32_t *ip, uint32_t *prefix);
/* Binds the stack to dev with address "ip/prefix". 0 or -PVKVM_EINVAL. */
int netstack_init(struct netstack *s, struct net_dev *dev, const char *cidr);
void netstack_on_udp(struct netstack *s, netstack_udp_fn fn, void *arg);

/* Handles one received frame (ARP, ICMP echo, UDP to the callback). */
void netstack_input(struct netstack *s, const uint8_t *frame, size_t len);
#define NETSTACK_POLL_BUDGET 64
/* Receives and handles the frames there are now, at most
 * NETSTACK_POLL_BUDGET: how many. */
int netstack_poll(struct netstack *s);
/* Nothing to do until deadline_ns: on_idle, or net_wait(). */
void netstack_idle(struct netstack *s, uint64_t deadline_ns);
/* Receives and handles frames until deadline_ns, sleeping in between. */
void netstack_run_until(struct netstack *s, uint64_t deadline_ns);

/* The MAC of ip (or of the gateway for it), sending ARP requests and
 * handling frames meanwhile: 0, or -PVKVM_ETIMEDOUT at deadline_ns. */
int netstack_resolve(struct netstack *s, uint32_t ip, uint8_t mac[NET_ETH_ALEN],
		     uint64_t deadline_ns);
/* Adds or refreshes a cache entry. */
void netstack_arp_learn(struct netstack *s, uint32_t ip,
			const uint8_t mac[NET_ETH_ALEN]);

/* Builds a whole UDP frame into frame (NETSTACK_UDP_HDRS + len bytes),
 * with the IP and UDP checksums: its length. */
size_t netstack_build_udp(const struct netstack *s, uint8_t *frame,
			  const uint8_t dst_mac[NET_ETH_ALEN], uint32_t dst_ip,
			  uint16_t src_port, uint16_t dst_port,
			  const void *data, size_t len);
/* Resolves dst_ip and sends one datagram, flushed: 0 or an error. */
int netstack_udp_send(struct netstack *s, uint32_t dst_ip, uint16_t src_port,
		      uint16_t dst_port, const void *data, size_t len,
		      uint64_t deadline_ns);

/* The Internet checksum of [p, p + n) folded onto sum (RFC 1071). */
uint16_t netstack_csum(const void *p, size_t n, uint32_t sum);

static inline uint16_t net_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t net_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void net_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void net_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
