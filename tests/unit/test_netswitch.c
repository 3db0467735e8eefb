// SPDX-License-Identifier: MIT
/*
 * The built-in learning switch: flooding of unknown, broadcast and multicast
 * destinations, learning from source addresses, the bounded per-port queue,
 * and the UNIX socket that joins switches of two processes (a forked child
 * here, which becomes the hub and echoes what it gets).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/net/net_port.h"
#include "host/net/net_switch.h"

static char dir[64];
static char name[64];

static void setup(void)
{
	strcpy(dir, "/tmp/pvkvm-swtest-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	setenv("PVKVM_SWITCH_DIR", dir, 1);
	snprintf(name, sizeof(name), "t%d", (int)getpid());
}

static void teardown(void)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/pvkvm-switch-%s.sock", dir, name);
	unlink(path); /* only if a failed test left it */
	rmdir(dir);
}

TestSuite(netswitch, .init = setup, .fini = teardown, .timeout = 30);

static struct net_port *open_port(void)
{
	struct net_port *p;
	char err[256];
	cr_assert_eq(net_switch_open(name, 1, &p, err, sizeof(err)), 0, "%s", err);
	return p;
}

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0xa };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0xb };
static const uint8_t MAC_X[6] = { 0x02, 0, 0, 0, 0, 0xee }; /* nobody */
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void send_frame(struct net_port *p, const uint8_t *dst, const uint8_t *src,
		       uint8_t tag, uint32_t len)
{
	uint8_t f[2048];
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	memset(f + 14, tag, len - 14);
	struct net_pkt pkt = { .len = len, .cap = len, .data = f };
	struct net_pkt *one[1] = { &pkt };
	cr_assert_eq(net_port_send(p, one, 1), 1);
}

/* The tag of the next frame waiting on p, or -1 if none. */
static int next_tag(struct net_port *p)
{
	struct net_pkt *in = net_pkt_new(2048);
	int r = net_port_recv(p, 0, in);
	int tag = r > 14 ? in->data[14] : -1;
	net_pkt_free(in);
	return tag;
}

static int wait_tag(struct net_port *p)
{
	for (int i = 0; i < 20000; i++) {
		int t = next_tag(p);
		if (t >= 0)
			return t;
		usleep(100);
	}
	return -1;
}

Test(netswitch, floods_unknown_then_learns)
{
	struct net_port *a = open_port(), *b = open_port(), *c = open_port();
	send_frame(a, MAC_X, MAC_A, 1, 60); /* unknown: to b and c */
	cr_expect_eq(next_tag(b), 1);
	cr_expect_eq(next_tag(c), 1);
	cr_expect_eq(next_tag(a), -1, "never back to the sender");
	send_frame(b, MAC_A, MAC_B, 2, 60); /* A was learned: to a only */
	cr_expect_eq(next_tag(a), 2);
	cr_expect_eq(next_tag(c), -1);
	send_frame(a, MAC_B, MAC_A, 3, 60); /* B was learned too */
	cr_expect_eq(next_tag(b), 3);
	cr_expect_eq(next_tag(c), -1);
	send_frame(c, BCAST, (const uint8_t[6]){ 2, 0, 0, 0, 0, 0xc }, 4, 60);
	cr_expect_eq(next_tag(a), 4);
	cr_expect_eq(next_tag(b), 4);
	cr_expect_eq(next_tag(c), -1);
	/* A moves behind c: the table follows. */
	send_frame(c, MAC_B, MAC_A, 5, 60);
	cr_expect_eq(next_tag(b), 5);
	send_frame(b, MAC_A, MAC_B, 6, 60);
	cr_expect_eq(next_tag(c), 6);
	cr_expect_eq(next_tag(a), -1);
	net_port_close(a);
	net_port_close(b);
	net_port_close(c);
}

Test(netswitch, a_full_queue_drops_and_counts)
{
	struct net_port *a = open_port(), *b = open_port();
	for (unsigned int i = 0; i < NET_SWITCH_QUEUE_LEN + 10; i++)
		send_frame(a, MAC_B, MAC_A, (uint8_t)i, 64);
	cr_expect_eq(net_switch_port_drops(b), 10);
	for (unsigned int i = 0; i < NET_SWITCH_QUEUE_LEN; i++)
		cr_assert_eq(next_tag(b), (int)(uint8_t)i, "frame %u in order", i);
	cr_expect_eq(next_tag(b), -1);
	net_port_close(a);
	net_port_close(b);
}

