// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * pvnet: the PV network frontend of pvkvm on pvbus (docs/net.md,
 * hypercall/pvkvm_netif.h). One queue: a tx ring and an rx ring, one
 * notification vector both ways, NAPI for completions and receives.
 *
 * Frames are copied: each tx ring id owns one data page, each rx id owns
 * another, all granted for good by the transport. A frame of at most one
 * page travels in one slot (no SG, no GSO), so the MTU is capped to fit.
 */
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "pvbus.h"
#include "hypercall/pvkvm_netif.h"

#define PVNET_IDS PVKVM_NETIF_RING_SLOTS
#define PVNET_RING_BYTES PVKVM_PAGE_SIZE
#define PVNET_DATA_PAGES (2 * PVNET_IDS)
#define PVNET_MAX_MTU (PVKVM_PAGE_SIZE - PVKVM_NETIF_ETH_HLEN)
#define PVNET_CLOSE_TIMEOUT (5 * HZ)

static bool csum_offload = true;
module_param(csum_offload, bool, 0444);
MODULE_PARM_DESC(csum_offload,
		 "When the backend offers feature-csum-offload: send frames with the L4 checksum left to the host, and take received frames whose checksum the host left blank (default on)");

static unsigned int napi_weight = NAPI_POLL_WEIGHT;
module_param(napi_weight, uint, 0444);
MODULE_PARM_DESC(napi_weight, "Frames per NAPI poll (default 64)");

enum pvnet_stat {
	ST_RX_PACKETS,
	ST_RX_BYTES,
	ST_RX_ERRORS,
	ST_RX_DROPPED,
	ST_TX_PACKETS,
	ST_TX_BYTES,
	ST_TX_ERRORS,
	ST_TX_DROPPED,
	ST_TX_CSUM_OFFLOADED,
	ST_RX_CSUM_BLANK,
	ST_TX_RING_FULL,
	ST_KICKS,
	ST_IRQS,
	ST_NAPI_POLLS,
	ST_TX_TIMEOUTS,
	ST_COUNT
};

static const char stat_names[ST_COUNT][ETH_GSTRING_LEN] = {
	[ST_RX_PACKETS] = "rx_packets",
	[ST_RX_BYTES] = "rx_bytes",
	[ST_RX_ERRORS] = "rx_errors",
	[ST_RX_DROPPED] = "rx_dropped",
	[ST_TX_PACKETS] = "tx_packets",
	[ST_TX_BYTES] = "tx_bytes",
	[ST_TX_ERRORS] = "tx_errors",
	[ST_TX_DROPPED] = "tx_dropped",
	[ST_TX_CSUM_OFFLOADED] = "tx_csum_offloaded",
	[ST_RX_CSUM_BLANK] = "rx_csum_blank",
	[ST_TX_RING_FULL] = "tx_ring_full",
	[ST_KICKS] = "kicks",
	[ST_IRQS] = "irqs",
	[ST_NAPI_POLLS] = "napi_polls",
	[ST_TX_TIMEOUTS] = "tx_timeouts",
};

struct pvnet {
	struct pvbus_device *pdev;
	struct net_device *ndev;
	struct napi_struct napi;
	int irq;
	bool irq_on;
	bool rings_ready;
	bool registered;
	bool csum_tx;
	bool csum_rx;

	spinlock_t tx_lock; /* tx ring, tx free ids */
	struct netif_tx_front tx;
	u16 tx_free[PVNET_IDS];
	unsigned int nr_tx_free;

	struct netif_rx_front rx; /* NAPI only, once rings_ready */

	u64 stats[ST_COUNT];
};

static void count(struct pvnet *np, enum pvnet_stat s, u64 n)
{
	WRITE_ONCE(np->stats[s], np->stats[s] + n);
}

static size_t tx_page(unsigned int id)
{
	return (size_t)id * PVKVM_PAGE_SIZE;
}

static size_t rx_page(unsigned int id)
{
	return (size_t)(PVNET_IDS + id) * PVKVM_PAGE_SIZE;
}

