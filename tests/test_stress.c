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

struct mpmc {
	struct wintun_session *s;
	atomic_uint received;
	atomic_uint bad;
	atomic_uint out_of_order;
	atomic_bool stalled; /* no progress for STALL_SEC: give up, report losses */
	atomic_uint lost_wakeups; /* a receiver slept STALL_SEC beside a packet */
	atomic_uchar seen[STREAMS][PER_STREAM];
};

/* Generous: only a lost wake-up (or a machine stopped for this long) leaves
 * every receiver without a packet for a whole wait. */
#define STALL_SEC 10
/* The last packets: one per receiver, each ends the receiver that takes it. */
#define END_STREAM STREAMS

static double now_sec(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

struct worker {
	struct mpmc *m;
	uint32_t id;
};

static uint32_t size_for(uint32_t stream, uint32_t seq)
{
	return 12 + (stream * 7919u + seq * 104729u) % 1489u; /* 12..1500 */
}

static void *sender(void *arg)
{
	struct worker *w = arg;

	double progress = now_sec();

	for (uint32_t seq = 0; seq < PER_STREAM && !atomic_load(&w->m->stalled);) {
		uint32_t len = size_for(w->id, seq);
		uint8_t *p = WintunAllocateSendPacket(w->m->s, len);

		if (!p) {
			cr_assert_eq(errno, ENOBUFS);
			if (now_sec() - progress > STALL_SEC)
				atomic_store(&w->m->stalled, true);
			sched_yield();
			continue;
		}
		progress = now_sec();
		wt_test_payload_fill(p, len, w->id, seq);
		WintunSendPacket(w->m->s, p);
		seq++;
	}
	return NULL;
}

/* Sleep until a packet arrives; a whole STALL_SEC in which no receiver got
 * one is a stall (the engine's side of it is counted in fake_engine). */
static void wait_long(struct mpmc *m)
{
	uint32_t before = atomic_load(&m->received);

	if (WintunWaitForPacket(m->s, STALL_SEC * 1000))
		return;
	cr_assert_eq(errno, ETIMEDOUT, "wait: %s", strerror(errno));
	if (atomic_load(&m->received) != before)
		return; /* others were busy receiving */
	if (WintunIsPacketAvailable(m->s))
		atomic_fetch_add(&m->lost_wakeups, 1);
	atomic_store(&m->stalled, true);
}

static void *receiver(void *arg)
{
	struct worker *w = arg;
	struct mpmc *m = w->m;
	uint32_t last[STREAMS];
	bool any[STREAMS] = { false };

	while (!atomic_load(&m->stalled)) {
		uint32_t len, stream, seq;
		uint8_t *p = WintunReceivePacket(m->s, &len);

		if (!p) {
			cr_assert_eq(errno, EAGAIN, "receive: %s", strerror(errno));
			wait_long(m);
			continue;
		}
		if (wt_test_payload_check(p, len, &stream, &seq) && stream == END_STREAM) {
			WintunReleaseReceivePacket(m->s, p);
			break;
		}
		if (!wt_test_payload_check(p, len, &stream, &seq) || stream >= STREAMS ||
		    seq >= PER_STREAM || len != size_for(stream, seq)) {
			atomic_fetch_add(&m->bad, 1);
		} else {
			if (atomic_exchange(&m->seen[stream][seq], 1))
				atomic_fetch_add(&m->bad, 1); /* duplicate */
			/* Ring order is allocation order, and receives are
			 * serialized: each receiver sees a stream in order. */
			if (any[stream] && seq <= last[stream])
				atomic_fetch_add(&m->out_of_order, 1);
			any[stream] = true;
			last[stream] = seq;
		}
		WintunReleaseReceivePacket(m->s, p);
		atomic_fetch_add(&m->received, 1);
	}
	return NULL;
}

/* After every sender's last packet: one end packet per receiver. */
static void send_ends(struct mpmc *m, unsigned receivers)
{
	double progress = now_sec();

	for (uint32_t i = 0; i < receivers && !atomic_load(&m->stalled);) {
		uint8_t *p = WintunAllocateSendPacket(m->s, 12);

		if (!p) {
			cr_assert_eq(errno, ENOBUFS);
			if (now_sec() - progress > STALL_SEC)
				atomic_store(&m->stalled, true);
			sched_yield();
			continue;
		}
		wt_test_payload_fill(p, 12, END_STREAM, i);
		WintunSendPacket(m->s, p);
		i++;
	}
}

static void run_mpmc(unsigned senders, unsigned receivers, bool pads)
{
	static struct mpmc m;
	struct worker ws[STREAMS], wr[STREAMS];
	pthread_t ts[STREAMS], tr[STREAMS];
	struct fake_engine fe;

	memset(&m, 0, sizeof(m));
	cr_assert_eq(wt_session_create(0x20000, -1, false, &m.s), 0);
	fake_engine_start(&fe, m.s, pads);
	for (unsigned i = 0; i < receivers; i++) {
		wr[i] = (struct worker){ &m, i };
		pthread_create(&tr[i], NULL, receiver, &wr[i]);
	}
	for (unsigned i = 0; i < STREAMS; i++) {
		ws[i] = (struct worker){ &m, i };
		if (i < senders)
			pthread_create(&ts[i], NULL, sender, &ws[i]);
	}
	/* With fewer sender threads, the remaining streams go sequentially. */
	for (unsigned i = senders; i < STREAMS; i++)
		sender(&ws[i]);
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
	cr_expect_eq(atomic_load(&m.bad), 0, "corrupt or duplicate packets");
	cr_expect_eq(atomic_load(&m.out_of_order), 0, "packets out of order");
	for (unsigned st = 0; st < STREAMS; st++)
		for (unsigned q = 0; q < PER_STREAM; q++)
			cr_assert(atomic_load(&m.seen[st][q]), "stream %u packet %u lost", st, q);
	if (pads)
		cr_expect_gt(fe.pads_written, 0);
	wt_session_destroy(m.s);
}

Test(stress, one_sender_one_receiver, .timeout = 300)
{
	run_mpmc(1, 1, false);
}

Test(stress, four_senders_four_receivers_with_pads, .timeout = 300)
{
	run_mpmc(4, 4, true);
}

/* ---- lost wake-up: engine -> client (Send ring) ----------------------- */

#define PINGS 200000u
#define WAKE_TIMEOUT_MS 200

struct pingpong {
	struct wintun_session *s;
	atomic_uint consumed;
	atomic_uint lost_wakeups;
	atomic_bool done;
};

/* Producer side of the Send ring, as the engine: publish one packet, then
 * wait until the client took it, so each publish races with the client's
 * arm-and-recheck. */
static void *send_ring_producer(void *arg)
{
	struct pingpong *pp = arg;

	for (uint32_t i = 0; i < PINGS && !atomic_load(&pp->done); i++) {
		fake_produce(pp->s, &i, sizeof(i));
		while (atomic_load(&pp->consumed) <= i && !atomic_load(&pp->done))
			;
	}
	return NULL;
}

static struct timespec deadline_in(unsigned sec)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += sec;
	return t;
}

