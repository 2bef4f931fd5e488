/* SPDX-License-Identifier: MIT */
/* Offload negotiation for sessions in offload mode (IFF_VNET_HDR). */
#ifndef WINTUN_OFFLOAD_H
#define WINTUN_OFFLOAD_H

#include <stdint.h>

/*
 * Enable on TUN queue @fd (opened with IFF_VNET_HDR) the largest subset of
 * @wanted (WINTUN_OFFLOAD_* bits) the kernel accepts, and set the 10-byte
 * virtio_net_hdr size.  *enabled receives what is on.  Returns 0 or a
 * negative errno (logged).
 */
int wt_offload_enable(int fd, const char *ifname, uint32_t wanted, uint32_t *enabled);

#endif
