/* SPDX-License-Identifier: MIT */
/*
 * A port's view of its TUN device from the device's own network namespace:
 * the MTU (for the RX slot size) and the kernel's tx_dropped counter (for
 * the ring-full drops).  The device can move to another namespace under a
 * running session (WintunSetAdapterNetns, or "ip link set netns" by anyone),
 * where a socket made in the old one no longer sees it: when the device is
 * not where it was, the queue fd says where it is now (TUNGETDEVNETNS) and
 * the socket is re-made there.  Engine thread only (after
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

/* How long the device's name and index, as the queue fd last gave them,
 * are trusted while the name still gives the index (see struct wt_netdev):
 * a device that left our namespace and a new one that came in with its
 * name and index (a move and "ip link add ... index N") is caught then. */
#define WT_NETDEV_TRUST_NS 10000000000ull

/* Is the device still there?  Asks the queue fd (under RTNL) only if the
 * known name no longer gives the known index, or that was learnt more than
 * @max_age_ns ago.  Returns 0, -EBADFD if the device was deleted (a
 * detached queue fd answers every ioctl but TUNSETIFF so), or another
 * negative errno (not logged). */
int wt_netdev_check(struct wt_netdev *nd, int tun_fd, uint64_t max_age_ns);

/* The device's current name (it may have been renamed) and MTU; the queue
 * fd is asked as by wt_netdev_check(nd, tun_fd, WT_NETDEV_TRUST_NS).
 * Returns 0 or a negative errno (not logged: the caller retries). */
int wt_netdev_mtu(struct wt_netdev *nd, int tun_fd, char name[IFNAMSIZ], uint32_t *mtu);

/* The device's tx_dropped counter: packets the kernel dropped on the way
 * to the queues, most of them because a queue was full.  Returns 0 or a
 * negative errno (the first failure is logged). */
int wt_netdev_tx_dropped(struct wt_netdev *nd, int tun_fd, uint64_t *out);

#endif
