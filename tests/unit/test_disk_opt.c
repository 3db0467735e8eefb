// SPDX-License-Identifier: MIT
/* --disk parsing and the per-VM limits of the disk set. */
#include <criterion/criterion.h>
#include <string.h>

#include "host/block/blkback.h"
#include "host/block/disk_attach.h"
#include "host/block/disk_opt.h"

Test(disk_opt, defaults_and_flags)
{
	struct disk_opt o;
	char err[256];
	cr_assert_eq(disk_opt_parse("/tmp/a.img", &o, err, sizeof(err)), 0);
	cr_assert_str_eq(o.path, "/tmp/a.img");
	cr_assert_not(o.read_only);
	cr_assert(o.direct);
	cr_assert_eq(o.mode, DISK_MODE_PV);
	cr_assert_eq(disk_opt_parse("d.img,ro,direct=off,mode=fv", &o, err, sizeof(err)), 0);
	cr_assert_str_eq(o.path, "d.img");
	cr_assert(o.read_only);
	cr_assert_not(o.direct);
	cr_assert_eq(o.mode, DISK_MODE_FV);
	cr_assert_eq(disk_opt_parse("d.img,mode=sync,rw,direct=on", &o, err, sizeof(err)), 0);
	cr_assert_not(o.read_only);
	cr_assert(o.direct);
	cr_assert_eq(o.mode, DISK_MODE_SYNC);
	cr_assert_str_eq(disk_mode_name(DISK_MODE_SYNC), "sync");
}

Test(disk_opt, errors_say_why)
{
	struct disk_opt o;
	char err[256];
	cr_assert_eq(disk_opt_parse("", &o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "no image path"));
	cr_assert_eq(disk_opt_parse(",ro", &o, err, sizeof(err)), -1);
	cr_assert_eq(disk_opt_parse("a,", &o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "empty option"));
	cr_assert_eq(disk_opt_parse("a,mode=xx", &o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "mode="));
	cr_assert_eq(disk_opt_parse("a,direct=maybe", &o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "direct="));
	cr_assert_eq(disk_opt_parse("a,mode", &o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "unknown option 'mode'"));
	cr_assert_eq(disk_opt_parse("a,rox", &o, err, sizeof(err)), -1);
	char big[DISK_PATH_MAX + 10];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(disk_opt_parse(big, &o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "too long"));
}

Test(disk_opt, poll_us_for_pv_only)
{
	struct disk_opt o;
	char err[256];
	cr_assert_eq(disk_opt_parse("a", &o, err, sizeof(err)), 0);
	cr_assert_eq(o.poll_us, -1, "unset: the backend's default");
	cr_assert_eq(disk_opt_parse("a,poll_us=0", &o, err, sizeof(err)), 0);
	cr_assert_eq(o.poll_us, 0);
	cr_assert_eq(disk_opt_parse("a,poll_us=75,mode=pv", &o, err, sizeof(err)), 0);
	cr_assert_eq(o.poll_us, 75);
	cr_assert_eq(disk_opt_parse("a,poll_us=10000", &o, err, sizeof(err)), 0);
	cr_assert_eq(disk_opt_parse("a,poll_us=10001", &o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "poll_us="));
	cr_assert_eq(disk_opt_parse("a,poll_us=99999999999999999999", &o, err, sizeof(err)), -1);
	cr_assert_eq(disk_opt_parse("a,poll_us=-1", &o, err, sizeof(err)), -1);
	cr_assert_eq(disk_opt_parse("a,poll_us=", &o, err, sizeof(err)), -1);
	cr_assert_eq(disk_opt_parse("a,poll_us=5,mode=fv", &o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "mode=pv only"));
}

Test(disk_opt, one_fv_and_one_sync_per_vm)
{
	struct disk_set s = { 0 };
	char err[256];
	cr_assert_eq(disk_set_add(&s, "a,mode=fv", err, sizeof(err)), 0);
	cr_assert_eq(disk_set_add(&s, "b,mode=fv", err, sizeof(err)), -1);
	cr_assert(strstr(err, "only one mode=fv"));
	cr_assert_eq(disk_set_add(&s, "b,mode=sync", err, sizeof(err)), 0);
	cr_assert_eq(disk_set_add(&s, "c,mode=sync", err, sizeof(err)), -1);
	for (unsigned int i = 2; i < DISK_MAX; i++)
		cr_assert_eq(disk_set_add(&s, "pv.img", err, sizeof(err)), 0);
	cr_assert_eq(disk_set_add(&s, "pv.img", err, sizeof(err)), -1);
	cr_assert_eq(s.n, DISK_MAX);
	disk_set_release(&s); /* nothing attached: nothing to free */
}

