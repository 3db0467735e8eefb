/* SPDX-License-Identifier: MIT */
/*
 * One guest connection of `pvkvm serve`: a fresh region, the PV backends
 * of a `pvkvm run` VM on it (blkback, unchanged), and the bridge between
 * the region's config pages and their store.
 *
 * The backends see a struct vm with no KVM behind it: guest memory is the
 * region, the grant table lives in the region (region.h), the store is
 * their own, and the event channels deliver through ivshmem (port N is
 * vector N: the guest's doorbell writes on vector N make the port's host
 * eventfd readable, and a notify writes the guest's MSI-X eventfd N).
 */
#ifndef PVKVM_SERVE_SESSION_H
#define PVKVM_SERVE_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "host/block/disk_attach.h"
#include "host/net/net_attach.h"

struct serve_config {
	const char *socket_path;
	unsigned int nr_disks;
	struct disk_opt disk[DISK_MAX];
	unsigned int nr_nets;
	struct net_opt net[NET_MAX];
	bool stats;
	unsigned int max_sessions; /* 0: serve until a signal */
};

/* Ring and data pages per disk: 64 slots, each with a 256 KiB buffer and
 * the page of its INDIRECT segment array (pvblk's default request size;
 * a frontend with smaller requests gets more tags out of the same area). */
#define SERVE_BLK_RING_PAGES 2u
#define SERVE_BLK_DATA_PAGES (64u * (64u + 1u))
/* Per NIC: a tx and an rx ring page; a page per tx and per rx slot. */
#define SERVE_NET_RING_PAGES 2u
#define SERVE_NET_DATA_PAGES (2u * 128u)

enum session_end {
	SESSION_GUEST_LEFT,  /* QEMU closed the socket: serve the next one */
	SESSION_STOP,        /* a signal: stop serving */
	SESSION_FAILED,      /* could not set up (logged): serve the next one */
};

/* Serves the guest on sock until it leaves or sig_fd is readable. New
 * connections on listen_fd meanwhile are refused (one line each). */
enum session_end session_run(const struct serve_config *cfg, int sock,
			     int listen_fd, int sig_fd, uint32_t session_no);

/* Seams for the fuzz harness (tests/fuzz/fuzz_ivshmem_region.c): what a
 * session does with the bytes of the region a guest can write. */
struct pvkvm_ivshmem_config;
struct region;
struct store;
struct vm;

/* vm's memory, grant table (in the region), store and event channels for
 * region r, with everything but the rings and data pages fenced off.
 * 0 or -errno (then the caller frees what was made, as teardown does). */
int session_region_vm(struct vm *vm, const struct region *r);

/* The frontend's key list of config page c into the store under
 * front_dir, as a config doorbell applies it: 0, or -1 when the list is
 * refused whole (*why, a static string, says why). */
int session_apply_config(struct store *st, const char *front_dir,
			 const struct pvkvm_ivshmem_config *c, const char **why);

#endif
