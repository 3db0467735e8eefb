// SPDX-License-Identifier: MIT
/*
 * netstack: Ethernet demultiplexing, IPv4 (no fragments, no options
 * beyond skipping them), ICMP echo reply. ARP is netstack_arp.c, UDP
 * netstack_udp.c. See netstack.h.
 */
#include "netstack.h"

#include "console.h"
#include "klib.h"
#include "netstack_proto.h"
#include "time.h"

uint16_t netstack_csum(const void *p, size_t n, uint32_t sum)
{
	const uint8_t *b = p;

	while (n > 1) {
		sum += (uint32_t)(b[0] << 8 | b[1]);
		b += 2;
		n -= 2;
	}
	if (n)
		sum += (uint32_t)b[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static bool parse_octet(const char **s, uint32_t *out)
{
	uint32_t v = 0;
	int digits = 0;

	while (**s >= '0' && **s <= '9' && digits < 4) {
		v = v * 10 + (uint32_t)(**s - '0');
		(*s)++;
		digits++;
	}
	*out = v;
	return digits > 0 && digits < 4 && v <= 255;
}

bool netstack_parse_ipv4(const char *s, uint32_t *ip, uint32_t *prefix)
{
	uint32_t v = 0, o;

	for (int i = 0; i < 4; i++) {
		if (!parse_octet(&s, &o))
			return false;
		v = v << 8 | o;
		if (i < 3 && *s++ != '.')
			return false;
	}
	*ip = v;
	if (prefix)
		*prefix = 32;
	if (*s == '/' && prefix) {
		uint64_t len;

		if (!parse_u64(s + 1, &len) || len > 32)
			return false;
		*prefix = (uint32_t)len;
		return true;
	}
	return *s == '\0';
}

int netstack_init(struct netstack *s, struct net_dev *dev, const char *cidr)
{
	uint32_t ip, prefix;

	memset(s, 0, sizeof(*s));
	if (!netstack_parse_ipv4(cidr, &ip, &prefix) || prefix == 0)
		return -PVKVM_EINVAL;
	s->dev = dev;
	memcpy(s->mac, dev->info.mac, NET_ETH_ALEN);
	s->ip = ip;
	s->mask = prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
	return 0;
}

void netstack_on_udp(struct netstack *s, netstack_udp_fn fn, void *arg)
{
	s->on_udp = fn;
	s->udp_arg = arg;
}

/* ---- IPv4 ------------------------------------------------------------------- */

void netstack_ip_header(const struct netstack *s, uint8_t *ip, uint32_t dst,
			uint8_t proto, size_t payload)
{
	static uint16_t ident;

	ip[0] = 0x45; /* version 4, 5 words */
	ip[1] = 0;
	net_put_be16(ip + 2, (uint16_t)(IP_HLEN + payload));
	net_put_be16(ip + 4, ident++);
	net_put_be16(ip + 6, IP_FLAG_DF);
	ip[8] = 64;
	ip[9] = proto;
	net_put_be16(ip + 10, 0);
	net_put_be32(ip + 12, s->ip);
	net_put_be32(ip + 16, dst);
	net_put_be16(ip + 10, netstack_csum(ip, IP_HLEN, 0));
}

void netstack_eth_header(const struct netstack *s, uint8_t *f,
			 const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, NET_ETH_ALEN);
	memcpy(f + NET_ETH_ALEN, s->mac, NET_ETH_ALEN);
	net_put_be16(f + 12, type);
}

/* Echo reply in place of the request: same id, sequence and data. */
static void icmp_input(struct netstack *s, const uint8_t *frame,
		       const struct netstack_ip *ip)
{
	uint8_t *out = s->tx;
	size_t n = ip->payload_len;
	uint8_t *icmp = out + NET_ETH_HLEN + IP_HLEN;

	if (n < ICMP_HLEN || netstack_csum(ip->payload, n, 0) != 0) {
		s->counters.bad_checksum++;
		return;
	}
	if (ip->payload[0] != ICMP_ECHO_REQUEST)
		return;
	netstack_eth_header(s, out, frame + NET_ETH_ALEN, ETH_P_IP);
	netstack_ip_header(s, out + NET_ETH_HLEN, ip->src, IP_PROTO_ICMP, n);
	memcpy(icmp, ip->payload, n);
	icmp[0] = ICMP_ECHO_REPLY;
	net_put_be16(icmp + 2, 0);
	net_put_be16(icmp + 2, netstack_csum(icmp, n, 0));
	if (net_send_now(s->dev, out, NET_ETH_HLEN + IP_HLEN + n,
			 now_ns() + NS_PER_SEC) == 0)
		s->counters.icmp_echo_replied++;
	/* The sender is on our link: remember it, saving an ARP round. */
	netstack_arp_learn(s, ip->src, frame + NET_ETH_ALEN);
}

/* Validates the header: 0 and *ip filled, or -1 (counted). */
static int ip_parse(struct netstack *s, const uint8_t *p, size_t len,
		    struct netstack_ip *ip)
{
	size_t hlen, total;

	if (len < IP_HLEN || p[0] >> 4 != 4) {
		s->counters.malformed++;
		return -1;
	}
	hlen = (size_t)(p[0] & 0xf) * 4;
	total = net_be16(p + 2);
	if (hlen < IP_HLEN || total < hlen || total > len) {
		s->counters.malformed++;
		return -1;
	}
	if (netstack_csum(p, hlen, 0) != 0) {
		s->counters.bad_checksum++;
		return -1;
	}
	/* More-fragments set or an offset: not supported, dropped. */
	if (net_be16(p + 6) & (IP_FLAG_MF | IP_FRAG_OFFSET)) {
		s->counters.malformed++;
		return -1;
	}
	ip->src = net_be32(p + 12);
	ip->dst = net_be32(p + 16);
	ip->proto = p[9];
	ip->payload = p + hlen;
	ip->payload_len = total - hlen;
	return 0;
}

static void ip_input(struct netstack *s, const uint8_t *frame, size_t len)
{
	struct netstack_ip ip;

	if (ip_parse(s, frame + NET_ETH_HLEN, len - NET_ETH_HLEN, &ip) < 0)
		return;
	if (ip.dst != s->ip) {
		s->counters.not_for_us++;
		return;
	}
	if (ip.proto == IP_PROTO_ICMP)
		icmp_input(s, frame, &ip);
	else if (ip.proto == IP_PROTO_UDP)
		netstack_udp_input(s, frame, &ip);
}

void netstack_input(struct netstack *s, const uint8_t *frame, size_t len)
{
	uint16_t type;

	if (len < NET_ETH_HLEN) {
		s->counters.malformed++;
		return;
	}
	type = net_be16(frame + 12);
	if (type == ETH_P_ARP)
		netstack_arp_input(s, frame, len);
	else if (type == ETH_P_IP)
		ip_input(s, frame, len);
}

int netstack_poll(struct netstack *s)
{
	int n = 0, len;

	/* A budget, as NAPI has: under a flood the caller must still get to
	 * look at its clock and its own work between batches. */
	while (n < NETSTACK_POLL_BUDGET &&
	       (len = net_recv(s->dev, s->rx, sizeof(s->rx))) > 0) {
		netstack_input(s, s->rx, (size_t)len);
		n++;
	}
	return n;
}

void netstack_idle(struct netstack *s, uint64_t deadline_ns)
{
	if (s->on_idle)
		s->on_idle(s, deadline_ns);
	else
		net_wait(s->dev, deadline_ns);
}

void netstack_run_until(struct netstack *s, uint64_t deadline_ns)
{
	while (now_ns() < deadline_ns) {
		if (netstack_poll(s) == 0)
			netstack_idle(s, deadline_ns);
	}
	netstack_poll(s);
}
