/* SPDX-License-Identifier: MIT */
/*
 * pvkvm_ivshmem.h - the shared region of `pvkvm serve`, as a Linux guest
 * under stock QEMU sees it through the ivshmem-doorbell device (1af4:1110,
 * BAR2). docs/linux-guests.md is the prose version; every layout here is
 * pinned by _Static_assert.
 *
 * The region (all offsets from its start, all page-aligned):
 *
 *   page 0           struct pvkvm_ivshmem_dir: magic, version, devices
 *   gnttab_off       the grant table, struct pvkvm_grant_entry[], written by
 *                    the server only (see "Grants" below)
 *   dev.config_off   one struct pvkvm_ivshmem_config page per device
 *   dev.ring_off     the device's rings (blk: one blkif ring)
 *   dev.data_off     the device's data pages: the frontend copies I/O data
 *                    into and out of them (as Xen's persistent grants do)
 *
 * Grants. A grant reference names a page of the region: gref N is the page
 * at offset N * 4096. The server grants, read-write, every page of every
 * ring and data area before the guest connects, and nothing else (so the
 * directory, the table and the config pages can never be the target of a
 * backend's I/O). A frontend computes a page's gref from its offset and
 * never writes the table.
 *
 * Notifications. A vector is both an MSI-X vector of the guest's device and
 * a doorbell vector of the server: the guest notifies by writing
 * (server_peer << 16) | vector to the BAR0 Doorbell register; the server
 * interrupts the guest on the same vector. Vector config_vector (0) carries
 * config changes in both directions, for every device; a device's rings use
 * vectors [vector, vector + nr_vectors). In a device's config keys a vector
 * number stands where a `pvkvm run` guest names an event-channel port.
 *
 * Config. Each device's config page holds two key lists, the one the store
 * holds under backend/<type>/<id>/ for a `pvkvm run` guest (written by the
 * server) and the one under device/<type>/<id>/ (written by the frontend).
 * Each list is text, "key=value\n" lines, published under a sequence count
 * (struct pvkvm_ivshmem_kv): the writer makes seq odd, writes text and len,
 * then makes seq even again (release) and rings config_vector; a reader
 * copies len and text between two reads of an equal, even seq (acquire),
 * and retries otherwise. Keys are [a-z0-9-]{1,63}; values are printable
 * ASCII without '\n', at most PVKVM_IVSHMEM_VALUE_MAX bytes. The "state"
 * keys carry the xenbus walk of docs/block.md.
 */
#ifndef PVKVM_IVSHMEM_H
#define PVKVM_IVSHMEM_H

#include "hypercall/pvkvm_abi.h"

/* "pvkvmshm" as a little-endian u64. */
#define PVKVM_IVSHMEM_MAGIC 0x6d68736d766b7670ull
#define PVKVM_IVSHMEM_VERSION 1u

/* QEMU's ivshmem-doorbell device. */
#define PVKVM_IVSHMEM_PCI_VENDOR 0x1af4u
#define PVKVM_IVSHMEM_PCI_DEVICE 0x1110u
/* BAR0 registers (QEMU's ivshmem spec). */
#define PVKVM_IVSHMEM_REG_INTR_MASK 0x00u
#define PVKVM_IVSHMEM_REG_INTR_STATUS 0x04u
#define PVKVM_IVSHMEM_REG_IV_POSITION 0x08u /* the guest's own peer id */
#define PVKVM_IVSHMEM_REG_DOORBELL 0x0cu    /* (peer << 16) | vector */

#define PVKVM_IVSHMEM_MAX_DEVICES 32u
#define PVKVM_IVSHMEM_MAX_VECTORS 64u /* QEMU's own ceiling for a server */
#define PVKVM_IVSHMEM_CONFIG_VECTOR 0u

enum pvkvm_ivshmem_dev_type {
	PVKVM_IVSHMEM_DEV_NONE = 0,
	PVKVM_IVSHMEM_DEV_BLK = 1, /* hypercall/pvkvm_blkif.h, docs/block.md */
	PVKVM_IVSHMEM_DEV_NET = 2, /* hypercall/pvkvm_netif.h */
};

