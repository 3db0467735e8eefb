// SPDX-License-Identifier: MIT
/* The synchronous network hypercalls. See net_sync.h. */
#include "host/net/net_sync.h"

#include <string.h>

#include "host/mem/guest_mem.h"
#include "host/net/net_port.h"
#include "hypercall/pvkvm_netif.h"

static const char *const counter_names[NET_SYNC_C_COUNT] = {
	[NET_SYNC_C_CALLS] = "calls",
	[NET_SYNC_C_TX_FRAMES] = "tx_frames",
	[NET_SYNC_C_TX_BYTES] = "tx_bytes",
	[NET_SYNC_C_RX_FRAMES] = "rx_frames",
	[NET_SYNC_C_RX_BYTES] = "rx_bytes",
	[NET_SYNC_C_RX_EMPTY] = "rx_empty",
	[NET_SYNC_C_RX_DROPPED] = "rx_dropped",
	[NET_SYNC_C_ERRORS] = "errors",
};

static void count(struct net_sync *s, enum net_sync_counter c, uint64_t n)
{
	stat_add(&s->counters[c].value, n);
}

int net_sync_init(struct net_sync *s, struct net_port *port, unsigned int mtu)
{
	memset(s, 0, sizeof(*s));
	s->rx_pkt = net_pkt_new(NET_FRAME_MAX_NOGSO + 1);
	if (!s->rx_pkt)
		return -PVKVM_ENOMEM;
	s->port = port;
	s->mtu = mtu;
	pthread_mutex_init(&s->rx_lock, NULL);
	for (unsigned int i = 0; i < NET_SYNC_C_COUNT; i++)
		s->counters[i].name = counter_names[i];
	s->group = (struct stats_group){ .name = "net_sync", .counters = s->counters,
					 .nr = NET_SYNC_C_COUNT };
	/* Frames reach the guest with their checksums complete. */
	port->ops->set_offload(port, false, false);
	return 0;
}

void net_sync_fini(struct net_sync *s)
{
	net_pkt_free(s->rx_pkt);
	s->rx_pkt = NULL;
	pthread_mutex_destroy(&s->rx_lock);
}

/* The guest buffer [gpa, gpa + len) as a host pointer, or NULL: the check
 * every hypercall buffer gets (guest_mem.h), with the access the guest would
 * need itself (a receive writes its buffer, a transmit reads it). */
static void *guest_buffer(const struct guest_mem *m, uint64_t gpa, uint64_t len,
			  unsigned int acc)
{
	return gmem_guest_ptr(m, gpa, len, acc);
}

static int64_t do_tx(struct net_sync *s, const struct guest_mem *m,
		     const uint64_t a[HCALL_NARGS])
{
	uint64_t len = a[1];
	if (a[2] != 0)
		return -PVKVM_ENOENT;
	if (len < PVKVM_NETIF_FRAME_MIN || len > s->mtu + PVKVM_NETIF_ETH_HLEN)
		return -PVKVM_EINVAL;
	void *buf = guest_buffer(m, a[0], len, GMEM_READ);
	if (!buf)
		return -PVKVM_EFAULT;
	/* The port copies straight from guest RAM: one copy, as PV's. */
	struct net_pkt pkt = { .len = (uint32_t)len, .cap = (uint32_t)len, .data = buf };
	struct net_pkt *one[1] = { &pkt };
	if (net_port_send(s->port, one, 1) != 1)
		return -PVKVM_EIO;
	count(s, NET_SYNC_C_TX_FRAMES, 1);
	count(s, NET_SYNC_C_TX_BYTES, len);
	return 0;
}

static int64_t take_frame(struct net_sync *s, const struct guest_mem *m,
			  uint64_t gpa, uint64_t cap)
{
	struct net_pkt *pkt = s->rx_pkt;
	pkt->cap = NET_FRAME_MAX_NOGSO + 1;
	int r = net_port_recv(s->port, 0, pkt);
	if (r == 0) {
		count(s, NET_SYNC_C_RX_EMPTY, 1);
		return -PVKVM_EAGAIN;
	}
	if (r < 0 || !net_pkt_complete_csum(pkt)) {
		count(s, NET_SYNC_C_RX_DROPPED, 1);
		return -PVKVM_E2BIG;
	}
	if (pkt->len > cap) {
		count(s, NET_SYNC_C_RX_DROPPED, 1);
		return -PVKVM_E2BIG;
	}
	void *dst = guest_buffer(m, gpa, pkt->len, GMEM_WRITE);
	if (!dst)
		return -PVKVM_EFAULT; /* checked before: cannot happen */
	memcpy(dst, pkt->data, pkt->len);
	count(s, NET_SYNC_C_RX_FRAMES, 1);
	count(s, NET_SYNC_C_RX_BYTES, pkt->len);
	return pkt->len;
}

static int64_t do_rx(struct net_sync *s, const struct guest_mem *m,
		     const uint64_t a[HCALL_NARGS])
{
	if (a[2] != 0)
		return -PVKVM_ENOENT;
	if (a[1] == 0 || a[1] > PVKVM_NETIF_FRAME_MAX)
		return -PVKVM_EINVAL;
	/* The whole buffer is checked first, so no frame is taken for a
	 * buffer that cannot hold it. */
	if (!guest_buffer(m, a[0], a[1], GMEM_WRITE))
		return -PVKVM_EFAULT;
	pthread_mutex_lock(&s->rx_lock);
	int64_t r = take_frame(s, m, a[0], a[1]);
	pthread_mutex_unlock(&s->rx_lock);
	return r;
}

int64_t net_sync_tx(struct net_sync *s, const struct guest_mem *m,
		    const uint64_t args[HCALL_NARGS])
{
	count(s, NET_SYNC_C_CALLS, 1);
	int64_t r = do_tx(s, m, args);
	if (r < 0)
		count(s, NET_SYNC_C_ERRORS, 1);
	return r;
}

int64_t net_sync_rx(struct net_sync *s, const struct guest_mem *m,
		    const uint64_t args[HCALL_NARGS])
{
	count(s, NET_SYNC_C_CALLS, 1);
	int64_t r = do_rx(s, m, args);
	if (r < 0 && r != -PVKVM_EAGAIN)
		count(s, NET_SYNC_C_ERRORS, 1);
	return r;
}
