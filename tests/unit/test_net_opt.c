// SPDX-License-Identifier: MIT
/* --net parsing and the set's rules (one fv and one sync NIC per VM). */
#include <criterion/criterion.h>
#include <string.h>

#include "host/net/net_attach.h"
#include "host/net/net_opt.h"

static struct net_opt o;
static char err[256];

static int parse(const char *s)
{
	err[0] = '\0';
	return net_opt_parse(s, &o, err, sizeof(err));
}

Test(net_opt, defaults)
{
	cr_assert_eq(parse("tap=tap0"), 0);
	cr_expect_eq(o.link, NET_LINK_TAP);
	cr_expect_str_eq(o.name, "tap0");
	cr_expect_eq(o.mode, NET_MODE_PV);
	cr_expect_eq(o.queues, 1);
	cr_expect_not(o.has_mac);
}

Test(net_opt, every_option)
{
	cr_assert_eq(parse("switch=lab,mac=52:54:00:AB:cd:01,mode=pv,queues=4"), 0, "%s", err);
	cr_expect_eq(o.link, NET_LINK_SWITCH);
	cr_expect_str_eq(o.name, "lab");
	cr_expect(o.has_mac);
	cr_expect_eq(o.mac[3], 0xab);
	cr_expect_eq(o.mac[5], 0x01);
	cr_expect_eq(o.queues, 4);
	cr_assert_eq(parse("tap=t,mode=fv"), 0);
	cr_expect_eq(o.mode, NET_MODE_FV);
	cr_assert_eq(parse("tap=t,mode=sync"), 0);
	cr_expect_eq(o.mode, NET_MODE_SYNC);
}

Test(net_opt, bad_input_says_why)
{
	const struct { const char *spec, *why; } bad[] = {
		{ "", "start with tap=NAME or switch=NAME" },
		{ "eth0", "start with tap=NAME" },
		{ "tap=", "name of 1 to" },
		{ "tap=t,mode=virtio", "mode= takes pv, fv or sync" },
		{ "tap=t,queues=0", "queues= takes 1..8" },
		{ "tap=t,queues=9", "queues= takes 1..8" },
		{ "tap=t,queues=x", "queues= takes" },
		{ "tap=t,mac=01:00:5e:00:00:01", "unicast" },
		{ "tap=t,mac=52:54:00:12:34", "mac= takes" },
		{ "tap=t,,mode=pv", "empty option" },
		{ "tap=t,speed=10", "unknown option 'speed=10'" },
		{ "tap=t,mode=fv,queues=2", "for mode=pv only" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_neq(parse(bad[i].spec), 0, "'%s' refused", bad[i].spec);
		cr_expect(strstr(err, bad[i].why), "'%s': '%s' says '%s'", bad[i].spec, err,
			  bad[i].why);
		cr_expect_null(strchr(err, '\n'), "one line");
	}
}

Test(net_opt, one_fv_and_one_sync_per_vm)
{
	struct net_set s = { 0 };
	cr_assert_eq(net_set_add(&s, "tap=a,mode=fv", err, sizeof(err)), 0);
	cr_assert_eq(net_set_add(&s, "tap=b,mode=sync", err, sizeof(err)), 0);
	cr_assert_eq(net_set_add(&s, "switch=c", err, sizeof(err)), 0);
	cr_assert_eq(net_set_add(&s, "switch=d", err, sizeof(err)), 0);
	cr_expect_neq(net_set_add(&s, "tap=e,mode=fv", err, sizeof(err)), 0);
	cr_expect(strstr(err, "only one mode=fv"));
	cr_expect_neq(net_set_add(&s, "tap=e,mode=sync", err, sizeof(err)), 0);
	cr_expect_eq(s.n, 4);
}

Test(net_opt, default_macs_differ_per_nic)
{
	uint8_t a[6], b[6];
	net_default_mac(0, a);
	net_default_mac(1, b);
	cr_expect_eq(a[0], 0x52);
	cr_expect_eq(a[0] & 1, 0, "unicast");
	cr_expect_neq(memcmp(a, b, 6), 0);
}
