/* SPDX-License-Identifier: MIT */
/*
 * mode=sync: the NIC as one synchronous hypercall per frame, between full
 * emulation and PV rings. PVKVM_HC_NET_SYNC_TX hands the guest's frame to
 * the port on the calling vCPU thread; PVKVM_HC_NET_SYNC_RX takes the next
 * frame the port holds (the TAP's or the switch port's own bounded queue)
 * or answers -PVKVM_EAGAIN. See hypercall/pvkvm_netif.h and docs/net.md.
 */
#ifndef PVKVM_NET_SYNC_H
#define PVKVM_NET_SYNC_H

#include <pthread.h>
#include <stdint.h>

#include "host/core/hcall.h"
#include "host/core/stats.h"

struct guest_mem;
struct net_port;
struct net_pkt;

enum net_sync_counter {
	NET_SYNC_C_CALLS,
	NET_SYNC_C_TX_FRAMES,
	NET_SYNC_C_TX_BYTES,
	NET_SYNC_C_RX_FRAMES,
	NET_SYNC_C_RX_BYTES,
	NET_SYNC_C_RX_EMPTY,
	NET_SYNC_C_RX_DROPPED,
	NET_SYNC_C_ERRORS,
	NET_SYNC_C_COUNT
};

struct net_sync {
	struct net_port *port;   /* the caller's; outlives this */
	unsigned int mtu;
	pthread_mutex_t rx_lock; /* one vCPU at a time takes a frame */
	struct net_pkt *rx_pkt;
	struct stat_counter counters[NET_SYNC_C_COUNT];
	struct stats_group group;
};

/* 0 or -PVKVM_ENOMEM. A guest buffer must be one the guest could read
 * (transmit) or write (receive) itself, every page of it: the VMM's pages
 * below PVKVM_GUEST_LOAD_MIN, its read-only start-info and write-protected
 * text are refused (-PVKVM_EFAULT), as for every hypercall buffer. */
int net_sync_init(struct net_sync *s, struct net_port *port, unsigned int mtu);
void net_sync_fini(struct net_sync *s);

/* The hypercall bodies on explicit guest memory (testable without a vCPU). */
int64_t net_sync_tx(struct net_sync *s, const struct guest_mem *m,
		    const uint64_t args[HCALL_NARGS]);
int64_t net_sync_rx(struct net_sync *s, const struct guest_mem *m,
		    const uint64_t args[HCALL_NARGS]);

#endif