Test(disk_opt, fv_dma_is_one_ata_channel_with_fv)
{
	struct disk_opt o;
	struct disk_set s = { 0 };
	char err[256];
	cr_assert_eq(disk_opt_parse("d.img,mode=fv-dma", &o, err, sizeof(err)), 0);
	cr_assert_eq(o.mode, DISK_MODE_FV_DMA);
	cr_assert_str_eq(disk_mode_name(DISK_MODE_FV_DMA), "fv-dma");
	cr_assert_eq(disk_opt_parse("d.img,mode=fv-dmax", &o, err, sizeof(err)), -1);
	cr_assert_eq(disk_set_add(&s, "a.img,mode=fv-dma", err, sizeof(err)), 0);
	cr_assert_eq(disk_set_add(&s, "b.img,mode=fv", err, sizeof(err)), -1);
	cr_assert(strstr(err, "one ATA channel"), "%s", err);
	cr_assert_eq(disk_set_add(&s, "c.img,mode=fv-dma", err, sizeof(err)), -1);
	cr_assert_eq(disk_set_add(&s, "d.img,mode=pv", err, sizeof(err)), 0);
}

Test(disk_opt, ring_knobs_notify_ring_pages_batch)
{
	struct disk_opt o;
	char err[256];
	cr_assert_eq(disk_opt_parse("a", &o, err, sizeof(err)), 0);
	cr_assert_eq(o.notify, -1);
	cr_assert_eq(o.ring_pages, 0);
	cr_assert_eq(o.batch, 0);
	cr_assert_eq(disk_opt_parse("a,notify=always,ring_pages=8,batch=16", &o, err,
				    sizeof(err)), 0, "%s", err);
	cr_assert_eq(o.notify, 1);
	cr_assert_eq(o.ring_pages, 8);
	cr_assert_eq(o.batch, 16);
	cr_assert_eq(disk_opt_parse("a,notify=suppress,ring_pages=1,batch=512", &o, err,
				    sizeof(err)), 0, "%s", err);
	cr_assert_eq(o.notify, 0);
	cr_assert_eq(o.ring_pages, 1);
	cr_assert_eq(o.batch, 512);
	struct blkback_config cfg;
	disk_opt_blkback_config(&o, 3, &cfg);
	cr_assert_eq(cfg.notify, PVKVM_RING_SUPPRESS);
	cr_assert_eq(cfg.max_ring_page_order, 0);
	cr_assert_eq(cfg.batch, 512);
	cr_assert_eq(cfg.id, 3);
	cr_assert_eq(disk_opt_parse("a,notify=always,ring_pages=16", &o, err, sizeof(err)), 0);
	disk_opt_blkback_config(&o, 0, &cfg);
	cr_assert_eq(cfg.notify, PVKVM_RING_ALWAYS);
	cr_assert_eq(cfg.max_ring_page_order, 4);
}

Test(disk_opt, bad_ring_knobs_are_refused)
{
	struct disk_opt o;
	char err[256];
	static const char *const bad[] = {
		"a,notify=sometimes", "a,notify=", "a,ring_pages=3", "a,ring_pages=0",
		"a,ring_pages=32", "a,ring_pages=", "a,ring_pages=99999999999999999999",
		"a,batch=0", "a,batch=513", "a,batch=-1", "a,batch=", "a,batch=4x",
		"a,data=", "a,data=grant", "a,data=copyy",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(disk_opt_parse(bad[i], &o, err, sizeof(err)), -1, "%s", bad[i]);
		cr_assert(strchr(err, '\n') == NULL);
		cr_assert(strstr(err, "--disk:"), "%s", err);
	}
	cr_assert_eq(disk_opt_parse("a,ring_pages=3", &o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "ring_pages="), "%s", err);
	cr_assert_eq(disk_opt_parse("a,mode=fv,notify=always", &o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "mode=pv only"), "%s", err);
	cr_assert_eq(disk_opt_parse("a,mode=sync,batch=2", &o, err, sizeof(err)), -1);
	cr_assert_eq(disk_opt_parse("a,mode=fv-dma,ring_pages=2", &o, err, sizeof(err)), -1);
	cr_assert_eq(disk_opt_parse("a,mode=fv,data=copy", &o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "data="), "%s", err);
}

Test(disk_opt, data_map_or_copy)
{
	struct disk_opt o;
	struct blkback_config cfg;
	char err[256];
	cr_assert_eq(disk_opt_parse("a", &o, err, sizeof(err)), 0);
	cr_assert_eq(o.data, -1);
	disk_opt_blkback_config(&o, 0, &cfg);
	cr_assert_not(cfg.copy, "mapped guest pages by default");
	cr_assert_eq(disk_opt_parse("a,data=copy", &o, err, sizeof(err)), 0, "%s", err);
	disk_opt_blkback_config(&o, 0, &cfg);
	cr_assert(cfg.copy);
	cr_assert_eq(disk_opt_parse("a,data=map", &o, err, sizeof(err)), 0, "%s", err);
	disk_opt_blkback_config(&o, 0, &cfg);
	cr_assert_not(cfg.copy);
}
