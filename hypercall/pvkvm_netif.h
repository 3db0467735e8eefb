/* SPDX-License-Identifier: MIT */
/*
 * pvkvm_netif.h - the PV network device protocol ("net"), in the spirit of
 * Xen's io/netif.h. docs/net.md is the prose specification; the layouts here
 * are pinned by _Static_assert so a change that moves a field fails to
 * compile in the VMM, the guest kernel and the Linux module alike.
 *
 * Shape of the protocol
 *  - Per queue, two one-page rings granted by the frontend and one event
 *    channel used in both directions:
 *      tx ring: the frontend posts frames to send (pvkvm_netif_tx_request),
 *               the backend answers each slot (pvkvm_netif_tx_response);
 *      rx ring: the frontend posts empty granted pages
 *               (pvkvm_netif_rx_request), the backend fills them with
 *               received frames (pvkvm_netif_rx_response).
 *  - Data never travels through a ring: a slot names a granted page, an
 *    offset and a length. A frame longer than one slot is a chain of slots,
 *    each but the last flagged MORE_DATA.
 *  - Checksum offload and TCP segmentation offload ride on the first slot of
 *    a chain; they map one to one onto the virtio-net header a TAP device
 *    with IFF_VNET_HDR reads and writes.
 *
 * Status values equal Xen's NETIF_RSP_*.
 */
#ifndef PVKVM_NETIF_H
#define PVKVM_NETIF_H

#include "hypercall/pvkvm_abi.h"
#include "ring/pvkvm_ring.h"

/* Ethernet framing as the device sees it: no preamble, no FCS. */
#define PVKVM_NETIF_ETH_HLEN 14u
#define PVKVM_NETIF_ETH_ALEN 6u
#define PVKVM_NETIF_MTU_DEFAULT 1500u
/* Shortest frame accepted on transmit: an Ethernet header. The backend pads
 * nothing; a switch or TAP peer sees what the frontend sent. */
#define PVKVM_NETIF_FRAME_MIN PVKVM_NETIF_ETH_HLEN
/* Longest frame without GSO: mtu + 14. With GSO (gso_type != NONE) a frame
 * may be up to PVKVM_NETIF_FRAME_MAX bytes. */
#define PVKVM_NETIF_FRAME_MAX 65535u
/* Most slots one frame may use (as Xen's XEN_NETBK_LEGACY_SLOTS_MAX). */
#define PVKVM_NETIF_MAX_SLOTS_PER_FRAME 18u

/* Slot flags, on tx requests and rx responses. CSUM_BLANK, DATA_VALIDATED
 * and GSO are meaningful on the first slot of a chain only. */
#define PVKVM_NETIF_F_MORE_DATA (1u << 0)      /* another slot of this frame follows */
#define PVKVM_NETIF_F_CSUM_BLANK (1u << 1)     /* L4 checksum not filled in: csum_* say where */
#define PVKVM_NETIF_F_DATA_VALIDATED (1u << 2) /* checksum already verified */
#define PVKVM_NETIF_F_GSO (1u << 3)            /* gso_type / gso_size are valid */
#define PVKVM_NETIF_F_ALL                                              \
	(PVKVM_NETIF_F_MORE_DATA | PVKVM_NETIF_F_CSUM_BLANK |            \
	 PVKVM_NETIF_F_DATA_VALIDATED | PVKVM_NETIF_F_GSO)

/* gso_type values: equal to virtio-net's VIRTIO_NET_HDR_GSO_*. */
enum pvkvm_netif_gso_type {
	PVKVM_NETIF_GSO_NONE = 0,
	PVKVM_NETIF_GSO_TCPV4 = 1,
};

/*
 * Transmit request (frontend -> backend), 24 bytes.
 *   gref         a page granted to the backend (read-only is enough)
 *   offset, size the bytes [offset, offset + size) of that page carry this
 *                slot's part of the frame; 1 <= size, offset + size <= 4096
 *   id           anything; echoed in this slot's response. Each slot of a
 *                chain gets its own response.
 *   flags        PVKVM_NETIF_F_*
 *   total_len    first slot: the frame's length (the sum of the chain's
 *                sizes); 0 on the other slots
 *   csum_start   first slot with CSUM_BLANK: where checksumming starts
 *   csum_offset  ... and where, counted from csum_start, the 16-bit
 *                checksum goes (a TCP or UDP checksum field)
 *   gso_size     first slot with GSO: the segment payload size (MSS)
 *   gso_type     first slot with GSO: enum pvkvm_netif_gso_type
 * Reserved fields must be 0.
 */
struct pvkvm_netif_tx_request {
	uint32_t gref;
	uint16_t offset;
	uint16_t size;
	uint16_t id;
	uint16_t flags;
	uint16_t total_len;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t gso_size;
	uint8_t gso_type;
	uint8_t reserved0;
	uint16_t reserved1;
};
PVKVM_STATIC_ASSERT(sizeof(struct pvkvm_netif_tx_request) == 24, "netif tx request size");
PVKVM_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_netif_tx_request, id) == 8,
		    "netif tx request id offset");
