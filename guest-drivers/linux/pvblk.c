// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * pvblk: the PV block frontend of pvkvm on pvbus (docs/block.md,
 * hypercall/pvkvm_blkif.h). blk-mq, one hardware queue per ring. Data is
 * copied into and out of the device's data pages, which the transport
 * keeps granted for good (as Xen's persistent grants): each tag owns its
 * data pages and, when the backend takes INDIRECT requests, the pages of
 * its segment array, so a request never waits for a buffer.
 */
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/idr.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "pvbus.h"
#include "hypercall/pvkvm_blkif.h"

#define PVBLK_MINORS 16
#define PVBLK_CLOSE_TIMEOUT (5 * HZ)

static unsigned int max_ring_order = PVKVM_BLKIF_MAX_RING_PAGE_ORDER;
module_param(max_ring_order, uint, 0444);
MODULE_PARM_DESC(max_ring_order,
		 "Largest ring to use, 2^order pages (default 4; the backend's max-ring-page-order and the ring area also cap it)");

static unsigned int queue_depth;
module_param(queue_depth, uint, 0444);
MODULE_PARM_DESC(queue_depth,
		 "Requests in flight per queue (default 0: the ring's slots, as far as the data area holds one request's buffer per tag)");

static unsigned int max_indirect_segments = 64;
module_param(max_indirect_segments, uint, 0444);
MODULE_PARM_DESC(max_indirect_segments,
		 "Largest request in pages, by INDIRECT when the backend offers it (default 64 = 256 KiB; at most 11 = 44 KiB without INDIRECT)");

static int pvblk_major;
static DEFINE_IDA(pvblk_ida);

enum pvblk_stat {
	ST_REQUESTS,
	ST_READS,
	ST_WRITES,
	ST_FLUSHES,
	ST_DISCARDS,
	ST_BYTES_READ,
	ST_BYTES_WRITTEN,
	ST_ERRORS,
	ST_INDIRECT,
	ST_KICKS,
	ST_KICKS_SUPPRESSED,
	ST_IRQS,
	ST_COUNT
};

static const char *const stat_names[ST_COUNT] = {
	[ST_REQUESTS] = "requests",
	[ST_READS] = "reads",
	[ST_WRITES] = "writes",
	[ST_FLUSHES] = "flushes",
	[ST_DISCARDS] = "discards",
	[ST_BYTES_READ] = "bytes_read",
	[ST_BYTES_WRITTEN] = "bytes_written",
	[ST_ERRORS] = "errors",
	[ST_INDIRECT] = "indirect_requests",
	[ST_KICKS] = "kicks",
	[ST_KICKS_SUPPRESSED] = "kicks_suppressed",
	[ST_IRQS] = "irqs",
};

struct pvblk {
	struct pvbus_device *pdev;
	struct gendisk *disk;
	struct blk_mq_tag_set tag_set;
	bool tag_set_ready;
	int index;

	spinlock_t lock; /* the ring, dead, the per-request inflight flags */
	struct blkif_front front;
	unsigned int order;
	unsigned int depth;
	unsigned int seg_pages; /* a tag's data pages: the largest request */
	unsigned int ind_pages; /* a tag's segment-array pages (0: no INDIRECT) */
	size_t tag_bytes;
	int irq;
	bool irq_on;
	bool ring_ready;
	bool dead;

	u64 sectors;
	unsigned int physical_sector;
	bool read_only;
	bool flush;
	bool discard;

	u64 stats[ST_COUNT];
};

struct pvblk_req {
	bool inflight;
	blk_status_t status;
};

static void count(struct pvblk *blk, enum pvblk_stat s, u64 n)
{
	WRITE_ONCE(blk->stats[s], blk->stats[s] + n);
}

/* A tag's area: its data pages, then its segment-array pages. */
static void *tag_buf(struct pvblk *blk, unsigned int tag)
{
	return blk->pdev->data + (size_t)tag * blk->tag_bytes;
}

/* --- requests ------------------------------------------------------------------- */

static void copy_to_buf(struct request *rq, void *buf)
{
	struct req_iterator iter;
	struct bio_vec bv;
	size_t off = 0;

	rq_for_each_segment(bv, rq, iter) {
		memcpy_from_bvec(buf + off, &bv);
		off += bv.bv_len;
	}
}

static void copy_from_buf(struct request *rq, const void *buf)
{
	struct req_iterator iter;
	struct bio_vec bv;
	size_t off = 0;

	rq_for_each_segment(bv, rq, iter) {
		memcpy_to_bvec(&bv, buf + off);
		off += bv.bv_len;
	}
}

/* The segments of a READ or WRITE: the tag's pages, in order, full pages
 * but the last. Up to PVKVM_BLKIF_MAX_SEGMENTS ride in the slot; more go
 * to the tag's segment-array pages as one INDIRECT request.
 */
static void fill_segments(struct pvblk *blk, struct pvkvm_blkif_request *r,
			  unsigned int tag, unsigned int bytes)
{
	size_t base = (size_t)tag * blk->tag_bytes;
	size_t arr = base + (size_t)blk->seg_pages * PVKVM_PAGE_SIZE;
	unsigned int i, n = DIV_ROUND_UP(bytes, PVKVM_PAGE_SIZE);
	struct pvkvm_blkif_segment *seg = r->u.seg;

	if (n > PVKVM_BLKIF_MAX_SEGMENTS) {
		r->indirect_op = r->operation;
		r->operation = PVKVM_BLKIF_OP_INDIRECT;
		seg = blk->pdev->data + arr;
		for (i = 0; i * PVKVM_BLKIF_SEGS_PER_INDIRECT_PAGE < n; i++) {
			size_t page = arr + (size_t)i * PVKVM_PAGE_SIZE;

			r->u.indirect_grefs[i] = pvbus_data_gref(blk->pdev, page);
		}
		count(blk, ST_INDIRECT, 1);
	}
	r->nr_segments = n;
	for (i = 0; i < n; i++) {
		unsigned int len = min_t(unsigned int, bytes - i * PVKVM_PAGE_SIZE,
					 PVKVM_PAGE_SIZE);

		seg[i] = (struct pvkvm_blkif_segment){
			.gref = pvbus_data_gref(blk->pdev,
						base + i * PVKVM_PAGE_SIZE),
			.first_sect = 0,
			.last_sect = len / PVKVM_BLKIF_SECTOR_SIZE - 1,
		};
	}
}

/* Builds the ring request for @rq; 0 or the status to end it with now. */
static blk_status_t build(struct pvblk *blk, struct request *rq,
			  struct pvkvm_blkif_request *r)
{
	unsigned int bytes = blk_rq_bytes(rq);

	memset(r, 0, sizeof(*r));
	r->id = rq->tag;
	r->sector_number = blk_rq_pos(rq);
	switch (req_op(rq)) {
	case REQ_OP_READ:
	case REQ_OP_WRITE:
		if (bytes == 0 || bytes > blk->seg_pages * PVKVM_PAGE_SIZE ||
		    bytes % PVKVM_BLKIF_SECTOR_SIZE)
			return BLK_STS_IOERR;
		r->operation = req_op(rq) == REQ_OP_WRITE ? PVKVM_BLKIF_OP_WRITE
							  : PVKVM_BLKIF_OP_READ;
		if (r->operation == PVKVM_BLKIF_OP_WRITE)
			copy_to_buf(rq, tag_buf(blk, rq->tag));
		fill_segments(blk, r, rq->tag, bytes);
		return BLK_STS_OK;
	case REQ_OP_FLUSH:
		r->operation = PVKVM_BLKIF_OP_FLUSH;
		return blk->flush ? BLK_STS_OK : BLK_STS_NOTSUPP;
	case REQ_OP_DISCARD:
		r->operation = PVKVM_BLKIF_OP_DISCARD;
		r->u.discard.nr_sectors = blk_rq_sectors(rq);
		return blk->discard ? BLK_STS_OK : BLK_STS_NOTSUPP;
	default:
		return BLK_STS_NOTSUPP;
	}
}

static void count_request(struct pvblk *blk, const struct pvkvm_blkif_request *r,
			  unsigned int bytes)
{
	count(blk, ST_REQUESTS, 1);
	switch (r->operation == PVKVM_BLKIF_OP_INDIRECT ? r->indirect_op
							 : r->operation) {
	case PVKVM_BLKIF_OP_READ:
		count(blk, ST_READS, 1);
		count(blk, ST_BYTES_READ, bytes);
		break;
	case PVKVM_BLKIF_OP_WRITE:
		count(blk, ST_WRITES, 1);
		count(blk, ST_BYTES_WRITTEN, bytes);
		break;
	case PVKVM_BLKIF_OP_FLUSH:
		count(blk, ST_FLUSHES, 1);
		break;
	case PVKVM_BLKIF_OP_DISCARD:
		count(blk, ST_DISCARDS, 1);
		break;
	}
}

static blk_status_t pvblk_queue_rq(struct blk_mq_hw_ctx *hctx,
				   const struct blk_mq_queue_data *bd)
{
	struct pvblk *blk = hctx->queue->queuedata;
	struct request *rq = bd->rq;
	struct pvblk_req *pr = blk_mq_rq_to_pdu(rq);
	struct pvkvm_blkif_request req, *slot;
	unsigned long flags;
	blk_status_t st;
	bool kick;

	blk_mq_start_request(rq);
	st = build(blk, rq, &req);
	if (st != BLK_STS_OK)
		return st;

	spin_lock_irqsave(&blk->lock, flags);
	if (blk->dead) {
		spin_unlock_irqrestore(&blk->lock, flags);
		return BLK_STS_IOERR;
	}
	slot = blkif_front_next_req(&blk->front);
	if (!slot) { /* cannot happen: depth <= slots */
		spin_unlock_irqrestore(&blk->lock, flags);
		return BLK_STS_DEV_RESOURCE;
	}
	*slot = req;
	pr->inflight = true;
	count_request(blk, &req, blk_rq_bytes(rq));
	kick = blkif_front_push_reqs(&blk->front);
	count(blk, kick ? ST_KICKS : ST_KICKS_SUPPRESSED, 1);
	spin_unlock_irqrestore(&blk->lock, flags);
	if (kick)
		pvbus_notify(blk->pdev, 0);
	return BLK_STS_OK;
}

static void pvblk_complete(struct request *rq)
{
	struct pvblk *blk = rq->q->queuedata;
	struct pvblk_req *pr = blk_mq_rq_to_pdu(rq);

	if (pr->status == BLK_STS_OK && req_op(rq) == REQ_OP_READ)
		copy_from_buf(rq, tag_buf(blk, rq->tag));
	blk_mq_end_request(rq, pr->status);
}

static const struct blk_mq_ops pvblk_mq_ops = {
	.queue_rq = pvblk_queue_rq,
	.complete = pvblk_complete,
};

/* --- completions ---------------------------------------------------------------- */

static blk_status_t rsp_status(int16_t status)
{
	switch (status) {
	case PVKVM_BLKIF_RSP_OKAY:
		return BLK_STS_OK;
	case PVKVM_BLKIF_RSP_NOTSUPP:
		return BLK_STS_NOTSUPP;
	default:
		return BLK_STS_IOERR;
	}
}

/* Ends the request a response names, once. Under blk->lock. */
static void complete_one(struct pvblk *blk, const struct pvkvm_blkif_response *rsp)
{
	struct request *rq;
	struct pvblk_req *pr;

	if (rsp->id >= blk->depth) {
		dev_warn_ratelimited(&blk->pdev->dev,
				     "backend answered unknown id %llu\n", rsp->id);
		return;
	}
	rq = blk_mq_tag_to_rq(blk->tag_set.tags[0], rsp->id);
	if (!rq)
		return;
	pr = blk_mq_rq_to_pdu(rq);
	if (!pr->inflight)
		return; /* answered twice, or failed already */
	pr->inflight = false;
	pr->status = rsp_status(rsp->status);
	if (pr->status != BLK_STS_OK)
		count(blk, ST_ERRORS, 1);
	blk_mq_complete_request(rq);
}

static void fail_inflight_locked(struct pvblk *blk);

static irqreturn_t pvblk_irq(int irq, void *arg)
{
	struct pvblk *blk = arg;
	struct pvkvm_blkif_response rsp;
	unsigned long flags;
	int got;

	spin_lock_irqsave(&blk->lock, flags);
	count(blk, ST_IRQS, 1);
	if (!blk->ring_ready || !blk->tag_set_ready) {
		spin_unlock_irqrestore(&blk->lock, flags);
		return IRQ_HANDLED;
	}
	do {
		while ((got = blkif_front_take_rsp(&blk->front, &rsp)) == 1)
			complete_one(blk, &rsp);
		if (got < 0) {
			dev_err(&blk->pdev->dev, "backend broke the ring; failing I/O\n");
			blk->dead = true;
			fail_inflight_locked(blk);
			break;
		}
	} while (blkif_front_final_check_rsps(&blk->front));
	spin_unlock_irqrestore(&blk->lock, flags);
	return IRQ_HANDLED;
}

static bool fail_one(struct request *rq, void *arg)
{
	struct pvblk_req *pr = blk_mq_rq_to_pdu(rq);

	if (pr->inflight) {
		pr->inflight = false;
		pr->status = BLK_STS_IOERR;
		blk_mq_complete_request(rq);
	}
	return true;
}

static void fail_inflight_locked(struct pvblk *blk)
{
	if (blk->tag_set_ready)
		blk_mq_tagset_busy_iter(&blk->tag_set, fail_one, blk);
}

/* --- statistics ------------------------------------------------------------------- */

static ssize_t stats_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct pvblk *blk = dev_get_drvdata(dev);
	ssize_t n = 0;
	int i;

	for (i = 0; i < ST_COUNT; i++)
		n += sysfs_emit_at(buf, n, "%s %llu\n", stat_names[i],
				   READ_ONCE(blk->stats[i]));
	return n;
}
static DEVICE_ATTR_RO(stats);

