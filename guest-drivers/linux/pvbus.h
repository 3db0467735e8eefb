/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * pvbus: the bus pvkvm's PV devices sit on inside a Linux guest.
 *
 * A transport finds devices and gives each a ring area, a data area, a
 * config channel (backend keys to read, frontend keys to write, the
 * xenbus-style state walk of docs/block.md) and notifications both ways.
 * Device drivers (pvblk, pvnet) see only this header, so they work on any
 * transport: today the ivshmem region of `pvkvm serve` (pvbus_ivshmem.c),
 * later the native hypercalls of a guest under `pvkvm run`.
 */
#ifndef PVBUS_H
#define PVBUS_H

#include <linux/device.h>
#include <linux/interrupt.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "hypercall/pvkvm_abi.h"

struct pvbus_device;

/* What a transport provides. All but notify may sleep. */
struct pvbus_transport_ops {
	/* Copies the value of backend key @key into @buf (NUL-terminated).
	 * Its length, -ENOENT, or -EIO when the backend's list is unreadable.
	 */
	int (*read)(struct pvbus_device *pdev, const char *key, char *buf,
		    size_t len);
	/* Publishes the frontend keys written since the last publish. */
	int (*publish)(struct pvbus_device *pdev, const char *text, size_t len);
	/* The grant reference of the page at byte @off of the ring or the
	 * data area (page-aligned, inside the area).
	 */
	u32 (*ring_gref)(struct pvbus_device *pdev, size_t off);
	u32 (*data_gref)(struct pvbus_device *pdev, size_t off);
	/* Tells the backend that ring @queue has news. Any context. */
	void (*notify)(struct pvbus_device *pdev, unsigned int queue);
	/* What names ring @queue's notifications in the config keys
	 * ("event-channel"): a vector here, a port under `pvkvm run`.
	 */
	u32 (*queue_port)(struct pvbus_device *pdev, unsigned int queue);
	/* The Linux IRQ of ring @queue's backend-to-frontend vector. */
	int (*queue_irq)(struct pvbus_device *pdev, unsigned int queue);
};

enum pvbus_dev_type {
	PVBUS_DEV_BLK = 1,
	PVBUS_DEV_NET = 2,
};

#define PVBUS_FRONT_TEXT_MAX 2016
#define PVBUS_KEY_MAX 63
#define PVBUS_VALUE_MAX 255

struct pvbus_device {
	struct device dev;
	enum pvbus_dev_type type;
	unsigned int id;       /* blk0 has type BLK, id 0 */
	unsigned int nr_queues;
	void *ring;            /* the device's ring area */
	size_t ring_size;
	void *data;            /* the device's data pages */
	size_t data_size;
	const struct pvbus_transport_ops *ops;
	void *transport_priv;

	/* pvbus core */
	struct mutex cfg_lock; /* front_text, otherend */
	char front_text[PVBUS_FRONT_TEXT_MAX];
	size_t front_len;
	enum pvkvm_xenbus_state state;    /* ours, as last published */
	enum pvkvm_xenbus_state otherend; /* the backend's, as last seen */
	struct work_struct otherend_work;
	wait_queue_head_t otherend_wq;
};

#define to_pvbus_device(d) container_of(d, struct pvbus_device, dev)

struct pvbus_driver {
	struct device_driver driver;
	enum pvbus_dev_type type;
	int (*probe)(struct pvbus_device *pdev);
	void (*remove)(struct pvbus_device *pdev);
	/* The backend's state moved to @state. Process context, serialised
	 * with probe and remove.
	 */
	void (*otherend_changed)(struct pvbus_device *pdev,
				 enum pvkvm_xenbus_state state);
};

#define to_pvbus_driver(d) container_of(d, struct pvbus_driver, driver)

int __pvbus_register_driver(struct pvbus_driver *drv, struct module *owner);
#define pvbus_register_driver(drv) __pvbus_register_driver(drv, THIS_MODULE)
void pvbus_unregister_driver(struct pvbus_driver *drv);

/* --- for drivers: the config channel ---------------------------------------- */

int pvbus_read(struct pvbus_device *pdev, const char *key, char *buf,
	       size_t len);
int pvbus_read_u64(struct pvbus_device *pdev, const char *key, u64 *val);
/* u64 value of @key, or @def when it is absent or not a number. */
u64 pvbus_read_u64_default(struct pvbus_device *pdev, const char *key, u64 def);
/* Stages frontend key @key; published with the next pvbus_switch_state. */
__printf(3, 4)
int pvbus_printf(struct pvbus_device *pdev, const char *key,
		 const char *fmt, ...);
/* Sets our state key and publishes every staged key with it. */
int pvbus_switch_state(struct pvbus_device *pdev,
		       enum pvkvm_xenbus_state state);
/* Waits up to @timeout jiffies for the backend to reach @state (or
 * Closed). The state seen.
 */
enum pvkvm_xenbus_state pvbus_wait_otherend(struct pvbus_device *pdev,
					    enum pvkvm_xenbus_state state,
					    unsigned long timeout);
const char *pvbus_state_name(enum pvkvm_xenbus_state state);

static inline u32 pvbus_ring_gref(struct pvbus_device *pdev, size_t off)
{
	return pdev->ops->ring_gref(pdev, off);
}

static inline u32 pvbus_data_gref(struct pvbus_device *pdev, size_t off)
{
	return pdev->ops->data_gref(pdev, off);
}

static inline void pvbus_notify(struct pvbus_device *pdev, unsigned int queue)
{
	pdev->ops->notify(pdev, queue);
}

static inline u32 pvbus_queue_port(struct pvbus_device *pdev,
				   unsigned int queue)
{
	return pdev->ops->queue_port(pdev, queue);
}

static inline int pvbus_queue_irq(struct pvbus_device *pdev, unsigned int queue)
{
	return pdev->ops->queue_irq(pdev, queue);
}

/* --- for transports ------------------------------------------------------ */

/*
 * Registers a device the transport filled in (dev.parent, type, id, areas,
 * ops); pvbus names it and frees it on its last put. The transport keeps a
 * reference of its own (get_device) so config notifications can reach the
 * device while its driver is removed: unregister, stop notifying it, then
 * pvbus_device_put.
 */
int pvbus_device_register(struct pvbus_device *pdev);
void pvbus_device_unregister(struct pvbus_device *pdev);
void pvbus_device_put(struct pvbus_device *pdev);
/* The backend's config may have changed: re-read its state (from a work
 * item, so any context).
 */
void pvbus_config_changed(struct pvbus_device *pdev);

/* The transports built into pvbus.ko. */
int pvbus_ivshmem_init(void);
void pvbus_ivshmem_exit(void);

#endif /* PVBUS_H */