static void kick(struct pvnet *np)
{
	count(np, ST_KICKS, 1);
	pvbus_notify(np->pdev, 0);
}

/* --- transmit ------------------------------------------------------------------- */

/* Takes the tx responses: their pages are free again. Under tx_lock. */
static void reclaim_tx(struct pvnet *np)
{
	struct pvkvm_netif_tx_response rsp;
	int got;

	do {
		while ((got = netif_tx_front_take_rsp(&np->tx, &rsp)) == 1) {
			if (rsp.id >= PVNET_IDS || np->nr_tx_free >= PVNET_IDS)
				continue; /* a backend bug: never free twice */
			if (rsp.status != PVKVM_NETIF_RSP_OKAY)
				count(np, ST_TX_ERRORS, 1);
			np->tx_free[np->nr_tx_free++] = rsp.id;
		}
		if (got < 0) {
			netdev_err(np->ndev, "backend broke the tx ring\n");
			netif_carrier_off(np->ndev);
			return;
		}
	} while (netif_tx_front_final_check_rsps(&np->tx));
	if (np->nr_tx_free && netif_queue_stopped(np->ndev))
		netif_wake_queue(np->ndev);
}

static netdev_tx_t pvnet_start_xmit(struct sk_buff *skb, struct net_device *ndev)
{
	struct pvnet *np = netdev_priv(ndev);
	struct pvkvm_netif_tx_request *r;
	unsigned int len = skb->len;
	unsigned long flags;
	bool notify;
	u16 id;

	if (len < PVKVM_NETIF_FRAME_MIN || len > PVKVM_PAGE_SIZE ||
	    (skb->ip_summed == CHECKSUM_PARTIAL && !np->csum_tx &&
	     skb_checksum_help(skb))) {
		count(np, ST_TX_DROPPED, 1);
		dev_kfree_skb_any(skb);
		return NETDEV_TX_OK;
	}
	spin_lock_irqsave(&np->tx_lock, flags);
	if (!np->nr_tx_free)
		reclaim_tx(np);
	r = np->nr_tx_free ? netif_tx_front_next_req(&np->tx) : NULL;
	if (!r) {
		count(np, ST_TX_RING_FULL, 1);
		netif_stop_queue(ndev);
		spin_unlock_irqrestore(&np->tx_lock, flags);
		return NETDEV_TX_BUSY;
	}
	id = np->tx_free[--np->nr_tx_free];
	skb_copy_bits(skb, 0, np->pdev->data + tx_page(id), len);
	memset(r, 0, sizeof(*r));
	r->gref = pvbus_data_gref(np->pdev, tx_page(id));
	r->size = len;
	r->id = id;
	r->total_len = len;
	if (skb->ip_summed == CHECKSUM_PARTIAL) {
		r->flags = PVKVM_NETIF_F_CSUM_BLANK;
		r->csum_start = skb_checksum_start_offset(skb);
		r->csum_offset = skb->csum_offset;
		count(np, ST_TX_CSUM_OFFLOADED, 1);
	}
	notify = netif_tx_front_push_reqs(&np->tx);
	count(np, ST_TX_PACKETS, 1);
	count(np, ST_TX_BYTES, len);
	if (!np->nr_tx_free)
		netif_stop_queue(ndev);
	spin_unlock_irqrestore(&np->tx_lock, flags);
	if (notify)
		kick(np);
	dev_consume_skb_any(skb);
	return NETDEV_TX_OK;
}

/* --- receive -------------------------------------------------------------------- */

static bool post_rx(struct pvnet *np, u16 id)
{
	struct pvkvm_netif_rx_request *r = netif_rx_front_next_req(&np->rx);

	if (!r)
		return false;
	r->id = id;
	r->reserved = 0;
	r->gref = pvbus_data_gref(np->pdev, rx_page(id));
	return true;
}

