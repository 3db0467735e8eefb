/* SPDX-License-Identifier: MIT */
/*
 * netfront_core: the OS-independent half of a PV network frontend
 * (hypercall/pvkvm_netif.h, docs/net.md), for one queue.
 *
 * It owns the two rings and the frame buffers: one page per tx slot and
 * one per rx slot, each granted once at init and kept granted for good
 * (the backend copies out of and into them; a grant per frame would cost
 * two grant-table updates per frame for nothing). A frame to send is
 * copied into a free tx page; a received frame is copied out of its rx
 * page, which is posted again. Frames are at most one page: the core
 * asks for no scatter-gather or GSO, so the backend never chains.
 *
 * It never sleeps, never talks to the config store and never allocates
 * after init: the OS glue (pvkern's net_pv.c, later a Linux driver) does
 * the xenbus handshake and the waiting, and hands the core an ops table.
 *
 * Freestanding C: no libc, no OS headers beyond the ring/ABI headers.
 * Not thread-safe: one caller at a time.
 */
#ifndef PVKVM_NETFRONT_CORE_H
#define PVKVM_NETFRONT_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hypercall/pvkvm_netif.h"

struct netfront_ops {
	/* A grant reference (> 0) of frame, read-only or writable, or a
	 * negative PVKVM_E*. */
	int (*grant)(void *ctx, uint64_t frame, bool readonly);
	/* Kicks the backend's event channel. */
	void (*notify)(void *ctx);
	/* Zeroed, page-aligned memory of n pages that stays ours; NULL: none. */
	void *(*alloc_pages)(void *ctx, size_t n);
	uint64_t (*virt_to_frame)(void *ctx, const void *va);
	void *ctx;
};

/* The largest frame the core moves: one page (a 1514-byte frame fits). */
#define NETFRONT_MAX_FRAME PVKVM_PAGE_SIZE

struct netfront_counters {
	uint64_t tx_queued, tx_done, tx_errors, tx_dropped;
	uint64_t rx_frames, rx_errors, rx_chains_dropped, rx_too_big;
	uint64_t notifies;    /* kicks sent (tx or rx pushes the backend asked for) */
	uint64_t rx_posted;   /* rx pages handed to the backend */
};

struct netfront_core {
	struct netfront_ops ops;
	struct netif_tx_sring *tx_sring;
	struct netif_rx_sring *rx_sring;
	struct netif_tx_front tx;
	struct netif_rx_front rx;
	uint32_t tx_ring_ref, rx_ring_ref;
	uint32_t nr_tx, nr_rx;      /* buffers: as many as ring slots */
	uint8_t *tx_pages, *rx_pages;
	uint32_t *tx_grefs, *rx_grefs;
	uint16_t *tx_free;          /* stack of free tx buffer ids */
	uint32_t nr_tx_free;
	uint16_t *rx_idle;          /* rx buffer ids not posted */
	uint32_t nr_rx_idle;
	uint8_t *tx_out, *rx_out;   /* per id: 1 while the backend has it */
	bool broken;                /* a ring index was impossible: stop */
	bool rx_in_chain;           /* dropping the rest of a chained frame */
	struct netfront_counters counters;
};

/* Allocates and grants both rings and every buffer; posts nothing yet.
 * The glue then publishes tx_ring_ref / rx_ring_ref. 0 or -PVKVM_E*. */
int netfront_core_init(struct netfront_core *c, const struct netfront_ops *ops);

/* Frames that can be queued right now. */
uint32_t netfront_core_tx_free(const struct netfront_core *c);
/* Copies one frame into a tx buffer and queues it (not yet visible: see
 * push). 0, -PVKVM_EAGAIN (no free buffer: reap first), -PVKVM_EINVAL
 * (length outside 14 .. one page), -PVKVM_EIO (broken). */
int netfront_core_tx_queue(struct netfront_core *c, const void *frame,
			   size_t len);
/* Publishes queued tx requests; kicks the backend only if it asked.
 * True if it kicked. */
bool netfront_core_tx_push(struct netfront_core *c);
/* Takes every tx response there is, freeing their buffers: how many, or
 * -PVKVM_EIO when the backend's index is impossible. */
int netfront_core_tx_reap(struct netfront_core *c);

/* Posts every idle rx buffer and publishes; kicks only if the backend
 * asked. True if it kicked. */
bool netfront_core_rx_refill(struct netfront_core *c);
/* One received frame copied into buf: its length (> cap: not copied,
 * counted as too big), 0 when none is there, -PVKVM_EIO (broken). *flags
 * gets the frame's PVKVM_NETIF_F_* offload flags. The page goes back to
 * the idle list for the next refill. */
int netfront_core_rx_take(struct netfront_core *c, void *buf, size_t cap,
			  uint16_t *flags);

/* Before sleeping for tx space: asks for a notification once half of
 * the frames out are answered, and looks once more. True: do not sleep. */
bool netfront_core_tx_prepare_sleep(struct netfront_core *c);

/* Before sleeping: posts idle buffers, asks for a notification at the
 * next rx response and looks once more. True: do not sleep. */
bool netfront_core_prepare_sleep(struct netfront_core *c);

#endif
