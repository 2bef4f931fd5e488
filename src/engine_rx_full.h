/* SPDX-License-Identifier: MIT */
/*
 * Ring-full episodes of the RX direction.  With no room in the Send ring the
 * engine stops reading, and the kernel drops from the full TUN queue,
 * counting each packet in the device's tx_dropped.  An episode runs from the
 * first pump that finds no room to the first that finds some (or the ring
 * stops); the device's tx_dropped delta over it goes to drop_ring_full, so
 * that counts packets as the other drop counters do, and ring_full_episodes
 * counts the episodes.  Engine thread only.
 */
#ifndef WINTUN_ENGINE_RX_FULL_H
#define WINTUN_ENGINE_RX_FULL_H

struct wt_port;

/* A pump found no room: starts an episode, or continues it (the drops so
 * far are counted at most every WT_MTU_RECHECK_NS while it lasts). */
void wt_rx_full_note(struct wt_port *p);

/* A pump found room, or the ring stopped: ends the episode, if any. */
void wt_rx_full_end(struct wt_port *p);

#endif
