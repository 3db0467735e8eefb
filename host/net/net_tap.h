/* SPDX-License-Identifier: MIT */
/*
 * A Linux TAP device as a frame port: IFF_TAP | IFF_NO_PI | IFF_VNET_HDR,
 * and IFF_MULTI_QUEUE with one descriptor per queue when nr_queues > 1.
 * An existing TAP the user may open is attached and left in place; a
 * missing one is created (that needs CAP_NET_ADMIN) and removed on close.
 */
#ifndef PVKVM_NET_TAP_H
#define PVKVM_NET_TAP_H

#include <stddef.h>

struct net_port;

#define NET_TAP_NAME_MAX 15 /* IFNAMSIZ - 1 */

/* 0 and *out, or -errno with one line in err. */
int net_tap_open(const char *name, unsigned int nr_queues,
		 struct net_port **out, char *err, size_t errlen);

#endif