static void receive_one(struct pvnet *np, const struct pvkvm_netif_rx_response *rsp)
{
	unsigned int len = rsp->status > 0 ? rsp->status : 0;
	struct sk_buff *skb;

	if (rsp->status <= 0 || (rsp->flags & PVKVM_NETIF_F_MORE_DATA) ||
	    rsp->offset != 0 || len > PVKVM_PAGE_SIZE || len < ETH_HLEN) {
		count(np, ST_RX_ERRORS, 1);
		return;
	}
	skb = napi_alloc_skb(&np->napi, len);
	if (!skb) {
		count(np, ST_RX_DROPPED, 1);
		return;
	}
	skb_put_data(skb, np->pdev->data + rx_page(rsp->id), len);
	/*
	 * A blank checksum (we asked for them: feature-csum-offload) is one
	 * the host stack never computed; CHECKSUM_PARTIAL tells our stack the
	 * frame is good as it is, as virtio-net does. Offsets count from the
	 * Ethernet header, where skb->data still is.
	 */
	if (rsp->flags & PVKVM_NETIF_F_CSUM_BLANK) {
		if (!np->csum_rx ||
		    !skb_partial_csum_set(skb, rsp->csum_start, rsp->csum_offset)) {
			count(np, ST_RX_ERRORS, 1);
			kfree_skb(skb);
			return;
		}
		count(np, ST_RX_CSUM_BLANK, 1);
	} else if (rsp->flags & PVKVM_NETIF_F_DATA_VALIDATED) {
		skb->ip_summed = CHECKSUM_UNNECESSARY;
	}
	skb->protocol = eth_type_trans(skb, np->ndev);
	count(np, ST_RX_PACKETS, 1);
	count(np, ST_RX_BYTES, len);
	napi_gro_receive(&np->napi, skb);
}

/* Pages go back to the backend in batches of this many within a poll, not
 * only at its end: a backend that ran out of buffers refills them while
 * the guest still works through the rest, instead of dropping frames
 * until the poll is over (measured: fewer drops, more frames per interrupt).
 */
#define PVNET_RX_REFILL_BATCH 16

static void refill_rx(struct pvnet *np)
{
	if (netif_rx_front_push_reqs(&np->rx))
		kick(np);
}

/* Up to budget frames; each page goes straight back to the ring. */
static int receive(struct pvnet *np, int budget, bool *broken)
{
	struct pvkvm_netif_rx_response rsp;
	int done = 0, got = 0;

	while (done < budget &&
	       (got = netif_rx_front_take_rsp(&np->rx, &rsp)) == 1) {
		if (rsp.id >= PVNET_IDS) {
			count(np, ST_RX_ERRORS, 1);
			continue;
		}
		receive_one(np, &rsp);
		post_rx(np, rsp.id);
		if (++done % PVNET_RX_REFILL_BATCH == 0)
			refill_rx(np);
	}
	*broken = got < 0;
	return done;
}

static int pvnet_poll(struct napi_struct *napi, int budget)
{
	struct pvnet *np = container_of(napi, struct pvnet, napi);
	unsigned long flags;
	bool broken;
	int done;

	count(np, ST_NAPI_POLLS, 1);
	spin_lock_irqsave(&np->tx_lock, flags);
	reclaim_tx(np);
	spin_unlock_irqrestore(&np->tx_lock, flags);

	done = receive(np, budget, &broken);
	refill_rx(np);
	if (broken) {
		netdev_err(np->ndev, "backend broke the rx ring\n");
		netif_carrier_off(np->ndev);
		napi_complete(napi);
		return 0;
	}
	if (done < budget && napi_complete_done(napi, done)) {
		/* Asked for the next interrupt; look once more. */
		if (netif_rx_front_final_check_rsps(&np->rx))
			napi_schedule(napi);
	}
	return done;
}

static irqreturn_t pvnet_irq(int irq, void *arg)
{
	struct pvnet *np = arg;

	count(np, ST_IRQS, 1);
	if (READ_ONCE(np->rings_ready))
		napi_schedule_irqoff(&np->napi);
	return IRQ_HANDLED;
}

/* --- net_device ------------------------------------------------------------------ */

