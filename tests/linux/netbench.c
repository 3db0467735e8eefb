// SPDX-License-Identifier: MIT
/*
 * netbench: UDP load for `pvkvm bench linux` (scripts/bench-linux.sh).
 * Built static, so the same binary runs in the guest's busybox initramfs
 * and in the host's benchmark namespace.
 *
 *   netbench agent PORT
 *       the host end: counts the datagrams of each burst sent to PORT,
 *       answers a burst's count when asked, and blasts a burst back at a
 *       guest that asks for one. Runs until killed.
 *   netbench push ADDR PORT SIZE SECONDS BURST TAG
 *       guest to host: blasts SIZE-byte datagrams (sendmmsg) at the agent
 *       for SECONDS, then asks it what arrived.
 *   netbench pull ADDR PORT SIZE SECONDS BURST TAG
 *       host to guest: asks the agent for a SECONDS-long burst of SIZE-byte
 *       datagrams and counts what arrives (recvmmsg).
 *
 * push and pull print one line, for the script to parse:
 *   NET TAG sent=N rcvd=N bytes=N secs=S pps=P mbps=M
 * where the rate is what the receiver counted over the span between its
 * first and last datagram (payload bytes; Mbit/s is 10^6 bit/s), and sent
 * is what the sender's sendmmsg accepted (the difference is lost on the
 * way: queues full, rings full, socket buffers full).
 *
 * Every datagram starts with a header: a magic, the kind, the burst number
 * and a sequence number. Bursts are numbered by the caller, so a late
 * datagram of an earlier burst is never counted in the next one.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NB_MAGIC 0x706e6231u /* "pnb1" */
#define NB_BATCH 64
#define NB_MAX_SIZE 1472 /* one 1500-byte MTU frame */
#define NB_BURSTS 64     /* the agent remembers this many */
#define NB_SOCKBUF (8 << 20)

enum nb_kind { NB_DATA = 1, NB_QUERY, NB_REPLY, NB_PULL };

struct nb_hdr {
	uint32_t magic, kind, burst, seq;
};

struct nb_pull { /* NB_PULL: the burst the guest asks for */
	struct nb_hdr h;
	uint32_t size, msecs;
};

struct nb_reply { /* NB_REPLY: what the agent saw of a burst */
	struct nb_hdr h;
	uint64_t rcvd, bytes, span_ns, sent;
};

struct burst {
	uint32_t id;
	uint64_t rcvd, bytes, first_ns, last_ns, sent;
};

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int udp_socket(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0), sz = NB_SOCKBUF;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (fd < 0) {
		perror("netbench: socket");
		exit(1);
	}
	/* FORCE as root (no rmem_max in the way), the plain one otherwise. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("netbench: bind");
		exit(1);
	}
	return fd;
}

static struct sockaddr_in parse_addr(const char *ip, const char *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
		fprintf(stderr, "netbench: not an IPv4 address: %s\n", ip);
		exit(2);
	}
	return a;
}

/* Blasts `size`-byte datagrams of burst `id` to `to` for `ns`; returns how
 * many the kernel took. */
