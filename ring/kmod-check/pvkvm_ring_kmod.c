// SPDX-License-Identifier: MIT
/*
 * Proof that the ring headers compile as part of a Linux module (the
 * __KERNEL__ world of ring/pvkvm_ring_sys.h): instantiates a ring and a byte
 * ring and runs one round trip at load time. Not part of `make check`:
 *   make -C /lib/modules/<version>/build M=$PWD/ring/kmod-check modules
 * (ring/kmod-check/Makefile does that against Debian's linux-headers-amd64).
 */
#include <linux/module.h>
#include <linux/slab.h>

#include "ring/pvkvm_ring.h"
#include "ring/pvkvm_bytering.h"

struct kc_req {
	u64 id;
};
struct kc_rsp {
	u64 id;
	s32 status;
};
PVKVM_RING_DEFINE(kc, struct kc_req, struct kc_rsp)

static int kc_round_trip(struct kc_sring *s)
{
	struct kc_front f;
	struct kc_back b;
	struct kc_req req;
	struct kc_rsp rsp, *p;

	kc_sring_init(s);
	if (kc_front_init(&f, s, PAGE_SIZE) || kc_back_init(&b, s, PAGE_SIZE))
		return -EINVAL;
	kc_front_next_req(&f)->id = 42;
	kc_front_push_reqs(&f);
	if (kc_back_take_req(&b, &req) != 1)
		return -EIO;
	p = kc_back_next_rsp(&b);
	p->id = req.id;
	p->status = 0;
	kc_back_push_rsps(&b);
	if (kc_front_take_rsp(&f, &rsp) != 1 || rsp.id != 42)
		return -EIO;
	return kc_front_final_check_rsps(&f) ? -EIO : 0;
}

static int __init kc_init(void)
{
	void *page = (void *)get_zeroed_page(GFP_KERNEL);
	int rc;

	if (!page)
		return -ENOMEM;
	rc = kc_round_trip(page);
	free_page((unsigned long)page);
	pr_info("pvkvm ring kmod-check: %s (world %s)\n", rc ? "FAILED" : "ok",
		PVKVM_RING_WORLD);
	return rc;
}

static void __exit kc_exit(void)
{
}

module_init(kc_init);
module_exit(kc_exit);
MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("pvkvm ring headers: Linux module build check");
