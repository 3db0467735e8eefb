// SPDX-License-Identifier: MIT
/*
 * The built-in switch. One mutex per switch covers the port table, the MAC
 * table and delivery; each local port's queues have their own lock, so a
 * consumer draining its queue never waits for a sender elsewhere. The
 * socket thread (one per switch that has a socket) accepts processes
 * joining the hub and reads frames from the other processes.
 */
#include "host/net/net_switch.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "host/net/net_port.h"
#include "host/util/errmsg.h"
#include "hypercall/pvkvm_netif.h"

#define MAC_TABLE_SIZE 256u
#define SW_BUF_CAP (NET_FRAME_MAX_NOGSO + 1u)

struct sw_queue {
	pthread_mutex_t lock;
	int efd;
	unsigned int head, count;
	struct net_pkt *slot[NET_SWITCH_QUEUE_LEN];
};

struct netswitch;

struct sw_port {
	struct net_port port;
	struct netswitch *sw;
	unsigned int idx;
	atomic_uint_fast64_t drops;
	struct sw_queue q[PVKVM_NETIF_MAX_QUEUES];
};

enum slot_kind { SLOT_FREE, SLOT_LOCAL, SLOT_REMOTE };

struct sw_slot {
	enum slot_kind kind;
	struct sw_port *local;
	int fd; /* SLOT_REMOTE: a socket to another process */
};

struct mac_entry {
	uint8_t mac[6];
	bool used;
	unsigned int port;
	uint64_t stamp;
};

struct netswitch {
	char name[NET_SWITCH_NAME_MAX + 1];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	pthread_mutex_t lock;
	unsigned int refs;
	struct sw_slot slot[NET_SWITCH_MAX_PORTS];
	struct mac_entry mac[MAC_TABLE_SIZE];
	uint64_t clock;
	/* Cross-process: a listening socket (hub) or an uplink (joined). */
	int listen_fd;
	int stop_efd;
	pthread_t thread;
	bool thread_started;
	struct netswitch *next;
};

static pthread_mutex_t switches_lock = PTHREAD_MUTEX_INITIALIZER;
static struct netswitch *switches;

/* ---- naming ------------------------------------------------------------------ */

static bool name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > NET_SWITCH_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

int net_switch_socket_path(const char *name, char *out, size_t outlen)
{
	int n;
	if (strchr(name, '/')) {
		n = snprintf(out, outlen, "%s", name);
	} else {
		if (!name_ok(name))
			return -EINVAL;
		const char *dir = getenv("PVKVM_SWITCH_DIR");
		n = snprintf(out, outlen, "%s/pvkvm-switch-%s.sock",
			     dir && dir[0] ? dir : "/tmp", name);
	}
	return n > 0 && (size_t)n < outlen ? 0 : -EINVAL;
}

/* ---- the MAC table (under sw->lock) ------------------------------------------- */

static void learn(struct netswitch *sw, const uint8_t *src, unsigned int port)
{
	if (src[0] & 1)
		return; /* a multicast source is bogus: never learned */
	struct mac_entry *oldest = &sw->mac[0];
	sw->clock++;
	for (unsigned int i = 0; i < MAC_TABLE_SIZE; i++) {
		struct mac_entry *e = &sw->mac[i];
		if (e->used && memcmp(e->mac, src, 6) == 0) {
			e->port = port;
			e->stamp = sw->clock;
			return;
		}
		if (!e->used || (oldest->used && e->stamp < oldest->stamp))
			oldest = e;
	}
	memcpy(oldest->mac, src, 6);
	oldest->used = true;
	oldest->port = port;
	oldest->stamp = sw->clock;
}

static int lookup(struct netswitch *sw, const uint8_t *dst)
{
	if (dst[0] & 1)
		return -1; /* broadcast and multicast flood */
	for (unsigned int i = 0; i < MAC_TABLE_SIZE; i++)
		if (sw->mac[i].used && memcmp(sw->mac[i].mac, dst, 6) == 0)
			return (int)sw->mac[i].port;
	return -1;
}

