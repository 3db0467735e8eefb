/* SPDX-License-Identifier: MIT */
/*
 * Where pvkern finds its network interfaces in the store (docs/net.md):
 * the pv backend's xenbus directory of interface N, and the VMM's
 * "platform/" announcements of the fv and sync NICs.
 */
#ifndef PVKERN_NET_KEYS_H
#define PVKERN_NET_KEYS_H

#define NET_KEY_PV_BACKEND_STATE "backend/net/%u/state"
#define NET_KEY_SYNC "platform/net-sync/%u/hypercall-tx"
#define NET_KEY_SYNC_MAC "platform/net-sync/%u/mac"
#define NET_KEY_SYNC_MTU "platform/net-sync/%u/mtu"
#define NET_KEY_NE2000_IO_BASE "platform/ne2000/%u/io-base"
#define NET_KEY_E1000_IO_BASE "platform/e1000/%u/io-base"

#endif
