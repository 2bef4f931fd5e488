/* SPDX-License-Identifier: MIT */
/*
 * rx-batch, tx-batch: the rx and tx floods with the client on the batch
 * calls (WintunReceivePackets/WintunReleaseReceivePackets,
 * WintunAllocateSendPackets/WintunSendPackets), 64 packets per call at most,
 * so that client cycles/pkt compare with rx and tx's per-packet calls.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "bench.h"
#include "wintun.h"

#define BATCH 64u
#define TX_VARIANTS 12u

void *wb_client_rx_batch(void *arg)
{
	struct wb_run *r = arg;
	struct wintun_session *s = r->io.s[0];
	WINTUN_BATCH_PACKET p[BATCH];
	uint64_t pkts = 0, bytes = 0;

	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		uint32_t n = WintunReceivePackets(s, p, BATCH);

		if (!n) {
			if (errno != EAGAIN)
				return NULL; /* session ended */
			WintunWaitForPacket(s, 50);
			continue;
		}
		for (uint32_t i = 0; i < n; i++)
			bytes += p[i].Size;
		pkts += n;
		WintunReleaseReceivePackets(s, p, n);
		atomic_store_explicit(&r->delivered, pkts, memory_order_relaxed);
		atomic_store_explicit(&r->bytes, bytes, memory_order_relaxed);
	}
	return NULL;
}

void *wb_client_tx_batch(void *arg)
{
	struct wb_run *r = arg;
	struct wintun_session *s = r->io.s[0];
	static uint8_t pkt[TX_VARIANTS][WB_MTU];
	unsigned plen[TX_VARIANTS];
	WINTUN_BATCH_PACKET p[BATCH];
	uint32_t src = inet_addr("10.9.0.2"), dst = inet_addr("10.9.0.1");
	uint64_t sent = 0, t0 = wb_now_ns(), full_wait = 0;

	for (unsigned i = 0; i < TX_VARIANTS; i++)
		plen[i] = wb_udp4(pkt[i], src, dst, 40000, 9998, wb_payload(r->o, i));
	while (!atomic_load_explicit(&r->gen_stop, memory_order_relaxed)) {
		unsigned want = wb_pace(r->o, t0, sent, BATCH);
		uint32_t n;

		if (!want)
			continue;
		for (unsigned i = 0; i < want; i++)
			p[i] = (WINTUN_BATCH_PACKET){ .Size = plen[(sent + i) % TX_VARIANTS] };
		n = WintunAllocateSendPackets(s, p, want);
		if (!n) {
			if (errno != ENOBUFS)
				return NULL;
			wb_full_wait(&full_wait);
			continue;
		}
		wb_full_reset(&full_wait);
		for (uint32_t i = 0; i < n; i++)
			memcpy(p[i].Data, pkt[(sent + i) % TX_VARIANTS], p[i].Size);
		WintunSendPackets(s, p, n);
		sent += n;
		atomic_store_explicit(&r->sent, sent, memory_order_relaxed);
	}
	return NULL;
}