static void forget_port(struct netswitch *sw, unsigned int port)
{
	for (unsigned int i = 0; i < MAC_TABLE_SIZE; i++)
		if (sw->mac[i].used && sw->mac[i].port == port)
			sw->mac[i].used = false;
}

/* ---- delivery (under sw->lock) ----------------------------------------------------- */

static void enqueue_local(struct sw_port *p, const struct net_pkt *pkt)
{
	unsigned int q = p->port.nr_queues > 1
				 ? net_flow_hash(pkt->data, pkt->len) % p->port.nr_queues
				 : 0;
	struct sw_queue *sq = &p->q[q];
	pthread_mutex_lock(&sq->lock);
	if (sq->count == NET_SWITCH_QUEUE_LEN) {
		pthread_mutex_unlock(&sq->lock);
		atomic_fetch_add_explicit(&p->drops, 1, memory_order_relaxed);
		return;
	}
	struct net_pkt *dst = sq->slot[(sq->head + sq->count) % NET_SWITCH_QUEUE_LEN];
	dst->vh = pkt->vh;
	dst->len = pkt->len;
	memcpy(dst->data, pkt->data, pkt->len);
	sq->count++;
	uint64_t one = 1;
	if (write(sq->efd, &one, sizeof(one)) != sizeof(one)) {
		/* the counter cannot overflow at our rates: nothing to do */
	}
	pthread_mutex_unlock(&sq->lock);
}

