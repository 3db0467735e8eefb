/* SPDX-License-Identifier: MIT */
/*
 * The self-test device ("test", id 0): a host peer that the guest kernel's
 * self-test drives through the ordinary PV machinery, so one guest program
 * can prove event channels in both directions, grants and the store.
 *
 * Set-up follows xenbus like any PV device: the frontend allocates a port and
 * grants one page holding struct pvkvm_testif_page, writes
 *   device/test/0/evtchn = <port>    device/test/0/page-ref = <ref>
 * and moves to Initialised; the backend binds the port, maps the page and
 * moves to Connected.
 *
 * Optionally the frontend also writes  device/test/0/sink-evtchn = <port>:
 * the backend binds that port's host end and never waits on it, so a send
 * there costs exactly the notification mechanism (the ioeventfd), without
 * the wake-up of a sleeping backend thread. hcbench measures both.
 *
 * A command: the guest fills cmd and arg, then increments seq (release), then
 * sends on the port. The host peer, on an I/O thread, reads the page through
 * its grant, runs the command, writes status and result, then ack_seq = seq
 * (release), then notifies the port. The guest waits (PVKVM_HC_WAIT with a
 * deadline) until ack_seq == seq.
 */
#ifndef PVKVM_TESTIF_H
#define PVKVM_TESTIF_H

#include "hypercall/pvkvm_abi.h"

enum pvkvm_testif_cmd {
	/* result = arg + 1 */
	PVKVM_TESTIF_ECHO = 1,
	/* the host writes the 8 bytes "pvkvm-ok" at offset 0 of grant ref arg;
	 * status = the grant access result (-PVKVM_EACCES for a read-only
	 * grant, -PVKVM_ENOENT for a revoked one) */
	PVKVM_TESTIF_WRITE_GRANT = 2,
	/* result = the first 8 bytes of grant ref arg; status as above */
	PVKVM_TESTIF_READ_GRANT = 3,
	/* the host acknowledges at once, then arg milliseconds later raises
	 * PVKVM_VIRQ_TEST: a notification that arrives while the guest waits */
	PVKVM_TESTIF_VIRQ_LATER = 4,
};

struct pvkvm_testif_page {
	uint32_t cmd;     /* enum pvkvm_testif_cmd */
	uint32_t seq;     /* written last by the guest */
	uint64_t arg;
	uint32_t ack_seq; /* written last by the host */
	int32_t status;   /* 0 or -PVKVM_E* */
	uint64_t result;
};
PVKVM_STATIC_ASSERT(sizeof(struct pvkvm_testif_page) == 32, "testif page size");
PVKVM_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_testif_page, ack_seq) == 16,
		    "testif ack_seq offset");
PVKVM_STATIC_ASSERT(__builtin_offsetof(struct pvkvm_testif_page, seq) == 4 &&
			    __builtin_offsetof(struct pvkvm_testif_page, arg) == 8 &&
			    __builtin_offsetof(struct pvkvm_testif_page, status) == 20 &&
			    __builtin_offsetof(struct pvkvm_testif_page, result) == 24,
		    "testif page offsets (docs/services.md)");

#endif
