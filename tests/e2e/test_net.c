// SPDX-License-Identifier: MIT
/*
 * End-to-end networking: pvkern's udpecho and netverify under build/pvkvm
 * on the real /dev/kvm, against the real Linux network stack.
 *
 * TAP tests: the test creates a network namespace and a TAP inside it
 * (vnet_hdr, address 10.0.0.1/24, up), runs pvkvm in that namespace
 * (`ip netns exec`) attached to the TAP in mode pv, fv, fv-dma or sync, and from
 * the namespace pings the guest (10.0.0.2) and sends UDP datagrams that
 * must come back byte for byte. Deleting the namespace removes the TAP;
 * that runs in the test's fini, so also when an assertion failed.
 *
 * Switch tests: two guests on the built-in switch. pvkvm runs one VM per
 * process, so "two guests" are two pvkvm processes joined through the
 * switch's UNIX socket (in a private PVKVM_SWITCH_DIR): one runs udpecho,
 * the other netverify, which checks every datagram's echo. Within one
 * process the switch is exercised by one VM with two NICs on it (netverify
 * echo_nic=1: the guest echoes on its second NIC what its first sends).
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "pvkvm_run.h"

#define GUEST_IP "10.0.0.2"
#define HOST_CIDR "10.0.0.1/24"
#define ECHO_PORT 7
#define CHILD_LIMIT_S 40

static char ns_name[64];
static char tap_name[16];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* ---- a pvkvm child running in the background -------------------------------- */

struct child {
	pid_t pid;
	char log[128];
};

static void start_child(struct child *c, char *const argv[], const char *tag)
{
	snprintf(c->log, sizeof(c->log), "/tmp/pvkvm-test-net-%d-%s.log",
		 (int)getpid(), tag);
	c->pid = fork();
	cr_assert(c->pid >= 0, "fork: %s", strerror(errno));
	if (c->pid == 0) {
		int fd = open(c->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0)
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		alarm(CHILD_LIMIT_S); /* a hung guest ends here, not the suite */
		execv(argv[0], argv);
		_exit(127);
	}
}

