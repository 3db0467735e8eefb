/* SPDX-License-Identifier: MIT */
/*
 * The disks of one `pvkvm run`: parsed --disk options turned into devices
 * on a VM, one per mode: a PV backend ("blk" n, n counting PV disks from 0),
 * the emulated ATA disk by PIO (fv) or bus-master DMA (fv-dma) (at most one
 * of the two: the primary master), or the sync hypercall disk (at most one:
 * PVKVM_HC_BLK_SYNC has no disk number yet).
 *
 * Life cycle: add while parsing the command line, attach once the VM
 * exists (before it runs), release after the VM is destroyed: devices keep
 * their counters readable until then, because the VMM prints them after
 * stopping the devices.
 */
#ifndef PVKVM_DISK_ATTACH_H
#define PVKVM_DISK_ATTACH_H

#include <stddef.h>

#include "host/block/disk_opt.h"

struct blkback_config;
struct device;
struct vm;

#define DISK_MAX 8

struct disk_set {
	unsigned int n;
	struct disk_opt opt[DISK_MAX];
	struct device *dev[DISK_MAX];             /* after attach */
	void (*destroy[DISK_MAX])(struct device *);
};

/* Parses one --disk and appends it. 0, or -1 with a reason in err. */
int disk_set_add(struct disk_set *s, const char *spec, char *err, size_t errlen);
/* Opens every image and adds its device to vm. 0, or -1 with a reason. */
int disk_set_attach(struct vm *vm, struct disk_set *s, char *err, size_t errlen);
/* A mode=pv disk's backend configuration: the defaults with its
 * options (poll_us=, iops=, bw=, notify=, ring_pages=, batch=) applied. */
void disk_opt_blkback_config(const struct disk_opt *o, unsigned int id,
			     struct blkback_config *cfg);
/* Frees the devices and closes the images; only once the VM is gone. */
void disk_set_release(struct disk_set *s);

#endif
