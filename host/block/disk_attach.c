// SPDX-License-Identifier: MIT
/*
 * From --disk to devices: the VM glue of each disk mode (ports for the ATA
 * disk, the hypercall for sync, xenbus for PV).
 */
#include "host/block/disk_attach.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/block/blk_image.h"
#include "host/block/blk_sync.h"
#include "host/block/blkback.h"
#include "host/block/dev_ata.h"
#include "host/block/dev_ata_dma.h"
#include "host/util/errmsg.h"
#include "host/core/hcall.h"
#include "host/core/stats.h"
#include "host/services/store.h"
#include "host/core/vm.h"
#include "hypercall/pvkvm_blkif.h"

static unsigned int count_mode(const struct disk_set *s, enum disk_mode m)
{
	unsigned int n = 0;
	for (unsigned int i = 0; i < s->n; i++)
		n += s->opt[i].mode == m;
	return n;
}

int disk_set_add(struct disk_set *s, const char *spec, char *err, size_t errlen)
{
	if (s->n == DISK_MAX)
		return errmsg(-1, err, errlen, "--disk: at most %u disks", DISK_MAX);
	struct disk_opt o;
	if (disk_opt_parse(spec, &o, err, errlen))
		return -1;
	if (o.mode != DISK_MODE_PV && count_mode(s, o.mode) > 0)
		return errmsg(-1, err, errlen, "--disk: only one mode=%s disk per VM",
			    disk_mode_name(o.mode));
	/* Both are the drive on the primary channel's legacy ports. */
	if ((o.mode == DISK_MODE_FV && count_mode(s, DISK_MODE_FV_DMA)) ||
	    (o.mode == DISK_MODE_FV_DMA && count_mode(s, DISK_MODE_FV)))
		return errmsg(-1, err, errlen,
			      "--disk: mode=fv and mode=fv-dma are one ATA channel: only one of them");
	s->opt[s->n++] = o;
	return 0;
}

/* ---- mode=fv: the ATA disk ------------------------------------------------ */

struct ata_dev {
	struct device dev;
	struct blk_image img;
	struct ata_disk *disk;
};

static int ata_dev_start(struct device *dev, struct vm *vm)
{
	struct ata_dev *a = dev->priv;
	int r = vm_register_pio(vm, ATA_CMD_BASE, ATA_CMD_PORTS, ata_disk_pio, a->disk);
	if (r == 0)
		r = vm_register_pio(vm, ATA_CTL_PORT, 1, ata_disk_pio, a->disk);
	if (r == 0)
		stats_register_group(&vm->stats, ata_disk_stats(a->disk));
	return r;
}

static void ata_dev_destroy(struct device *dev)
{
	struct ata_dev *a = dev->priv;
	ata_disk_free(a->disk);
	blk_image_close(&a->img);
	free(a);
}

static struct device *ata_dev_new(const struct disk_opt *o, int *rc)
{
	struct ata_dev *a = calloc(1, sizeof(*a));
	if (!a) {
		*rc = -ENOMEM;
		return NULL;
	}
	*rc = blk_image_open(&a->img, o->path, o->read_only, o->direct);
	if (*rc == 0) {
		a->disk = ata_disk_new(&a->img, "PVKVM-ATA-0");
		if (!a->disk) {
			blk_image_close(&a->img);
			*rc = -ENOMEM;
		}
	}
	if (*rc) {
		free(a);
		return NULL;
	}
	a->dev = (struct device){ .name = "ata0", .priv = a, .start = ata_dev_start };
	return &a->dev;
}

/* ---- mode=fv-dma: the ATA disk behind a bus-master controller ---------------- */

struct ata_dma_dev {
	struct device dev;
	struct blk_image img;
	struct ata_dma *dma;
};

