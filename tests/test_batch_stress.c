/* SPDX-License-Identifier: MIT */
/*
 * Concurrency stress for the batch calls, with test_stress.c's checks:
 * concurrent batch senders and batch receivers through a thread that plays
 * the engine (a loopback, with pad records), every packet checked for
 * corruption (an overrun shows as a bad payload), duplicates, order and
 * loss; lost wake-ups detected directly, in both directions, by long waits
 * that find data beside them.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "fake_engine.h"
#include "helpers.h"
#include "src/session.h"
#include "stress_fixture.h"
#include "wintun.h"

#define MAX_BATCH 48

static uint32_t next_rand(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* Send a batch in two calls, the second half first: publication must wait
 * for the first half and then cover both. */
static void send_split(struct wintun_session *s, WINTUN_BATCH_PACKET *p, uint32_t n, uint32_t cut)
{
	WintunSendPackets(s, p + cut, n - cut);
	WintunSendPackets(s, p, cut);
}

static void *sender(void *arg)
{
	struct worker *w = arg;
	WINTUN_BATCH_PACKET p[MAX_BATCH];
	double progress = stress_now_sec();

	for (uint32_t seq = 0; seq < STRESS_PER_STREAM && !atomic_load(&w->m->stalled);) {
		uint32_t want = 1 + next_rand(&w->rng) % MAX_BATCH, n;

		if (want > STRESS_PER_STREAM - seq)
			want = STRESS_PER_STREAM - seq;
		for (uint32_t i = 0; i < want; i++)
			p[i] = (WINTUN_BATCH_PACKET){ .Size = stress_size_for(w->id, seq + i) };
		n = WintunAllocateSendPackets(w->m->s, p, want);
		if (!n) {
			stress_no_room(w->m, progress);
			continue;
		}
		progress = stress_now_sec();
		for (uint32_t i = 0; i < n; i++)
			wt_test_payload_fill(p[i].Data, p[i].Size, w->id, seq + i);
		send_split(w->m->s, p, n, next_rand(&w->rng) % (n + 1));
		seq += n;
	}
	return NULL;
}

/* Release a batch in a shuffled order, in two calls. */
static void release_shuffled(struct wintun_session *s, WINTUN_BATCH_PACKET *p, uint32_t n, uint32_t *rng)
{
	for (uint32_t i = n; i > 1; i--) {
		uint32_t j = next_rand(rng) % i;
		WINTUN_BATCH_PACKET t = p[i - 1];

		p[i - 1] = p[j];
		p[j] = t;
	}
	WintunReleaseReceivePackets(s, p, n / 2);
	WintunReleaseReceivePackets(s, p + n / 2, n - n / 2);
}

static void *receiver(void *arg)
{
	struct worker *w = arg;
	struct mpmc *m = w->m;
	WINTUN_BATCH_PACKET p[MAX_BATCH];
	struct stream_order o = { 0 };
	bool end = false;

	while (!end && !atomic_load(&m->stalled)) {
		uint32_t n = WintunReceivePackets(m->s, p, 1 + next_rand(&w->rng) % MAX_BATCH);

		if (!n) {
			cr_assert_eq(errno, EAGAIN, "receive: %s", strerror(errno));
			stress_wait_long(m);
			continue;
		}
		for (uint32_t i = 0; i < n; i++) {
			if (stress_check_packet(m, p[i].Data, p[i].Size, &o))
				end = true; /* ends this receiver after the batch */
			else
				atomic_fetch_add(&m->received, 1);
		}
		release_shuffled(m->s, p, n, &w->rng);
	}
	atomic_fetch_add(&m->exited, 1);
	return NULL;
}

/* One end packet per receiver, the next only once a receiver took the last
 * one and left: a batch must never carry two ends to one receiver. */
static void send_ends(struct mpmc *m, unsigned receivers)
{
	for (uint32_t i = 0; i < receivers && !atomic_load(&m->stalled); i++) {
		double progress = stress_now_sec();
		WINTUN_BATCH_PACKET p = { .Size = 12 };

		while (!WintunAllocateSendPackets(m->s, &p, 1)) {
			stress_no_room(m, progress);
			if (atomic_load(&m->stalled))
				return;
		}
		wt_test_payload_fill(p.Data, 12, STRESS_END_STREAM, i);
		WintunSendPackets(m->s, &p, 1);
		while (atomic_load(&m->exited) <= i && !atomic_load(&m->stalled))
			sched_yield();
	}
}

Test(batch_stress, four_batch_senders_two_batch_receivers_with_pads, .timeout = 300)
{
	stress_run_mpmc(4, 2, true, sender, receiver, send_ends);
}

Test(batch_stress, four_batch_senders_four_batch_receivers_with_pads, .timeout = 300)
{
	stress_run_mpmc(4, 4, true, sender, receiver, send_ends);
}

/* ---- lost wake-ups, one batch at a time, in both directions ----------- */

#define PINGS 100000u

/* The engine's side of the Send ring: publish a batch of 1-3 packets, then
 * wait until the client took them all, so each publish races with the
 * client's arm-and-recheck. */
static void *send_ring_producer(void *arg)
{
	struct pingpong *pp = arg;

	for (uint32_t i = 0; i < pp->pings && !atomic_load(&pp->done);) {
		uint32_t k = 1 + i % 3;

		for (uint32_t j = 0; j < k; j++, i++)
			fake_produce(pp->s, &i, sizeof(i));
		stress_wait_consumed(pp, i);
	}
	return NULL;
}

static uint32_t take_batch(struct wintun_session *s)
{
	WINTUN_BATCH_PACKET p[4];
	uint32_t n = WintunReceivePackets(s, p, 4);

	if (n)
		WintunReleaseReceivePackets(s, p, n);
	return n;
}

Test(batch_stress, no_lost_wakeup_engine_to_batch_receiver, .timeout = 300)
{
	stress_run_engine_to_client(PINGS, send_ring_producer, take_batch);
}

/* The client: send a batch of 1-3 packets, then wait until the engine (the
 * test thread) consumed them. */
static void *batch_sender(void *arg)
{
	struct pingpong *pp = arg;
	WINTUN_BATCH_PACKET p[3];

	for (uint32_t i = 0; i < pp->pings && !atomic_load(&pp->done);) {
		uint32_t k = 1 + i % 3;

		for (uint32_t j = 0; j < k; j++)
			p[j] = (WINTUN_BATCH_PACKET){ .Size = 4 };
		cr_assert_eq(WintunAllocateSendPackets(pp->s, p, k), k);
		for (uint32_t j = 0; j < k; j++, i++)
			memcpy(p[j].Data, &i, 4);
		WintunSendPackets(pp->s, p, k);
		stress_wait_consumed(pp, i);
	}
	return NULL;
}

Test(batch_stress, no_lost_wakeup_batch_sender_to_engine, .timeout = 300)
{
	stress_run_client_to_engine(PINGS, batch_sender);
}
