// SPDX-License-Identifier: MIT
/* The TAP frame port. See net_tap.h. */
#include "host/net/net_tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "host/net/net_port.h"
#include "host/util/errmsg.h"
#include "hypercall/pvkvm_netif.h"

struct tap_port {
	struct net_port port;
	char name[IFNAMSIZ];
	bool created;       /* ours to remove: made non-persistent on close */
	unsigned int nr_fds;
	int fds[PVKVM_NETIF_MAX_QUEUES];
};

static unsigned int tap_send(struct net_port *p, struct net_pkt *const *pkts,
			     unsigned int n)
{
	struct tap_port *t = (struct tap_port *)p;
	unsigned int sent = 0;
	for (unsigned int i = 0; i < n; i++) {
		struct iovec iov[2] = {
			{ &pkts[i]->vh, sizeof(pkts[i]->vh) },
			{ pkts[i]->data, pkts[i]->len },
		};
		/* One queue's descriptor for every sender: the kernel
		 * takes writes from any thread. */
		ssize_t w = writev(t->fds[0], iov, 2);
		if (w == (ssize_t)(sizeof(pkts[i]->vh) + pkts[i]->len))
			sent++;
	}
	return sent;
}

static int tap_recv(struct net_port *p, unsigned int q, struct net_pkt *pkt)
{
	struct tap_port *t = (struct tap_port *)p;
	struct iovec iov[2] = {
		{ &pkt->vh, sizeof(pkt->vh) },
		{ pkt->data, pkt->cap },
	};
	ssize_t r = readv(t->fds[q], iov, 2);
	if (r < 0)
		return 0; /* EAGAIN, or a link that went down: nothing now */
	if ((size_t)r < sizeof(pkt->vh))
		return -1;
	pkt->len = (uint32_t)((size_t)r - sizeof(pkt->vh));
	/* A frame longer than the buffer is cut short by readv: we cannot
	 * tell it from a full one, so the buffer is sized one byte over the
	 * largest frame we accept and a full buffer means "too big". */
	if (pkt->len >= pkt->cap)
		return -1;
	return (int)pkt->len;
}

static int tap_rx_fd(struct net_port *p, unsigned int q)
{
	return ((struct tap_port *)p)->fds[q];
}

static void tap_set_offload(struct net_port *p, bool csum, bool tso4)
{
	struct tap_port *t = (struct tap_port *)p;
	unsigned int f = 0;
	if (csum)
		f |= TUN_F_CSUM;
	if (csum && tso4)
		f |= TUN_F_TSO4;
	for (unsigned int i = 0; i < t->nr_fds; i++)
		(void)ioctl(t->fds[i], TUNSETOFFLOAD, f);
}

static void tap_close(struct net_port *p)
{
	struct tap_port *t = (struct tap_port *)p;
	/* A TAP we created is not persistent: it goes with its last fd. */
	for (unsigned int i = 0; i < t->nr_fds; i++)
		close(t->fds[i]);
	free(t);
}

static const struct net_port_ops tap_ops = {
	.send = tap_send,
	.recv = tap_recv,
	.rx_fd = tap_rx_fd,
	.set_offload = tap_set_offload,
	.close = tap_close,
};

/* Attaches one descriptor to the device. */
static int tap_attach_fd(const char *name, bool multi, int *fd_out, bool *created)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (multi)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	/* TUNGETIFF would tell; persistence is what says whether it existed. */
	unsigned int flags = 0;
	if (created && ioctl(fd, TUNGETIFF, &ifr) == 0) {
		flags = (unsigned int)ifr.ifr_flags;
		*created = !(flags & IFF_PERSIST);
	}
	int hdr = (int)sizeof(struct net_vhdr);
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 || ioctl(fd, TUNSETOFFLOAD, 0) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	*fd_out = fd;
	return 0;
}

int net_tap_open(const char *name, unsigned int nr_queues,
		 struct net_port **out, char *err, size_t errlen)
{
	if (!name[0] || strlen(name) > NET_TAP_NAME_MAX)
		return errmsg(-EINVAL, err, errlen, "tap=%s: a name of 1 to %d characters",
			      name, NET_TAP_NAME_MAX);
	if (nr_queues == 0 || nr_queues > PVKVM_NETIF_MAX_QUEUES)
		return errmsg(-EINVAL, err, errlen, "tap=%s: 1 to %u queues", name,
			      PVKVM_NETIF_MAX_QUEUES);
	struct tap_port *t = calloc(1, sizeof(*t));
	if (!t)
		return errmsg(-ENOMEM, err, errlen, "tap=%s: out of memory", name);
	strncpy(t->name, name, IFNAMSIZ - 1);
	bool multi = nr_queues > 1;
	for (unsigned int i = 0; i < nr_queues; i++) {
		int rc = tap_attach_fd(name, multi, &t->fds[i], i == 0 ? &t->created : NULL);
		if (rc) {
			t->nr_fds = i;
			tap_close(&t->port);
			return errmsg(rc, err, errlen,
				      "tap=%s: %s (create it with `ip tuntap add %s mode tap "
				      "user $USER vnet_hdr%s`, or run as root)",
				      name, strerror(-rc), name, multi ? " multi_queue" : "");
		}
	}
	t->nr_fds = nr_queues;
	t->port = (struct net_port){ .ops = &tap_ops, .kind = "tap",
				     .nr_queues = nr_queues, .gso_ok = true };
	*out = &t->port;
	return 0;
}
