// SPDX-License-Identifier: MIT
/*
 * The host's side of `pvkvm bench net` (bench_net.h): the namespace and
 * TAP it creates and removes, the UDP sink and generator threads that
 * stand for "the host" in the guest runs, and the host-direct ceiling,
 * in which this process itself writes or reads the same frames on the
 * same TAP (IFF_VNET_HDR, one writev/read per frame, as the VMM's TAP
 * port does).
 */
#include "host/bench/bench_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define UDP_HDRS 42u

uint64_t nb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

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

/* ---- the namespace ------------------------------------------------------------ */

static int read_tap_mac(struct nb_ns *ns)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int r;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ns->tap);
	r = s < 0 ? -1 : ioctl(s, SIOCGIFHWADDR, &ifr);
	if (s >= 0)
		close(s);
	if (r < 0)
		return -1;
	memcpy(ns->tap_mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

/* A run killed before its teardown leaves its namespace behind: removed
 * here once its pid is gone. */
static void remove_stale_namespaces(void)
{
	FILE *p = popen("ip netns list 2>/dev/null | grep -o 'pvkvm-bnet-[0-9]*'", "r");
	char name[64];

	while (p && fgets(name, sizeof(name), p)) {
		int pid = atoi(name + strlen("pvkvm-bnet-"));

		name[strcspn(name, "\n")] = '\0';
		if (pid > 0 && kill(pid, 0) && errno == ESRCH)
			sh("ip netns del %s 2>/dev/null", name);
	}
	if (p)
		pclose(p);
}

int nb_ns_setup(struct nb_ns *ns)
{
	char path[128];

	remove_stale_namespaces();
	snprintf(ns->name, sizeof(ns->name), "pvkvm-bnet-%d", (int)getpid());
	snprintf(ns->tap, sizeof(ns->tap), "pvb%d", (int)getpid() % 100000);
	ns->home_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ns->ns_fd = -1;
	sh("ip netns del %s 2>/dev/null", ns->name);
	if (ns->home_fd < 0 || sh("ip netns add %s", ns->name) ||
	    sh("ip -n %s tuntap add %s mode tap vnet_hdr", ns->name, ns->tap) ||
	    sh("ip -n %s addr add %s/24 dev %s", ns->name, NB_HOST_IP, ns->tap) ||
	    sh("ip -n %s link set lo up", ns->name) ||
	    sh("ip -n %s link set %s up", ns->name, ns->tap) ||
	    /* A static neighbour: the host's frames go out at once, without
	     * waiting for (or measuring) ARP. */
	    sh("ip -n %s neigh replace %s lladdr %s dev %s nud permanent", ns->name,
	       NB_GUEST_IP, NB_GUEST_MAC, ns->tap)) {
		fprintf(stderr, "bench net: cannot set up namespace %s (needs root and ip(8))\n",
			ns->name);
		nb_ns_teardown(ns);
		return -1;
	}
	snprintf(path, sizeof(path), "/var/run/netns/%s", ns->name);
	ns->ns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns->ns_fd < 0 || setns(ns->ns_fd, CLONE_NEWNET) || read_tap_mac(ns)) {
		fprintf(stderr, "bench net: cannot enter namespace %s: %s\n", ns->name,
			strerror(errno));
		nb_ns_teardown(ns);
		return -1;
	}
	return 0;
}

void nb_ns_teardown(struct nb_ns *ns)
{
	if (ns->home_fd >= 0) {
		setns(ns->home_fd, CLONE_NEWNET);
		close(ns->home_fd);
		ns->home_fd = -1;
	}
	if (ns->ns_fd >= 0) {
		close(ns->ns_fd);
		ns->ns_fd = -1;
	}
	if (ns->name[0]) {
		sh("ip netns del %s 2>/dev/null", ns->name);
		ns->name[0] = '\0';
	}
}

/* ---- the sink ------------------------------------------------------------------- */

struct nb_sink {
	pthread_t thread;
	int fd;
	atomic_bool stop, open;
	uint64_t frames, bytes, t_open, t_close;
};

static void *sink_main(void *arg)
{
	struct nb_sink *s = arg;
	/* Only the head of each datagram is copied (MSG_TRUNC still gives the
	 * whole length): the sink must not be what limits the rate. */
	static __thread char bufs[BATCH][16];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];

	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	while (!atomic_load(&s->stop)) {
		struct pollfd p = { s->fd, POLLIN, 0 };

		if (poll(&p, 1, 50) <= 0)
			continue;
		int n = recvmmsg(s->fd, msgs, BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
		if (n <= 0 || !atomic_load(&s->open))
			continue;
		s->frames += (uint64_t)n;
		for (int i = 0; i < n; i++)
			s->bytes += msgs[i].msg_len + UDP_HDRS;
	}
	return NULL;
}

