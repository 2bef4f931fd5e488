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
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "fake_engine.h"
#include "helpers.h"
#include "src/atomic.h"
#include "src/ring_sync.h"
#include "src/session.h"
#include "wintun.h"

#define STREAMS 4
#define PER_STREAM 50000u
#define MAX_BATCH 48
/* Generous: only a lost wake-up leaves every receiver idle for this long. */
#define STALL_SEC 10
#define END_STREAM STREAMS

struct mpmc {
	struct wintun_session *s;
	atomic_uint received;
	atomic_uint bad;
	atomic_uint out_of_order;
	atomic_bool stalled;
	atomic_uint lost_wakeups;
	atomic_uint exited; /* receivers that took their end packet */
	atomic_uchar seen[STREAMS][PER_STREAM];
};

struct worker {
	struct mpmc *m;
	uint32_t id;
	uint32_t rng;
};

static double now_sec(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint32_t next_rand(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static uint32_t size_for(uint32_t stream, uint32_t seq)
{
	return 12 + (stream * 7919u + seq * 104729u) % 1489u; /* 12..1500 */
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
	double progress = now_sec();

	for (uint32_t seq = 0; seq < PER_STREAM && !atomic_load(&w->m->stalled);) {
		uint32_t want = 1 + next_rand(&w->rng) % MAX_BATCH, n;

		if (want > PER_STREAM - seq)
			want = PER_STREAM - seq;
		for (uint32_t i = 0; i < want; i++)
			p[i] = (WINTUN_BATCH_PACKET){ .Size = size_for(w->id, seq + i) };
		n = WintunAllocateSendPackets(w->m->s, p, want);
		if (!n) {
			cr_assert_eq(errno, ENOBUFS, "allocate: %s", strerror(errno));
			if (now_sec() - progress > STALL_SEC)
				atomic_store(&w->m->stalled, true);
			sched_yield();
			continue;
		}
		progress = now_sec();
		for (uint32_t i = 0; i < n; i++)
			wt_test_payload_fill(p[i].Data, p[i].Size, w->id, seq + i);
		send_split(w->m->s, p, n, next_rand(&w->rng) % (n + 1));
		seq += n;
	}
	return NULL;
}

static void wait_long(struct mpmc *m)
{
	uint32_t before = atomic_load(&m->received);

	if (WintunWaitForPacket(m->s, STALL_SEC * 1000))
		return;
	cr_assert_eq(errno, ETIMEDOUT, "wait: %s", strerror(errno));
	if (atomic_load(&m->received) != before)
		return;
	if (WintunIsPacketAvailable(m->s))
		atomic_fetch_add(&m->lost_wakeups, 1);
	atomic_store(&m->stalled, true);
}

/* Check one packet; true if it is an end packet. */
static bool check_packet(struct mpmc *m, const WINTUN_BATCH_PACKET *p, uint32_t *last, bool *any)
{
	uint32_t stream, seq;

	if (!wt_test_payload_check(p->Data, p->Size, &stream, &seq) || stream > STREAMS ||
	    (stream < STREAMS && (seq >= PER_STREAM || p->Size != size_for(stream, seq)))) {
		atomic_fetch_add(&m->bad, 1);
		return false;
	}
	if (stream == END_STREAM)
		return true;
	if (atomic_exchange(&m->seen[stream][seq], 1))
		atomic_fetch_add(&m->bad, 1); /* duplicate */
	if (any[stream] && seq <= last[stream])
		atomic_fetch_add(&m->out_of_order, 1);
	any[stream] = true;
	last[stream] = seq;
	return false;
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
	uint32_t last[STREAMS];
	bool any[STREAMS] = { false }, end = false;

	while (!end && !atomic_load(&m->stalled)) {
		uint32_t n = WintunReceivePackets(m->s, p, 1 + next_rand(&w->rng) % MAX_BATCH);

		if (!n) {
			cr_assert_eq(errno, EAGAIN, "receive: %s", strerror(errno));
			wait_long(m);
			continue;
		}
		for (uint32_t i = 0; i < n; i++) {
			if (check_packet(m, &p[i], last, any))
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
		double progress = now_sec();
		WINTUN_BATCH_PACKET p = { .Size = 12 };

		while (!WintunAllocateSendPackets(m->s, &p, 1)) {
			cr_assert_eq(errno, ENOBUFS);
			if (now_sec() - progress > STALL_SEC)
				atomic_store(&m->stalled, true);
			if (atomic_load(&m->stalled))
				return;
			sched_yield();
		}
		wt_test_payload_fill(p.Data, 12, END_STREAM, i);
		WintunSendPackets(m->s, &p, 1);
		while (atomic_load(&m->exited) <= i && !atomic_load(&m->stalled))
			sched_yield();
	}
}

static void run_batches(unsigned senders, unsigned receivers)
{
	static struct mpmc m;
	struct worker ws[STREAMS], wr[STREAMS];
	pthread_t ts[STREAMS], tr[STREAMS];
	struct fake_engine fe;

	memset(&m, 0, sizeof(m));
	cr_assert_eq(wt_session_create(0x20000, -1, false, &m.s), 0);
	fake_engine_start(&fe, m.s, true);
	for (unsigned i = 0; i < receivers; i++) {
		wr[i] = (struct worker){ &m, i, 0x9E3779B9u * (i + 1) };
		pthread_create(&tr[i], NULL, receiver, &wr[i]);
	}
	for (unsigned i = 0; i < senders; i++) {
		ws[i] = (struct worker){ &m, i, 0x85EBCA6Bu * (i + 1) };
		pthread_create(&ts[i], NULL, sender, &ws[i]);
	}
	for (unsigned i = 0; i < senders; i++)
		pthread_join(ts[i], NULL);
	send_ends(&m, receivers);
	for (unsigned i = 0; i < receivers; i++)
		pthread_join(tr[i], NULL);
	fake_engine_stop(&fe);
	cr_expect_not(atomic_load(&m.stalled),
		      "no progress for %d s: lost wake-ups: %u by the receivers, %llu by the engine",
		      STALL_SEC, atomic_load(&m.lost_wakeups), (unsigned long long)fe.lost_wakeups);
	cr_expect_eq(fe.lost_wakeups, 0, "%llu lost wake-ups of the engine",
		     (unsigned long long)fe.lost_wakeups);
	cr_expect_eq(atomic_load(&m.bad), 0, "corrupt or duplicate packets (overrun?)");
	cr_expect_eq(atomic_load(&m.out_of_order), 0, "packets out of order");
	for (unsigned st = 0; st < senders; st++)
		for (unsigned q = 0; q < PER_STREAM; q++)
			cr_assert(atomic_load(&m.seen[st][q]), "stream %u packet %u lost", st, q);
	cr_expect_gt(fe.pads_written, 0);
	wt_session_destroy(m.s);
}

Test(batch_stress, four_batch_senders_two_batch_receivers_with_pads, .timeout = 300)
{
	run_batches(4, 2);
}

Test(batch_stress, four_batch_senders_four_batch_receivers_with_pads, .timeout = 300)
{
	run_batches(4, 4);
}

/* ---- lost wake-ups, one batch at a time, in both directions ----------- */

#define PINGS 100000u
#define WAKE_TIMEOUT_MS 200

struct pingpong {
	struct wintun_session *s;
	atomic_uint consumed;
	atomic_uint lost_wakeups;
	atomic_bool done;
};

static bool past(double t)
{
	return now_sec() > t;
}

/* The engine's side of the Send ring: publish a batch of 1-3 packets, then
 * wait until the client took them all, so each publish races with the
 * client's arm-and-recheck. */
static void *send_ring_producer(void *arg)
{
	struct pingpong *pp = arg;

	for (uint32_t i = 0; i < PINGS && !atomic_load(&pp->done);) {
		uint32_t k = 1 + i % 3;

		for (uint32_t j = 0; j < k; j++, i++)
			fake_produce(pp->s, &i, sizeof(i));
		while (atomic_load(&pp->consumed) < i && !atomic_load(&pp->done))
			;
	}
	return NULL;
}

Test(batch_stress, no_lost_wakeup_engine_to_batch_receiver, .timeout = 300)
{
	struct pingpong pp = { 0 };
	struct pollfd pfd;
	double stop = now_sec() + 30;
	WINTUN_BATCH_PACKET p[4];
	pthread_t t;

	cr_assert_eq(wt_session_create(0x20000, -1, false, &pp.s), 0);
	pfd = (struct pollfd){ .fd = WintunGetReadWaitEvent(pp.s), .events = POLLIN };
	pthread_create(&t, NULL, send_ring_producer, &pp);
	while (atomic_load(&pp.consumed) < PINGS && !past(stop)) {
		uint32_t n = WintunReceivePackets(pp.s, p, 4);

		if (n) {
			WintunReleaseReceivePackets(pp.s, p, n);
			atomic_fetch_add(&pp.consumed, n);
			continue;
		}
		cr_assert_eq(errno, EAGAIN);
		/* Armed by the EAGAIN: the producer must signal us. */
		if (poll(&pfd, 1, WAKE_TIMEOUT_MS) == 0) {
			if (WintunIsPacketAvailable(pp.s))
				atomic_fetch_add(&pp.lost_wakeups, 1);
		} else {
			wt_event_drain(pfd.fd);
		}
	}
	atomic_store(&pp.done, true);
	pthread_join(t, NULL);
	cr_expect_eq(atomic_load(&pp.lost_wakeups), 0, "%u lost wake-ups in %u packets",
		     atomic_load(&pp.lost_wakeups), atomic_load(&pp.consumed));
	cr_expect_gt(atomic_load(&pp.consumed), 1000);
	wt_session_destroy(pp.s);
}

/* The client: send a batch of 1-3 packets, then wait until the engine (the
 * test thread) consumed them. */
static void *batch_sender(void *arg)
{
	struct pingpong *pp = arg;
	WINTUN_BATCH_PACKET p[3];

	for (uint32_t i = 0; i < PINGS && !atomic_load(&pp->done);) {
		uint32_t k = 1 + i % 3;

		for (uint32_t j = 0; j < k; j++)
			p[j] = (WINTUN_BATCH_PACKET){ .Size = 4 };
		cr_assert_eq(WintunAllocateSendPackets(pp->s, p, k), k);
		for (uint32_t j = 0; j < k; j++, i++)
			memcpy(p[j].Data, &i, 4);
		WintunSendPackets(pp->s, p, k);
		while (atomic_load(&pp->consumed) < i && !atomic_load(&pp->done))
			;
	}
	return NULL;
}

Test(batch_stress, no_lost_wakeup_batch_sender_to_engine, .timeout = 300)
{
	struct pingpong pp = { 0 };
	double stop = now_sec() + 30;
	WINTUN_RING *ring;
	struct pollfd pfd;
	uint32_t head = 0;
	pthread_t t;

	cr_assert_eq(wt_session_create(0x20000, -1, false, &pp.s), 0);
	ring = pp.s->rings.desc.Receive.Ring;
	pfd = (struct pollfd){ .fd = pp.s->rings.desc.Receive.TailMoved, .events = POLLIN };
	pthread_create(&t, NULL, batch_sender, &pp);
	while (atomic_load(&pp.consumed) < PINGS && !past(stop)) {
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
		if (poll(&pfd, 1, WAKE_TIMEOUT_MS) == 0) {
			if (wt_load_acquire(&ring->Tail) != head)
				atomic_fetch_add(&pp.lost_wakeups, 1);
		} else {
			wt_event_drain(pfd.fd);
		}
	}
	atomic_store(&pp.done, true);
	pthread_join(t, NULL);
	cr_expect_eq(atomic_load(&pp.lost_wakeups), 0, "%u lost wake-ups in %u packets",
		     atomic_load(&pp.lost_wakeups), atomic_load(&pp.consumed));
	cr_expect_gt(atomic_load(&pp.consumed), 1000);
	wt_session_destroy(pp.s);
}
