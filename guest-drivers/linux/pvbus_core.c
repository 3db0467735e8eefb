// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * pvbus core: the bus type, driver matching by device type, the staged
 * frontend key list and the backend state follower. Transports (see
 * pvbus.h) register devices; drivers react to the backend's state walk.
 */
#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "pvbus.h"

static const char *const state_names[] = {
	[PVKVM_XB_UNKNOWN] = "Unknown",
	[PVKVM_XB_INITIALISING] = "Initialising",
	[PVKVM_XB_INITWAIT] = "InitWait",
	[PVKVM_XB_INITIALISED] = "Initialised",
	[PVKVM_XB_CONNECTED] = "Connected",
	[PVKVM_XB_CLOSING] = "Closing",
	[PVKVM_XB_CLOSED] = "Closed",
};

const char *pvbus_state_name(enum pvkvm_xenbus_state state)
{
	if ((unsigned int)state >= ARRAY_SIZE(state_names))
		return "Invalid";
	return state_names[state];
}
EXPORT_SYMBOL_GPL(pvbus_state_name);

static const char *type_name(enum pvbus_dev_type type)
{
	switch (type) {
	case PVBUS_DEV_BLK:
		return "blk";
	case PVBUS_DEV_NET:
		return "net";
	}
	return "unknown";
}

/* --- the bus ------------------------------------------------------------------- */

static int pvbus_match(struct device *dev, struct device_driver *drv)
{
	return to_pvbus_device(dev)->type == to_pvbus_driver(drv)->type;
}

static int pvbus_uevent(struct device *dev, struct kobj_uevent_env *env)
{
	struct pvbus_device *pdev = to_pvbus_device(dev);

	return add_uevent_var(env, "PVBUS_TYPE=%s", type_name(pdev->type));
}

static int pvbus_probe(struct device *dev)
{
	struct pvbus_device *pdev = to_pvbus_device(dev);
	struct pvbus_driver *drv = to_pvbus_driver(dev->driver);
	int err;

	err = drv->probe(pdev);
	if (err)
		return err;
	/* Deliver the backend's current state, whatever it is by now. */
	pdev->otherend = PVKVM_XB_UNKNOWN;
	schedule_work(&pdev->otherend_work);
	return 0;
}

static void pvbus_remove(struct device *dev)
{
	struct pvbus_device *pdev = to_pvbus_device(dev);
	struct pvbus_driver *drv = to_pvbus_driver(dev->driver);

	if (drv->remove)
		drv->remove(pdev);
}

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct pvbus_device *pdev = to_pvbus_device(dev);

	return sysfs_emit(buf, "%s %s\n", pvbus_state_name(pdev->state),
			  pvbus_state_name(pdev->otherend));
}
static DEVICE_ATTR_RO(state);

static struct attribute *pvbus_dev_attrs[] = {
	&dev_attr_state.attr,
	NULL,
};
ATTRIBUTE_GROUPS(pvbus_dev);

static struct bus_type pvbus_bus = {
	.name = "pvbus",
	.match = pvbus_match,
	.uevent = pvbus_uevent,
	.probe = pvbus_probe,
	.remove = pvbus_remove,
	.dev_groups = pvbus_dev_groups,
};

int __pvbus_register_driver(struct pvbus_driver *drv, struct module *owner)
{
	drv->driver.bus = &pvbus_bus;
	drv->driver.owner = owner;
	return driver_register(&drv->driver);
}
EXPORT_SYMBOL_GPL(__pvbus_register_driver);

void pvbus_unregister_driver(struct pvbus_driver *drv)
{
	driver_unregister(&drv->driver);
}
EXPORT_SYMBOL_GPL(pvbus_unregister_driver);

/* --- the backend's state ---------------------------------------------------- */

static enum pvkvm_xenbus_state read_otherend(struct pvbus_device *pdev)
{
	u64 v;

	if (pvbus_read_u64(pdev, "state", &v) || v > PVKVM_XB_CLOSED)
		return PVKVM_XB_UNKNOWN;
	return (enum pvkvm_xenbus_state)v;
}

static void otherend_work_fn(struct work_struct *work)
{
	struct pvbus_device *pdev =
		container_of(work, struct pvbus_device, otherend_work);
	enum pvkvm_xenbus_state now = read_otherend(pdev);
	struct pvbus_driver *drv;
	bool changed;

	mutex_lock(&pdev->cfg_lock);
	changed = now != pdev->otherend;
	pdev->otherend = now;
	mutex_unlock(&pdev->cfg_lock);
	if (!changed)
		return;
	/* Before the device lock: a remove waiting for Closed holds it. */
	wake_up_all(&pdev->otherend_wq);
	dev_dbg(&pdev->dev, "backend is %s\n", pvbus_state_name(now));

	device_lock(&pdev->dev);
	if (pdev->dev.driver) {
		drv = to_pvbus_driver(pdev->dev.driver);
		if (drv->otherend_changed)
			drv->otherend_changed(pdev, now);
	}
	device_unlock(&pdev->dev);
}

void pvbus_config_changed(struct pvbus_device *pdev)
{
	schedule_work(&pdev->otherend_work);
}
EXPORT_SYMBOL_GPL(pvbus_config_changed);

enum pvkvm_xenbus_state pvbus_wait_otherend(struct pvbus_device *pdev,
					    enum pvkvm_xenbus_state state,
					    unsigned long timeout)
{
	wait_event_timeout(pdev->otherend_wq,
			   READ_ONCE(pdev->otherend) == state ||
			   READ_ONCE(pdev->otherend) == PVKVM_XB_CLOSED,
			   timeout);
	return READ_ONCE(pdev->otherend);
}
EXPORT_SYMBOL_GPL(pvbus_wait_otherend);

/* --- the config channel ----------------------------------------------------- */

