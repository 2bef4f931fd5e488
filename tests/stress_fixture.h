/* SPDX-License-Identifier: MIT */
/*
 * What the single-packet (test_stress.c) and batch (test_batch_stress.c)
 * concurrency stress suites share: the many-sender, many-receiver run's
 * bookkeeping and checks, and the one-packet-at-a-time lost wake-up races.
 * A lost wake-up is detected directly (a wait timed out although the ring held
 * data), so the tests fail fast instead of hanging.
 */
#ifndef WINTUN_TEST_STRESS_FIXTURE_H
#define WINTUN_TEST_STRESS_FIXTURE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "fake_engine.h"

#define STRESS_STREAMS 4
#define STRESS_PER_STREAM 50000u
/* Generous: only a lost wake-up (or a machine stopped for this long) leaves
 * every receiver without a packet for a whole wait. */
#define STRESS_STALL_SEC 10
/* The last packets: one per receiver, each ends the receiver that takes it. */
#define STRESS_END_STREAM STRESS_STREAMS

struct mpmc {
	struct wintun_session *s;
	atomic_uint received;
	atomic_uint bad;
	atomic_uint out_of_order;
	atomic_bool stalled; /* no progress for STALL_SEC: give up, report losses */
	atomic_uint lost_wakeups; /* a receiver slept STALL_SEC beside a packet */
	atomic_uint exited; /* receivers that took their end packet */
	atomic_uchar seen[STRESS_STREAMS][STRESS_PER_STREAM];
};

/* One sender (of stream @id) or receiver thread; @rng seeds its choices. */
struct worker {
	struct mpmc *m;
	uint32_t id;
	uint32_t rng;
};

/*
 * The many-sender, many-receiver run through a fake_engine (with pad records
 * if @pads): @receivers receiver threads, @senders sender threads for the
 * first streams, the other streams sent in turn from this thread; then
 * @send_ends gives every receiver its end packet, and the run is checked
 * (stress_expect_clean).
 */
void stress_run_mpmc(unsigned senders, unsigned receivers, bool pads, void *(*sender)(void *),
		     void *(*receiver)(void *), void (*send_ends)(struct mpmc *m, unsigned receivers));

/* What one receiver saw last of each stream. */
struct stream_order {
	uint32_t last[STRESS_STREAMS];
	bool any[STRESS_STREAMS];
};

double stress_now_sec(void);
/* The size of packet @seq of @stream: 12..1500. */
uint32_t stress_size_for(uint32_t stream, uint32_t seq);

/* A sender found no room: past STALL_SEC since @progress the run stalled. */
void stress_no_room(struct mpmc *m, double progress);

/* Sleep until a packet arrives; a whole STALL_SEC in which no receiver got
 * one is a stall (the engine's side of it is counted in fake_engine). */
void stress_wait_long(struct mpmc *m);

/* Check one received packet for corruption, duplicates and order (ring order
 * is allocation order and receives are serialized: each receiver sees a
 * stream in order).  True if it is an end packet. */
bool stress_check_packet(struct mpmc *m, const uint8_t *data, uint32_t size,
			 struct stream_order *o);

/* After the run: no stall, no lost wake-up, nothing bad, out of order or
 * lost in streams 0..@streams, and pads seen if the engine wrote them. */
void stress_expect_clean(struct mpmc *m, const struct fake_engine *fe, unsigned streams);

/* ---- lost wake-ups, a few packets at a time ---------------------------- */

#define STRESS_WAKE_TIMEOUT_MS 200

struct pingpong {
	struct wintun_session *s;
	uint32_t pings;
	atomic_uint consumed;
	atomic_uint lost_wakeups;
	atomic_bool done;
};

/* Wait until the other side consumed @i packets (or the test gave up). */
void stress_wait_consumed(struct pingpong *pp, uint32_t i);

/*
 * Engine to client: @producer (a thread, the engine's side of the Send ring)
 * publishes; @take (the client) receives and releases what is there and
 * returns how many, or 0 with errno EAGAIN when the ring was empty (then
 * armed).  Counts the wake-ups the producer failed to give.
 */
void stress_run_engine_to_client(uint32_t pings, void *(*producer)(void *),
				 uint32_t (*take)(struct wintun_session *s));

/* Client to engine: @sender (a thread, the client) sends; this thread
 * consumes the Receive ring as the engine, sleeping armed when it is empty. */
void stress_run_client_to_engine(uint32_t pings, void *(*sender)(void *));

#endif