Test(netswitch, refuses_what_it_cannot_carry)
{
	struct net_port *a = open_port(), *b = open_port();
	uint8_t f[2000] = { 0 };
	memcpy(f, MAC_B, 6);
	memcpy(f + 6, MAC_A, 6);
	struct net_pkt big = { .len = 1519, .cap = 2000, .data = f };
	struct net_pkt gso = { .len = 100, .cap = 2000, .data = f,
			       .vh = { .gso_type = NET_VHDR_GSO_TCPV4, .gso_size = 1000 } };
	struct net_pkt runt = { .len = 13, .cap = 2000, .data = f };
	struct net_pkt *p[3] = { &big, &gso, &runt };
	cr_expect_eq(net_port_send(a, p, 3), 0);
	cr_expect_eq(next_tag(b), -1);
	net_port_close(a);
	net_port_close(b);
}

Test(netswitch, socket_names)
{
	char out[108];
	cr_assert_eq(net_switch_socket_path("lab-1.x_y", out, sizeof(out)), 0);
	char want[128];
	snprintf(want, sizeof(want), "%s/pvkvm-switch-lab-1.x_y.sock", dir);
	cr_expect_str_eq(out, want);
	cr_expect_eq(net_switch_socket_path("/run/me/sw.sock", out, sizeof(out)), 0);
	cr_expect_str_eq(out, "/run/me/sw.sock");
	cr_expect_neq(net_switch_socket_path("", out, sizeof(out)), 0);
	cr_expect_neq(net_switch_socket_path("a b", out, sizeof(out)), 0);
	cr_expect_neq(net_switch_socket_path("..\\x", out, sizeof(out)), 0);
	struct net_port *p;
	char err[256];
	cr_expect_neq(net_switch_open("bad name", 1, &p, err, sizeof(err)), 0);
	cr_expect(strstr(err, "switch=bad name"), "%s", err);
}

/* The child: the hub of `name`, echoing each frame back with the MACs
 * swapped and the tag + 100, until its parent closes the pipe. */
static void child_hub(int ready_fd, int stop_fd)
{
	struct net_port *p;
	char err[256];
	if (net_switch_open(name, 1, &p, err, sizeof(err)))
		_exit(2);
	if (write(ready_fd, "r", 1) != 1)
		_exit(3);
	struct net_pkt *in = net_pkt_new(2048);
	for (;;) {
		char c;
		struct timeval tv = { 0, 1000 };
		fd_set s;
		FD_ZERO(&s);
		FD_SET(stop_fd, &s);
		if (select(stop_fd + 1, &s, NULL, NULL, &tv) > 0 && read(stop_fd, &c, 1) <= 0)
			break;
		while (net_port_recv(p, 0, in) > 14) {
			uint8_t mac[6];
			memcpy(mac, in->data, 6);
			memcpy(in->data, in->data + 6, 6);
			memcpy(in->data + 6, mac, 6);
			in->data[14] = (uint8_t)(in->data[14] + 100);
			struct net_pkt *one[1] = { in };
			net_port_send(p, one, 1);
		}
	}
	net_port_close(p);
	_exit(0);
}

Test(netswitch, two_processes_meet_over_the_socket)
{
	int ready[2], stop[2];
	cr_assert_eq(pipe(ready), 0);
	cr_assert_eq(pipe(stop), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(ready[0]);
		close(stop[1]);
		child_hub(ready[1], stop[0]);
	}
	close(ready[1]);
	close(stop[0]);
	char c;
	cr_assert_eq(read(ready[0], &c, 1), 1, "the child became the hub");
	char path[256];
	snprintf(path, sizeof(path), "%s/pvkvm-switch-%s.sock", dir, name);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "the hub's socket exists");
	struct net_port *a = open_port(); /* joins the child's hub */
	int got[3];
	for (int i = 0; i < 3; i++) {
		send_frame(a, i == 0 ? BCAST : MAC_B, MAC_A, (uint8_t)(10 + i), 60 + 500 * i);
		got[i] = wait_tag(a);
	}
	net_port_close(a);
	close(stop[1]);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (int i = 0; i < 3; i++)
		cr_expect_eq(got[i], 110 + i, "echo %d", i);
	cr_expect_neq(stat(path, &st), 0, "the hub removed its socket");
	close(ready[0]);
}
