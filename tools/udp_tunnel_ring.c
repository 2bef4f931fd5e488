/* SPDX-License-Identifier: MIT */
/* The batch calls on the per-packet ones, until the library has them (see
 * udp_tunnel_ring.h).  Same results and errno as the specified calls; only
 * the cost differs (a lock and a publish per packet). */
#include <errno.h>

#include "udp_tunnel_ring.h"

#ifdef UDP_TUNNEL_BATCH_SHIM
uint32_t WintunReceivePackets(WINTUN_SESSION_HANDLE Session, ut_packet *Packets, uint32_t Count)
{
	uint32_t n = 0;
	int err = 0;

	while (n < Count) {
		uint32_t size;
		uint8_t *p = WintunReceivePacket(Session, &size);

		if (!p) {
			err = errno;
			break;
		}
		Packets[n++] = (ut_packet){ .Data = p, .Size = size };
	}
	if (!n && Count)
		errno = err;
	return n;
}

void WintunReleaseReceivePackets(WINTUN_SESSION_HANDLE Session, const ut_packet *Packets,
				 uint32_t Count)
{
	for (uint32_t i = 0; i < Count; i++)
		WintunReleaseReceivePacket(Session, Packets[i].Data);
}

uint32_t WintunAllocateSendPackets(WINTUN_SESSION_HANDLE Session, ut_packet *Packets,
				   uint32_t Count)
{
	uint32_t n = 0;
	int err = 0;

	while (n < Count) {
		uint8_t *p = WintunAllocateSendPacket(Session, Packets[n].Size);

		if (!p) {
			err = errno;
			break;
		}
		Packets[n++].Data = p;
	}
	if (!n && Count)
		errno = err;
	return n;
}

/* Last to first: the earlier packets hold the later ones back, so the
 * first send publishes the whole batch at once, and an engine coalescing
 * segments (WINTUN_SESSION_COALESCE) sees them together, as it would with
 * the library's one Tail store. */
void WintunSendPackets(WINTUN_SESSION_HANDLE Session, const ut_packet *Packets, uint32_t Count)
{
	for (uint32_t i = Count; i > 0; i--)
		WintunSendPacket(Session, Packets[i - 1].Data);
}
#else
/* ISO C wants at least one declaration in a file. */
typedef int udp_tunnel_ring_unused;
#endif