static int pvnet_open(struct net_device *ndev)
{
	struct pvnet *np = netdev_priv(ndev);

	napi_enable(&np->napi);
	netif_start_queue(ndev);
	napi_schedule(&np->napi); /* whatever arrived while we were down */
	return 0;
}

static int pvnet_stop(struct net_device *ndev)
{
	struct pvnet *np = netdev_priv(ndev);

	netif_stop_queue(ndev);
	napi_disable(&np->napi);
	return 0;
}

static void pvnet_get_stats64(struct net_device *ndev,
			      struct rtnl_link_stats64 *s)
{
	struct pvnet *np = netdev_priv(ndev);

	s->rx_packets = READ_ONCE(np->stats[ST_RX_PACKETS]);
	s->rx_bytes = READ_ONCE(np->stats[ST_RX_BYTES]);
	s->rx_errors = READ_ONCE(np->stats[ST_RX_ERRORS]);
	s->rx_dropped = READ_ONCE(np->stats[ST_RX_DROPPED]);
	s->tx_packets = READ_ONCE(np->stats[ST_TX_PACKETS]);
	s->tx_bytes = READ_ONCE(np->stats[ST_TX_BYTES]);
	s->tx_errors = READ_ONCE(np->stats[ST_TX_ERRORS]);
	s->tx_dropped = READ_ONCE(np->stats[ST_TX_DROPPED]);
}

/*
 * The queue stayed stopped for watchdog_timeo (0.5 s): every id is in flight, no
 * response came. Kick the backend again (a doorbell it never saw is the
 * one cause we can mend from here) and poll, so a late response wakes us.
 */
static void pvnet_tx_timeout(struct net_device *ndev, unsigned int txqueue)
{
	struct pvnet *np = netdev_priv(ndev);

	count(np, ST_TX_TIMEOUTS, 1);
	netdev_warn(ndev, "tx stalled with %u ids free: kicking the backend again\n",
		    READ_ONCE(np->nr_tx_free));
	kick(np);
	napi_schedule(&np->napi);
}

static const struct net_device_ops pvnet_ops = {
	.ndo_open = pvnet_open,
	.ndo_stop = pvnet_stop,
	.ndo_start_xmit = pvnet_start_xmit,
	.ndo_tx_timeout = pvnet_tx_timeout,
	.ndo_get_stats64 = pvnet_get_stats64,
	.ndo_set_mac_address = eth_mac_addr,
	.ndo_validate_addr = eth_validate_addr,
};

static void pvnet_get_drvinfo(struct net_device *ndev,
			      struct ethtool_drvinfo *info)
{
	struct pvnet *np = netdev_priv(ndev);

	strscpy(info->driver, "pvnet", sizeof(info->driver));
	strscpy(info->bus_info, dev_name(&np->pdev->dev), sizeof(info->bus_info));
}

static int pvnet_get_sset_count(struct net_device *ndev, int sset)
{
	return sset == ETH_SS_STATS ? ST_COUNT : -EOPNOTSUPP;
}

static void pvnet_get_strings(struct net_device *ndev, u32 sset, u8 *buf)
{
	if (sset == ETH_SS_STATS)
		memcpy(buf, stat_names, sizeof(stat_names));
}

static void pvnet_get_ethtool_stats(struct net_device *ndev,
				    struct ethtool_stats *st, u64 *data)
{
	struct pvnet *np = netdev_priv(ndev);
	int i;

	for (i = 0; i < ST_COUNT; i++)
		data[i] = READ_ONCE(np->stats[i]);
}

static const struct ethtool_ops pvnet_ethtool_ops = {
	.get_drvinfo = pvnet_get_drvinfo,
	.get_link = ethtool_op_get_link,
	.get_sset_count = pvnet_get_sset_count,
	.get_strings = pvnet_get_strings,
	.get_ethtool_stats = pvnet_get_ethtool_stats,
};

/* --- the state walk ------------------------------------------------------------- */