static uint64_t blast(int fd, const struct sockaddr_in *to, uint32_t id, uint32_t size,
		      uint64_t ns)
{
	static char buf[NB_BATCH][NB_MAX_SIZE];
	struct mmsghdr m[NB_BATCH];
	struct iovec iov[NB_BATCH];
	uint64_t sent = 0, end = now_ns() + ns;
	memset(m, 0, sizeof(m));
	for (int i = 0; i < NB_BATCH; i++) {
		iov[i] = (struct iovec){ .iov_base = buf[i], .iov_len = size };
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
		m[i].msg_hdr.msg_name = (void *)to;
		m[i].msg_hdr.msg_namelen = sizeof(*to);
	}
	while (now_ns() < end) {
		for (int i = 0; i < NB_BATCH; i++)
			*(struct nb_hdr *)buf[i] = (struct nb_hdr){ NB_MAGIC, NB_DATA, id,
								    (uint32_t)(sent + (uint64_t)i) };
		int n = sendmmsg(fd, m, NB_BATCH, 0);
		if (n > 0)
			sent += (uint64_t)n;
		else if (n < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
			break; /* ECONNREFUSED and the like: the peer is not there */
	}
	return sent;
}

/* ---- the agent ------------------------------------------------------------- */

static struct burst *find_burst(struct burst *b, uint32_t id, bool make)
{
	static unsigned int next;
	for (int i = 0; i < NB_BURSTS; i++)
		if (b[i].id == id && (b[i].rcvd || b[i].sent))
			return &b[i];
	if (!make)
		return NULL;
	struct burst *n = &b[next++ % NB_BURSTS];
	*n = (struct burst){ .id = id };
	return n;
}

static void agent_one(int fd, struct burst *bursts, const char *buf, ssize_t len,
		      const struct sockaddr_in *from, uint64_t t)
{
	const struct nb_hdr *h = (const void *)buf;
	if (len < (ssize_t)sizeof(*h) || h->magic != NB_MAGIC)
		return;
	if (h->kind == NB_DATA) {
		struct burst *b = find_burst(bursts, h->burst, true);
		if (!b->rcvd)
			b->first_ns = t;
		b->rcvd++;
		b->bytes += (uint64_t)len;
		b->last_ns = t;
	} else if (h->kind == NB_QUERY) {
		struct burst *b = find_burst(bursts, h->burst, false);
		struct nb_reply r = { .h = { NB_MAGIC, NB_REPLY, h->burst, 0 } };
		if (b)
			r = (struct nb_reply){ r.h, b->rcvd, b->bytes, b->last_ns - b->first_ns, b->sent };
		sendto(fd, &r, sizeof(r), 0, (const struct sockaddr *)from, sizeof(*from));
	} else if (h->kind == NB_PULL && len >= (ssize_t)sizeof(struct nb_pull)) {
		const struct nb_pull *p = (const void *)buf;
		if (find_burst(bursts, h->burst, false))
			return; /* a repeated request: that burst is sent */
		if (p->size < sizeof(struct nb_hdr) || p->size > NB_MAX_SIZE || p->msecs > 60000)
			return;
		struct burst *b = find_burst(bursts, h->burst, true);
		b->sent = blast(fd, from, h->burst, p->size, (uint64_t)p->msecs * 1000000u);
	}
}

static int agent(uint16_t port)
{
	static char buf[NB_BATCH][2048];
	static struct burst bursts[NB_BURSTS];
	struct mmsghdr m[NB_BATCH];
	struct iovec iov[NB_BATCH];
	struct sockaddr_in from[NB_BATCH];
	int fd = udp_socket(port);
	for (;;) {
		memset(m, 0, sizeof(m));
		for (int i = 0; i < NB_BATCH; i++) {
			iov[i] = (struct iovec){ .iov_base = buf[i], .iov_len = sizeof(buf[i]) };
			m[i].msg_hdr = (struct msghdr){ .msg_name = &from[i],
							.msg_namelen = sizeof(from[i]),
							.msg_iov = &iov[i], .msg_iovlen = 1 };
		}
		int n = recvmmsg(fd, m, NB_BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("netbench agent: recvmmsg");
			return 1;
		}
		uint64_t t = now_ns();
		for (int i = 0; i < n; i++)
			agent_one(fd, bursts, buf[i], (ssize_t)m[i].msg_len, &from[i], t);
	}
}

/* ---- the guest's ends ---------------------------------------------------------- */

static void report(const char *tag, uint64_t sent, uint64_t rcvd, uint64_t bytes, uint64_t span_ns)
{
	double secs = (double)span_ns / 1e9;
	double pps = secs > 0 && rcvd > 1 ? (double)(rcvd - 1) / secs : 0;
	double mbps = rcvd ? pps * (double)bytes / (double)rcvd * 8 / 1e6 : 0;
	printf("NET %s sent=%llu rcvd=%llu bytes=%llu secs=%.3f pps=%.0f mbps=%.1f\n", tag,
	       (unsigned long long)sent, (unsigned long long)rcvd, (unsigned long long)bytes, secs,
	       pps, mbps);
}

/* Waits up to ms for a datagram of `kind` and burst `id` into buf. */
static ssize_t await(int fd, uint32_t kind, uint32_t id, void *buf, size_t len, int ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000u;
	for (uint64_t t; (t = now_ns()) < end;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, (int)((end - t) / 1000000u) + 1) != 1)
			continue;
		ssize_t n = recv(fd, buf, len, 0);
		const struct nb_hdr *h = buf;
		if (n >= (ssize_t)sizeof(*h) && h->magic == NB_MAGIC && h->kind == kind &&
		    h->burst == id)
			return n;
	}
	return -1;
}