static void send_remote(int fd, const struct net_pkt *pkt)
{
	struct iovec iov[2] = {
		{ (void *)&pkt->vh, sizeof(pkt->vh) },
		{ pkt->data, pkt->len },
	};
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
	/* A peer that does not keep up loses frames, as a real link would. */
	(void)sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void deliver(struct netswitch *sw, unsigned int to, const struct net_pkt *pkt)
{
	struct sw_slot *s = &sw->slot[to];
	if (s->kind == SLOT_LOCAL)
		enqueue_local(s->local, pkt);
	else if (s->kind == SLOT_REMOTE)
		send_remote(s->fd, pkt);
}

/* A frame entering the switch from port `from`. */
static bool switch_input(struct netswitch *sw, unsigned int from,
			 const struct net_pkt *pkt)
{
	if (pkt->len < PVKVM_NETIF_ETH_HLEN || pkt->len > NET_FRAME_MAX_NOGSO ||
	    pkt->vh.gso_type != NET_VHDR_GSO_NONE)
		return false; /* the switch does not segment */
	learn(sw, pkt->data + 6, from);
	int to = lookup(sw, pkt->data);
	if (to >= 0) {
		if ((unsigned int)to != from)
			deliver(sw, (unsigned int)to, pkt);
		return true;
	}
	for (unsigned int i = 0; i < NET_SWITCH_MAX_PORTS; i++)
		if (i != from && sw->slot[i].kind != SLOT_FREE)
			deliver(sw, i, pkt);
	return true;
}

static int add_slot(struct netswitch *sw, enum slot_kind kind,
		    struct sw_port *local, int fd)
{
	for (unsigned int i = 0; i < NET_SWITCH_MAX_PORTS; i++)
		if (sw->slot[i].kind == SLOT_FREE) {
			sw->slot[i] = (struct sw_slot){ kind, local, fd };
			return (int)i;
		}
	return -1;
}

static void drop_slot(struct netswitch *sw, unsigned int i)
{
	if (sw->slot[i].kind == SLOT_REMOTE)
		close(sw->slot[i].fd);
	sw->slot[i] = (struct sw_slot){ SLOT_FREE, NULL, -1 };
	forget_port(sw, i);
}

/* ---- the socket thread ------------------------------------------------------------------ */

static void accept_peer(struct netswitch *sw)
{
	int fd = accept4(sw->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	pthread_mutex_lock(&sw->lock);
	if (add_slot(sw, SLOT_REMOTE, NULL, fd) < 0)
		close(fd);
	pthread_mutex_unlock(&sw->lock);
}

/* Reads every frame waiting on remote slot i; false when the peer left. */
static bool read_peer(struct netswitch *sw, unsigned int i, struct net_pkt *buf)
{
	for (;;) {
		struct iovec iov[2] = {
			{ &buf->vh, sizeof(buf->vh) },
			{ buf->data, buf->cap },
		};
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
		ssize_t r = recvmsg(sw->slot[i].fd, &m, MSG_DONTWAIT);
		if (r == 0)
			return false;
		if (r < 0)
			return errno == EAGAIN || errno == EINTR;
		if ((size_t)r < sizeof(buf->vh) || (m.msg_flags & MSG_TRUNC))
			continue; /* not a frame we could take */
		buf->len = (uint32_t)((size_t)r - sizeof(buf->vh));
		pthread_mutex_lock(&sw->lock);
		switch_input(sw, i, buf);
		pthread_mutex_unlock(&sw->lock);
	}
}

static void *socket_thread(void *arg)
{
	struct netswitch *sw = arg;
	struct net_pkt *buf = net_pkt_new(SW_BUF_CAP);
	struct pollfd fds[NET_SWITCH_MAX_PORTS + 2];
	unsigned int which[NET_SWITCH_MAX_PORTS + 2];
	if (!buf)
		return NULL;
	for (;;) {
		unsigned int n = 0;
		fds[n++] = (struct pollfd){ .fd = sw->stop_efd, .events = POLLIN };
		if (sw->listen_fd >= 0)
			fds[n++] = (struct pollfd){ .fd = sw->listen_fd, .events = POLLIN };
		pthread_mutex_lock(&sw->lock);
		for (unsigned int i = 0; i < NET_SWITCH_MAX_PORTS; i++)
			if (sw->slot[i].kind == SLOT_REMOTE) {
				which[n] = i;
				fds[n++] = (struct pollfd){ .fd = sw->slot[i].fd,
							    .events = POLLIN };
			}
		pthread_mutex_unlock(&sw->lock);
		if (poll(fds, n, -1) < 0 && errno != EINTR)
			break;
		if (fds[0].revents)
			break;
		unsigned int first = 1;
		if (sw->listen_fd >= 0) {
			first = 2;
			if (fds[1].revents & POLLIN)
				accept_peer(sw);
		}
		for (unsigned int k = first; k < n; k++) {
			if (!fds[k].revents)
				continue;
			if (!read_peer(sw, which[k], buf) ||
			    (fds[k].revents & (POLLHUP | POLLERR))) {
				pthread_mutex_lock(&sw->lock);
				drop_slot(sw, which[k]);
				pthread_mutex_unlock(&sw->lock);
			}
		}
	}
	net_pkt_free(buf);
	return NULL;
}

/* Joins the hub at sw->path, or becomes it. 0 or -errno. */
static int open_socket(struct netswitch *sw)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(sw->path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, sw->path);
	for (int attempt = 0; attempt < 5; attempt++) {
		int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
			add_slot(sw, SLOT_REMOTE, NULL, fd);
			return 0;
		}
		int e = errno;
		if (e != ENOENT && e != ECONNREFUSED) {
			close(fd);
			return -e;
		}
		if (e == ECONNREFUSED)
			unlink(sw->path); /* stale: nobody listens */
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 16) == 0) {
			sw->listen_fd = fd;
			return 0;
		}
		e = errno;
		close(fd);
		if (e != EADDRINUSE)
			return -e;
		usleep(10000); /* another process won the race: join it */
	}
	return -EADDRINUSE;
}

static void switch_free(struct netswitch *sw)
{
	if (sw->thread_started) {
		uint64_t one = 1;
		if (write(sw->stop_efd, &one, sizeof(one)) != sizeof(one))
			perror("pvkvm: switch stop");
		pthread_join(sw->thread, NULL);
	}
	for (unsigned int i = 0; i < NET_SWITCH_MAX_PORTS; i++)
		if (sw->slot[i].kind == SLOT_REMOTE)
			close(sw->slot[i].fd);
	if (sw->listen_fd >= 0) {
		close(sw->listen_fd);
		unlink(sw->path);
	}
	if (sw->stop_efd >= 0)
		close(sw->stop_efd);
	pthread_mutex_destroy(&sw->lock);
	free(sw);
}

