/* SPDX-License-Identifier: MIT */
/*
 * A port's view of its TUN device from the device's own network namespace:
 * the MTU (for the RX slot size) and the kernel's tx_dropped counter (for
 * the ring-full drops).  The device can move to another namespace under a
 * running session (WintunSetAdapterNetns, or "ip link set netns" by anyone),
 * where a socket made in the old one no longer sees it, so every look-up
 * first asks the queue fd where the device is now (TUNGETDEVNETNS) and
 * re-makes the socket there when it moved.  Engine thread only (after
 * wt_netdev_open).
 */
#ifndef WINTUN_PORT_NETDEV_H
#define WINTUN_PORT_NETDEV_H

#include <net/if.h>
#include <stdint.h>

struct wt_netdev;

/* Open a view of the device behind the queue fd @tun_fd.  Returns 0 or a
 * negative errno (logged). */
int wt_netdev_open(int tun_fd, struct wt_netdev **out);
void wt_netdev_close(struct wt_netdev *nd);

/* The device's current name (from the fd: it may have been renamed) and
 * MTU.  Returns 0 or a negative errno (not logged: the caller retries). */
int wt_netdev_mtu(struct wt_netdev *nd, int tun_fd, char name[IFNAMSIZ], uint32_t *mtu);

/* The device's tx_dropped counter: packets the kernel dropped on the way
 * to the queues, most of them because a queue was full.  Returns 0 or a
 * negative errno (the first failure is logged). */
int wt_netdev_tx_dropped(struct wt_netdev *nd, int tun_fd, uint64_t *out);

#endif