static ssize_t params_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct pvblk *blk = dev_get_drvdata(dev);

	return sysfs_emit(buf,
			  "ring_order %u\nslots %u\nqueue_depth %u\nmax_request_pages %u\nindirect %d\nsectors %llu\nflush %d\ndiscard %d\nread_only %d\n",
			  blk->order, blk->front.nr_slots, blk->depth,
			  blk->seg_pages, blk->ind_pages > 0,
			  blk->sectors, blk->flush, blk->discard, blk->read_only);
}
static DEVICE_ATTR_RO(params);

static struct attribute *pvblk_attrs[] = {
	&dev_attr_stats.attr,
	&dev_attr_params.attr,
	NULL,
};

static const struct attribute_group pvblk_group = {
	.name = "pvblk",
	.attrs = pvblk_attrs,
};

/* --- the state walk --------------------------------------------------------------- */

static unsigned int pick_order(struct pvblk *blk)
{
	unsigned int area = ilog2(blk->pdev->ring_size / PVKVM_PAGE_SIZE);
	unsigned int order = min3(area, max_ring_order,
				  PVKVM_BLKIF_MAX_RING_PAGE_ORDER);
	u64 backend = pvbus_read_u64_default(blk->pdev, "max-ring-page-order", 0);

	return min_t(u64, order, backend);
}

