/* SPDX-License-Identifier: MIT */
/* tx: this client (prebuilt IPv4/UDP 10.9.0.2 -> 10.9.0.1:9998, no pacing)
 * -> Receive ring -> TUN -> kernel -> UDP sink, paced with --rate.  A full
 * ring is waited out by sleeping (wb_full_wait), not counted as sent. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "bench.h"
#include "wintun.h"

#define TX_VARIANTS 12u

void *wb_client_tx(void *arg)
{
	struct wb_run *r = arg;
	struct wintun_session *s = r->io.s[0];
	static uint8_t pkt[TX_VARIANTS][WB_MTU];
	unsigned plen[TX_VARIANTS];
	uint32_t src = inet_addr("10.9.0.2"), dst = inet_addr("10.9.0.1");
	uint64_t sent = 0, t0 = wb_now_ns(), full_wait = 0;

	for (unsigned i = 0; i < TX_VARIANTS; i++)
		plen[i] = wb_udp4(pkt[i], src, dst, 40000, 9998, wb_payload(r->o, i));
	while (!atomic_load_explicit(&r->gen_stop, memory_order_relaxed)) {
		unsigned want = wb_pace(r->o, t0, sent, 64);

		for (unsigned i = 0; i < want; i++) {
			unsigned k = (unsigned)(sent % TX_VARIANTS);
			uint8_t *p = WintunAllocateSendPacket(s, plen[k]);

			if (!p) {
				if (errno != ENOBUFS)
					return NULL;
				wb_full_wait(&full_wait);
				break;
			}
			wb_full_reset(&full_wait);
			memcpy(p, pkt[k], plen[k]);
			WintunSendPacket(s, p);
			sent++;
		}
		atomic_store_explicit(&r->sent, sent, memory_order_relaxed);
	}
	return NULL;
}
