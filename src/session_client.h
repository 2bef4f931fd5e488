/* SPDX-License-Identifier: MIT */
/*
 * What the single-packet client calls (session_client.c) share with the
 * batch and bundle calls (session_batch.c): the same checks, the same
 * handshake, so that both kinds of call can be mixed on one session.
 */
#ifndef WINTUN_SESSION_CLIENT_H
#define WINTUN_SESSION_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "session.h"

/*
 * Under rx.lock: the next packet record at rx.head, pads skipped.  With @arm
 * an empty ring resets the read-wait event and arms the wake-up first.
 * Returns 0 with *rec and *len (the Size word as checked, read once), or
 * -EAGAIN, -ESHUTDOWN, -EBADMSG.
 */
int wt_rx_peek_locked(struct wintun_session *s, WINTUN_RING_PACKET **rec, uint32_t *len,
		      bool arm);

/* After a store-release of Send.Head, outside rx.lock: wake an engine that
 * sleeps for lack of Send ring space. */
void wt_rx_space_wake(struct wintun_session *s);

/*
 * Under the direction's lock: the offset of the record whose data @packet is,
 * if it is one of the @outstanding records in [from, to); its Size word (read
 * once) in *word.  UINT32_MAX otherwise.
 */
uint32_t wt_held_record(WINTUN_RING *ring, uint32_t cap, const uint8_t *packet,
			uint32_t outstanding, uint32_t from, uint32_t to, uint32_t *word);

/* Why the engine stopped consuming the Receive ring: ESHUTDOWN or EBADMSG. */
int wt_tx_stopped_errno(struct wintun_session *s);

#endif