PVKVM_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_netif_tx_request, total_len) == 12,
		    "netif tx request total_len offset");
PVKVM_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_netif_tx_request, gso_type) == 20,
		    "netif tx request gso_type offset");

enum pvkvm_netif_status {
	PVKVM_NETIF_RSP_OKAY = 0,
	PVKVM_NETIF_RSP_ERROR = -1,   /* bad slot or chain, bad grant: frame not sent */
	PVKVM_NETIF_RSP_DROPPED = -2, /* valid, but not delivered (e.g. port gone) */
};

/* Transmit response (backend -> frontend), 8 bytes: one per tx slot. */
struct pvkvm_netif_tx_response {
	uint16_t id;     /* the slot's id */
	int16_t status;  /* enum pvkvm_netif_status; the same for every slot of a frame */
	uint32_t reserved;
};
PVKVM_STATIC_ASSERT(sizeof(struct pvkvm_netif_tx_response) == 8, "netif tx response size");

/*
 * Receive request (frontend -> backend), 8 bytes: an empty page the backend
 * may fill. Grant it read-write; the backend writes from offset 0.
 */
struct pvkvm_netif_rx_request {
	uint16_t id;    /* anything; echoed in the response that fills it */
	uint16_t reserved;
	uint32_t gref;
};
PVKVM_STATIC_ASSERT(sizeof(struct pvkvm_netif_rx_request) == 8, "netif rx request size");

/*
 * Receive response (backend -> frontend), 24 bytes: one per page filled.
 *   id       the rx request's id (the page it names now holds data)
 *   offset   where the data starts in the page (always 0 today)
 *   flags    PVKVM_NETIF_F_*: MORE_DATA when the frame continues in the next
 *            response; the offload flags on the first response of a frame
 *   status   > 0: bytes in this page; < 0: enum pvkvm_netif_status (the page
 *            holds nothing; never in the middle of a chain)
 *   total_len, csum_start, csum_offset, gso_size, gso_type: as on transmit,
 *            first response of a frame only
 */
struct pvkvm_netif_rx_response {
	uint16_t id;
	uint16_t offset;
	uint16_t flags;
	int16_t status;
	uint16_t total_len;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t gso_size;
	uint8_t gso_type;
	uint8_t reserved[7];
};
PVKVM_STATIC_ASSERT(sizeof(struct pvkvm_netif_rx_response) == 24, "netif rx response size");
PVKVM_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_netif_rx_response, status) == 6,
		    "netif rx response status offset");
PVKVM_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_netif_rx_response, gso_type) == 16,
		    "netif rx response gso_type offset");

/*
 * The rings: struct netif_tx_sring / netif_tx_front / netif_tx_back and
 * struct netif_rx_sring / ..., with the functions of ring/pvkvm_ring.h.
 * One page each: 128 tx slots, 128 rx slots.
 */
PVKVM_RING_DEFINE(netif_tx, struct pvkvm_netif_tx_request, struct pvkvm_netif_tx_response)
PVKVM_RING_DEFINE(netif_rx, struct pvkvm_netif_rx_request, struct pvkvm_netif_rx_response)
#define PVKVM_NETIF_RING_SLOTS 128u

/* The most queues a backend offers (multi-queue-max-queues). */
#define PVKVM_NETIF_MAX_QUEUES 8u

/* ------------------------------------------------------------------------
 * mode=fv: an NE2000 (DP8390) on the ISA bus.
 * ------------------------------------------------------------------------ */
#define PVKVM_NE2000_IO_BASE 0x300u
#define PVKVM_NE2000_IO_SIZE 0x20u   /* 0x300 .. 0x31f */
#define PVKVM_NE2000_DATA_PORT 0x10u /* remote DMA data (offset from base) */
#define PVKVM_NE2000_RESET_PORT 0x1fu
/* Device memory: 16 KiB at 0x4000 .. 0x7fff (pages 0x40 .. 0x80), as an
 * NE2000 in 16-bit mode; the PROM is at 0x0000 .. 0x001f. */
#define PVKVM_NE2000_MEM_START 0x4000u
#define PVKVM_NE2000_MEM_END 0x8000u

/* ------------------------------------------------------------------------
 * mode=sync: one synchronous hypercall per frame.
 *   PVKVM_HC_NET_SYNC_TX (gpa frame, len, nic = 0) -> 0 or -PVKVM_E*
 *       len PVKVM_NETIF_FRAME_MIN .. mtu + 14; the frame is fully
 *       checksummed (no offload).
 *   PVKVM_HC_NET_SYNC_RX (gpa buf, buf_len, nic = 0) -> frame length,
 *       -PVKVM_EAGAIN when nothing is queued, -PVKVM_E2BIG when the next
 *       frame is longer than buf_len (that frame is dropped and counted).
 *   Buffers in pages the guest may itself read (TX) or write (RX), no
 *   alignment rule.
 * ------------------------------------------------------------------------ */

#endif /* PVKVM_NETIF_H */
