// SPDX-License-Identifier: MIT
/*
 * pvkern's network stack (guest-drivers/pvkern/netstack*.c) on the host,
 * over a fake interface: frames are fed in, what the stack sends is
 * captured. What it answers (ARP, ICMP echo), what it hands up (UDP),
 * what it builds (checksums checked here by an independent sum) and what
 * it refuses (bad checksums, short and lying headers, fragments) are
 * checked byte by byte. The end-to-end tests (tests/e2e/test_net.c) check
 * the same stack against Linux's.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "guest-drivers/pvkern/netstack.c"
#include "guest-drivers/pvkern/netstack_arp.c"
#include "guest-drivers/pvkern/netstack_udp.c"

/* ---- what the stack needs from pvkern, faked ---------------------------------- */

#define MAXQ 16

static struct {
	uint8_t in[MAXQ][NET_MAX_FRAME];
	size_t in_len[MAXQ];
	unsigned int in_head, in_tail;
	uint8_t out[MAXQ][NET_MAX_FRAME];
	size_t out_len[MAXQ];
	unsigned int nr_out;
	uint64_t clock;
	bool answer_arp; /* a peer on the wire answers our ARP requests */
} W;

static const uint8_t our_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };
static const uint8_t peer_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
#define OUR_IP 0x0a000002u
#define PEER_IP 0x0a000001u

uint64_t now_ns(void) { return W.clock += 1000; }

bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!*s)
		return false;
	*out = strtoull(s, &end, 10);
	return *end == '\0';
}

static void put_frame(const void *f, size_t len)
{
	cr_assert(W.in_tail - W.in_head < MAXQ);
	memcpy(W.in[W.in_tail % MAXQ], f, len);
	W.in_len[W.in_tail++ % MAXQ] = len;
}

static void peer_arp_reply(void);

int net_send_now(struct net_dev *d, const void *frame, size_t len, uint64_t deadline)
{
	(void)d;
	(void)deadline;
	cr_assert(len >= NET_MIN_FRAME && len <= NET_MAX_FRAME, "sent a %zu-byte frame", len);
	cr_assert(W.nr_out < MAXQ);
	memcpy(W.out[W.nr_out], frame, len);
	W.out_len[W.nr_out++] = len;
	if (W.answer_arp && net_be16((const uint8_t *)frame + 12) == ETH_P_ARP)
		peer_arp_reply();
	return 0;
}

int net_recv(struct net_dev *d, void *buf, size_t cap)
{
	(void)d;
	if (W.in_head == W.in_tail)
		return 0;
	size_t n = W.in_len[W.in_head % MAXQ];
	cr_assert(n <= cap);
	memcpy(buf, W.in[W.in_head++ % MAXQ], n);
	return (int)n;
}

int net_wait(struct net_dev *d, uint64_t deadline)
{
	(void)d;
	W.clock += 10000000; /* time passes while "asleep" */
	return W.clock > deadline ? -PVKVM_ETIMEDOUT : 0;
}

/* ---- frames, built here independently --------------------------------------------- */

static uint16_t sum16(const uint8_t *p, size_t n, uint64_t acc)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint64_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		acc += (uint64_t)p[n - 1] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

static uint16_t udp_sum(const uint8_t *ip)
{
	size_t len = (size_t)(ip[2] << 8 | ip[3]) - 20;
	uint64_t acc = (uint64_t)(ip[12] << 8 | ip[13]) + (ip[14] << 8 | ip[15]) +
		       (ip[16] << 8 | ip[17]) + (ip[18] << 8 | ip[19]) + 17 + len;
	return sum16(ip + 20, len, acc);
}

static size_t eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	return 14;
}

static size_t ipv4(uint8_t *ip, uint32_t src, uint32_t dst, uint8_t proto, size_t payload)
{
	memset(ip, 0, 20);
	ip[0] = 0x45;
	net_put_be16(ip + 2, (uint16_t)(20 + payload));
	ip[8] = 64;
	ip[9] = proto;
	net_put_be32(ip + 12, src);
	net_put_be32(ip + 16, dst);
	net_put_be16(ip + 10, sum16(ip, 20, 0));
	return 20;
}