static int ata_dma_dev_start(struct device *dev, struct vm *vm)
{
	struct ata_dma_dev *a = dev->priv;
	struct ata_disk *disk = ata_dma_disk(a->dma);
	int r = vm_register_pio(vm, ATA_CMD_BASE, ATA_CMD_PORTS, ata_disk_pio, disk);
	if (r == 0)
		r = vm_register_pio(vm, ATA_CTL_PORT, 1, ata_disk_pio, disk);
	if (r == 0)
		r = vm_register_pio(vm, ATA_BM_BASE, ATA_BM_PORTS, ata_dma_bm_pio, a->dma);
	if (r == 0) {
		stats_register_group(&vm->stats, ata_disk_stats(disk));
		stats_register_group(&vm->stats, ata_dma_stats(a->dma));
	}
	return r;
}

static void ata_dma_dev_destroy(struct device *dev)
{
	struct ata_dma_dev *a = dev->priv;
	ata_dma_free(a->dma);
	blk_image_close(&a->img);
	free(a);
}

static struct device *ata_dma_dev_new(const struct disk_opt *o,
				      const struct guest_mem *mem, int *rc)
{
	struct ata_dma_dev *a = calloc(1, sizeof(*a));
	if (!a) {
		*rc = -ENOMEM;
		return NULL;
	}
	*rc = blk_image_open(&a->img, o->path, o->read_only, o->direct);
	if (*rc == 0) {
		a->dma = ata_dma_new(&a->img, mem, "PVKVM-ATA-DMA-0");
		if (!a->dma) {
			blk_image_close(&a->img);
			*rc = -ENOMEM;
		}
	}
	if (*rc) {
		free(a);
		return NULL;
	}
	a->dev = (struct device){ .name = "ata0-dma", .priv = a, .start = ata_dma_dev_start };
	return &a->dev;
}

/* ---- mode=sync: the block hypercall ---------------------------------------- */

struct sync_dev {
	struct device dev;
	struct blk_image img;
	struct blk_sync bs;
	struct vm *vm;
};

static int64_t hc_blk_sync(struct vcpu *v, void *ctx, const uint64_t a[HCALL_NARGS])
{
	struct sync_dev *d = ctx;
	return blk_sync_call(&d->bs, &v->vm->mem, a);
}

static int sync_dev_start(struct device *dev, struct vm *vm)
{
	struct sync_dev *d = dev->priv;
	d->vm = vm;
	int r = hcall_register(vm->hcalls, PVKVM_HC_BLK_SYNC, "blk_sync",
			       hc_blk_sync, d);
	if (r == 0)
		stats_register_group(&vm->stats, &d->bs.group);
	return r;
}

static void sync_dev_stop(struct device *dev, struct vm *vm)
{
	(void)dev;
	hcall_unregister(vm->hcalls, PVKVM_HC_BLK_SYNC);
}

static void sync_dev_destroy(struct device *dev)
{
	struct sync_dev *d = dev->priv;
	blk_image_close(&d->img);
	free(d);
}

static struct device *sync_dev_new(const struct disk_opt *o, int *rc)
{
	struct sync_dev *d = calloc(1, sizeof(*d));
	if (!d) {
		*rc = -ENOMEM;
		return NULL;
	}
	/* The vCPU does the I/O itself into the guest's buffer: direct when the
	 * buffer meets the alignment, buffered otherwise (blk_image.c). */
	*rc = blk_image_open(&d->img, o->path, o->read_only, o->direct);
	if (*rc) {
		free(d);
		return NULL;
	}
	blk_sync_init(&d->bs, &d->img);
	d->dev = (struct device){ .name = "blk_sync", .priv = d,
				  .start = sync_dev_start, .stop = sync_dev_stop };
	return &d->dev;
}

/* ---- mode=pv: the blkif backend --------------------------------------------- */

void disk_opt_blkback_config(const struct disk_opt *o, unsigned int id,
			     struct blkback_config *cfg)
{
	blkback_config_default(cfg, id);
	if (o->poll_us >= 0)
		cfg->poll_us = (unsigned int)o->poll_us;
	cfg->iops = o->iops;
	cfg->bw_bytes = o->bw;
	if (o->notify >= 0)
		cfg->notify = o->notify ? PVKVM_RING_ALWAYS : PVKVM_RING_SUPPRESS;
	if (o->ring_pages)
		cfg->max_ring_page_order = (unsigned int)__builtin_ctz(o->ring_pages);
	if (o->batch)
		cfg->batch = o->batch;
	cfg->copy = o->data == 1;
}

