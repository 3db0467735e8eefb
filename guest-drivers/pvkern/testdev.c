// SPDX-License-Identifier: MIT
#include "testdev.h"

#include "events.h"
#include "gnttab.h"
#include "hypercall.h"
#include "klib.h"
#include "mm.h"
#include "time.h"

static int publish_frontend(struct testdev *td)
{
	int r;

	r = xb_front_write_u64(&td->fe, "evtchn", td->port);
	if (!r)
		r = xb_front_write_u64(&td->fe, "sink-evtchn", td->sink_port);
	if (!r)
		r = xb_front_write_u64(&td->fe, "page-ref", (uint64_t)td->page_ref);
	if (!r)
		r = xb_front_set_state(&td->fe, PVKVM_XB_INITIALISED);
	return r;
}

int testdev_connect(struct testdev *td, uint64_t timeout_ns)
{
	uint64_t deadline = now_ns() + timeout_ns;
	int64_t port;
	int r;

	memset(td, 0, sizeof(*td));
	r = xb_front_init(&td->fe, "test", 0);
	if (r < 0)
		return r;
	xb_front_set_state(&td->fe, PVKVM_XB_INITIALISING);
	port = hc0(PVKVM_HC_EVTCHN_ALLOC);
	if (port <= 0)
		return port < 0 ? (int)port : -PVKVM_EIO;
	td->port = (uint32_t)port;
	port = hc0(PVKVM_HC_EVTCHN_ALLOC);
	if (port <= 0)
		return port < 0 ? (int)port : -PVKVM_EIO;
	td->sink_port = (uint32_t)port;
	td->page = page_alloc(1);
	if (!td->page)
		return -PVKVM_ENOMEM;
	td->page_ref = gnttab_grant(gpa_to_frame(td->page), false);
	if (td->page_ref < 0)
		return td->page_ref;
	r = publish_frontend(td);
	if (r < 0)
		return r;
	r = xb_wait_backend_state(&td->fe, PVKVM_XB_CONNECTED, deadline);
	if (r < 0)
		return r;
	return xb_front_set_state(&td->fe, PVKVM_XB_CONNECTED);
}

static bool acked(const struct testdev *td)
{
	return __atomic_load_n(&td->page->ack_seq, __ATOMIC_ACQUIRE) == td->seq;
}

int testdev_cmd(struct testdev *td, enum pvkvm_testif_cmd cmd, uint64_t arg,
		struct testdev_reply *reply, uint64_t timeout_ns)
{
	uint64_t deadline = now_ns() + timeout_ns;

	/* A notification left over from the last command says nothing about
	 * this one. */
	evt_test_and_clear(td->port);
	td->page->cmd = cmd;
	td->page->arg = arg;
	td->seq++;
	/* The host reads cmd and arg only after it sees the new seq. */
	__atomic_store_n(&td->page->seq, td->seq, __ATOMIC_RELEASE);
	evtchn_send(td->port);
	while (!acked(td)) {
		if (evt_wait_for(td->port, deadline) == -PVKVM_ETIMEDOUT &&
		    !acked(td))
			return -PVKVM_ETIMEDOUT;
	}
	reply->status = td->page->status;
	reply->result = td->page->result;
	return 0;
}
