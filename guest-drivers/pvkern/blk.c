// SPDX-License-Identifier: MIT
/* The block interface: picks a driver and keeps the shared bookkeeping. */
#include "blk.h"

#include "console.h"
#include "klib.h"
#include "mm.h"
#include "store.h"
#include "time.h"

static const struct {
	const char *name;
	enum blk_mode mode;
} mode_names[] = {
	{ "auto", BLK_MODE_AUTO },
	{ "pv", BLK_MODE_PV },
	{ "fv", BLK_MODE_FV },
	{ "sync", BLK_MODE_SYNC },
	{ "fv-dma", BLK_MODE_FV_DMA },
};

bool blk_mode_parse(const char *s, enum blk_mode *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++)
		if (!strcmp(s, mode_names[i].name)) {
			*out = mode_names[i].mode;
			return true;
		}
	return false;
}

const char *blk_mode_name(enum blk_mode m)
{
	for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++)
		if (mode_names[i].mode == m)
			return mode_names[i].name;
	return "?";
}

static const struct blk_driver *driver_of(enum blk_mode m)
{
	switch (m) {
	case BLK_MODE_PV: return &blk_pv_driver;
	case BLK_MODE_FV: return &blk_ata_driver;
	case BLK_MODE_FV_DMA: return &blk_ata_dma_driver;
	case BLK_MODE_SYNC: return &blk_sync_driver;
	default: return NULL;
	}
}

/* The fastest path the VMM offers for disk index: a PV backend, else the
 * sync hypercall, else the emulated ATA disk (DMA before PIO). fv, fv-dma
 * and sync disks are found
 * through the VMM's "platform/" keys, never by touching their ports (a
 * port the I/O bitmap keeps closed is a #GP that ends the guest). */
static enum blk_mode probe_mode(unsigned int index)
{
	char path[64];

	snprintf(path, sizeof(path), "backend/blk/%u/state", index);
	if (store_has(path))
		return BLK_MODE_PV;
	if (index == 0 && store_has("platform/blk-sync/0/hypercall"))
		return BLK_MODE_SYNC;
	if (index == 0 && store_has("platform/ata-dma/0/io-base"))
		return BLK_MODE_FV_DMA;
	if (index == 0 && store_has("platform/ata/0/io-base"))
		return BLK_MODE_FV;
	return BLK_MODE_AUTO; /* nothing there: no driver */
}

int blk_open(enum blk_mode mode, unsigned int index, struct blk_dev **out)
{
	struct blk_dev *d;
	int r;

	if (mode == BLK_MODE_AUTO)
		mode = probe_mode(index);
	if (mode == BLK_MODE_AUTO)
		return -PVKVM_ENOENT; /* the VMM attached no disk there */
	d = kmalloc(sizeof(*d));
	if (!d)
		return -PVKVM_ENOMEM;
	d->drv = driver_of(mode);
	if (!d->drv)
		return -PVKVM_EINVAL;
	d->info.mode = mode;
	d->poll_spin_ns = 50000;
	r = d->drv->open(d, index);
	if (r < 0)
		return r;
	*out = d;
	return 0;
}

int blk_submit(struct blk_dev *d, struct blk_req *r)
{
	int rc;

	r->done = false;
	r->status = 0;
	/* Counted before the call: fv and sync complete inside it. */
	d->counters.submitted++;
	d->in_flight++;
	rc = d->drv->submit(d, r);
	if (rc < 0) {
		d->counters.submitted--;
		d->in_flight--;
	}
	return rc;
}

void blk_complete(struct blk_dev *d, struct blk_req *r, int status)
{
	r->status = status;
	d->in_flight--;
	d->counters.completed++;
	if (status)
		d->counters.errors++;
	/* done last: a caller spinning on it then sees the status. */
	r->done = true;
	if (r->on_done)
		r->on_done(r);
}

void blk_kick(struct blk_dev *d)
{
	if (d->drv->kick)
		d->drv->kick(d);
}

int blk_poll(struct blk_dev *d)
{
	return d->drv->poll ? d->drv->poll(d) : 0;
}

int blk_wait(struct blk_dev *d, uint64_t deadline_ns)
{
	if (d->in_flight == 0)
		return 0;
	return d->drv->wait ? d->drv->wait(d, deadline_ns) : 0;
}

int blk_rw(struct blk_dev *d, enum blk_op op, uint64_t sector,
	   uint32_t nr_sectors, void *buf)
{
	struct blk_req r = { .op = op, .sector = sector,
			     .nr_sectors = nr_sectors, .buf = buf };
	uint64_t deadline = now_ns() + 30 * NS_PER_SEC;
	int rc = blk_submit(d, &r);

	if (rc < 0)
		return rc;
	blk_kick(d);
	while (!r.done) {
		rc = blk_wait(d, deadline);
		if (rc < 0)
			return rc;
	}
	return r.status;
}