static int switch_new(const char *name, struct netswitch **out)
{
	struct netswitch *sw = calloc(1, sizeof(*sw));
	if (!sw)
		return -ENOMEM;
	snprintf(sw->name, sizeof(sw->name), "%s", name);
	pthread_mutex_init(&sw->lock, NULL);
	sw->listen_fd = -1;
	for (unsigned int i = 0; i < NET_SWITCH_MAX_PORTS; i++)
		sw->slot[i].fd = -1;
	sw->stop_efd = eventfd(0, EFD_CLOEXEC);
	int rc = sw->stop_efd < 0 ? -errno : 0;
	if (!rc)
		rc = net_switch_socket_path(name, sw->path, sizeof(sw->path));
	if (!rc)
		rc = open_socket(sw);
	if (!rc && pthread_create(&sw->thread, NULL, socket_thread, sw) != 0)
		rc = -EAGAIN;
	if (rc) {
		switch_free(sw);
		return rc;
	}
	sw->thread_started = true;
	*out = sw;
	return 0;
}

/* The process's switch called name, with one more reference. */
static int switch_get(const char *name, struct netswitch **out)
{
	pthread_mutex_lock(&switches_lock);
	struct netswitch *sw = switches;
	while (sw && strcmp(sw->name, name) != 0)
		sw = sw->next;
	int rc = 0;
	if (!sw) {
		rc = switch_new(name, &sw);
		if (!rc) {
			sw->next = switches;
			switches = sw;
		}
	}
	if (!rc) {
		sw->refs++;
		*out = sw;
	}
	pthread_mutex_unlock(&switches_lock);
	return rc;
}

static void switch_put(struct netswitch *sw)
{
	pthread_mutex_lock(&switches_lock);
	if (--sw->refs == 0) {
		struct netswitch **pp = &switches;
		while (*pp != sw)
			pp = &(*pp)->next;
		*pp = sw->next;
		switch_free(sw);
	}
	pthread_mutex_unlock(&switches_lock);
}

/* ---- a local port ------------------------------------------------------------------- */

static unsigned int port_send(struct net_port *np, struct net_pkt *const *pkts,
			      unsigned int n)
{
	struct sw_port *p = (struct sw_port *)np;
	unsigned int ok = 0;
	pthread_mutex_lock(&p->sw->lock);
	for (unsigned int i = 0; i < n; i++)
		ok += switch_input(p->sw, p->idx, pkts[i]);
	pthread_mutex_unlock(&p->sw->lock);
	return ok;
}

static int port_recv(struct net_port *np, unsigned int q, struct net_pkt *pkt)
{
	struct sw_queue *sq = &((struct sw_port *)np)->q[q];
	int r;
	pthread_mutex_lock(&sq->lock);
	if (sq->count == 0) {
		uint64_t v;
		/* Empty: reset the eventfd. Producers write it under this
		 * lock, so a frame queued after this raises it again. */
		if (read(sq->efd, &v, sizeof(v)) < 0) {
			/* EAGAIN: it was not raised */
		}
		pthread_mutex_unlock(&sq->lock);
		return 0;
	}
	struct net_pkt *src = sq->slot[sq->head];
	if (src->len > pkt->cap) {
		r = -1;
	} else {
		pkt->vh = src->vh;
		pkt->len = src->len;
		memcpy(pkt->data, src->data, src->len);
		r = (int)src->len;
	}
	sq->head = (sq->head + 1) % NET_SWITCH_QUEUE_LEN;
	sq->count--;
	pthread_mutex_unlock(&sq->lock);
	return r;
}

static int port_rx_fd(struct net_port *np, unsigned int q)
{
	return ((struct sw_port *)np)->q[q].efd;
}

static void port_set_offload(struct net_port *np, bool csum, bool tso4)
{
	/* Frames keep their header; the consumer completes checksums it did
	 * not ask to receive blank (net_pkt_complete_csum). */
	(void)np;
	(void)csum;
	(void)tso4;
}

