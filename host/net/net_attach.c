// SPDX-License-Identifier: MIT
/*
 * From --net to devices: the port (TAP or switch) and the VM glue of each
 * NIC mode (ports for the NE2000, hypercalls for sync, xenbus for PV).
 */
#include "host/net/net_attach.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/core/hcall.h"
#include "host/core/stats.h"
#include "host/core/vm.h"
#include "host/net/dev_e1000.h"
#include "host/net/dev_ne2000.h"
#include "host/net/net_port.h"
#include "host/net/net_switch.h"
#include "host/net/net_sync.h"
#include "host/net/net_tap.h"
#include "host/net/netback.h"
#include "host/services/store.h"
#include "host/util/errmsg.h"
#include "hypercall/pvkvm_netif.h"

static unsigned int count_mode(const struct net_set *s, enum net_mode m)
{
	unsigned int n = 0;
	for (unsigned int i = 0; i < s->n; i++)
		n += s->opt[i].mode == m;
	return n;
}

int net_set_add(struct net_set *s, const char *spec, char *err, size_t errlen)
{
	if (s->n == NET_MAX)
		return errmsg(-1, err, errlen, "--net: at most %u NICs", NET_MAX);
	struct net_opt o;
	if (net_opt_parse(spec, &o, err, errlen))
		return -1;
	if (o.mode != NET_MODE_PV && count_mode(s, o.mode) > 0)
		return errmsg(-1, err, errlen, "--net: only one mode=%s NIC per VM",
			      net_mode_name(o.mode));
	s->opt[s->n++] = o;
	return 0;
}

void net_default_mac(unsigned int index, uint8_t mac[6])
{
	unsigned int pid = (unsigned int)getpid();
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	mac[3] = (uint8_t)(pid >> 8);
	mac[4] = (uint8_t)pid;
	mac[5] = (uint8_t)index;
}

static int open_port(const struct net_opt *o, struct net_port **out, char *err,
		     size_t errlen)
{
	if (o->link == NET_LINK_TAP)
		return net_tap_open(o->name, o->queues, out, err, errlen);
	return net_switch_open(o->name, o->queues, out, err, errlen);
}

/* ---- mode=fv: the NE2000 ------------------------------------------------------ */

struct ne_dev {
	struct device dev;
	struct net_port *port;
	struct ne2000 *ne;
};

static int ne_dev_start(struct device *dev, struct vm *vm)
{
	struct ne_dev *d = dev->priv;
	int r = vm_register_pio(vm, PVKVM_NE2000_IO_BASE, PVKVM_NE2000_IO_SIZE,
				ne2000_pio, d->ne);
	if (r == 0)
		r = ne2000_start_rx(d->ne);
	if (r == 0)
		stats_register_group(&vm->stats, ne2000_stats(d->ne));
	return r;
}

static void ne_dev_stop(struct device *dev, struct vm *vm)
{
	(void)vm;
	ne2000_stop_rx(((struct ne_dev *)dev->priv)->ne);
}

static void ne_dev_destroy(struct device *dev)
{
	struct ne_dev *d = dev->priv;
	ne2000_free(d->ne);
	net_port_close(d->port);
	free(d);
}

static struct device *ne_dev_new(struct net_port *port, const uint8_t mac[6])
{
	struct ne_dev *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->ne = ne2000_new(mac, port);
	if (!d->ne) {
		free(d);
		return NULL;
	}
	d->port = port;
	d->dev = (struct device){ .name = "ne2000", .priv = d, .start = ne_dev_start,
				  .stop = ne_dev_stop };
	return &d->dev;
}

/* ---- mode=fv-dma: the e1000-style NIC ------------------------------------------ */

struct e1000_dev {
	struct device dev;
	struct net_port *port;
	uint8_t mac[6];
	struct e1000 *nic; /* made at start: it needs guest RAM */
};

static int e1000_dev_start(struct device *dev, struct vm *vm)
{
	struct e1000_dev *d = dev->priv;
	d->nic = e1000_new(d->mac, d->port, &vm->mem);
	if (!d->nic)
		return -ENOMEM;
	int r = vm_register_pio(vm, E1000_IO_BASE, E1000_IO_PORTS, e1000_pio, d->nic);
	if (r == 0)
		r = e1000_start_rx(d->nic);
	if (r == 0)
		stats_register_group(&vm->stats, e1000_stats(d->nic));
	return r;
}

static void e1000_dev_stop(struct device *dev, struct vm *vm)
{
	(void)vm;
	struct e1000_dev *d = dev->priv;
	if (d->nic)
		e1000_stop_rx(d->nic);
}

static void e1000_dev_destroy(struct device *dev)
{
	struct e1000_dev *d = dev->priv;
	e1000_free(d->nic);
	net_port_close(d->port);
	free(d);
}

static struct device *e1000_dev_new(struct net_port *port, const uint8_t mac[6])
{
	struct e1000_dev *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->port = port;
	memcpy(d->mac, mac, 6);
	d->dev = (struct device){ .name = "e1000", .priv = d, .start = e1000_dev_start,
				  .stop = e1000_dev_stop };
	return &d->dev;
}

/* ---- mode=sync: the hypercalls ---------------------------------------------------- */

struct sync_dev {
	struct device dev;
	struct net_sync ns;
};

static int64_t hc_tx(struct vcpu *v, void *ctx, const uint64_t a[HCALL_NARGS])
{
	return net_sync_tx(&((struct sync_dev *)ctx)->ns, &v->vm->mem, a);
}

static int64_t hc_rx(struct vcpu *v, void *ctx, const uint64_t a[HCALL_NARGS])
{
	return net_sync_rx(&((struct sync_dev *)ctx)->ns, &v->vm->mem, a);
}

