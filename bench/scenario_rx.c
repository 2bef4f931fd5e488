/* SPDX-License-Identifier: MIT */
/* rx: kernel -> TUN -> Send ring -> this client (receive, count, release). */
#include <errno.h>

#include "bench.h"
#include "wintun.h"

void *wb_client_rx(void *arg)
{
	struct wb_run *r = arg;
	struct wintun_session *s = r->io.s[0];
	uint64_t pkts = 0, bytes = 0;

	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		for (unsigned i = 0; i < 64; i++) {
			uint32_t len;
			uint8_t *p = WintunReceivePacket(s, &len);

			if (!p) {
				if (errno != EAGAIN)
					return NULL; /* session ended */
				WintunWaitForPacket(s, 50);
				break;
			}
			pkts++;
			bytes += len;
			WintunReleaseReceivePacket(s, p);
		}
		atomic_store_explicit(&r->delivered, pkts, memory_order_relaxed);
		atomic_store_explicit(&r->bytes, bytes, memory_order_relaxed);
	}
	return NULL;
}
