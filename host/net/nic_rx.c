// SPDX-License-Identifier: MIT
/* The receive thread the emulated NICs share: see nic_rx.h. */
#include "host/net/nic_rx.h"

#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "host/core/stats.h"

int nic_rx_init(struct nic_rx *rx, struct net_port *port, uint32_t cap,
		nic_rx_deliver_fn deliver, void *ctx, atomic_uint_fast64_t *bad)
{
	*rx = (struct nic_rx){
		.port = port, .cap = cap, .stop_efd = -1,
		.deliver = deliver, .ctx = ctx, .bad = bad,
	};
	rx->pkt = net_pkt_new(cap);
	rx->stop_efd = eventfd(0, EFD_CLOEXEC);
	return rx->pkt && rx->stop_efd >= 0 ? 0 : -1;
}

/* Every frame waiting, until the port has none. */
static void drain(struct nic_rx *rx)
{
	for (;;) {
		struct net_pkt *pkt = rx->pkt;
		pkt->cap = rx->cap;
		int r = net_port_recv(rx->port, 0, pkt);
		if (r == 0)
			return;
		if (r < 0 || !net_pkt_complete_csum(pkt)) {
			stat_add(rx->bad, 1);
			continue;
		}
		rx->deliver(rx->ctx, pkt->data, pkt->len);
	}
}

static void *rx_thread(void *arg)
{
	struct nic_rx *rx = arg;
	struct pollfd fds[2] = {
		{ .fd = rx->stop_efd, .events = POLLIN },
		{ .fd = net_port_rx_fd(rx->port, 0), .events = POLLIN },
	};
	for (;;) {
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[0].revents)
			break;
		drain(rx);
	}
	return NULL;
}

int nic_rx_start(struct nic_rx *rx)
{
	if (!rx->port || rx->started)
		return 0;
	rx->port->ops->set_offload(rx->port, false, false);
	if (pthread_create(&rx->thread, NULL, rx_thread, rx) != 0)
		return -EAGAIN;
	rx->started = true;
	return 0;
}

void nic_rx_stop(struct nic_rx *rx)
{
	if (!rx->started)
		return;
	uint64_t one = 1;
	if (write(rx->stop_efd, &one, sizeof(one)) == sizeof(one))
		pthread_join(rx->thread, NULL);
	rx->started = false;
}

void nic_rx_destroy(struct nic_rx *rx)
{
	nic_rx_stop(rx);
	if (rx->stop_efd >= 0)
		close(rx->stop_efd);
	rx->stop_efd = -1;
	net_pkt_free(rx->pkt);
	rx->pkt = NULL;
}
