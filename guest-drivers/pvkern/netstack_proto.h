/* SPDX-License-Identifier: MIT */
/* netstack's own: wire constants and the pieces its files share. */
#ifndef PVKERN_NETSTACK_PROTO_H
#define PVKERN_NETSTACK_PROTO_H

#include "netstack.h"

#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define IP_HLEN 20u
#define IP_FLAG_DF 0x4000
#define IP_FLAG_MF 0x2000
#define IP_FRAG_OFFSET 0x1fff
#define IP_PROTO_ICMP 1
#define IP_PROTO_UDP 17
#define ICMP_HLEN 8u
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8
#define UDP_HLEN 8u
#define ARP_LEN 28u

/* A parsed IPv4 packet, pointing into the frame. */
struct netstack_ip {
	uint32_t src, dst;
	uint8_t proto;
	const uint8_t *payload;
	size_t payload_len;
};

void netstack_eth_header(const struct netstack *s, uint8_t *f,
			 const uint8_t *dst, uint16_t type);
void netstack_ip_header(const struct netstack *s, uint8_t *ip, uint32_t dst,
			uint8_t proto, size_t payload);
void netstack_arp_input(struct netstack *s, const uint8_t *frame, size_t len);
void netstack_udp_input(struct netstack *s, const uint8_t *frame,
			const struct netstack_ip *ip);

#endif
