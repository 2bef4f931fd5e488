/* SPDX-License-Identifier: MIT */
/*
 * The two halves of the Alertable handshake (see wintun/ring.h), shared by
 * the client library and the engine so that both rings use one definition.
 */
#ifndef WINTUN_RING_SYNC_H
#define WINTUN_RING_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "wintun/ring.h"

/*
 * Producer: publish @tail, then wake the consumer if it is (about to be)
 * asleep.  Returns true if the event was signalled.
 */
bool wt_ring_publish(WINTUN_RING *ring, uint32_t tail, int event_fd);

/*
 * Producer: wake the consumer if it armed the wake-up.  For a producer that
 * published Tail itself and must run the fence-and-check step separately.
 */
bool wt_ring_wake(WINTUN_RING *ring, int event_fd);

/*
 * The first half of wt_ring_wake: fence, then take the armed wake-up.  True
 * if the caller now owes the consumer one signal of its event, which it must
 * deliver before it can wait on anything itself (the engine queues it on its
 * io_uring instead of writing at once).
 */
bool wt_ring_claim_wake(WINTUN_RING *ring);

/*
 * Consumer that found the ring empty at @head: arm the wake-up and re-check.
 * Returns true if the ring is still empty (sleep on the event now), false if
 * Tail moved meanwhile (the wake-up is disarmed again; go on consuming).
 */
bool wt_ring_arm(WINTUN_RING *ring, uint32_t head);

/* Consumer: disarm the wake-up (when it goes on without sleeping). */
void wt_ring_disarm(WINTUN_RING *ring);

/* Signal an eventfd (add 1).  Never blocks: a saturated counter is already
 * signalled. */
void wt_event_signal(int event_fd);

/* Reset an eventfd (non-blocking read).  Returns the count read, 0 if none. */
uint64_t wt_event_drain(int event_fd);

#endif