struct nb_sink *nb_sink_start(void)
{
	struct nb_sink *s = calloc(1, sizeof(*s));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(NB_PORT) };
	int big = 8 << 20;

	if (!s)
		return NULL;
	inet_pton(AF_INET, NB_HOST_IP, &a.sin_addr);
	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "bench net: sink socket: %s\n", strerror(errno));
		if (s->fd >= 0)
			close(s->fd);
		free(s);
		return NULL;
	}
	setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	if (pthread_create(&s->thread, NULL, sink_main, s)) {
		close(s->fd);
		free(s);
		return NULL;
	}
	return s;
}

void nb_sink_window(struct nb_sink *s, bool open)
{
	if (open) {
		s->t_open = nb_now_ns();
		atomic_store(&s->open, true);
	} else {
		atomic_store(&s->open, false);
		s->t_close = nb_now_ns();
	}
}

void nb_sink_stop(struct nb_sink *s, uint64_t *frames, uint64_t *bytes,
		  uint64_t *elapsed_ns)
{
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	close(s->fd);
	*frames = s->frames;
	*bytes = s->bytes;
	*elapsed_ns = s->t_close > s->t_open ? s->t_close - s->t_open : 0;
	free(s);
}

/* ---- the generator ---------------------------------------------------------------- */

struct nb_gen {
	pthread_t thread;
	int fd;
	uint32_t payload;
	atomic_bool stop, open;
	uint64_t sent;
};

static void put_seq(uint8_t *p, uint64_t seq)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(seq >> (56 - 8 * i));
}

static void *gen_main(void *arg)
{
	struct nb_gen *g = arg;
	static __thread uint8_t bufs[BATCH][2048];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint64_t seq = 0;

	for (int i = 0; i < BATCH; i++) {
		for (uint32_t j = 8; j < g->payload; j++)
			bufs[i][j] = (uint8_t)j;
		iov[i] = (struct iovec){ bufs[i], g->payload };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	while (!atomic_load(&g->stop)) {
		for (int i = 0; i < BATCH; i++)
			put_seq(bufs[i], seq + (uint64_t)i);
		int n = sendmmsg(g->fd, msgs, BATCH, 0);
		if (n > 0) {
			seq += (uint64_t)n;
			if (atomic_load(&g->open))
				g->sent += (uint64_t)n;
		} else if (errno == ENOBUFS || errno == EAGAIN) {
			sched_yield(); /* the TAP's queue is full: the reader is behind */
		}
	}
	return NULL;
}

struct nb_gen *nb_gen_start(uint32_t size)
{
	struct nb_gen *g = calloc(1, sizeof(*g));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(NB_PORT) };

	if (!g)
		return NULL;
	g->payload = size - UDP_HDRS;
	inet_pton(AF_INET, NB_GUEST_IP, &a.sin_addr);
	g->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (g->fd < 0 || connect(g->fd, (struct sockaddr *)&a, sizeof(a)) ||
	    pthread_create(&g->thread, NULL, gen_main, g)) {
		fprintf(stderr, "bench net: generator socket: %s\n", strerror(errno));
		if (g->fd >= 0)
			close(g->fd);
		free(g);
		return NULL;
	}
	return g;
}

void nb_gen_window(struct nb_gen *g, bool open)
{
	atomic_store(&g->open, open);
}

uint64_t nb_gen_stop(struct nb_gen *g)
{
	uint64_t sent;

	atomic_store(&g->stop, true);
	pthread_join(g->thread, NULL);
	close(g->fd);
	sent = g->sent;
	free(g);
	return sent;
}

/* ---- host-direct ---------------------------------------------------------------- */