static bool past(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec > t->tv_nsec);
}

Test(stress, no_lost_wakeup_engine_to_client, .timeout = 300)
{
	struct pingpong pp = { 0 };
	struct pollfd pfd;
	struct timespec stop = deadline_in(30);
	pthread_t t;
	uint32_t len;

	cr_assert_eq(wt_session_create(0x20000, -1, false, &pp.s), 0);
	pfd = (struct pollfd){ .fd = WintunGetReadWaitEvent(pp.s), .events = POLLIN };
	pthread_create(&t, NULL, send_ring_producer, &pp);
	while (atomic_load(&pp.consumed) < PINGS && !past(&stop)) {
		uint8_t *p = WintunReceivePacket(pp.s, &len);

		if (p) {
			WintunReleaseReceivePacket(pp.s, p);
			atomic_fetch_add(&pp.consumed, 1);
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

/* ---- lost wake-up: client -> engine (Receive ring) -------------------- */

static void *recv_ring_client(void *arg)
{
	struct pingpong *pp = arg;

	for (uint32_t i = 0; i < PINGS && !atomic_load(&pp->done); i++) {
		uint8_t *p = WintunAllocateSendPacket(pp->s, 4);

		cr_assert_not_null(p);
		memcpy(p, &i, 4);
		WintunSendPacket(pp->s, p);
		while (atomic_load(&pp->consumed) <= i && !atomic_load(&pp->done))
			;
	}
	return NULL;
}

Test(stress, no_lost_wakeup_client_to_engine, .timeout = 300)
{
	struct pingpong pp = { 0 };
	struct timespec stop = deadline_in(30);
	WINTUN_RING *ring;
	struct pollfd pfd;
	uint32_t head = 0;
	pthread_t t;

	cr_assert_eq(wt_session_create(0x20000, -1, false, &pp.s), 0);
	ring = pp.s->rings.desc.Receive.Ring;
	pfd = (struct pollfd){ .fd = pp.s->rings.desc.Receive.TailMoved, .events = POLLIN };
	pthread_create(&t, NULL, recv_ring_client, &pp);
	while (atomic_load(&pp.consumed) < PINGS && !past(&stop)) {
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
