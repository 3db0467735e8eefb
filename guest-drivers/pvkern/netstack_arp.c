// SPDX-License-Identifier: MIT
/*
 * ARP for netstack: answers requests for our address, learns from replies
 * and from requests aimed at us (RFC 826's merge rule, limited to what
 * concerns us), and resolves addresses by broadcasting requests.
 */
#include "klib.h"
#include "netstack_proto.h"
#include "time.h"

#define ARP_HW_ETHER 1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2
#define ARP_RETRY_NS (200 * NS_PER_MS)

static const uint8_t broadcast[NET_ETH_ALEN] = { 0xff, 0xff, 0xff,
						 0xff, 0xff, 0xff };

static struct netstack_arp_entry *arp_find(struct netstack *s, uint32_t ip)
{
	for (int i = 0; i < NETSTACK_ARP_ENTRIES; i++)
		if (s->arp[i].valid && s->arp[i].ip == ip)
			return &s->arp[i];
	return NULL;
}

void netstack_arp_learn(struct netstack *s, uint32_t ip,
			const uint8_t mac[NET_ETH_ALEN])
{
	struct netstack_arp_entry *e = arp_find(s, ip);

	if (!e) {
		e = &s->arp[s->arp_next];
		s->arp_next = (s->arp_next + 1) % NETSTACK_ARP_ENTRIES;
	}
	e->ip = ip;
	memcpy(e->mac, mac, NET_ETH_ALEN);
	e->valid = true;
}

static size_t arp_build(const struct netstack *s, uint8_t *f, uint16_t op,
			const uint8_t *eth_dst, const uint8_t *target_mac,
			uint32_t target_ip)
{
	uint8_t *a = f + NET_ETH_HLEN;

	netstack_eth_header(s, f, eth_dst, ETH_P_ARP);
	net_put_be16(a, ARP_HW_ETHER);
	net_put_be16(a + 2, ETH_P_IP);
	a[4] = NET_ETH_ALEN;
	a[5] = 4;
	net_put_be16(a + 6, op);
	memcpy(a + 8, s->mac, NET_ETH_ALEN);
	net_put_be32(a + 14, s->ip);
	memcpy(a + 18, target_mac, NET_ETH_ALEN);
	net_put_be32(a + 24, target_ip);
	/* Padded to the Ethernet minimum, as a NIC would. */
	memset(f + NET_ETH_HLEN + ARP_LEN, 0,
	       NET_ETH_ZLEN - NET_ETH_HLEN - ARP_LEN);
	return NET_ETH_ZLEN;
}

void netstack_arp_input(struct netstack *s, const uint8_t *frame, size_t len)
{
	const uint8_t *a = frame + NET_ETH_HLEN;
	uint32_t sender_ip, target_ip;
	uint16_t op;

	if (len < NET_ETH_HLEN + ARP_LEN || net_be16(a) != ARP_HW_ETHER ||
	    net_be16(a + 2) != ETH_P_IP || a[4] != NET_ETH_ALEN || a[5] != 4) {
		s->counters.malformed++;
		return;
	}
	op = net_be16(a + 6);
	sender_ip = net_be32(a + 14);
	target_ip = net_be32(a + 24);
	if (target_ip != s->ip) {
		s->counters.not_for_us++;
		return;
	}
	netstack_arp_learn(s, sender_ip, a + 8);
	if (op == ARP_OP_REPLY) {
		s->counters.arp_replies_learned++;
	} else if (op == ARP_OP_REQUEST) {
		size_t n = arp_build(s, s->tx, ARP_OP_REPLY, a + 8, a + 8,
				     sender_ip);

		if (net_send_now(s->dev, s->tx, n, now_ns() + NS_PER_SEC) == 0)
			s->counters.arp_requests_answered++;
	}
}

static uint32_t next_hop(const struct netstack *s, uint32_t ip)
{
	if ((ip & s->mask) == (s->ip & s->mask) || !s->gateway)
		return ip;
	return s->gateway;
}

int netstack_resolve(struct netstack *s, uint32_t ip, uint8_t mac[NET_ETH_ALEN],
		     uint64_t deadline_ns)
{
	static const uint8_t zero_mac[NET_ETH_ALEN];
	uint32_t hop = next_hop(s, ip);
	struct netstack_arp_entry *e;

	if (ip == 0xffffffffu || ip == (s->ip | ~s->mask)) {
		memcpy(mac, broadcast, NET_ETH_ALEN);
		return 0;
	}
	while (!(e = arp_find(s, hop))) {
		uint64_t retry = now_ns() + ARP_RETRY_NS;
		size_t n;

		if (deadline_ns && now_ns() > deadline_ns)
			return -PVKVM_ETIMEDOUT;
		n = arp_build(s, s->tx, ARP_OP_REQUEST, broadcast, zero_mac, hop);
		if (net_send_now(s->dev, s->tx, n, deadline_ns) == 0)
			s->counters.arp_requests_sent++;
		if (deadline_ns && retry > deadline_ns)
			retry = deadline_ns;
		while (!arp_find(s, hop) && now_ns() < retry)
			if (netstack_poll(s) == 0)
				netstack_idle(s, retry);
	}
	memcpy(mac, e->mac, NET_ETH_ALEN);
	return 0;
}
