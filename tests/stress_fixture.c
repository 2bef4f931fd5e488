/* SPDX-License-Identifier: MIT */
#include "stress_fixture.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "helpers.h"
#include "src/atomic.h"
#include "src/ring_sync.h"
#include "src/session.h"
#include "wintun.h"

double stress_now_sec(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

uint32_t stress_size_for(uint32_t stream, uint32_t seq)
{
	return 12 + (stream * 7919u + seq * 104729u) % 1489u;
}

void stress_no_room(struct mpmc *m, double progress)
{
	cr_assert_eq(errno, ENOBUFS, "allocate: %s", strerror(errno));
	if (stress_now_sec() - progress > STRESS_STALL_SEC)
		atomic_store(&m->stalled, true);
	sched_yield();
}

void stress_wait_long(struct mpmc *m)
{
	uint32_t before = atomic_load(&m->received);

	if (WintunWaitForPacket(m->s, STRESS_STALL_SEC * 1000))
		return;
	cr_assert_eq(errno, ETIMEDOUT, "wait: %s", strerror(errno));
	if (atomic_load(&m->received) != before)
		return; /* others were busy receiving */
	if (WintunIsPacketAvailable(m->s))
		atomic_fetch_add(&m->lost_wakeups, 1);
	atomic_store(&m->stalled, true);
}

bool stress_check_packet(struct mpmc *m, const uint8_t *data, uint32_t size,
			 struct stream_order *o)
{
	uint32_t stream, seq;

	if (!wt_test_payload_check(data, size, &stream, &seq) || stream > STRESS_STREAMS ||
	    (stream < STRESS_STREAMS &&
	     (seq >= STRESS_PER_STREAM || size != stress_size_for(stream, seq)))) {
		atomic_fetch_add(&m->bad, 1);
		return false;
	}
	if (stream == STRESS_END_STREAM)
		return true;
	if (atomic_exchange(&m->seen[stream][seq], 1))
		atomic_fetch_add(&m->bad, 1); /* duplicate */
	if (o->any[stream] && seq <= o->last[stream])
		atomic_fetch_add(&m->out_of_order, 1);
	o->any[stream] = true;
	o->last[stream] = seq;
	return false;
}

void stress_expect_clean(struct mpmc *m, const struct fake_engine *fe, unsigned streams)
{
	cr_expect_not(atomic_load(&m->stalled),
		      "no progress for %d s: lost wake-ups: %u by the receivers, %llu by the engine",
		      STRESS_STALL_SEC, atomic_load(&m->lost_wakeups),
		      (unsigned long long)fe->lost_wakeups);
	cr_expect_eq(fe->lost_wakeups, 0, "%llu lost wake-ups of the engine",
		     (unsigned long long)fe->lost_wakeups);
	cr_expect_eq(atomic_load(&m->bad), 0, "corrupt or duplicate packets (overrun?)");
	cr_expect_eq(atomic_load(&m->out_of_order), 0, "packets out of order");
	for (unsigned st = 0; st < streams; st++)
		for (unsigned q = 0; q < STRESS_PER_STREAM; q++)
			cr_assert(atomic_load(&m->seen[st][q]), "stream %u packet %u lost", st, q);
	if (fe->pads)
		cr_expect_gt(fe->pads_written, 0);
}

void stress_run_mpmc(unsigned senders, unsigned receivers, bool pads, void *(*sender)(void *),
		     void *(*receiver)(void *), void (*send_ends)(struct mpmc *m, unsigned receivers))
{
	static struct mpmc m;
	struct worker ws[STRESS_STREAMS], wr[STRESS_STREAMS];
	pthread_t ts[STRESS_STREAMS], tr[STRESS_STREAMS];
	struct fake_engine fe;

	memset(&m, 0, sizeof(m));
	cr_assert_eq(wt_session_create(0x20000, -1, false, &m.s), 0);
	fake_engine_start(&fe, m.s, pads);
	for (unsigned i = 0; i < receivers; i++) {
		wr[i] = (struct worker){ &m, i, 0x9E3779B9u * (i + 1) };
		pthread_create(&tr[i], NULL, receiver, &wr[i]);
	}
	for (unsigned i = 0; i < STRESS_STREAMS; i++) {
		ws[i] = (struct worker){ &m, i, 0x85EBCA6Bu * (i + 1) };
		if (i < senders)
			pthread_create(&ts[i], NULL, sender, &ws[i]);
	}
	/* With fewer sender threads, the remaining streams go sequentially. */
	for (unsigned i = senders; i < STRESS_STREAMS; i++)
		sender(&ws[i]);
	for (unsigned i = 0; i < senders; i++)
		pthread_join(ts[i], NULL);
	send_ends(&m, receivers);
	for (unsigned i = 0; i < receivers; i++)
		pthread_join(tr[i], NULL);
	fake_engine_stop(&fe);
	stress_expect_clean(&m, &fe, STRESS_STREAMS);
	wt_session_destroy(m.s);
}

/* ---- lost wake-ups ------------------------------------------------------ */

void stress_wait_consumed(struct pingpong *pp, uint32_t i)
{
	while (atomic_load(&pp->consumed) < i && !atomic_load(&pp->done))
		;
}

static void pingpong_finish(struct pingpong *pp, pthread_t t)
{
	atomic_store(&pp->done, true);
	pthread_join(t, NULL);
	cr_expect_eq(atomic_load(&pp->lost_wakeups), 0, "%u lost wake-ups in %u packets",
		     atomic_load(&pp->lost_wakeups), atomic_load(&pp->consumed));
	cr_expect_gt(atomic_load(&pp->consumed), 1000);
	wt_session_destroy(pp->s);
}

void stress_run_engine_to_client(uint32_t pings, void *(*producer)(void *),
				 uint32_t (*take)(struct wintun_session *s))
{
	struct pingpong pp = { .pings = pings };
	double stop = stress_now_sec() + 30;
	struct pollfd pfd;
	pthread_t t;

	cr_assert_eq(wt_session_create(0x20000, -1, false, &pp.s), 0);
	pfd = (struct pollfd){ .fd = WintunGetReadWaitEvent(pp.s), .events = POLLIN };
	pthread_create(&t, NULL, producer, &pp);
	while (atomic_load(&pp.consumed) < pings && stress_now_sec() <= stop) {
		uint32_t n = take(pp.s);

		if (n) {
			atomic_fetch_add(&pp.consumed, n);
			continue;
		}
		cr_assert_eq(errno, EAGAIN);
		/* Armed by the EAGAIN: the producer must signal us. */
		if (poll(&pfd, 1, STRESS_WAKE_TIMEOUT_MS) == 0) {
			if (WintunIsPacketAvailable(pp.s))
				atomic_fetch_add(&pp.lost_wakeups, 1);
		} else {
			wt_event_drain(pfd.fd);
		}
	}
	pingpong_finish(&pp, t);
}

void stress_run_client_to_engine(uint32_t pings, void *(*sender)(void *))
{
	struct pingpong pp = { .pings = pings };
	double stop = stress_now_sec() + 30;
	WINTUN_RING *ring;
	struct pollfd pfd;
	uint32_t head = 0;
	pthread_t t;

	cr_assert_eq(wt_session_create(0x20000, -1, false, &pp.s), 0);
	ring = pp.s->rings.desc.Receive.Ring;
	pfd = (struct pollfd){ .fd = pp.s->rings.desc.Receive.TailMoved, .events = POLLIN };
	pthread_create(&t, NULL, sender, &pp);
	while (atomic_load(&pp.consumed) < pings && stress_now_sec() <= stop) {
		uint32_t tail = wt_load_acquire(&ring->Tail);

		if (tail != head) {
			head = wintun_ring_next(head, wintun_ring_record(ring, head)->Size,
						pp.s->rings.capacity);
			wt_store_release(&ring->Head, head);
			atomic_fetch_add(&pp.consumed, 1);
			continue;
		}
		if (!wt_ring_arm(ring, head))
			continue;
		if (poll(&pfd, 1, STRESS_WAKE_TIMEOUT_MS) == 0) {
			if (wt_load_acquire(&ring->Tail) != head)
				atomic_fetch_add(&pp.lost_wakeups, 1);
		} else {
			wt_event_drain(pfd.fd);
		}
	}
	pingpong_finish(&pp, t);
}
