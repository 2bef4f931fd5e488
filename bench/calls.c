/* SPDX-License-Identifier: MIT */
/*
 * --calls: what the client calls themselves cost per packet, single-packet
 * against batch, on one thread and a session without an engine (this thread
 * plays the engine between rounds, untimed): rx = receive + release of 64
 * packets already in the Send ring, tx = allocate + fill + send of 64.  In
 * the floods (rx, rx-batch, tx, tx-batch) the client thread's cycles also
 * hold its waits for the engine, which the call style does not change.
 * Cells: median over --runs of the median 64-packet round, in TSC cycles per
 * packet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "src/atomic.h"
#include "src/session.h"
#include "stats.h"
#include "wintun.h"

#define ROUND 64u
#define ROUNDS 4000u

enum { C_RX_SINGLE, C_RX_BATCH, C_TX_SINGLE, C_TX_BATCH, C_N };
static const char *const c_name[C_N] = { "rx: WintunReceivePacket + Release (x64)",
					  "rx: WintunReceivePackets + Release (64)",
					  "tx: WintunAllocateSendPacket + Send (x64)",
					  "tx: WintunAllocateSendPackets + Send (64)" };

/* The engine's part, untimed: 64 packets of @len into the Send ring. */
static void produce(struct wintun_session *s, const uint8_t *pkt, uint32_t len)
{
	WINTUN_RING *ring = s->rings.desc.Send.Ring;
	uint32_t tail = wt_load_relaxed(&ring->Tail);

	for (unsigned i = 0; i < ROUND; i++) {
		WINTUN_RING_PACKET *rec = wintun_ring_record(ring, tail);

		memcpy(rec->Data, pkt, len);
		wt_store_relaxed(&rec->Size, len);
		tail = wintun_ring_next(tail, len, s->rings.capacity);
	}
	wt_store_release(&ring->Tail, tail); /* as the engine publishes */
}

/* The engine's part of tx, untimed: everything sent is consumed. */
static void consume(struct wintun_session *s)
{
	WINTUN_RING *ring = s->rings.desc.Receive.Ring;

	wt_store_release(&ring->Head, wt_load_acquire(&ring->Tail));
}

static int timed_round(struct wintun_session *s, unsigned mode, const uint8_t *pkt, uint32_t len)
{
	WINTUN_BATCH_PACKET p[ROUND];
	uint32_t got;

	switch (mode) {
	case C_RX_SINGLE:
		for (unsigned i = 0; i < ROUND; i++) {
			uint8_t *d = WintunReceivePacket(s, &got);

			if (!d)
				return -errno;
			WintunReleaseReceivePacket(s, d);
		}
		return 0;
	case C_RX_BATCH:
		if (WintunReceivePackets(s, p, ROUND) != ROUND)
			return -EIO;
		WintunReleaseReceivePackets(s, p, ROUND);
		return 0;
	case C_TX_SINGLE:
		for (unsigned i = 0; i < ROUND; i++) {
			uint8_t *d = WintunAllocateSendPacket(s, len);

			if (!d)
				return -errno;
			memcpy(d, pkt, len);
			WintunSendPacket(s, d);
		}
		return 0;
	default:
		for (unsigned i = 0; i < ROUND; i++)
			p[i] = (WINTUN_BATCH_PACKET){ .Size = len };
		if (WintunAllocateSendPackets(s, p, ROUND) != ROUND)
			return -EIO;
		for (unsigned i = 0; i < ROUND; i++)
			memcpy(p[i].Data, pkt, len);
		WintunSendPackets(s, p, ROUND);
		return 0;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Cycles per packet of @mode: the median round of ROUNDS (a preempted round
 * is an outlier, not a cost). */
static double measure(struct wintun_session *s, unsigned mode, const uint8_t *pkt, uint32_t len)
{
	static uint64_t ns[ROUNDS];

	for (unsigned r = 0; r < ROUNDS; r++) {
		uint64_t t0;

		if (mode <= C_RX_BATCH)
			produce(s, pkt, len);
		t0 = wb_now_ns();
		if (timed_round(s, mode, pkt, len))
			return -1;
		ns[r] = wb_now_ns() - t0;
		if (mode > C_RX_BATCH)
			consume(s);
	}
	qsort(ns, ROUNDS, sizeof(ns[0]), cmp_u64);
	return (double)ns[ROUNDS / 2] * wb_cpu_tsc_hz() / 1e9 / ROUND;
}

int wb_calls_bench(const struct wb_opts *o)
{
	struct wintun_session *s;
	static uint8_t pkt[WB_MTU];
	double *v[C_N];
	uint32_t len = wb_udp4(pkt, 0x0200090a, 0x0100090a, 40000, 9998, o->payload);
	int status = 0;

	if (wt_session_create(o->capacity, -1, false, &s)) {
		fprintf(stderr, "wintun-bench: cannot create a session of %u bytes\n", o->capacity);
		return 1;
	}
	for (unsigned m = 0; m < C_N; m++)
		v[m] = calloc(o->runs, sizeof(double));
	/* Interleaved run by run, as the scenarios are. */
	for (unsigned r = 0; r < o->runs && !status; r++)
		for (unsigned m = 0; m < C_N && !status; m++)
			if ((v[m][r] = measure(s, m, pkt, len)) < 0)
				status = 1;
	printf("client calls, one thread, no engine: %u-byte IP packets (UDP payload %u), "
	       "rounds of %u\ncycles/pkt at %.3f GHz TSC: median [min..max] of %u runs "
	       "(each the median of %u rounds)\n",
	       len, o->payload, ROUND, wb_cpu_tsc_hz() / 1e9, o->runs, ROUNDS);
	for (unsigned m = 0; m < C_N && !status; m++) {
		struct wb_summary st = wb_summarize(v[m], o->runs);

		printf("%-44s %8.1f [%.1f..%.1f]", c_name[m], st.median, st.min, st.max);
		if (m % 2) {
			struct wb_summary single = wb_summarize(v[m - 1], o->runs);

			printf("   batch/single %.2f", st.median / single.median);
		}
		printf("\n");
	}
	for (unsigned m = 0; m < C_N; m++)
		free(v[m]);
	wt_session_destroy(s);
	return status;
}