static size_t arp_frame(uint8_t *f, uint16_t op, const uint8_t *smac, uint32_t sip,
			uint32_t tip)
{
	static const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t *a = f + eth(f, op == 1 ? bc : our_mac, smac, ETH_P_ARP);

	net_put_be16(a, 1);
	net_put_be16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	net_put_be16(a + 6, op);
	memcpy(a + 8, smac, 6);
	net_put_be32(a + 14, sip);
	memset(a + 18, 0, 6);
	net_put_be32(a + 24, tip);
	return 14 + 28;
}

static void peer_arp_reply(void)
{
	uint8_t f[64];
	size_t n = arp_frame(f, 2, peer_mac, PEER_IP, OUR_IP);

	put_frame(f, n);
}

static size_t udp_frame(uint8_t *f, uint16_t sport, uint16_t dport, const void *data,
			size_t len, bool with_sum)
{
	size_t off = eth(f, our_mac, peer_mac, ETH_P_IP);
	uint8_t *ip = f + off;

	ipv4(ip, PEER_IP, OUR_IP, 17, 8 + len);
	uint8_t *u = ip + 20;
	net_put_be16(u, sport);
	net_put_be16(u + 2, dport);
	net_put_be16(u + 4, (uint16_t)(8 + len));
	net_put_be16(u + 6, 0);
	memcpy(u + 8, data, len);
	if (with_sum) {
		uint16_t s = udp_sum(ip);
		net_put_be16(u + 6, s ? s : 0xffff);
	}
	return off + 20 + 8 + len;
}

/* ---- fixture ------------------------------------------------------------------------- */

static struct net_dev D;
static struct netstack S;
static struct { uint32_t ip; uint16_t sport, dport; uint8_t data[2048]; size_t len; int n; } U;

static void on_udp(struct netstack *s, uint32_t ip, uint16_t sport, uint16_t dport,
		   const uint8_t *data, size_t len, void *arg)
{
	(void)s;
	(void)arg;
	U.ip = ip, U.sport = sport, U.dport = dport, U.len = len, U.n++;
	memcpy(U.data, data, len);
}

static void setup(void)
{
	memset(&W, 0, sizeof(W));
	memset(&U, 0, sizeof(U));
	memset(&D, 0, sizeof(D));
	memcpy(D.info.mac, our_mac, 6);
	cr_assert_eq(netstack_init(&S, &D, "10.0.0.2/24"), 0);
	netstack_on_udp(&S, on_udp, NULL);
}

TestSuite(netstack, .init = setup);

Test(netstack, parses_addresses)
{
	uint32_t ip, p;

	cr_assert(netstack_parse_ipv4("10.0.0.2/24", &ip, &p));
	cr_assert_eq(ip, 0x0a000002u);
	cr_assert_eq(p, 24);
	cr_assert(netstack_parse_ipv4("255.255.255.255", &ip, &p) && p == 32);
	cr_assert_not(netstack_parse_ipv4("256.0.0.1", &ip, &p));
	cr_assert_not(netstack_parse_ipv4("10.0.0", &ip, &p));
	cr_assert_not(netstack_parse_ipv4("10.0.0.1/33", &ip, &p));
	cr_assert_not(netstack_parse_ipv4("10.0.0.1x", &ip, &p));
	cr_assert_not(netstack_parse_ipv4("1111.0.0.1", &ip, &p));
	cr_assert_eq(S.mask, 0xffffff00u);
}

