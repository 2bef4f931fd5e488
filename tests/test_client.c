/* SPDX-License-Identifier: MIT */
/* The client side of a session, driven step by step from the engine side. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#include <errno.h>
#include <stdlib.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client_fixture.h"
#include "fake_engine.h"
#include "helpers.h"
#include "src/atomic.h"
#include "src/ring_sync.h"
#include "src/session.h"
#include "wintun.h"

TestSuite(client, .init = client_fixture_setup, .fini = client_fixture_teardown, .timeout = 60);

static uint8_t *receive(uint32_t *len)
{
	uint8_t *p = WintunReceivePacket(sess, len);

	cr_assert_not_null(p, "receive failed: %s", strerror(errno));
	return p;
}

Test(client, receive_keeps_order_then_eagain)
{
	uint32_t len;
	uint8_t *p;

	fake_produce(sess, "one", 3);
	fake_produce(sess, "second", 6);
	p = receive(&len);
	cr_expect_eq(len, 3);
	cr_expect_arr_eq(p, "one", 3);
	p = receive(&len);
	cr_expect_eq(len, 6);
	cr_expect_arr_eq(p, "second", 6);
	errno = 0;
	cr_expect_null(WintunReceivePacket(sess, &len));
	cr_expect_eq(errno, EAGAIN);
	/* EAGAIN armed the wake-up: the next publish must signal the event. */
	cr_expect_eq(send_ring()->Alertable, 1);
	fake_produce(sess, "x", 1);
	cr_expect_eq(send_ring()->Alertable, 0);
	struct pollfd pfd = { .fd = WintunGetReadWaitEvent(sess), .events = POLLIN };
	cr_expect_eq(poll(&pfd, 1, 0), 1);
}

Test(client, release_out_of_order)
{
	uint32_t len;
	uint8_t *a, *b, *c;

	fake_produce(sess, "aaaa", 4);
	fake_produce(sess, "bbbbbbbb", 8);
	fake_produce(sess, "cc", 2);
	a = receive(&len);
	b = receive(&len);
	c = receive(&len);
	WintunReleaseReceivePacket(sess, b);
	cr_expect_eq(send_ring()->Head, 0, "b released before a: head must not move");
	WintunReleaseReceivePacket(sess, a);
	cr_expect_eq(send_ring()->Head, 8 + 12, "a and b freed");
	WintunReleaseReceivePacket(sess, c);
	cr_expect_eq(send_ring()->Head, send_ring()->Tail);
}

Test(client, pads_are_skipped_and_freed)
{
	uint32_t len;
	uint8_t *a, *b;

	fake_produce_pad(sess, 100);
	fake_produce(sess, "A", 1);
	fake_produce_pad(sess, 0);
	fake_produce_pad(sess, 7);
	fake_produce(sess, "BB", 2);
	a = receive(&len);
	cr_expect_eq(len, 1);
	cr_expect_eq(a[0], 'A');
	/* The leading pad went with no packet before it. */
	cr_expect_eq(send_ring()->Head, 104);
	b = receive(&len);
	cr_expect_eq(len, 2);
	WintunReleaseReceivePacket(sess, b);
	cr_expect_eq(send_ring()->Head, 104, "a is still out");
	WintunReleaseReceivePacket(sess, a);
	cr_expect_eq(send_ring()->Head, send_ring()->Tail);
	/* A ring holding only pads reads as empty and is freed at once. */
	fake_produce_pad(sess, 64);
	errno = 0;
	cr_expect_null(WintunReceivePacket(sess, &len));
	cr_expect_eq(errno, EAGAIN);
	cr_expect_eq(send_ring()->Head, send_ring()->Tail);
}