static struct device *pv_dev_new(const struct disk_opt *o, unsigned int id, int *rc)
{
	struct blk_image *img = malloc(sizeof(*img));
	if (!img) {
		*rc = -ENOMEM;
		return NULL;
	}
	*rc = blk_image_open(img, o->path, o->read_only, o->direct);
	if (*rc) {
		free(img);
		return NULL;
	}
	struct blkback_config cfg;
	disk_opt_blkback_config(o, id, &cfg);
	struct device *dev = blkback_create(img, &cfg);
	if (!dev) {
		blk_image_close(img);
		free(img);
		*rc = -ENOMEM;
	}
	return dev;
}

/* ---- the set ------------------------------------------------------------------- */

static struct device *device_for(struct vm *vm, struct disk_set *s, unsigned int i,
				 unsigned int pv_id, int *rc)
{
	switch (s->opt[i].mode) {
	case DISK_MODE_FV_DMA:
		s->destroy[i] = ata_dma_dev_destroy;
		return ata_dma_dev_new(&s->opt[i], &vm->mem, rc);
	case DISK_MODE_FV:
		s->destroy[i] = ata_dev_destroy;
		return ata_dev_new(&s->opt[i], rc);
	case DISK_MODE_SYNC:
		s->destroy[i] = sync_dev_destroy;
		return sync_dev_new(&s->opt[i], rc);
	case DISK_MODE_PV:
	default:
		s->destroy[i] = blkback_destroy;
		return pv_dev_new(&s->opt[i], pv_id, rc);
	}
}

/*
 * A PV disk announces itself through its xenbus directories. The emulated
 * ATA disk and the sync-hypercall disk have none, and a guest must not probe
 * for them blindly (an `in` from a port its I/O bitmap keeps closed is a
 * fault), so the VMM describes them under "platform/", read-only to guests.
 */
static void announce_platform_disk(struct vm *vm, enum disk_mode mode)
{
	if (mode == DISK_MODE_FV) {
		store_printf(vm->store, "platform/ata/0/io-base", "0x%x",
			     ATA_CMD_BASE);
		store_printf(vm->store, "platform/ata/0/ctl-base", "0x%x",
			     ATA_CTL_PORT);
	} else if (mode == DISK_MODE_FV_DMA) {
		store_printf(vm->store, "platform/ata-dma/0/io-base", "0x%x",
			     ATA_CMD_BASE);
		store_printf(vm->store, "platform/ata-dma/0/ctl-base", "0x%x",
			     ATA_CTL_PORT);
		store_printf(vm->store, "platform/ata-dma/0/bm-base", "0x%x",
			     ATA_BM_BASE);
	} else if (mode == DISK_MODE_SYNC) {
		store_printf(vm->store, "platform/blk-sync/0/hypercall", "%u",
			     PVKVM_HC_BLK_SYNC);
	}
}

int disk_set_attach(struct vm *vm, struct disk_set *s, char *err, size_t errlen)
{
	unsigned int pv_id = 0;
	for (unsigned int i = 0; i < s->n; i++) {
		int rc = 0;
		struct device *dev = device_for(vm, s, i, pv_id, &rc);
		if (!dev)
			return errmsg(-1, err, errlen, "--disk %s: %s", s->opt[i].path,
				    strerror(rc < 0 ? -rc : ENOMEM));
		if (s->opt[i].mode == DISK_MODE_PV)
			pv_id++;
		else
			announce_platform_disk(vm, s->opt[i].mode);
		s->dev[i] = dev;
		vm_add_device(vm, dev);
	}
	return 0;
}

void disk_set_release(struct disk_set *s)
{
	for (unsigned int i = 0; i < s->n; i++) {
		if (s->dev[i])
			s->destroy[i](s->dev[i]);
		s->dev[i] = NULL;
	}
}
