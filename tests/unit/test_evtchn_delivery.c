// SPDX-License-Identifier: MIT
/*
 * The event-channel delivery seam (evtchn_set_delivery), as `pvkvm serve`
 * uses it: with a delivery set, binding a host end arms it through the
 * delivery (not a KVM ioeventfd: this VM has no KVM at all), a notify goes
 * to the delivery (not to a shared-info page: there is none), and an
 * unbind disarms. Also the ivshmem arm itself: dup3 makes the port's
 * eventfd the doorbell's, so a doorbell write wakes the backend's poll.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "host/core/vm.h"
#include "host/services/evtchn.h"

struct record {
	int arms_on, arms_off, notifies;
	unsigned int last_port;
	int doorbell; /* what an arm makes the port's fd */
};

static int rec_arm(void *ctx, unsigned int port, int efd, bool on)
{
	struct record *r = ctx;
	r->last_port = port;
	if (on) {
		r->arms_on++;
		return dup3(r->doorbell, efd, O_CLOEXEC) < 0 ? -1 : 0;
	}
	r->arms_off++;
	return 0;
}

static void rec_notify(void *ctx, unsigned int port)
{
	struct record *r = ctx;
	r->notifies++;
	r->last_port = port;
}

Test(evtchn_delivery, bind_notify_unbind_go_through_the_delivery)
{
	static struct vm vm; /* no KVM, no shared info */
	struct record rec = { .doorbell = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) };
	struct evtchn_delivery d = { .arm = rec_arm, .notify = rec_notify, .ctx = &rec };
	cr_assert_geq(rec.doorbell, 0);
	struct evtchn_table *t = evtchn_table_new(&vm);
	cr_assert(t);
	evtchn_set_delivery(t, &d);
	int port = evtchn_alloc_unbound(t);
	cr_assert_eq(port, 1);
	int efd = -1;
	cr_assert_eq(evtchn_bind_host(t, (unsigned int)port, &efd), 0);
	cr_assert_eq(rec.arms_on, 1);
	cr_assert_eq(rec.last_port, 1u);

	/* The doorbell wakes whoever polls the port's host end. */
	uint64_t one = 1, got = 0;
	cr_assert_eq(write(rec.doorbell, &one, sizeof(one)), (ssize_t)sizeof(one));
	struct pollfd p = { .fd = efd, .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 1000), 1);
	cr_assert_eq(read(efd, &got, sizeof(got)), (ssize_t)sizeof(got));
	cr_assert_eq(got, 1u);

	cr_assert_eq(evtchn_notify_guest(t, (unsigned int)port), 0);
	cr_assert_eq(rec.notifies, 1);
	cr_assert_eq(stat_get(&vm.stats.evtchn_host_notifies), 1u);
	cr_assert_eq(evtchn_notify_guest(t, 7), -PVKVM_EINVAL, "a port never allocated");
	cr_assert_eq(rec.notifies, 1);

	cr_assert_eq(evtchn_unbind_host(t, (unsigned int)port), 0);
	cr_assert_eq(rec.arms_off, 1);
	evtchn_table_free(t);
	close(rec.doorbell);
}
