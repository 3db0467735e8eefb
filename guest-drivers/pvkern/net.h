/* SPDX-License-Identifier: MIT */
/*
 * The one network interface pvkern's programs see, over four drivers:
 *   pv   netfront: netif tx/rx rings, grants, many frames in flight (net_pv.c)
 *   fv   the emulated NE2000 (DP8390) by polled port I/O (net_ne2000.c)
 *   fv-dma the emulated e1000: descriptor rings, TDT/RDT doorbells (net_e1000.c)
 *   sync one hypercall per frame (net_sync.c)
 *
 * Frames are whole Ethernet frames without the FCS: destination MAC first,
 * 14..NET_MAX_FRAME bytes. The stack (netstack.h) sits on top.
 *
 * Transmit: net_send() copies the frame out of the caller's buffer (it may
 * be reused at once) and queues it; net_flush() makes queued frames visible
 * to the device with one notification at most (fv-dma: one TDT write). fv
 * and sync transmit inside
 * net_send() (the hardware model and the hypercall are synchronous).
 * Receive: net_recv() hands over one received frame, or 0 when none is
 * there; net_wait() blocks until a frame may be there or a deadline.
 */
#ifndef PVKERN_NET_H
#define PVKERN_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum net_mode {
	NET_MODE_AUTO, /* pv if the store has the interface, else sync; never fv */
	NET_MODE_PV,
	NET_MODE_FV,
	NET_MODE_SYNC,
	NET_MODE_FV_DMA,
};

#define NET_ETH_ALEN 6
#define NET_ETH_HLEN 14
#define NET_MIN_FRAME 14u
#define NET_MAX_FRAME 1514u
/* What the NE2000 pads a short frame to (the minimum Ethernet payload). */
#define NET_ETH_ZLEN 60u

struct net_info {
	uint8_t mac[NET_ETH_ALEN];
	uint32_t mtu;         /* IP MTU: 1500 */
	enum net_mode mode;
	uint32_t tx_slots;    /* frames that can be queued before a flush */
};

/* Counters a program can print next to its figures. */
struct net_counters {
	uint64_t tx_frames, tx_bytes, tx_errors;
	uint64_t tx_full;    /* net_send() refused for lack of room (EAGAIN) */
	uint64_t rx_frames, rx_bytes, rx_errors;
	uint64_t rx_dropped; /* frames the driver saw and had to drop */
	uint64_t kicks;      /* notifications sent to the backend */
	uint64_t sleeps;     /* WAIT hypercalls made while waiting */
};

struct net_dev;

/* Per-driver entry points (one table per mode). */
struct net_driver {
	const char *name;
	int (*open)(struct net_dev *d, unsigned int index);
	/* 0 (queued or sent), -PVKVM_EAGAIN (no room now) or an error. */
	int (*send)(struct net_dev *d, const void *frame, size_t len);
	void (*flush)(struct net_dev *d);
	/* The frame's length (copied to buf, truncated to cap), 0 when none,
	 * or an error. */
	int (*recv)(struct net_dev *d, void *buf, size_t cap);
	/* 0 when a frame may be there, -PVKVM_ETIMEDOUT at the deadline. */
	int (*wait)(struct net_dev *d, uint64_t deadline_ns);
};

/* What the driver knows about the frame net_recv() returned last. */
#define NET_RX_CSUM_VALID 0x1 /* the host checked the L4 checksum */
#define NET_RX_CSUM_BLANK 0x2 /* L4 checksum left partial (offloaded) */

struct net_dev {
	const struct net_driver *drv;
	struct net_info info;
	struct net_counters counters;
	uint32_t rx_flags;     /* NET_RX_* of the last frame received */
	uint32_t poll_spin_ns; /* pv: busy-poll this long before sleeping */
	void *priv;            /* the driver's */
};

/* Opens interface `index` of the mode: 0 and *out, or a negative PVKVM_E*
 * (-PVKVM_ENOENT: no such interface). */
int net_open(enum net_mode mode, unsigned int index, struct net_dev **out);
/* "pv", "fv", "fv-dma", "sync" or "auto" -> mode; false if none of those. */
bool net_mode_parse(const char *s, enum net_mode *out);
const char *net_mode_name(enum net_mode m);

/* Queues one frame (copied): 0, -PVKVM_EAGAIN (full: flush and try again
 * later), -PVKVM_EINVAL (length outside 14..1514) or another error. */
int net_send(struct net_dev *d, const void *frame, size_t len);
/* Makes queued frames visible to the device. */
void net_flush(struct net_dev *d);
/* Sends one frame and flushes, retrying a full queue until deadline_ns. */
int net_send_now(struct net_dev *d, const void *frame, size_t len,
		 uint64_t deadline_ns);
/* One received frame into buf: its length, 0 when none is there now, or
 * an error. A frame longer than cap is dropped (counted) and 0 returned. */
int net_recv(struct net_dev *d, void *buf, size_t cap);
/* Blocks until a frame may be there (0) or deadline_ns (0 = none):
 * -PVKVM_ETIMEDOUT. */
int net_wait(struct net_dev *d, uint64_t deadline_ns);

/* "aa:bb:cc:dd:ee:ff" -> mac; false on anything else. */
bool net_parse_mac(const char *s, uint8_t mac[NET_ETH_ALEN]);

extern const struct net_driver net_pv_driver;
extern const struct net_driver net_ne2000_driver;
extern const struct net_driver net_e1000_driver;
extern const struct net_driver net_sync_driver;

#endif
