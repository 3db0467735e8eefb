// SPDX-License-Identifier: MIT
/*
 * Pins the netif wire format (hypercall/pvkvm_netif.h): slot layouts, flag
 * and status values, ring sizes, the NE2000's ports and the sync hypercall
 * numbers. A change here is an ABI change and must be deliberate.
 */
#include <criterion/criterion.h>
#include <stddef.h>

#include "hypercall/pvkvm_netif.h"

Test(netif_abi, tx_request_layout)
{
	cr_expect_eq(offsetof(struct pvkvm_netif_tx_request, gref), 0);
	cr_expect_eq(offsetof(struct pvkvm_netif_tx_request, offset), 4);
	cr_expect_eq(offsetof(struct pvkvm_netif_tx_request, size), 6);
	cr_expect_eq(offsetof(struct pvkvm_netif_tx_request, id), 8);
	cr_expect_eq(offsetof(struct pvkvm_netif_tx_request, flags), 10);
	cr_expect_eq(offsetof(struct pvkvm_netif_tx_request, total_len), 12);
	cr_expect_eq(offsetof(struct pvkvm_netif_tx_request, csum_start), 14);
	cr_expect_eq(offsetof(struct pvkvm_netif_tx_request, csum_offset), 16);
	cr_expect_eq(offsetof(struct pvkvm_netif_tx_request, gso_size), 18);
	cr_expect_eq(offsetof(struct pvkvm_netif_tx_request, gso_type), 20);
	cr_expect_eq(sizeof(struct pvkvm_netif_tx_request), 24);
	cr_expect_eq(offsetof(struct pvkvm_netif_tx_response, status), 2);
	cr_expect_eq(sizeof(struct pvkvm_netif_tx_response), 8);
}

Test(netif_abi, rx_layout)
{
	cr_expect_eq(offsetof(struct pvkvm_netif_rx_request, id), 0);
	cr_expect_eq(offsetof(struct pvkvm_netif_rx_request, gref), 4);
	cr_expect_eq(sizeof(struct pvkvm_netif_rx_request), 8);
	cr_expect_eq(offsetof(struct pvkvm_netif_rx_response, id), 0);
	cr_expect_eq(offsetof(struct pvkvm_netif_rx_response, offset), 2);
	cr_expect_eq(offsetof(struct pvkvm_netif_rx_response, flags), 4);
	cr_expect_eq(offsetof(struct pvkvm_netif_rx_response, status), 6);
	cr_expect_eq(offsetof(struct pvkvm_netif_rx_response, total_len), 8);
	cr_expect_eq(offsetof(struct pvkvm_netif_rx_response, csum_start), 10);
	cr_expect_eq(offsetof(struct pvkvm_netif_rx_response, csum_offset), 12);
	cr_expect_eq(offsetof(struct pvkvm_netif_rx_response, gso_size), 14);
	cr_expect_eq(offsetof(struct pvkvm_netif_rx_response, gso_type), 16);
	cr_expect_eq(sizeof(struct pvkvm_netif_rx_response), 24);
}

Test(netif_abi, one_page_rings_hold_128_slots)
{
	cr_expect_eq(netif_tx_ring_slots(PVKVM_PAGE_SIZE), PVKVM_NETIF_RING_SLOTS);
	cr_expect_eq(netif_rx_ring_slots(PVKVM_PAGE_SIZE), PVKVM_NETIF_RING_SLOTS);
}

Test(netif_abi, values_match_xen_and_virtio)
{
	cr_expect_eq(PVKVM_NETIF_RSP_OKAY, 0);
	cr_expect_eq(PVKVM_NETIF_RSP_ERROR, -1);
	cr_expect_eq(PVKVM_NETIF_RSP_DROPPED, -2);
	cr_expect_eq(PVKVM_NETIF_GSO_TCPV4, 1); /* VIRTIO_NET_HDR_GSO_TCPV4 */
	cr_expect_eq(PVKVM_NETIF_F_ALL, 0xf);
	cr_expect_eq(PVKVM_NETIF_MAX_SLOTS_PER_FRAME, 18);
}

Test(netif_abi, ne2000_and_sync_numbers)
{
	cr_expect_eq(PVKVM_NE2000_IO_BASE, 0x300);
	cr_expect_eq(PVKVM_NE2000_IO_SIZE, 32);
	cr_expect_eq(PVKVM_NE2000_DATA_PORT, 0x10);
	cr_expect_eq(PVKVM_NE2000_RESET_PORT, 0x1f);
	cr_expect_eq(PVKVM_NE2000_MEM_END - PVKVM_NE2000_MEM_START, 16384);
	cr_expect_eq(PVKVM_HC_NET_SYNC_TX, 33);
	cr_expect_eq(PVKVM_HC_NET_SYNC_RX, 34);
	cr_expect_eq(PVKVM_HC_BLK_SYNC, 32);
	cr_expect_eq(PVKVM_HC_COUNT, 35);
}