Test(netstack, answers_an_arp_request_for_its_address)
{
	uint8_t f[64];
	size_t n = arp_frame(f, 1, peer_mac, PEER_IP, OUR_IP);

	netstack_input(&S, f, n);
	cr_assert_eq(W.nr_out, 1);
	const uint8_t *r = W.out[0], *a = r + 14;
	cr_assert_eq(W.out_len[0], 60, "padded to the Ethernet minimum");
	cr_assert_arr_eq(r, peer_mac, 6);
	cr_assert_arr_eq(r + 6, our_mac, 6);
	cr_assert_eq(net_be16(r + 12), ETH_P_ARP);
	cr_assert_eq(net_be16(a + 6), 2, "a reply");
	cr_assert_arr_eq(a + 8, our_mac, 6);
	cr_assert_eq(net_be32(a + 14), OUR_IP);
	cr_assert_arr_eq(a + 18, peer_mac, 6);
	cr_assert_eq(net_be32(a + 24), PEER_IP);
	cr_assert_eq(S.counters.arp_requests_answered, 1);
}

Test(netstack, ignores_arp_for_other_addresses_and_malformed_arp)
{
	uint8_t f[64];
	size_t n = arp_frame(f, 1, peer_mac, PEER_IP, 0x0a000063u);

	netstack_input(&S, f, n);
	n = arp_frame(f, 1, peer_mac, PEER_IP, OUR_IP);
	f[14 + 4] = 8; /* hardware address length */
	netstack_input(&S, f, n);
	netstack_input(&S, f, 30); /* cut short */
	cr_assert_eq(W.nr_out, 0);
	cr_assert_eq(S.counters.malformed, 2);
}

Test(netstack, replies_to_ping_with_the_same_payload)
{
	uint8_t f[200];
	size_t off = eth(f, our_mac, peer_mac, ETH_P_IP);
	uint8_t *icmp = f + off + 20;
	size_t len = 8 + 56;

	ipv4(f + off, PEER_IP, OUR_IP, 1, len);
	memset(icmp, 0, len);
	icmp[0] = 8;
	net_put_be16(icmp + 4, 0x1234);
	net_put_be16(icmp + 6, 7);
	for (size_t i = 8; i < len; i++)
		icmp[i] = (uint8_t)i;
	net_put_be16(icmp + 2, sum16(icmp, len, 0));
	netstack_input(&S, f, off + 20 + len);

	cr_assert_eq(W.nr_out, 1);
	const uint8_t *r = W.out[0], *rip = r + 14, *ricmp = rip + 20;
	cr_assert_arr_eq(r, peer_mac, 6);
	cr_assert_eq(net_be32(rip + 12), OUR_IP);
	cr_assert_eq(net_be32(rip + 16), PEER_IP);
	cr_assert_eq(sum16(rip, 20, 0), 0, "IP header checksum");
	cr_assert_eq(ricmp[0], 0, "echo reply");
	cr_assert_eq(sum16(ricmp, len, 0), 0, "ICMP checksum");
	cr_assert_arr_eq(ricmp + 4, icmp + 4, len - 4, "id, sequence and data echoed");

	/* A corrupted request gets nothing. */
	icmp[20] ^= 1;
	netstack_input(&S, f, off + 20 + len);
	cr_assert_eq(W.nr_out, 1);
	cr_assert_eq(S.counters.bad_checksum, 1);
}

Test(netstack, hands_up_udp_with_good_or_no_checksum_and_drops_bad)
{
	uint8_t f[1600], data[1472];
	size_t n;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	n = udp_frame(f, 5555, 7, data, sizeof(data), true);
	cr_assert_eq(n, 1514);
	netstack_input(&S, f, n);
	cr_assert_eq(U.n, 1);
	cr_assert_eq(U.ip, PEER_IP);
	cr_assert_eq(U.sport, 5555);
	cr_assert_eq(U.dport, 7);
	cr_assert_eq(U.len, sizeof(data));
	cr_assert_arr_eq(U.data, data, sizeof(data));

	n = udp_frame(f, 5555, 7, data, 10, false); /* checksum 0: none sent */
	netstack_input(&S, f, n);
	cr_assert_eq(U.n, 2);

	n = udp_frame(f, 5555, 7, data, 100, true);
	f[14 + 20 + 8 + 50] ^= 0x40;
	netstack_input(&S, f, n);
	cr_assert_eq(U.n, 2, "a corrupted datagram was handed up");
	cr_assert_eq(S.counters.bad_checksum, 1);
}

