/* SPDX-License-Identifier: MIT */
/*
 * Event channels, guest side, over the shared-info page.
 *
 * PVKVM_HC_WAIT wakes when ANY unmasked port is pending. A waiter for one
 * port therefore moves the other pending bits into a private "stashed"
 * bitmap before it blocks; otherwise an unrelated pending port would turn
 * every wait into a busy loop. evt_test_and_clear() looks at both, so a
 * stashed event is never lost, only deferred to whoever asks for its port.
 */
#ifndef PVKERN_EVENTS_H
#define PVKERN_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "hypercall/pvkvm_abi.h"

void evt_init(struct pvkvm_shared_info *si);
struct pvkvm_shared_info *evt_shared_info(void);

bool evt_test_and_clear(uint32_t port);
bool evt_is_pending(uint32_t port);
void evt_mask(uint32_t port);
void evt_unmask(uint32_t port);
/* Moves every pending, unmasked bit except keep_port's (0: all) to the
 * stash, so WAIT can block. */
void evt_stash_pending(uint32_t keep_port);

/*
 * Consumes port's event: 0 once it is pending (it is cleared), or
 * -PVKVM_ETIMEDOUT at deadline_ns (monotonic; 0 = none). Checks, then
 * blocks in WAIT, then checks again, so an event that arrives between the
 * check and the WAIT makes the WAIT return at once: no lost wake-up.
 */
int evt_wait_for(uint32_t port, uint64_t deadline_ns);

/* Blocks until deadline_ns with nothing consumed: -PVKVM_ETIMEDOUT, or
 * another error from WAIT. Pending events are stashed, not lost. */
int evt_sleep_until(uint64_t deadline_ns);

#endif
