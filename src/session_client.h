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

/* Under rx.lock: take the packet record at rx.head (just peeked, @len
 * bytes): it is now outstanding. */
void wt_rx_take_locked(struct wintun_session *s, uint32_t len);

/* After a store-release of Send.Head, outside rx.lock: wake an engine that
 * sleeps for lack of Send ring space. */
void wt_rx_space_wake(struct wintun_session *s);

/* Under rx.lock: walk head_release over the released records (and pads) and
 * publish it as Send.Head if it moved from @before (not once the ring was
 * found corrupt).  True if Head moved: wake the engine after unlocking. */
bool wt_rx_reclaim_locked(struct wintun_session *s, uint32_t before);

/*
 * One direction of the client side as the release (Send ring) and send
 * (Receive ring) walks see it: the records from *release to end, of which
 * *outstanding are the client's.  A record's Size word with
 * (word & held_mask) == held_bits is still held (received and not released,
 * or allocated and not sent); handing it back flips WINTUN_PACKET_CLIENT.
 * Pointers into the session: use under the direction's lock.
 */
struct wt_client_dir {
	WINTUN_RING *ring;
	uint32_t cap;
	uint32_t *release;
	uint32_t end;
	uint32_t *outstanding;
	uint32_t held_mask;
	uint32_t held_bits;
};

/* Under rx.lock / tx.lock: the Send / Receive ring direction. */
struct wt_client_dir wt_rx_dir(struct wintun_session *s);
struct wt_client_dir wt_tx_dir(struct wintun_session *s);

/* True if @word (a Size word, read once) says the client holds the record. */
bool wt_dir_holds(const struct wt_client_dir *d, uint32_t word);

/* Hand back the held record whose data @packet is; false (nothing changed)
 * if @packet is not one the client holds in this direction. */
bool wt_dir_hand_back(const struct wt_client_dir *d, const uint8_t *packet);

/*
 * Under tx.lock: 0 if the engine still consumes the Receive ring, with its
 * Head (read once, checked) in *head; else ESHUTDOWN or EBADMSG, the latter
 * logged with @fn.
 */
int wt_tx_head_locked(struct wintun_session *s, const char *fn, uint32_t *head);

/* Under tx.lock: allocate the record at tx.tail for @size bytes (the caller
 * checked the room); it is outstanding and marked not sent yet. */
WINTUN_RING_PACKET *wt_tx_take_locked(struct wintun_session *s, uint32_t size);

/* Under tx.lock: walk tail_release over the records sent and publish it as
 * Receive.Tail if it moved from @before.  True if Tail moved: wake the
 * engine after unlocking. */
bool wt_tx_publish_locked(struct wintun_session *s, uint32_t before);

#endif
