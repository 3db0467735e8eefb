/* SPDX-License-Identifier: MIT */
/*
 * The one block interface pvkern's programs see, over four drivers:
 *   pv     blkfront: blkif rings, grants, many requests in flight (blk_pv.c)
 *   fv     the emulated ATA disk by polled PIO (blk_ata.c)
 *   fv-dma the same drive by bus-master DMA, PRD tables (blk_ata_dma.c)
 *   sync   one PVKVM_HC_BLK_SYNC hypercall per request (blk_sync.c)
 *
 * Requests are asynchronous in form: blk_submit() queues, blk_kick() makes
 * queued requests visible to the device, blk_poll()/blk_wait() complete
 * them. The fv, fv-dma and sync drivers finish each request in blk_submit()
 * (the hardware model and the hypercall are synchronous), so with them at
 * most one request is ever in flight: queue depth 1 by nature.
 *
 * Buffers: any guest memory, but the pv driver needs 512-byte alignment
 * (it grants whole pages and names sectors inside them), fv-dma an even
 * address (a PRD's base has no bit 0).
 */
#ifndef PVKERN_BLK_H
#define PVKERN_BLK_H

#include <stdbool.h>
#include <stdint.h>

enum blk_mode {
	BLK_MODE_AUTO, /* the fastest the VMM attached: pv, sync, fv-dma, fv */
	BLK_MODE_PV,
	BLK_MODE_FV,
	BLK_MODE_SYNC,
	BLK_MODE_FV_DMA,
};

enum blk_op {
	BLK_OP_READ,
	BLK_OP_WRITE,
	BLK_OP_FLUSH,
};

#define BLK_SECTOR_SIZE 512u

struct blk_info {
	uint64_t sectors;        /* capacity in 512-byte sectors */
	uint32_t sector_size;    /* 512 */
	bool read_only;
	bool flush;              /* the device has a write cache to flush */
	uint32_t max_sectors;    /* per request */
	uint32_t max_in_flight;  /* 1 for fv, fv-dma and sync */
	enum blk_mode mode;
};

struct blk_req;
typedef void (*blk_done_fn)(struct blk_req *r);

struct blk_req {
	enum blk_op op;
	uint64_t sector;
	uint32_t nr_sectors;
	void *buf;
	/* Filled on completion: 0 or a negative PVKVM_E*. */
	int status;
	bool done;
	blk_done_fn on_done; /* optional, called when done is set */
	void *priv;          /* the caller's */
};

struct blk_dev;

/* Per-driver entry points (one table per mode). */
struct blk_driver {
	const char *name;
	int (*open)(struct blk_dev *d, unsigned int index);
	int (*submit)(struct blk_dev *d, struct blk_req *r);
	void (*kick)(struct blk_dev *d);
	int (*poll)(struct blk_dev *d);
	int (*wait)(struct blk_dev *d, uint64_t deadline_ns);
};

/* Counters a program can print next to its figures. */
struct blk_counters {
	uint64_t submitted, completed, errors;
	uint64_t kicks;  /* notifications sent to the backend (pv) */
	uint64_t sleeps; /* WAIT hypercalls made while waiting (pv) */
};

struct blk_dev {
	const struct blk_driver *drv;
	struct blk_info info;
	struct blk_counters counters;
	uint32_t in_flight;
	uint32_t poll_spin_ns; /* pv: busy-poll this long before sleeping */
	void *priv;            /* the driver's */
};

/* Opens disk `index` of the mode: 0 and *out, or a negative PVKVM_E*
 * (-PVKVM_ENOENT: no such disk). */
int blk_open(enum blk_mode mode, unsigned int index, struct blk_dev **out);
/* "pv", "fv", "fv-dma", "sync" or "auto" -> mode; false if none of those. */
bool blk_mode_parse(const char *s, enum blk_mode *out);
const char *blk_mode_name(enum blk_mode m);

/* Queues r: 0 (queued, or already done for fv/sync), -PVKVM_EAGAIN (full:
 * complete something first) or another error (r not queued). */
int blk_submit(struct blk_dev *d, struct blk_req *r);
/* Makes queued requests visible to the device (one notification at most). */
void blk_kick(struct blk_dev *d);
/* Completes whatever is finished, without blocking: how many. */
int blk_poll(struct blk_dev *d);
/* Completes at least one request if any is in flight, blocking until
 * deadline_ns (0: none): how many, or -PVKVM_ETIMEDOUT. */
int blk_wait(struct blk_dev *d, uint64_t deadline_ns);

/* One request start to finish: the request's status. */
int blk_rw(struct blk_dev *d, enum blk_op op, uint64_t sector,
	   uint32_t nr_sectors, void *buf);

/* Used by the drivers: records a finished request. */
void blk_complete(struct blk_dev *d, struct blk_req *r, int status);

extern const struct blk_driver blk_pv_driver;

/* Research knobs for the next pv open (blkbench's ring_pages= and notify=):
 * the ring pages to ask for (0: the driver's default of 4; capped by what
 * the backend offers) and whether to kick on every push instead of only
 * when the backend asked (the Xen-style event index). */
extern unsigned int blk_pv_want_ring_pages;
extern bool blk_pv_notify_always;
extern const struct blk_driver blk_ata_driver;
extern const struct blk_driver blk_ata_dma_driver;
extern const struct blk_driver blk_sync_driver;

#endif
