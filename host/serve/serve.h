/* SPDX-License-Identifier: MIT */
/*
 * `pvkvm serve`: the PV backends of pvkvm for a Linux guest under a stock
 * QEMU, through the ivshmem-doorbell device. See docs/linux-guests.md.
 */
#ifndef PVKVM_SERVE_H
#define PVKVM_SERVE_H

int serve_main(int argc, char **argv);
/* `pvkvm bench linux`: pvblk vs virtio-blk vs IDE in one guest. */
int serve_bench_linux_main(int argc, char **argv);

#endif
