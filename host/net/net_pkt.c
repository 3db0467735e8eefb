// SPDX-License-Identifier: MIT
/* Frame buffers, checksums, flow hashes and MAC strings shared by the NIC
 * models and the ports. */
#include "host/net/net_port.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct net_pkt *net_pkt_new(uint32_t cap)
{
	struct net_pkt *p = calloc(1, sizeof(*p) + cap);
	if (!p)
		return NULL;
	p->cap = cap;
	p->data = (uint8_t *)(p + 1);
	return p;
}

void net_pkt_free(struct net_pkt *pkt)
{
	free(pkt);
}

/* One's-complement sum of 16-bit big-endian words, not yet folded. */
static uint32_t csum_add(uint32_t sum, const uint8_t *b, uint32_t len)
{
	uint32_t i = 0;
	for (; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (i < len)
		sum += (uint32_t)b[i] << 8;
	return sum;
}

bool net_pkt_complete_csum(struct net_pkt *pkt)
{
	if (!(pkt->vh.flags & NET_VHDR_F_NEEDS_CSUM))
		return true;
	uint32_t start = pkt->vh.csum_start;
	uint32_t field = start + pkt->vh.csum_offset;
	if (start >= pkt->len || field + 2 > pkt->len)
		return false;
	/* The field holds the pseudo-header sum the sender left there: it is
	 * summed with the rest, as the hardware would. */
	uint32_t sum = csum_add(0, pkt->data + start, pkt->len - start);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	uint16_t c = (uint16_t)~sum;
	/* UDP sends a computed 0 as 0xffff (0 means "no checksum"); TCP
	 * receivers accept either. */
	if (c == 0)
		c = 0xffff;
	pkt->data[field] = (uint8_t)(c >> 8);
	pkt->data[field + 1] = (uint8_t)c;
	pkt->vh.flags = (uint8_t)((pkt->vh.flags & ~NET_VHDR_F_NEEDS_CSUM) |
				  NET_VHDR_F_DATA_VALID);
	return true;
}

uint32_t net_flow_hash(const uint8_t *frame, uint32_t len)
{
	/* FNV-1a over the MACs and, for IPv4, the addresses: cheap and
	 * symmetric enough for spreading flows. */
	uint32_t h = 2166136261u;
	uint32_t n = len < 12 ? len : 12;
	for (uint32_t i = 0; i < n; i++)
		h = (h ^ frame[i]) * 16777619u;
	if (len >= 34 && frame[12] == 0x08 && frame[13] == 0x00)
		for (uint32_t i = 26; i < 34; i++)
			h = (h ^ frame[i]) * 16777619u;
	return h;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int net_parse_mac(const char *s, size_t len, uint8_t mac[6])
{
	if (len != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[i * 3]), lo = hexval(s[i * 3 + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void net_format_mac(const uint8_t mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
}
