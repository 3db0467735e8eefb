/* SPDX-License-Identifier: MIT */
/*
 * The NICs of one `pvkvm run`: parsed --net options turned into devices on
 * a VM, one per mode: a PV backend ("net" n, n counting PV NICs from 0),
 * the NE2000 (at most one, at 0x300), the e1000-style NIC (at most one, its
 * I/O window at 0xc080) or the sync hypercall NIC (at most
 * one: the hypercalls take nic 0 only).
 *
 * Life cycle as disk_attach.h: add while parsing, attach once the VM
 * exists, release after the VM is destroyed.
 */
#ifndef PVKVM_NET_ATTACH_H
#define PVKVM_NET_ATTACH_H

#include <stddef.h>

#include "host/net/net_opt.h"

struct device;
struct vm;

#define NET_MAX 8

struct net_set {
	unsigned int n;
	struct net_opt opt[NET_MAX];
	struct device *dev[NET_MAX];
	void (*destroy[NET_MAX])(struct device *);
};

/* Parses one --net and appends it. 0, or -1 with a reason in err. */
int net_set_add(struct net_set *s, const char *spec, char *err, size_t errlen);
/* Opens every port and adds its device to vm. 0, or -1 with a reason. */
int net_set_attach(struct vm *vm, struct net_set *s, char *err, size_t errlen);
/* Frees the devices and closes the ports; only once the VM is gone. */
void net_set_release(struct net_set *s);

/* The MAC a NIC gets without mac=: 52:54:00:<pid>:<index>. */
void net_default_mac(unsigned int index, uint8_t mac[6]);

#endif
