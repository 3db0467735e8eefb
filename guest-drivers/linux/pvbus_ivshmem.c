// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * The ivshmem transport of pvbus: QEMU's ivshmem-doorbell device
 * (1af4:1110) attached to `pvkvm serve`. BAR2 is the server's region
 * (hypercall/pvkvm_ivshmem.h); BAR0's Doorbell register rings the server;
 * the server interrupts us through MSI-X (BAR1). An ivshmem device whose
 * region does not start with pvkvm's magic is someone else's: left alone.
 */
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "pvbus.h"
#include "hypercall/pvkvm_ivshmem.h"

#define DRV_NAME "pvbus-ivshmem"

/* Bounded so a writer that died mid-update cannot keep us spinning. */
#define KV_READ_TRIES 1000

struct ivs;

struct ivs_dev {
	struct ivs *ivs;
	struct pvbus_device *pdev;
	struct pvkvm_ivshmem_dev ent;       /* our copy of the entry */
	struct pvkvm_ivshmem_config *cfg;   /* in the region */
	struct mutex snap_lock;
	char snap[PVKVM_IVSHMEM_KV_TEXT + 1];
};

struct ivs {
	struct pci_dev *pci;
	void __iomem *regs;
	void *region;
	size_t region_size;
	u32 server_peer;
	unsigned int nr_vectors;
	unsigned int nr_devs;
	struct ivs_dev *devs;
	struct work_struct config_work;
	bool irq_on;
};

/* --- the config channel --------------------------------------------------------- */

/* A consistent copy of the backend's key list into d->snap. Under snap_lock. */
static int snapshot_back(struct ivs_dev *d)
{
	struct pvkvm_ivshmem_kv *kv = &d->cfg->back;
	int tries;

	for (tries = 0; tries < KV_READ_TRIES; tries++) {
		/* Pairs with the writer's release of an even seq. */
		u32 s1 = smp_load_acquire(&kv->seq);
		u32 len = READ_ONCE(kv->len);

		if ((s1 & 1) || len > PVKVM_IVSHMEM_KV_TEXT) {
			cpu_relax();
			continue;
		}
		memcpy(d->snap, d->cfg->back_text, len);
		smp_rmb(); /* the text before the second look at seq */
		if (READ_ONCE(kv->seq) != s1)
			continue;
		d->snap[len] = '\0';
		return len;
	}
	return -EIO;
}

static int ivs_read(struct pvbus_device *pdev, const char *key, char *buf,
		    size_t len)
{
	struct ivs_dev *d = pdev->transport_priv;
	size_t klen = strlen(key);
	char *line, *end;
	int n, err = -ENOENT;

	mutex_lock(&d->snap_lock);
	n = snapshot_back(d);
	if (n < 0) {
		err = n;
		goto out;
	}
	for (line = d->snap; *line; line = end + 1) {
		end = strchrnul(line, '\n');
		if ((size_t)(end - line) > klen && !memcmp(line, key, klen) &&
		    line[klen] == '=') {
			const char *val = line + klen + 1;
			size_t vlen = end - val;

			if (vlen >= len) {
				err = -E2BIG;
				break;
			}
			memcpy(buf, val, vlen);
			buf[vlen] = '\0';
			err = vlen;
			break;
		}
		if (!*end)
			break;
	}
out:
	mutex_unlock(&d->snap_lock);
	return err;
}

static void ring_doorbell(struct ivs *ivs, unsigned int vector)
{
	iowrite32((ivs->server_peer << 16) | vector,
		  ivs->regs + PVKVM_IVSHMEM_REG_DOORBELL);
}

static int ivs_publish(struct pvbus_device *pdev, const char *text, size_t len)
{
	struct ivs_dev *d = pdev->transport_priv;
	struct pvkvm_ivshmem_kv *kv = &d->cfg->front;
	u32 seq;

	if (len > PVKVM_IVSHMEM_KV_TEXT)
		return -E2BIG;
	seq = READ_ONCE(kv->seq) | 1; /* odd: being written */
	WRITE_ONCE(kv->seq, seq);
	smp_wmb(); /* odd seq visible before the text changes */
	memcpy(d->cfg->front_text, text, len);
	WRITE_ONCE(kv->len, len);
	smp_store_release(&kv->seq, seq + 1); /* text and len before even seq */
	ring_doorbell(d->ivs, PVKVM_IVSHMEM_CONFIG_VECTOR);
	return 0;
}