static int open_tap(const struct nb_ns *ns, char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };
	int hdr = sizeof(struct virtio_net_hdr);
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ns->tap);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) || ioctl(fd, TUNSETVNETHDRSZ, &hdr) ||
	    ioctl(fd, TUNSETOFFLOAD, 0)) {
		snprintf(err, errlen, "cannot open TAP %s: %s", ns->tap, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (; n > 1; p += 2, n -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (n)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The frame the guest would send: guest MAC/IP to the TAP's, UDP to the
 * sink, full checksums. */
static void build_frame(const struct nb_ns *ns, uint8_t *f, uint32_t size)
{
	static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	uint8_t *ip = f + 14, *udp = ip + 20;
	uint32_t udp_len = size - 34, src, dst;

	memcpy(f, ns->tap_mac, 6);
	memcpy(f + 6, guest_mac, 6);
	put16(f + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(size - 14));
	put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 17;
	inet_pton(AF_INET, NB_GUEST_IP, ip + 12);
	inet_pton(AF_INET, NB_HOST_IP, ip + 16);
	put16(ip + 10, csum(ip, 20, 0));
	put16(udp, 40009);
	put16(udp + 2, NB_PORT);
	put16(udp + 4, (uint16_t)udp_len);
	put16(udp + 6, 0);
	for (uint32_t i = 8; i < udp_len; i++)
		udp[i] = (uint8_t)i;
	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	src = ntohl(src);
	dst = ntohl(dst);
	uint16_t s = csum(udp, udp_len, (src >> 16) + (src & 0xffff) + (dst >> 16) +
				(dst & 0xffff) + 17 + udp_len);
	put16(udp + 6, s ? s : 0xffff);
}

static int direct_tx(int fd, const struct nb_ns *ns, uint32_t size,
		     uint64_t warmup_ms, uint64_t time_ms,
		     struct net_bench_result *r)
{
	struct virtio_net_hdr vh = { 0 };
	uint8_t frame[2048];
	struct iovec iov[2] = { { &vh, sizeof(vh) }, { frame, size } };
	struct nb_sink *sink = nb_sink_start();
	uint64_t t0 = nb_now_ns(), open_at = t0 + warmup_ms * 1000000ull;
	uint64_t close_at = open_at + time_ms * 1000000ull, bytes;
	bool open = false;

	if (!sink)
		return -1;
	build_frame(ns, frame, size);
	for (uint64_t n = 0;; n++) {
		if ((n & 63) == 0) {
			uint64_t now = nb_now_ns();

			if (!open && now >= open_at) {
				nb_sink_window(sink, true);
				open = true;
			}
			if (now >= close_at)
				break;
		}
		if (writev(fd, iov, 2) > 0 && open)
			r->sent++;
	}
	/* Closed at once, as a guest's "end" line closes it: frames still in
	 * flight count for neither. */
	nb_sink_window(sink, false);
	nb_sink_stop(sink, &r->frames, &bytes, &r->elapsed_ns);
	return 0;
}

static bool is_bench_udp(const uint8_t *f, ssize_t n)
{
	return n >= 42 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 17 &&
	       f[36] == (NB_PORT >> 8) && f[37] == (NB_PORT & 0xff);
}

/* Reads as the VMM's TAP port does: non-blocking, frame after frame until
 * the queue is empty, and only then poll(). */
static int direct_rx(int fd, uint32_t size, uint64_t warmup_ms,
		     uint64_t time_ms, struct net_bench_result *r)
{
	uint8_t buf[sizeof(struct virtio_net_hdr) + 65536];
	const ssize_t vh = (ssize_t)sizeof(struct virtio_net_hdr);
	struct nb_gen *gen;
	uint64_t t0, open_at, close_at, opened = 0;

	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return -1;
	gen = nb_gen_start(size);
	if (!gen)
		return -1;
	t0 = nb_now_ns();
	open_at = t0 + warmup_ms * 1000000ull;
	close_at = open_at + time_ms * 1000000ull;
	for (unsigned int n = 0;; n++) {
		ssize_t got = read(fd, buf, sizeof(buf));

		if (got < 0) {
			struct pollfd p = { fd, POLLIN, 0 };

			poll(&p, 1, 10);
		} else if (opened && is_bench_udp(buf + vh, got - vh)) {
			r->frames++;
		}
		if (got < 0 || (n & 63) == 0) {
			uint64_t now = nb_now_ns();

			if (!opened && now >= open_at) {
				opened = now;
				nb_gen_window(gen, true);
			}
			if (now >= close_at) {
				nb_gen_window(gen, false);
				break;
			}
		}
	}
	r->elapsed_ns = nb_now_ns() - opened;
	r->sent = nb_gen_stop(gen);
	return 0;
}

int nb_hostdirect(const struct nb_ns *ns, bool tx, uint32_t size,
		  uint64_t warmup_ms, uint64_t time_ms,
		  struct net_bench_result *r)
{
	int fd = open_tap(ns, r->error, sizeof(r->error));
	int rc;

	if (fd < 0)
		return -1;
	rc = tx ? direct_tx(fd, ns, size, warmup_ms, time_ms, r)
		: direct_rx(fd, size, warmup_ms, time_ms, r);
	close(fd);
	if (rc == 0 && r->frames == 0)
		snprintf(r->error, sizeof(r->error), "no frame arrived");
	r->ok = rc == 0 && r->frames > 0;
	return r->ok ? 0 : -1;
}
