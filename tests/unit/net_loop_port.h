/* SPDX-License-Identifier: MIT */
/*
 * A frame port for unit tests of the NIC models: what the device sends is
 * kept for the test to look at; what the test injects is received, through
 * a real eventfd the device's thread polls. Offload settings are recorded.
 * fuzz_netif uses its receive side under a send of its own.
 */
#ifndef PVKVM_TEST_NET_LOOP_PORT_H
#define PVKVM_TEST_NET_LOOP_PORT_H

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "host/net/net_port.h"

#define LOOP_MAX 2048u

struct loop_port {
	struct net_port port;
	pthread_mutex_t lock;
	struct net_pkt *sent[LOOP_MAX];
	unsigned int nsent;
	struct net_pkt *in[LOOP_MAX];
	unsigned int in_head, in_count;
	int efd;
	bool csum, tso4;
	unsigned int send_calls;
};

static struct net_pkt *loop_copy(const struct net_pkt *p)
{
	struct net_pkt *c = net_pkt_new(p->len ? p->len : 1);
	c->vh = p->vh;
	c->len = p->len;
	memcpy(c->data, p->data, p->len);
	return c;
}

static unsigned int loop_send(struct net_port *np, struct net_pkt *const *pkts, unsigned int n)
{
	struct loop_port *l = (struct loop_port *)np;
	pthread_mutex_lock(&l->lock);
	l->send_calls++;
	for (unsigned int i = 0; i < n && l->nsent < LOOP_MAX; i++)
		l->sent[l->nsent++] = loop_copy(pkts[i]);
	pthread_mutex_unlock(&l->lock);
	return n;
}

static int loop_recv(struct net_port *np, unsigned int q, struct net_pkt *pkt)
{
	struct loop_port *l = (struct loop_port *)np;
	(void)q;
	pthread_mutex_lock(&l->lock);
	if (l->in_count == 0) {
		uint64_t v;
		if (read(l->efd, &v, sizeof(v)) < 0) {
			/* not raised */
		}
		pthread_mutex_unlock(&l->lock);
		return 0;
	}
	struct net_pkt *src = l->in[l->in_head];
	l->in_head = (l->in_head + 1) % LOOP_MAX;
	l->in_count--;
	pthread_mutex_unlock(&l->lock);
	int r = -1;
	if (src->len < pkt->cap) {
		pkt->vh = src->vh;
		pkt->len = src->len;
		memcpy(pkt->data, src->data, src->len);
		r = (int)src->len;
	}
	net_pkt_free(src);
	return r;
}

static int loop_rx_fd(struct net_port *np, unsigned int q)
{
	(void)q;
	return ((struct loop_port *)np)->efd;
}

static void loop_set_offload(struct net_port *np, bool csum, bool tso4)
{
	struct loop_port *l = (struct loop_port *)np;
	l->csum = csum;
	l->tso4 = tso4;
}

/* Frees every injected frame the device has not received yet. */
static void loop_drop_inbound(struct loop_port *l)
{
	pthread_mutex_lock(&l->lock);
	while (l->in_count) {
		net_pkt_free(l->in[l->in_head]);
		l->in_head = (l->in_head + 1) % LOOP_MAX;
		l->in_count--;
	}
	pthread_mutex_unlock(&l->lock);
}

/* Injected frames the device has not received yet. */
static inline unsigned int loop_inbound(struct loop_port *l)
{
	pthread_mutex_lock(&l->lock);
	unsigned int n = l->in_count;
	pthread_mutex_unlock(&l->lock);
	return n;
}

static void loop_close(struct net_port *np)
{
	struct loop_port *l = (struct loop_port *)np;
	for (unsigned int i = 0; i < l->nsent; i++)
		net_pkt_free(l->sent[i]);
	loop_drop_inbound(l);
	close(l->efd);
	free(l);
}

static const struct net_port_ops loop_ops = {
	.send = loop_send, .recv = loop_recv, .rx_fd = loop_rx_fd,
	.set_offload = loop_set_offload, .close = loop_close,
};

static struct loop_port *loop_port_new(unsigned int nr_queues, bool gso_ok)
{
	struct loop_port *l = calloc(1, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	l->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	l->port = (struct net_port){ .ops = &loop_ops, .kind = "loop",
				     .nr_queues = nr_queues, .gso_ok = gso_ok };
	return l;
}

/* Queues a frame for the device to receive. */
static void loop_inject(struct loop_port *l, const struct net_vhdr *vh,
			const uint8_t *data, uint32_t len)
{
	struct net_pkt *p = net_pkt_new(len);
	if (vh)
		p->vh = *vh;
	p->len = len;
	memcpy(p->data, data, len);
	pthread_mutex_lock(&l->lock);
	l->in[(l->in_head + l->in_count) % LOOP_MAX] = p;
	l->in_count++;
	uint64_t one = 1;
	if (write(l->efd, &one, sizeof(one)) < 0) {
		/* cannot overflow here */
	}
	pthread_mutex_unlock(&l->lock);
}

static inline unsigned int loop_nsent(struct loop_port *l)
{
	pthread_mutex_lock(&l->lock);
	unsigned int n = l->nsent;
	pthread_mutex_unlock(&l->lock);
	return n;
}

#endif