/*
 * How large a request may be: INDIRECT when the backend offers it and the
 * parameter asks for more than fits in a slot. Read at InitWait, when the
 * backend has published its features, because it sizes every tag's area.
 */
static void pick_request_size(struct pvblk *blk)
{
	u64 backend = pvbus_read_u64_default(blk->pdev,
					     "feature-max-indirect-segments", 0);
	unsigned int want = min_t(u64, backend,
				  min_t(unsigned int, max_indirect_segments,
					PVKVM_BLKIF_MAX_INDIRECT_SEGMENTS));

	blk->seg_pages = PVKVM_BLKIF_MAX_SEGMENTS;
	blk->ind_pages = 0;
	if (want > PVKVM_BLKIF_MAX_SEGMENTS) {
		blk->seg_pages = want;
		blk->ind_pages = DIV_ROUND_UP(want,
					      PVKVM_BLKIF_SEGS_PER_INDIRECT_PAGE);
	}
	blk->tag_bytes = (size_t)(blk->seg_pages + blk->ind_pages) *
			 PVKVM_PAGE_SIZE;
}

static int setup_ring(struct pvblk *blk)
{
	struct pvbus_device *pdev = blk->pdev;
	size_t bytes;
	unsigned int i, per_data;
	int err;

	blk->order = pick_order(blk);
	bytes = (size_t)PVKVM_PAGE_SIZE << blk->order;
	blkif_sring_init(pdev->ring);
	if (blkif_front_init(&blk->front, pdev->ring, bytes))
		return -EINVAL;
	pick_request_size(blk);
	per_data = pdev->data_size / blk->tag_bytes;
	blk->depth = min(blk->front.nr_slots, per_data);
	if (queue_depth)
		blk->depth = min(blk->depth, queue_depth);
	if (blk->depth == 0) {
		dev_err(&pdev->dev, "data area too small for one request\n");
		return -ENOSPC;
	}

	pvbus_printf(pdev, "ring-page-order", "%u", blk->order);
	for (i = 0; i < (1u << blk->order); i++) {
		char key[16];

		snprintf(key, sizeof(key), "ring-ref%u", i);
		pvbus_printf(pdev, key, "%u",
			     pvbus_ring_gref(pdev, i * PVKVM_PAGE_SIZE));
	}
	err = pvbus_printf(pdev, "event-channel", "%u", pvbus_queue_port(pdev, 0));
	if (err)
		return err;
	blk->ring_ready = true;
	return pvbus_switch_state(pdev, PVKVM_XB_INITIALISED);
}