static void read_config(struct pvnet *np)
{
	struct pvbus_device *pdev = np->pdev;
	struct net_device *ndev = np->ndev;
	u64 mtu = pvbus_read_u64_default(pdev, "mtu", PVKVM_NETIF_MTU_DEFAULT);
	char mac[32];
	u8 addr[ETH_ALEN];

	if (pvbus_read(pdev, "mac", mac, sizeof(mac)) > 0 && mac_pton(mac, addr) &&
	    is_valid_ether_addr(addr)) {
		eth_hw_addr_set(ndev, addr);
	} else {
		netdev_warn(ndev, "backend gave no valid mac: a random one\n");
		eth_hw_addr_random(ndev);
	}
	if (mtu < ETH_MIN_MTU || mtu > PVNET_MAX_MTU)
		mtu = PVKVM_NETIF_MTU_DEFAULT;
	ndev->mtu = mtu;
	ndev->max_mtu = mtu;
	np->csum_tx = csum_offload &&
		      pvbus_read_u64_default(pdev, "feature-csum-offload", 0) == 1;
	np->csum_rx = np->csum_tx;
	if (np->csum_tx) {
		ndev->hw_features |= NETIF_F_HW_CSUM;
		ndev->features |= NETIF_F_HW_CSUM | NETIF_F_RXCSUM;
	}
}

static int setup_rings(struct pvnet *np)
{
	struct pvbus_device *pdev = np->pdev;
	void *txs = pdev->ring, *rxs = pdev->ring + PVNET_RING_BYTES;
	unsigned int i;

	netif_tx_sring_init(txs);
	netif_rx_sring_init(rxs);
	if (netif_tx_front_init(&np->tx, txs, PVNET_RING_BYTES) ||
	    netif_rx_front_init(&np->rx, rxs, PVNET_RING_BYTES))
		return -EINVAL;
	np->nr_tx_free = PVNET_IDS;
	for (i = 0; i < PVNET_IDS; i++) {
		np->tx_free[i] = PVNET_IDS - 1 - i;
		post_rx(np, i);
	}
	netif_rx_front_push_reqs(&np->rx); /* before Connected: no kick needed */
	pvbus_printf(pdev, "tx-ring-ref", "%u", pvbus_ring_gref(pdev, 0));
	pvbus_printf(pdev, "rx-ring-ref", "%u",
		     pvbus_ring_gref(pdev, PVNET_RING_BYTES));
	pvbus_printf(pdev, "event-channel", "%u", pvbus_queue_port(pdev, 0));
	pvbus_printf(pdev, "request-rx-copy", "1");
	pvbus_printf(pdev, "feature-sg", "0");
	pvbus_printf(pdev, "feature-csum-offload", "%u", np->csum_rx ? 1 : 0);
	WRITE_ONCE(np->rings_ready, true);
	return pvbus_switch_state(pdev, PVKVM_XB_INITIALISED);
}

static void pvnet_otherend_changed(struct pvbus_device *pdev,
				   enum pvkvm_xenbus_state state)
{
	struct pvnet *np = dev_get_drvdata(&pdev->dev);
	int err;

	switch (state) {
	case PVKVM_XB_INITWAIT:
		if (np->rings_ready || pdev->state != PVKVM_XB_INITIALISING)
			break;
		read_config(np);
		err = setup_rings(np);
		if (!err && !np->registered) {
			err = register_netdev(np->ndev);
			np->registered = !err;
		}
		if (err) {
			dev_err(&pdev->dev, "setup failed: %d\n", err);
			pvbus_switch_state(pdev, PVKVM_XB_CLOSING);
		}
		break;
	case PVKVM_XB_CONNECTED:
		if (!np->rings_ready || pdev->state == PVKVM_XB_CONNECTED)
			break;
		pvbus_switch_state(pdev, PVKVM_XB_CONNECTED);
		netif_carrier_on(np->ndev);
		netdev_info(np->ndev, "connected: %pM, mtu %u%s\n",
			    np->ndev->dev_addr, np->ndev->mtu,
			    np->csum_tx ? ", checksum offload" : "");
		break;
	case PVKVM_XB_CLOSING:
	case PVKVM_XB_CLOSED:
		netif_carrier_off(np->ndev);
		/*
		 * Before our rings exist this is the last frontend's ending:
		 * the backend offers anew once it sees our Initialising.
		 */
		if (pdev->state == PVKVM_XB_CLOSED || !np->rings_ready)
			break;
		dev_warn(&pdev->dev, "backend is %s: link down\n",
			 pvbus_state_name(state));
		pvbus_switch_state(pdev, PVKVM_XB_CLOSING);
		pvbus_switch_state(pdev, PVKVM_XB_CLOSED);
		break;
	default:
		break;
	}
}

