// SPDX-License-Identifier: MIT
/* UDP for netstack: checksummed datagrams in and out (RFC 768). */
#include "klib.h"
#include "netstack_proto.h"
#include "time.h"

/* The pseudo-header's part of the sum (not yet folded or inverted). */
static uint32_t pseudo_sum(uint32_t src, uint32_t dst, size_t udp_len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
	       IP_PROTO_UDP + (uint32_t)udp_len;
}

size_t netstack_build_udp(const struct netstack *s, uint8_t *frame,
			  const uint8_t dst_mac[NET_ETH_ALEN], uint32_t dst_ip,
			  uint16_t src_port, uint16_t dst_port,
			  const void *data, size_t len)
{
	uint8_t *udp = frame + NET_ETH_HLEN + IP_HLEN;
	size_t udp_len = UDP_HLEN + len;
	uint16_t sum;

	netstack_eth_header(s, frame, dst_mac, ETH_P_IP);
	netstack_ip_header(s, frame + NET_ETH_HLEN, dst_ip, IP_PROTO_UDP, udp_len);
	net_put_be16(udp, src_port);
	net_put_be16(udp + 2, dst_port);
	net_put_be16(udp + 4, (uint16_t)udp_len);
	net_put_be16(udp + 6, 0);
	if (data != udp + UDP_HLEN)
		memmove(udp + UDP_HLEN, data, len);
	sum = netstack_csum(udp, udp_len, pseudo_sum(s->ip, dst_ip, udp_len));
	/* 0 means "no checksum" on the wire: send its other form. */
	net_put_be16(udp + 6, sum ? sum : 0xffff);
	return NETSTACK_UDP_HDRS + len;
}

int netstack_udp_send(struct netstack *s, uint32_t dst_ip, uint16_t src_port,
		      uint16_t dst_port, const void *data, size_t len,
		      uint64_t deadline_ns)
{
	uint8_t mac[NET_ETH_ALEN];
	size_t n;
	int r;

	if (len > NETSTACK_UDP_MAX_PAYLOAD)
		return -PVKVM_EINVAL;
	r = netstack_resolve(s, dst_ip, mac, deadline_ns);
	if (r < 0)
		return r;
	n = netstack_build_udp(s, s->tx, mac, dst_ip, src_port, dst_port, data,
			       len);
	r = net_send_now(s->dev, s->tx, n, deadline_ns);
	if (r == 0)
		s->counters.udp_sent++;
	return r;
}

static bool udp_checksum_ok(const struct netstack *s,
			    const struct netstack_ip *ip, size_t udp_len)
{
	const uint8_t *udp = ip->payload;

	if (net_be16(udp + 6) == 0)
		return true; /* the sender sent none */
	if (s->dev->rx_flags & (NET_RX_CSUM_VALID | NET_RX_CSUM_BLANK))
		return true; /* checked by the host, or still to be filled */
	return netstack_csum(udp, udp_len,
			     pseudo_sum(ip->src, ip->dst, udp_len)) == 0;
}

void netstack_udp_input(struct netstack *s, const uint8_t *frame,
			const struct netstack_ip *ip)
{
	const uint8_t *udp = ip->payload;
	size_t udp_len;

	if (ip->payload_len < UDP_HLEN) {
		s->counters.malformed++;
		return;
	}
	udp_len = net_be16(udp + 4);
	if (udp_len < UDP_HLEN || udp_len > ip->payload_len) {
		s->counters.malformed++;
		return;
	}
	if (!udp_checksum_ok(s, ip, udp_len)) {
		s->counters.bad_checksum++;
		return;
	}
	s->counters.udp_received++;
	/* A reply goes back on the link it came from: no ARP round. */
	netstack_arp_learn(s, ip->src, frame + NET_ETH_ALEN);
	if (s->on_udp)
		s->on_udp(s, ip->src, net_be16(udp), net_be16(udp + 2),
			  udp + UDP_HLEN, udp_len - UDP_HLEN, s->udp_arg);
}
