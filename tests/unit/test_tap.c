// SPDX-License-Identifier: MIT
/*
 * The TAP port against a real Linux network stack: the test creates a
 * network namespace, opens (creates) a TAP, moves it into the namespace
 * with an address, and talks to the kernel through it: an ARP request from
 * the port is answered by the kernel's ARP, a UDP frame from the port
 * reaches a UDP socket in the namespace (also with its checksum left to
 * the offload), and the socket's reply comes back out of the port.
 * The namespace and the TAP are removed at the end, also when a test fails
 * (fini, and an atexit handler for runners that exit on a failed assert);
 * namespaces left by a killed run are removed at the next start.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "host/net/net_port.h"
#include "host/net/net_tap.h"
#include "tests/unit/net_ns.h"

static struct net_port *port;

static const uint8_t OUR_MAC[6] = { 0x02, 0x50, 0x56, 0x00, 0x00, 0x02 };
static const uint8_t OUR_IP[4] = { 10, 77, 0, 2 };
static const uint8_t NS_IP[4] = { 10, 77, 0, 1 };

static void cleanup(void)
{
	net_port_close(port); /* a TAP we created goes with its descriptor */
	port = NULL;
	net_ns_cleanup();
}

static void setup(void)
{
	net_ns_setup(1, &port);
	atexit(cleanup);
}

static void teardown(void)
{
	cleanup();
}

TestSuite(tap, .init = setup, .fini = teardown, .timeout = 30);

#define socket_in_ns net_ns_socket

static void send_pkt(const uint8_t *f, uint32_t len, const struct net_vhdr *vh)
{
	struct net_pkt p = { .len = len, .cap = len, .data = (uint8_t *)f };
	if (vh)
		p.vh = *vh;
	struct net_pkt *one[1] = { &p };
	cr_assert_eq(net_port_send(port, one, 1), 1);
}

/* Waits for a frame from the namespace for which want() holds; the
 * kernel's other traffic (IPv6 neighbour discovery ...) is skipped. */
static int recv_matching(struct net_pkt *in, bool (*want)(const struct net_pkt *))
{
	for (int i = 0; i < 3000; i++) {
		in->cap = 2048;
		int r = net_port_recv(port, 0, in);
		if (r > 0 && want(in))
			return r;
		if (r <= 0)
			usleep(1000);
	}
	return -1;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t csum(uint32_t sum, const uint8_t *b, uint32_t len)
{
	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += be16(b + i);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static bool is_arp_reply(const struct net_pkt *p)
{
	return p->len >= 42 && be16(p->data + 12) == 0x0806 && be16(p->data + 20) == 2 &&
	       !memcmp(p->data + 32, OUR_MAC, 6);
}

static void arp_request(void)
{
	uint8_t f[42];
	memset(f, 0xff, 6);
	memcpy(f + 6, OUR_MAC, 6);
	put16(f + 12, 0x0806);
	put16(f + 14, 1);
	put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, 1);
	memcpy(f + 22, OUR_MAC, 6);
	memcpy(f + 28, OUR_IP, 4);
	memset(f + 32, 0, 6);
	memcpy(f + 38, NS_IP, 4);
	send_pkt(f, sizeof(f), NULL);
}

Test(tap, the_kernel_answers_our_arp)
{
	arp_request();
	struct net_pkt *in = net_pkt_new(2048);
	cr_assert_gt(recv_matching(in, is_arp_reply), 0, "an ARP reply came out of the TAP");
	cr_expect_eq(memcmp(in->data, OUR_MAC, 6), 0, "addressed to us");
	cr_expect_eq(memcmp(in->data + 28, NS_IP, 4), 0, "for 10.77.0.1");
	net_pkt_free(in);
}

/* A UDP/IPv4 frame from us to 10.77.0.1:9000; with blank set, the UDP
 * checksum is left to the offload (pseudo-header sum in the field). */
static uint32_t udp_frame(uint8_t *f, const uint8_t *ns_mac, const char *msg, bool blank)
{
	uint32_t plen = (uint32_t)strlen(msg), ulen = 8 + plen, iplen = 20 + ulen;
	memcpy(f, ns_mac, 6);
	memcpy(f + 6, OUR_MAC, 6);
	put16(f + 12, 0x0800);
	uint8_t *ip = f + 14, *udp = ip + 20;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)iplen);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, OUR_IP, 4);
	memcpy(ip + 16, NS_IP, 4);
	put16(ip + 10, (uint16_t)~csum(0, ip, 20));
	put16(udp, 9001);
	put16(udp + 2, 9000);
	put16(udp + 4, (uint16_t)ulen);
	put16(udp + 6, 0);
	memcpy(udp + 8, msg, plen);
	uint32_t pseudo = be16(ip + 12) + be16(ip + 14) + be16(ip + 16) + be16(ip + 18) + 17 + ulen;
	if (blank) {
		put16(udp + 6, csum(pseudo, NULL, 0));
	} else {
		uint16_t c = (uint16_t)~csum(pseudo, udp, ulen);
		put16(udp + 6, c ? c : 0xffff);
	}
	return 14 + iplen;
}