static char *read_log(const struct child *c)
{
	static char buf[RUN_OUT_MAX];
	FILE *f = fopen(c->log, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

/* Waits for `what` in the child's output: true once it is there. */
static bool wait_for_line(const struct child *c, const char *what, double secs)
{
	for (int i = 0; i < (int)(secs * 20); i++) {
		if (strstr(read_log(c), what))
			return true;
		if (waitpid(c->pid, NULL, WNOHANG) == c->pid)
			return strstr(read_log(c), what) != NULL;
		usleep(50000);
	}
	return false;
}

/* The child's exit status (128 + signal), after at most secs. */
static int finish_child(struct child *c, double secs)
{
	int st = 0;

	for (int i = 0; i < (int)(secs * 20); i++) {
		if (waitpid(c->pid, &st, WNOHANG) == c->pid)
			goto done;
		usleep(50000);
	}
	kill(c->pid, SIGKILL);
	waitpid(c->pid, &st, 0);
done:
	c->pid = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void kill_child(struct child *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
		c->pid = 0;
	}
	unlink(c->log);
}

/* ---- the namespace and its TAP ------------------------------------------------- */

/* A test killed by its timeout never reaches fini: its namespace (and the
 * TAP in it) is removed by the next run, once its pid is gone. */
static void remove_stale_namespaces(void)
{
	FILE *p = popen("ip netns list 2>/dev/null | grep -o 'pvkvm-tnet-[0-9]*'", "r");
	char name[64];

	while (p && fgets(name, sizeof(name), p)) {
		int pid = atoi(name + strlen("pvkvm-tnet-"));

		name[strcspn(name, "\n")] = '\0';
		if (pid > 0 && kill(pid, 0) && errno == ESRCH)
			sh("ip netns del %s 2>/dev/null", name);
	}
	if (p)
		pclose(p);
}

static void make_namespace(void)
{
	require_platform();
	if (geteuid() != 0)
		cr_skip_test("needs root for network namespaces and TAP devices");
	if (access("/dev/net/tun", R_OK | W_OK))
		cr_skip_test("no /dev/net/tun");
	remove_stale_namespaces();
	snprintf(ns_name, sizeof(ns_name), "pvkvm-tnet-%d", (int)getpid());
	snprintf(tap_name, sizeof(tap_name), "pvt%d", (int)getpid() % 100000);
	sh("ip netns del %s 2>/dev/null", ns_name);
	cr_assert_eq(sh("ip netns add %s", ns_name), 0, "ip netns add failed");
	cr_assert_eq(sh("ip -n %s tuntap add %s mode tap vnet_hdr", ns_name, tap_name), 0);
	cr_assert_eq(sh("ip -n %s addr add %s dev %s", ns_name, HOST_CIDR, tap_name), 0);
	cr_assert_eq(sh("ip -n %s link set lo up", ns_name), 0);
	cr_assert_eq(sh("ip -n %s link set %s up", ns_name, tap_name), 0);
}

/* Runs in fini: also after a failed assertion. The TAP lives in the
 * namespace and goes with it. */
static void remove_namespace(void)
{
	if (ns_name[0]) {
		sh("ip netns del %s 2>/dev/null", ns_name);
		sh("ip link del %s 2>/dev/null", tap_name);
	}
}

/* A UDP socket created inside the namespace (a socket stays in the
 * namespace it was made in after we return to ours). */
static int ns_udp_socket(void)
{
	char path[128];
	int self = open("/proc/self/ns/net", O_RDONLY);
	int fd;

	snprintf(path, sizeof(path), "/var/run/netns/%s", ns_name);
	fd = open(path, O_RDONLY);
	cr_assert(self >= 0 && fd >= 0, "cannot open the namespaces");
	cr_assert_eq(setns(fd, CLONE_NEWNET), 0, "setns: %s", strerror(errno));
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_eq(setns(self, CLONE_NEWNET), 0);
	close(fd);
	close(self);
	cr_assert(s >= 0);
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return s;
}

static void start_echo_guest(struct child *c, const char *mode)
{
	char net[96], *argv[16];
	int i = 0;

	snprintf(net, sizeof(net), "tap=%s,mode=%s", tap_name, mode);
	argv[i++] = "/usr/sbin/ip";
	argv[i++] = "netns";
	argv[i++] = "exec";
	argv[i++] = ns_name;
	argv[i++] = PVKVM;
	argv[i++] = "run";
	argv[i++] = "--net";
	argv[i++] = net;
	argv[i++] = PVKERN;
	argv[i++] = "--";
	argv[i++] = "udpecho";
	argv[i++] = "ip=" GUEST_IP "/24";
	argv[i++] = "time_ms=30000";
	argv[i] = NULL;
	start_child(c, argv, mode);
	cr_assert(wait_for_line(c, "udpecho: ready", 15),
		  "the guest did not come up:\n%s", read_log(c));
}

/* Sends len pattern bytes to the guest and checks the echo. */
static void check_echo(int s, size_t len, unsigned int seed)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(ECHO_PORT) };
	static uint8_t out[65536], in[65536];
	ssize_t n = -1;

	inet_pton(AF_INET, GUEST_IP, &to.sin_addr);
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(seed * 29 + i * 7);
	/* UDP may lose a datagram (the first one waits for ARP): retry. */
	for (int tries = 0; tries < 3 && n < 0; tries++) {
		cr_assert_eq(sendto(s, out, len, 0, (struct sockaddr *)&to, sizeof(to)),
			     (ssize_t)len, "sendto: %s", strerror(errno));
		n = recv(s, in, sizeof(in), 0);
	}
	cr_assert_eq(n, (ssize_t)len, "echo of %zu bytes: got %zd (%s)", len, n,
		     n < 0 ? strerror(errno) : "short");
	cr_assert_arr_eq(in, out, len, "echo of %zu bytes differs", len);
}