static int pvnet_probe(struct pvbus_device *pdev)
{
	struct net_device *ndev;
	struct pvnet *np;
	int err;

	if (pdev->ring_size < 2 * PVNET_RING_BYTES ||
	    pdev->data_size < PVNET_DATA_PAGES * PVKVM_PAGE_SIZE) {
		dev_err(&pdev->dev, "ring or data area too small\n");
		return -ENOSPC;
	}
	ndev = alloc_etherdev(sizeof(*np));
	if (!ndev)
		return -ENOMEM;
	SET_NETDEV_DEV(ndev, &pdev->dev);
	np = netdev_priv(ndev);
	np->ndev = ndev;
	np->pdev = pdev;
	spin_lock_init(&np->tx_lock);
	ndev->netdev_ops = &pvnet_ops;
	ndev->ethtool_ops = &pvnet_ethtool_ops;
	ndev->min_mtu = ETH_MIN_MTU;
	ndev->watchdog_timeo = HZ / 2;
	netif_napi_add_weight(ndev, &np->napi, pvnet_poll, napi_weight ?: 1);
	netif_carrier_off(ndev);
	np->irq = pvbus_queue_irq(pdev, 0);
	if (np->irq < 0) {
		err = np->irq;
		goto free;
	}
	err = request_irq(np->irq, pvnet_irq, 0, dev_name(&pdev->dev), np);
	if (err)
		goto free;
	np->irq_on = true;
	dev_set_drvdata(&pdev->dev, np);
	err = pvbus_switch_state(pdev, PVKVM_XB_INITIALISING);
	if (err)
		goto irq;
	return 0;
irq:
	free_irq(np->irq, np);
free:
	netif_napi_del(&np->napi);
	free_netdev(ndev);
	return err;
}

static void pvnet_remove(struct pvbus_device *pdev)
{
	struct pvnet *np = dev_get_drvdata(&pdev->dev);
	enum pvkvm_xenbus_state be;

	if (np->registered)
		unregister_netdev(np->ndev); /* stops the queue and NAPI */
	if (pdev->state != PVKVM_XB_CLOSED) {
		pvbus_switch_state(pdev, PVKVM_XB_CLOSING);
		be = pvbus_wait_otherend(pdev, PVKVM_XB_CLOSED, PVNET_CLOSE_TIMEOUT);
		if (be != PVKVM_XB_CLOSED)
			dev_warn(&pdev->dev, "backend still %s after 5 s; leaving anyway\n",
				 pvbus_state_name(be));
		pvbus_switch_state(pdev, PVKVM_XB_CLOSED);
	}
	WRITE_ONCE(np->rings_ready, false);
	free_irq(np->irq, np);
	netif_napi_del(&np->napi);
	free_netdev(np->ndev);
}

static struct pvbus_driver pvnet_driver = {
	.driver.name = "pvnet",
	.type = PVBUS_DEV_NET,
	.probe = pvnet_probe,
	.remove = pvnet_remove,
	.otherend_changed = pvnet_otherend_changed,
};

static int __init pvnet_init(void)
{
	return pvbus_register_driver(&pvnet_driver);
}

static void __exit pvnet_exit(void)
{
	pvbus_unregister_driver(&pvnet_driver);
}

module_init(pvnet_init);
module_exit(pvnet_exit);

MODULE_DESCRIPTION("pvkvm PV network frontend (netif over pvbus)");
MODULE_AUTHOR("pvkvm");
MODULE_LICENSE("Dual MIT/GPL");
