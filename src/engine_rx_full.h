/* SPDX-License-Identifier: MIT */
/*
 * Ring-full episodes of the RX direction.  With no room in the Send ring the
 * engine stops reading, and the kernel drops from the full TUN queue,
 * counting each packet in the device's tx_dropped.  An episode runs from the
 * first pump that finds no room to the first that finds some (or the ring
 * stops); the device's tx_dropped delta from its start goes to
 * drop_ring_full, so that counts packets as the other drop counters do, and
 * ring_full_episodes counts the episodes.  The delta is taken when the engine
 * next goes to sleep, the next episode starts or the port goes, never on the
 * way to the read that ends an episode: the kernel's queue is still full then,
 * so the few packets it drops meanwhile are this episode's too.
 * Engine thread only.
 */
#ifndef WINTUN_ENGINE_RX_FULL_H
#define WINTUN_ENGINE_RX_FULL_H

struct wt_port;

/* A pump found no room: starts an episode, or continues it (the drops so
 * far are counted at most every WT_MTU_RECHECK_NS while it lasts). */
void wt_rx_full_note(struct wt_port *p);

/* A pump found room, or the ring stopped: ends the episode, if any.  Its
 * drops are counted later, by wt_rx_full_settle or the next episode's start
 * (one query then serves both). */
void wt_rx_full_end(struct wt_port *p);

/* The engine is about to sleep, or the port is going: counts an ended
 * episode's drops if they are not counted yet. */
void wt_rx_full_settle(struct wt_port *p);

#endif
