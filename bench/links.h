/* SPDX-License-Identifier: MIT */
/* wintun-bench: netlink set-up of the bench's links (links.c). */
#ifndef WB_LINKS_H
#define WB_LINKS_H

#include <stdint.h>

/* A veth pair: @name in the calling thread's namespace, @peer in the
 * namespace @peer_ns_fd.  Returns 0 or a negative errno (printed). */
int wb_veth_create(const char *name, const char *peer, int peer_ns_fd);
/* IFLA_GSO_MAX_SIZE of the device @name (calling thread's namespace). */
int wb_set_gso_max_size(const char *name, uint32_t size);

#endif
