/* SPDX-License-Identifier: MIT */
/*
 * A network namespace with a TAP inside it, for tests that need a real
 * Linux peer: the namespace is created, the TAP is opened (created: the
 * tests run as root) in ours and moved into it with 10.77.0.1/24, up.
 * Removed by net_ns_cleanup(), which the caller runs from its fini and
 * which is also registered with atexit() for runners that exit on a failed
 * assert; namespaces left by a killed run are removed at the next start.
 */
#ifndef PVKVM_TEST_NET_NS_H
#define PVKVM_TEST_NET_NS_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/net/net_port.h"
#include "host/net/net_tap.h"

#define NET_NS_PREFIX "pvkvm-nstest-"

static char net_ns_name[64], net_ns_tap[16];
static bool net_ns_made;

__attribute__((format(printf, 1, 2))) static int net_ns_sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	strncat(cmd, " >/dev/null 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	return system(cmd);
}

__attribute__((unused)) static void net_ns_cleanup(void)
{
	if (net_ns_made)
		net_ns_sh("ip netns del %s", net_ns_name); /* takes the TAP with it */
	net_ns_made = false;
}

static void net_ns_remove_stale(void)
{
	DIR *d = opendir("/run/netns");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, NET_NS_PREFIX, strlen(NET_NS_PREFIX)))
			continue;
		pid_t pid = (pid_t)atoi(e->d_name + strlen(NET_NS_PREFIX));
		if (pid > 0 && kill(pid, 0) < 0 && errno == ESRCH)
			net_ns_sh("ip netns del %s", e->d_name);
	}
	closedir(d);
}

/* Skips the test without root or iproute2; else makes the namespace and
 * its TAP, with queues descriptors, into *port. */
__attribute__((unused)) static void net_ns_setup(unsigned int queues, struct net_port **port)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to create a network namespace and a TAP");
	if (access("/dev/net/tun", R_OK | W_OK) || net_ns_sh("command -v ip"))
		cr_skip_test("needs /dev/net/tun and iproute2 (scripts/deps.sh)");
	net_ns_remove_stale();
	snprintf(net_ns_name, sizeof(net_ns_name), NET_NS_PREFIX "%d", (int)getpid());
	snprintf(net_ns_tap, sizeof(net_ns_tap), "pvt%d", (int)getpid() % 1000000);
	atexit(net_ns_cleanup);
	cr_assert_eq(net_ns_sh("ip netns add %s", net_ns_name), 0);
	net_ns_made = true;
	char err[256];
	cr_assert_eq(net_tap_open(net_ns_tap, queues, port, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(net_ns_sh("ip link set %s netns %s", net_ns_tap, net_ns_name), 0);
	cr_assert_eq(net_ns_sh("ip -n %s addr add 10.77.0.1/24 dev %s", net_ns_name,
			       net_ns_tap), 0);
	cr_assert_eq(net_ns_sh("ip -n %s link set %s up", net_ns_name, net_ns_tap), 0);
	cr_assert_eq(net_ns_sh("ip -n %s link set lo up", net_ns_name), 0);
}

/* A socket made inside the namespace (it stays there). */
__attribute__((unused)) static int net_ns_socket(int domain, int type, int proto)
{
	char path[128];
	snprintf(path, sizeof(path), "/run/netns/%s", net_ns_name);
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int target = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(self >= 0 && target >= 0);
	cr_assert_eq(setns(target, CLONE_NEWNET), 0);
	int fd = socket(domain, type, proto);
	cr_assert_eq(setns(self, CLONE_NEWNET), 0);
	close(self);
	close(target);
	cr_assert_geq(fd, 0);
	return fd;
}

#endif