static void read_features(struct pvblk *blk)
{
	struct pvbus_device *pdev = blk->pdev;
	u64 pss = pvbus_read_u64_default(pdev, "physical-sector-size", 512);

	blk->sectors = pvbus_read_u64_default(pdev, "sectors", 0);
	blk->read_only = pvbus_read_u64_default(pdev, "info", 0) &
			 PVKVM_BLKIF_INFO_READONLY;
	blk->flush = pvbus_read_u64_default(pdev, "feature-flush-cache", 0) == 1;
	blk->discard = pvbus_read_u64_default(pdev, "feature-discard", 0) == 1;
	blk->physical_sector = is_power_of_2(pss) && pss >= 512 &&
			       pss <= PVKVM_PAGE_SIZE ? pss : 512;
}

static void set_limits(struct pvblk *blk, struct request_queue *q)
{
	blk_queue_logical_block_size(q, PVKVM_BLKIF_SECTOR_SIZE);
	blk_queue_physical_block_size(q, blk->physical_sector);
	unsigned int sectors = blk->seg_pages * PVKVM_BLKIF_SECTORS_PER_PAGE;

	blk_queue_max_hw_sectors(q, sectors);
	/* Data is copied: any bio layout fits the tag's pages. */
	blk_queue_max_segments(q, sectors);
	blk_queue_write_cache(q, blk->flush, false);
	if (blk->discard) {
		blk_queue_max_discard_sectors(q, UINT_MAX >> PVKVM_BLKIF_SECTOR_SHIFT);
		q->limits.discard_granularity = PVKVM_BLKIF_SECTOR_SIZE;
	}
	blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
}

