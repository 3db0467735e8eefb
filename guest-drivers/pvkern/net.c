// SPDX-License-Identifier: MIT
/* The network interface: picks a driver and keeps the shared counters. */
#include "net.h"

#include "console.h"
#include "hypercall/pvkvm_abi.h"
#include "klib.h"
#include "mm.h"
#include "net_keys.h"
#include "store.h"
#include "time.h"

static const struct {
	const char *name;
	enum net_mode mode;
} mode_names[] = {
	{ "auto", NET_MODE_AUTO },
	{ "pv", NET_MODE_PV },
	{ "fv", NET_MODE_FV },
	{ "fv-dma", NET_MODE_FV_DMA },
	{ "sync", NET_MODE_SYNC },
};

bool net_mode_parse(const char *s, enum net_mode *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++)
		if (!strcmp(s, mode_names[i].name)) {
			*out = mode_names[i].mode;
			return true;
		}
	return false;
}

const char *net_mode_name(enum net_mode m)
{
	for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++)
		if (mode_names[i].mode == m)
			return mode_names[i].name;
	return "?";
}

static const struct net_driver *driver_of(enum net_mode m)
{
	switch (m) {
	case NET_MODE_PV: return &net_pv_driver;
	case NET_MODE_FV: return &net_ne2000_driver;
	case NET_MODE_FV_DMA: return &net_e1000_driver;
	case NET_MODE_SYNC: return &net_sync_driver;
	default: return NULL;
	}
}

/* The mode the VMM attached interface index in, found through the store
 * only: touching the NE2000's or the e1000's ports when the VMM did not open them in the
 * I/O bitmap is a #GP that ends the guest. */
static enum net_mode probe_mode(unsigned int index)
{
	char path[64];

	snprintf(path, sizeof(path), NET_KEY_PV_BACKEND_STATE, index);
	if (store_has(path))
		return NET_MODE_PV;
	snprintf(path, sizeof(path), NET_KEY_SYNC, index);
	if (store_has(path))
		return NET_MODE_SYNC;
	snprintf(path, sizeof(path), NET_KEY_NE2000_IO_BASE, index);
	if (store_has(path))
		return NET_MODE_FV;
	snprintf(path, sizeof(path), NET_KEY_E1000_IO_BASE, index);
	if (store_has(path))
		return NET_MODE_FV_DMA;
	return NET_MODE_AUTO;
}

int net_open(enum net_mode mode, unsigned int index, struct net_dev **out)
{
	struct net_dev *d;
	int r;

	if (mode == NET_MODE_AUTO)
		mode = probe_mode(index);
	if (mode == NET_MODE_AUTO)
		return -PVKVM_ENOENT;
	d = kmalloc(sizeof(*d));
	if (!d)
		return -PVKVM_ENOMEM;
	d->drv = driver_of(mode);
	if (!d->drv)
		return -PVKVM_EINVAL;
	d->info.mode = mode;
	d->info.mtu = 1500;
	d->poll_spin_ns = 50000;
	r = d->drv->open(d, index);
	if (r < 0)
		return r;
	*out = d;
	return 0;
}

int net_send(struct net_dev *d, const void *frame, size_t len)
{
	int r;

	if (len < NET_MIN_FRAME || len > NET_MAX_FRAME)
		return -PVKVM_EINVAL;
	r = d->drv->send(d, frame, len);
	if (r == 0) {
		d->counters.tx_frames++;
		d->counters.tx_bytes += len;
	} else if (r == -PVKVM_EAGAIN) {
		d->counters.tx_full++;
	} else {
		d->counters.tx_errors++;
	}
	return r;
}

void net_flush(struct net_dev *d)
{
	if (d->drv->flush)
		d->drv->flush(d);
}

int net_send_now(struct net_dev *d, const void *frame, size_t len,
		 uint64_t deadline_ns)
{
	int r;

	while ((r = net_send(d, frame, len)) == -PVKVM_EAGAIN) {
		net_flush(d);
		if (deadline_ns && now_ns() > deadline_ns)
			return -PVKVM_ETIMEDOUT;
		cpu_relax();
	}
	net_flush(d);
	return r;
}

int net_recv(struct net_dev *d, void *buf, size_t cap)
{
	int r = d->drv->recv(d, buf, cap);

	if (r > 0) {
		if ((size_t)r > cap) {
			d->counters.rx_dropped++;
			return 0;
		}
		d->counters.rx_frames++;
		d->counters.rx_bytes += (uint64_t)r;
	} else if (r < 0 && r != -PVKVM_EAGAIN) {
		d->counters.rx_errors++;
	}
	return r == -PVKVM_EAGAIN ? 0 : r;
}

int net_wait(struct net_dev *d, uint64_t deadline_ns)
{
	if (d->drv->wait)
		return d->drv->wait(d, deadline_ns);
	if (deadline_ns && now_ns() > deadline_ns)
		return -PVKVM_ETIMEDOUT;
	return 0; /* polled drivers: look again */
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool net_parse_mac(const char *s, uint8_t mac[NET_ETH_ALEN])
{
	for (int i = 0; i < NET_ETH_ALEN; i++) {
		int hi = hex_digit(s[0]), lo = hi < 0 ? -1 : hex_digit(s[1]);

		if (lo < 0)
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (i < NET_ETH_ALEN - 1 && *s++ != ':')
			return false;
	}
	return *s == '\0';
}
