/* SPDX-License-Identifier: MIT */
/*
 * The built-in learning L2 switch. Every NIC of one process that names the
 * same switch gets a port on it; across processes the switch is joined
 * through a UNIX socket (SOCK_SEQPACKET, one frame with its virtio-net
 * header per message): the first process binds it and is the hub, the
 * others connect, each as one port of the hub's switch (a star: flooding
 * never loops). docs/net.md has the naming rule.
 *
 * A port learns the source MAC of every frame it sends; a frame goes to the
 * port that last sent from its destination MAC, or to every other port when
 * the destination is unknown, broadcast or multicast. Each local port has a
 * bounded queue per receive queue (NET_SWITCH_QUEUE_LEN frames); a frame
 * that finds it full is dropped and counted.
 */
#ifndef PVKVM_NET_SWITCH_H
#define PVKVM_NET_SWITCH_H

#include <stddef.h>
#include <stdint.h>

struct net_port;

#define NET_SWITCH_NAME_MAX 64
#define NET_SWITCH_QUEUE_LEN 256u
#define NET_SWITCH_MAX_PORTS 64u

/* The socket path for name into out. 0, or -EINVAL for a bad name. */
int net_switch_socket_path(const char *name, char *out, size_t outlen);

/* A new port on the switch called name (created, bound or joined as
 * needed). 0 and *out, or -errno with one line in err. */
int net_switch_open(const char *name, unsigned int nr_queues,
		    struct net_port **out, char *err, size_t errlen);

/* Frames this port's queues dropped because they were full. */
uint64_t net_switch_port_drops(struct net_port *p);

#endif