static const struct block_device_operations pvblk_fops = {
	.owner = THIS_MODULE,
};

static int make_disk(struct pvblk *blk)
{
	struct blk_mq_tag_set *set = &blk->tag_set;
	struct gendisk *disk;
	int err;

	read_features(blk);
	memset(set, 0, sizeof(*set));
	set->ops = &pvblk_mq_ops;
	set->nr_hw_queues = 1;
	set->queue_depth = blk->depth;
	set->numa_node = NUMA_NO_NODE;
	set->cmd_size = sizeof(struct pvblk_req);
	set->flags = BLK_MQ_F_SHOULD_MERGE;
	set->driver_data = blk;
	err = blk_mq_alloc_tag_set(set);
	if (err)
		return err;
	disk = blk_mq_alloc_disk(set, blk);
	if (IS_ERR(disk)) {
		blk_mq_free_tag_set(set);
		return PTR_ERR(disk);
	}
	blk->tag_set_ready = true;
	set_limits(blk, disk->queue);
	disk->major = pvblk_major;
	disk->first_minor = blk->index * PVBLK_MINORS;
	disk->minors = PVBLK_MINORS;
	disk->fops = &pvblk_fops;
	disk->private_data = blk;
	snprintf(disk->disk_name, DISK_NAME_LEN, "pvd%c", 'a' + blk->index);
	set_capacity(disk, blk->sectors);
	set_disk_ro(disk, blk->read_only);
	err = add_disk(disk);
	if (err) {
		put_disk(disk);
		blk->tag_set_ready = false;
		blk_mq_free_tag_set(set);
		return err;
	}
	blk->disk = disk;
	dev_info(&blk->pdev->dev,
		 "%s: %llu sectors, ring 2^%u pages (%u slots), depth %u, %u KiB requests%s%s%s%s\n",
		 disk->disk_name, blk->sectors, blk->order, blk->front.nr_slots,
		 blk->depth, blk->seg_pages * PVKVM_PAGE_SIZE / 1024,
		 blk->ind_pages ? " (indirect)" : "", blk->flush ? ", flush" : "",
		 blk->discard ? ", discard" : "", blk->read_only ? ", ro" : "");
	return 0;
}