static u32 ivs_ring_gref(struct pvbus_device *pdev, size_t off)
{
	struct ivs_dev *d = pdev->transport_priv;

	return (u32)((d->ent.ring_off + off) / PVKVM_PAGE_SIZE);
}

static u32 ivs_data_gref(struct pvbus_device *pdev, size_t off)
{
	struct ivs_dev *d = pdev->transport_priv;

	return (u32)((d->ent.data_off + off) / PVKVM_PAGE_SIZE);
}

static void ivs_notify(struct pvbus_device *pdev, unsigned int queue)
{
	struct ivs_dev *d = pdev->transport_priv;

	ring_doorbell(d->ivs, d->ent.vector + queue);
}

static u32 ivs_queue_port(struct pvbus_device *pdev, unsigned int queue)
{
	struct ivs_dev *d = pdev->transport_priv;

	return d->ent.vector + queue;
}

static int ivs_queue_irq(struct pvbus_device *pdev, unsigned int queue)
{
	struct ivs_dev *d = pdev->transport_priv;

	if (queue >= d->ent.nr_vectors)
		return -EINVAL;
	return pci_irq_vector(d->ivs->pci, d->ent.vector + queue);
}

static const struct pvbus_transport_ops ivs_ops = {
	.read = ivs_read,
	.publish = ivs_publish,
	.ring_gref = ivs_ring_gref,
	.data_gref = ivs_data_gref,
	.notify = ivs_notify,
	.queue_port = ivs_queue_port,
	.queue_irq = ivs_queue_irq,
};

/* --- config interrupts ------------------------------------------------------------ */

static void config_work_fn(struct work_struct *work)
{
	struct ivs *ivs = container_of(work, struct ivs, config_work);
	unsigned int i;

	for (i = 0; i < ivs->nr_devs; i++) {
		if (ivs->devs[i].pdev)
			pvbus_config_changed(ivs->devs[i].pdev);
	}
}

static irqreturn_t config_irq(int irq, void *arg)
{
	struct ivs *ivs = arg;

	schedule_work(&ivs->config_work);
	return IRQ_HANDLED;
}

/* --- the directory ------------------------------------------------------------------ */

static bool span_ok(const struct ivs *ivs, u64 off, u64 size)
{
	return off % PVKVM_PAGE_SIZE == 0 && size % PVKVM_PAGE_SIZE == 0 &&
	       off <= ivs->region_size && size <= ivs->region_size - off;
}

static int check_entry(struct ivs *ivs, const struct pvkvm_ivshmem_dev *e)
{
	if (e->type != PVKVM_IVSHMEM_DEV_BLK && e->type != PVKVM_IVSHMEM_DEV_NET)
		return -EINVAL;
	if (e->config_size != PVKVM_IVSHMEM_CONFIG_SIZE ||
	    !span_ok(ivs, e->config_off, e->config_size) ||
	    !span_ok(ivs, e->ring_off, e->ring_size) ||
	    !span_ok(ivs, e->data_off, e->data_size) || e->ring_size == 0)
		return -EINVAL;
	if (e->nr_vectors == 0 || e->vector == PVKVM_IVSHMEM_CONFIG_VECTOR ||
	    (unsigned int)e->vector + e->nr_vectors > ivs->nr_vectors)
		return -EINVAL;
	return 0;
}

static int check_dir(struct ivs *ivs, const struct pvkvm_ivshmem_dir *dir)
{
	struct device *dev = &ivs->pci->dev;
	unsigned int i;

	if (dir->version != PVKVM_IVSHMEM_VERSION ||
	    dir->dir_size != sizeof(*dir)) {
		dev_err(dev, "pvkvm region version %u (size %u) not supported\n",
			dir->version, dir->dir_size);
		return -ENODEV;
	}
	if (dir->region_size != ivs->region_size ||
	    dir->nr_devices > PVKVM_IVSHMEM_MAX_DEVICES ||
	    dir->nr_vectors == 0 || dir->nr_vectors > PVKVM_IVSHMEM_MAX_VECTORS ||
	    dir->config_vector != PVKVM_IVSHMEM_CONFIG_VECTOR ||
	    dir->server_peer > 0xffff) {
		dev_err(dev, "pvkvm region directory is inconsistent\n");
		return -EINVAL;
	}
	ivs->server_peer = dir->server_peer;
	ivs->nr_vectors = dir->nr_vectors;
	for (i = 0; i < dir->nr_devices; i++) {
		if (check_entry(ivs, &dir->dev[i])) {
			dev_err(dev, "pvkvm region: device entry %u is invalid\n", i);
			return -EINVAL;
		}
	}
	return 0;
}

