/* SPDX-License-Identifier: MIT */
/*
 * A frame port: where a NIC's frames go and come from, whatever the NIC
 * model (PV netback, NE2000, sync hypercalls). Two implementations: a Linux
 * TAP device (net_tap.c) and a port of the built-in L2 switch
 * (net_switch.c). Frames carry the virtio-net header the TAP reads and
 * writes with IFF_VNET_HDR, so offload flags pass through unchanged.
 *
 * A port has nr_queues receive queues, each with a file descriptor that is
 * readable when frames may be waiting; recv() never blocks. Each queue is
 * used by one thread at a time; send() may be called from any thread.
 */
#ifndef PVKVM_NET_PORT_H
#define PVKVM_NET_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* struct virtio_net_hdr (linux/virtio_net.h), spelled out: its layout is
 * the TAP's and the switch socket's wire format. */
struct net_vhdr {
	uint8_t flags;       /* NET_VHDR_F_* */
	uint8_t gso_type;    /* NET_VHDR_GSO_* */
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};
_Static_assert(sizeof(struct net_vhdr) == 10, "virtio_net_hdr size");
#define NET_VHDR_F_NEEDS_CSUM 1u
#define NET_VHDR_F_DATA_VALID 2u
#define NET_VHDR_GSO_NONE 0u
#define NET_VHDR_GSO_TCPV4 1u

/* A frame in host memory. */
struct net_pkt {
	struct net_vhdr vh;
	uint32_t len;  /* bytes in data */
	uint32_t cap;  /* bytes data can hold */
	uint8_t *data;
};

/* The largest frame a port hands out without GSO: 1500 + 14, plus a VLAN tag. */
#define NET_FRAME_MAX_NOGSO 1518u
#define NET_FRAME_MAX_GSO 65550u

struct net_port;

struct net_port_ops {
	/* Sends n frames (a batch). Returns how many were accepted; frames
	 * not accepted are the caller's to count as dropped. */
	unsigned int (*send)(struct net_port *p, struct net_pkt *const *pkts,
			     unsigned int n);
	/* Copies the next frame of queue q into *pkt (pkt->cap bytes at most).
	 * Its length, 0 when nothing waits, or -1 if it did not fit (it is
	 * dropped). Never blocks. */
	int (*recv)(struct net_port *p, unsigned int q, struct net_pkt *pkt);
	/* Readable when queue q may have frames. */
	int (*rx_fd)(struct net_port *p, unsigned int q);
	/* Which offloads the consumer accepts on receive. */
	void (*set_offload)(struct net_port *p, bool csum, bool tso4);
	void (*close)(struct net_port *p);
};

struct net_port {
	const struct net_port_ops *ops;
	const char *kind;       /* "tap" or "switch" */
	unsigned int nr_queues;
	bool gso_ok;            /* accepts GSO frames on send */
};

static inline unsigned int net_port_send(struct net_port *p,
					 struct net_pkt *const *pkts,
					 unsigned int n)
{
	return p->ops->send(p, pkts, n);
}

static inline int net_port_recv(struct net_port *p, unsigned int q,
				struct net_pkt *pkt)
{
	return p->ops->recv(p, q, pkt);
}

static inline int net_port_rx_fd(struct net_port *p, unsigned int q)
{
	return p->ops->rx_fd(p, q);
}

static inline void net_port_close(struct net_port *p)
{
	if (p)
		p->ops->close(p);
}

/* A packet buffer of cap bytes (malloc'd; free with net_pkt_free). */
struct net_pkt *net_pkt_new(uint32_t cap);
void net_pkt_free(struct net_pkt *pkt);

/* Fills in the checksum a NEEDS_CSUM frame left blank (the Internet
 * checksum over [csum_start, len), folded into the field at csum_start +
 * csum_offset), and clears the flag. false if the offsets lie outside the
 * frame (then the frame is left as it was). */
bool net_pkt_complete_csum(struct net_pkt *pkt);

/* A hash of the frame's addresses (a flow stays on one queue). */
uint32_t net_flow_hash(const uint8_t *frame, uint32_t len);

/* "52:54:00:12:34:56" -> 6 bytes. 0 or -1. */
int net_parse_mac(const char *s, size_t len, uint8_t mac[6]);
void net_format_mac(const uint8_t mac[6], char out[18]);

#endif
