/* SPDX-License-Identifier: MIT */
/* Splitting an offload-mode super-packet into MTU-sized packets (GSO in
 * software, for clients that must see every packet). */
#ifndef WINTUN_GSO_H
#define WINTUN_GSO_H

#include <stdint.h>

/* Returns where to build the next segment of @len bytes, or NULL when there
 * is no room (the split stops with -ENOBUFS). */
typedef uint8_t *(*wt_gso_emit_fn)(void *ctx, uint32_t len);

/*
 * Split the offload-mode record @rec (virtio_net_hdr + IP packet, @size
 * bytes) into plain IP packets, each built in memory that @emit provides.
 * Returns the number of packets, or -EINVAL for a malformed header or packet
 * (untrusted bytes: everything is bounds-checked), -ENOBUFS when @emit has no
 * room.
 */
int wt_gso_split(const uint8_t *rec, uint32_t size, wt_gso_emit_fn emit, void *ctx);

#endif
