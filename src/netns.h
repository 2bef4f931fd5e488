/* SPDX-License-Identifier: MIT */
/*
 * Network-namespace switching for the calling thread.  A netlink socket or a
 * /dev/net/tun file belongs to the namespace of the thread that created it,
 * so to act on a device that moved to another namespace the library enters
 * that namespace just long enough to create the socket or file.
 */
#ifndef WINTUN_NETNS_H
#define WINTUN_NETNS_H

/*
 * Move the calling thread into the namespace @ns_fd (-1: stay).  On success
 * *saved is -1 when nothing changed (already there: no privilege needed), or
 * an fd of the previous namespace to give to wt_netns_leave.  Returns 0 or a
 * negative errno (logged).
 */
int wt_netns_enter(int ns_fd, int *saved);

/* Return to the namespace saved by wt_netns_enter and close @saved. */
void wt_netns_leave(int saved);

#endif