static void go_dead(struct pvblk *blk, bool mark_disk)
{
	unsigned long flags;

	spin_lock_irqsave(&blk->lock, flags);
	blk->dead = true;
	fail_inflight_locked(blk);
	spin_unlock_irqrestore(&blk->lock, flags);
	if (mark_disk && blk->disk)
		blk_mark_disk_dead(blk->disk);
}

static void pvblk_otherend_changed(struct pvbus_device *pdev,
				   enum pvkvm_xenbus_state state)
{
	struct pvblk *blk = dev_get_drvdata(&pdev->dev);
	int err;

	switch (state) {
	case PVKVM_XB_INITWAIT:
		if (blk->ring_ready || pdev->state != PVKVM_XB_INITIALISING)
			break;
		err = setup_ring(blk);
		if (err) {
			dev_err(&pdev->dev, "ring setup failed: %d\n", err);
			pvbus_switch_state(pdev, PVKVM_XB_CLOSING);
		}
		break;
	case PVKVM_XB_CONNECTED:
		if (blk->disk || !blk->ring_ready)
			break;
		err = make_disk(blk);
		if (err) {
			dev_err(&pdev->dev, "disk setup failed: %d\n", err);
			pvbus_switch_state(pdev, PVKVM_XB_CLOSING);
			break;
		}
		pvbus_switch_state(pdev, PVKVM_XB_CONNECTED);
		break;
	case PVKVM_XB_CLOSING:
	case PVKVM_XB_CLOSED:
		/*
		 * Before our ring exists this is the last frontend's ending:
		 * the backend offers anew once it sees our Initialising.
		 */
		if (pdev->state == PVKVM_XB_CLOSED || !blk->ring_ready)
			break;
		dev_warn(&pdev->dev, "backend is %s: the disk is gone\n",
			 pvbus_state_name(state));
		go_dead(blk, true);
		pvbus_switch_state(pdev, PVKVM_XB_CLOSING);
		pvbus_switch_state(pdev, PVKVM_XB_CLOSED);
		break;
	default:
		break;
	}
}

