// SPDX-License-Identifier: MIT
/* The xenbus state table and a full handshake, the test playing frontend. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "host/services/store.h"
#include "host/services/xenbus.h"

#define UNK PVKVM_XB_UNKNOWN
#define INI PVKVM_XB_INITIALISING
#define IWT PVKVM_XB_INITWAIT
#define IED PVKVM_XB_INITIALISED
#define CON PVKVM_XB_CONNECTED
#define CLG PVKVM_XB_CLOSING
#define CLD PVKVM_XB_CLOSED

Test(xenbus_table, transitions)
{
	/* [from][to] */
	static const bool ok[7][7] = {
		/*         UNK    INI    IWT    IED    CON    CLG    CLD */
		[UNK] = { true, true, false, false, false, true, true },
		[INI] = { false, true, true, true, true, true, true },
		[IWT] = { false, false, true, true, true, true, true },
		[IED] = { false, false, false, true, true, true, true },
		[CON] = { false, false, false, false, true, true, true },
		[CLG] = { false, false, false, false, false, true, true },
		[CLD] = { false, true, false, false, false, true, true },
	};
	for (int f = 0; f < 7; f++)
		for (int t = 0; t < 7; t++)
			cr_assert_eq(xenbus_transition_ok(f, t), ok[f][t],
				     "%s -> %s", xenbus_state_name(f),
				     xenbus_state_name(t));
	cr_assert_not(xenbus_transition_ok(7, CLD));
	cr_assert_not(xenbus_transition_ok(INI, 7));
}

Test(xenbus_table, names)
{
	cr_assert_str_eq(xenbus_state_name(IWT), "InitWait");
	cr_assert_str_eq(xenbus_state_name(CLD), "Closed");
	cr_assert_str_eq(xenbus_state_name(99), "Invalid");
}

static struct store *s;
static void setup(void) { s = store_new(); }
static void teardown(void) { store_free(s); }
TestSuite(xenbus, .init = setup, .fini = teardown);

Test(xenbus, read_and_set_state)
{
	cr_assert_eq(xenbus_read_state(s, "device/x/0"), UNK);
	store_write(s, "device/x/0/state", "junk", 4);
	cr_assert_eq(xenbus_read_state(s, "device/x/0"), UNK);
	store_write(s, "device/x/0/state", "9", 1);
	cr_assert_eq(xenbus_read_state(s, "device/x/0"), UNK);
	store_remove(s, "device/x/0/state");
	cr_assert_eq(xenbus_set_state(s, "device/x/0", INI), 0);
	cr_assert_eq(xenbus_set_state(s, "device/x/0", CON), 0);
	cr_assert_eq(xenbus_set_state(s, "device/x/0", IED), -PVKVM_EINVAL);
	cr_assert_eq(xenbus_read_state(s, "device/x/0"), CON);
}

struct fake_dev {
	int connects, disconnects;
	int connect_rc;
	char fe_dir[64];
	enum pvkvm_xenbus_state backend_seen_at_connect;
};

static int fake_connect(void *arg, const char *fe_dir)
{
	struct fake_dev *d = arg;
	d->connects++;
	snprintf(d->fe_dir, sizeof(d->fe_dir), "%s", fe_dir);
	d->backend_seen_at_connect = xenbus_read_state(s, "backend/fake/3");
	return d->connect_rc;
}

static void fake_disconnect(void *arg)
{
	((struct fake_dev *)arg)->disconnects++;
}

static const struct xenbus_backend_ops fake_ops = {
	.connect = fake_connect,
	.disconnect = fake_disconnect,
};

static void fe(enum pvkvm_xenbus_state st)
{
	cr_assert_eq(xenbus_set_state(s, "device/fake/3", st), 0,
		     "frontend -> %s", xenbus_state_name(st));
}

static enum pvkvm_xenbus_state be(void)
{
	return xenbus_read_state(s, "backend/fake/3");
}

Test(xenbus, handshake_disconnect_reconnect)
{
	struct fake_dev d = { 0 };
	struct xenbus_backend *b = xenbus_backend_new(s, "fake", 3, &fake_ops, &d);
	cr_assert(b);
	cr_assert_str_eq(xenbus_backend_dir(b), "backend/fake/3");
	cr_assert_eq(be(), IWT);
	char buf[64] = { 0 };
	store_read(s, "backend/fake/3/frontend", buf, sizeof(buf) - 1);
	cr_assert_str_eq(buf, "device/fake/3");
	memset(buf, 0, sizeof(buf));
	store_read(s, "device/fake/3/backend", buf, sizeof(buf) - 1);
	cr_assert_str_eq(buf, "backend/fake/3");

	fe(INI);
	cr_assert_eq(be(), IWT);
	cr_assert_eq(d.connects, 0);
	fe(IED);
	cr_assert_eq(d.connects, 1);
	cr_assert_str_eq(d.fe_dir, "device/fake/3");
	cr_assert_eq(d.backend_seen_at_connect, IWT);
	cr_assert_eq(be(), CON);
	fe(CON);
	cr_assert_eq(d.connects, 1, "connected twice");

	fe(CLG);
	cr_assert_eq(d.disconnects, 1);
	cr_assert_eq(be(), CLD);
	fe(CLD);
	cr_assert_eq(d.disconnects, 1);

	/* reconnect */
	fe(INI);
	cr_assert_eq(be(), IWT);
	fe(IED);
	cr_assert_eq(d.connects, 2);
	cr_assert_eq(be(), CON);

	xenbus_backend_free(b);
	cr_assert_eq(d.disconnects, 2, "free did not disconnect");
}

Test(xenbus, failing_connect_closes_with_error_then_retries)
{
	struct fake_dev d = { .connect_rc = -PVKVM_ENOENT };
	struct xenbus_backend *b = xenbus_backend_new(s, "fake", 3, &fake_ops, &d);
	fe(INI);
	fe(IED);
	cr_assert_eq(d.connects, 1);
	cr_assert_eq(be(), CLD);
	cr_assert_gt(store_read(s, "backend/fake/3/error", NULL, 0), 0);
	cr_assert_eq(d.disconnects, 0, "disconnect without a connect");

	fe(CLD);
	d.connect_rc = 0;
	fe(INI);
	cr_assert_eq(be(), IWT);
	cr_assert_eq(store_read(s, "backend/fake/3/error", NULL, 0),
		     -PVKVM_ENOENT, "stale error kept");
	fe(IED);
	cr_assert_eq(be(), CON);
	xenbus_backend_free(b);
}

Test(xenbus, frontend_vanishing_disconnects)
{
	struct fake_dev d = { 0 };
	struct xenbus_backend *b = xenbus_backend_new(s, "fake", 3, &fake_ops, &d);
	fe(INI);
	fe(IED);
	cr_assert_eq(be(), CON);
	store_remove(s, "device/fake/3");
	cr_assert_eq(d.disconnects, 1);
	cr_assert_eq(be(), CLD);
	xenbus_backend_free(b);
	cr_assert_eq(d.disconnects, 1);
}

Test(xenbus, frontend_already_initialised_before_backend)
{
	struct fake_dev d = { 0 };
	fe(INI);
	fe(IED);
	struct xenbus_backend *b = xenbus_backend_new(s, "fake", 3, &fake_ops, &d);
	cr_assert_eq(d.connects, 1);
	cr_assert_eq(be(), CON);
	xenbus_backend_free(b);
}