Test(client, release_rejects_foreign_and_double)
{
	uint32_t len;
	uint8_t local[8];
	uint8_t *a;

	fake_produce(sess, "abcd", 4);
	fake_produce(sess, "efgh", 4);
	a = receive(&len);
	errno = 0;
	WintunReleaseReceivePacket(sess, local);
	cr_expect_eq(errno, EINVAL);
	cr_expect(wt_test_log_contains("is not a packet received"));
	WintunReleaseReceivePacket(sess, a);
	errno = 0;
	WintunReleaseReceivePacket(sess, a);
	cr_expect_eq(errno, EINVAL, "double release");
	errno = 0;
	WintunReleaseReceivePacket(sess, a + 8);
	cr_expect_eq(errno, EINVAL, "not received yet");
}

Test(client, allocate_send_in_allocation_order)
{
	uint8_t *a = WintunAllocateSendPacket(sess, 20);
	uint8_t *b = WintunAllocateSendPacket(sess, 40);

	cr_assert(a && b);
	memset(a, 0xAA, 20);
	memset(b, 0xBB, 40);
	WintunSendPacket(sess, b);
	cr_expect_eq(recv_ring()->Tail, 0, "b sent before a: not published yet");
	WintunSendPacket(sess, a);
	cr_expect_eq(recv_ring()->Tail, 24 + 44);
	cr_expect_eq(wintun_ring_record(recv_ring(), 0)->Size, 20);
	cr_expect_eq(wintun_ring_record(recv_ring(), 24)->Size, 40);
	cr_expect_eq(wintun_ring_record(recv_ring(), 24)->Data[39], 0xBB);
	errno = 0;
	WintunSendPacket(sess, a);
	cr_expect_eq(errno, EINVAL, "double send");
}

Test(client, send_wakes_an_armed_consumer)
{
	struct pollfd pfd = { .fd = sess->rings.desc.Receive.TailMoved, .events = POLLIN };
	uint8_t *a;

	cr_assert(wt_ring_arm(recv_ring(), recv_ring()->Head));
	a = WintunAllocateSendPacket(sess, 20);
	WintunSendPacket(sess, a);
	cr_expect_eq(poll(&pfd, 1, 0), 1);
	cr_expect_eq(recv_ring()->Alertable, 0);
}

Test(client, full_ring_gives_enobufs_and_recovers)
{
	unsigned n = 0;
	uint8_t *p;

	while ((p = WintunAllocateSendPacket(sess, 1500))) {
		WintunSendPacket(sess, p);
		n++;
	}
	cr_expect_eq(errno, ENOBUFS);
	cr_expect_eq(n, (CAP - 4) / 1504);
	/* The engine consumes everything: space comes back. */
	wt_store_release(&recv_ring()->Head, recv_ring()->Tail);
	p = WintunAllocateSendPacket(sess, 1500);
	cr_expect_not_null(p);
	WintunSendPacket(sess, p);
}

Test(client, record_spills_contiguously_past_the_end)
{
	uint8_t *p;

	/* Move both indexes to just before the end. */
	sess->tx.tail = sess->tx.tail_release = CAP - 8;
	recv_ring()->Head = recv_ring()->Tail = CAP - 8;
	p = WintunAllocateSendPacket(sess, 0xFFFF);
	cr_assert_not_null(p);
	memset(p, 0x5A, 0xFFFF); /* ASan checks it stays inside the mapping */
	WintunSendPacket(sess, p);
	cr_expect_eq(recv_ring()->Tail, wintun_ring_next(CAP - 8, 0xFFFF, CAP));
}

Test(client, session_end_gives_eshutdown)
{
	uint32_t len;

	wt_ring_pair_close(&sess->rings);
	errno = 0;
	cr_expect_null(WintunReceivePacket(sess, &len));
	cr_expect_eq(errno, ESHUTDOWN);
	errno = 0;
	cr_expect_null(WintunAllocateSendPacket(sess, 10));
	cr_expect_eq(errno, ESHUTDOWN);
	cr_expect_not(WintunWaitForPacket(sess, 1000));
	cr_expect_eq(errno, ESHUTDOWN);
	cr_expect_not(WintunIsPacketAvailable(sess));
	cr_expect_eq(errno, ESHUTDOWN);
}

