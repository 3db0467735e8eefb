/* SPDX-License-Identifier: MIT */
/*
 * The receive thread of an emulated NIC (NE2000, e1000): it waits on queue
 * 0 of the NIC's port, takes each frame with its checksum completed (the
 * port is told the NIC accepts no offloads) and hands it to the model's
 * deliver(), under whatever lock the model takes there. A frame the port
 * could not hand over whole, or whose checksum offsets lie outside it, is
 * counted in *bad and not delivered.
 */
#ifndef PVKVM_NIC_RX_H
#define PVKVM_NIC_RX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "host/net/net_port.h"

typedef bool (*nic_rx_deliver_fn)(void *ctx, const uint8_t *frame, uint32_t len);

struct nic_rx {
	struct net_port *port;   /* NULL: no port, nothing to receive */
	struct net_pkt *pkt;     /* the thread's buffer */
	uint32_t cap;            /* the largest frame taken */
	int stop_efd;
	pthread_t thread;
	bool started;
	nic_rx_deliver_fn deliver;
	void *ctx;
	atomic_uint_fast64_t *bad;
};

/* Its buffer (CAP bytes) and stop eventfd; the thread is not started.
 * 0, or -1 (then nic_rx_destroy cleans up). */
int nic_rx_init(struct nic_rx *rx, struct net_port *port, uint32_t cap,
		nic_rx_deliver_fn deliver, void *ctx, atomic_uint_fast64_t *bad);

/* Starts the thread (once; no port: nothing). 0, or -EAGAIN. */
int nic_rx_start(struct nic_rx *rx);

/* Stops the thread and waits for it; nothing if it is not running. */
void nic_rx_stop(struct nic_rx *rx);

/* Stops the thread and frees what nic_rx_init took. */
void nic_rx_destroy(struct nic_rx *rx);

#endif