static void tap_mode_test(const char *mode)
{
	struct child c = { 0 };
	static const size_t sizes[] = { 1, 18, 100, 512, 1000, 1472 };

	start_echo_guest(&c, mode);
	int rc = sh("ip netns exec %s ping -c 3 -i 0.2 -W 3 -q " GUEST_IP " >/dev/null",
		    ns_name);
	if (rc) {
		kill_child(&c);
		cr_assert_fail("ping of the guest (mode %s) failed: %d", mode, rc);
	}
	int s = ns_udp_socket();
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_echo(s, sizes[i], (unsigned int)i);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(ECHO_PORT) };
	inet_pton(AF_INET, GUEST_IP, &to.sin_addr);
	sendto(s, "quit", 4, 0, (struct sockaddr *)&to, sizeof(to));
	close(s);
	int st = finish_child(&c, 10);
	char *log = read_log(&c);
	cr_expect_eq(st, 0, "udpecho (mode %s) exited %d:\n%s", mode, st, log);
	cr_expect(strstr(log, "ping_replied=") && !strstr(log, "ping_replied=0 "),
		  "the guest says it answered no ping:\n%s", log);
	char want[32];
	snprintf(want, sizeof(want), "ready mode=%s", mode);
	cr_expect(strstr(log, want), "the guest did not use mode %s:\n%s", mode, log);
	kill_child(&c);
}

TestSuite(net_tap, .init = make_namespace, .fini = remove_namespace, .timeout = 60);

Test(net_tap, pv_ping_and_udp_echo) { tap_mode_test("pv"); }
Test(net_tap, fv_ping_and_udp_echo) { tap_mode_test("fv"); }
Test(net_tap, fv_dma_ping_and_udp_echo) { tap_mode_test("fv-dma"); }
Test(net_tap, sync_ping_and_udp_echo) { tap_mode_test("sync"); }

/* ---- the built-in switch -------------------------------------------------------- */

static char switch_dir[64];

static void make_switch_dir(void)
{
	require_platform();
	snprintf(switch_dir, sizeof(switch_dir), "/tmp/pvkvm-tsw-%d", (int)getpid());
	mkdir(switch_dir, 0700);
	setenv("PVKVM_SWITCH_DIR", switch_dir, 1);
}

static void remove_switch_dir(void)
{
	sh("rm -rf %s", switch_dir);
}

TestSuite(net_switch, .init = make_switch_dir, .fini = remove_switch_dir, .timeout = 60);

static void run_guest(struct child *c, const char *tag, const char *net1,
		      const char *net2, const char *prog, const char *a1,
		      const char *a2, const char *a3, const char *a4)
{
	char *argv[20];
	int i = 0;

	argv[i++] = PVKVM;
	argv[i++] = "run";
	argv[i++] = "--net";
	argv[i++] = (char *)net1;
	if (net2) {
		argv[i++] = "--net";
		argv[i++] = (char *)net2;
	}
	argv[i++] = PVKERN;
	argv[i++] = "--";
	argv[i++] = (char *)prog;
	const char *extra[] = { a1, a2, a3, a4 };
	for (int k = 0; k < 4; k++)
		if (extra[k])
			argv[i++] = (char *)extra[k];
	argv[i] = NULL;
	start_child(c, argv, tag);
}

static void expect_verified(struct child *c, const char *what)
{
	int st = finish_child(c, 30);
	char *log = read_log(c);

	cr_expect_eq(st, 0, "%s: netverify exited %d:\n%s", what, st, log);
	cr_expect(strstr(log, "netverify: ") && strstr(log, " 0 failed"),
		  "%s: not every datagram came back intact:\n%s", what, log);
}