static void *wait_forever(void *arg)
{
	return (void *)(intptr_t)WintunWaitForPacket(arg, UINT32_MAX);
}

static unsigned waiters_inside(void)
{
	unsigned n;

	pthread_mutex_lock(&sess->rx.lock);
	n = sess->rx.waiters;
	pthread_mutex_unlock(&sess->rx.lock);
	return n;
}

/* The end is sticky: a waiter woken by it must not take the signal away from
 * pollers of the event, however often the library is called afterwards. */
Test(client, session_end_leaves_the_event_readable)
{
	struct pollfd pfd = { .fd = WintunGetReadWaitEvent(sess), .events = POLLIN };
	pthread_t waiter;
	void *woke;
	uint32_t len;

	cr_assert_null(WintunReceivePacket(sess, &len)); /* empty: resets and arms */
	cr_assert_eq(poll(&pfd, 1, 0), 0);
	pthread_create(&waiter, NULL, wait_forever, sess);
	while (waiters_inside() == 0)
		usleep(100);
	usleep(20000); /* let it reach its poll */
	wt_ring_pair_close(&sess->rings);
	pthread_join(waiter, &woke);
	cr_expect_not(woke);
	for (int i = 0; i < 3; i++) {
		cr_expect_eq(poll(&pfd, 1, 0), 1, "still readable after %d rounds", i);
		cr_expect_null(WintunReceivePacket(sess, &len));
		cr_expect_eq(errno, ESHUTDOWN);
		cr_expect_not(WintunWaitForPacket(sess, 1000));
		cr_expect_eq(errno, ESHUTDOWN);
	}
}

/*
 * The Wintun README loop ported as is: on EAGAIN poll the event, never read
 * it.  Windows' read-wait event is auto-reset, so once the ring is empty the
 * poll must block again instead of spinning.
 */
Test(client, readme_loop_poll_without_read_blocks_when_idle)
{
	struct pollfd pfd = { .fd = WintunGetReadWaitEvent(sess), .events = POLLIN };
	unsigned got = 0, idle_readable = 0;
	uint32_t len;
	uint8_t *p;

	for (int burst = 0; burst < 3; burst++) {
		cr_assert_null(WintunReceivePacket(sess, &len));
		cr_assert_eq(errno, EAGAIN);
		for (int i = 0; i < 5; i++)
			fake_produce(sess, "pkt", 3);
		cr_assert_eq(poll(&pfd, 1, 5000), 1, "the burst wakes the poller");
		while ((p = WintunReceivePacket(sess, &len))) {
			WintunReleaseReceivePacket(sess, p);
			got++;
		}
		cr_assert_eq(errno, EAGAIN);
		for (int i = 0; i < 5; i++) {
			if (poll(&pfd, 1, 10) > 0)
				idle_readable++;
			cr_assert_null(WintunReceivePacket(sess, &len));
		}
	}
	cr_expect_eq(got, 15);
	cr_expect_eq(idle_readable, 0, "idle polls returned readable %u times", idle_readable);
}

/* Reading the event (the Linux style) stays harmless: no wake-up is lost. */
Test(client, reading_the_event_loses_no_wakeup)
{
	struct pollfd pfd = { .fd = WintunGetReadWaitEvent(sess), .events = POLLIN };
	uint32_t len;
	uint8_t *p;

	for (int i = 0; i < 3; i++) {
		cr_assert_null(WintunReceivePacket(sess, &len));
		wt_event_drain(pfd.fd);
		fake_produce(sess, "pkt", 3);
		cr_assert_eq(poll(&pfd, 1, 5000), 1, "round %d: the publish signals", i);
		wt_event_drain(pfd.fd);
		p = WintunReceivePacket(sess, &len);
		cr_assert_not_null(p);
		WintunReleaseReceivePacket(sess, p);
	}
}