Test(netstack, refuses_lying_headers_fragments_and_strangers)
{
	uint8_t f[200], data[32] = { 0 };
	size_t n = udp_frame(f, 1, 2, data, sizeof(data), true);
	uint8_t *ip = f + 14;

	netstack_input(&S, f, 10);                 /* shorter than Ethernet */
	netstack_input(&S, f, 14 + 19);            /* shorter than IP */
	uint8_t g[200];
	memcpy(g, f, n);
	net_put_be16(g + 14 + 2, 180);             /* total length beyond the frame */
	netstack_input(&S, g, n);
	memcpy(g, f, n);
	g[14] = 0x44;                              /* IHL 4 */
	netstack_input(&S, g, n);
	memcpy(g, f, n);
	net_put_be16(g + 14 + 6, 0x2000);          /* more fragments */
	net_put_be16(g + 14 + 10, 0);
	net_put_be16(g + 14 + 10, sum16(g + 14, 20, 0));
	netstack_input(&S, g, n);
	memcpy(g, f, n);
	net_put_be16(g + 14 + 20 + 4, 200);        /* UDP length beyond IP's */
	netstack_input(&S, g, n);
	cr_assert_eq(U.n, 0);
	cr_assert_eq(W.nr_out, 0);
	cr_assert_eq(S.counters.malformed, 6);

	net_put_be32(ip + 16, 0x0a000009u);        /* not our address */
	net_put_be16(ip + 10, 0);
	net_put_be16(ip + 10, sum16(ip, 20, 0));
	netstack_input(&S, f, n);
	cr_assert_eq(U.n, 0);
	cr_assert_eq(S.counters.not_for_us, 1);
}

Test(netstack, builds_udp_that_an_independent_sum_accepts)
{
	static uint8_t f[NET_MAX_FRAME], payload[NETSTACK_UDP_MAX_PAYLOAD];

	for (size_t len = 0; len <= NETSTACK_UDP_MAX_PAYLOAD; len += 37) {
		for (size_t i = 0; i < len; i++)
			payload[i] = (uint8_t)(len + i * 3);
		size_t n = netstack_build_udp(&S, f, peer_mac, PEER_IP, 4000, 9, payload, len);
		cr_assert_eq(n, 42 + len);
		const uint8_t *ip = f + 14;
		cr_assert_eq(sum16(ip, 20, 0), 0, "IP checksum at %zu", len);
		cr_assert_eq(net_be16(ip + 2), 28 + len);
		cr_assert_neq(net_be16(ip + 20 + 6), 0, "0 means no checksum");
		cr_assert_eq(udp_sum(ip), 0, "UDP checksum at %zu bytes", len);
		cr_assert_arr_eq(ip + 28, payload, len);
	}
}

Test(netstack, resolves_by_arp_and_then_sends_udp)
{
	uint8_t mac[6];

	W.answer_arp = true;
	cr_assert_eq(netstack_resolve(&S, PEER_IP, mac, now_ns() + 1000000000ull), 0);
	cr_assert_arr_eq(mac, peer_mac, 6);
	cr_assert_eq(S.counters.arp_requests_sent, 1);
	cr_assert_eq(S.counters.arp_replies_learned, 1);
	cr_assert_eq(netstack_udp_send(&S, PEER_IP, 1000, 2000, "hello", 5, 0), 0);
	cr_assert_eq(W.nr_out, 2, "no second ARP round: the answer was cached");
	cr_assert_arr_eq(W.out[1], peer_mac, 6);
	cr_assert_eq(udp_sum(W.out[1] + 14), 0);
}

Test(netstack, resolve_gives_up_at_its_deadline)
{
	uint8_t mac[6];

	cr_assert_eq(netstack_resolve(&S, PEER_IP, mac, now_ns() + 500000000ull),
		     -PVKVM_ETIMEDOUT);
	cr_assert_geq(S.counters.arp_requests_sent, 2, "it retries before giving up");
}
