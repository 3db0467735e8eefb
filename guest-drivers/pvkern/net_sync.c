// SPDX-License-Identifier: MIT
/*
 * The sync-hypercall network driver: PVKVM_HC_NET_SYNC_TX sends one frame
 * and returns when the VMM has handed it to the port; PVKVM_HC_NET_SYNC_RX
 * takes one queued frame or says -PVKVM_EAGAIN. No ring, no grants, no
 * event: one exit per frame each way, and receiving is polling.
 */
#include "net.h"

#include "console.h"
#include "hypercall.h"
#include "hypercall/pvkvm_netif.h"
#include "klib.h"
#include "net_keys.h"
#include "store.h"

/* The VMM refuses buffers below 1 MiB; ours are in .bss (at 2 MiB up). */
static uint8_t sync_txbuf[NET_MAX_FRAME];

static int sync_read_mac(unsigned int index, uint8_t mac[NET_ETH_ALEN])
{
	char path[64], val[24];

	snprintf(path, sizeof(path), NET_KEY_SYNC_MAC, index);
	if (store_read(path, val, sizeof(val)) < 0)
		return -PVKVM_ENOENT;
	return net_parse_mac(val, mac) ? 0 : -PVKVM_EINVAL;
}

static int sync_open(struct net_dev *d, unsigned int index)
{
	char path[64];
	uint64_t mtu;
	int r;

	if (index != 0)
		return -PVKVM_ENOENT; /* one sync NIC per VM */
	r = sync_read_mac(index, d->info.mac);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), NET_KEY_SYNC_MTU, index);
	if (store_read_u64(path, &mtu) == 0 && mtu >= 68 && mtu <= 1500)
		d->info.mtu = (uint32_t)mtu;
	d->info.tx_slots = 1;
	d->priv = (void *)(uintptr_t)index;
	return 0;
}

static int sync_send(struct net_dev *d, const void *frame, size_t len)
{
	const void *buf = frame;

	/* A caller's stack buffer lies below 1 MiB only if RAM is tiny; the
	 * copy keeps the rule simple and costs nothing next to the exit. */
	if ((uintptr_t)frame < (1u << 20)) {
		memcpy(sync_txbuf, frame, len);
		buf = sync_txbuf;
	}
	return (int)hc3(PVKVM_HC_NET_SYNC_TX, buf, len,
			(uint64_t)(uintptr_t)d->priv);
}

static int sync_recv(struct net_dev *d, void *buf, size_t cap)
{
	int64_t r = hc3(PVKVM_HC_NET_SYNC_RX, buf, cap,
			(uint64_t)(uintptr_t)d->priv);

	d->rx_flags = 0;
	if (r == -PVKVM_E2BIG) {
		d->counters.rx_dropped++;
		return -PVKVM_EAGAIN;
	}
	return (int)r;
}

const struct net_driver net_sync_driver = {
	.name = "sync",
	.open = sync_open,
	.send = sync_send,
	.recv = sync_recv,
};