Test(client, corrupt_send_ring_gives_ebadmsg_and_stops)
{
	uint32_t len;

	fake_produce_raw(sess, 0x00010000, 8); /* length above 0xFFFF */
	errno = 0;
	cr_expect_null(WintunReceivePacket(sess, &len));
	cr_expect_eq(errno, EBADMSG);
	cr_expect_eq(send_ring()->Head, WINTUN_RING_SENTINEL);
	cr_expect(wt_test_log_contains("bogus record"));
	errno = 0;
	cr_expect_null(WintunReceivePacket(sess, &len));
	cr_expect_eq(errno, EBADMSG, "stays stopped");
}

Test(client, record_past_tail_is_corrupt)
{
	uint32_t len;

	fake_produce_raw(sess, 100, 8); /* claims 100 bytes, publishes 8 */
	cr_expect_null(WintunReceivePacket(sess, &len));
	cr_expect_eq(errno, EBADMSG);
}

Test(client, misaligned_tail_is_corrupt)
{
	uint32_t len;

	wt_store_release(&send_ring()->Tail, 6);
	cr_expect_null(WintunReceivePacket(sess, &len));
	cr_expect_eq(errno, EBADMSG);
	cr_expect(wt_test_log_contains("tail 6"));
}

Test(client, receive_ring_stopped_by_engine_gives_ebadmsg)
{
	wt_store_release(&recv_ring()->Head, WINTUN_RING_SENTINEL);
	errno = 0;
	cr_expect_null(WintunAllocateSendPacket(sess, 10));
	cr_expect_eq(errno, EBADMSG);
	cr_expect(wt_test_log_contains("stopped as corrupt"));
}

Test(client, wait_and_availability)
{
	cr_expect_not(WintunIsPacketAvailable(sess));
	cr_expect_eq(errno, 0);
	cr_expect_not(WintunWaitForPacket(sess, 0));
	cr_expect_eq(errno, ETIMEDOUT);
	cr_expect_not(WintunWaitForPacket(sess, 30));
	cr_expect_eq(errno, ETIMEDOUT);
	fake_produce(sess, "p", 1);
	cr_expect(WintunIsPacketAvailable(sess));
	cr_expect(WintunWaitForPacket(sess, UINT32_MAX));
}

Test(client, bad_input)
{
	uint32_t len;
	uint8_t buf[4];

	errno = 0;
	cr_expect_null(WintunReceivePacket(NULL, &len));
	cr_expect_eq(errno, EINVAL);
	cr_expect(wt_test_log_contains("session is NULL"));
	errno = 0;
	cr_expect_null(WintunReceivePacket(sess, NULL));
	cr_expect_eq(errno, EINVAL);
	cr_expect(wt_test_log_contains("PacketSize is NULL"));
	errno = 0;
	WintunReleaseReceivePacket(NULL, buf);
	cr_expect_eq(errno, EINVAL);
	errno = 0;
	WintunReleaseReceivePacket(sess, NULL);
	cr_expect_eq(errno, EINVAL);
	errno = 0;
	cr_expect_null(WintunAllocateSendPacket(NULL, 10));
	cr_expect_eq(errno, EINVAL);
	errno = 0;
	cr_expect_null(WintunAllocateSendPacket(sess, 0));
	cr_expect_eq(errno, EINVAL);
	cr_expect(wt_test_log_contains("packet size 0 is not within"));
	errno = 0;
	cr_expect_null(WintunAllocateSendPacket(sess, 0x10000));
	cr_expect_eq(errno, EINVAL);
	errno = 0;
	WintunSendPacket(NULL, buf);
	cr_expect_eq(errno, EINVAL);
	errno = 0;
	WintunSendPacket(sess, buf);
	cr_expect_eq(errno, EINVAL);
	cr_expect_eq(WintunGetReadWaitEvent(NULL), -1);
	cr_expect_eq(errno, EINVAL);
	cr_expect_not(WintunWaitForPacket(NULL, 0));
	cr_expect_eq(errno, EINVAL);
	cr_expect_not(WintunIsPacketAvailable(NULL));
	cr_expect_eq(errno, EINVAL);
}