/* One device of the region (64 bytes). */
struct pvkvm_ivshmem_dev {
	uint32_t type;       /* enum pvkvm_ivshmem_dev_type */
	uint32_t id;         /* <n> of backend/<type>/<n>: "blk0" is type 1, id 0 */
	uint16_t vector;     /* its first ring vector */
	uint16_t nr_vectors; /* one per ring (queue) */
	uint32_t config_size; /* PVKVM_IVSHMEM_CONFIG_SIZE */
	uint64_t config_off;
	uint64_t ring_off;   /* 2^k pages: the largest ring the frontend may use */
	uint64_t ring_size;
	uint64_t data_off;
	uint64_t data_size;
	uint64_t reserved;   /* 0 */
};
PVKVM_STATIC_ASSERT(sizeof(struct pvkvm_ivshmem_dev) == 64, "ivshmem dev entry size");
PVKVM_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_ivshmem_dev, config_off) == 16,
		    "ivshmem dev config_off offset");
PVKVM_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_ivshmem_dev, data_off) == 40,
		    "ivshmem dev data_off offset");

/* The directory: page 0 of the region, written by the server before it
 * hands the region to QEMU, and never read back by the server. */
struct pvkvm_ivshmem_dir {
	uint64_t magic;        /* PVKVM_IVSHMEM_MAGIC */
	uint32_t version;      /* PVKVM_IVSHMEM_VERSION */
	uint32_t dir_size;     /* sizeof(struct pvkvm_ivshmem_dir) */
	uint64_t region_size;  /* bytes; = BAR2's size */
	uint32_t server_peer;  /* the server's doorbell peer id */
	uint32_t nr_vectors;   /* vectors in use; QEMU's vectors= must be >= */
	uint32_t config_vector; /* PVKVM_IVSHMEM_CONFIG_VECTOR */
	uint32_t nr_devices;   /* dev[0 .. nr_devices) are valid */
	uint64_t gnttab_off;
	uint32_t gnttab_entries;
	uint32_t session;      /* differs on every connection of a guest */
	uint8_t reserved[8];   /* 0 */
	struct pvkvm_ivshmem_dev dev[PVKVM_IVSHMEM_MAX_DEVICES];
	uint8_t pad[PVKVM_PAGE_SIZE - 64 - 64 * PVKVM_IVSHMEM_MAX_DEVICES];
};
PVKVM_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_ivshmem_dir, server_peer) == 24,
		    "ivshmem dir server_peer offset");
PVKVM_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_ivshmem_dir, gnttab_off) == 40,
		    "ivshmem dir gnttab_off offset");
PVKVM_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_ivshmem_dir, dev) == 64,
		    "ivshmem dir entries at 64");
PVKVM_STATIC_ASSERT(sizeof(struct pvkvm_ivshmem_dir) == PVKVM_PAGE_SIZE,
		    "ivshmem dir is one page");

/* A key list under a sequence count. */
struct pvkvm_ivshmem_kv {
	uint32_t seq; /* odd while the writer is changing the list */
	uint32_t len; /* bytes of text used, <= PVKVM_IVSHMEM_KV_TEXT */
};
PVKVM_STATIC_ASSERT(sizeof(struct pvkvm_ivshmem_kv) == 8, "ivshmem kv header size");

#define PVKVM_IVSHMEM_CONFIG_SIZE PVKVM_PAGE_SIZE
#define PVKVM_IVSHMEM_KV_TEXT 2016u
#define PVKVM_IVSHMEM_KEY_MAX 63u
#define PVKVM_IVSHMEM_VALUE_MAX 255u

/* A device's config page. */
struct pvkvm_ivshmem_config {
	struct pvkvm_ivshmem_kv back;  /* written by the server */
	struct pvkvm_ivshmem_kv front; /* written by the frontend */
	uint8_t reserved[48];
	char back_text[PVKVM_IVSHMEM_KV_TEXT];
	char front_text[PVKVM_IVSHMEM_KV_TEXT];
};
PVKVM_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_ivshmem_config, front) == 8,
		    "ivshmem config front offset");
PVKVM_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_ivshmem_config, back_text) == 64,
		    "ivshmem config back text offset");
PVKVM_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_ivshmem_config, front_text) == 2080,
		    "ivshmem config front text offset");
PVKVM_STATIC_ASSERT(sizeof(struct pvkvm_ivshmem_config) == PVKVM_IVSHMEM_CONFIG_SIZE,
		    "ivshmem config is one page");

#endif /* PVKVM_IVSHMEM_H */
