/* SPDX-License-Identifier: MIT */
/*
 * udp-tunnel's ring side uses the batch calls of issue #16 (WintunReceivePackets,
 * WintunAllocateSendPackets, ...).  Until <wintun.h> has them, this header
 * declares them with the same names and signatures and udp_tunnel_ring.c
 * builds them on the per-packet calls; once the library exports them
 * (WINTUN_MAX_BUNDLE_PACKETS comes with them), both compile to nothing and
 * the tool calls the library's.
 */
#ifndef UDP_TUNNEL_RING_H
#define UDP_TUNNEL_RING_H

#include <stdint.h>

#include <wintun.h>

#ifdef WINTUN_MAX_BUNDLE_PACKETS
typedef WINTUN_PACKET ut_packet;
#else
#define UDP_TUNNEL_BATCH_SHIM 1

/* WINTUN_PACKET of the batch API; <wintun/ring.h> still gives that name to
 * the ring's record, hence an alias of our own. */
typedef struct ut_packet {
	uint8_t *Data;
	uint32_t Size;
	uint32_t Reserved;
} ut_packet;

uint32_t WintunReceivePackets(WINTUN_SESSION_HANDLE Session, ut_packet *Packets, uint32_t Count);
void WintunReleaseReceivePackets(WINTUN_SESSION_HANDLE Session, const ut_packet *Packets,
				 uint32_t Count);
uint32_t WintunAllocateSendPackets(WINTUN_SESSION_HANDLE Session, ut_packet *Packets,
				   uint32_t Count);
void WintunSendPackets(WINTUN_SESSION_HANDLE Session, const ut_packet *Packets, uint32_t Count);
#endif

#endif