/* --- devices ------------------------------------------------------------------------ */

static int add_device(struct ivs *ivs, struct ivs_dev *d)
{
	struct pvbus_device *pdev = kzalloc(sizeof(*pdev), GFP_KERNEL);
	int err;

	if (!pdev)
		return -ENOMEM;
	d->ivs = ivs;
	d->cfg = ivs->region + d->ent.config_off;
	mutex_init(&d->snap_lock);
	pdev->dev.parent = &ivs->pci->dev;
	pdev->type = d->ent.type == PVKVM_IVSHMEM_DEV_BLK ? PVBUS_DEV_BLK
							   : PVBUS_DEV_NET;
	pdev->id = d->ent.id;
	pdev->nr_queues = d->ent.nr_vectors;
	pdev->ring = ivs->region + d->ent.ring_off;
	pdev->ring_size = d->ent.ring_size;
	pdev->data = ivs->region + d->ent.data_off;
	pdev->data_size = d->ent.data_size;
	pdev->ops = &ivs_ops;
	pdev->transport_priv = d;
	err = pvbus_device_register(pdev); /* frees pdev on failure */
	if (err)
		return err;
	get_device(&pdev->dev);
	WRITE_ONCE(d->pdev, pdev);
	return 0;
}

static void remove_devices(struct ivs *ivs)
{
	unsigned int i;

	/* Config interrupts still flow: a driver's remove waits for the
	 * backend to close.
	 */
	for (i = 0; i < ivs->nr_devs; i++) {
		if (ivs->devs[i].pdev)
			pvbus_device_unregister(ivs->devs[i].pdev);
	}
}

static void put_devices(struct ivs *ivs)
{
	unsigned int i;

	for (i = 0; i < ivs->nr_devs; i++) {
		struct pvbus_device *pdev = ivs->devs[i].pdev;

		ivs->devs[i].pdev = NULL;
		if (pdev)
			pvbus_device_put(pdev);
	}
}

/* --- the PCI device ---------------------------------------------------------------- */

static int map_region(struct ivs *ivs)
{
	struct pci_dev *pci = ivs->pci;

	ivs->region_size = pci_resource_len(pci, 2);
	if (ivs->region_size < PVKVM_PAGE_SIZE)
		return -ENODEV;
	/* RAM on the other side: cacheable, like the ring code expects. */
	ivs->region = memremap(pci_resource_start(pci, 2), ivs->region_size,
			       MEMREMAP_WB);
	return ivs->region ? 0 : -ENOMEM;
}

static int setup_irqs(struct ivs *ivs)
{
	struct pci_dev *pci = ivs->pci;
	int n, err;

	n = pci_alloc_irq_vectors(pci, ivs->nr_vectors, ivs->nr_vectors,
				  PCI_IRQ_MSIX);
	if (n < 0) {
		dev_err(&pci->dev,
			"needs %u MSI-X vectors (QEMU: ivshmem-doorbell,vectors=%u): %d\n",
			ivs->nr_vectors, ivs->nr_vectors, n);
		return n;
	}
	/* Without bus mastering the MSI-X writes are silently dropped. */
	pci_set_master(pci);
	err = request_irq(pci_irq_vector(pci, PVKVM_IVSHMEM_CONFIG_VECTOR),
			  config_irq, 0, "pvbus-config", ivs);
	if (err) {
		pci_free_irq_vectors(pci);
		return err;
	}
	ivs->irq_on = true;
	return 0;
}

