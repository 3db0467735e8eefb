/* SPDX-License-Identifier: MIT */
/*
 * Frontend of the self-test device "test/0" (hypercall/pvkvm_testif.h): one
 * granted command page and one event channel, set up over xenbus.
 */
#ifndef PVKERN_TESTDEV_H
#define PVKERN_TESTDEV_H

#include <stdint.h>

#include "hypercall/pvkvm_testif.h"
#include "xenbus.h"

struct testdev {
	struct xb_front fe;
	uint32_t port;
	uint32_t sink_port; /* bound by the host, never waited on */
	int page_ref;
	struct pvkvm_testif_page *page;
	uint32_t seq;
};

struct testdev_reply {
	int32_t status;
	uint64_t result;
};

/* Allocates, grants, publishes and waits for the backend to connect:
 * 0 or a PVKVM_E* (-PVKVM_ENOENT: the VMM has no test device). */
int testdev_connect(struct testdev *td, uint64_t timeout_ns);
/* Runs one command and waits for its acknowledgement: 0 and *reply, or
 * -PVKVM_ETIMEDOUT. */
int testdev_cmd(struct testdev *td, enum pvkvm_testif_cmd cmd, uint64_t arg,
		struct testdev_reply *reply, uint64_t timeout_ns);

#endif