static int pvblk_probe(struct pvbus_device *pdev)
{
	struct pvblk *blk;
	int err;

	blk = kzalloc(sizeof(*blk), GFP_KERNEL);
	if (!blk)
		return -ENOMEM;
	blk->pdev = pdev;
	spin_lock_init(&blk->lock);
	blk->index = ida_alloc_max(&pvblk_ida, 25, GFP_KERNEL);
	if (blk->index < 0) {
		err = blk->index;
		goto free;
	}
	blk->irq = pvbus_queue_irq(pdev, 0);
	if (blk->irq < 0) {
		err = blk->irq;
		goto ida;
	}
	err = request_irq(blk->irq, pvblk_irq, 0, dev_name(&pdev->dev), blk);
	if (err)
		goto ida;
	blk->irq_on = true;
	dev_set_drvdata(&pdev->dev, blk);
	err = sysfs_create_group(&pdev->dev.kobj, &pvblk_group);
	if (err)
		goto irq;
	/* A fresh walk: the backend (re)offers once it sees Initialising. */
	err = pvbus_switch_state(pdev, PVKVM_XB_INITIALISING);
	if (err)
		goto sysfs;
	return 0;
sysfs:
	sysfs_remove_group(&pdev->dev.kobj, &pvblk_group);
irq:
	free_irq(blk->irq, blk);
ida:
	ida_free(&pvblk_ida, blk->index);
free:
	kfree(blk);
	return err;
}

static void pvblk_remove(struct pvbus_device *pdev)
{
	struct pvblk *blk = dev_get_drvdata(&pdev->dev);
	enum pvkvm_xenbus_state be;

	/* Waits for the I/O in flight: the backend still answers. */
	if (blk->disk)
		del_gendisk(blk->disk);
	if (pdev->state != PVKVM_XB_CLOSED) {
		pvbus_switch_state(pdev, PVKVM_XB_CLOSING);
		be = pvbus_wait_otherend(pdev, PVKVM_XB_CLOSED, PVBLK_CLOSE_TIMEOUT);
		if (be != PVKVM_XB_CLOSED)
			dev_warn(&pdev->dev, "backend still %s after 5 s; leaving anyway\n",
				 pvbus_state_name(be));
		pvbus_switch_state(pdev, PVKVM_XB_CLOSED);
	}
	/* The backend no longer touches the ring: nothing can answer now. */
	go_dead(blk, false);
	free_irq(blk->irq, blk);
	sysfs_remove_group(&pdev->dev.kobj, &pvblk_group);
	if (blk->disk)
		put_disk(blk->disk);
	if (blk->tag_set_ready)
		blk_mq_free_tag_set(&blk->tag_set);
	ida_free(&pvblk_ida, blk->index);
	kfree(blk);
}

static struct pvbus_driver pvblk_driver = {
	.driver.name = "pvblk",
	.type = PVBUS_DEV_BLK,
	.probe = pvblk_probe,
	.remove = pvblk_remove,
	.otherend_changed = pvblk_otherend_changed,
};

static int __init pvblk_init(void)
{
	int err;

	pvblk_major = register_blkdev(0, "pvblk");
	if (pvblk_major < 0)
		return pvblk_major;
	err = pvbus_register_driver(&pvblk_driver);
	if (err)
		unregister_blkdev(pvblk_major, "pvblk");
	return err;
}

static void __exit pvblk_exit(void)
{
	pvbus_unregister_driver(&pvblk_driver);
	unregister_blkdev(pvblk_major, "pvblk");
}

module_init(pvblk_init);
module_exit(pvblk_exit);

MODULE_DESCRIPTION("pvkvm PV block frontend (blkif over pvbus)");
MODULE_AUTHOR("pvkvm");
MODULE_LICENSE("Dual MIT/GPL");