Test(client, bad_capacity)
{
	struct wintun_session *t = NULL;

	cr_expect_eq(wt_session_create(1000, -1, false, &t), -EINVAL);
	cr_expect(wt_test_log_contains("capacity 1000 is not a power of two"));
	cr_expect_eq(wt_session_create(0x10000, -1, false, &t), -EINVAL);
	cr_expect(wt_test_log_contains("capacity 65536 is out of range"));
	cr_expect_eq(wt_session_create(0x8000000, -1, false, &t), -EINVAL);
	cr_expect_null(t);
}

Test(client, adopt_checks_raw_registration)
{
	struct wt_ring_pair pair;
	WINTUN_REGISTER_RINGS desc = sess->rings.desc;

	send_ring()->Head = 8;
	send_ring()->Tail = 16;
	recv_ring()->Head = 24;
	recv_ring()->Tail = 32;
	cr_expect_eq(wt_ring_pair_adopt(&pair, &desc), 0);
	cr_expect_eq(pair.capacity, CAP);
	/* The checked indexes are kept: nobody reloads them unchecked later. */
	cr_expect_eq(pair.start.send_head, 8);
	cr_expect_eq(pair.start.send_tail, 16);
	cr_expect_eq(pair.start.recv_head, 24);
	cr_expect_eq(pair.start.recv_tail, 32);
	cr_expect_eq(wt_ring_pair_adopt(&pair, NULL), -EINVAL);
	desc.Send.RingSize = 1000;
	cr_expect_eq(wt_ring_pair_adopt(&pair, &desc), -EINVAL);
	cr_expect(wt_test_log_contains("send ring size 1000"));
	desc = sess->rings.desc;
	desc.Receive.Ring = desc.Send.Ring;
	cr_expect_eq(wt_ring_pair_adopt(&pair, &desc), -EINVAL);
	cr_expect(wt_test_log_contains("overlap"));
	desc = sess->rings.desc;
	desc.Receive.TailMoved = 987;
	cr_expect_eq(wt_ring_pair_adopt(&pair, &desc), -EINVAL);
	cr_expect(wt_test_log_contains("not an open descriptor"));
	desc = sess->rings.desc;
	desc.Send.Ring->Tail = 7;
	cr_expect_eq(wt_ring_pair_adopt(&pair, &desc), -EINVAL);
}

Test(client, version)
{
	cr_expect_eq(WintunGetRunningDriverVersion(), (0u << 16) | 1u);
}

/* WintunWaitForPacket's adaptive spin (issue #14): with nothing to find it
 * stops spinning, but for the probe of one wait in eight. */
Test(client, wait_spin_stops_when_unpaid)
{
	uint64_t paid, unpaid;

	for (int i = 0; i < 64; i++) {
		cr_expect_not(WintunWaitForPacket(sess, 1));
		cr_expect_eq(errno, ETIMEDOUT);
	}
	paid = atomic_load(&sess->rx.spins_paid);
	unpaid = atomic_load(&sess->rx.spins_unpaid);
	cr_expect_eq(paid, 0);
	cr_expect_leq(unpaid, 64 / 8 + 4, "%llu of 64 waits spun for nothing",
		      (unsigned long long)unpaid);
}

/* WINTUN_SESSION_SPIN with 0: not even the probes spin. */
Test(client, wait_spin_off_never_spins)
{
	sess->rx.spin_max_ns = 0;
	for (int i = 0; i < 64; i++) {
		cr_expect_not(WintunWaitForPacket(sess, 1));
		cr_expect_eq(errno, ETIMEDOUT);
	}
	cr_expect_eq(atomic_load(&sess->rx.spins_paid) + atomic_load(&sess->rx.spins_unpaid), 0);
}

static bool under_valgrind_or_tsan(void)
{
	if (wt_test_built_with_tsan())
		return true;
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
	return RUNNING_ON_VALGRIND;
#endif
#endif
	return false;
}