static int sync_dev_start(struct device *dev, struct vm *vm)
{
	struct sync_dev *d = dev->priv;
	int r = hcall_register(vm->hcalls, PVKVM_HC_NET_SYNC_TX, "net_sync_tx", hc_tx, d);
	if (r == 0) {
		r = hcall_register(vm->hcalls, PVKVM_HC_NET_SYNC_RX, "net_sync_rx", hc_rx, d);
		if (r)
			hcall_unregister(vm->hcalls, PVKVM_HC_NET_SYNC_TX);
	}
	if (r == 0)
		stats_register_group(&vm->stats, &d->ns.group);
	return r;
}

static void sync_dev_stop(struct device *dev, struct vm *vm)
{
	(void)dev;
	hcall_unregister(vm->hcalls, PVKVM_HC_NET_SYNC_TX);
	hcall_unregister(vm->hcalls, PVKVM_HC_NET_SYNC_RX);
}

static void sync_dev_destroy(struct device *dev)
{
	struct sync_dev *d = dev->priv;
	struct net_port *port = d->ns.port;
	net_sync_fini(&d->ns);
	net_port_close(port);
	free(d);
}

static struct device *sync_dev_new(struct net_port *port)
{
	struct sync_dev *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	if (net_sync_init(&d->ns, port, PVKVM_NETIF_MTU_DEFAULT)) {
		free(d);
		return NULL;
	}
	d->dev = (struct device){ .name = "net_sync", .priv = d,
				  .start = sync_dev_start, .stop = sync_dev_stop };
	return &d->dev;
}

/* ---- mode=pv ------------------------------------------------------------------------ */

static struct device *pv_dev_new(struct net_port *port, const struct net_opt *o,
				 const uint8_t mac[6], unsigned int id)
{
	struct netback_config cfg;
	netback_config_default(&cfg, id);
	cfg.max_queues = o->queues;
	memcpy(cfg.mac, mac, 6);
	return netback_create(port, &cfg);
}

/* ---- the set ---------------------------------------------------------------------------- */

/* Under "platform/", read-only to guests: the NICs without a xenbus
 * directory, so a guest finds them without probing closed ports. */
static void announce_platform_nic(struct vm *vm, enum net_mode mode, const uint8_t mac[6])
{
	char m[18];
	net_format_mac(mac, m);
	if (mode == NET_MODE_FV) {
		store_printf(vm->store, "platform/ne2000/0/io-base", "0x%x", PVKVM_NE2000_IO_BASE);
		store_printf(vm->store, "platform/ne2000/0/io-size", "%u", PVKVM_NE2000_IO_SIZE);
		store_printf(vm->store, "platform/ne2000/0/irq", "none");
		store_printf(vm->store, "platform/ne2000/0/mac", "%s", m);
	} else if (mode == NET_MODE_FV_DMA) {
		store_printf(vm->store, "platform/e1000/0/io-base", "0x%x", E1000_IO_BASE);
		store_printf(vm->store, "platform/e1000/0/io-size", "%u", E1000_IO_PORTS);
		store_printf(vm->store, "platform/e1000/0/irq", "none");
		store_printf(vm->store, "platform/e1000/0/mac", "%s", m);
	} else if (mode == NET_MODE_SYNC) {
		store_printf(vm->store, "platform/net-sync/0/hypercall-tx", "%u",
			     PVKVM_HC_NET_SYNC_TX);
		store_printf(vm->store, "platform/net-sync/0/hypercall-rx", "%u",
			     PVKVM_HC_NET_SYNC_RX);
		store_printf(vm->store, "platform/net-sync/0/mac", "%s", m);
		store_printf(vm->store, "platform/net-sync/0/mtu", "%u", PVKVM_NETIF_MTU_DEFAULT);
	}
}

static struct device *device_for(struct net_set *s, unsigned int i, struct net_port *port,
				 const uint8_t mac[6], unsigned int pv_id)
{
	switch (s->opt[i].mode) {
	case NET_MODE_FV:
		s->destroy[i] = ne_dev_destroy;
		return ne_dev_new(port, mac);
	case NET_MODE_SYNC:
		s->destroy[i] = sync_dev_destroy;
		return sync_dev_new(port);
	case NET_MODE_FV_DMA:
		s->destroy[i] = e1000_dev_destroy;
		return e1000_dev_new(port, mac);
	case NET_MODE_PV:
	default:
		s->destroy[i] = netback_destroy;
		return pv_dev_new(port, &s->opt[i], mac, pv_id);
	}
}

int net_set_attach(struct vm *vm, struct net_set *s, char *err, size_t errlen)
{
	unsigned int pv_id = 0;
	for (unsigned int i = 0; i < s->n; i++) {
		const struct net_opt *o = &s->opt[i];
		uint8_t mac[6];
		if (o->has_mac)
			memcpy(mac, o->mac, 6);
		else
			net_default_mac(i, mac);
		struct net_port *port;
		char why[256];
		if (open_port(o, &port, why, sizeof(why)))
			return errmsg(-1, err, errlen, "--net %s", why);
		struct device *dev = device_for(s, i, port, mac, pv_id);
		if (!dev) {
			net_port_close(port);
			return errmsg(-1, err, errlen, "--net %s=%s: out of memory",
				      o->link == NET_LINK_TAP ? "tap" : "switch", o->name);
		}
		if (o->mode == NET_MODE_PV)
			pv_id++;
		else
			announce_platform_nic(vm, o->mode, mac);
		s->dev[i] = dev;
		vm_add_device(vm, dev);
	}
	return 0;
}

void net_set_release(struct net_set *s)
{
	for (unsigned int i = 0; i < s->n; i++) {
		if (s->dev[i])
			s->destroy[i](s->dev[i]);
		s->dev[i] = NULL;
	}
}
