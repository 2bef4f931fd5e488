/* SPDX-License-Identifier: MIT */
/* tun-pump: the forwarding thread, A's Send ring into B's Receive ring and
 * back, with the public API only. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "pump.h"

#define BATCH 256

static void add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

/* Bytes before the IP packet in @s's records: the virtio_net_hdr in offload
 * mode.  The counters count IP bytes, the same in every mode. */
static uint32_t record_header(WINTUN_SESSION_HANDLE s)
{
	WINTUN_SESSION_STATISTICS st = { .Size = sizeof(st) };

	return WintunGetSessionStatistics(s, &st) && st.Offloads ? WINTUN_VNET_HDR_SIZE : 0;
}

static uint32_t ip_bytes(uint32_t size, uint32_t hdr)
{
	return size > hdr ? size - hdr : 0;
}

/* Move up to BATCH packets from @from's Send ring into @to's Receive ring.
 * Returns how many it moved; *dead is set when a session ended. */
static unsigned forward(WINTUN_SESSION_HANDLE from, WINTUN_SESSION_HANDLE to, int dir, bool *dead)
{
	static uint32_t hdr[2] = { UINT32_MAX, UINT32_MAX };
	unsigned n = 0;
	uint64_t bytes = 0, drops = 0;

	if (hdr[dir] == UINT32_MAX)
		hdr[dir] = record_header(from);

	for (; n < BATCH; n++) {
		uint32_t size;
		uint8_t *in = WintunReceivePacket(from, &size), *out;

		if (!in) {
			if (errno != EAGAIN)
				*dead = true;
			break;
		}
		if (P.split && dir == 0) {
			/* A (offload mode) -> B (plain): software GSO into B's ring. */
			uint32_t sent = WintunSplitPacketToSession(in, size, to);

			bytes += ip_bytes(size, hdr[dir]);
			if (!sent && errno == ENOBUFS)
				drops++;
			else if (!sent && errno != EINVAL)
				*dead = true;
			WintunReleaseReceivePacket(from, in);
			continue;
		}
		out = WintunAllocateSendPacket(to, size);
		if (out) {
			memcpy(out, in, size);
			WintunSendPacket(to, out);
			bytes += ip_bytes(size, hdr[dir]);
		} else if (errno == ENOBUFS) {
			drops++; /* the other side is full: drop, as a NIC would */
		} else {
			*dead = true;
		}
		WintunReleaseReceivePacket(from, in);
	}
	add(&P.fwd_packets[dir], n - drops);
	add(&P.fwd_bytes[dir], bytes);
	add(&P.fwd_drops[dir], drops);
	return n;
}

void *pump_forwarder(void *arg)
{
	struct pollfd pfd[3] = {
		{ .fd = WintunGetReadWaitEvent(P.a.session), .events = POLLIN },
		{ .fd = WintunGetReadWaitEvent(P.b.session), .events = POLLIN },
		{ .fd = P.stop_fd, .events = POLLIN },
	};
	bool dead = false;

	(void)arg;
	pthread_setname_np(pthread_self(), "tun-pump/fwd");
	while (!dead) {
		unsigned moved = forward(P.a.session, P.b.session, 0, &dead) +
				 forward(P.b.session, P.a.session, 1, &dead);

		if (moved)
			continue;
		/* Both receives said EAGAIN and armed the wake-ups. */
		if (poll(pfd, 3, 1000) < 0 && errno != EINTR)
			break;
		if (pfd[2].revents)
			break;
		for (int i = 0; i < 2; i++)
			if (pfd[i].revents) {
				uint64_t v;

				if (read(pfd[i].fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					dead = true;
			}
	}
	if (dead)
		pump_stop(); /* a session ended: stop the pump */
	return NULL;
}
