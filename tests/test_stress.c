/* SPDX-License-Identifier: MIT */
/*
 * Concurrency stress for the client side against a thread that plays the
 * engine: many senders and receivers, and the Alertable handshake in both
 * directions.  A lost wake-up is detected directly (a wait timed out although
 * the ring held data), so the tests fail fast instead of hanging.  In the
 * many-sender runs every wait is long (STALL_SEC): a short timeout would
 * rescue a lost wake-up unseen, a long one turns it into a stall.
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

static void *sender(void *arg)
{
	struct worker *w = arg;

	double progress = stress_now_sec();

	for (uint32_t seq = 0; seq < STRESS_PER_STREAM && !atomic_load(&w->m->stalled);) {
		uint32_t len = stress_size_for(w->id, seq);
		uint8_t *p = WintunAllocateSendPacket(w->m->s, len);

		if (!p) {
			stress_no_room(w->m, progress);
			continue;
		}
		progress = stress_now_sec();
		wt_test_payload_fill(p, len, w->id, seq);
		WintunSendPacket(w->m->s, p);
		seq++;
	}
	return NULL;
}

static void *receiver(void *arg)
{
	struct worker *w = arg;
	struct mpmc *m = w->m;
	struct stream_order o = { 0 };

	while (!atomic_load(&m->stalled)) {
		uint32_t len;
		uint8_t *p = WintunReceivePacket(m->s, &len);

		if (!p) {
			cr_assert_eq(errno, EAGAIN, "receive: %s", strerror(errno));
			stress_wait_long(m);
			continue;
		}
		if (stress_check_packet(m, p, len, &o)) {
			WintunReleaseReceivePacket(m->s, p);
			break;
		}
		WintunReleaseReceivePacket(m->s, p);
		atomic_fetch_add(&m->received, 1);
	}
	return NULL;
}

/* After every sender's last packet: one end packet per receiver. */
static void send_ends(struct mpmc *m, unsigned receivers)
{
	double progress = stress_now_sec();

	for (uint32_t i = 0; i < receivers && !atomic_load(&m->stalled);) {
		uint8_t *p = WintunAllocateSendPacket(m->s, 12);

		if (!p) {
			stress_no_room(m, progress);
			continue;
		}
		wt_test_payload_fill(p, 12, STRESS_END_STREAM, i);
		WintunSendPacket(m->s, p);
		i++;
	}
}

Test(stress, one_sender_one_receiver, .timeout = 300)
{
	stress_run_mpmc(1, 1, false, sender, receiver, send_ends);
}

Test(stress, four_senders_four_receivers_with_pads, .timeout = 300)
{
	stress_run_mpmc(4, 4, true, sender, receiver, send_ends);
}

/* ---- lost wake-up: engine -> client (Send ring) ----------------------- */

#define PINGS 200000u

/* Producer side of the Send ring, as the engine: publish one packet, then
 * wait until the client took it, so each publish races with the client's
 * arm-and-recheck. */
static void *send_ring_producer(void *arg)
{
	struct pingpong *pp = arg;

	for (uint32_t i = 0; i < pp->pings && !atomic_load(&pp->done); i++) {
		fake_produce(pp->s, &i, sizeof(i));
		stress_wait_consumed(pp, i + 1);
	}
	return NULL;
}

static uint32_t take_one(struct wintun_session *s)
{
	uint32_t len;
	uint8_t *p = WintunReceivePacket(s, &len);

	if (!p)
		return 0;
	WintunReleaseReceivePacket(s, p);
	return 1;
}

Test(stress, no_lost_wakeup_engine_to_client, .timeout = 300)
{
	stress_run_engine_to_client(PINGS, send_ring_producer, take_one);
}

/* ---- lost wake-up: client -> engine (Receive ring) -------------------- */

static void *recv_ring_client(void *arg)
{
	struct pingpong *pp = arg;

	for (uint32_t i = 0; i < pp->pings && !atomic_load(&pp->done); i++) {
		uint8_t *p = WintunAllocateSendPacket(pp->s, 4);

		cr_assert_not_null(p);
		memcpy(p, &i, 4);
		WintunSendPacket(pp->s, p);
		stress_wait_consumed(pp, i + 1);
	}
	return NULL;
}

Test(stress, no_lost_wakeup_client_to_engine, .timeout = 300)
{
	stress_run_client_to_engine(PINGS, recv_ring_client);
}