int pvbus_read(struct pvbus_device *pdev, const char *key, char *buf,
	       size_t len)
{
	return pdev->ops->read(pdev, key, buf, len);
}
EXPORT_SYMBOL_GPL(pvbus_read);

int pvbus_read_u64(struct pvbus_device *pdev, const char *key, u64 *val)
{
	char buf[32];
	int n = pvbus_read(pdev, key, buf, sizeof(buf));

	if (n < 0)
		return n;
	return kstrtou64(buf, 10, val);
}
EXPORT_SYMBOL_GPL(pvbus_read_u64);

u64 pvbus_read_u64_default(struct pvbus_device *pdev, const char *key, u64 def)
{
	u64 v;

	return pvbus_read_u64(pdev, key, &v) ? def : v;
}
EXPORT_SYMBOL_GPL(pvbus_read_u64_default);

static bool key_ok(const char *key)
{
	size_t n = strlen(key);

	if (n == 0 || n > PVBUS_KEY_MAX)
		return false;
	for (; *key; key++) {
		if (!islower(*key) && !isdigit(*key) && *key != '-')
			return false;
	}
	return true;
}

static bool value_ok(const char *val)
{
	for (; *val; val++) {
		if (*val < 0x20 || *val > 0x7e)
			return false;
	}
	return true;
}

/* Drops the line of @key from the staged list. Under cfg_lock. */
static void front_remove(struct pvbus_device *pdev, const char *key)
{
	size_t klen = strlen(key), pos = 0;

	while (pos < pdev->front_len) {
		char *line = pdev->front_text + pos;
		char *nl = memchr(line, '\n', pdev->front_len - pos);
		size_t llen = nl ? (size_t)(nl - line) + 1 : pdev->front_len - pos;

		if (llen > klen && !memcmp(line, key, klen) && line[klen] == '=') {
			memmove(line, line + llen, pdev->front_len - pos - llen);
			pdev->front_len -= llen;
			return;
		}
		pos += llen;
	}
}

int pvbus_printf(struct pvbus_device *pdev, const char *key,
		 const char *fmt, ...)
{
	char val[PVBUS_VALUE_MAX + 1];
	va_list ap;
	int n, err = 0;

	va_start(ap, fmt);
	n = vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (!key_ok(key) || n < 0 || n >= (int)sizeof(val) || !value_ok(val))
		return -EINVAL;

	mutex_lock(&pdev->cfg_lock);
	front_remove(pdev, key);
	if (pdev->front_len + strlen(key) + 2 + n > sizeof(pdev->front_text)) {
		err = -ENOSPC;
	} else {
		pdev->front_len += scnprintf(pdev->front_text + pdev->front_len,
					     sizeof(pdev->front_text) - pdev->front_len,
					     "%s=%s\n", key, val);
	}
	mutex_unlock(&pdev->cfg_lock);
	return err;
}
EXPORT_SYMBOL_GPL(pvbus_printf);

int pvbus_switch_state(struct pvbus_device *pdev,
		       enum pvkvm_xenbus_state state)
{
	int err;

	err = pvbus_printf(pdev, "state", "%u", (unsigned int)state);
	if (err)
		return err;
	mutex_lock(&pdev->cfg_lock);
	err = pdev->ops->publish(pdev, pdev->front_text, pdev->front_len);
	if (!err)
		pdev->state = state;
	mutex_unlock(&pdev->cfg_lock);
	if (err)
		dev_warn(&pdev->dev, "cannot publish state %s: %d\n",
			 pvbus_state_name(state), err);
	return err;
}
EXPORT_SYMBOL_GPL(pvbus_switch_state);

/* --- devices ------------------------------------------------------------------ */

static void pvbus_release(struct device *dev)
{
	kfree(to_pvbus_device(dev));
}

int pvbus_device_register(struct pvbus_device *pdev)
{
	int err;

	mutex_init(&pdev->cfg_lock);
	INIT_WORK(&pdev->otherend_work, otherend_work_fn);
	init_waitqueue_head(&pdev->otherend_wq);
	pdev->state = PVKVM_XB_UNKNOWN;
	pdev->otherend = PVKVM_XB_UNKNOWN;
	pdev->dev.bus = &pvbus_bus;
	pdev->dev.release = pvbus_release;
	err = dev_set_name(&pdev->dev, "%s%u", type_name(pdev->type), pdev->id);
	if (err) {
		kfree(pdev);
		return err;
	}
	err = device_register(&pdev->dev);
	if (err)
		put_device(&pdev->dev);
	return err;
}
EXPORT_SYMBOL_GPL(pvbus_device_register);

void pvbus_device_unregister(struct pvbus_device *pdev)
{
	device_del(&pdev->dev);
	put_device(&pdev->dev);
}
EXPORT_SYMBOL_GPL(pvbus_device_unregister);

void pvbus_device_put(struct pvbus_device *pdev)
{
	cancel_work_sync(&pdev->otherend_work);
	put_device(&pdev->dev);
}
EXPORT_SYMBOL_GPL(pvbus_device_put);

/* --- the module ------------------------------------------------------------------ */

static int __init pvbus_init(void)
{
	int err = bus_register(&pvbus_bus);

	if (err)
		return err;
	err = pvbus_ivshmem_init();
	if (err)
		bus_unregister(&pvbus_bus);
	return err;
}

static void __exit pvbus_exit(void)
{
	pvbus_ivshmem_exit();
	bus_unregister(&pvbus_bus);
}

module_init(pvbus_init);
module_exit(pvbus_exit);

MODULE_DESCRIPTION("pvkvm PV bus: devices of pvkvm backends (ivshmem transport)");
MODULE_AUTHOR("pvkvm");
MODULE_LICENSE("Dual MIT/GPL");
