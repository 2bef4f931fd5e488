/* SPDX-License-Identifier: MIT */
/* Thin wrappers over the /dev/net/tun ioctls.  Return 0 (or an fd) or a
 * negative errno; they do not log: callers know which device and why. */
#ifndef WINTUN_TUN_H
#define WINTUN_TUN_H

#include <linux/if_tun.h>
#include <net/if.h>

#ifndef IFF_TUN_EXCL
#define IFF_TUN_EXCL 0x8000 /* TUNSETIFF fails with EBUSY if the name exists */
#endif

/* The flags of every queue of an adapter: layer 3, several queues, and packet
 * information on (no IFF_NO_PI): the engine relies on the 4-byte tun_pi. */
#define WT_TUN_FLAGS (IFF_TUN | IFF_MULTI_QUEUE)

/* The kernel's MAX_TAP_QUEUES: attached and detached queues of a device
 * together; TUNSETIFF beyond fails with E2BIG. */
#define WT_TUN_MAX_QUEUES 256

/* Open /dev/net/tun with @oflags while in the namespace @netns_fd (-1: the
 * calling thread's): the device lookup of TUNSETIFF happens in that one. */
int wt_tun_open(int netns_fd, int oflags, int *fd);

/* TUNSETIFF: attach @fd to device @name (creating it if missing). */
int wt_tun_set_iff(int fd, const char *name, int flags);

/* TUNSETQUEUE IFF_DETACH_QUEUE: @fd stays a handle on the device but
 * receives no packet. */
int wt_tun_detach(int fd);

#endif