struct trickle {
	pthread_t thread;
	unsigned n;
	int cpu;
	unsigned gap_ns; /* after the client released the packet before */
};

static void pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set); /* best effort: one CPU is fine */
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Publishes a packet gap_ns after the client released the one before (busy
 * waits), so that the client finds the ring empty and waits for each. */
static void *trickle_main(void *arg)
{
	struct trickle *t = arg;
	WINTUN_RING *ring = send_ring();

	pin_to(t->cpu);
	for (unsigned i = 0; i < t->n; i++) {
		uint64_t until = mono_ns() + 10000000000u; /* a hang guard */

		while (wt_load_acquire(&ring->Head) != wt_load_relaxed(&ring->Tail))
			if (mono_ns() > until)
				return NULL;
		until = mono_ns() + t->gap_ns;
		while (mono_ns() < until)
			;
		fake_produce(sess, "trickle", 7);
	}
	return NULL;
}

/* Receives t->n packets of a trickle; returns the spins that paid and sets
 * *unpaid. */
static uint64_t receive_trickle(struct trickle *t, uint64_t *unpaid)
{
	unsigned got = 0;

	pin_to(0);
	cr_assert_eq(pthread_create(&t->thread, NULL, trickle_main, t), 0);
	while (got < t->n) {
		uint32_t len;
		uint8_t *p = WintunReceivePacket(sess, &len);

		if (p) {
			WintunReleaseReceivePacket(sess, p);
			got++;
			continue;
		}
		cr_assert_eq(errno, EAGAIN);
		cr_assert(WintunWaitForPacket(sess, 10000), "no packet within 10 s");
	}
	pthread_join(t->thread, NULL);
	*unpaid = atomic_load(&sess->rx.spins_unpaid);
	return atomic_load(&sess->rx.spins_paid);
}

/* ... and with each packet a few microseconds after the client began to
 * wait, the spin finds them: most waits end in the spin, not asleep. */
Test(client, wait_spin_goes_on_when_paid)
{
	struct trickle t = { .n = 3000, .cpu = 1, .gap_ns = 3000 };
	uint64_t paid, unpaid;

	/* Microsecond timing between two busy threads means nothing under
	 * valgrind, which runs one thread at a time and lets a spinning one
	 * keep the CPU (the producer's hang guard then gives up), nor under
	 * ThreadSanitizer, 5-15x slower than the 3 us and 5 us it relies on. */
	if (under_valgrind_or_tsan() || getenv("WINTUN_TIMING_UNRELIABLE"))
		cr_skip_test("timing between spinning threads: not under valgrind, TSan or emulation");
	paid = receive_trickle(&t, &unpaid);
	printf("wait spin, packets 3 us after a release: %llu spins found a packet, %llu did not\n",
	       (unsigned long long)paid, (unsigned long long)unpaid);
	cr_expect_gt(paid, 100);
	cr_expect_gt(paid, 2 * unpaid, "waits slept although spinning paid");
}

/* A longer spin (WINTUN_SESSION_SPIN, 50 us) finds packets 15 us apart,
 * which the default 5 us never waits for. */
Test(client, wait_spin_follows_the_session_spin)
{
	struct trickle t = { .n = 1000, .cpu = 1, .gap_ns = 15000 };
	uint64_t paid, unpaid;

	if (under_valgrind_or_tsan() || getenv("WINTUN_TIMING_UNRELIABLE"))
		cr_skip_test("timing between spinning threads: not under valgrind, TSan or emulation");
	sess->rx.spin_max_ns = 50000;
	paid = receive_trickle(&t, &unpaid);
	printf("wait spin of 50 us, packets 15 us after a release: %llu spins found a packet, "
	       "%llu did not\n",
	       (unsigned long long)paid, (unsigned long long)unpaid);
	cr_expect_gt(paid, 2 * unpaid, "waits slept although a 50 us spin paid");
}