static void port_free_queues(struct sw_port *p)
{
	for (unsigned int q = 0; q < PVKVM_NETIF_MAX_QUEUES; q++) {
		struct sw_queue *sq = &p->q[q];
		for (unsigned int i = 0; i < NET_SWITCH_QUEUE_LEN; i++)
			net_pkt_free(sq->slot[i]);
		if (sq->efd >= 0)
			close(sq->efd);
		pthread_mutex_destroy(&sq->lock);
	}
}

static void port_close(struct net_port *np)
{
	struct sw_port *p = (struct sw_port *)np;
	struct netswitch *sw = p->sw;
	pthread_mutex_lock(&sw->lock);
	drop_slot(sw, p->idx);
	pthread_mutex_unlock(&sw->lock);
	switch_put(sw);
	port_free_queues(p);
	free(p);
}

static const struct net_port_ops switch_port_ops = {
	.send = port_send,
	.recv = port_recv,
	.rx_fd = port_rx_fd,
	.set_offload = port_set_offload,
	.close = port_close,
};

static int port_alloc_queues(struct sw_port *p, unsigned int nr)
{
	for (unsigned int q = 0; q < PVKVM_NETIF_MAX_QUEUES; q++) {
		pthread_mutex_init(&p->q[q].lock, NULL);
		p->q[q].efd = -1;
	}
	for (unsigned int q = 0; q < nr; q++) {
		p->q[q].efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (p->q[q].efd < 0)
			return -errno;
		for (unsigned int i = 0; i < NET_SWITCH_QUEUE_LEN; i++) {
			p->q[q].slot[i] = net_pkt_new(SW_BUF_CAP);
			if (!p->q[q].slot[i])
				return -ENOMEM;
		}
	}
	return 0;
}

int net_switch_open(const char *name, unsigned int nr_queues,
		    struct net_port **out, char *err, size_t errlen)
{
	char path[108];
	if (net_switch_socket_path(name, path, sizeof(path)))
		return errmsg(-EINVAL, err, errlen,
			      "switch=%s: a name of 1 to %d letters, digits, '.', '_', '-' "
			      "(or a socket path with '/')", name, NET_SWITCH_NAME_MAX);
	if (nr_queues == 0 || nr_queues > PVKVM_NETIF_MAX_QUEUES)
		return errmsg(-EINVAL, err, errlen, "switch=%s: 1 to %u queues", name,
			      PVKVM_NETIF_MAX_QUEUES);
	struct sw_port *p = calloc(1, sizeof(*p));
	if (!p)
		return errmsg(-ENOMEM, err, errlen, "switch=%s: out of memory", name);
	int rc = port_alloc_queues(p, nr_queues);
	if (rc) {
		port_free_queues(p);
		free(p);
		return errmsg(rc, err, errlen, "switch=%s: %s", name, strerror(-rc));
	}
	rc = switch_get(name, &p->sw);
	if (rc) {
		port_free_queues(p);
		free(p);
		return errmsg(rc, err, errlen, "switch=%s: socket %s: %s", name, path,
			      strerror(-rc));
	}
	p->port = (struct net_port){ .ops = &switch_port_ops, .kind = "switch",
				     .nr_queues = nr_queues, .gso_ok = false };
	pthread_mutex_lock(&p->sw->lock);
	int idx = add_slot(p->sw, SLOT_LOCAL, p, -1);
	pthread_mutex_unlock(&p->sw->lock);
	if (idx < 0) {
		switch_put(p->sw);
		port_free_queues(p);
		free(p);
		return errmsg(-ENOSPC, err, errlen, "switch=%s: all %u ports taken", name,
			      NET_SWITCH_MAX_PORTS);
	}
	p->idx = (unsigned int)idx;
	*out = &p->port;
	return 0;
}

uint64_t net_switch_port_drops(struct net_port *np)
{
	return atomic_load(&((struct sw_port *)np)->drops);
}