static bool query(int fd, const struct sockaddr_in *agent_addr, uint32_t id, struct nb_reply *r)
{
	struct nb_hdr q = { NB_MAGIC, NB_QUERY, id, 0 };
	for (int try = 0; try < 20; try++) {
		sendto(fd, &q, sizeof(q), 0, (const struct sockaddr *)agent_addr, sizeof(*agent_addr));
		if (await(fd, NB_REPLY, id, r, sizeof(*r), 500) == (ssize_t)sizeof(*r))
			return true;
	}
	return false;
}

static int push(const struct sockaddr_in *to, uint32_t size, double secs, uint32_t id,
		const char *tag)
{
	int fd = udp_socket(0);
	struct nb_reply r;
	uint64_t sent = blast(fd, to, id, size, (uint64_t)(secs * 1e9));
	usleep(300000); /* what is still queued drains */
	if (!query(fd, to, id, &r)) {
		printf("NET %s FAIL no answer from the agent\n", tag);
		return 1;
	}
	report(tag, sent, r.rcvd, r.bytes, r.span_ns);
	return 0;
}

/* Counts burst `id` until 0.5 s pass without one of its datagrams. */
static int pull(const struct sockaddr_in *from, uint32_t size, double secs, uint32_t id,
		const char *tag)
{
	static char buf[NB_BATCH][2048];
	struct mmsghdr m[NB_BATCH];
	struct iovec iov[NB_BATCH];
	struct nb_pull req = { { NB_MAGIC, NB_PULL, id, 0 }, size, (uint32_t)(secs * 1000) };
	uint64_t rcvd = 0, bytes = 0, first = 0, last = 0;
	int fd = udp_socket(0);
	for (int try = 0; try < 10 && !rcvd; try++) {
		sendto(fd, &req, sizeof(req), 0, (const struct sockaddr *)from, sizeof(*from));
		struct pollfd p = { .fd = fd, .events = POLLIN };
		for (;;) {
			if (poll(&p, 1, rcvd ? 500 : 1000) != 1)
				break;
			memset(m, 0, sizeof(m));
			for (int i = 0; i < NB_BATCH; i++) {
				iov[i] = (struct iovec){ .iov_base = buf[i], .iov_len = sizeof(buf[i]) };
				m[i].msg_hdr.msg_iov = &iov[i];
				m[i].msg_hdr.msg_iovlen = 1;
			}
			int n = recvmmsg(fd, m, NB_BATCH, MSG_DONTWAIT, NULL);
			uint64_t t = now_ns();
			for (int i = 0; i < n; i++) {
				const struct nb_hdr *h = (const void *)buf[i];
				if (m[i].msg_len < sizeof(*h) || h->magic != NB_MAGIC ||
				    h->kind != NB_DATA || h->burst != id)
					continue;
				if (!rcvd)
					first = t;
				rcvd++;
				bytes += m[i].msg_len;
				last = t;
			}
		}
	}
	struct nb_reply r = { .sent = 0 };
	if (!rcvd || !query(fd, from, id, &r)) {
		printf("NET %s FAIL %s\n", tag, rcvd ? "no answer from the agent" : "nothing arrived");
		return 1;
	}
	report(tag, r.sent, rcvd, bytes, last - first);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: netbench agent PORT\n"
			"       netbench push|pull ADDR PORT SIZE SECONDS BURST TAG\n");
	exit(2);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && strcmp(argv[1], "agent") == 0)
		return agent((uint16_t)atoi(argv[2]));
	if (argc != 8)
		usage();
	struct sockaddr_in a = parse_addr(argv[2], argv[3]);
	long size = atol(argv[4]);
	double secs = atof(argv[5]);
	uint32_t id = (uint32_t)strtoul(argv[6], NULL, 0);
	if (size < (long)sizeof(struct nb_pull) || size > NB_MAX_SIZE || secs <= 0 || secs > 60) {
		fprintf(stderr, "netbench: SIZE %d..%d bytes, SECONDS in (0, 60]\n",
			(int)sizeof(struct nb_pull), NB_MAX_SIZE);
		return 2;
	}
	if (strcmp(argv[1], "push") == 0)
		return push(&a, (uint32_t)size, secs, id, argv[7]);
	if (strcmp(argv[1], "pull") == 0)
		return pull(&a, (uint32_t)size, secs, id, argv[7]);
	usage();
	return 2;
}
