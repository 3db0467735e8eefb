/* SPDX-License-Identifier: MIT */
/*
 * The PV network backend (xenbus type "net"): serves a frontend's netif
 * rings (hypercall/pvkvm_netif.h, docs/net.md) from a frame port (TAP or
 * the built-in switch), one I/O thread per queue, never a vCPU thread.
 *
 * Per queue the I/O thread sleeps in poll() on the queue's event channel
 * (the guest's send, through KVM's ioeventfd), the port's receive
 * descriptors and a stop eventfd. On a wake it takes every transmit chain,
 * copies each frame once out of the granted pages and hands the port a
 * batch; it drains the port into a bounded receive queue (frames beyond it
 * are dropped and counted) and copies queued frames into the pages the
 * guest posted; then it publishes the responses, notifying only when the
 * ring's rule says so, and sleeps after the final checks (the rx ring's
 * only while frames wait for buffers, so posting buffers costs the guest
 * no kick otherwise).
 */
#ifndef PVKVM_NETBACK_H
#define PVKVM_NETBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "ring/pvkvm_ring.h"

struct device;
struct net_port;

struct netback_config {
	unsigned int id;          /* backend/net/<id>, device "net<id>" */
	unsigned int max_queues;  /* multi-queue-max-queues: 1..8, = the port's queues */
	uint8_t mac[6];
	unsigned int mtu;         /* 68..9000 */
	enum pvkvm_ring_notify notify; /* SUPPRESS normally; ALWAYS to measure */
};

/* Frames a queue holds for a guest that has not posted buffers. */
#define NETBACK_RXQ_LEN 256u
/* Frames handed to the port per call. */
#define NETBACK_TX_BATCH 32u

void netback_config_default(struct netback_config *cfg, unsigned int id);

/* A new, unstarted device on port (the device owns it from now on and
 * closes it in netback_destroy). NULL on allocation failure. */
struct device *netback_create(struct net_port *port,
			      const struct netback_config *cfg);
void netback_destroy(struct device *dev);

/* What a guest's send on queue q's event channel does (tests). 0 or
 * -PVKVM_EINVAL when that queue is not connected. */
int netback_kick(struct device *dev, unsigned int q);

/* How many times queue 0's I/O thread began and finished taking all the
 * work there was (harnesses: a pass begun after a kick has seen all that
 * was written before it). */
void netback_passes(struct device *dev, uint64_t *begun, uint64_t *done);

/* Whether the device stopped itself (a broken ring). */
bool netback_is_broken(struct device *dev);

#endif