static void two_process_test(const char *mode_a, const char *mode_b,
			     const char *count)
{
	struct child echo = { 0 }, verify = { 0 };
	char net_a[64], net_b[64];

	snprintf(net_a, sizeof(net_a), "switch=t%d,mode=%s", (int)getpid(), mode_a);
	snprintf(net_b, sizeof(net_b), "switch=t%d,mode=%s", (int)getpid(), mode_b);
	run_guest(&echo, "echo", net_a, NULL, "udpecho", "ip=10.0.1.3/24",
		  "time_ms=30000", NULL, NULL);
	if (!wait_for_line(&echo, "udpecho: ready", 15)) {
		kill_child(&echo);
		cr_assert_fail("the echo guest did not come up:\n%s", read_log(&echo));
	}
	run_guest(&verify, "verify", net_b, NULL, "netverify", "ip=10.0.1.4/24",
		  "peer=10.0.1.3", count, NULL);
	expect_verified(&verify, "two processes");
	kill_child(&verify);
	kill_child(&echo);
}

Test(net_switch, two_processes_pv_exchange_verified_frames) { two_process_test("pv", "pv", "count=150"); }
Test(net_switch, two_processes_fv_and_pv_exchange_verified_frames) { two_process_test("fv", "pv", "count=40"); }
Test(net_switch, two_processes_fv_dma_and_pv_exchange_verified_frames) { two_process_test("fv-dma", "pv", "count=40"); }
Test(net_switch, two_processes_sync_and_pv_exchange_verified_frames) { two_process_test("sync", "pv", "count=100"); }

Test(net_switch, one_process_two_nics_exchange_verified_frames)
{
	struct child c = { 0 };
	char net[64];

	snprintf(net, sizeof(net), "switch=one%d,mode=pv", (int)getpid());
	run_guest(&c, "one", net, net, "netverify", "ip=10.0.2.4/24",
		  "peer=10.0.2.3", "echo_nic=1", "count=150");
	expect_verified(&c, "one process, two NICs");
	kill_child(&c);
}

/* ---- `pvkvm bench net --quick`: structure only, no figure is asserted ---- */

/* The pvkvm-bnet-* namespaces there are now, one name per line. */
static void bench_namespaces(char *buf, size_t len)
{
	FILE *p = popen("ip netns list 2>/dev/null | grep -o 'pvkvm-bnet-[0-9]*' | sort", "r");
	size_t n = p ? fread(buf, 1, len - 1, p) : 0;

	buf[n] = '\0';
	if (p)
		pclose(p);
}

Test(net_bench, quick_run_writes_table_json_and_leaves_no_namespace, .timeout = 120)
{
	char out[64], json[96], before[1024], after[1024];

	require_platform();
	if (geteuid() != 0)
		cr_skip_test("needs root for network namespaces and TAP devices");
	snprintf(out, sizeof(out), "/tmp/pvkvm-test-bench-net-%d", (int)getpid());
	bench_namespaces(before, sizeof(before));
	char *argv[] = { PVKVM, "bench", "net", "--quick", "--time-ms", "100",
			 "--case", "g2h-64", "--case", "h2g-1514", "--modes", "host,sync,pv",
			 "--no-plot", "--out", out, NULL };
	struct run *r = run_argv(argv, 110);
	snprintf(json, sizeof(json), "%s/net.json", out);
	FILE *f = fopen(json, "r");
	char buf[16384] = "";
	if (f) {
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
	}
	cr_expect_eq(r->status, 0, "bench net exited %d:\n%s", r->status, r->out);
	cr_expect(strstr(r->out, "g2h-64") && strstr(r->out, "pv/host"),
		  "no table with ratios:\n%s", r->out);
	cr_expect(strstr(buf, "\"g2h-64\"") && strstr(buf, "\"pv\": {\"ok\": true"),
		  "net.json lacks a pv result:\n%s", buf);
	/* The namespace it created is gone: the same ones as before remain. */
	bench_namespaces(after, sizeof(after));
	cr_expect_str_eq(after, before, "a pvkvm-bnet-* namespace was left behind");
	sh("rm -rf %s", out);
	free(r);
}