static bool is_udp_reply(const struct net_pkt *p)
{
	return p->len >= 42 && be16(p->data + 12) == 0x0800 && p->data[23] == 17 &&
	       be16(p->data + 36) == 9001;
}

static void udp_round_trip(bool blank)
{
	int s = socket_in_ns(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9000) };
	memcpy(&a.sin_addr, NS_IP, 4);
	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	struct timeval tv = { 3, 0 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* ARP first: the reply gives us the namespace's MAC, and the kernel
	 * learns ours from the request. */
	arp_request();
	struct net_pkt *in = net_pkt_new(2048);
	cr_assert_gt(recv_matching(in, is_arp_reply), 0);
	uint8_t ns_mac[6];
	memcpy(ns_mac, in->data + 22, 6);
	uint8_t f[200];
	const char *msg = blank ? "offloaded checksum" : "hello from the port";
	uint32_t len = udp_frame(f, ns_mac, msg, blank);
	struct net_vhdr vh = { .flags = NET_VHDR_F_NEEDS_CSUM, .csum_start = 34,
			       .csum_offset = 6 };
	send_pkt(f, len, blank ? &vh : NULL);
	char buf[100] = { 0 };
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(s, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &fl);
	cr_assert_eq(n, (ssize_t)strlen(msg), "the UDP socket in the namespace got it");
	cr_expect_str_eq(buf, msg);
	cr_expect_eq(ntohs(from.sin_port), 9001);
	/* and back: the reply leaves the namespace through the TAP */
	cr_assert_eq(sendto(s, "pong!", 5, 0, (struct sockaddr *)&from, fl), 5);
	cr_assert_gt(recv_matching(in, is_udp_reply), 0, "the reply came out of the TAP");
	cr_expect_eq(memcmp(in->data, OUR_MAC, 6), 0);
	cr_expect_eq(memcmp(in->data + 42, "pong!", 5), 0);
	/* No receive offload was asked for: the checksum is complete. */
	cr_expect_eq(in->vh.flags & NET_VHDR_F_NEEDS_CSUM, 0);
	const uint8_t *ip = in->data + 14;
	uint32_t ulen = be16(ip + 24);
	uint32_t pseudo = be16(ip + 12) + be16(ip + 14) + be16(ip + 16) + be16(ip + 18) + 17 + ulen;
	cr_expect_eq(csum(pseudo, ip + 20, ulen), 0xffff, "the reply's UDP checksum verifies");
	net_pkt_free(in);
	close(s);
}

Test(tap, udp_reaches_a_socket_in_the_namespace_and_back)
{
	udp_round_trip(false);
}

Test(tap, a_blank_checksum_is_completed_by_the_offload)
{
	udp_round_trip(true);
}

Test(tap, a_raw_socket_in_the_namespace_sees_our_frame)
{
	int s = socket_in_ns(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(0x88b5));
	struct timeval tv = { 3, 0 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	uint8_t f[300];
	memset(f, 0xff, 6);
	memcpy(f + 6, OUR_MAC, 6);
	put16(f + 12, 0x88b5);
	for (unsigned int i = 14; i < sizeof(f); i++)
		f[i] = (uint8_t)(i * 5);
	send_pkt(f, sizeof(f), NULL);
	uint8_t got[400];
	ssize_t n = recv(s, got, sizeof(got), 0);
	cr_assert_eq(n, (ssize_t)sizeof(f));
	cr_expect_eq(memcmp(got, f, sizeof(f)), 0);
	close(s);
}

Test(tap, an_existing_tap_is_attached_and_left_in_place)
{
	char name[16], err[256];
	snprintf(name, sizeof(name), "pvp%d", (int)getpid() % 1000000);
	cr_assert_eq(net_ns_sh("ip tuntap add %s mode tap vnet_hdr", name), 0);
	struct net_port *p;
	int rc = net_tap_open(name, 1, &p, err, sizeof(err));
	if (rc == 0)
		net_port_close(p);
	bool still = net_ns_sh("ip link show %s", name) == 0;
	net_ns_sh("ip tuntap del %s mode tap", name);
	cr_assert_eq(rc, 0, "%s", err);
	cr_expect(still, "the user's TAP is still there after close");
	cr_expect_neq(net_tap_open("this-name-is-too-long", 1, &p, err, sizeof(err)), 0);
}

Test(tap, a_multi_queue_tap_has_a_descriptor_per_queue_and_goes_with_them)
{
	char name[16], err[256];
	snprintf(name, sizeof(name), "pvq%d", (int)getpid() % 1000000);
	struct net_port *p;
	cr_assert_eq(net_tap_open(name, 4, &p, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(p->nr_queues, 4);
	bool distinct = true;
	for (unsigned int i = 1; i < 4; i++)
		distinct &= net_port_rx_fd(p, i) != net_port_rx_fd(p, 0);
	bool there = net_ns_sh("ip link show %s", name) == 0;
	net_port_close(p);
	cr_expect(distinct);
	cr_expect(there, "created");
	cr_expect_neq(net_ns_sh("ip link show %s", name), 0, "removed with its descriptors");
}
