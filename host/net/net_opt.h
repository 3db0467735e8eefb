/* SPDX-License-Identifier: MIT */
/*
 * `--net tap=NAME|switch=NAME[,mac=XX:XX:XX:XX:XX:XX][,mode=pv|fv|fv-dma|sync][,queues=N]`:
 * one NIC as the command line names it. Pure parsing; net_attach.h turns a
 * parsed NIC into a device.
 */
#ifndef PVKVM_NET_OPT_H
#define PVKVM_NET_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum net_link { NET_LINK_TAP, NET_LINK_SWITCH };

enum net_mode {
	NET_MODE_PV,   /* netif rings, netback on I/O threads (default) */
	NET_MODE_FV,   /* emulated NE2000 on ports 0x300..0x31f */
	NET_MODE_SYNC, /* one synchronous hypercall per frame */
	NET_MODE_FV_DMA, /* emulated e1000-style NIC: descriptor rings, doorbells */
};

#define NET_OPT_NAME_MAX 108 /* a UNIX socket path for switch=/path */

struct net_opt {
	enum net_link link;
	char name[NET_OPT_NAME_MAX];
	bool has_mac;
	uint8_t mac[6];
	enum net_mode mode;
	unsigned int queues; /* pv: 1..8 (default 1) */
};

/* 0, or -1 with a one-line reason in err. */
int net_opt_parse(const char *spec, struct net_opt *out, char *err, size_t errlen);
const char *net_mode_name(enum net_mode m);

#endif