static void teardown_irqs(struct ivs *ivs)
{
	if (!ivs->irq_on)
		return;
	free_irq(pci_irq_vector(ivs->pci, PVKVM_IVSHMEM_CONFIG_VECTOR), ivs);
	cancel_work_sync(&ivs->config_work);
	pci_free_irq_vectors(ivs->pci);
	ivs->irq_on = false;
}

static int read_dir(struct ivs *ivs)
{
	struct pvkvm_ivshmem_dir *dir;
	unsigned int i;
	int err;

	dir = kmalloc(sizeof(*dir), GFP_KERNEL);
	if (!dir)
		return -ENOMEM;
	memcpy(dir, ivs->region, sizeof(*dir)); /* read once, then checked */
	if (dir->magic != PVKVM_IVSHMEM_MAGIC) {
		dev_info(&ivs->pci->dev, "not a pvkvm region: left alone\n");
		err = -ENODEV;
		goto out;
	}
	err = check_dir(ivs, dir);
	if (err)
		goto out;
	ivs->devs = kcalloc(dir->nr_devices, sizeof(*ivs->devs), GFP_KERNEL);
	if (!ivs->devs) {
		err = -ENOMEM;
		goto out;
	}
	ivs->nr_devs = dir->nr_devices;
	for (i = 0; i < ivs->nr_devs; i++)
		ivs->devs[i].ent = dir->dev[i];
out:
	kfree(dir);
	return err;
}

static void ivs_free(struct ivs *ivs)
{
	if (ivs->regs)
		pci_iounmap(ivs->pci, ivs->regs);
	if (ivs->region)
		memunmap(ivs->region);
	kfree(ivs->devs);
	kfree(ivs);
}

static int ivs_probe(struct pci_dev *pci, const struct pci_device_id *id)
{
	struct ivs *ivs;
	unsigned int i;
	int err;

	err = pci_enable_device(pci);
	if (err)
		return err;
	err = pci_request_regions(pci, DRV_NAME);
	if (err)
		goto disable;
	ivs = kzalloc(sizeof(*ivs), GFP_KERNEL);
	if (!ivs) {
		err = -ENOMEM;
		goto release;
	}
	ivs->pci = pci;
	INIT_WORK(&ivs->config_work, config_work_fn);
	err = map_region(ivs);
	if (!err)
		err = read_dir(ivs);
	if (err)
		goto free;
	ivs->regs = pci_iomap(pci, 0, 0);
	if (!ivs->regs) {
		err = -ENOMEM;
		goto free;
	}
	err = setup_irqs(ivs);
	if (err)
		goto free;
	pci_set_drvdata(pci, ivs);
	dev_info(&pci->dev, "pvkvm region: %zu KiB, %u device(s), %u vectors, server peer %u, my peer %u\n",
		 ivs->region_size >> 10, ivs->nr_devs, ivs->nr_vectors,
		 ivs->server_peer,
		 ioread32(ivs->regs + PVKVM_IVSHMEM_REG_IV_POSITION));
	for (i = 0; i < ivs->nr_devs; i++) {
		err = add_device(ivs, &ivs->devs[i]);
		if (err)
			dev_warn(&pci->dev, "device %u not added: %d\n", i, err);
	}
	return 0;
free:
	ivs_free(ivs);
release:
	pci_release_regions(pci);
disable:
	pci_disable_device(pci);
	return err;
}

static void ivs_remove(struct pci_dev *pci)
{
	struct ivs *ivs = pci_get_drvdata(pci);

	remove_devices(ivs);
	teardown_irqs(ivs);
	put_devices(ivs);
	ivs_free(ivs);
	pci_release_regions(pci);
	pci_disable_device(pci);
}

static const struct pci_device_id ivs_ids[] = {
	{ PCI_DEVICE(PVKVM_IVSHMEM_PCI_VENDOR, PVKVM_IVSHMEM_PCI_DEVICE) },
	{ }
};
MODULE_DEVICE_TABLE(pci, ivs_ids);

static struct pci_driver ivs_driver = {
	.name = DRV_NAME,
	.id_table = ivs_ids,
	.probe = ivs_probe,
	.remove = ivs_remove,
};

int pvbus_ivshmem_init(void)
{
	return pci_register_driver(&ivs_driver);
}

void pvbus_ivshmem_exit(void)
{
	pci_unregister_driver(&ivs_driver);
}
